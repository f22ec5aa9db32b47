/*
 * nng TLS configurations from PEM strings and files (rpc/tls_internal.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "rpc/tls_internal.h"

#define PEM_FILE_MAX (1u << 20)

static int
nng_fail(struct ch_err *err, int rv, const char *what, const char *step)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", nng_strerror(rv));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return ch_errf(err, rv == NNG_ENOMEM ? CH_E_NOMEM : CH_E_CONFIG, "%s: %s: %s", what, step,
		       buf);
}

int
rpc_tls_config(nng_tls_config **out, bool server, const char *cert_pem, const char *key_pem,
	       const char *ca_pem, const char *server_name, const char *what, struct ch_err *err)
{
	nng_tls_config *c = NULL;
	int rv;
	*out = NULL;
	if ((rv = nng_tls_config_alloc(&c, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT)) != 0)
		return nng_fail(err, rv, what, "tls");
	if ((rv = nng_tls_config_version(c, NNG_TLS_1_2, NNG_TLS_1_2)) != 0) {
		nng_tls_config_free(c);
		return nng_fail(err, rv, what, "tls version");
	}
	if (cert_pem != NULL && (rv = nng_tls_config_own_cert(c, cert_pem, key_pem, NULL)) != 0) {
		nng_tls_config_free(c);
		return nng_fail(err, rv, what, "certificate or key");
	}
	if (ca_pem != NULL && (rv = nng_tls_config_ca_chain(c, ca_pem, NULL)) != 0) {
		nng_tls_config_free(c);
		return nng_fail(err, rv, what, "CA certificates");
	}
	if (server_name != NULL && (rv = nng_tls_config_server_name(c, server_name)) != 0) {
		nng_tls_config_free(c);
		return nng_fail(err, rv, what, "tls server name");
	}
	rv = nng_tls_config_auth_mode(c, ca_pem != NULL ? NNG_TLS_AUTH_MODE_REQUIRED
							: NNG_TLS_AUTH_MODE_NONE);
	if (rv != 0) {
		nng_tls_config_free(c);
		return nng_fail(err, rv, what, "tls auth mode");
	}
	*out = c;
	return 0;
}

int
rpc_tls_config_files(nng_tls_config **out, bool server, const struct rpc_tls_files *f,
		     const char *server_name, const char *what, struct ch_err *err)
{
	char *cert = NULL, *key = NULL, *ca = NULL;
	int rc = 0;
	*out = NULL;
	if (server && (f->cert == NULL || f->key == NULL))
		return ch_errf(err, CH_E_CONFIG, "%s: https needs a certificate and a key", what);
	if (!server && f->ca == NULL)
		return ch_errf(err, CH_E_CONFIG,
			       "%s: https needs the CA certificate that issued the server's (--ca FILE)",
			       what);
	if ((f->cert == NULL) != (f->key == NULL))
		return ch_errf(err, CH_E_CONFIG, "%s: a certificate needs its key, and a key its certificate",
			       what);
	if ((f->cert != NULL && (rc = ch_read_file(f->cert, PEM_FILE_MAX, &cert, NULL, err)) != 0) ||
	    (f->key != NULL && (rc = ch_read_file(f->key, PEM_FILE_MAX, &key, NULL, err)) != 0) ||
	    (f->ca != NULL && (rc = ch_read_file(f->ca, PEM_FILE_MAX, &ca, NULL, err)) != 0))
		goto out;
	rc = rpc_tls_config(out, server, cert, key, ca, server_name, what, err);
out:
	free(ca);
	if (key != NULL)
		explicit_bzero(key, strlen(key));
	free(key);
	free(cert);
	return rc;
}

bool
rpc_tls_failure(int rv)
{
	return rv == NNG_EPEERAUTH || rv == NNG_ECRYPTO;
}
