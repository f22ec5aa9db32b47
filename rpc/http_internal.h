/*
 * http_internal.h - what rpc/http_server.c (requests) and rpc/http_stream.c
 * (requests turned into streams) share. The locking rules are at the top
 * of rpc/http_server.c.
 */
#ifndef RPC_HTTP_INTERNAL_H
#define RPC_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "rpc/http_server.h"

#define HTTP_MAX_TARGET 2048 /* bytes of path and query */
#define HTTP_MAX_EVENT_ID 128

enum req_state {
	REQ_READING,   /* reading the body into body */
	REQ_DRAINING,  /* discarding an oversized body, then 413 */
	REQ_HELD,      /* handed to the callback, waiting for rpc_http_reply */
	REQ_STREAMING, /* being turned into a stream: nng's cancel waits for it */
};

struct rpc_http_server {
	nng_http_server *srv;
	rpc_http_fn fn;
	void *arg;
	size_t max_body;
	size_t max_inflight;
	bool tls;           /* HTTPS: replies are written here, in one piece (write_reply) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* the rest under mu */
	unsigned refs;      /* owner, nng's handler, each request */
	size_t inflight;    /* requests being read or held */
	unsigned calling;   /* threads inside fn */
	bool stopped;
	struct rpc_http_req *reqs; /* requests whose aio is not finished */
	nng_http_handler *handler; /* nng's (see kept_by_nng) */
};

struct rpc_http_req {
	struct rpc_http_server *s;
	nng_aio *aio;   /* nng's callback aio; NULL once finished (under s->mu) */
	nng_aio *rdaio; /* our body reader; NULL once held */
	nng_http_conn *conn;
	nng_http_req *hreq;   /* nng's request: ours only once the connection is hijacked */
	enum req_state state; /* under s->mu */
	bool cancelled;       /* under s->mu: nng closed the connection */
	char *body;
	size_t len;
	uint64_t left; /* bytes still to discard (REQ_DRAINING) */
	char method[8];
	char *target; /* "path\0query\0" */
	char event_id[HTTP_MAX_EVENT_ID];
	bool has_event_id;
	struct rpc_http_req *prev, *next;
};

/*
 * http_req_end frees r and its hold on the server. It returns r's aio if
 * that is still to be finished (by the caller, which then owns that duty).
 */
nng_aio *http_req_end(struct rpc_http_req *r);

#endif
