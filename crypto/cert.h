/*
 * cert.h - X.509 certificates for TLS, made with OpenSSL: the trust anchors
 * that bind a peer link to a validator key of the genesis, the short-lived
 * certificates a validator issues itself with that key, and the CA and
 * server certificates of a local network's HTTPS endpoints.
 *
 * Every key here is P-256 and every signature ECDSA with SHA-256. PEM
 * strings are malloc'd, NUL-terminated, and owned by the caller (free()).
 */
#ifndef CR_CERT_H
#define CR_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define CR_CERT_NAME_MAX 96

/* What a certificate says. Strings are borrowed for the call. */
struct cr_cert_spec {
	const char *subject;     /* the subject's common name */
	const char *issuer;      /* the issuer's common name; == subject for a self-issued one */
	const char *const *sans; /* subjectAltName entries, "DNS:name" or "IP:addr" */
	size_t nsans;
	bool ca;                 /* basicConstraints CA:TRUE (may issue), keyCertSign */
	int64_t not_before;      /* unix seconds */
	int64_t not_after;
};

/*
 * cr_cert_make writes to *pem a certificate for the public key subject_pub
 * as s describes, signed by signer (borrowed). The serial is random.
 * Errors: CH_E_INVALID for a bad SAN or name, CH_E_CRYPTO, CH_E_NOMEM.
 */
int cr_cert_make(const struct cr_cert_spec *s, const uint8_t subject_pub[CR_PUBKEY_LEN],
		 const struct cr_key *signer, char **pem, struct ch_err *err);

/*
 * cr_cert_validator_name writes the name under which validator id, whose
 * genesis key is pub, issues its peer certificates:
 * "chain validator ID KEYPREFIX" (KEYPREFIX: the first 8 bytes of
 * SHA-256(pub) in hex), so that two keys never share a name.
 */
void cr_cert_validator_name(uint32_t id, const uint8_t pub[CR_PUBKEY_LEN],
			    char out[CR_CERT_NAME_MAX]);

/*
 * cr_cert_anchor writes to *pem the trust anchor of validator id's key pub:
 * a CA certificate named cr_cert_validator_name, valid from 2000 to 9999.
 * Only its name and key matter to a verifier (RFC 5280, 6.1.1: a trust
 * anchor is a name and a key); it is signed with a throwaway key, since no
 * verifier checks an anchor's own signature. Anyone can make it from the
 * genesis; only the holder of the validator key can issue under it.
 */
int cr_cert_anchor(uint32_t id, const uint8_t pub[CR_PUBKEY_LEN], char **pem,
		   struct ch_err *err);

/*
 * cr_cert_peer issues a fresh P-256 TLS key and a certificate for it under
 * validator id's anchor, signed by that validator's key (borrowed), with
 * the subject alternative name DNS:validator-ID, valid from a day before
 * now to ten years after. *cert_pem and *key_pem (PKCS#8) are the caller's.
 */
int cr_cert_peer(uint32_t id, const struct cr_key *validator_key, int64_t now, char **cert_pem,
		 char **key_pem, struct ch_err *err);

/* cr_key_pem writes k (borrowed) as unencrypted PKCS#8 PEM to *pem. */
int cr_key_pem(const struct cr_key *k, char **pem, struct ch_err *err);

/*
 * cr_cert_fingerprint writes the SHA-256 of the first certificate's DER in
 * pem. CH_E_INVALID if pem holds no certificate.
 */
int cr_cert_fingerprint(const char *pem, uint8_t out[CR_HASH_LEN], struct ch_err *err);

#endif
