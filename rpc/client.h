/*
 * client.h - a small synchronous JSON-RPC 2.0 client over HTTP or HTTPS (and plain
 * GETs), for the wallet, the benchmark and tests.
 */
#ifndef RPC_CLIENT_H
#define RPC_CLIENT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/err.h"
#include "rpc/tls.h"

/*
 * Every call takes the node's URL, http:// or https://; for https, tls
 * names the CA file (required) and a client certificate (optional), read
 * on each call. tls may be NULL for http.
 *
 * rpc_client_post sends body to url with POST and waits up to timeout_ms.
 * The response body is appended to resp, the HTTP status to *status.
 * CH_E_IO with "cannot reach http://...: connection refused" and similar.
 */
int rpc_client_post(const char *url, const struct rpc_tls_files *tls, const char *body,
		    size_t len, int timeout_ms, struct ch_buf *resp, int *status, struct ch_err *err);

/* rpc_client_get fetches url (e.g. http://host:port/metrics) with GET, as rpc_client_post. */
int rpc_client_get(const char *url, const struct rpc_tls_files *tls, int timeout_ms,
		   struct ch_buf *resp, int *status, struct ch_err *err);

/*
 * rpc_client_call calls method with params (ownership transferred; NULL
 * for none) and stores the result (caller frees with cJSON_Delete) in
 * *result. A JSON-RPC error response becomes the matching CH_E_* code
 * (ch_err_from_rpc) with the server's message in err.
 */
int rpc_client_call(const char *url, const struct rpc_tls_files *tls, const char *method,
		    cJSON *params, int timeout_ms, cJSON **result, struct ch_err *err);

#endif
