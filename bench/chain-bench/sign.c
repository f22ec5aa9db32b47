/*
 * Pre-signing transfers before the clock starts, and the machine's P-256
 * verification rate (the bound on throughput: every validator verifies
 * every transaction once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/chain-bench/bench.h"

struct sign_job {
	const struct bench_net *net;
	struct bench_tx *txs;
	const uint64_t *nonce0; /* per account, before this batch */
	size_t from, to;        /* tx numbers this thread signs */
	unsigned clients;
	int rc;
	struct ch_err err;
};

static void *
sign_thread(void *arg)
{
	struct sign_job *j = arg;
	const struct bench_net *net = j->net;
	struct chain_tx *tx = malloc(sizeof(*tx));
	struct ch_buf enc;
	ch_buf_init(&enc);
	if (tx == NULL) {
		j->rc = ch_errf(&j->err, CH_E_NOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = j->from; i < j->to && j->rc == 0; i++) {
		unsigned a = (unsigned)(i % net->naccounts);
		memset(tx, 0, sizeof(*tx));
		snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", net->chain_id);
		tx->type = CHAIN_TX_TRANSFER;
		tx->nonce = j->nonce0[a] + i / net->naccounts;
		memcpy(tx->to, net->addrs[(a + 1) % net->naccounts], CR_ADDR_LEN);
		tx->amount = 1;
		if ((j->rc = chain_tx_sign(tx, net->keys[a], &j->err)) != 0)
			break;
		ch_buf_reset(&enc);
		chain_tx_encode(tx, &enc);
		struct bench_tx *b = &j->txs[i];
		b->hex = malloc(2 * enc.len + 1);
		if (!ch_buf_ok(&enc) || b->hex == NULL) {
			j->rc = ch_errf(&j->err, CH_E_NOMEM, "out of memory");
			break;
		}
		cr_hex_encode(enc.data, enc.len, b->hex);
		b->hexlen = (uint32_t)(2 * enc.len);
		memcpy(b->hash, tx->hash, CR_HASH_LEN);
		b->client = a % j->clients;
	}
	ch_buf_close(&enc);
	free(tx);
	return NULL;
}

static size_t
hash_slot(const uint8_t hash[CR_HASH_LEN], size_t mask)
{
	uint64_t h;
	memcpy(&h, hash, sizeof(h));
	return (size_t)h & mask;
}

int
bench_sign(struct bench_net *net, size_t count, unsigned clients, unsigned threads,
	   struct bench_txset *set, struct ch_err *err)
{
	memset(set, 0, sizeof(*set));
	if (count == 0 || count >= UINT32_MAX / 2)
		return ch_errf(err, CH_E_INVALID, "cannot sign %zu transactions", count);
	if (threads < 1)
		threads = 1;
	set->txs = calloc(count, sizeof(*set->txs));
	size_t slots = 1;
	while (slots < 2 * count)
		slots <<= 1;
	set->index = calloc(slots, sizeof(*set->index));
	set->index_mask = slots - 1;
	struct sign_job *jobs = calloc(threads, sizeof(*jobs));
	pthread_t *tids = calloc(threads, sizeof(*tids));
	int rc = 0;
	if (set->txs == NULL || set->index == NULL || jobs == NULL || tids == NULL) {
		rc = ch_errf(err, CH_E_NOMEM, "out of memory for %zu transactions", count);
		goto out;
	}
	set->count = count;
	for (unsigned t = 0; t < threads; t++) {
		jobs[t] = (struct sign_job){.net = net, .txs = set->txs, .nonce0 = net->next_nonce,
					    .from = count * t / threads, .to = count * (t + 1) / threads,
					    .clients = clients};
		if (pthread_create(&tids[t], NULL, sign_thread, &jobs[t]) != 0) {
			jobs[t].rc = ch_errf(&jobs[t].err, CH_E_NOMEM, "cannot start a thread");
			tids[t] = 0;
		}
	}
	for (unsigned t = 0; t < threads; t++) {
		if (tids[t] != 0)
			pthread_join(tids[t], NULL);
		if (jobs[t].rc != 0 && rc == 0) {
			rc = jobs[t].rc;
			*err = jobs[t].err;
		}
	}
	if (rc != 0)
		goto out;
	for (unsigned a = 0; a < net->naccounts; a++)
		net->next_nonce[a] += count / net->naccounts + (a < count % net->naccounts);
	for (size_t i = 0; i < count; i++) {
		size_t s = hash_slot(set->txs[i].hash, set->index_mask);
		while (set->index[s] != 0)
			s = (s + 1) & set->index_mask;
		set->index[s] = (uint32_t)(i + 1);
	}
out:
	free(jobs);
	free(tids);
	if (rc != 0)
		bench_txset_free(set);
	return rc;
}

void
bench_txset_free(struct bench_txset *set)
{
	for (size_t i = 0; set->txs != NULL && i < set->count; i++)
		free(set->txs[i].hex);
	free(set->txs);
	free(set->index);
	memset(set, 0, sizeof(*set));
}

struct bench_tx *
bench_txset_find(const struct bench_txset *set, const uint8_t hash[CR_HASH_LEN])
{
	for (size_t s = hash_slot(hash, set->index_mask); set->index[s] != 0;
	     s = (s + 1) & set->index_mask) {
		struct bench_tx *t = &set->txs[set->index[s] - 1];
		if (memcmp(t->hash, hash, CR_HASH_LEN) == 0)
			return t;
	}
	return NULL;
}

/* ---- the verify rate ---- */

struct verify_job {
	struct cr_pubkey *pk;
	uint8_t digest[CR_HASH_LEN];
	uint8_t sig[CR_SIG_LEN];
	uint64_t until_ns;
	uint64_t done;
	bool all_ok;
};

static void *
verify_thread(void *arg)
{
	struct verify_job *j = arg;
	j->all_ok = true;
	while (bench_now_ns() < j->until_ns) {
		for (int k = 0; k < 64; k++)
			j->all_ok &= cr_pubkey_verify(j->pk, j->digest, j->sig);
		j->done += 64;
	}
	return NULL;
}

double
bench_verify_rate(unsigned threads, double seconds)
{
	struct cr_key *key = NULL;
	struct verify_job jobs[BENCH_MAX_CLIENTS];
	pthread_t tids[BENCH_MAX_CLIENTS];
	uint8_t pub[CR_PUBKEY_LEN];
	double rate = 0;
	if (threads > BENCH_MAX_CLIENTS)
		threads = BENCH_MAX_CLIENTS;
	if (cr_key_generate(&key, NULL) != 0)
		return 0;
	cr_key_pubkey(key, pub);
	memset(jobs, 0, sizeof(jobs));
	uint64_t start = bench_now_ns();
	for (unsigned t = 0; t < threads; t++) {
		cr_sha256(&t, sizeof(t), jobs[t].digest);
		if (cr_sign(key, jobs[t].digest, jobs[t].sig, NULL) != 0 ||
		    cr_pubkey_parse(&jobs[t].pk, pub, NULL) != 0)
			goto out;
	}
	start = bench_now_ns();
	for (unsigned t = 0; t < threads; t++) {
		jobs[t].until_ns = start + (uint64_t)(seconds * 1e9);
		pthread_create(&tids[t], NULL, verify_thread, &jobs[t]);
	}
	uint64_t total = 0;
	bool ok = true;
	for (unsigned t = 0; t < threads; t++) {
		pthread_join(tids[t], NULL);
		total += jobs[t].done;
		ok &= jobs[t].all_ok;
	}
	if (ok)
		rate = (double)total / ((double)(bench_now_ns() - start) / 1e9);
out:
	for (unsigned t = 0; t < threads; t++)
		cr_pubkey_free(jobs[t].pk);
	cr_key_free(key);
	return rate;
}
