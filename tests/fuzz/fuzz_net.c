/* The fixed network of fuzz_peer and gen_peer_seeds (fuzz_net.h). */
#include "fuzz_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testchain.h"

static void
io_send(void *arg, int to, const uint8_t *msg, size_t len)
{
}

static int
io_save_votes(void *arg, const uint8_t *rec, size_t len, struct ch_err *err)
{
	struct fuzz_net *f = arg;
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	memcpy(copy, rec, len);
	free(f->votes);
	f->votes = copy;
	f->votes_len = len;
	return 0;
}

static bool
io_sign(void *arg, const uint8_t digest[CR_HASH_LEN], uint8_t sig[CR_SIG_LEN])
{
	struct fuzz_net *f = arg;
	return cr_sign(f->key, digest, sig, NULL) == 0;
}

static uint64_t
io_random(void *arg)
{
	struct fuzz_net *f = arg;
	return f->now * 0x9e3779b97f4a7c15ull; /* request ids: the seeds answer id 0 */
}

static void
io_log(void *arg, enum node_log_level level, const char *line)
{
	struct fuzz_net *f = arg;
	if (f->log)
		fprintf(stderr, "fuzz_peer: node: %s\n", line);
}

struct node_time
fuzz_net_time(struct fuzz_net *f)
{
	struct node_time t = {.mono_ms = f->now, .wall_ms = f->genesis.genesis_time_ms + f->now};
	f->now++;
	return t;
}

int
fuzz_net_open(struct fuzz_net *f, struct ch_err *err)
{
	memset(f, 0, sizeof(*f));
	f->log = getenv("FUZZ_PEER_LOG") != NULL;
	test_genesis(&f->genesis, FUZZ_CHAIN_ID, FUZZ_VALIDATORS, FUZZ_ACCOUNTS, 1000000000);
	f->key = test_key("validator", FUZZ_SELF);
	int rc = chain_mem_env_new(&f->env, err);
	if (rc == 0)
		rc = test_store_open(&f->store, f->env, "/fuzz", &f->genesis, err);
	if (rc == 0 && chain_sigcache_new(&f->sigs, 1u << 12) != 0)
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
	if (rc != 0)
		return rc;
	struct node_core_config cfg = {
		.genesis = &f->genesis,
		.self = FUZZ_SELF,
		.store = f->store,
		.sigcache = f->sigs,
		.mempool = {.max_txs = 1000, .max_bytes = 1u << 20, .ttl_ms = 600000,
			    .max_nonce_gap = 100},
		.io = {.arg = f, .send = io_send, .save_votes = io_save_votes, .sign = io_sign,
		       .verify = node_io_verify, .random = io_random, .log = io_log},
	};
	return node_core_open(&f->core, &cfg, fuzz_net_time(f), err);
}

void
fuzz_net_close(struct fuzz_net *f)
{
	node_core_close(f->core);
	chain_store_close(f->store);
	chain_mem_env_free(f->env);
	chain_sigcache_free(f->sigs);
	cr_key_free(f->key);
	chain_genesis_close(&f->genesis);
	free(f->votes);
	memset(f, 0, sizeof(*f));
}
