/*
 * admit.h - admission: the checks a transaction passes before it enters the
 * mempool, the mempool itself, and what became of transactions that were
 * refused or dropped, so that clients can learn why. Part of the core
 * (node/core.h), owned by its thread; no I/O beyond reads of committed state.
 */
#ifndef NODE_ADMIT_H
#define NODE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/block.h"
#include "chain/mempool.h"
#include "chain/rules.h"
#include "chain/sigcache.h"
#include "chain/state.h"
#include "chain/store.h"

/* Transactions whose fate clients may still ask about. */
#define NODE_DROPPED_RING 1024
#define NODE_EXPIRE_EVERY_MS 1000 /* how often commits look for expired transactions */

struct node_dropped {
	uint8_t hash[CR_HASH_LEN];
	int code;
	char msg[160];
};

struct node_admit {
	struct chain_mempool *pool;
	struct chain_sigcache *sigs; /* borrowed: shared with the signature workers */
	struct node_dropped dropped[NODE_DROPPED_RING];
	size_t ndropped;
	/* has_ready's answer, until the mempool or the tip changes */
	bool ready;
	size_t ready_count;
	uint64_t ready_height;
	uint64_t next_expire_ms; /* when a commit next drops what outlived the TTL */
	uint64_t next_height;           /* the height the next block has (validator changes) */
	uint64_t admitted;              /* transactions admitted, from clients and peers */
	uint64_t refused[CH_E__COUNT]; /* and refused, by error code */
};

int node_admit_init(struct node_admit *a, const struct chain_mempool_config *cfg,
		    struct chain_sigcache *sigs, struct ch_err *err);
void node_admit_close(struct node_admit *a);

/*
 * node_admit_tx admits a decoded transaction (copied) after the stateful
 * checks against committed state: chain id, nonce, balance, a validator
 * change's rules (chain/valset.h: its signer a validator, the change
 * possible, not approved by it already) as if in the next block, then the
 * signature (usually a cached verdict). Errors as chain_mempool_add, and
 * CH_E_WRONG_CHAIN, CH_E_NONCE_TOO_LOW, CH_E_INSUFFICIENT_FUNDS,
 * CH_E_BAD_SIGNATURE, CH_E_DB, each with a message for the client. With
 * remember, a refusal (but CH_E_KNOWN) is remembered (node_admit_forget);
 * an admitted transaction's earlier refusal is forgotten, so that nobody
 * is told of it while the transaction is pending.
 */
int node_admit_tx(struct node_admit *a, const struct chain_rules *r,
		  const struct chain_state_reader *state, const struct chain_tx *tx,
		  uint64_t now_ms, bool remember, struct ch_err *err);

/* node_admit_forget remembers why the transaction with hash was refused or dropped. */
void node_admit_forget(struct node_admit *a, const uint8_t hash[CR_HASH_LEN],
		       const struct ch_err *why);

/* node_admit_dropped finds the latest remembered refusal (valid until the next node_admit_tx). */
const struct node_dropped *node_admit_dropped(const struct node_admit *a,
					      const uint8_t hash[CR_HASH_LEN]);

/*
 * node_admit_ready: does the mempool hold a transaction that could go into
 * the next block on tip (its nonce is the account's next)? One parked
 * behind a nonce gap must not make a backup suspect the primary.
 */
bool node_admit_ready(struct node_admit *a, const struct chain_tip *tip,
		      const struct chain_state_reader *state);

/*
 * node_admit_committed drops b's transactions and those b made stale, and
 * (at most once every NODE_EXPIRE_EVERY_MS) those that outlived the TTL.
 */
void node_admit_committed(struct node_admit *a, const struct chain_block *b,
			  const struct chain_state_reader *state, uint64_t now_ms);

#endif
