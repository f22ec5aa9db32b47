/*
 * sync.h - state transfer and heights: a validator that is behind fetches
 * committed blocks with their certificates from a peer, checks each
 * certificate against the validator set and each block against the chain's
 * rules, and commits them; it answers the others' requests from its store;
 * and once a second it tells everyone its height. Part of the core (core.h).
 *
 * A request names who asks, but is not signed: answers to any one validator
 * are limited to NODE_SYNC_ANSWERS_PER_S (burst of two seconds' worth), so
 * nobody can make a validator read and send blocks without end. An honest
 * catch-up asks again only after each answer, or after NODE_SYNC_RETRY_MS.
 */
#ifndef NODE_SYNC_H
#define NODE_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "chain/block.h"
#include "node/peer_msg.h"

#define NODE_SYNC_ANSWERS_PER_S 100
#define NODE_SYNC_RETRY_MS 2000
#define NODE_SYNC_LOG_GAP 5 /* a state transfer this many blocks long or more is logged */

struct node_core;

struct node_sync {
	/* the request in flight */
	bool pending;
	uint32_t peer;
	uint64_t id;
	uint64_t deadline_ms;
	/* what each validator said of its height, and when */
	uint64_t peer_height[CHAIN_MAX_VALIDATORS];
	uint64_t peer_seen_ms[CHAIN_MAX_VALIDATORS];
	/* answers to each validator: a token bucket */
	double serve_tokens[CHAIN_MAX_VALIDATORS];
	uint64_t serve_ms[CHAIN_MAX_VALIDATORS];
	uint64_t refused; /* requests over that rate, not answered */
};

/* node_sync_init starts request ids at first_id (random, so old answers never match). */
void node_sync_init(struct node_sync *s, uint64_t first_id);

/* node_sync_request asks peer for the committed blocks after the tip, up to upto. */
void node_sync_request(struct node_core *c, uint32_t peer, uint64_t upto);

void node_sync_on_status(struct node_core *c, const struct peer_msg *m);
void node_sync_on_get_blocks(struct node_core *c, const struct peer_msg *m);
void node_sync_on_blocks(struct node_core *c, const struct peer_msg *m);

/* node_sync_send_status tells the other validators this one's height. */
void node_sync_send_status(struct node_core *c);

#endif
