/*
 * events.h - the chain's events, derived from committed blocks (so that a
 * client that says where it stopped can always resume exactly): for each
 * block a "block" event (ordinal 0), then a "tx" event for each of its
 * transactions (ordinal index + 1). An event's id is "<height>-<ordinal>",
 * whatever filter a client uses. docs/RPC.md (`events`, GET /events).
 */
#ifndef NODE_EVENTS_H
#define NODE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "chain/store.h"
#include "common/err.h"
#include "crypto/crypto.h"

#define NODE_EV_BLOCK 1u
#define NODE_EV_TX 2u
#define NODE_EVENTS_MAX 1000        /* events in one answer (but a first block is given whole) */
#define NODE_EVENTS_SCAN_BLOCKS 1000 /* blocks read for one answer */
#define NODE_EVENTS_MAX_WAIT_MS 60000 /* the longest long poll */

/* Which events, from where. */
struct node_events_query {
	uint64_t from_height;  /* >= 1 */
	int64_t after_ordinal; /* in block from_height, only ordinals above this (-1: all) */
	unsigned kinds;        /* NODE_EV_BLOCK | NODE_EV_TX */
	bool has_account;      /* tx events only where the account sends or receives */
	uint8_t account[CR_ADDR_LEN];
};

/* node_events_parse_id reads "<height>-<ordinal>" (false if malformed). */
bool node_events_parse_id(const char *id, uint64_t *height, uint32_t *ordinal);

/*
 * Called for each event in order: kind "block" or "tx", its id, and its
 * JSON (the callee owns ev). A non-zero return stops the scan with that error.
 */
typedef int (*node_event_fn)(void *arg, const char *kind, const char *id, cJSON *ev);

/*
 * node_events_scan reads blocks from q->from_height up to tip (at most
 * NODE_EVENTS_SCAN_BLOCKS of them), calling fn for each matching event:
 * at most max_events of them, except that the first block with any is
 * given whole, however many it has (a block is never split). *next_height
 * is the height after the last block given (from_height if none was). Errors:
 * CH_E_DB, CH_E_CORRUPT, CH_E_NOMEM, or fn's.
 */
int node_events_scan(struct chain_store *s, uint64_t tip, const struct node_events_query *q,
		     size_t max_events, node_event_fn fn, void *arg, uint64_t *next_height,
		     struct ch_err *err);

#endif
