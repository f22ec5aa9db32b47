/*
 * sim.h - a deterministic simulator for the PBFT core, in the spirit of
 * canonical/raft's raft_fixture: n cores (pbft_new) over a simulated
 * network, disk and clock. sim_step() fires exactly one event (a message
 * delivery, a timer tick, a client transaction reaching a mempool, a
 * crash, a restart, a partition, a state transfer finishing) and checks
 * the safety invariants after it. Every random choice comes from one
 * seeded generator, so a seed replays a run exactly.
 *
 * Invariants checked after every step:
 *  - agreement: no two honest replicas commit different blocks at a height;
 *  - every committed block carries a valid commit certificate (>= quorum
 *    distinct commit votes for its height, view and hash), links to its
 *    parent and is valid on top of it;
 *  - no honest replica ever signs two different digests for one (type,
 *    view, height), across restarts;
 *  - the core's committed height equals the host's.
 * Liveness: once the faults stop (network healed, crashed replicas back,
 * at most f Byzantine), every submitted transaction commits on every
 * honest replica within opts.live_ms simulated milliseconds.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pbft/pbft.h"

#define SIM_MAX_N 16

/* Byzantine behaviours (bit mask); a faulty replica runs a real core and lies around it. */
enum {
	SIM_BYZ_SILENT = 1 << 0,     /* sends nothing, serves no state transfer */
	SIM_BYZ_EQUIVOCATE = 1 << 1, /* as primary, different blocks to two halves */
	SIM_BYZ_INVALID = 1 << 2,    /* as primary, proposes invalid blocks */
	SIM_BYZ_VOTES = 1 << 3,      /* votes for random digests, heights, views; echoes every digest */
	SIM_BYZ_REPLAY = 1 << 4,     /* replays old messages of anyone */
	SIM_BYZ_GARBAGE = 1 << 5,    /* random and mangled bytes on the wire */
	SIM_BYZ_NEWVIEW = 1 << 6,    /* as new primary, different valid NEW-VIEWs to each replica */
	SIM_BYZ_FORK = 1 << 7,       /* as primary, blocks on each replica's own (stale) tip */
};

struct sim_opts {
	uint32_t n;
	uint32_t nbyz;       /* Byzantine replicas (<= f), the last nbyz indices */
	unsigned byz;        /* SIM_BYZ_* behaviours they draw from */
	double drop;         /* message loss while faults last */
	double dup;          /* duplication */
	uint32_t delay_min;  /* one-way delay range, ms */
	uint32_t delay_max;
	bool partitions;     /* split the validators into groups now and then */
	bool crashes;        /* crash and restart honest replicas */
	bool torn;           /* crashes may cut a batch of actions after any action */
	uint32_t ntx;        /* client transactions (0: drawn from 8..40) */
	uint32_t block_max;  /* txs per block (0: drawn from 1..4) */
	uint32_t fetch_ms;   /* extra state-transfer latency, up to this */
	uint64_t fault_ms;   /* faults and submissions happen in [0, fault_ms) */
	uint64_t live_ms;    /* liveness bound after fault_ms */
	uint64_t view_timeout_ms;
	uint64_t checkpoint_interval;
};

struct sim;

/* sim_new builds a run of opts with seed; trace (borrowed, may be NULL) gets one line per event. */
struct sim *sim_new(const struct sim_opts *opts, uint64_t seed, FILE *trace);
void sim_free(struct sim *s);

/* sim_step fires one event and checks the invariants; false once the run failed. */
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
void sim_submit(struct sim *s, uint32_t tx, uint64_t at_ms); /* reaches every mempool */
uint64_t sim_height(const struct sim *s, uint32_t i);
uint64_t sim_view(const struct sim *s, uint32_t i);
bool sim_all_committed(const struct sim *s);

/* Counters for the summary. */
struct sim_stats {
	uint64_t events, delivered, blocks, view_changes, fetches, restarts;
	uint64_t reproposals; /* NEW-VIEWs of honest primaries that re-propose a prepared block */
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
