/*
 * Up to f Byzantine replicas (equivocating or invalid proposals, silence,
 * conflicting and bogus votes, replays, garbage) over a lossy network,
 * with and without crashes and partitions of the honest ones.
 */
#include "sim.h"

#define BYZ(n_, kinds_)                                                                      \
	.n = (n_), .nbyz = 16, .byz = (kinds_), .drop = 0.05, .dup = 0.05, .delay_min = 1,    \
	.delay_max = 30, .fault_ms = 1500, .live_ms = 60000

#define ALL_BYZ                                                                              \
	(SIM_BYZ_SILENT | SIM_BYZ_EQUIVOCATE | SIM_BYZ_INVALID | SIM_BYZ_VOTES | SIM_BYZ_REPLAY | \
	 SIM_BYZ_GARBAGE | SIM_BYZ_NEWVIEW | SIM_BYZ_FORK)

static const struct sim_scenario scenarios[] = {
	{"byz-silent-4", {BYZ(4, SIM_BYZ_SILENT)}, 150},
	{"byz-silent-7", {BYZ(7, SIM_BYZ_SILENT)}, 100},
	{"byz-equivocate-4", {BYZ(4, SIM_BYZ_EQUIVOCATE)}, 200},
	{"byz-equivocate-7", {BYZ(7, SIM_BYZ_EQUIVOCATE | SIM_BYZ_VOTES)}, 200},
	{"byz-invalid-4", {BYZ(4, SIM_BYZ_INVALID)}, 200},
	{"byz-invalid-7", {BYZ(7, SIM_BYZ_INVALID)}, 100},
	{"byz-votes-4", {BYZ(4, SIM_BYZ_VOTES)}, 200},
	{"byz-votes-7", {BYZ(7, SIM_BYZ_VOTES)}, 100},
	{"byz-newview-4", {BYZ(4, SIM_BYZ_NEWVIEW | SIM_BYZ_EQUIVOCATE), .partitions = true}, 200},
	{"byz-newview-7", {BYZ(7, SIM_BYZ_NEWVIEW | SIM_BYZ_VOTES | SIM_BYZ_EQUIVOCATE), .partitions = true}, 200},
	{"byz-fork-4", {BYZ(4, SIM_BYZ_FORK), .partitions = true, .fetch_ms = 800}, 200},
	{"byz-fork-7", {BYZ(7, SIM_BYZ_FORK | SIM_BYZ_VOTES), .partitions = true, .fetch_ms = 800}, 200},
	{"byz-replay-4", {BYZ(4, SIM_BYZ_REPLAY)}, 150},
	{"byz-garbage-4", {BYZ(4, SIM_BYZ_GARBAGE | SIM_BYZ_REPLAY)}, 150},
	{"byz-mix-4", {BYZ(4, ALL_BYZ)}, 300},
	{"byz-mix-7", {BYZ(7, ALL_BYZ)}, 200},
	{"byz-chaos-4", {BYZ(4, ALL_BYZ), .partitions = true, .crashes = true, .torn = true}, 300},
	{"byz-chaos-7", {BYZ(7, ALL_BYZ), .partitions = true, .crashes = true, .torn = true}, 200},
};

int
main(void)
{
	return sim_main(scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
