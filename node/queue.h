/*
 * queue.h - events on their way to the node's loop thread (runtime.c), and
 * the bounded queues that carry them, there and to the signature workers
 * (verify_pool.c). A queue is protected by its owner's lock.
 */
#ifndef NODE_QUEUE_H
#define NODE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "node/peer_msg.h"
#include "node/rpc_env.h"
#include "rpc/http_server.h"

/* Peer messages waiting beyond this many are dropped (and counted)... */
#define NODE_MAX_QUEUED_PEER_MSGS 20000
/* ... and beyond this many bytes of them, as decoded. */
#define NODE_MAX_QUEUED_PEER_BYTES (64u << 20)

/*
 * A client request (req set: a JSON-RPC POST, or a GET when path is set),
 * an event stream's report (stream set), or else a decoded peer message.
 */
struct node_event {
	struct node_event *next;
	struct rpc_http_req *req;
	const char *body;             /* req's body, borrowed until req is answered */
	size_t len;
	const char *path, *query, *last_event_id; /* a GET's, borrowed from req likewise */
	uint64_t arrived_ms;          /* monotonic */
	struct node_pending *pending; /* the request parsed by a signature worker, or NULL */
	uint64_t stream;              /* a stream's id (node/feed.h), or 0 */
	bool stream_closed;
	struct peer_msg msg;          /* the peer message, owned */
};

/* node_event_is_peer: a peer message, which the queue's bounds apply to. */
static inline bool
node_event_is_peer(const struct node_event *ev)
{
	return ev->req == NULL && ev->stream == 0;
}

struct node_queue {
	struct node_event *head, *tail;
	size_t peer_msgs;
	size_t peer_bytes;
};

/*
 * node_queue_push appends ev; false (the caller keeps ev) if it is a peer
 * message beyond the bounds above. Client requests are bounded by the HTTP
 * server's in-flight limit.
 */
bool node_queue_push(struct node_queue *q, struct node_event *ev);
struct node_event *node_queue_pop(struct node_queue *q);      /* NULL if empty */
struct node_event *node_queue_take_all(struct node_queue *q); /* the list; q is then empty */

/* node_event_free frees ev and what it owns (not its request: answer that first). */
void node_event_free(struct node_event *ev);

#endif
