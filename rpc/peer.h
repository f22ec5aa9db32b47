/*
 * peer.h - validator-to-validator transport on nng's TCP streams: one
 * listener on this validator's p2p URL, one outbound connection per other
 * validator (redialed in the background with backoff). Messages are opaque
 * byte strings; the node puts one JSON-RPC object in each. With TLS
 * (rpc/tls.h) every connection, both ways, is mutual TLS authenticated
 * against the validators' anchors, and what follows runs inside it.
 *
 * Peers are named by their validator index, 0..RPC_PEER_MAX-1. Each index
 * has an address or none; only those with one are dialed, queued for and
 * broadcast to. The addresses start as rpc_peer_start's list and change at
 * runtime with rpc_peer_set, as the validator set does. The indexes a net
 * knows are 0..n-1, where n is rpc_peer_start's npeers raised to one past
 * the highest index rpc_peer_set has given an address; n never shrinks.
 * This node may have no index of its own (self = SIZE_MAX: a node that is
 * not, or not yet, a validator), and then dials every index.
 *
 * Threads: rpc_peer_send, rpc_peer_broadcast and the stats calls may run on
 * any thread at once; rpc_peer_set on one thread at a time (the node's
 * loop), concurrently with those and with the transport's callbacks;
 * rpc_peer_stop once, after every other call has returned.
 *
 * Wire format (version 1). Each side of a new connection first sends an
 * 8-byte hello:
 *   'c' 'h' 'p' '2'   magic
 *   u16 version       1, big-endian
 *   u16 reserved      0
 * A side that receives anything else closes the connection, and either side
 * closes one whose hello has not arrived within 5 s. Then frames, only from
 * the dialing side to the listening side:
 *   u32 length        big-endian, 1..max_msg_bytes
 *   length bytes      the message
 * A frame announcing 0 or more than max_msg_bytes closes the connection
 * before its body is read. A listening side never sends frames; any byte
 * after its hello closes the connection too.
 */
#ifndef RPC_PEER_H
#define RPC_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "rpc/tls.h"

struct rpc_peer_net;

/* Peer indexes are below this (chain/block.h CHAIN_MAX_VALIDATORS). */
#define RPC_PEER_MAX 256

/*
 * Called on an nng thread for every received message; msg is malloc'd and
 * owned by the callee. Must not block, nor call rpc_peer_stop.
 */
typedef void (*rpc_peer_fn)(void *arg, uint8_t *msg, size_t len);

/* What one validator's transport accepts. */
struct rpc_peer_limits {
	size_t max_msg_bytes; /* 1..2^32-1: refused on send, connection closed on receipt */
	size_t queue_len;     /* messages waiting to be sent to one peer (0: 4096) */
	uint32_t max_conns;   /* inbound connections at once; one more is closed at accept */
	double msgs_per_s;    /* per inbound connection; a burst of two seconds' worth */
	uint64_t bytes_per_s; /* likewise, in bytes */
	size_t queue_bytes;   /* bytes waiting to be sent to one peer (0: 64 MiB) */
};

/*
 * rpc_peer_start listens on listen_url (NULL: no listener, dial only) and
 * dials peer_urls[i] for every i < npeers but self (peer_urls[self] is not
 * read; peer_urls[i] NULL or "": no address for i yet; peer_urls may be
 * NULL if all are), under the limits lim (copied; the URLs are copied too).
 * npeers <= RPC_PEER_MAX; self < RPC_PEER_MAX, or SIZE_MAX for none.
 * Addresses are tcp://host:port. tls (NULL: plaintext TCP) is read during
 * the call; with it, tls->anchors holds npeers anchors, and only those
 * indexes can be dialed, now or later. fn is called with arg for every
 * message received. Errors name the address: CH_E_IO if the address is in
 * use, CH_E_CONFIG for a bad URL, count, index, limit or TLS material.
 */
int rpc_peer_start(struct rpc_peer_net **out, const char *listen_url, const char *const *peer_urls,
		   size_t npeers, size_t self, const struct rpc_peer_limits *lim,
		   const struct rpc_peer_tls *tls, rpc_peer_fn fn, void *arg, struct ch_err *err);

/*
 * rpc_peer_set gives peer index the address url (copied; tcp://host:port),
 * changes it, or clears it (url NULL or ""). The same address again does
 * nothing. A new address is dialed at once, with the TLS of rpc_peer_start
 * if it had any; a connection to the old one is closed, and what is queued
 * waits for the new one (a message half written is lost, as on any
 * reconnect). Clearing stops dialing, closes the connection, discards the
 * queue and zeroes the counters. Errors leave the old address in place:
 * CH_E_INVALID for index >= RPC_PEER_MAX or index == self, CH_E_CONFIG for
 * a bad or too long URL, CH_E_UNAVAILABLE with TLS for an index that had no
 * anchor at the start (adding peers at runtime needs plaintext links for
 * now), CH_E_NOMEM. One thread at a time (see the top); never from fn. It
 * may wait briefly for nng's own resolver and connect callbacks, never for
 * the transport's.
 */
int rpc_peer_set(struct rpc_peer_net *p, size_t index, const char *url, struct ch_err *err);

/*
 * rpc_peer_send copies msg (borrowed) into peer to's queue without
 * blocking, also while that peer is not connected: the queue goes out once
 * it is. 0 if queued, CH_E_UNAVAILABLE if dropped (the peer has no address,
 * the queue is full by count or by bytes, or stopping), CH_E_TOO_LARGE if
 * over max_msg_bytes, CH_E_INVALID for an empty message, self or an index
 * the net does not know (see the top). Any thread.
 */
int rpc_peer_send(struct rpc_peer_net *p, size_t to, const void *msg, size_t len);

/* rpc_peer_broadcast sends msg to every peer but self that has an address. Any thread. */
void rpc_peer_broadcast(struct rpc_peer_net *p, const void *msg, size_t len);

/*
 * One peer's outbound side: sent counts messages queued, dropped those
 * refused by rpc_peer_send or lost with a connection that failed while one
 * was half written, oversized those refused as too large, tls_failures
 * the connections that ended in a failed handshake or a broken TLS record.
 * queued is what waits or is being written now. Counting starts when the
 * peer gets an address; a peer without one (and self, and any index out of
 * range) reads as all zeros, not connected. Any thread.
 */
struct rpc_peer_stats {
	uint64_t sent, dropped, received, oversized, tls_failures;
	bool connected; /* the outbound connection is up (hellos exchanged) */
	size_t queued;
};

void rpc_peer_stats(struct rpc_peer_net *p, size_t peer, struct rpc_peer_stats *out);

/*
 * What arrived on the listener: messages passed on, dropped over a rate,
 * frames announcing a length out of range, connections refused at accept,
 * connections that ended in a failed TLS handshake (no certificate, one not
 * issued under a validator's anchor, not TLS at all) or a broken record.
 */
struct rpc_peer_in_stats {
	uint64_t received, rate_limited, refused_connections;
	uint32_t connections; /* open now */
	uint64_t oversized, tls_failures;
};

void rpc_peer_in_stats(struct rpc_peer_net *p, struct rpc_peer_in_stats *out);

/*
 * rpc_peer_stop stops every callback and timer, closes the listener, the
 * dialers and the connections, and frees p. It returns promptly: on nng
 * 1.5.2 none of the calls it makes waits for anything but callbacks of this
 * transport, which never block (rpc/peer.c says why). No callback runs once
 * it returns. Messages queued or in flight are discarded. Not from a
 * callback. NULL is fine.
 */
void rpc_peer_stop(struct rpc_peer_net *p);

#endif
