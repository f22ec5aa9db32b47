/*
 * crypto_internal.h - what the crypto module's files share: decoding a
 * compressed P-256 point into an OpenSSL key, verifying with one, and the
 * DER form of an r||s signature. Not for use outside crypto/ (the unit tests
 * reach in to check the DER encoder).
 */
#ifndef CR_CRYPTO_INTERNAL_H
#define CR_CRYPTO_INTERNAL_H

#include <openssl/evp.h>

#include "crypto/crypto.h"

/* Longest DER ECDSA-Sig-Value for P-256: 2 + 2 * (2 + 33). */
#define CR_SIG_DER_MAX 72

/*
 * cr_p256_decode makes an EVP_PKEY (refcount 1, caller frees) from a
 * compressed point. CH_E_BAD_ENCODING if it is not a point on P-256.
 */
int cr_p256_decode(EVP_PKEY **out, const uint8_t pub[CR_PUBKEY_LEN], struct ch_err *err);

/* cr_ssl_err records the newest OpenSSL error as "what: reason" with code, clears the queue. */
int cr_ssl_err(struct ch_err *err, int code, const char *what);

/* cr_key_evp returns k's OpenSSL key (borrowed: valid while k is). */
EVP_PKEY *cr_key_evp(const struct cr_key *k);

/*
 * cr_p256_verify is cr_pubkey_verify on a bare EVP_PKEY (borrowed; only
 * read, so one key may be used by several threads at once).
 */
bool cr_p256_verify(EVP_PKEY *pkey, const uint8_t digest[CR_HASH_LEN],
		    const uint8_t sig[CR_SIG_LEN]);

/*
 * cr_sig_der writes the DER SEQUENCE { INTEGER r, INTEGER s } of a 64-byte
 * r||s signature into der and returns its length (at most CR_SIG_DER_MAX).
 * Any 64 bytes encode; the caller range-checks r and s.
 */
size_t cr_sig_der(const uint8_t sig[CR_SIG_LEN], uint8_t der[CR_SIG_DER_MAX]);

#endif
