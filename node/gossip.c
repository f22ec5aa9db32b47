/* Transaction gossip between validators (gossip.h). */
#include "node/gossip.h"

#include <stdlib.h>

#include "node/core_internal.h"

void
node_gossip_close(struct node_gossip *g)
{
	free(g->txs);
	g->txs = NULL;
	g->n = g->cap = 0;
	g->bytes = 0;
}

void
node_gossip_add(struct node_core *c, const struct chain_tx *tx)
{
	struct node_gossip *g = &c->gossip;
	if (CORE_N(c) < 2 && CORE_SELF(c) != NODE_NOT_MEMBER)
		return; /* alone in the set: nobody to tell */
	if (g->n == g->cap) {
		uint32_t cap = g->cap ? 2 * g->cap : 64;
		struct chain_tx *t = cap <= PEER_MAX_TXS ? realloc(g->txs, cap * sizeof(*t)) : NULL;
		if (t == NULL) {
			node_gossip_flush(c);
			if (g->n == g->cap)
				return; /* out of memory: the others get it in a block */
		} else {
			g->txs = t;
			g->cap = cap;
		}
	}
	g->txs[g->n++] = *tx;
	g->bytes += tx->size;
	if (g->bytes >= NODE_GOSSIP_FLUSH_BYTES || g->n == PEER_MAX_TXS)
		node_gossip_flush(c);
}

void
node_gossip_flush(struct node_core *c)
{
	struct node_gossip *g = &c->gossip;
	if (g->n == 0)
		return;
	struct peer_msg m = {.type = PEER_TXS, .txs = g->txs, .ntxs = g->n};
	node_core_send(c, -1, &m);
	g->n = 0;
	g->bytes = 0;
}

void
node_gossip_on_txs(struct node_core *c, const struct peer_msg *m)
{
	struct chain_state_reader state = chain_store_reader(c->store);
	for (uint32_t i = 0; i < m->ntxs; i++) {
		const struct chain_tx *tx = &m->txs[i];
		if (c->trust_peers)
			chain_sigcache_vouch(c->admit.sigs, tx);
		if (chain_mempool_get(c->admit.pool, tx->hash) == NULL)
			(void)node_admit_tx(&c->admit, &c->rules, &state, tx, c->now.mono_ms, false,
					    NULL);
	}
}
