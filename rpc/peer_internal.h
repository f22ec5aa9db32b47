/*
 * peer_internal.h - what rpc/peer.c (the net, its outbound connections and
 * queues) and rpc/peer_in.c (the listener and inbound connections) share.
 * Everything here is guarded by the net's mutex unless it says otherwise;
 * the locking rules are at the top of rpc/peer.c.
 */
#ifndef RPC_PEER_INTERNAL_H
#define RPC_PEER_INTERNAL_H

#include <pthread.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "rpc/peer.h"
#include "rpc/tls_internal.h"

#define PEER_HELLO_LEN 8
#define PEER_HELLO_MS 5000 /* the other side's hello must arrive within this */
#define PEER_VERSION 1

/*
 * One TCP connection and the two aios that do its I/O. The aios belong to
 * the slot (outbound peer or inbound slot) and live until rpc_peer_stop;
 * the stream belongs to the link from peer_link_open until peer_link_done
 * frees it.
 */
struct peer_link {
	nng_stream *s;  /* NULL: no connection */
	nng_aio *rx, *tx;
	int ops;        /* operations started on s whose callback has not finished */
	bool dead;      /* s is closed; freed when ops reaches 0 */
	bool up;        /* the other side's hello arrived and was right */
	int error;      /* the nng result that failed the link first (0: none yet) */
	nng_time hello_by;
	uint8_t hello_in[PEER_HELLO_LEN];
	size_t hello_got, hello_sent;
};

/* one inbound connection slot; s == NULL in its link: free */
struct peer_in {
	struct rpc_peer_net *net;
	struct peer_link link;
	uint8_t head[4];
	size_t got, len; /* of the current frame's head or body */
	uint8_t *body;   /* NULL while reading a head, or skipping a dropped body */
	bool in_body;
	nng_time last;   /* ms of the last refill of the buckets */
	double msgs, bytes;
	uint8_t *skip;   /* scratch for a body dropped over the rate */
};

struct peer_out; /* rpc/peer.c */

struct rpc_peer_net {
	pthread_mutex_t mu;
	bool stopping;
	/*
	 * The indexes this net knows are 0..npeers-1: rpc_peer_start's, and
	 * more when rpc_peer_set gives a higher one an address (it never
	 * shrinks). self (SIZE_MAX: none) is set once by rpc_peer_start.
	 */
	size_t npeers, self;
	bool tls;              /* links are mutual TLS (rpc_peer_start had a tls) */
	struct rpc_peer_limits lim;
	rpc_peer_fn fn;
	void *arg;
	struct peer_out *outs; /* RPC_PEER_MAX, made at the start, never moved; outs[self] unused */
	/* the listening side (rpc/peer_in.c) */
	nng_stream_listener *listener; /* NULL: dial only */
	nng_aio *accept;               /* accepts, or waits after a failed accept */
	bool accept_sleeping;
	struct peer_in *ins;           /* lim.max_conns slots */
	uint32_t nconns;
	struct rpc_peer_in_stats in;
};

/*
 * peer_link_open takes stream s into l (which must have no stream) and
 * starts sending this side's hello and reading the other's. (TCP_NODELAY
 * is set on the dialers and the listener, so nng sets it on every stream.)
 */
void peer_link_open(struct peer_link *l, nng_stream *s);

/* peer_link_fail closes l's stream (at once; the stream is freed later). */
void peer_link_fail(struct peer_link *l);

/* peer_link_ok is true if the operation that just ended succeeded and l may go on; else it fails l. */
bool peer_link_ok(struct rpc_peer_net *p, struct peer_link *l, int rv);

/* peer_link_recv starts a read of len bytes into buf (with the hello deadline while !up). */
void peer_link_recv(struct peer_link *l, void *buf, size_t len);

/*
 * peer_link_hello handles a completed read of the hello: 1 when the whole
 * hello is in and right, 0 when more was asked for, -1 when it is wrong.
 */
int peer_link_hello(struct peer_link *l, size_t count);

/*
 * peer_link_hello_sent handles a completed write of this side's hello: true
 * when the whole hello is out, false when the rest was sent again.
 */
bool peer_link_hello_sent(struct peer_link *l, size_t count);

/*
 * peer_link_done ends one callback's operation: it frees the stream when
 * the link is dead and this was its last operation, and then returns true.
 */
bool peer_link_done(struct peer_link *l);

/*
 * peer_in_start listens on url (alloc and bind only; accepting starts with
 * peer_in_run), with mutual TLS under every anchor of tls if it is set.
 */
int peer_in_start(struct rpc_peer_net *p, const char *url, const struct rpc_peer_tls *tls,
		  struct ch_err *err);

/*
 * peer_url writes into out (cap bytes) the nng URL for a peer address
 * "tcp://host:port": itself, or "tls+tcp://host:port" with TLS.
 */
int peer_url(char *out, size_t cap, const char *url, bool tls, struct ch_err *err);
void peer_in_run(struct rpc_peer_net *p);
/* peer_in_close closes the listener and the inbound connections (under the mutex). */
void peer_in_close(struct rpc_peer_net *p);
/* peer_in_stop stops the listener's and connections' aios (without the mutex; waits). */
void peer_in_stop(struct rpc_peer_net *p);
/* peer_in_free frees what peer_in_start made, once peer_in_stop has returned. */
void peer_in_free(struct rpc_peer_net *p);

#endif
