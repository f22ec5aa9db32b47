/*
 * fuzz_peer_net.h - the fixed network fuzz_peer runs a validator of, shared
 * with gen_peer_seeds so that the seeds' signatures verify in the fuzzer.
 *
 * It is what `chaind testnet --validators 4 --accounts 2` writes, with the
 * random keys replaced by fixed ones (fuzz_peer_net.c; test keys, never
 * use them elsewhere) and a fixed genesis time: the genesis hash, hence
 * every block and certificate of the seeds, is the same in every run.
 * Changing the testnet defaults (node_testnet, node_params_default)
 * changes the genesis: run gen_peer_seeds again.
 */
#ifndef FUZZ_PEER_NET_H
#define FUZZ_PEER_NET_H

#include <stdbool.h>

#include "common/err.h"
#include "crypto/crypto.h"

#define FUZZ_PEER_VALIDATORS 4
#define FUZZ_PEER_ACCOUNTS 2
#define FUZZ_PEER_GENESIS_MS 1700000000000ull
/*
 * The validator fuzz_peer runs: a backup in view 0, so that the primary's
 * (validator 0's) PRE-PREPARE reaches block validation and a vote; the
 * primary itself would ignore every proposal of view 0.
 */
#define FUZZ_PEER_SELF 1

/*
 * fuzz_peer_net_make writes the network into dir (which must exist and be
 * empty): DIR/genesis.json, DIR/nodeI/ and DIR/accounts/accountJ.pem.
 * Errors name the file.
 */
int fuzz_peer_net_make(const char *dir, struct ch_err *err);

/* fuzz_peer_net_key loads validator i's key (account j's if account). Free with cr_key_free. */
int fuzz_peer_net_key(const char *dir, bool account, unsigned i, struct cr_key **out,
		      struct ch_err *err);

/* fuzz_peer_net_remove deletes dir and everything under it (best effort). */
void fuzz_peer_net_remove(const char *dir);

#endif
