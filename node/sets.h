/*
 * sets.h - the validator sets a core works with, read from the committed
 * state (chain/valset.h): cur, the set in force at the next height (the one
 * whose engine runs and whose certificates state transfer checks), prev,
 * the set before cur (which certified cur's first height - 1), and latest,
 * the last one scheduled (whom to stay connected to). Part of the core
 * (core.h); node_sets_refresh runs after every commit.
 *
 * Peer messages and the transport number validators by slot (permanent,
 * chain/valset.h); the engine and certificates by index in the set of
 * their height. A node whose key is in no set yet (a validator added by
 * vote, syncing from genesis) has no slot; one whose key is not in cur has
 * no index and runs no engine: it follows the chain by state transfer.
 */
#ifndef NODE_SETS_H
#define NODE_SETS_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/block.h"
#include "chain/valset.h"
#include "crypto/crypto.h"

#define NODE_NOT_MEMBER UINT32_MAX

struct node_core;

struct node_sets {
	struct chain_valset *cur, *prev, *latest; /* owned */
	struct cr_pubkey *cur_keys[CHAIN_MAX_VALIDATORS], *prev_keys[CHAIN_MAX_VALIDATORS];
	uint8_t self_pub[CR_PUBKEY_LEN];
	uint32_t self; /* index in cur, or NODE_NOT_MEMBER */
	uint32_t slot; /* this node's slot (kept after its removal), or NODE_NOT_MEMBER */
	uint64_t gen;  /* counts changes of cur or latest (peers to dial) */
};

/* node_sets_open reads the sets at c's tip. CH_E_NOMEM, CH_E_DB, CH_E_CORRUPT. */
int node_sets_open(struct node_core *c, const uint8_t self_pub[CR_PUBKEY_LEN], struct ch_err *err);
void node_sets_close(struct node_sets *s);

/*
 * node_sets_refresh re-reads them after the tip moved to block b (only if
 * b holds validator changes or reaches a scheduled set: the rest of the
 * time they cannot have changed); *changed tells whether cur is another set
 * than before (the engine must restart).
 */
int node_sets_refresh(struct node_core *c, const struct chain_block *b, bool *changed,
		      struct ch_err *err);

/* node_sets_check: is sig validator v's (index in cur) signature of digest? */
bool node_sets_check(struct node_core *c, uint32_t v, const uint8_t digest[CR_HASH_LEN],
		     const uint8_t sig[CR_SIG_LEN]);

/* node_sets_check_at: the same, v numbered in the set in force at height (cur or prev). */
bool node_sets_check_at(struct node_core *c, uint64_t height, uint32_t v,
			const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN]);

/* node_sets_slot_of: the slot of cur's member at index i (NODE_NOT_MEMBER if none). */
uint32_t node_sets_slot_of(const struct node_sets *s, uint32_t i);

/* node_sets_slot_by_key: the slot of latest's or cur's member with key pub, or NODE_NOT_MEMBER. */
uint32_t node_sets_slot_by_key(const struct node_sets *s, const uint8_t pub[CR_PUBKEY_LEN]);

#endif
