/* The JSON-RPC methods (docs/RPC.md), answered on the node loop thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/log.h"
#include "node/node_internal.h"
#include "pbft/pbft.h"

#define BLOCKCHAIN_MAX_BLOCKS 50
#define COMMIT_TIMEOUT_MAX_MS 600000

static void
fail(struct rpc_call *c, const struct ch_err *e)
{
	rpc_call_error(c, ch_rpc_code(e->code), ch_err_msg(e), NULL);
}

static void
fail_code(struct rpc_call *c, int code, const char *msg)
{
	rpc_call_error(c, ch_rpc_code(code), msg, NULL);
}

static cJSON *
hash_result(const uint8_t hash[CR_HASH_LEN])
{
	cJSON *r = cJSON_CreateObject();
	node_json_add_hex(r, "hash", hash, CR_HASH_LEN);
	return r;
}

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

/* node_param_tx decodes params.tx (hex of a signed transaction). */
int
node_param_tx(const struct rpc_call *c, struct chain_tx *tx, struct ch_err *err)
{
	const char *s;
	int rc = rpc_param_string(c->params, "tx", 0, true, &s, err);
	if (rc != 0)
		return rc;
	size_t len = strlen(s), n = 0;
	if (len > 2 + 2 * (size_t)CHAIN_MAX_TX_BYTES)
		return ch_errf(err, CH_E_TOO_LARGE,
			       "transaction is %zu bytes; the limit is %d bytes", len / 2,
			       CHAIN_MAX_TX_BYTES);
	uint8_t buf[CHAIN_MAX_TX_BYTES];
	rc = cr_hex_decode(s, len, buf, sizeof(buf), &n);
	if (rc == CH_E_TOO_LARGE)
		return ch_errf(err, CH_E_TOO_LARGE, "transaction is over the limit of %d bytes",
			       CHAIN_MAX_TX_BYTES);
	if (rc != 0)
		return ch_errf(err, CH_E_BAD_ENCODING,
			       "params.tx must be the signed transaction in hex (even length, "
			       "digits 0-9a-f)");
	return chain_tx_decode(buf, n, tx, err);
}

/*
 * known_status answers with the status of a transaction that is already
 * pending or committed; returns false if it is neither.
 */
static bool
known_status(struct node *n, struct rpc_call *c, const uint8_t hash[CR_HASH_LEN])
{
	uint64_t height;
	uint32_t index;
	cJSON *r;
	if (node_tx_committed(n, hash, &height, &index)) {
		r = hash_result(hash);
		cJSON_AddStringToObject(r, "status", "committed");
		cJSON_AddNumberToObject(r, "height", (double)height);
		cJSON_AddNumberToObject(r, "index", index);
	} else if (chain_mempool_get(n->mempool, hash) != NULL) {
		r = hash_result(hash);
		cJSON_AddStringToObject(r, "status", "pending");
	} else {
		return false;
	}
	rpc_call_result(c, r);
	return true;
}

/*
 * call_tx returns c's transaction (caller frees): the one the preparation
 * stage decoded, or decoded now; NULL with the error in err.
 */
static struct chain_tx *
call_tx(struct node_pending *p, struct rpc_call *c, struct ch_err *err)
{
	size_t i = (size_t)(c - p->rpc.calls);
	struct chain_tx *tx;
	if (p->txs != NULL && (tx = p->txs[i]) != NULL) {
		p->txs[i] = NULL;
		return tx;
	}
	if ((tx = malloc(sizeof(*tx))) == NULL) {
		ch_errf(err, CH_E_NOMEM, "out of memory");
		return NULL;
	}
	if (node_param_tx(c, tx, err) != 0) {
		free(tx);
		return NULL;
	}
	return tx;
}

static void
m_broadcast_tx_async(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	struct ch_err e;
	ch_err_clear(&e);
	struct chain_tx *tx = call_tx(p, c, &e);
	if (tx == NULL) {
		fail(c, &e);
	} else {
		if (chain_mempool_get(n->mempool, tx->hash) == NULL) {
			if (node_admit_tx(n, tx, &e) == 0)
				node_gossip_add(n, tx);
			else if (e.code != CH_E_KNOWN)
				node_record_dropped(n, tx->hash, &e);
		}
		rpc_call_result(c, hash_result(tx->hash));
	}
	free(tx);
}

static void
m_broadcast_tx_sync(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	struct ch_err e;
	ch_err_clear(&e);
	struct chain_tx *tx = call_tx(p, c, &e);
	if (tx == NULL) {
		fail(c, &e);
	} else if (!known_status(n, c, tx->hash)) {
		if (node_admit_tx(n, tx, &e) != 0) {
			fail(c, &e);
		} else {
			node_gossip_add(n, tx);
			cJSON *r = hash_result(tx->hash);
			cJSON_AddStringToObject(r, "status", "pending");
			rpc_call_result(c, r);
		}
	}
	free(tx);
}

static void
m_broadcast_tx_commit(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	struct chain_tx *tx = NULL;
	struct ch_err e;
	uint64_t timeout = n->cfg.commit_timeout_ms, height;
	uint32_t index;
	ch_err_clear(&e);
	int rc = rpc_param_u64(c->params, "timeout_ms", 1, false, &timeout, &e);
	if (rc == CH_E_NOT_FOUND)
		rc = 0;
	if (rc == 0 && (timeout < 1 || timeout > COMMIT_TIMEOUT_MAX_MS))
		rc = ch_errf(&e, CH_E_INVALID, "params.timeout_ms must be 1..%d",
			     COMMIT_TIMEOUT_MAX_MS);
	if (rc != 0 || (tx = call_tx(p, c, &e)) == NULL) {
		fail(c, &e);
	} else if (node_tx_committed(n, tx->hash, &height, &index)) {
		known_status(n, c, tx->hash);
	} else if (chain_mempool_get(n->mempool, tx->hash) == NULL &&
		   node_admit_tx(n, tx, &e) != 0) {
		fail(c, &e);
	} else {
		if (chain_mempool_get(n->mempool, tx->hash) != NULL)
			node_gossip_add(n, tx);
		struct node_waiter *w = calloc(1, sizeof(*w));
		if (w == NULL) {
			fail_code(c, CH_E_NOMEM, "out of memory");
		} else {
			w->pending = p;
			w->call = c;
			memcpy(w->hash, tx->hash, CR_HASH_LEN);
			w->deadline_ms = node_mono_ms() + timeout;
			w->next = n->waiters;
			n->waiters = w;
			p->waiting++;
		}
	}
	free(tx);
}

/* load_block reads and decodes the block at height and its certificate. */
static int
load_block(struct node *n, uint64_t height, struct chain_block *b, struct chain_cert *cert,
	   struct ch_buf *raw, struct ch_err *err)
{
	struct ch_buf cbuf;
	ch_buf_init(&cbuf);
	int rc = chain_store_block(n->store, height, raw, &cbuf, err);
	if (rc == CH_E_NOT_FOUND)
		rc = ch_errf(err, CH_E_NOT_FOUND, "no block at height %" PRIu64
			     " (the chain is at height %" PRIu64 ")", height, n->tip.height);
	if (rc == 0)
		rc = chain_block_decode(raw->data, raw->len, b, err);
	if (rc == 0 && cert != NULL && (rc = chain_cert_decode(cbuf.data, cbuf.len, cert, err)) != 0)
		chain_block_close(b);
	ch_buf_close(&cbuf);
	return rc;
}

static void
m_tx(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	(void)p;
	uint8_t hash[CR_HASH_LEN];
	struct ch_err e;
	uint64_t height;
	uint32_t index;
	const struct chain_tx *ptx;
	const struct node_dropped *d;
	ch_err_clear(&e);
	if (param_hex(c, "hash", 0, hash, CR_HASH_LEN, &e) != 0) {
		fail(c, &e);
		return;
	}
	if (node_tx_committed(n, hash, &height, &index)) {
		struct chain_block b;
		struct ch_buf raw;
		ch_buf_init(&raw);
		if (load_block(n, height, &b, NULL, &raw, &e) != 0 || index >= b.header.tx_count) {
			if (e.code == 0)
				ch_errf(&e, CH_E_DB, "tx index %u out of range in block %" PRIu64, index,
					height);
			fail(c, &e);
			ch_buf_close(&raw);
			return;
		}
		uint8_t(*leaves)[CR_HASH_LEN] = malloc(b.header.tx_count * sizeof(*leaves));
		uint8_t path[CR_MERKLE_MAX_DEPTH][CR_HASH_LEN];
		size_t pathlen = 0;
		if (leaves == NULL) {
			fail_code(c, CH_E_NOMEM, "out of memory");
		} else {
			for (uint32_t i = 0; i < b.header.tx_count; i++)
				memcpy(leaves[i], b.txs[i].hash, CR_HASH_LEN);
			cr_merkle_proof((const uint8_t(*)[CR_HASH_LEN])leaves, b.header.tx_count,
					index, path, &pathlen);
			cJSON *r = hash_result(hash);
			cJSON_AddStringToObject(r, "status", "committed");
			cJSON_AddNumberToObject(r, "height", (double)height);
			cJSON_AddNumberToObject(r, "index", index);
			node_json_add_hex(r, "block_hash", b.hash, CR_HASH_LEN);
			cJSON_AddItemToObject(r, "tx", node_json_tx(&b.txs[index]));
			struct ch_buf enc;
			ch_buf_init(&enc);
			chain_tx_encode(&b.txs[index], &enc);
			node_json_add_hex(r, "raw", enc.data, enc.len);
			ch_buf_close(&enc);
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
	} else if ((ptx = chain_mempool_get(n->mempool, hash)) != NULL) {
		cJSON *r = hash_result(hash);
		cJSON_AddStringToObject(r, "status", "pending");
		cJSON_AddItemToObject(r, "tx", node_json_tx(ptx));
		struct ch_buf enc;
		ch_buf_init(&enc);
		chain_tx_encode(ptx, &enc);
		node_json_add_hex(r, "raw", enc.data, enc.len);
		ch_buf_close(&enc);
		rpc_call_result(c, r);
	} else if ((d = node_tx_dropped(n, hash)) != NULL) {
		cJSON *r = hash_result(hash);
		cJSON_AddStringToObject(r, "status", "dropped");
		cJSON_AddStringToObject(r, "reason", d->msg);
		cJSON_AddNumberToObject(r, "code", ch_rpc_code(d->code));
		rpc_call_result(c, r);
	} else {
		fail_code(c, CH_E_NOT_FOUND, "no transaction with this hash is pending or committed");
	}
}

static cJSON *
block_json(const struct chain_block *b, const struct chain_cert *cert, const struct ch_buf *raw,
	   bool full)
{
	cJSON *r = hash_result(b->hash);
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

static void
m_block(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	(void)p;
	struct ch_err e;
	uint64_t height = 0;
	ch_err_clear(&e);
	int rc = rpc_param_u64(c->params, "height", 0, false, &height, &e);
	if (rc == CH_E_NOT_FOUND && rpc_param(c->params, "hash", -1) != NULL) {
		uint8_t hash[CR_HASH_LEN];
		if ((rc = param_hex(c, "hash", -1, hash, CR_HASH_LEN, &e)) == 0 &&
		    (rc = chain_store_height_of(n->store, hash, &height, &e)) == CH_E_NOT_FOUND)
			rc = ch_errf(&e, CH_E_NOT_FOUND, "no block with this hash");
	} else if (rc == CH_E_NOT_FOUND) {
		rc = 0;
		height = n->tip.height;
		if (height == 0)
			rc = ch_errf(&e, CH_E_NOT_FOUND, "no block has been committed yet");
	}
	if (rc != 0) {
		fail(c, &e);
		return;
	}
	struct chain_block b;
	struct chain_cert *cert = malloc(sizeof(*cert));
	struct ch_buf raw;
	ch_buf_init(&raw);
	if (cert == NULL)
		fail_code(c, CH_E_NOMEM, "out of memory");
	else if (load_block(n, height, &b, cert, &raw, &e) != 0)
		fail(c, &e);
	else {
		rpc_call_result(c, block_json(&b, cert, &raw, true));
		chain_block_close(&b);
	}
	free(cert);
	ch_buf_close(&raw);
}

static void
m_blockchain(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	(void)p;
	struct ch_err e;
	uint64_t lo = 1, hi = n->tip.height;
	ch_err_clear(&e);
	int rlo = rpc_param_u64(c->params, "min_height", 0, false, &lo, &e);
	if (rlo != 0 && rlo != CH_E_NOT_FOUND) {
		fail(c, &e);
		return;
	}
	int rhi = rpc_param_u64(c->params, "max_height", 1, false, &hi, &e);
	if (rhi != 0 && rhi != CH_E_NOT_FOUND) {
		fail(c, &e);
		return;
	}
	if (hi > n->tip.height)
		hi = n->tip.height;
	if (rlo == CH_E_NOT_FOUND)
		lo = hi >= BLOCKCHAIN_MAX_BLOCKS ? hi - BLOCKCHAIN_MAX_BLOCKS + 1 : 1;
	if (lo == 0)
		lo = 1;
	if (lo > hi + 1 && hi >= 1) {
		fail_code(c, CH_E_INVALID, "params.min_height must not exceed params.max_height");
		return;
	}
	if (hi >= lo && hi - lo + 1 > BLOCKCHAIN_MAX_BLOCKS)
		hi = lo + BLOCKCHAIN_MAX_BLOCKS - 1;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "last_height", (double)n->tip.height);
	cJSON *arr = cJSON_AddArrayToObject(r, "blocks");
	for (uint64_t h = lo; h <= hi; h++) {
		struct chain_block b;
		struct ch_buf raw;
		ch_buf_init(&raw);
		if (load_block(n, h, &b, NULL, &raw, &e) != 0) {
			ch_buf_close(&raw);
			cJSON_Delete(r);
			fail(c, &e);
			return;
		}
		cJSON_AddItemToArray(arr, block_json(&b, NULL, &raw, false));
		chain_block_close(&b);
		ch_buf_close(&raw);
	}
	rpc_call_result(c, r);
}

static void
m_account(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	(void)p;
	uint8_t addr[CR_ADDR_LEN];
	struct ch_err e;
	struct chain_account a;
	ch_err_clear(&e);
	struct chain_state_reader rd = chain_store_reader(n->store);
	if (param_hex(c, "address", 0, addr, CR_ADDR_LEN, &e) != 0 ||
	    rd.get_account(rd.arg, addr, &a, &e) != 0) {
		fail(c, &e);
		return;
	}
	cJSON *r = cJSON_CreateObject();
	node_json_add_hex(r, "address", addr, CR_ADDR_LEN);
	cJSON_AddItemToObject(r, "balance", rpc_json_u64(a.balance));
	cJSON_AddNumberToObject(r, "nonce", (double)a.nonce);
	cJSON_AddNumberToObject(r, "pending_nonce",
				(double)chain_mempool_next_nonce(n->mempool, addr, a.nonce));
	rpc_call_result(c, r);
}

static void
m_get(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	(void)p;
	uint8_t owner[CR_ADDR_LEN];
	const char *name;
	struct ch_err e;
	ch_err_clear(&e);
	if (param_hex(c, "owner", 0, owner, CR_ADDR_LEN, &e) != 0 ||
	    rpc_param_string(c->params, "name", 1, true, &name, &e) != 0) {
		fail(c, &e);
		return;
	}
	if (!chain_name_valid(name, strlen(name))) {
		fail_code(c, CH_E_INVALID,
			  "params.name must be 1..64 characters of [A-Za-z0-9._:/-]");
		return;
	}
	struct chain_state_reader rd = chain_store_reader(n->store);
	struct ch_buf v;
	bool found = false;
	ch_buf_init(&v);
	if (rd.get_data(rd.arg, owner, name, &v, &found, &e) != 0) {
		fail(c, &e);
	} else if (!found) {
		fail_code(c, CH_E_NOT_FOUND, "no value under this name for this owner");
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

static void
m_num_unconfirmed_txs(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	(void)p;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "count", (double)chain_mempool_count(n->mempool));
	cJSON_AddNumberToObject(r, "bytes", (double)chain_mempool_bytes(n->mempool));
	rpc_call_result(c, r);
}

/* peers_json lists the other validators with connection state and last reported height. */
static cJSON *
peers_json(struct node *n)
{
	cJSON *arr = cJSON_CreateArray();
	uint64_t now = node_mono_ms();
	for (size_t i = 0; i < n->genesis.nvalidators; i++) {
		if ((int)i == n->validator_index)
			continue;
		struct rpc_peer_stats st;
		memset(&st, 0, sizeof(st));
		if (n->peers != NULL)
			rpc_peer_stats(n->peers, i, &st);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "index", (double)i);
		cJSON_AddStringToObject(o, "id", n->genesis.validators[i].id);
		cJSON_AddStringToObject(o, "address", n->genesis.validators[i].p2p_address);
		cJSON_AddBoolToObject(o, "connected", st.connected);
		cJSON_AddNumberToObject(o, "height", (double)n->peer_height[i]);
		cJSON_AddNumberToObject(o, "last_seen_ms_ago",
					n->peer_seen_ms[i] ? (double)(now - n->peer_seen_ms[i]) : -1);
		cJSON_AddNumberToObject(o, "sent", (double)st.sent);
		cJSON_AddNumberToObject(o, "dropped", (double)st.dropped);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static void
m_status(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	(void)p;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "chain_id", n->genesis.chain_id);
	cJSON_AddStringToObject(r, "node_id", n->cfg.moniker);
	cJSON_AddNumberToObject(r, "validator_index", n->validator_index);
	cJSON_AddNumberToObject(r, "height", (double)n->tip.height);
	node_json_add_hex(r, "latest_block_hash", n->tip.hash, CR_HASH_LEN);
	cJSON_AddNumberToObject(r, "latest_block_time_ms", (double)n->tip.time_ms);
	node_json_add_hex(r, "state_digest", n->tip.state_digest, CR_HASH_LEN);
	cJSON_AddNumberToObject(r, "view", (double)pbft_view(n->pbft));
	cJSON_AddNumberToObject(r, "primary",
				pbft_primary(pbft_view(n->pbft), (uint32_t)n->genesis.nvalidators));
	cJSON_AddNumberToObject(r, "validators", (double)n->genesis.nvalidators);
	cJSON_AddBoolToObject(r, "view_change", pbft_in_view_change(n->pbft));
	cJSON_AddNumberToObject(r, "stable_checkpoint", (double)pbft_stable_checkpoint(n->pbft));
	cJSON_AddNumberToObject(r, "mempool_txs", (double)chain_mempool_count(n->mempool));
	uint64_t hits, verified;
	chain_sigcache_stats(n->sigcache, &hits, &verified);
	cJSON_AddNumberToObject(r, "tx_signatures_verified", (double)verified);
	cJSON_AddNumberToObject(r, "tx_signature_cache_hits", (double)hits);
	cJSON_AddItemToObject(r, "peers", peers_json(n));
	cJSON_AddNumberToObject(r, "uptime_ms", (double)(node_mono_ms() - n->started_mono_ms));
	rpc_call_result(c, r);
}

static void
m_health(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	(void)n;
	(void)p;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "ok", 1);
	rpc_call_result(c, r);
}

static void
m_validators(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	(void)p;
	cJSON *r = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(r, "validators");
	for (size_t i = 0; i < n->genesis.nvalidators; i++) {
		const struct node_validator *v = &n->genesis.validators[i];
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
	uint32_t nv = (uint32_t)n->genesis.nvalidators;
	cJSON_AddNumberToObject(r, "f", pbft_faults(nv));
	cJSON_AddNumberToObject(r, "quorum", pbft_quorum(nv));
	rpc_call_result(c, r);
}

static void
m_net_info(struct node *n, struct node_pending *p, struct rpc_call *c)
{
	(void)p;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddBoolToObject(r, "listening", 1);
	cJSON_AddStringToObject(r, "p2p_address", n->cfg.p2p_listen);
	cJSON_AddItemToObject(r, "peers", peers_json(n));
	cJSON_AddNumberToObject(r, "peer_messages_rejected", (double)n->peer_bad);
	cJSON_AddNumberToObject(r, "peer_messages_bad_signature", (double)n->peer_bad_sig);
	cJSON_AddNumberToObject(r, "peer_messages_dropped", (double)n->peer_dropped);
	struct rpc_peer_in_stats in = {0};
	if (n->peers != NULL)
		rpc_peer_in_stats(n->peers, &in);
	cJSON_AddNumberToObject(r, "peer_messages_received", (double)in.received);
	cJSON_AddNumberToObject(r, "peer_messages_rate_limited", (double)in.rate_limited);
	cJSON_AddNumberToObject(r, "peer_connections", in.connections);
	cJSON_AddNumberToObject(r, "peer_connections_refused", (double)in.refused_connections);
	cJSON_AddNumberToObject(r, "peer_sync_requests_refused", (double)n->sync_refused);
	rpc_call_result(c, r);
}

static const struct {
	const char *name;
	void (*fn)(struct node *, struct node_pending *, struct rpc_call *);
} methods[] = {
	{"status", m_status},
	{"health", m_health},
	{"validators", m_validators},
	{"net_info", m_net_info},
	{"broadcast_tx_async", m_broadcast_tx_async},
	{"broadcast_tx_sync", m_broadcast_tx_sync},
	{"broadcast_tx_commit", m_broadcast_tx_commit},
	{"tx", m_tx},
	{"block", m_block},
	{"blockchain", m_blockchain},
	{"account", m_account},
	{"get", m_get},
	{"num_unconfirmed_txs", m_num_unconfirmed_txs},
};

void
node_handle_request(struct node *n, struct node_pending *p)
{
	for (size_t i = 0; i < p->rpc.ncalls; i++) {
		struct rpc_call *c = &p->rpc.calls[i];
		if (c->error_code != 0) {
			rpc_call_error(c, c->error_code, c->error_msg, NULL);
			continue;
		}
		size_t m = 0;
		while (m < sizeof(methods) / sizeof(methods[0]) && strcmp(methods[m].name, c->method))
			m++;
		if (m == sizeof(methods) / sizeof(methods[0])) {
			char msg[160];
			snprintf(msg, sizeof(msg),
				 "method \"%.64s\" not found; see docs/RPC.md for the method list",
				 c->method);
			rpc_call_error(c, RPC_METHOD_NOT_FOUND, msg, NULL);
			continue;
		}
		methods[m].fn(n, p, c);
	}
}
