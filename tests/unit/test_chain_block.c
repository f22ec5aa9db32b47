#include <stdlib.h>

#include "chain/block.h"
#include "test.h"
#include "test_p256.h"

#define NKEYS 4

static struct cr_key *keys[NKEYS];
static uint8_t pubs[NKEYS][CR_PUBKEY_LEN];
#define PUBS ((const uint8_t(*)[CR_PUBKEY_LEN])pubs)

static void
make_block(struct chain_block *b, uint32_t ntx)
{
	memset(b, 0, sizeof(*b));
	strcpy(b->header.chain_id, "blocks");
	b->header.height = 9;
	b->header.time_ms = 1234;
	b->header.view = 2;
	b->header.proposer = 2;
	memset(b->header.prev_hash, 0x11, 32);
	memset(b->header.state_digest, 0x22, 32);
	b->header.tx_count = ntx;
	b->txs = calloc(ntx ? ntx : 1, sizeof(*b->txs));
	for (uint32_t i = 0; i < ntx; i++) {
		struct chain_tx *t = &b->txs[i];
		strcpy(t->chain_id, "blocks");
		t->nonce = i;
		if (i % 2 == 0) {
			t->type = CHAIN_TX_TRANSFER;
			t->amount = 1 + i;
			t->to[0] = (uint8_t)i;
		} else {
			t->type = CHAIN_TX_SET;
			strcpy(t->name, "key");
			t->value_len = 3;
			memcpy(t->value, "val", 3);
		}
		if (chain_tx_sign(t, keys[i % NKEYS], NULL) != 0)
			abort();
	}
	chain_block_tx_root(b->txs, ntx, b->header.tx_root);
	chain_header_hash(&b->header, b->hash);
}

static size_t
header_len(const struct chain_header *h)
{
	return 1 + 1 + strlen(h->chain_id) + 8 + 32 + 8 + 2 + 8 + 32 + 32 + 4;
}

/* decode_copy decodes an exact-size copy of p, so ASan catches any over-read. */
static int
decode_copy(const uint8_t *p, size_t n, struct chain_block *out, struct ch_err *e)
{
	uint8_t *copy = malloc(n ? n : 1);
	memcpy(copy, p, n);
	int rc = chain_block_decode(copy, n, out, e);
	free(copy);
	return rc;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
test_roundtrip(void)
{
	static const uint32_t sizes[] = {0, 1, 5};
	for (size_t k = 0; k < 3; k++) {
		uint32_t ntx = sizes[k];
		struct chain_block b, c;
		struct ch_buf enc, again;
		struct ch_err e;
		make_block(&b, ntx);
		ch_buf_init(&enc);
		ch_buf_init(&again);
		chain_block_encode(&b, &enc);
		REQUIRE(ch_buf_ok(&enc));
		REQUIRE(decode_copy(enc.data, enc.len, &c, &e) == 0);
		CHECK(memcmp(b.hash, c.hash, 32) == 0);
		CHECK(strcmp(c.header.chain_id, "blocks") == 0);
		CHECK(c.header.tx_count == ntx && c.header.height == 9 && c.header.view == 2);
		CHECK(c.header.time_ms == 1234 && c.header.proposer == 2);
		CHECK(memcmp(&c.header, &b.header, sizeof(c.header)) == 0);
		CHECK(ntx == 0 || c.txs != NULL);
		for (uint32_t i = 0; i < ntx; i++) {
			CHECK(memcmp(b.txs[i].hash, c.txs[i].hash, 32) == 0);
			CHECK(c.txs[i].size == b.txs[i].size && c.txs[i].type == b.txs[i].type);
			CHECK(chain_tx_verify(&c.txs[i], &e) == 0);
		}
		chain_block_encode(&c, &again);
		CHECK(again.len == enc.len && memcmp(again.data, enc.data, enc.len) == 0);

		/* layout: header, then (u32 length | tx) per transaction */
		size_t hl = header_len(&b.header);
		const uint8_t *p = enc.data;
		CHECK(p[0] == CHAIN_BLOCK_VERSION && p[1] == 6 && memcmp(p + 2, "blocks", 6) == 0);
		CHECK(p[hl - 4] == 0 && p[hl - 3] == 0 && p[hl - 2] == 0 && p[hl - 1] == ntx);
		size_t off = hl;
		for (uint32_t i = 0; i < ntx; i++) {
			uint32_t tl = ((uint32_t)p[off] << 24) | ((uint32_t)p[off + 1] << 16) |
				      ((uint32_t)p[off + 2] << 8) | p[off + 3];
			CHECK(tl == b.txs[i].size);
			off += 4 + tl;
		}
		CHECK(off == enc.len);

		/* block hash = SHA-256(header encoding) */
		uint8_t h[32];
		cr_sha256(enc.data, hl, h);
		CHECK(memcmp(h, c.hash, 32) == 0);
		struct chain_header hd;
		REQUIRE(chain_header_decode(enc.data, hl, &hd, &e) == 0);
		CHECK(memcmp(&hd, &b.header, sizeof(hd)) == 0);

		/* tx_root = Merkle root of the tx hashes in order */
		uint8_t(*leaves)[32] = calloc(ntx ? ntx : 1, 32);
		for (uint32_t i = 0; i < ntx; i++)
			memcpy(leaves[i], b.txs[i].hash, 32);
		cr_merkle_root((const uint8_t(*)[32])leaves, ntx, h);
		CHECK(memcmp(h, c.header.tx_root, 32) == 0);
		free(leaves);

		ch_buf_close(&enc);
		ch_buf_close(&again);
		chain_block_close(&b);
		chain_block_close(&c);
	}
	uint8_t empty[32], root[32];
	cr_sha256("", 0, empty);
	chain_block_tx_root(NULL, 0, root);
	CHECK(memcmp(empty, root, 32) == 0);
}

static void
test_prefixes_and_trailing(void)
{
	static const uint32_t sizes[] = {0, 1, 5};
	for (size_t k = 0; k < 3; k++) {
		struct chain_block b, c;
		struct ch_buf enc;
		struct ch_err e;
		make_block(&b, sizes[k]);
		ch_buf_init(&enc);
		chain_block_encode(&b, &enc);
		for (size_t n = 0; n < enc.len; n++) {
			memset(&c, 0, sizeof(c));
			CHECK_EQ_INT(decode_copy(enc.data, n, &c, &e), CH_E_BAD_ENCODING);
			CHECK(c.txs == NULL); /* nothing left allocated on failure */
		}
		ch_buf_u8(&enc, 0);
		CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BAD_ENCODING);
		CHECK(strstr(e.msg, "trailing") != NULL);

		size_t hl = header_len(&b.header);
		struct chain_header h;
		for (size_t n = 0; n < hl; n++)
			CHECK_EQ_INT(chain_header_decode(enc.data, n, &h, &e), CH_E_BAD_ENCODING);
		CHECK_EQ_INT(chain_header_decode(enc.data, hl + 1, &h, &e), CH_E_BAD_ENCODING);
		ch_buf_close(&enc);
		chain_block_close(&b);
	}
}

/* expect_header_bad encodes h alone (a block of no txs) and expects both decoders to refuse it. */
static void
expect_header_bad(const struct chain_header *h, const char *what)
{
	struct ch_buf enc;
	struct ch_err e;
	struct chain_header d;
	struct chain_block c;
	ch_buf_init(&enc);
	chain_header_encode(h, &enc);
	CHECK_EQ_INT(chain_header_decode(enc.data, enc.len, &d, &e), CH_E_BAD_ENCODING);
	if (strstr(e.msg, what) == NULL) {
		fprintf(stderr, "header: message \"%s\" lacks \"%s\"\n", e.msg, what);
		test_failed_checks++;
	}
	CHECK_EQ_INT(chain_block_decode(enc.data, enc.len, &c, &e), CH_E_BAD_ENCODING);
	ch_buf_close(&enc);
}

static void
test_bad_header(void)
{
	struct chain_block b;
	struct ch_buf enc;
	struct ch_err e;
	struct chain_header d;
	make_block(&b, 0);
	ch_buf_init(&enc);
	chain_header_encode(&b.header, &enc);
	REQUIRE(chain_header_decode(enc.data, enc.len, &d, &e) == 0); /* the control */
	enc.data[0] = 0;
	CHECK_EQ_INT(chain_header_decode(enc.data, enc.len, &d, &e), CH_E_BAD_ENCODING);
	CHECK(strstr(e.msg, "version 0") != NULL);
	enc.data[0] = 2;
	CHECK_EQ_INT(chain_header_decode(enc.data, enc.len, &d, &e), CH_E_BAD_ENCODING);
	struct chain_block c;
	CHECK_EQ_INT(chain_block_decode(enc.data, enc.len, &c, &e), CH_E_BAD_ENCODING);
	ch_buf_close(&enc);

	struct chain_header h = b.header;
	strcpy(h.chain_id, "");
	expect_header_bad(&h, "chain id length 0");
	memset(h.chain_id, 'a', sizeof(h.chain_id)); /* 65 characters */
	expect_header_bad(&h, "chain id length 65");
	strcpy(h.chain_id, "a b");
	expect_header_bad(&h, "chain id");
	strcpy(h.chain_id, "a/b");
	expect_header_bad(&h, "chain id");
	h = b.header;
	h.height = 0;
	expect_header_bad(&h, "height 0");
	h = b.header;
	h.tx_count = CHAIN_MAX_BLOCK_TXS + 1;
	expect_header_bad(&h, "tx count 100001");
	h.tx_count = UINT32_MAX;
	expect_header_bad(&h, "tx count");
	chain_block_close(&b);
}

static void
test_bad_counts_and_lengths(void)
{
	struct chain_block b, c;
	struct ch_buf enc;
	struct ch_err e;
	make_block(&b, 1);
	size_t hl = header_len(&b.header);
	ch_buf_init(&enc);

	/* tx_count says 2, one is there */
	b.header.tx_count = 2;
	chain_header_encode(&b.header, &enc);
	ch_buf_u32(&enc, b.txs[0].size);
	chain_tx_encode(&b.txs[0], &enc);
	CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BAD_ENCODING);

	/* tx_count says 0, a tx follows */
	b.header.tx_count = 0;
	ch_buf_reset(&enc);
	chain_header_encode(&b.header, &enc);
	ch_buf_u32(&enc, b.txs[0].size);
	chain_tx_encode(&b.txs[0], &enc);
	CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BAD_ENCODING);
	b.header.tx_count = 1;

	/* the maximum count with a few bytes: refused before allocating the array */
	struct chain_header h = b.header;
	h.tx_count = CHAIN_MAX_BLOCK_TXS;
	ch_buf_reset(&enc);
	chain_header_encode(&h, &enc);
	for (int i = 0; i < 100; i++)
		ch_buf_u8(&enc, 0);
	CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BAD_ENCODING);
	CHECK(strstr(e.msg, "100000") != NULL);
	CHECK(c.txs == NULL);

	/* tx lengths: 0, one over the limit (bytes present), huge, and one off each way */
	uint8_t *filler = calloc(1, CHAIN_MAX_TX_BYTES + 1);
	static const uint32_t bad_lens[] = {0, CHAIN_MAX_TX_BYTES + 1, UINT32_MAX};
	for (size_t i = 0; i < 3; i++) {
		ch_buf_reset(&enc);
		chain_header_encode(&b.header, &enc);
		ch_buf_u32(&enc, bad_lens[i]);
		ch_buf_put(&enc, filler, CHAIN_MAX_TX_BYTES + 1);
		CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BAD_ENCODING);
	}
	CHECK(strstr(e.msg, "tx 0") != NULL);
	free(filler);
	ch_buf_reset(&enc);
	chain_block_encode(&b, &enc);
	REQUIRE(decode_copy(enc.data, enc.len, &c, &e) == 0);
	chain_block_close(&c);
	put_be32(enc.data + hl, b.txs[0].size - 1);
	CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BAD_ENCODING);
	put_be32(enc.data + hl, b.txs[0].size + 1);
	CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BAD_ENCODING);

	/* a transaction breaking a stateless rule (amount 0) makes the block undecodable */
	put_be32(enc.data + hl, b.txs[0].size);
	memset(enc.data + enc.len - CR_SIG_LEN - 8, 0, 8);
	CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BAD_ENCODING);
	CHECK(strstr(e.msg, "amount") != NULL);

	/* larger than the format allows: refused unread */
	uint8_t *huge = calloc(1, (size_t)CHAIN_MAX_BLOCK_BYTES + 1);
	REQUIRE(huge != NULL);
	CHECK_EQ_INT(chain_block_decode(huge, (size_t)CHAIN_MAX_BLOCK_BYTES + 1, &c, &e),
		     CH_E_TOO_LARGE);
	free(huge);
	ch_buf_close(&enc);
	chain_block_close(&b);
}

static void
test_tampering(void)
{
	struct chain_block b, c;
	struct ch_buf enc;
	struct ch_err e;
	make_block(&b, 5);
	ch_buf_init(&enc);

	/* a root that does not match the transactions */
	b.header.tx_root[0] ^= 1;
	chain_block_encode(&b, &enc);
	CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BLOCK_INVALID);
	CHECK(c.txs == NULL);
	b.header.tx_root[0] ^= 1;

	/* the same transactions in another order */
	struct chain_tx t = b.txs[0];
	b.txs[0] = b.txs[1];
	b.txs[1] = t;
	ch_buf_reset(&enc);
	chain_block_encode(&b, &enc);
	CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BLOCK_INVALID);
	b.txs[1] = b.txs[0];
	b.txs[0] = t;

	/* a transaction changed in place (its nonce): still decodes as a tx, root breaks */
	ch_buf_reset(&enc);
	chain_block_encode(&b, &enc);
	REQUIRE(decode_copy(enc.data, enc.len, &c, &e) == 0);
	chain_block_close(&c);
	size_t nonce_at = header_len(&b.header) + 4 + 1 + 1 + 6 + 1 + 1 + 33 + 7;
	enc.data[nonce_at] ^= 0x40;
	CHECK_EQ_INT(decode_copy(enc.data, enc.len, &c, &e), CH_E_BLOCK_INVALID);

	/* the header hash commits to every field */
	uint8_t h0[32], h1[32];
	chain_header_hash(&b.header, h0);
	for (int field = 0; field < 9; field++) {
		struct chain_header h = b.header;
		switch (field) {
		case 0: h.chain_id[0] = 'c'; break;
		case 1: h.height++; break;
		case 2: h.prev_hash[31] ^= 1; break;
		case 3: h.time_ms++; break;
		case 4: h.proposer++; break;
		case 5: h.view++; break;
		case 6: h.tx_root[5] ^= 1; break;
		case 7: h.state_digest[0] ^= 1; break;
		case 8: h.tx_count++; break;
		}
		chain_header_hash(&h, h1);
		CHECK(memcmp(h0, h1, 32) != 0);
	}
	ch_buf_close(&enc);
	chain_block_close(&b);
	chain_block_close(&b); /* twice is fine */
	chain_block_close(NULL);
}

/* ---- votes and certificates ---- */

static void
vote(struct chain_cert *c, uint16_t who)
{
	uint8_t d[32];
	chain_vote_digest(c->height, c->view, c->block_hash, d);
	c->votes[c->count].validator = who;
	if (cr_sign(keys[who], d, c->votes[c->count].sig, NULL) != 0)
		abort();
	c->count++;
}

static struct chain_cert *
new_cert(void)
{
	struct chain_cert *c = calloc(1, sizeof(*c));
	c->height = 9;
	c->view = 2;
	memset(c->block_hash, 0x33, 32);
	return c;
}

static void
test_vote_digest(void)
{
	uint8_t hash[32], want[32], got[32], buf[17 + 8 + 8 + 32];
	for (int i = 0; i < 32; i++)
		hash[i] = (uint8_t)i;
	memcpy(buf, "chaind/commit/v1", 16);
	buf[16] = 0;
	static const uint8_t hv[16] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0xff};
	memcpy(buf + 17, hv, 16);
	memcpy(buf + 33, hash, 32);
	cr_sha256(buf, sizeof(buf), want);
	chain_vote_digest(0x0102030405060708ull, 0xff, hash, got);
	CHECK(memcmp(want, got, 32) == 0);
	chain_vote_digest(0x0102030405060708ull, 0xfe, hash, got);
	CHECK(memcmp(want, got, 32) != 0);
}

static void
test_cert_roundtrip(void)
{
	struct chain_cert *c = new_cert(), *d = calloc(1, sizeof(*d));
	struct ch_buf enc, again;
	struct ch_err e;
	ch_buf_init(&enc);
	ch_buf_init(&again);
	static const uint16_t counts[] = {0, 1, 3, CHAIN_MAX_VALIDATORS};
	for (size_t k = 0; k < 4; k++) {
		c->count = 0;
		for (uint16_t i = 0; i < counts[k]; i++) {
			if (i < NKEYS) {
				vote(c, i);
			} else { /* the decoder does not check signatures */
				c->votes[i].validator = (uint16_t)(i * 3);
				memset(c->votes[i].sig, (int)i, CR_SIG_LEN);
				c->count++;
			}
		}
		ch_buf_reset(&enc);
		chain_cert_encode(c, &enc);
		REQUIRE(enc.len == 8 + 8 + 32 + 2 + (size_t)counts[k] * 66);
		memset(d, 0xee, sizeof(*d));
		REQUIRE(chain_cert_decode(enc.data, enc.len, d, &e) == 0);
		CHECK(d->height == 9 && d->view == 2 && memcmp(d->block_hash, c->block_hash, 32) == 0);
		CHECK(d->count == counts[k]);
		CHECK(memcmp(d->votes, c->votes, counts[k] * sizeof(d->votes[0])) == 0);
		ch_buf_reset(&again);
		chain_cert_encode(d, &again);
		CHECK(again.len == enc.len && memcmp(again.data, enc.data, enc.len) == 0);
	}

	/* every prefix and a trailing byte of a 3-vote certificate */
	c->count = 0;
	vote(c, 0);
	vote(c, 2);
	vote(c, 3);
	ch_buf_reset(&enc);
	chain_cert_encode(c, &enc);
	for (size_t n = 0; n < enc.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, enc.data, n);
		CHECK_EQ_INT(chain_cert_decode(copy, n, d, &e), CH_E_BAD_ENCODING);
		free(copy);
	}
	ch_buf_u8(&enc, 0);
	CHECK_EQ_INT(chain_cert_decode(enc.data, enc.len, d, &e), CH_E_BAD_ENCODING);

	/* validators must be strictly ascending: equal and descending are refused */
	ch_buf_reset(&enc);
	c->votes[1].validator = 0;
	chain_cert_encode(c, &enc);
	CHECK_EQ_INT(chain_cert_decode(enc.data, enc.len, d, &e), CH_E_BAD_ENCODING);
	CHECK(strstr(e.msg, "validator 0") != NULL);
	ch_buf_reset(&enc);
	c->votes[1].validator = 3;
	c->votes[2].validator = 2;
	chain_cert_encode(c, &enc);
	CHECK_EQ_INT(chain_cert_decode(enc.data, enc.len, d, &e), CH_E_BAD_ENCODING);

	/* more votes than validators can exist, with the bytes present */
	ch_buf_reset(&enc);
	ch_buf_u64(&enc, 9);
	ch_buf_u64(&enc, 2);
	ch_buf_put(&enc, c->block_hash, 32);
	ch_buf_u16(&enc, CHAIN_MAX_VALIDATORS + 1);
	for (uint16_t i = 0; i <= CHAIN_MAX_VALIDATORS; i++) {
		ch_buf_u16(&enc, i);
		ch_buf_put(&enc, c->votes[0].sig, CR_SIG_LEN);
	}
	CHECK_EQ_INT(chain_cert_decode(enc.data, enc.len, d, &e), CH_E_BAD_ENCODING);
	CHECK(strstr(e.msg, "257") != NULL);
	/* a count of 0xffff with no votes behind it */
	enc.data[48] = 0xff;
	enc.data[49] = 0xff;
	CHECK_EQ_INT(chain_cert_decode(enc.data, 50, d, &e), CH_E_BAD_ENCODING);

	ch_buf_close(&enc);
	ch_buf_close(&again);
	free(c);
	free(d);
}

/* expect_verify: chain_cert_verify returns code, with what (if any) in the message. */
static void
expect_verify(const struct chain_cert *c, size_t n, size_t quorum, int code, const char *what,
	      int line)
{
	struct ch_err e;
	ch_err_clear(&e);
	int rc = chain_cert_verify(c, PUBS, n, quorum, &e);
	if (rc != code || (what != NULL && strstr(e.msg, what) == NULL)) {
		fprintf(stderr, "%s:%d: cert verify gave %d \"%s\", wanted %d \"%s\"\n", __FILE__,
			line, rc, e.msg, code, what ? what : "");
		test_failed_checks++;
	}
}

#define EXPECT_VERIFY(c, n, q, code, what) expect_verify((c), (n), (q), (code), (what), __LINE__)

static void
test_cert_verify(void)
{
	struct chain_cert *c = new_cert(), *d = calloc(1, sizeof(*d));
	const char *none = NULL;
	vote(c, 0);
	vote(c, 1);
	EXPECT_VERIFY(c, 4, 3, CH_E_BAD_SIGNATURE, "2 votes");
	EXPECT_VERIFY(c, 4, 2, 0, none);
	vote(c, 3);
	EXPECT_VERIFY(c, 4, 3, 0, none);
	*d = *c;
	d->count = 0;
	vote(d, 0);
	vote(d, 1);
	vote(d, 2);
	vote(d, 3);
	EXPECT_VERIFY(d, 4, 3, 0, none);
	EXPECT_VERIFY(d, 4, 4, 0, none);

	/* a vote for another height, view or block does not count */
	*d = *c;
	d->height = 10;
	EXPECT_VERIFY(d, 4, 3, CH_E_BAD_SIGNATURE, "validator 0");
	*d = *c;
	d->view = 3;
	EXPECT_VERIFY(d, 4, 3, CH_E_BAD_SIGNATURE, none);
	*d = *c;
	d->block_hash[31] ^= 1;
	EXPECT_VERIFY(d, 4, 3, CH_E_BAD_SIGNATURE, none);

	/* one validator's vote twice, to make up the quorum */
	*d = *c;
	d->votes[1] = d->votes[0];
	EXPECT_VERIFY(d, 4, 3, CH_E_INVALID, "validator 0");
	/* descending */
	*d = *c;
	d->votes[0] = c->votes[1];
	d->votes[1] = c->votes[0];
	EXPECT_VERIFY(d, 4, 3, CH_E_INVALID, "validator 0");
	/* a validator that does not exist, at and beyond n */
	*d = *c;
	d->votes[2].validator = 4;
	EXPECT_VERIFY(d, 4, 3, CH_E_INVALID, "validator 4");
	d->votes[2].validator = UINT16_MAX;
	EXPECT_VERIFY(d, 4, 3, CH_E_INVALID, "validator 65535");
	/* the same certificate checked against a smaller set */
	EXPECT_VERIFY(c, 3, 3, CH_E_INVALID, "validator 3");

	/* forged: a flipped byte in r, in s, a vote relabelled, a high-S twin */
	*d = *c;
	d->votes[1].sig[10] ^= 1;
	EXPECT_VERIFY(d, 4, 3, CH_E_BAD_SIGNATURE, "validator 1");
	*d = *c;
	d->votes[2].sig[63] ^= 0x80;
	EXPECT_VERIFY(d, 4, 3, CH_E_BAD_SIGNATURE, "validator 3");
	*d = *c;
	d->votes[2].validator = 2; /* validator 3's signature claimed for validator 2 */
	EXPECT_VERIFY(d, 4, 3, CH_E_BAD_SIGNATURE, "validator 2");
	*d = *c;
	high_s(d->votes[0].sig);
	CHECK(memcmp(d->votes[0].sig, c->votes[0].sig, 64) != 0);
	EXPECT_VERIFY(d, 4, 3, CH_E_BAD_SIGNATURE, "validator 0");
	high_s(d->votes[0].sig); /* and back: the helper is an involution on valid input */
	EXPECT_VERIFY(d, 4, 3, 0, none);

	/* nonsense parameters are refused, not trusted */
	EXPECT_VERIFY(c, 4, 0, CH_E_INVALID, none);
	d->count = 0;
	EXPECT_VERIFY(d, 4, 0, CH_E_INVALID, none);
	EXPECT_VERIFY(d, 0, 0, CH_E_INVALID, none);
	EXPECT_VERIFY(c, 4, 5, CH_E_INVALID, none);
	*d = *c;
	d->count = CHAIN_MAX_VALIDATORS + 1;
	EXPECT_VERIFY(d, 4, 3, CH_E_INVALID, none);
	CHECK_EQ_INT(chain_cert_verify(c, PUBS, 4, 3, NULL), 0);
	free(c);
	free(d);
}

int
main(void)
{
	for (int i = 0; i < NKEYS; i++) {
		if (cr_key_generate(&keys[i], NULL) != 0)
			return 1;
		cr_key_pubkey(keys[i], pubs[i]);
	}
	RUN(test_roundtrip);
	RUN(test_prefixes_and_trailing);
	RUN(test_bad_header);
	RUN(test_bad_counts_and_lengths);
	RUN(test_tampering);
	RUN(test_vote_digest);
	RUN(test_cert_roundtrip);
	RUN(test_cert_verify);
	for (int i = 0; i < NKEYS; i++)
		cr_key_free(keys[i]);
	return TEST_DONE();
}
