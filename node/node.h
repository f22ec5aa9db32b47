/*
 * node.h - a validator: configuration, storage, mempool, consensus and the
 * JSON-RPC server, driven by one loop thread that owns all mutable state.
 *
 * Lifecycle: node_open() (loads config, genesis, key and database, applies
 * genesis on first start), node_run() (serves until node_stop()), then
 * node_close(). node_stop() may be called from any thread.
 */
#ifndef NODE_NODE_H
#define NODE_NODE_H

#include "common/err.h"

struct node;

int node_open(struct node **out, const char *home, struct ch_err *err);

/* node_run starts the RPC server and runs the loop until node_stop(). */
int node_run(struct node *n, struct ch_err *err);

/* node_stop asks the loop to finish: pending requests are answered, the
 * database is left consistent. Thread-safe; not async-signal-safe. */
void node_stop(struct node *n);

void node_close(struct node *n);

/*
 * node_stop_phase says what node_run's shutdown is doing, or NULL while it
 * runs (any thread; for a stop that does not finish).
 */
const char *node_stop_phase(struct node *n);

#endif
