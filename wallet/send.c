/*
 * transfer and set, and the path every sending command shares (the
 * validator changes of validator.c too): fill in a transaction, take the
 * chain id and nonce from the options or the node, sign it, then print it
 * (--print-only) or send it with broadcast_tx_sync, or broadcast_tx_commit
 * with --wait.
 *
 * A nonce the wallet picked itself can be taken by another transaction of
 * the same account sent at the same time (another wallet, a script running
 * several). When the node says so, the wallet signs again with the next
 * nonce, at most NONCE_TRIES times. A --nonce given by the user is never
 * changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/tx.h"
#include "wallet/wallet.h"

#define WAIT_DEFAULT_MS 10000
#define WAIT_MAX_MS 600000
#define NONCE_TRIES 64 /* sends with a nonce the wallet picked itself */

/* check_options checks the options every sending command shares. */
static int
check_options(struct wallet_ctx *w, uint64_t *wait_ms)
{
	uint64_t nonce;
	const char *id = w->val[WOPT_CHAIN_ID];
	*wait_ms = WAIT_DEFAULT_MS;
	if (wallet_has(w, WOPT_WAIT) && wallet_has(w, WOPT_PRINT_ONLY)) {
		wallet_errf(w, "--print-only sends nothing, so there is nothing to --wait for");
		return WALLET_USAGE;
	}
	if (wallet_has(w, WOPT_TIMEOUT) && !wallet_has(w, WOPT_WAIT)) {
		wallet_errf(w, "--timeout-ms only applies with --wait");
		return WALLET_USAGE;
	}
	if (wallet_has(w, WOPT_TIMEOUT) &&
	    wallet_parse_u64(w, "--timeout-ms", w->val[WOPT_TIMEOUT], 1, WAIT_MAX_MS, wait_ms) != 0)
		return WALLET_FAIL;
	if (wallet_has(w, WOPT_NONCE) &&
	    wallet_parse_u64(w, "--nonce", w->val[WOPT_NONCE], 0, UINT64_MAX, &nonce) != 0)
		return WALLET_FAIL;
	if (id != NULL && !chain_id_valid(id, strlen(id)))
		return wallet_errf(w, "--chain-id must be 1..%d characters of [A-Za-z0-9._-], "
				      "got \"%.80s\"",
				   CHAIN_MAX_CHAIN_ID, id);
	return WALLET_OK;
}

/* fill_chain_id takes --chain-id, or asks the node's status. */
static int
fill_chain_id(struct wallet_ctx *w, struct chain_tx *tx)
{
	const char *id = w->val[WOPT_CHAIN_ID];
	cJSON *r = NULL;
	if (id == NULL) {
		if (wallet_call(w, "status", NULL, WALLET_RPC_TIMEOUT_MS, &r) != 0)
			return WALLET_FAIL;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "chain_id");
		id = cJSON_IsString(v) ? v->valuestring : "";
		if (!chain_id_valid(id, strlen(id))) {
			cJSON_Delete(r);
			return wallet_errf(w, "%s did not say a valid chain id in its status",
					   w->node);
		}
	}
	snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", id);
	cJSON_Delete(r);
	return WALLET_OK;
}

/* fill_nonce takes --nonce, or the next nonce of the sender's account from the node. */
static int
fill_nonce(struct wallet_ctx *w, const uint8_t pub[CR_PUBKEY_LEN], struct chain_tx *tx)
{
	uint8_t addr[CR_ADDR_LEN];
	char hex[2 * CR_ADDR_LEN + 1];
	cJSON *p, *r;
	if (wallet_has(w, WOPT_NONCE))
		return wallet_parse_u64(w, "--nonce", w->val[WOPT_NONCE], 0, UINT64_MAX, &tx->nonce);
	cr_address(pub, addr);
	cr_hex_encode(addr, CR_ADDR_LEN, hex);
	if ((p = cJSON_CreateObject()) == NULL || cJSON_AddStringToObject(p, "address", hex) == NULL) {
		cJSON_Delete(p);
		return wallet_errf(w, "out of memory");
	}
	if (wallet_call(w, "account", p, WALLET_RPC_TIMEOUT_MS, &r) != 0)
		return WALLET_FAIL;
	/* pending_nonce counts the node's pending transactions from this account. */
	bool ok = wallet_json_u64(r, "pending_nonce", &tx->nonce) ||
		  wallet_json_u64(r, "nonce", &tx->nonce);
	cJSON_Delete(r);
	if (!ok)
		return wallet_errf(w, "%s did not say the nonce of account %s", w->node, hex);
	return WALLET_OK;
}

/* print_signed prints the signed transaction's hex (--print-only). */
static int
print_signed(struct wallet_ctx *w, const struct chain_tx *tx, const char *raw)
{
	char hash[2 * CR_HASH_LEN + 1];
	if (!w->json) {
		printf("%s\n", raw);
		return WALLET_OK;
	}
	cr_hex_encode(tx->hash, CR_HASH_LEN, hash);
	cJSON *r = cJSON_CreateObject();
	if (r == NULL || cJSON_AddStringToObject(r, "hash", hash) == NULL ||
	    cJSON_AddStringToObject(r, "tx", raw) == NULL) {
		cJSON_Delete(r);
		return wallet_errf(w, "out of memory");
	}
	wallet_print(w, r);
	cJSON_Delete(r);
	return WALLET_OK;
}

/* broadcast sends raw and prints the node's answer (hash, status, height when committed). */
static int
broadcast(struct wallet_ctx *w, const struct chain_tx *tx, const char *raw, uint64_t wait_ms,
	  const struct wallet_send_hooks *hooks)
{
	bool wait = wallet_has(w, WOPT_WAIT);
	cJSON *p = cJSON_CreateObject(), *r;
	if (p == NULL || cJSON_AddStringToObject(p, "tx", raw) == NULL ||
	    (wait && cJSON_AddNumberToObject(p, "timeout_ms", (double)wait_ms) == NULL)) {
		cJSON_Delete(p);
		return wallet_errf(w, "out of memory");
	}
	if (wallet_call(w, wait ? "broadcast_tx_commit" : "broadcast_tx_sync", p,
			(int)wait_ms + WALLET_RPC_TIMEOUT_MS, &r) != 0) {
		/* The transaction may still commit: say which one to look for. */
		if (w->err.code == CH_E_TIMEOUT || w->err.code == CH_E_UNAVAILABLE) {
			char hash[2 * CR_HASH_LEN + 1], msg[CH_ERRMSG_MAX];
			cr_hex_encode(tx->hash, CR_HASH_LEN, hash);
			snprintf(msg, sizeof(msg), "%s", ch_err_msg(&w->err));
			wallet_errf(w, "%.160s (tx %s)", msg, hash);
		}
		return WALLET_FAIL;
	}
	if (hooks != NULL && hooks->answer != NULL)
		hooks->answer(w, tx, r);
	wallet_print(w, r);
	cJSON_Delete(r);
	return WALLET_OK;
}

/* signed_hex signs tx with k and returns its encoding in hex (malloc'd), or NULL (w->err set). */
static char *
signed_hex(struct wallet_ctx *w, struct chain_tx *tx, const struct cr_key *k)
{
	struct ch_buf enc;
	char *raw = NULL;
	if (chain_tx_sign(tx, k, &w->err) != 0)
		return NULL;
	ch_buf_init(&enc);
	chain_tx_encode(tx, &enc);
	if (!ch_buf_ok(&enc) || (raw = malloc(2 * enc.len + 1)) == NULL)
		wallet_errf(w, "out of memory");
	else
		cr_hex_encode(enc.data, enc.len, raw);
	ch_buf_close(&enc);
	return raw;
}

/* next_nonce moves tx past a nonce another transaction took: the node's next, if further. */
static int
next_nonce(struct wallet_ctx *w, const uint8_t pub[CR_PUBKEY_LEN], struct chain_tx *tx)
{
	uint64_t taken = tx->nonce;
	ch_err_clear(&w->err);
	if (fill_nonce(w, pub, tx) != 0)
		return WALLET_FAIL;
	if (tx->nonce <= taken)
		tx->nonce = taken + 1;
	return WALLET_OK;
}

int
wallet_sign_and_send(struct wallet_ctx *w, struct chain_tx *tx,
		     const struct wallet_send_hooks *hooks)
{
	struct cr_key *k = NULL;
	char *raw = NULL;
	uint8_t pub[CR_PUBKEY_LEN];
	uint64_t wait_ms;
	int rc;
	if ((rc = check_options(w, &wait_ms)) != 0 || (rc = wallet_load_key(w, &k)) != 0)
		goto out;
	cr_key_pubkey(k, pub);
	rc = WALLET_FAIL;
	if (fill_chain_id(w, tx) != 0 || fill_nonce(w, pub, tx) != 0)
		goto out;
	if (hooks != NULL && hooks->check != NULL && !wallet_has(w, WOPT_PRINT_ONLY) &&
	    hooks->check(w, tx, pub) != 0)
		goto out;
	bool picked = !wallet_has(w, WOPT_NONCE);
	for (int tries = 1;; tries++) {
		if ((raw = signed_hex(w, tx, k)) == NULL) {
			rc = WALLET_FAIL;
			break;
		}
		if (wallet_has(w, WOPT_PRINT_ONLY)) {
			rc = print_signed(w, tx, raw);
			break;
		}
		rc = broadcast(w, tx, raw, wait_ms, hooks);
		if (rc == WALLET_OK || !picked || w->err.code != CH_E_NONCE_TOO_LOW ||
		    tries == NONCE_TRIES)
			break;
		free(raw);
		raw = NULL;
		if ((rc = next_nonce(w, pub, tx)) != 0)
			break;
	}
out:
	free(raw);
	cr_key_free(k);
	return rc;
}

int
wallet_cmd_transfer(struct wallet_ctx *w)
{
	struct chain_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.type = CHAIN_TX_TRANSFER;
	if (wallet_parse_addr(w, "--to", w->val[WOPT_TO], tx.to) != 0 ||
	    wallet_parse_u64(w, "--amount", w->val[WOPT_AMOUNT], 1, UINT64_MAX, &tx.amount) != 0)
		return WALLET_FAIL;
	return wallet_sign_and_send(w, &tx, NULL);
}

int
wallet_cmd_set(struct wallet_ctx *w)
{
	struct chain_tx tx;
	const char *name = w->args[0], *value = w->args[1];
	size_t nlen = strlen(name), vlen = strlen(value);
	memset(&tx, 0, sizeof(tx));
	tx.type = CHAIN_TX_SET;
	if (!chain_name_valid(name, nlen))
		return wallet_errf(w, "NAME must be 1..%d characters of [A-Za-z0-9._:/-], got \"%.80s\"",
				   CHAIN_MAX_NAME, name);
	if (vlen > CHAIN_MAX_VALUE || !chain_value_valid((const uint8_t *)value, vlen))
		return wallet_errf(w, "VALUE must be at most %d bytes of UTF-8 text without control "
				      "characters (got %zu bytes)",
				   CHAIN_MAX_VALUE, vlen);
	memcpy(tx.name, name, nlen + 1);
	memcpy(tx.value, value, vlen + 1);
	tx.value_len = (uint16_t)vlen;
	return wallet_sign_and_send(w, &tx, NULL);
}
