/*
 * valset.h - the validator set over a chain's life: which validators order
 * each height, and how the set in force changes by a vote of itself.
 *
 * The sets live in the state (so the state digest covers them), as data of
 * the reserved owner CHAIN_SYS_OWNER (20 zero bytes, no key's address):
 *   "valset/starts"   the first heights of the sets, u64 each, ascending
 *   "valset/<start>"  the set in force from height start (decimal) until the
 *                     next start: next_slot u16 | n u16 | n x (slot u16
 *                     | pub_key[33] | id_len u8 | id | addr_len u8 | addr)
 *   "approve/index"   the open changes, 16-byte keys
 *   "approve/<key>"   one open change (key in hex): first_height u64 | op u8
 *                     | id_len u8 | id | pub_key[33] | addr_len u8 | addr
 *                     | count u16 | count x approver slot u16
 * The genesis set rules from height 1 (chain_valset_genesis).
 *
 * A member's slot is its permanent number: genesis validators get 0..n-1 in
 * their order, each added validator the next unused one; a re-key keeps it,
 * a removal retires it for good. A set lists its members in ascending slot
 * order, and a member's index in that list is its number in the consensus
 * engine, in block headers (proposer) and in commit certificates of the
 * heights the set rules.
 *
 * Rules of a validator change (chain/tx.h, type validator), in a block at
 * height h:
 *   - its signer must be a member of V(h), the set in force at h; its
 *     signature is an approval of (op, id, key, address);
 *   - the change must apply to the latest scheduled set: an added id and key
 *     are new and a slot is left (at most CHAIN_MAX_VALIDATORS slots over the
 *     chain's life), a removed or re-keyed id is a member, a new key is not
 *     in use, a removal leaves at least one member;
 *   - a validator may have started (first approved) at most
 *     CHAIN_MAX_OPEN_PER_VALIDATOR changes that are still open, so that no
 *     one can fill the table of open changes and block the others';
 *   - approving a change twice is refused; approvals of members no longer in
 *     V(h) do not count; a change left open CHAIN_APPROVAL_TTL blocks after
 *     its first approval starts again from the next one;
 *   - once the approvals of members of V(h) reach the quorum of V(h)
 *     (chain_valset_quorum), the change applies to the latest scheduled set
 *     and the result rules from height h + CHAIN_VAL_DELAY.
 */
#ifndef CHAIN_VALSET_H
#define CHAIN_VALSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/genesis.h"
#include "chain/state.h"
#include "common/err.h"

#define CHAIN_VAL_DELAY 2         /* a change completed in block h rules from h + 2 */
#define CHAIN_APPROVAL_TTL 1000   /* blocks a change stays open after its first approval */
#define CHAIN_MAX_OPEN_PER_VALIDATOR 4 /* open changes a validator may start */
#define CHAIN_MAX_OPEN_CHANGES (CHAIN_MAX_OPEN_PER_VALIDATOR * CHAIN_MAX_VALIDATORS)
#define CHAIN_MAX_EPOCHS 4096     /* sets over a chain's life */

extern const uint8_t CHAIN_SYS_OWNER[CR_ADDR_LEN];

struct chain_member {
	uint16_t slot;
	char id[CHAIN_MAX_VAL_ID + 1];
	uint8_t pub_key[CR_PUBKEY_LEN];
	char addr[CHAIN_MAX_VAL_ADDR + 1];
};

/* A set and the height it rules from. */
struct chain_valset {
	uint64_t start;
	uint16_t next_slot; /* the slot the next added validator gets */
	uint32_t n;
	struct chain_member m[CHAIN_MAX_VALIDATORS];
};

/* chain_valset_quorum: votes a certificate of a set of n needs (PBFT's ceil((n + f + 1) / 2)). */
uint32_t chain_valset_quorum(uint32_t n);
/* chain_valset_faults: f, the Byzantine members a set of n tolerates. */
uint32_t chain_valset_faults(uint32_t n);

/* chain_valset_genesis fills s with g's validators, ruling from height 1. */
void chain_valset_genesis(const struct chain_genesis *g, struct chain_valset *s);

/* chain_valset_find: the index of the member with key pub (or id), or -1. */
int chain_valset_find_key(const struct chain_valset *s, const uint8_t pub[CR_PUBKEY_LEN]);
int chain_valset_find_id(const struct chain_valset *s, const char *id);
int chain_valset_find_slot(const struct chain_valset *s, uint32_t slot);

/* chain_valset_same: do a and b have the same members (slots and keys)? */
bool chain_valset_same(const struct chain_valset *a, const struct chain_valset *b);

/*
 * chain_valset_at reads from state the set in force at height (>= 1;
 * UINT64_MAX: the latest scheduled). CH_E_NOT_FOUND if the state holds no
 * sets (a store from before they were recorded), CH_E_CORRUPT for a
 * damaged record, the reader's errors.
 */
int chain_valset_at(const struct chain_state_reader *state, uint64_t height,
		    struct chain_valset *out, struct ch_err *err);

/* chain_valset_at_last is chain_valset_at, and *last_start the start of the last scheduled set. */
int chain_valset_at_last(const struct chain_state_reader *state, uint64_t height,
			 struct chain_valset *out, uint64_t *last_start, struct ch_err *err);

/*
 * chain_valset_starts reads the first heights of every set, ascending, into
 * starts (up to cap; *n gets the count).
 */
int chain_valset_starts(const struct chain_state_reader *state, uint64_t *starts, size_t cap,
			size_t *n, struct ch_err *err);

/* chain_valset_write_genesis records g's set in x (chain_genesis_state). */
int chain_valset_write_genesis(struct chain_exec *x, const struct chain_genesis *g,
			       struct ch_err *err);

/*
 * chain_valset_apply executes validator change tx (signature checked) in
 * block height over x, by the rules above: CH_E_TX_INVALID with a message
 * that says which rule it breaks, CH_E_NOMEM, the state's errors. On error x
 * is unchanged. *scheduled (may be NULL) is set when the change completed.
 */
int chain_valset_apply(struct chain_exec *x, uint64_t height, const struct chain_tx *tx,
		       bool *scheduled, struct ch_err *err);

/* One open change, as chain_valset_open lists them. */
struct chain_open_change {
	uint64_t first_height;
	uint8_t op;
	char id[CHAIN_MAX_VAL_ID + 1];
	uint8_t pub_key[CR_PUBKEY_LEN];
	char addr[CHAIN_MAX_VAL_ADDR + 1];
	uint32_t napprovers;
	uint16_t approvers[CHAIN_MAX_VALIDATORS]; /* slots, members of the set at height */
	uint32_t quorum;                          /* of the set at height */
};

/*
 * chain_valset_open lists the changes open at height (not expired, with at
 * least one approval by a member of V(height)), up to cap, into out.
 */
int chain_valset_open(const struct chain_state_reader *state, uint64_t height,
		      struct chain_open_change *out, size_t cap, size_t *n, struct ch_err *err);

/* chain_valset_change_key: the 16-byte key of a change (its approvals' record name). */
void chain_valset_change_key(uint8_t op, const char *id, const uint8_t pub[CR_PUBKEY_LEN],
			     const char *addr, uint8_t key[16]);

#endif
