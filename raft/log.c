/*
 * The in-memory log: entries with dense indexes above a base, the last
 * entry no longer held (a committed one, or index 0). Block heights in a
 * log are consecutive and a no-op carries the height of the block before
 * it, so heights never decrease with the index; that makes a height
 * lookup a binary search.
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_internal.h"

static void
entry_free(struct raft_entry *e)
{
	free(e->block);
	free(e->cert);
	free(e->votes);
	memset(e, 0, sizeof(*e));
}

void
raft_entry_clear_votes(struct raft_entry *e)
{
	free(e->votes);
	e->votes = NULL;
	e->nvotes = 0;
}

void
raft_log_init(struct raft_log *l, uint64_t index, uint64_t term, uint64_t height)
{
	memset(l, 0, sizeof(*l));
	l->base_index = index;
	l->base_term = term;
	l->base_height = height;
}

void
raft_log_close(struct raft_log *l)
{
	for (size_t i = 0; i < l->len; i++)
		entry_free(&l->e[i]);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

uint64_t
raft_log_last_index(const struct raft_log *l)
{
	return l->base_index + l->len;
}

struct raft_entry *
raft_log_get(const struct raft_log *l, uint64_t index)
{
	if (index <= l->base_index || index > raft_log_last_index(l))
		return NULL;
	return &l->e[index - l->base_index - 1];
}

bool
raft_log_term_at(const struct raft_log *l, uint64_t index, uint64_t *term)
{
	if (index == l->base_index) {
		*term = l->base_term;
		return true;
	}
	const struct raft_entry *e = raft_log_get(l, index);
	if (e == NULL)
		return false;
	*term = e->term;
	return true;
}

bool
raft_log_height_at(const struct raft_log *l, uint64_t index, uint64_t *height)
{
	if (index == l->base_index) {
		*height = l->base_height;
		return true;
	}
	const struct raft_entry *e = raft_log_get(l, index);
	if (e == NULL)
		return false;
	*height = e->height;
	return true;
}

uint64_t
raft_log_last_term(const struct raft_log *l)
{
	return l->len ? l->e[l->len - 1].term : l->base_term;
}

uint64_t
raft_log_last_height(const struct raft_log *l)
{
	return l->len ? l->e[l->len - 1].height : l->base_height;
}

struct raft_entry *
raft_log_append(struct raft_log *l)
{
	if (l->len == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct raft_entry *e = realloc(l->e, cap * sizeof(*e));
		if (e == NULL)
			abort(); /* losing an entry would lose an action */
		l->e = e;
		l->cap = cap;
	}
	struct raft_entry *e = &l->e[l->len++];
	memset(e, 0, sizeof(*e));
	return e;
}

void
raft_log_truncate(struct raft_log *l, uint64_t from)
{
	while (l->len > 0 && raft_log_last_index(l) >= from)
		entry_free(&l->e[--l->len]);
}

void
raft_log_compact(struct raft_log *l, uint64_t upto)
{
	if (upto <= l->base_index)
		return;
	if (upto > raft_log_last_index(l))
		upto = raft_log_last_index(l);
	size_t k = (size_t)(upto - l->base_index);
	const struct raft_entry *last = &l->e[k - 1];
	l->base_term = last->term;
	l->base_height = last->height;
	l->base_index = upto;
	for (size_t i = 0; i < k; i++)
		entry_free(&l->e[i]);
	memmove(l->e, l->e + k, (l->len - k) * sizeof(*l->e));
	l->len -= k;
}

void
raft_log_reset(struct raft_log *l, uint64_t index, uint64_t term, uint64_t height)
{
	raft_log_truncate(l, l->base_index + 1);
	l->base_index = index;
	l->base_term = term;
	l->base_height = height;
}

/* first_at_least returns the position of the first held entry with height >= h (len if none). */
static size_t
first_at_least(const struct raft_log *l, uint64_t h)
{
	size_t lo = 0, hi = l->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->e[mid].height < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct raft_entry *
raft_log_block(const struct raft_log *l, uint64_t height, uint64_t *index)
{
	size_t i = first_at_least(l, height);
	/* the first entry at a height is its block: a no-op follows the block it names */
	if (i == l->len || l->e[i].height != height || !l->e[i].is_block)
		return NULL;
	if (index != NULL)
		*index = l->base_index + 1 + i;
	return &l->e[i];
}

uint64_t
raft_log_last_upto(const struct raft_log *l, uint64_t h, uint64_t max_index)
{
	uint64_t idx = l->base_index + first_at_least(l, h + 1);
	return idx < max_index ? idx : max_index;
}

bool
raft_log_last_at_height(const struct raft_log *l, uint64_t h, uint64_t max_index, uint64_t *index)
{
	size_t i = first_at_least(l, h + 1); /* just past the last entry at h */
	uint64_t idx = l->base_index + i;    /* index of that last entry (or the base) */
	if (idx > max_index)
		idx = max_index;
	if (idx < l->base_index)
		return false;
	uint64_t got;
	if (!raft_log_height_at(l, idx, &got) || got != h)
		return false;
	*index = idx;
	return true;
}
