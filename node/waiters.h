/*
 * waiters.h - JSON-RPC calls that wait for their transaction to commit
 * (broadcast_tx_commit): each is answered once the transaction commits, is
 * dropped, leaves the mempool, or its time is up. Owned by the loop thread.
 */
#ifndef NODE_WAITERS_H
#define NODE_WAITERS_H

#include <stdbool.h>
#include <stdint.h>

#include "node/rpc_env.h"

struct node_waiter;

struct node_waiters {
	struct node_waiter *head;
	/* finish answers and frees a request none of whose calls waits any more (rpc_request_render, node_pending_free) */
	void (*finish)(void *arg, struct node_pending *p);
	void *arg;
};

/* node_waiters_add keeps call c of p waiting for hash until deadline_ms. CH_E_NOMEM. */
int node_waiters_add(struct node_waiters *w, struct node_pending *p, struct rpc_call *c,
		     const uint8_t hash[CR_HASH_LEN], uint64_t deadline_ms);

/*
 * node_waiters_settle answers the calls whose transaction committed or was
 * dropped, or whose time is up at now_ms; with shutting_down, all of them.
 */
void node_waiters_settle(struct node_waiters *w, const struct node_rpc_env *env, uint64_t now_ms,
			 bool shutting_down);

/* node_waiters_deadline: the earliest deadline (UINT64_MAX: none waits). */
uint64_t node_waiters_deadline(const struct node_waiters *w);

#endif
