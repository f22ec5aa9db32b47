/*
 * testchain.h - a chain for tests and simulations: deterministic P-256
 * keys, a genesis made in memory, and a store with its state applied.
 */
#ifndef TEST_TESTCHAIN_H
#define TEST_TESTCHAIN_H

#include <stdint.h>

#include "chain/genesis.h"
#include "chain/store.h"
#include "crypto/crypto.h"

/* test_key returns the fixed key of (label, i) (aborts if OpenSSL fails). Free with cr_key_free. */
struct cr_key *test_key(const char *label, uint32_t i);

/*
 * test_genesis fills g for chain_id: genesis time 1700000000000, n
 * validators "n0".. with the keys test_key("validator", i) and p2p
 * addresses "sim://i", and m accounts of test_key("account", j) funded with
 * balance each (g->accounts is malloc'd: chain_genesis_close frees it),
 * default parameters, and a fixed genesis hash.
 */
void test_genesis(struct chain_genesis *g, const char *chain_id, uint32_t n, uint32_t m,
		  uint64_t balance);

/* test_store_open opens dir on env; a new store gets g's genesis state. Errors as the store's. */
int test_store_open(struct chain_store **out, struct chain_mem_env *env, const char *dir,
		    const struct chain_genesis *g, struct ch_err *err);

/* test_block_append adds a copy of tx at the end of b's transactions (aborts if out of memory). */
void test_block_append(struct chain_block *b, const struct chain_tx *tx);

/* test_committed_tx copies the first transaction of store's block 1; false before there is one. */
bool test_committed_tx(struct chain_store *store, struct chain_tx *out);

#endif
