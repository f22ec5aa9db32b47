/*
 * A synchronous JSON-RPC 2.0 client: one connection per call, on nng's
 * streams (TCP, or TLS over TCP), closed by this side once the whole answer
 * is in. It speaks the HTTP/1.1 that the node's server answers: a request
 * written in one piece, an answer with a Content-Length.
 *
 * Why not nng's HTTP client (nng 1.5.2): it leaves TCP_NODELAY off and has
 * no way to set it, and over TLS it writes a request's head and body as two
 * records, the second of which Nagle's algorithm then holds back until the
 * server acknowledges the first (a delayed acknowledgement: 40 ms and more
 * per call, in the handshake too). Its transact also asks the server to
 * close after answering ("Connection: close"), and nng's TLS can lose the
 * tail of an answer written just before a close.
 *
 * The deadline is kept here, not only by the aio's timeout: in nng 1.5.2 a
 * TLS stream whose TCP connection failed (the server killed while a request
 * was in flight) closes its TCP aios, and a receive started after that
 * waits for a TCP read that src/core/aio.c nni_aio_begin() refuses without
 * calling back; the timeout's cancel (tls_cancel) only aborts that idle TCP
 * aio, so the call would wait forever. Past the deadline run() closes the
 * stream, which finishes whatever is queued on it (tls_close).
 */
#include "rpc/client.h"
#include "common/num.h"
#include "rpc/tls_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#define MAX_RESPONSE_BYTES (64u << 20) /* largest answer body accepted */
#define MAX_HEAD_BYTES 16384           /* largest answer head */
#define GRACE_MS 200                   /* past the deadline before run() cuts the connection */

/* errstr is nng's message for rv, starting in lower case ("connection refused"). */
static const char *
errstr(int rv, char *buf, size_t size)
{
	snprintf(buf, size, "%s", nng_strerror(rv));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* One call's connection and what it has read. */
struct call {
	nng_stream_dialer *d;
	nng_stream *st;
	nng_aio *aio; /* its callback marks done under mu and wakes cv */
	nng_mtx *mu;
	nng_cv *cv;
	bool done;
	bool stuck;        /* an operation never finished even after the cut: leave it all */
	nng_time deadline; /* 0: none */
	char head[MAX_HEAD_BYTES + 1];
	size_t have; /* bytes of head[] filled (the head, and what followed it) */
};

static void
on_done(void *arg)
{
	struct call *c = arg;
	nng_mtx_lock(c->mu);
	c->done = true;
	nng_cv_wake(c->cv);
	nng_mtx_unlock(c->mu);
}

/* wait_until waits for the operation on c->aio to finish, until t (0: no limit); true if it did. */
static bool
wait_until(struct call *c, nng_time t)
{
	nng_mtx_lock(c->mu);
	while (!c->done) {
		if (t == 0)
			nng_cv_wait(c->cv);
		else if (nng_cv_until(c->cv, t) == NNG_ETIMEDOUT)
			break;
	}
	bool done = c->done;
	nng_mtx_unlock(c->mu);
	return done;
}

/*
 * run waits for the operation just started on c->aio, within the deadline.
 * One that outlives it by GRACE_MS is ended by closing the connection (or
 * the dialer) and reported as NNG_ETIMEDOUT.
 */
static int
run(struct call *c)
{
	if (!wait_until(c, c->deadline != 0 ? c->deadline + GRACE_MS : 0)) {
		if (c->st != NULL)
			nng_stream_close(c->st);
		else
			nng_stream_dialer_close(c->d);
		if (!wait_until(c, nng_clock() + GRACE_MS)) {
			c->stuck = true;
			return NNG_ETIMEDOUT;
		}
		nng_aio_wait(c->aio);
		if (c->st == NULL && nng_aio_result(c->aio) == 0)
			c->st = nng_aio_get_output(c->aio, 0); /* dialed just as it was cut: freed with the call */
		return NNG_ETIMEDOUT;
	}
	nng_aio_wait(c->aio); /* the callback has run; let nng finish with the aio */
	int rv = nng_aio_result(c->aio);
	if (rv == 0 && c->deadline != 0) {
		nng_time now = nng_clock();
		nng_aio_set_timeout(c->aio, c->deadline > now ? (nng_duration)(c->deadline - now) : 1);
	}
	return rv;
}

/* io moves len bytes at p over c->st, all of them (send) or what comes (recv, *got). */
static int
io(struct call *c, bool send, void *p, size_t len, size_t *got)
{
	size_t done = 0;
	do {
		nng_iov iov = {.iov_buf = (uint8_t *)p + done, .iov_len = len - done};
		nng_aio_set_iov(c->aio, 1, &iov);
		c->done = false;
		if (send)
			nng_stream_send(c->st, c->aio);
		else
			nng_stream_recv(c->st, c->aio);
		int rv = run(c);
		if (rv != 0)
			return rv;
		done += nng_aio_count(c->aio);
	} while (send && done < len);
	if (got != NULL)
		*got = done;
	return 0;
}

/* request_text writes the whole request, head and body, into b. */
static void
request_text(struct ch_buf *b, const nng_url *u, const char *body, size_t len)
{
	char head[1024];
	const char *uri = u->u_requri[0] != '\0' ? u->u_requri : "/";
	int n = body != NULL ? snprintf(head, sizeof(head),
					"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: "
					"application/json\r\nContent-Length: %zu\r\n\r\n",
					uri, u->u_host, len)
			     : snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", uri,
					u->u_host);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		b->oom = true; /* an absurd URL: reported as out of memory */
		return;
	}
	ch_buf_put(b, head, (size_t)n);
	if (body != NULL)
		ch_buf_put(b, body, len);
}

/*
 * parse_head reads the status and Content-Length of the head in c->head
 * (NUL-terminated at its blank line). -1 if it is not an HTTP/1.x answer
 * with a length.
 */
static int
parse_head(char *head, int *status, uint64_t *clen)
{
	if (strncmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ' || !isdigit((unsigned char)head[9]))
		return -1;
	*status = atoi(head + 9);
	bool have_len = false;
	for (char *line = strstr(head, "\r\n"); line != NULL && line[2] != '\0';) {
		line += 2;
		char *next = strstr(line, "\r\n");
		if (next != NULL)
			*next = '\0';
		char *colon = strchr(line, ':');
		if (colon != NULL) {
			*colon = '\0';
			char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = strcspn(v, " \t");
			v[vl] = '\0';
			if (strcasecmp(line, "Content-Length") == 0) {
				if (!ch_parse_u64(v, clen))
					return -1;
				have_len = true;
			} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
				return -1; /* chunked: the node never sends it */
			}
		}
		if (next == NULL)
			break;
		line = next;
	}
	return have_len || *status == 204 || *status == 304 ? 0 : -1;
}

/* hint says what a failed call over TLS most likely met. */
static const char *
hint(bool tls, int rv)
{
	if (tls && rpc_tls_failure(rv))
		return " (TLS: the server's certificate is not one the CA issued for this host)";
	if (tls && (rv == NNG_ECONNSHUT || rv == NNG_ECLOSED))
		return " (the server closed the TLS connection: it may demand a client certificate)";
	return "";
}

/* transact sends one request (body NULL: a GET) and appends the response body to resp. */
static int
transact(const char *url, const struct rpc_tls_files *tls, const char *body, size_t len,
	 int timeout_ms, struct ch_buf *resp, int *status, struct ch_err *err)
{
	nng_url *u = NULL;
	nng_tls_config *tc = NULL;
	struct call *c = calloc(1, sizeof(*c));
	struct ch_buf req;
	char buf[64], surl[300];
	int rv = 0, rc = 0;

	*status = 0;
	ch_buf_init(&req);
	if (c == NULL) {
		ch_buf_close(&req);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	if ((rv = nng_url_parse(&u, url)) != 0 ||
	    (strcmp(u->u_scheme, "http") != 0 && strcmp(u->u_scheme, "https") != 0)) {
		rc = ch_errf(err, CH_E_INVALID, "bad node URL %s: expected http(s)://host:port", url);
		goto out;
	}
	bool https = strcmp(u->u_scheme, "https") == 0;
	if (https) {
		struct rpc_tls_files none = {0};
		char what[300];
		snprintf(what, sizeof(what), "%s", url);
		if ((rc = rpc_tls_config_files(&tc, false, tls != NULL ? tls : &none, u->u_hostname,
					       what, err)) != 0)
			goto out;
	}
	snprintf(surl, sizeof(surl), "%s://%s", https ? "tls+tcp" : "tcp", u->u_host);
	request_text(&req, u, body, len);
	if (!ch_buf_ok(&req) || (rv = nng_stream_dialer_alloc(&c->d, surl)) != 0 ||
	    (rv = nng_stream_dialer_set_bool(c->d, NNG_OPT_TCP_NODELAY, true)) != 0 ||
	    (tc != NULL && (rv = nng_stream_dialer_set_ptr(c->d, NNG_OPT_TLS_CONFIG, tc)) != 0) ||
	    (rv = nng_mtx_alloc(&c->mu)) != 0 || (rv = nng_cv_alloc(&c->cv, c->mu)) != 0 ||
	    (rv = nng_aio_alloc(&c->aio, on_done, c)) != 0) {
		rc = ch_errf(err, rv == 0 || rv == NNG_ENOMEM ? CH_E_NOMEM : CH_E_IO,
			     "http client for %s: %s", url,
			     rv == 0 ? "out of memory" : errstr(rv, buf, sizeof(buf)));
		goto out;
	}
	c->deadline = timeout_ms > 0 ? nng_clock() + (nng_time)timeout_ms : 0;
	nng_aio_set_timeout(c->aio, timeout_ms > 0 ? timeout_ms : NNG_DURATION_INFINITE);
	c->done = false;
	nng_stream_dialer_dial(c->d, c->aio);
	if ((rv = run(c)) == 0) {
		c->st = nng_aio_get_output(c->aio, 0);
		rv = io(c, true, req.data, req.len, NULL);
	}
	/* the head: read until its blank line */
	char *end = NULL;
	while (rv == 0 && end == NULL) {
		size_t got = 0;
		if (c->have == MAX_HEAD_BYTES) {
			rc = ch_errf(err, CH_E_IO, "%s answered with a head over %d bytes", url,
				     MAX_HEAD_BYTES);
			goto out;
		}
		rv = io(c, false, c->head + c->have, MAX_HEAD_BYTES - c->have, &got);
		c->have += got;
		c->head[c->have] = '\0';
		end = strstr(c->head, "\r\n\r\n");
	}
	if (rv != 0) {
		rc = ch_errf(err, CH_E_IO, "cannot reach %s: %s%s", url, errstr(rv, buf, sizeof(buf)),
			     hint(https, rv));
		goto out;
	}
	size_t head_len = (size_t)(end - c->head) + 4, extra = c->have - head_len;
	uint64_t blen = 0;
	end[2] = '\0'; /* the head ends with its last header's CRLF */
	if (parse_head(c->head, status, &blen) != 0) {
		rc = ch_errf(err, CH_E_IO, "%s did not answer HTTP/1.1 with a Content-Length", url);
		goto out;
	}
	if (blen > MAX_RESPONSE_BYTES) {
		rc = ch_errf(err, CH_E_TOO_LARGE, "response from %s is larger than %u bytes", url,
			     MAX_RESPONSE_BYTES);
		goto out;
	}
	if (extra > blen)
		extra = (size_t)blen; /* nothing may follow the answer; it is ignored */
	size_t at = resp->len;
	if (blen > 0 && !ch_buf_reserve(resp, (size_t)blen)) {
		rc = ch_errf(err, CH_E_NOMEM, "out of memory for the response from %s", url);
		goto out;
	}
	memcpy(resp->data + at, c->head + head_len, extra);
	for (size_t done = extra; done < blen;) {
		size_t got = 0;
		if ((rv = io(c, false, resp->data + at + done, (size_t)blen - done, &got)) != 0) {
			rc = ch_errf(err, CH_E_IO, "the answer from %s broke off: %s", url,
				     errstr(rv, buf, sizeof(buf)));
			goto out;
		}
		done += got;
	}
	resp->len = at + (size_t)blen;
out:
	if (c->stuck) {
		/* freeing waits for the operation that never ends: leave the call to the exit */
		tc = NULL;
	} else {
		if (c->st != NULL) {
			nng_stream_close(c->st);
			nng_stream_free(c->st);
		}
		if (c->aio != NULL)
			nng_aio_free(c->aio);
		if (c->d != NULL)
			nng_stream_dialer_free(c->d);
		if (c->cv != NULL)
			nng_cv_free(c->cv);
		if (c->mu != NULL)
			nng_mtx_free(c->mu);
		free(c);
	}
	if (tc != NULL)
		nng_tls_config_free(tc);
	if (u != NULL)
		nng_url_free(u);
	ch_buf_close(&req);
	return rc;
}

int
rpc_client_post(const char *url, const struct rpc_tls_files *tls, const char *body, size_t len, int timeout_ms, struct ch_buf *resp,
		int *status, struct ch_err *err)
{
	return transact(url, tls, body != NULL ? body : "", len, timeout_ms, resp, status, err);
}

int
rpc_client_get(const char *url, const struct rpc_tls_files *tls, int timeout_ms, struct ch_buf *resp, int *status,
	       struct ch_err *err)
{
	return transact(url, tls, NULL, 0, timeout_ms, resp, status, err);
}

/* build_request renders {"jsonrpc","id":1,"method","params"}; params is consumed. */
static char *
build_request(const char *method, cJSON *params)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	if (o == NULL || cJSON_AddStringToObject(o, "jsonrpc", "2.0") == NULL ||
	    cJSON_AddNumberToObject(o, "id", 1) == NULL ||
	    cJSON_AddStringToObject(o, "method", method) == NULL)
		goto out;
	if (params != NULL) {
		cJSON_AddItemToObjectCS(o, "params", params); /* constant key: cannot fail */
		params = NULL;
	}
	text = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(params);
	cJSON_Delete(o);
	return text;
}

int
rpc_client_call(const char *url, const struct rpc_tls_files *tls, const char *method, cJSON *params, int timeout_ms,
		cJSON **result, struct ch_err *err)
{
	struct ch_buf resp;
	cJSON *root = NULL;
	int status = 0, rc;
	char *text = build_request(method, params);

	*result = NULL;
	ch_buf_init(&resp);
	if (text == NULL) {
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = rpc_client_post(url, tls, text, strlen(text), timeout_ms, &resp, &status, err)) != 0)
		goto out;
	if (resp.len > 0)
		root = cJSON_ParseWithLength((const char *)resp.data, resp.len);
	if (!cJSON_IsObject(root)) {
		if (status != 200)
			rc = ch_errf(err, CH_E_IO, "http status %d", status);
		else
			rc = ch_errf(err, CH_E_IO, "%s answered without a JSON-RPC response", url);
		goto out;
	}
	cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (e != NULL) {
		cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
		cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
		int c = cJSON_IsNumber(code) ? code->valueint : ch_rpc_code(CH_E_INTERNAL);
		rc = ch_errf(err, ch_err_from_rpc(c), "%s",
			     cJSON_IsString(msg) ? msg->valuestring : "error without a message");
		goto out;
	}
	if ((*result = cJSON_DetachItemFromObjectCaseSensitive(root, "result")) == NULL)
		rc = ch_errf(err, CH_E_IO, "%s answered without a result (http status %d)", url,
			     status);
out:
	cJSON_Delete(root);
	ch_buf_close(&resp);
	free(text);
	return rc;
}
