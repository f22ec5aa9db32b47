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
	{"byz-silent-4", {BYZ(4, SIM_BYZ_SILENT)}, 150, "silent validators (the primary too) (f of n = 4 Byzantine)"},
	{"byz-silent-7", {BYZ(7, SIM_BYZ_SILENT)}, 100, "silent validators (the primary too) (f of n = 7 Byzantine)"},
	{"byz-equivocate-4", {BYZ(4, SIM_BYZ_EQUIVOCATE)}, 200, "equivocating primary: different blocks to two halves (f of n = 4 Byzantine)"},
	{"byz-equivocate-7", {BYZ(7, SIM_BYZ_EQUIVOCATE | SIM_BYZ_VOTES)}, 200, "equivocating primary: different blocks to two halves (f of n = 7 Byzantine)"},
	{"byz-invalid-4", {BYZ(4, SIM_BYZ_INVALID)}, 200, "primary proposing invalid blocks (f of n = 4 Byzantine)"},
	{"byz-invalid-7", {BYZ(7, SIM_BYZ_INVALID)}, 100, "primary proposing invalid blocks (f of n = 7 Byzantine)"},
	{"byz-votes-4", {BYZ(4, SIM_BYZ_VOTES)}, 200, "votes for conflicting and random digests (f of n = 4 Byzantine)"},
	{"byz-votes-7", {BYZ(7, SIM_BYZ_VOTES)}, 100, "votes for conflicting and random digests (f of n = 7 Byzantine)"},
	{"byz-newview-4", {BYZ(4, SIM_BYZ_NEWVIEW | SIM_BYZ_EQUIVOCATE), .partitions = true}, 200, "new primary sending different NEW-VIEWs; partitions (f of n = 4 Byzantine)"},
	{"byz-newview-7", {BYZ(7, SIM_BYZ_NEWVIEW | SIM_BYZ_VOTES | SIM_BYZ_EQUIVOCATE), .partitions = true}, 200, "new primary sending different NEW-VIEWs; partitions (f of n = 7 Byzantine)"},
	{"byz-fork-4", {BYZ(4, SIM_BYZ_FORK), .partitions = true, .fetch_ms = 800}, 200, "primary proposing on stale tips; partitions (f of n = 4 Byzantine)"},
	{"byz-fork-7", {BYZ(7, SIM_BYZ_FORK | SIM_BYZ_VOTES), .partitions = true, .fetch_ms = 800}, 200, "primary proposing on stale tips; partitions (f of n = 7 Byzantine)"},
	{"byz-replay-4", {BYZ(4, SIM_BYZ_REPLAY)}, 150, "replays of old messages of any validator (f of n = 4 Byzantine)"},
	{"byz-garbage-4", {BYZ(4, SIM_BYZ_GARBAGE | SIM_BYZ_REPLAY)}, 150, "random and mangled bytes on the wire; replays (f of n = 4 Byzantine)"},
	{"byz-mix-4", {BYZ(4, ALL_BYZ)}, 300, "all of the Byzantine behaviours above, mixed (f of n = 4 Byzantine)"},
	{"byz-mix-7", {BYZ(7, ALL_BYZ)}, 200, "all of the Byzantine behaviours above, mixed (f of n = 7 Byzantine)"},
	{"byz-chaos-4", {BYZ(4, ALL_BYZ), .partitions = true, .crashes = true, .torn = true}, 300, "all Byzantine behaviours, with partitions, crashes and torn writes of honest validators (f of n = 4 Byzantine)"},
	{"byz-chaos-7", {BYZ(7, ALL_BYZ), .partitions = true, .crashes = true, .torn = true}, 200, "all Byzantine behaviours, with partitions, crashes and torn writes of honest validators (f of n = 7 Byzantine)"},
};

int
main(void)
{
	return sim_main(scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
