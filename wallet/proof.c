/*
 * tx: a transaction by hash. For a committed one the wallet does not take
 * the node's word: it checks that the Merkle path leads from the tx hash to
 * the tx_root of the block header at the reported height, and that this
 * header hashes to the block hash the node reported.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chain/block.h"
#include "rpc/jsonrpc.h"
#include "wallet/wallet.h"

/* header_from_json reads the JSON view of a block header back into h. */
static bool
header_from_json(const cJSON *j, struct chain_header *h)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "chain_id");
	uint64_t proposer, tx_count;
	memset(h, 0, sizeof(*h));
	if (!cJSON_IsString(id) || !chain_id_valid(id->valuestring, strlen(id->valuestring)))
		return false;
	snprintf(h->chain_id, sizeof(h->chain_id), "%s", id->valuestring);
	if (!wallet_json_u64(j, "height", &h->height) || !wallet_json_u64(j, "time_ms", &h->time_ms) ||
	    !wallet_json_u64(j, "view", &h->view) || !wallet_json_u64(j, "proposer", &proposer) ||
	    proposer > UINT16_MAX || !wallet_json_u64(j, "tx_count", &tx_count) ||
	    tx_count > UINT32_MAX || !wallet_json_hex(j, "prev_hash", h->prev_hash, CR_HASH_LEN) ||
	    !wallet_json_hex(j, "tx_root", h->tx_root, CR_HASH_LEN) ||
	    !wallet_json_hex(j, "state_digest", h->state_digest, CR_HASH_LEN))
		return false;
	h->proposer = (uint16_t)proposer;
	h->tx_count = (uint32_t)tx_count;
	return true;
}

/* fetch_header gets the header of the block at height and the block hash the node reports. */
static int
fetch_header(struct wallet_ctx *w, uint64_t height, struct chain_header *h,
	     uint8_t hash[CR_HASH_LEN])
{
	cJSON *p = cJSON_CreateObject(), *b;
	char msg[CH_ERRMSG_MAX];
	if (p == NULL || !cJSON_AddItemToObject(p, "height", rpc_json_u64(height))) {
		cJSON_Delete(p);
		return wallet_errf(w, "out of memory");
	}
	if (wallet_call(w, "block", p, WALLET_RPC_TIMEOUT_MS, &b) != 0) {
		snprintf(msg, sizeof(msg), "%s", ch_err_msg(&w->err));
		return wallet_errf(w, "cannot fetch block %" PRIu64 " to check the proof: %s",
				   height, msg);
	}
	bool ok = header_from_json(cJSON_GetObjectItemCaseSensitive(b, "header"), h) &&
		  wallet_json_hex(b, "hash", hash, CR_HASH_LEN);
	cJSON_Delete(b);
	if (!ok)
		return wallet_errf(w, "proof: INVALID (the node sent a malformed header for block "
				      "%" PRIu64 ")",
				   height);
	return WALLET_OK;
}

/* verify_inclusion checks the proof in r, the node's answer about the committed tx leaf. */
static int
verify_inclusion(struct wallet_ctx *w, const cJSON *r, const uint8_t leaf[CR_HASH_LEN])
{
	const cJSON *proof = cJSON_GetObjectItemCaseSensitive(r, "proof");
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(proof, "path"), *s;
	uint8_t steps[CR_MERKLE_MAX_DEPTH][CR_HASH_LEN];
	uint8_t block_hash[CR_HASH_LEN], reported[CR_HASH_LEN], computed[CR_HASH_LEN];
	uint64_t height, index, total;
	struct chain_header h;
	size_t n = 0;
	if (!wallet_json_u64(r, "height", &height) ||
	    !wallet_json_hex(r, "block_hash", block_hash, CR_HASH_LEN) ||
	    !wallet_json_u64(proof, "index", &index) || !wallet_json_u64(proof, "total", &total) ||
	    !cJSON_IsArray(path) || cJSON_GetArraySize(path) > CR_MERKLE_MAX_DEPTH)
		return wallet_errf(w, "proof: INVALID (the node's answer lacks the height, the block "
				      "hash or a well-formed proof)");
	cJSON_ArrayForEach(s, path) {
		if (!cJSON_IsString(s) || cr_hex_decode_exact(s->valuestring, steps[n], CR_HASH_LEN))
			return wallet_errf(w, "proof: INVALID (path entry %zu is not a hash)", n);
		n++;
	}
	/* The root comes from the block header, never from the proof itself. */
	if (fetch_header(w, height, &h, reported) != 0)
		return WALLET_FAIL;
	chain_header_hash(&h, computed);
	if (h.height != height)
		return wallet_errf(w, "proof: INVALID (asked for block %" PRIu64 ", got %" PRIu64 ")",
				   height, h.height);
	if (memcmp(computed, reported, CR_HASH_LEN) != 0 ||
	    memcmp(computed, block_hash, CR_HASH_LEN) != 0)
		return wallet_errf(w, "proof: INVALID (the header of block %" PRIu64 " does not hash "
				      "to the block hash the node reported)",
				   height);
	if (total != h.tx_count)
		return wallet_errf(w, "proof: INVALID (the proof is for %" PRIu64 " leaves, block "
				      "%" PRIu64 " has %" PRIu32 " transactions)",
				   total, height, h.tx_count);
	if (index >= total ||
	    !cr_merkle_verify(leaf, (size_t)index, (size_t)total,
			      (const uint8_t(*)[CR_HASH_LEN])steps, n, h.tx_root))
		return wallet_errf(w, "proof: INVALID (the Merkle path does not lead from the "
				      "transaction to the tx_root of block %" PRIu64 ")",
				   height);
	return WALLET_OK;
}

int
wallet_cmd_tx(struct wallet_ctx *w)
{
	uint8_t hash[CR_HASH_LEN], answered[CR_HASH_LEN];
	char hex[2 * CR_HASH_LEN + 1];
	cJSON *p, *r;
	if (wallet_parse_hash(w, "HASH", w->args[0], hash) != 0)
		return WALLET_FAIL;
	cr_hex_encode(hash, CR_HASH_LEN, hex);
	if ((p = cJSON_CreateObject()) == NULL || cJSON_AddStringToObject(p, "hash", hex) == NULL) {
		cJSON_Delete(p);
		return wallet_errf(w, "out of memory");
	}
	if (wallet_call(w, "tx", p, WALLET_RPC_TIMEOUT_MS, &r) != 0)
		return WALLET_FAIL;
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(r, "status");
	bool committed = cJSON_IsString(status) && strcmp(status->valuestring, "committed") == 0;
	int rc = WALLET_OK;
	if (!wallet_json_hex(r, "hash", answered, CR_HASH_LEN) ||
	    memcmp(answered, hash, CR_HASH_LEN) != 0)
		rc = wallet_errf(w, "the node answered about another transaction than %s", hex);
	else if (committed)
		rc = verify_inclusion(w, r, hash);
	if (rc != WALLET_OK) {
		cJSON_Delete(r);
		return rc;
	}
	if (w->json) {
		if (committed && cJSON_AddTrueToObject(r, "proof_valid") == NULL) {
			cJSON_Delete(r);
			return wallet_errf(w, "out of memory");
		}
		wallet_print(w, r);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(r, "raw");
		cJSON_DeleteItemFromObjectCaseSensitive(r, "proof");
		wallet_print(w, r);
		if (committed)
			printf("proof: valid\n");
	}
	cJSON_Delete(r);
	return WALLET_OK;
}
