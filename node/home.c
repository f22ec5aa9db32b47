/*
 * Opening a validator's home: config.json, the genesis, the key, the data
 * directory (checked whole, and given the genesis state on a first start)
 * and the vote record; then the core on top of them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "node/log.h"
#include "node/runtime.h"

int64_t
node_disk_free(const struct node *n)
{
	struct statvfs st;
	if (statvfs(n->cfg.data_dir, &st) != 0)
		return -1;
	return (int64_t)((uint64_t)st.f_bavail * st.f_frsize);
}

/*
 * node_disk_space checks that the file system holding the data directory
 * has min_free_disk_mb free. RocksDB does not survive running out of space
 * (Debian's build asserts on a write after a failed log write), so the node
 * does not start below it, and pauses when it gets there (runtime.c).
 */
int
node_disk_space(const struct node *n, struct ch_err *err)
{
	uint64_t need = (uint64_t)n->cfg.min_free_disk_mb << 20;
	int64_t avail = node_disk_free(n);
	if (need == 0 || avail < 0 || (uint64_t)avail >= need)
		return 0; /* no check, enough, or the store reports what is wrong with the directory */
	return ch_errf(err, CH_E_IO,
		       "the disk holding %s is full: %" PRIu64 " MiB free, below min_free_disk_mb "
		       "(%u); free some space and start again",
		       n->cfg.data_dir, (uint64_t)avail >> 20, n->cfg.min_free_disk_mb);
}

/*
 * open_store opens the data directory and reads all of it once, checksums
 * included, so that a damaged directory stops the node now, with a message
 * that says what to do, rather than when a damaged record is needed.
 */
static int
open_store(struct node *n, struct ch_err *err)
{
	struct node_time t0 = node_clock();
	uint64_t keys = 0;
	/* before RocksDB writes anything; a new directory is checked once the loop runs */
	int rc = node_disk_space(n, err);
	if (rc == 0)
		rc = chain_store_open(&n->store, n->cfg.data_dir, err);
	if (rc == 0)
		rc = chain_store_verify(n->store, &keys, err);
	if (rc == CH_E_CORRUPT)
		return ch_err_wrap(err, CH_E_DB,
				   "the data directory %s is damaged; move it away and start again to "
				   "sync it from the other validators",
				   n->cfg.data_dir);
	if (rc == 0)
		log_info("store %s: %" PRIu64 " records checked in %" PRIu64 " ms", n->cfg.data_dir,
			 keys, node_clock().mono_ms - t0.mono_ms);
	return rc;
}

static int
apply_genesis(struct node *n, struct ch_err *err)
{
	const struct chain_genesis *g = &n->genesis;
	bool applied = false;
	uint8_t hash[CR_HASH_LEN], digest[CR_HASH_LEN];
	int rc = chain_store_genesis(n->store, &applied, hash, err);
	if (rc != 0)
		return rc;
	if (applied) {
		if (memcmp(hash, g->hash, CR_HASH_LEN) != 0)
			return ch_errf(err, CH_E_CONFIG,
				       "%s holds a chain with another genesis than %s; "
				       "use a fresh data directory",
				       n->cfg.data_dir, n->cfg.genesis_file);
		return 0;
	}
	struct chain_state_reader rd = chain_store_reader(n->store);
	struct chain_exec *x = NULL;
	if ((rc = chain_genesis_state(g, &rd, &x, digest, err)) == 0)
		rc = chain_store_apply_genesis(n->store, g->hash, x, digest, g->genesis_time_ms, err);
	chain_exec_free(x);
	if (rc == 0)
		log_info("applied genesis of chain %s: %zu accounts, %zu validators", g->chain_id,
			 g->naccounts, g->nvalidators);
	return rc;
}

/* find_self finds this node's key among the validators. */
static int
find_self(struct node *n, struct ch_err *err)
{
	uint8_t pub[CR_PUBKEY_LEN];
	cr_key_pubkey(n->key, pub);
	memcpy(n->self_pub, pub, CR_PUBKEY_LEN);
	for (size_t i = 0; i < n->genesis.nvalidators; i++)
		if (memcmp(n->genesis.validators[i].pub_key, pub, CR_PUBKEY_LEN) == 0) {
			n->self = (uint32_t)i;
			return 0;
		}
	/*
	 * A key the genesis does not name may have been voted in since (or be
	 * about to be): such a node syncs from genesis and votes once a set it
	 * is in rules. Only a chain whose engine follows set changes has them.
	 */
	n->self = NODE_NOT_MEMBER;
	if (strcmp(n->genesis.params.engine, "pbft") != 0)
		return ch_errf(err, CH_E_CONFIG, "the key in %s is not a validator of %s",
			       n->cfg.key_file, n->cfg.genesis_file);
	if (n->cfg.p2p_tls)
		return ch_errf(err, CH_E_CONFIG,
			       "the key in %s is not a validator of %s, and mutual TLS between "
			       "validators admits only the genesis validators' keys for now",
			       n->cfg.key_file, n->cfg.genesis_file);
	log_info("the key in %s is not among the genesis validators: this node will sync "
		 "the chain and vote once a validator set it is in rules",
		 n->cfg.key_file);
	return 0;
}

/* open_core loads the vote record and starts the core on the store. */
static int
open_core(struct node *n, struct ch_err *err)
{
	struct ch_buf rec;
	bool found = false;
	ch_buf_init(&rec);
	int rc = vote_file_open(&n->votes, n->cfg.home, &rec, &found, err);
	if (rc == 0 && !found && strcmp(n->genesis.params.engine, "pbft") == 0) {
		/* a data directory from before the vote files kept the record in the store */
		rc = chain_store_get_meta(n->store, "pbft", &rec, err);
		found = rc == 0;
		if (rc == CH_E_NOT_FOUND)
			rc = 0;
	}
	struct node_core_config cc = {
		.genesis = &n->genesis,
		.self = n->self,
		.self_pub = n->self_pub,
		.store = n->store,
		.sigcache = n->sigcache,
		.mempool = {
			.max_txs = n->cfg.mempool_max_txs,
			.max_bytes = n->cfg.mempool_max_bytes,
			.ttl_ms = n->cfg.mempool_ttl_ms,
			.max_nonce_gap = n->cfg.mempool_max_nonce_gap,
		},
		.votes = found ? rec.data : NULL,
		.votes_len = found ? rec.len : 0,
	};
	node_runtime_io(n, &cc.io);
	if (rc == 0)
		rc = node_core_open(&n->core, &cc, node_clock(), err);
	ch_buf_close(&rec);
	if (rc == 0)
		n->limits = *node_core_limits(n->core);
	return rc;
}

int
node_open(struct node **out, const char *home, struct ch_err *err)
{
	struct node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cv, &ca);
	pthread_condattr_destroy(&ca);

	int rc;
	if ((rc = node_config_load(&n->cfg, home, err)) != 0 ||
	    (rc = chain_genesis_load(&n->genesis, n->cfg.genesis_file, err)) != 0 ||
	    (rc = cr_key_load_pem(&n->key, n->cfg.key_file, err)) != 0 ||
	    (rc = find_self(n, err)) != 0 || (rc = open_store(n, err)) != 0 ||
	    (rc = apply_genesis(n, err)) != 0)
		goto fail;
	if ((rc = chain_sigcache_new(&n->sigcache, NODE_SIGCACHE_ENTRIES)) != 0) {
		ch_errf(err, rc, "out of memory");
		goto fail;
	}
	if ((rc = open_core(n, err)) != 0)
		goto fail;
	const struct chain_tip *tip = node_core_tip(n->core);
	char h[17];
	cr_hex_encode(tip->hash, 8, h);
	log_info("node %s (validator %u) of chain %s at height %" PRIu64 " (%s...)", n->cfg.moniker,
		 n->self, n->genesis.chain_id, tip->height, tip->height ? h : "genesis");
	*out = n;
	return 0;
fail:
	node_close(n);
	return rc;
}

void
node_close(struct node *n)
{
	if (n == NULL)
		return;
	node_core_close(n->core);
	vote_file_close(n->votes);
	chain_sigcache_free(n->sigcache);
	chain_store_close(n->store);
	cr_key_free(n->key);
	chain_genesis_close(&n->genesis);
	pthread_cond_destroy(&n->cv);
	pthread_mutex_destroy(&n->mu);
	free(n);
}

void
node_set_send_hook(struct node *n, node_send_hook_fn fn, void *arg)
{
	n->hook = fn;
	n->hook_arg = arg;
}

void
node_identity(const struct node *n, struct node_identity *out)
{
	out->genesis = &n->genesis;
	out->store = n->store;
	out->key = n->key;
	out->self = n->self;
}
