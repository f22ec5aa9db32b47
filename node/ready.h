/*
 * ready.h - is a validator ready to serve (GET /readyz, the JSON-RPC
 * `health` method)? The checks are computed from facts the runtime
 * gathers, so that they can be tested alone:
 *   store  the store is open and no write has failed;
 *   disk   the data directory's file system has min_free_disk_mb free or more;
 *   sync   the node is no more than NODE_READY_MAX_LAG blocks below the highest
 *          height its peers announce (whether a state transfer is under way is
 *          shown, not checked: a validator one block behind asks for it too);
 *   peers  it heard from a quorum of validators (itself included) in the
 *          last NODE_READY_PEER_WINDOW_MS.
 */
#ifndef NODE_READY_H
#define NODE_READY_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define NODE_READY_MAX_LAG 5
#define NODE_READY_PEER_WINDOW_MS 5000

struct node_ready_facts {
	bool store_ok;
	bool disk_known;     /* false: no min_free_disk_mb, or the file system did not answer */
	uint64_t free_bytes;
	uint32_t min_free_disk_mb;
	uint64_t height, peer_height; /* peer_height: the highest any peer announced */
	bool syncing;        /* a state transfer is under way (shown only) */
	uint32_t seen;       /* validators heard from within the window, itself included */
	uint32_t quorum;
};

struct node_ready {
	bool store, disk, sync, peers;
	bool ready; /* all of them */
};

struct node_ready node_ready_check(const struct node_ready_facts *f);

/* node_ready_json: {"ready", "failing": [names], "checks": {...}}; caller owns (NULL: no memory) */
cJSON *node_ready_json(const struct node_ready_facts *f, const struct node_ready *r);

#endif
