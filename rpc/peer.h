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

/*
 * rpc_peer_start listens on listen_url and dials peer_urls (npeers of
 * them; peer_urls[self] is ignored). Messages over max_msg_bytes are
 * refused on send and dropped on receipt; queue_len bounds each peer's
 * send queue. Errors name the address.
 */
int rpc_peer_start(struct rpc_peer_net **out, const char *listen_url, const char *const *peer_urls,
		   size_t npeers, size_t self, size_t max_msg_bytes, size_t queue_len,
		   rpc_peer_fn fn, void *arg, struct ch_err *err);

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
uint64_t rpc_peer_received_total(struct rpc_peer_net *p);

/* rpc_peer_stop closes everything and waits for callbacks to finish. Not from a callback. NULL is fine. */
void rpc_peer_stop(struct rpc_peer_net *p);

#endif
