/*
 * tls_internal.h - building nng TLS configurations from PEM strings and
 * files, for the files of rpc/ that open TLS endpoints.
 */
#ifndef RPC_TLS_INTERNAL_H
#define RPC_TLS_INTERNAL_H

#include <stdbool.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "common/err.h"
#include "rpc/tls.h"

/*
 * rpc_tls_config makes a TLS 1.2 configuration (free with
 * nng_tls_config_free). cert_pem/key_pem (may be NULL) are our own; if
 * ca_pem is set the other side must present a certificate issued under it,
 * else (only for a server) none is asked for. A client checks that the
 * server's certificate names server_name (NULL: no name check). Strings are
 * copied. Errors begin with what.
 */
int rpc_tls_config(nng_tls_config **out, bool server, const char *cert_pem, const char *key_pem,
		   const char *ca_pem, const char *server_name, const char *what,
		   struct ch_err *err);

/* rpc_tls_config_files is rpc_tls_config reading f's files; errors name the file. */
int rpc_tls_config_files(nng_tls_config **out, bool server, const struct rpc_tls_files *f,
			 const char *server_name, const char *what, struct ch_err *err);

/* rpc_tls_failure is true for nng's results that mean a failed or broken TLS session. */
bool rpc_tls_failure(int rv);

#endif
