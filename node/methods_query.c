/* The read-only JSON-RPC methods (docs/RPC.md) against their environment (rpc_env.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	for (uint32_t i = 0; i < b->header.tx_count; i++)
		cJSON_AddItemToArray(txs, node_json_hex(b->txs[i].hash, CR_HASH_LEN));
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

/* peers_json lists the other validators with connection state and last reported height. */
static cJSON *
peers_json(const struct node_rpc_env *env)
{
	cJSON *arr = cJSON_CreateArray();
	for (uint32_t i = 0; i < env->genesis->nvalidators; i++) {
		if (i == env->self)
			continue;
		struct node_peer_view pv;
		memset(&pv, 0, sizeof(pv));
		env->peer(env->arg, i, &pv);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "index", (double)i);
		cJSON_AddStringToObject(o, "id", env->genesis->validators[i].id);
		cJSON_AddStringToObject(o, "address", env->genesis->validators[i].p2p_address);
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
	cJSON_AddNumberToObject(r, "validators", (double)env->genesis->nvalidators);
	cJSON_AddBoolToObject(r, "view_change", st.in_view_change);
	cJSON_AddNumberToObject(r, "stable_checkpoint", (double)st.stable_checkpoint);
	cJSON_AddNumberToObject(r, "mempool_txs", (double)chain_mempool_count(env->admit->pool));
	uint64_t hits, verified;
	chain_sigcache_stats(env->sigcache, &hits, &verified);
	cJSON_AddNumberToObject(r, "tx_signatures_verified", (double)verified);
	cJSON_AddNumberToObject(r, "tx_signature_cache_hits", (double)hits);
	cJSON_AddNumberToObject(r, "tx_signatures_vouched", (double)chain_sigcache_vouched(env->sigcache));
	cJSON_AddItemToObject(r, "peers", peers_json(env));
	cJSON_AddNumberToObject(r, "uptime_ms", (double)(env->now_ms(env->arg) - env->started_ms));
	rpc_call_result(c, r);
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

void
node_m_validators(const struct node_rpc_env *env, struct rpc_call *c)
{
	struct node_engine_status st;
	memset(&st, 0, sizeof(st));
	env->engine(env->arg, &st);
	cJSON *r = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(r, "validators");
	for (size_t i = 0; i < env->genesis->nvalidators; i++) {
		const struct chain_validator *v = &env->genesis->validators[i];
		uint8_t addr[CR_ADDR_LEN];
		cr_address(v->pub_key, addr);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "index", (double)i);
		cJSON_AddStringToObject(o, "id", v->id);
		node_json_add_hex(o, "pub_key", v->pub_key, CR_PUBKEY_LEN);
		node_json_add_hex(o, "address", addr, CR_ADDR_LEN);
		cJSON_AddStringToObject(o, "p2p_address", v->p2p_address);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddNumberToObject(r, "f", st.faults);
	cJSON_AddNumberToObject(r, "quorum", st.quorum);
	rpc_call_result(c, r);
}

void
node_m_net_info(const struct node_rpc_env *env, struct rpc_call *c)
{
	struct node_net_view nv;
	memset(&nv, 0, sizeof(nv));
	env->net(env->arg, &nv);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "listening", 1);
	cJSON_AddStringToObject(r, "p2p_address", env->p2p_listen);
	cJSON_AddBoolToObject(r, "p2p_tls", env->p2p_tls);
	cJSON_AddItemToObject(r, "peers", peers_json(env));
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
}
