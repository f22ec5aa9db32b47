/*
 * http_server.h - the node's HTTP endpoint, on nng's HTTP server.
 *
 * Accepts POST / (JSON-RPC) with a body of at most max_body bytes (larger
 * bodies get HTTP 413 without reaching the callback; POST to another path
 * gets 404), and GET or HEAD of any path without a body (the owner answers
 * 404 for paths it does not serve); other methods get 405. Each accepted
 * request is handed to the callback on an nng thread; the callback must not
 * block: it queues the request for the node loop, which later answers with
 * rpc_http_reply() exactly once, from any thread, or turns it into a stream
 * (rpc_http_stream_open). At most max_inflight requests may wait for an
 * answer at once; beyond that the server answers 503 itself.
 */
#ifndef RPC_HTTP_SERVER_H
#define RPC_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "rpc/tls.h"

struct rpc_http_server;
struct rpc_http_req;

struct rpc_http_stream;

/* A request as the callback sees it; its strings are req's, valid until req is answered. */
struct rpc_http_in {
	const char *method;        /* "POST", "GET" or "HEAD" */
	const char *path;          /* "/" or e.g. "/metrics": without the query */
	const char *query;         /* what follows '?', "" if none */
	const char *last_event_id; /* the Last-Event-ID header, or NULL */
	const char *body;          /* NUL-terminated, len bytes without the NUL ("" for GET) */
	size_t len;
};

typedef void (*rpc_http_fn)(void *arg, struct rpc_http_req *req, const struct rpc_http_in *in);

/*
 * rpc_http_start listens on url (e.g. "http://127.0.0.1:26601") and starts
 * serving. With tls (its files are read during the call) the URL is
 * https:// and the server speaks only HTTPS. Errors name the address (e.g.
 * "address in use") or the TLS file.
 */
int rpc_http_start(struct rpc_http_server **out, const char *url, const struct rpc_tls_files *tls,
		   size_t max_body, size_t max_inflight, rpc_http_fn fn, void *arg,
		   struct ch_err *err);

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
 * memory (or after 1 s). Streams are not the server's: their owner closes
 * them, before or after. NULL is fine.
 */
void rpc_http_stop(struct rpc_http_server *s);

/*
 * A stream is a request answered with a body of no set length, written
 * piece by piece until either side closes (Server-Sent Events): the
 * response head is sent with "Connection: close" and the body ends when
 * the connection does. One write is in flight at a time.
 *
 * fn is called on an nng thread, with the id given at open, when a write
 * has been taken by the connection (closed false) or when the connection
 * is gone (closed true: the client left, a write failed; no more writes
 * will succeed). It must not block and must not call back into the stream;
 * the owner then acts on its own thread. No call of fn runs or starts once
 * rpc_http_stream_close has returned.
 */
typedef void (*rpc_http_stream_fn)(void *arg, uint64_t id, bool closed);

/*
 * rpc_http_stream_open turns req into a stream and starts writing its head
 * (status 200 with content_type); fn reports when that first write is taken.
 * req is used up either way. Errors: CH_E_IO (the connection is gone),
 * CH_E_NOMEM.
 */
int rpc_http_stream_open(struct rpc_http_req *req, const char *content_type, uint64_t id,
			 rpc_http_stream_fn fn, void *arg, struct rpc_http_stream **out,
			 struct ch_err *err);

/*
 * rpc_http_stream_write starts writing data (copied). CH_E_UNAVAILABLE if a
 * write is still in flight, CH_E_IO if the connection is gone, CH_E_NOMEM.
 */
int rpc_http_stream_write(struct rpc_http_stream *st, const void *data, size_t len);

/* rpc_http_stream_close closes the connection and frees st (not from fn). NULL is fine. */
void rpc_http_stream_close(struct rpc_http_stream *st);

#endif
