/*
 * The chain the simulated validators run: deterministic P-256 keys, a
 * genesis, signed transfers (made once per validator count and kept for the
 * process, since signing is the dear part), the reference replay of what
 * honest validators agreed on, and the signature verdicts a run shares.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "testchain.h"

#define SIM_BALANCE 1000000000ull

static struct sim_chain *
make_chain(uint32_t n)
{
	struct sim_chain *c = calloc(1, sizeof(*c));
	if (c == NULL)
		abort();
	c->n = n;
	test_genesis(&c->genesis, "sim", n, SIM_ACCOUNTS, SIM_BALANCE);
	for (uint32_t i = 0; i < SIM_MAX_N; i++) /* beyond n: joiners' keys */
		c->validator[i] = test_key("validator", i);
	for (uint32_t j = 0; j < SIM_ACCOUNTS; j++) {
		c->account[j] = test_key("account", j);
		memcpy(c->account_addr[j], c->genesis.accounts[j].address, CR_ADDR_LEN);
	}
	if (chain_sigcache_new(&c->sigcache, 1u << 10) != 0)
		abort();
	for (uint32_t k = 0; k < SIM_MAX_TXS; k++) {
		struct chain_tx *tx = &c->txs[k];
		memset(tx, 0, sizeof(*tx));
		snprintf(tx->chain_id, sizeof(tx->chain_id), "sim");
		tx->type = CHAIN_TX_TRANSFER;
		tx->nonce = k / SIM_ACCOUNTS;
		tx->amount = 1 + k;
		memcpy(tx->to, c->account_addr[(k + 1) % SIM_ACCOUNTS], CR_ADDR_LEN);
		if (chain_tx_sign(tx, c->account[k % SIM_ACCOUNTS], NULL) != 0)
			abort();
	}
	return c;
}

const struct sim_chain *
sim_chain_get(uint32_t n)
{
	/* made on first use per validator count and kept: every run of this process shares them */
	static struct sim_chain *chains[SIM_MAX_N + 1];
	if (chains[n] == NULL)
		chains[n] = make_chain(n);
	return chains[n];
}

/*
 * sim_reference_commit replays block (the honest validators' block at
 * height) on the reference store: it must be valid by the chain's rules on
 * top of the agreed chain.
 */
int
sim_reference_commit(struct sim *s, const uint8_t *block, size_t len, const struct chain_cert *cert,
		     uint64_t height)
{
	struct chain_block b;
	struct chain_base base = {.state = chain_store_reader(s->reference)};
	struct chain_exec *x = NULL;
	struct ch_err e;
	ch_err_clear(&e);
	if (chain_store_tip(s->reference, &base.tip, &e) != 0 ||
	    chain_block_decode(block, len, &b, &e) != 0) {
		sim_fail(s, "reference replay of h%" PRIu64 ": %s", height, ch_err_msg(&e));
		return -1;
	}
	const struct sim_set *set = sim_set_at(s, s->reference, height);
	int rc = set == NULL ? ch_errf(&e, CH_E_CORRUPT, "no validator set") : 0;
	if (rc == 0)
		rc = chain_block_check(&s->rules, &base, &b,
				       node_engine_proposer_of(s->o.engine, b.header.view,
							       sim_set_n(set)),
				       UINT64_MAX, &x, &e);
	if (rc == 0) {
		uint8_t digest[CR_HASH_LEN];
		chain_exec_digest(x, base.tip.state_digest, digest);
		rc = chain_store_commit(s->reference, &b, cert, x, digest, &e);
	}
	if (rc != 0)
		sim_fail(s, "block h%" PRIu64 " %s is not valid on the agreed chain: %s", height,
			 sim_hex8(b.hash), ch_err_msg(&e));
	chain_exec_free(x);
	chain_block_close(&b);
	return rc;
}

static uint64_t
verdict_key(const uint8_t pub[CR_PUBKEY_LEN], const uint8_t digest[CR_HASH_LEN],
	    const uint8_t sig[CR_SIG_LEN])
{
	uint64_t k = 0;
	for (int i = 0; i < 8; i++)
		k = k << 8 | digest[i];
	k ^= sim_mix64(ch_get_be64(sig) ^ ch_get_be64(sig + 32));
	return sim_mix64(k ^ ch_get_be64(pub + 1));
}

void
sim_keyed_sig(const uint8_t pub[CR_PUBKEY_LEN], const uint8_t digest[CR_HASH_LEN],
	      uint8_t sig[CR_SIG_LEN])
{
	uint8_t in[CR_PUBKEY_LEN + CR_HASH_LEN];
	memcpy(in, pub, CR_PUBKEY_LEN);
	memcpy(in + CR_PUBKEY_LEN, digest, CR_HASH_LEN);
	cr_sha256(in, sizeof(in), sig);
	in[0] ^= 0xff;
	cr_sha256(in, sizeof(in), sig + CR_HASH_LEN);
}

bool
sim_verify(struct sim *s, const uint8_t pub[CR_PUBKEY_LEN], const struct cr_pubkey *pk,
	   const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN])
{
	if (s->keyed_sigs) {
		uint8_t want[CR_SIG_LEN];
		sim_keyed_sig(pub, digest, want);
		return memcmp(want, sig, CR_SIG_LEN) == 0;
	}
	uint64_t k = verdict_key(pub, digest, sig);
	struct sim_verdict *v = &s->verdicts[k & (SIM_VERDICTS - 1)];
	if (v->used && v->key == k && memcmp(v->pub, pub, CR_PUBKEY_LEN) == 0 &&
	    memcmp(v->digest, digest, CR_HASH_LEN) == 0 && memcmp(v->sig, sig, CR_SIG_LEN) == 0)
		return v->ok;
	bool ok = cr_pubkey_verify(pk, digest, sig);
	s->st.verified++;
	v->used = true;
	v->key = k;
	v->ok = ok;
	memcpy(v->pub, pub, CR_PUBKEY_LEN);
	memcpy(v->digest, digest, CR_HASH_LEN);
	memcpy(v->sig, sig, CR_SIG_LEN);
	return ok;
}
