/*
 * The node's HTTP endpoint on nng's HTTP server.
 *
 * nng calls on_request for every request (one handler on "/", any method,
 * any path) with the connection's callback aio already begun; a request is
 * answered by finishing that aio with an nng_http_res as output 0, after
 * which nng writes it and reads the connection's next request. POST / and
 * bodiless GETs of any path go to the owner's callback; a request it turns
 * into a stream leaves nng's hands (rpc/http_stream.c).
 *
 * Bodies are read here, not by nng: for a Content-Length over its limit
 * nng answers 400 and keeps the connection, whose unread body it then
 * parses as the next request. We answer 413 with "Connection: close",
 * after reading and discarding the body (up to DRAIN_MAX) so that a client
 * still sending sees the answer and not a connection reset.
 *
 * A client that disconnects while its request waits for the node goes
 * unnoticed (nothing reads the socket meanwhile): the answer is written to
 * a dead connection, the write fails and nng closes it. nng cancels the
 * callback aio only when it closes the connection itself (server stop, or
 * a failed body read); on_cancel then finishes the aio and a later
 * rpc_http_reply sends nothing. nng may call on_cancel after a reply has
 * finished the aio and freed the request, so on_cancel is given the server
 * and looks the request up by its aio, under the server's lock. (If nng
 * closes the connection in the instant between handing us the request and
 * our nng_aio_defer, the cancel function is not registered and nng's reaper
 * waits for the reply instead; nng_aio_defer reports nothing.)
 *
 * The server struct is reference counted: the owner (until rpc_http_stop),
 * nng's handler (until nng frees it, after the last connection is gone)
 * and each request. So late nng callbacks and late replies never touch
 * freed memory, even if rpc_http_stop came first.
 */
#include "rpc/http_internal.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#include "common/buf.h"
#include "common/num.h"
#include "rpc/tls_internal.h"

#define BODY_TIMEOUT_MS 30000  /* to receive one body */
#define DRAIN_MAX (16u << 20)  /* bytes past max_body read and discarded to answer 413 */
#define DRAIN_CHUNK 65536
#define STOP_WAIT_S 1 /* for nng to let go of the handler at stop */

/* JSON-RPC codes in the server's own error bodies (see common/err.h) */
#define CODE_INVALID_REQUEST -32600
#define CODE_TOO_LARGE -32008
#define CODE_UNAVAILABLE -32011

/* errstr is nng's message for rv, starting in lower case ("address in use"). */
static const char *
errstr(int rv, char *buf, size_t size)
{
	snprintf(buf, size, "%s", nng_strerror(rv));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/*
 * kept_by_nng: nng (1.5.2, and 1.6.0 alike) takes a reference on the
 * handler for each request it has read, and never drops it if the server
 * stops before the request is handed over (http_server.c: the failed
 * nni_aio_begin of the callback aio). The handler, and the server struct
 * it holds, then stay allocated until the process exits. Called only once
 * every request of ours has ended, so this marks nng's leftover as known to
 * LeakSanitizer and hides nothing of ours.
 */
static void
kept_by_nng(nng_http_handler *h)
{
#ifdef HAVE_LSAN
	__lsan_ignore_object(h);
#else
	(void)h;
#endif
}

static void
server_free(struct rpc_http_server *s)
{
	assert(s->refs == 0 && s->reqs == NULL);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* server_unref drops one reference, freeing s with the last. */
static void
server_unref(void *arg)
{
	struct rpc_http_server *s = arg;
	pthread_mutex_lock(&s->mu);
	bool last = --s->refs == 0;
	if (!last)
		pthread_cond_broadcast(&s->cv); /* rpc_http_stop may wait for refs to fall */
	pthread_mutex_unlock(&s->mu);
	if (last)
		server_free(s);
}

/* make_res builds a response (body copied), or NULL if out of memory. */
static nng_http_res *
make_res(int status, const char *content_type, const void *body, size_t len, bool close)
{
	nng_http_res *res = NULL;
	assert(status >= 100 && status <= 599);
	if (nng_http_res_alloc(&res) != 0)
		return NULL;
	if (nng_http_res_set_status(res, (uint16_t)status) != 0 ||
	    (len > 0 && nng_http_res_set_header(res, "Content-Type",
						content_type ? content_type : "application/json") != 0) ||
	    (len > 0 && nng_http_res_copy_data(res, body, len) != 0) ||
	    (len == 0 && status != 204 && nng_http_res_set_header(res, "Content-Length", "0") != 0) ||
	    (close && nng_http_res_set_header(res, "Connection", "close") != 0)) {
		nng_http_res_free(res);
		return NULL;
	}
	return res;
}

/* error_res builds a JSON-RPC error response with id null; msg needs no escaping. */
static nng_http_res *
error_res(int status, int code, const char *msg, bool close)
{
	char body[320];
	int n = snprintf(body, sizeof(body),
			 "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":%d,\"message\":\"%s\"}}",
			 code, msg);
	assert(n > 0 && (size_t)n < sizeof(body));
	return make_res(status, NULL, body, (size_t)n, close);
}

/* finish answers aio with res (transferred); NULL res closes the connection. */
static void
finish(nng_aio *aio, nng_http_res *res)
{
	if (res == NULL) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static void
link_req(struct rpc_http_server *s, struct rpc_http_req *r)
{
	r->prev = NULL;
	r->next = s->reqs;
	if (s->reqs != NULL)
		s->reqs->prev = r;
	s->reqs = r;
}

static void
unlink_req(struct rpc_http_server *s, struct rpc_http_req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		s->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

nng_aio *
http_req_end(struct rpc_http_req *r)
{
	struct rpc_http_server *s = r->s;
	pthread_mutex_lock(&s->mu);
	nng_aio *aio = r->aio;
	if (aio != NULL)
		unlink_req(s, r);
	r->aio = NULL;
	s->inflight--;
	bool last = --s->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (r->rdaio != NULL)
		nng_aio_reap(r->rdaio); /* we may be inside its callback */
	free(r->body);
	free(r->target);
	free(r);
	if (last)
		server_free(s);
	return aio;
}

/* call_fn hands a held request to the callback; s->calling was raised for it. */
static void
call_fn(struct rpc_http_server *s, struct rpc_http_req *r)
{
	const char *path = r->target;
	struct rpc_http_in in = {
		.method = r->method,
		.path = path,
		.query = path + strlen(path) + 1,
		.last_event_id = r->has_event_id ? r->event_id : NULL,
		.body = r->body,
		.len = r->len,
	};
	s->fn(s->arg, r, &in); /* r may be gone now */
	pthread_mutex_lock(&s->mu);
	if (--s->calling == 0 && s->stopped)
		pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void
start_read(struct rpc_http_req *r)
{
	nng_iov iov;
	if (r->state == REQ_DRAINING) {
		iov.iov_buf = r->body;
		iov.iov_len = r->left < DRAIN_CHUNK ? (size_t)r->left : DRAIN_CHUNK;
	} else {
		iov.iov_buf = r->body;
		iov.iov_len = r->len;
	}
	nng_aio_set_iov(r->rdaio, 1, &iov);
	nng_aio_set_timeout(r->rdaio, BODY_TIMEOUT_MS);
	if (r->state == REQ_DRAINING)
		nng_http_conn_read(r->conn, r->rdaio);
	else
		nng_http_conn_read_all(r->conn, r->rdaio);
}

/*
 * send_continue writes "100 Continue" for a client that waits for it before
 * sending its body (curl does above 1 MiB). The write aio frees itself; if
 * the connection closes first, nng fails the write and the callback runs.
 */
struct cont_write {
	nng_aio *aio;
};

static void
on_continue_sent(void *arg)
{
	struct cont_write *w = arg;
	nng_aio_reap(w->aio);
	free(w);
}

static void
send_continue(nng_http_conn *conn)
{
	static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct cont_write *w = malloc(sizeof(*w));
	nng_iov iov = {(void *)line, sizeof(line) - 1};
	if (w == NULL)
		return; /* the client sends its body after its own timeout */
	if (nng_aio_alloc(&w->aio, on_continue_sent, w) != 0) {
		free(w);
		return;
	}
	nng_aio_set_iov(w->aio, 1, &iov);
	nng_aio_set_timeout(w->aio, BODY_TIMEOUT_MS);
	nng_http_conn_write_all(conn, w->aio);
}

/* on_read: a body read (or a piece of a discarded body) completed. */
static void
on_read(void *arg)
{
	struct rpc_http_req *r = arg;
	struct rpc_http_server *s = r->s;
	int rv = nng_aio_result(r->rdaio);
	nng_http_res *res = NULL;
	nng_aio *aio;
	char msg[128];

	pthread_mutex_lock(&s->mu);
	if (rv == 0 && (r->cancelled || s->stopped))
		rv = NNG_ECLOSED;
	if (rv == 0 && r->state == REQ_DRAINING) {
		size_t n = nng_aio_count(r->rdaio);
		r->left -= n < r->left ? n : r->left;
		pthread_mutex_unlock(&s->mu);
		if (r->left > 0) {
			start_read(r);
			return;
		}
		snprintf(msg, sizeof(msg), "request body too large (limit %zu bytes)", s->max_body);
		res = error_res(413, CODE_TOO_LARGE, msg, true);
		goto end;
	}
	if (rv == 0) {
		r->state = REQ_HELD;
		s->calling++;
	}
	pthread_mutex_unlock(&s->mu);
	if (rv != 0)
		goto end;
	nng_aio_reap(r->rdaio); /* inside its own callback: freed later, by nng's reaper */
	r->rdaio = NULL;
	r->body[r->len] = '\0';
	call_fn(s, r);
	return;
end:
	/* a failed read (client gone, timeout, server stopping) closes without an answer */
	aio = http_req_end(r);
	if (aio != NULL && rv != 0)
		nng_aio_finish(aio, rv);
	else if (aio != NULL)
		finish(aio, res);
	else if (res != NULL)
		nng_http_res_free(res);
}

/* on_cancel: nng closes the connection of the request that owns aio. */
static void
on_cancel(nng_aio *aio, void *arg, int rv)
{
	struct rpc_http_server *s = arg;
	pthread_mutex_lock(&s->mu);
	struct rpc_http_req *r = s->reqs;
	while (r != NULL && r->aio != aio)
		r = r->next;
	if (r != NULL && r->state == REQ_HELD) {
		/* the callback still owns r; its reply will find no aio */
		unlink_req(s, r);
		r->aio = NULL;
		nng_aio_finish(aio, rv);
	} else if (r != NULL && r->state == REQ_STREAMING) {
		/* rpc_http_stream_open finishes aio; nng waits for that before freeing the connection */
		r->cancelled = true;
	} else if (r != NULL) {
		/* the failing read ends the request (on_read) */
		r->cancelled = true;
		nng_aio_abort(r->rdaio, rv);
	}
	pthread_mutex_unlock(&s->mu);
}

/*
 * split_target copies a request target into "path\0query\0" (malloc'd),
 * also from the absolute form; nng's client sends "" for "/". NULL if out
 * of memory or longer than HTTP_MAX_TARGET.
 */
static char *
split_target(const char *uri)
{
	if (uri == NULL)
		uri = "";
	if (strncasecmp(uri, "http://", 7) == 0 || strncasecmp(uri, "https://", 8) == 0) {
		uri = strchr(strchr(uri, ':') + 3, '/');
		if (uri == NULL)
			uri = "";
	}
	size_t len = strlen(uri);
	if (len > HTTP_MAX_TARGET)
		return NULL;
	char *t = malloc(len + 3); /* a leading '/' and two NULs at most */
	if (t == NULL)
		return NULL;
	size_t n = 0;
	if (uri[0] != '/')
		t[n++] = '/';
	const char *q = strchr(uri, '?');
	size_t plen = q != NULL ? (size_t)(q - uri) : len;
	memcpy(t + n, uri, plen);
	n += plen;
	t[n++] = '\0';
	if (q != NULL) {
		memcpy(t + n, q + 1, len - plen - 1);
		n += len - plen - 1;
	}
	t[n] = '\0';
	return t;
}

/* reject answers at once; close when an unread body would follow. */
static void
reject(nng_aio *aio, int status, int code, const char *msg, bool close)
{
	finish(aio, error_res(status, code, msg, close));
}

/* on_request: nng's handler callback, on an nng thread. */
static void
on_request(nng_aio *aio)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	nng_http_conn *conn = nng_aio_get_input(aio, 2);
	struct rpc_http_server *s = nng_http_handler_get_data(h);
	const char *method = nng_http_req_get_method(req);
	const char *cl = nng_http_req_get_header(req, "Content-Length");
	const char *te = nng_http_req_get_header(req, "Transfer-Encoding");
	const char *expect = nng_http_req_get_header(req, "Expect");
	struct rpc_http_req *r = NULL;
	uint64_t len = 0;
	char msg[160];

	if (cl != NULL && !ch_parse_u64(cl, &len)) {
		reject(aio, 400, CODE_INVALID_REQUEST, "bad Content-Length", true);
		return;
	}
	bool body = len > 0 || te != NULL;
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (!get && strcmp(method, "POST") != 0) {
		nng_http_res *res = error_res(405, CODE_INVALID_REQUEST,
					      "method not allowed: POST JSON-RPC requests to /", body);
		if (res != NULL && nng_http_res_set_header(res, "Allow", "POST, GET, HEAD") != 0) {
			nng_http_res_free(res);
			res = NULL;
		}
		finish(aio, res);
		return;
	}
	if (get && body) {
		reject(aio, 400, CODE_INVALID_REQUEST, "a GET request has no body", true);
		return;
	}
	if (te != NULL) {
		reject(aio, 411, CODE_INVALID_REQUEST,
		       "send the body with Content-Length (chunked bodies are not supported)", true);
		return;
	}
	bool big = len > s->max_body;
	if (big && (len - s->max_body > DRAIN_MAX ||
		    (expect != NULL && strcasecmp(expect, "100-continue") == 0))) {
		/* not worth reading, or not sent yet: answer before the body */
		snprintf(msg, sizeof(msg), "request body too large (limit %zu bytes)", s->max_body);
		reject(aio, 413, CODE_TOO_LARGE, msg, true);
		return;
	}
	char *target = split_target(nng_http_req_get_uri(req));
	if (target == NULL) {
		reject(aio, 414, CODE_INVALID_REQUEST, "request target too long", true);
		return;
	}
	if (!get && strcmp(target, "/") != 0) {
		free(target);
		reject(aio, 404, CODE_INVALID_REQUEST, "not found: POST JSON-RPC requests to /", body);
		return;
	}
	r = calloc(1, sizeof(*r));
	if (r != NULL) {
		const char *id = nng_http_req_get_header(req, "Last-Event-ID");
		r->s = s;
		r->aio = aio;
		r->conn = conn;
		r->hreq = req;
		r->target = target;
		target = NULL;
		snprintf(r->method, sizeof(r->method), "%s", method);
		if (id != NULL && strlen(id) < sizeof(r->event_id)) {
			memcpy(r->event_id, id, strlen(id) + 1);
			r->has_event_id = true;
		}
		r->len = big ? 0 : (size_t)len;
		r->left = big ? len : 0;
		r->state = big ? REQ_DRAINING : len > 0 ? REQ_READING : REQ_HELD;
		r->body = malloc(big ? DRAIN_CHUNK : r->len + 1);
	}
	if (r == NULL || r->body == NULL ||
	    (r->state != REQ_HELD && nng_aio_alloc(&r->rdaio, on_read, r) != 0)) {
		if (r != NULL) {
			free(r->body);
			free(r->target);
		}
		free(target);
		free(r);
		nng_aio_finish(aio, NNG_ENOMEM); /* closes the connection */
		return;
	}

	pthread_mutex_lock(&s->mu);
	bool stopped = s->stopped, full = s->inflight >= s->max_inflight;
	if (!stopped && !full) {
		s->inflight++;
		s->refs++;
		link_req(s, r);
		if (r->state == REQ_HELD)
			s->calling++;
	}
	pthread_mutex_unlock(&s->mu);
	if (stopped || full) {
		if (r->rdaio != NULL)
			nng_aio_free(r->rdaio);
		free(r->body);
		free(r->target);
		free(r);
		if (stopped)
			snprintf(msg, sizeof(msg), "server is stopping");
		else
			snprintf(msg, sizeof(msg),
				 "too many requests in flight (limit %zu); retry later",
				 s->max_inflight);
		reject(aio, 503, CODE_UNAVAILABLE, msg, body);
		return;
	}
	nng_aio_defer(aio, on_cancel, s);
	if (r->state == REQ_HELD) {
		r->body[0] = '\0';
		call_fn(s, r);
		return;
	}
	if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
		send_continue(conn);
	start_read(r);
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

/* render_reply writes a whole response (head, then body unless head_only) into *out. */
static int
render_reply(struct ch_buf *out, int status, const char *content_type, const void *body,
	     size_t len, bool head_only)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %zu\r\n\r\n",
			 status, reason(status), len > 0 ? "Content-Type: " : "",
			 len > 0 ? (content_type ? content_type : "application/json") : "",
			 len > 0 ? "\r\n" : "", len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return CH_E_INVALID;
	ch_buf_put(out, head, (size_t)n);
	if (!head_only)
		ch_buf_put(out, body, len);
	return ch_buf_ok(out) ? 0 : CH_E_NOMEM;
}

/* One reply being written by write_reply; frees itself when the write ends. */
struct reply_write {
	nng_aio *wr;
	nng_aio *cb; /* nng's callback aio, finished once the reply is written */
	struct ch_buf text;
};

static void
on_reply_written(void *arg)
{
	struct reply_write *w = arg;
	int rv = nng_aio_result(w->wr);
	nng_aio *cb = w->cb;
	nng_aio_reap(w->wr); /* inside its own callback: freed later, by nng's reaper */
	ch_buf_close(&w->text);
	free(w);
	if (rv != 0) {
		nng_aio_finish(cb, rv); /* nng closes the connection */
		return;
	}
	nng_aio_set_output(cb, 0, NULL); /* answered already: nng reads the next request */
	nng_aio_finish(cb, 0);
}

/*
 * write_reply answers cb's request itself, head and body in one write. Over
 * TLS nng writes a response's head and body as two records, and with
 * TCP_NODELAY off on its HTTP connections (nng 1.5.2 has no way to set it)
 * the second waits until the client acknowledges the first: up to a delayed
 * acknowledgement (40 ms) on every answer. One record goes at once. The
 * connection stays nng's: it reads the next request, or closes if the client
 * asked. text is transferred.
 */
static void
write_reply(nng_aio *cb, nng_http_conn *conn, struct ch_buf *text)
{
	struct reply_write *w = malloc(sizeof(*w));
	if (w == NULL || nng_aio_alloc(&w->wr, on_reply_written, w) != 0) {
		free(w);
		ch_buf_close(text);
		nng_aio_finish(cb, NNG_ENOMEM);
		return;
	}
	w->cb = cb;
	w->text = *text;
	nng_iov iov = {.iov_buf = w->text.data, .iov_len = w->text.len};
	nng_aio_set_iov(w->wr, 1, &iov);
	nng_aio_set_timeout(w->wr, BODY_TIMEOUT_MS);
	nng_http_conn_write_all(conn, w->wr);
}

void
rpc_http_reply(struct rpc_http_req *r, int status, const char *content_type, const void *body,
	       size_t len)
{
	/* built before req_end: body may be the request's own buffer */
	nng_http_res *res = NULL;
	struct ch_buf text;
	ch_buf_init(&text);
	nng_http_conn *conn = r->conn;
	bool own = r->s->tls;
	int rc = own ? render_reply(&text, status, content_type, body, len,
				    strcmp(r->method, "HEAD") == 0)
		     : 0;
	if (!own)
		res = make_res(status, content_type, body, len, false);
	nng_aio *aio = http_req_end(r);
	if (aio != NULL && own && rc == 0) {
		write_reply(aio, conn, &text);
		return;
	}
	ch_buf_close(&text);
	if (aio != NULL)
		finish(aio, res); /* NULL res (no memory) closes the connection */
	else if (res != NULL)
		nng_http_res_free(res); /* the connection is gone */
}

int
rpc_http_start(struct rpc_http_server **out, const char *url, const struct rpc_tls_files *tls,
	       size_t max_body, size_t max_inflight, rpc_http_fn fn, void *arg, struct ch_err *err)
{
	struct rpc_http_server *s = NULL;
	nng_http_handler *h = NULL;
	nng_tls_config *tc = NULL;
	nng_url *u = NULL;
	char buf[64], what[300];
	int rv, rc = 0;

	*out = NULL;
	snprintf(what, sizeof(what), "json-rpc listen %s", url);
	if (nng_url_parse(&u, url) != 0 ||
	    strcmp(u->u_scheme, tls != NULL ? "https" : "http") != 0) {
		rc = ch_errf(err, CH_E_CONFIG, "%s: not an %s://host:port URL", what,
			     tls != NULL ? "https" : "http");
		goto out;
	}
	if (tls != NULL && (rc = rpc_tls_config_files(&tc, true, tls, NULL, what, err)) != 0)
		goto out;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		rc = ch_errf(err, CH_E_NOMEM, "json-rpc listen %s: out of memory", url);
		goto out;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->refs = 1; /* the owner's */
	s->fn = fn;
	s->arg = arg;
	s->max_body = max_body;
	s->max_inflight = max_inflight;
	s->tls = tls != NULL;
	if ((rv = nng_http_server_hold(&s->srv, u)) != 0 ||
	    (tc != NULL && (rv = nng_http_server_set_tls(s->srv, tc)) != 0) ||
	    (rv = nng_http_handler_alloc(&h, "/", on_request)) != 0 ||
	    (rv = nng_http_handler_set_method(h, NULL)) != 0 ||
	    (rv = nng_http_handler_set_tree(h)) != 0 ||
	    (rv = nng_http_handler_collect_body(h, false, 0)) != 0 ||
	    (rv = nng_http_handler_set_data(h, s, server_unref)) != 0)
		goto fail;
	s->refs++; /* the handler's, dropped when nng frees it */
	s->handler = h;
	if ((rv = nng_http_server_add_handler(s->srv, h)) != 0)
		goto fail;
	h = NULL; /* the server's now */
	if ((rv = nng_http_server_start(s->srv)) != 0)
		goto fail;
	*out = s;
	goto out;
fail:
	/* another server of this process on the address refuses the handler: also "in use" */
	rc = ch_errf(err, rv == NNG_ENOMEM ? CH_E_NOMEM : CH_E_IO, "json-rpc listen %s: %s", url,
		     errstr(rv, buf, sizeof(buf)));
	s->stopped = true;
	if (h != NULL)
		nng_http_handler_free(h);
	if (s->srv != NULL)
		nng_http_server_release(s->srv);
	server_unref(s);
out:
	if (tc != NULL)
		nng_tls_config_free(tc); /* the server holds it */
	if (u != NULL)
		nng_url_free(u);
	return rc;
}

void
rpc_http_refuse(struct rpc_http_server *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopped = true;
	while (s->calling > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

void
rpc_http_stop(struct rpc_http_server *s)
{
	if (s == NULL)
		return;
	rpc_http_refuse(s);
	/* closes every connection: held requests are cancelled (on_cancel) */
	nng_http_server_stop(s->srv);
	nng_http_server_release(s->srv);
	/*
	 * nng frees the handler (dropping its reference) on its reaper and
	 * task threads, some time after the release. Wait for it, boundedly,
	 * so that a process exiting right after this leaves nothing behind.
	 */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_WAIT_S;
	pthread_mutex_lock(&s->mu);
	while (s->refs > 1 && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
		;
	/* under mu: nng frees the handler only after its destructor took mu */
	if (s->refs > 1 && s->inflight == 0 && s->reqs == NULL)
		kept_by_nng(s->handler);
	pthread_mutex_unlock(&s->mu);
	server_unref(s);
}
