/*
 * rpc_env.h - what the JSON-RPC methods (node/methods.c, docs/RPC.md) see of
 * a validator: a narrow environment of read-only views and a few calls,
 * filled in by the runtime (or by a test), so that the methods depend on
 * nothing else and can be tested alone.
 *
 * The methods run on the node's loop thread; everything here is borrowed
 * and valid while they run.
 */
#ifndef NODE_RPC_ENV_H
#define NODE_RPC_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/genesis.h"
#include "chain/mempool.h"
#include "chain/sigcache.h"
#include "chain/store.h"
#include "node/admit.h"
#include "node/engine.h"
#include "node/events.h"
#include "rpc/http_server.h"
#include "rpc/jsonrpc.h"

/* A JSON-RPC request being answered; calls that wait for a commit keep it open. */
struct node_pending {
	struct rpc_http_req *req;
	uint64_t arrived_ms; /* monotonic, when the HTTP request came in */
	struct rpc_request rpc;
	struct chain_tx **txs; /* per call, or NULL: transactions a signature worker decoded */
	size_t waiting;        /* calls still waiting */
};

/* node_pending_free frees p and everything it holds (after its reply is sent). NULL is fine. */
void node_pending_free(struct node_pending *p);

/* One other validator as this one sees it. */
struct node_peer_view {
	bool connected;
	uint64_t height;       /* as it last announced */
	int64_t seen_ms_ago;   /* -1: never heard from */
	uint64_t sent, dropped;
	uint64_t tls_failures; /* our connections to it that failed in TLS */
};

/* Peer traffic counters (net_info). */
struct node_net_view {
	uint64_t rejected, bad_signature, queue_dropped;
	uint64_t received, rate_limited, oversized, refused_connections, sync_refused;
	uint64_t tls_failures; /* inbound connections that failed in TLS */
	uint64_t consensus_sent; /* engine messages sent (node_core_counts) */
	uint32_t connections;
};

struct node_rpc_env {
	const struct chain_genesis *genesis;
	const char *node_id;    /* the moniker */
	const char *p2p_listen;
	bool p2p_tls;
	uint32_t self;           /* this validator's index in genesis (NODE_NOT_MEMBER if none) */
	const uint8_t *self_pub; /* its key (CR_PUBKEY_LEN bytes), or NULL: genesis's self's */
	uint64_t commit_timeout_ms; /* broadcast_tx_commit's default */
	struct chain_store *store;
	const struct chain_tip *tip;    /* the committed tip, as it moves */
	const struct node_admit *admit; /* the mempool, and refused and dropped transactions */
	struct chain_sigcache *sigcache;
	uint64_t started_ms; /* monotonic */

	void *arg;
	uint64_t (*now_ms)(void *arg); /* monotonic */
	/*
	 * submit admits a decoded transaction and gossips it, as
	 * node_core_submit: with remember, a refusal (but CH_E_KNOWN) must also
	 * land in admit's record of dropped transactions, for a later query.
	 */
	int (*submit)(void *arg, const struct chain_tx *tx, bool remember, struct ch_err *err);
	/* engine, peer and net fill in what they know of a zeroed struct */
	void (*engine)(void *arg, struct node_engine_status *out);
	void (*peer)(void *arg, uint32_t validator, struct node_peer_view *out);
	void (*net)(void *arg, struct node_net_view *out);
	/*
	 * wait keeps call c of p open until the transaction with hash commits,
	 * is dropped, or deadline_ms passes; it answers c then (and the request,
	 * once nothing of it waits any more). CH_E_NOMEM.
	 */
	int (*wait)(void *arg, struct node_pending *p, struct rpc_call *c,
		    const uint8_t hash[CR_HASH_LEN], uint64_t deadline_ms);
	/*
	 * events answers call c of p with the events of q (at most limit), or
	 * keeps it open until a commit brings some or deadline_ms passes
	 * (node/feed.h). CH_E_NOMEM.
	 */
	int (*events)(void *arg, struct node_pending *p, struct rpc_call *c,
		      const struct node_events_query *q, size_t limit, uint64_t deadline_ms);
	/* ready returns the readiness checks as GET /readyz shows them (node/ready.h); caller owns */
	cJSON *(*ready)(void *arg);
};

/* node_param_tx decodes params.tx (hex of a signed transaction); any thread. */
int node_param_tx(const struct rpc_call *c, struct chain_tx *tx, struct ch_err *err);

/* node_method_name: the method table's own copy of name, or NULL if it is not a method. */
const char *node_method_name(const char *name);

/* node_methods_handle answers every call of a parsed request that it can answer now. */
void node_methods_handle(const struct node_rpc_env *env, struct node_pending *p);

/*
 * node_tx_status answers c with what became of the transaction with hash:
 * committed (with height and index), or the error it was dropped with.
 * False if it is neither (still pending, or unknown).
 */
bool node_tx_status(const struct node_rpc_env *env, struct rpc_call *c,
		    const uint8_t hash[CR_HASH_LEN]);

#endif
