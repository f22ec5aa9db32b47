/* Reports: report.json, report.md, sweep.dat and the gnuplot plot. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/chain-bench/bench.h"

const char *
bench_mode_name(enum bench_mode m)
{
	switch (m) {
	case MODE_CLOSED:
		return "closed";
	case MODE_RATE:
		return "rate";
	case MODE_MAX:
		return "max";
	}
	return "?";
}

static cJSON *
result_json(const struct bench_result *r, double verify_limit)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", bench_mode_name(r->mode));
	if (r->mode == MODE_RATE)
		cJSON_AddNumberToObject(o, "target_rate_tps", r->target_rate);
	cJSON_AddNumberToObject(o, "clients", r->clients);
	cJSON_AddNumberToObject(o, "duration_s", r->duration_s);
	cJSON_AddNumberToObject(o, "committed_tps", r->committed_tps);
	if (verify_limit > 0)
		cJSON_AddNumberToObject(o, "fraction_of_verify_limit", r->committed_tps / verify_limit);
	cJSON_AddNumberToObject(o, "signed", (double)r->signed_txs);
	cJSON_AddNumberToObject(o, "submitted", (double)r->submitted);
	cJSON_AddNumberToObject(o, "accepted", (double)r->accepted);
	cJSON_AddNumberToObject(o, "rejected", (double)r->rejected);
	cJSON_AddNumberToObject(o, "committed", (double)r->committed);
	cJSON_AddNumberToObject(o, "committed_in_window", (double)r->committed_in_window);
	cJSON_AddNumberToObject(o, "lost", (double)r->lost);
	if (r->scrapes > 0) {
		cJSON *sc = cJSON_AddObjectToObject(o, "metrics_scrapes");
		cJSON_AddNumberToObject(sc, "done", (double)r->scrapes);
		cJSON_AddNumberToObject(sc, "failed", (double)r->scrape_failures);
		cJSON_AddNumberToObject(sc, "max_ms", r->scrape_ms_max);
	}
	cJSON *l = cJSON_AddObjectToObject(o, "latency_ms");
	cJSON_AddNumberToObject(l, "p50", r->lat_p50);
	cJSON_AddNumberToObject(l, "p90", r->lat_p90);
	cJSON_AddNumberToObject(l, "p99", r->lat_p99);
	cJSON_AddNumberToObject(l, "max", r->lat_max);
	cJSON_AddNumberToObject(l, "mean", r->lat_mean);
	cJSON *v = cJSON_AddArrayToObject(o, "validators");
	for (unsigned i = 0; i < r->validators; i++) {
		cJSON *x = cJSON_CreateObject();
		cJSON_AddNumberToObject(x, "index", i);
		if (r->cpu_s[i] >= 0)
			cJSON_AddNumberToObject(x, "cpu_s", r->cpu_s[i]);
		else
			cJSON_AddNullToObject(x, "cpu_s");
		if (r->peak_rss_mb[i] >= 0)
			cJSON_AddNumberToObject(x, "peak_rss_mb", r->peak_rss_mb[i]);
		else
			cJSON_AddNullToObject(x, "peak_rss_mb");
		cJSON_AddItemToArray(v, x);
	}
	if (r->first_error[0])
		cJSON_AddStringToObject(o, "first_error", r->first_error);
	cJSON_AddBoolToObject(o, "ran_out_of_signed_txs", r->ran_out);
	return o;
}

static int
write_file(const char *dir, const char *name, const char *text, struct ch_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return ch_errf(err, CH_E_IO, "cannot write %s: %s", path, strerror(errno));
	bool ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	return ok ? 0 : ch_errf(err, CH_E_IO, "cannot write %s", path);
}

static void
md_row(FILE *f, const struct bench_result *r)
{
	char target[32] = "-";
	if (r->mode == MODE_RATE)
		snprintf(target, sizeof(target), "%.0f", r->target_rate);
	fprintf(f, "| %s | %s | %u | %.0f | %.1f | %.1f | %.1f | %zu | %zu | %zu |\n",
		bench_mode_name(r->mode), target, r->clients, r->committed_tps, r->lat_p50,
		r->lat_p90, r->lat_p99, r->accepted, r->committed, r->lost);
}

int
bench_write_report(const char *dir, const struct bench_result *m, const struct bench_result *sweep,
		   size_t nsweep, double verify_rate, unsigned verify_threads, const char *command,
		   struct ch_err *err)
{
	double limit = m->validators ? verify_rate / m->validators : 0;
	cJSON *o = result_json(m, limit);
	cJSON_AddStringToObject(o, "command", command);
	cJSON_AddNumberToObject(o, "verify_rate_per_s", verify_rate);
	cJSON_AddNumberToObject(o, "verify_threads", verify_threads);
	cJSON_AddNumberToObject(o, "verify_limit_tps", limit);
	cJSON_AddNumberToObject(o, "validators_count", m->validators);
	if (nsweep > 0) {
		cJSON *a = cJSON_AddArrayToObject(o, "sweep");
		for (size_t i = 0; i < nsweep; i++)
			cJSON_AddItemToArray(a, result_json(&sweep[i], limit));
	}
	char *text = cJSON_Print(o);
	cJSON_Delete(o);
	if (text == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	int rc = write_file(dir, "report.json", text, err);
	free(text);
	if (rc != 0)
		return rc;

	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/report.md", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return ch_errf(err, CH_E_IO, "cannot write %s: %s", path, strerror(errno));
	fprintf(f, "# chain-bench\n\n`%s`\n\n", command);
	fprintf(f, "P-256 verify rate: %.0f/s on %u threads; limit with %u validators "
		   "(each verifies every transaction once): %.0f tx/s\n\n",
		verify_rate, verify_threads, m->validators, limit);
	fprintf(f, "| mode | target tx/s | clients | committed tx/s | p50 ms | p90 ms | p99 ms "
		   "| accepted | committed | lost |\n|---|---|---|---|---|---|---|---|---|---|\n");
	if (nsweep == 0)
		md_row(f, m);
	for (size_t i = 0; i < nsweep; i++)
		md_row(f, &sweep[i]);
	fprintf(f, "\n| validator | cpu s | peak RSS MB |\n|---|---|---|\n");
	for (unsigned i = 0; i < m->validators; i++)
		fprintf(f, "| %u | %.1f | %.1f |\n", i, m->cpu_s[i], m->peak_rss_mb[i]);
	if (nsweep > 0)
		fprintf(f, "\n![latency versus throughput](latency.png)\n");
	return fclose(f) == 0 ? 0 : ch_errf(err, CH_E_IO, "cannot write %s", path);
}

static bool
have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char *copy = strdup(path ? path : "/usr/bin:/bin");
	bool found = false;
	for (char *save = NULL, *d = strtok_r(copy, ":", &save); d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/gnuplot", d);
		found = access(p, X_OK) == 0;
	}
	free(copy);
	return found;
}

bool
bench_write_plot(const char *dir, const struct bench_result *sweep, size_t nsweep)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/sweep.dat", dir);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return false;
	fprintf(f, "# committed_tps p50_ms p90_ms p99_ms mode\n");
	for (size_t i = 0; i < nsweep; i++)
		fprintf(f, "%.1f %.3f %.3f %.3f %s\n", sweep[i].committed_tps, sweep[i].lat_p50,
			sweep[i].lat_p90, sweep[i].lat_p99, bench_mode_name(sweep[i].mode));
	fclose(f);
	if (!have_gnuplot())
		return false;
	snprintf(path, sizeof(path), "%s/plot.gp", dir);
	if ((f = fopen(path, "w")) == NULL)
		return false;
	fprintf(f, "set terminal png size 900,560\n"
		   "set output '%s/latency.png'\n"
		   "set title 'chain-bench: submit-to-commit latency versus committed throughput'\n"
		   "set xlabel 'committed tx/s'\nset ylabel 'latency (ms)'\n"
		   "set logscale y\nset grid\nset key top left\n"
		   "plot '%s/sweep.dat' using 1:2 with linespoints title 'p50', "
		   "'' using 1:3 with linespoints title 'p90', "
		   "'' using 1:4 with linespoints title 'p99'\n",
		dir, dir);
	fclose(f);
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "gnuplot '%s' 2>/dev/null", path);
	return system(cmd) == 0;
}

void
bench_print_result(const struct bench_result *r, double verify_limit)
{
	char target[48] = "";
	if (r->mode == MODE_RATE)
		snprintf(target, sizeof(target), " at %.0f tx/s", r->target_rate);
	printf("%s%s, %u clients, %.0f s: committed %.0f tx/s", bench_mode_name(r->mode), target,
	       r->clients, r->duration_s, r->committed_tps);
	if (verify_limit > 0)
		printf(" (%.2f of the verify limit %.0f)", r->committed_tps / verify_limit, verify_limit);
	printf("\n  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.1f\n", r->lat_p50, r->lat_p90,
	       r->lat_p99, r->lat_max);
	printf("  accepted %zu  rejected %zu  committed %zu  lost %zu%s\n", r->accepted, r->rejected,
	       r->committed, r->lost, r->ran_out ? "  (ran out of pre-signed transactions)" : "");
	if (r->first_error[0])
		printf("  first error: %s\n", r->first_error);
	for (unsigned i = 0; i < r->validators; i++)
		printf("  validator %u: cpu %.1f s, peak RSS %.1f MB\n", i, r->cpu_s[i],
		       r->peak_rss_mb[i]);
}
