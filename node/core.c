/*
 * The core (core.h): its lifecycle, the dispatch of inputs to its parts,
 * and the one place where the committed chain moves (node_core_apply).
 */
#include "node/core.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core_internal.h"

/* How often the tick is due while several validators run (timeouts, retransmission). */
#define NODE_TICK_MS 10
#define NODE_STATUS_EVERY_MS 1000

void
node_core_log(struct node_core *c, enum node_log_level level, const char *fmt, ...)
{
	char line[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->io.log(c->io.arg, level, line);
}

void
node_core_fail(struct node_core *c, const char *fmt, ...)
{
	char line[900];
	va_list ap;
	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->io.log(c->io.arg, NODE_LOG_ERROR, line);
}

void
node_core_send(struct node_core *c, int to, const struct peer_msg *m)
{
	struct ch_buf b;
	ch_buf_init(&b);
	peer_msg_encode(m, &b);
	if (ch_buf_ok(&b))
		c->io.send(c->io.arg, to, b.data, b.len);
	else
		node_core_log(c, NODE_LOG_ERROR, "out of memory encoding a %s message",
			      peer_msg_type_name(m->type));
	ch_buf_close(&b);
}

bool
node_io_verify(void *arg, const uint8_t pub[CR_PUBKEY_LEN], const struct cr_pubkey *pk,
	       const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN])
{
	(void)arg;
	(void)pub;
	return cr_pubkey_verify(pk, digest, sig);
}

bool
node_core_check_vote(void *arg, uint32_t v, const uint8_t digest[CR_HASH_LEN],
		     const uint8_t sig[CR_SIG_LEN])
{
	return node_sets_check(arg, v, digest, sig);
}

struct chain_base
node_core_base(const struct node_core *c)
{
	struct chain_base b = {
		.tip = c->tip,
		.state = chain_store_reader(c->store),
		.sigs = c->admit.sigs,
		.pool = c->admit.pool,
	};
	return b;
}

int
node_core_apply(struct node_core *c, const struct chain_block *b, const struct chain_cert *cert,
		struct chain_exec *x, struct ch_err *err)
{
	int rc = 0;
	if (x == NULL) {
		struct chain_base base = node_core_base(c);
		rc = chain_block_check(&c->rules, &base, b,
				       node_engine_proposer_of(c->genesis->params.engine,
							       b->header.view, CORE_N(c)),
				       c->now.wall_ms, &x, err);
		if (rc != 0)
			return rc;
	}
	uint8_t digest[CR_HASH_LEN];
	chain_exec_digest(x, c->tip.state_digest, digest);
	if (c->io.may_write != NULL && !c->io.may_write(c->io.arg))
		rc = ch_errf(err, CH_E_IO, "the process stopped before the store write");
	else
		rc = chain_store_commit(c->store, b, cert, x, digest, err);
	chain_exec_free(x);
	if (rc != 0)
		return rc;
	c->tip.height = b->header.height;
	memcpy(c->tip.hash, b->hash, CR_HASH_LEN);
	memcpy(c->tip.state_digest, digest, CR_HASH_LEN);
	c->tip.time_ms = b->header.time_ms;
	c->cons.last_block_ms = c->now.mono_ms;
	struct chain_state_reader state = chain_store_reader(c->store);
	node_admit_committed(&c->admit, b, &state, c->now.mono_ms);
	bool changed = false;
	if ((rc = node_sets_refresh(c, b, &changed, err)) != 0) {
		node_core_fail(c, "cannot read the validator set after block %" PRIu64 ": %s",
			       b->header.height, ch_err_msg(err));
		return 0; /* the block is stored; the core stops */
	}
	if (changed)
		node_consensus_set_changed(c);
	char hx[17];
	cr_hex_encode(b->hash, 8, hx);
	node_core_log(c, NODE_LOG_DEBUG,
		      "committed block %" PRIu64 " (%u txs, %s..., view %" PRIu64
		      ", %u votes), mempool %zu",
		      b->header.height, b->header.tx_count, hx, cert->view, cert->count,
		      chain_mempool_count(c->admit.pool));
	return 0;
}

/* ---- inputs ---- */

void
node_core_on_peer(struct node_core *c, const struct peer_msg *m, struct node_time now)
{
	c->now = now;
	if (c->failed)
		return;
	switch (m->type) {
	case PEER_CONSENSUS:
		node_consensus_receive(c, m->engine, m->engine_len);
		break;
	case PEER_TXS:
		node_gossip_on_txs(c, m);
		break;
	case PEER_STATUS:
		node_sync_on_status(c, m);
		break;
	case PEER_GET_BLOCKS:
		node_sync_on_get_blocks(c, m);
		break;
	case PEER_BLOCKS:
		node_sync_on_blocks(c, m);
		break;
	}
}

void
node_core_on_malformed(struct node_core *c)
{
	c->counts.rejected++;
}

int
node_core_submit(struct node_core *c, const struct chain_tx *tx, bool remember,
		 struct node_time now, struct ch_err *err)
{
	c->now = now;
	struct chain_state_reader state = chain_store_reader(c->store);
	int rc = node_admit_tx(&c->admit, &c->rules, &state, tx, now.mono_ms, remember, err);
	if (rc == 0)
		node_gossip_add(c, tx);
	return rc;
}

void
node_core_tick(struct node_core *c, struct node_time now)
{
	c->now = now;
	if (c->failed)
		return;
	/* transactions first: a block that follows them finds them checked */
	node_gossip_flush(c);
	node_consensus_tick(c);
	if (CORE_N(c) + (CORE_SELF(c) == NODE_NOT_MEMBER) > 1 && now.mono_ms >= c->next_status_ms) {
		c->next_status_ms = now.mono_ms + NODE_STATUS_EVERY_MS;
		node_sync_send_status(c);
	}
}

uint64_t
node_core_deadline(struct node_core *c, struct node_time now)
{
	c->now = now;
	uint64_t d = now.mono_ms + (CORE_N(c) > 1 ? NODE_TICK_MS : NODE_STATUS_EVERY_MS);
	uint64_t p = node_consensus_due(c);
	return p < d ? p : d;
}

/* ---- reads ---- */

bool
node_core_failed(const struct node_core *c)
{
	return c->failed;
}

const struct chain_tip *
node_core_tip(const struct node_core *c)
{
	return &c->tip;
}

const struct node_admit *
node_core_admit(const struct node_core *c)
{
	return &c->admit;
}

const struct peer_msg_limits *
node_core_limits(const struct node_core *c)
{
	return &c->limits;
}

void
node_core_engine(const struct node_core *c, struct node_engine_status *out)
{
	if (c->cons.engine != NULL) {
		node_engine_status(c->cons.engine, out);
		return;
	}
	/* not a member of the set in force: it follows without an engine */
	struct node_engine_rules er = {0};
	node_engine_rules_of(c->genesis->params.engine, CORE_N(c), &er, NULL);
	*out = (struct node_engine_status){.name = c->genesis->params.engine, .role = "observer",
					   .height = c->tip.height,
					   .leader = NODE_ENGINE_NO_LEADER, .faults = er.faults,
					   .quorum = er.quorum};
}

bool
node_core_trusts_peers(const struct node_core *c)
{
	return c->trust_peers;
}

void
node_core_counts(const struct node_core *c, struct node_core_counts *out)
{
	*out = c->counts;
	out->sync_refused = c->sync.refused;
}

bool
node_core_syncing(const struct node_core *c)
{
	return c->sync.pending;
}

void
node_core_peer_height(const struct node_core *c, uint32_t i, uint64_t *height, uint64_t *seen_ms)
{
	*height = i < CHAIN_MAX_VALIDATORS ? c->sync.peer_height[i] : 0;
	*seen_ms = i < CHAIN_MAX_VALIDATORS ? c->sync.peer_seen_ms[i] : 0;
}

uint32_t
node_core_member(const struct node_core *c)
{
	return CORE_SELF(c);
}

const struct node_sets *
node_core_sets(const struct node_core *c)
{
	return &c->sets;
}

/* ---- lifecycle ---- */

void
node_core_limits_for(const struct chain_genesis *g, struct peer_msg_limits *out)
{
	struct chain_rules r;
	chain_rules_init(&r, g);
	*out = (struct peer_msg_limits){
		.nvalidators = CHAIN_MAX_VALIDATORS, /* slots: the set may grow */
		/* an engine message may carry two blocks (a NEW-VIEW re-proposing one) */
		.max_engine = 2 * chain_rules_max_block_encoding(&r) + (1u << 20),
		.max_block = chain_rules_max_block_encoding(&r),
	};
}

int
node_core_open(struct node_core **out, const struct node_core_config *cfg, struct node_time now,
	       struct ch_err *err)
{
	struct node_core *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	const struct chain_genesis *g = cfg->genesis;
	c->genesis = g;
	chain_rules_init(&c->rules, g);
	c->store = cfg->store;
	c->io = cfg->io;
	c->now = now;
	c->next_status_ms = now.mono_ms; /* at the first tick: peers learn where a restart left it */
	node_core_limits_for(g, &c->limits);
	struct node_engine_rules er;
	int rc = node_engine_rules_of(g->params.engine, (uint32_t)g->nvalidators, &er, err);
	c->trust_peers = rc == 0 && !er.byzantine;
	node_sync_init(&c->sync, c->io.random(c->io.arg));
	if (rc == 0)
		rc = chain_store_tip(c->store, &c->tip, err);
	if (rc == 0)
		rc = node_sets_open(c,
				    cfg->self_pub != NULL ? cfg->self_pub
							  : g->validators[cfg->self].pub_key,
				    err);
	if (rc == 0)
		rc = node_admit_init(&c->admit, &cfg->mempool, cfg->sigcache, err);
	c->admit.next_height = c->tip.height + 1;
	if (rc == 0)
		rc = node_consensus_open(c, cfg->votes, cfg->votes_len, err);
	if (rc != 0) {
		node_core_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void
node_core_close(struct node_core *c)
{
	if (c == NULL)
		return;
	node_consensus_close(c);
	node_gossip_close(&c->gossip);
	node_admit_close(&c->admit);
	node_sets_close(&c->sets);
	free(c);
}
