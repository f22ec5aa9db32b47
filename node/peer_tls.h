/*
 * peer_tls.h - what a validator's peer links need for mutual TLS, made at
 * start from its key and the genesis: a fresh TLS key with a certificate
 * issued by the validator key, and one trust anchor per genesis validator
 * (crypto/cert.h). Nothing of it is stored: a restart makes new ones. And
 * the rule for links without TLS: loopback only, unless allowed.
 */
#ifndef NODE_PEER_TLS_H
#define NODE_PEER_TLS_H

#include "chain/genesis.h"
#include "crypto/crypto.h"
#include "node/config.h"
#include "rpc/tls.h"

struct node_peer_tls {
	char *cert, *key;                       /* PEM, owned */
	char *anchors[CHAIN_MAX_VALIDATORS];    /* PEM, owned */
	size_t n;
	struct rpc_peer_tls view;               /* points into the above, for rpc_peer_start */
};

/*
 * node_peer_tls_make fills t (zeroed by the caller) for validator self of g
 * holding key (borrowed), at wall time now (unix seconds). Free with
 * node_peer_tls_close, also after a failure.
 */
int node_peer_tls_make(struct node_peer_tls *t, const struct chain_genesis *g,
		       const struct cr_key *key, uint32_t self, int64_t now, struct ch_err *err);

/* node_peer_tls_close wipes the key and frees everything t holds. */
void node_peer_tls_close(struct node_peer_tls *t);

/* node_addr_loopback is true for tcp://127.x.y.z:port, tcp://localhost:port and tcp://[::1]:port. */
bool node_addr_loopback(const char *url);

/*
 * node_peer_plaintext_check refuses (CH_E_CONFIG) peer links without TLS
 * when p2p_listen or one of the n peer addresses (urls[self] is not read)
 * is not loopback, unless c->allow_plaintext_peers; *warn is set when it
 * lets such links through.
 */
int node_peer_plaintext_check(const struct node_config *c, const char *const *urls, size_t n,
			      size_t self, bool *warn, struct ch_err *err);

#endif
