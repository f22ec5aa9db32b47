#include "testchain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cr_key *
test_key(const char *label, uint32_t i)
{
	char text[64];
	uint8_t secret[CR_HASH_LEN];
	struct cr_key *k = NULL;
	snprintf(text, sizeof(text), "chaind test key %s %u", label, i);
	cr_sha256(text, strlen(text), secret);
	if (cr_key_from_secret(&k, secret, NULL) != 0)
		abort(); /* a SHA-256 output is a valid scalar but for a 2^-128 chance */
	return k;
}

void
test_genesis(struct chain_genesis *g, const char *chain_id, uint32_t n, uint32_t m,
	     uint64_t balance)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->chain_id, sizeof(g->chain_id), "%s", chain_id);
	g->genesis_time_ms = 1700000000000ull;
	chain_params_default(&g->params);
	g->nvalidators = n;
	for (uint32_t i = 0; i < n; i++) {
		struct cr_key *k = test_key("validator", i);
		cr_key_pubkey(k, g->validators[i].pub_key);
		cr_key_free(k);
		snprintf(g->validators[i].id, sizeof(g->validators[i].id), "n%u", i);
		snprintf(g->validators[i].p2p_address, sizeof(g->validators[i].p2p_address),
			 "sim://%u", i);
	}
	g->naccounts = m;
	if ((g->accounts = calloc(m ? m : 1, sizeof(*g->accounts))) == NULL)
		abort();
	for (uint32_t j = 0; j < m; j++) {
		uint8_t pub[CR_PUBKEY_LEN];
		struct cr_key *k = test_key("account", j);
		cr_key_pubkey(k, pub);
		cr_key_free(k);
		cr_address(pub, g->accounts[j].address);
		g->accounts[j].balance = balance;
	}
	memset(g->hash, 0x5a, CR_HASH_LEN); /* not read from a file */
}

int
test_store_open(struct chain_store **out, struct chain_mem_env *env, const char *dir,
		const struct chain_genesis *g, struct ch_err *err)
{
	struct chain_store *s = NULL;
	bool applied = false;
	uint8_t hash[CR_HASH_LEN], digest[CR_HASH_LEN];
	int rc = chain_store_open_mem(&s, env, dir, err);
	if (rc == 0)
		rc = chain_store_genesis(s, &applied, hash, err);
	if (rc == 0 && !applied) {
		struct chain_state_reader rd = chain_store_reader(s);
		struct chain_exec *x = NULL;
		if ((rc = chain_genesis_state(g, &rd, &x, digest, err)) == 0)
			rc = chain_store_apply_genesis(s, g->hash, x, digest, g->genesis_time_ms, err);
		chain_exec_free(x);
	}
	if (rc != 0) {
		chain_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
test_block_append(struct chain_block *b, const struct chain_tx *tx)
{
	struct chain_tx *t = realloc(b->txs, (b->header.tx_count + 1) * sizeof(*t));
	if (t == NULL)
		abort();
	b->txs = t;
	b->txs[b->header.tx_count++] = *tx;
}

bool
test_committed_tx(struct chain_store *store, struct chain_tx *out)
{
	struct ch_buf blk;
	struct chain_block b;
	bool ok = false;
	ch_buf_init(&blk);
	if (store != NULL && chain_store_block(store, 1, &blk, NULL, NULL) == 0 &&
	    chain_block_decode(blk.data, blk.len, &b, NULL) == 0) {
		*out = b.txs[0];
		ok = true;
		chain_block_close(&b);
	}
	ch_buf_close(&blk);
	return ok;
}
