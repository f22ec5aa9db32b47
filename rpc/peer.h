/*
 * peer.h - validator-to-validator transport on nng: one PULL socket listens
 * on this validator's p2p URL, one PUSH socket per other validator dials
 * its URL (nng reconnects in the background with backoff). Messages are
 * opaque byte strings; the node puts one JSON-RPC object in each.
 */
#ifndef RPC_PEER_H
#define RPC_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct rpc_peer_net;

/*
 * Called on an nng thread for every received message; msg is malloc'd and
 * owned by the callee. Must not block.
 */
typedef void (*rpc_peer_fn)(void *arg, uint8_t *msg, size_t len);

/* What one validator's transport accepts. */
struct rpc_peer_limits {
	size_t max_msg_bytes; /* refused on send, dropped (connection closed) on receipt */
	size_t queue_len;     /* messages waiting to be sent to one peer */
	uint32_t max_conns;   /* inbound connections at once; one more is hung up on */
	double msgs_per_s;    /* per inbound connection; a burst of two seconds' worth */
	uint64_t bytes_per_s; /* likewise, in bytes */
};

/*
 * rpc_peer_start listens on listen_url and dials peer_urls (npeers of
 * them; peer_urls[self] is ignored) under the limits lim (copied). Errors
 * name the address.
 */
int rpc_peer_start(struct rpc_peer_net **out, const char *listen_url, const char *const *peer_urls,
		   size_t npeers, size_t self, const struct rpc_peer_limits *lim, rpc_peer_fn fn,
		   void *arg, struct ch_err *err);

/*
 * rpc_peer_send copies msg into peer to's queue without blocking: 0 if
 * queued, CH_E_UNAVAILABLE if dropped (peer not connected or queue full),
 * CH_E_TOO_LARGE if over the limit.
 */
int rpc_peer_send(struct rpc_peer_net *p, size_t to, const void *msg, size_t len);

/* rpc_peer_broadcast sends msg to every peer but self. */
void rpc_peer_broadcast(struct rpc_peer_net *p, const void *msg, size_t len);

struct rpc_peer_stats {
	uint64_t sent, dropped, received, oversized;
	bool connected;
};

void rpc_peer_stats(struct rpc_peer_net *p, size_t peer, struct rpc_peer_stats *out);

/* What arrived on the listener: messages passed on, dropped over a rate, connections. */
struct rpc_peer_in_stats {
	uint64_t received, rate_limited, refused_connections;
	uint32_t connections; /* open now */
};

void rpc_peer_in_stats(struct rpc_peer_net *p, struct rpc_peer_in_stats *out);

/*
 * rpc_peer_stop stops the callbacks, then closes the sockets, waiting at
 * most limit_ms (0: without a limit). nng 1.5's close can hang for good
 * on a pipe it never reaps; then rpc_peer_stop returns false and leaves the
 * close running on a thread of its own, which frees what is left if it
 * ever finishes. No callback runs once it returns. Not from a callback.
 * NULL is fine.
 */
bool rpc_peer_stop(struct rpc_peer_net *p, unsigned limit_ms);

#endif
