/*
 * core.h - a validator's deterministic core: admission and the mempool, the
 * consensus host and its engine, state transfer, gossip. It is driven by
 * calls (a decoded peer message, a client's transaction, a tick) that each
 * carry the clock, and it reaches the world only through its struct node_io
 * (node/io.h), the store and the signature cache it is given. The node's
 * runtime (node/runtime.c) drives one from its loop thread; the simulator
 * (tests/sim) drives many from one seeded schedule.
 *
 * Not thread-safe: one thread makes every call. The store may be read by
 * other threads meanwhile (chain/store.h).
 */
#ifndef NODE_CORE_H
#define NODE_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/genesis.h"
#include "chain/mempool.h"
#include "chain/sigcache.h"
#include "chain/store.h"
#include "chain/tx.h"
#include "common/err.h"
#include "node/admit.h"
#include "node/engine.h"
#include "node/io.h"
#include "node/peer_msg.h"
#include "node/sets.h"

struct node_core;

struct node_core_config {
	const struct chain_genesis *genesis; /* borrowed; outlives the core */
	uint32_t self;                       /* this validator's index in genesis ... */
	const uint8_t *self_pub;             /* ... or its key (NULL: genesis's self); copied */
	struct chain_store *store;           /* borrowed; open, genesis applied */
	struct chain_sigcache *sigcache;     /* borrowed; may be shared with other threads */
	struct chain_mempool_config mempool;
	struct node_io io;                   /* copied */
	const uint8_t *votes;                /* the vote record saved last, or NULL; read during open */
	size_t votes_len;
};

/*
 * node_core_open builds the core on the committed tip of cfg->store and
 * resumes its engine from cfg->votes. Errors: CH_E_BAD_ENCODING for a
 * damaged vote record, CH_E_DB, CH_E_NOMEM, each with a message.
 */
int node_core_open(struct node_core **out, const struct node_core_config *cfg, struct node_time now,
		   struct ch_err *err);
void node_core_close(struct node_core *c); /* NULL is fine */

/* node_core_on_peer handles a decoded message from another validator. */
void node_core_on_peer(struct node_core *c, const struct peer_msg *m, struct node_time now);

/* node_core_on_malformed counts a peer message that did not decode. */
void node_core_on_malformed(struct node_core *c);

/*
 * node_core_submit admits a client's transaction (decoded, copied) and
 * queues it for the other validators. Errors as node_admit_tx; with
 * remember, a refusal (but CH_E_KNOWN) is also kept for a later query, for
 * clients that do not wait for the answer.
 */
int node_core_submit(struct node_core *c, const struct chain_tx *tx, bool remember,
		     struct node_time now, struct ch_err *err);

/*
 * node_core_tick lets time pass after a batch of inputs: timeouts, a block
 * proposal if one is due, the gossip batch, and the status announcement
 * once a second. Call it at node_core_deadline at the latest.
 */
void node_core_tick(struct node_core *c, struct node_time now);

/* node_core_deadline: the monotonic time by which node_core_tick is due. */
uint64_t node_core_deadline(struct node_core *c, struct node_time now);

/*
 * node_core_failed: a write failed (the store or the vote record), or the
 * state diverged; the core has stopped signing, and the node must stop.
 */
bool node_core_failed(const struct node_core *c);

/* node_core_limits_for: what a core of genesis g accepts from peers (node_core_limits). */
void node_core_limits_for(const struct chain_genesis *g, struct peer_msg_limits *out);

/* What the runtime, the RPC and the tests read. Valid until the next call that changes them. */
const struct chain_tip *node_core_tip(const struct node_core *c);
const struct node_admit *node_core_admit(const struct node_core *c);
const struct peer_msg_limits *node_core_limits(const struct node_core *c);
void node_core_engine(const struct node_core *c, struct node_engine_status *out);

/*
 * node_core_member: this node's index in the set in force at the next
 * height, or NODE_NOT_MEMBER (it follows the chain without voting).
 */
uint32_t node_core_member(const struct node_core *c);

/* node_core_sets: the sets the core works with (node/sets.h); gen changes when they do. */
const struct node_sets *node_core_sets(const struct node_core *c);

/* Counters of peer input and what each validator last said of its height. */
struct node_core_counts {
	uint64_t rejected;      /* peer messages that did not decode */
	uint64_t bad_signature; /* consensus messages from unknown keys or with bad signatures */
	uint64_t sync_refused;  /* block requests over the rate */
	uint64_t consensus_sent; /* engine messages sent (a broadcast: one per other validator) */
};
void node_core_counts(const struct node_core *c, struct node_core_counts *out);
/* node_core_trusts_peers: the chain's engine is crash-fault only, so peers' gossip is vouched for, not verified. */
bool node_core_trusts_peers(const struct node_core *c);
/* node_core_syncing: blocks were asked of a peer (state transfer) and have not come yet. */
bool node_core_syncing(const struct node_core *c);
/* node_core_peer_height: validator i's last announced height and when (0: never). */
void node_core_peer_height(const struct node_core *c, uint32_t i, uint64_t *height,
			   uint64_t *seen_ms);

#endif
