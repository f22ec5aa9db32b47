/*
 * verify_pool.h - the signature workers: threads that do the stateless half
 * of admitting transactions before the loop thread sees them. For a client
 * request a worker parses the JSON-RPC body, decodes each transaction it
 * submits (handed to the loop with the request) and checks its signature;
 * for a peer's txs message it checks every transaction. Verdicts land in
 * the signature cache (chain/sigcache.h), so that the loop, and later block
 * validation, find them there. Other peer messages skip the workers: their
 * order matters, and the loop handles them at once.
 */
#ifndef NODE_VERIFY_POOL_H
#define NODE_VERIFY_POOL_H

#include <stdbool.h>

#include "chain/sigcache.h"
#include "common/err.h"
#include "node/queue.h"

struct node_verify_pool;

/* Where a worker hands an event when it is done with it (any thread). */
typedef void (*node_verified_fn)(void *arg, struct node_event *ev);

/* node_verify_pool_start starts nthreads workers (0: one per core). */
int node_verify_pool_start(struct node_verify_pool **out, unsigned nthreads,
			   struct chain_sigcache *sigs, node_verified_fn done, void *arg,
			   struct ch_err *err);

/* node_verify_pool_submit queues ev; false if stopping (the caller keeps ev). */
bool node_verify_pool_submit(struct node_verify_pool *q, struct node_event *ev);

/* node_verify_pool_stop lets the workers finish what is queued, joins them and frees q. NULL is fine. */
void node_verify_pool_stop(struct node_verify_pool *q);

unsigned node_verify_pool_threads(const struct node_verify_pool *q);

#endif
