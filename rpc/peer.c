/*
 * Validator-to-validator transport: a PULL listener and one PUSH dialer per
 * peer (nng pipeline protocol). Sends never block: a message for a peer
 * that is down or slow is dropped and counted; PBFT retransmits.
 *
 * Inbound connections are counted and metered: one over max_conns is hung
 * up on as it arrives, and each connection draws its messages from two
 * token buckets (messages and bytes per second, holding two seconds'
 * worth); what arrives with a bucket empty is dropped and counted.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/supplemental/util/platform.h>

#include "rpc/peer.h"

struct peer {
	nng_socket push;
	bool open;
	struct rpc_peer_stats stats;
	int pipes;
};

/* one inbound connection's token buckets */
struct conn {
	uint32_t pipe; /* nng pipe id; 0: free slot */
	nng_time last; /* ms of the last refill */
	double msgs, bytes;
};

struct rpc_peer_net {
	nng_socket pull;
	nng_aio *rx;
	size_t npeers, self;
	struct rpc_peer_limits lim;
	struct peer *peers;
	rpc_peer_fn fn;
	void *arg;
	pthread_mutex_t mu; /* the rest */
	struct conn *conns; /* lim.max_conns slots */
	uint32_t nconns;
	struct rpc_peer_in_stats in;
	bool stopping;
	/* the close of the sockets (rpc_peer_stop), on a thread of its own */
	pthread_cond_t closed_cv;
	bool closed, abandoned;
};

static void
on_pipe(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct peer *pr = arg;
	(void)pipe;
	/* pipe events of one socket are serialised by nng; connected is advisory */
	if (ev == NNG_PIPE_EV_ADD_POST)
		pr->pipes++;
	else if (ev == NNG_PIPE_EV_REM_POST && pr->pipes > 0)
		pr->pipes--;
	pr->stats.connected = pr->pipes > 0;
}

static struct conn *
find_conn(struct rpc_peer_net *p, uint32_t id)
{
	for (uint32_t i = 0; i < p->lim.max_conns; i++)
		if (p->conns[i].pipe == id)
			return &p->conns[i];
	return NULL;
}

/* on_in_pipe admits an inbound connection while there is room, and forgets it when it goes. */
static void
on_in_pipe(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct rpc_peer_net *p = arg;
	uint32_t id = (uint32_t)nng_pipe_id(pipe);
	bool refuse = false;
	pthread_mutex_lock(&p->mu);
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		struct conn *c = find_conn(p, 0);
		if (c == NULL || p->stopping) {
			p->in.refused_connections++;
			refuse = true;
		} else {
			*c = (struct conn){.pipe = id, .last = nng_clock(),
					   .msgs = 2.0 * p->lim.msgs_per_s,
					   .bytes = 2.0 * (double)p->lim.bytes_per_s};
			p->nconns++;
		}
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		struct conn *c = find_conn(p, id);
		if (c != NULL) {
			c->pipe = 0;
			p->nconns--;
		}
	}
	pthread_mutex_unlock(&p->mu);
	if (refuse)
		nng_pipe_close(pipe); /* the one close nng allows in a pipe callback */
}

/* admit takes a message of len bytes from its connection's buckets (under p->mu). */
static bool
admit(struct rpc_peer_net *p, uint32_t pipe, size_t len)
{
	struct conn *c = find_conn(p, pipe);
	if (c == NULL)
		return true; /* a pipe between its ADD_PRE and a slot: cannot happen, harmless */
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

static void
on_recv(void *arg)
{
	struct rpc_peer_net *p = arg;
	if (nng_aio_result(p->rx) != 0) {
		/* closed (stopping) or a transient error: re-arm unless stopping */
		pthread_mutex_lock(&p->mu);
		bool stop = p->stopping;
		pthread_mutex_unlock(&p->mu);
		if (!stop)
			nng_recv_aio(p->pull, p->rx);
		return;
	}
	nng_msg *m = nng_aio_get_msg(p->rx);
	size_t len = nng_msg_len(m);
	pthread_mutex_lock(&p->mu);
	bool ok = admit(p, (uint32_t)nng_pipe_id(nng_msg_get_pipe(m)), len);
	if (ok)
		p->in.received++;
	else
		p->in.rate_limited++;
	pthread_mutex_unlock(&p->mu);
	uint8_t *copy = ok ? malloc(len ? len : 1) : NULL;
	if (copy != NULL) {
		memcpy(copy, nng_msg_body(m), len);
		p->fn(p->arg, copy, len);
	}
	nng_msg_free(m);
	nng_recv_aio(p->pull, p->rx);
}

/* net_free frees p once its sockets are closed and no callback can run. */
static void
net_free(struct rpc_peer_net *p)
{
	nng_aio_free(p->rx);
	pthread_cond_destroy(&p->closed_cv);
	pthread_mutex_destroy(&p->mu);
	free(p->conns);
	free(p->peers);
	free(p);
}

int
rpc_peer_start(struct rpc_peer_net **out, const char *listen_url, const char *const *peer_urls,
	       size_t npeers, size_t self, const struct rpc_peer_limits *lim, rpc_peer_fn fn,
	       void *arg, struct ch_err *err)
{
	struct rpc_peer_net *p = calloc(1, sizeof(*p));
	int rv;
	if (p == NULL || (p->peers = calloc(npeers, sizeof(*p->peers))) == NULL ||
	    (p->conns = calloc(lim->max_conns ? lim->max_conns : 1, sizeof(*p->conns))) == NULL) {
		if (p != NULL)
			free(p->peers);
		free(p);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->closed_cv, &ca);
	pthread_condattr_destroy(&ca);
	p->npeers = npeers;
	p->self = self;
	p->lim = *lim;
	p->fn = fn;
	p->arg = arg;
	if ((rv = nng_pull0_open(&p->pull)) != 0 ||
	    (rv = nng_socket_set_size(p->pull, NNG_OPT_RECVMAXSZ, lim->max_msg_bytes)) != 0 ||
	    (rv = nng_pipe_notify(p->pull, NNG_PIPE_EV_ADD_PRE, on_in_pipe, p)) != 0 ||
	    (rv = nng_pipe_notify(p->pull, NNG_PIPE_EV_REM_POST, on_in_pipe, p)) != 0 ||
	    (rv = nng_listen(p->pull, listen_url, NULL, 0)) != 0) {
		int rc = ch_errf(err, rv == NNG_EADDRINUSE ? CH_E_IO : CH_E_CONFIG,
				 "p2p listen %s: %s", listen_url, nng_strerror(rv));
		nng_close(p->pull);
		net_free(p);
		return rc;
	}
	for (size_t i = 0; i < npeers; i++) {
		struct peer *pr = &p->peers[i];
		if (i == self)
			continue;
		if ((rv = nng_push0_open(&pr->push)) != 0)
			goto fail;
		pr->open = true;
		nng_pipe_notify(pr->push, NNG_PIPE_EV_ADD_POST, on_pipe, pr);
		nng_pipe_notify(pr->push, NNG_PIPE_EV_REM_POST, on_pipe, pr);
		nng_socket_set_ms(pr->push, NNG_OPT_RECONNMINT, 100);
		nng_socket_set_ms(pr->push, NNG_OPT_RECONNMAXT, 2000);
		nng_socket_set_ms(pr->push, NNG_OPT_SENDTIMEO, 0);
		nng_socket_set_int(pr->push, NNG_OPT_SENDBUF,
				   (int)(lim->queue_len > 8192 ? 8192 : lim->queue_len));
		if ((rv = nng_dial(pr->push, peer_urls[i], NULL, NNG_FLAG_NONBLOCK)) != 0)
			goto fail;
	}
	if ((rv = nng_aio_alloc(&p->rx, on_recv, p)) != 0)
		goto fail;
	nng_recv_aio(p->pull, p->rx);
	*out = p;
	return 0;
fail:
	ch_errf(err, CH_E_CONFIG, "p2p dial: %s", nng_strerror(rv));
	rpc_peer_stop(p, 0);
	return err != NULL ? err->code : CH_E_CONFIG;
}

int
rpc_peer_send(struct rpc_peer_net *p, size_t to, const void *msg, size_t len)
{
	if (to >= p->npeers || to == p->self)
		return CH_E_INVALID;
	struct peer *pr = &p->peers[to];
	if (len > p->lim.max_msg_bytes) {
		pthread_mutex_lock(&p->mu);
		pr->stats.oversized++;
		pthread_mutex_unlock(&p->mu);
		return CH_E_TOO_LARGE;
	}
	nng_msg *m = NULL;
	int rv = nng_msg_alloc(&m, len);
	if (rv == 0) {
		memcpy(nng_msg_body(m), msg, len);
		rv = nng_sendmsg(pr->push, m, NNG_FLAG_NONBLOCK);
		if (rv != 0)
			nng_msg_free(m);
	}
	pthread_mutex_lock(&p->mu);
	if (rv == 0)
		pr->stats.sent++;
	else
		pr->stats.dropped++;
	pthread_mutex_unlock(&p->mu);
	return rv == 0 ? 0 : CH_E_UNAVAILABLE;
}

void
rpc_peer_broadcast(struct rpc_peer_net *p, const void *msg, size_t len)
{
	for (size_t i = 0; i < p->npeers; i++)
		if (i != p->self)
			(void)rpc_peer_send(p, i, msg, len);
}

void
rpc_peer_stats(struct rpc_peer_net *p, size_t peer, struct rpc_peer_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (peer >= p->npeers)
		return;
	pthread_mutex_lock(&p->mu);
	*out = p->peers[peer].stats;
	pthread_mutex_unlock(&p->mu);
	out->connected = p->peers[peer].pipes > 0;
}

void
rpc_peer_in_stats(struct rpc_peer_net *p, struct rpc_peer_in_stats *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->in;
	out->connections = p->nconns;
	pthread_mutex_unlock(&p->mu);
}

/*
 * close_sockets closes every socket. nng 1.5's close can wait forever for a
 * pipe its reaper never finishes; if the stopping thread gave up waiting
 * (abandoned), this thread owns p and frees it, should the close return.
 */
static void *
close_sockets(void *arg)
{
	struct rpc_peer_net *p = arg;
	nng_close(p->pull);
	for (size_t i = 0; i < p->npeers; i++)
		if (p->peers[i].open)
			nng_close(p->peers[i].push);
	pthread_mutex_lock(&p->mu);
	bool mine = p->abandoned;
	p->closed = true;
	pthread_cond_signal(&p->closed_cv);
	pthread_mutex_unlock(&p->mu);
	if (mine)
		net_free(p);
	return NULL;
}

bool
rpc_peer_stop(struct rpc_peer_net *p, unsigned limit_ms)
{
	if (p == NULL)
		return true;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_mutex_unlock(&p->mu);
	if (p->rx != NULL)
		nng_aio_stop(p->rx); /* no callback runs after this */
	pthread_t t;
	if (limit_ms == 0 || pthread_create(&t, NULL, close_sockets, p) != 0) {
		p->abandoned = false;
		close_sockets(p);
		net_free(p);
		return true;
	}
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += limit_ms / 1000;
	dl.tv_nsec += (long)(limit_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->mu);
	while (!p->closed && pthread_cond_timedwait(&p->closed_cv, &p->mu, &dl) != ETIMEDOUT)
		;
	bool closed = p->closed;
	p->abandoned = !closed;
	pthread_mutex_unlock(&p->mu);
	if (!closed) {
		pthread_detach(t);
		return false;
	}
	pthread_join(t, NULL);
	net_free(p);
	return true;
}
