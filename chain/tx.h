/*
 * tx.h - transactions: the canonical binary encoding (what is signed and
 * hashed), strict decoding, signing and stateless checks.
 *
 * Encoding (big-endian integers):
 *   version u8 (=1) | chain_id_len u8 (1..64) | chain_id
 *   | type u8 | key_type u8 (=CR_KEY_P256) | pubkey[33] | nonce u64
 *   | body | sig[64]
 *   transfer body: to[20] | amount u64 (>= 1)
 *   set body:      name_len u8 (1..64) | name | value_len u16 (0..1024) | value
 *   validator body: op u8 (1 add, 2 remove, 3 rekey) | id_len u8 (1..63) | id
 *                  | pub_key[33] | addr_len u8 (0..127) | p2p address
 *     add names a new validator's id, key and address; remove names only the
 *     id (key all zero, no address); rekey the id and its new key (no
 *     address). Its execution rules (who may sign, quorums) are in
 *     chain/valset.h.
 * Names and validator ids use [A-Za-z0-9._:/-] (ids at most 63 bytes),
 * addresses tcp://host:port in the same characters; values are UTF-8
 * without control characters.
 * The signature covers SHA-256("chaind/tx/v1" 0x00 || encoding without sig);
 * the transaction hash is SHA-256 of the whole encoding.
 */
#ifndef CHAIN_TX_H
#define CHAIN_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "crypto/crypto.h"

#define CHAIN_TX_VERSION 1
#define CHAIN_MAX_CHAIN_ID 64
#define CHAIN_MAX_NAME 64
#define CHAIN_MAX_VALUE 1024
/* Upper bound of any valid encoding; larger input is rejected unread. */
#define CHAIN_MAX_TX_BYTES 1400
/* Lower bound of any valid encoding (a set of a one-byte name to an empty value). */
#define CHAIN_MIN_TX_BYTES (1 + 1 + 1 + 1 + 1 + CR_PUBKEY_LEN + 8 + 1 + 1 + 2 + CR_SIG_LEN)

enum chain_tx_type {
	CHAIN_TX_TRANSFER = 1,
	CHAIN_TX_SET = 2,
	CHAIN_TX_VALIDATOR = 3,
};

enum chain_val_op {
	CHAIN_VAL_ADD = 1,
	CHAIN_VAL_REMOVE = 2,
	CHAIN_VAL_REKEY = 3,
};

#define CHAIN_MAX_VAL_ID 63
#define CHAIN_MAX_VAL_ADDR 127

struct chain_tx {
	char chain_id[CHAIN_MAX_CHAIN_ID + 1]; /* NUL-terminated */
	uint8_t type;                          /* enum chain_tx_type */
	uint8_t pubkey[CR_PUBKEY_LEN];
	uint64_t nonce;
	/* transfer */
	uint8_t to[CR_ADDR_LEN];
	uint64_t amount;
	/* set; a validator change keeps its id in name and its address in value */
	char name[CHAIN_MAX_NAME + 1]; /* NUL-terminated */
	uint16_t value_len;
	uint8_t value[CHAIN_MAX_VALUE + 1]; /* NUL-terminated for convenience */
	/* validator change */
	uint8_t val_op; /* enum chain_val_op */
	uint8_t val_pub[CR_PUBKEY_LEN];
	uint8_t sig[CR_SIG_LEN];
	/* derived by chain_tx_decode / chain_tx_sign, not encoded */
	uint8_t hash[CR_HASH_LEN];
	uint8_t sender[CR_ADDR_LEN];
	uint32_t size; /* bytes of the encoding */
};

/* chain_tx_encode appends the full encoding (with signature) to out. */
void chain_tx_encode(const struct chain_tx *tx, struct ch_buf *out);

/* chain_tx_sighash computes the digest the signature covers. */
void chain_tx_sighash(const struct chain_tx *tx, uint8_t out[CR_HASH_LEN]);

/*
 * chain_tx_decode parses exactly len bytes (trailing bytes are an error)
 * into tx and fills hash, sender and size. It checks the format and the
 * stateless rules (lengths, charset, amount >= 1, known type and key type)
 * but not the signature. Errors: CH_E_BAD_ENCODING or CH_E_TOO_LARGE with a
 * message naming the field.
 */
int chain_tx_decode(const uint8_t *data, size_t len, struct chain_tx *tx,
		    struct ch_err *err);

/* chain_tx_verify checks tx's signature: 0 or CH_E_BAD_SIGNATURE. */
int chain_tx_verify(const struct chain_tx *tx, struct ch_err *err);

/*
 * chain_tx_sign sets tx->pubkey from key, signs, and fills hash, sender and
 * size. The other fields must be set and valid (checked: CH_E_TX_INVALID).
 */
int chain_tx_sign(struct chain_tx *tx, const struct cr_key *key, struct ch_err *err);

/*
 * chain_tx_rehash recomputes hash, sender and size from the other fields,
 * after a change to a signed transaction (the tests that forge them).
 */
void chain_tx_rehash(struct chain_tx *tx);

/* chain_tx_check_fields applies the stateless rules to a filled-in tx. */
int chain_tx_check_fields(const struct chain_tx *tx, struct ch_err *err);

/* chain_id_valid: 1..64 characters of [A-Za-z0-9._-]. */
bool chain_id_valid(const char *id, size_t len);

/* chain_name_valid / chain_value_valid: the charset rules above. */
bool chain_name_valid(const char *name, size_t len);
bool chain_value_valid(const uint8_t *value, size_t len);

const char *chain_tx_type_name(uint8_t type); /* "transfer", "set", "validator" or "unknown" */

/* chain_val_op_name: "add", "remove", "rekey" or "unknown". */
const char *chain_val_op_name(uint8_t op);

#endif
