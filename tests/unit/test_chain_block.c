#include <stdlib.h>

#include "chain/block.h"
#include "test.h"

static struct cr_key *keys[4];
static uint8_t pubs[4][CR_PUBKEY_LEN];

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
		t->type = CHAIN_TX_TRANSFER;
		t->nonce = i;
		t->amount = 1 + i;
		t->to[0] = (uint8_t)i;
		if (chain_tx_sign(t, keys[i % 4], NULL) != 0)
			abort();
	}
	chain_block_tx_root(b->txs, ntx, b->header.tx_root);
	chain_header_hash(&b->header, b->hash);
}

static void
test_roundtrip(void)
{
	for (uint32_t ntx = 0; ntx <= 5; ntx += 5) {
		struct chain_block b, c;
		struct ch_buf enc;
		struct ch_err e;
		make_block(&b, ntx);
		ch_buf_init(&enc);
		chain_block_encode(&b, &enc);
		REQUIRE(ch_buf_ok(&enc));
		REQUIRE(chain_block_decode(enc.data, enc.len, &c, &e) == 0);
		CHECK(memcmp(b.hash, c.hash, 32) == 0);
		CHECK(c.header.tx_count == ntx && c.header.height == 9 && c.header.view == 2);
		for (uint32_t i = 0; i < ntx; i++)
			CHECK(memcmp(b.txs[i].hash, c.txs[i].hash, 32) == 0);
		chain_block_close(&c); /* c is decoded into again below */
		/* every prefix and a trailing byte are refused */
		for (size_t n = 0; n < enc.len; n += 7)
			CHECK(chain_block_decode(enc.data, n, &c, &e) != 0);
		uint8_t *longer = malloc(enc.len + 1);
		memcpy(longer, enc.data, enc.len);
		longer[enc.len] = 0;
		CHECK(chain_block_decode(longer, enc.len + 1, &c, &e) == CH_E_BAD_ENCODING);
		free(longer);
		struct chain_header h;
		CHECK(chain_header_decode(enc.data, enc.len, &h, &e) != 0 || ntx == 0);
		ch_buf_close(&enc);
		chain_block_close(&b);
		chain_block_close(&c);
	}
}

static void
test_tampering(void)
{
	struct chain_block b, c;
	struct ch_buf enc;
	struct ch_err e;
	make_block(&b, 3);
	/* a root that does not match the transactions */
	b.header.tx_root[0] ^= 1;
	ch_buf_init(&enc);
	chain_block_encode(&b, &enc);
	CHECK(chain_block_decode(enc.data, enc.len, &c, &e) == CH_E_BLOCK_INVALID);
	b.header.tx_root[0] ^= 1;
	/* a tx_count far beyond the bytes is refused before allocating */
	b.header.tx_count = 90000;
	ch_buf_reset(&enc);
	chain_header_encode(&b.header, &enc);
	CHECK(chain_block_decode(enc.data, enc.len, &c, &e) == CH_E_BAD_ENCODING);
	b.header.tx_count = 3;
	/* the header hash commits to every field */
	uint8_t h1[32], h2[32];
	chain_header_hash(&b.header, h1);
	b.header.time_ms++;
	chain_header_hash(&b.header, h2);
	CHECK(memcmp(h1, h2, 32) != 0);
	ch_buf_close(&enc);
	chain_block_close(&b);
}

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

static void
test_certificates(void)
{
	struct chain_cert *c = calloc(1, sizeof(*c)), *d = calloc(1, sizeof(*d));
	struct ch_err e;
	c->height = 9;
	c->view = 2;
	memset(c->block_hash, 0x33, 32);
	vote(c, 0);
	vote(c, 1);
	CHECK(chain_cert_verify(c, (const uint8_t(*)[CR_PUBKEY_LEN])pubs, 4, 3, &e) == CH_E_BAD_SIGNATURE);
	vote(c, 3);
	CHECK(chain_cert_verify(c, (const uint8_t(*)[CR_PUBKEY_LEN])pubs, 4, 3, &e) == 0);
	struct ch_buf enc;
	ch_buf_init(&enc);
	chain_cert_encode(c, &enc);
	REQUIRE(chain_cert_decode(enc.data, enc.len, d, &e) == 0);
	CHECK(d->count == 3 && d->votes[2].validator == 3);
	CHECK(chain_cert_decode(enc.data, enc.len - 1, d, &e) == CH_E_BAD_ENCODING);
	/* a vote for another view does not count */
	*d = *c;
	d->view = 3;
	CHECK(chain_cert_verify(d, (const uint8_t(*)[CR_PUBKEY_LEN])pubs, 4, 3, &e) == CH_E_BAD_SIGNATURE);
	/* duplicates and out-of-range validators are refused */
	*d = *c;
	d->votes[1] = d->votes[0];
	CHECK(chain_cert_verify(d, (const uint8_t(*)[CR_PUBKEY_LEN])pubs, 4, 3, &e) == CH_E_INVALID);
	*d = *c;
	d->votes[2].validator = 7;
	CHECK(chain_cert_verify(d, (const uint8_t(*)[CR_PUBKEY_LEN])pubs, 4, 3, &e) == CH_E_INVALID);
	/* one forged signature breaks it */
	*d = *c;
	d->votes[1].sig[10] ^= 1;
	CHECK(chain_cert_verify(d, (const uint8_t(*)[CR_PUBKEY_LEN])pubs, 4, 3, &e) == CH_E_BAD_SIGNATURE);
	ch_buf_close(&enc);
	free(c);
	free(d);
}

int
main(void)
{
	for (int i = 0; i < 4; i++) {
		if (cr_key_generate(&keys[i], NULL) != 0)
			return 1;
		cr_key_pubkey(keys[i], pubs[i]);
	}
	RUN(test_roundtrip);
	RUN(test_tampering);
	RUN(test_certificates);
	for (int i = 0; i < 4; i++)
		cr_key_free(keys[i]);
	return TEST_DONE();
}
