/* The RocksDB store (layout in store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "chain/store.h"

#define TIP_BYTES (8 + CR_HASH_LEN + CR_HASH_LEN + 8)

struct chain_store {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_block_based_table_options_t *topts;
	rocksdb_filterpolicy_t *filter;
	rocksdb_readoptions_t *ropts;
	rocksdb_writeoptions_t *wsync;
	char dir[512];
};

/* db_err converts a RocksDB error string (and frees it). */
static int
db_err(struct ch_err *err, char *e, const char *what)
{
	int rc = ch_errf(err, CH_E_DB, "rocksdb %s: %s", what, e ? e : "unknown error");
	free(e);
	return rc;
}

int
chain_store_open(struct chain_store **out, const char *dir, struct ch_err *err)
{
	struct chain_store *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->opts = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(s->opts, 1);
	rocksdb_options_set_max_open_files(s->opts, 256);
	rocksdb_options_set_paranoid_checks(s->opts, 1);
	s->topts = rocksdb_block_based_options_create();
	s->filter = rocksdb_filterpolicy_create_bloom(10);
	rocksdb_block_based_options_set_filter_policy(s->topts, s->filter);
	rocksdb_options_set_block_based_table_factory(s->opts, s->topts);
	s->ropts = rocksdb_readoptions_create();
	rocksdb_readoptions_set_verify_checksums(s->ropts, 1);
	s->wsync = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(s->wsync, 1);
	char *e = NULL;
	s->db = rocksdb_open(s->opts, dir, &e);
	if (e != NULL) {
		char what[600];
		snprintf(what, sizeof(what), "open %s", dir);
		int rc = db_err(err, e, what);
		chain_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
chain_store_close(struct chain_store *s)
{
	if (s == NULL)
		return;
	if (s->db != NULL)
		rocksdb_close(s->db);
	if (s->wsync != NULL)
		rocksdb_writeoptions_destroy(s->wsync);
	if (s->ropts != NULL)
		rocksdb_readoptions_destroy(s->ropts);
	if (s->opts != NULL)
		rocksdb_options_destroy(s->opts);
	if (s->topts != NULL)
		rocksdb_block_based_options_destroy(s->topts); /* owns the filter policy */
	free(s);
}

/* get reads key into a malloc'd value; *found false if absent. */
static int
get(struct chain_store *s, const uint8_t *key, size_t klen, char **val, size_t *vlen, bool *found,
    struct ch_err *err)
{
	char *e = NULL;
	*val = rocksdb_get(s->db, s->ropts, (const char *)key, klen, vlen, &e);
	if (e != NULL)
		return db_err(err, e, "read");
	*found = *val != NULL;
	return 0;
}

static size_t
meta_key(uint8_t *key, size_t cap, const char *name)
{
	size_t n = strlen(name);
	if (n + 1 > cap)
		n = cap - 1;
	key[0] = 'M';
	memcpy(key + 1, name, n);
	return n + 1;
}

static void
height_key(uint8_t key[9], char prefix, uint64_t height)
{
	key[0] = (uint8_t)prefix;
	ch_put_be64(key + 1, height);
}

int
chain_store_genesis(struct chain_store *s, bool *applied, uint8_t genesis_hash[CR_HASH_LEN],
		    struct ch_err *err)
{
	uint8_t key[64];
	size_t klen = meta_key(key, sizeof(key), "genesis"), vlen = 0;
	char *v = NULL;
	bool found = false;
	int rc = get(s, key, klen, &v, &vlen, &found, err);
	if (rc != 0)
		return rc;
	*applied = found;
	if (found) {
		if (vlen != CR_HASH_LEN) {
			free(v);
			return ch_errf(err, CH_E_DB, "store: genesis record has %zu bytes, expected %d",
				       vlen, CR_HASH_LEN);
		}
		memcpy(genesis_hash, v, CR_HASH_LEN);
	}
	free(v);
	return 0;
}

static void
put_tip(rocksdb_writebatch_t *wb, const struct chain_tip *t)
{
	uint8_t key[16], val[TIP_BYTES];
	size_t klen = meta_key(key, sizeof(key), "tip");
	ch_put_be64(val, t->height);
	memcpy(val + 8, t->hash, CR_HASH_LEN);
	memcpy(val + 8 + CR_HASH_LEN, t->state_digest, CR_HASH_LEN);
	ch_put_be64(val + 8 + 2 * CR_HASH_LEN, t->time_ms);
	rocksdb_writebatch_put(wb, (const char *)key, klen, (const char *)val, sizeof(val));
}

static void
put_account(void *arg, const uint8_t addr[CR_ADDR_LEN], const struct chain_account *a)
{
	uint8_t key[1 + CR_ADDR_LEN], val[16];
	key[0] = 'A';
	memcpy(key + 1, addr, CR_ADDR_LEN);
	ch_put_be64(val, a->balance);
	ch_put_be64(val + 8, a->nonce);
	rocksdb_writebatch_put(arg, (const char *)key, sizeof(key), (const char *)val, sizeof(val));
}

static void
put_data(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name, const uint8_t *value,
	 size_t len)
{
	uint8_t key[1 + CR_ADDR_LEN + CHAIN_MAX_NAME];
	size_t nl = strlen(name);
	key[0] = 'D';
	memcpy(key + 1, owner, CR_ADDR_LEN);
	memcpy(key + 1 + CR_ADDR_LEN, name, nl);
	rocksdb_writebatch_put(arg, (const char *)key, 1 + CR_ADDR_LEN + nl, (const char *)value,
			       len);
}

static int
write_sync(struct chain_store *s, rocksdb_writebatch_t *wb, struct ch_err *err)
{
	char *e = NULL;
	rocksdb_write(s->db, s->wsync, wb, &e);
	rocksdb_writebatch_destroy(wb);
	return e != NULL ? db_err(err, e, "write") : 0;
}

int
chain_store_apply_genesis(struct chain_store *s, const uint8_t genesis_hash[CR_HASH_LEN],
			  const struct chain_exec *x, const uint8_t digest[CR_HASH_LEN],
			  uint64_t time_ms, struct ch_err *err)
{
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	chain_exec_foreach_account(x, put_account, wb);
	chain_exec_foreach_data(x, put_data, wb);
	struct chain_tip t;
	memset(&t, 0, sizeof(t));
	memcpy(t.state_digest, digest, CR_HASH_LEN);
	t.time_ms = time_ms;
	put_tip(wb, &t);
	uint8_t key[16];
	size_t klen = meta_key(key, sizeof(key), "genesis");
	rocksdb_writebatch_put(wb, (const char *)key, klen, (const char *)genesis_hash, CR_HASH_LEN);
	return write_sync(s, wb, err);
}

int
chain_store_tip(struct chain_store *s, struct chain_tip *out, struct ch_err *err)
{
	uint8_t key[16];
	size_t klen = meta_key(key, sizeof(key), "tip"), vlen = 0;
	char *v = NULL;
	bool found = false;
	int rc = get(s, key, klen, &v, &vlen, &found, err);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	if (!found)
		return 0;
	if (vlen != TIP_BYTES) {
		free(v);
		return ch_errf(err, CH_E_DB, "store: tip record has %zu bytes, expected %d", vlen,
			       TIP_BYTES);
	}
	const uint8_t *p = (const uint8_t *)v;
	out->height = ch_get_be64(p);
	memcpy(out->hash, p + 8, CR_HASH_LEN);
	memcpy(out->state_digest, p + 8 + CR_HASH_LEN, CR_HASH_LEN);
	out->time_ms = ch_get_be64(p + 8 + 2 * CR_HASH_LEN);
	free(v);
	return 0;
}

int
chain_store_commit(struct chain_store *s, const struct chain_block *b, const struct chain_cert *cert,
		   const struct chain_exec *x, const uint8_t digest[CR_HASH_LEN], struct ch_err *err)
{
	struct chain_tip tip;
	int rc = chain_store_tip(s, &tip, err);
	if (rc != 0)
		return rc;
	if (b->header.height != tip.height + 1 ||
	    memcmp(b->header.prev_hash, tip.hash, CR_HASH_LEN) != 0)
		return ch_errf(err, CH_E_INVALID,
			       "store: block %llu does not extend the stored tip %llu",
			       (unsigned long long)b->header.height, (unsigned long long)tip.height);
	struct ch_buf enc, cenc;
	ch_buf_init(&enc);
	ch_buf_init(&cenc);
	chain_block_encode(b, &enc);
	chain_cert_encode(cert, &cenc);
	if (!ch_buf_ok(&enc) || !ch_buf_ok(&cenc)) {
		ch_buf_close(&enc);
		ch_buf_close(&cenc);
		return ch_errf(err, CH_E_NOMEM, "out of memory encoding block %llu",
			       (unsigned long long)b->header.height);
	}
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	uint8_t key[1 + CR_HASH_LEN], val[12];
	height_key(key, 'B', b->header.height);
	rocksdb_writebatch_put(wb, (const char *)key, 9, (const char *)enc.data, enc.len);
	height_key(key, 'C', b->header.height);
	rocksdb_writebatch_put(wb, (const char *)key, 9, (const char *)cenc.data, cenc.len);
	key[0] = 'H';
	memcpy(key + 1, b->hash, CR_HASH_LEN);
	ch_put_be64(val, b->header.height);
	rocksdb_writebatch_put(wb, (const char *)key, sizeof(key), (const char *)val, 8);
	for (uint32_t i = 0; i < b->header.tx_count; i++) {
		key[0] = 'T';
		memcpy(key + 1, b->txs[i].hash, CR_HASH_LEN);
		ch_put_be64(val, b->header.height);
		val[8] = (uint8_t)(i >> 24);
		val[9] = (uint8_t)(i >> 16);
		val[10] = (uint8_t)(i >> 8);
		val[11] = (uint8_t)i;
		rocksdb_writebatch_put(wb, (const char *)key, sizeof(key), (const char *)val, 12);
	}
	chain_exec_foreach_account(x, put_account, wb);
	chain_exec_foreach_data(x, put_data, wb);
	tip.height = b->header.height;
	memcpy(tip.hash, b->hash, CR_HASH_LEN);
	memcpy(tip.state_digest, digest, CR_HASH_LEN);
	tip.time_ms = b->header.time_ms;
	put_tip(wb, &tip);
	ch_buf_close(&enc);
	ch_buf_close(&cenc);
	return write_sync(s, wb, err);
}

static int
reader_account(void *arg, const uint8_t addr[CR_ADDR_LEN], struct chain_account *out,
	       struct ch_err *err)
{
	struct chain_store *s = arg;
	uint8_t key[1 + CR_ADDR_LEN];
	key[0] = 'A';
	memcpy(key + 1, addr, CR_ADDR_LEN);
	char *v = NULL;
	size_t vlen = 0;
	bool found = false;
	int rc = get(s, key, sizeof(key), &v, &vlen, &found, err);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	if (found && vlen != 16) {
		free(v);
		return ch_errf(err, CH_E_DB, "store: account record has %zu bytes, expected 16",
			       vlen);
	}
	if (found) {
		out->balance = ch_get_be64((const uint8_t *)v);
		out->nonce = ch_get_be64((const uint8_t *)v + 8);
	}
	free(v);
	return 0;
}

static int
reader_data(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name, struct ch_buf *value,
	    bool *found, struct ch_err *err)
{
	struct chain_store *s = arg;
	uint8_t key[1 + CR_ADDR_LEN + CHAIN_MAX_NAME];
	size_t nl = strlen(name);
	if (nl > CHAIN_MAX_NAME)
		return ch_errf(err, CH_E_INVALID, "name too long");
	key[0] = 'D';
	memcpy(key + 1, owner, CR_ADDR_LEN);
	memcpy(key + 1 + CR_ADDR_LEN, name, nl);
	char *v = NULL;
	size_t vlen = 0;
	int rc = get(s, key, 1 + CR_ADDR_LEN + nl, &v, &vlen, found, err);
	if (rc == 0 && *found) {
		ch_buf_put(value, v, vlen);
		if (!ch_buf_ok(value))
			rc = ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	free(v);
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

static int
get_into(struct chain_store *s, const uint8_t *key, size_t klen, struct ch_buf *out,
	 struct ch_err *err)
{
	char *v = NULL;
	size_t vlen = 0;
	bool found = false;
	int rc = get(s, key, klen, &v, &vlen, &found, err);
	if (rc == 0 && !found)
		rc = CH_E_NOT_FOUND;
	if (rc == 0 && out != NULL) {
		ch_buf_put(out, v, vlen);
		if (!ch_buf_ok(out))
			rc = ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	free(v);
	return rc;
}

int
chain_store_block(struct chain_store *s, uint64_t height, struct ch_buf *block, struct ch_buf *cert,
		  struct ch_err *err)
{
	uint8_t key[9];
	height_key(key, 'B', height);
	int rc = get_into(s, key, 9, block, err);
	if (rc == 0 && cert != NULL) {
		height_key(key, 'C', height);
		rc = get_into(s, key, 9, cert, err);
		if (rc == CH_E_NOT_FOUND)
			rc = ch_errf(err, CH_E_DB, "store: block %llu has no certificate",
				     (unsigned long long)height);
	}
	if (rc == CH_E_NOT_FOUND)
		ch_errf(err, rc, "no block at height %llu", (unsigned long long)height);
	return rc;
}

int
chain_store_height_of(struct chain_store *s, const uint8_t block_hash[CR_HASH_LEN],
		      uint64_t *height, struct ch_err *err)
{
	uint8_t key[1 + CR_HASH_LEN];
	struct ch_buf v;
	ch_buf_init(&v);
	key[0] = 'H';
	memcpy(key + 1, block_hash, CR_HASH_LEN);
	int rc = get_into(s, key, sizeof(key), &v, err);
	if (rc == 0 && v.len != 8)
		rc = ch_errf(err, CH_E_DB, "store: block index record has %zu bytes", v.len);
	if (rc == 0)
		*height = ch_get_be64(v.data);
	ch_buf_close(&v);
	return rc;
}

int
chain_store_tx_location(struct chain_store *s, const uint8_t tx_hash[CR_HASH_LEN],
			uint64_t *height, uint32_t *index, struct ch_err *err)
{
	uint8_t key[1 + CR_HASH_LEN];
	struct ch_buf v;
	ch_buf_init(&v);
	key[0] = 'T';
	memcpy(key + 1, tx_hash, CR_HASH_LEN);
	int rc = get_into(s, key, sizeof(key), &v, err);
	if (rc == 0 && v.len != 12)
		rc = ch_errf(err, CH_E_DB, "store: tx index record has %zu bytes", v.len);
	if (rc == 0) {
		*height = ch_get_be64(v.data);
		*index = ((uint32_t)v.data[8] << 24) | ((uint32_t)v.data[9] << 16) |
			 ((uint32_t)v.data[10] << 8) | v.data[11];
	}
	ch_buf_close(&v);
	return rc;
}

int
chain_store_put_meta(struct chain_store *s, const char *name, const void *val, size_t len,
		     struct ch_err *err)
{
	uint8_t key[80];
	size_t klen = meta_key(key, sizeof(key), name);
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	rocksdb_writebatch_put(wb, (const char *)key, klen, val, len);
	return write_sync(s, wb, err);
}

int
chain_store_get_meta(struct chain_store *s, const char *name, struct ch_buf *val,
		     struct ch_err *err)
{
	uint8_t key[80];
	size_t klen = meta_key(key, sizeof(key), name);
	return get_into(s, key, klen, val, err);
}
