/* Transactions: canonical encoding, strict decoding, signing, stateless rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/tx.h"

static const char tx_domain[] = "chaind/tx/v1"; /* the NUL is part of the domain */

const char *
chain_tx_type_name(uint8_t type)
{
	switch (type) {
	case CHAIN_TX_TRANSFER:
		return "transfer";
	case CHAIN_TX_SET:
		return "set";
	default:
		return "unknown";
	}
}

static bool
chain_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

bool
chain_id_valid(const char *id, size_t len)
{
	if (len == 0 || len > CHAIN_MAX_CHAIN_ID)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!chain_id_char(id[i]))
			return false;
	return true;
}

bool
chain_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > CHAIN_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!(chain_id_char(c) || c == ':' || c == '/'))
			return false;
	}
	return true;
}

/* chain_value_valid: well-formed UTF-8 (no overlongs or surrogates), no control characters. */
bool
chain_value_valid(const uint8_t *v, size_t len)
{
	if (len > CHAIN_MAX_VALUE)
		return false;
	size_t i = 0;
	while (i < len) {
		uint8_t c = v[i];
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		size_t n;
		uint32_t cp;
		if ((c & 0xe0) == 0xc0) {
			n = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n > len)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((v[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (v[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += n;
	}
	return true;
}

int
chain_tx_check_fields(const struct chain_tx *tx, struct ch_err *err)
{
	size_t idlen = strnlen(tx->chain_id, sizeof(tx->chain_id));
	if (!chain_id_valid(tx->chain_id, idlen))
		return ch_errf(err, CH_E_TX_INVALID,
			       "tx: chain id must be 1..%d characters of [A-Za-z0-9._-]",
			       CHAIN_MAX_CHAIN_ID);
	if (tx->type == CHAIN_TX_TRANSFER) {
		if (tx->amount == 0)
			return ch_errf(err, CH_E_TX_INVALID, "tx: amount must be at least 1");
	} else if (tx->type == CHAIN_TX_SET) {
		size_t nl = strnlen(tx->name, sizeof(tx->name));
		if (!chain_name_valid(tx->name, nl))
			return ch_errf(err, CH_E_TX_INVALID,
				       "tx: name must be 1..%d characters of [A-Za-z0-9._:/-]",
				       CHAIN_MAX_NAME);
		if (tx->value_len > CHAIN_MAX_VALUE || !chain_value_valid(tx->value, tx->value_len))
			return ch_errf(err, CH_E_TX_INVALID,
				       "tx: value must be at most %d bytes of UTF-8 text without "
				       "control characters",
				       CHAIN_MAX_VALUE);
	} else {
		return ch_errf(err, CH_E_TX_INVALID, "tx: unknown type %u", tx->type);
	}
	if (tx->nonce == UINT64_MAX)
		return ch_errf(err, CH_E_TX_INVALID, "tx: nonce out of range");
	return 0;
}

/* encode_unsigned appends everything but the signature. */
static void
encode_unsigned(const struct chain_tx *tx, struct ch_buf *out)
{
	size_t idlen = strnlen(tx->chain_id, sizeof(tx->chain_id));
	ch_buf_u8(out, CHAIN_TX_VERSION);
	ch_buf_u8(out, (uint8_t)idlen);
	ch_buf_put(out, tx->chain_id, idlen);
	ch_buf_u8(out, tx->type);
	ch_buf_u8(out, CR_KEY_P256);
	ch_buf_put(out, tx->pubkey, CR_PUBKEY_LEN);
	ch_buf_u64(out, tx->nonce);
	if (tx->type == CHAIN_TX_TRANSFER) {
		ch_buf_put(out, tx->to, CR_ADDR_LEN);
		ch_buf_u64(out, tx->amount);
	} else {
		size_t nl = strnlen(tx->name, sizeof(tx->name));
		ch_buf_u8(out, (uint8_t)nl);
		ch_buf_put(out, tx->name, nl);
		ch_buf_u16(out, tx->value_len);
		ch_buf_put(out, tx->value, tx->value_len);
	}
}

void
chain_tx_encode(const struct chain_tx *tx, struct ch_buf *out)
{
	encode_unsigned(tx, out);
	ch_buf_put(out, tx->sig, CR_SIG_LEN);
}

void
chain_tx_sighash(const struct chain_tx *tx, uint8_t out[CR_HASH_LEN])
{
	struct ch_buf b;
	ch_buf_init(&b);
	ch_buf_put(&b, tx_domain, sizeof(tx_domain));
	encode_unsigned(tx, &b);
	if (!ch_buf_ok(&b))
		abort(); /* a few hundred bytes; nothing sensible to do without them */
	cr_sha256(b.data, b.len, out);
	ch_buf_close(&b);
}

/* derive fills hash, sender and size from the full encoding. */
static void
derive(struct chain_tx *tx, const uint8_t *enc, size_t len)
{
	cr_sha256(enc, len, tx->hash);
	cr_address(tx->pubkey, tx->sender);
	tx->size = (uint32_t)len;
}

int
chain_tx_decode(const uint8_t *data, size_t len, struct chain_tx *tx, struct ch_err *err)
{
	if (len > CHAIN_MAX_TX_BYTES)
		return ch_errf(err, CH_E_TOO_LARGE, "tx: %zu bytes (the limit is %d)", len,
			       CHAIN_MAX_TX_BYTES);
	memset(tx, 0, sizeof(*tx));
	struct ch_rd r;
	ch_rd_init(&r, data, len);
	uint8_t version = ch_rd_u8(&r);
	if (!r.bad && version != CHAIN_TX_VERSION)
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: version %u (expected %d)", version,
			       CHAIN_TX_VERSION);
	uint8_t idlen = ch_rd_u8(&r);
	if (!r.bad && (idlen == 0 || idlen > CHAIN_MAX_CHAIN_ID))
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: chain id length %u (must be 1..%d)",
			       idlen, CHAIN_MAX_CHAIN_ID);
	ch_rd_copy(&r, tx->chain_id, idlen);
	if (!r.bad && !chain_id_valid(tx->chain_id, idlen))
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: chain id must use [A-Za-z0-9._-]");
	tx->type = ch_rd_u8(&r);
	uint8_t key_type = ch_rd_u8(&r);
	if (!r.bad && key_type != CR_KEY_P256)
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: key type %u (expected %d, P-256)",
			       key_type, CR_KEY_P256);
	ch_rd_copy(&r, tx->pubkey, CR_PUBKEY_LEN);
	tx->nonce = ch_rd_u64(&r);
	if (!r.bad && tx->type == CHAIN_TX_TRANSFER) {
		ch_rd_copy(&r, tx->to, CR_ADDR_LEN);
		tx->amount = ch_rd_u64(&r);
	} else if (!r.bad && tx->type == CHAIN_TX_SET) {
		uint8_t nl = ch_rd_u8(&r);
		if (!r.bad && (nl == 0 || nl > CHAIN_MAX_NAME))
			return ch_errf(err, CH_E_BAD_ENCODING, "tx: name length %u (must be 1..%d)",
				       nl, CHAIN_MAX_NAME);
		ch_rd_copy(&r, tx->name, nl);
		if (!r.bad && !chain_name_valid(tx->name, nl))
			return ch_errf(err, CH_E_BAD_ENCODING,
				       "tx: name must be 1..%d characters of [A-Za-z0-9._:/-]",
				       CHAIN_MAX_NAME);
		tx->value_len = ch_rd_u16(&r);
		if (!r.bad && tx->value_len > CHAIN_MAX_VALUE)
			return ch_errf(err, CH_E_BAD_ENCODING,
				       "tx: value length %u (must be at most %d)", tx->value_len,
				       CHAIN_MAX_VALUE);
		ch_rd_copy(&r, tx->value, tx->value_len);
	} else if (!r.bad) {
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: unknown type %u", tx->type);
	}
	ch_rd_copy(&r, tx->sig, CR_SIG_LEN);
	if (r.bad)
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: truncated (%zu bytes)", len);
	if (!ch_rd_done(&r))
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: %zu trailing bytes", ch_rd_left(&r));
	int rc = chain_tx_check_fields(tx, err);
	if (rc != 0) {
		if (err != NULL)
			err->code = CH_E_BAD_ENCODING;
		return CH_E_BAD_ENCODING;
	}
	derive(tx, data, len);
	return 0;
}

int
chain_tx_verify(const struct chain_tx *tx, struct ch_err *err)
{
	uint8_t d[CR_HASH_LEN];
	chain_tx_sighash(tx, d);
	if (!cr_verify(tx->pubkey, d, tx->sig))
		return ch_errf(err, CH_E_BAD_SIGNATURE,
			       "the signature does not verify for this transaction and public key");
	return 0;
}

int
chain_tx_sign(struct chain_tx *tx, const struct cr_key *key, struct ch_err *err)
{
	cr_key_pubkey(key, tx->pubkey);
	if (tx->value_len <= CHAIN_MAX_VALUE)
		tx->value[tx->value_len] = 0;
	int rc = chain_tx_check_fields(tx, err);
	if (rc != 0)
		return rc;
	uint8_t d[CR_HASH_LEN];
	chain_tx_sighash(tx, d);
	if ((rc = cr_sign(key, d, tx->sig, err)) != 0)
		return rc;
	struct ch_buf b;
	ch_buf_init(&b);
	chain_tx_encode(tx, &b);
	if (!ch_buf_ok(&b)) {
		ch_buf_close(&b);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	derive(tx, b.data, b.len);
	ch_buf_close(&b);
	return 0;
}
