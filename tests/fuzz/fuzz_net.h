/*
 * fuzz_net.h - the fixed network fuzz_peer runs a validator of, shared with
 * gen_peer_seeds so that the seeds' signatures verify in the fuzzer: the
 * chain of tests/lib/testchain.h with FUZZ_VALIDATORS validators and
 * FUZZ_ACCOUNTS funded accounts, whose keys are test_key("validator", i)
 * and test_key("account", j). The genesis, hence every block and
 * certificate of the seeds, is the same in every run.
 */
#ifndef FUZZ_NET_H
#define FUZZ_NET_H

#include "chain/genesis.h"
#include "chain/sigcache.h"
#include "chain/store.h"
#include "node/core.h"

#define FUZZ_VALIDATORS 4
#define FUZZ_ACCOUNTS 2
#define FUZZ_CHAIN_ID "fuzz"
/*
 * The validator fuzz_peer runs: a backup in view 0, so that the primary's
 * (validator 0's) PRE-PREPARE reaches block validation and a vote; the
 * primary itself would ignore every proposal of view 0.
 */
#define FUZZ_SELF 1

/* A real validator core on a store in memory; what it sends goes nowhere. */
struct fuzz_net {
	struct chain_genesis genesis;
	struct chain_mem_env *env;
	struct chain_store *store;
	struct chain_sigcache *sigs;
	struct cr_key *key;
	struct node_core *core;
	uint8_t *votes; /* its vote record */
	size_t votes_len;
	uint64_t now;   /* advances a millisecond per input */
	bool log;       /* the core's log lines go to stderr */
};

/* fuzz_net_open builds the network and validator FUZZ_SELF's core. Errors name the step. */
int fuzz_net_open(struct fuzz_net *f, struct ch_err *err);
void fuzz_net_close(struct fuzz_net *f);

/* fuzz_net_time: the clock of the next input. */
struct node_time fuzz_net_time(struct fuzz_net *f);

#endif
