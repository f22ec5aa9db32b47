/*
 * store.c - the RocksDB store (key layout in store.h).
 *
 * Every RocksDB error string is converted into a struct ch_err here, once.
 * Values are fixed-size big-endian records except blocks, certificates, data
 * values and metadata; a fixed-size record of the wrong length is reported
 * as CH_E_DB, never read partially.
 */
#include "chain/store.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rocksdb/c.h>

#include "common/file.h"

#define TIP_LEN (8 + CR_HASH_LEN + CR_HASH_LEN + 8)
#define ACCT_LEN 16
#define TXLOC_LEN 12
#define META_NAME_MAX 128
#define HEIGHT_KEY_LEN (1 + 8)
#define HASH_KEY_LEN (1 + CR_HASH_LEN)
#define DATA_KEY_MAX (1 + CR_ADDR_LEN + CHAIN_MAX_NAME)

/*
 * Committed accounts kept in memory (direct-mapped by address), so the
 * admission, block building and validation paths rarely reach RocksDB.
 * A commit holds cache_mu across its batch write and puts every account it
 * changed into the cache before letting go, so no reader sees the new tip
 * with an old account; a reader only fills a slot if no commit came in
 * between (cache_gen), so a value read before a commit never outlives it.
 */
#define ACCT_CACHE_SLOTS 65536

struct acct_slot {
	uint8_t addr[CR_ADDR_LEN];
	bool used;
	struct chain_account a;
};

struct chain_store {
	rocksdb_t *db;
	rocksdb_readoptions_t *rd;
	rocksdb_writeoptions_t *wr_sync;
	void (*on_sync)(void *arg, double seconds); /* chain_store_observe_syncs */
	void *on_sync_arg;
	pthread_mutex_t cache_mu;
	uint64_t cache_gen;
	struct acct_slot *cache;
};

/*
 * db_code classifies a RocksDB error string: RocksDB's C API gives only the
 * text of its Status, whose corruption kind starts with "Corruption".
 */
static int
db_code(const char *msg)
{
	return msg != NULL && strncmp(msg, "Corruption", 10) == 0 ? CH_E_CORRUPT : CH_E_DB;
}

/* db_err records a RocksDB error string as CH_E_DB or CH_E_CORRUPT and frees it. */
static int
db_err(struct ch_err *err, char *msg, const char *what)
{
	int rc = ch_errf(err, db_code(msg), "rocksdb %s: %s", what,
			 msg != NULL ? msg : "unknown error");
	rocksdb_free(msg);
	return rc;
}

struct chain_mem_env {
	rocksdb_env_t *env;
};

int
chain_mem_env_new(struct chain_mem_env **out, struct ch_err *err)
{
	struct chain_mem_env *e = calloc(1, sizeof(*e));
	if (e == NULL || (e->env = rocksdb_create_mem_env()) == NULL) {
		free(e);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	*out = e;
	return 0;
}

void
chain_mem_env_free(struct chain_mem_env *e)
{
	if (e == NULL)
		return;
	rocksdb_env_destroy(e->env);
	free(e);
}

static int store_open(struct chain_store **out, rocksdb_env_t *env, const char *dir,
		      struct ch_err *err);

/* tune sets the options of the node's databases (and of the copies chain_store_backup makes). */
static void
tune(rocksdb_options_t *opts, rocksdb_block_based_table_options_t *topts)
{
	/* The table options take ownership of the filter policy. */
	rocksdb_block_based_options_set_filter_policy(topts, rocksdb_filterpolicy_create_bloom(10));
	rocksdb_options_set_block_based_table_factory(opts, topts);
	/* a bloom filter in front of the memtable: most lookups (new transaction hashes) miss */
	rocksdb_options_set_memtable_prefix_bloom_size_ratio(opts, 0.02);
	rocksdb_options_set_memtable_whole_key_filtering(opts, 1);
	rocksdb_options_set_create_if_missing(opts, 1);
	rocksdb_options_set_max_open_files(opts, 256);
	rocksdb_options_set_keep_log_file_num(opts, 4);
}

int
chain_store_open(struct chain_store **out, const char *dir, struct ch_err *err)
{
	return store_open(out, NULL, dir, err);
}

int
chain_store_open_mem(struct chain_store **out, struct chain_mem_env *env, const char *dir,
		     struct ch_err *err)
{
	return store_open(out, env->env, dir, err);
}

static int
store_open(struct chain_store **out, rocksdb_env_t *env, const char *dir, struct ch_err *err)
{
	int rc = 0;
	char *e = NULL;
	rocksdb_options_t *opts = rocksdb_options_create();
	rocksdb_block_based_table_options_t *topts = rocksdb_block_based_options_create();
	struct chain_store *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->cache = calloc(ACCT_CACHE_SLOTS, sizeof(*s->cache))) == NULL) {
		free(s);
		rc = ch_errf(err, CH_E_NOMEM, "out of memory opening the store");
		goto out;
	}
	pthread_mutex_init(&s->cache_mu, NULL);
	tune(opts, topts);
	if (env != NULL)
		rocksdb_options_set_env(opts, env);
	s->rd = rocksdb_readoptions_create();
	s->wr_sync = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(s->wr_sync, 1);
	s->db = rocksdb_open(opts, dir, &e);
	if (e != NULL) {
		rc = ch_errf(err, db_code(e), "rocksdb open %s: %s", dir, e);
		rocksdb_free(e);
		chain_store_close(s);
		goto out;
	}
	*out = s;
out:
	rocksdb_block_based_options_destroy(topts);
	rocksdb_options_destroy(opts);
	return rc;
}

int
chain_store_verify(struct chain_store *s, uint64_t *keys, struct ch_err *err)
{
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_verify_checksums(ro, 1);
	rocksdb_readoptions_set_fill_cache(ro, 0);
	rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, ro);
	uint64_t n = 0;
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it))
		n++;
	char *e = NULL;
	rocksdb_iter_get_error(it, &e);
	rocksdb_iter_destroy(it);
	rocksdb_readoptions_destroy(ro);
	*keys = n;
	return e != NULL ? db_err(err, e, "verify") : 0;
}

/* ---- backups ---- */

#define BACKUP_BATCH_BYTES (4u << 20)
#define SECONDARY_TRIES 3

/*
 * open_secondary opens dir as a secondary instance (its own files in sec)
 * caught up with the primary. A primary that runs deletes old log and table
 * files as it goes; a try that meets one just deleted is tried again.
 */
static int
open_secondary(const char *dir, const char *sec, rocksdb_t **out, struct ch_err *err)
{
	rocksdb_options_t *opts = rocksdb_options_create();
	/* required of a secondary: a table file stays readable once the primary deletes it */
	rocksdb_options_set_max_open_files(opts, -1);
	rocksdb_t *db = NULL;
	char *e = NULL;
	int rc = 0;
	for (int i = 0; i < SECONDARY_TRIES; i++) {
		if (e != NULL) {
			rocksdb_free(e);
			e = NULL;
			usleep(100000);
		}
		db = rocksdb_open_as_secondary(opts, dir, sec, &e);
		if (e == NULL)
			rocksdb_try_catch_up_with_primary(db, &e);
		if (e == NULL)
			break;
		if (db != NULL)
			rocksdb_close(db);
		db = NULL;
	}
	if (e != NULL) {
		rc = ch_errf(err, db_code(e), "rocksdb open %s as a secondary instance: %s", dir,
			     e);
		rocksdb_free(e);
	}
	*out = db;
	rocksdb_options_destroy(opts);
	return rc;
}

/* put_batch writes wb to db (synced if sync) and empties it. */
static int
put_batch(rocksdb_t *db, rocksdb_writebatch_t *wb, bool sync, const char *dir, struct ch_err *err)
{
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
	char *e = NULL;
	rocksdb_writeoptions_set_sync(wo, sync);
	rocksdb_write(db, wo, wb, &e);
	rocksdb_writeoptions_destroy(wo);
	rocksdb_writebatch_clear(wb);
	if (e == NULL)
		return 0;
	int rc = ch_errf(err, db_code(e), "rocksdb write %s: %s", dir, e);
	rocksdb_free(e);
	return rc;
}

int
chain_store_backup(const char *data_dir, const char *dest_dir, uint64_t *keys, struct ch_err *err)
{
	char sec[1024];
	const char *tmp = getenv("TMPDIR");
	struct stat st;
	rocksdb_t *src = NULL, *dst = NULL;
	rocksdb_options_t *opts = rocksdb_options_create();
	rocksdb_block_based_table_options_t *topts = rocksdb_block_based_options_create();
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
	rocksdb_iterator_t *it = NULL;
	bool made_sec = false, made_dest = false;
	uint64_t n = 0;
	size_t bytes = 0;
	char *e = NULL;
	int rc = 0;
	*keys = 0;
	snprintf(sec, sizeof(sec), "%s/chain-backup.XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
	if (lstat(dest_dir, &st) == 0) {
		rc = ch_errf(err, CH_E_EXISTS, "%s already exists: a copy goes to a new directory",
			     dest_dir);
		goto out;
	}
	if (mkdtemp(sec) == NULL) {
		rc = ch_errf(err, CH_E_IO, "cannot create a temporary directory %s: %s", sec,
			     strerror(errno));
		goto out;
	}
	made_sec = true;
	if ((rc = open_secondary(data_dir, sec, &src, err)) != 0)
		goto out;
	tune(opts, topts);
	rocksdb_options_set_error_if_exists(opts, 1);
	made_dest = true; /* it did not exist: whatever is there now is this copy's */
	dst = rocksdb_open(opts, dest_dir, &e);
	if (e != NULL) {
		rc = ch_errf(err, db_code(e), "rocksdb open %s: %s", dest_dir, e);
		goto out;
	}
	/* one iterator: one consistent view of the source, each record checked */
	rocksdb_readoptions_set_verify_checksums(ro, 1);
	rocksdb_readoptions_set_fill_cache(ro, 0);
	it = rocksdb_create_iterator(src, ro);
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t kl, vl;
		if (bytes >= BACKUP_BATCH_BYTES) {
			if ((rc = put_batch(dst, wb, false, dest_dir, err)) != 0)
				goto out;
			bytes = 0;
		}
		const char *k = rocksdb_iter_key(it, &kl), *v = rocksdb_iter_value(it, &vl);
		rocksdb_writebatch_put(wb, k, kl, v, vl);
		bytes += kl + vl;
		n++;
	}
	rocksdb_iter_get_error(it, &e);
	if (e != NULL) {
		rc = ch_errf(err, db_code(e), "rocksdb read %s: %s", data_dir, e);
		goto out;
	}
	/* the last batch synced (which syncs the log before it), then tables rather than a log */
	if ((rc = put_batch(dst, wb, true, dest_dir, err)) != 0)
		goto out;
	rocksdb_flushoptions_set_wait(fo, 1);
	rocksdb_flush(dst, fo, &e);
	if (e != NULL)
		rc = ch_errf(err, db_code(e), "rocksdb flush %s: %s", dest_dir, e);
out:
	rocksdb_free(e);
	if (it != NULL)
		rocksdb_iter_destroy(it);
	if (dst != NULL)
		rocksdb_close(dst);
	if (src != NULL)
		rocksdb_close(src);
	if (made_sec)
		ch_remove_tree(sec, NULL);
	if (rc != 0 && made_dest)
		ch_remove_tree(dest_dir, NULL);
	if (rc == 0)
		*keys = n;
	rocksdb_flushoptions_destroy(fo);
	rocksdb_writebatch_destroy(wb);
	rocksdb_readoptions_destroy(ro);
	rocksdb_block_based_options_destroy(topts);
	rocksdb_options_destroy(opts);
	return rc;
}

void
chain_store_close(struct chain_store *s)
{
	if (s == NULL)
		return;
	if (s->db != NULL)
		rocksdb_close(s->db);
	if (s->wr_sync != NULL)
		rocksdb_writeoptions_destroy(s->wr_sync);
	if (s->rd != NULL)
		rocksdb_readoptions_destroy(s->rd);
	pthread_mutex_destroy(&s->cache_mu);
	free(s->cache);
	free(s);
}

/* ---- keys ---- */

static void
height_key(uint8_t key[HEIGHT_KEY_LEN], uint8_t prefix, uint64_t height)
{
	key[0] = prefix;
	ch_put_be64(key + 1, height);
}

static void
hash_key(uint8_t key[HASH_KEY_LEN], uint8_t prefix, const uint8_t hash[CR_HASH_LEN])
{
	key[0] = prefix;
	memcpy(key + 1, hash, CR_HASH_LEN);
}

/* meta_key builds 'M' name; 0 if name is empty or longer than META_NAME_MAX. */
static size_t
meta_key(uint8_t key[1 + META_NAME_MAX], const char *name)
{
	size_t n = strnlen(name, META_NAME_MAX + 1);
	if (n == 0 || n > META_NAME_MAX)
		return 0;
	key[0] = 'M';
	memcpy(key + 1, name, n);
	return 1 + n;
}

/* data_key builds 'D' owner name; 0 if name is not 1..CHAIN_MAX_NAME bytes. */
static size_t
data_key(uint8_t key[DATA_KEY_MAX], const uint8_t owner[CR_ADDR_LEN], const char *name)
{
	size_t n = strnlen(name, CHAIN_MAX_NAME + 1);
	if (n == 0 || n > CHAIN_MAX_NAME)
		return 0;
	key[0] = 'D';
	memcpy(key + 1, owner, CR_ADDR_LEN);
	memcpy(key + 1 + CR_ADDR_LEN, name, n);
	return 1 + CR_ADDR_LEN + n;
}

/* ---- reads ---- */

/*
 * lookup reads key; *val is NULL if absent, else a pinned slice the caller
 * destroys.
 */
static int
lookup(struct chain_store *s, const uint8_t *key, size_t klen, rocksdb_pinnableslice_t **val,
       struct ch_err *err)
{
	char *e = NULL;
	*val = rocksdb_get_pinned(s->db, s->rd, (const char *)key, klen, &e);
	if (e != NULL)
		return db_err(err, e, "get");
	return 0;
}

/*
 * get_fixed copies a record of exactly n bytes into out: 0, CH_E_NOT_FOUND,
 * or CH_E_DB if the record has another length (what names it).
 */
static int
get_fixed(struct chain_store *s, const uint8_t *key, size_t klen, uint8_t *out, size_t n,
	  const char *what, struct ch_err *err)
{
	rocksdb_pinnableslice_t *v = NULL;
	int rc = lookup(s, key, klen, &v, err);
	if (rc == 0 && v == NULL)
		rc = CH_E_NOT_FOUND;
	if (rc == 0) {
		size_t vlen = 0;
		const char *p = rocksdb_pinnableslice_value(v, &vlen);
		if (vlen != n)
			rc = ch_errf(err, CH_E_DB, "store: %s record has %zu bytes, expected %zu",
				     what, vlen, n);
		else
			memcpy(out, p, n);
	}
	rocksdb_pinnableslice_destroy(v);
	return rc;
}

/* get_append appends a record to out: 0, CH_E_NOT_FOUND or an error. */
static int
get_append(struct chain_store *s, const uint8_t *key, size_t klen, struct ch_buf *out,
	   struct ch_err *err)
{
	rocksdb_pinnableslice_t *v = NULL;
	int rc = lookup(s, key, klen, &v, err);
	if (rc == 0 && v == NULL)
		rc = CH_E_NOT_FOUND;
	if (rc == 0) {
		size_t vlen = 0;
		const char *p = rocksdb_pinnableslice_value(v, &vlen);
		ch_buf_put(out, p, vlen);
		if (!ch_buf_ok(out))
			rc = ch_errf(err, CH_E_NOMEM, "out of memory reading %zu bytes", vlen);
	}
	rocksdb_pinnableslice_destroy(v);
	return rc;
}

int
chain_store_genesis(struct chain_store *s, bool *applied, uint8_t genesis_hash[CR_HASH_LEN],
		    struct ch_err *err)
{
	uint8_t key[1 + META_NAME_MAX];
	size_t klen = meta_key(key, "genesis");
	int rc = get_fixed(s, key, klen, genesis_hash, CR_HASH_LEN, "genesis", err);
	*applied = rc == 0;
	return rc == CH_E_NOT_FOUND ? 0 : rc;
}

static void
tip_encode(const struct chain_tip *t, uint8_t out[TIP_LEN])
{
	ch_put_be64(out, t->height);
	memcpy(out + 8, t->hash, CR_HASH_LEN);
	memcpy(out + 8 + CR_HASH_LEN, t->state_digest, CR_HASH_LEN);
	ch_put_be64(out + 8 + 2 * CR_HASH_LEN, t->time_ms);
}

int
chain_store_tip(struct chain_store *s, struct chain_tip *out, struct ch_err *err)
{
	uint8_t key[1 + META_NAME_MAX], v[TIP_LEN];
	size_t klen = meta_key(key, "tip");
	int rc = get_fixed(s, key, klen, v, sizeof(v), "tip", err);
	if (rc == CH_E_NOT_FOUND)
		return ch_errf(err, rc, "store: no tip record (genesis not applied)");
	if (rc != 0)
		return rc;
	out->height = ch_get_be64(v);
	memcpy(out->hash, v + 8, CR_HASH_LEN);
	memcpy(out->state_digest, v + 8 + CR_HASH_LEN, CR_HASH_LEN);
	out->time_ms = ch_get_be64(v + 8 + 2 * CR_HASH_LEN);
	return 0;
}

int
chain_store_block(struct chain_store *s, uint64_t height, struct ch_buf *block,
		  struct ch_buf *cert, struct ch_err *err)
{
	uint8_t key[HEIGHT_KEY_LEN];
	size_t block_len = block->len, cert_len = cert != NULL ? cert->len : 0;
	height_key(key, 'B', height);
	int rc = get_append(s, key, sizeof(key), block, err);
	if (rc == CH_E_NOT_FOUND)
		rc = ch_errf(err, rc, "no block at height %" PRIu64, height);
	if (rc == 0 && cert != NULL) {
		height_key(key, 'C', height);
		rc = get_append(s, key, sizeof(key), cert, err);
		if (rc == CH_E_NOT_FOUND)
			rc = ch_errf(err, CH_E_DB, "store: block %" PRIu64 " has no certificate",
				     height);
	}
	if (rc != 0) {
		/* leave the caller's buffers as they were */
		block->len = block_len;
		if (cert != NULL)
			cert->len = cert_len;
	}
	return rc;
}

int
chain_store_height_of(struct chain_store *s, const uint8_t block_hash[CR_HASH_LEN],
		      uint64_t *height, struct ch_err *err)
{
	uint8_t key[HASH_KEY_LEN], v[8];
	hash_key(key, 'H', block_hash);
	int rc = get_fixed(s, key, sizeof(key), v, sizeof(v), "block index", err);
	if (rc == CH_E_NOT_FOUND)
		return ch_errf(err, rc, "no block with this hash");
	if (rc == 0)
		*height = ch_get_be64(v);
	return rc;
}

int
chain_store_tx_location(struct chain_store *s, const uint8_t tx_hash[CR_HASH_LEN],
			uint64_t *height, uint32_t *index, struct ch_err *err)
{
	uint8_t key[HASH_KEY_LEN], v[TXLOC_LEN];
	hash_key(key, 'T', tx_hash);
	int rc = get_fixed(s, key, sizeof(key), v, sizeof(v), "tx index", err);
	if (rc == CH_E_NOT_FOUND)
		return ch_errf(err, rc, "no committed transaction with this hash");
	if (rc != 0)
		return rc;
	struct ch_rd r;
	ch_rd_init(&r, v, sizeof(v));
	*height = ch_rd_u64(&r);
	*index = ch_rd_u32(&r);
	return 0;
}

int
chain_store_get_meta(struct chain_store *s, const char *name, struct ch_buf *val,
		     struct ch_err *err)
{
	uint8_t key[1 + META_NAME_MAX];
	size_t klen = meta_key(key, name);
	if (klen == 0)
		return ch_errf(err, CH_E_INVALID, "store: metadata name must be 1..%d bytes",
			       META_NAME_MAX);
	int rc = get_append(s, key, klen, val, err);
	if (rc == CH_E_NOT_FOUND)
		return ch_errf(err, rc, "store: no metadata record \"%s\"", name);
	return rc;
}

/* ---- state reader (any thread) ---- */

static struct acct_slot *
cache_slot(struct chain_store *s, const uint8_t addr[CR_ADDR_LEN])
{
	uint32_t h;
	memcpy(&h, addr, sizeof(h)); /* addresses are hash outputs */
	return &s->cache[h % ACCT_CACHE_SLOTS];
}

/* cache_put stores a committed account (cache_mu held). */
static void
cache_put(struct chain_store *s, const uint8_t addr[CR_ADDR_LEN], const struct chain_account *a)
{
	struct acct_slot *sl = cache_slot(s, addr);
	memcpy(sl->addr, addr, CR_ADDR_LEN);
	sl->a = *a;
	sl->used = true;
}

static void
cache_put_cb(void *arg, const uint8_t addr[CR_ADDR_LEN], const struct chain_account *a)
{
	cache_put(arg, addr, a);
}

static int
reader_account(void *arg, const uint8_t addr[CR_ADDR_LEN], struct chain_account *out,
	       struct ch_err *err)
{
	struct chain_store *s = arg;
	uint8_t key[1 + CR_ADDR_LEN], v[ACCT_LEN];
	pthread_mutex_lock(&s->cache_mu);
	const struct acct_slot *sl = cache_slot(s, addr);
	bool hit = sl->used && memcmp(sl->addr, addr, CR_ADDR_LEN) == 0;
	uint64_t gen = s->cache_gen;
	if (hit)
		*out = sl->a;
	pthread_mutex_unlock(&s->cache_mu);
	if (hit)
		return 0;
	key[0] = 'A';
	memcpy(key + 1, addr, CR_ADDR_LEN);
	int rc = get_fixed(s, key, sizeof(key), v, sizeof(v), "account", err);
	memset(out, 0, sizeof(*out));
	if (rc == CH_E_NOT_FOUND)
		rc = 0; /* an account never written: zero balance and nonce */
	else if (rc == 0) {
		out->balance = ch_get_be64(v);
		out->nonce = ch_get_be64(v + 8);
	}
	if (rc == 0) {
		pthread_mutex_lock(&s->cache_mu);
		if (s->cache_gen == gen) /* no commit since the read began */
			cache_put(s, addr, out);
		pthread_mutex_unlock(&s->cache_mu);
	}
	return rc;
}

static int
reader_data(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name, struct ch_buf *value,
	    bool *found, struct ch_err *err)
{
	uint8_t key[DATA_KEY_MAX];
	size_t klen = data_key(key, owner, name);
	*found = false;
	if (klen == 0)
		return 0; /* no such name can have been stored */
	int rc = get_append(arg, key, klen, value, err);
	if (rc == CH_E_NOT_FOUND)
		return 0;
	*found = rc == 0;
	return rc;
}

int
chain_store_values(struct chain_store *s, const uint8_t owner[CR_ADDR_LEN], const char *after,
		   size_t max, int (*fn)(void *arg, const char *name, const uint8_t *value, size_t len),
		   void *arg, bool *more, struct ch_err *err)
{
	uint8_t prefix[1 + CR_ADDR_LEN], start[DATA_KEY_MAX];
	char name[CHAIN_MAX_NAME + 1];
	size_t n = 0, slen = data_key(start, owner, after);
	int rc = 0;
	prefix[0] = 'D';
	memcpy(prefix + 1, owner, CR_ADDR_LEN);
	if (slen == 0) { /* "": from the owner's first name */
		memcpy(start, prefix, sizeof(prefix));
		slen = sizeof(prefix);
	}
	*more = false;
	rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->rd);
	rocksdb_iter_seek(it, (const char *)start, slen);
	for (; rc == 0 && rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		if (klen <= sizeof(prefix) || memcmp(k, prefix, sizeof(prefix)) != 0)
			break; /* past the owner's values */
		if (klen == slen && memcmp(k, start, slen) == 0)
			continue; /* `after` itself */
		if (n == max) {
			*more = true;
			break;
		}
		size_t nl = klen - sizeof(prefix);
		if (nl > CHAIN_MAX_NAME)
			nl = CHAIN_MAX_NAME;
		memcpy(name, k + sizeof(prefix), nl);
		name[nl] = '\0';
		const char *v = rocksdb_iter_value(it, &vlen);
		rc = fn(arg, name, (const uint8_t *)v, vlen);
		n++;
	}
	char *e = NULL;
	rocksdb_iter_get_error(it, &e);
	rocksdb_iter_destroy(it);
	if (e != NULL)
		return db_err(err, e, "list values");
	return rc;
}

struct chain_state_reader
chain_store_reader(struct chain_store *s)
{
	struct chain_state_reader r = {
		.get_account = reader_account,
		.get_data = reader_data,
		.arg = s,
	};
	return r;
}

/* ---- writes (one thread at a time) ---- */

/* batch collects puts; rc records the first failure of a void callback. */
struct batch {
	rocksdb_writebatch_t *wb;
	int rc;
	struct ch_err *err;
};

static void
batch_put(struct batch *bt, const uint8_t *key, size_t klen, const void *val, size_t vlen)
{
	rocksdb_writebatch_put(bt->wb, (const char *)key, klen, val, vlen);
}

static void
batch_account(void *arg, const uint8_t addr[CR_ADDR_LEN], const struct chain_account *a)
{
	uint8_t key[1 + CR_ADDR_LEN], v[ACCT_LEN];
	key[0] = 'A';
	memcpy(key + 1, addr, CR_ADDR_LEN);
	ch_put_be64(v, a->balance);
	ch_put_be64(v + 8, a->nonce);
	batch_put(arg, key, sizeof(key), v, sizeof(v));
}

static void
batch_data(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name, const uint8_t *value,
	   size_t len)
{
	struct batch *bt = arg;
	uint8_t key[DATA_KEY_MAX];
	size_t klen = data_key(key, owner, name);
	if (klen == 0) {
		if (bt->rc == 0)
			bt->rc = ch_errf(bt->err, CH_E_INTERNAL,
					 "store: data name of %zu bytes in a state write",
					 strlen(name));
		return;
	}
	batch_put(bt, key, klen, value, len);
}

static void
batch_state(struct batch *bt, const struct chain_exec *x)
{
	chain_exec_foreach_account(x, batch_account, bt);
	chain_exec_foreach_data(x, batch_data, bt);
}

static void
batch_tip(struct batch *bt, const struct chain_tip *t)
{
	uint8_t key[1 + META_NAME_MAX], v[TIP_LEN];
	size_t klen = meta_key(key, "tip");
	tip_encode(t, v);
	batch_put(bt, key, klen, v, sizeof(v));
}

void
chain_store_observe_syncs(struct chain_store *s, void (*fn)(void *arg, double seconds), void *arg)
{
	s->on_sync = fn;
	s->on_sync_arg = arg;
}

static double
seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* synced tells the observer how long a synced write that started at t0 took. */
static void
synced(struct chain_store *s, double t0)
{
	if (s->on_sync != NULL)
		s->on_sync(s->on_sync_arg, seconds_now() - t0);
}

/* batch_write writes bt with sync unless a step already failed. */
static int
batch_write(struct chain_store *s, struct batch *bt, const char *what)
{
	char *e = NULL;
	if (bt->rc != 0)
		return bt->rc;
	double t0 = seconds_now();
	rocksdb_write(s->db, s->wr_sync, bt->wb, &e);
	synced(s, t0);
	if (e != NULL)
		return db_err(bt->err, e, what);
	return 0;
}

/* write_state writes bt (which holds x's state) and, once durable, x's accounts into the cache. */
static int
write_state(struct chain_store *s, struct batch *bt, const struct chain_exec *x, const char *what)
{
	pthread_mutex_lock(&s->cache_mu);
	int rc = batch_write(s, bt, what);
	s->cache_gen++;
	if (rc == 0)
		chain_exec_foreach_account(x, cache_put_cb, s);
	pthread_mutex_unlock(&s->cache_mu);
	return rc;
}

int
chain_store_apply_genesis(struct chain_store *s, const uint8_t genesis_hash[CR_HASH_LEN],
			  const struct chain_exec *x, const uint8_t digest[CR_HASH_LEN],
			  uint64_t time_ms, struct ch_err *err)
{
	struct chain_tip t;
	struct ch_err probe;
	struct batch bt = {.wb = NULL, .rc = 0, .err = err};
	uint8_t key[1 + META_NAME_MAX];
	int rc = chain_store_tip(s, &t, &probe);
	if (rc == 0)
		return ch_errf(err, CH_E_EXISTS,
			       "store: genesis was already applied (tip at height %" PRIu64 ")",
			       t.height);
	if (rc != CH_E_NOT_FOUND) {
		if (err != NULL)
			*err = probe;
		return rc;
	}
	memset(&t, 0, sizeof(t));
	memcpy(t.state_digest, digest, CR_HASH_LEN);
	t.time_ms = time_ms;
	bt.wb = rocksdb_writebatch_create();
	batch_state(&bt, x);
	batch_tip(&bt, &t);
	batch_put(&bt, key, meta_key(key, "genesis"), genesis_hash, CR_HASH_LEN);
	rc = write_state(s, &bt, x, "write genesis");
	rocksdb_writebatch_destroy(bt.wb);
	return rc;
}

/* check_extends checks that b (with cert) is the next block on tip. */
static int
check_extends(const struct chain_tip *tip, const struct chain_block *b,
	      const struct chain_cert *cert, struct ch_err *err)
{
	uint8_t h[CR_HASH_LEN];
	if (b->header.height != tip->height + 1)
		return ch_errf(err, CH_E_INVALID,
			       "store: block at height %" PRIu64
			       " does not follow the tip at height %" PRIu64,
			       b->header.height, tip->height);
	if (memcmp(b->header.prev_hash, tip->hash, CR_HASH_LEN) != 0)
		return ch_errf(err, CH_E_INVALID,
			       "store: block %" PRIu64 " names a previous hash other than the tip's",
			       b->header.height);
	chain_header_hash(&b->header, h);
	if (memcmp(h, b->hash, CR_HASH_LEN) != 0)
		return ch_errf(err, CH_E_INVALID,
			       "store: block %" PRIu64 " carries a hash that is not its header's",
			       b->header.height);
	if (cert->height != b->header.height || memcmp(cert->block_hash, b->hash, CR_HASH_LEN) != 0)
		return ch_errf(err, CH_E_INVALID,
			       "store: certificate for height %" PRIu64
			       " does not certify block %" PRIu64,
			       cert->height, b->header.height);
	return 0;
}

int
chain_store_commit(struct chain_store *s, const struct chain_block *b,
		   const struct chain_cert *cert, const struct chain_exec *x,
		   const uint8_t digest[CR_HASH_LEN], struct ch_err *err)
{
	struct chain_tip tip;
	struct ch_buf benc, cenc;
	struct batch bt = {.wb = NULL, .rc = 0, .err = err};
	uint8_t key[HASH_KEY_LEN], v[TXLOC_LEN];
	const uint64_t height = b->header.height;
	int rc;

	assert(cert != NULL && x != NULL);
	assert(b->header.tx_count == 0 || b->txs != NULL);
	ch_buf_init(&benc);
	ch_buf_init(&cenc);
	if ((rc = chain_store_tip(s, &tip, err)) != 0 ||
	    (rc = check_extends(&tip, b, cert, err)) != 0)
		goto out;
	chain_block_encode(b, &benc);
	chain_cert_encode(cert, &cenc);
	if (!ch_buf_ok(&benc) || !ch_buf_ok(&cenc)) {
		rc = ch_errf(err, CH_E_NOMEM, "out of memory encoding block %" PRIu64, height);
		goto out;
	}

	bt.wb = rocksdb_writebatch_create();
	height_key(key, 'B', height);
	batch_put(&bt, key, HEIGHT_KEY_LEN, benc.data, benc.len);
	height_key(key, 'C', height);
	batch_put(&bt, key, HEIGHT_KEY_LEN, cenc.data, cenc.len);
	hash_key(key, 'H', b->hash);
	ch_put_be64(v, height);
	batch_put(&bt, key, HASH_KEY_LEN, v, 8);
	for (uint32_t i = 0; i < b->header.tx_count; i++) {
		ch_put_be64(v, height);
		ch_put_be32(v + 8, i);
		hash_key(key, 'T', b->txs[i].hash);
		batch_put(&bt, key, HASH_KEY_LEN, v, TXLOC_LEN);
	}
	batch_state(&bt, x);
	tip.height = height;
	memcpy(tip.hash, b->hash, CR_HASH_LEN);
	memcpy(tip.state_digest, digest, CR_HASH_LEN);
	tip.time_ms = b->header.time_ms;
	batch_tip(&bt, &tip);
	rc = write_state(s, &bt, x, "write block");
out:
	if (bt.wb != NULL)
		rocksdb_writebatch_destroy(bt.wb);
	ch_buf_close(&cenc);
	ch_buf_close(&benc);
	return rc;
}

int
chain_store_put_meta(struct chain_store *s, const char *name, const void *val, size_t len,
		     struct ch_err *err)
{
	uint8_t key[1 + META_NAME_MAX];
	size_t klen = meta_key(key, name);
	char *e = NULL;
	if (klen == 0)
		return ch_errf(err, CH_E_INVALID, "store: metadata name must be 1..%d bytes",
			       META_NAME_MAX);
	double t0 = seconds_now();
	rocksdb_put(s->db, s->wr_sync, (const char *)key, klen, val, len, &e);
	synced(s, t0);
	if (e != NULL)
		return db_err(err, e, "put metadata");
	return 0;
}
