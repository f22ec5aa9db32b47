/*
 * sim_engines.h - the scenarios of the crash-fault engines' simulations
 * (test_sim_raft.c, test_sim_multipaxos.c): real validator cores ordered
 * by the crash-fault engines (raft/, paxos/)
 * under simulated faults (sim.h): an unreliable network (loss, delay,
 * duplication, reordering), partitions that cut a leader off in a minority,
 * and crashes and restarts, also in the middle of a call's actions (a vote
 * record or store write not yet made is lost, with everything after it).
 * No Byzantine validator: these engines trust every validator not to lie.
 */
#ifndef SIM_ENGINES_H
#define SIM_ENGINES_H

#include "sim.h"

#define NET(e_, n_, drop_, dup_, dmin_, dmax_)                                            \
	.engine = (e_), .n = (n_), .drop = (drop_), .dup = (dup_), .delay_min = (dmin_),     \
	.delay_max = (dmax_), .fault_ms = 1500, .live_ms = 60000

/* Seeds of a scenario per unit of k_: 400 per unit over the 16 scenarios. */
#define SEEDS_PER_SCENARIO 5

#define ENGINE_SCENARIOS(e_, k_)                                                                     \
	{e_ "-clean-1", {NET(e_, 1, 0, 0, 1, 5)}, 5 * (k_), "no fault (baseline) (n = 1)"},           \
	{e_ "-clean-3", {NET(e_, 3, 0, 0, 1, 5)}, 20 * (k_), "no fault (baseline) (n = 3)"},           \
	{e_ "-clean-5", {NET(e_, 5, 0, 0, 1, 5)}, 5 * (k_), "no fault (baseline) (n = 5)"},           \
	{e_ "-lossy-2", {NET(e_, 2, 0.2, 0.1, 1, 40)}, 15 * (k_), "drops, duplicates, reordering (n = 2)"}, \
	{e_ "-lossy-3", {NET(e_, 3, 0.25, 0.1, 1, 60)}, 40 * (k_), "drops, duplicates, reordering (n = 3)"}, \
	{e_ "-lossy-5", {NET(e_, 5, 0.2, 0.1, 1, 60)}, 15 * (k_), "drops, duplicates, reordering (n = 5)"}, \
	{e_ "-slow-3", {NET(e_, 3, 0.05, 0.05, 20, 180)}, 15 * (k_), "slow network: 20-180 ms delays (n = 3)"}, \
	{e_ "-partition-3", {NET(e_, 3, 0.05, 0.05, 1, 30), .partitions = true}, 40 * (k_),            \
	 "partitions that heal, a leader cut off in a minority (n = 3)"},                              \
	{e_ "-partition-5", {NET(e_, 5, 0.05, 0.05, 1, 30), .partitions = true}, 30 * (k_),            \
	 "partitions that heal, a leader cut off in a minority (n = 5)"},                              \
	{e_ "-crash-3", {NET(e_, 3, 0.05, 0.05, 1, 30), .crashes = true}, 40 * (k_),                   \
	 "crash and restart of validators (n = 3)"},                                                   \
	{e_ "-torn-3", {NET(e_, 3, 0.05, 0.05, 1, 30), .crashes = true, .torn = true}, 40 * (k_),      \
	 "crash in the middle of a call's sends, vote-record and store writes (n = 3)"},               \
	{e_ "-torn-5", {NET(e_, 5, 0.05, 0.05, 1, 30), .crashes = true, .torn = true}, 30 * (k_),      \
	 "crash in the middle of a call's sends, vote-record and store writes (n = 5)"},               \
	{e_ "-all-3", {NET(e_, 3, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true,              \
		       .torn = true}, 40 * (k_), "loss, partitions, crashes and torn writes (n = 3)"},  \
	{e_ "-all-4", {NET(e_, 4, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true,              \
		       .torn = true}, 10 * (k_), "loss, partitions, crashes and torn writes (n = 4)"},  \
	{e_ "-all-5", {NET(e_, 5, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true,              \
		       .torn = true}, 40 * (k_), "loss, partitions, crashes and torn writes (n = 5)"},  \
	{e_ "-all-7", {NET(e_, 7, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true,              \
		       .torn = true}, 15 * (k_), "loss, partitions, crashes and torn writes (n = 7)"}

#endif
