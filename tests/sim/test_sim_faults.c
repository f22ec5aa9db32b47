/*
 * Crash faults and an unreliable network: loss, delay, duplication,
 * reordering, partitions, crash-restart (also in the middle of a batch of
 * actions), for n = 1 to 7. Every replica is honest.
 */
#include "sim.h"

#define NET(n_, drop_, dup_, dmin_, dmax_)                                             \
	.n = (n_), .drop = (drop_), .dup = (dup_), .delay_min = (dmin_), .delay_max = (dmax_), \
	.fault_ms = 1500, .live_ms = 60000

static const struct sim_scenario scenarios[] = {
	{"clean-1", {NET(1, 0, 0, 1, 5)}, 100, "no fault (baseline) (n = 1)"},
	{"clean-4", {NET(4, 0, 0, 1, 5)}, 150, "no fault (baseline) (n = 4)"},
	{"clean-7", {NET(7, 0, 0, 1, 5)}, 100, "no fault (baseline) (n = 7)"},
	{"lossy-2", {NET(2, 0.2, 0.1, 1, 40)}, 100, "lossy network: drops, duplicates, reordering (n = 2)"},
	{"lossy-3", {NET(3, 0.2, 0.1, 1, 40)}, 100, "lossy network: drops, duplicates, reordering (n = 3)"},
	{"lossy-4", {NET(4, 0.25, 0.1, 1, 60)}, 300, "lossy network: drops, duplicates, reordering (n = 4)"},
	{"lossy-7", {NET(7, 0.2, 0.1, 1, 60)}, 150, "lossy network: drops, duplicates, reordering (n = 7)"},
	{"slow-4", {NET(4, 0.05, 0.05, 20, 180)}, 150, "slow network: 20-180 ms delays (n = 4)"},
	{"partition-4", {NET(4, 0.05, 0.05, 1, 30), .partitions = true}, 250, "partitions that heal (n = 4)"},
	{"partition-7", {NET(7, 0.05, 0.05, 1, 30), .partitions = true}, 150, "partitions that heal (n = 7)"},
	{"crash-1", {NET(1, 0, 0, 1, 5), .crashes = true, .torn = true}, 150, "crash and restart of validators (n = 1)"},
	{"crash-4", {NET(4, 0.05, 0.05, 1, 30), .crashes = true}, 250, "crash and restart of validators (n = 4)"},
	{"torn-4", {NET(4, 0.05, 0.05, 1, 30), .crashes = true, .torn = true}, 300, "crash in the middle of persisting a batch (n = 4)"},
	{"torn-7", {NET(7, 0.05, 0.05, 1, 30), .crashes = true, .torn = true}, 150, "crash in the middle of persisting a batch (n = 7)"},
	{"all-5", {NET(5, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true, .torn = true}, 150, "loss, partitions, crashes and torn writes together (n = 5)"},
	{"all-4", {NET(4, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true, .torn = true}, 300, "loss, partitions, crashes and torn writes together (n = 4)"},
	{"all-7", {NET(7, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true, .torn = true}, 150, "loss, partitions, crashes and torn writes together (n = 7)"},
};

int
main(void)
{
	return sim_main(scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
