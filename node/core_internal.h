/*
 * core_internal.h - the core's state, shared by its files. Each part is
 * written by the file of its name only (admit.c, consensus.c, sync.c,
 * gossip.c); core.c owns the rest: the committed tip moves only in
 * node_core_apply.
 */
#ifndef NODE_CORE_INTERNAL_H
#define NODE_CORE_INTERNAL_H

#include "chain/rules.h"
#include "chain/valset.h"
#include "node/admit.h"
#include "node/consensus.h"
#include "node/core.h"
#include "node/gossip.h"
#include "node/sets.h"
#include "node/sync.h"

struct node_core {
	const struct chain_genesis *genesis;
	struct chain_rules rules;
	struct chain_store *store;
	struct node_io io;
	struct peer_msg_limits limits;
	struct node_sets sets; /* sets.c: who validates, and this node's place */

	struct chain_tip tip;
	bool trust_peers; /* crash-fault engine: peers' gossip is taken as verified */
	bool failed;
	struct node_time now; /* of the call under way */
	uint64_t next_status_ms;
	struct node_core_counts counts;

	struct node_admit admit;
	struct node_consensus cons;
	struct node_sync sync;
	struct node_gossip gossip;
};

/*
 * Shorthands for the set in force at the next height: its size, and this
 * node's index in it (NODE_NOT_MEMBER if it is not one of its validators).
 */
#define CORE_N(c) ((c)->sets.cur->n)
#define CORE_SELF(c) ((c)->sets.self)

/* node_core_send encodes m and hands it to the network (to < 0: every other validator). */
void node_core_send(struct node_core *c, int to, const struct peer_msg *m);

/*
 * node_core_apply commits block b with cert: executed (x, if not NULL, is
 * b's execution and is consumed; else b is checked here), stored in one
 * synced batch, the tip moved, the mempool updated. CH_E_BLOCK_INVALID if b
 * breaks a rule; a store error otherwise.
 */
int node_core_apply(struct node_core *c, const struct chain_block *b, const struct chain_cert *cert,
		    struct chain_exec *x, struct ch_err *err);

/* node_core_check_vote checks validator v's signature of digest with its decoded key (chain_vote_check_fn). */
bool node_core_check_vote(void *arg, uint32_t v, const uint8_t digest[CR_HASH_LEN],
			  const uint8_t sig[CR_SIG_LEN]);

/* node_core_base: what the next block builds on. */
struct chain_base node_core_base(const struct node_core *c);

/* node_core_fail logs why the core stops signing, once, and stops it. */
void node_core_fail(struct node_core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void node_core_log(struct node_core *c, enum node_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
