/*
 * crypto.h - hashes, ECDSA P-256 keys and signatures, hex and base64,
 * Merkle trees. Knows nothing about blocks or transactions.
 *
 * Signatures are 64 bytes r||s (big-endian, 32 bytes each) with s in the
 * lower half of the group order (low-S): cr_sign() always produces low-S and
 * cr_verify() rejects high-S, so no transaction has a malleable twin.
 * Public keys travel as 33-byte SEC1 compressed points; on the wire a key is
 * preceded by a type byte (CR_KEY_P256) so another scheme can be added.
 *
 * Thread safety: every function may be called from any thread; a struct
 * cr_key or struct cr_pubkey may be shared read-only between threads.
 */
#ifndef CR_CRYPTO_H
#define CR_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define CR_HASH_LEN 32
#define CR_PUBKEY_LEN 33
#define CR_SIG_LEN 64
#define CR_ADDR_LEN 20
#define CR_KEY_P256 0x01

/* ---- SHA-256 ---- */

/* cr_sha256 hashes len bytes of data into out. */
void cr_sha256(const void *data, size_t len, uint8_t out[CR_HASH_LEN]);

/*
 * Incremental SHA-256: zero the struct (= {0}), then init/update/final;
 * final may be followed by init again; close frees.
 */
struct cr_sha256_ctx {
	void *md; /* EVP_MD_CTX *, owned */
};
int cr_sha256_init(struct cr_sha256_ctx *c);
void cr_sha256_update(struct cr_sha256_ctx *c, const void *data, size_t len);
void cr_sha256_final(struct cr_sha256_ctx *c, uint8_t out[CR_HASH_LEN]);
void cr_sha256_close(struct cr_sha256_ctx *c); /* frees; safe after final */

/* ---- keys ---- */

/* An ECDSA P-256 private key (with its public half). Opaque. */
struct cr_key;

/* cr_key_generate makes a fresh key. Free with cr_key_free(). */
int cr_key_generate(struct cr_key **out, struct ch_err *err);

/*
 * cr_key_from_secret makes the key whose private scalar is secret
 * (big-endian, in 1..n-1): deterministic keys for tests and simulations.
 * CH_E_INVALID if secret is not a valid scalar.
 */
int cr_key_from_secret(struct cr_key **out, const uint8_t secret[32], struct ch_err *err);

/*
 * cr_key_load_pem reads a PKCS#8 (or SEC1 "EC PRIVATE KEY") PEM file and
 * checks that it is a P-256 key. Errors name the file and what is wrong.
 */
int cr_key_load_pem(struct cr_key **out, const char *path, struct ch_err *err);

/*
 * cr_key_save_pem writes k as PKCS#8 PEM to path, creating the file with
 * mode 0600. It refuses (CH_E_EXISTS) to overwrite an existing file.
 */
int cr_key_save_pem(const struct cr_key *k, const char *path, struct ch_err *err);

/* cr_key_free wipes and frees k. NULL is fine. */
void cr_key_free(struct cr_key *k);

/* cr_key_pubkey writes k's compressed public key. */
void cr_key_pubkey(const struct cr_key *k, uint8_t out[CR_PUBKEY_LEN]);

/* cr_sign signs a 32-byte digest with k; sig is low-S r||s. */
int cr_sign(const struct cr_key *k, const uint8_t digest[CR_HASH_LEN],
	    uint8_t sig[CR_SIG_LEN], struct ch_err *err);

/* ---- public keys and verification ---- */

/*
 * A decoded public key, ready to verify with. Decoding a point costs about a
 * third of a verification, so callers that verify often keep these.
 */
struct cr_pubkey;

/* cr_pubkey_parse decodes a compressed point; CH_E_BAD_ENCODING if it is not on the curve. */
int cr_pubkey_parse(struct cr_pubkey **out, const uint8_t pub[CR_PUBKEY_LEN],
		    struct ch_err *err);
void cr_pubkey_free(struct cr_pubkey *pk);

/* cr_pubkey_verify returns true if sig is a valid low-S signature of digest. */
bool cr_pubkey_verify(const struct cr_pubkey *pk, const uint8_t digest[CR_HASH_LEN],
		      const uint8_t sig[CR_SIG_LEN]);

/* cr_verify parses pub and verifies in one call. False for any bad input. */
bool cr_verify(const uint8_t pub[CR_PUBKEY_LEN], const uint8_t digest[CR_HASH_LEN],
	       const uint8_t sig[CR_SIG_LEN]);

/*
 * A bounded cache of decoded public keys for verifiers that see the same
 * keys again and again (validators, busy accounts), saving the point decode
 * on a hit. Safe to share between threads: a lock covers only the table,
 * never a verification. A key is cached once it has verified a signature;
 * it then replaces the least recently used key of its 4-slot set, so
 * it may hold fewer than capacity keys when several hash to one set.
 */
struct cr_pubkey_cache;

/*
 * cr_pubkey_cache_new makes a cache of at most capacity keys; free it with
 * cr_pubkey_cache_free. CH_E_INVALID for capacity 0, CH_E_NOMEM.
 */
int cr_pubkey_cache_new(struct cr_pubkey_cache **out, size_t capacity);

/* cr_pubkey_cache_free frees c; no thread may still be using it. NULL is fine. */
void cr_pubkey_cache_free(struct cr_pubkey_cache *c);

/*
 * cr_pubkey_cache_verify answers exactly as cr_verify does, decoding pub
 * only if c does not hold it. c may be NULL: then it is cr_verify.
 */
bool cr_pubkey_cache_verify(struct cr_pubkey_cache *c, const uint8_t pub[CR_PUBKEY_LEN],
			    const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN]);

/* cr_pubkey_cache_stats reads how many lookups found their key and how many did not. */
void cr_pubkey_cache_stats(struct cr_pubkey_cache *c, uint64_t *hits, uint64_t *misses);

/* cr_address: first 20 bytes of SHA-256(compressed public key). */
void cr_address(const uint8_t pub[CR_PUBKEY_LEN], uint8_t out[CR_ADDR_LEN]);

/* ---- hex and base64 ---- */

/* cr_hex_encode writes 2*len lowercase hex digits and a NUL to out. */
void cr_hex_encode(const void *data, size_t len, char *out);

/*
 * cr_hex_decode decodes hex (upper or lower case, even length, optional
 * "0x" prefix) into out, which holds cap bytes; *outlen gets the length.
 * CH_E_BAD_ENCODING for odd length or a non-hex digit, CH_E_TOO_LARGE if it
 * does not fit.
 */
int cr_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap,
		  size_t *outlen);

/* cr_hex_decode_exact decodes a NUL-terminated hex string of exactly n bytes. */
int cr_hex_decode_exact(const char *hex, uint8_t *out, size_t n);

/* cr_base64_encode: standard alphabet with padding; out holds 4*((len+2)/3)+1. */
void cr_base64_encode(const void *data, size_t len, char *out);
/* cr_base64_decode: strict (padding required, no whitespace). */
int cr_base64_decode(const char *b64, size_t b64len, uint8_t *out, size_t cap,
		     size_t *outlen);

/* ---- Merkle trees (RFC 6962 shape) ----
 * leaf hash = SHA-256(0x00 || leaf), node = SHA-256(0x01 || left || right);
 * a tree of n leaves splits at the largest power of two below n. The root of
 * zero leaves is SHA-256 of the empty string. Leaves here are 32-byte
 * transaction hashes.
 */
#define CR_MERKLE_MAX_DEPTH 64

void cr_merkle_root(const uint8_t (*leaves)[CR_HASH_LEN], size_t n,
		    uint8_t root[CR_HASH_LEN]);

/*
 * cr_merkle_proof writes the audit path of leaf index (0-based) into path
 * (room for CR_MERKLE_MAX_DEPTH hashes) and its length to *pathlen.
 * CH_E_INVALID if index >= n.
 */
int cr_merkle_proof(const uint8_t (*leaves)[CR_HASH_LEN], size_t n, size_t index,
		    uint8_t (*path)[CR_HASH_LEN], size_t *pathlen);

/* cr_merkle_verify checks that leaf sits at index of an n-leaf tree with root. */
bool cr_merkle_verify(const uint8_t leaf[CR_HASH_LEN], size_t index, size_t n,
		      const uint8_t (*path)[CR_HASH_LEN], size_t pathlen,
		      const uint8_t root[CR_HASH_LEN]);

#endif
