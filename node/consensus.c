/*
 * The node's side of consensus: the pbft/ core's host callbacks (sign,
 * verify, validate, hash), carrying out its actions (persist, send, commit,
 * fetch), the primary's block proposals, and the peer protocol: JSON-RPC
 * notifications and requests over rpc/peer.
 *
 * Peer messages (one JSON-RPC object each):
 *   {"jsonrpc":"2.0","method":"consensus","params":{"msg":B64}}
 *   {"jsonrpc":"2.0","method":"txs","params":{"txs":[HEX,...]}}
 *   {"jsonrpc":"2.0","method":"status","params":{"from":I,"height":H,"view":V}}
 *   {"jsonrpc":"2.0","id":N,"method":"get_blocks","params":{"from":I,"min_height":A,"max_height":B}}
 *   {"jsonrpc":"2.0","id":N,"result":{"blocks":[{"block":B64,"cert":B64}],"height":H}}
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/num.h"
#include "node/log.h"
#include "node/node_internal.h"
#ifdef CHAIN_BYZANTINE
#include "node/byzantine.h"
#endif

#define PEER_MAX_SYNC_BLOCKS 64
/*
 * Answers to get_blocks per asking validator and second, with a burst of two
 * seconds' worth. A request names who asks but is not signed, so without
 * this anyone could make a validator read and send blocks without end.
 * An honest catch-up asks again only after each answer.
 */
#define PEER_SYNC_ANSWERS_PER_S 100
#define MAX_CLOCK_DRIFT_MS 15000

/* ---- host callbacks ---- */

static void
host_sign(void *arg, const uint8_t *bytes, size_t len, uint8_t sig[PBFT_SIG_LEN])
{
	struct node *n = arg;
	uint8_t d[CR_HASH_LEN];
	cr_sha256(bytes, len, d);
	if (cr_sign(n->key, d, sig, NULL) != 0)
		abort(); /* a validator that cannot sign must not go on */
}

static bool
host_verify(void *arg, uint32_t validator, const uint8_t *bytes, size_t len,
	    const uint8_t sig[PBFT_SIG_LEN])
{
	struct node *n = arg;
	if (validator >= n->genesis.nvalidators || n->pubkeys[validator] == NULL)
		return false;
	uint8_t d[CR_HASH_LEN];
	cr_sha256(bytes, len, d);
	return cr_pubkey_verify(n->pubkeys[validator], d, sig);
}

static bool
host_block_hash(void *arg, const uint8_t *block, size_t len, uint8_t out[PBFT_HASH_LEN])
{
	(void)arg;
	struct chain_block b;
	if (chain_block_decode(block, len, &b, NULL) != 0)
		return false;
	memcpy(out, b.hash, CR_HASH_LEN);
	chain_block_close(&b);
	return true;
}

void
node_forget_validated(struct node *n)
{
	chain_exec_free(n->validated_exec);
	n->validated_exec = NULL;
	n->has_validated = false;
}

/*
 * node_check_block validates a block on top of the committed tip: header
 * fields, size limits, every signature and the execution of every
 * transaction. On success the execution overlay is kept for the commit.
 */
int
node_check_block(struct node *n, const struct chain_block *b, struct ch_err *err)
{
	const struct chain_header *h = &b->header;
	const struct node_params *par = &n->genesis.params;
	if (strcmp(h->chain_id, n->genesis.chain_id) != 0)
		return ch_errf(err, CH_E_BLOCK_INVALID, "block of chain %s", h->chain_id);
	if (h->height != n->tip.height + 1 || memcmp(h->prev_hash, n->tip.hash, CR_HASH_LEN) != 0)
		return ch_errf(err, CH_E_BLOCK_INVALID,
			       "block %" PRIu64 " does not extend the tip %" PRIu64, h->height,
			       n->tip.height);
	if (memcmp(h->state_digest, n->tip.state_digest, CR_HASH_LEN) != 0)
		return ch_errf(err, CH_E_BLOCK_INVALID, "block %" PRIu64 " has a wrong state digest",
			       h->height);
	if (h->time_ms < n->tip.time_ms || h->time_ms > node_now_ms() + MAX_CLOCK_DRIFT_MS)
		return ch_errf(err, CH_E_BLOCK_INVALID, "block %" PRIu64 " has a bad time %" PRIu64,
			       h->height, h->time_ms);
	if (h->proposer >= n->genesis.nvalidators ||
	    h->proposer != pbft_primary(h->view, (uint32_t)n->genesis.nvalidators))
		return ch_errf(err, CH_E_BLOCK_INVALID, "block %" PRIu64 " has a wrong proposer",
			       h->height);
	if (h->tx_count == 0 || h->tx_count > par->block_max_txs)
		return ch_errf(err, CH_E_BLOCK_INVALID, "block %" PRIu64 " has %u transactions",
			       h->height, h->tx_count);
	struct chain_state_reader rd = chain_store_reader(n->store);
	struct chain_exec *x = NULL;
	if (chain_exec_new(&x, &rd) != 0)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	size_t bytes = 0;
	int rc = 0;
	for (uint32_t i = 0; i < h->tx_count && rc == 0; i++) {
		const struct chain_tx *tx = &b->txs[i];
		bytes += tx->size;
		if (bytes > par->block_max_bytes)
			rc = ch_errf(err, CH_E_BLOCK_INVALID, "block over %u bytes",
				     par->block_max_bytes);
		else if (strcmp(tx->chain_id, n->genesis.chain_id) != 0)
			rc = ch_errf(err, CH_E_BLOCK_INVALID, "tx %u is for another chain", i);
		else if (chain_mempool_get(n->mempool, tx->hash) == NULL &&
			 chain_sigcache_verify(n->sigcache, tx, err) != 0)
			rc = ch_errf(err, CH_E_BLOCK_INVALID, "tx %u: bad signature", i);
		else if (chain_exec_apply(x, tx, err) != 0)
			rc = ch_errf(err, CH_E_BLOCK_INVALID, "tx %u: %s", i, err ? err->msg : "");
	}
	if (rc != 0) {
		chain_exec_free(x);
		return rc;
	}
	node_forget_validated(n);
	n->validated_exec = x;
	n->has_validated = true;
	memcpy(n->validated_hash, b->hash, CR_HASH_LEN);
	return 0;
}

static bool
host_validate(void *arg, uint64_t height, const uint8_t digest[PBFT_HASH_LEN],
	      const uint8_t *block, size_t len)
{
	struct node *n = arg;
	struct chain_block b;
	struct ch_err e;
	ch_err_clear(&e);
	if (chain_block_decode(block, len, &b, &e) != 0) {
		log_warn("rejecting proposal at height %" PRIu64 ": %s", height, ch_err_msg(&e));
		return false;
	}
	bool ok = b.header.height == height && memcmp(b.hash, digest, CR_HASH_LEN) == 0 &&
		  node_check_block(n, &b, &e) == 0;
	if (!ok)
		log_warn("rejecting proposal at height %" PRIu64 ": %s", height,
			 e.code ? ch_err_msg(&e) : "height or hash mismatch");
	chain_block_close(&b);
	return ok;
}

/* ---- committing ---- */

/*
 * node_commit_block executes block b (reusing the overlay of its validation
 * when there is one) and stores it with cert in one synced batch.
 */
int
node_commit_block(struct node *n, const struct chain_block *b, const struct chain_cert *cert,
		  struct ch_err *err)
{
	int rc;
	if (!n->has_validated || memcmp(n->validated_hash, b->hash, CR_HASH_LEN) != 0) {
		if ((rc = node_check_block(n, b, err)) != 0)
			return rc;
	}
	struct chain_exec *x = n->validated_exec;
	uint8_t digest[CR_HASH_LEN];
	chain_exec_digest(x, n->tip.state_digest, digest);
	rc = chain_store_commit(n->store, b, cert, x, digest, err);
	node_forget_validated(n);
	if (rc != 0)
		return rc;
	n->tip.height = b->header.height;
	memcpy(n->tip.hash, b->hash, CR_HASH_LEN);
	memcpy(n->tip.state_digest, digest, CR_HASH_LEN);
	n->tip.time_ms = b->header.time_ms;
	n->last_block_mono_ms = node_mono_ms();
	for (uint32_t i = 0; i < b->header.tx_count; i++)
		chain_mempool_remove(n->mempool, b->txs[i].hash);
	chain_mempool_update(n->mempool, node_nonce_of, n, node_mono_ms());
	char hx[17];
	cr_hex_encode(b->hash, 8, hx);
	log_info("committed block %" PRIu64 " (%u txs, %s..., view %" PRIu64 ", %u votes), mempool %zu",
		 b->header.height, b->header.tx_count, hx, cert->view, cert->count,
		 chain_mempool_count(n->mempool));
	if (n->pbft != NULL)
		pbft_checkpoint_digest(n->pbft, n->tip.height, n->tip.state_digest, node_mono_ms());
	return 0;
}

static void
cert_from_votes(struct chain_cert *c, uint64_t height, uint64_t view,
		const uint8_t digest[CR_HASH_LEN], const struct pbft_vote *v, uint32_t nv)
{
	memset(c, 0, offsetof(struct chain_cert, votes));
	c->height = height;
	c->view = view;
	memcpy(c->block_hash, digest, CR_HASH_LEN);
	c->count = (uint16_t)nv;
	for (uint32_t i = 0; i < nv; i++) {
		c->votes[i].validator = (uint16_t)v[i].from;
		memcpy(c->votes[i].sig, v[i].sig, CR_SIG_LEN);
	}
}

static void
votes_from_cert(const struct chain_cert *c, struct pbft_vote *v)
{
	for (uint32_t i = 0; i < c->count; i++) {
		v[i].from = c->votes[i].validator;
		memcpy(v[i].sig, c->votes[i].sig, CR_SIG_LEN);
	}
}

/* ---- peer protocol ---- */

static void
peer_send_json(struct node *n, int to, const char *json, size_t len)
{
	if (n->peers == NULL)
		return;
	if (to < 0)
		rpc_peer_broadcast(n->peers, json, len);
	else
		rpc_peer_send(n->peers, (size_t)to, json, len);
}

void
node_send_encoded(struct node *n, int to, const uint8_t *enc, size_t len)
{
	struct ch_buf out;
	ch_buf_init(&out);
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"method\":\"consensus\",\"params\":{\"msg\":\"";
	static const char tail[] = "\"}}";
	size_t b64 = 4 * ((len + 2) / 3);
	if (ch_buf_reserve(&out, sizeof(head) + b64 + sizeof(tail))) {
		ch_buf_put(&out, head, sizeof(head) - 1);
		cr_base64_encode(enc, len, (char *)out.data + out.len);
		out.len += b64;
		ch_buf_put(&out, tail, sizeof(tail) - 1);
		if (ch_buf_ok(&out))
			peer_send_json(n, to, (const char *)out.data, out.len);
	}
	ch_buf_close(&out);
}

void
node_send_consensus(struct node *n, int to, const struct pbft_msg *m)
{
	struct ch_buf enc;
	ch_buf_init(&enc);
	pbft_msg_encode(m, &enc);
	if (ch_buf_ok(&enc))
		node_send_encoded(n, to, enc.data, enc.len);
	ch_buf_close(&enc);
}

/* send_consensus sends what the core asked for (a test build may misbehave instead). */
static void
send_consensus(struct node *n, int to, const struct pbft_msg *m)
{
#ifdef CHAIN_BYZANTINE
	if (n->byz != NULL) {
		node_byz_send(n, n->byz, to, m);
		return;
	}
#endif
	node_send_consensus(n, to, m);
}

static void
request_blocks(struct node *n, uint32_t peer, uint64_t upto)
{
	uint64_t lo = n->tip.height + 1;
	if (upto < lo || peer == (uint32_t)n->validator_index)
		return;
	uint64_t now = node_mono_ms();
	if (n->sync_pending && now < n->sync_deadline_ms)
		return;
	n->sync_pending = true;
	n->sync_peer = peer;
	n->sync_deadline_ms = now + 2000;
	char buf[256];
	int len = snprintf(buf, sizeof(buf),
			   "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"method\":\"get_blocks\","
			   "\"params\":{\"from\":%d,\"min_height\":%" PRIu64 ",\"max_height\":%" PRIu64
			   "}}",
			   ++n->sync_id, n->validator_index, lo, upto);
	peer_send_json(n, (int)peer, buf, (size_t)len);
}

/* node_drive carries out the core's actions, in order. */
void
node_drive(struct node *n)
{
	struct pbft_action a;
	struct ch_err e;
	while (pbft_next_action(n->pbft, &a)) {
		ch_err_clear(&e);
		if (n->fatal) {
			pbft_action_close(&a);
			continue;
		}
		switch (a.type) {
		case PBFT_ACT_PERSIST:
			if (vote_file_save(n->votes, a.record.data, a.record.len, &e) != 0) {
				log_error("cannot persist consensus state: %s", ch_err_msg(&e));
				n->fatal = true; /* never send a vote that is not on disk */
			}
			break;
		case PBFT_ACT_SEND:
			send_consensus(n, (int)a.to, &a.msg);
			break;
		case PBFT_ACT_BROADCAST:
			send_consensus(n, -1, &a.msg);
			break;
		case PBFT_ACT_COMMIT: {
			if (a.height <= n->tip.height) {
				/* state transfer got there first; it must be the same block */
				if (a.height == n->tip.height &&
				    memcmp(a.digest, n->tip.hash, CR_HASH_LEN) != 0) {
					log_error("consensus committed another block at height %" PRIu64
						  " than state transfer", a.height);
					n->fatal = true;
				}
				break;
			}
			struct chain_block b;
			struct chain_cert *c = malloc(sizeof(*c));
			if (c == NULL || chain_block_decode(a.block, a.block_len, &b, &e) != 0) {
				log_error("cannot decode the committed block %" PRIu64, a.height);
				n->fatal = true;
				free(c);
				break;
			}
			cert_from_votes(c, a.height, a.view, a.digest, a.cert, a.ncert);
			if (node_commit_block(n, &b, c, &e) != 0) {
				log_error("cannot commit block %" PRIu64 ": %s", a.height, ch_err_msg(&e));
				n->fatal = true;
			}
			chain_block_close(&b);
			free(c);
			break;
		}
		case PBFT_ACT_FETCH:
			request_blocks(n, a.to, a.height);
			break;
		case PBFT_ACT_VIEW:
			if (a.view != n->view || a.in_view_change)
				log_info("%s view %" PRIu64 " (primary %u)",
					 a.in_view_change ? "changing to" : "entered", a.view,
					 pbft_primary(a.view, (uint32_t)n->genesis.nvalidators));
			n->view = a.view;
			break;
		}
		pbft_action_close(&a);
	}
}

/* num_u64 reads a JSON number that is a whole number in [0, 2^53] (false otherwise). */
static bool
num_u64(const cJSON *x, uint64_t *out)
{
	return cJSON_IsNumber(x) && ch_double_u64(x->valuedouble, out);
}

/* serve_allowed takes one answer to validator `to` from its bucket. */
static bool
serve_allowed(struct node *n, uint32_t to)
{
	uint64_t now = node_mono_ms();
	double cap = 2.0 * PEER_SYNC_ANSWERS_PER_S;
	double t = n->serve_tokens[to] +
		   (double)(now - n->serve_ms[to]) * PEER_SYNC_ANSWERS_PER_S / 1000.0;
	n->serve_ms[to] = now;
	n->serve_tokens[to] = t > cap ? cap : t;
	if (n->serve_tokens[to] < 1.0)
		return false;
	n->serve_tokens[to] -= 1.0;
	return true;
}

static void
serve_blocks(struct node *n, const cJSON *id, const cJSON *params)
{
	uint64_t from, lo, hi, rid;
	if (!num_u64(cJSON_GetObjectItemCaseSensitive(params, "from"), &from) ||
	    !num_u64(cJSON_GetObjectItemCaseSensitive(params, "min_height"), &lo) ||
	    !num_u64(cJSON_GetObjectItemCaseSensitive(params, "max_height"), &hi) ||
	    !num_u64(id, &rid) || from >= n->genesis.nvalidators || lo < 1)
		return;
	if (!serve_allowed(n, (uint32_t)from)) {
		n->sync_refused++;
		return;
	}
	if (hi > n->tip.height)
		hi = n->tip.height;
	cJSON *res = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(res, "blocks");
	cJSON_AddNumberToObject(res, "height", (double)n->tip.height);
	/* One reply stays within a peer message: at most one full block's worth of bytes. */
	size_t budget = node_max_block_encoding(&n->genesis.params), bytes = 0, count = 0;
	for (uint64_t h = lo; h <= hi && count < PEER_MAX_SYNC_BLOCKS;
	     h++, count++) {
		struct ch_buf blk, cert;
		ch_buf_init(&blk);
		ch_buf_init(&cert);
		if (chain_store_block(n->store, h, &blk, &cert, NULL) != 0 ||
		    (count > 0 && bytes + blk.len > budget)) {
			ch_buf_close(&blk);
			ch_buf_close(&cert);
			break;
		}
		char *b64 = malloc(4 * ((blk.len + 2) / 3) + 1);
		char *c64 = malloc(4 * ((cert.len + 2) / 3) + 1);
		if (b64 != NULL && c64 != NULL) {
			cr_base64_encode(blk.data, blk.len, b64);
			cr_base64_encode(cert.data, cert.len, c64);
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "block", b64);
			cJSON_AddStringToObject(o, "cert", c64);
			cJSON_AddItemToArray(arr, o);
		}
		bytes += blk.len;
		free(b64);
		free(c64);
		ch_buf_close(&blk);
		ch_buf_close(&cert);
	}
	cJSON *msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "jsonrpc", "2.0");
	cJSON_AddNumberToObject(msg, "id", (double)rid);
	cJSON_AddItemToObject(msg, "result", res);
	char *text = cJSON_PrintUnformatted(msg);
	if (text != NULL)
		peer_send_json(n, (int)from, text, strlen(text));
	free(text);
	cJSON_Delete(msg);
}

/* b64_field decodes a base64 string member into a malloc'd buffer. */
static uint8_t *
b64_field(const cJSON *o, const char *name, size_t *len)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsString(s))
		return NULL;
	size_t sl = strlen(s->valuestring);
	uint8_t *out = malloc(sl / 4 * 3 + 1);
	if (out == NULL || cr_base64_decode(s->valuestring, sl, out, sl / 4 * 3 + 1, len) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * apply_synced_block checks a fetched block against the validator set (its
 * certificate) and the chain rules, then commits it.
 */
static int
apply_synced_block(struct node *n, const uint8_t *blk, size_t blen, const uint8_t *cb, size_t clen,
		   struct chain_cert *cert, struct ch_err *err)
{
	struct chain_block b;
	int rc = chain_cert_decode(cb, clen, cert, err);
	if (rc != 0)
		return rc;
	if ((rc = chain_block_decode(blk, blen, &b, err)) != 0)
		return rc;
	if (b.header.height != n->tip.height + 1 || cert->height != b.header.height ||
	    memcmp(cert->block_hash, b.hash, CR_HASH_LEN) != 0)
		rc = ch_errf(err, CH_E_BLOCK_INVALID, "fetched block does not match its certificate");
	else
		rc = chain_cert_verify(cert, (const uint8_t(*)[CR_PUBKEY_LEN])n->validator_keys,
				       n->genesis.nvalidators,
				       pbft_quorum((uint32_t)n->genesis.nvalidators), err);
	if (rc == 0)
		rc = node_commit_block(n, &b, cert, err);
	chain_block_close(&b);
	return rc;
}

static void
on_blocks(struct node *n, uint32_t from, const cJSON *res)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, "blocks");
	const cJSON *jh = cJSON_GetObjectItemCaseSensitive(res, "height");
	const cJSON *o;
	struct chain_cert *cert = malloc(sizeof(*cert));
	struct pbft_vote *votes = malloc(CHAIN_MAX_VALIDATORS * sizeof(*votes));
	bool any = false;
	n->sync_pending = false;
	if (!cJSON_IsArray(arr) || cert == NULL || votes == NULL)
		goto out;
	cJSON_ArrayForEach(o, arr) {
		size_t blen = 0, clen = 0;
		uint8_t *blk = b64_field(o, "block", &blen), *cb = b64_field(o, "cert", &clen);
		struct ch_err e;
		ch_err_clear(&e);
		int rc = blk && cb ? apply_synced_block(n, blk, blen, cb, clen, cert, &e) : CH_E_BAD_ENCODING;
		free(blk);
		free(cb);
		if (rc != 0) {
			log_warn("state transfer from validator %u stopped at height %" PRIu64 ": %s", from,
				 n->tip.height + 1, ch_err_msg(&e));
			break;
		}
		any = true;
		if (n->pbft != NULL) {
			votes_from_cert(cert, votes);
			pbft_synced(n->pbft, n->tip.height, n->tip.hash, cert->view, votes, cert->count,
				    node_mono_ms());
			node_drive(n); /* the core expects its actions carried out before the next call */
		}
	}
	uint64_t their;
	if (any && num_u64(jh, &their) && their > n->tip.height)
		request_blocks(n, from, their);
out:
	free(votes);
	free(cert);
}

/* node_peer_tx_decode decodes one hex transaction of a peer's "txs" message. */
int
node_peer_tx_decode(const cJSON *s, struct chain_tx *tx)
{
	uint8_t raw[CHAIN_MAX_TX_BYTES];
	size_t len = 0;
	if (!cJSON_IsString(s) ||
	    cr_hex_decode(s->valuestring, strlen(s->valuestring), raw, sizeof(raw), &len) != 0)
		return CH_E_BAD_ENCODING;
	return chain_tx_decode(raw, len, tx, NULL);
}

const cJSON *
node_peer_txs(const cJSON *params)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(params, "txs");
	return cJSON_IsArray(arr) && cJSON_GetArraySize(arr) <= NODE_MAX_GOSSIP_TXS ? arr : NULL;
}

static void
on_peer_txs(struct node *n, const cJSON *params)
{
	const cJSON *arr = node_peer_txs(params), *s;
	if (arr == NULL) {
		n->peer_bad++;
		return;
	}
	struct chain_tx *tx = malloc(sizeof(*tx));
	if (tx == NULL)
		return;
	cJSON_ArrayForEach(s, arr) {
		if (node_peer_tx_decode(s, tx) != 0 || chain_mempool_get(n->mempool, tx->hash) != NULL)
			continue;
		(void)node_admit_tx(n, tx, NULL);
	}
	free(tx);
}

/* node_on_peer_message handles one message from a validator (loop thread). */
void
node_on_peer_message(struct node *n, const uint8_t *data, size_t len)
{
	cJSON *root = cJSON_ParseWithLength((const char *)data, len);
	node_on_peer_json(n, root);
	cJSON_Delete(root);
}

/* node_on_peer_json handles one parsed message from a validator (loop thread). */
void
node_on_peer_json(struct node *n, const cJSON *root)
{
	if (root == NULL || !cJSON_IsObject(root)) {
		n->peer_bad++;
		return;
	}
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
	const cJSON *result = cJSON_GetObjectItemCaseSensitive(root, "result");
	if (cJSON_IsString(method) && strcmp(method->valuestring, "consensus") == 0 &&
	    n->pbft != NULL) {
		size_t mlen = 0;
		uint8_t *raw = b64_field(params, "msg", &mlen);
		struct pbft_msg m;
		if (raw != NULL &&
		    pbft_msg_decode(raw, mlen, (uint32_t)n->genesis.nvalidators,
				    node_max_block_encoding(&n->genesis.params), &m, NULL) == 0) {
			if (!pbft_receive(n->pbft, &m, node_mono_ms()))
				n->peer_bad_sig++;
			pbft_msg_close(&m);
		} else {
			n->peer_bad++;
		}
		free(raw);
	} else if (cJSON_IsString(method) && strcmp(method->valuestring, "txs") == 0) {
		on_peer_txs(n, params);
	} else if (cJSON_IsString(method) && strcmp(method->valuestring, "get_blocks") == 0) {
		serve_blocks(n, cJSON_GetObjectItemCaseSensitive(root, "id"), params);
	} else if (cJSON_IsString(method) && strcmp(method->valuestring, "status") == 0) {
		uint64_t from, height;
		if (num_u64(cJSON_GetObjectItemCaseSensitive(params, "from"), &from) &&
		    num_u64(cJSON_GetObjectItemCaseSensitive(params, "height"), &height) &&
		    from < n->genesis.nvalidators) {
			n->peer_height[from] = height;
			n->peer_seen_ms[from] = node_mono_ms();
			if (height > n->tip.height)
				request_blocks(n, (uint32_t)from, height);
		}
	} else if (result != NULL) {
		uint64_t id;
		if (num_u64(cJSON_GetObjectItemCaseSensitive(root, "id"), &id) && id == n->sync_id)
			on_blocks(n, n->sync_peer, result);
	} else {
		n->peer_bad++;
	}
}

/* node_gossip_flush broadcasts the transactions admitted from clients since the last call, in one message. */
void
node_gossip_flush(struct node *n)
{
	if (n->gossip.len == 0)
		return;
	ch_buf_put(&n->gossip, "]}}", 3);
	if (ch_buf_ok(&n->gossip))
		peer_send_json(n, -1, (const char *)n->gossip.data, n->gossip.len);
	ch_buf_reset(&n->gossip);
}

/* node_gossip_add queues a client's transaction for the other validators. */
void
node_gossip_add(struct node *n, const struct chain_tx *tx)
{
	if (n->peers == NULL)
		return;
	struct ch_buf enc;
	ch_buf_init(&enc);
	chain_tx_encode(tx, &enc);
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"method\":\"txs\",\"params\":{\"txs\":[";
	if (n->gossip.len == 0)
		ch_buf_put(&n->gossip, head, sizeof(head) - 1);
	else
		ch_buf_u8(&n->gossip, ',');
	if (ch_buf_ok(&enc) && ch_buf_reserve(&n->gossip, 2 * enc.len + 2)) {
		ch_buf_u8(&n->gossip, '"');
		cr_hex_encode(enc.data, enc.len, (char *)n->gossip.data + n->gossip.len);
		n->gossip.len += 2 * enc.len;
		ch_buf_u8(&n->gossip, '"');
	}
	ch_buf_close(&enc);
	if (n->gossip.len > (1u << 20))
		node_gossip_flush(n);
}

/* node_send_status tells the other validators this node's height (so laggards sync). */
void
node_send_status(struct node *n)
{
	char buf[200];
	int len = snprintf(buf, sizeof(buf),
			   "{\"jsonrpc\":\"2.0\",\"method\":\"status\",\"params\":{\"from\":%d,"
			   "\"height\":%" PRIu64 ",\"view\":%" PRIu64 "}}",
			   n->validator_index, n->tip.height, n->view);
	peer_send_json(n, -1, buf, (size_t)len);
}

/* ---- lifecycle ---- */

int
node_consensus_open(struct node *n, struct ch_err *err)
{
	const struct node_params *par = &n->genesis.params;
	struct pbft_config cfg = {
		.n = (uint32_t)n->genesis.nvalidators,
		.self = (uint32_t)n->validator_index,
		.view_timeout_ms = par->view_timeout_ms,
		.max_view_timeout_ms = 16 * (uint64_t)par->view_timeout_ms,
		.checkpoint_interval = par->checkpoint_interval,
		.watermark_window = 4 * (uint64_t)par->checkpoint_interval,
		.max_block_bytes = node_max_block_encoding(par),
	};
	struct pbft_host host = {
		.arg = n,
		.sign = host_sign,
		.verify = host_verify,
		.validate = host_validate,
		.block_hash = host_block_hash,
	};
	ch_buf_init(&n->gossip);
	int rc = pbft_new(&n->pbft, &cfg, &host, n->tip.height, n->tip.hash, node_mono_ms());
	if (rc != 0)
		return ch_errf(err, rc, "cannot start the consensus core");
	struct ch_buf rec, blk, cb;
	ch_buf_init(&rec);
	ch_buf_init(&blk);
	ch_buf_init(&cb);
	if (n->tip.height > 0) {
		struct chain_cert *c = malloc(sizeof(*c));
		struct pbft_vote *v = malloc(CHAIN_MAX_VALIDATORS * sizeof(*v));
		if (c == NULL || v == NULL)
			rc = ch_errf(err, CH_E_NOMEM, "out of memory");
		else if ((rc = chain_store_block(n->store, n->tip.height, &blk, &cb, err)) == 0 &&
			 (rc = chain_cert_decode(cb.data, cb.len, c, err)) == 0) {
			votes_from_cert(c, v);
			pbft_set_tip_cert(n->pbft, c->view, v, c->count);
		}
		free(v);
		free(c);
	}
	bool found = false;
	if (rc == 0)
		rc = vote_file_open(&n->votes, n->cfg.home, &rec, &found, err);
	if (rc == 0 && !found) {
		/* a data directory from before the vote files kept the record in the store */
		rc = chain_store_get_meta(n->store, "pbft", &rec, err);
		found = rc == 0;
		if (rc == CH_E_NOT_FOUND)
			rc = 0;
	}
	if (rc == 0 && found && (rc = pbft_restore(n->pbft, rec.data, rec.len, err)) == 0)
		log_info("resumed consensus in view %" PRIu64 "%s", pbft_view(n->pbft),
			 pbft_in_view_change(n->pbft) ? " (view change under way)" : "");
	if (rc == 0)
		pbft_resume(n->pbft, node_mono_ms());
	n->view = pbft_view(n->pbft);
	ch_buf_close(&rec);
	ch_buf_close(&blk);
	ch_buf_close(&cb);
	return rc;
}

void
node_consensus_close(struct node *n)
{
	node_forget_validated(n);
	pbft_free(n->pbft);
	n->pbft = NULL;
	vote_file_close(n->votes);
	n->votes = NULL;
}
