/*
 * PBFT behind the engine seam (engine.h): the pbft/ core, its messages in
 * their wire encoding (pbft_msg_encode), commit votes as the chain's commit
 * certificates (chain/block.h), and what it signs hashed with SHA-256.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "node/engine_impl.h"
#include "pbft/pbft.h"

_Static_assert(PBFT_HASH_LEN == CR_HASH_LEN, "block hashes are the chain's");
_Static_assert(PBFT_SIG_LEN == CR_SIG_LEN, "votes are the chain's signatures");
_Static_assert(PBFT_MAX_VALIDATORS == CHAIN_MAX_VALIDATORS, "one bound on validator sets");

struct engine_pbft {
	struct pbft *core;
	struct node_engine_host host;
	uint32_t n;
	uint32_t self;
	size_t max_block;
	uint64_t first_height; /* of the validator set it runs (its records say so) */
	uint32_t decode_n;     /* the bound on validator numbers in its messages */
};

/*
 * A record is the core's, after the first height of the set that wrote it:
 *   first_height u64 | core record
 * so that a record of an earlier set (every height of which is committed
 * before a core of the next starts) is not taken for this set's.
 */
#define RECORD_HEAD 8

/* ---- the core's host callbacks, over the node's ---- */

static void
core_sign(void *arg, const uint8_t *bytes, size_t len, uint8_t sig[PBFT_SIG_LEN])
{
	struct engine_pbft *e = arg;
	node_engine_sign_bytes(&e->host, bytes, len, sig);
}

static bool
core_verify(void *arg, uint64_t height, uint32_t v, const uint8_t *bytes, size_t len,
	    const uint8_t sig[PBFT_SIG_LEN])
{
	struct engine_pbft *e = arg;
	return node_engine_verify_bytes_at(&e->host, height, v, bytes, len, sig);
}

static bool
core_validate(void *arg, uint64_t height, uint32_t proposer, const uint8_t digest[PBFT_HASH_LEN],
	      const uint8_t *block, size_t len)
{
	struct engine_pbft *e = arg;
	return e->host.validate(e->host.arg, height, proposer, digest, block, len);
}

static bool
core_block_hash(void *arg, const uint8_t *block, size_t len, uint8_t out[PBFT_HASH_LEN])
{
	struct engine_pbft *e = arg;
	return e->host.block_hash(e->host.arg, block, len, out);
}

/* ---- certificates: the core's commit votes are the chain's ---- */

static void
votes_of(const struct chain_cert *c, struct pbft_vote *v)
{
	for (uint32_t i = 0; i < c->count; i++) {
		v[i].from = c->votes[i].validator;
		memcpy(v[i].sig, c->votes[i].sig, CR_SIG_LEN);
	}
}

static struct chain_cert *
cert_of(uint64_t height, uint64_t view, const uint8_t digest[CR_HASH_LEN],
	const struct pbft_vote *v, uint32_t nv)
{
	struct chain_cert *c = node_engine_cert_new(height, view, digest);
	for (uint32_t i = 0; i < nv; i++)
		node_engine_cert_add(c, v[i].from, v[i].sig);
	return c;
}

/* ---- the ops ---- */

static int
open_pbft(void **out, const struct node_engine_config *cfg, const struct node_engine_host *host,
	  uint64_t now_ms, struct ch_err *err)
{
	struct engine_pbft *e = calloc(1, sizeof(*e));
	struct pbft_vote *votes = malloc(CHAIN_MAX_VALIDATORS * sizeof(*votes));
	if (e == NULL || votes == NULL) {
		free(e);
		free(votes);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	e->host = *host;
	e->n = cfg->n;
	e->self = cfg->self;
	e->max_block = cfg->max_block;
	e->first_height = cfg->first_height > 1 ? cfg->first_height : 1;
	/* a VIEW-CHANGE carries the certificate of the set before, which may be larger */
	e->decode_n = cfg->base_n > cfg->n ? cfg->base_n : cfg->n;
	struct pbft_config pc = {
		.n = cfg->n,
		.self = cfg->self,
		.view_timeout_ms = cfg->params.view_timeout_ms,
		.max_view_timeout_ms = 16 * (uint64_t)cfg->params.view_timeout_ms,
		.checkpoint_interval = cfg->params.checkpoint_interval,
		.max_block_bytes = cfg->max_block,
		.first_height = e->first_height,
		.base_n = cfg->base_n,
	};
	struct pbft_host ph = {
		.arg = e,
		.sign = core_sign,
		.verify = core_verify,
		.validate = core_validate,
		.block_hash = core_block_hash,
	};
	int rc = pbft_new(&e->core, &pc, &ph, cfg->tip.height, cfg->tip.hash, now_ms);
	if (rc != 0)
		rc = ch_errf(err, rc, "cannot start the consensus core");
	if (rc == 0 && cfg->tip_cert != NULL) {
		votes_of(cfg->tip_cert, votes);
		pbft_set_tip_cert(e->core, cfg->tip_cert->view, votes, cfg->tip_cert->count);
	}
	if (rc == 0 && cfg->last_height != 0)
		pbft_set_end(e->core, cfg->last_height);
	if (rc == 0 && cfg->record != NULL) {
		uint64_t first = cfg->record_len >= RECORD_HEAD ? ch_get_be64(cfg->record) : 0;
		if (cfg->record_len < RECORD_HEAD || first > e->first_height)
			rc = ch_errf(err, CH_E_BAD_ENCODING,
				     "the vote record is not of this validator set (it is damaged or "
				     "from a later chain than the store's)");
		else if (first == e->first_height)
			rc = pbft_restore(e->core, cfg->record + RECORD_HEAD,
					  cfg->record_len - RECORD_HEAD, err);
		/* else: of an earlier set, all of whose heights are committed */
	}
	free(votes);
	if (rc != 0) {
		pbft_free(e->core);
		free(e);
		return rc;
	}
	pbft_resume(e->core, now_ms);
	*out = e;
	return 0;
}

static void
close_pbft(void *impl)
{
	struct engine_pbft *e = impl;
	pbft_free(e->core);
	free(e);
}

static enum node_engine_input
receive(void *impl, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct engine_pbft *e = impl;
	struct pbft_msg m;
	if (pbft_msg_decode(msg, len, e->decode_n, e->max_block, &m, NULL) != 0)
		return NODE_ENGINE_MALFORMED;
	bool ok = pbft_receive(e->core, &m, now_ms);
	pbft_msg_close(&m);
	return ok ? NODE_ENGINE_ACCEPTED : NODE_ENGINE_BAD_SIGNATURE;
}

static void
tick(void *impl, uint64_t now_ms)
{
	struct engine_pbft *e = impl;
	pbft_tick(e->core, now_ms);
}

static void
set_pending(void *impl, bool pending, uint64_t now_ms)
{
	struct engine_pbft *e = impl;
	pbft_set_pending(e->core, pending, now_ms);
}

static bool
can_propose(const void *impl)
{
	const struct engine_pbft *e = impl;
	return pbft_can_propose(e->core);
}

static void
propose(void *impl, const uint8_t digest[CR_HASH_LEN], const uint8_t *block, size_t len,
	uint64_t now_ms)
{
	struct engine_pbft *e = impl;
	pbft_propose(e->core, digest, block, len, now_ms);
}

static void
set_end(void *impl, uint64_t last)
{
	struct engine_pbft *e = impl;
	pbft_set_end(e->core, last);
}

static void
committed(void *impl, uint64_t height, const uint8_t state_digest[CR_HASH_LEN], uint64_t now_ms)
{
	struct engine_pbft *e = impl;
	pbft_checkpoint_digest(e->core, height, state_digest, now_ms);
}

static void
synced(void *impl, uint64_t height, const uint8_t hash[CR_HASH_LEN], const struct chain_cert *cert,
       uint64_t now_ms)
{
	struct engine_pbft *e = impl;
	struct pbft_vote *votes = malloc(CHAIN_MAX_VALIDATORS * sizeof(*votes));
	if (votes == NULL)
		abort(); /* the core must learn of the commit */
	votes_of(cert, votes);
	pbft_synced(e->core, height, hash, cert->view, votes, cert->count, now_ms);
	free(votes);
}

static bool
next_action(void *impl, struct node_engine_action *a)
{
	struct engine_pbft *e = impl;
	struct pbft_action pa;
	if (!pbft_next_action(e->core, &pa))
		return false;
	a->type = pa.type; /* the action types are numbered alike */
	a->to = pa.to;
	switch (pa.type) {
	case PBFT_ACT_SEND:
	case PBFT_ACT_BROADCAST:
		pbft_msg_encode(&pa.msg, &a->bytes);
		if (!ch_buf_ok(&a->bytes))
			abort(); /* a vote the core counts as sent must go out */
		break;
	case PBFT_ACT_PERSIST:
		ch_buf_u64(&a->bytes, e->first_height);
		ch_buf_put(&a->bytes, pa.record.data, pa.record.len);
		if (!ch_buf_ok(&a->bytes))
			abort(); /* a record the core counts as written must be */
		break;
	case PBFT_ACT_COMMIT:
		a->height = pa.height;
		a->view = pa.view;
		a->block = pa.block;
		a->block_len = pa.block_len;
		pa.block = NULL;
		a->cert = cert_of(pa.height, pa.view, pa.digest, pa.cert, pa.ncert);
		break;
	case PBFT_ACT_FETCH:
	case PBFT_ACT_DIVERGED:
		a->height = pa.height;
		break;
	case PBFT_ACT_VIEW:
		a->view = pa.view;
		a->in_view_change = pa.in_view_change;
		break;
	}
	pbft_action_close(&pa);
	return true;
}

static uint32_t
proposer(uint64_t view, uint32_t n)
{
	return pbft_primary(view, n);
}

static void
rules(uint32_t n, struct node_engine_rules *out)
{
	out->faults = pbft_faults(n);
	out->quorum = pbft_quorum(n);
	out->byzantine = true;
	out->fixed_proposer = true;
}

static void
status(const void *impl, struct node_engine_status *out)
{
	const struct engine_pbft *e = impl;
	out->name = "pbft";
	out->role = pbft_primary(pbft_view(e->core), e->n) == e->self ? "primary" : "backup";
	out->height = pbft_height(e->core);
	out->view = pbft_view(e->core);
	out->leader = pbft_primary(out->view, e->n);
	out->in_view_change = pbft_in_view_change(e->core);
	out->stable_checkpoint = pbft_stable_checkpoint(e->core);
}

static int
record_mark(const uint8_t *rec, size_t len, struct node_engine_mark *out, struct ch_err *err)
{
	struct pbft_record_mark m;
	if (len < RECORD_HEAD)
		return ch_errf(err, CH_E_BAD_ENCODING, "vote record of %zu bytes", len);
	int rc = pbft_record_mark(rec + RECORD_HEAD, len - RECORD_HEAD, &m, err);
	if (rc != 0)
		return rc;
	out->view = m.view;
	out->height = m.height;
	out->voted = m.voted;
	out->epoch = ch_get_be64(rec);
	return 0;
}

_Static_assert((int)NODE_ENGINE_SEND == PBFT_ACT_SEND && (int)NODE_ENGINE_BROADCAST == PBFT_ACT_BROADCAST &&
		       (int)NODE_ENGINE_PERSIST == PBFT_ACT_PERSIST &&
		       (int)NODE_ENGINE_COMMIT == PBFT_ACT_COMMIT &&
		       (int)NODE_ENGINE_FETCH == PBFT_ACT_FETCH && (int)NODE_ENGINE_VIEW == PBFT_ACT_VIEW &&
		       (int)NODE_ENGINE_DIVERGED == PBFT_ACT_DIVERGED,
	       "engine actions mirror the core's");

const struct node_engine_ops node_engine_pbft = {
	.name = "pbft",
	.open = open_pbft,
	.close = close_pbft,
	.receive = receive,
	.tick = tick,
	.set_pending = set_pending,
	.can_propose = can_propose,
	.propose = propose,
	.committed = committed,
	.set_end = set_end,
	.synced = synced,
	.next_action = next_action,
	.status = status,
	.record_mark = record_mark,
	.rules = rules,
	.proposer = proposer,
};
