/*
 * The TLS files of a network's HTTPS endpoints (cli.h): a network CA, and
 * certificates it issues to each validator's JSON-RPC endpoint and to a
 * client. Peer links need none of these: they use the validator keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "crypto/cert.h"
#include "node/cli/cli.h"
#include "node/log.h"

#define DAY 86400LL

static int
write_key(const struct cr_key *k, const char *path, struct ch_err *err)
{
	char *pem = NULL;
	int rc = cr_key_pem(k, &pem, err);
	if (rc == 0)
		rc = ch_write_new_file(path, pem, strlen(pem), 0600, err);
	if (pem != NULL)
		explicit_bzero(pem, strlen(pem));
	free(pem);
	return rc;
}

int
node_tls_ca_new(const char *name, const char *cert_path, const char *key_path,
		struct node_tls_ca *ca, struct ch_err *err)
{
	int64_t now = (int64_t)(node_clock().wall_ms / 1000);
	uint8_t pub[CR_PUBKEY_LEN];
	memset(ca, 0, sizeof(*ca));
	snprintf(ca->name, sizeof(ca->name), "%s", name);
	int rc = cr_key_generate(&ca->key, err);
	if (rc != 0)
		return rc;
	cr_key_pubkey(ca->key, pub);
	struct cr_cert_spec s = {.subject = ca->name, .issuer = ca->name, .ca = true,
				 .not_before = now - DAY, .not_after = now + 10 * 366 * DAY};
	if ((rc = cr_cert_make(&s, pub, ca->key, &ca->cert, err)) != 0 ||
	    (rc = ch_write_new_file(cert_path, ca->cert, strlen(ca->cert), 0644, err)) != 0 ||
	    (rc = write_key(ca->key, key_path, err)) != 0)
		node_tls_ca_close(ca);
	return rc;
}

void
node_tls_ca_close(struct node_tls_ca *ca)
{
	cr_key_free(ca->key);
	free(ca->cert);
	memset(ca, 0, sizeof(*ca));
}

int
node_tls_issue(const struct node_tls_ca *ca, const char *subject, const char *const *sans,
	       size_t nsans, const char *cert_path, const char *key_path, struct ch_err *err)
{
	int64_t now = (int64_t)(node_clock().wall_ms / 1000);
	uint8_t pub[CR_PUBKEY_LEN];
	struct cr_key *k = NULL;
	char *pem = NULL;
	struct cr_cert_spec s = {.subject = subject, .issuer = ca->name, .sans = sans,
				 .nsans = nsans, .not_before = now - DAY,
				 .not_after = now + 2 * 366 * DAY};
	int rc = cr_key_generate(&k, err);
	if (rc == 0) {
		cr_key_pubkey(k, pub);
		rc = cr_cert_make(&s, pub, ca->key, &pem, err);
	}
	if (rc == 0)
		rc = ch_write_new_file(cert_path, pem, strlen(pem), 0644, err);
	if (rc == 0)
		rc = write_key(k, key_path, err);
	free(pem);
	cr_key_free(k);
	return rc;
}
