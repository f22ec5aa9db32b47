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
	case CHAIN_TX_VALIDATOR:
		return "validator";
	default:
		return "unknown";
	}
}

const char *
chain_val_op_name(uint8_t op)
{
	switch (op) {
	case CHAIN_VAL_ADD:
		return "add";
	case CHAIN_VAL_REMOVE:
		return "remove";
	case CHAIN_VAL_REKEY:
		return "rekey";
	default:
		return "unknown";
	}
}

static bool
known_type(uint8_t type)
{
	return type == CHAIN_TX_TRANSFER || type == CHAIN_TX_SET || type == CHAIN_TX_VALIDATOR;
}

static bool
id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static bool
name_char(char c)
{
	return id_char(c) || c == ':' || c == '/';
}

/* bad_char returns the index of the first byte ok() refuses, or len. */
static size_t
bad_char(const char *s, size_t len, bool (*ok)(char))
{
	size_t i = 0;
	while (i < len && ok(s[i]))
		i++;
	return i;
}

bool
chain_id_valid(const char *id, size_t len)
{
	return len >= 1 && len <= CHAIN_MAX_CHAIN_ID && bad_char(id, len, id_char) == len;
}

bool
chain_name_valid(const char *name, size_t len)
{
	return len >= 1 && len <= CHAIN_MAX_NAME && bad_char(name, len, name_char) == len;
}

/*
 * value_bad returns the offset of the first byte of v that is not part of
 * well-formed UTF-8 text without control characters (C0, DEL, C1), or len;
 * *why says what is wrong there. Overlong forms and surrogates are refused.
 */
static size_t
value_bad(const uint8_t *v, size_t len, const char **why)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = v[i];
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f) {
				*why = "control character";
				return i;
			}
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
			*why = "invalid UTF-8";
			return i;
		}
		if (n > len - i) {
			*why = "truncated UTF-8 sequence";
			return i;
		}
		for (size_t k = 1; k < n; k++) {
			if ((v[i + k] & 0xc0) != 0x80) {
				*why = "invalid UTF-8";
				return i;
			}
			cp = (cp << 6) | (v[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			*why = "invalid UTF-8";
			return i;
		}
		if (cp < 0xa0) {
			*why = "control character";
			return i;
		}
		i += n;
	}
	return len;
}

bool
chain_value_valid(const uint8_t *value, size_t len)
{
	const char *why;
	return len <= CHAIN_MAX_VALUE && value_bad(value, len, &why) == len;
}

/* check_id and check_name report the first problem of a field of len bytes. */
static int
check_id(const char *id, size_t len, int code, struct ch_err *err)
{
	if (len < 1 || len > CHAIN_MAX_CHAIN_ID)
		return ch_errf(err, code, "tx: chain id length %zu (must be 1..%d)", len,
			       CHAIN_MAX_CHAIN_ID);
	size_t at = bad_char(id, len, id_char);
	if (at < len)
		return ch_errf(err, code, "tx: chain id byte %zu is 0x%02x (allowed: [A-Za-z0-9._-])",
			       at, (uint8_t)id[at]);
	return 0;
}

static int
check_name(const char *name, size_t len, int code, struct ch_err *err)
{
	if (len < 1 || len > CHAIN_MAX_NAME)
		return ch_errf(err, code, "tx: name length %zu (must be 1..%d)", len, CHAIN_MAX_NAME);
	size_t at = bad_char(name, len, name_char);
	if (at < len)
		return ch_errf(err, code, "tx: name byte %zu is 0x%02x (allowed: [A-Za-z0-9._:/-])",
			       at, (uint8_t)name[at]);
	return 0;
}

static int
check_value(const uint8_t *v, size_t len, int code, struct ch_err *err)
{
	const char *why = "";
	if (len > CHAIN_MAX_VALUE)
		return ch_errf(err, code, "tx: value length %zu (must be 0..%d)", len,
			       CHAIN_MAX_VALUE);
	size_t at = value_bad(v, len, &why);
	if (at < len)
		return ch_errf(err, code, "tx: value byte %zu (0x%02x): %s", at, v[at], why);
	return 0;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* check_validator applies the stateless rules of a validator change (tx.h). */
static int
check_validator(const struct chain_tx *tx, int code, struct ch_err *err)
{
	size_t idlen = strnlen(tx->name, sizeof(tx->name));
	if (tx->val_op != CHAIN_VAL_ADD && tx->val_op != CHAIN_VAL_REMOVE &&
	    tx->val_op != CHAIN_VAL_REKEY)
		return ch_errf(err, code, "tx: validator change op %u (must be 1 add, 2 remove, 3 rekey)",
			       tx->val_op);
	if (idlen < 1 || idlen > CHAIN_MAX_VAL_ID || bad_char(tx->name, idlen, name_char) != idlen)
		return ch_errf(err, code,
			       "tx: validator id must be 1..%d bytes of [A-Za-z0-9._:/-]",
			       CHAIN_MAX_VAL_ID);
	bool keyless = all_zero(tx->val_pub, CR_PUBKEY_LEN);
	if (tx->val_op == CHAIN_VAL_REMOVE ? !keyless
					   : (tx->val_pub[0] != 2 && tx->val_pub[0] != 3))
		return ch_errf(err, code,
			       tx->val_op == CHAIN_VAL_REMOVE
				       ? "tx: a validator removal carries no key"
				       : "tx: validator key must be a compressed P-256 point (02/03...)");
	size_t alen = tx->value_len;
	if (tx->val_op == CHAIN_VAL_ADD) {
		if (alen < 1 || alen > CHAIN_MAX_VAL_ADDR ||
		    bad_char((const char *)tx->value, alen, name_char) != alen)
			return ch_errf(err, code,
				       "tx: validator address must be 1..%d bytes of [A-Za-z0-9._:/-]",
				       CHAIN_MAX_VAL_ADDR);
	} else if (alen != 0) {
		return ch_errf(err, code, "tx: only a validator addition carries an address");
	}
	return 0;
}

/*
 * check_rest applies the rules that decoding does not check while reading:
 * amount, value text and nonce. code is the error to report.
 */
static int
check_rest(const struct chain_tx *tx, int code, struct ch_err *err)
{
	int rc;
	if (tx->type == CHAIN_TX_TRANSFER && tx->amount == 0)
		return ch_errf(err, code, "tx: amount 0 (must be at least 1)");
	if (tx->type == CHAIN_TX_SET && (rc = check_value(tx->value, tx->value_len, code, err)) != 0)
		return rc;
	if (tx->type == CHAIN_TX_VALIDATOR && (rc = check_validator(tx, code, err)) != 0)
		return rc;
	/* the account nonce after this transaction must fit in a u64 */
	if (tx->nonce == UINT64_MAX)
		return ch_errf(err, code, "tx: nonce %llu out of range",
			       (unsigned long long)tx->nonce);
	return 0;
}

int
chain_tx_check_fields(const struct chain_tx *tx, struct ch_err *err)
{
	int rc;
	if ((rc = check_id(tx->chain_id, strnlen(tx->chain_id, sizeof(tx->chain_id)),
			   CH_E_TX_INVALID, err)) != 0)
		return rc;
	if (!known_type(tx->type))
		return ch_errf(err, CH_E_TX_INVALID, "tx: unknown type %u (must be %d, %d or %d)",
			       tx->type, CHAIN_TX_TRANSFER, CHAIN_TX_SET, CHAIN_TX_VALIDATOR);
	if (tx->type == CHAIN_TX_SET &&
	    (rc = check_name(tx->name, strnlen(tx->name, sizeof(tx->name)), CH_E_TX_INVALID,
			     err)) != 0)
		return rc;
	return check_rest(tx, CH_E_TX_INVALID, err);
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
	} else if (tx->type == CHAIN_TX_VALIDATOR) {
		size_t nl = strnlen(tx->name, sizeof(tx->name));
		ch_buf_u8(out, tx->val_op);
		ch_buf_u8(out, (uint8_t)nl);
		ch_buf_put(out, tx->name, nl);
		ch_buf_put(out, tx->val_pub, CR_PUBKEY_LEN);
		ch_buf_u8(out, (uint8_t)tx->value_len);
		ch_buf_put(out, tx->value, tx->value_len);
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
	ch_buf_reserve(&b, sizeof(tx_domain) + CHAIN_MAX_TX_BYTES);
	ch_buf_put(&b, tx_domain, sizeof(tx_domain));
	encode_unsigned(tx, &b);
	if (!ch_buf_ok(&b))
		abort(); /* under 2 KiB; there is no error path in this API */
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

/* read_body reads the type-specific fields; r may be short (checked by the caller). */
static int
read_body(struct ch_rd *r, struct chain_tx *tx, struct ch_err *err)
{
	int rc;
	if (tx->type == CHAIN_TX_TRANSFER) {
		ch_rd_copy(r, tx->to, CR_ADDR_LEN);
		tx->amount = ch_rd_u64(r);
		return 0;
	}
	if (tx->type == CHAIN_TX_VALIDATOR) {
		tx->val_op = ch_rd_u8(r);
		uint8_t il = ch_rd_u8(r);
		if (!r->bad && (il < 1 || il > CHAIN_MAX_VAL_ID))
			return ch_errf(err, CH_E_BAD_ENCODING,
				       "tx: validator id length %u (must be 1..%d)", il,
				       CHAIN_MAX_VAL_ID);
		ch_rd_copy(r, tx->name, il);
		ch_rd_copy(r, tx->val_pub, CR_PUBKEY_LEN);
		uint8_t al = ch_rd_u8(r);
		if (!r->bad && al > CHAIN_MAX_VAL_ADDR)
			return ch_errf(err, CH_E_BAD_ENCODING,
				       "tx: validator address length %u (must be 0..%d)", al,
				       CHAIN_MAX_VAL_ADDR);
		tx->value_len = al;
		ch_rd_copy(r, tx->value, al);
		/* a NUL inside the id would shorten it silently */
		if (!r->bad && strnlen(tx->name, il) != il)
			return ch_errf(err, CH_E_BAD_ENCODING, "tx: NUL in the validator id");
		return 0;
	}
	uint8_t nl = ch_rd_u8(r);
	if (!r->bad && (nl < 1 || nl > CHAIN_MAX_NAME))
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: name length %u (must be 1..%d)", nl,
			       CHAIN_MAX_NAME);
	ch_rd_copy(r, tx->name, nl);
	if (!r->bad && (rc = check_name(tx->name, nl, CH_E_BAD_ENCODING, err)) != 0)
		return rc;
	tx->value_len = ch_rd_u16(r);
	if (!r->bad && tx->value_len > CHAIN_MAX_VALUE)
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: value length %u (must be 0..%d)",
			       tx->value_len, CHAIN_MAX_VALUE);
	ch_rd_copy(r, tx->value, tx->value_len);
	return 0;
}

int
chain_tx_decode(const uint8_t *data, size_t len, struct chain_tx *tx, struct ch_err *err)
{
	int rc;
	if (len > CHAIN_MAX_TX_BYTES)
		return ch_errf(err, CH_E_TOO_LARGE, "tx: %zu bytes (the limit is %d)", len,
			       CHAIN_MAX_TX_BYTES);
	memset(tx, 0, sizeof(*tx));
	struct ch_rd r;
	ch_rd_init(&r, data, len);
	uint8_t version = ch_rd_u8(&r);
	if (!r.bad && version != CHAIN_TX_VERSION)
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: version %u (must be %d)", version,
			       CHAIN_TX_VERSION);
	uint8_t idlen = ch_rd_u8(&r);
	if (!r.bad && (idlen < 1 || idlen > CHAIN_MAX_CHAIN_ID))
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: chain id length %u (must be 1..%d)",
			       idlen, CHAIN_MAX_CHAIN_ID);
	ch_rd_copy(&r, tx->chain_id, idlen);
	/* on the raw bytes: a NUL would otherwise shorten the id silently */
	if (!r.bad && (rc = check_id(tx->chain_id, idlen, CH_E_BAD_ENCODING, err)) != 0)
		return rc;
	tx->type = ch_rd_u8(&r);
	if (!r.bad && !known_type(tx->type))
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: unknown type %u (must be %d, %d or %d)",
			       tx->type, CHAIN_TX_TRANSFER, CHAIN_TX_SET, CHAIN_TX_VALIDATOR);
	uint8_t key_type = ch_rd_u8(&r);
	if (!r.bad && key_type != CR_KEY_P256)
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: key type %u (must be %d, P-256)",
			       key_type, CR_KEY_P256);
	ch_rd_copy(&r, tx->pubkey, CR_PUBKEY_LEN);
	tx->nonce = ch_rd_u64(&r);
	if (!r.bad && (rc = read_body(&r, tx, err)) != 0)
		return rc;
	ch_rd_copy(&r, tx->sig, CR_SIG_LEN);
	if (r.bad)
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: truncated (%zu bytes)", len);
	if (!ch_rd_done(&r))
		return ch_errf(err, CH_E_BAD_ENCODING, "tx: %zu trailing bytes", ch_rd_left(&r));
	if ((rc = check_rest(tx, CH_E_BAD_ENCODING, err)) != 0)
		return rc;
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
			       "tx: the signature does not verify for this transaction and public key");
	return 0;
}

/* rehash derives hash, sender and size from tx's encoding; false if out of memory. */
static bool
rehash(struct chain_tx *tx)
{
	struct ch_buf b;
	ch_buf_init(&b);
	chain_tx_encode(tx, &b);
	bool ok = ch_buf_ok(&b);
	if (ok)
		derive(tx, b.data, b.len);
	ch_buf_close(&b);
	return ok;
}

int
chain_tx_sign(struct chain_tx *tx, const struct cr_key *key, struct ch_err *err)
{
	int rc;
	if ((rc = chain_tx_check_fields(tx, err)) != 0)
		return rc;
	if (tx->type == CHAIN_TX_SET || tx->type == CHAIN_TX_VALIDATOR)
		tx->value[tx->value_len] = 0;
	cr_key_pubkey(key, tx->pubkey);
	uint8_t d[CR_HASH_LEN];
	chain_tx_sighash(tx, d);
	if ((rc = cr_sign(key, d, tx->sig, err)) != 0)
		return rc;
	if (!rehash(tx))
		return ch_errf(err, CH_E_NOMEM, "tx: out of memory encoding");
	return 0;
}

void
chain_tx_rehash(struct chain_tx *tx)
{
	if (!rehash(tx))
		abort(); /* under 2 KiB; there is no error path in this API */
}
