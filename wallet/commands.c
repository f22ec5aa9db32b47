/* The wallet's commands. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/block.h"
#include "chain/tx.h"
#include "common/num.h"
#include "crypto/crypto.h"
#include "rpc/client.h"
#include "wallet/wallet.h"

#define RPC_TIMEOUT_MS 15000

int
wallet_call(const struct wallet_opts *o, const char *method, cJSON *params, int timeout_ms,
	    cJSON **result)
{
	struct ch_err e;
	ch_err_clear(&e);
	if (rpc_client_call(o->node, method, params, timeout_ms, result, &e) != 0)
		return wallet_fail("%s", ch_err_msg(&e));
	return 0;
}

static void
print_value(const char *indent, const char *key, const cJSON *v)
{
	if (cJSON_IsString(v)) {
		printf("%s%s: %s\n", indent, key, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		printf("%s%s: %.0f\n", indent, key, v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		printf("%s%s: %s\n", indent, key, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsArray(v)) {
		printf("%s%s: (%d)\n", indent, key, cJSON_GetArraySize(v));
		const cJSON *x;
		cJSON_ArrayForEach(x, v) {
			if (cJSON_IsString(x))
				printf("%s  %s\n", indent, x->valuestring);
			else if (cJSON_IsObject(x)) {
				const cJSON *y;
				char in[16];
				snprintf(in, sizeof(in), "%s    ", indent);
				printf("%s  -\n", indent);
				cJSON_ArrayForEach(y, x) print_value(in, y->string, y);
			}
		}
	} else if (cJSON_IsObject(v)) {
		printf("%s%s:\n", indent, key);
		char in[16];
		snprintf(in, sizeof(in), "%s  ", indent);
		const cJSON *y;
		cJSON_ArrayForEach(y, v) print_value(in, y->string, y);
	}
}

void
wallet_print(const struct wallet_opts *o, const cJSON *result)
{
	if (o->json) {
		char *s = cJSON_Print(result);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		return;
	}
	const cJSON *v;
	cJSON_ArrayForEach(v, result) print_value("", v->string, v);
}

static int
parse_addr(const char *what, const char *s, uint8_t out[CR_ADDR_LEN])
{
	if (s == NULL)
		return wallet_fail("%s is required", what);
	if (cr_hex_decode_exact(s, out, CR_ADDR_LEN) != 0)
		return wallet_fail("%s must be an address of 40 hex characters, got \"%s\"", what, s);
	return 0;
}

static int
load_key(const struct wallet_opts *o, struct cr_key **k)
{
	struct ch_err e;
	ch_err_clear(&e);
	if (o->key == NULL)
		return wallet_fail("--key FILE is required");
	if (cr_key_load_pem(k, o->key, &e) != 0)
		return wallet_fail("%s", ch_err_msg(&e));
	return 0;
}

int
wallet_keygen(const struct wallet_opts *o)
{
	struct cr_key *k = NULL;
	struct ch_err e;
	ch_err_clear(&e);
	if (o->out == NULL)
		return wallet_fail("--out FILE is required");
	if (cr_key_generate(&k, &e) != 0 || cr_key_save_pem(k, o->out, &e) != 0) {
		cr_key_free(k);
		return wallet_fail("%s", ch_err_msg(&e));
	}
	uint8_t pub[CR_PUBKEY_LEN], addr[CR_ADDR_LEN];
	char hex[2 * CR_PUBKEY_LEN + 1];
	cr_key_pubkey(k, pub);
	cr_key_free(k);
	cr_address(pub, addr);
	cJSON *r = cJSON_CreateObject();
	cr_hex_encode(addr, CR_ADDR_LEN, hex);
	cJSON_AddStringToObject(r, "address", hex);
	cr_hex_encode(pub, CR_PUBKEY_LEN, hex);
	cJSON_AddStringToObject(r, "pub_key", hex);
	cJSON_AddStringToObject(r, "file", o->out);
	wallet_print(o, r);
	cJSON_Delete(r);
	return 0;
}

int
wallet_address(const struct wallet_opts *o)
{
	struct cr_key *k = NULL;
	if (load_key(o, &k) != 0)
		return 1;
	uint8_t pub[CR_PUBKEY_LEN], addr[CR_ADDR_LEN];
	char hex[2 * CR_PUBKEY_LEN + 1];
	cr_key_pubkey(k, pub);
	cr_key_free(k);
	cr_address(pub, addr);
	cr_hex_encode(addr, CR_ADDR_LEN, hex);
	if (!o->json) {
		printf("%s\n", hex);
		return 0;
	}
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "address", hex);
	cr_hex_encode(pub, CR_PUBKEY_LEN, hex);
	cJSON_AddStringToObject(r, "pub_key", hex);
	wallet_print(o, r);
	cJSON_Delete(r);
	return 0;
}

/* chain_and_nonce fills what the node knows unless the options give it. */
static int
chain_and_nonce(const struct wallet_opts *o, const uint8_t addr[CR_ADDR_LEN], struct chain_tx *tx)
{
	cJSON *r = NULL;
	if (o->chain_id != NULL) {
		if (strlen(o->chain_id) > CHAIN_MAX_CHAIN_ID)
			return wallet_fail("--chain-id is longer than %d characters", CHAIN_MAX_CHAIN_ID);
		snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", o->chain_id);
	} else {
		if (wallet_call(o, "status", NULL, RPC_TIMEOUT_MS, &r) != 0)
			return 1;
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "chain_id");
		if (!cJSON_IsString(id) || strlen(id->valuestring) > CHAIN_MAX_CHAIN_ID) {
			cJSON_Delete(r);
			return wallet_fail("the node did not say its chain id");
		}
		snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", id->valuestring);
		cJSON_Delete(r);
	}
	if (o->nonce != NULL) {
		if (!ch_parse_u64(o->nonce, &tx->nonce))
			return wallet_fail("--nonce must be a whole number, got \"%s\"", o->nonce);
		return 0;
	}
	char hex[2 * CR_ADDR_LEN + 1];
	cr_hex_encode(addr, CR_ADDR_LEN, hex);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "address", hex);
	if (wallet_call(o, "account", p, RPC_TIMEOUT_MS, &r) != 0)
		return 1;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "pending_nonce");
	if (!cJSON_IsNumber(n))
		n = cJSON_GetObjectItemCaseSensitive(r, "nonce");
	if (!cJSON_IsNumber(n) || n->valuedouble < 0) {
		cJSON_Delete(r);
		return wallet_fail("the node did not say the account nonce");
	}
	tx->nonce = (uint64_t)n->valuedouble;
	cJSON_Delete(r);
	return 0;
}

int
wallet_send(const struct wallet_opts *o, bool transfer)
{
	struct chain_tx *tx = calloc(1, sizeof(*tx));
	struct cr_key *k = NULL;
	struct ch_err e;
	int rc = 1;
	ch_err_clear(&e);
	if (tx == NULL)
		return wallet_fail("out of memory");
	if (transfer) {
		tx->type = CHAIN_TX_TRANSFER;
		if (parse_addr("--to", o->to, tx->to) != 0)
			goto out;
		if (o->amount == NULL) {
			wallet_fail("--amount N is required");
			goto out;
		}
		if (!ch_parse_u64(o->amount, &tx->amount) || tx->amount == 0) {
			wallet_fail("--amount must be a whole number from 1 to 18446744073709551615, "
				    "got \"%s\"",
				    o->amount);
			goto out;
		}
	} else {
		tx->type = CHAIN_TX_SET;
		size_t nl = strlen(o->args[0]), vl = strlen(o->args[1]);
		if (!chain_name_valid(o->args[0], nl)) {
			wallet_fail("NAME must be 1..%d characters of [A-Za-z0-9._:/-]", CHAIN_MAX_NAME);
			goto out;
		}
		if (!chain_value_valid((const uint8_t *)o->args[1], vl)) {
			wallet_fail("VALUE must be at most %d bytes of UTF-8 text without control "
				    "characters",
				    CHAIN_MAX_VALUE);
			goto out;
		}
		memcpy(tx->name, o->args[0], nl + 1);
		memcpy(tx->value, o->args[1], vl + 1);
		tx->value_len = (uint16_t)vl;
	}
	uint64_t timeout = 10000;
	if (o->timeout != NULL && (!ch_parse_u64(o->timeout, &timeout) || timeout == 0 ||
				   timeout > 600000)) {
		wallet_fail("--timeout-ms must be 1..600000");
		goto out;
	}
	if (load_key(o, &k) != 0)
		goto out;
	uint8_t pub[CR_PUBKEY_LEN], addr[CR_ADDR_LEN];
	cr_key_pubkey(k, pub);
	cr_address(pub, addr);
	if (chain_and_nonce(o, addr, tx) != 0)
		goto out;
	if (chain_tx_sign(tx, k, &e) != 0) {
		wallet_fail("%s", ch_err_msg(&e));
		goto out;
	}
	struct ch_buf enc;
	ch_buf_init(&enc);
	chain_tx_encode(tx, &enc);
	char *hex = malloc(2 * enc.len + 1);
	if (!ch_buf_ok(&enc) || hex == NULL) {
		ch_buf_close(&enc);
		free(hex);
		wallet_fail("out of memory");
		goto out;
	}
	cr_hex_encode(enc.data, enc.len, hex);
	ch_buf_close(&enc);
	if (o->print_only) {
		printf("%s\n", hex);
		free(hex);
		rc = 0;
		goto out;
	}
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "tx", hex);
	free(hex);
	if (o->wait)
		cJSON_AddNumberToObject(p, "timeout_ms", (double)timeout);
	cJSON *r = NULL;
	if (wallet_call(o, o->wait ? "broadcast_tx_commit" : "broadcast_tx_sync", p,
			(int)timeout + RPC_TIMEOUT_MS, &r) != 0)
		goto out;
	wallet_print(o, r);
	cJSON_Delete(r);
	rc = 0;
out:
	cr_key_free(k);
	free(tx);
	return rc;
}

static cJSON *
one_param(const char *name, const char *value)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, name, value);
	return p;
}

static int
query(const struct wallet_opts *o, const char *method, cJSON *params)
{
	cJSON *r = NULL;
	if (wallet_call(o, method, params, RPC_TIMEOUT_MS, &r) != 0)
		return 1;
	wallet_print(o, r);
	cJSON_Delete(r);
	return 0;
}

int
wallet_balance(const struct wallet_opts *o)
{
	uint8_t addr[CR_ADDR_LEN];
	if (parse_addr("ADDR", o->args[0], addr) != 0)
		return 1;
	return query(o, "account", one_param("address", o->args[0]));
}

int
wallet_get(const struct wallet_opts *o)
{
	uint8_t addr[CR_ADDR_LEN];
	if (parse_addr("OWNER", o->args[0], addr) != 0)
		return 1;
	if (!chain_name_valid(o->args[1], strlen(o->args[1])))
		return wallet_fail("NAME must be 1..%d characters of [A-Za-z0-9._:/-]",
				   CHAIN_MAX_NAME);
	cJSON *p = one_param("owner", o->args[0]);
	cJSON_AddStringToObject(p, "name", o->args[1]);
	return query(o, "get", p);
}

/* check_proof verifies a committed transaction's Merkle proof against its block's header. */
static int
check_proof(const struct wallet_opts *o, const cJSON *r, const uint8_t hash[CR_HASH_LEN])
{
	const cJSON *proof = cJSON_GetObjectItemCaseSensitive(r, "proof");
	const cJSON *height = cJSON_GetObjectItemCaseSensitive(r, "height");
	const cJSON *index = cJSON_GetObjectItemCaseSensitive(proof, "index");
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(proof, "total");
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(proof, "path");
	if (!cJSON_IsNumber(height) || !cJSON_IsNumber(index) || !cJSON_IsNumber(total) ||
	    !cJSON_IsArray(path) || cJSON_GetArraySize(path) > CR_MERKLE_MAX_DEPTH)
		return wallet_fail("proof: INVALID (the node sent no usable proof)");
	uint8_t steps[CR_MERKLE_MAX_DEPTH][CR_HASH_LEN];
	size_t n = 0;
	const cJSON *s;
	cJSON_ArrayForEach(s, path) {
		if (!cJSON_IsString(s) || cr_hex_decode_exact(s->valuestring, steps[n], CR_HASH_LEN))
			return wallet_fail("proof: INVALID (bad path entry)");
		n++;
	}
	/* The root comes from the block header, not from the proof itself. */
	cJSON *p = cJSON_CreateObject(), *b = NULL;
	cJSON_AddNumberToObject(p, "height", height->valuedouble);
	if (wallet_call(o, "block", p, RPC_TIMEOUT_MS, &b) != 0)
		return 1;
	const cJSON *hdr = cJSON_GetObjectItemCaseSensitive(b, "header");
	const cJSON *root_hex = cJSON_GetObjectItemCaseSensitive(hdr, "tx_root");
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(hdr, "tx_count");
	uint8_t root[CR_HASH_LEN];
	bool ok = cJSON_IsString(root_hex) && cJSON_IsNumber(count) &&
		  count->valuedouble == total->valuedouble &&
		  cr_hex_decode_exact(root_hex->valuestring, root, CR_HASH_LEN) == 0 &&
		  cr_merkle_verify(hash, (size_t)index->valuedouble, (size_t)total->valuedouble,
				   (const uint8_t(*)[CR_HASH_LEN])steps, n, root);
	cJSON_Delete(b);
	return ok ? 0 : wallet_fail("proof: INVALID (does not lead to the block's tx_root)");
}

int
wallet_tx(const struct wallet_opts *o)
{
	uint8_t hash[CR_HASH_LEN];
	if (cr_hex_decode_exact(o->args[0], hash, CR_HASH_LEN) != 0)
		return wallet_fail("HASH must be 64 hex characters");
	cJSON *r = NULL;
	if (wallet_call(o, "tx", one_param("hash", o->args[0]), RPC_TIMEOUT_MS, &r) != 0)
		return 1;
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(r, "status");
	bool committed = cJSON_IsString(status) && strcmp(status->valuestring, "committed") == 0;
	if (committed) {
		if (check_proof(o, r, hash) != 0) {
			cJSON_Delete(r);
			return 1;
		}
		cJSON_AddBoolToObject(r, "proof_valid", 1);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(r, o->json ? "" : "raw");
	wallet_print(o, r);
	if (committed && !o->json)
		printf("proof: valid\n");
	cJSON_Delete(r);
	return 0;
}

int
wallet_block(const struct wallet_opts *o)
{
	cJSON *p = NULL;
	if (o->nargs == 1) {
		uint64_t h;
		if (!ch_parse_u64(o->args[0], &h) || h == 0)
			return wallet_fail("HEIGHT must be a whole number from 1, got \"%s\"",
					   o->args[0]);
		p = cJSON_CreateObject();
		cJSON_AddNumberToObject(p, "height", (double)h);
	}
	cJSON *r = NULL;
	if (wallet_call(o, "block", p, RPC_TIMEOUT_MS, &r) != 0)
		return 1;
	if (!o->json) {
		cJSON_DeleteItemFromObjectCaseSensitive(r, "raw");
		cJSON *cert = cJSON_GetObjectItemCaseSensitive(r, "cert");
		const cJSON *votes = cJSON_GetObjectItemCaseSensitive(cert, "votes");
		int nv = cJSON_IsArray(votes) ? cJSON_GetArraySize(votes) : 0;
		cJSON_DeleteItemFromObjectCaseSensitive(r, "cert");
		cJSON_AddNumberToObject(r, "certificate_votes", nv);
	}
	wallet_print(o, r);
	cJSON_Delete(r);
	return 0;
}

int
wallet_status(const struct wallet_opts *o)
{
	return query(o, "status", NULL);
}
