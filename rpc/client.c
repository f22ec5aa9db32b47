/*
 * A synchronous JSON-RPC 2.0 client over nng's HTTP client: one connection
 * per call, closed afterwards.
 */
#include "rpc/client.h"
#include "common/num.h"
#include "rpc/tls_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

/*
 * Largest response accepted. nng reads the whole body before we see its
 * size, so this bounds what we keep, not what nng allocates.
 */
#define MAX_RESPONSE_BYTES (64u << 20)

/* errstr is nng's message for rv, starting in lower case ("connection refused"). */
static const char *
errstr(int rv, char *buf, size_t size)
{
	snprintf(buf, size, "%s", nng_strerror(rv));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* wait_step runs the operation just started on aio, within what is left until deadline. */
static int
wait_step(nng_aio *aio, nng_time deadline)
{
	nng_aio_wait(aio);
	int rv = nng_aio_result(aio);
	if (rv == 0 && deadline != 0) {
		nng_time now = nng_clock();
		nng_aio_set_timeout(aio, deadline > now ? (nng_duration)(deadline - now) : 1);
	}
	return rv;
}

/* request_text writes the whole request, head and body, into b: it goes out as one write. */
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
 * transact sends one request (body NULL: a GET) and appends the response
 * body to resp. One connection per call, closed by this side once the whole
 * answer is in: nng_http_client_transact would ask the server to close
 * first ("Connection: close"), and nng 1.5's TLS can lose the tail of an
 * answer written just before a close. The request is written in one piece
 * (nng's own writer sends head and body apart, which over TLS makes two
 * records, the second held back by Nagle's algorithm until the first is
 * acknowledged); nng parses the response head.
 */
static int
transact(const char *url, const struct rpc_tls_files *tls, const char *body, size_t len,
	 int timeout_ms, struct ch_buf *resp, int *status, struct ch_err *err)
{
	nng_url *u = NULL;
	nng_tls_config *tc = NULL;
	nng_http_client *cli = NULL;
	nng_http_conn *conn = NULL;
	nng_http_res *res = NULL;
	nng_aio *aio = NULL;
	struct ch_buf req;
	char buf[64];
	int rv = 0, rc = 0;

	*status = 0;
	ch_buf_init(&req);
	if ((rv = nng_url_parse(&u, url)) != 0 ||
	    (strcmp(u->u_scheme, "http") != 0 && strcmp(u->u_scheme, "https") != 0)) {
		rc = ch_errf(err, CH_E_INVALID, "bad node URL %s: expected http(s)://host:port", url);
		goto out;
	}
	if (strcmp(u->u_scheme, "https") == 0) {
		struct rpc_tls_files none = {0};
		char what[300];
		snprintf(what, sizeof(what), "%s", url);
		if ((rc = rpc_tls_config_files(&tc, false, tls != NULL ? tls : &none, u->u_hostname,
					       what, err)) != 0)
			goto out;
	}
	request_text(&req, u, body, len);
	if (!ch_buf_ok(&req) || (rv = nng_http_client_alloc(&cli, u)) != 0 ||
	    (tc != NULL && (rv = nng_http_client_set_tls(cli, tc)) != 0) ||
	    (rv = nng_http_res_alloc(&res)) != 0 || (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		rc = ch_errf(err, rv == 0 || rv == NNG_ENOMEM ? CH_E_NOMEM : CH_E_IO,
			     "http client for %s: %s", url,
			     rv == 0 ? "out of memory" : errstr(rv, buf, sizeof(buf)));
		goto out;
	}
	nng_time deadline = timeout_ms > 0 ? nng_clock() + (nng_time)timeout_ms : 0;
	nng_aio_set_timeout(aio, timeout_ms > 0 ? timeout_ms : NNG_DURATION_INFINITE);
	nng_http_client_connect(cli, aio);
	if ((rv = wait_step(aio, deadline)) == 0) {
		conn = nng_aio_get_output(aio, 0);
		nng_iov iov = {.iov_buf = req.data, .iov_len = req.len};
		nng_aio_set_iov(aio, 1, &iov);
		nng_http_conn_write_all(conn, aio);
		rv = wait_step(aio, deadline);
	}
	if (rv == 0) {
		nng_http_conn_read_res(conn, res, aio);
		rv = wait_step(aio, deadline);
	}
	if (rv != 0) {
		const char *hint = "";
		if (tc != NULL && rpc_tls_failure(rv))
			hint = " (TLS: the server's certificate is not one the CA issued for this host)";
		else if (tc != NULL && rv == NNG_ECONNSHUT)
			hint = " (the server closed the TLS connection: it may demand a client "
			       "certificate)";
		rc = ch_errf(err, CH_E_IO, "cannot reach %s: %s%s", url, errstr(rv, buf, sizeof(buf)),
			     hint);
		goto out;
	}
	*status = nng_http_res_get_status(res);
	const char *cl = nng_http_res_get_header(res, "Content-Length");
	uint64_t blen = 0;
	if (cl == NULL || !ch_parse_u64(cl, &blen)) {
		rc = ch_errf(err, CH_E_IO, "%s answered without a Content-Length", url);
		goto out;
	}
	if (blen > MAX_RESPONSE_BYTES) {
		rc = ch_errf(err, CH_E_TOO_LARGE, "response from %s is larger than %u bytes", url,
			     MAX_RESPONSE_BYTES);
		goto out;
	}
	size_t at = resp->len;
	if (blen > 0 && !ch_buf_reserve(resp, (size_t)blen)) {
		rc = ch_errf(err, CH_E_NOMEM, "out of memory for the response from %s", url);
		goto out;
	}
	if (blen > 0) {
		nng_iov iov = {.iov_buf = resp->data + at, .iov_len = (size_t)blen};
		nng_aio_set_iov(aio, 1, &iov);
		nng_http_conn_read_all(conn, aio);
		if ((rv = wait_step(aio, deadline)) != 0) {
			rc = ch_errf(err, CH_E_IO, "the answer from %s broke off: %s", url,
				     errstr(rv, buf, sizeof(buf)));
			goto out;
		}
		resp->len = at + (size_t)blen;
	}
out:
	if (conn != NULL)
		nng_http_conn_close(conn);
	if (aio != NULL)
		nng_aio_free(aio);
	if (res != NULL)
		nng_http_res_free(res);
	if (cli != NULL)
		nng_http_client_free(cli);
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
