/* Calls waiting for their transaction to commit (waiters.h). */
#include "node/waiters.h"

#include <stdlib.h>
#include <string.h>

#include "node/json_view.h"

struct node_waiter {
	struct node_waiter *next;
	struct node_pending *pending;
	struct rpc_call *call;
	uint8_t hash[CR_HASH_LEN];
	uint64_t deadline_ms;
};

int
node_waiters_add(struct node_waiters *w, struct node_pending *p, struct rpc_call *c,
		 const uint8_t hash[CR_HASH_LEN], uint64_t deadline_ms)
{
	struct node_waiter *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return CH_E_NOMEM;
	x->pending = p;
	x->call = c;
	memcpy(x->hash, hash, CR_HASH_LEN);
	x->deadline_ms = deadline_ms;
	x->next = w->head;
	w->head = x;
	p->waiting++;
	return 0;
}

/* answer answers x's call if its wait is over, and says so. */
static bool
answer(const struct node_rpc_env *env, struct node_waiter *x, uint64_t now, bool shutting_down)
{
	if (node_tx_status(env, x->call, x->hash))
		return true;
	if (chain_mempool_get(env->admit->pool, x->hash) == NULL) {
		/* left the mempool uncommitted: another transaction took its nonce, or it expired */
		rpc_call_error(x->call, ch_rpc_code(CH_E_NONCE_TOO_LOW),
			       "the transaction left the mempool without committing: its nonce "
			       "was used by another transaction, or it expired",
			       NULL);
		return true;
	}
	if (!shutting_down && now < x->deadline_ms)
		return false;
	cJSON *data = cJSON_CreateObject();
	node_json_add_hex(data, "hash", x->hash, CR_HASH_LEN);
	rpc_call_error(x->call, ch_rpc_code(shutting_down ? CH_E_UNAVAILABLE : CH_E_TIMEOUT),
		       shutting_down ? "node is shutting down; the transaction may still commit"
				     : "not committed in time; the transaction is pending and may "
				       "still commit",
		       data);
	return true;
}

void
node_waiters_settle(struct node_waiters *w, const struct node_rpc_env *env, uint64_t now_ms,
		    bool shutting_down)
{
	struct node_waiter **link = &w->head;
	while (*link != NULL) {
		struct node_waiter *x = *link;
		if (!answer(env, x, now_ms, shutting_down)) {
			link = &x->next;
			continue;
		}
		*link = x->next;
		if (--x->pending->waiting == 0)
			w->finish(w->arg, x->pending);
		free(x);
	}
}

uint64_t
node_waiters_deadline(const struct node_waiters *w)
{
	uint64_t d = UINT64_MAX;
	for (const struct node_waiter *x = w->head; x != NULL; x = x->next)
		if (x->deadline_ms < d)
			d = x->deadline_ms;
	return d;
}
