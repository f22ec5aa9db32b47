/* The validator sets of a core (sets.h). */
#include "node/sets.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node/core_internal.h"

static void
free_keys(struct cr_pubkey **keys)
{
	for (uint32_t i = 0; i < CHAIN_MAX_VALIDATORS; i++) {
		cr_pubkey_free(keys[i]);
		keys[i] = NULL;
	}
}

static int
parse_keys(const struct chain_valset *s, struct cr_pubkey **keys, struct ch_err *err)
{
	free_keys(keys);
	for (uint32_t i = 0; i < s->n; i++)
		if (cr_pubkey_parse(&keys[i], s->m[i].pub_key, err) != 0)
			return ch_err_wrap(err, CH_E_CORRUPT, "validator %s's key", s->m[i].id);
	return 0;
}

static uint32_t
index_of(const struct chain_valset *s, const uint8_t pub[CR_PUBKEY_LEN])
{
	int i = chain_valset_find_key(s, pub);
	return i < 0 ? NODE_NOT_MEMBER : (uint32_t)i;
}

uint32_t
node_sets_slot_by_key(const struct node_sets *s, const uint8_t pub[CR_PUBKEY_LEN])
{
	uint32_t i = index_of(s->latest, pub);
	if (i != NODE_NOT_MEMBER)
		return s->latest->m[i].slot;
	i = index_of(s->cur, pub);
	return i == NODE_NOT_MEMBER ? NODE_NOT_MEMBER : s->cur->m[i].slot;
}

uint32_t
node_sets_slot_of(const struct node_sets *s, uint32_t i)
{
	return i < s->cur->n ? s->cur->m[i].slot : NODE_NOT_MEMBER;
}

/* load reads the three sets at the tip into fresh copies, and keys for cur and prev. */
static int
load(struct node_core *c, struct ch_err *err)
{
	struct node_sets *s = &c->sets;
	struct chain_state_reader r = chain_store_reader(c->store);
	uint64_t next = c->tip.height + 1;
	int rc = chain_valset_at(&r, next, s->cur, err);
	if (rc == 0)
		rc = chain_valset_at(&r, UINT64_MAX, s->latest, err);
	if (rc == 0 && s->cur->start > 1)
		rc = chain_valset_at(&r, s->cur->start - 1, s->prev, err);
	else if (rc == 0)
		*s->prev = *s->cur;
	if (rc == CH_E_NOT_FOUND)
		rc = ch_err_wrap(err, CH_E_CORRUPT,
				 "the store has no validator set (made by an older version?)");
	return rc;
}

/*
 * slot_ever finds the slot the node's key had in any set (a removed
 * validator keeps its slot: it may still follow the chain by state
 * transfer, answered at that slot). NODE_NOT_MEMBER if none.
 */
static uint32_t
slot_ever(struct node_core *c, struct ch_err *err)
{
	struct node_sets *s = &c->sets;
	uint32_t slot = node_sets_slot_by_key(s, s->self_pub);
	struct chain_state_reader r = chain_store_reader(c->store);
	uint64_t *starts = malloc(CHAIN_MAX_EPOCHS * sizeof(*starts));
	struct chain_valset *old = malloc(sizeof(*old));
	size_t n = 0;
	if (slot == NODE_NOT_MEMBER && starts != NULL && old != NULL &&
	    chain_valset_starts(&r, starts, CHAIN_MAX_EPOCHS, &n, err) == 0)
		for (size_t i = n; i > 0 && slot == NODE_NOT_MEMBER; i--)
			if (chain_valset_at(&r, starts[i - 1], old, err) == 0) {
				int k = chain_valset_find_key(old, s->self_pub);
				if (k >= 0)
					slot = old->m[k].slot;
			}
	free(starts);
	free(old);
	return slot;
}

int
node_sets_open(struct node_core *c, const uint8_t self_pub[CR_PUBKEY_LEN], struct ch_err *err)
{
	struct node_sets *s = &c->sets;
	memcpy(s->self_pub, self_pub, CR_PUBKEY_LEN);
	s->cur = malloc(sizeof(*s->cur));
	s->prev = malloc(sizeof(*s->prev));
	s->latest = malloc(sizeof(*s->latest));
	if (s->cur == NULL || s->prev == NULL || s->latest == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	int rc = load(c, err);
	if (rc == 0)
		rc = parse_keys(s->cur, s->cur_keys, err);
	if (rc == 0)
		rc = parse_keys(s->prev, s->prev_keys, err);
	s->self = index_of(s->cur, self_pub);
	s->slot = rc == 0 ? slot_ever(c, NULL) : NODE_NOT_MEMBER;
	s->gen = 1;
	return rc;
}

void
node_sets_close(struct node_sets *s)
{
	free_keys(s->cur_keys);
	free_keys(s->prev_keys);
	free(s->cur);
	free(s->prev);
	free(s->latest);
	s->cur = s->prev = s->latest = NULL;
}

int
node_sets_refresh(struct node_core *c, const struct chain_block *b, bool *changed,
		  struct ch_err *err)
{
	struct node_sets *s = &c->sets;
	uint64_t cur_start = s->cur->start, latest_start = s->latest->start;
	*changed = false;
	/* the sets change only when a block schedules one, or at a start height */
	bool votes = false;
	for (uint32_t i = 0; i < b->header.tx_count && !votes; i++)
		votes = b->txs[i].type == CHAIN_TX_VALIDATOR;
	if (!votes && (latest_start == cur_start || c->tip.height + 1 < latest_start))
		return 0;
	int rc = load(c, err);
	if (rc != 0)
		return rc;
	if (s->cur->start != cur_start) {
		*changed = true;
		if ((rc = parse_keys(s->cur, s->cur_keys, err)) != 0 ||
		    (rc = parse_keys(s->prev, s->prev_keys, err)) != 0)
			return rc;
		s->self = index_of(s->cur, s->self_pub);
	}
	if (*changed || s->latest->start != latest_start) {
		/* a slot is for good: a removed validator keeps its own */
		uint32_t slot = node_sets_slot_by_key(s, s->self_pub);
		if (slot != NODE_NOT_MEMBER)
			s->slot = slot;
		s->gen++;
	}
	return 0;
}

bool
node_sets_check(struct node_core *c, uint32_t v, const uint8_t digest[CR_HASH_LEN],
		const uint8_t sig[CR_SIG_LEN])
{
	struct node_sets *s = &c->sets;
	return v < s->cur->n &&
	       c->io.verify(c->io.arg, s->cur->m[v].pub_key, s->cur_keys[v], digest, sig);
}

bool
node_sets_check_at(struct node_core *c, uint64_t height, uint32_t v,
		   const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN])
{
	struct node_sets *s = &c->sets;
	if (height >= s->cur->start)
		return node_sets_check(c, v, digest, sig);
	if (height < s->prev->start || v >= s->prev->n)
		return false;
	return c->io.verify(c->io.arg, s->prev->m[v].pub_key, s->prev_keys[v], digest, sig);
}
