/*
 * bench.h - chain-bench: load a chaind network with pre-signed transfers
 * over JSON-RPC and measure committed throughput, submit-to-commit latency,
 * and each validator's CPU time and peak RSS.
 *
 * net.c     starts a network (chaind testnet + one chaind per validator) or
 *           attaches to a running one; reads /proc for CPU and RSS.
 * sign.c    pre-signs transactions on every core; measures the verify rate.
 * load.c    one run: client threads submit, a watcher reads committed blocks.
 * report.c  statistics and the JSON, Markdown and gnuplot outputs.
 * main.c    the command line and the modes (closed, rate, max, sweep).
 *
 * Times are CLOCK_MONOTONIC nanoseconds unless a name says otherwise.
 */
#ifndef CHAIN_BENCH_H
#define CHAIN_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "chain/tx.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "rpc/tls.h"

#define BENCH_MAX_VALIDATORS 64
#define BENCH_MAX_CLIENTS 256

uint64_t bench_now_ns(void);
void bench_sleep_ns(uint64_t ns);

/* ---- the network ---- */

struct bench_net {
	unsigned n;           /* validators */
	char dir[512];        /* the testnet folder */
	char chain_id[CHAIN_MAX_CHAIN_ID + 1];
	char urls[BENCH_MAX_VALIDATORS][96];
	char ca[600], client_cert[600], client_key[600]; /* DIR/tls/, for an https network */
	struct rpc_tls_files tls;                       /* points at them; every call takes it */
	pid_t pids[BENCH_MAX_VALIDATORS]; /* 0: unknown (attached, not found) */
	bool owned;           /* started here: stopped by bench_net_stop */
	unsigned naccounts;
	struct cr_key **keys; /* one per funded account */
	uint64_t *next_nonce; /* per account: the next nonce to sign with */
	uint8_t (*addrs)[CR_ADDR_LEN];
};

struct bench_net_opts {
	const char *chaind;     /* path of the chaind binary */
	const char *dir;        /* folder for the new network */
	unsigned validators;
	unsigned accounts;
	unsigned base_port;
	const char *testnet_args; /* extra arguments for chaind testnet, or NULL */
};

/* bench_net_start creates a fresh network in opts->dir and starts it. */
int bench_net_start(struct bench_net *net, const struct bench_net_opts *opts, struct ch_err *err);
/* bench_net_attach uses the running network made by chaind testnet in dir. */
int bench_net_attach(struct bench_net *net, const char *dir, struct ch_err *err);
/* bench_net_stop stops the validators started here (SIGTERM, then SIGKILL) and frees net. */
void bench_net_stop(struct bench_net *net);
/*
 * bench_net_sync_nonces asks the first validator for each account's next
 * nonce (pending_nonce), so transactions signed but never sent by an
 * earlier run leave no gap.
 */
int bench_net_sync_nonces(struct bench_net *net, struct ch_err *err);
/* bench_net_alive: every validator started here still runs. */
bool bench_net_alive(struct bench_net *net, struct ch_err *err);

/* Per-process figures from /proc: CPU seconds (user + system) and peak RSS. */
double bench_proc_cpu_s(pid_t pid);
double bench_proc_peak_rss_mb(pid_t pid);

/* ---- transactions ---- */

enum { TX_UNSENT, TX_SENT, TX_ACCEPTED, TX_REJECTED };

struct bench_tx {
	uint8_t hash[CR_HASH_LEN];
	char *hex;
	uint32_t hexlen;
	uint32_t client;
	uint64_t submit_ns; /* set before sending */
	uint64_t commit_ns; /* first seen committed (atomic) */
	int state;          /* TX_* (atomic) */
};

/* A set of transactions and an index by hash. */
struct bench_txset {
	struct bench_tx *txs;
	size_t count;
	uint32_t *index; /* open addressing: tx number + 1, 0 empty */
	size_t index_mask;
};

/*
 * bench_sign makes count transfers of 1 unit, spread round-robin over the
 * accounts (nonces from net->next_nonce, which advances), signed on
 * threads, and assigned to clients by account.
 */
int bench_sign(struct bench_net *net, size_t count, unsigned clients, unsigned threads,
	       struct bench_txset *set, struct ch_err *err);
void bench_txset_free(struct bench_txset *set);
struct bench_tx *bench_txset_find(const struct bench_txset *set, const uint8_t hash[CR_HASH_LEN]);

/* bench_verify_rate: P-256 verifications per second on threads threads, over seconds. */
double bench_verify_rate(unsigned threads, double seconds);

/* ---- one run ---- */

enum bench_mode { MODE_CLOSED, MODE_RATE, MODE_MAX };

struct bench_run_opts {
	enum bench_mode mode;
	double rate;       /* tx/s for MODE_RATE */
	unsigned clients;
	double duration_s;
	unsigned batch;    /* transactions per JSON-RPC batch */
	size_t window;     /* MODE_MAX: most accepted-but-uncommitted transactions */
	double drain_s;    /* how long to wait for stragglers after the window */
	unsigned scrape_ms; /* fetch every validator's /metrics this often (0: never) */
	bool quiet;
};

struct bench_result {
	enum bench_mode mode;
	double target_rate;
	unsigned clients;
	double duration_s;
	size_t signed_txs, submitted, accepted, rejected, committed, committed_in_window, lost;
	double committed_tps;
	double lat_p50, lat_p90, lat_p99, lat_max, lat_mean; /* ms */
	unsigned validators;
	double cpu_s[BENCH_MAX_VALIDATORS];
	double peak_rss_mb[BENCH_MAX_VALIDATORS];
	char first_error[256];
	bool ran_out; /* the clients used up the pre-signed transactions */
	size_t scrapes, scrape_failures; /* GET /metrics done, and failed */
	double scrape_ms_max;
};

int bench_run(struct bench_net *net, const struct bench_txset *set, const struct bench_run_opts *o,
	      struct bench_result *res, struct ch_err *err);

/* ---- reports ---- */

const char *bench_mode_name(enum bench_mode m);
/* Writes report.json and report.md in dir (sweep may be NULL/0). */
int bench_write_report(const char *dir, const struct bench_result *main_run,
		       const struct bench_result *sweep, size_t nsweep, double verify_rate,
		       unsigned verify_threads, const char *command, struct ch_err *err);
/* Writes sweep.dat and, if gnuplot is installed, latency.png; false if no plot. */
bool bench_write_plot(const char *dir, const struct bench_result *sweep, size_t nsweep);
void bench_print_result(const struct bench_result *r, double verify_limit);

#endif
