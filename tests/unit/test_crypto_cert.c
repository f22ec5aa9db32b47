/* crypto/cert.h: anchors and peer certificates, checked with OpenSSL's own verifier. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "crypto/cert.h"
#include "test.h"

static X509 *
parse(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return x;
}

/* verifies: leaf_pem chains to anchor_pem (the only trusted certificate) */
static bool
verifies(const char *leaf_pem, const char *anchor_pem)
{
	X509 *leaf = parse(leaf_pem), *anchor = parse(anchor_pem);
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	bool ok = leaf != NULL && anchor != NULL && st != NULL && ctx != NULL &&
		  X509_STORE_add_cert(st, anchor) == 1 &&
		  X509_STORE_CTX_init(ctx, st, leaf, NULL) == 1 && X509_verify_cert(ctx) == 1;
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(anchor);
	X509_free(leaf);
	return ok;
}

static struct cr_key *
key(void)
{
	struct cr_key *k = NULL;
	if (cr_key_generate(&k, NULL) != 0)
		abort();
	return k;
}

static void
test_peer_chains_to_its_anchor_only(void)
{
	struct cr_key *v1 = key(), *v2 = key();
	uint8_t p1[CR_PUBKEY_LEN], p2[CR_PUBKEY_LEN];
	cr_key_pubkey(v1, p1);
	cr_key_pubkey(v2, p2);
	char *a1 = NULL, *a1b = NULL, *a2 = NULL, *cert = NULL, *tkey = NULL;
	struct ch_err e;
	REQUIRE(cr_cert_anchor(1, p1, &a1, &e) == 0);
	REQUIRE(cr_cert_anchor(1, p1, &a1b, &e) == 0); /* made again: another signature, same anchor */
	REQUIRE(cr_cert_anchor(2, p2, &a2, &e) == 0);
	CHECK(strcmp(a1, a1b) != 0);
	REQUIRE(cr_cert_peer(1, v1, (int64_t)time(NULL), &cert, &tkey, &e) == 0);
	CHECK(strstr(tkey, "BEGIN PRIVATE KEY") != NULL);
	CHECK(verifies(cert, a1));
	CHECK(verifies(cert, a1b));
	CHECK(!verifies(cert, a2)); /* another validator's anchor */
	free(cert);
	free(tkey);
	/* validator 2's key issuing under validator 1's index: not under 1's anchor */
	REQUIRE(cr_cert_peer(1, v2, (int64_t)time(NULL), &cert, &tkey, &e) == 0);
	CHECK(!verifies(cert, a1));
	free(cert);
	free(tkey);
	/* a certificate in validator 1's name made with a key of its own */
	char issuer[CR_CERT_NAME_MAX];
	cr_cert_validator_name(1, p1, issuer);
	struct cr_key *forger = key();
	uint8_t pf[CR_PUBKEY_LEN];
	cr_key_pubkey(forger, pf);
	struct cr_cert_spec s = {.subject = "validator-1", .issuer = issuer,
				 .not_before = 1700000000, .not_after = 1900000000};
	REQUIRE(cr_cert_make(&s, pf, forger, &cert, &e) == 0);
	CHECK(!verifies(cert, a1));
	free(cert);
	cr_key_free(forger);
	free(a1);
	free(a1b);
	free(a2);
	cr_key_free(v1);
	cr_key_free(v2);
}

static void
test_names_and_sans(void)
{
	struct cr_key *k = key(), *k2 = key();
	uint8_t p[CR_PUBKEY_LEN], p2[CR_PUBKEY_LEN];
	cr_key_pubkey(k, p);
	cr_key_pubkey(k2, p2);
	char n1[CR_CERT_NAME_MAX], n1again[CR_CERT_NAME_MAX], n2[CR_CERT_NAME_MAX];
	cr_cert_validator_name(3, p, n1);
	cr_cert_validator_name(3, p, n1again);
	cr_cert_validator_name(3, p2, n2);
	CHECK(strcmp(n1, n1again) == 0);
	CHECK(strcmp(n1, n2) != 0); /* the key is in the name */
	CHECK(strncmp(n1, "chain validator 3 ", 18) == 0);
	char *pem = NULL;
	struct ch_err e;
	const char *bad[][1] = {{"DNS:a,b"}, {"FOO:x"}, {"DNS:"}, {"IP:1.2.3.4 x"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cr_cert_spec s = {.subject = "x", .issuer = "x", .sans = bad[i], .nsans = 1,
					 .not_before = 0, .not_after = 1};
		CHECK_EQ_INT(cr_cert_make(&s, p, k, &pem, &e), CH_E_INVALID);
	}
	struct cr_cert_spec empty = {.subject = "", .issuer = "x", .not_after = 1};
	CHECK_EQ_INT(cr_cert_make(&empty, p, k, &pem, &e), CH_E_INVALID);
	const char *good[] = {"DNS:localhost", "IP:127.0.0.1", "DNS:10.0.0.1"};
	struct cr_cert_spec s = {.subject = "node0", .issuer = "node0", .sans = good, .nsans = 3,
				 .not_before = 1700000000, .not_after = 1900000000};
	REQUIRE(cr_cert_make(&s, p, k, &pem, &e) == 0);
	X509 *x = parse(pem);
	REQUIRE(x != NULL);
	CHECK(X509_check_host(x, "localhost", 0, 0, NULL) == 1);
	CHECK(X509_check_ip_asc(x, "127.0.0.1", 0) == 1);
	uint8_t fp[CR_HASH_LEN], want[CR_HASH_LEN];
	unsigned int n = 0;
	REQUIRE(cr_cert_fingerprint(pem, fp, &e) == 0);
	REQUIRE(X509_digest(x, EVP_sha256(), want, &n) == 1 && n == CR_HASH_LEN);
	CHECK(memcmp(fp, want, CR_HASH_LEN) == 0);
	CHECK_EQ_INT(cr_cert_fingerprint("not a certificate", fp, &e), CH_E_INVALID);
	X509_free(x);
	free(pem);
	cr_key_free(k);
	cr_key_free(k2);
}

int
main(void)
{
	RUN(test_peer_chains_to_its_anchor_only);
	RUN(test_names_and_sans);
	return TEST_DONE();
}
