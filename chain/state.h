/*
 * state.h - account state and transaction execution.
 *
 * State is a map of accounts (address -> balance, nonce) and of per-owner
 * data (owner address, name -> value). A struct chain_exec is a write
 * overlay on top of a read-only base (normally the RocksDB store): a block
 * is executed into an overlay, and the overlay's writes go into the block's
 * single WriteBatch. Nothing is written to the base by this module.
 *
 * Rules (chain_exec_apply): the sender's account nonce must equal tx->nonce;
 * a transfer needs balance >= amount and the receiver's balance must not
 * overflow uint64; a set stores value under (sender, name). Every applied
 * transaction increments the sender's nonce. A validator change follows
 * the rules of chain/valset.h. A rejected transaction leaves
 * the overlay unchanged.
 *
 * State digest: digest(h) = SHA-256("chaind/state/v1" 0x00 || digest(h-1)
 * || write set of block h), where the write set lists every written account
 * (address, balance, nonce) and data entry (owner, name, value) sorted by
 * key. Two replicas with the same digest executed the same writes in the
 * same order of blocks. digest(genesis) starts from 32 zero bytes.
 */
#ifndef CHAIN_STATE_H
#define CHAIN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/tx.h"
#include "common/buf.h"
#include "common/err.h"

struct chain_account {
	uint64_t balance;
	uint64_t nonce;
};

/*
 * Read-only view of committed state. get_account fills a zero account if
 * the address is unknown. get_data appends the value to *value and sets
 * *found. Both return 0 or an error code (e.g. CH_E_DB).
 */
struct chain_state_reader {
	int (*get_account)(void *arg, const uint8_t addr[CR_ADDR_LEN],
			   struct chain_account *out, struct ch_err *err);
	int (*get_data)(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name,
			struct ch_buf *value, bool *found, struct ch_err *err);
	void *arg;
};

/*
 * chain_state_nonce gives addr's committed nonce (0 for an account never
 * seen) from reader, a struct chain_state_reader: a chain_nonce_fn for the
 * mempool.
 */
int chain_state_nonce(void *reader, const uint8_t addr[CR_ADDR_LEN], uint64_t *nonce);

struct chain_exec;

/* chain_exec_new makes an empty overlay over base (copied; base->arg borrowed). */
int chain_exec_new(struct chain_exec **out, const struct chain_state_reader *base);
void chain_exec_free(struct chain_exec *x);

/*
 * chain_exec_set_height names the height of the block x executes (the
 * rules of validator changes depend on it; chain/valset.h). Until it is
 * set, validator changes are refused.
 */
void chain_exec_set_height(struct chain_exec *x, uint64_t height);

/* chain_exec_reader reads through x (borrowed; valid while x lives). */
struct chain_state_reader chain_exec_reader(struct chain_exec *x);

/*
 * chain_exec_put_data writes a data entry without a transaction (the
 * chain's own records, chain/valset.h). 0 or CH_E_NOMEM.
 */
int chain_exec_put_data(struct chain_exec *x, const uint8_t owner[CR_ADDR_LEN], const char *name,
			const uint8_t *value, uint16_t len);

/* chain_exec_account reads through the overlay, then the base. */
int chain_exec_account(struct chain_exec *x, const uint8_t addr[CR_ADDR_LEN],
		       struct chain_account *out, struct ch_err *err);

/* chain_exec_data reads a data value through the overlay, then the base. */
int chain_exec_data(struct chain_exec *x, const uint8_t owner[CR_ADDR_LEN], const char *name,
		    struct ch_buf *value, bool *found, struct ch_err *err);

/*
 * chain_exec_apply executes tx (decoded, signature already checked) or
 * rejects it: CH_E_NONCE_TOO_LOW, CH_E_NONCE_TOO_HIGH, CH_E_INSUFFICIENT_FUNDS,
 * CH_E_TX_INVALID (overflow), with a message that gives the numbers.
 */
int chain_exec_apply(struct chain_exec *x, const struct chain_tx *tx, struct ch_err *err);

/* chain_exec_credit adds amount to addr's balance (genesis allocations). */
int chain_exec_credit(struct chain_exec *x, const uint8_t addr[CR_ADDR_LEN], uint64_t amount,
		      struct ch_err *err);

/* chain_exec_digest computes the state digest after these writes. */
void chain_exec_digest(const struct chain_exec *x, const uint8_t prev[CR_HASH_LEN],
		       uint8_t out[CR_HASH_LEN]);

/* Iterate the writes in key order (for the store's WriteBatch). */
void chain_exec_foreach_account(const struct chain_exec *x,
				void (*fn)(void *arg, const uint8_t addr[CR_ADDR_LEN],
					   const struct chain_account *acct),
				void *arg);
void chain_exec_foreach_data(const struct chain_exec *x,
			     void (*fn)(void *arg, const uint8_t owner[CR_ADDR_LEN],
					const char *name, const uint8_t *value, size_t len),
			     void *arg);

/* chain_exec_writes returns the number of written entries. */
size_t chain_exec_writes(const struct chain_exec *x);

#endif
