/*
 * Streams (http_server.h): a request whose connection the owner takes over
 * from nng's HTTP server ("hijacks") to write a body of no set length.
 *
 * Taking the connection over races with nng closing it (the server
 * stopping). nng frees a connection only after the request's callback aio
 * has finished, so the request is marked REQ_STREAMING first: its cancel
 * (on_cancel in http_server.c) then only notes it, and this file finishes
 * the aio once the connection is ours. A connection nng closed meanwhile
 * is ours to free, and the stream fails to open.
 *
 * Once open, a stream has two aios: one write at a time, and a read that
 * only waits for the client to close (it sends nothing after its request).
 * Both callbacks check `closing` under the stream's lock before starting
 * anything new, and rpc_http_stream_close sets it before stopping them, so
 * nothing runs once close returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/http_internal.h"

struct rpc_http_stream {
	pthread_mutex_t mu;
	nng_http_conn *conn;
	nng_http_req *hreq;
	nng_aio *wr, *rd;
	rpc_http_stream_fn fn;
	void *arg;
	uint64_t id;
	/* under mu */
	bool writing, gone, closing;
	char *buf; /* being written */
	char rdbuf[512];
};

/* lost marks the connection gone and says whether the owner is still to hear of it (under mu). */
static bool
lost(struct rpc_http_stream *st)
{
	bool first = !st->gone && !st->closing;
	st->gone = true;
	return first;
}

static void
on_write(void *arg)
{
	struct rpc_http_stream *st = arg;
	int rv = nng_aio_result(st->wr);
	pthread_mutex_lock(&st->mu);
	st->writing = false;
	free(st->buf);
	st->buf = NULL;
	bool tell = st->closing ? false : rv != 0 ? lost(st) : true;
	pthread_mutex_unlock(&st->mu);
	if (tell)
		st->fn(st->arg, st->id, rv != 0);
}

static void
start_read(struct rpc_http_stream *st)
{
	nng_iov iov = {st->rdbuf, sizeof(st->rdbuf)};
	nng_aio_set_iov(st->rd, 1, &iov);
	nng_http_conn_read(st->conn, st->rd);
}

static void
on_read(void *arg)
{
	struct rpc_http_stream *st = arg;
	int rv = nng_aio_result(st->rd);
	bool tell = false;
	pthread_mutex_lock(&st->mu);
	if (!st->closing && rv == 0)
		start_read(st); /* whatever the client sends is ignored */
	else if (!st->closing)
		tell = lost(st);
	pthread_mutex_unlock(&st->mu);
	if (tell)
		st->fn(st->arg, st->id, true);
}

static void
stream_free(struct rpc_http_stream *st)
{
	if (st->wr != NULL)
		nng_aio_free(st->wr);
	if (st->rd != NULL)
		nng_aio_free(st->rd);
	if (st->conn != NULL)
		nng_http_conn_close(st->conn);
	if (st->hreq != NULL)
		nng_http_req_free(st->hreq);
	pthread_mutex_destroy(&st->mu);
	free(st->buf);
	free(st);
}

/* take_over hijacks r's connection and ends r; false if nng closed the connection first. */
static bool
take_over(struct rpc_http_req *r, struct rpc_http_stream *st)
{
	struct rpc_http_server *s = r->s;
	pthread_mutex_lock(&s->mu);
	bool open = r->aio != NULL && !r->cancelled && !s->stopped;
	if (open)
		r->state = REQ_STREAMING;
	pthread_mutex_unlock(&s->mu);
	if (!open) {
		nng_aio *aio = http_req_end(r);
		if (aio != NULL)
			nng_aio_finish(aio, NNG_ECLOSED);
		return false;
	}
	/* not under s->mu: nng takes its own lock, and holds it while calling on_cancel */
	nng_http_hijack(r->conn);
	st->conn = r->conn;
	st->hreq = r->hreq;
	pthread_mutex_lock(&s->mu);
	bool cancelled = r->cancelled;
	pthread_mutex_unlock(&s->mu);
	nng_aio *aio = http_req_end(r);
	/* no output: nng lets go of the hijacked connection and of its request */
	nng_aio_finish(aio, cancelled ? NNG_ECLOSED : 0);
	return !cancelled;
}

int
rpc_http_stream_open(struct rpc_http_req *r, const char *content_type, uint64_t id,
		     rpc_http_stream_fn fn, void *arg, struct rpc_http_stream **out,
		     struct ch_err *err)
{
	*out = NULL;
	struct rpc_http_stream *st = calloc(1, sizeof(*st));
	if (st == NULL || nng_aio_alloc(&st->wr, on_write, st) != 0 ||
	    nng_aio_alloc(&st->rd, on_read, st) != 0) {
		if (st != NULL) {
			if (st->wr != NULL)
				nng_aio_free(st->wr);
			free(st);
		}
		nng_aio *aio = http_req_end(r);
		if (aio != NULL)
			nng_aio_finish(aio, NNG_ENOMEM);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	pthread_mutex_init(&st->mu, NULL);
	st->fn = fn;
	st->arg = arg;
	st->id = id;
	if (!take_over(r, st)) {
		stream_free(st);
		return ch_errf(err, CH_E_IO, "the client's connection is gone");
	}
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nCache-Control: no-cache\r\n"
			 "Connection: close\r\nX-Accel-Buffering: no\r\n\r\n",
			 content_type);
	pthread_mutex_lock(&st->mu);
	start_read(st);
	pthread_mutex_unlock(&st->mu);
	int rc = n > 0 && (size_t)n < sizeof(head) ? rpc_http_stream_write(st, head, (size_t)n)
						     : CH_E_INVALID;
	if (rc != 0) {
		rpc_http_stream_close(st);
		return ch_errf(err, rc, "cannot start the stream");
	}
	*out = st;
	return 0;
}

int
rpc_http_stream_write(struct rpc_http_stream *st, const void *data, size_t len)
{
	int rc = 0;
	pthread_mutex_lock(&st->mu);
	if (st->gone || st->closing)
		rc = CH_E_IO;
	else if (st->writing)
		rc = CH_E_UNAVAILABLE;
	else if ((st->buf = malloc(len > 0 ? len : 1)) == NULL)
		rc = CH_E_NOMEM;
	if (rc == 0) {
		memcpy(st->buf, data, len);
		nng_iov iov = {st->buf, len};
		nng_aio_set_iov(st->wr, 1, &iov);
		st->writing = true;
		nng_http_conn_write_all(st->conn, st->wr);
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

void
rpc_http_stream_close(struct rpc_http_stream *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	st->closing = true;
	pthread_mutex_unlock(&st->mu);
	nng_aio_stop(st->wr);
	nng_aio_stop(st->rd);
	stream_free(st);
}
