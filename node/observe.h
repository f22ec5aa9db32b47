/*
 * observe.h - what a validator shows of itself over HTTP GET: /healthz and
 * the explorer page (answered on nng's threads), /metrics, /readyz and
 * /events (answered on the loop thread), and the loop's counting for the
 * metrics (node/metrics.h). Part of the runtime (node/runtime.h).
 */
#ifndef NODE_OBSERVE_H
#define NODE_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "node/runtime.h"

/* Blocks counted into the metrics in one turn of the loop at most (after a sync: the latest). */
#define NODE_METRICS_BLOCKS_PER_TURN 256
/* Refused peer input is logged at most this often, as counts. */
#define NODE_REFUSALS_LOG_MS 10000

/* node_observe_init starts the counting, before the loop runs. */
void node_observe_init(struct node *n);

/* node_observe_synced counts one synced write outside the store (the vote record). */
void node_observe_synced(struct node *n, double seconds);

/*
 * node_get_now (an nng thread) answers a GET that needs nothing of the
 * loop: /healthz, the explorer page, unknown paths (404). False: the loop
 * answers it (node_get_loop).
 */
bool node_get_now(struct node *n, struct rpc_http_req *req, const struct rpc_http_in *in,
		  uint64_t now_ms);

/* node_get_loop answers GET /metrics, /readyz or /events (the loop thread). */
void node_get_loop(struct node *n, struct node_event *ev);

/* node_readiness: the readiness checks as JSON (node/ready.h; caller owns); *ready: all pass. */
cJSON *node_readiness(struct node *n, bool *ready);

/* node_observe_turn, after each turn of the loop: the heartbeat, new blocks, the view. */
void node_observe_turn(struct node *n, struct node_time now);

/* node_observe_rpc counts an answered request's calls and its time since it came in. */
void node_observe_rpc(struct node *n, const struct node_pending *p, uint64_t now_ms);

#endif
