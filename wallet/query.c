/* Read-only commands: balance, get, block, status; and the one RPC entry point. */
#include <string.h>

#include "chain/tx.h"
#include "rpc/client.h"
#include "rpc/jsonrpc.h"
#include "wallet/wallet.h"

int
wallet_call(struct wallet_ctx *w, const char *method, cJSON *params, int timeout_ms,
	    cJSON **result)
{
	*result = NULL;
	if (strncmp(w->node, "http://", 7) != 0 && strncmp(w->node, "https://", 8) != 0) {
		cJSON_Delete(params);
		return wallet_errf(w, "--node must be an http:// or https:// URL, got \"%.80s\"",
				   w->node);
	}
	if (rpc_client_call(w->node, &w->tls, method, params, timeout_ms, result, &w->err) != 0)
		return WALLET_FAIL;
	if (!cJSON_IsObject(*result)) {
		cJSON_Delete(*result);
		*result = NULL;
		return wallet_errf(w, "%s: the node's answer to %s is not an object", w->node,
				   method);
	}
	return WALLET_OK;
}

/* show calls method and prints its result. params is transferred; NULL is an OOM. */
static int
show(struct wallet_ctx *w, const char *method, cJSON *params)
{
	cJSON *r;
	if (params == NULL)
		return wallet_errf(w, "out of memory");
	if (wallet_call(w, method, params, WALLET_RPC_TIMEOUT_MS, &r) != 0)
		return WALLET_FAIL;
	wallet_print(w, r);
	cJSON_Delete(r);
	return WALLET_OK;
}

/* add_hex adds name: lowercase hex of data to obj; false on OOM. */
static bool
add_hex(cJSON *obj, const char *name, const uint8_t *data, size_t len)
{
	char hex[2 * CR_HASH_LEN + 1];
	cr_hex_encode(data, len, hex);
	return cJSON_AddStringToObject(obj, name, hex) != NULL;
}

int
wallet_cmd_balance(struct wallet_ctx *w)
{
	uint8_t addr[CR_ADDR_LEN];
	if (wallet_parse_addr(w, "ADDR", w->args[0], addr) != 0)
		return WALLET_FAIL;
	cJSON *p = cJSON_CreateObject();
	if (p != NULL && !add_hex(p, "address", addr, CR_ADDR_LEN)) {
		cJSON_Delete(p);
		p = NULL;
	}
	return show(w, "account", p);
}

int
wallet_cmd_get(struct wallet_ctx *w)
{
	uint8_t owner[CR_ADDR_LEN];
	const char *name = w->args[1];
	if (wallet_parse_addr(w, "OWNER", w->args[0], owner) != 0)
		return WALLET_FAIL;
	if (!chain_name_valid(name, strlen(name)))
		return wallet_errf(w, "NAME must be 1..%d characters of [A-Za-z0-9._:/-], got \"%.80s\"",
				   CHAIN_MAX_NAME, name);
	cJSON *p = cJSON_CreateObject();
	if (p != NULL && (!add_hex(p, "owner", owner, CR_ADDR_LEN) ||
			  cJSON_AddStringToObject(p, "name", name) == NULL)) {
		cJSON_Delete(p);
		p = NULL;
	}
	return show(w, "get", p);
}

int
wallet_cmd_block(struct wallet_ctx *w)
{
	cJSON *p = NULL, *r;
	uint64_t height;
	if (w->nargs == 1) {
		if (wallet_parse_u64(w, "HEIGHT", w->args[0], 0, UINT64_MAX, &height) != 0)
			return WALLET_FAIL;
		if ((p = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToObject(p, "height", rpc_json_u64(height))) {
			cJSON_Delete(p);
			return wallet_errf(w, "out of memory");
		}
	}
	if (wallet_call(w, "block", p, WALLET_RPC_TIMEOUT_MS, &r) != 0)
		return WALLET_FAIL;
	if (!w->json) {
		/* Readable view: no raw encoding, the certificate as its number of votes. */
		cJSON *cert = cJSON_DetachItemFromObjectCaseSensitive(r, "cert");
		const cJSON *votes = cJSON_GetObjectItemCaseSensitive(cert, "votes");
		cJSON_DeleteItemFromObjectCaseSensitive(r, "raw");
		cJSON_AddNumberToObject(r, "certificate_votes",
					cJSON_IsArray(votes) ? cJSON_GetArraySize(votes) : 0);
		cJSON_Delete(cert);
	}
	wallet_print(w, r);
	cJSON_Delete(r);
	return WALLET_OK;
}

int
wallet_cmd_status(struct wallet_ctx *w)
{
	cJSON *r;
	if (wallet_call(w, "status", NULL, WALLET_RPC_TIMEOUT_MS, &r) != 0)
		return WALLET_FAIL;
	wallet_print(w, r);
	cJSON_Delete(r);
	return WALLET_OK;
}
