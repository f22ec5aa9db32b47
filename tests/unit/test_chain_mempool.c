#include <stdlib.h>

#include "chain/mempool.h"
#include "test.h"

/* A fake world: account nonces by the first address byte. */
static uint64_t nonces[256];

static int
nonce_of(void *arg, const uint8_t addr[CR_ADDR_LEN], uint64_t *nonce)
{
	(void)arg;
	*nonce = nonces[addr[0]];
	return 0;
}

static struct chain_tx
tx(uint8_t sender, uint64_t nonce, uint32_t size)
{
	struct chain_tx t;
	memset(&t, 0, sizeof(t));
	t.sender[0] = sender;
	t.nonce = nonce;
	t.size = size;
	t.hash[0] = sender;
	memcpy(t.hash + 1, &nonce, sizeof(nonce));
	t.hash[31] = 0x5a;
	return t;
}

static struct chain_mempool *
pool(size_t max_txs, size_t max_bytes)
{
	struct chain_mempool_config c = {max_txs, max_bytes, 1000, 10};
	struct chain_mempool *mp = NULL;
	if (chain_mempool_new(&mp, &c) != 0)
		abort();
	memset(nonces, 0, sizeof(nonces));
	return mp;
}

static void
test_admission_rules(void)
{
	struct chain_mempool *mp = pool(100, 100000);
	struct ch_err e;
	struct chain_tx a = tx(1, 0, 100);
	CHECK(chain_mempool_add(mp, &a, 0, 0, &e) == 0);
	CHECK(chain_mempool_add(mp, &a, 0, 0, &e) == CH_E_KNOWN);
	struct chain_tx same_nonce = tx(1, 0, 100);
	same_nonce.hash[31] = 0x77;
	CHECK(chain_mempool_add(mp, &same_nonce, 0, 0, &e) == CH_E_NONCE_TOO_LOW);
	CHECK(strstr(e.msg, "taken") != NULL);
	struct chain_tx low = tx(2, 3, 100);
	CHECK(chain_mempool_add(mp, &low, 5, 0, &e) == CH_E_NONCE_TOO_LOW);
	struct chain_tx high = tx(2, 16, 100);
	CHECK(chain_mempool_add(mp, &high, 5, 0, &e) == CH_E_NONCE_TOO_HIGH);
	struct chain_tx edge = tx(2, 15, 100);
	CHECK(chain_mempool_add(mp, &edge, 5, 0, &e) == 0);
	CHECK_EQ_INT(chain_mempool_count(mp), 2);
	CHECK_EQ_INT(chain_mempool_bytes(mp), 200);
	CHECK(chain_mempool_get(mp, a.hash) != NULL);
	chain_mempool_remove(mp, a.hash);
	CHECK(chain_mempool_get(mp, a.hash) == NULL);
	CHECK_EQ_INT(chain_mempool_count(mp), 1);
	chain_mempool_free(mp);
}

static void
test_limits(void)
{
	struct chain_mempool *mp = pool(3, 1000);
	struct ch_err e;
	for (uint64_t i = 0; i < 3; i++) {
		struct chain_tx t = tx(1, i, 100);
		CHECK(chain_mempool_add(mp, &t, 0, 0, &e) == 0);
	}
	struct chain_tx t = tx(2, 0, 100);
	CHECK(chain_mempool_add(mp, &t, 0, 0, &e) == CH_E_MEMPOOL_FULL);
	chain_mempool_free(mp);
	mp = pool(100, 250);
	struct chain_tx b1 = tx(1, 0, 200), b2 = tx(1, 1, 100);
	CHECK(chain_mempool_add(mp, &b1, 0, 0, &e) == 0);
	CHECK(chain_mempool_add(mp, &b2, 0, 0, &e) == CH_E_MEMPOOL_FULL);
	chain_mempool_free(mp);
}

static void
test_select_order(void)
{
	struct chain_mempool *mp = pool(100, 100000);
	struct ch_err e;
	/* sender 1: nonces 0,1,2; sender 2: 0 and 2 (gap); sender 3 arrives first with 5,6 at account nonce 5 */
	struct chain_tx list[] = {tx(3, 6, 10), tx(3, 5, 10), tx(1, 2, 10), tx(1, 0, 10),
				  tx(2, 2, 10), tx(1, 1, 10), tx(2, 0, 10)};
	nonces[3] = 5;
	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
		CHECK(chain_mempool_add(mp, &list[i], nonces[list[i].sender[0]], 0, &e) == 0);
	const struct chain_tx *out[16];
	size_t n = chain_mempool_select(mp, nonce_of, NULL, 16, 100000, out);
	REQUIRE(n == 6);
	uint8_t want_sender[] = {3, 3, 1, 1, 1, 2};
	uint64_t want_nonce[] = {5, 6, 0, 1, 2, 0};
	for (size_t i = 0; i < n; i++)
		CHECK(out[i]->sender[0] == want_sender[i] && out[i]->nonce == want_nonce[i]);
	CHECK_EQ_INT(chain_mempool_select(mp, nonce_of, NULL, 3, 100000, out), 3);
	CHECK_EQ_INT(chain_mempool_select(mp, nonce_of, NULL, 16, 25, out), 2);
	CHECK(chain_mempool_next_nonce(mp, list[0].sender, 5) == 7);
	CHECK(chain_mempool_next_nonce(mp, list[4].sender, 0) == 1);
	uint8_t nobody[CR_ADDR_LEN] = {9};
	CHECK(chain_mempool_next_nonce(mp, nobody, 4) == 4);
	chain_mempool_free(mp);
}

static void
test_update_drops_committed_and_expired(void)
{
	struct chain_mempool *mp = pool(100, 100000);
	struct ch_err e;
	for (uint64_t i = 0; i < 5; i++) {
		struct chain_tx t = tx(1, i, 10);
		CHECK(chain_mempool_add(mp, &t, 0, 0, &e) == 0);
	}
	struct chain_tx late = tx(2, 0, 10);
	CHECK(chain_mempool_add(mp, &late, 0, 900, &e) == 0);
	struct chain_tx one = tx(1, 0, 10);
	chain_mempool_drop_below(mp, one.sender, 3); /* 0..2 committed */
	chain_mempool_expire(mp, 500);
	CHECK_EQ_INT(chain_mempool_count(mp), 3);
	chain_mempool_expire(mp, 1500); /* sender 1's expire (added at 0, ttl 1000) */
	CHECK_EQ_INT(chain_mempool_count(mp), 1);
	CHECK(chain_mempool_get(mp, late.hash) != NULL);
	chain_mempool_expire(mp, 5000);
	CHECK_EQ_INT(chain_mempool_count(mp), 0);
	CHECK_EQ_INT(chain_mempool_bytes(mp), 0);
	chain_mempool_free(mp);
}

static void
test_drop_below_and_expire(void)
{
	struct chain_mempool *mp = pool(100, 100000);
	struct ch_err e;
	for (uint64_t i = 0; i < 4; i++) {
		struct chain_tx a = tx(1, i, 10), b = tx(2, i, 10);
		CHECK(chain_mempool_add(mp, &a, 0, 0, &e) == 0);
		CHECK(chain_mempool_add(mp, &b, 0, 800, &e) == 0);
	}
	struct chain_tx one = tx(1, 0, 10), two = tx(2, 0, 10);
	chain_mempool_drop_below(mp, one.sender, 2); /* sender 1's 0 and 1 committed */
	CHECK_EQ_INT(chain_mempool_count(mp), 6);
	CHECK(chain_mempool_get(mp, one.hash) == NULL && chain_mempool_get(mp, two.hash) != NULL);
	chain_mempool_drop_below(mp, one.sender, 9); /* all of sender 1: the sender goes too */
	CHECK_EQ_INT(chain_mempool_count(mp), 4);
	CHECK(chain_mempool_next_nonce(mp, one.sender, 9) == 9);
	chain_mempool_drop_below(mp, one.sender, 12); /* nothing pooled: no-op */
	chain_mempool_expire(mp, 1500);                /* sender 2's were added at 800, ttl 1000 */
	CHECK_EQ_INT(chain_mempool_count(mp), 4);
	chain_mempool_expire(mp, 1801);
	CHECK_EQ_INT(chain_mempool_count(mp), 0);
	CHECK_EQ_INT(chain_mempool_bytes(mp), 0);
	chain_mempool_free(mp);
}

/* Random operations against a simple model: count and bytes always agree. */
static void
test_random_against_model(void)
{
	unsigned seed = 12345;
	srand(seed);
	struct chain_mempool *mp = pool(200, 1u << 30);
	static bool in[8][40];
	size_t count = 0, bytes = 0;
	for (int step = 0; step < 20000; step++) {
		uint8_t s = (uint8_t)(rand() % 8);
		uint64_t nonce = (uint64_t)(rand() % 10);
		int op = rand() % 10;
		struct chain_tx t = tx(s, nonces[s] + nonce, 7);
		if (op < 6) {
			int rc = chain_mempool_add(mp, &t, nonces[s], 0, NULL);
			bool was = in[s][t.nonce];
			CHECK((rc == 0) == !was);
			if (rc == 0) {
				in[s][t.nonce] = true;
				count++;
				bytes += 7;
			}
		} else if (op < 9) {
			if (in[s][t.nonce]) {
				count--;
				bytes -= 7;
			}
			in[s][t.nonce] = false;
			chain_mempool_remove(mp, t.hash);
		} else if (nonces[s] < 25) {
			nonces[s]++;
			if (in[s][nonces[s] - 1]) {
				in[s][nonces[s] - 1] = false;
				count--;
				bytes -= 7;
			}
			chain_mempool_drop_below(mp, t.sender, nonces[s]);
		}
		if (chain_mempool_count(mp) != count || chain_mempool_bytes(mp) != bytes) {
			fprintf(stderr, "seed %u step %d: count %zu/%zu\n", seed, step,
				chain_mempool_count(mp), count);
			CHECK(false);
			break;
		}
	}
	chain_mempool_free(mp);
}

int
main(void)
{
	RUN(test_admission_rules);
	RUN(test_limits);
	RUN(test_select_order);
	RUN(test_update_drops_committed_and_expired);
	RUN(test_drop_below_and_expire);
	RUN(test_random_against_model);
	return TEST_DONE();
}
