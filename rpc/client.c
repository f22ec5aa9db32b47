/* A synchronous JSON-RPC client over nng's HTTP client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "rpc/client.h"

#define MAX_RESPONSE_BYTES (64u << 20)

int
rpc_client_post(const char *url, const char *body, size_t len, int timeout_ms, struct ch_buf *resp,
		int *status, struct ch_err *err)
{
	nng_url *u = NULL;
	nng_http_client *cli = NULL;
	nng_http_req *req = NULL;
	nng_http_res *res = NULL;
	nng_aio *aio = NULL;
	int rv, rc = 0;
	if ((rv = nng_url_parse(&u, url)) != 0)
		return ch_errf(err, CH_E_INVALID, "bad node URL %s: %s", url, nng_strerror(rv));
	if ((rv = nng_http_client_alloc(&cli, u)) != 0 || (rv = nng_http_req_alloc(&req, u)) != 0 ||
	    (rv = nng_http_res_alloc(&res)) != 0 || (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		rc = ch_errf(err, CH_E_NOMEM, "http client: %s", nng_strerror(rv));
		goto out;
	}
	nng_http_req_set_method(req, "POST");
	nng_http_req_set_header(req, "Content-Type", "application/json");
	if ((rv = nng_http_req_copy_data(req, body, len)) != 0) {
		rc = ch_errf(err, CH_E_NOMEM, "http client: %s", nng_strerror(rv));
		goto out;
	}
	nng_aio_set_timeout(aio, timeout_ms > 0 ? timeout_ms : NNG_DURATION_DEFAULT);
	nng_http_client_transact(cli, req, res, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		rc = ch_errf(err, CH_E_IO, "cannot reach %s: %s", url, nng_strerror(rv));
		goto out;
	}
	*status = nng_http_res_get_status(res);
	void *data = NULL;
	size_t dlen = 0;
	nng_http_res_get_data(res, &data, &dlen);
	if (dlen > MAX_RESPONSE_BYTES) {
		rc = ch_errf(err, CH_E_TOO_LARGE, "response from %s is too large", url);
		goto out;
	}
	ch_buf_put(resp, data, dlen);
	if (!ch_buf_ok(resp))
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
out:
	nng_aio_free(aio);
	nng_http_res_free(res);
	nng_http_req_free(req);
	nng_http_client_free(cli);
	nng_url_free(u);
	return rc;
}

int
rpc_client_call(const char *url, const char *method, cJSON *params, int timeout_ms, cJSON **result,
		struct ch_err *err)
{
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "jsonrpc", "2.0");
	cJSON_AddNumberToObject(req, "id", 1);
	cJSON_AddStringToObject(req, "method", method);
	if (params != NULL)
		cJSON_AddItemToObject(req, "params", params);
	char *text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	if (text == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	struct ch_buf resp;
	ch_buf_init(&resp);
	int status = 0;
	int rc = rpc_client_post(url, text, strlen(text), timeout_ms, &resp, &status, err);
	free(text);
	if (rc != 0) {
		ch_buf_close(&resp);
		return rc;
	}
	cJSON *root = cJSON_ParseWithLength((const char *)resp.data, resp.len);
	ch_buf_close(&resp);
	if (root == NULL || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return ch_errf(err, CH_E_IO, "%s answered HTTP %d without a JSON-RPC response", url,
			       status);
	}
	cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (e != NULL) {
		cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
		cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
		rc = ch_errf(err, ch_err_from_rpc(cJSON_IsNumber(code) ? code->valueint : -32603),
			     "%s", cJSON_IsString(msg) ? msg->valuestring : "error without a message");
		cJSON_Delete(root);
		return rc;
	}
	cJSON *r = cJSON_DetachItemFromObjectCaseSensitive(root, "result");
	cJSON_Delete(root);
	if (r == NULL)
		return ch_errf(err, CH_E_IO, "%s answered without a result", url);
	*result = r;
	return 0;
}
