/* Mutual TLS material for peer links, and the plaintext rule (peer_tls.h). */
#include "node/peer_tls.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/cert.h"

int
node_peer_tls_make(struct node_peer_tls *t, const struct chain_genesis *g,
		   const struct cr_key *key, uint32_t self, int64_t now, struct ch_err *err)
{
	uint8_t pub[CR_PUBKEY_LEN];
	cr_key_pubkey(key, pub);
	if (self >= g->nvalidators || memcmp(pub, g->validators[self].pub_key, CR_PUBKEY_LEN) != 0)
		return ch_errf(err, CH_E_CONFIG, "p2p_tls: the key is not validator %u's", self);
	int rc = cr_cert_peer(self, key, now, &t->cert, &t->key, err);
	for (size_t i = 0; rc == 0 && i < g->nvalidators; i++) {
		rc = cr_cert_anchor((uint32_t)i, g->validators[i].pub_key, &t->anchors[i], err);
		if (rc == 0)
			t->n = i + 1;
	}
	if (rc != 0)
		return ch_err_wrap(err, rc, "p2p_tls");
	t->view = (struct rpc_peer_tls){.cert_pem = t->cert,
					.key_pem = t->key,
					.anchors = (const char *const *)t->anchors};
	return 0;
}

void
node_peer_tls_close(struct node_peer_tls *t)
{
	if (t->key != NULL)
		explicit_bzero(t->key, strlen(t->key));
	free(t->key);
	free(t->cert);
	for (size_t i = 0; i < t->n; i++)
		free(t->anchors[i]);
	memset(t, 0, sizeof(*t));
}

bool
node_addr_loopback(const char *url)
{
	if (strncmp(url, "tcp://", 6) != 0)
		return false;
	const char *h = url + 6;
	if (strncmp(h, "127.", 4) == 0 || strncmp(h, "[::1]:", 6) == 0)
		return true;
	return strncmp(h, "localhost:", 10) == 0;
}

int
node_peer_plaintext_check(const struct node_config *c, const char *const *urls, size_t n,
			  size_t self, bool *warn, struct ch_err *err)
{
	const char *outside = node_addr_loopback(c->p2p_listen) ? NULL : c->p2p_listen;
	for (size_t i = 0; outside == NULL && i < n; i++)
		if (i != self && !node_addr_loopback(urls[i]))
			outside = urls[i];
	*warn = false;
	if (outside == NULL)
		return 0;
	if (!c->allow_plaintext_peers)
		return ch_errf(err, CH_E_CONFIG,
			       "peer links to %s would be plaintext: set \"p2p_tls\": true in "
			       "config.json (on every validator), or \"allow_plaintext_peers\": true "
			       "for a network you trust",
			       outside);
	*warn = true;
	return 0;
}
