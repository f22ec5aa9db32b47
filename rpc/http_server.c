/*
 * The JSON-RPC endpoint on nng's HTTP server. Each request's nng_aio is
 * held until the node answers; if the client goes away first, nng cancels
 * the aio, and the answer, when it comes, is dropped.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "rpc/http_server.h"

struct rpc_http_server {
	nng_url *url;
	nng_http_server *srv;
	nng_http_handler *handler;
	size_t max_inflight;
	atomic_size_t inflight;
	rpc_http_fn fn;
	void *arg;
};

struct rpc_http_req {
	struct rpc_http_server *s;
	nng_aio *aio;
	pthread_mutex_t mu;
	bool done; /* the aio was finished (answered or cancelled) */
	char *body;
	size_t len;
};

static void
finish(nng_aio *aio, int status, const char *content_type, const void *body, size_t len)
{
	nng_http_res *res = NULL;
	if (nng_http_res_alloc(&res) != 0) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_http_res_set_status(res, (uint16_t)status);
	if (len > 0) {
		nng_http_res_set_header(res, "Content-Type",
					content_type ? content_type : "application/json");
		if (nng_http_res_copy_data(res, body, len) != 0) {
			nng_http_res_free(res);
			nng_aio_finish(aio, NNG_ENOMEM);
			return;
		}
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static void
on_cancel(nng_aio *aio, void *arg, int rv)
{
	struct rpc_http_req *r = arg;
	pthread_mutex_lock(&r->mu);
	if (!r->done) {
		r->done = true;
		nng_aio_finish(aio, rv);
	}
	pthread_mutex_unlock(&r->mu);
}

static void
plain(nng_aio *aio, int status, const char *msg)
{
	char body[256];
	int n = snprintf(body, sizeof(body),
			 "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"%s\"}}",
			 msg);
	finish(aio, status, NULL, body, (size_t)n);
}

static void
on_request(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct rpc_http_server *s = nng_http_handler_get_data(h);
	const char *method = nng_http_req_get_method(req);
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
		static const char hint[] = "POST JSON-RPC 2.0 requests to /; see docs/RPC.md\n";
		finish(aio, 200, "text/plain", hint, sizeof(hint) - 1);
		return;
	}
	if (strcmp(method, "POST") != 0) {
		plain(aio, 405, "use POST");
		return;
	}
	if (atomic_fetch_add(&s->inflight, 1) >= s->max_inflight) {
		atomic_fetch_sub(&s->inflight, 1);
		plain(aio, 503, "too many requests in flight; retry later");
		return;
	}
	void *data = NULL;
	size_t len = 0;
	nng_http_req_get_data(req, &data, &len);
	struct rpc_http_req *r = calloc(1, sizeof(*r));
	char *body = malloc(len + 1);
	if (r == NULL || body == NULL) {
		free(r);
		free(body);
		atomic_fetch_sub(&s->inflight, 1);
		plain(aio, 503, "out of memory");
		return;
	}
	if (len > 0)
		memcpy(body, data, len);
	body[len] = '\0';
	pthread_mutex_init(&r->mu, NULL);
	r->s = s;
	r->aio = aio;
	r->body = body;
	r->len = len;
	nng_aio_defer(aio, on_cancel, r);
	s->fn(s->arg, r, r->body, r->len);
}

void
rpc_http_reply(struct rpc_http_req *r, int status, const char *content_type, const void *body,
	       size_t len)
{
	pthread_mutex_lock(&r->mu);
	if (!r->done) {
		r->done = true;
		finish(r->aio, status, content_type, body, len);
	}
	pthread_mutex_unlock(&r->mu);
	atomic_fetch_sub(&r->s->inflight, 1);
	pthread_mutex_destroy(&r->mu);
	free(r->body);
	free(r);
}

int
rpc_http_start(struct rpc_http_server **out, const char *url, size_t max_body, size_t max_inflight,
	       rpc_http_fn fn, void *arg, struct ch_err *err)
{
	struct rpc_http_server *s = calloc(1, sizeof(*s));
	int rv;
	if (s == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	s->fn = fn;
	s->arg = arg;
	s->max_inflight = max_inflight;
	atomic_init(&s->inflight, 0);
	if ((rv = nng_url_parse(&s->url, url)) != 0) {
		free(s);
		return ch_errf(err, CH_E_CONFIG, "json-rpc listen %s: %s", url, nng_strerror(rv));
	}
	if ((rv = nng_http_server_hold(&s->srv, s->url)) != 0 ||
	    (rv = nng_http_handler_alloc(&s->handler, "/", on_request)) != 0)
		goto fail;
	if ((rv = nng_http_handler_set_method(s->handler, NULL)) != 0 ||
	    (rv = nng_http_handler_collect_body(s->handler, true, max_body)) != 0 ||
	    (rv = nng_http_handler_set_data(s->handler, s, NULL)) != 0 ||
	    (rv = nng_http_server_add_handler(s->srv, s->handler)) != 0) {
		nng_http_handler_free(s->handler);
		goto fail;
	}
	if ((rv = nng_http_server_start(s->srv)) != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s->srv != NULL)
		nng_http_server_release(s->srv);
	nng_url_free(s->url);
	free(s);
	return ch_errf(err, rv == NNG_EADDRINUSE ? CH_E_IO : CH_E_INTERNAL, "json-rpc listen %s: %s",
		       url, nng_strerror(rv));
}

void
rpc_http_stop(struct rpc_http_server *s)
{
	if (s == NULL)
		return;
	nng_http_server_stop(s->srv);
	nng_http_server_release(s->srv);
	nng_url_free(s->url);
	free(s);
}
