/*
 * chain-bench: throughput and latency of a chaind network.
 * See usage() and docs/PERFORMANCE.md.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/chain-bench/bench.h"
#include "common/num.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: chain-bench [--validators N] [--duration S] [--rate R|max|closed|sweep]\n"
		"                   [--clients C] [--out DIR] [options]\n"
		"Starts an N-validator network (chaind testnet --accounts M) in DIR/net, pre-signs\n"
		"transfers, submits them over JSON-RPC and measures committed tx/s, submit-to-commit\n"
		"latency (from the blocks the first validator commits) and each validator's CPU\n"
		"seconds and peak RSS. Writes DIR/report.json and DIR/report.md; a sweep also\n"
		"writes DIR/sweep.dat and DIR/latency.png (with gnuplot).\n"
		"\n"
		"  --validators N     validators of the new network (default 4)\n"
		"  --duration S       seconds of load per run (default 30)\n"
		"  --rate R           open loop at R tx/s\n"
		"  --rate max         as fast as the network takes them, at most --window uncommitted\n"
		"  --rate closed      closed loop: each client sends one transaction and waits for\n"
		"                     its commit (broadcast_tx_commit); --clients defaults to 1\n"
		"  --rate sweep       closed loop (1 client), max, then 10..90%% of max: a\n"
		"                     latency-versus-throughput table and plot\n"
		"  --clients C        client threads; client c sends to validator c mod N (default 4)\n"
		"  --out DIR          output folder (default bench-out); DIR/net is made afresh\n"
		"  --accounts M       funded accounts sending transfers (default 1000)\n"
		"  --batch B          transactions per JSON-RPC batch (default 200, at most 1000)\n"
		"  --window W         --rate max: most accepted but uncommitted (default 20000)\n"
		"  --attach NETDIR    use the running network made by chaind testnet in NETDIR\n"
		"  --chaind PATH      the chaind binary (default: next to chain-bench)\n"
		"  --base-port P      first port of the new network (default 28600)\n"
		"  --testnet-args A   extra arguments for chaind testnet, e.g. \"--block-interval-ms 5\"\n"
		"  --scrape-ms MS     also GET every validator's /metrics every MS ms, as Prometheus\n"
		"                     would (the cost of being watched; default 0: never)\n"
		"  --help             this text\n"
		"Exit status: 0 done and nothing lost, 1 failed or an accepted transaction did not\n"
		"commit, 2 bad usage.\n");
}

struct opts {
	unsigned validators, clients, accounts, batch, base_port, scrape_ms;
	double duration;
	const char *rate, *out, *attach, *chaind, *testnet_args;
	size_t window;
	bool clients_set;
};

static int
parse_uint(const char *name, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!ch_parse_u64(v, out) || *out < min || *out > max) {
		fprintf(stderr, "chain-bench: %s must be a whole number %llu..%llu, got \"%s\"\n", name,
			(unsigned long long)min, (unsigned long long)max, v);
		return 2;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.validators = 4, .clients = 4, .accounts = 1000, .batch = 200,
			   .base_port = 28600, .duration = 30, .rate = "max", .out = "bench-out",
			   .window = 20000};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		uint64_t x = 0;
		int rc = 0;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "chain-bench: unknown option or missing value: %s (see --help)\n",
				a);
			return 2;
		}
		const char *v = argv[++i];
		if (strcmp(a, "--validators") == 0) {
			rc = parse_uint(a, v, 1, BENCH_MAX_VALIDATORS, &x);
			o->validators = (unsigned)x;
		} else if (strcmp(a, "--duration") == 0) {
			rc = parse_uint(a, v, 1, 86400, &x);
			o->duration = (double)x;
		} else if (strcmp(a, "--rate") == 0) {
			o->rate = v;
		} else if (strcmp(a, "--clients") == 0) {
			rc = parse_uint(a, v, 1, BENCH_MAX_CLIENTS, &x);
			o->clients = (unsigned)x;
			o->clients_set = true;
		} else if (strcmp(a, "--out") == 0) {
			o->out = v;
		} else if (strcmp(a, "--accounts") == 0) {
			rc = parse_uint(a, v, 1, 1000000, &x);
			o->accounts = (unsigned)x;
		} else if (strcmp(a, "--batch") == 0) {
			rc = parse_uint(a, v, 1, 1000, &x);
			o->batch = (unsigned)x;
		} else if (strcmp(a, "--window") == 0) {
			rc = parse_uint(a, v, 1, 10000000, &x);
			o->window = (size_t)x;
		} else if (strcmp(a, "--attach") == 0) {
			o->attach = v;
		} else if (strcmp(a, "--chaind") == 0) {
			o->chaind = v;
		} else if (strcmp(a, "--base-port") == 0) {
			rc = parse_uint(a, v, 1024, 65000, &x);
			o->base_port = (unsigned)x;
		} else if (strcmp(a, "--testnet-args") == 0) {
			o->testnet_args = v;
		} else if (strcmp(a, "--scrape-ms") == 0) {
			rc = parse_uint(a, v, 0, 3600000, &x);
			o->scrape_ms = (unsigned)x;
		} else {
			fprintf(stderr, "chain-bench: unknown option %s (see --help)\n", a);
			return 2;
		}
		if (rc != 0)
			return rc;
	}
	const char *r = o->rate;
	uint64_t x;
	if (strcmp(r, "max") != 0 && strcmp(r, "closed") != 0 && strcmp(r, "sweep") != 0 &&
	    (!ch_parse_u64(r, &x) || x < 1 || x > 10000000)) {
		fprintf(stderr, "chain-bench: --rate must be a rate in tx/s (1..10000000), max, "
				"closed or sweep; got \"%s\"\n", r);
		return 2;
	}
	if (strcmp(r, "closed") == 0 && !o->clients_set)
		o->clients = 1;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* one_run signs what the run can use and runs it. */
static int
one_run(struct bench_net *net, const struct opts *o, enum bench_mode mode, double rate,
	unsigned clients, double verify_limit, struct bench_result *res, struct ch_err *err)
{
	unsigned threads = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (mode == MODE_RATE && rate < 1)
		rate = 1; /* a sweep after a max run that committed (almost) nothing */
	double per_s = mode == MODE_RATE ? rate * 1.05
		       : mode == MODE_MAX ? (verify_limit > 0 ? verify_limit * 1.3 : 10000)
					  : 1500.0 * clients;
	size_t count = (size_t)(per_s * o->duration) + 4 * (size_t)clients + 100;
	struct bench_txset set;
	struct bench_run_opts ro = {.mode = mode, .rate = rate, .clients = clients,
				    .duration_s = o->duration, .batch = o->batch,
				    .window = o->window, .drain_s = 60, .scrape_ms = o->scrape_ms};
	if (mode == MODE_RATE)
		fprintf(stderr, "chain-bench: open loop at %.0f tx/s, %u clients, %.0f s\n", rate,
			clients, o->duration);
	else
		fprintf(stderr, "chain-bench: %s, %u clients, %.0f s\n",
			mode == MODE_MAX ? "as fast as accepted" : "closed loop", clients, o->duration);
	fprintf(stderr, "chain-bench: signing %zu transfers on %u threads...\n", count, threads);
	uint64_t t0 = bench_now_ns();
	int rc = bench_net_sync_nonces(net, err);
	if (rc == 0)
		rc = bench_sign(net, count, clients, threads, &set, err);
	if (rc != 0)
		return rc;
	fprintf(stderr, "chain-bench: signed in %.1f s\n", (double)(bench_now_ns() - t0) / 1e9);
	rc = bench_run(net, &set, &ro, res, err);
	bench_txset_free(&set);
	if (rc == 0)
		bench_print_result(res, verify_limit);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc;
	char chaind[PATH_MAX], netdir[PATH_MAX], command[2048] = "chain-bench";
	for (int i = 1; i < argc; i++) {
		size_t l = strlen(command);
		snprintf(command + l, sizeof(command) - l, " %s", argv[i]);
	}
	if (o.chaind != NULL) {
		snprintf(chaind, sizeof(chaind), "%s", o.chaind);
	} else {
		char self[PATH_MAX - 16];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		self[n > 0 ? n : 0] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL)
			*slash = '\0';
		snprintf(chaind, sizeof(chaind), "%s/chaind", n > 0 ? self : ".");
	}
	if (mkdir_p(o.out) != 0) {
		fprintf(stderr, "chain-bench: cannot create %s: %s\n", o.out, strerror(errno));
		return 1;
	}
	unsigned threads = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	fprintf(stderr, "chain-bench: measuring the P-256 verify rate on %u threads...\n", threads);
	double vrate = bench_verify_rate(threads, 2.0);

	struct bench_net net;
	struct ch_err err;
	ch_err_clear(&err);
	if (o.attach != NULL) {
		rc = bench_net_attach(&net, o.attach, &err);
	} else {
		snprintf(netdir, sizeof(netdir), "%s/net", o.out);
		nftw(netdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		struct bench_net_opts no = {.chaind = chaind, .dir = netdir,
					    .validators = o.validators, .accounts = o.accounts,
					    .base_port = o.base_port, .testnet_args = o.testnet_args};
		fprintf(stderr, "chain-bench: starting %u validators in %s\n", o.validators, netdir);
		rc = bench_net_start(&net, &no, &err);
	}
	double limit = net.n ? vrate / net.n : 0;
	if (rc == 0)
		fprintf(stderr, "chain-bench: %u validators, %u accounts; verify rate %.0f/s -> "
				"limit %.0f tx/s\n", net.n, net.naccounts, vrate, limit);

	struct bench_result main_run, sweep[8];
	size_t nsweep = 0;
	memset(&main_run, 0, sizeof(main_run));
	if (rc == 0 && strcmp(o.rate, "sweep") == 0) {
		static const double fractions[] = {0.1, 0.25, 0.5, 0.75, 0.9};
		rc = one_run(&net, &o, MODE_CLOSED, 0, 1, limit, &sweep[nsweep++], &err);
		if (rc == 0)
			rc = one_run(&net, &o, MODE_MAX, 0, o.clients, limit, &main_run, &err);
		for (size_t i = 0; rc == 0 && i < sizeof(fractions) / sizeof(fractions[0]); i++)
			rc = one_run(&net, &o, MODE_RATE, fractions[i] * main_run.committed_tps,
				     o.clients, limit, &sweep[nsweep++], &err);
		if (rc == 0)
			sweep[nsweep++] = main_run;
	} else if (rc == 0) {
		enum bench_mode m = strcmp(o.rate, "max") == 0      ? MODE_MAX
				    : strcmp(o.rate, "closed") == 0 ? MODE_CLOSED
								    : MODE_RATE;
		rc = one_run(&net, &o, m, m == MODE_RATE ? strtod(o.rate, NULL) : 0, o.clients, limit,
			     &main_run, &err);
	}
	if (rc == 0)
		rc = bench_write_report(o.out, &main_run, sweep, nsweep, vrate, threads, command, &err);
	if (rc == 0 && nsweep > 0 && !bench_write_plot(o.out, sweep, nsweep))
		fprintf(stderr, "chain-bench: no plot: gnuplot is not installed "
				"(apt-get install gnuplot-nox); the data is in %s/sweep.dat\n", o.out);
	bench_net_stop(&net);
	if (rc != 0) {
		fprintf(stderr, "chain-bench: %s\n", ch_err_msg(&err));
		return 1;
	}
	size_t lost = main_run.lost;
	for (size_t i = 0; i < nsweep; i++)
		lost += sweep[i].lost;
	printf("report: %s/report.json\n", o.out);
	if (lost > 0) {
		fprintf(stderr, "chain-bench: %zu accepted transactions did not commit\n", lost);
		return 1;
	}
	return 0;
}
