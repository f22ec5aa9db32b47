/*
 * Validator-to-validator transport (rpc/peer.h) on nng's stream API: our
 * own hello and frames over nng_stream, so no SP socket, pipe or pipe
 * reaper is involved. This file: the net, the send queues and the outbound
 * connections; rpc/peer_in.c: the listener and the inbound connections.
 *
 * Why the stop cannot hang on nng 1.5.2 (read in its source):
 * - The SP hang (nanomsg/nng#616), src/sp/transport/tcp/tcp.c: while
 *   tcptran_pipe_close() nni_aio_close()s the rxaio, tcptran_pipe_recv_cb(),
 *   having read a header, re-arms it; src/core/aio.c nni_aio_begin() refuses a
 *   closed aio without calling back, so the protocol's aio is never finished
 *   and its nni_aio_stop() in the pipe reaper, and nng_close, wait forever.
 * - Here no aio waits on another: each callback ends its chain, and
 *   nni_aio_stop() waits (nni_task_wait) only for a callback already running.
 * - posix_tcpconn.c: tcp_close() finishes queued I/O with NNG_ECLOSED and shuts
 *   the fd down, tcp_free() hands it to the reaper (tcp_fini), tcp_cancel()
 *   finishes at once. tcp_send()/tcp_recv() do not check c->closed, though: an
 *   operation started after nng_stream_close() never finishes (rule 2).
 * - core/tcp.c tcp_dialer_free() stops aios whose cancels finish at once
 *   (posix_resolv_gai.c resolv_cancel() does not wait for getaddrinfo);
 *   posix_tcplisten.c nni_tcp_listener_fini() waits only for the poll thread
 *   (posix_pollq_epoll.c nni_posix_pfd_fini()), which runs none of our code.
 *   No POSIX stream, dialer, listener or sleep completes inline (nni_aio_finish
 *   dispatches to the taskq), so starting one under our mutex is safe.
 * - Changing a peer's address (rpc_peer_set) relies on three more facts.
 *   core/tcp.c tcp_dialer_close() takes the dial queued on it off at once and
 *   finishes it with NNG_ECLOSED (through the taskq); a dial that had already
 *   succeeded may still deliver its stream, which out_conn_cb knows by
 *   dial_gen and frees. nng_aio_cancel() of a sleep (core/aio.c
 *   nni_sleep_cancel) finishes it through the taskq too. And tcp_close() and
 *   tls_close() (supplemental/tls/tls_common.c) finish the queued send under
 *   the stream's lock, the only lock under which tcp_dowrite()/tls_do_send()
 *   read its iov, so once nng_stream_close() returns no buffer of ours is
 *   read again and a cleared peer's queue may be freed at once.
 *
 * Locking rules (one mutex per net, p->mu):
 * 1. Every field of the net, its peers and its slots is used under p->mu,
 *    except what rpc_peer_start sets before the first operation starts, a
 *    peer's aios and TLS configuration, which rpc_peer_start or rpc_peer_set
 *    makes before that peer's first operation and which stay until the stop,
 *    and what rpc_peer_stop frees after the last aio has stopped. A peer's
 *    addr is written only under p->mu by the one thread that calls
 *    rpc_peer_set, which may therefore read it without.
 * 2. Operations (dial, accept, sleep, send, recv) start only under p->mu and
 *    only while !p->stopping; one on a stream only while its link is not dead,
 *    counted in link->ops until its callback ends. Each aio has at most one.
 * 3. A callback takes p->mu, handles its result, starts the next operation if
 *    any, and ends with peer_link_done: the last callback of a dead link frees
 *    its stream and releases the slot (an inbound slot is free again, an
 *    outbound peer sleeps and redials). After that it touches nothing.
 * 4. The receive callback calls fn without p->mu but still holding its
 *    operation in ops, so its link is neither freed nor reused meanwhile.
 * 5. Nothing that waits (nng_aio_stop/free, dialer and listener free) runs
 *    under p->mu or in a callback; only rpc_peer_stop calls it, after setting
 *    p->stopping and closing every listener, dialer and stream under p->mu.
 *    Each nng_aio_stop then waits for at most one short callback, which starts
 *    nothing; after the last, no callback can run and the rest is freed. The
 *    one exception, rpc_peer_set, frees a dialer it replaced after closing it
 *    under p->mu; that waits only for nng's own resolver and connect
 *    callbacks, none of which is ours.
 * 6. A reconnect or accept timer that fires during the stop starts nothing; a
 *    dial or accept completing then frees its new stream at once.
 * 7. A peer's conn aio and its link never both have an operation: a dial or
 *    sleep starts only while the link has no stream, and a link opens only in
 *    the callback of a dial. So a new address is dialed by whichever of them
 *    ends last: at once if both are idle, by the callback of a dial of the
 *    old address (cut short by the dialer's close) or of a sleep (cut short
 *    by a cancel), or after the last callback of the old connection.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "rpc/peer_internal.h"

#define OUT_BACKOFF_MIN_MS 100
#define OUT_BACKOFF_MAX_MS 2000
#define OUT_BATCH 8 /* frames per write (nng 1.5 takes at most 8 iovs) */

static const uint8_t peer_hello[PEER_HELLO_LEN] = {'c', 'h', 'p', '2', 0, PEER_VERSION, 0, 0};

/* one queued message, in its wire form: a u32 length, then the message */
struct qmsg {
	struct qmsg *next;
	size_t len; /* of the message */
	uint8_t frame[];
};

struct peer_out {
	struct rpc_peer_net *net;
	char addr[256];    /* tcp://host:port dialed; "": none, nothing is dialed or queued */
	nng_tls_config *tls; /* with TLS: accepts only this validator's certificate; NULL: none */
	nng_stream_dialer *dialer; /* for addr (NULL with it) */
	uint64_t gen;      /* counts changes of addr */
	uint64_t dial_gen; /* gen when the dial under way started */
	nng_aio *conn;     /* dials, or sleeps before the next dial */
	bool dialing;      /* conn has a dial or a sleep under way */
	bool sleeping;
	nng_duration backoff;
	struct peer_link link;
	bool sending;      /* link.tx is writing the hello or frames */
	uint8_t junk[16];  /* where bytes after the listener's hello go (an error) */
	struct qmsg *head, *tail;
	size_t qlen, qbytes;
	size_t tx_off;     /* bytes of head's frame already written */
	struct rpc_peer_stats stats;
};

void
peer_link_recv(struct peer_link *l, void *buf, size_t len)
{
	nng_iov iov = {.iov_buf = buf, .iov_len = len};
	nng_duration t = NNG_DURATION_INFINITE;
	if (!l->up) {
		nng_time now = nng_clock();
		t = l->hello_by > now ? (nng_duration)(l->hello_by - now) : 1;
	}
	nng_aio_set_timeout(l->rx, t);
	nng_aio_set_iov(l->rx, 1, &iov);
	l->ops++;
	nng_stream_recv(l->s, l->rx);
}

static void
link_send(struct peer_link *l, nng_iov *iov, unsigned n)
{
	nng_aio_set_iov(l->tx, n, iov);
	l->ops++;
	nng_stream_send(l->s, l->tx);
}

static void
hello_send(struct peer_link *l)
{
	nng_iov iov = {.iov_buf = (void *)(peer_hello + l->hello_sent),
		       .iov_len = PEER_HELLO_LEN - l->hello_sent};
	link_send(l, &iov, 1);
}

void
peer_link_open(struct peer_link *l, nng_stream *s)
{
	*l = (struct peer_link){.s = s, .rx = l->rx, .tx = l->tx,
				.hello_by = nng_clock() + PEER_HELLO_MS};
	hello_send(l);
	peer_link_recv(l, l->hello_in, PEER_HELLO_LEN);
}

void
peer_link_fail(struct peer_link *l)
{
	if (l->s != NULL && !l->dead) {
		l->dead = true;
		l->up = false;
		nng_stream_close(l->s); /* finishes what is queued on it; waits for nothing */
	}
}

int
peer_link_hello(struct peer_link *l, size_t count)
{
	l->hello_got += count;
	if (l->hello_got < PEER_HELLO_LEN) {
		peer_link_recv(l, l->hello_in + l->hello_got, PEER_HELLO_LEN - l->hello_got);
		return 0;
	}
	if (memcmp(l->hello_in, peer_hello, PEER_HELLO_LEN) != 0)
		return -1;
	l->up = true;
	return 1;
}

bool
peer_link_hello_sent(struct peer_link *l, size_t count)
{
	l->hello_sent += count;
	if (l->hello_sent >= PEER_HELLO_LEN)
		return true;
	hello_send(l);
	return false;
}

bool
peer_link_done(struct peer_link *l)
{
	l->ops--;
	if (!l->dead || l->ops > 0)
		return false;
	nng_stream_free(l->s); /* the reaper finishes it; returns at once */
	l->s = NULL;
	l->dead = false;
	return true;
}

/* out_dial dials o's address now, if it has one and the net is not stopping. */
static void
out_dial(struct peer_out *o)
{
	if (o->net->stopping || o->dialer == NULL)
		return;
	o->dialing = true;
	o->dial_gen = o->gen;
	nng_stream_dialer_dial(o->dialer, o->conn);
}

/* out_dial_later sleeps o->backoff, then dials (out_conn_cb), doubling the backoff. */
static void
out_dial_later(struct peer_out *o)
{
	if (o->net->stopping || o->dialer == NULL)
		return;
	o->dialing = true;
	o->sleeping = true;
	nng_sleep_aio(o->backoff, o->conn);
	o->backoff = o->backoff * 2 > OUT_BACKOFF_MAX_MS ? OUT_BACKOFF_MAX_MS : o->backoff * 2;
}

/* out_kick writes the next frames (at most OUT_BATCH) if the link is up and idle. */
static void
out_kick(struct peer_out *o)
{
	if (o->sending || !o->link.up || o->link.dead || o->head == NULL || o->net->stopping)
		return;
	nng_iov iov[OUT_BATCH];
	unsigned n = 0;
	for (struct qmsg *q = o->head; q != NULL && n < OUT_BATCH; q = q->next, n++) {
		size_t off = n == 0 ? o->tx_off : 0;
		iov[n] = (nng_iov){.iov_buf = q->frame + off, .iov_len = 4 + q->len - off};
	}
	o->sending = true;
	link_send(&o->link, iov, n);
}

/* out_sent drops the frames the last write finished (count bytes). */
static void
out_sent(struct peer_out *o, size_t count)
{
	while (count > 0 && o->head != NULL) {
		struct qmsg *q = o->head;
		size_t left = 4 + q->len - o->tx_off;
		if (count < left) {
			o->tx_off += count;
			return;
		}
		count -= left;
		o->tx_off = 0;
		o->head = q->next;
		if (o->head == NULL)
			o->tail = NULL;
		o->qlen--;
		o->qbytes -= q->len;
		free(q);
	}
}

/*
 * out_lost handles a connection whose stream is gone: a frame half written
 * is dropped (the other side discards its tail with the connection); the
 * rest of the queue waits for the next connection, dialed after the backoff.
 */
static void
out_lost(struct peer_out *o)
{
	assert(!o->dialing); /* rule 7: no dial while the link had a stream */
	o->sending = false;
	if (rpc_tls_failure(o->link.error))
		o->stats.tls_failures++;
	if (o->tx_off > 0) {
		out_sent(o, 4 + o->head->len - o->tx_off); /* drop it as if written */
		o->stats.dropped++;
	}
	out_dial_later(o);
}

/*
 * out_forget drops o's queue and zeroes its counters when its address is
 * cleared. The stream, if any, is closed already, so nng reads none of the
 * frames again (the notes at the top); tx_off goes too, so the write's late
 * callback drops nothing more.
 */
static void
out_forget(struct peer_out *o)
{
	for (struct qmsg *q = o->head, *next; q != NULL; q = next) {
		next = q->next;
		free(q);
	}
	o->head = o->tail = NULL;
	o->qlen = o->qbytes = o->tx_off = 0;
	memset(&o->stats, 0, sizeof(o->stats));
}

bool
peer_link_ok(struct rpc_peer_net *p, struct peer_link *l, int rv)
{
	if (rv == 0 && !l->dead && !p->stopping)
		return true;
	if (!l->dead && l->error == 0)
		l->error = rv;
	peer_link_fail(l);
	return false;
}

/*
 * out_conn_cb ends a sleep (then dials) or a dial. A dial started before
 * the address last changed is stale: its stream, if any, is to the old
 * address and is freed, and the new one, if any, is dialed at once.
 */
static void
out_conn_cb(void *arg)
{
	struct peer_out *o = arg;
	struct rpc_peer_net *p = o->net;
	pthread_mutex_lock(&p->mu);
	int rv = nng_aio_result(o->conn);
	o->dialing = false;
	if (o->sleeping) { /* slept its time, or was cut short by rpc_peer_set */
		o->sleeping = false;
		out_dial(o);
	} else {
		bool stale = o->dial_gen != o->gen;
		nng_stream *s = rv == 0 ? nng_aio_get_output(o->conn, 0) : NULL;
		if (s != NULL && !stale && !p->stopping) {
			peer_link_open(&o->link, s);
			o->sending = true; /* the hello */
		} else {
			nng_stream_free(s);
			if (stale)
				out_dial(o);
			else if (rv != 0)
				out_dial_later(o);
		}
	}
	pthread_mutex_unlock(&p->mu);
}

static void
out_rx_cb(void *arg)
{
	struct peer_out *o = arg;
	struct rpc_peer_net *p = o->net;
	struct peer_link *l = &o->link;
	pthread_mutex_lock(&p->mu);
	if (peer_link_ok(p, l, nng_aio_result(l->rx))) {
		int h = l->up ? -1 : peer_link_hello(l, nng_aio_count(l->rx));
		if (h < 0) { /* a wrong hello, or bytes after it: a listener sends no frames */
			peer_link_fail(l);
		} else if (h > 0) {
			o->backoff = OUT_BACKOFF_MIN_MS;
			peer_link_recv(l, o->junk, sizeof(o->junk)); /* notices the close */
			out_kick(o);
		}
	}
	if (peer_link_done(l))
		out_lost(o);
	pthread_mutex_unlock(&p->mu);
}

static void
out_tx_cb(void *arg)
{
	struct peer_out *o = arg;
	struct rpc_peer_net *p = o->net;
	struct peer_link *l = &o->link;
	pthread_mutex_lock(&p->mu);
	o->sending = false;
	if (peer_link_ok(p, l, nng_aio_result(l->tx))) {
		if (l->hello_sent < PEER_HELLO_LEN)
			o->sending = !peer_link_hello_sent(l, nng_aio_count(l->tx));
		else
			out_sent(o, nng_aio_count(l->tx));
		out_kick(o);
	}
	if (peer_link_done(l))
		out_lost(o);
	pthread_mutex_unlock(&p->mu);
}

int
rpc_peer_send(struct rpc_peer_net *p, size_t to, const void *msg, size_t len)
{
	if (to >= RPC_PEER_MAX || to == p->self || len == 0)
		return CH_E_INVALID;
	struct peer_out *o = &p->outs[to];
	struct qmsg *q = NULL;
	if (len <= p->lim.max_msg_bytes && (q = malloc(sizeof(*q) + 4 + len)) != NULL) {
		q->next = NULL;
		q->len = len;
		ch_put_be32(q->frame, (uint32_t)len);
		memcpy(q->frame + 4, msg, len);
	}
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	if (to >= p->npeers) {
		rc = CH_E_INVALID;
	} else if (o->addr[0] == 0) {
		rc = CH_E_UNAVAILABLE; /* not counted: a peer without an address has no counters */
	} else if (len > p->lim.max_msg_bytes) {
		o->stats.oversized++;
		rc = CH_E_TOO_LARGE;
	} else if (q == NULL || p->stopping || o->qlen >= p->lim.queue_len ||
		   o->qbytes + len > p->lim.queue_bytes) {
		o->stats.dropped++;
		rc = CH_E_UNAVAILABLE;
	} else {
		if (o->tail != NULL)
			o->tail->next = q;
		else
			o->head = q;
		o->tail = q;
		o->qlen++;
		o->qbytes += len;
		o->stats.sent++;
		q = NULL;
		out_kick(o);
	}
	pthread_mutex_unlock(&p->mu);
	free(q);
	return rc;
}

void
rpc_peer_broadcast(struct rpc_peer_net *p, const void *msg, size_t len)
{
	bool to[RPC_PEER_MAX]; /* who has an address now: no copy is made for the others */
	pthread_mutex_lock(&p->mu);
	size_t n = p->npeers;
	for (size_t i = 0; i < n; i++)
		to[i] = i != p->self && p->outs[i].addr[0] != 0;
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < n; i++)
		if (to[i])
			(void)rpc_peer_send(p, i, msg, len);
}

void
rpc_peer_stats(struct rpc_peer_net *p, size_t peer, struct rpc_peer_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (peer >= RPC_PEER_MAX || peer == p->self)
		return;
	struct peer_out *o = &p->outs[peer];
	pthread_mutex_lock(&p->mu);
	if (o->addr[0] != 0) {
		*out = o->stats;
		out->connected = o->link.up && !o->link.dead;
		out->queued = o->qlen;
	}
	pthread_mutex_unlock(&p->mu);
}

void
rpc_peer_in_stats(struct rpc_peer_net *p, struct rpc_peer_in_stats *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->in;
	out->connections = p->nconns;
	pthread_mutex_unlock(&p->mu);
}

int
peer_url(char *out, size_t cap, const char *url, bool tls, struct ch_err *err)
{
	if (strncmp(url, "tcp://", 6) != 0)
		return ch_errf(err, CH_E_CONFIG, "p2p address %s: expected tcp://host:port", url);
	int n = snprintf(out, cap, "%s%s", tls ? "tls+" : "", url);
	if (n < 0 || (size_t)n >= cap)
		return ch_errf(err, CH_E_CONFIG, "p2p address %s is too long", url);
	return 0;
}

/*
 * out_tls makes peer i's TLS configuration, which accepts only validator
 * i's certificate. It is kept for the stop, so that rpc_peer_set can give a
 * new dialer for i the same one without keeping the key itself.
 */
static int
out_tls(struct peer_out *o, const struct rpc_peer_tls *tls, size_t i, struct ch_err *err)
{
	char what[64], name[32];
	snprintf(what, sizeof(what), "p2p validator %zu", i);
	snprintf(name, sizeof(name), "validator-%zu", i);
	return rpc_tls_config(&o->tls, false, tls->cert_pem, tls->key_pem, tls->anchors[i], name,
			      what, err);
}

/* out_dialer makes a dialer for addr, with o's TLS configuration if the net has TLS. */
static int
out_dialer(struct peer_out *o, const char *addr, nng_stream_dialer **out, struct ch_err *err)
{
	char url[256];
	nng_stream_dialer *d = NULL;
	int rv, rc;
	*out = NULL;
	if ((rc = peer_url(url, sizeof(url), addr, o->net->tls, err)) != 0)
		return rc;
	if ((rv = nng_stream_dialer_alloc(&d, url)) != 0 ||
	    (rv = nng_stream_dialer_set_bool(d, NNG_OPT_TCP_NODELAY, true)) != 0) {
		nng_stream_dialer_free(d);
		return ch_errf(err, CH_E_CONFIG, "p2p dial %s: %s", url, nng_strerror(rv));
	}
	if (o->net->tls && (rv = nng_stream_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, o->tls)) != 0) {
		nng_stream_dialer_free(d);
		return ch_errf(err, CH_E_CONFIG, "p2p dial %s: tls: %s", url, nng_strerror(rv));
	}
	*out = d;
	return 0;
}

/*
 * out_aios makes o's three aios the first time o gets an address; they stay
 * until the stop. Only o->conn is looked at: callbacks rewrite o->link
 * (peer_link_open) under p->mu, but never conn, and conn is set only once
 * all three are made, before anything can use them.
 */
static int
out_aios(struct peer_out *o, const char *addr, struct ch_err *err)
{
	nng_aio *conn = NULL, *rx = NULL, *tx = NULL;
	int rv;
	if (o->conn != NULL)
		return 0;
	if ((rv = nng_aio_alloc(&conn, out_conn_cb, o)) != 0 ||
	    (rv = nng_aio_alloc(&rx, out_rx_cb, o)) != 0 ||
	    (rv = nng_aio_alloc(&tx, out_tx_cb, o)) != 0) {
		nng_aio_free(tx);
		nng_aio_free(rx);
		nng_aio_free(conn);
		return ch_errf(err, CH_E_NOMEM, "p2p dial %s: %s", addr, nng_strerror(rv));
	}
	o->link.rx = rx;
	o->link.tx = tx;
	o->conn = conn;
	return 0;
}

/* out_prepare makes what dialing addr for peer i takes: a dialer (*out) and, once, the aios. */
static int
out_prepare(struct peer_out *o, size_t i, const char *addr, nng_stream_dialer **out,
	    struct ch_err *err)
{
	*out = NULL;
	if (strlen(addr) >= sizeof(o->addr))
		return ch_errf(err, CH_E_CONFIG, "p2p address %.64s... is too long", addr);
	if (o->net->tls && o->tls == NULL)
		return ch_errf(err, CH_E_UNAVAILABLE,
			       "p2p peer %zu: no TLS anchor for it (adding peers at runtime needs "
			       "plaintext links)",
			       i);
	int rc = out_dialer(o, addr, out, err);
	if (rc == 0 && (rc = out_aios(o, addr, err)) != 0) {
		nng_stream_dialer_free(*out);
		*out = NULL;
	}
	return rc;
}

/*
 * out_readdress gives peer i address addr ("": none) and dialer d (NULL
 * with it), under p->mu. The old dialer is closed here and left in o for
 * the caller, who took it before, to free without the mutex; the old
 * connection is closed; a cleared peer forgets its queue and counters. Then
 * the new address is dialed by whoever ends last (rule 7).
 */
static void
out_readdress(struct peer_out *o, size_t i, const char *addr, nng_stream_dialer *d)
{
	struct rpc_peer_net *p = o->net;
	if (o->dialer != NULL)
		nng_stream_dialer_close(o->dialer); /* a dial on it ends with NNG_ECLOSED */
	o->dialer = d;
	snprintf(o->addr, sizeof(o->addr), "%s", addr);
	o->gen++;
	o->backoff = OUT_BACKOFF_MIN_MS;
	peer_link_fail(&o->link);
	if (addr[0] == 0)
		out_forget(o);
	else if (i >= p->npeers)
		p->npeers = i + 1;
	if (o->sleeping)
		nng_aio_cancel(o->conn); /* its callback dials the new address */
	else if (!o->dialing && o->link.s == NULL)
		out_dial(o);
}

int
rpc_peer_set(struct rpc_peer_net *p, size_t index, const char *url, struct ch_err *err)
{
	if (index >= RPC_PEER_MAX)
		return ch_errf(err, CH_E_INVALID, "p2p peer %zu: indexes go up to %d", index,
			       RPC_PEER_MAX - 1);
	if (index == p->self)
		return ch_errf(err, CH_E_INVALID, "p2p peer %zu is this validator", index);
	const char *addr = url != NULL ? url : "";
	struct peer_out *o = &p->outs[index];
	if (strcmp(o->addr, addr) == 0) /* only this thread writes addr (rule 1) */
		return 0;
	nng_stream_dialer *d = NULL;
	int rc = addr[0] != 0 ? out_prepare(o, index, addr, &d, err) : 0;
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&p->mu);
	nng_stream_dialer *old = o->dialer;
	out_readdress(o, index, addr, d);
	pthread_mutex_unlock(&p->mu);
	nng_stream_dialer_free(old); /* closed above; waits for no callback of ours (rule 5) */
	return 0;
}

/* start_outs makes what dialing the peers rpc_peer_start was given takes (nothing starts yet). */
static int
start_outs(struct rpc_peer_net *p, const char *const *peer_urls, const struct rpc_peer_tls *tls,
	   struct ch_err *err)
{
	for (size_t i = 0; i < p->npeers; i++) {
		struct peer_out *o = &p->outs[i];
		const char *addr = peer_urls != NULL && peer_urls[i] != NULL ? peer_urls[i] : "";
		int rc = 0;
		if (i == p->self)
			continue;
		if (tls != NULL && (rc = out_tls(o, tls, i, err)) != 0)
			return rc;
		if (addr[0] == 0)
			continue;
		if ((rc = out_prepare(o, i, addr, &o->dialer, err)) != 0)
			return rc;
		snprintf(o->addr, sizeof(o->addr), "%s", addr);
	}
	return 0;
}

int
rpc_peer_start(struct rpc_peer_net **out, const char *listen_url, const char *const *peer_urls,
	       size_t npeers, size_t self, const struct rpc_peer_limits *lim,
	       const struct rpc_peer_tls *tls, rpc_peer_fn fn, void *arg, struct ch_err *err)
{
	if (lim->max_msg_bytes == 0 || lim->max_msg_bytes > UINT32_MAX)
		return ch_errf(err, CH_E_CONFIG, "p2p: max_msg_bytes %zu is not in 1..2^32-1",
			       lim->max_msg_bytes);
	if (npeers > RPC_PEER_MAX)
		return ch_errf(err, CH_E_CONFIG, "p2p: %zu peers, at most %d", npeers,
			       RPC_PEER_MAX);
	if (self >= RPC_PEER_MAX && self != SIZE_MAX)
		return ch_errf(err, CH_E_CONFIG, "p2p: this validator's index %zu is out of range",
			       self);
	struct rpc_peer_net *p = calloc(1, sizeof(*p));
	if (p == NULL || (p->outs = calloc(RPC_PEER_MAX, sizeof(*p->outs))) == NULL) {
		free(p);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&p->mu, NULL);
	p->npeers = npeers;
	p->self = self;
	p->tls = tls != NULL;
	p->lim = *lim;
	if (p->lim.queue_len == 0)
		p->lim.queue_len = 4096;
	if (p->lim.queue_bytes == 0)
		p->lim.queue_bytes = (size_t)64 << 20;
	p->fn = fn;
	p->arg = arg;
	for (size_t i = 0; i < RPC_PEER_MAX; i++) {
		p->outs[i].net = p;
		p->outs[i].backoff = OUT_BACKOFF_MIN_MS;
	}
	int rc = listen_url != NULL ? peer_in_start(p, listen_url, tls, err) : 0;
	if (rc == 0)
		rc = start_outs(p, peer_urls, tls, err);
	if (rc != 0) {
		rpc_peer_stop(p); /* nothing has started: frees what was made */
		return rc;
	}
	pthread_mutex_lock(&p->mu);
	peer_in_run(p);
	for (size_t i = 0; i < npeers; i++)
		out_dial(&p->outs[i]); /* those with an address */
	pthread_mutex_unlock(&p->mu);
	*out = p;
	return 0;
}

void
rpc_peer_stop(struct rpc_peer_net *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	peer_in_close(p);
	for (size_t i = 0; i < RPC_PEER_MAX; i++) {
		if (p->outs[i].dialer != NULL)
			nng_stream_dialer_close(p->outs[i].dialer);
		peer_link_fail(&p->outs[i].link);
	}
	pthread_mutex_unlock(&p->mu);
	/* each waits for at most one callback, which starts nothing now */
	peer_in_stop(p);
	for (size_t i = 0; i < RPC_PEER_MAX; i++) {
		nng_aio_stop(p->outs[i].conn);
		nng_aio_stop(p->outs[i].link.rx);
		nng_aio_stop(p->outs[i].link.tx);
	}
	/* no callback can run now */
	for (size_t i = 0; i < RPC_PEER_MAX; i++) {
		struct peer_out *o = &p->outs[i];
		nng_stream_free(o->link.s);
		for (struct qmsg *q = o->head, *next; q != NULL; q = next) {
			next = q->next;
			free(q);
		}
		nng_aio_free(o->conn);
		nng_aio_free(o->link.rx);
		nng_aio_free(o->link.tx);
		nng_stream_dialer_free(o->dialer);
		if (o->tls != NULL)
			nng_tls_config_free(o->tls); /* ours; a dialer held its own */
	}
	peer_in_free(p);
	pthread_mutex_destroy(&p->mu);
	free(p->outs);
	free(p);
}
