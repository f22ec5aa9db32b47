/*
 * consensus.h - the consensus host: the node's side of its ordering engine
 * (node/engine.h). It answers the engine's callbacks (sign, verify, check a
 * proposal), carries out its actions (persist, send, commit, fetch), and
 * proposes blocks when the engine lets this validator: at once when the
 * chain is idle, and no sooner than block_interval_ms after the last block,
 * so that blocks stay large under load. Part of the core (core.h).
 */
#ifndef NODE_CONSENSUS_H
#define NODE_CONSENSUS_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/block.h"
#include "chain/state.h"
#include "common/err.h"
#include "node/engine.h"

struct node_core;

struct node_consensus {
	struct node_engine *engine; /* NULL while this node is no member of the set in force */
	bool reopen;                /* the set changed: start the engine of the new one */
	/*
	 * The block the engine accepted last (validated or proposed here), with
	 * its execution, kept for the commit that usually follows; owned here.
	 */
	uint8_t accepted_hash[CR_HASH_LEN];
	struct chain_exec *accepted;
	uint64_t last_block_ms; /* monotonic: when the tip last moved */
	uint64_t view;          /* the last view the engine reported, for the log */
	uint32_t leader;        /* and its leader then */
};

/* node_consensus_open starts the engine from the committed tip and the vote record (may be NULL). */
int node_consensus_open(struct node_core *c, const uint8_t *record, size_t len,
			struct ch_err *err);
void node_consensus_close(struct node_core *c);

/* node_consensus_receive hands the engine a peer's consensus message and carries out what follows. */
void node_consensus_receive(struct node_core *c, const uint8_t *msg, size_t len);

/* node_consensus_tick: timers, then a proposal if one is due. */
void node_consensus_tick(struct node_core *c);

/* node_consensus_due: when a proposal would be due (UINT64_MAX: none is). */
uint64_t node_consensus_due(struct node_core *c);

/*
 * node_consensus_set_changed: the committed tip moved into another
 * validator set; the engine of the old one stops and, if this node is a
 * member of the new one, an engine for it starts, once the actions under
 * way are carried out.
 */
void node_consensus_set_changed(struct node_core *c);

/* node_consensus_synced tells the engine of a block state transfer committed (cert its certificate). */
void node_consensus_synced(struct node_core *c, const struct chain_cert *cert);

#endif
