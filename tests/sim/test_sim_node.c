/*
 * Real validator cores under simulated faults (sim.h): an unreliable
 * network (loss, delay, duplication, reordering, partitions), crashes and
 * restarts (also in the middle of a call's actions), and up to f Byzantine
 * validators, for n = 1 to 7.
 */
#include "sim.h"
#include "sim_scenarios.h"

static const struct sim_scenario scenarios[] = {
	{"clean-1", {NET(1, 0, 0, 1, 5)}, 40, "no fault (baseline) (n = 1)"},
	{"clean-4", {NET(4, 0, 0, 1, 5)}, 60, "no fault (baseline) (n = 4)"},
	{"clean-7", {NET(7, 0, 0, 1, 5)}, 30, "no fault (baseline) (n = 7)"},
	{"lossy-2", {NET(2, 0.2, 0.1, 1, 40)}, 40, "lossy network: drops, duplicates, reordering (n = 2)"},
	{"lossy-3", {NET(3, 0.2, 0.1, 1, 40)}, 40, "lossy network: drops, duplicates, reordering (n = 3)"},
	{"lossy-4", {NET(4, 0.25, 0.1, 1, 60)}, 100, "lossy network: drops, duplicates, reordering (n = 4)"},
	{"lossy-7", {NET(7, 0.2, 0.1, 1, 60)}, 40, "lossy network: drops, duplicates, reordering (n = 7)"},
	{"slow-4", {NET(4, 0.05, 0.05, 20, 180)}, 50, "slow network: 20-180 ms delays (n = 4)"},
	{"partition-4", {NET(4, 0.05, 0.05, 1, 30), .partitions = true}, 100, "partitions that heal (n = 4)"},
	{"partition-7", {NET(7, 0.05, 0.05, 1, 30), .partitions = true}, 40, "partitions that heal (n = 7)"},
	{"crash-1", {NET(1, 0, 0, 1, 5), .crashes = true, .torn = true}, 50, "crash and restart of validators (n = 1)"},
	{"crash-4", {NET(4, 0.05, 0.05, 1, 30), .crashes = true}, 100, "crash and restart of validators (n = 4)"},
	{"torn-4", {NET(4, 0.05, 0.05, 1, 30), .crashes = true, .torn = true}, 120, "crash in the middle of a call's sends, vote-record and store writes (n = 4)"},
	{"torn-7", {NET(7, 0.05, 0.05, 1, 30), .crashes = true, .torn = true}, 40, "crash in the middle of a call's sends, vote-record and store writes (n = 7)"},
	{"all-4", {NET(4, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true, .torn = true}, 120, "loss, partitions, crashes and torn writes together (n = 4)"},
	{"all-5", {NET(5, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true, .torn = true}, 50, "loss, partitions, crashes and torn writes together (n = 5)"},
	{"all-7", {NET(7, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true, .torn = true}, 40, "loss, partitions, crashes and torn writes together (n = 7)"},
	{"byz-silent-4", {BYZ(4, SIM_BYZ_SILENT)}, 60, "silent validators (the primary too) (f of n = 4 Byzantine)"},
	{"byz-silent-7", {BYZ(7, SIM_BYZ_SILENT)}, 30, "silent validators (the primary too) (f of n = 7 Byzantine)"},
	{"byz-equivocate-4", {BYZ(4, SIM_BYZ_EQUIVOCATE)}, 80, "equivocating primary: different blocks to two halves (f of n = 4 Byzantine)"},
	{"byz-equivocate-7", {BYZ(7, SIM_BYZ_EQUIVOCATE | SIM_BYZ_VOTES)}, 40, "equivocating primary: different blocks to two halves (f of n = 7 Byzantine)"},
	{"byz-invalid-4", {BYZ(4, SIM_BYZ_INVALID)}, 80, "primary proposing blocks that break the chain's rules (f of n = 4 Byzantine)"},
	{"byz-invalid-7", {BYZ(7, SIM_BYZ_INVALID)}, 30, "primary proposing blocks that break the chain's rules (f of n = 7 Byzantine)"},
	{"byz-votes-4", {BYZ(4, SIM_BYZ_VOTES)}, 80, "votes for conflicting and random digests (f of n = 4 Byzantine)"},
	{"byz-votes-7", {BYZ(7, SIM_BYZ_VOTES)}, 30, "votes for conflicting and random digests (f of n = 7 Byzantine)"},
	{"byz-newview-4", {BYZ(4, SIM_BYZ_NEWVIEW | SIM_BYZ_EQUIVOCATE), .partitions = true}, 80, "new primary sending different NEW-VIEWs; partitions (f of n = 4 Byzantine)"},
	{"byz-newview-7", {BYZ(7, SIM_BYZ_NEWVIEW | SIM_BYZ_VOTES | SIM_BYZ_EQUIVOCATE), .partitions = true}, 40, "new primary sending different NEW-VIEWs; partitions (f of n = 7 Byzantine)"},
	{"byz-fork-4", {BYZ(4, SIM_BYZ_FORK), .partitions = true, .fetch_ms = 800}, 120, "primary proposing valid blocks on stale tips; partitions (f of n = 4 Byzantine)"},
	{"byz-fork-7", {BYZ(7, SIM_BYZ_FORK | SIM_BYZ_VOTES), .partitions = true, .fetch_ms = 800}, 40, "primary proposing valid blocks on stale tips; partitions (f of n = 7 Byzantine)"},
	{"byz-sync-4", {BYZ(4, SIM_BYZ_SYNC), .partitions = true}, 60, "state transfer answered with forged blocks, a height far ahead claimed; partitions (f of n = 4 Byzantine)"},
	{"byz-replay-4", {BYZ(4, SIM_BYZ_REPLAY)}, 60, "replays of old messages of any validator (f of n = 4 Byzantine)"},
	{"byz-garbage-4", {BYZ(4, SIM_BYZ_GARBAGE | SIM_BYZ_REPLAY)}, 60, "random and mangled bytes on the wire; replays (f of n = 4 Byzantine)"},
	{"byz-mix-4", {BYZ(4, ALL_BYZ)}, 100, "all of the Byzantine behaviours above, mixed (f of n = 4 Byzantine)"},
	{"byz-mix-7", {BYZ(7, ALL_BYZ)}, 40, "all of the Byzantine behaviours above, mixed (f of n = 7 Byzantine)"},
	{"byz-chaos-4", {BYZ(4, ALL_BYZ), .partitions = true, .crashes = true, .torn = true}, 120, "all Byzantine behaviours, with partitions, crashes and torn writes of honest validators (f of n = 4 Byzantine)"},
	{"byz-chaos-7", {BYZ(7, ALL_BYZ), .partitions = true, .crashes = true, .torn = true}, 40, "all Byzantine behaviours, with partitions, crashes and torn writes of honest validators (f of n = 7 Byzantine)"},
};

int
main(void)
{
	return sim_main(scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
