/*
 * The chain's block rules (chain/rules.c) over a genesis in memory: building
 * a block from the mempool, and checking blocks against each rule of
 * rules.h, each time on a block that breaks that rule alone.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include "chain/block.h"
#include "chain/genesis.h"
#include "chain/mempool.h"
#include "chain/rules.h"
#include "chain/sigcache.h"
#include "chain/state.h"
#include "chain/store.h"
#include "chain/tx.h"
#include "crypto/crypto.h"
#include "test.h"
#include "testchain.h"

#define CHAIN_ID "rules-test"
#define NOW (TEST_GENESIS_MS + 1000)
#define FUNDS 1000000000ull
#define POOR_FUNDS 100
#define NVALIDATORS 4

/* The funded accounts: test_key("account", i), POOR with less than the others. */
enum { ALICE, BOB, CAROL, POOR, NACCTS };
static struct cr_key *accts[NACCTS];
static uint8_t addrs[NACCTS][CR_ADDR_LEN];

/* ---- the fixture: genesis applied to an in-memory store, and an empty mempool ---- */

struct fx {
	struct test_chain c;
	struct chain_base base;
	struct chain_mempool *pool;
};

static void
teardown(void *arg)
{
	struct fx *f = arg;
	chain_mempool_free(f->pool);
	test_chain_close(&f->c);
	free(f);
}

static void *
setup(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ch_err e;
	ch_err_clear(&e);
	if (f == NULL)
		return NULL;
	test_genesis(&f->c.genesis, CHAIN_ID, NVALIDATORS, NACCTS, FUNDS);
	f->c.genesis.accounts[POOR].balance = POOR_FUNDS;
	if (test_chain_open(&f->c, "/rules", &e) != 0 ||
	    chain_mempool_new(&f->pool, &test_mempool_config) != 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		teardown(f);
		return NULL;
	}
	f->base.state = chain_store_reader(f->c.store);
	f->base.tip = f->c.tip;
	return f;
}

/* ---- transactions and blocks ---- */

/* transfer signs a transfer of amount by from to bob (bob's to carol). */
static void
transfer(struct chain_tx *tx, int from, uint64_t nonce, uint64_t amount)
{
	test_transfer(tx, accts[from], CHAIN_ID, nonce, addrs[from == BOB ? CAROL : BOB], amount);
}

/* pool_transfer signs a transfer and adds it to the mempool. */
static void
pool_transfer(struct fx *f, int from, uint64_t nonce, uint64_t amount, struct chain_tx *out)
{
	struct chain_tx tx;
	struct ch_err e;
	transfer(&tx, from, nonce, amount);
	if (chain_mempool_add(f->pool, &tx, 0, NOW, &e) != 0) {
		fprintf(stderr, "pool_transfer: %s\n", e.msg);
		abort();
	}
	if (out != NULL)
		*out = tx;
}

/*
 * valid_block makes a valid block 1 of n transfers of 1 by alice (nonces
 * 0..n-1), proposer 0, time NOW. Release with chain_block_close.
 */
static void
valid_block(const struct fx *f, struct chain_block *b, uint32_t n)
{
	memset(b, 0, sizeof(*b));
	struct chain_header *h = &b->header;
	strcpy(h->chain_id, CHAIN_ID);
	h->height = f->base.tip.height + 1;
	memcpy(h->prev_hash, f->base.tip.hash, CR_HASH_LEN);
	h->time_ms = NOW;
	h->proposer = 0;
	h->view = 0;
	memcpy(h->state_digest, f->base.tip.state_digest, CR_HASH_LEN);
	h->tx_count = n;
	b->txs = calloc(n ? n : 1, sizeof(*b->txs));
	for (uint32_t i = 0; i < n; i++)
		transfer(&b->txs[i], ALICE, i, 1);
	chain_block_seal(b);
}

/* check runs chain_block_check; on success the execution goes to *x (or is freed). */
static int
check(const struct fx *f, const struct chain_rules *r, const struct chain_block *b,
      uint32_t proposer, uint64_t now, struct chain_exec **x, struct ch_err *e)
{
	struct chain_exec *out = NULL;
	ch_err_clear(e);
	int rc = chain_block_check(r, &f->base, b, proposer, now, &out, e);
	if (x != NULL)
		*x = out;
	else
		chain_exec_free(out);
	return rc;
}

/* accepts: b passes the check. */
static bool
accepts(const struct fx *f, const struct chain_rules *r, const struct chain_block *b,
	uint32_t proposer, uint64_t now)
{
	struct ch_err e;
	int rc = check(f, r, b, proposer, now, NULL, &e);
	if (rc != 0)
		fprintf(stderr, "  refused: %s\n", e.msg);
	return rc == 0;
}

/*
 * refuses: b fails the check with CH_E_BLOCK_INVALID and a message holding
 * every word of what (split on '|'), and the execution pointer is left alone.
 */
static bool
refuses(const struct fx *f, const struct chain_rules *r, const struct chain_block *b,
	uint32_t proposer, uint64_t now, const char *what)
{
	struct ch_err e;
	struct chain_exec *x = (struct chain_exec *)&e; /* anything but NULL: must stay as it is */
	struct chain_exec *const was = x;
	ch_err_clear(&e);
	int rc = chain_block_check(r, &f->base, b, proposer, now, &x, &e);
	bool ok = rc == CH_E_BLOCK_INVALID && e.code == CH_E_BLOCK_INVALID;
	char words[128];
	snprintf(words, sizeof(words), "%s", what);
	for (char *save = NULL, *w = strtok_r(words, "|", &save); w != NULL;
	     w = strtok_r(NULL, "|", &save))
		ok = ok && strstr(e.msg, w) != NULL;
	if (rc == 0 && x != was)
		chain_exec_free(x);
	else if (x != was)
		ok = false;
	if (!ok)
		fprintf(stderr, "  want BLOCK_INVALID \"%s\", got %s: \"%s\"\n", what, ch_errname(rc),
			e.msg);
	return ok;
}

/* What a build reported dropping. */
struct drops {
	int n;
	uint8_t hash[8][CR_HASH_LEN];
	int code[8];
};

static void
on_drop(void *arg, const struct chain_tx *tx, const struct ch_err *why)
{
	struct drops *d = arg;
	if (d->n < 8) {
		memcpy(d->hash[d->n], tx->hash, CR_HASH_LEN);
		d->code[d->n] = why->code;
	}
	d->n++;
}

static uint8_t
sender_of(const struct chain_tx *tx)
{
	for (uint8_t i = 0; i < NACCTS; i++)
		if (memcmp(tx->sender, addrs[i], CR_ADDR_LEN) == 0)
			return i;
	return 0xff;
}

/* ---- chain_block_build ---- */

/* A build takes the mempool's transactions in nonce order into a sealed block the check accepts. */
static void
test_build_block(void *arg)
{
	struct fx *f = arg;
	/* alice's out of order; senders in order of their first transaction's arrival */
	pool_transfer(f, ALICE, 2, 30, NULL);
	pool_transfer(f, BOB, 0, 40, NULL);
	pool_transfer(f, ALICE, 0, 10, NULL);
	pool_transfer(f, CAROL, 1, 60, NULL);
	pool_transfer(f, ALICE, 1, 20, NULL);
	pool_transfer(f, CAROL, 0, 50, NULL);
	size_t count = chain_mempool_count(f->pool), bytes = chain_mempool_bytes(f->pool);
	struct chain_proposal p;
	struct drops d = {0};
	struct ch_err e;
	REQUIRE(chain_block_build(&f->c.rules, &f->base, f->pool, 1, 3, NOW, on_drop, &d, &p,
				  &e) == 0);
	const struct chain_header *h = &p.block.header;
	REQUIRE(h->tx_count == 6);
	static const uint8_t want_sender[] = {ALICE, ALICE, ALICE, BOB, CAROL, CAROL};
	static const uint64_t want_nonce[] = {0, 1, 2, 0, 0, 1};
	for (uint32_t i = 0; i < 6; i++) {
		CHECK_EQ_INT(sender_of(&p.block.txs[i]), want_sender[i]);
		CHECK_EQ_INT(p.block.txs[i].nonce, want_nonce[i]);
		CHECK(chain_mempool_get(f->pool, p.block.txs[i].hash) != NULL);
	}
	CHECK_EQ_INT(p.block.txs[0].amount, 10);
	CHECK_EQ_INT(p.block.txs[5].amount, 60);
	CHECK_EQ_INT(d.n, 0);

	/* the header */
	CHECK(strcmp(h->chain_id, CHAIN_ID) == 0);
	CHECK_EQ_INT(h->height, 1);
	CHECK(memcmp(h->prev_hash, f->base.tip.hash, CR_HASH_LEN) == 0);
	CHECK(h->time_ms == NOW);
	CHECK_EQ_INT(h->proposer, 1);
	CHECK_EQ_INT(h->view, 3);
	CHECK(memcmp(h->state_digest, f->base.tip.state_digest, CR_HASH_LEN) == 0);
	uint8_t root[CR_HASH_LEN], hash[CR_HASH_LEN];
	chain_block_tx_root(p.block.txs, 6, root);
	chain_header_hash(h, hash);
	CHECK(memcmp(root, h->tx_root, CR_HASH_LEN) == 0);
	CHECK(memcmp(hash, p.block.hash, CR_HASH_LEN) == 0);

	/* the encoding is the block's */
	struct chain_block dec;
	REQUIRE(chain_block_decode(p.enc.data, p.enc.len, &dec, &e) == 0);
	CHECK(memcmp(dec.hash, p.block.hash, CR_HASH_LEN) == 0 && dec.header.tx_count == 6);
	chain_block_close(&dec);

	/* the check accepts it, and executes it to the same state */
	struct chain_exec *x = NULL;
	REQUIRE(check(f, &f->c.rules, &p.block, 1, NOW, &x, &e) == 0);
	uint8_t d1[CR_HASH_LEN], d2[CR_HASH_LEN];
	chain_exec_digest(x, f->base.tip.state_digest, d1);
	chain_exec_digest(p.exec, f->base.tip.state_digest, d2);
	CHECK(memcmp(d1, d2, CR_HASH_LEN) == 0);
	CHECK(memcmp(d1, f->base.tip.state_digest, CR_HASH_LEN) != 0);
	CHECK_EQ_INT(chain_exec_writes(x), chain_exec_writes(p.exec));
	struct chain_account a;
	REQUIRE(chain_exec_account(p.exec, addrs[ALICE], &a, &e) == 0);
	CHECK(a.nonce == 3 && a.balance == FUNDS - 60);
	REQUIRE(chain_exec_account(p.exec, addrs[BOB], &a, &e) == 0);
	CHECK(a.nonce == 1 && a.balance == FUNDS + 60 + 50 + 60 - 40);
	chain_exec_free(x);

	/* the mempool is as it was */
	CHECK_EQ_INT(chain_mempool_count(f->pool), count);
	CHECK_EQ_INT(chain_mempool_bytes(f->pool), bytes);
	chain_proposal_close(&p);
}

/* A build never dates a block before the tip. */
static void
test_build_time_not_before_tip(void *arg)
{
	struct fx *f = arg;
	pool_transfer(f, ALICE, 0, 1, NULL);
	struct chain_proposal p;
	REQUIRE(chain_block_build(&f->c.rules, &f->base, f->pool, 0, 0, TEST_GENESIS_MS - 5000,
				  NULL, NULL, &p, NULL) == 0);
	CHECK(p.block.header.time_ms == TEST_GENESIS_MS);
	CHECK(accepts(f, &f->c.rules, &p.block, 0, NOW));
	chain_proposal_close(&p);
}

/* A build takes at most block_max_txs transactions and block_max_bytes of them. */
static void
test_build_limits(void *arg)
{
	struct fx *f = arg;
	struct chain_tx t;
	pool_transfer(f, ALICE, 0, 1, &t);
	pool_transfer(f, ALICE, 1, 1, NULL);
	pool_transfer(f, ALICE, 2, 1, NULL);
	pool_transfer(f, BOB, 0, 1, NULL);
	pool_transfer(f, CAROL, 0, 1, NULL);
	struct chain_rules r = f->c.rules;
	struct chain_proposal p;
	r.block_max_txs = 4;
	REQUIRE(chain_block_build(&r, &f->base, f->pool, 0, 0, NOW, NULL, NULL, &p, NULL) == 0);
	CHECK_EQ_INT(p.block.header.tx_count, 4);
	CHECK_EQ_INT(sender_of(&p.block.txs[3]), BOB);
	CHECK(accepts(f, &r, &p.block, 0, NOW));
	chain_proposal_close(&p);

	r = f->c.rules;
	r.block_max_bytes = 2 * t.size + t.size / 2; /* all transfers are the same size */
	REQUIRE(chain_block_build(&r, &f->base, f->pool, 0, 0, NOW, NULL, NULL, &p, NULL) == 0);
	CHECK_EQ_INT(p.block.header.tx_count, 2);
	CHECK(accepts(f, &r, &p.block, 0, NOW));
	chain_proposal_close(&p);

	r.block_max_txs = 1;
	r.block_max_bytes = t.size;
	REQUIRE(chain_block_build(&r, &f->base, f->pool, 0, 0, NOW, NULL, NULL, &p, NULL) == 0);
	CHECK_EQ_INT(p.block.header.tx_count, 1);
	chain_proposal_close(&p);
}

/* An overspend is left out and reported; the transaction behind it only waits, silently. */
static void
test_build_drops_what_cannot_apply(void *arg)
{
	struct fx *f = arg;
	struct chain_tx first, over, waits;
	pool_transfer(f, POOR, 0, 80, &first);
	pool_transfer(f, POOR, 1, 80, &over); /* 20 left */
	pool_transfer(f, POOR, 2, 1, &waits);
	pool_transfer(f, ALICE, 0, 1, NULL);
	struct chain_proposal p;
	struct drops d = {0};
	struct ch_err e;
	REQUIRE(chain_block_build(&f->c.rules, &f->base, f->pool, 0, 0, NOW, on_drop, &d, &p,
				  &e) == 0);
	REQUIRE(p.block.header.tx_count == 2);
	CHECK(memcmp(p.block.txs[0].hash, first.hash, CR_HASH_LEN) == 0);
	CHECK_EQ_INT(sender_of(&p.block.txs[1]), ALICE);
	REQUIRE(d.n == 1);
	CHECK(memcmp(d.hash[0], over.hash, CR_HASH_LEN) == 0);
	CHECK_EQ_INT(d.code[0], CH_E_INSUFFICIENT_FUNDS);
	CHECK(accepts(f, &f->c.rules, &p.block, 0, NOW));
	/* the build removes nothing: that is the caller's */
	CHECK_EQ_INT(chain_mempool_count(f->pool), 4);
	CHECK(chain_mempool_get(f->pool, over.hash) != NULL);
	CHECK(chain_mempool_get(f->pool, waits.hash) != NULL);
	chain_proposal_close(&p);
}

/* An empty mempool builds nothing: CH_E_NOT_FOUND, and the proposal holds nothing. */
static void
test_build_empty_pool(void *arg)
{
	struct fx *f = arg;
	struct chain_proposal p;
	struct drops d = {0};
	struct ch_err e;
	ch_err_clear(&e);
	CHECK(chain_block_build(&f->c.rules, &f->base, f->pool, 0, 0, NOW, on_drop, &d, &p, &e) ==
	      CH_E_NOT_FOUND);
	CHECK(e.code == CH_E_NOT_FOUND && e.msg[0] != '\0');
	CHECK(p.block.txs == NULL && p.exec == NULL && p.enc.data == NULL);
	CHECK_EQ_INT(d.n, 0);
	chain_proposal_close(&p);
}

/* When nothing in the mempool applies, the build fails with CH_E_NOT_FOUND after reporting it. */
static void
test_build_nothing_applies(void *arg)
{
	struct fx *f = arg;
	struct chain_tx over;
	pool_transfer(f, POOR, 0, POOR_FUNDS + 1, &over);
	pool_transfer(f, POOR, 1, 1, NULL); /* waits for the one above */
	pool_transfer(f, BOB, 3, 1, NULL);  /* a gap: the mempool does not offer it */
	struct chain_proposal p;
	struct drops d = {0};
	struct ch_err e;
	CHECK(chain_block_build(&f->c.rules, &f->base, f->pool, 0, 0, NOW, on_drop, &d, &p, &e) ==
	      CH_E_NOT_FOUND);
	CHECK(p.block.txs == NULL && p.exec == NULL && p.enc.data == NULL);
	REQUIRE(d.n == 1);
	CHECK(memcmp(d.hash[0], over.hash, CR_HASH_LEN) == 0);
	CHECK_EQ_INT(d.code[0], CH_E_INSUFFICIENT_FUNDS);
	CHECK_EQ_INT(chain_mempool_count(f->pool), 3);
	chain_proposal_close(&p);
}

/* ---- chain_block_check ---- */

/* A valid block passes, and its execution holds its transfers. */
static void
test_check_valid(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	struct chain_exec *x = NULL;
	struct ch_err e;
	valid_block(f, &b, 3);
	REQUIRE(check(f, &f->c.rules, &b, 0, NOW, &x, &e) == 0);
	REQUIRE(x != NULL);
	struct chain_account a;
	CHECK(chain_exec_account(x, addrs[ALICE], &a, &e) == 0 && a.nonce == 3 &&
	      a.balance == FUNDS - 3);
	CHECK(chain_exec_account(x, addrs[BOB], &a, &e) == 0 && a.nonce == 0 &&
	      a.balance == FUNDS + 3);
	chain_exec_free(x);
	chain_block_close(&b);
}

/* A block of another chain is refused. */
static void
test_check_chain_id(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 1);
	strcpy(b.header.chain_id, "rules-tesu");
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "chain rules-tesu"));
	chain_block_close(&b);
}

/* A block at any height but tip + 1 is refused. */
static void
test_check_height(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 1);
	static const uint64_t heights[] = {0, 2, UINT64_MAX};
	for (int i = 0; i < 3; i++) {
		b.header.height = heights[i];
		chain_block_seal(&b);
		CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "does not extend the tip 0"));
	}
	chain_block_close(&b);
}

/* A block naming another parent than the tip is refused. */
static void
test_check_parent(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 1);
	b.header.prev_hash[31] ^= 1;
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "block 1 does not extend"));
	chain_block_close(&b);
}

/* A block carrying another state digest than the tip's is refused. */
static void
test_check_state_digest(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 1);
	b.header.state_digest[0] ^= 0x80;
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "state digest"));
	chain_block_close(&b);
}

/* A block dated before the tip is refused; the tip's own time is fine. */
static void
test_check_time_before_tip(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 1);
	b.header.time_ms = f->base.tip.time_ms - 1;
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "bad time"));
	CHECK(refuses(f, &f->c.rules, &b, 0, UINT64_MAX, "bad time"));
	b.header.time_ms = f->base.tip.time_ms;
	chain_block_seal(&b);
	CHECK(accepts(f, &f->c.rules, &b, 0, NOW));
	chain_block_close(&b);
}

/* A block more than max_clock_drift_ms ahead of the clock is refused, unless now is UINT64_MAX. */
static void
test_check_time_ahead(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 1);
	CHECK_EQ_INT(f->c.rules.max_clock_drift_ms, CHAIN_MAX_CLOCK_DRIFT_MS);
	b.header.time_ms = NOW + CHAIN_MAX_CLOCK_DRIFT_MS + 1;
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "bad time"));
	CHECK(accepts(f, &f->c.rules, &b, 0, NOW + 1));
	CHECK(accepts(f, &f->c.rules, &b, 0, UINT64_MAX));
	b.header.time_ms = NOW + CHAIN_MAX_CLOCK_DRIFT_MS;
	chain_block_seal(&b);
	CHECK(accepts(f, &f->c.rules, &b, 0, NOW));
	b.header.time_ms = UINT64_MAX;
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "bad time"));
	CHECK(accepts(f, &f->c.rules, &b, 0, UINT64_MAX));
	chain_block_close(&b);
}

/* A block of another proposer than expected is refused; CHAIN_ANY_PROPOSER takes any validator. */
static void
test_check_proposer(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 1);
	b.header.proposer = 2;
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 1, NOW, "wrong proposer 2"));
	CHECK(accepts(f, &f->c.rules, &b, 2, NOW));
	CHECK(accepts(f, &f->c.rules, &b, CHAIN_ANY_PROPOSER, NOW));
	/* but never one outside the validator set */
	b.header.proposer = NVALIDATORS;
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, CHAIN_ANY_PROPOSER, NOW, "wrong proposer 4"));
	CHECK(refuses(f, &f->c.rules, &b, NVALIDATORS, NOW, "wrong proposer 4"));
	chain_block_close(&b);
}

/* A block without transactions is refused. */
static void
test_check_no_txs(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 1);
	b.header.tx_count = 0;
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "has 0 transactions"));
	chain_block_close(&b);
}

/* A block of more than block_max_txs transactions is refused. */
static void
test_check_too_many_txs(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	struct chain_rules r = f->c.rules;
	valid_block(f, &b, 3);
	r.block_max_txs = 2;
	CHECK(refuses(f, &r, &b, 0, NOW, "has 3 transactions"));
	r.block_max_txs = 3;
	CHECK(accepts(f, &r, &b, 0, NOW));
	chain_block_close(&b);
}

/* A block whose transactions add up to more than block_max_bytes is refused. */
static void
test_check_too_many_bytes(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	struct chain_rules r = f->c.rules;
	valid_block(f, &b, 3);
	uint32_t sum = b.txs[0].size + b.txs[1].size + b.txs[2].size;
	r.block_max_bytes = sum - 1;
	CHECK(refuses(f, &r, &b, 0, NOW, "over|bytes"));
	r.block_max_bytes = sum;
	CHECK(accepts(f, &r, &b, 0, NOW));
	chain_block_close(&b);
}

/* A block holding a transaction for another chain is refused. */
static void
test_check_tx_other_chain(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 3);
	test_transfer(&b.txs[1], accts[ALICE], "other-chain", 1, addrs[BOB], 1);
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "tx 1 is for another chain"));
	chain_block_close(&b);
}

/* rehash re-derives a transaction's hash, sender and size from its fields, as a decoder would. */
static void
rehash(struct chain_tx *tx)
{
	struct ch_buf enc;
	ch_buf_init(&enc);
	chain_tx_encode(tx, &enc);
	if (!ch_buf_ok(&enc) || chain_tx_decode(enc.data, enc.len, tx, NULL) != 0)
		abort();
	ch_buf_close(&enc);
}

/* A block holding a transaction whose signature does not verify is refused. */
static void
test_check_bad_signature(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 3);
	uint8_t old[CR_HASH_LEN];
	memcpy(old, b.txs[2].hash, CR_HASH_LEN);
	b.txs[2].sig[40] ^= 0x01;
	rehash(&b.txs[2]);
	CHECK(memcmp(old, b.txs[2].hash, CR_HASH_LEN) != 0);
	CHECK(chain_tx_check_fields(&b.txs[2], NULL) == 0);
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "tx 2: bad signature"));
	/* a mempool holding the genuine transaction vouches for nothing else */
	struct chain_tx genuine;
	transfer(&genuine, ALICE, 2, 1);
	REQUIRE(chain_mempool_add(f->pool, &genuine, 0, NOW, NULL) == 0);
	struct fx g = *f;
	g.base.pool = f->pool;
	CHECK(refuses(&g, &f->c.rules, &b, 0, NOW, "tx 2: bad signature"));
	chain_block_close(&b);
}

/* A block whose transaction skips a nonce is refused. */
static void
test_check_nonce_gap(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 3);
	transfer(&b.txs[1], ALICE, 2, 1);
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "tx 1|nonce 2"));
	chain_block_close(&b);
}

/* A block that uses a nonce twice, with another transaction or the same one, is refused. */
static void
test_check_replayed_nonce(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 3);
	transfer(&b.txs[2], ALICE, 1, 7);
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "tx 2|nonce 1 already used"));
	b.txs[2] = b.txs[1];
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "tx 2|nonce 1 already used"));
	chain_block_close(&b);
}

/* A block spending more than an account holds is refused, also when only the sum overspends. */
static void
test_check_overspend(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	valid_block(f, &b, 3);
	transfer(&b.txs[1], POOR, 0, POOR_FUNDS + 1);
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "tx 1|balance 100"));
	transfer(&b.txs[1], POOR, 0, 60);
	transfer(&b.txs[2], POOR, 1, 41);
	chain_block_seal(&b);
	CHECK(refuses(f, &f->c.rules, &b, 0, NOW, "tx 2|balance 40"));
	transfer(&b.txs[2], POOR, 1, 40);
	chain_block_seal(&b);
	CHECK(accepts(f, &f->c.rules, &b, 0, NOW));
	chain_block_close(&b);
}

/* With a signature cache, a second check of a block verifies no signature again. */
static void
test_check_sigcache(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	struct chain_sigcache *c = NULL;
	uint64_t hits, verified;
	REQUIRE(chain_sigcache_new(&c, 64) == 0);
	struct fx g = *f;
	g.base.sigs = c;
	valid_block(f, &b, 3);
	CHECK(accepts(&g, &f->c.rules, &b, 0, NOW));
	chain_sigcache_stats(c, &hits, &verified);
	CHECK(hits == 0 && verified == 3);
	CHECK(accepts(&g, &f->c.rules, &b, 0, NOW));
	chain_sigcache_stats(c, &hits, &verified);
	CHECK(hits == 3 && verified == 3);
	chain_sigcache_free(c);
	chain_block_close(&b);
}

/* Transactions the mempool holds (checked when admitted) are not verified again. */
static void
test_check_pool_vouches(void *arg)
{
	struct fx *f = arg;
	struct chain_block b;
	struct chain_sigcache *c = NULL;
	uint64_t hits, verified;
	REQUIRE(chain_sigcache_new(&c, 64) == 0);
	valid_block(f, &b, 3);
	for (int i = 0; i < 3; i++)
		REQUIRE(chain_mempool_add(f->pool, &b.txs[i], 0, NOW, NULL) == 0);
	struct fx g = *f;
	g.base.sigs = c;
	g.base.pool = f->pool;
	CHECK(accepts(&g, &f->c.rules, &b, 0, NOW));
	chain_sigcache_stats(c, &hits, &verified);
	CHECK(hits == 0 && verified == 0);
	chain_sigcache_free(c);
	chain_block_close(&b);
}

/* ---- parameters ---- */

/* The rules come from genesis, with the fixed clock drift. */
static void
test_rules_init(void *arg)
{
	struct fx *f = arg;
	CHECK(strcmp(f->c.rules.chain_id, CHAIN_ID) == 0);
	CHECK_EQ_INT(f->c.rules.nvalidators, NVALIDATORS);
	CHECK_EQ_INT(f->c.rules.block_max_txs, f->c.genesis.params.block_max_txs);
	CHECK_EQ_INT(f->c.rules.block_max_bytes, f->c.genesis.params.block_max_bytes);
	CHECK_EQ_INT(f->c.rules.max_clock_drift_ms, CHAIN_MAX_CLOCK_DRIFT_MS);
}

/* encoded_block_len encodes a block of chain_id holding n copies of tx. */
static size_t
encoded_block_len(const char *chain_id, const struct chain_tx *tx, uint32_t n)
{
	struct chain_block b;
	memset(&b, 0, sizeof(b));
	strcpy(b.header.chain_id, chain_id);
	b.header.height = UINT64_MAX;
	b.header.tx_count = n;
	b.txs = malloc(n * sizeof(*b.txs));
	for (uint32_t i = 0; i < n; i++)
		b.txs[i] = *tx;
	chain_block_seal(&b);
	struct ch_buf enc;
	ch_buf_init(&enc);
	chain_block_encode(&b, &enc);
	size_t len = ch_buf_ok(&enc) ? enc.len : SIZE_MAX;
	ch_buf_close(&enc);
	chain_block_close(&b);
	return len;
}

/* chain_rules_max_block_encoding bounds blocks of the largest, and of the most smallest, txs. */
static void
test_max_block_encoding(void)
{
	char cid[CHAIN_MAX_CHAIN_ID + 1];
	memset(cid, 'c', CHAIN_MAX_CHAIN_ID);
	cid[CHAIN_MAX_CHAIN_ID] = '\0';
	struct chain_tx big;
	memset(&big, 0, sizeof(big));
	strcpy(big.chain_id, cid);
	big.type = CHAIN_TX_SET;
	big.nonce = UINT64_MAX - 1;
	memset(big.name, 'n', CHAIN_MAX_NAME);
	big.value_len = CHAIN_MAX_VALUE;
	memset(big.value, 'v', CHAIN_MAX_VALUE);
	REQUIRE(chain_tx_sign(&big, accts[ALICE], NULL) == 0);
	CHECK(big.size <= CHAIN_MAX_TX_BYTES);

	struct chain_rules r;
	memset(&r, 0, sizeof(r));
	strcpy(r.chain_id, cid);
	r.nvalidators = NVALIDATORS;
	r.block_max_txs = 16;
	r.block_max_bytes = 16 * big.size;
	CHECK(encoded_block_len(cid, &big, r.block_max_txs) <= chain_rules_max_block_encoding(&r));

	struct chain_tx small;
	memset(&small, 0, sizeof(small));
	strcpy(small.chain_id, "c");
	small.type = CHAIN_TX_SET;
	strcpy(small.name, "n");
	REQUIRE(chain_tx_sign(&small, accts[ALICE], NULL) == 0);
	CHECK_EQ_INT(small.size, CHAIN_MIN_TX_BYTES);
	r.block_max_txs = 5000;
	r.block_max_bytes = 4096;
	uint32_t most = r.block_max_bytes / small.size;
	CHECK(encoded_block_len(cid, &small, most) <= chain_rules_max_block_encoding(&r));
	/* the defaults: block_max_txs smallest transactions are far below block_max_bytes */
	struct chain_params dp;
	chain_params_default(&dp);
	r.block_max_txs = dp.block_max_txs;
	r.block_max_bytes = dp.block_max_bytes;
	CHECK(encoded_block_len(cid, &small, r.block_max_txs) <= chain_rules_max_block_encoding(&r));
	most = r.block_max_bytes / big.size;
	CHECK(encoded_block_len(cid, &big, most) <= chain_rules_max_block_encoding(&r));
}

int
main(void)
{
	for (uint32_t i = 0; i < NACCTS; i++) {
		accts[i] = test_key("account", i);
		test_key_address(accts[i], addrs[i]);
	}
	RUN_WITH(test_build_block, setup, teardown);
	RUN_WITH(test_build_time_not_before_tip, setup, teardown);
	RUN_WITH(test_build_limits, setup, teardown);
	RUN_WITH(test_build_drops_what_cannot_apply, setup, teardown);
	RUN_WITH(test_build_empty_pool, setup, teardown);
	RUN_WITH(test_build_nothing_applies, setup, teardown);
	RUN_WITH(test_check_valid, setup, teardown);
	RUN_WITH(test_check_chain_id, setup, teardown);
	RUN_WITH(test_check_height, setup, teardown);
	RUN_WITH(test_check_parent, setup, teardown);
	RUN_WITH(test_check_state_digest, setup, teardown);
	RUN_WITH(test_check_time_before_tip, setup, teardown);
	RUN_WITH(test_check_time_ahead, setup, teardown);
	RUN_WITH(test_check_proposer, setup, teardown);
	RUN_WITH(test_check_no_txs, setup, teardown);
	RUN_WITH(test_check_too_many_txs, setup, teardown);
	RUN_WITH(test_check_too_many_bytes, setup, teardown);
	RUN_WITH(test_check_tx_other_chain, setup, teardown);
	RUN_WITH(test_check_bad_signature, setup, teardown);
	RUN_WITH(test_check_nonce_gap, setup, teardown);
	RUN_WITH(test_check_replayed_nonce, setup, teardown);
	RUN_WITH(test_check_overspend, setup, teardown);
	RUN_WITH(test_check_sigcache, setup, teardown);
	RUN_WITH(test_check_pool_vouches, setup, teardown);
	RUN_WITH(test_rules_init, setup, teardown);
	RUN(test_max_block_encoding);
	for (int i = 0; i < NACCTS; i++)
		cr_key_free(accts[i]);
	return TEST_DONE();
}
