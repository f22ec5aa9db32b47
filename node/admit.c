/* Admission of transactions into the mempool (admit.h). */
#include "node/admit.h"

#include "chain/valset.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int
node_admit_init(struct node_admit *a, const struct chain_mempool_config *cfg,
		struct chain_sigcache *sigs, struct ch_err *err)
{
	memset(a, 0, sizeof(*a));
	a->sigs = sigs;
	if (chain_mempool_new(&a->pool, cfg) != 0)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	return 0;
}

void
node_admit_close(struct node_admit *a)
{
	chain_mempool_free(a->pool);
	a->pool = NULL;
}

/*
 * check_change runs a validator change against the committed state as if in
 * the next block, so that its signer hears at once why it cannot apply
 * (not a validator, approved already, the change impossible). It may still
 * be refused in a block, if one before it changes the set.
 */
static int
check_change(const struct node_admit *a, const struct chain_rules *r,
	     const struct chain_state_reader *state, const struct chain_tx *tx, struct ch_err *err)
{
	int rc = chain_rules_allow(r, tx, err);
	struct chain_exec *x = NULL;
	if (rc == 0 && chain_exec_new(&x, state) != 0)
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = chain_valset_apply(x, a->next_height ? a->next_height : 1, tx, NULL, err);
	chain_exec_free(x);
	return rc;
}

static int
check(struct node_admit *a, const struct chain_rules *r, const struct chain_state_reader *state,
      const struct chain_tx *tx, uint64_t now_ms, struct ch_err *err)
{
	if (strcmp(tx->chain_id, r->chain_id) != 0)
		return ch_errf(err, CH_E_WRONG_CHAIN,
			       "transaction is for chain \"%s\" but this node serves chain \"%s\"",
			       tx->chain_id, r->chain_id);
	struct chain_account acct;
	int rc = state->get_account(state->arg, tx->sender, &acct, err);
	if (rc != 0)
		return rc;
	if (tx->nonce < acct.nonce)
		return ch_errf(err, CH_E_NONCE_TOO_LOW,
			       "nonce %" PRIu64 " already used: the account nonce is %" PRIu64
			       "; sign with nonce %" PRIu64 " or higher",
			       tx->nonce, acct.nonce, acct.nonce);
	if (tx->type == CHAIN_TX_TRANSFER && tx->amount > acct.balance)
		return ch_errf(err, CH_E_INSUFFICIENT_FUNDS,
			       "balance %" PRIu64 " is less than the amount %" PRIu64, acct.balance,
			       tx->amount);
	if (tx->type == CHAIN_TX_VALIDATOR && (rc = check_change(a, r, state, tx, err)) != 0)
		return rc;
	/* last, as the dearest check; usually answered by a signature worker's verdict */
	if ((rc = chain_sigcache_verify(a->sigs, tx, err)) != 0)
		return rc;
	return chain_mempool_add(a->pool, tx, acct.nonce, now_ms, err);
}

int
node_admit_tx(struct node_admit *a, const struct chain_rules *r,
	      const struct chain_state_reader *state, const struct chain_tx *tx, uint64_t now_ms,
	      bool remember, struct ch_err *err)
{
	struct ch_err e;
	ch_err_clear(&e);
	int rc = check(a, r, state, tx, now_ms, &e);
	if (rc == 0)
		a->admitted++;
	else if (rc > 0 && rc < CH_E__COUNT)
		a->refused[rc]++;
	if (rc == 0) {
		size_t have = a->ndropped < NODE_DROPPED_RING ? a->ndropped : NODE_DROPPED_RING;
		for (size_t i = 0; i < have; i++)
			if (memcmp(a->dropped[i].hash, tx->hash, CR_HASH_LEN) == 0)
				memset(a->dropped[i].hash, 0, CR_HASH_LEN);
	} else if (remember && rc != CH_E_KNOWN) {
		node_admit_forget(a, tx->hash, &e);
	}
	if (rc != 0 && err != NULL)
		*err = e;
	return rc;
}

void
node_admit_forget(struct node_admit *a, const uint8_t hash[CR_HASH_LEN], const struct ch_err *why)
{
	struct node_dropped *d = &a->dropped[a->ndropped++ % NODE_DROPPED_RING];
	memcpy(d->hash, hash, CR_HASH_LEN);
	d->code = why->code;
	snprintf(d->msg, sizeof(d->msg), "%s", ch_err_msg(why));
}

const struct node_dropped *
node_admit_dropped(const struct node_admit *a, const uint8_t hash[CR_HASH_LEN])
{
	size_t have = a->ndropped < NODE_DROPPED_RING ? a->ndropped : NODE_DROPPED_RING;
	for (size_t k = 1; k <= have; k++) { /* the latest first */
		const struct node_dropped *d = &a->dropped[(a->ndropped - k) % NODE_DROPPED_RING];
		if (memcmp(d->hash, hash, CR_HASH_LEN) == 0)
			return d;
	}
	return NULL;
}

bool
node_admit_ready(struct node_admit *a, const struct chain_tip *tip,
		 const struct chain_state_reader *state)
{
	size_t count = chain_mempool_count(a->pool);
	if (count == 0)
		return false;
	if (count != a->ready_count || tip->height != a->ready_height) {
		const struct chain_tx *one;
		a->ready_count = count;
		a->ready_height = tip->height;
		a->ready = chain_mempool_select(a->pool, chain_state_nonce, (void *)state, 1, SIZE_MAX, &one) > 0;
	}
	return a->ready;
}

void
node_admit_committed(struct node_admit *a, const struct chain_block *b,
		     const struct chain_state_reader *state, uint64_t now_ms)
{
	a->next_height = b->header.height + 1;
	/* only the block's senders have new nonces: the rest of the pool is left alone */
	for (uint32_t i = 0; i < b->header.tx_count; i++)
		chain_mempool_remove(a->pool, b->txs[i].hash);
	for (uint32_t i = 0; i < b->header.tx_count; i++) {
		uint64_t nonce;
		if (chain_state_nonce((void *)state, b->txs[i].sender, &nonce) == 0)
			chain_mempool_drop_below(a->pool, b->txs[i].sender, nonce);
	}
	if (now_ms >= a->next_expire_ms) {
		chain_mempool_expire(a->pool, now_ms);
		a->next_expire_ms = now_ms + NODE_EXPIRE_EVERY_MS;
	}
}
