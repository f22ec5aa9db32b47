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
	{"clean-1", {NET(1, 0, 0, 1, 5)}, 100},
	{"clean-4", {NET(4, 0, 0, 1, 5)}, 150},
	{"clean-7", {NET(7, 0, 0, 1, 5)}, 100},
	{"lossy-2", {NET(2, 0.2, 0.1, 1, 40)}, 100},
	{"lossy-3", {NET(3, 0.2, 0.1, 1, 40)}, 100},
	{"lossy-4", {NET(4, 0.25, 0.1, 1, 60)}, 300},
	{"lossy-7", {NET(7, 0.2, 0.1, 1, 60)}, 150},
	{"slow-4", {NET(4, 0.05, 0.05, 20, 180)}, 150},
	{"partition-4", {NET(4, 0.05, 0.05, 1, 30), .partitions = true}, 250},
	{"partition-7", {NET(7, 0.05, 0.05, 1, 30), .partitions = true}, 150},
	{"crash-1", {NET(1, 0, 0, 1, 5), .crashes = true, .torn = true}, 150},
	{"crash-4", {NET(4, 0.05, 0.05, 1, 30), .crashes = true}, 250},
	{"torn-4", {NET(4, 0.05, 0.05, 1, 30), .crashes = true, .torn = true}, 300},
	{"torn-7", {NET(7, 0.05, 0.05, 1, 30), .crashes = true, .torn = true}, 150},
	{"all-5", {NET(5, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true, .torn = true}, 150},
	{"all-4", {NET(4, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true, .torn = true}, 300},
	{"all-7", {NET(7, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true, .torn = true}, 150},
};

int
main(void)
{
	return sim_main(scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
