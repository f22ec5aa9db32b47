/*
 * A synchronous JSON-RPC 2.0 client over nng's HTTP client: one connection
 * per call, closed afterwards.
 */
#include "rpc/client.h"
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

/* transact sends one request (body NULL: a GET) and appends the response body to resp. */
static int
transact(const char *url, const struct rpc_tls_files *tls, const char *body, size_t len,
	 int timeout_ms, struct ch_buf *resp, int *status, struct ch_err *err)
{
	nng_url *u = NULL;
	nng_tls_config *tc = NULL;
	nng_http_client *cli = NULL;
	nng_http_conn *conn = NULL;
	nng_http_req *req = NULL;
	nng_http_res *res = NULL;
	nng_aio *aio = NULL;
	void *data = NULL;
	size_t dlen = 0;
	char buf[64];
	int rv, rc = 0;

	*status = 0;
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
	if ((rv = nng_http_client_alloc(&cli, u)) != 0 ||
	    (tc != NULL && (rv = nng_http_client_set_tls(cli, tc)) != 0) ||
	    (rv = nng_http_req_alloc(&req, u)) != 0 ||
	    (rv = nng_http_res_alloc(&res)) != 0 || (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0 ||
	    (rv = nng_http_req_set_method(req, body != NULL ? "POST" : "GET")) != 0 ||
	    (u->u_requri[0] == '\0' && (rv = nng_http_req_set_uri(req, "/")) != 0) ||
	    (body != NULL &&
	     (rv = nng_http_req_set_header(req, "Content-Type", "application/json")) != 0) ||
	    (body != NULL && len == 0 &&
	     (rv = nng_http_req_set_header(req, "Content-Length", "0")) != 0) ||
	    (body != NULL && len > 0 &&
	     (rv = nng_http_req_copy_data(req, body, len)) != 0)) { /* nng can't copy 0 */
		rc = ch_errf(err, rv == NNG_ENOMEM ? CH_E_NOMEM : CH_E_IO, "http client for %s: %s",
			     url, errstr(rv, buf, sizeof(buf)));
		goto out;
	}
	/*
	 * Connect, then one exchange on the connection: nng_http_client_transact
	 * would ask the server to close after answering ("Connection: close"),
	 * and nng 1.5's TLS can lose the tail of an answer written just before a
	 * close. Here the client closes, once it has the whole answer.
	 */
	nng_time deadline = nng_clock() + (nng_time)(timeout_ms > 0 ? timeout_ms : 0);
	nng_aio_set_timeout(aio, timeout_ms > 0 ? timeout_ms : NNG_DURATION_INFINITE);
	nng_http_client_connect(cli, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) == 0) {
		conn = nng_aio_get_output(aio, 0);
		nng_time now = nng_clock();
		if (timeout_ms > 0)
			nng_aio_set_timeout(aio, deadline > now ? (nng_duration)(deadline - now) : 1);
		nng_http_conn_transact(conn, req, res, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
	}
	if (rv != 0) {
		rc = ch_errf(err, CH_E_IO, "cannot reach %s: %s%s", url, errstr(rv, buf, sizeof(buf)),
			     rpc_tls_failure(rv) ? " (the server's certificate is not one the CA issued "
						   "for this host, or the server asked for a client "
						   "certificate)"
						 : "");
		goto out;
	}
	nng_http_res_get_data(res, &data, &dlen);
	if (dlen > MAX_RESPONSE_BYTES) {
		rc = ch_errf(err, CH_E_TOO_LARGE, "response from %s is larger than %u bytes", url,
			     MAX_RESPONSE_BYTES);
		goto out;
	}
	ch_buf_put(resp, data, dlen);
	if (!ch_buf_ok(resp)) {
		rc = ch_errf(err, CH_E_NOMEM, "out of memory for the response from %s", url);
		goto out;
	}
	*status = nng_http_res_get_status(res);
out:
	if (conn != NULL)
		nng_http_conn_close(conn);
	if (aio != NULL)
		nng_aio_free(aio);
	if (res != NULL)
		nng_http_res_free(res);
	if (req != NULL)
		nng_http_req_free(req);
	if (cli != NULL)
		nng_http_client_free(cli);
	if (tc != NULL)
		nng_tls_config_free(tc);
	if (u != NULL)
		nng_url_free(u);
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
