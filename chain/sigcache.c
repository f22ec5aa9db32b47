/*
 * The signature verdict cache: a set-associative table of transaction
 * hashes (4 per bucket, replaced in turn), with striped locks. Misses are
 * verified with a cache of decoded public keys (crypto/), since senders
 * sign many transactions each.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chain/sigcache.h"

#define WAYS 4
#define STRIPES 64
#define PUBKEYS 8192 /* decoded senders' keys kept */

struct bucket {
	uint8_t hash[WAYS][CR_HASH_LEN];
	uint8_t used; /* entries filled, up to WAYS */
	uint8_t next; /* the entry to replace next */
};

struct chain_sigcache {
	struct bucket *buckets;
	size_t mask;
	struct cr_pubkey_cache *keys;
	pthread_mutex_t locks[STRIPES];
	uint64_t hits, verified, vouched; /* atomic */
};

int
chain_sigcache_new(struct chain_sigcache **out, size_t capacity)
{
	struct chain_sigcache *c = calloc(1, sizeof(*c));
	size_t n = 1;
	while (n * WAYS < capacity)
		n <<= 1;
	if (c == NULL || (c->buckets = calloc(n, sizeof(*c->buckets))) == NULL ||
	    cr_pubkey_cache_new(&c->keys, PUBKEYS) != 0) {
		if (c != NULL)
			free(c->buckets);
		free(c);
		return CH_E_NOMEM;
	}
	c->mask = n - 1;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c->locks[i], NULL);
	*out = c;
	return 0;
}

void
chain_sigcache_free(struct chain_sigcache *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&c->locks[i]);
	cr_pubkey_cache_free(c->keys);
	free(c->buckets);
	free(c);
}

static size_t
bucket_of(const struct chain_sigcache *c, const uint8_t hash[CR_HASH_LEN])
{
	uint64_t h;
	memcpy(&h, hash, sizeof(h)); /* a SHA-256 output: its bytes are uniform */
	return (size_t)h & c->mask;
}

static bool
lookup(struct chain_sigcache *c, const uint8_t hash[CR_HASH_LEN])
{
	size_t i = bucket_of(c, hash);
	struct bucket *b = &c->buckets[i];
	bool found = false;
	pthread_mutex_lock(&c->locks[i % STRIPES]);
	for (int w = 0; w < b->used && !found; w++)
		found = memcmp(b->hash[w], hash, CR_HASH_LEN) == 0;
	pthread_mutex_unlock(&c->locks[i % STRIPES]);
	return found;
}

static void
insert(struct chain_sigcache *c, const uint8_t hash[CR_HASH_LEN])
{
	size_t i = bucket_of(c, hash);
	struct bucket *b = &c->buckets[i];
	pthread_mutex_lock(&c->locks[i % STRIPES]);
	bool present = false;
	for (int w = 0; w < b->used && !present; w++)
		present = memcmp(b->hash[w], hash, CR_HASH_LEN) == 0;
	if (!present && b->used < WAYS) {
		memcpy(b->hash[b->used++], hash, CR_HASH_LEN);
	} else if (!present) {
		memcpy(b->hash[b->next], hash, CR_HASH_LEN);
		b->next = (uint8_t)((b->next + 1) % WAYS);
	}
	pthread_mutex_unlock(&c->locks[i % STRIPES]);
}

int
chain_sigcache_verify(struct chain_sigcache *c, const struct chain_tx *tx, struct ch_err *err)
{
	if (c == NULL)
		return chain_tx_verify(tx, err);
	if (lookup(c, tx->hash)) {
		__atomic_fetch_add(&c->hits, 1, __ATOMIC_RELAXED);
		return 0;
	}
	uint8_t d[CR_HASH_LEN];
	chain_tx_sighash(tx, d);
	__atomic_fetch_add(&c->verified, 1, __ATOMIC_RELAXED);
	if (!cr_pubkey_cache_verify(c->keys, tx->pubkey, d, tx->sig))
		return ch_errf(err, CH_E_BAD_SIGNATURE, "tx: the signature does not verify for this "
							"transaction and public key");
	insert(c, tx->hash);
	return 0;
}

void
chain_sigcache_vouch(struct chain_sigcache *c, const struct chain_tx *tx)
{
	if (c == NULL || lookup(c, tx->hash))
		return;
	__atomic_fetch_add(&c->vouched, 1, __ATOMIC_RELAXED);
	insert(c, tx->hash);
}

uint64_t
chain_sigcache_vouched(struct chain_sigcache *c)
{
	return c ? __atomic_load_n(&c->vouched, __ATOMIC_RELAXED) : 0;
}

void
chain_sigcache_stats(struct chain_sigcache *c, uint64_t *hits, uint64_t *verified)
{
	*hits = c ? __atomic_load_n(&c->hits, __ATOMIC_RELAXED) : 0;
	*verified = c ? __atomic_load_n(&c->verified, __ATOMIC_RELAXED) : 0;
}
