/*
 * The listening side of the peer transport: accepts connections into a
 * fixed set of lim.max_conns slots (one more is closed at accept), checks
 * each one's hello, then reads frames and meters them with two token
 * buckets per connection (messages and bytes per second, holding two
 * seconds' worth). A frame that finds a bucket empty is read into scratch
 * and dropped. The locking rules are at the top of rpc/peer.c; every
 * function here but the callbacks and peer_in_stop/peer_in_free runs
 * under p->mu.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "rpc/peer_internal.h"

#define IN_SKIP_BYTES 16384    /* scratch for a dropped body, read in pieces */
#define IN_ACCEPT_RETRY_MS 10 /* after a failed accept (out of descriptors, say) */

static void in_rx_cb(void *arg);
static void in_tx_cb(void *arg);

static void
in_head(struct peer_in *c)
{
	c->in_body = false;
	c->got = 0;
	peer_link_recv(&c->link, c->head, sizeof(c->head));
}

static void
in_body(struct peer_in *c)
{
	size_t left = c->len - c->got;
	if (c->body != NULL)
		peer_link_recv(&c->link, c->body + c->got, left);
	else
		peer_link_recv(&c->link, c->skip, left < IN_SKIP_BYTES ? left : IN_SKIP_BYTES);
}

/* admit takes a frame of len bytes from c's buckets, refilled for the time since the last. */
static bool
admit(struct rpc_peer_net *p, struct peer_in *c, size_t len)
{
	nng_time now = nng_clock();
	double dt = (double)(now - c->last) / 1000.0;
	double mcap = 2.0 * p->lim.msgs_per_s, bcap = 2.0 * (double)p->lim.bytes_per_s;
	c->last = now;
	c->msgs += dt * p->lim.msgs_per_s;
	c->bytes += dt * (double)p->lim.bytes_per_s;
	if (c->msgs > mcap)
		c->msgs = mcap;
	if (c->bytes > bcap)
		c->bytes = bcap;
	if (c->msgs < 1.0 || c->bytes < (double)len)
		return false;
	c->msgs -= 1.0;
	c->bytes -= (double)len;
	return true;
}

/* in_frame handles a completed read on an open connection; may return a message to pass on. */
static uint8_t *
in_frame(struct rpc_peer_net *p, struct peer_in *c, size_t count, size_t *len)
{
	c->got += count;
	if (!c->in_body) {
		if (c->got < sizeof(c->head)) {
			peer_link_recv(&c->link, c->head + c->got, sizeof(c->head) - c->got);
			return NULL;
		}
		c->len = ch_get_be32(c->head);
		if (c->len == 0 || c->len > p->lim.max_msg_bytes) {
			p->in.oversized++;
			peer_link_fail(&c->link); /* before reading a byte of the body */
			return NULL;
		}
		if (!admit(p, c, c->len))
			p->in.rate_limited++;
		else if ((c->body = malloc(c->len)) == NULL) {
			peer_link_fail(&c->link);
			return NULL;
		}
		c->in_body = true;
		c->got = 0;
		in_body(c);
		return NULL;
	}
	if (c->got < c->len) {
		in_body(c);
		return NULL;
	}
	uint8_t *msg = c->body;
	c->body = NULL;
	*len = c->len;
	if (msg != NULL)
		p->in.received++;
	else
		in_head(c); /* dropped: on to the next */
	return msg;
}

/* in_release forgets a connection whose stream is gone; the slot is free again. */
static void
in_release(struct rpc_peer_net *p, struct peer_in *c)
{
	free(c->body);
	c->body = NULL;
	p->nconns--;
	if (rpc_tls_failure(c->link.error))
		p->in.tls_failures++;
}

static void
in_rx_cb(void *arg)
{
	struct peer_in *c = arg;
	struct rpc_peer_net *p = c->net;
	struct peer_link *l = &c->link;
	uint8_t *msg = NULL;
	size_t len = 0;
	pthread_mutex_lock(&p->mu);
	bool ok = peer_link_ok(p, l, nng_aio_result(l->rx));
	size_t n = nng_aio_count(l->rx);
	if (ok && l->up) {
		msg = in_frame(p, c, n, &len);
	} else if (ok) {
		int h = peer_link_hello(l, n);
		if (h < 0)
			peer_link_fail(l);
		else if (h > 0)
			in_head(c);
	}
	if (msg != NULL) {
		/* our operation still counts in l->ops: the slot stays ours */
		pthread_mutex_unlock(&p->mu);
		p->fn(p->arg, msg, len);
		pthread_mutex_lock(&p->mu);
		if (!l->dead && !p->stopping)
			in_head(c);
	}
	if (peer_link_done(l))
		in_release(p, c);
	pthread_mutex_unlock(&p->mu);
}

static void
in_tx_cb(void *arg)
{
	struct peer_in *c = arg;
	struct rpc_peer_net *p = c->net;
	struct peer_link *l = &c->link;
	pthread_mutex_lock(&p->mu);
	if (peer_link_ok(p, l, nng_aio_result(l->tx)))
		(void)peer_link_hello_sent(l, nng_aio_count(l->tx)); /* the only thing sent */
	if (peer_link_done(l))
		in_release(p, c);
	pthread_mutex_unlock(&p->mu);
}

/* in_slot finds a free slot with its aios and scratch (made on first use); NULL if none. */
static struct peer_in *
in_slot(struct rpc_peer_net *p)
{
	for (uint32_t i = 0; i < p->lim.max_conns; i++) {
		struct peer_in *c = &p->ins[i];
		if (c->link.s != NULL)
			continue;
		if ((c->link.rx == NULL && nng_aio_alloc(&c->link.rx, in_rx_cb, c) != 0) ||
		    (c->link.tx == NULL && nng_aio_alloc(&c->link.tx, in_tx_cb, c) != 0) ||
		    (c->skip == NULL && (c->skip = malloc(IN_SKIP_BYTES)) == NULL))
			return NULL;
		return c;
	}
	return NULL;
}

static void
in_accept_cb(void *arg)
{
	struct rpc_peer_net *p = arg;
	pthread_mutex_lock(&p->mu);
	int rv = nng_aio_result(p->accept);
	bool slept = p->accept_sleeping;
	p->accept_sleeping = false;
	if (!slept && rv == 0) {
		nng_stream *s = nng_aio_get_output(p->accept, 0);
		struct peer_in *c = p->stopping ? NULL : in_slot(p);
		if (c == NULL) {
			if (!p->stopping)
				p->in.refused_connections++;
			nng_stream_close(s);
			nng_stream_free(s);
		} else {
			c->in_body = false;
			c->got = 0;
			c->last = nng_clock();
			c->msgs = 2.0 * p->lim.msgs_per_s;
			c->bytes = 2.0 * (double)p->lim.bytes_per_s;
			p->nconns++;
			peer_link_open(&c->link, s);
		}
	}
	if (p->stopping || (!slept && rv == NNG_ECLOSED)) {
		/* the listener is closed: accept nothing more */
	} else if (slept || rv == 0) {
		nng_stream_listener_accept(p->listener, p->accept);
	} else {
		p->accept_sleeping = true;
		nng_sleep_aio(IN_ACCEPT_RETRY_MS, p->accept);
	}
	pthread_mutex_unlock(&p->mu);
}

/* in_tls makes the listener demand a certificate issued under one of the validators' anchors. */
static int
in_tls(struct rpc_peer_net *p, const struct rpc_peer_tls *tls, const char *what,
       struct ch_err *err)
{
	struct ch_buf all;
	ch_buf_init(&all);
	for (size_t i = 0; i < p->npeers; i++) /* one PEM string holding every anchor */
		ch_buf_put(&all, tls->anchors[i], strlen(tls->anchors[i]));
	ch_buf_u8(&all, 0);
	if (!ch_buf_ok(&all)) {
		ch_buf_close(&all);
		return ch_errf(err, CH_E_NOMEM, "%s: out of memory", what);
	}
	nng_tls_config *c = NULL;
	int rc = rpc_tls_config(&c, true, tls->cert_pem, tls->key_pem, (const char *)all.data, NULL,
				what, err);
	ch_buf_close(&all);
	if (rc != 0)
		return rc;
	int rv = nng_stream_listener_set_ptr(p->listener, NNG_OPT_TLS_CONFIG, c);
	nng_tls_config_free(c); /* the listener holds it */
	if (rv != 0)
		return ch_errf(err, CH_E_CONFIG, "%s: tls: %s", what, nng_strerror(rv));
	return 0;
}

int
peer_in_start(struct rpc_peer_net *p, const char *addr, const struct rpc_peer_tls *tls,
	      struct ch_err *err)
{
	char url[256], what[300];
	int rv, rc;
	if ((rc = peer_url(url, sizeof(url), addr, tls != NULL, err)) != 0)
		return rc;
	snprintf(what, sizeof(what), "p2p listen %s", addr);
	if (p->lim.max_conns > 0 &&
	    (p->ins = calloc(p->lim.max_conns, sizeof(*p->ins))) == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < p->lim.max_conns; i++)
		p->ins[i].net = p;
	if ((rv = nng_stream_listener_alloc(&p->listener, url)) != 0 ||
	    (rv = nng_stream_listener_set_bool(p->listener, NNG_OPT_TCP_NODELAY, true)) != 0)
		return ch_errf(err, CH_E_CONFIG, "p2p listen %s: %s", url, nng_strerror(rv));
	if (tls != NULL && (rc = in_tls(p, tls, what, err)) != 0)
		return rc;
	if ((rv = nng_stream_listener_listen(p->listener)) != 0)
		return ch_errf(err, rv == NNG_EADDRINUSE ? CH_E_IO : CH_E_CONFIG,
			       "p2p listen %s: %s", url, nng_strerror(rv));
	if ((rv = nng_aio_alloc(&p->accept, in_accept_cb, p)) != 0)
		return ch_errf(err, CH_E_NOMEM, "p2p listen %s: %s", url, nng_strerror(rv));
	return 0;
}

void
peer_in_run(struct rpc_peer_net *p)
{
	if (p->listener != NULL)
		nng_stream_listener_accept(p->listener, p->accept);
}

void
peer_in_close(struct rpc_peer_net *p)
{
	if (p->listener != NULL)
		nng_stream_listener_close(p->listener);
	for (uint32_t i = 0; p->ins != NULL && i < p->lim.max_conns; i++)
		peer_link_fail(&p->ins[i].link);
}

void
peer_in_stop(struct rpc_peer_net *p)
{
	nng_aio_stop(p->accept);
	for (uint32_t i = 0; p->ins != NULL && i < p->lim.max_conns; i++) {
		nng_aio_stop(p->ins[i].link.rx);
		nng_aio_stop(p->ins[i].link.tx);
	}
}

void
peer_in_free(struct rpc_peer_net *p)
{
	for (uint32_t i = 0; p->ins != NULL && i < p->lim.max_conns; i++) {
		struct peer_in *c = &p->ins[i];
		nng_stream_free(c->link.s);
		free(c->body);
		free(c->skip);
		nng_aio_free(c->link.rx);
		nng_aio_free(c->link.tx);
	}
	free(p->ins);
	nng_aio_free(p->accept);
	nng_stream_listener_free(p->listener);
}
