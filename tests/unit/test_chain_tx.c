#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "chain/tx.h"
#include "test.h"

static struct cr_key *key;

static void
make_transfer(struct chain_tx *tx, uint64_t nonce, uint64_t amount)
{
	memset(tx, 0, sizeof(*tx));
	strcpy(tx->chain_id, "test-chain");
	tx->type = CHAIN_TX_TRANSFER;
	tx->nonce = nonce;
	memset(tx->to, 0xab, CR_ADDR_LEN);
	tx->amount = amount;
	if (chain_tx_sign(tx, key, NULL) != 0)
		abort();
}

static void
make_set(struct chain_tx *tx, const char *name, const char *value)
{
	memset(tx, 0, sizeof(*tx));
	strcpy(tx->chain_id, "test-chain");
	tx->type = CHAIN_TX_SET;
	tx->nonce = 7;
	strcpy(tx->name, name);
	tx->value_len = (uint16_t)strlen(value);
	memcpy(tx->value, value, tx->value_len);
	if (chain_tx_sign(tx, key, NULL) != 0)
		abort();
}

/*
 * A transaction written field by field, independently of chain_tx_encode,
 * so that each field can be made wrong on its own.
 */
struct raw {
	uint8_t version;
	uint8_t idlen;
	const char *id; /* idlen bytes */
	uint8_t type;
	uint8_t key_type;
	uint64_t nonce;
	uint64_t amount;
	uint8_t nlen;
	const char *name; /* nlen bytes */
	uint16_t vlen;
	const uint8_t *value; /* vlen bytes */
	bool no_value;        /* write vlen (alen) but not the value (address) bytes */
	/* validator: op | nlen | name (the id) | val_pub | alen | addr */
	uint8_t op;
	const uint8_t *val_pub; /* 33 bytes; NULL: all zero */
	uint8_t alen;
	const char *addr; /* alen bytes */
};

static uint8_t other_pub[CR_PUBKEY_LEN]; /* a real P-256 key besides the signer's (main) */

static void
raw_default(struct raw *w, uint8_t type)
{
	memset(w, 0, sizeof(*w));
	w->version = 1;
	w->id = "chain-1";
	w->idlen = 7;
	w->type = type;
	w->key_type = CR_KEY_P256;
	w->nonce = 5;
	w->amount = 10;
	w->name = "k";
	w->nlen = 1;
	w->value = (const uint8_t *)"v";
	w->vlen = 1;
	w->op = CHAIN_VAL_ADD;
	w->val_pub = other_pub;
	w->addr = "tcp://10.0.0.9:7000";
	w->alen = 19;
	if (type == CHAIN_TX_VALIDATOR) {
		w->name = "node-9";
		w->nlen = 6;
	}
}

static void
put_be(struct ch_buf *b, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
		ch_buf_u8(b, (uint8_t)(v >> (8 * i)));
}

static void
raw_encode(const struct raw *w, struct ch_buf *b)
{
	uint8_t pub[CR_PUBKEY_LEN], sig[CR_SIG_LEN], to[CR_ADDR_LEN];
	cr_key_pubkey(key, pub);
	memset(sig, 0x5a, sizeof(sig));
	memset(to, 0x11, sizeof(to));
	ch_buf_reset(b);
	ch_buf_u8(b, w->version);
	ch_buf_u8(b, w->idlen);
	ch_buf_put(b, w->id, w->idlen);
	ch_buf_u8(b, w->type);
	ch_buf_u8(b, w->key_type);
	ch_buf_put(b, pub, sizeof(pub));
	put_be(b, w->nonce, 8);
	if (w->type == CHAIN_TX_TRANSFER) {
		ch_buf_put(b, to, sizeof(to));
		put_be(b, w->amount, 8);
	} else if (w->type == CHAIN_TX_VALIDATOR) {
		static const uint8_t zero[CR_PUBKEY_LEN];
		ch_buf_u8(b, w->op);
		ch_buf_u8(b, w->nlen);
		ch_buf_put(b, w->name, w->nlen);
		ch_buf_put(b, w->val_pub != NULL ? w->val_pub : zero, CR_PUBKEY_LEN);
		ch_buf_u8(b, w->alen);
		if (!w->no_value)
			ch_buf_put(b, w->addr, w->alen);
	} else {
		ch_buf_u8(b, w->nlen);
		ch_buf_put(b, w->name, w->nlen);
		put_be(b, w->vlen, 2);
		if (!w->no_value)
			ch_buf_put(b, w->value, w->vlen);
	}
	ch_buf_put(b, sig, sizeof(sig));
}

/* raw_decode encodes w and decodes it; *e gets the error. */
static int
raw_decode(const struct raw *w, struct ch_err *e)
{
	struct ch_buf b;
	struct chain_tx t;
	ch_buf_init(&b);
	raw_encode(w, &b);
	ch_err_clear(e);
	int rc = chain_tx_decode(b.data, b.len, &t, e);
	ch_buf_close(&b);
	return rc;
}

/* EXPECT_BAD: decoding w fails with CH_E_BAD_ENCODING and a message containing what. */
#define EXPECT_BAD(w, what)                                                            \
	do {                                                                           \
		struct ch_err e_;                                                      \
		CHECK_EQ_INT(raw_decode(&(w), &e_), CH_E_BAD_ENCODING);                \
		CHECK_EQ_INT(e_.code, CH_E_BAD_ENCODING);                              \
		if (strstr(e_.msg, (what)) == NULL) {                                  \
			fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n",        \
				__FILE__, __LINE__, e_.msg, (what));                   \
			test_failed_checks++;                                          \
		}                                                                      \
	} while (0)

static void
test_roundtrip(void)
{
	static char long_id[CHAIN_MAX_CHAIN_ID + 1], long_name[CHAIN_MAX_NAME + 1];
	static char big_value[CHAIN_MAX_VALUE + 1];
	memset(long_id, 'c', CHAIN_MAX_CHAIN_ID);
	memset(long_name, 'n', CHAIN_MAX_NAME);
	memset(big_value, 'x', CHAIN_MAX_VALUE);
	uint8_t pub[CR_PUBKEY_LEN], addr[CR_ADDR_LEN];
	cr_key_pubkey(key, pub);
	cr_address(pub, addr);
	for (int kind = 0; kind < 5; kind++) {
		struct chain_tx a, b;
		struct ch_buf enc, again;
		struct ch_err e;
		if (kind == 0)
			make_transfer(&a, 3, 1000);
		else if (kind == 1)
			make_transfer(&a, UINT64_MAX - 1, UINT64_MAX);
		else if (kind == 2)
			make_set(&a, "greeting", "hello, chain \xc3\xa9 \xf0\x9f\x98\x80");
		else if (kind == 3)
			make_set(&a, "empty/value:ok", "");
		else
			make_set(&a, long_name, big_value);
		if (kind == 4) {
			strcpy(a.chain_id, long_id);
			REQUIRE(chain_tx_sign(&a, key, &e) == 0);
		}
		ch_buf_init(&enc);
		ch_buf_init(&again);
		chain_tx_encode(&a, &enc);
		REQUIRE(ch_buf_ok(&enc));
		REQUIRE(enc.len <= CHAIN_MAX_TX_BYTES);
		CHECK_EQ_INT(enc.len, a.size);
		REQUIRE(chain_tx_decode(enc.data, enc.len, &b, &e) == 0);
		CHECK_EQ_INT(b.size, enc.len);
		CHECK(memcmp(a.hash, b.hash, 32) == 0);
		CHECK(memcmp(b.sender, addr, 20) == 0 && memcmp(a.sender, addr, 20) == 0);
		CHECK(memcmp(b.pubkey, pub, 33) == 0);
		CHECK(b.nonce == a.nonce && b.type == a.type);
		CHECK(strcmp(b.chain_id, a.chain_id) == 0);
		CHECK(memcmp(b.sig, a.sig, 64) == 0);
		CHECK(chain_tx_verify(&b, &e) == 0);
		if (a.type == CHAIN_TX_SET) {
			CHECK(strcmp(b.name, a.name) == 0);
			CHECK(b.value_len == a.value_len && memcmp(b.value, a.value, a.value_len) == 0);
			CHECK(b.value[b.value_len] == 0);
		} else {
			CHECK(b.amount == a.amount && memcmp(b.to, a.to, 20) == 0);
		}
		uint8_t h[32];
		cr_sha256(enc.data, enc.len, h);
		CHECK(memcmp(h, b.hash, 32) == 0);
		chain_tx_encode(&b, &again);
		CHECK(again.len == enc.len && memcmp(again.data, enc.data, enc.len) == 0);
		ch_buf_close(&enc);
		ch_buf_close(&again);
	}
}

/* The byte layout of the header comment, and the signed digest, pinned down. */
static void
test_layout_and_sighash(void)
{
	struct chain_tx a;
	make_transfer(&a, 0x0102030405060708ull, 0x1112131415161718ull);
	struct ch_buf enc;
	ch_buf_init(&enc);
	chain_tx_encode(&a, &enc);
	REQUIRE(enc.len == 1 + 1 + 10 + 1 + 1 + 33 + 8 + 20 + 8 + 64);
	const uint8_t *p = enc.data;
	CHECK(p[0] == 1 && p[1] == 10 && memcmp(p + 2, "test-chain", 10) == 0);
	CHECK(p[12] == CHAIN_TX_TRANSFER && p[13] == CR_KEY_P256);
	CHECK(memcmp(p + 14, a.pubkey, 33) == 0);
	static const uint8_t nonce_be[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t amount_be[8] = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
	CHECK(memcmp(p + 47, nonce_be, 8) == 0);
	CHECK(memcmp(p + 55, a.to, 20) == 0);
	CHECK(memcmp(p + 75, amount_be, 8) == 0);
	CHECK(memcmp(p + 83, a.sig, 64) == 0);

	/* sighash = SHA-256("chaind/tx/v1" 0x00 || encoding without signature) */
	struct ch_buf pre;
	ch_buf_init(&pre);
	ch_buf_put(&pre, "chaind/tx/v1", 12);
	ch_buf_u8(&pre, 0);
	ch_buf_put(&pre, enc.data, enc.len - CR_SIG_LEN);
	uint8_t want[32], got[32];
	cr_sha256(pre.data, pre.len, want);
	chain_tx_sighash(&a, got);
	CHECK(memcmp(want, got, 32) == 0);
	CHECK(cr_verify(a.pubkey, want, a.sig));
	/* the hash covers the signature, the sighash does not */
	cr_sha256(enc.data, enc.len - CR_SIG_LEN, got);
	CHECK(memcmp(got, a.hash, 32) != 0);
	ch_buf_close(&pre);
	ch_buf_close(&enc);

	struct chain_tx s;
	make_set(&s, "ab", "xyz");
	ch_buf_init(&enc);
	chain_tx_encode(&s, &enc);
	REQUIRE(enc.len == 1 + 1 + 10 + 1 + 1 + 33 + 8 + 1 + 2 + 2 + 3 + 64);
	p = enc.data + 55;
	CHECK(p[0] == 2 && memcmp(p + 1, "ab", 2) == 0 && p[3] == 0 && p[4] == 3 &&
	      memcmp(p + 5, "xyz", 3) == 0);
	ch_buf_close(&enc);
}

static void
check_prefixes(const struct chain_tx *a)
{
	struct chain_tx b;
	struct ch_buf enc;
	struct ch_err e;
	ch_buf_init(&enc);
	chain_tx_encode(a, &enc);
	REQUIRE(ch_buf_ok(&enc));
	/* every proper prefix, including empty input with a NULL pointer */
	CHECK_EQ_INT(chain_tx_decode(NULL, 0, &b, &e), CH_E_BAD_ENCODING);
	for (size_t n = 0; n < enc.len; n++) {
		uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan sees over-reads */
		memcpy(copy, enc.data, n);
		CHECK_EQ_INT(chain_tx_decode(copy, n, &b, &e), CH_E_BAD_ENCODING);
		free(copy);
	}
	/* one trailing byte */
	ch_buf_u8(&enc, 0);
	CHECK_EQ_INT(chain_tx_decode(enc.data, enc.len, &b, &e), CH_E_BAD_ENCODING);
	CHECK(strstr(e.msg, "trailing") != NULL);
	/* padded past the limit: refused unread, as too large */
	uint8_t big[CHAIN_MAX_TX_BYTES + 1];
	memset(big, 0, sizeof(big));
	memcpy(big, enc.data, enc.len - 1);
	CHECK_EQ_INT(chain_tx_decode(big, sizeof(big), &b, &e), CH_E_TOO_LARGE);
	CHECK_EQ_INT(e.code, CH_E_TOO_LARGE);
	ch_buf_close(&enc);
}

static void
test_truncation_and_trailing(void)
{
	struct chain_tx a;
	make_transfer(&a, 1, 2);
	check_prefixes(&a);
	make_set(&a, "k", "v");
	check_prefixes(&a);
	make_set(&a, "name", "");
	check_prefixes(&a);
}

/* The raw encoder produces valid transactions, so each rejection below is the one field. */
static void
test_raw_control(void)
{
	struct raw w;
	struct ch_err e;
	raw_default(&w, CHAIN_TX_TRANSFER);
	CHECK_EQ_INT(raw_decode(&w, &e), 0);
	raw_default(&w, CHAIN_TX_SET);
	CHECK_EQ_INT(raw_decode(&w, &e), 0);
	w.id = "Az09._-";
	CHECK_EQ_INT(raw_decode(&w, &e), 0);
	w.name = "Az09._:/-";
	w.nlen = 9;
	w.value = (const uint8_t *)" ~\xc2\xa0\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf";
	w.vlen = 15;
	CHECK_EQ_INT(raw_decode(&w, &e), 0);
	w.vlen = 0;
	CHECK_EQ_INT(raw_decode(&w, &e), 0);
	static uint8_t full[CHAIN_MAX_VALUE];
	memset(full, 'z', sizeof(full));
	w.value = full;
	w.vlen = CHAIN_MAX_VALUE;
	CHECK_EQ_INT(raw_decode(&w, &e), 0);
}

static void
test_bad_header_fields(void)
{
	struct raw w;
	char id65[255];
	memset(id65, 'a', sizeof(id65));

	raw_default(&w, CHAIN_TX_TRANSFER);
	w.version = 0;
	EXPECT_BAD(w, "version 0");
	w.version = 2;
	EXPECT_BAD(w, "version 2");

	raw_default(&w, CHAIN_TX_TRANSFER);
	w.idlen = 0;
	EXPECT_BAD(w, "tx: chain id length 0 (must be 1..64)");
	w.id = id65;
	w.idlen = 65;
	EXPECT_BAD(w, "chain id length 65");
	w.idlen = 255;
	EXPECT_BAD(w, "chain id length 255");
	w.idlen = 64;
	struct ch_err e;
	CHECK_EQ_INT(raw_decode(&w, &e), 0);

	static const char *bad_ids[] = {"a b", "a\0b", "a/b", "a:b", "\x80", "a\x7f", "\xc3\xa9"};
	static const uint8_t bad_id_lens[] = {3, 3, 3, 3, 1, 2, 2};
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		raw_default(&w, CHAIN_TX_TRANSFER);
		w.id = bad_ids[i];
		w.idlen = bad_id_lens[i];
		EXPECT_BAD(w, "chain id");
	}

	raw_default(&w, CHAIN_TX_TRANSFER);
	w.type = 0;
	EXPECT_BAD(w, "type 0");
	w.type = 4; /* 3 is a validator change */
	EXPECT_BAD(w, "type 4");
	w.type = 255;
	EXPECT_BAD(w, "type 255");

	raw_default(&w, CHAIN_TX_SET);
	w.key_type = 0;
	EXPECT_BAD(w, "key type 0");
	w.key_type = 2;
	EXPECT_BAD(w, "key type 2");
}

static void
test_bad_body_fields(void)
{
	struct raw w;
	raw_default(&w, CHAIN_TX_TRANSFER);
	w.amount = 0;
	EXPECT_BAD(w, "amount 0");

	raw_default(&w, CHAIN_TX_TRANSFER);
	w.nonce = UINT64_MAX; /* the next nonce would not fit */
	EXPECT_BAD(w, "nonce");

	char name65[66];
	memset(name65, 'n', sizeof(name65));
	raw_default(&w, CHAIN_TX_SET);
	w.nlen = 0;
	EXPECT_BAD(w, "name length 0");
	w.name = name65;
	w.nlen = 65;
	EXPECT_BAD(w, "name length 65");

	static const char *bad_names[] = {"a b", "a\0", "a\\b", "a?", "\xc3\xa9", "a\n"};
	static const uint8_t bad_name_lens[] = {3, 2, 3, 2, 2, 2};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		raw_default(&w, CHAIN_TX_SET);
		w.name = bad_names[i];
		w.nlen = bad_name_lens[i];
		EXPECT_BAD(w, "name byte");
	}

	static uint8_t big[CHAIN_MAX_VALUE + 1];
	memset(big, 'v', sizeof(big));
	raw_default(&w, CHAIN_TX_SET);
	w.value = big;
	w.vlen = CHAIN_MAX_VALUE + 1;
	EXPECT_BAD(w, "value length 1025");
	w.vlen = 0xffff;
	w.no_value = true; /* a short input: still a length error, and nothing over-read */
	EXPECT_BAD(w, "value length 65535");

	static const char *bad_values[] = {
		"\x00",         /* NUL */
		"a\x1f",        /* C0 control */
		"a\nb",         /* newline */
		"\x7f",         /* DEL */
		"\xc2\x85",     /* C1 control (NEL) */
		"\xff",         /* never valid in UTF-8 */
		"\x80",         /* lone continuation byte */
		"\xc0\xaf",     /* overlong '/' */
		"\xe0\x80\xaf", /* overlong, 3 bytes */
		"\xed\xa0\x80", /* surrogate */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"a\xe2\x82",    /* sequence cut by the end of the value */
		"\xe2\x28\xa1", /* bad continuation */
	};
	static const uint16_t bad_value_lens[] = {1, 2, 3, 1, 2, 1, 1, 2, 3, 3, 4, 3, 3};
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		raw_default(&w, CHAIN_TX_SET);
		w.value = (const uint8_t *)bad_values[i];
		w.vlen = bad_value_lens[i];
		EXPECT_BAD(w, "value byte");
		CHECK(!chain_value_valid(w.value, w.vlen));
	}
}

/* Flipping any bit of a signed encoding changes the hash and breaks the signature. */
static void
check_flips(const struct chain_tx *a)
{
	struct ch_buf enc;
	ch_buf_init(&enc);
	chain_tx_encode(a, &enc);
	REQUIRE(ch_buf_ok(&enc));
	int decoded = 0;
	for (size_t i = 0; i < enc.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			struct chain_tx b;
			struct ch_err e;
			enc.data[i] ^= (uint8_t)(1u << bit);
			int rc = chain_tx_decode(enc.data, enc.len, &b, &e);
			if (rc == 0) {
				decoded++;
				CHECK(memcmp(b.hash, a->hash, 32) != 0);
				CHECK_EQ_INT(chain_tx_verify(&b, &e), CH_E_BAD_SIGNATURE);
			} else {
				CHECK_EQ_INT(rc, CH_E_BAD_ENCODING);
			}
			enc.data[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* most flips (nonce, key, body, signature) still decode: the loop checked something */
	CHECK(decoded > (int)enc.len * 4);
	ch_buf_close(&enc);
}

static void
test_flips(void)
{
	struct chain_tx a;
	make_transfer(&a, 9, 77);
	check_flips(&a);
	make_set(&a, "key", "value");
	check_flips(&a);
}

/* plain_verify checks (r, s) with OpenSSL's ECDSA, which has no low-S rule. */
static int
plain_verify(const uint8_t pub[33], const uint8_t digest[32], const uint8_t sig[64])
{
	char group[] = "prime256v1";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, 33),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *vc = NULL;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
	unsigned char *der = NULL;
	int ok = -1, derlen;
	if (pc == NULL || es == NULL || r == NULL || s == NULL || EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;
	if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0 || (vc = EVP_PKEY_CTX_new(pk, NULL)) == NULL ||
	    EVP_PKEY_verify_init(vc) != 1)
		goto out;
	ok = EVP_PKEY_verify(vc, der, (size_t)derlen, digest, 32) == 1;
out:
	OPENSSL_free(der);
	EVP_PKEY_CTX_free(vc);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(pk);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	return ok;
}

/* The twin (r, n - s) of a valid signature is valid ECDSA, and must still be refused. */
static void
test_high_s_rejected(void)
{
	BIGNUM *n = NULL, *s = BN_new(), *half = BN_new();
	REQUIRE(BN_hex2bn(&n, "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551") > 0);
	REQUIRE(s != NULL && half != NULL && BN_rshift1(half, n) == 1);
	for (int round = 0; round < 8; round++) {
		struct chain_tx a, b;
		struct ch_buf enc;
		struct ch_err e;
		make_transfer(&a, (uint64_t)round, 1);
		uint8_t d[32];
		chain_tx_sighash(&a, d);
		REQUIRE(BN_bin2bn(a.sig + 32, 32, s) != NULL);
		CHECK(BN_cmp(s, half) <= 0); /* cr_sign produced low-S */
		CHECK_EQ_INT(plain_verify(a.pubkey, d, a.sig), 1);
		REQUIRE(BN_sub(s, n, s) == 1);
		b = a;
		REQUIRE(BN_bn2binpad(s, b.sig + 32, 32) == 32);
		CHECK(BN_cmp(s, half) > 0);
		CHECK_EQ_INT(plain_verify(b.pubkey, d, b.sig), 1); /* a real twin */
		CHECK_EQ_INT(chain_tx_verify(&b, &e), CH_E_BAD_SIGNATURE);
		/* through the decoder too: it parses, the hash differs, it does not verify */
		ch_buf_init(&enc);
		chain_tx_encode(&b, &enc);
		struct chain_tx c;
		REQUIRE(chain_tx_decode(enc.data, enc.len, &c, &e) == 0);
		CHECK(memcmp(c.hash, a.hash, 32) != 0);
		CHECK_EQ_INT(chain_tx_verify(&c, &e), CH_E_BAD_SIGNATURE);
		ch_buf_close(&enc);
	}
	BN_free(n);
	BN_free(s);
	BN_free(half);
}

static void
test_sign_checks_fields(void)
{
	struct chain_tx t;
	struct ch_err e;
	memset(&t, 0, sizeof(t));
	strcpy(t.chain_id, "c");
	t.type = CHAIN_TX_TRANSFER;
	t.amount = 0;
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), CH_E_TX_INVALID);
	CHECK(strstr(e.msg, "amount") != NULL);
	t.amount = 1;
	strcpy(t.chain_id, "bad id");
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), CH_E_TX_INVALID);
	CHECK(strstr(e.msg, "chain id byte 3") != NULL);
	strcpy(t.chain_id, "");
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), CH_E_TX_INVALID);
	CHECK(strstr(e.msg, "chain id length 0") != NULL);
	memset(t.chain_id, 'a', sizeof(t.chain_id)); /* not NUL-terminated: 65 characters */
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), CH_E_TX_INVALID);
	strcpy(t.chain_id, "c");
	t.nonce = UINT64_MAX;
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), CH_E_TX_INVALID);
	t.nonce = 0;
	t.type = 9;
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), CH_E_TX_INVALID);
	CHECK(strstr(e.msg, "type 9") != NULL);
	t.type = CHAIN_TX_SET;
	strcpy(t.name, "no spaces");
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), CH_E_TX_INVALID);
	strcpy(t.name, "");
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), CH_E_TX_INVALID);
	strcpy(t.name, "ok:name/1");
	t.value_len = CHAIN_MAX_VALUE + 1;
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), CH_E_TX_INVALID);
	t.value_len = 1;
	t.value[0] = 0x07;
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), CH_E_TX_INVALID);
	CHECK(strstr(e.msg, "value") != NULL);
	CHECK_EQ_INT(chain_tx_check_fields(&t, &e), CH_E_TX_INVALID);
	t.value[0] = 'x';
	t.value[1] = 'y'; /* beyond value_len: ignored, and terminated by sign */
	CHECK_EQ_INT(chain_tx_check_fields(&t, &e), 0);
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), 0);
	CHECK(t.value[1] == 0);
	/* sign fills hash, sender and size as decode would */
	struct ch_buf enc;
	struct chain_tx d;
	ch_buf_init(&enc);
	chain_tx_encode(&t, &enc);
	REQUIRE(chain_tx_decode(enc.data, enc.len, &d, &e) == 0);
	CHECK(memcmp(d.hash, t.hash, 32) == 0 && memcmp(d.sender, t.sender, 20) == 0);
	CHECK(d.size == t.size);
	ch_buf_close(&enc);
	/* errors are optional */
	t.amount = 0;
	t.type = CHAIN_TX_TRANSFER;
	CHECK_EQ_INT(chain_tx_sign(&t, key, NULL), CH_E_TX_INVALID);
	CHECK_EQ_INT(chain_tx_decode(NULL, 0, &d, NULL), CH_E_BAD_ENCODING);
}

static void
test_charset_helpers(void)
{
	CHECK(chain_value_valid((const uint8_t *)"\xe2\x82\xac", 3)); /* euro sign */
	CHECK(chain_value_valid((const uint8_t *)"", 0));
	CHECK(!chain_value_valid((const uint8_t *)"\xc0\xaf", 2));
	CHECK(!chain_value_valid((const uint8_t *)"\xed\xa0\x80", 3));
	CHECK(!chain_value_valid((const uint8_t *)"\xe2\x82", 2));
	static uint8_t big[CHAIN_MAX_VALUE + 1];
	memset(big, 'a', sizeof(big));
	CHECK(chain_value_valid(big, CHAIN_MAX_VALUE) && !chain_value_valid(big, CHAIN_MAX_VALUE + 1));
	CHECK(chain_name_valid("a", 1) && !chain_name_valid("", 0));
	CHECK(chain_name_valid("a:b/c", 5) && !chain_id_valid("a:b/c", 5));
	char longname[CHAIN_MAX_NAME + 2];
	memset(longname, 'a', sizeof(longname));
	CHECK(chain_name_valid(longname, CHAIN_MAX_NAME));
	CHECK(!chain_name_valid(longname, CHAIN_MAX_NAME + 1));
	CHECK(chain_id_valid(longname, CHAIN_MAX_CHAIN_ID));
	CHECK(!chain_id_valid(longname, CHAIN_MAX_CHAIN_ID + 1));
	CHECK(!chain_id_valid("", 0) && !chain_id_valid("a\0", 2));
	CHECK(strcmp(chain_tx_type_name(CHAIN_TX_TRANSFER), "transfer") == 0);
	CHECK(strcmp(chain_tx_type_name(CHAIN_TX_SET), "set") == 0);
	CHECK(strcmp(chain_tx_type_name(CHAIN_TX_VALIDATOR), "validator") == 0);
	CHECK(strcmp(chain_tx_type_name(0), "unknown") == 0);
	CHECK(strcmp(chain_val_op_name(CHAIN_VAL_ADD), "add") == 0);
	CHECK(strcmp(chain_val_op_name(CHAIN_VAL_REMOVE), "remove") == 0);
	CHECK(strcmp(chain_val_op_name(CHAIN_VAL_REKEY), "rekey") == 0);
	CHECK(strcmp(chain_val_op_name(0), "unknown") == 0 &&
	      strcmp(chain_val_op_name(4), "unknown") == 0);
}

static void
test_signature_binds_chain_and_key(void)
{
	struct chain_tx a;
	make_transfer(&a, 1, 5);
	struct ch_err e;
	CHECK(chain_tx_verify(&a, &e) == 0);
	struct chain_tx b = a;
	strcpy(b.chain_id, "other-chain");
	CHECK_EQ_INT(chain_tx_verify(&b, &e), CH_E_BAD_SIGNATURE);
	b = a;
	b.amount = 6;
	CHECK_EQ_INT(chain_tx_verify(&b, &e), CH_E_BAD_SIGNATURE);
	b = a;
	b.nonce = 2;
	CHECK_EQ_INT(chain_tx_verify(&b, &e), CH_E_BAD_SIGNATURE);
	struct cr_key *k2 = NULL;
	REQUIRE(cr_key_generate(&k2, NULL) == 0);
	b = a;
	cr_key_pubkey(k2, b.pubkey);
	CHECK_EQ_INT(chain_tx_verify(&b, &e), CH_E_BAD_SIGNATURE);
	/* the same fields signed by another key: another sender and hash */
	b = a;
	REQUIRE(chain_tx_sign(&b, k2, &e) == 0);
	CHECK(chain_tx_verify(&b, &e) == 0);
	CHECK(memcmp(b.sender, a.sender, 20) != 0 && memcmp(b.hash, a.hash, 32) != 0);
	cr_key_free(k2);
}

/* ---- validator changes ---- */

/*
 * fill_validator fills tx with a validator change of op on id, with key pub
 * (NULL: all zero) and address addr (NULL: none), unsigned.
 */
static void
fill_validator(struct chain_tx *tx, uint8_t op, const char *id, const uint8_t *pub,
	       const char *addr)
{
	memset(tx, 0, sizeof(*tx));
	strcpy(tx->chain_id, "test-chain");
	tx->type = CHAIN_TX_VALIDATOR;
	tx->nonce = 11;
	tx->val_op = op;
	snprintf(tx->name, sizeof(tx->name), "%s", id);
	if (pub != NULL)
		memcpy(tx->val_pub, pub, CR_PUBKEY_LEN);
	if (addr != NULL) {
		tx->value_len = (uint16_t)strlen(addr);
		memcpy(tx->value, addr, tx->value_len);
	}
}

static void
make_validator(struct chain_tx *tx, uint8_t op, const char *id, const uint8_t *pub,
	       const char *addr)
{
	struct ch_err e;
	fill_validator(tx, op, id, pub, addr);
	if (chain_tx_sign(tx, key, &e) != 0) {
		fprintf(stderr, "make_validator: %s\n", e.msg);
		abort();
	}
}

static void
test_validator_roundtrip(void)
{
	static char id63[CHAIN_MAX_VAL_ID + 1], addr127[CHAIN_MAX_VAL_ADDR + 1];
	memset(id63, 'i', CHAIN_MAX_VAL_ID);
	memset(addr127, 'a', CHAIN_MAX_VAL_ADDR);
	static const uint8_t zero[CR_PUBKEY_LEN];
	const struct {
		uint8_t op;
		const char *id;
		const uint8_t *pub;
		const char *addr;
	} cases[] = {
		{CHAIN_VAL_ADD, "node-4", other_pub, "tcp://10.0.0.4:7000"},
		{CHAIN_VAL_REMOVE, "node-1", NULL, NULL},
		{CHAIN_VAL_REKEY, "node-2", other_pub, NULL},
		{CHAIN_VAL_ADD, id63, other_pub, addr127}, /* the longest id and address */
		{CHAIN_VAL_ADD, "Az09._:/-", other_pub, "Az09._:/-"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct chain_tx a, b;
		struct ch_buf enc, again;
		struct ch_err e;
		make_validator(&a, cases[i].op, cases[i].id, cases[i].pub, cases[i].addr);
		ch_buf_init(&enc);
		ch_buf_init(&again);
		chain_tx_encode(&a, &enc);
		REQUIRE(ch_buf_ok(&enc));
		CHECK(enc.len <= CHAIN_MAX_TX_BYTES && enc.len >= CHAIN_MIN_TX_BYTES);
		CHECK_EQ_INT(enc.len, a.size);
		REQUIRE(chain_tx_decode(enc.data, enc.len, &b, &e) == 0);
		CHECK(b.type == CHAIN_TX_VALIDATOR && b.val_op == cases[i].op);
		CHECK(strcmp(b.name, cases[i].id) == 0);
		const uint8_t *pub = cases[i].pub != NULL ? cases[i].pub : zero;
		CHECK(memcmp(b.val_pub, pub, CR_PUBKEY_LEN) == 0);
		size_t alen = cases[i].addr != NULL ? strlen(cases[i].addr) : 0;
		CHECK(b.value_len == alen && memcmp(b.value, a.value, alen) == 0);
		CHECK(b.value[b.value_len] == 0);
		CHECK(b.nonce == a.nonce && memcmp(b.pubkey, a.pubkey, CR_PUBKEY_LEN) == 0);
		CHECK(memcmp(b.hash, a.hash, 32) == 0 && memcmp(b.sender, a.sender, 20) == 0);
		CHECK(memcmp(b.sig, a.sig, 64) == 0);
		CHECK_EQ_INT(chain_tx_verify(&b, &e), 0);
		CHECK_EQ_INT(chain_tx_check_fields(&b, &e), 0);
		chain_tx_encode(&b, &again);
		CHECK(again.len == enc.len && memcmp(again.data, enc.data, enc.len) == 0);
		ch_buf_close(&enc);
		ch_buf_close(&again);
	}
	/* the signature covers the op, the id, the key and the address */
	struct chain_tx a, b;
	struct ch_err e;
	make_validator(&a, CHAIN_VAL_ADD, "node-4", other_pub, "tcp://h:1");
	b = a;
	b.val_op = CHAIN_VAL_REKEY;
	b.value_len = 0;
	CHECK_EQ_INT(chain_tx_verify(&b, &e), CH_E_BAD_SIGNATURE);
	b = a;
	b.name[5] = '5';
	CHECK_EQ_INT(chain_tx_verify(&b, &e), CH_E_BAD_SIGNATURE);
	b = a;
	b.val_pub[CR_PUBKEY_LEN - 1] ^= 1;
	CHECK_EQ_INT(chain_tx_verify(&b, &e), CH_E_BAD_SIGNATURE);
	b = a;
	b.value[8] = '2';
	CHECK_EQ_INT(chain_tx_verify(&b, &e), CH_E_BAD_SIGNATURE);
}

/* The validator body's bytes, as tx.h lays them out. */
static void
test_validator_layout(void)
{
	struct chain_tx a;
	struct ch_buf enc;
	make_validator(&a, CHAIN_VAL_ADD, "ab", other_pub, "t:1");
	ch_buf_init(&enc);
	chain_tx_encode(&a, &enc);
	REQUIRE(enc.len == 55 + 1 + 1 + 2 + 33 + 1 + 3 + 64);
	const uint8_t *p = enc.data;
	CHECK(p[12] == CHAIN_TX_VALIDATOR);
	p += 55;
	CHECK(p[0] == CHAIN_VAL_ADD && p[1] == 2 && memcmp(p + 2, "ab", 2) == 0);
	CHECK(memcmp(p + 4, other_pub, CR_PUBKEY_LEN) == 0);
	CHECK(p[37] == 3 && memcmp(p + 38, "t:1", 3) == 0);
	CHECK(memcmp(p + 41, a.sig, 64) == 0);
	ch_buf_close(&enc);

	make_validator(&a, CHAIN_VAL_REMOVE, "ab", NULL, NULL);
	ch_buf_init(&enc);
	chain_tx_encode(&a, &enc);
	REQUIRE(enc.len == 55 + 1 + 1 + 2 + 33 + 1 + 64);
	p = enc.data + 55;
	static const uint8_t zero[CR_PUBKEY_LEN];
	CHECK(p[0] == CHAIN_VAL_REMOVE && p[1] == 2 && memcmp(p + 4, zero, CR_PUBKEY_LEN) == 0);
	CHECK(p[37] == 0);
	ch_buf_close(&enc);
}

static void
test_validator_truncation(void)
{
	static char id63[CHAIN_MAX_VAL_ID + 1], addr127[CHAIN_MAX_VAL_ADDR + 1];
	memset(id63, 'i', CHAIN_MAX_VAL_ID);
	memset(addr127, 'a', CHAIN_MAX_VAL_ADDR);
	struct chain_tx a;
	make_validator(&a, CHAIN_VAL_ADD, "node-4", other_pub, "tcp://10.0.0.4:7000");
	check_prefixes(&a);
	make_validator(&a, CHAIN_VAL_ADD, id63, other_pub, addr127);
	check_prefixes(&a);
	make_validator(&a, CHAIN_VAL_REMOVE, "node-1", NULL, NULL);
	check_prefixes(&a);
	make_validator(&a, CHAIN_VAL_REKEY, "node-2", other_pub, NULL);
	check_prefixes(&a);

	/* an address length past the end of the input: truncated, nothing over-read */
	struct raw w;
	raw_default(&w, CHAIN_TX_VALIDATOR);
	w.alen = 100;
	w.no_value = true; /* the 64 signature bytes are all that follows */
	EXPECT_BAD(w, "truncated");
}

static void
test_validator_bad_body(void)
{
	struct raw w;
	struct ch_err e;
	char id64[CHAIN_MAX_VAL_ID + 1], addr128[CHAIN_MAX_VAL_ADDR + 1];
	static char big[256];
	memset(id64, 'i', sizeof(id64));
	memset(addr128, 'a', sizeof(addr128));
	memset(big, 'b', sizeof(big));

	/* the control: valid additions, removals and rekeys decode */
	raw_default(&w, CHAIN_TX_VALIDATOR);
	CHECK_EQ_INT(raw_decode(&w, &e), 0);
	w.name = id64;
	w.nlen = CHAIN_MAX_VAL_ID;
	w.addr = addr128;
	w.alen = CHAIN_MAX_VAL_ADDR;
	CHECK_EQ_INT(raw_decode(&w, &e), 0);
	raw_default(&w, CHAIN_TX_VALIDATOR);
	w.op = CHAIN_VAL_REMOVE;
	w.val_pub = NULL;
	w.alen = 0;
	CHECK_EQ_INT(raw_decode(&w, &e), 0);
	w.op = CHAIN_VAL_REKEY;
	w.val_pub = other_pub;
	CHECK_EQ_INT(raw_decode(&w, &e), 0);

	/* id lengths */
	raw_default(&w, CHAIN_TX_VALIDATOR);
	w.nlen = 0;
	EXPECT_BAD(w, "validator id length 0 (must be 1..63)");
	w.name = id64;
	w.nlen = CHAIN_MAX_VAL_ID + 1;
	EXPECT_BAD(w, "validator id length 64");
	w.name = big;
	w.nlen = 255;
	EXPECT_BAD(w, "validator id length 255");

	/* address lengths */
	raw_default(&w, CHAIN_TX_VALIDATOR);
	w.addr = addr128;
	w.alen = CHAIN_MAX_VAL_ADDR + 1;
	EXPECT_BAD(w, "validator address length 128 (must be 0..127)");
	w.addr = big;
	w.alen = 255;
	EXPECT_BAD(w, "validator address length 255");
	w.no_value = true;
	EXPECT_BAD(w, "validator address length 255");

	/* ops */
	static const uint8_t bad_ops[] = {0, 4, 255};
	for (size_t i = 0; i < sizeof(bad_ops); i++) {
		char want[48];
		raw_default(&w, CHAIN_TX_VALIDATOR);
		w.op = bad_ops[i];
		snprintf(want, sizeof(want), "validator change op %u", bad_ops[i]);
		EXPECT_BAD(w, want);
	}

	/* what each op may carry */
	raw_default(&w, CHAIN_TX_VALIDATOR);
	w.op = CHAIN_VAL_REMOVE;
	w.alen = 0; /* a key, no address */
	EXPECT_BAD(w, "a validator removal carries no key");
	w.val_pub = NULL;
	w.alen = 19; /* no key, an address */
	EXPECT_BAD(w, "only a validator addition carries an address");
	raw_default(&w, CHAIN_TX_VALIDATOR);
	w.op = CHAIN_VAL_REKEY; /* a key and an address */
	EXPECT_BAD(w, "only a validator addition carries an address");
	w.alen = 0;
	w.val_pub = NULL; /* no key */
	EXPECT_BAD(w, "compressed P-256 point");
	raw_default(&w, CHAIN_TX_VALIDATOR);
	w.alen = 0; /* an addition without an address */
	EXPECT_BAD(w, "validator address must be 1..127 bytes");
	w.alen = 19;
	w.val_pub = NULL; /* or without a key */
	EXPECT_BAD(w, "compressed P-256 point");
	uint8_t uncompressed[CR_PUBKEY_LEN];
	memcpy(uncompressed, other_pub, CR_PUBKEY_LEN);
	uncompressed[0] = 0x04;
	w.val_pub = uncompressed;
	EXPECT_BAD(w, "compressed P-256 point");

	/* ids and addresses: the name charset, and no NUL */
	static const char *bad_ids[] = {"a b", "a\\b", "a?", "\xc3\xa9", "a\n"};
	static const uint8_t bad_id_lens[] = {3, 3, 2, 2, 2};
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		raw_default(&w, CHAIN_TX_VALIDATOR);
		w.name = bad_ids[i];
		w.nlen = bad_id_lens[i];
		EXPECT_BAD(w, "validator id must be");
	}
	raw_default(&w, CHAIN_TX_VALIDATOR);
	w.name = "a\0b";
	w.nlen = 3;
	EXPECT_BAD(w, "NUL in the validator id");
	w.name = "ab\0";
	EXPECT_BAD(w, "NUL in the validator id");
	static const char *bad_addrs[] = {"tcp://a b", "tcp://a\0b", "tcp://\xc3\xa9", "a\n", "a?"};
	static const uint8_t bad_addr_lens[] = {9, 9, 8, 2, 2};
	for (size_t i = 0; i < sizeof(bad_addrs) / sizeof(bad_addrs[0]); i++) {
		raw_default(&w, CHAIN_TX_VALIDATOR);
		w.addr = bad_addrs[i];
		w.alen = bad_addr_lens[i];
		EXPECT_BAD(w, "validator address must be");
	}
}

/* EXPECT_FIELDS_BAD: tx fails check_fields and sign with CH_E_TX_INVALID naming what, unsigned. */
#define EXPECT_FIELDS_BAD(tx, what)                                                    \
	do {                                                                           \
		struct ch_err e_;                                                      \
		static const uint8_t nosig_[CR_SIG_LEN];                               \
		CHECK_EQ_INT(chain_tx_check_fields(&(tx), &e_), CH_E_TX_INVALID);      \
		if (strstr(e_.msg, (what)) == NULL) {                                  \
			fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n",        \
				__FILE__, __LINE__, e_.msg, (what));                   \
			test_failed_checks++;                                          \
		}                                                                      \
		CHECK_EQ_INT(chain_tx_sign(&(tx), key, &e_), CH_E_TX_INVALID);         \
		CHECK_EQ_INT(e_.code, CH_E_TX_INVALID);                                \
		CHECK(memcmp((tx).sig, nosig_, CR_SIG_LEN) == 0);                      \
	} while (0)

static void
test_validator_check_fields(void)
{
	struct chain_tx t;
	struct ch_err e;
	char id64[CHAIN_MAX_VAL_ID + 2];
	memset(id64, 'i', sizeof(id64));
	id64[CHAIN_MAX_VAL_ID + 1] = 0;

	fill_validator(&t, CHAIN_VAL_ADD, "node-4", other_pub, "tcp://h:1");
	CHECK_EQ_INT(chain_tx_check_fields(&t, &e), 0);

	fill_validator(&t, CHAIN_VAL_ADD, "", other_pub, "tcp://h:1");
	EXPECT_FIELDS_BAD(t, "validator id must be 1..63");
	fill_validator(&t, CHAIN_VAL_ADD, id64, other_pub, "tcp://h:1"); /* 64 bytes */
	CHECK_EQ_INT(strlen(t.name), CHAIN_MAX_VAL_ID + 1);
	EXPECT_FIELDS_BAD(t, "validator id must be 1..63");
	fill_validator(&t, CHAIN_VAL_ADD, "a b", other_pub, "tcp://h:1");
	EXPECT_FIELDS_BAD(t, "validator id must be");

	fill_validator(&t, CHAIN_VAL_ADD, "node-4", other_pub, NULL);
	memset(t.value, 'a', CHAIN_MAX_VAL_ADDR + 1);
	t.value_len = CHAIN_MAX_VAL_ADDR + 1; /* 128 */
	EXPECT_FIELDS_BAD(t, "validator address must be 1..127");
	t.value_len = CHAIN_MAX_VALUE + 1; /* far out, and beyond what a u8 length could encode */
	EXPECT_FIELDS_BAD(t, "validator address must be 1..127");
	t.value_len = 0;
	EXPECT_FIELDS_BAD(t, "validator address must be 1..127");

	static const uint8_t bad_ops[] = {0, 4, 255};
	for (size_t i = 0; i < sizeof(bad_ops); i++) {
		fill_validator(&t, bad_ops[i], "node-4", other_pub, "tcp://h:1");
		EXPECT_FIELDS_BAD(t, "validator change op");
	}

	fill_validator(&t, CHAIN_VAL_REMOVE, "node-4", other_pub, NULL);
	EXPECT_FIELDS_BAD(t, "a validator removal carries no key");
	fill_validator(&t, CHAIN_VAL_REMOVE, "node-4", NULL, "tcp://h:1");
	EXPECT_FIELDS_BAD(t, "only a validator addition carries an address");
	fill_validator(&t, CHAIN_VAL_REKEY, "node-4", other_pub, "tcp://h:1");
	EXPECT_FIELDS_BAD(t, "only a validator addition carries an address");
	fill_validator(&t, CHAIN_VAL_REKEY, "node-4", NULL, NULL);
	EXPECT_FIELDS_BAD(t, "compressed P-256 point");
	fill_validator(&t, CHAIN_VAL_ADD, "node-4", NULL, "tcp://h:1");
	EXPECT_FIELDS_BAD(t, "compressed P-256 point");

	/* the fields of the other types do not matter to a validator change */
	fill_validator(&t, CHAIN_VAL_REMOVE, "node-4", NULL, NULL);
	t.amount = 0;
	memset(t.to, 0xee, CR_ADDR_LEN);
	CHECK_EQ_INT(chain_tx_check_fields(&t, &e), 0);
	CHECK_EQ_INT(chain_tx_sign(&t, key, &e), 0);
	CHECK_EQ_INT(chain_tx_verify(&t, &e), 0);
}

static void
test_validator_flips(void)
{
	struct chain_tx a;
	make_validator(&a, CHAIN_VAL_ADD, "node-4", other_pub, "tcp://10.0.0.4:7000");
	check_flips(&a);
	make_validator(&a, CHAIN_VAL_REMOVE, "node-1", NULL, NULL);
	check_flips(&a);
}

int
main(void)
{
	struct cr_key *other = NULL;
	if (cr_key_generate(&key, NULL) != 0 || cr_key_generate(&other, NULL) != 0)
		return 1;
	cr_key_pubkey(other, other_pub);
	cr_key_free(other);
	RUN(test_roundtrip);
	RUN(test_layout_and_sighash);
	RUN(test_truncation_and_trailing);
	RUN(test_raw_control);
	RUN(test_bad_header_fields);
	RUN(test_bad_body_fields);
	RUN(test_flips);
	RUN(test_high_s_rejected);
	RUN(test_sign_checks_fields);
	RUN(test_charset_helpers);
	RUN(test_signature_binds_chain_and_key);
	RUN(test_validator_roundtrip);
	RUN(test_validator_layout);
	RUN(test_validator_truncation);
	RUN(test_validator_bad_body);
	RUN(test_validator_check_fields);
	RUN(test_validator_flips);
	cr_key_free(key);
	return TEST_DONE();
}
