/*
 * Raft behind the engine seam (engine.h): the raft/ core, its signed
 * messages as the engine's bytes, the majority's commit votes of a term as
 * the chain's commit certificates (chain/block.h). Followers take the
 * leader's blocks without checking them first (crash faults only); the host
 * checks each block as it executes it at commit.
 */
#include <stdlib.h>
#include <string.h>

#include "chain/rules.h"
#include "node/engine_impl.h"
#include "raft/raft.h"

_Static_assert(RAFT_HASH_LEN == CR_HASH_LEN, "block hashes are the chain's");
_Static_assert(RAFT_SIG_LEN == CR_SIG_LEN, "votes are the chain's signatures");
_Static_assert(RAFT_MAX_VALIDATORS == CHAIN_MAX_VALIDATORS, "one bound on validator sets");

/* AppendEntries in flight per follower, and committed entries kept for lagging ones. */
#define RAFT_INFLIGHT 4
#define RAFT_RETAIN 64

struct engine_raft {
	struct raft *core;
	struct node_engine_host host;
	uint32_t n;
};

static void
core_sign(void *arg, const uint8_t *bytes, size_t len, uint8_t sig[RAFT_SIG_LEN])
{
	struct engine_raft *e = arg;
	node_engine_sign_bytes(&e->host, bytes, len, sig);
}

static bool
core_verify(void *arg, uint32_t v, const uint8_t *bytes, size_t len, const uint8_t sig[RAFT_SIG_LEN])
{
	struct engine_raft *e = arg;
	return node_engine_verify_bytes(&e->host, v, bytes, len, sig);
}

static bool
core_block_hash(void *arg, const uint8_t *block, size_t len, uint8_t out[RAFT_HASH_LEN])
{
	struct engine_raft *e = arg;
	return e->host.block_hash(e->host.arg, block, len, out);
}

static int
open_raft(void **out, const struct node_engine_config *cfg, const struct node_engine_host *host,
	  uint64_t now_ms, struct ch_err *err)
{
	struct engine_raft *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	e->host = *host;
	e->n = cfg->n;
	uint64_t timeout = cfg->params.view_timeout_ms;
	struct raft_config conf = {
		.n = cfg->n,
		.self = cfg->self,
		.election_timeout_ms = timeout,
		.heartbeat_ms = timeout / 10 > 0 ? timeout / 10 : 1,
		.max_block_bytes = cfg->max_block,
		.max_msg_bytes = cfg->max_block + 4096,
		.max_inflight = RAFT_INFLIGHT,
		.retain = RAFT_RETAIN,
		.seed = now_ms ^ ((uint64_t)cfg->self << 32) ^ cfg->tip.height,
	};
	struct raft_host rh = {
		.arg = e,
		.sign = core_sign,
		.verify = core_verify,
		.block_hash = core_block_hash,
	};
	int rc = raft_new(&e->core, &conf, &rh, cfg->tip.height, cfg->tip.hash, now_ms);
	if (rc != 0)
		rc = ch_errf(err, rc, "cannot start the Raft core");
	else if (cfg->record != NULL)
		rc = raft_restore(e->core, cfg->record, cfg->record_len, err);
	if (rc != 0) {
		raft_free(e->core);
		free(e);
		return rc;
	}
	*out = e;
	return 0;
}

static void
close_raft(void *impl)
{
	struct engine_raft *e = impl;
	raft_free(e->core);
	free(e);
}

static enum node_engine_input
receive(void *impl, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct engine_raft *e = impl;
	switch (raft_receive(e->core, msg, len, now_ms)) {
	case RAFT_ACCEPTED:
		return NODE_ENGINE_ACCEPTED;
	case RAFT_MALFORMED:
		return NODE_ENGINE_MALFORMED;
	default:
		return NODE_ENGINE_BAD_SIGNATURE;
	}
}

static void
tick(void *impl, uint64_t now_ms)
{
	struct engine_raft *e = impl;
	raft_tick(e->core, now_ms);
}

/* A leader proposes when the host has work; followers watch heartbeats, not the mempool. */
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
	const struct engine_raft *e = impl;
	return raft_can_propose(e->core);
}

static void
propose(void *impl, const uint8_t digest[CR_HASH_LEN], const uint8_t *block, size_t len,
	uint64_t now_ms)
{
	struct engine_raft *e = impl;
	raft_propose(e->core, digest, block, len, now_ms);
}

static void
committed(void *impl, uint64_t height, const uint8_t state_digest[CR_HASH_LEN], uint64_t now_ms)
{
	struct engine_raft *e = impl;
	(void)state_digest; /* crash faults: no checkpoint votes on state */
	raft_committed(e->core, height, now_ms);
}

static void
synced(void *impl, uint64_t height, const uint8_t hash[CR_HASH_LEN], const struct chain_cert *cert,
       uint64_t now_ms)
{
	struct engine_raft *e = impl;
	struct raft_vote *votes = malloc((cert->count + 1) * sizeof(*votes));
	if (votes == NULL)
		abort(); /* the core must learn of the commit */
	for (uint32_t i = 0; i < cert->count; i++) {
		votes[i].from = cert->votes[i].validator;
		memcpy(votes[i].sig, cert->votes[i].sig, CR_SIG_LEN);
	}
	raft_synced(e->core, height, hash, cert->view, votes, cert->count, now_ms);
	free(votes);
}

static bool
next_action(void *impl, struct node_engine_action *a)
{
	struct engine_raft *e = impl;
	struct raft_action ra;
	if (!raft_next_action(e->core, &ra))
		return false;
	a->to = ra.to;
	switch (ra.type) {
	case RAFT_ACT_SEND:
	case RAFT_ACT_BROADCAST:
	case RAFT_ACT_PERSIST:
		a->type = ra.type == RAFT_ACT_SEND	? NODE_ENGINE_SEND
			  : ra.type == RAFT_ACT_BROADCAST ? NODE_ENGINE_BROADCAST
							  : NODE_ENGINE_PERSIST;
		a->bytes = ra.bytes;
		ch_buf_init(&ra.bytes);
		break;
	case RAFT_ACT_COMMIT:
		a->type = NODE_ENGINE_COMMIT;
		a->height = ra.height;
		a->view = ra.term;
		a->block = ra.block;
		a->block_len = ra.block_len;
		ra.block = NULL;
		a->cert = node_engine_cert_new(ra.height, ra.term, ra.digest);
		for (uint32_t i = 0; i < ra.ncert; i++)
			node_engine_cert_add(a->cert, ra.cert[i].from, ra.cert[i].sig);
		break;
	case RAFT_ACT_FETCH:
		a->type = NODE_ENGINE_FETCH;
		a->height = ra.height;
		break;
	default: /* RAFT_ACT_ROLE */
		a->type = NODE_ENGINE_VIEW;
		a->view = ra.term;
		a->in_view_change = ra.role != RAFT_LEADER && ra.leader == RAFT_NO_LEADER;
		break;
	}
	raft_action_close(&ra);
	return true;
}

static const char *
role_name(enum raft_role r)
{
	switch (r) {
	case RAFT_LEADER:
		return "leader";
	case RAFT_CANDIDATE:
		return "candidate";
	case RAFT_PRE_CANDIDATE:
		return "pre-candidate";
	default:
		return "follower";
	}
}

static void
status(const void *impl, struct node_engine_status *out)
{
	const struct engine_raft *e = impl;
	enum raft_role role = raft_role(e->core);
	uint32_t leader = raft_leader(e->core);
	out->name = "raft";
	out->role = role_name(role);
	out->height = raft_height(e->core);
	out->view = raft_term(e->core);
	out->leader = leader == RAFT_NO_LEADER ? NODE_ENGINE_NO_LEADER : leader;
	out->in_view_change = role != RAFT_LEADER && leader == RAFT_NO_LEADER;
}

static int
record_mark(const uint8_t *rec, size_t len, struct node_engine_mark *out, struct ch_err *err)
{
	out->epoch = 0;
	return raft_record_mark(rec, len, &out->view, &out->height, &out->voted, err);
}

static void
rules(uint32_t n, struct node_engine_rules *out)
{
	out->faults = (n - 1) / 2;
	out->quorum = raft_quorum(n);
	out->byzantine = false;
	out->fixed_proposer = false;
}

static uint32_t
proposer(uint64_t view, uint32_t n)
{
	(void)view;
	(void)n;
	return CHAIN_ANY_PROPOSER; /* whoever won the term's election */
}

const struct node_engine_ops node_engine_raft = {
	.name = "raft",
	.open = open_raft,
	.close = close_raft,
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
