/*
 * gossip.h - transactions between validators: what a validator admitted from
 * its clients goes to the others in batches (one txs message per loop
 * round, or sooner past PEER_GOSSIP_FLUSH_BYTES), and what the others send
 * is admitted like a client's. Part of the core (core.h).
 */
#ifndef NODE_GOSSIP_H
#define NODE_GOSSIP_H

#include <stddef.h>
#include <stdint.h>

#include "chain/tx.h"
#include "node/peer_msg.h"

/* A batch goes out once its transactions' encodings reach this. */
#define NODE_GOSSIP_FLUSH_BYTES (1u << 20)

struct node_core;

struct node_gossip {
	struct chain_tx *txs; /* copies, waiting for the next flush */
	uint32_t n, cap;
	size_t bytes;
};

void node_gossip_close(struct node_gossip *g);

/* node_gossip_add queues a client's transaction for the other validators. */
void node_gossip_add(struct node_core *c, const struct chain_tx *tx);

/* node_gossip_flush sends what is queued, in one message. */
void node_gossip_flush(struct node_core *c);

/* node_gossip_on_txs admits the transactions of a peer's txs message. */
void node_gossip_on_txs(struct node_core *c, const struct peer_msg *m);

#endif
