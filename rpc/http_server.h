/*
 * http_server.h - the JSON-RPC HTTP endpoint, on nng's HTTP server.
 *
 * Accepts POST / with a body of at most max_body bytes (larger bodies get
 * HTTP 413 without reaching the callback; other methods and paths get 405 or
 * 404). Each accepted request is handed to the callback on an nng thread;
 * the callback must not block: it queues the request for the node loop,
 * which later answers with rpc_http_reply() exactly once, from any thread.
 * At most max_inflight requests may wait for an answer at once; beyond that
 * the server answers 503 itself.
 */
#ifndef RPC_HTTP_SERVER_H
#define RPC_HTTP_SERVER_H

#include <stddef.h>

#include "common/err.h"

struct rpc_http_server;
struct rpc_http_req;

/*
 * The request callback. body (NUL-terminated, len bytes without the NUL) is
 * owned by req and valid until rpc_http_reply(req, ...).
 */
typedef void (*rpc_http_fn)(void *arg, struct rpc_http_req *req, const char *body, size_t len);

/*
 * rpc_http_start listens on url (e.g. "http://127.0.0.1:26601") and starts
 * serving. Errors name the address (e.g. "address in use").
 */
int rpc_http_start(struct rpc_http_server **out, const char *url, size_t max_body,
		   size_t max_inflight, rpc_http_fn fn, void *arg, struct ch_err *err);

/*
 * rpc_http_reply answers req with status and body (copied) and releases
 * req. content_type NULL means "application/json". len 0 sends no body.
 */
void rpc_http_reply(struct rpc_http_req *req, int status, const char *content_type,
		    const void *body, size_t len);

/*
 * rpc_http_refuse makes the server answer every new request 503 ("server
 * is stopping") without calling the callback, and returns once no callback
 * is running: the owner can then answer what it holds, knowing nothing more
 * comes. Not from a callback. NULL is fine.
 */
void rpc_http_refuse(struct rpc_http_server *s);

/*
 * rpc_http_stop refuses (as above), closes every connection and frees the
 * server. Every request handed to the callback must have been answered
 * before. Not from a callback. Returns once nng has let go of the server's
 * memory (or after 1 s). NULL is fine.
 */
void rpc_http_stop(struct rpc_http_server *s);

#endif
