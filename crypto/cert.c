/*
 * X.509 certificates on OpenSSL 3's X509 interface (crypto/cert.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/cert.h"
#include "crypto/crypto_internal.h"

#define YEAR_2000 946684800LL
#define YEAR_9999_END 253402300799LL /* 9999-12-31 23:59:59 UTC */

static int
ssl_fail(struct ch_err *err, const char *what)
{
	return cr_ssl_err(err, CH_E_CRYPTO, what);
}

/* bio_string moves what b holds into a malloc'd NUL-terminated string. */
static int
bio_string(BIO *b, char **out, struct ch_err *err)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s == NULL)
		return ch_errf(err, CH_E_NOMEM, "certificate: out of memory");
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*out = s;
	return 0;
}

static int
name_of(X509_NAME **out, const char *cn, struct ch_err *err)
{
	if (cn == NULL || cn[0] == '\0' || strlen(cn) > 64)
		return ch_errf(err, CH_E_INVALID, "certificate name must be 1..64 characters");
	X509_NAME *n = X509_NAME_new();
	if (n == NULL || X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
						    (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(n);
		return ssl_fail(err, "certificate name");
	}
	*out = n;
	return 0;
}

/* add_ext adds the extension nid with OpenSSL's config-style value. */
static int
add_ext(X509 *x, int nid, const char *value, struct ch_err *err)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL)
		return ch_errf(err, CH_E_INVALID, "certificate extension \"%s\" is not valid", value);
	int ok = X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok ? 0 : ssl_fail(err, "certificate extension");
}

/* sans_value joins the SAN entries with commas after checking each. */
static int
sans_value(const struct cr_cert_spec *s, char *out, size_t cap, struct ch_err *err)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < s->nsans; i++) {
		const char *v = s->sans[i];
		if ((strncmp(v, "DNS:", 4) != 0 && strncmp(v, "IP:", 3) != 0) ||
		    strpbrk(v, ", \t\n") != NULL || strlen(v) < 5)
			return ch_errf(err, CH_E_INVALID,
				       "subject alternative name \"%s\": expected DNS:name or IP:address",
				       v);
		int n = snprintf(out + used, cap - used, "%s%s", i > 0 ? "," : "", v);
		if (n < 0 || (size_t)n >= cap - used)
			return ch_errf(err, CH_E_INVALID, "too many subject alternative names");
		used += (size_t)n;
	}
	return 0;
}

static int
serial_random(X509 *x, struct ch_err *err)
{
	uint8_t raw[16];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return ssl_fail(err, "certificate serial");
	raw[0] &= 0x7f; /* positive */
	BIGNUM *bn = BN_bin2bn(raw, sizeof(raw), NULL);
	int ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : ssl_fail(err, "certificate serial");
}

int
cr_cert_make(const struct cr_cert_spec *s, const uint8_t subject_pub[CR_PUBKEY_LEN],
	     const struct cr_key *signer, char **pem, struct ch_err *err)
{
	X509 *x = X509_new();
	X509_NAME *subject = NULL, *issuer = NULL;
	EVP_PKEY *pub = NULL;
	BIO *b = NULL;
	char sans[1024];
	int rc;
	if (x == NULL) {
		rc = ch_errf(err, CH_E_NOMEM, "certificate: out of memory");
		goto out;
	}
	if ((rc = name_of(&subject, s->subject, err)) != 0 ||
	    (rc = name_of(&issuer, s->issuer, err)) != 0 ||
	    (rc = sans_value(s, sans, sizeof(sans), err)) != 0 ||
	    (rc = cr_p256_decode(&pub, subject_pub, err)) != 0 || (rc = serial_random(x, err)) != 0)
		goto out;
	if (X509_set_version(x, 2) != 1 || X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, issuer) != 1 || X509_set_pubkey(x, pub) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)s->not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)s->not_after) == NULL) {
		rc = ssl_fail(err, "certificate fields");
		goto out;
	}
	if (s->ca) {
		if ((rc = add_ext(x, NID_basic_constraints, "critical,CA:TRUE", err)) != 0 ||
		    (rc = add_ext(x, NID_key_usage, "critical,keyCertSign,cRLSign", err)) != 0)
			goto out;
	} else {
		if ((rc = add_ext(x, NID_basic_constraints, "critical,CA:FALSE", err)) != 0 ||
		    (rc = add_ext(x, NID_key_usage, "critical,digitalSignature", err)) != 0 ||
		    (rc = add_ext(x, NID_ext_key_usage, "serverAuth,clientAuth", err)) != 0)
			goto out;
	}
	if (s->nsans > 0 && (rc = add_ext(x, NID_subject_alt_name, sans, err)) != 0)
		goto out;
	if (X509_sign(x, cr_key_evp(signer), EVP_sha256()) <= 0) {
		rc = ssl_fail(err, "signing a certificate");
		goto out;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(b, x) != 1) {
		rc = ssl_fail(err, "writing a certificate");
		goto out;
	}
	rc = bio_string(b, pem, err);
out:
	BIO_free(b);
	EVP_PKEY_free(pub);
	X509_NAME_free(issuer);
	X509_NAME_free(subject);
	X509_free(x);
	return rc;
}

void
cr_cert_validator_name(uint32_t id, const uint8_t pub[CR_PUBKEY_LEN], char out[CR_CERT_NAME_MAX])
{
	uint8_t h[CR_HASH_LEN];
	char hex[17];
	cr_sha256(pub, CR_PUBKEY_LEN, h);
	cr_hex_encode(h, 8, hex);
	snprintf(out, CR_CERT_NAME_MAX, "chain validator %u %s", (unsigned)id, hex);
}

int
cr_cert_anchor(uint32_t id, const uint8_t pub[CR_PUBKEY_LEN], char **pem, struct ch_err *err)
{
	char name[CR_CERT_NAME_MAX];
	cr_cert_validator_name(id, pub, name);
	struct cr_cert_spec s = {.subject = name, .issuer = name, .ca = true,
				 .not_before = YEAR_2000, .not_after = YEAR_9999_END};
	struct cr_key *throwaway = NULL;
	int rc = cr_key_generate(&throwaway, err);
	if (rc == 0)
		rc = cr_cert_make(&s, pub, throwaway, pem, err);
	cr_key_free(throwaway);
	return rc;
}

int
cr_cert_peer(uint32_t id, const struct cr_key *validator_key, int64_t now, char **cert_pem,
	     char **key_pem, struct ch_err *err)
{
	uint8_t vpub[CR_PUBKEY_LEN], tpub[CR_PUBKEY_LEN];
	char issuer[CR_CERT_NAME_MAX], subject[32], san[40];
	cr_key_pubkey(validator_key, vpub);
	cr_cert_validator_name(id, vpub, issuer);
	snprintf(subject, sizeof(subject), "validator-%u", (unsigned)id);
	snprintf(san, sizeof(san), "DNS:validator-%u", (unsigned)id);
	const char *sans[] = {san};
	struct cr_cert_spec s = {.subject = subject, .issuer = issuer, .sans = sans, .nsans = 1,
				 .not_before = now - 86400, .not_after = now + 10LL * 366 * 86400};
	struct cr_key *tls = NULL;
	char *cert = NULL;
	int rc = cr_key_generate(&tls, err);
	if (rc == 0) {
		cr_key_pubkey(tls, tpub);
		rc = cr_cert_make(&s, tpub, validator_key, &cert, err);
	}
	if (rc == 0 && (rc = cr_key_pem(tls, key_pem, err)) == 0)
		*cert_pem = cert;
	else
		free(cert);
	cr_key_free(tls);
	return rc;
}

int
cr_key_pem(const struct cr_key *k, char **pem, struct ch_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc;
	if (b == NULL || PEM_write_bio_PrivateKey(b, cr_key_evp(k), NULL, NULL, 0, NULL, NULL) != 1)
		rc = ssl_fail(err, "writing a key");
	else
		rc = bio_string(b, pem, err);
	BIO_free(b);
	return rc;
}

int
cr_cert_fingerprint(const char *pem, uint8_t out[CR_HASH_LEN], struct ch_err *err)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned int n = 0;
	int rc = 0;
	if (x == NULL || X509_digest(x, EVP_sha256(), out, &n) != 1 || n != CR_HASH_LEN) {
		ERR_clear_error();
		rc = ch_errf(err, CH_E_INVALID, "not a PEM certificate");
	}
	X509_free(x);
	BIO_free(b);
	return rc;
}
