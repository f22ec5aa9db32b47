/*
 * ECDSA P-256 keys, signatures (low-S, r||s) and verification, on the
 * OpenSSL 3 EVP interface.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"

struct cr_key {
	EVP_PKEY *pkey;
	uint8_t pub[CR_PUBKEY_LEN];
};

struct cr_pubkey {
	EVP_PKEY *pkey;
};

/* The P-256 group order n and n/2 (big-endian). */
static const uint8_t p256_order[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
static const uint8_t p256_half_order[32] = {
	0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};

int
cr_ssl_err(struct ch_err *err, int code, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[160] = "unknown reason";
	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return ch_errf(err, code, "%s: %s", what, buf);
}

/* pubkey_of extracts the compressed point of pkey. */
static int
pubkey_of(EVP_PKEY *pkey, uint8_t out[CR_PUBKEY_LEN])
{
	uint8_t raw[65];
	size_t len = 0;
	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, raw, sizeof(raw),
					    &len) != 1)
		return CH_E_CRYPTO;
	if (len == 65 && raw[0] == 0x04) {
		out[0] = (uint8_t)(0x02 | (raw[64] & 1));
		memcpy(out + 1, raw + 1, 32);
		return 0;
	}
	if (len == 33 && (raw[0] == 0x02 || raw[0] == 0x03)) {
		memcpy(out, raw, 33);
		return 0;
	}
	return CH_E_CRYPTO;
}

static bool
is_p256(EVP_PKEY *pkey)
{
	char group[64];
	size_t len = 0;
	if (!EVP_PKEY_is_a(pkey, "EC"))
		return false;
	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   &len) != 1)
		return false;
	return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

static int
key_wrap(struct cr_key **out, EVP_PKEY *pkey, struct ch_err *err)
{
	struct cr_key *k = calloc(1, sizeof(*k));
	if (k == NULL) {
		EVP_PKEY_free(pkey);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	k->pkey = pkey;
	if (pubkey_of(pkey, k->pub) != 0) {
		cr_key_free(k);
		return cr_ssl_err(err, CH_E_CRYPTO, "reading public key");
	}
	*out = k;
	return 0;
}

int
cr_key_generate(struct cr_key **out, struct ch_err *err)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (pkey == NULL)
		return cr_ssl_err(err, CH_E_CRYPTO, "generating P-256 key");
	return key_wrap(out, pkey, err);
}

int
cr_key_from_secret(struct cr_key **out, const uint8_t secret[32], struct ch_err *err)
{
	/* SEC1 ECPrivateKey: version 1, the scalar, the named curve prime256v1 (no public key) */
	static const uint8_t head[] = {0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20};
	static const uint8_t tail[] = {0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
				       0xce, 0x3d, 0x03, 0x01, 0x07};
	uint8_t der[sizeof(head) + 32 + sizeof(tail)];
	memcpy(der, head, sizeof(head));
	memcpy(der + sizeof(head), secret, 32);
	memcpy(der + sizeof(head) + 32, tail, sizeof(tail));
	const unsigned char *p = der;
	EVP_PKEY *pkey = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, (long)sizeof(der));
	OPENSSL_cleanse(der, sizeof(der));
	if (pkey == NULL)
		return cr_ssl_err(err, CH_E_INVALID, "P-256 key from a secret");
	return key_wrap(out, pkey, err);
}

int
cr_key_load_pem(struct cr_key **out, const char *path, struct ch_err *err)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return ch_errf(err, CH_E_IO, "cannot open key file %s: %s", path, strerror(errno));
	EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pkey == NULL) {
		ERR_clear_error();
		return ch_errf(err, CH_E_INVALID, "%s is not a PEM private key", path);
	}
	if (!is_p256(pkey)) {
		EVP_PKEY_free(pkey);
		return ch_errf(err, CH_E_INVALID, "%s is not an ECDSA P-256 key", path);
	}
	return key_wrap(out, pkey, err);
}

int
cr_key_save_pem(const struct cr_key *k, const char *path, struct ch_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return ch_errf(err, CH_E_EXISTS, "%s already exists; refusing to overwrite a key",
				       path);
		return ch_errf(err, CH_E_IO, "cannot create %s: %s", path, strerror(errno));
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		unlink(path);
		return ch_errf(err, CH_E_IO, "cannot write %s: %s", path, strerror(errno));
	}
	int ok = PEM_write_PrivateKey(f, k->pkey, NULL, NULL, 0, NULL, NULL) == 1;
	ok = (fflush(f) == 0) && ok;
	ok = (fsync(fd) == 0) && ok;
	ok = (fclose(f) == 0) && ok;
	if (!ok) {
		unlink(path);
		return cr_ssl_err(err, CH_E_IO, path);
	}
	return 0;
}

void
cr_key_free(struct cr_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey); /* OpenSSL clears the private scalar on free */
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

EVP_PKEY *
cr_key_evp(const struct cr_key *k)
{
	return k->pkey;
}

void
cr_key_pubkey(const struct cr_key *k, uint8_t out[CR_PUBKEY_LEN])
{
	memcpy(out, k->pub, CR_PUBKEY_LEN);
}

/* be32 writes bn as 32 big-endian bytes. */
static int
bn_be32(const BIGNUM *bn, uint8_t out[32])
{
	return BN_bn2binpad(bn, out, 32) == 32 ? 0 : CH_E_CRYPTO;
}

int
cr_sign(const struct cr_key *k, const uint8_t digest[CR_HASH_LEN], uint8_t sig[CR_SIG_LEN],
	struct ch_err *err)
{
	int rc = CH_E_CRYPTO;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
	uint8_t der[80];
	size_t derlen = sizeof(der);
	ECDSA_SIG *es = NULL;
	BIGNUM *n = NULL, *s2 = NULL;

	if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_sign(ctx, der, &derlen, digest, CR_HASH_LEN) != 1) {
		rc = cr_ssl_err(err, CH_E_CRYPTO, "ECDSA sign");
		goto out;
	}
	const uint8_t *p = der;
	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL) {
		rc = cr_ssl_err(err, CH_E_CRYPTO, "ECDSA signature decode");
		goto out;
	}
	const BIGNUM *r = ECDSA_SIG_get0_r(es), *s = ECDSA_SIG_get0_s(es);
	if (bn_be32(r, sig) != 0 || bn_be32(s, sig + 32) != 0)
		goto out;
	if (memcmp(sig + 32, p256_half_order, 32) > 0) {
		/* Low-S: replace s by n - s, which verifies the same way. */
		n = BN_bin2bn(p256_order, 32, NULL);
		s2 = BN_new();
		if (n == NULL || s2 == NULL || BN_sub(s2, n, s) != 1 || bn_be32(s2, sig + 32) != 0) {
			rc = cr_ssl_err(err, CH_E_CRYPTO, "ECDSA low-S");
			goto out;
		}
	}
	rc = 0;
out:
	BN_free(s2);
	BN_free(n);
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int
cr_p256_decode(EVP_PKEY **out, const uint8_t pub[CR_PUBKEY_LEN], struct ch_err *err)
{
	int rc = CH_E_BAD_ENCODING;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (pub[0] != 0x02 && pub[0] != 0x03)
		return ch_errf(err, CH_E_BAD_ENCODING, "public key is not a compressed point");
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, CR_PUBKEY_LEN) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1) {
		rc = cr_ssl_err(err, CH_E_CRYPTO, "public key setup");
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		ERR_clear_error();
		rc = ch_errf(err, CH_E_BAD_ENCODING, "public key is not a point on P-256");
		goto out;
	}
	*out = pkey;
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

int
cr_pubkey_parse(struct cr_pubkey **out, const uint8_t pub[CR_PUBKEY_LEN], struct ch_err *err)
{
	EVP_PKEY *pkey = NULL;
	int rc;

	if ((rc = cr_p256_decode(&pkey, pub, err)) != 0)
		return rc;
	struct cr_pubkey *pk = malloc(sizeof(*pk));
	if (pk == NULL) {
		EVP_PKEY_free(pkey);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	pk->pkey = pkey;
	*out = pk;
	return 0;
}

void
cr_pubkey_free(struct cr_pubkey *pk)
{
	if (pk == NULL)
		return;
	EVP_PKEY_free(pk->pkey);
	free(pk);
}

/* scalar_ok: 0 < x < n. */
static bool
scalar_ok(const uint8_t x[32])
{
	static const uint8_t zero[32];
	return memcmp(x, zero, 32) != 0 && memcmp(x, p256_order, 32) < 0;
}

/*
 * der_int appends the DER INTEGER of the 32-byte unsigned big-endian x:
 * leading zero bytes dropped (one kept for zero), and a 0x00 put back in
 * front when the top bit is set so that the value stays positive.
 */
static size_t
der_int(const uint8_t x[32], uint8_t *out)
{
	size_t skip = 0;
	while (skip < 31 && x[skip] == 0)
		skip++;
	size_t len = 32 - skip;
	bool pad = (x[skip] & 0x80) != 0;
	size_t n = 0;
	out[n++] = 0x02;
	out[n++] = (uint8_t)(len + pad);
	if (pad)
		out[n++] = 0x00;
	memcpy(out + n, x + skip, len);
	return n + len;
}

size_t
cr_sig_der(const uint8_t sig[CR_SIG_LEN], uint8_t der[CR_SIG_DER_MAX])
{
	/* Both INTEGERs are at most 35 bytes, so every length fits in one byte. */
	size_t n = 2;
	n += der_int(sig, der + n);
	n += der_int(sig + 32, der + n);
	der[0] = 0x30;
	der[1] = (uint8_t)(n - 2);
	return n;
}

bool
cr_p256_verify(EVP_PKEY *pkey, const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN])
{
	bool ok = false;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t der[CR_SIG_DER_MAX];

	if (!scalar_ok(sig) || !scalar_ok(sig + 32) || memcmp(sig + 32, p256_half_order, 32) > 0)
		return false;
	size_t derlen = cr_sig_der(sig, der);
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_verify_init(ctx) != 1)
		goto out;
	ok = EVP_PKEY_verify(ctx, der, derlen, digest, CR_HASH_LEN) == 1;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

bool
cr_pubkey_verify(const struct cr_pubkey *pk, const uint8_t digest[CR_HASH_LEN],
		 const uint8_t sig[CR_SIG_LEN])
{
	return cr_p256_verify(pk->pkey, digest, sig);
}

bool
cr_verify(const uint8_t pub[CR_PUBKEY_LEN], const uint8_t digest[CR_HASH_LEN],
	  const uint8_t sig[CR_SIG_LEN])
{
	EVP_PKEY *pkey = NULL;
	if (cr_p256_decode(&pkey, pub, NULL) != 0)
		return false;
	bool ok = cr_p256_verify(pkey, digest, sig);
	EVP_PKEY_free(pkey);
	return ok;
}

void
cr_address(const uint8_t pub[CR_PUBKEY_LEN], uint8_t out[CR_ADDR_LEN])
{
	uint8_t h[CR_HASH_LEN];
	cr_sha256(pub, CR_PUBKEY_LEN, h);
	memcpy(out, h, CR_ADDR_LEN);
}
