/*
 * genesis.h - a chain's genesis: its id, start time, validators, funded
 * accounts and the consensus and block parameters, read from genesis.json
 * (shared by every validator of the chain), and the state it starts from.
 *
 *   {"chain_id": "devnet", "genesis_time_ms": 1700000000000,
 *    "validators": [{"id": "node0", "pub_key": HEX33, "p2p_address": "tcp://..."}],
 *    "accounts": [{"address": HEX20, "balance": "1000000"}],
 *    "params": {"block_max_txs": 5000, "block_max_bytes": 4194304,
 *               "block_interval_ms": 0, "checkpoint_interval": 100,
 *               "view_timeout_ms": 1000, "engine": "pbft"}}
 *
 * "engine" names the protocol that orders the chain's blocks, fixed for its
 * life: "pbft" (Byzantine faults, the default), "raft" or "multipaxos"
 * (crash faults only; docs/CONSENSUS.md).
 *
 * The genesis hash is SHA-256 of the file's canonical (unformatted) JSON: a
 * store remembers the genesis it was started from and refuses another.
 */
#ifndef CHAIN_GENESIS_H
#define CHAIN_GENESIS_H

#include <stddef.h>
#include <stdint.h>

#include "chain/block.h"
#include "chain/state.h"
#include "common/err.h"
#include "crypto/crypto.h"

#define CHAIN_MAX_ADDR 128
#define CHAIN_MAX_ENGINE 15

struct chain_validator {
	char id[64];
	uint8_t pub_key[CR_PUBKEY_LEN];
	char p2p_address[CHAIN_MAX_ADDR];
};

struct chain_allocation {
	uint8_t address[CR_ADDR_LEN];
	uint64_t balance;
};

struct chain_params {
	uint32_t block_max_txs;
	uint32_t block_max_bytes;   /* the sum of a block's transaction encodings */
	uint32_t block_interval_ms; /* 0: propose as soon as the last block commits */
	uint32_t checkpoint_interval;
	uint32_t view_timeout_ms;
	char engine[CHAIN_MAX_ENGINE + 1]; /* "pbft", "raft" or "multipaxos" */
};

struct chain_genesis {
	char chain_id[CHAIN_MAX_CHAIN_ID + 1];
	uint64_t genesis_time_ms;
	size_t nvalidators;
	struct chain_validator validators[CHAIN_MAX_VALIDATORS];
	size_t naccounts;
	struct chain_allocation *accounts; /* owned */
	struct chain_params params;
	uint8_t hash[CR_HASH_LEN];
};

/* chain_params_default fills the parameters a genesis file may leave out. */
void chain_params_default(struct chain_params *p);

/*
 * chain_genesis_load parses and checks path into g (release with
 * chain_genesis_close): CH_E_CONFIG with a message that names the file, the
 * field and what is wrong; file errors as ch_read_file's.
 */
int chain_genesis_load(struct chain_genesis *g, const char *path, struct ch_err *err);
void chain_genesis_close(struct chain_genesis *g); /* NULL is fine */

/* chain_genesis_save writes g as formatted JSON to a new file (CH_E_EXISTS if path exists). */
int chain_genesis_save(const struct chain_genesis *g, const char *path, struct ch_err *err);

/*
 * chain_genesis_state executes g's allocations over base (normally an empty
 * store): *out gets the writes (caller frees with chain_exec_free) and
 * digest the genesis state digest, which block 1 names.
 */
int chain_genesis_state(const struct chain_genesis *g, const struct chain_state_reader *base,
			struct chain_exec **out, uint8_t digest[CR_HASH_LEN], struct ch_err *err);

#endif
