/*
 * feed.h - clients that follow the chain's events (node/events.h): calls
 * of the JSON-RPC method `events` that wait for the next commit (long
 * poll), and Server-Sent Events streams (GET /events). Owned by the loop
 * thread; everything is resumable by event id, so nothing is buffered for
 * a client: each stream has one write in flight, built from the store when
 * the last one was taken, and a stream whose write is not taken within
 * NODE_STREAM_WRITE_TIMEOUT_MS is cut off (the client resumes by
 * Last-Event-ID).
 */
#ifndef NODE_FEED_H
#define NODE_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/events.h"
#include "node/rpc_env.h"
#include "rpc/http_server.h"

#define NODE_STREAM_WRITE_TIMEOUT_MS 10000
#define NODE_STREAM_KEEPALIVE_MS 15000
#define NODE_STREAM_BATCH 500 /* events per write (a block is never split) */
#define NODE_STREAM_SCANS 8   /* scans of blocks without a match for a stream, per turn */

struct feed_poll;
struct feed_stream;

struct node_feed {
	struct chain_store *store;
	const struct chain_tip *tip;
	size_t max_streams;
	/* each stream's report: hands (id, closed) to the loop, which calls node_feed_report */
	rpc_http_stream_fn report;
	void *report_arg;
	/* finish answers and frees a request none of whose calls waits any more */
	void (*finish)(void *arg, struct node_pending *p);
	void *finish_arg;
	/* the rest is the feed's own */
	struct feed_poll *polls;
	struct feed_stream *streams;
	size_t nstreams;
	uint64_t next_id;
};

/*
 * node_feed_poll answers call c of p with the events of q (at most limit)
 * if there are any at or above q->from_height, or if deadline_ms is not
 * after now_ms; otherwise c waits (p->waiting counts it) until a commit
 * brings some or the deadline passes. CH_E_NOMEM.
 */
int node_feed_poll(struct node_feed *f, struct node_pending *p, struct rpc_call *c,
		   const struct node_events_query *q, size_t limit, uint64_t deadline_ms,
		   uint64_t now_ms);

/*
 * node_feed_open answers a GET /events request: a stream from the position
 * its query or its Last-Event-ID header names, or an error answer (400,
 * 503 beyond max_streams).
 */
void node_feed_open(struct node_feed *f, struct rpc_http_req *req, const struct rpc_http_in *in,
		    uint64_t now_ms);

/* node_feed_report: stream id's write was taken, or its connection is gone. */
void node_feed_report(struct node_feed *f, uint64_t id, bool closed, uint64_t now_ms);

/*
 * node_feed_settle, after commits or at node_feed_deadline: answers the
 * polls that can be, writes to streams what is new, cuts off slow streams
 * and keeps idle ones alive. With shutting_down it answers every poll and
 * closes every stream (before the HTTP server stops).
 */
void node_feed_settle(struct node_feed *f, uint64_t now_ms, bool shutting_down);

/* node_feed_deadline: when node_feed_settle is next due (UINT64_MAX: nothing waits). */
uint64_t node_feed_deadline(const struct node_feed *f);

/* node_feed_parse_query reads from_height, kinds and account of a GET /events query. */
int node_feed_parse_query(const char *query, const char *last_event_id,
			  struct node_events_query *q, struct ch_err *err);

#endif
