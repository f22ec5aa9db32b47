/*
 * Real validator cores under validator-set changes (sim.h, sim_gov.c):
 * joiners added from genesis, members removed (the primary of view 0 and
 * the Byzantine validator among them), a key replaced, one change at a time
 * by a quorum's approvals, under loss, partitions, crashes, torn writes and
 * up to f Byzantine validators of the set in force. Every certificate is
 * checked against the set of its height.
 */
#include "sim.h"
#include "sim_scenarios.h"

static const struct sim_scenario scenarios[] = {
	{"set-clean-4", {NET(4, 0, 0, 1, 5), CHANGES(3)}, 200, "validator-set changes: joiners added from genesis, members removed, a key replaced (n = 4 at genesis)"},
	{"set-lossy-4", {NET(4, 0.2, 0.1, 1, 40), CHANGES(3)}, 300, "validator-set changes on a lossy network (n = 4 at genesis)"},
	{"set-partition-4", {NET(4, 0.05, 0.05, 1, 30), .partitions = true, CHANGES(3)}, 300, "validator-set changes with partitions that heal (n = 4 at genesis)"},
	{"set-crash-4", {NET(4, 0.05, 0.05, 1, 30), .crashes = true, .torn = true, CHANGES(3)}, 300, "validator-set changes with crashes and torn writes, joiners too (n = 4 at genesis)"},
	{"set-all-5", {NET(5, 0.15, 0.1, 1, 60), .partitions = true, .crashes = true, .torn = true, CHANGES(3)}, 300, "validator-set changes with loss, partitions, crashes and torn writes (n = 5 at genesis)"},
	{"set-byz-4", {BYZ(4, SIM_BYZ_SILENT), .crashes = true, CHANGES(3)}, 200, "validator-set changes with a silent Byzantine validator voted out; crashes (f of n = 4 Byzantine)"},
	{"set-byzmix-4", {BYZ(4, ALL_BYZ), .crashes = true, CHANGES(3)}, 200, "validator-set changes with a Byzantine validator of every kind above, voted out in time; crashes (f of n = 4 Byzantine)"},
	{"set-byzmix-7", {BYZ(7, ALL_BYZ), .partitions = true, .crashes = true, .torn = true, CHANGES(2)}, 100, "validator-set changes with Byzantine validators of every kind; partitions, crashes and torn writes (f of n = 7 Byzantine)"},
	{"set-byz-7", {BYZ(7, SIM_BYZ_SILENT), .partitions = true, CHANGES(2)}, 200, "validator-set changes with silent Byzantine validators voted out; partitions (f of n = 7 Byzantine)"},
};

int
main(void)
{
	return sim_main(scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
