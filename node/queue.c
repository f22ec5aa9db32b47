/* The event queues of the loop and of the signature workers (queue.h). */
#include "node/queue.h"

#include <stdlib.h>

bool
node_queue_push(struct node_queue *q, struct node_event *ev)
{
	if (node_event_is_peer(ev)) {
		if (q->peer_msgs >= NODE_MAX_QUEUED_PEER_MSGS ||
		    q->peer_bytes + ev->msg.mem > NODE_MAX_QUEUED_PEER_BYTES)
			return false;
		q->peer_msgs++;
		q->peer_bytes += ev->msg.mem;
	}
	ev->next = NULL;
	if (q->tail != NULL)
		q->tail->next = ev;
	else
		q->head = ev;
	q->tail = ev;
	return true;
}

struct node_event *
node_queue_pop(struct node_queue *q)
{
	struct node_event *ev = q->head;
	if (ev == NULL)
		return NULL;
	q->head = ev->next;
	if (q->head == NULL)
		q->tail = NULL;
	if (node_event_is_peer(ev)) {
		q->peer_msgs--;
		q->peer_bytes -= ev->msg.mem;
	}
	ev->next = NULL;
	return ev;
}

struct node_event *
node_queue_take_all(struct node_queue *q)
{
	struct node_event *evs = q->head;
	q->head = q->tail = NULL;
	q->peer_msgs = 0;
	q->peer_bytes = 0;
	return evs;
}

void
node_event_free(struct node_event *ev)
{
	if (ev == NULL)
		return;
	node_pending_free(ev->pending);
	peer_msg_close(&ev->msg);
	free(ev);
}
