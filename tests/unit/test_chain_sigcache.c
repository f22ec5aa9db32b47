#include <pthread.h>
#include <stdlib.h>

#include "chain/sigcache.h"
#include "test.h"

static struct cr_key *key;

/* signed_tx makes a valid transfer with the given nonce. */
static struct chain_tx
signed_tx(uint64_t nonce)
{
	struct chain_tx t;
	memset(&t, 0, sizeof(t));
	snprintf(t.chain_id, sizeof(t.chain_id), "test-chain");
	t.type = CHAIN_TX_TRANSFER;
	t.nonce = nonce;
	t.to[0] = 7;
	t.amount = 5;
	if (chain_tx_sign(&t, key, NULL) != 0)
		abort();
	return t;
}

/* tampered: a different amount under the old signature, with its own hash as decode would give. */
static struct chain_tx
tampered(const struct chain_tx *good)
{
	struct chain_tx t = *good;
	struct ch_buf enc;
	t.amount++;
	ch_buf_init(&enc);
	chain_tx_encode(&t, &enc);
	if (chain_tx_decode(enc.data, enc.len, &t, NULL) != 0)
		abort();
	ch_buf_close(&enc);
	return t;
}

static void
test_verdicts(void)
{
	struct chain_sigcache *c = NULL;
	REQUIRE(chain_sigcache_new(&c, 64) == 0);
	struct chain_tx good = signed_tx(1), bad = tampered(&good);
	uint64_t hits, verified;
	CHECK_EQ_INT(chain_sigcache_verify(c, &good, NULL), 0);
	CHECK_EQ_INT(chain_sigcache_verify(c, &good, NULL), 0);
	chain_sigcache_stats(c, &hits, &verified);
	CHECK_EQ_INT(hits, 1);
	CHECK_EQ_INT(verified, 1);
	/* a bad signature fails every time and is never remembered */
	struct ch_err e;
	ch_err_clear(&e);
	CHECK_EQ_INT(chain_sigcache_verify(c, &bad, &e), CH_E_BAD_SIGNATURE);
	CHECK(strstr(ch_err_msg(&e), "signature") != NULL);
	CHECK_EQ_INT(chain_sigcache_verify(c, &bad, NULL), CH_E_BAD_SIGNATURE);
	chain_sigcache_stats(c, &hits, &verified);
	CHECK_EQ_INT(hits, 1);
	CHECK_EQ_INT(verified, 3);
	/* no cache: plain verification */
	CHECK_EQ_INT(chain_sigcache_verify(NULL, &good, NULL), 0);
	CHECK_EQ_INT(chain_sigcache_verify(NULL, &bad, NULL), CH_E_BAD_SIGNATURE);
	chain_sigcache_free(c);
}

/* A cache of 4 entries fed 40 transactions stays correct: evicted ones are verified again. */
static void
test_bounded(void)
{
	struct chain_sigcache *c = NULL;
	REQUIRE(chain_sigcache_new(&c, 4) == 0);
	struct chain_tx txs[40];
	for (int i = 0; i < 40; i++)
		txs[i] = signed_tx((uint64_t)i);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 40; i++)
			CHECK_EQ_INT(chain_sigcache_verify(c, &txs[i], NULL), 0);
	uint64_t hits, verified;
	chain_sigcache_stats(c, &hits, &verified);
	CHECK_EQ_INT(hits + verified, 80);
	CHECK(verified > 40); /* 4 entries cannot hold 40 verdicts */
	for (int i = 0; i < 40; i++) {
		struct chain_tx bad = tampered(&txs[i]);
		CHECK_EQ_INT(chain_sigcache_verify(c, &bad, NULL), CH_E_BAD_SIGNATURE);
	}
	chain_sigcache_free(c);
}

struct worker {
	struct chain_sigcache *c;
	const struct chain_tx *good, *bad;
	int n, wrong;
};

static void *
hammer(void *arg)
{
	struct worker *w = arg;
	for (int k = 0; k < 300; k++) {
		int i = (k * 7 + w->n) % 16;
		w->wrong += chain_sigcache_verify(w->c, &w->good[i], NULL) != 0;
		w->wrong += chain_sigcache_verify(w->c, &w->bad[i], NULL) != CH_E_BAD_SIGNATURE;
	}
	return NULL;
}

/* Four threads over a small cache: every verdict right (and clean under the sanitizers). */
static void
test_threads(void)
{
	struct chain_sigcache *c = NULL;
	REQUIRE(chain_sigcache_new(&c, 8) == 0);
	struct chain_tx good[16], bad[16];
	for (int i = 0; i < 16; i++) {
		good[i] = signed_tx(100 + (uint64_t)i);
		bad[i] = tampered(&good[i]);
	}
	pthread_t t[4];
	struct worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.c = c, .good = good, .bad = bad, .n = i};
		REQUIRE(pthread_create(&t[i], NULL, hammer, &w[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ_INT(w[i].wrong, 0);
	}
	chain_sigcache_free(c);
}

int
main(void)
{
	if (cr_key_generate(&key, NULL) != 0)
		return 1;
	RUN(test_verdicts);
	RUN(test_bounded);
	RUN(test_threads);
	cr_key_free(key);
	return TEST_DONE();
}
