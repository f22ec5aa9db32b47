/* The read-only JSON-RPC methods (docs/RPC.md) against their environment (rpc_env.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/valset.h"
#include "node/json_view.h"
#include "node/methods.h"

#define BLOCKCHAIN_MAX_BLOCKS 50
#define VALUES_MAX 100 /* values in one answer */

/* param_hex decodes a hex parameter of exactly n bytes. */
static int
param_hex(const struct rpc_call *c, const char *name, int pos, uint8_t *out, size_t n,
	  struct ch_err *err)
{
	const char *s;
	int rc = rpc_param_string(c->params, name, pos, true, &s, err);
	if (rc != 0)
		return rc;
	if (cr_hex_decode_exact(s, out, n) != 0)
		return ch_errf(err, CH_E_INVALID, "params.%s must be %zu hex characters", name,
			       2 * n);
	return 0;
}

/* load_block reads and decodes the block at height and (cert may be NULL) its certificate. */
static int
load_block(const struct node_rpc_env *env, uint64_t height, struct chain_block *b,
	   struct chain_cert *cert, struct ch_buf *raw, struct ch_err *err)
{
	struct ch_buf cbuf;
	ch_buf_init(&cbuf);
	int rc = chain_store_block(env->store, height, raw, &cbuf, err);
	if (rc == CH_E_NOT_FOUND)
		rc = ch_errf(err, CH_E_NOT_FOUND,
			     "no block at height %" PRIu64 " (the chain is at height %" PRIu64 ")",
			     height, env->tip->height);
	if (rc == 0)
		rc = chain_block_decode(raw->data, raw->len, b, err);
	if (rc == 0 && cert != NULL && (rc = chain_cert_decode(cbuf.data, cbuf.len, cert, err)) != 0)
		chain_block_close(b);
	ch_buf_close(&cbuf);
	return rc;
}

static void
add_raw_tx(cJSON *r, const struct chain_tx *tx)
{
	struct ch_buf enc;
	ch_buf_init(&enc);
	chain_tx_encode(tx, &enc);
	node_json_add_hex(r, "raw", enc.data, enc.len);
	ch_buf_close(&enc);
}

/* committed_tx answers with a committed transaction and its Merkle proof. */
static void
committed_tx(const struct node_rpc_env *env, struct rpc_call *c, const uint8_t hash[CR_HASH_LEN],
	     uint64_t height, uint32_t index)
{
	struct chain_block b;
	struct ch_buf raw;
	struct ch_err e;
	ch_err_clear(&e);
	ch_buf_init(&raw);
	if (load_block(env, height, &b, NULL, &raw, &e) != 0) {
		node_fail(c, &e);
		ch_buf_close(&raw);
		return;
	}
	uint8_t(*leaves)[CR_HASH_LEN] =
		b.header.tx_count ? malloc(b.header.tx_count * sizeof(*leaves)) : NULL;
	uint8_t path[CR_MERKLE_MAX_DEPTH][CR_HASH_LEN];
	size_t pathlen = 0;
	if (index >= b.header.tx_count) {
		ch_errf(&e, CH_E_DB, "tx index %u out of range in block %" PRIu64, index, height);
		node_fail(c, &e);
	} else if (leaves == NULL) {
		node_fail_code(c, CH_E_NOMEM, "out of memory");
	} else {
		for (uint32_t i = 0; i < b.header.tx_count; i++)
			memcpy(leaves[i], b.txs[i].hash, CR_HASH_LEN);
		cr_merkle_proof((const uint8_t(*)[CR_HASH_LEN])leaves, b.header.tx_count, index, path,
				&pathlen);
		cJSON *r = node_hash_result(hash);
		cJSON_AddStringToObject(r, "status", "committed");
		cJSON_AddNumberToObject(r, "height", (double)height);
		cJSON_AddNumberToObject(r, "index", index);
		node_json_add_hex(r, "block_hash", b.hash, CR_HASH_LEN);
		cJSON_AddItemToObject(r, "tx", node_json_tx(&b.txs[index]));
		add_raw_tx(r, &b.txs[index]);
		cJSON *proof = cJSON_AddObjectToObject(r, "proof");
		cJSON_AddNumberToObject(proof, "index", index);
		cJSON_AddNumberToObject(proof, "total", b.header.tx_count);
		node_json_add_hex(proof, "root", b.header.tx_root, CR_HASH_LEN);
		cJSON *arr = cJSON_AddArrayToObject(proof, "path");
		for (size_t i = 0; i < pathlen; i++)
			cJSON_AddItemToArray(arr, node_json_hex(path[i], CR_HASH_LEN));
		rpc_call_result(c, r);
	}
	free(leaves);
	chain_block_close(&b);
	ch_buf_close(&raw);
}

void
node_m_tx(const struct node_rpc_env *env, struct rpc_call *c)
{
	uint8_t hash[CR_HASH_LEN];
	struct ch_err e;
	uint64_t height;
	uint32_t index;
	const struct chain_tx *ptx;
	const struct node_dropped *d;
	ch_err_clear(&e);
	if (param_hex(c, "hash", 0, hash, CR_HASH_LEN, &e) != 0) {
		node_fail(c, &e);
	} else if (chain_store_tx_location(env->store, hash, &height, &index, NULL) == 0) {
		committed_tx(env, c, hash, height, index);
	} else if ((ptx = chain_mempool_get(env->admit->pool, hash)) != NULL) {
		cJSON *r = node_hash_result(hash);
		cJSON_AddStringToObject(r, "status", "pending");
		cJSON_AddItemToObject(r, "tx", node_json_tx(ptx));
		add_raw_tx(r, ptx);
		rpc_call_result(c, r);
	} else if ((d = node_admit_dropped(env->admit, hash)) != NULL) {
		cJSON *r = node_hash_result(hash);
		cJSON_AddStringToObject(r, "status", "dropped");
		cJSON_AddStringToObject(r, "reason", d->msg);
		cJSON_AddNumberToObject(r, "code", ch_rpc_code(d->code));
		rpc_call_result(c, r);
	} else {
		node_fail_code(c, CH_E_NOT_FOUND, "no transaction with this hash is pending or committed");
	}
}

static cJSON *
block_json(const struct chain_block *b, const struct chain_cert *cert, const struct ch_buf *raw,
	   bool full)
{
	cJSON *r = node_hash_result(b->hash);
	cJSON_AddItemToObject(r, "header", node_json_header(&b->header));
	if (!full)
		return r;
	cJSON *txs = cJSON_AddArrayToObject(r, "txs");
	cJSON *changes = NULL;
	for (uint32_t i = 0; i < b->header.tx_count; i++) {
		cJSON_AddItemToArray(txs, node_json_hex(b->txs[i].hash, CR_HASH_LEN));
		if (b->txs[i].type != CHAIN_TX_VALIDATOR)
			continue;
		/* validator changes in full (JSON view), so a reader of the block sees them */
		if (changes == NULL)
			changes = cJSON_AddArrayToObject(r, "validator_txs");
		cJSON *v = node_json_tx(&b->txs[i]);
		cJSON_AddNumberToObject(v, "index", i);
		cJSON_AddItemToArray(changes, v);
	}
	cJSON_AddItemToObject(r, "cert", node_json_cert(cert));
	node_json_add_hex(r, "raw", raw->data, raw->len);
	return r;
}

void
node_m_block(const struct node_rpc_env *env, struct rpc_call *c)
{
	struct ch_err e;
	uint64_t height = 0;
	ch_err_clear(&e);
	int rc = rpc_param_u64(c->params, "height", 0, false, &height, &e);
	if (rc == CH_E_NOT_FOUND && rpc_param(c->params, "hash", -1) != NULL) {
		uint8_t hash[CR_HASH_LEN];
		if ((rc = param_hex(c, "hash", -1, hash, CR_HASH_LEN, &e)) == 0 &&
		    (rc = chain_store_height_of(env->store, hash, &height, &e)) == CH_E_NOT_FOUND)
			rc = ch_errf(&e, CH_E_NOT_FOUND, "no block with this hash");
	} else if (rc == CH_E_NOT_FOUND) {
		rc = 0;
		height = env->tip->height;
		if (height == 0)
			rc = ch_errf(&e, CH_E_NOT_FOUND, "no block has been committed yet");
	}
	if (rc != 0) {
		node_fail(c, &e);
		return;
	}
	struct chain_block b;
	struct chain_cert *cert = malloc(sizeof(*cert));
	struct ch_buf raw;
	ch_buf_init(&raw);
	if (cert == NULL) {
		node_fail_code(c, CH_E_NOMEM, "out of memory");
	} else if (load_block(env, height, &b, cert, &raw, &e) != 0) {
		node_fail(c, &e);
	} else {
		rpc_call_result(c, block_json(&b, cert, &raw, true));
		chain_block_close(&b);
	}
	free(cert);
	ch_buf_close(&raw);
}

void
node_m_blockchain(const struct node_rpc_env *env, struct rpc_call *c)
{
	struct ch_err e;
	uint64_t tip = env->tip->height, lo = 1, hi = tip;
	ch_err_clear(&e);
	int rlo = rpc_param_u64(c->params, "min_height", 0, false, &lo, &e);
	if (rlo != 0 && rlo != CH_E_NOT_FOUND) {
		node_fail(c, &e);
		return;
	}
	int rhi = rpc_param_u64(c->params, "max_height", 1, false, &hi, &e);
	if (rhi != 0 && rhi != CH_E_NOT_FOUND) {
		node_fail(c, &e);
		return;
	}
	if (rlo == 0 && rhi == 0 && lo > hi) {
		node_fail_code(c, CH_E_INVALID, "params.min_height must not exceed params.max_height");
		return;
	}
	if (hi > tip)
		hi = tip; /* a range past the tip holds what the chain has of it */
	if (rlo == CH_E_NOT_FOUND)
		lo = hi >= BLOCKCHAIN_MAX_BLOCKS ? hi - BLOCKCHAIN_MAX_BLOCKS + 1 : 1;
	if (lo == 0)
		lo = 1;
	if (hi >= lo && hi - lo + 1 > BLOCKCHAIN_MAX_BLOCKS)
		hi = lo + BLOCKCHAIN_MAX_BLOCKS - 1;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "last_height", (double)tip);
	cJSON *arr = cJSON_AddArrayToObject(r, "blocks");
	for (uint64_t h = lo; h <= hi; h++) {
		struct chain_block b;
		struct ch_buf raw;
		ch_buf_init(&raw);
		if (load_block(env, h, &b, NULL, &raw, &e) != 0) {
			ch_buf_close(&raw);
			cJSON_Delete(r);
			node_fail(c, &e);
			return;
		}
		cJSON_AddItemToArray(arr, block_json(&b, NULL, &raw, false));
		chain_block_close(&b);
		ch_buf_close(&raw);
	}
	rpc_call_result(c, r);
}

void
node_m_account(const struct node_rpc_env *env, struct rpc_call *c)
{
	uint8_t addr[CR_ADDR_LEN];
	struct ch_err e;
	struct chain_account a;
	ch_err_clear(&e);
	struct chain_state_reader rd = chain_store_reader(env->store);
	if (param_hex(c, "address", 0, addr, CR_ADDR_LEN, &e) != 0 ||
	    rd.get_account(rd.arg, addr, &a, &e) != 0) {
		node_fail(c, &e);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	node_json_add_hex(r, "address", addr, CR_ADDR_LEN);
	cJSON_AddItemToObject(r, "balance", rpc_json_u64(a.balance));
	cJSON_AddNumberToObject(r, "nonce", (double)a.nonce);
	cJSON_AddNumberToObject(r, "pending_nonce",
				(double)chain_mempool_next_nonce(env->admit->pool, addr, a.nonce));
	rpc_call_result(c, r);
}

/* add_value puts one of an owner's values into a values answer. */
static int
add_value(void *arg, const char *name, const uint8_t *value, size_t len)
{
	cJSON *v = cJSON_CreateObject();
	char *text = malloc(len + 1);
	if (v == NULL || text == NULL) {
		cJSON_Delete(v);
		free(text);
		return CH_E_NOMEM;
	}
	memcpy(text, value, len);
	text[len] = '\0';
	cJSON_AddStringToObject(v, "name", name);
	cJSON_AddStringToObject(v, "value", text);
	free(text);
	cJSON_AddItemToArray(arg, v);
	return 0;
}

void
node_m_values(const struct node_rpc_env *env, struct rpc_call *c)
{
	uint8_t owner[CR_ADDR_LEN];
	const char *after = "";
	uint64_t limit = VALUES_MAX;
	bool more = false;
	struct ch_err e;
	ch_err_clear(&e);
	int rc = param_hex(c, "owner", 0, owner, CR_ADDR_LEN, &e);
	if (rc == 0 && (rc = rpc_param_string(c->params, "after", 1, false, &after, &e)) ==
			       CH_E_NOT_FOUND)
		rc = 0;
	if (rc == 0 && (rc = rpc_param_u64(c->params, "limit", 2, false, &limit, &e)) ==
			       CH_E_NOT_FOUND)
		rc = 0;
	if (rc == 0 && (limit < 1 || limit > VALUES_MAX))
		rc = ch_errf(&e, CH_E_INVALID, "params.limit must be 1..%d", VALUES_MAX);
	if (rc != 0) {
		node_fail(c, &e);
		return;
	}
	cJSON *list = cJSON_CreateArray();
	if (list == NULL ||
	    chain_store_values(env->store, owner, after, (size_t)limit, add_value, list, &more,
			       &e) != 0) {
		cJSON_Delete(list);
		node_fail_code(c, list == NULL ? CH_E_NOMEM : e.code,
			       list == NULL ? "out of memory" : ch_err_msg(&e));
		return;
	}
	cJSON *r = cJSON_CreateObject();
	node_json_add_hex(r, "owner", owner, CR_ADDR_LEN);
	cJSON_AddItemToObject(r, "values", list);
	cJSON_AddBoolToObject(r, "more", more);
	rpc_call_result(c, r);
}

void
node_m_get(const struct node_rpc_env *env, struct rpc_call *c)
{
	uint8_t owner[CR_ADDR_LEN];
	const char *name;
	struct ch_err e;
	ch_err_clear(&e);
	if (param_hex(c, "owner", 0, owner, CR_ADDR_LEN, &e) != 0 ||
	    rpc_param_string(c->params, "name", 1, true, &name, &e) != 0) {
		node_fail(c, &e);
		return;
	}
	if (!chain_name_valid(name, strlen(name))) {
		node_fail_code(c, CH_E_INVALID,
			       "params.name must be 1..64 characters of [A-Za-z0-9._:/-]");
		return;
	}
	struct chain_state_reader rd = chain_store_reader(env->store);
	struct ch_buf v;
	bool found = false;
	ch_buf_init(&v);
	if (rd.get_data(rd.arg, owner, name, &v, &found, &e) != 0) {
		node_fail(c, &e);
	} else if (!found) {
		node_fail_code(c, CH_E_NOT_FOUND, "no value under this name for this owner");
	} else {
		ch_buf_u8(&v, 0);
		cJSON *r = cJSON_CreateObject();
		node_json_add_hex(r, "owner", owner, CR_ADDR_LEN);
		cJSON_AddStringToObject(r, "name", name);
		cJSON_AddStringToObject(r, "value", ch_buf_ok(&v) ? (const char *)v.data : "");
		rpc_call_result(c, r);
	}
	ch_buf_close(&v);
}

void
node_m_num_unconfirmed_txs(const struct node_rpc_env *env, struct rpc_call *c)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "count", (double)chain_mempool_count(env->admit->pool));
	cJSON_AddNumberToObject(r, "bytes", (double)chain_mempool_bytes(env->admit->pool));
	rpc_call_result(c, r);
}

/* ---- the validator sets (chain/valset.h) ---- */

/* read_set reads the set in force at height (UINT64_MAX: the latest scheduled) into a new *out. */
static int
read_set(const struct node_rpc_env *env, uint64_t height, struct chain_valset **out,
	 struct ch_err *err)
{
	struct chain_state_reader rd = chain_store_reader(env->store);
	*out = malloc(sizeof(**out)); /* ~58 KB: never on the stack */
	if (*out == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	int rc = chain_valset_at(&rd, height, *out, err);
	if (rc != 0) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* set_rules: the faults f a set of n tolerates and the votes a certificate needs, by the engine. */
static int
set_rules(const struct node_rpc_env *env, uint32_t n, uint32_t *f, uint32_t *quorum,
	  struct ch_err *err)
{
	const char *engine = env->genesis->params.engine;
	struct node_engine_rules r;
	if (strcmp(engine, "pbft") == 0) {
		*f = chain_valset_faults(n);
		*quorum = chain_valset_quorum(n);
		return 0;
	}
	int rc = node_engine_rules_of(engine, n, &r, err); /* raft, multipaxos: sets never change */
	*f = r.faults;
	*quorum = r.quorum;
	return rc;
}

/* self_key: this node's validator key, or NULL if the environment does not know it. */
static const uint8_t *
self_key(const struct node_rpc_env *env)
{
	if (env->self_pub != NULL)
		return env->self_pub;
	if (env->self < env->genesis->nvalidators)
		return env->genesis->validators[env->self].pub_key;
	return NULL;
}

static bool
is_self(const struct node_rpc_env *env, const struct chain_member *m)
{
	const uint8_t *pub = self_key(env);
	return pub != NULL && memcmp(pub, m->pub_key, CR_PUBKEY_LEN) == 0;
}

/* member_json: a member of a set, at index i of it. */
static cJSON *
member_json(const struct chain_member *m, uint32_t i)
{
	uint8_t addr[CR_ADDR_LEN];
	cr_address(m->pub_key, addr);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "index", i);
	cJSON_AddNumberToObject(o, "slot", m->slot);
	cJSON_AddStringToObject(o, "id", m->id);
	node_json_add_hex(o, "pub_key", m->pub_key, CR_PUBKEY_LEN);
	node_json_add_hex(o, "address", addr, CR_ADDR_LEN);
	cJSON_AddStringToObject(o, "p2p_address", m->addr);
	return o;
}

/*
 * peers_json lists the other members of the latest scheduled set (whom a
 * validator stays connected to) by slot, with connection state and last
 * reported height; "index" is the slot too (a genesis validator's index).
 */
static cJSON *
peers_json(const struct node_rpc_env *env, const struct chain_valset *latest)
{
	cJSON *arr = cJSON_CreateArray();
	for (uint32_t i = 0; i < latest->n; i++) {
		const struct chain_member *m = &latest->m[i];
		if (is_self(env, m))
			continue;
		struct node_peer_view pv;
		memset(&pv, 0, sizeof(pv));
		env->peer(env->arg, m->slot, &pv);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "index", m->slot);
		cJSON_AddNumberToObject(o, "slot", m->slot);
		cJSON_AddStringToObject(o, "id", m->id);
		cJSON_AddStringToObject(o, "address", m->addr);
		cJSON_AddBoolToObject(o, "connected", pv.connected);
		cJSON_AddNumberToObject(o, "height", (double)pv.height);
		cJSON_AddNumberToObject(o, "last_seen_ms_ago", (double)pv.seen_ms_ago);
		cJSON_AddNumberToObject(o, "sent", (double)pv.sent);
		cJSON_AddNumberToObject(o, "dropped", (double)pv.dropped);
		cJSON_AddNumberToObject(o, "tls_failures", (double)pv.tls_failures);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void
node_m_status(const struct node_rpc_env *env, struct rpc_call *c)
{
	const struct chain_tip *tip = env->tip;
	struct chain_valset *cur = NULL, *latest = NULL;
	struct ch_err e;
	ch_err_clear(&e);
	if (read_set(env, tip->height + 1, &cur, &e) != 0 ||
	    read_set(env, UINT64_MAX, &latest, &e) != 0) {
		node_fail(c, &e);
		free(cur);
		return;
	}
	struct node_engine_status st;
	memset(&st, 0, sizeof(st));
	env->engine(env->arg, &st);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "chain_id", env->genesis->chain_id);
	cJSON_AddStringToObject(r, "node_id", env->node_id);
	cJSON_AddNumberToObject(r, "validator_index", env->self);
	cJSON_AddNumberToObject(r, "height", (double)tip->height);
	node_json_add_hex(r, "latest_block_hash", tip->hash, CR_HASH_LEN);
	cJSON_AddNumberToObject(r, "latest_block_time_ms", (double)tip->time_ms);
	node_json_add_hex(r, "state_digest", tip->state_digest, CR_HASH_LEN);
	cJSON_AddStringToObject(r, "engine", st.name);
	cJSON_AddStringToObject(r, "role", st.role);
	cJSON_AddNumberToObject(r, "view", (double)st.view);
	/* the view by the engine's own name: Raft's term, Multi-Paxos's ballot */
	if (st.name != NULL && strcmp(st.name, "raft") == 0)
		cJSON_AddNumberToObject(r, "term", (double)st.view);
	else if (st.name != NULL && strcmp(st.name, "multipaxos") == 0)
		cJSON_AddNumberToObject(r, "ballot", (double)st.view);
	if (st.leader == NODE_ENGINE_NO_LEADER)
		cJSON_AddNullToObject(r, "primary");
	else
		cJSON_AddNumberToObject(r, "primary", st.leader);
	/* the set that orders the next block, and whether this node is in it */
	const uint8_t *pub = self_key(env);
	cJSON_AddNumberToObject(r, "validators", cur->n);
	cJSON_AddNumberToObject(r, "validator_set_start", (double)cur->start);
	cJSON_AddBoolToObject(r, "member", pub != NULL && chain_valset_find_key(cur, pub) >= 0);
	cJSON_AddBoolToObject(r, "view_change", st.in_view_change);
	cJSON_AddNumberToObject(r, "stable_checkpoint", (double)st.stable_checkpoint);
	cJSON_AddNumberToObject(r, "mempool_txs", (double)chain_mempool_count(env->admit->pool));
	uint64_t hits, verified;
	chain_sigcache_stats(env->sigcache, &hits, &verified);
	cJSON_AddNumberToObject(r, "tx_signatures_verified", (double)verified);
	cJSON_AddNumberToObject(r, "tx_signature_cache_hits", (double)hits);
	cJSON_AddNumberToObject(r, "tx_signatures_vouched", (double)chain_sigcache_vouched(env->sigcache));
	cJSON_AddItemToObject(r, "peers", peers_json(env, latest));
	cJSON_AddNumberToObject(r, "uptime_ms", (double)(env->now_ms(env->arg) - env->started_ms));
	rpc_call_result(c, r);
	free(latest);
	free(cur);
}

void
node_m_health(const struct node_rpc_env *env, struct rpc_call *c)
{
	/* ok: the node answers; ready and the checks: as GET /readyz */
	cJSON *r = env->ready(env->arg);
	if (r == NULL) {
		node_fail_code(c, CH_E_NOMEM, "out of memory");
		return;
	}
	cJSON_AddBoolToObject(r, "ok", 1);
	rpc_call_result(c, r);
}

/*
 * param_set_height reads the optional params.height of validators: 1 up
 * to the last height whose set the committed state decides (tip +
 * CHAIN_VAL_DELAY: a change completed in the next block rules later still);
 * absent, the next height.
 */
static int
param_set_height(const struct rpc_call *c, uint64_t tip, uint64_t *height, struct ch_err *err)
{
	uint64_t last = tip + CHAIN_VAL_DELAY;
	int rc = rpc_param_u64(c->params, "height", 0, false, height, err);
	if (rc == CH_E_NOT_FOUND) {
		*height = tip + 1;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (*height == 0)
		return ch_errf(err, CH_E_INVALID,
			       "params.height must be at least 1 (the genesis set rules from height 1)");
	if (*height > last)
		return ch_errf(err, CH_E_INVALID,
			       "the validator set at height %" PRIu64 " is not known yet: the chain "
			       "is at height %" PRIu64 ", and a change approved in the next block "
			       "rules from height %" PRIu64 "; ask for a height of at most %" PRIu64,
			       *height, tip, tip + 1 + CHAIN_VAL_DELAY, last);
	return 0;
}

void
node_m_validators(const struct node_rpc_env *env, struct rpc_call *c)
{
	struct chain_valset *s = NULL;
	struct ch_err e;
	uint64_t height;
	uint32_t f = 0, quorum = 0;
	ch_err_clear(&e);
	if (param_set_height(c, env->tip->height, &height, &e) != 0 ||
	    read_set(env, height, &s, &e) != 0 || set_rules(env, s->n, &f, &quorum, &e) != 0) {
		node_fail(c, &e);
		free(s);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "height", (double)height);
	cJSON_AddNumberToObject(r, "start_height", (double)s->start);
	cJSON *arr = cJSON_AddArrayToObject(r, "validators");
	for (uint32_t i = 0; i < s->n; i++)
		cJSON_AddItemToArray(arr, member_json(&s->m[i], i));
	cJSON_AddNumberToObject(r, "f", f);
	cJSON_AddNumberToObject(r, "quorum", quorum);
	rpc_call_result(c, r);
	free(s);
}

/* change_json: an open change, its approvers named by their ids in cur. */
static cJSON *
change_json(const struct chain_open_change *o, const struct chain_valset *cur)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "op", chain_val_op_name(o->op));
	cJSON_AddStringToObject(j, "id", o->id);
	if (o->op == CHAIN_VAL_REMOVE)
		cJSON_AddNullToObject(j, "pub_key");
	else
		node_json_add_hex(j, "pub_key", o->pub_key, CR_PUBKEY_LEN);
	if (o->op == CHAIN_VAL_ADD)
		cJSON_AddStringToObject(j, "p2p_address", o->addr);
	else
		cJSON_AddNullToObject(j, "p2p_address");
	cJSON_AddNumberToObject(j, "first_height", (double)o->first_height);
	/* the last block whose approvals still count towards it; later it starts again */
	cJSON_AddNumberToObject(j, "open_until", (double)(o->first_height + CHAIN_APPROVAL_TTL - 1));
	cJSON *slots = cJSON_AddArrayToObject(j, "approvals");
	cJSON *ids = cJSON_AddArrayToObject(j, "approved_by");
	for (uint32_t i = 0; i < o->napprovers; i++) {
		int at = chain_valset_find_slot(cur, o->approvers[i]);
		cJSON_AddItemToArray(slots, cJSON_CreateNumber(o->approvers[i]));
		if (at >= 0)
			cJSON_AddItemToArray(ids, cJSON_CreateString(cur->m[at].id));
	}
	cJSON_AddNumberToObject(j, "quorum", o->quorum);
	return j;
}

/* scheduled_json lists the sets that rule from above height (scheduled, not yet in force). */
static int
scheduled_json(const struct node_rpc_env *env, uint64_t height, struct chain_valset *s,
	       cJSON *arr, struct ch_err *err)
{
	struct chain_state_reader rd = chain_store_reader(env->store);
	uint64_t *starts = malloc(CHAIN_MAX_EPOCHS * sizeof(*starts));
	size_t n = 0, i;
	if (starts == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	int rc = chain_valset_starts(&rd, starts, CHAIN_MAX_EPOCHS, &n, err);
	if (n > CHAIN_MAX_EPOCHS)
		n = CHAIN_MAX_EPOCHS;
	i = n;
	while (rc == 0 && i > 0 && starts[i - 1] > height)
		i--;
	for (; rc == 0 && i < n; i++) {
		if ((rc = chain_valset_at(&rd, starts[i], s, err)) != 0)
			break;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "start_height", (double)s->start);
		cJSON *ids = cJSON_AddArrayToObject(o, "validators");
		for (uint32_t k = 0; k < s->n; k++)
			cJSON_AddItemToArray(ids, cJSON_CreateString(s->m[k].id));
		cJSON_AddItemToArray(arr, o);
	}
	free(starts);
	return rc;
}

void
node_m_validator_changes(const struct node_rpc_env *env, struct rpc_call *c)
{
	uint64_t next = env->tip->height + 1;
	struct chain_state_reader rd = chain_store_reader(env->store);
	struct chain_open_change *open = malloc(CHAIN_MAX_OPEN_CHANGES * sizeof(*open));
	struct chain_valset *cur = NULL;
	cJSON *r = cJSON_CreateObject();
	struct ch_err e;
	size_t n = 0;
	ch_err_clear(&e);
	int rc = open == NULL || r == NULL ? ch_errf(&e, CH_E_NOMEM, "out of memory") : 0;
	if (rc == 0)
		rc = read_set(env, next, &cur, &e);
	if (rc == 0)
		rc = chain_valset_open(&rd, next, open, CHAIN_MAX_OPEN_CHANGES, &n, &e);
	if (rc == 0) {
		cJSON_AddNumberToObject(r, "height", (double)next);
		cJSON *arr = cJSON_AddArrayToObject(r, "changes");
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(arr, change_json(&open[i], cur));
		rc = scheduled_json(env, next, cur, cJSON_AddArrayToObject(r, "scheduled"), &e);
	}
	if (rc == 0) {
		rpc_call_result(c, r);
		r = NULL;
	} else {
		node_fail(c, &e);
	}
	cJSON_Delete(r);
	free(cur);
	free(open);
}

void
node_m_net_info(const struct node_rpc_env *env, struct rpc_call *c)
{
	struct chain_valset *latest = NULL;
	struct node_net_view nv;
	struct ch_err e;
	ch_err_clear(&e);
	if (read_set(env, UINT64_MAX, &latest, &e) != 0) {
		node_fail(c, &e);
		return;
	}
	memset(&nv, 0, sizeof(nv));
	env->net(env->arg, &nv);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "listening", 1);
	cJSON_AddStringToObject(r, "p2p_address", env->p2p_listen);
	cJSON_AddBoolToObject(r, "p2p_tls", env->p2p_tls);
	cJSON_AddItemToObject(r, "peers", peers_json(env, latest));
	cJSON_AddNumberToObject(r, "peer_messages_rejected", (double)nv.rejected);
	cJSON_AddNumberToObject(r, "peer_messages_bad_signature", (double)nv.bad_signature);
	cJSON_AddNumberToObject(r, "peer_messages_dropped", (double)nv.queue_dropped);
	cJSON_AddNumberToObject(r, "peer_messages_received", (double)nv.received);
	cJSON_AddNumberToObject(r, "peer_messages_rate_limited", (double)nv.rate_limited);
	cJSON_AddNumberToObject(r, "peer_messages_oversized", (double)nv.oversized);
	cJSON_AddNumberToObject(r, "peer_connections", nv.connections);
	cJSON_AddNumberToObject(r, "peer_connections_refused", (double)nv.refused_connections);
	cJSON_AddNumberToObject(r, "peer_connections_tls_failed", (double)nv.tls_failures);
	cJSON_AddNumberToObject(r, "peer_sync_requests_refused", (double)nv.sync_refused);
	cJSON_AddNumberToObject(r, "consensus_messages_sent", (double)nv.consensus_sent);
	rpc_call_result(c, r);
	free(latest);
}
