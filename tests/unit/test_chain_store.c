#include "chain/block.h"
#include "chain/state.h"
#include "chain/store.h"
#include "chain/tx.h"
#include "common/buf.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "test.h"
#include "testchain.h"

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHAIN_ID "store-test"
#define FUNDS 1000000000000ull

/* ---- temp dirs ---- */

static void
rm_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		unlink(path);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

/* A temp dir with the database in dir/db. */
struct tmp {
	char dir[64];
	char db[80];
};

static int
tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_chain_store.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->db, sizeof(t->db), "%s/db", t->dir);
	return 0;
}

/* ---- fixture: alice sends to bob and sets data, one block at a time ---- */

static struct cr_key *alice;
static uint8_t alice_addr[CR_ADDR_LEN], bob_addr[CR_ADDR_LEN];
static const uint8_t genesis_hash[CR_HASH_LEN] = {0xde, 0xad, 0xbe, 0xef};

static int
sign_transfer(struct chain_tx *tx, uint64_t nonce, uint64_t amount)
{
	test_transfer(tx, alice, CHAIN_ID, nonce, bob_addr, amount);
	return 0;
}

static int
sign_set(struct chain_tx *tx, uint64_t nonce, const char *name, const char *value)
{
	test_set(tx, alice, CHAIN_ID, nonce, name, value, strlen(value));
	return 0;
}

static int
apply_genesis(struct chain_store *s, uint64_t time_ms)
{
	struct chain_state_reader rd = chain_store_reader(s);
	struct chain_exec *x = NULL;
	uint8_t zero[CR_HASH_LEN] = {0}, digest[CR_HASH_LEN];
	int rc = chain_exec_new(&x, &rd);
	if (rc == 0)
		rc = chain_exec_credit(x, alice_addr, FUNDS, NULL);
	if (rc == 0) {
		chain_exec_digest(x, zero, digest);
		rc = chain_store_apply_genesis(s, genesis_hash, x, digest, time_ms, NULL);
	}
	chain_exec_free(x);
	return rc;
}

/* A block ready to commit, with the overlay that executed it. */
struct next {
	struct chain_block b;
	struct chain_tx txs[3];
	struct chain_cert cert;
	struct chain_exec *x;
	uint8_t digest[CR_HASH_LEN];
};

/*
 * next_block builds block tip+1 with three txs by alice: transfer of height
 * to bob, set "last" = height, set "h<height>" = "v<height>"; executes it
 * over the store. Release with next_close.
 */
static int
next_block(struct chain_store *s, struct next *n)
{
	struct chain_tip tip;
	struct chain_account a;
	struct chain_state_reader rd = chain_store_reader(s);
	char name[32], val[32];
	int rc;

	memset(n, 0, sizeof(*n));
	if ((rc = chain_store_tip(s, &tip, NULL)) != 0 ||
	    (rc = rd.get_account(rd.arg, alice_addr, &a, NULL)) != 0)
		return rc;
	uint64_t h = tip.height + 1;
	snprintf(val, sizeof(val), "%" PRIu64, h);
	if ((rc = sign_transfer(&n->txs[0], a.nonce, h)) != 0 ||
	    (rc = sign_set(&n->txs[1], a.nonce + 1, "last", val)) != 0)
		return rc;
	snprintf(name, sizeof(name), "h%" PRIu64, h);
	snprintf(val, sizeof(val), "v%" PRIu64, h);
	if ((rc = sign_set(&n->txs[2], a.nonce + 2, name, val)) != 0)
		return rc;

	struct chain_header *hd = &n->b.header;
	snprintf(hd->chain_id, sizeof(hd->chain_id), "%s", CHAIN_ID);
	hd->height = h;
	memcpy(hd->prev_hash, tip.hash, CR_HASH_LEN);
	hd->time_ms = tip.time_ms + 1000;
	hd->proposer = 0;
	hd->view = 0;
	hd->tx_count = 3;
	chain_block_tx_root(n->txs, 3, hd->tx_root);
	memcpy(hd->state_digest, tip.state_digest, CR_HASH_LEN);
	n->b.txs = n->txs;
	chain_header_hash(hd, n->b.hash);

	n->cert.height = h;
	n->cert.view = 0;
	memcpy(n->cert.block_hash, n->b.hash, CR_HASH_LEN);
	n->cert.count = 1;
	memset(n->cert.votes[0].sig, 0x5a, CR_SIG_LEN);

	if ((rc = chain_exec_new(&n->x, &rd)) != 0)
		return rc;
	for (int i = 0; i < 3 && rc == 0; i++)
		rc = chain_exec_apply(n->x, &n->txs[i], NULL);
	chain_exec_digest(n->x, tip.state_digest, n->digest);
	return rc;
}

static void
next_close(struct next *n)
{
	chain_exec_free(n->x);
	n->x = NULL;
}

static int
commit_next(struct chain_store *s, struct ch_err *err)
{
	struct next *n = malloc(sizeof(*n));
	if (n == NULL)
		return CH_E_NOMEM;
	int rc = next_block(s, n);
	if (rc != 0)
		ch_errf(err, rc, "building the next block failed");
	if (rc == 0)
		rc = chain_store_commit(s, &n->b, &n->cert, n->x, n->digest, err);
	next_close(n);
	free(n);
	return rc;
}

static bool
data_is(struct chain_store *s, const char *name, const char *want)
{
	struct chain_state_reader rd = chain_store_reader(s);
	struct ch_buf v;
	bool found = false;
	ch_buf_init(&v);
	int rc = rd.get_data(rd.arg, alice_addr, name, &v, &found, NULL);
	bool ok = rc == 0 && (want == NULL ? !found
					   : found && v.len == strlen(want) &&
						     memcmp(v.data, want, v.len) == 0);
	ch_buf_close(&v);
	return ok;
}

/* ---- tests ---- */

static void
test_open_reopen_meta(void)
{
	struct tmp t;
	struct chain_store *s = NULL;
	struct ch_err err;
	struct ch_buf v;
	bool applied = true;
	uint8_t h[CR_HASH_LEN];
	struct chain_tip tip;

	REQUIRE(tmp_make(&t) == 0);
	ch_buf_init(&v);
	REQUIRE(chain_store_open(&s, t.db, &err) == 0);
	CHECK(chain_store_genesis(s, &applied, h, &err) == 0);
	CHECK(!applied);
	CHECK_EQ_INT(chain_store_tip(s, &tip, &err), CH_E_NOT_FOUND);
	CHECK_EQ_INT(chain_store_get_meta(s, "view", &v, &err), CH_E_NOT_FOUND);
	CHECK(chain_store_put_meta(s, "view", "abc", 3, &err) == 0);
	CHECK(chain_store_put_meta(s, "empty", "", 0, &err) == 0);
	CHECK_EQ_INT(chain_store_put_meta(s, "", "x", 1, &err), CH_E_INVALID);
	uint64_t keys = 0;
	CHECK(chain_store_verify(s, &keys, &err) == 0);
	CHECK_EQ_INT(keys, 2); /* the two metadata records, each read with its checksum */
	chain_store_close(s);

	/* a second open of a locked database fails with the directory named */
	REQUIRE(chain_store_open(&s, t.db, &err) == 0);
	struct chain_store *s2 = NULL;
	CHECK_EQ_INT(chain_store_open(&s2, t.db, &err), CH_E_DB);
	CHECK(strstr(err.msg, "rocksdb open ") != NULL && strstr(err.msg, t.db) != NULL);
	ch_buf_put(&v, "pre", 3);
	CHECK(chain_store_get_meta(s, "view", &v, &err) == 0);
	CHECK(v.len == 6 && memcmp(v.data, "preabc", 6) == 0); /* appended */
	ch_buf_reset(&v);
	CHECK(chain_store_get_meta(s, "empty", &v, &err) == 0);
	CHECK_EQ_INT(v.len, 0);
	CHECK(chain_store_put_meta(s, "view", "z", 1, &err) == 0);
	ch_buf_reset(&v);
	CHECK(chain_store_get_meta(s, "view", &v, &err) == 0);
	CHECK(v.len == 1 && v.data[0] == 'z');
	chain_store_close(s);
	chain_store_close(NULL);

	/* a path that cannot be a database */
	char bad[128];
	snprintf(bad, sizeof(bad), "%s/no/such/dir", t.dir);
	CHECK_EQ_INT(chain_store_open(&s2, bad, &err), CH_E_DB);
	CHECK(strstr(err.msg, bad) != NULL);
	ch_buf_close(&v);
	rm_tree(t.dir);
}

static void
test_genesis_applied(void)
{
	struct tmp t;
	struct chain_store *s = NULL;
	struct ch_err err;
	struct chain_tip tip;
	struct chain_account a;
	bool applied = false;
	uint8_t h[CR_HASH_LEN];

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(chain_store_open(&s, t.db, &err) == 0);
	REQUIRE(apply_genesis(s, 1700000000000ull) == 0);
	CHECK(chain_store_genesis(s, &applied, h, &err) == 0);
	CHECK(applied && memcmp(h, genesis_hash, CR_HASH_LEN) == 0);
	REQUIRE(chain_store_tip(s, &tip, &err) == 0);
	CHECK_EQ_INT(tip.height, 0);
	CHECK(tip.time_ms == 1700000000000ull);
	uint8_t zero[CR_HASH_LEN] = {0};
	CHECK(memcmp(tip.hash, zero, CR_HASH_LEN) == 0);
	CHECK(memcmp(tip.state_digest, zero, CR_HASH_LEN) != 0);
	struct chain_state_reader rd = chain_store_reader(s);
	CHECK(rd.get_account(rd.arg, alice_addr, &a, &err) == 0);
	CHECK(a.balance == FUNDS && a.nonce == 0);
	CHECK(rd.get_account(rd.arg, bob_addr, &a, &err) == 0);
	CHECK(a.balance == 0 && a.nonce == 0);
	/* a second genesis would reset the tip: refused */
	CHECK_EQ_INT(apply_genesis(s, 5), CH_E_EXISTS);
	chain_store_close(s);

	REQUIRE(chain_store_open(&s, t.db, &err) == 0);
	applied = false;
	CHECK(chain_store_genesis(s, &applied, h, &err) == 0 && applied);
	CHECK(chain_store_tip(s, &tip, &err) == 0 && tip.time_ms == 1700000000000ull);
	chain_store_close(s);
	rm_tree(t.dir);
}

static void
test_commit_and_read(void)
{
	struct tmp t;
	struct chain_store *s = NULL;
	struct ch_err err;
	struct chain_tip tip;
	struct chain_account a;
	struct ch_buf braw, craw;
	uint8_t hashes[6][CR_HASH_LEN], txh[6][3][CR_HASH_LEN];
	struct next *n = malloc(sizeof(*n));
	struct chain_block b;
	struct chain_cert *c = malloc(sizeof(*c));

	REQUIRE(n != NULL && c != NULL);
	REQUIRE(tmp_make(&t) == 0);
	ch_buf_init(&braw);
	ch_buf_init(&craw);
	REQUIRE(chain_store_open(&s, t.db, &err) == 0);
	REQUIRE(apply_genesis(s, 1000) == 0);
	for (int h = 1; h <= 5; h++) {
		REQUIRE(next_block(s, n) == 0);
		memcpy(hashes[h], n->b.hash, CR_HASH_LEN);
		for (int i = 0; i < 3; i++)
			memcpy(txh[h][i], n->txs[i].hash, CR_HASH_LEN);
		int rc = chain_store_commit(s, &n->b, &n->cert, n->x, n->digest, &err);
		if (rc != 0)
			fprintf(stderr, "commit %d: %s\n", h, ch_err_msg(&err));
		CHECK_EQ_INT(rc, 0);
		REQUIRE(chain_store_tip(s, &tip, &err) == 0);
		CHECK_EQ_INT(tip.height, h);
		CHECK(memcmp(tip.hash, n->b.hash, CR_HASH_LEN) == 0);
		CHECK(memcmp(tip.state_digest, n->digest, CR_HASH_LEN) == 0);
		CHECK(tip.time_ms == n->b.header.time_ms);
		next_close(n);
	}

	for (uint64_t h = 1; h <= 5; h++) {
		ch_buf_reset(&braw);
		ch_buf_reset(&craw);
		REQUIRE(chain_store_block(s, h, &braw, &craw, &err) == 0);
		REQUIRE(chain_block_decode(braw.data, braw.len, &b, &err) == 0);
		CHECK(b.header.height == h);
		CHECK(memcmp(b.hash, hashes[h], CR_HASH_LEN) == 0);
		CHECK(b.header.tx_count == 3);
		for (uint32_t i = 0; i < 3 && i < b.header.tx_count; i++)
			CHECK(memcmp(b.txs[i].hash, txh[h][i], CR_HASH_LEN) == 0);
		chain_block_close(&b);
		REQUIRE(chain_cert_decode(craw.data, craw.len, c, &err) == 0);
		CHECK(c->height == h && memcmp(c->block_hash, hashes[h], CR_HASH_LEN) == 0);
		CHECK(c->count == 1 && c->votes[0].sig[0] == 0x5a);

		uint64_t got = 0;
		uint32_t idx = 99;
		CHECK(chain_store_height_of(s, hashes[h], &got, &err) == 0 && got == h);
		for (uint32_t i = 0; i < 3; i++) {
			CHECK(chain_store_tx_location(s, txh[h][i], &got, &idx, &err) == 0);
			CHECK(got == h && idx == i);
		}
		char name[16], val[16];
		snprintf(name, sizeof(name), "h%" PRIu64, h);
		snprintf(val, sizeof(val), "v%" PRIu64, h);
		CHECK(data_is(s, name, val));
	}
	/* block without its certificate buffer */
	ch_buf_reset(&braw);
	CHECK(chain_store_block(s, 3, &braw, NULL, &err) == 0 && braw.len > 0);

	struct chain_state_reader rd = chain_store_reader(s);
	CHECK(rd.get_account(rd.arg, alice_addr, &a, &err) == 0);
	CHECK(a.nonce == 15 && a.balance == FUNDS - 15);
	CHECK(rd.get_account(rd.arg, bob_addr, &a, &err) == 0);
	CHECK(a.nonce == 0 && a.balance == 15);
	CHECK(data_is(s, "last", "5"));
	CHECK(data_is(s, "h6", NULL));
	char longname[CHAIN_MAX_NAME + 8];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	CHECK(data_is(s, longname, NULL));

	/* absent things, and failed reads leave the caller's buffers alone */
	uint8_t nohash[CR_HASH_LEN];
	uint64_t got;
	uint32_t idx;
	memset(nohash, 0x77, sizeof(nohash));
	ch_buf_reset(&braw);
	ch_buf_reset(&craw);
	ch_buf_put(&braw, "keep", 4);
	CHECK_EQ_INT(chain_store_block(s, 6, &braw, &craw, &err), CH_E_NOT_FOUND);
	CHECK(braw.len == 4 && craw.len == 0);
	CHECK_EQ_INT(chain_store_block(s, 0, &braw, &craw, &err), CH_E_NOT_FOUND);
	CHECK_EQ_INT(chain_store_height_of(s, nohash, &got, &err), CH_E_NOT_FOUND);
	CHECK_EQ_INT(chain_store_tx_location(s, nohash, &got, &idx, NULL), CH_E_NOT_FOUND);
	chain_store_close(s);

	/* reopen: the tip and everything else survive */
	REQUIRE(chain_store_open(&s, t.db, &err) == 0);
	REQUIRE(chain_store_tip(s, &tip, &err) == 0);
	CHECK(tip.height == 5 && memcmp(tip.hash, hashes[5], CR_HASH_LEN) == 0);
	CHECK(data_is(s, "last", "5"));
	CHECK(commit_next(s, &err) == 0);
	CHECK(chain_store_tip(s, &tip, &err) == 0 && tip.height == 6);
	CHECK(data_is(s, "last", "6"));
	chain_store_close(s);

	ch_buf_close(&braw);
	ch_buf_close(&craw);
	free(c);
	free(n);
	rm_tree(t.dir);
}

/* expect_nothing_written checks that block n was not stored in any part. */
static void
expect_nothing_written(struct chain_store *s, const struct next *n, const struct chain_tip *before)
{
	struct chain_tip tip;
	struct chain_account a;
	struct ch_buf v;
	uint64_t h;
	uint32_t idx;
	struct chain_state_reader rd = chain_store_reader(s);

	ch_buf_init(&v);
	CHECK(chain_store_tip(s, &tip, NULL) == 0);
	CHECK(memcmp(&tip, before, sizeof(tip)) == 0);
	CHECK_EQ_INT(chain_store_block(s, before->height + 1, &v, NULL, NULL), CH_E_NOT_FOUND);
	CHECK_EQ_INT(chain_store_height_of(s, n->b.hash, &h, NULL), CH_E_NOT_FOUND);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(chain_store_tx_location(s, n->txs[i].hash, &h, &idx, NULL),
			     CH_E_NOT_FOUND);
	CHECK(rd.get_account(rd.arg, bob_addr, &a, NULL) == 0);
	CHECK(a.balance == before->height * (before->height + 1) / 2);
	CHECK(data_is(s, "h2", NULL));
	ch_buf_close(&v);
}

static void
test_commit_rejects(void)
{
	struct tmp t;
	struct chain_store *s = NULL;
	struct ch_err err;
	struct chain_tip before;
	struct next *n = malloc(sizeof(*n));

	REQUIRE(n != NULL);
	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(chain_store_open(&s, t.db, &err) == 0);

	REQUIRE(apply_genesis(s, 1000) == 0);
	REQUIRE(commit_next(s, &err) == 0);
	REQUIRE(chain_store_tip(s, &before, &err) == 0);
	REQUIRE(next_block(s, n) == 0);

	/* skipped height */
	n->b.header.height += 1;
	chain_header_hash(&n->b.header, n->b.hash);
	n->cert.height = n->b.header.height;
	memcpy(n->cert.block_hash, n->b.hash, CR_HASH_LEN);
	CHECK_EQ_INT(chain_store_commit(s, &n->b, &n->cert, n->x, n->digest, &err), CH_E_INVALID);
	CHECK(strstr(err.msg, "height 3") != NULL);
	expect_nothing_written(s, n, &before);

	/* same height again */
	n->b.header.height = before.height;
	chain_header_hash(&n->b.header, n->b.hash);
	n->cert.height = n->b.header.height;
	memcpy(n->cert.block_hash, n->b.hash, CR_HASH_LEN);
	CHECK_EQ_INT(chain_store_commit(s, &n->b, &n->cert, n->x, n->digest, &err), CH_E_INVALID);
	expect_nothing_written(s, n, &before);

	/* right height, wrong parent */
	n->b.header.height = before.height + 1;
	n->b.header.prev_hash[0] ^= 1;
	chain_header_hash(&n->b.header, n->b.hash);
	n->cert.height = n->b.header.height;
	memcpy(n->cert.block_hash, n->b.hash, CR_HASH_LEN);
	CHECK_EQ_INT(chain_store_commit(s, &n->b, &n->cert, n->x, n->digest, &err), CH_E_INVALID);
	CHECK(strstr(err.msg, "previous hash") != NULL);
	expect_nothing_written(s, n, &before);
	n->b.header.prev_hash[0] ^= 1;
	chain_header_hash(&n->b.header, n->b.hash);

	/* a stale b->hash */
	n->b.hash[5] ^= 1;
	memcpy(n->cert.block_hash, n->b.hash, CR_HASH_LEN);
	CHECK_EQ_INT(chain_store_commit(s, &n->b, &n->cert, n->x, n->digest, &err), CH_E_INVALID);
	expect_nothing_written(s, n, &before);
	n->b.hash[5] ^= 1;

	/* a certificate for something else */
	n->cert.block_hash[0] ^= 1;
	CHECK_EQ_INT(chain_store_commit(s, &n->b, &n->cert, n->x, n->digest, &err), CH_E_INVALID);
	expect_nothing_written(s, n, &before);
	memcpy(n->cert.block_hash, n->b.hash, CR_HASH_LEN);

	/* repaired, it goes in */
	CHECK(chain_store_commit(s, &n->b, &n->cert, n->x, n->digest, &err) == 0);
	CHECK(data_is(s, "h2", "v2"));
	next_close(n);
	chain_store_close(s);
	free(n);
	rm_tree(t.dir);
}

static void
test_corrupt_records(void)
{
	struct tmp t;
	struct chain_store *s = NULL;
	struct ch_err err;
	struct chain_tip tip;
	bool applied;
	uint8_t h[CR_HASH_LEN];

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(chain_store_open(&s, t.db, &err) == 0);
	CHECK(chain_store_put_meta(s, "tip", "01234567890123456", 17, &err) == 0);
	CHECK_EQ_INT(chain_store_tip(s, &tip, &err), CH_E_DB);
	CHECK(strcmp(err.msg, "store: tip record has 17 bytes, expected 80") == 0);
	CHECK_EQ_INT(commit_next(s, &err), CH_E_DB);
	CHECK(chain_store_put_meta(s, "genesis", "x", 1, &err) == 0);
	CHECK_EQ_INT(chain_store_genesis(s, &applied, h, &err), CH_E_DB);
	CHECK(strstr(err.msg, "genesis record has 1 bytes") != NULL);
	chain_store_close(s);
	rm_tree(t.dir);
}

/* ---- concurrent readers ---- */

struct readers {
	struct chain_store *s;
	volatile int stop;
	int bad;
};

static void *
reader_main(void *arg)
{
	struct readers *r = arg;
	struct chain_state_reader rd = chain_store_reader(r->s);
	struct ch_buf v;
	ch_buf_init(&v);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct chain_tip tip = {0};
		struct chain_account a = {0};
		bool found;
		if (chain_store_tip(r->s, &tip, NULL) != 0 ||
		    rd.get_account(rd.arg, alice_addr, &a, NULL) != 0)
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
		/* the account read happened after the tip read: never behind it */
		if (a.nonce < 3 * tip.height)
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
		ch_buf_reset(&v);
		if (tip.height > 0 &&
		    chain_store_block(r->s, tip.height, &v, NULL, NULL) != 0)
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
		ch_buf_reset(&v);
		if (rd.get_data(rd.arg, alice_addr, "last", &v, &found, NULL) != 0)
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
	}
	ch_buf_close(&v);
	return NULL;
}

static void
test_concurrent_reads(void)
{
	struct tmp t;
	struct ch_err err;
	struct readers r = {.s = NULL, .stop = 0, .bad = 0};
	pthread_t th[4];

	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(chain_store_open(&r.s, t.db, &err) == 0);
	REQUIRE(apply_genesis(r.s, 1000) == 0);
	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_create(&th[i], NULL, reader_main, &r) == 0);
	for (int h = 0; h < 30; h++)
		CHECK(commit_next(r.s, &err) == 0);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ_INT(r.bad, 0);
	chain_store_close(r.s);
	rm_tree(t.dir);
}

/* ---- crash atomicity ---- */

#define CRASH_ROUNDS 8
#define CRASH_MAX_BLOCKS 3000
#define CRASH_MAX_SECONDS 20

static uint64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* crash_child commits blocks until killed or out of budget; never returns. */
static void
crash_child(const char *db, int ready_fd)
{
	struct chain_store *s = NULL;
	struct ch_err err;
	uint64_t start = mono_ms();
	ch_err_clear(&err);
	if (chain_store_open(&s, db, &err) != 0) {
		fprintf(stderr, "child: %s\n", ch_err_msg(&err));
		_exit(2);
	}
	for (int i = 0; i < CRASH_MAX_BLOCKS && mono_ms() - start < CRASH_MAX_SECONDS * 1000; i++) {
		if (commit_next(s, &err) != 0) {
			fprintf(stderr, "child: %s\n", ch_err_msg(&err));
			_exit(3);
		}
		if (i == 0 && write(ready_fd, "r", 1) != 1)
			_exit(4);
	}
	chain_store_close(s);
	_exit(0);
}

/* check_consistent: the tip block and all of its writes are there, no more. */
static void
check_consistent(struct chain_store *s, uint64_t *height)
{
	struct chain_tip tip;
	struct ch_err err;
	struct ch_buf raw;
	struct chain_block b;
	struct chain_account a;
	struct chain_state_reader rd = chain_store_reader(s);
	uint64_t got;
	uint32_t idx;
	char name[32], val[32];

	ch_buf_init(&raw);
	REQUIRE(chain_store_tip(s, &tip, &err) == 0);
	*height = tip.height;
	uint64_t h = tip.height;
	CHECK(rd.get_account(rd.arg, alice_addr, &a, &err) == 0);
	CHECK(a.nonce == 3 * h && a.balance == FUNDS - h * (h + 1) / 2);
	CHECK(rd.get_account(rd.arg, bob_addr, &a, &err) == 0);
	CHECK(a.balance == h * (h + 1) / 2);
	snprintf(val, sizeof(val), "%" PRIu64, h);
	CHECK(data_is(s, "last", h > 0 ? val : NULL));
	snprintf(name, sizeof(name), "h%" PRIu64, h + 1);
	CHECK(data_is(s, name, NULL));
	CHECK_EQ_INT(chain_store_block(s, h + 1, &raw, NULL, NULL), CH_E_NOT_FOUND);
	if (h > 0) {
		snprintf(name, sizeof(name), "h%" PRIu64, h);
		snprintf(val, sizeof(val), "v%" PRIu64, h);
		CHECK(data_is(s, name, val));
		struct ch_buf craw;
		ch_buf_init(&craw);
		REQUIRE(chain_store_block(s, h, &raw, &craw, &err) == 0);
		ch_buf_close(&craw);
		REQUIRE(chain_block_decode(raw.data, raw.len, &b, &err) == 0);
		CHECK(memcmp(b.hash, tip.hash, CR_HASH_LEN) == 0);
		CHECK(chain_store_height_of(s, tip.hash, &got, &err) == 0 && got == h);
		for (uint32_t i = 0; i < b.header.tx_count; i++)
			CHECK(chain_store_tx_location(s, b.txs[i].hash, &got, &idx, &err) == 0 &&
			      got == h && idx == i);
		chain_block_close(&b);
	}
	ch_buf_close(&raw);
}

static void
test_crash_atomicity(void)
{
	struct tmp t;
	struct chain_store *s = NULL;
	struct ch_err err;
	uint64_t height = 0, last = 0;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();

	printf("crash seed %u\n", seed);
	srand(seed);
	REQUIRE(tmp_make(&t) == 0);
	REQUIRE(chain_store_open(&s, t.db, &err) == 0);
	REQUIRE(apply_genesis(s, 1000) == 0);
	chain_store_close(s);
	fflush(NULL);

	for (int round = 0; round < CRASH_ROUNDS; round++) {
		int fds[2];
		REQUIRE(pipe(fds) == 0);
		pid_t pid = fork();
		REQUIRE(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			crash_child(t.db, fds[1]);
		}
		close(fds[1]);
		char c;
		bool ready = read(fds[0], &c, 1) == 1; /* first block is in */
		close(fds[0]);
		struct timespec d = {.tv_sec = 0, .tv_nsec = (rand() % 300) * 1000000L};
		nanosleep(&d, NULL);
		kill(pid, SIGKILL);
		int st = 0;
		REQUIRE(waitpid(pid, &st, 0) == pid);
		CHECK(ready);
		CHECK((WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) ||
		      (WIFEXITED(st) && WEXITSTATUS(st) == 0));

		REQUIRE(chain_store_open(&s, t.db, &err) == 0);
		check_consistent(s, &height);
		CHECK(height > last);
		printf("crash round %d: killed at height %" PRIu64 "\n", round, height);
		last = height;
		chain_store_close(s);
	}
	rm_tree(t.dir);
}

/*
 * test_backup: a copy taken while the store is open and written to holds
 * every record as of the copy, opens and verifies as a store of its own, and
 * does not follow later commits; an existing destination is refused and left
 * alone; a copy of the stopped store (and of a copy) is the same.
 */
static void
test_backup(void)
{
	struct tmp t;
	struct chain_store *s = NULL, *c = NULL;
	struct ch_err err;
	struct chain_tip tip, ctip;
	char copy[96], again[96], nosrc[96], marker[128];
	uint64_t keys = 0, copied = 0, ckeys = 0, height = 0;
	struct stat st;

	REQUIRE(tmp_make(&t) == 0);
	snprintf(copy, sizeof(copy), "%s/copy", t.dir);
	snprintf(again, sizeof(again), "%s/again", t.dir);
	snprintf(nosrc, sizeof(nosrc), "%s/nothing", t.dir);
	REQUIRE(chain_store_open(&s, t.db, &err) == 0);
	REQUIRE(apply_genesis(s, 1000) == 0);
	for (int h = 1; h <= 4; h++)
		REQUIRE(commit_next(s, &err) == 0);
	REQUIRE(chain_store_put_meta(s, "note", "kept", 4, &err) == 0);
	REQUIRE(chain_store_verify(s, &keys, &err) == 0);
	REQUIRE(chain_store_tip(s, &tip, &err) == 0);

	/* online: the store stays open (locked) and goes on committing */
	int rc = chain_store_backup(t.db, copy, &copied, &err);
	if (rc != 0)
		fprintf(stderr, "backup: %s\n", ch_err_msg(&err));
	REQUIRE(rc == 0);
	CHECK_EQ_INT(copied, keys);
	CHECK(commit_next(s, &err) == 0);

	REQUIRE(chain_store_open(&c, copy, &err) == 0);
	CHECK(chain_store_verify(c, &ckeys, &err) == 0);
	CHECK_EQ_INT(ckeys, keys);
	REQUIRE(chain_store_tip(c, &ctip, &err) == 0);
	CHECK(ctip.height == tip.height && memcmp(ctip.hash, tip.hash, CR_HASH_LEN) == 0);
	check_consistent(c, &height); /* every record of the tip block and its state */
	CHECK_EQ_INT(height, 4);
	struct ch_buf v;
	ch_buf_init(&v);
	CHECK(chain_store_get_meta(c, "note", &v, &err) == 0 && v.len == 4 &&
	      memcmp(v.data, "kept", 4) == 0);
	ch_buf_close(&v);
	chain_store_close(c);

	/* an existing destination: refused, and what it holds is left as it was */
	snprintf(marker, sizeof(marker), "%s/CURRENT", copy);
	REQUIRE(stat(marker, &st) == 0);
	copied = 99;
	CHECK_EQ_INT(chain_store_backup(t.db, copy, &copied, &err), CH_E_EXISTS);
	CHECK(strstr(err.msg, copy) != NULL);
	CHECK_EQ_INT(copied, 0);
	CHECK(stat(marker, &st) == 0);
	REQUIRE(chain_store_open(&c, copy, &err) == 0);
	CHECK(chain_store_tip(c, &ctip, &err) == 0 && ctip.height == 4);
	chain_store_close(c);

	/* no database to copy: an error that names it, and no destination left behind */
	CHECK(chain_store_backup(nosrc, again, &copied, &err) != 0);
	CHECK(strstr(err.msg, nosrc) != NULL);
	CHECK(stat(again, &st) != 0);

	/* stopped: the copy is taken the same way, here of the copy */
	chain_store_close(s);
	CHECK(chain_store_backup(copy, again, &copied, &err) == 0);
	CHECK_EQ_INT(copied, keys);
	REQUIRE(chain_store_open(&c, again, &err) == 0);
	CHECK(chain_store_verify(c, &ckeys, &err) == 0 && ckeys == keys);
	CHECK(chain_store_tip(c, &ctip, &err) == 0 && ctip.height == 4);
	chain_store_close(c);
	rm_tree(t.dir);
}

int
main(void)
{
	if (cr_key_generate(&alice, NULL) != 0) {
		fprintf(stderr, "cannot generate a key\n");
		return 1;
	}
	uint8_t pub[CR_PUBKEY_LEN];
	cr_key_pubkey(alice, pub);
	cr_address(pub, alice_addr);
	memset(bob_addr, 0xb0, sizeof(bob_addr));

	RUN(test_open_reopen_meta);
	RUN(test_genesis_applied);
	RUN(test_commit_and_read);
	RUN(test_commit_rejects);
	RUN(test_corrupt_records);
	RUN(test_concurrent_reads);
	RUN(test_crash_atomicity);
	RUN(test_backup);
	cr_key_free(alice);
	return TEST_DONE();
}
