#include "chain/rules.h"
#include "chain/valset.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void
chain_rules_init(struct chain_rules *r, const struct chain_genesis *g)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->chain_id, g->chain_id, sizeof(r->chain_id));
	r->nvalidators = (uint32_t)g->nvalidators;
	r->block_max_txs = g->params.block_max_txs;
	r->block_max_bytes = g->params.block_max_bytes;
	r->max_clock_drift_ms = CHAIN_MAX_CLOCK_DRIFT_MS;
	r->set_changes = strcmp(g->params.engine, "pbft") == 0;
}

int
chain_rules_allow(const struct chain_rules *r, const struct chain_tx *tx, struct ch_err *err)
{
	if (tx->type == CHAIN_TX_VALIDATOR && !r->set_changes)
		return ch_errf(err, CH_E_TX_INVALID,
			       "validator-set changes need the pbft engine; this chain's validators "
			       "are fixed by its genesis");
	return 0;
}

size_t
chain_rules_max_block_encoding(const struct chain_rules *r)
{
	return (size_t)r->block_max_bytes + 4 * (size_t)r->block_max_txs + 256;
}

/* check_header applies the rules that need only the header and the tip. */
static int
check_header(const struct chain_rules *r, const struct chain_tip *tip, const struct chain_header *h,
	     uint32_t proposer, uint64_t now_ms, struct ch_err *err)
{
	if (strcmp(h->chain_id, r->chain_id) != 0)
		return ch_errf(err, CH_E_BLOCK_INVALID, "block of chain %s", h->chain_id);
	if (h->height != tip->height + 1 || memcmp(h->prev_hash, tip->hash, CR_HASH_LEN) != 0)
		return ch_errf(err, CH_E_BLOCK_INVALID,
			       "block %" PRIu64 " does not extend the tip %" PRIu64, h->height,
			       tip->height);
	if (memcmp(h->state_digest, tip->state_digest, CR_HASH_LEN) != 0)
		return ch_errf(err, CH_E_BLOCK_INVALID, "block %" PRIu64 " has a wrong state digest",
			       h->height);
	uint64_t latest = now_ms > UINT64_MAX - r->max_clock_drift_ms ? UINT64_MAX
								    : now_ms + r->max_clock_drift_ms;
	if (h->time_ms < tip->time_ms || h->time_ms > latest)
		return ch_errf(err, CH_E_BLOCK_INVALID, "block %" PRIu64 " has a bad time %" PRIu64,
			       h->height, h->time_ms);
	if (proposer != CHAIN_ANY_PROPOSER && h->proposer != proposer)
		return ch_errf(err, CH_E_BLOCK_INVALID,
			       "block %" PRIu64 " has a wrong proposer %u", h->height, h->proposer);
	if (h->tx_count > r->block_max_txs)
		return ch_errf(err, CH_E_BLOCK_INVALID, "block %" PRIu64 " has %u transactions",
			       h->height, h->tx_count);
	return 0;
}

/*
 * set_size: the validators of the set in force at height (the genesis's if
 * the state has none), and whether a set is scheduled above height.
 */
static int
set_size(const struct chain_rules *r, const struct chain_state_reader *state, uint64_t height,
	 uint32_t *n, bool *scheduled, struct ch_err *err)
{
	*n = r->nvalidators;
	*scheduled = false;
	if (!r->set_changes)
		return 0;
	struct chain_valset *s = malloc(sizeof(*s));
	if (s == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	uint64_t last = 0;
	int rc = chain_valset_at_last(state, height, s, &last, err);
	if (rc == 0) {
		*n = s->n;
		*scheduled = last > height;
	}
	free(s);
	return rc == CH_E_NOT_FOUND ? 0 : rc;
}

bool
chain_rules_set_pending(const struct chain_rules *r, const struct chain_state_reader *state,
			uint64_t height)
{
	uint32_t n;
	bool scheduled = false;
	return set_size(r, state, height, &n, &scheduled, NULL) == 0 && scheduled;
}

/* local_failure: an error of the checker, not of the block. */
static bool
local_failure(int rc)
{
	return rc == CH_E_DB || rc == CH_E_NOMEM || rc == CH_E_IO || rc == CH_E_CORRUPT;
}

int
chain_block_check(const struct chain_rules *r, const struct chain_base *base,
		  const struct chain_block *b, uint32_t proposer, uint64_t now_ms,
		  struct chain_exec **out, struct ch_err *err)
{
	const struct chain_header *h = &b->header;
	int rc = check_header(r, &base->tip, h, proposer, now_ms, err);
	uint32_t n = 0;
	bool scheduled = false;
	if (rc == 0 && (rc = set_size(r, &base->state, h->height, &n, &scheduled, err)) == 0 &&
	    h->proposer >= n)
		rc = ch_errf(err, CH_E_BLOCK_INVALID, "block %" PRIu64 " has a wrong proposer %u",
			     h->height, h->proposer);
	/* empty only to reach a scheduled validator set without waiting for transactions */
	if (rc == 0 && h->tx_count == 0 && !scheduled)
		rc = ch_errf(err, CH_E_BLOCK_INVALID, "block %" PRIu64 " has 0 transactions",
			     h->height);
	if (rc != 0)
		return rc;
	struct chain_exec *x = NULL;
	if (chain_exec_new(&x, &base->state) != 0)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	chain_exec_set_height(x, h->height);
	size_t bytes = 0;
	for (uint32_t i = 0; i < h->tx_count && rc == 0; i++) {
		const struct chain_tx *tx = &b->txs[i];
		bytes += tx->size;
		if (bytes > r->block_max_bytes)
			rc = ch_errf(err, CH_E_BLOCK_INVALID, "block over %u bytes", r->block_max_bytes);
		else if (strcmp(tx->chain_id, r->chain_id) != 0)
			rc = ch_errf(err, CH_E_BLOCK_INVALID, "tx %u is for another chain", i);
		else if ((base->pool == NULL || chain_mempool_get(base->pool, tx->hash) == NULL) &&
			 chain_sigcache_verify(base->sigs, tx, err) != 0)
			rc = ch_errf(err, CH_E_BLOCK_INVALID, "tx %u: bad signature", i);
		else if ((rc = chain_rules_allow(r, tx, err)) != 0 ||
			 ((rc = chain_exec_apply(x, tx, err)) != 0 && !local_failure(rc)))
			rc = ch_err_wrap(err, CH_E_BLOCK_INVALID, "tx %u", i);
	}
	if (rc != 0) {
		chain_exec_free(x);
		return rc;
	}
	*out = x;
	return 0;
}

void
chain_block_seal(struct chain_block *b)
{
	chain_block_tx_root(b->txs, b->header.tx_count, b->header.tx_root);
	chain_header_hash(&b->header, b->hash);
}

int
chain_block_build(const struct chain_rules *r, const struct chain_base *base,
		  const struct chain_mempool *pool, uint32_t proposer, uint64_t view,
		  uint64_t now_ms, chain_drop_fn drop, void *arg, struct chain_proposal *out,
		  struct ch_err *err)
{
	memset(out, 0, sizeof(*out));
	ch_buf_init(&out->enc);
	const struct chain_tx **sel = malloc(r->block_max_txs * sizeof(*sel));
	if (sel == NULL || chain_exec_new(&out->exec, &base->state) != 0) {
		free(sel);
		return ch_errf(err, CH_E_NOMEM, "out of memory cutting a block");
	}
	chain_exec_set_height(out->exec, base->tip.height + 1);
	size_t nsel = chain_mempool_select(pool, chain_state_nonce, (void *)&base->state, r->block_max_txs,
					   r->block_max_bytes, sel);
	struct chain_block *b = &out->block;
	int rc = 0;
	if (nsel > 0 && (b->txs = malloc(nsel * sizeof(*b->txs))) == NULL)
		rc = ch_errf(err, CH_E_NOMEM, "out of memory cutting a block");
	for (size_t i = 0; i < nsel && rc == 0; i++) {
		struct ch_err e;
		ch_err_clear(&e);
		int arc = chain_rules_allow(r, sel[i], &e);
		if (arc == 0)
			arc = chain_exec_apply(out->exec, sel[i], &e);
		if (arc == 0)
			b->txs[b->header.tx_count++] = *sel[i];
		else if (local_failure(arc))
			rc = ch_errf(err, arc, "%s", ch_err_msg(&e));
		else if (arc != CH_E_NONCE_TOO_HIGH && drop != NULL)
			drop(arg, sel[i], &e);
	}
	free(sel);
	if (rc == 0 && b->header.tx_count == 0 &&
	    !chain_rules_set_pending(r, &base->state, base->tip.height + 1))
		rc = ch_errf(err, CH_E_NOT_FOUND, "no transaction in the mempool applies");
	if (rc == 0) {
		struct chain_header *h = &b->header;
		memcpy(h->chain_id, r->chain_id, sizeof(h->chain_id));
		h->height = base->tip.height + 1;
		memcpy(h->prev_hash, base->tip.hash, CR_HASH_LEN);
		h->time_ms = now_ms > base->tip.time_ms ? now_ms : base->tip.time_ms;
		h->proposer = (uint16_t)proposer;
		h->view = view;
		memcpy(h->state_digest, base->tip.state_digest, CR_HASH_LEN);
		chain_block_seal(b);
		chain_block_encode(b, &out->enc);
		if (!ch_buf_ok(&out->enc))
			rc = ch_errf(err, CH_E_NOMEM, "out of memory encoding a block");
	}
	if (rc != 0)
		chain_proposal_close(out);
	return rc;
}

void
chain_proposal_close(struct chain_proposal *p)
{
	if (p == NULL)
		return;
	chain_block_close(&p->block);
	ch_buf_close(&p->enc);
	chain_exec_free(p->exec);
	p->exec = NULL;
}
