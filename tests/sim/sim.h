/*
 * sim.h - a deterministic simulator of validators, in the spirit of
 * canonical/raft's raft_fixture: n real validator cores (node/core.h, with
 * the real chain rules, PBFT, state transfer, gossip and proposal pacing)
 * over a simulated network, clock and disk. Only the I/O is replaced
 * (node/io.h): each core has a real RocksDB store on an in-memory file
 * system, a vote record kept in memory, real P-256 keys, and messages that
 * pass through the real peer codec. sim_step() fires exactly one event (a
 * message delivery, a timer tick, a client transaction reaching a validator,
 * a crash, a restart, a partition) and checks the invariants after it.
 * Every random choice comes from one seeded generator, so a seed replays a
 * run (signatures differ from run to run, since ECDSA signing is
 * randomised; nothing else depends on their bytes). Under the crash-fault
 * engines, whose validators never lie, validators sign consensus messages
 * with a keyed SHA-256 instead of P-256 (sim_keyed_sig), which makes a run
 * several times cheaper; transactions keep their real signatures.
 *
 * Invariants checked after every step:
 *  - agreement: no two honest validators commit different blocks, or reach
 *    different states, at a height;
 *  - every committed block carries a valid commit certificate (a quorum of
 *    the validator set, for exactly this block), names its parent, and is
 *    valid by the chain's rules on top of it (replayed on a reference store);
 *  - no honest validator ever signs two different digests for one (type,
 *    view, height), across restarts (PBFT; Byzantine validators too are
 *    PBFT's only: the crash-fault engines trust every validator);
 *  - an honest core never fails, and its engine's height is its store's.
 * With validator-set changes, certificates and senders are checked against
 * the set in force at their height, as the agreed chain's state says.
 * Liveness: once the faults stop (network healed, crashed validators back,
 * at most f Byzantine), every transaction commits on every honest validator
 * within opts.live_ms simulated milliseconds. Clients send each transaction
 * to every validator, and again once a second after the faults until it has
 * committed (a crash loses a validator's mempool, as it does a node's).
 *
 * A crash loses what a killed process loses: the core and everything in
 * memory, and the actions of the call under way after the crash point (with
 * torn crashes, any number of its sends, vote-record and store writes); the store
 * and the vote record keep what was written before, as each write is synced.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_MAX_N 16

/* Byzantine behaviours (bit mask); a faulty validator runs a real core and lies around it. */
enum {
	SIM_BYZ_SILENT = 1 << 0,     /* sends nothing, serves no state transfer */
	SIM_BYZ_EQUIVOCATE = 1 << 1, /* as primary, different blocks to two halves */
	SIM_BYZ_INVALID = 1 << 2,    /* as primary, proposes blocks that break a rule */
	SIM_BYZ_VOTES = 1 << 3,      /* votes for random digests, heights, views; echoes every digest */
	SIM_BYZ_REPLAY = 1 << 4,     /* replays old messages of anyone */
	SIM_BYZ_GARBAGE = 1 << 5,    /* random and mangled bytes on the wire */
	SIM_BYZ_NEWVIEW = 1 << 6,    /* as new primary, different valid NEW-VIEWs to each */
	SIM_BYZ_FORK = 1 << 7,       /* as primary, valid blocks on each validator's own (stale) tip */
	SIM_BYZ_SYNC = 1 << 8,       /* claims a height far ahead, answers state transfer with forged blocks */
};

struct sim_opts {
	const char *engine;  /* the genesis's ordering engine (NULL: pbft) */
	uint32_t n;
	uint32_t nbyz;       /* Byzantine validators (<= f), the last nbyz indices */
	unsigned byz;        /* SIM_BYZ_* behaviours they draw from */
	double drop;         /* message loss while faults last */
	double dup;          /* duplication */
	uint32_t delay_min;  /* one-way delay range, ms */
	uint32_t delay_max;
	bool partitions;     /* split the validators into groups now and then */
	bool crashes;        /* crash and restart honest validators */
	bool torn;           /* a crash may come in the middle of a call's actions */
	uint32_t ntx;        /* client transactions (0: drawn from 8..40) */
	uint32_t block_max;  /* transactions per block (0: drawn from 1..4) */
	uint32_t fetch_ms;   /* extra delay of state-transfer answers, up to this */
	uint64_t fault_ms;   /* faults and submissions happen in [0, fault_ms) */
	uint64_t live_ms;    /* liveness bound after fault_ms */
	uint64_t view_timeout_ms;
	uint64_t checkpoint_interval;
	/*
	 * Validator-set changes (pbft): joiners nodes beyond the genesis's n
	 * start from genesis with keys no set holds yet, and a governance
	 * client has the validators vote through a plan drawn from the seed
	 * (additions, removals, a re-key; sim_gov.c). The run ends once every
	 * change rules and every transaction committed.
	 */
	uint32_t joiners;
	bool changes;
};

struct sim;

/* sim_new builds a run of opts with seed; trace (borrowed, may be NULL) gets one line per event. */
struct sim *sim_new(const struct sim_opts *opts, uint64_t seed, FILE *trace);
void sim_free(struct sim *s);

/* sim_step fires one event and checks the invariants; false once the run failed or ended. */
bool sim_step(struct sim *s);

/* sim_step_until steps until pred(s, arg) holds (true) or the run fails or ends (false). */
bool sim_step_until(struct sim *s, bool (*pred)(struct sim *, void *), void *arg,
		    uint64_t max_ms);

/* sim_run steps to the end: 0 when every invariant and the liveness bound held. */
int sim_run(struct sim *s);

/* What went wrong (empty if nothing). Valid until sim_free. */
const char *sim_error(const struct sim *s);

/* Hooks for hand-written tests. */
uint64_t sim_now(const struct sim *s);
void sim_crash(struct sim *s, uint32_t i);
void sim_restart(struct sim *s, uint32_t i);
void sim_partition(struct sim *s, const int *group); /* group[i] per validator */
void sim_heal(struct sim *s);
uint64_t sim_height(const struct sim *s, uint32_t i);
uint64_t sim_view(const struct sim *s, uint32_t i);
bool sim_all_committed(const struct sim *s);

/* Counters for the summary. */
struct sim_stats {
	uint64_t events, delivered, blocks, view_changes, fetches, restarts;
	uint64_t reproposals; /* NEW-VIEWs of honest primaries that re-propose a prepared block */
	uint64_t verified;    /* distinct signatures checked (the rest were remembered) */
};
void sim_get_stats(const struct sim *s, struct sim_stats *st);

/* A named fault mix, how many seeds of it to run, and what it is in words. */
struct sim_scenario {
	const char *name;
	struct sim_opts opts;
	uint32_t seeds;
	const char *what;
};

/*
 * sim_main runs every scenario over its seeds (SIM_SEED=<n> with
 * SIM_SCENARIO=<name> replays one run with a trace on stdout instead;
 * SIM_SCALE=<k> multiplies the seed counts), prints failures with the
 * command that replays them and "N passed, N failed" last. With
 * CHAIN_FAULTS_FILE=<path> it also writes one row per scenario to path for
 * the fault table (scripts/fault-table). Returns the process exit status.
 */
int sim_main(const struct sim_scenario *sc, size_t nsc);

#endif
