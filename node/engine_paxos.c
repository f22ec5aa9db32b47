/*
 * Multi-Paxos behind the engine seam (engine.h): the paxos/ core, its signed
 * messages as the engine's bytes, a majority's ACCEPTED votes of a ballot as
 * the chain's commit certificates (chain/block.h). Acceptors take the
 * leader's blocks without checking them first (crash faults only); the host
 * checks each block as it executes it at commit.
 */
#include <stdlib.h>
#include <string.h>

#include "chain/rules.h"
#include "node/engine_impl.h"
#include "paxos/paxos.h"

_Static_assert(PAXOS_HASH_LEN == CR_HASH_LEN, "block hashes are the chain's");
_Static_assert(PAXOS_SIG_LEN == CR_SIG_LEN, "votes are the chain's signatures");
_Static_assert(PAXOS_MAX_VALIDATORS == CHAIN_MAX_VALIDATORS, "one bound on validator sets");

struct engine_paxos {
	struct paxos *core;
	struct node_engine_host host;
	uint32_t n;
};

static void
core_sign(void *arg, const uint8_t *bytes, size_t len, uint8_t sig[PAXOS_SIG_LEN])
{
	struct engine_paxos *e = arg;
	node_engine_sign_bytes(&e->host, bytes, len, sig);
}

static bool
core_verify(void *arg, uint32_t v, const uint8_t *bytes, size_t len, const uint8_t sig[PAXOS_SIG_LEN])
{
	struct engine_paxos *e = arg;
	return node_engine_verify_bytes(&e->host, v, bytes, len, sig);
}

static bool
core_block_hash(void *arg, const uint8_t *block, size_t len, uint8_t out[PAXOS_HASH_LEN])
{
	struct engine_paxos *e = arg;
	return e->host.block_hash(e->host.arg, block, len, out);
}

static int
open_paxos(void **out, const struct node_engine_config *cfg, const struct node_engine_host *host,
	  uint64_t now_ms, struct ch_err *err)
{
	struct engine_paxos *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	e->host = *host;
	e->n = cfg->n;
	uint64_t timeout = cfg->params.view_timeout_ms;
	struct paxos_config pc = {
		.n = cfg->n,
		.self = cfg->self,
		.timeout_ms = timeout,
		.max_timeout_ms = 16 * timeout,
		.heartbeat_ms = timeout / 10 > 0 ? timeout / 10 : 1,
		.max_block_bytes = cfg->max_block,
		.seed = now_ms ^ ((uint64_t)cfg->self << 32) ^ cfg->tip.height,
	};
	struct paxos_host ph = {
		.arg = e,
		.sign = core_sign,
		.verify = core_verify,
		.block_hash = core_block_hash,
	};
	int rc = paxos_new(&e->core, &pc, &ph, cfg->tip.height, cfg->tip.hash, now_ms);
	if (rc != 0)
		rc = ch_errf(err, rc, "cannot start the Multi-Paxos core");
	else if (cfg->record != NULL)
		rc = paxos_restore(e->core, cfg->record, cfg->record_len, err);
	if (rc != 0) {
		paxos_free(e->core);
		free(e);
		return rc;
	}
	*out = e;
	return 0;
}

static void
close_paxos(void *impl)
{
	struct engine_paxos *e = impl;
	paxos_free(e->core);
	free(e);
}

static enum node_engine_input
receive(void *impl, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct engine_paxos *e = impl;
	switch (paxos_receive(e->core, msg, len, now_ms)) {
	case PAXOS_ACCEPTED_INPUT:
		return NODE_ENGINE_ACCEPTED;
	case PAXOS_MALFORMED:
		return NODE_ENGINE_MALFORMED;
	default:
		return NODE_ENGINE_BAD_SIGNATURE;
	}
}

static void
tick(void *impl, uint64_t now_ms)
{
	struct engine_paxos *e = impl;
	paxos_tick(e->core, now_ms);
}

/* A leader proposes when the host has work; the others watch heartbeats, not the mempool. */
static void
set_pending(void *impl, bool pending, uint64_t now_ms)
{
	(void)impl;
	(void)pending;
	(void)now_ms;
}

static bool
can_propose(const void *impl)
{
	const struct engine_paxos *e = impl;
	return paxos_can_propose(e->core);
}

static void
propose(void *impl, const uint8_t digest[CR_HASH_LEN], const uint8_t *block, size_t len,
	uint64_t now_ms)
{
	struct engine_paxos *e = impl;
	paxos_propose(e->core, digest, block, len, now_ms);
}

static void
committed(void *impl, uint64_t height, const uint8_t state_digest[CR_HASH_LEN], uint64_t now_ms)
{
	struct engine_paxos *e = impl;
	(void)state_digest; /* crash faults: no checkpoint votes on state */
	paxos_committed(e->core, height, now_ms);
}

static void
synced(void *impl, uint64_t height, const uint8_t hash[CR_HASH_LEN], const struct chain_cert *cert,
       uint64_t now_ms)
{
	struct engine_paxos *e = impl;
	struct paxos_vote *votes = malloc((cert->count + 1) * sizeof(*votes));
	if (votes == NULL)
		abort(); /* the core must learn of the commit */
	for (uint32_t i = 0; i < cert->count; i++) {
		votes[i].from = cert->votes[i].validator;
		memcpy(votes[i].sig, cert->votes[i].sig, CR_SIG_LEN);
	}
	paxos_synced(e->core, height, hash, cert->view, votes, cert->count, now_ms);
	free(votes);
}

static bool
next_action(void *impl, struct node_engine_action *a)
{
	struct engine_paxos *e = impl;
	struct paxos_action pa;
	if (!paxos_next_action(e->core, &pa))
		return false;
	a->to = pa.to;
	switch (pa.type) {
	case PAXOS_ACT_SEND:
	case PAXOS_ACT_BROADCAST:
	case PAXOS_ACT_PERSIST:
		a->type = pa.type == PAXOS_ACT_SEND	 ? NODE_ENGINE_SEND
			  : pa.type == PAXOS_ACT_BROADCAST ? NODE_ENGINE_BROADCAST
							   : NODE_ENGINE_PERSIST;
		a->bytes = pa.bytes;
		ch_buf_init(&pa.bytes);
		break;
	case PAXOS_ACT_COMMIT:
		a->type = NODE_ENGINE_COMMIT;
		a->height = pa.height;
		a->view = pa.ballot;
		a->block = pa.block;
		a->block_len = pa.block_len;
		pa.block = NULL;
		a->cert = node_engine_cert_new(pa.height, pa.ballot, pa.digest);
		for (uint32_t i = 0; i < pa.ncert; i++)
			node_engine_cert_add(a->cert, pa.cert[i].from, pa.cert[i].sig);
		break;
	case PAXOS_ACT_FETCH:
		a->type = NODE_ENGINE_FETCH;
		a->height = pa.height;
		break;
	default: /* PAXOS_ACT_ROLE */
		a->type = NODE_ENGINE_VIEW;
		a->view = pa.ballot;
		a->in_view_change = !pa.leading && pa.leader == PAXOS_NO_LEADER;
		break;
	}
	paxos_action_close(&pa);
	return true;
}

static void
status(const void *impl, struct node_engine_status *out)
{
	const struct engine_paxos *e = impl;
	bool leading = paxos_leading(e->core);
	uint32_t leader = paxos_leader(e->core);
	out->name = "multipaxos";
	out->role = leading ? "leader" : leader == PAXOS_NO_LEADER ? "electing" : "follower";
	out->height = paxos_height(e->core);
	out->view = paxos_ballot(e->core);
	out->leader = leader == PAXOS_NO_LEADER ? NODE_ENGINE_NO_LEADER : leader;
	out->in_view_change = !leading && leader == PAXOS_NO_LEADER;
}

static int
record_mark(const uint8_t *rec, size_t len, struct node_engine_mark *out, struct ch_err *err)
{
	out->epoch = 0;
	return paxos_record_mark(rec, len, &out->view, &out->height, &out->voted, err);
}

static void
rules(uint32_t n, struct node_engine_rules *out)
{
	out->faults = (n - 1) / 2;
	out->quorum = paxos_quorum(n);
	out->byzantine = false;
	out->fixed_proposer = true;
}

/* A block names the ballot it was proposed in (its view), whose owner proposed it. */
static uint32_t
proposer(uint64_t view, uint32_t n)
{
	return paxos_ballot_leader(view, n);
}

const struct node_engine_ops node_engine_multipaxos = {
	.name = "multipaxos",
	.open = open_paxos,
	.close = close_paxos,
	.receive = receive,
	.tick = tick,
	.set_pending = set_pending,
	.can_propose = can_propose,
	.propose = propose,
	.committed = committed,
	.synced = synced,
	.next_action = next_action,
	.status = status,
	.record_mark = record_mark,
	.rules = rules,
	.proposer = proposer,
};
