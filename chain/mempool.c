/*
 * The mempool: transactions in chained hash buckets by hash, and per sender
 * in a list sorted by nonce; senders in order of arrival.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/mempool.h"

struct mp_sender;

struct mp_entry {
	struct chain_tx tx;
	uint64_t added_ms;
	struct mp_entry *hnext; /* hash bucket */
	struct mp_entry *snext; /* sender's list, ascending nonce */
	struct mp_sender *sender;
};

struct mp_sender {
	uint8_t addr[CR_ADDR_LEN];
	struct mp_entry *first;
	struct mp_sender *hnext;
	struct mp_sender *prev, *next; /* arrival order */
};

struct chain_mempool {
	struct chain_mempool_config cfg;
	struct mp_entry **txb;
	struct mp_sender **sb;
	size_t nb; /* buckets in both tables, a power of two */
	struct mp_sender *head, *tail;
	size_t count, bytes;
};

static size_t
bucket(const uint8_t *key, size_t nb)
{
	uint64_t h;
	memcpy(&h, key, sizeof(h)); /* keys are hashes or hash prefixes: uniform already */
	return (size_t)(h & (nb - 1));
}

int
chain_mempool_new(struct chain_mempool **out, const struct chain_mempool_config *cfg)
{
	struct chain_mempool *mp = calloc(1, sizeof(*mp));
	if (mp == NULL)
		return CH_E_NOMEM;
	mp->cfg = *cfg;
	mp->nb = 1024;
	while (mp->nb < cfg->max_txs && mp->nb < (1u << 24))
		mp->nb *= 2;
	mp->txb = calloc(mp->nb, sizeof(*mp->txb));
	mp->sb = calloc(mp->nb, sizeof(*mp->sb));
	if (mp->txb == NULL || mp->sb == NULL) {
		chain_mempool_free(mp);
		return CH_E_NOMEM;
	}
	*out = mp;
	return 0;
}

void
chain_mempool_free(struct chain_mempool *mp)
{
	if (mp == NULL)
		return;
	struct mp_sender *s = mp->head;
	while (s != NULL) {
		struct mp_sender *next = s->next;
		struct mp_entry *e = s->first;
		while (e != NULL) {
			struct mp_entry *en = e->snext;
			free(e);
			e = en;
		}
		free(s);
		s = next;
	}
	free(mp->txb);
	free(mp->sb);
	free(mp);
}

size_t
chain_mempool_count(const struct chain_mempool *mp)
{
	return mp->count;
}

size_t
chain_mempool_bytes(const struct chain_mempool *mp)
{
	return mp->bytes;
}

static struct mp_entry *
find_tx(const struct chain_mempool *mp, const uint8_t hash[CR_HASH_LEN])
{
	struct mp_entry *e = mp->txb[bucket(hash, mp->nb)];
	while (e != NULL && memcmp(e->tx.hash, hash, CR_HASH_LEN) != 0)
		e = e->hnext;
	return e;
}

static struct mp_sender *
find_sender(const struct chain_mempool *mp, const uint8_t addr[CR_ADDR_LEN])
{
	struct mp_sender *s = mp->sb[bucket(addr, mp->nb)];
	while (s != NULL && memcmp(s->addr, addr, CR_ADDR_LEN) != 0)
		s = s->hnext;
	return s;
}

const struct chain_tx *
chain_mempool_get(const struct chain_mempool *mp, const uint8_t hash[CR_HASH_LEN])
{
	const struct mp_entry *e = find_tx(mp, hash);
	return e != NULL ? &e->tx : NULL;
}

static void
drop_sender(struct chain_mempool *mp, struct mp_sender *s)
{
	struct mp_sender **link = &mp->sb[bucket(s->addr, mp->nb)];
	while (*link != s)
		link = &(*link)->hnext;
	*link = s->hnext;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		mp->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		mp->tail = s->prev;
	free(s);
}

/* unlink_entry removes e from the hash table and its sender's list and frees it. */
static void
unlink_entry(struct chain_mempool *mp, struct mp_entry *e)
{
	struct mp_entry **link = &mp->txb[bucket(e->tx.hash, mp->nb)];
	while (*link != e)
		link = &(*link)->hnext;
	*link = e->hnext;
	struct mp_sender *s = e->sender;
	link = &s->first;
	while (*link != e)
		link = &(*link)->snext;
	*link = e->snext;
	mp->count--;
	mp->bytes -= e->tx.size;
	free(e);
	if (s->first == NULL)
		drop_sender(mp, s);
}

int
chain_mempool_add(struct chain_mempool *mp, const struct chain_tx *tx, uint64_t account_nonce,
		  uint64_t now_ms, struct ch_err *err)
{
	if (find_tx(mp, tx->hash) != NULL)
		return ch_errf(err, CH_E_KNOWN, "transaction is already pending");
	if (tx->nonce < account_nonce)
		return ch_errf(err, CH_E_NONCE_TOO_LOW,
			       "nonce %" PRIu64 " already used: the account nonce is %" PRIu64,
			       tx->nonce, account_nonce);
	if (tx->nonce - account_nonce > mp->cfg.max_nonce_gap)
		return ch_errf(err, CH_E_NONCE_TOO_HIGH,
			       "nonce %" PRIu64 " is more than %" PRIu64
			       " ahead of the account nonce %" PRIu64,
			       tx->nonce, mp->cfg.max_nonce_gap, account_nonce);
	struct mp_sender *s = find_sender(mp, tx->sender);
	struct mp_entry **link = s != NULL ? &s->first : NULL;
	if (s != NULL) {
		while (*link != NULL && (*link)->tx.nonce < tx->nonce)
			link = &(*link)->snext;
		if (*link != NULL && (*link)->tx.nonce == tx->nonce) {
			char h[17];
			cr_hex_encode((*link)->tx.hash, 8, h);
			return ch_errf(err, CH_E_NONCE_TOO_LOW,
				       "nonce %" PRIu64 " is taken by pending transaction %s...; "
				       "use the next nonce",
				       tx->nonce, h);
		}
	}
	if (mp->count >= mp->cfg.max_txs || mp->bytes + tx->size > mp->cfg.max_bytes)
		return ch_errf(err, CH_E_MEMPOOL_FULL,
			       "mempool holds %zu transactions / %zu bytes (limits %zu / %zu); "
			       "retry later",
			       mp->count, mp->bytes, mp->cfg.max_txs, mp->cfg.max_bytes);
	struct mp_entry *e = malloc(sizeof(*e));
	if (e == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			free(e);
			return ch_errf(err, CH_E_NOMEM, "out of memory");
		}
		memcpy(s->addr, tx->sender, CR_ADDR_LEN);
		size_t b = bucket(s->addr, mp->nb);
		s->hnext = mp->sb[b];
		mp->sb[b] = s;
		s->prev = mp->tail;
		if (mp->tail != NULL)
			mp->tail->next = s;
		else
			mp->head = s;
		mp->tail = s;
		link = &s->first;
	}
	e->tx = *tx;
	e->added_ms = now_ms;
	e->sender = s;
	e->snext = *link;
	*link = e;
	size_t b = bucket(tx->hash, mp->nb);
	e->hnext = mp->txb[b];
	mp->txb[b] = e;
	mp->count++;
	mp->bytes += tx->size;
	return 0;
}

void
chain_mempool_remove(struct chain_mempool *mp, const uint8_t hash[CR_HASH_LEN])
{
	struct mp_entry *e = find_tx(mp, hash);
	if (e != NULL)
		unlink_entry(mp, e);
}

size_t
chain_mempool_select(const struct chain_mempool *mp, chain_nonce_fn nonce_of, void *arg, size_t max_txs,
		     size_t max_bytes, const struct chain_tx **out)
{
	size_t n = 0, bytes = 0;
	for (struct mp_sender *s = mp->head; s != NULL && n < max_txs; s = s->next) {
		uint64_t next;
		if (nonce_of(arg, s->addr, &next) != 0)
			continue;
		for (struct mp_entry *e = s->first; e != NULL && n < max_txs; e = e->snext) {
			if (e->tx.nonce < next)
				continue;
			if (e->tx.nonce != next || bytes + e->tx.size > max_bytes)
				break;
			out[n++] = &e->tx;
			bytes += e->tx.size;
			next++;
		}
	}
	return n;
}

void
chain_mempool_drop_below(struct chain_mempool *mp, const uint8_t addr[CR_ADDR_LEN], uint64_t nonce)
{
	struct mp_sender *s = find_sender(mp, addr);
	/* entries are in nonce order; dropping the sender's last one frees s */
	while (s != NULL && s->first != NULL && s->first->tx.nonce < nonce) {
		bool last = s->first->snext == NULL;
		unlink_entry(mp, s->first);
		if (last)
			break;
	}
}

void
chain_mempool_expire(struct chain_mempool *mp, uint64_t now_ms)
{
	struct mp_sender *s = mp->head;
	while (s != NULL) {
		struct mp_sender *next = s->next;
		struct mp_entry *e = s->first;
		while (e != NULL) {
			struct mp_entry *en = e->snext;
			bool last = en == NULL && s->first == e;
			if (e->added_ms + mp->cfg.ttl_ms < now_ms) {
				unlink_entry(mp, e);
				if (last)
					break;
			}
			e = en;
		}
		s = next;
	}
}

uint64_t
chain_mempool_next_nonce(const struct chain_mempool *mp, const uint8_t addr[CR_ADDR_LEN],
			 uint64_t account_nonce)
{
	const struct mp_sender *s = find_sender(mp, addr);
	uint64_t next = account_nonce;
	for (const struct mp_entry *e = s ? s->first : NULL; e != NULL; e = e->snext) {
		if (e->tx.nonce < next)
			continue;
		if (e->tx.nonce != next)
			break;
		next++;
	}
	return next;
}
