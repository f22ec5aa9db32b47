/* JSON views of transactions, headers and certificates for the RPC. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/json_view.h"

#include "crypto/crypto.h"
#include "rpc/jsonrpc.h"

cJSON *
node_json_hex(const void *data, size_t len)
{
	char *s = malloc(2 * len + 1);
	if (s == NULL)
		return NULL;
	cr_hex_encode(data, len, s);
	cJSON *j = cJSON_CreateString(s);
	free(s);
	return j;
}

void
node_json_add_hex(cJSON *obj, const char *name, const void *data, size_t len)
{
	cJSON_AddItemToObject(obj, name, node_json_hex(data, len));
}

cJSON *
node_json_tx(const struct chain_tx *tx)
{
	cJSON *j = cJSON_CreateObject();
	node_json_add_hex(j, "hash", tx->hash, CR_HASH_LEN);
	cJSON_AddStringToObject(j, "type", chain_tx_type_name(tx->type));
	cJSON_AddStringToObject(j, "chain_id", tx->chain_id);
	node_json_add_hex(j, "from", tx->sender, CR_ADDR_LEN);
	node_json_add_hex(j, "pub_key", tx->pubkey, CR_PUBKEY_LEN);
	cJSON_AddNumberToObject(j, "nonce", (double)tx->nonce);
	if (tx->type == CHAIN_TX_TRANSFER) {
		node_json_add_hex(j, "to", tx->to, CR_ADDR_LEN);
		cJSON_AddItemToObject(j, "amount", rpc_json_u64(tx->amount));
	} else if (tx->type == CHAIN_TX_VALIDATOR) {
		char addr[CHAIN_MAX_VAL_ADDR + 1];
		snprintf(addr, sizeof(addr), "%.*s", (int)tx->value_len, (const char *)tx->value);
		cJSON_AddStringToObject(j, "op", chain_val_op_name(tx->val_op));
		cJSON_AddStringToObject(j, "validator_id", tx->name);
		if (tx->val_op != CHAIN_VAL_REMOVE)
			node_json_add_hex(j, "validator_pub_key", tx->val_pub, CR_PUBKEY_LEN);
		if (tx->val_op == CHAIN_VAL_ADD)
			cJSON_AddStringToObject(j, "p2p_address", addr);
	} else {
		cJSON_AddStringToObject(j, "name", tx->name);
		cJSON_AddStringToObject(j, "value", (const char *)tx->value);
	}
	node_json_add_hex(j, "sig", tx->sig, CR_SIG_LEN);
	cJSON_AddNumberToObject(j, "size", tx->size);
	return j;
}

cJSON *
node_json_header(const struct chain_header *h)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "chain_id", h->chain_id);
	cJSON_AddNumberToObject(j, "height", (double)h->height);
	node_json_add_hex(j, "prev_hash", h->prev_hash, CR_HASH_LEN);
	cJSON_AddNumberToObject(j, "time_ms", (double)h->time_ms);
	cJSON_AddNumberToObject(j, "proposer", h->proposer);
	cJSON_AddNumberToObject(j, "view", (double)h->view);
	node_json_add_hex(j, "tx_root", h->tx_root, CR_HASH_LEN);
	cJSON_AddNumberToObject(j, "tx_count", h->tx_count);
	node_json_add_hex(j, "state_digest", h->state_digest, CR_HASH_LEN);
	return j;
}

cJSON *
node_json_cert(const struct chain_cert *c)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "height", (double)c->height);
	cJSON_AddNumberToObject(j, "view", (double)c->view);
	node_json_add_hex(j, "block_hash", c->block_hash, CR_HASH_LEN);
	cJSON *votes = cJSON_AddArrayToObject(j, "votes");
	for (size_t i = 0; i < c->count; i++) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "validator", c->votes[i].validator);
		node_json_add_hex(v, "sig", c->votes[i].sig, CR_SIG_LEN);
		cJSON_AddItemToArray(votes, v);
	}
	return j;
}
