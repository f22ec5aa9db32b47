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
test_key_address(const struct cr_key *k, uint8_t out[CR_ADDR_LEN])
{
	uint8_t pub[CR_PUBKEY_LEN];
	cr_key_pubkey(k, pub);
	cr_address(pub, out);
}

void
test_genesis(struct chain_genesis *g, const char *chain_id, uint32_t n, uint32_t m,
	     uint64_t balance)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->chain_id, sizeof(g->chain_id), "%s", chain_id);
	g->genesis_time_ms = TEST_GENESIS_MS;
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
		struct cr_key *k = test_key("account", j);
		test_key_address(k, g->accounts[j].address);
		cr_key_free(k);
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

int
test_chain_open(struct test_chain *c, const char *dir, struct ch_err *err)
{
	int rc = chain_mem_env_new(&c->env, err);
	if (rc == 0)
		rc = test_store_open(&c->store, c->env, dir, &c->genesis, err);
	if (rc == 0)
		rc = chain_store_tip(c->store, &c->tip, err);
	if (rc == 0)
		chain_rules_init(&c->rules, &c->genesis);
	return rc;
}

void
test_chain_close(struct test_chain *c)
{
	chain_store_close(c->store);
	chain_mem_env_free(c->env);
	chain_genesis_close(&c->genesis);
	c->store = NULL;
	c->env = NULL;
}

const struct chain_mempool_config test_mempool_config = {
	.max_txs = 1000, .max_bytes = 1 << 20, .ttl_ms = 600000, .max_nonce_gap = 16};

void
test_transfer(struct chain_tx *tx, const struct cr_key *k, const char *chain_id, uint64_t nonce,
	      const uint8_t to[CR_ADDR_LEN], uint64_t amount)
{
	memset(tx, 0, sizeof(*tx));
	snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", chain_id);
	tx->type = CHAIN_TX_TRANSFER;
	tx->nonce = nonce;
	memcpy(tx->to, to, CR_ADDR_LEN);
	tx->amount = amount;
	if (chain_tx_sign(tx, k, NULL) != 0)
		abort();
}

void
test_set(struct chain_tx *tx, const struct cr_key *k, const char *chain_id, uint64_t nonce,
	 const char *name, const void *value, size_t value_len)
{
	if (value_len > CHAIN_MAX_VALUE)
		abort();
	memset(tx, 0, sizeof(*tx));
	snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", chain_id);
	tx->type = CHAIN_TX_SET;
	tx->nonce = nonce;
	snprintf(tx->name, sizeof(tx->name), "%s", name);
	tx->value_len = (uint16_t)value_len;
	if (value_len > 0)
		memcpy(tx->value, value, value_len);
	if (chain_tx_sign(tx, k, NULL) != 0)
		abort();
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
