/*
 * runtime.h - the process around a validator's core, shared by home.c
 * (opening a home's files) and runtime.c (threads, transport, the loop).
 * Fields under mu are shared with nng's threads and the signature workers;
 * everything else belongs to the loop thread once node_run starts.
 */
#ifndef NODE_RUNTIME_H
#define NODE_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "chain/genesis.h"
#include "chain/sigcache.h"
#include "chain/store.h"
#include "node/config.h"
#include "node/core.h"
#include "node/feed.h"
#include "node/metrics.h"
#include "node/node.h"
#include "node/queue.h"
#include "node/rpc_env.h"
#include "node/verify_pool.h"
#include "node/vote_file.h"
#include "node/waiters.h"
#include "rpc/http_server.h"
#include "rpc/peer.h"

/* Signature verdicts remembered: several blocks' worth of transactions. */
#define NODE_SIGCACHE_ENTRIES (1u << 17)

struct node {
	struct node_config cfg;
	struct chain_genesis genesis;
	struct cr_key *key;
	uint8_t self_pub[CR_PUBKEY_LEN]; /* key's public key */
	uint32_t self;                   /* index in genesis, or NODE_NOT_MEMBER */
	struct chain_store *store;
	struct chain_sigcache *sigcache; /* shared with the signature workers */
	struct vote_file *votes;
	struct node_core *core;
	struct peer_msg_limits limits; /* the core's, for decoding on nng's threads */
	node_send_hook_fn hook;        /* tests only */
	void *hook_arg;

	struct rpc_peer_net *peers;
	uint64_t peers_gen;                          /* the core's sets these dials follow */
	char (*peer_urls)[CHAIN_MAX_ADDR];           /* by slot: what the transport dials ("": none) */
	struct rpc_http_server *http;
	struct node_verify_pool *pool;
	bool trust_peers; /* a crash-fault engine: peers' transactions skip the signature workers */
	struct node_waiters waiters;
	struct node_rpc_env env;
	uint64_t started_ms;
	uint64_t started_wall_ms;
	uint64_t last_disk_check_ms;
	bool disk_low;     /* paused: less than min_free_disk_mb free */
	int64_t disk_free; /* bytes free at the last look (-1: unknown) */
	struct node_metrics metrics;
	uint64_t counted_height; /* blocks up to here are in the metrics */
	struct node_feed feed;
	_Atomic uint64_t loop_ms; /* monotonic: the loop's last turn (GET /healthz) */
	uint64_t refusals_logged_ms;         /* observe.c: refused peer input, logged as counts */
	struct node_net_view refusals_seen;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct node_queue queue;
	bool stopping;
	uint64_t rejected;      /* peer messages that did not decode */
	uint64_t queue_dropped; /* peer messages that found the queue full */

	_Atomic(const char *) stop_phase; /* node_run's shutdown step, for node_stop_phase */
};

/* home.c: the disk check at start, and the free space behind it (-1: unknown). */
int node_disk_space(const struct node *n, struct ch_err *err);
int64_t node_disk_free(const struct node *n);

/* runtime.c: the io the core gets. */
void node_runtime_io(struct node *n, struct node_io *io);

/* runtime.c: node_push hands an event to the loop (any thread); stopping, or full: discarded. */
void node_push(struct node *n, struct node_event *ev);

#endif
