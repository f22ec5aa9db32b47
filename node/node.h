/*
 * node.h - a validator process: its files (config.json, genesis, key, data
 * directory, vote record), its core (node/core.h) and the runtime around it:
 * the loop thread that owns the core, the signature workers, the peer
 * transport and the JSON-RPC server.
 *
 *   HTTP threads (nng) ──► signature workers ──┐
 *   peer threads (nng): decode ── txs ──► ─────┤
 *                         └── other messages ──┴──► queue ──► loop thread: core, RPC methods
 *   loop thread ──► peer transport (sends never block), store, vote record
 *
 * Lifecycle: node_open() (loads the files, applies genesis on a first start),
 * node_run() (serves until node_stop()), then node_close(). node_stop() may
 * be called from any thread.
 */
#ifndef NODE_NODE_H
#define NODE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "chain/genesis.h"
#include "chain/store.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "node/io.h"

struct node;

int node_open(struct node **out, const char *home, struct ch_err *err);

/* node_run starts the RPC server and the peers and runs the loop until node_stop(). */
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

/*
 * For test builds that make a validator misbehave (tests/byzantine): every
 * peer message the core sends goes to fn instead, with the node's own io to
 * send what it likes with. Set between node_open and node_run.
 */
typedef void (*node_send_hook_fn)(void *arg, const struct node_io *io, int to, const uint8_t *msg,
				  size_t len);
void node_set_send_hook(struct node *n, node_send_hook_fn fn, void *arg);

/* Who this validator is, for the same tests. Borrowed from n. */
struct node_identity {
	const struct chain_genesis *genesis;
	struct chain_store *store;
	const struct cr_key *key;
	uint32_t self;
};
void node_identity(const struct node *n, struct node_identity *out);

#endif
