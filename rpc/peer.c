/*
 * Validator-to-validator transport: a PULL listener and one PUSH dialer per
 * peer (nng pipeline protocol). Sends never block: a message for a peer
 * that is down or slow is dropped and counted; PBFT retransmits.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>

#include "rpc/peer.h"

struct peer {
	nng_socket push;
	bool open;
	struct rpc_peer_stats stats;
	int pipes;
};

struct rpc_peer_net {
	nng_socket pull;
	nng_aio *rx;
	size_t npeers, self, max_msg;
	struct peer *peers;
	rpc_peer_fn fn;
	void *arg;
	pthread_mutex_t mu; /* stats */
	uint64_t received;
	bool stopping;
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
	uint8_t *copy = malloc(len ? len : 1);
	if (copy != NULL) {
		memcpy(copy, nng_msg_body(m), len);
		pthread_mutex_lock(&p->mu);
		p->received++;
		pthread_mutex_unlock(&p->mu);
		p->fn(p->arg, copy, len);
	}
	nng_msg_free(m);
	nng_recv_aio(p->pull, p->rx);
}

int
rpc_peer_start(struct rpc_peer_net **out, const char *listen_url, const char *const *peer_urls,
	       size_t npeers, size_t self, size_t max_msg_bytes, size_t queue_len, rpc_peer_fn fn,
	       void *arg, struct ch_err *err)
{
	struct rpc_peer_net *p = calloc(1, sizeof(*p));
	int rv;
	if (p == NULL || (p->peers = calloc(npeers, sizeof(*p->peers))) == NULL) {
		free(p);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&p->mu, NULL);
	p->npeers = npeers;
	p->self = self;
	p->max_msg = max_msg_bytes;
	p->fn = fn;
	p->arg = arg;
	if ((rv = nng_pull0_open(&p->pull)) != 0 ||
	    (rv = nng_socket_set_size(p->pull, NNG_OPT_RECVMAXSZ, max_msg_bytes)) != 0 ||
	    (rv = nng_listen(p->pull, listen_url, NULL, 0)) != 0) {
		int rc = ch_errf(err, rv == NNG_EADDRINUSE ? CH_E_IO : CH_E_CONFIG,
				 "p2p listen %s: %s", listen_url, nng_strerror(rv));
		nng_close(p->pull);
		pthread_mutex_destroy(&p->mu);
		free(p->peers);
		free(p);
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
		nng_socket_set_int(pr->push, NNG_OPT_SENDBUF, (int)(queue_len > 8192 ? 8192 : queue_len));
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
	rpc_peer_stop(p);
	return err != NULL ? err->code : CH_E_CONFIG;
}

int
rpc_peer_send(struct rpc_peer_net *p, size_t to, const void *msg, size_t len)
{
	if (to >= p->npeers || to == p->self)
		return CH_E_INVALID;
	struct peer *pr = &p->peers[to];
	if (len > p->max_msg) {
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

uint64_t
rpc_peer_received_total(struct rpc_peer_net *p)
{
	pthread_mutex_lock(&p->mu);
	uint64_t r = p->received;
	pthread_mutex_unlock(&p->mu);
	return r;
}

void
rpc_peer_stop(struct rpc_peer_net *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_mutex_unlock(&p->mu);
	if (p->rx != NULL)
		nng_aio_stop(p->rx);
	nng_close(p->pull);
	for (size_t i = 0; i < p->npeers; i++)
		if (p->peers[i].open)
			nng_close(p->peers[i].push);
	nng_aio_free(p->rx);
	pthread_mutex_destroy(&p->mu);
	free(p->peers);
	free(p);
}
