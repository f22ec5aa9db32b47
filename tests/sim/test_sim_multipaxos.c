/* Real validator cores ordered by Multi-Paxos under simulated crash faults (sim_engines.h). */
#include "sim_engines.h"

static const struct sim_scenario scenarios[] = {
	ENGINE_SCENARIOS("multipaxos", SEEDS_PER_SCENARIO),
};

int
main(void)
{
	return sim_main(scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
