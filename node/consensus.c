/* The consensus host (consensus.h): the engine's callbacks, its actions, proposals. */
#include "node/consensus.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node/core_internal.h"

/* ---- the engine's callbacks ---- */

static void
host_sign(void *arg, const uint8_t digest[CR_HASH_LEN], uint8_t sig[CR_SIG_LEN])
{
	struct node_core *c = arg;
	if (!c->io.sign(c->io.arg, digest, sig))
		abort(); /* a validator that cannot sign must not go on */
}

static bool
host_block_hash(void *arg, const uint8_t *block, size_t len, uint8_t out[CR_HASH_LEN])
{
	struct chain_block b;
	if (chain_block_decode(block, len, &b, NULL) != 0)
		return false;
	memcpy(out, b.hash, CR_HASH_LEN);
	chain_block_close(&b);
	return true;
}

/* keep makes x the kept execution of the block with hash (freeing what was kept). */
static void
keep(struct node_consensus *cs, const uint8_t hash[CR_HASH_LEN], struct chain_exec *x)
{
	chain_exec_free(cs->accepted);
	cs->accepted = x;
	memcpy(cs->accepted_hash, hash, CR_HASH_LEN);
}

/* take hands over the kept execution of block hash, if it is the one kept (else NULL). */
static struct chain_exec *
take(struct node_core *c, const uint8_t hash[CR_HASH_LEN])
{
	struct node_consensus *cs = &c->cons;
	if (cs->accepted == NULL || memcmp(cs->accepted_hash, hash, CR_HASH_LEN) != 0)
		return NULL;
	struct chain_exec *x = cs->accepted;
	cs->accepted = NULL;
	return x;
}

/* host_validate checks a proposal with the chain's rules and keeps its execution for the commit. */
static bool
host_validate(void *arg, uint64_t height, uint32_t proposer, const uint8_t digest[CR_HASH_LEN],
	      const uint8_t *block, size_t len)
{
	struct node_core *c = arg;
	struct chain_block b;
	struct chain_exec *x = NULL;
	struct ch_err e;
	ch_err_clear(&e);
	if (chain_block_decode(block, len, &b, &e) != 0) {
		node_core_log(c, NODE_LOG_WARN, "rejecting proposal at height %" PRIu64 ": %s", height,
			      ch_err_msg(&e));
		return false;
	}
	struct chain_base base = node_core_base(c);
	bool ok = b.header.height == height && memcmp(b.hash, digest, CR_HASH_LEN) == 0 &&
		  chain_block_check(&c->rules, &base, &b, proposer, c->now.wall_ms, &x, &e) == 0;
	if (ok)
		keep(&c->cons, b.hash, x);
	else
		node_core_log(c, NODE_LOG_WARN, "rejecting proposal at height %" PRIu64 ": %s", height,
			      e.code ? ch_err_msg(&e) : "height or hash mismatch");
	chain_block_close(&b);
	return ok;
}

static bool
host_verify_at(void *arg, uint64_t height, uint32_t v, const uint8_t digest[CR_HASH_LEN],
	       const uint8_t sig[CR_SIG_LEN])
{
	return node_sets_check_at(arg, height, v, digest, sig);
}

/* ---- actions ---- */

/* commit carries out a COMMIT: the block, executed (with the kept execution if it is this block), stored. */
static void
commit(struct node_core *c, const struct node_engine_action *a)
{
	struct ch_err e;
	ch_err_clear(&e);
	if (a->height <= c->tip.height) {
		/* state transfer got there first; it must be the same block */
		if (a->height == c->tip.height &&
		    memcmp(a->cert->block_hash, c->tip.hash, CR_HASH_LEN) != 0)
			node_core_fail(c, "consensus committed another block at height %" PRIu64
				       " than state transfer", a->height);
		return;
	}
	struct chain_block b;
	if (chain_block_decode(a->block, a->block_len, &b, &e) != 0) {
		node_core_fail(c, "cannot decode the committed block %" PRIu64 ": %s", a->height,
			       ch_err_msg(&e));
		return;
	}
	struct chain_exec *x = take(c, b.hash);
	if (node_core_apply(c, &b, a->cert, x, &e) != 0)
		node_core_fail(c, "cannot commit block %" PRIu64 ": %s", a->height, ch_err_msg(&e));
	chain_block_close(&b);
}

static void
on_view(struct node_core *c, const struct node_engine_action *a)
{
	struct node_engine_status st;
	node_engine_status(c->cons.engine, &st);
	if (a->view != c->cons.view || a->in_view_change || st.leader != c->cons.leader) {
		if (st.leader == NODE_ENGINE_NO_LEADER)
			node_core_log(c, NODE_LOG_INFO, "%s view %" PRIu64 " (%s, no leader yet)",
				      a->in_view_change ? "changing to" : "entered", a->view, st.role);
		else
			node_core_log(c, NODE_LOG_INFO, "%s view %" PRIu64 " (%s, leader %u)",
				      a->in_view_change ? "changing to" : "entered", a->view, st.role,
				      st.leader);
	}
	c->cons.view = a->view;
	c->cons.leader = st.leader;
}

/* drain carries out the engine's actions, in order. */
static void
drain(struct node_core *c)
{
	struct node_engine_action a;
	while (c->cons.engine != NULL && node_engine_next_action(c->cons.engine, &a)) {
		struct ch_err e;
		ch_err_clear(&e);
		if (c->failed) {
			node_engine_action_close(&a);
			continue;
		}
		switch (a.type) {
		case NODE_ENGINE_PERSIST:
			if (c->io.save_votes(c->io.arg, a.bytes.data, a.bytes.len, &e) != 0)
				node_core_fail(c, "cannot persist consensus state: %s", ch_err_msg(&e));
			break;
		case NODE_ENGINE_SEND:
		case NODE_ENGINE_BROADCAST: {
			struct peer_msg m = {.type = PEER_CONSENSUS, .engine = a.bytes.data,
					     .engine_len = a.bytes.len};
			/* the engine numbers validators in the set, the network by slot */
			uint32_t slot = node_sets_slot_of(&c->sets, a.to);
			if (a.type == NODE_ENGINE_SEND && slot != NODE_NOT_MEMBER)
				node_core_send(c, (int)slot, &m);
			else if (a.type == NODE_ENGINE_BROADCAST)
				node_core_send(c, -1, &m);
			c->counts.consensus_sent += a.type == NODE_ENGINE_SEND ? 1 : CORE_N(c) - 1;
			break;
		}
		case NODE_ENGINE_COMMIT:
			commit(c, &a);
			break;
		case NODE_ENGINE_FETCH:
			if (node_sets_slot_of(&c->sets, a.to) != NODE_NOT_MEMBER)
				node_sync_request(c, node_sets_slot_of(&c->sets, a.to), a.height);
			break;
		case NODE_ENGINE_VIEW:
			on_view(c, &a);
			break;
		case NODE_ENGINE_DIVERGED:
			node_core_fail(c, "a quorum of validators certified another state at height %" PRIu64
				       " than this validator computed; its state is wrong, stopping",
				       a.height);
			break;
		}
		node_engine_action_close(&a);
	}
}

static void switch_set(struct node_core *c);

/* tell_end tells the engine where its set ends, once a block has scheduled the next. */
static void
tell_end(struct node_core *c)
{
	const struct node_sets *s = &c->sets;
	if (c->cons.engine != NULL && s->latest->start > s->cur->start)
		node_engine_set_end(c->cons.engine, s->latest->start - 1);
}

/*
 * run_from carries out the engine's actions and, whenever the tip has moved
 * past before, tells the engine the state it left (not from inside the
 * action loop: the engine sees no call while its actions are queued).
 */
static void
run_from(struct node_core *c, uint64_t before)
{
	for (;;) {
		drain(c);
		if (c->cons.reopen && !c->failed) {
			switch_set(c); /* the new engine starts at the tip: nothing to tell it */
			before = c->tip.height;
			continue;
		}
		if (c->tip.height == before || c->failed || c->cons.engine == NULL)
			return;
		before = c->tip.height;
		tell_end(c);
		node_engine_committed(c->cons.engine, c->tip.height, c->tip.state_digest,
				      c->now.mono_ms);
	}
}

static void
run(struct node_core *c)
{
	run_from(c, c->tip.height);
}

void
node_consensus_receive(struct node_core *c, const uint8_t *msg, size_t len)
{
	if (c->cons.engine == NULL)
		return;
	enum node_engine_input r = node_engine_receive(c->cons.engine, msg, len, c->now.mono_ms);
	if (r == NODE_ENGINE_MALFORMED)
		c->counts.rejected++;
	else if (r == NODE_ENGINE_BAD_SIGNATURE)
		c->counts.bad_signature++;
	run(c);
}

void
node_consensus_synced(struct node_core *c, const struct chain_cert *cert)
{
	if (c->cons.reopen || c->cons.engine == NULL) {
		run(c); /* a new set's engine starts from this tip */
		return;
	}
	node_engine_synced(c->cons.engine, c->tip.height, c->tip.hash, cert, c->now.mono_ms);
	run_from(c, c->tip.height - 1); /* the tip state transfer committed is news too */
}

/* ---- proposals ---- */

struct dropped {
	struct node_core *core;
	uint8_t (*hashes)[CR_HASH_LEN];
	size_t n;
};

/* on_drop remembers why a transaction left no block, to remove it once the build is done. */
static void
on_drop(void *arg, const struct chain_tx *tx, const struct ch_err *why)
{
	struct dropped *d = arg;
	node_admit_forget(&d->core->admit, tx->hash, why);
	memcpy(d->hashes[d->n++], tx->hash, CR_HASH_LEN);
}

/* ready: is there something to order? Transactions, or a scheduled validator set to reach. */
static bool
ready(struct node_core *c)
{
	struct chain_state_reader state = chain_store_reader(c->store);
	return c->sets.latest->start > c->tip.height + 1 ||
	       node_admit_ready(&c->admit, &c->tip, &state);
}

uint64_t
node_consensus_due(struct node_core *c)
{
	if (c->failed || c->cons.engine == NULL || !ready(c) ||
	    !node_engine_can_propose(c->cons.engine))
		return UINT64_MAX;
	uint64_t at = c->cons.last_block_ms + c->genesis->params.block_interval_ms;
	return at > c->now.mono_ms ? at : c->now.mono_ms;
}

/* propose cuts a block from the mempool and hands it to the engine. */
static void
propose(struct node_core *c)
{
	struct chain_proposal p;
	struct ch_err e;
	struct dropped d = {.core = c};
	struct node_engine_status st;
	ch_err_clear(&e);
	node_engine_status(c->cons.engine, &st);
	d.hashes = malloc(c->rules.block_max_txs * sizeof(*d.hashes));
	if (d.hashes == NULL) {
		node_core_log(c, NODE_LOG_ERROR, "out of memory cutting a block");
		return;
	}
	struct chain_base base = node_core_base(c);
	int rc = chain_block_build(&c->rules, &base, c->admit.pool, CORE_SELF(c), st.view,
				   c->now.wall_ms, on_drop, &d, &p, &e);
	for (size_t i = 0; i < d.n; i++)
		chain_mempool_remove(c->admit.pool, d.hashes[i]);
	free(d.hashes);
	if (rc == CH_E_NOT_FOUND)
		return;
	if (rc != 0) {
		node_core_log(c, NODE_LOG_ERROR, "cannot cut a block: %s", ch_err_msg(&e));
		return;
	}
	keep(&c->cons, p.block.hash, p.exec);
	p.exec = NULL;
	c->cons.last_block_ms = c->now.mono_ms;
	node_engine_propose(c->cons.engine, p.block.hash, p.enc.data, p.enc.len, c->now.mono_ms);
	chain_proposal_close(&p);
	run(c);
}

void
node_consensus_tick(struct node_core *c)
{
	uint64_t now = c->now.mono_ms;
	if (c->cons.engine == NULL)
		return;
	node_engine_set_pending(c->cons.engine, ready(c), now);
	run(c);
	node_engine_tick(c->cons.engine, now);
	run(c);
	if (node_consensus_due(c) <= now)
		propose(c);
}

/* ---- lifecycle ---- */

int
node_consensus_open(struct node_core *c, const uint8_t *record, size_t len, struct ch_err *err)
{
	struct node_consensus *cs = &c->cons;
	struct chain_cert *tip_cert = NULL;
	struct ch_buf blk, cb;
	int rc = 0;
	ch_buf_init(&blk);
	ch_buf_init(&cb);
	if (c->tip.height > 0) {
		if ((tip_cert = malloc(sizeof(*tip_cert))) == NULL)
			rc = ch_errf(err, CH_E_NOMEM, "out of memory");
		else if ((rc = chain_store_block(c->store, c->tip.height, &blk, &cb, err)) == 0)
			rc = chain_cert_decode(cb.data, cb.len, tip_cert, err);
	}
	const struct node_sets *sets = &c->sets;
	if (CORE_SELF(c) == NODE_NOT_MEMBER) {
		node_core_log(c, NODE_LOG_INFO,
			      "not a validator of the set in force at height %" PRIu64
			      " (%u validators): following the chain without voting",
			      c->tip.height + 1, CORE_N(c));
		free(tip_cert);
		ch_buf_close(&blk);
		ch_buf_close(&cb);
		return rc;
	}
	struct node_engine_config cfg = {
		.n = CORE_N(c),
		.self = CORE_SELF(c),
		.first_height = sets->cur->start,
		.last_height = sets->latest->start > sets->cur->start ? sets->latest->start - 1 : 0,
		.base_n = sets->prev->n,
		.params = c->genesis->params,
		.max_block = chain_rules_max_block_encoding(&c->rules),
		.tip = c->tip,
		.tip_cert = tip_cert,
		.record = record,
		.record_len = len,
	};
	struct node_engine_host host = {
		.arg = c,
		.sign = host_sign,
		.verify = node_core_check_vote,
		.verify_at = host_verify_at,
		.validate = host_validate,
		.block_hash = host_block_hash,
	};
	if (rc == 0)
		rc = node_engine_open(&cs->engine, c->genesis->params.engine, &cfg, &host,
				      c->now.mono_ms, err);
	free(tip_cert);
	ch_buf_close(&blk);
	ch_buf_close(&cb);
	if (rc != 0)
		return rc;
	struct node_engine_status st;
	node_engine_status(cs->engine, &st);
	cs->view = st.view;
	cs->leader = st.leader;
	cs->last_block_ms = c->now.mono_ms;
	if (record != NULL)
		node_core_log(c, NODE_LOG_INFO, "resumed consensus in view %" PRIu64 "%s", st.view,
			      st.in_view_change ? " (view change under way)" : "");
	run(c);
	return 0;
}

void
node_consensus_set_changed(struct node_core *c)
{
	c->cons.reopen = true;
}

/* switch_set stops the engine of the set that ended and starts one for the set in force. */
static void
switch_set(struct node_core *c)
{
	struct ch_err e;
	ch_err_clear(&e);
	c->cons.reopen = false;
	bool was = c->cons.engine != NULL;
	chain_exec_free(c->cons.accepted);
	c->cons.accepted = NULL;
	node_engine_close(c->cons.engine);
	c->cons.engine = NULL;
	const struct chain_valset *s = c->sets.cur;
	if (CORE_SELF(c) == NODE_NOT_MEMBER) {
		if (was)
			node_core_log(c, NODE_LOG_WARN,
				      "this key is not in the validator set from height %" PRIu64
				      " (removed, or its key replaced): no longer voting (%u "
				      "validators now)",
				      s->start, s->n);
		return;
	}
	node_core_log(c, NODE_LOG_INFO,
		      "validator set of %u from height %" PRIu64 ": voting as validator %u (%s)",
		      s->n, s->start, CORE_SELF(c), s->m[CORE_SELF(c)].id);
	if (node_consensus_open(c, NULL, 0, &e) != 0)
		node_core_fail(c, "cannot start consensus for the validator set from height %" PRIu64
			       ": %s", s->start, ch_err_msg(&e));
}

void
node_consensus_close(struct node_core *c)
{
	struct node_consensus *cs = &c->cons;
	chain_exec_free(cs->accepted);
	cs->accepted = NULL;
	node_engine_close(cs->engine);
	cs->engine = NULL;
}
