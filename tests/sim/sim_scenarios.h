/*
 * sim_scenarios.h - shorthands for the fault mixes of the simulation runs
 * (struct sim_opts fields), shared by the test programs that list them.
 */
#ifndef SIM_SCENARIOS_H
#define SIM_SCENARIOS_H

#define NET(n_, drop_, dup_, dmin_, dmax_)                                             \
	.n = (n_), .drop = (drop_), .dup = (dup_), .delay_min = (dmin_), .delay_max = (dmax_), \
	.fault_ms = 1500, .live_ms = 60000

#define BYZ(n_, kinds_)                                                                      \
	.n = (n_), .nbyz = 16, .byz = (kinds_), .drop = 0.05, .dup = 0.05, .delay_min = 1,    \
	.delay_max = 30, .fault_ms = 1500, .live_ms = 60000

/* validator-set changes with j joiners (sim.h) */
#define CHANGES(j_) .changes = true, .joiners = (j_)

#define ALL_BYZ                                                                              \
	(SIM_BYZ_SILENT | SIM_BYZ_EQUIVOCATE | SIM_BYZ_INVALID | SIM_BYZ_VOTES | SIM_BYZ_REPLAY | \
	 SIM_BYZ_GARBAGE | SIM_BYZ_NEWVIEW | SIM_BYZ_FORK | SIM_BYZ_SYNC)

#endif
