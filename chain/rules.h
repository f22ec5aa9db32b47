/*
 * rules.h - the chain's rules for blocks, as pure functions of (committed
 * state, block): check a proposed block and return its execution, build the
 * next block from the mempool, seal a block. The node, the offline auditor
 * and the test tools call these; none has rules of its own.
 *
 * A block at height h is valid on top of the committed tip h - 1 when:
 *   - its chain id is the chain's, it names the tip as parent and carries
 *     the tip's state digest (the state after block h - 1);
 *   - its time is not before the tip's and at most max_clock_drift_ms ahead
 *     of the checker's clock;
 *   - its proposer is the validator the consensus engine expects for its
 *     view (the rules leave that choice to the engine);
 *   - it holds 1..block_max_txs transactions (or none, while a validator set
 *     is scheduled above its height: the chain then moves on to the new set
 *     without waiting for transactions) whose encodings add up to at
 *     most block_max_bytes, each for this chain, each signature valid, and
 *     each executes in order (chain/state.h) on the tip's state; validator
 *     changes (chain/valset.h) only on a chain whose engine follows them.
 * The Merkle root and the header hash are checked when a block is decoded
 * (chain_block_decode).
 */
#ifndef CHAIN_RULES_H
#define CHAIN_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "chain/block.h"
#include "chain/genesis.h"
#include "chain/mempool.h"
#include "chain/sigcache.h"
#include "chain/state.h"
#include "chain/store.h"
#include "common/buf.h"
#include "common/err.h"

/* How far ahead of a validator's clock a block's time may be. */
#define CHAIN_MAX_CLOCK_DRIFT_MS 15000

/* The parameters of the rules, from genesis. */
struct chain_rules {
	char chain_id[CHAIN_MAX_CHAIN_ID + 1];
	uint32_t nvalidators;
	uint32_t block_max_txs;
	uint32_t block_max_bytes;
	uint64_t max_clock_drift_ms;
	bool set_changes; /* validator changes are allowed (the pbft engine follows them) */
};

void chain_rules_init(struct chain_rules *r, const struct chain_genesis *g);

/*
 * chain_rules_set_pending: is a validator set scheduled above height (so
 * that a block there may be empty)? False on a read error.
 */
bool chain_rules_set_pending(const struct chain_rules *r, const struct chain_state_reader *state,
			     uint64_t height);

/* chain_rules_allow: may tx be in a block of this chain at all? CH_E_TX_INVALID if not. */
int chain_rules_allow(const struct chain_rules *r, const struct chain_tx *tx, struct ch_err *err);

/*
 * chain_rules_max_block_encoding returns the size of the largest block
 * encoding the rules allow: block_max_bytes of transactions plus a 4-byte
 * length each, plus the header.
 */
size_t chain_rules_max_block_encoding(const struct chain_rules *r);

/*
 * What a block builds on: the committed tip and its state, and where
 * signature verdicts come from. sigs (may be NULL: verify every signature)
 * remembers good verdicts; pool (may be NULL) holds transactions whose
 * signatures were checked when they were admitted. All borrowed.
 */
struct chain_base {
	struct chain_tip tip;
	struct chain_state_reader state;
	struct chain_sigcache *sigs;
	const struct chain_mempool *pool;
};

/* Any proposer will do (chain_block_check's proposer argument). */
#define CHAIN_ANY_PROPOSER UINT32_MAX

/*
 * chain_block_check checks block b against the rules on top of base,
 * expecting proposer (or CHAIN_ANY_PROPOSER) and reading the clock as now_ms
 * (UINT64_MAX: no bound on how far ahead a block's time may be, as when
 * history is replayed). On success *out gets b's execution (the caller owns
 * it and frees it with chain_exec_free; on failure *out is left alone).
 * Errors: CH_E_BLOCK_INVALID with a message that says which rule b breaks;
 * CH_E_DB if the state could not be read; CH_E_NOMEM.
 */
int chain_block_check(const struct chain_rules *r, const struct chain_base *base,
		      const struct chain_block *b, uint32_t proposer, uint64_t now_ms,
		      struct chain_exec **out, struct ch_err *err);

/* A block cut from the mempool: the block, its canonical encoding and its execution. */
struct chain_proposal {
	struct chain_block block; /* owns txs */
	struct ch_buf enc;
	struct chain_exec *exec;
};

/* Told of each transaction a build leaves out for good (it can never apply again). */
typedef void (*chain_drop_fn)(void *arg, const struct chain_tx *tx, const struct ch_err *why);

/*
 * chain_block_build cuts the next block on top of base from pool: the
 * transactions chain_mempool_select offers, at most block_max_txs and
 * block_max_bytes, executed in order; a transaction that does not apply is
 * left out, and reported to drop (may be NULL) unless it only waits for an
 * earlier nonce. The header names proposer, view and max(now_ms, tip time).
 * pool's transactions are taken as admitted (chain id and signature
 * checked, node/admit.h); pool is not changed: the caller removes what drop
 * reported, after the call (drop must not change pool). On success
 * out holds a sealed, valid block (release with chain_proposal_close).
 * CH_E_NOT_FOUND if no transaction applies (and no set is scheduled),
 * CH_E_DB, CH_E_NOMEM.
 */
int chain_block_build(const struct chain_rules *r, const struct chain_base *base,
		      const struct chain_mempool *pool, uint32_t proposer, uint64_t view,
		      uint64_t now_ms, chain_drop_fn drop, void *arg, struct chain_proposal *out,
		      struct ch_err *err);

void chain_proposal_close(struct chain_proposal *p); /* NULL is fine */

/*
 * chain_block_seal derives what a header says of its block's transactions:
 * the Merkle root of the header.tx_count transactions in b->txs, then the
 * block hash. Call after changing the header or the transactions.
 */
void chain_block_seal(struct chain_block *b);

#endif
