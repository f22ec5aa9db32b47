/* The engine seam (engine.h): a table of engines and calls that go through it. */
#include "node/engine.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "chain/rules.h"
#include "crypto/crypto.h"
#include "node/engine_impl.h"

static const struct node_engine_ops *const engines[] = {&node_engine_pbft, &node_engine_raft,
							 &node_engine_multipaxos};

struct node_engine {
	const struct node_engine_ops *ops;
	void *impl;
	uint32_t n;
};

/* find returns the engine called name, or NULL. */
static const struct node_engine_ops *
find(const char *name)
{
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (strcmp(engines[i]->name, name) == 0)
			return engines[i];
	return NULL;
}

void
node_engine_sign_bytes(const struct node_engine_host *h, const uint8_t *bytes, size_t len,
		       uint8_t sig[CR_SIG_LEN])
{
	uint8_t d[CR_HASH_LEN];
	cr_sha256(bytes, len, d);
	h->sign(h->arg, d, sig);
}

bool
node_engine_verify_bytes(const struct node_engine_host *h, uint32_t v, const uint8_t *bytes,
			 size_t len, const uint8_t sig[CR_SIG_LEN])
{
	uint8_t d[CR_HASH_LEN];
	cr_sha256(bytes, len, d);
	return h->verify(h->arg, v, d, sig);
}

bool
node_engine_verify_bytes_at(const struct node_engine_host *h, uint64_t height, uint32_t v,
			    const uint8_t *bytes, size_t len, const uint8_t sig[CR_SIG_LEN])
{
	uint8_t d[CR_HASH_LEN];
	cr_sha256(bytes, len, d);
	return h->verify_at(h->arg, height, v, d, sig);
}

struct chain_cert *
node_engine_cert_new(uint64_t height, uint64_t view, const uint8_t digest[CR_HASH_LEN])
{
	struct chain_cert *c = malloc(sizeof(*c));
	if (c == NULL)
		abort(); /* a commit must not be lost */
	memset(c, 0, offsetof(struct chain_cert, votes));
	c->height = height;
	c->view = view;
	memcpy(c->block_hash, digest, CR_HASH_LEN);
	return c;
}

void
node_engine_cert_add(struct chain_cert *c, uint32_t from, const uint8_t sig[CR_SIG_LEN])
{
	if (c->count >= CHAIN_MAX_VALIDATORS)
		return;
	c->votes[c->count].validator = (uint16_t)from;
	memcpy(c->votes[c->count].sig, sig, CR_SIG_LEN);
	c->count++;
}

static int
unknown(const char *name, struct ch_err *err)
{
	return ch_errf(err, CH_E_CONFIG, "no ordering engine called \"%s\" (pbft, raft, multipaxos)",
		       name);
}

int
node_engine_open(struct node_engine **out, const char *name, const struct node_engine_config *cfg,
		 const struct node_engine_host *host, uint64_t now_ms, struct ch_err *err)
{
	const struct node_engine_ops *ops = find(name);
	if (ops == NULL)
		return unknown(name, err);
	struct node_engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	e->ops = ops;
	e->n = cfg->n;
	int rc = ops->open(&e->impl, cfg, host, now_ms, err);
	if (rc != 0) {
		free(e);
		return rc;
	}
	*out = e;
	return 0;
}

void
node_engine_close(struct node_engine *e)
{
	if (e == NULL)
		return;
	e->ops->close(e->impl);
	free(e);
}

enum node_engine_input
node_engine_receive(struct node_engine *e, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	return e->ops->receive(e->impl, msg, len, now_ms);
}

void
node_engine_tick(struct node_engine *e, uint64_t now_ms)
{
	e->ops->tick(e->impl, now_ms);
}

void
node_engine_set_pending(struct node_engine *e, bool pending, uint64_t now_ms)
{
	e->ops->set_pending(e->impl, pending, now_ms);
}

bool
node_engine_can_propose(const struct node_engine *e)
{
	return e->ops->can_propose(e->impl);
}

void
node_engine_propose(struct node_engine *e, const uint8_t digest[CR_HASH_LEN],
		    const uint8_t *block, size_t len, uint64_t now_ms)
{
	e->ops->propose(e->impl, digest, block, len, now_ms);
}

void
node_engine_committed(struct node_engine *e, uint64_t height,
		      const uint8_t state_digest[CR_HASH_LEN], uint64_t now_ms)
{
	e->ops->committed(e->impl, height, state_digest, now_ms);
}

void
node_engine_set_end(struct node_engine *e, uint64_t last)
{
	if (e->ops->set_end != NULL)
		e->ops->set_end(e->impl, last);
}

void
node_engine_synced(struct node_engine *e, uint64_t height, const uint8_t hash[CR_HASH_LEN],
		   const struct chain_cert *cert, uint64_t now_ms)
{
	e->ops->synced(e->impl, height, hash, cert, now_ms);
}

bool
node_engine_next_action(struct node_engine *e, struct node_engine_action *a)
{
	memset(a, 0, sizeof(*a));
	ch_buf_init(&a->bytes);
	return e->ops->next_action(e->impl, a);
}

void
node_engine_action_close(struct node_engine_action *a)
{
	if (a == NULL)
		return;
	ch_buf_close(&a->bytes);
	free(a->block);
	free(a->cert);
	memset(a, 0, sizeof(*a));
}

uint32_t
node_engine_proposer(const struct node_engine *e, uint64_t view)
{
	return e->ops->proposer(view, e->n);
}

uint32_t
node_engine_cert_quorum(const struct node_engine *e)
{
	struct node_engine_rules r;
	e->ops->rules(e->n, &r);
	return r.quorum;
}

int
node_engine_rules_of(const char *name, uint32_t n, struct node_engine_rules *out,
		     struct ch_err *err)
{
	const struct node_engine_ops *ops = find(name);
	memset(out, 0, sizeof(*out));
	if (ops == NULL)
		return unknown(name, err);
	ops->rules(n, out);
	return 0;
}

uint32_t
node_engine_proposer_of(const char *name, uint64_t view, uint32_t n)
{
	const struct node_engine_ops *ops = find(name);
	return ops != NULL ? ops->proposer(view, n) : CHAIN_ANY_PROPOSER;
}

void
node_engine_status(const struct node_engine *e, struct node_engine_status *out)
{
	struct node_engine_rules r;
	memset(out, 0, sizeof(*out));
	e->ops->status(e->impl, out);
	e->ops->rules(e->n, &r);
	out->faults = r.faults;
	out->quorum = r.quorum;
}

int
node_engine_record_mark(const char *name, const uint8_t *rec, size_t len,
			struct node_engine_mark *out, struct ch_err *err)
{
	const struct node_engine_ops *ops = find(name);
	memset(out, 0, sizeof(*out));
	if (ops == NULL)
		return unknown(name, err);
	return ops->record_mark(rec, len, out, err);
}
