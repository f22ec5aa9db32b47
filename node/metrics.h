/*
 * metrics.h - what a validator counts about itself, and its rendering in
 * the Prometheus text exposition format (GET /metrics, docs/OPERATING.md).
 *
 * A struct node_metrics belongs to the node's loop thread: counting is a
 * plain increment there, and nothing is shared. Values other threads keep
 * (peer traffic, signature checks) and values read when scraped (height,
 * mempool, disk) are passed to node_metrics_render in a struct
 * node_metrics_now.
 */
#ifndef NODE_METRICS_H
#define NODE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define NODE_HIST_BUCKETS 16
#define NODE_METRICS_RPC_SERIES 256 /* distinct (method, code) pairs counted */

/* A histogram with fixed upper bounds (ascending, +Inf implied). */
struct node_hist {
	const double *bounds;
	size_t nbounds; /* at most NODE_HIST_BUCKETS */
	uint64_t counts[NODE_HIST_BUCKETS + 1];
	uint64_t count;
	double sum;
};

void node_hist_observe(struct node_hist *h, double v);

struct node_metrics {
	uint64_t view_changes; /* views entered after the first */
	uint64_t last_view;
	uint64_t last_block_ms; /* header time of the last block seen (0: none yet) */
	struct node_hist block_interval; /* seconds */
	struct node_hist block_txs;
	struct node_hist commit_latency; /* seconds, header time to commit here */
	struct node_hist synced_write;   /* seconds per synced write */
	struct node_hist rpc_seconds;    /* HTTP request to answer */
	size_t nrpc;
	struct node_rpc_series {
		char method[32]; /* "other" for names not in the method table */
		int code;        /* JSON-RPC error code, 0 for a result */
		uint64_t count;
	} rpc[NODE_METRICS_RPC_SERIES];
	uint64_t rpc_dropped; /* calls not counted: the table was full */
};

/* node_metrics_init zeroes m and sets the histograms' buckets. */
void node_metrics_init(struct node_metrics *m);

/* node_metrics_block counts a committed block: its header time, tx count and now (wall ms). */
void node_metrics_block(struct node_metrics *m, uint64_t time_ms, uint32_t ntxs, uint64_t now_ms);

/* node_metrics_view notes the engine's view; a higher one than before counts a view change. */
void node_metrics_view(struct node_metrics *m, uint64_t view);

/* node_metrics_rpc counts one JSON-RPC call by method (a known method name, or NULL) and code. */
void node_metrics_rpc(struct node_metrics *m, const char *method, int code);

/* What is read when scraped. */
struct node_metrics_now {
	uint64_t height, view, validators;
	bool primary, ready;
	uint64_t mempool_txs, mempool_bytes;
	uint64_t txs_admitted;
	const uint64_t *txs_refused; /* by error code, CH_E__COUNT entries */
	uint64_t sigs_verified, sig_cache_hits;
	uint64_t peers_connected;
	uint64_t peer_sent, peer_received, peer_dropped, peer_rate_limited, peer_refused;
	uint64_t peer_connections_refused;
	uint64_t peer_tls_failures; /* inbound connections that failed in TLS */
	uint64_t consensus_sent;    /* engine messages sent, one per recipient */
	uint64_t store_bytes;
	int64_t disk_free_bytes; /* -1: unknown */
	uint64_t started_wall_ms;
};

/* node_metrics_render appends the exposition of m and now to out (check ch_buf_ok). */
void node_metrics_render(const struct node_metrics *m, const struct node_metrics_now *now,
			 struct ch_buf *out);

/* node_dir_bytes: the bytes of the regular files under dir (not following links). */
uint64_t node_dir_bytes(const char *dir);

#endif
