/*
 * testchain.h - a chain for tests and simulations: deterministic P-256
 * keys, a genesis made in memory, a store with its state applied, and
 * signed transactions.
 */
#ifndef TEST_TESTCHAIN_H
#define TEST_TESTCHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/genesis.h"
#include "chain/mempool.h"
#include "chain/rules.h"
#include "chain/store.h"
#include "chain/tx.h"
#include "crypto/crypto.h"

/* The genesis time of test_genesis. */
#define TEST_GENESIS_MS 1700000000000ull

/* test_key returns the fixed key of (label, i) (aborts if OpenSSL fails). Free with cr_key_free. */
struct cr_key *test_key(const char *label, uint32_t i);

/* test_key_address writes the address of k's public key to out. */
void test_key_address(const struct cr_key *k, uint8_t out[CR_ADDR_LEN]);

/*
 * test_genesis fills g for chain_id: genesis time TEST_GENESIS_MS, n
 * validators "n0".. with the keys test_key("validator", i) and p2p
 * addresses "sim://i", and m accounts of test_key("account", j) funded with
 * balance each (g->accounts is malloc'd: chain_genesis_close frees it),
 * default parameters, and a fixed genesis hash. A test wanting other
 * balances sets g->accounts[j].balance before the genesis is applied.
 */
void test_genesis(struct chain_genesis *g, const char *chain_id, uint32_t n, uint32_t m,
		  uint64_t balance);

/* test_store_open opens dir on env; a new store gets g's genesis state. Errors as the store's. */
int test_store_open(struct chain_store **out, struct chain_mem_env *env, const char *dir,
		    const struct chain_genesis *g, struct ch_err *err);

/*
 * A chain in memory for one test: its genesis applied to a store on an
 * environment of its own, the tip that store reports, and the rules of the
 * genesis.
 */
struct test_chain {
	struct chain_genesis genesis; /* filled by the caller (test_genesis), then owned */
	struct chain_mem_env *env;
	struct chain_store *store;
	struct chain_tip tip;
	struct chain_rules rules;
};

/*
 * test_chain_open opens c's store at dir on a new environment with
 * c->genesis applied, and fills c->tip and c->rules. c must be zeroed but
 * for the genesis. Errors as the store's; on any outcome c owns what it
 * holds, genesis included, and test_chain_close releases it.
 */
int test_chain_open(struct test_chain *c, const char *dir, struct ch_err *err);

/* test_chain_close releases all c holds (a chain half opened, or zeroed, is fine). */
void test_chain_close(struct test_chain *c);

/* A mempool's limits for unit tests: 1000 transactions, 1 MiB, ten minutes, a nonce gap of 16. */
extern const struct chain_mempool_config test_mempool_config;

/*
 * test_transfer fills tx with a transfer of amount to `to` at nonce on
 * chain_id, signed with k (aborts if signing fails).
 */
void test_transfer(struct chain_tx *tx, const struct cr_key *k, const char *chain_id,
		   uint64_t nonce, const uint8_t to[CR_ADDR_LEN], uint64_t amount);

/*
 * test_set fills tx with a set of name to the value_len bytes of value at
 * nonce on chain_id, signed with k (aborts if value_len is over
 * CHAIN_MAX_VALUE or signing fails).
 */
void test_set(struct chain_tx *tx, const struct cr_key *k, const char *chain_id, uint64_t nonce,
	      const char *name, const void *value, size_t value_len);

/* test_block_append adds a copy of tx at the end of b's transactions (aborts if out of memory). */
void test_block_append(struct chain_block *b, const struct chain_tx *tx);

/* test_committed_tx copies the first transaction of store's block 1; false before there is one. */
bool test_committed_tx(struct chain_store *store, struct chain_tx *out);

#endif
