/*
 * tls.h - TLS for the node's nng endpoints (nng's TLS over mbedTLS, TLS 1.2):
 * mutual TLS on peer links (rpc/peer.h) and HTTPS for JSON-RPC servers and
 * clients (rpc/http_server.h, rpc/client.h).
 *
 * Peer links authenticate both ends against trust anchors made from the
 * genesis keys (crypto/cert.h): the listener accepts a certificate issued
 * under any validator's anchor, and the connection to validator i accepts
 * only one issued under validator i's. The handshake completes before the
 * first byte of the peer protocol is read.
 */
#ifndef RPC_TLS_H
#define RPC_TLS_H

#include <stddef.h>

/* Mutual TLS for peer links. Every string is borrowed for rpc_peer_start's call. */
struct rpc_peer_tls {
	const char *cert_pem;       /* this validator's certificate (cr_cert_peer) */
	const char *key_pem;        /* and its key */
	const char *const *anchors; /* one PEM anchor per validator, indexed as the peer URLs */
};

/*
 * PEM files of an HTTPS server or client; NULL members are absent. The
 * paths are borrowed for the call that takes them.
 *   server: cert and key are required; ca, if set, makes the server demand
 *           a client certificate issued by one of its certificates.
 *   client: ca is required for https:// (there is no system store); cert
 *           and key, if set, are offered to a server that asks.
 */
struct rpc_tls_files {
	const char *cert, *key, *ca;
};

#endif
