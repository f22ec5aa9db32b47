/*
 * The public-key cache and the DER signature encoder: the cache must answer
 * exactly as cr_verify does, also while threads evict each other's keys.
 */
#include <pthread.h>
#include <stdlib.h>

#include <openssl/ecdsa.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "test.h"
#include "test_p256.h"

/* xorshift64*: a fixed seed so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void
rng_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 56);
}

/* der_matches compares cr_sig_der with OpenSSL's encoding of the same r, s. */
static bool
der_matches(const uint8_t sig[64])
{
	uint8_t mine[CR_SIG_DER_MAX], theirs[80], *p = theirs;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
		abort();
	int n = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	size_t len = cr_sig_der(sig, mine);
	return n > 0 && len <= CR_SIG_DER_MAX && (size_t)n == len && memcmp(mine, theirs, len) == 0;
}

static void
test_der_encoding(void)
{
	uint8_t sig[64];
	for (int i = 0; i < 20000; i++) {
		rng_fill(sig, 64);
		/* Force leading zeros and the top bit into many of them. */
		switch (i % 5) {
		case 1:
			memset(sig, 0, rng() % 33);
			break;
		case 2:
			memset(sig + 32, 0, rng() % 33);
			break;
		case 3:
			sig[0] |= 0x80;
			sig[32] &= 0x7f;
			break;
		case 4: {
			size_t z = rng() % 32;
			memset(sig, 0, z);
			sig[z] |= 0x80;
			break;
		}
		}
		CHECK(der_matches(sig));
	}
	/* Edges: zero, one, 0x80 00.., 0x00 0x80.., all ones, 0x7f ff... */
	memset(sig, 0, 64);
	CHECK(der_matches(sig));
	sig[31] = sig[63] = 1;
	CHECK(der_matches(sig));
	memset(sig, 0, 64);
	sig[0] = sig[32] = 0x80;
	CHECK(der_matches(sig));
	memset(sig, 0, 64);
	sig[1] = sig[33] = 0x80;
	CHECK(der_matches(sig));
	memset(sig, 0xff, 64);
	CHECK(der_matches(sig));
	uint8_t maxlen[CR_SIG_DER_MAX];
	CHECK(cr_sig_der(sig, maxlen) == CR_SIG_DER_MAX);
	memset(sig, 0xff, 64);
	sig[0] = sig[32] = 0x7f;
	CHECK(der_matches(sig));
}

/*
 * Real signatures with short r or s (a leading zero byte, 1 in 256) and
 * with r's top bit set must still verify through the DER encoder.
 */
static void
test_der_short_scalars_verify(void)
{
	struct cr_key *k = NULL;
	struct ch_err err;
	REQUIRE(cr_key_generate(&k, &err) == 0);
	uint8_t pub[33], d[32], sig[64];
	cr_key_pubkey(k, pub);
	int short_r = 0, short_s = 0, top_r = 0;
	for (int i = 0; i < 4000 && (short_r < 2 || short_s < 2); i++) {
		cr_sha256(&i, sizeof(i), d);
		REQUIRE(cr_sign(k, d, sig, &err) == 0);
		bool interesting = sig[0] == 0 || sig[32] == 0 || (sig[0] & 0x80);
		short_r += sig[0] == 0;
		short_s += sig[32] == 0;
		top_r += (sig[0] & 0x80) != 0;
		if (interesting || i % 50 == 0)
			CHECK(cr_verify(pub, d, sig));
	}
	CHECK(short_r > 0 && short_s > 0 && top_r > 0);
	cr_key_free(k);
}

static void
test_cache_new_free(void)
{
	struct cr_pubkey_cache *c = NULL;
	CHECK(cr_pubkey_cache_new(&c, 0) == CH_E_INVALID);
	CHECK(cr_pubkey_cache_new(&c, SIZE_MAX) == CH_E_INVALID);
	for (size_t cap = 1; cap <= 9; cap++) {
		REQUIRE(cr_pubkey_cache_new(&c, cap) == 0);
		cr_pubkey_cache_free(c);
	}
	cr_pubkey_cache_free(NULL);
}

/* verdict checks that cache and cr_verify agree and returns the verdict. */
static bool
verdict(struct cr_pubkey_cache *c, const uint8_t pub[33], const uint8_t d[32],
	const uint8_t sig[64])
{
	bool want = cr_verify(pub, d, sig);
	bool got = cr_pubkey_cache_verify(c, pub, d, sig);
	CHECK(want == got);
	return got;
}

static void
test_cache_agrees(void)
{
	struct cr_key *k = NULL;
	struct ch_err err;
	struct cr_pubkey_cache *caches[2] = {NULL, NULL}; /* a real one and none */
	REQUIRE(cr_pubkey_cache_new(&caches[0], 16) == 0);
	REQUIRE(cr_key_generate(&k, &err) == 0);
	uint8_t pub[33], d[32], d2[32], sig[64], bad[64];
	cr_key_pubkey(k, pub);
	cr_sha256("message", 7, d);
	cr_sha256("messagf", 7, d2);
	REQUIRE(cr_sign(k, d, sig, &err) == 0);

	for (int ci = 0; ci < 2; ci++) {
		struct cr_pubkey_cache *c = caches[ci];
		/* A bad signature from an unseen key first: must not be cached. */
		CHECK(!verdict(c, pub, d2, sig));
		for (int round = 0; round < 3; round++) {
			CHECK(verdict(c, pub, d, sig));
			CHECK(!verdict(c, pub, d2, sig));
			for (int i = 0; i < 64; i++) {
				memcpy(bad, sig, 64);
				bad[i] ^= (uint8_t)(1u << (i % 8));
				CHECK(!verdict(c, pub, d, bad));
			}
			memcpy(bad, sig, 64);
			high_s(bad);
			CHECK(!verdict(c, pub, d, bad));
			memset(bad, 0, 64);
			CHECK(!verdict(c, pub, d, bad));
			memset(bad, 0xff, 64);
			CHECK(!verdict(c, pub, d, bad));

			/* Not points: off the curve, wrong prefix, flipped parity. */
			uint8_t badpub[33];
			memset(badpub, 0xff, 33);
			badpub[0] = 0x02;
			CHECK(!verdict(c, badpub, d, sig));
			badpub[0] = 0x04;
			CHECK(!verdict(c, badpub, d, sig));
			memcpy(badpub, pub, 33);
			badpub[0] ^= 0x01;
			CHECK(!verdict(c, badpub, d, sig));
			/* and the good key still verifies after all that */
			CHECK(verdict(c, pub, d, sig));
		}
	}
	uint64_t hits = 0, misses = 0;
	cr_pubkey_cache_stats(caches[0], &hits, &misses);
	/* The key was first seen with a bad signature, so the first good verify missed too. */
	CHECK(misses >= 2);
	CHECK(hits > 3 * 60);
	cr_pubkey_cache_free(caches[0]);
	cr_key_free(k);
}

/* Capacity 1 with two keys alternating: every lookup misses and evicts. */
static void
test_cache_evict(void)
{
	struct cr_key *k[2] = {NULL, NULL};
	struct ch_err err;
	uint8_t pub[2][33], d[32], sig[2][64];
	struct cr_pubkey_cache *c = NULL;
	REQUIRE(cr_pubkey_cache_new(&c, 1) == 0);
	cr_sha256("evict", 5, d);
	for (int i = 0; i < 2; i++) {
		REQUIRE(cr_key_generate(&k[i], &err) == 0);
		cr_key_pubkey(k[i], pub[i]);
		REQUIRE(cr_sign(k[i], d, sig[i], &err) == 0);
	}
	for (int i = 0; i < 20; i++) {
		CHECK(cr_pubkey_cache_verify(c, pub[i % 2], d, sig[i % 2]));
		CHECK(!cr_pubkey_cache_verify(c, pub[i % 2], d, sig[(i + 1) % 2]));
	}
	uint64_t hits = 0, misses = 0;
	cr_pubkey_cache_stats(c, &hits, &misses);
	/* Each good verify evicts the other key; the bad one then hits. */
	CHECK_EQ_INT(misses, 20);
	CHECK_EQ_INT(hits, 20);
	/* One key over and over: hits from the second time on. */
	for (int i = 0; i < 10; i++)
		CHECK(cr_pubkey_cache_verify(c, pub[0], d, sig[0]));
	cr_pubkey_cache_stats(c, &hits, &misses);
	CHECK_EQ_INT(misses, 21);
	CHECK_EQ_INT(hits, 29);
	cr_pubkey_cache_free(c);
	cr_key_free(k[0]);
	cr_key_free(k[1]);
}

#define MT_KEYS 50
#define MT_THREADS 4
#define MT_VERIFIES 2000

static struct {
	uint8_t pub[MT_KEYS][33], d[MT_KEYS][32], sig[MT_KEYS][64], high[MT_KEYS][64];
} mt;

struct mt_worker {
	pthread_t tid;
	struct cr_pubkey_cache *c;
	uint64_t seed;
	int wrong;
};

/* mt_run verifies a mix of good and bad signatures and counts wrong verdicts. */
static void *
mt_run(void *arg)
{
	struct mt_worker *w = arg;
	uint64_t x = w->seed;
	uint8_t d[32];
	for (int i = 0; i < MT_VERIFIES; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		size_t j = (size_t)(x >> 33) % MT_KEYS;
		bool want = false;
		switch ((x >> 20) % 4) {
		case 0:
		case 1:
			want = true;
			w->wrong += cr_pubkey_cache_verify(w->c, mt.pub[j], mt.d[j], mt.sig[j]) != want;
			break;
		case 2: /* tampered digest */
			memcpy(d, mt.d[j], 32);
			d[x % 32] ^= 0x40;
			w->wrong += cr_pubkey_cache_verify(w->c, mt.pub[j], d, mt.sig[j]) != want;
			break;
		case 3: /* high-S twin, or another key's signature */
			if (x & 1)
				w->wrong += cr_pubkey_cache_verify(w->c, mt.pub[j], mt.d[j],
								   mt.high[j]) != want;
			else
				w->wrong += cr_pubkey_cache_verify(w->c, mt.pub[(j + 1) % MT_KEYS],
								   mt.d[j], mt.sig[j]) != want;
			break;
		}
	}
	return NULL;
}

static void
test_cache_threads(void)
{
	struct ch_err err;
	struct cr_pubkey_cache *c = NULL;
	REQUIRE(cr_pubkey_cache_new(&c, 8) == 0);
	for (int i = 0; i < MT_KEYS; i++) {
		struct cr_key *k = NULL;
		REQUIRE(cr_key_generate(&k, &err) == 0);
		cr_key_pubkey(k, mt.pub[i]);
		cr_sha256(&i, sizeof(i), mt.d[i]);
		REQUIRE(cr_sign(k, mt.d[i], mt.sig[i], &err) == 0);
		memcpy(mt.high[i], mt.sig[i], 64);
		high_s(mt.high[i]);
		cr_key_free(k);
	}
	struct mt_worker w[MT_THREADS];
	for (int i = 0; i < MT_THREADS; i++) {
		w[i] = (struct mt_worker){.c = c, .seed = (uint64_t)i * 7919 + 1};
		REQUIRE(pthread_create(&w[i].tid, NULL, mt_run, &w[i]) == 0);
	}
	for (int i = 0; i < MT_THREADS; i++) {
		pthread_join(w[i].tid, NULL);
		CHECK_EQ_INT(w[i].wrong, 0);
	}
	uint64_t hits = 0, misses = 0;
	cr_pubkey_cache_stats(c, &hits, &misses);
	CHECK_EQ_INT(hits + misses, MT_THREADS * MT_VERIFIES);
	CHECK(hits > 0 && misses > 0);
	cr_pubkey_cache_free(c);
}

int
main(void)
{
	RUN(test_der_encoding);
	RUN(test_der_short_scalars_verify);
	RUN(test_cache_new_free);
	RUN(test_cache_agrees);
	RUN(test_cache_evict);
	RUN(test_cache_threads);
	return TEST_DONE();
}
