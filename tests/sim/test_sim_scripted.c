/*
 * Hand-scripted runs on the fixture's hooks (as raft_fixture tests do):
 * a minority cut off, the primary crashing at once, every replica crashing
 * together. Each script runs over 50 seeds (times SIM_SCALE; message timing
 * differs);
 * after the script the run goes on to its end, so the invariants and the
 * liveness bound are checked as in the random runs.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static int passed, failed;

static void
report(const char *name, uint64_t seed, struct sim *s, bool ok, const char *why)
{
	if (ok && sim_run(s) == 0) {
		passed++;
		return;
	}
	failed++;
	if (failed <= 10)
		printf("FAIL %s seed %" PRIu64 ": %s\n  replay: SIM_SCRIPT=%s SIM_SEED=%" PRIu64 "\n",
		       name, seed, ok ? sim_error(s) : why, name, seed);
}

static bool
at_least(struct sim *s, void *arg)
{
	const uint64_t *want = arg; /* want[0]: height, want[1..n]: which replicas */
	for (uint32_t i = 0; i < SIM_MAX_N; i++)
		if (want[1 + i] && sim_height(s, i) < want[0])
			return false;
	return true;
}

/* A replica cut off from the rest: the others go on, it catches up after healing. */
static void
minority(uint64_t seed, FILE *tr)
{
	struct sim_opts o = {.n = 4, .delay_min = 1, .delay_max = 20, .ntx = 30, .block_max = 2,
			     .fault_ms = 3000, .live_ms = 60000};
	struct sim *s = sim_new(&o, seed, tr);
	int group[4] = {0, 0, 0, 1};
	sim_partition(s, group);
	uint64_t want[1 + SIM_MAX_N] = {5, 1, 1, 1, 0};
	bool ok = sim_step_until(s, at_least, want, 2500) && sim_height(s, 3) == 0;
	sim_heal(s);
	report("minority", seed, s, ok, "the majority did not commit 5 blocks alone");
	sim_free(s);
}

/* The first primary crashes before anything happens: view change, then restart. */
static void
primary_down(uint64_t seed, FILE *tr)
{
	struct sim_opts o = {.n = 4, .delay_min = 1, .delay_max = 20, .ntx = 20, .fault_ms = 2500,
			     .live_ms = 60000};
	struct sim *s = sim_new(&o, seed, tr);
	sim_crash(s, 0);
	uint64_t want[1 + SIM_MAX_N] = {3, 0, 1, 1, 1};
	bool ok = sim_step_until(s, at_least, want, 2000);
	report("primary-down", seed, s, ok, "no progress without the first primary");
	sim_free(s);
}

/* Everyone crashes at once mid-run and restarts from disk. */
static void
all_crash(uint64_t seed, FILE *tr)
{
	struct sim_opts o = {.n = 7, .delay_min = 1, .delay_max = 20, .ntx = 30, .fault_ms = 2000,
			     .live_ms = 60000};
	struct sim *s = sim_new(&o, seed, tr);
	uint64_t want[1 + SIM_MAX_N] = {4, 1, 1, 1, 1, 1, 1, 1};
	bool ok = sim_step_until(s, at_least, want, 1500);
	for (uint32_t i = 0; i < 7; i++)
		sim_crash(s, i);
	uint64_t until = sim_now(s) + 100;
	while (ok && sim_now(s) < until && sim_step(s))
		;
	for (uint32_t i = 0; i < 7; i++)
		sim_restart(s, i);
	report("all-crash", seed, s, ok, "no progress before the crash");
	sim_free(s);
}

static const struct {
	const char *name;
	void (*fn)(uint64_t, FILE *);
} scripts[] = {
	{"minority", minority},
	{"primary-down", primary_down},
	{"all-crash", all_crash},
};

int
main(void)
{
	const char *only = getenv("SIM_SCRIPT"), *seed_env = getenv("SIM_SEED");
	const char *scale = getenv("SIM_SCALE");
	uint64_t seeds = (uint64_t)(50 * (scale != NULL ? strtod(scale, NULL) : 1.0));
	if (seeds == 0)
		seeds = 1;
	for (size_t k = 0; k < sizeof(scripts) / sizeof(scripts[0]); k++) {
		if (only != NULL && strcmp(only, scripts[k].name) != 0)
			continue;
		if (seed_env != NULL) {
			scripts[k].fn(strtoull(seed_env, NULL, 0), stdout);
			continue;
		}
		for (uint64_t seed = 1; seed <= seeds; seed++)
			scripts[k].fn(seed, NULL);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
