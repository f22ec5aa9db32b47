#include <stdlib.h>

#include "chain/block.h"
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

static void
test_roundtrip(void)
{
	struct chain_tx a, b;
	struct ch_buf enc;
	for (int kind = 0; kind < 2; kind++) {
		if (kind == 0)
			make_transfer(&a, 3, 1000);
		else
			make_set(&a, "greeting", "hello, chain \xc3\xa9");
		ch_buf_init(&enc);
		chain_tx_encode(&a, &enc);
		REQUIRE(ch_buf_ok(&enc));
		CHECK_EQ_INT(enc.len, a.size);
		struct ch_err e;
		REQUIRE(chain_tx_decode(enc.data, enc.len, &b, &e) == 0);
		CHECK(memcmp(a.hash, b.hash, 32) == 0);
		CHECK(memcmp(a.sender, b.sender, 20) == 0);
		CHECK(b.nonce == a.nonce && b.type == a.type);
		CHECK(strcmp(b.chain_id, "test-chain") == 0);
		CHECK(chain_tx_verify(&b, &e) == 0);
		if (kind == 1) {
			CHECK(strcmp(b.name, "greeting") == 0);
			CHECK(b.value_len == a.value_len && memcmp(b.value, a.value, a.value_len) == 0);
		} else {
			CHECK(b.amount == 1000);
		}
		uint8_t h[32];
		cr_sha256(enc.data, enc.len, h);
		CHECK(memcmp(h, b.hash, 32) == 0);
		ch_buf_close(&enc);
	}
}

/* Every prefix, one trailing byte, and every single-byte flip are rejected or fail verification. */
static void
test_strict_decoding(void)
{
	struct chain_tx a, b;
	make_set(&a, "k", "v");
	struct ch_buf enc;
	ch_buf_init(&enc);
	chain_tx_encode(&a, &enc);
	struct ch_err e;
	for (size_t n = 0; n < enc.len; n++)
		CHECK(chain_tx_decode(enc.data, n, &b, &e) == CH_E_BAD_ENCODING);
	uint8_t longer[CHAIN_MAX_TX_BYTES];
	memcpy(longer, enc.data, enc.len);
	longer[enc.len] = 0;
	CHECK(chain_tx_decode(longer, enc.len + 1, &b, &e) == CH_E_BAD_ENCODING);
	CHECK(strstr(e.msg, "trailing") != NULL);
	for (size_t i = 0; i < enc.len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			enc.data[i] ^= (uint8_t)(1 << bit);
			int rc = chain_tx_decode(enc.data, enc.len, &b, &e);
			if (rc == 0) {
				CHECK(memcmp(b.hash, a.hash, 32) != 0);
				CHECK(chain_tx_verify(&b, &e) == CH_E_BAD_SIGNATURE);
			}
			enc.data[i] ^= (uint8_t)(1 << bit);
		}
	}
	uint8_t big[CHAIN_MAX_TX_BYTES + 1] = {0};
	CHECK(chain_tx_decode(big, sizeof(big), &b, &e) == CH_E_TOO_LARGE);
	ch_buf_close(&enc);
}

static void
test_field_rules(void)
{
	struct chain_tx t;
	struct ch_err e;
	memset(&t, 0, sizeof(t));
	strcpy(t.chain_id, "c");
	t.type = CHAIN_TX_TRANSFER;
	t.amount = 0;
	CHECK(chain_tx_sign(&t, key, &e) == CH_E_TX_INVALID);
	CHECK(strstr(e.msg, "amount") != NULL);
	t.amount = 1;
	strcpy(t.chain_id, "bad id");
	CHECK(chain_tx_sign(&t, key, &e) == CH_E_TX_INVALID);
	strcpy(t.chain_id, "");
	CHECK(chain_tx_sign(&t, key, &e) == CH_E_TX_INVALID);
	strcpy(t.chain_id, "c");
	t.type = 9;
	CHECK(chain_tx_sign(&t, key, &e) == CH_E_TX_INVALID);
	t.type = CHAIN_TX_SET;
	strcpy(t.name, "no spaces");
	CHECK(chain_tx_sign(&t, key, &e) == CH_E_TX_INVALID);
	strcpy(t.name, "ok:name/1");
	t.value_len = 1;
	t.value[0] = 0x07; /* control character */
	CHECK(chain_tx_sign(&t, key, &e) == CH_E_TX_INVALID);
	t.value[0] = 'x';
	CHECK(chain_tx_sign(&t, key, &e) == 0);

	CHECK(chain_value_valid((const uint8_t *)"\xe2\x82\xac", 3));  /* euro sign */
	CHECK(!chain_value_valid((const uint8_t *)"\xc0\xaf", 2));     /* overlong */
	CHECK(!chain_value_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* surrogate */
	CHECK(!chain_value_valid((const uint8_t *)"\xe2\x82", 2));     /* truncated */
	CHECK(chain_name_valid("a", 1) && !chain_name_valid("", 0));
	char longname[CHAIN_MAX_NAME + 2];
	memset(longname, 'a', sizeof(longname));
	CHECK(chain_name_valid(longname, CHAIN_MAX_NAME) && !chain_name_valid(longname, CHAIN_MAX_NAME + 1));
	CHECK(strcmp(chain_tx_type_name(CHAIN_TX_SET), "set") == 0);
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
	CHECK(chain_tx_verify(&b, &e) == CH_E_BAD_SIGNATURE);
	b = a;
	b.amount = 6;
	CHECK(chain_tx_verify(&b, &e) == CH_E_BAD_SIGNATURE);
	struct cr_key *k2 = NULL;
	REQUIRE(cr_key_generate(&k2, NULL) == 0);
	b = a;
	cr_key_pubkey(k2, b.pubkey);
	CHECK(chain_tx_verify(&b, &e) == CH_E_BAD_SIGNATURE);
	cr_key_free(k2);
}

int
main(void)
{
	if (cr_key_generate(&key, NULL) != 0)
		return 1;
	RUN(test_roundtrip);
	RUN(test_strict_decoding);
	RUN(test_field_rules);
	RUN(test_signature_binds_chain_and_key);
	cr_key_free(key);
	return TEST_DONE();
}
