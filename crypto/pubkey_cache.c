/*
 * A bounded, thread-safe cache of decoded P-256 public keys.
 *
 * Set-associative: a key may live only in the CACHE_WAYS slots of the set
 * picked by a hash of its bytes; a new key takes an empty slot of its set or
 * else the least recently used one. The mutex covers the slot table only;
 * decoding and verifying run outside it. A slot holds one reference to its
 * EVP_PKEY and each verifying thread takes its own, so a key evicted
 * mid-verify lives until that thread lets it go.
 *
 * A key is cached only after it has verified a signature: points that do
 * not decode and keys seen only with bad signatures never evict a useful
 * key. Rejecting them again costs a decode, less than a verify, so a flood
 * of them buys an attacker nothing a flood of bad signatures would not.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"

#define CACHE_WAYS 4

struct cache_slot {
	uint8_t pub[CR_PUBKEY_LEN];
	EVP_PKEY *pkey; /* NULL: empty; else one reference owned by the slot */
	uint64_t used;  /* c->tick when last found or inserted */
};

struct cr_pubkey_cache {
	pthread_mutex_t mu;
	uint64_t tick, hits, misses; /* under mu, like the slots */
	size_t ways, nsets;
	struct cache_slot slots[]; /* nsets sets of ways slots */
};

int
cr_pubkey_cache_new(struct cr_pubkey_cache **out, size_t capacity)
{
	struct cr_pubkey_cache *c;

	if (capacity == 0 || capacity > (SIZE_MAX - sizeof(*c)) / sizeof(c->slots[0]))
		return CH_E_INVALID;
	size_t ways = capacity < CACHE_WAYS ? capacity : CACHE_WAYS;
	size_t nsets = capacity / ways; /* so that no more than capacity keys are kept */
	if ((c = calloc(1, sizeof(*c) + nsets * ways * sizeof(c->slots[0]))) == NULL)
		return CH_E_NOMEM;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		return CH_E_NOMEM;
	}
	c->ways = ways;
	c->nsets = nsets;
	*out = c;
	return 0;
}

void
cr_pubkey_cache_free(struct cr_pubkey_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nsets * c->ways; i++)
		EVP_PKEY_free(c->slots[i].pkey);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/*
 * set_of returns the first slot of pub's set, chosen by the first 8 bytes
 * of its x coordinate, which are uniform for honestly made keys. Someone
 * grinding keys into one set can only push others out of it, which costs
 * them a decode per verify and no more.
 */
static struct cache_slot *
set_of(struct cr_pubkey_cache *c, const uint8_t pub[CR_PUBKEY_LEN])
{
	uint64_t h = 0;
	for (int i = 1; i <= 8; i++)
		h = (h << 8) | pub[i];
	return &c->slots[(h % c->nsets) * c->ways];
}

/* lookup returns a new reference to pub's key, or NULL if it is not cached. */
static EVP_PKEY *
lookup(struct cr_pubkey_cache *c, struct cache_slot *set, const uint8_t pub[CR_PUBKEY_LEN])
{
	EVP_PKEY *pkey = NULL;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->ways; i++) {
		struct cache_slot *s = &set[i];
		if (s->pkey != NULL && memcmp(s->pub, pub, CR_PUBKEY_LEN) == 0) {
			if (EVP_PKEY_up_ref(s->pkey) == 1) {
				pkey = s->pkey;
				s->used = ++c->tick;
			}
			break;
		}
	}
	if (pkey != NULL)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	return pkey;
}

/*
 * insert puts pkey (borrowed; the slot takes its own reference) into pub's
 * set, unless another thread has just put the same key there.
 */
static void
insert(struct cr_pubkey_cache *c, struct cache_slot *set, const uint8_t pub[CR_PUBKEY_LEN],
       EVP_PKEY *pkey)
{
	EVP_PKEY *old = NULL;
	struct cache_slot *victim = &set[0];

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->ways; i++) {
		struct cache_slot *s = &set[i];
		if (s->pkey != NULL && memcmp(s->pub, pub, CR_PUBKEY_LEN) == 0)
			goto out;
		if (victim->pkey != NULL && (s->pkey == NULL || s->used < victim->used))
			victim = s;
	}
	if (EVP_PKEY_up_ref(pkey) != 1)
		goto out;
	old = victim->pkey;
	victim->pkey = pkey;
	victim->used = ++c->tick;
	memcpy(victim->pub, pub, CR_PUBKEY_LEN);
out:
	pthread_mutex_unlock(&c->mu);
	EVP_PKEY_free(old); /* may be the last reference: free outside the lock */
}

bool
cr_pubkey_cache_verify(struct cr_pubkey_cache *c, const uint8_t pub[CR_PUBKEY_LEN],
		       const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN])
{
	if (c == NULL)
		return cr_verify(pub, digest, sig);

	struct cache_slot *set = set_of(c, pub);
	EVP_PKEY *pkey = lookup(c, set, pub);
	bool cached = pkey != NULL;
	if (!cached && cr_p256_decode(&pkey, pub, NULL) != 0)
		return false;
	bool ok = cr_p256_verify(pkey, digest, sig);
	/* Only a key that has signed something valid may evict another. */
	if (ok && !cached)
		insert(c, set, pub, pkey);
	EVP_PKEY_free(pkey);
	return ok;
}

void
cr_pubkey_cache_stats(struct cr_pubkey_cache *c, uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&c->mu);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(&c->mu);
}
