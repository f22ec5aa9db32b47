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
	uint32_t self;
	struct chain_store *store;
	struct chain_sigcache *sigcache; /* shared with the signature workers */
	struct vote_file *votes;
	struct node_core *core;
	struct peer_msg_limits limits; /* the core's, for decoding on nng's threads */
	node_send_hook_fn hook;        /* tests only */
	void *hook_arg;

	struct rpc_peer_net *peers;
	struct rpc_http_server *http;
	struct node_verify_pool *pool;
	struct node_waiters waiters;
	struct node_rpc_env env;
	uint64_t started_ms;
	uint64_t last_disk_check_ms;
	bool disk_failed;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct node_queue queue;
	bool stopping;
	uint64_t rejected;      /* peer messages that did not decode */
	uint64_t queue_dropped; /* peer messages that found the queue full */

	_Atomic(const char *) stop_phase; /* node_run's shutdown step, for node_stop_phase */
};

/* home.c: the disk check (also run once a second by the loop). */
int node_disk_space(const struct node *n, struct ch_err *err);

/* runtime.c: the io the core gets. */
void node_runtime_io(struct node *n, struct node_io *io);

#endif
