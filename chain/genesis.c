#include "chain/genesis.h"
#include "chain/valset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define MAX_GENESIS_BYTES (16u << 20)

void
chain_params_default(struct chain_params *p)
{
	p->block_max_txs = 5000;
	p->block_max_bytes = 4u << 20;
	p->block_interval_ms = 0;
	p->checkpoint_interval = 100;
	p->view_timeout_ms = 1000;
	strcpy(p->engine, "pbft");
}

static const char *const engines[] = {"pbft", "raft", "multipaxos"};

static int
parse_engine(const cJSON *p, char *out, struct ch_err *err)
{
	if (cJSON_GetObjectItemCaseSensitive(p, "engine") == NULL)
		return 0;
	char name[CHAIN_MAX_ENGINE + 1];
	int rc = ch_json_string(p, "genesis params", "engine", true, name, sizeof(name), err);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (strcmp(name, engines[i]) == 0) {
			strcpy(out, name);
			return 0;
		}
	return ch_errf(err, CH_E_CONFIG,
		       "genesis params: \"engine\" must be \"pbft\", \"raft\" or \"multipaxos\", not \"%s\"",
		       name);
}

static int
get_hex(const cJSON *obj, const char *what, const char *name, uint8_t *out, size_t n,
	struct ch_err *err)
{
	char buf[2 * CR_PUBKEY_LEN + 3];
	int rc = ch_json_string(obj, what, name, true, buf, sizeof(buf), err);
	if (rc == 0 && cr_hex_decode_exact(buf, out, n) != 0)
		rc = ch_errf(err, CH_E_CONFIG, "%s: \"%s\" must be %zu hex characters", what, name,
			     2 * n);
	return rc;
}

static int
parse_params(const cJSON *p, struct chain_params *out, struct ch_err *err)
{
	const char *w = "genesis params";
	int rc;
	if (p == NULL)
		return 0;
	if (!cJSON_IsObject(p))
		return ch_errf(err, CH_E_CONFIG, "genesis: \"params\" must be an object");
	if ((rc = ch_json_u32(p, w, "block_max_txs", 1, CHAIN_MAX_BLOCK_TXS, &out->block_max_txs,
			      err)) != 0 ||
	    (rc = ch_json_u32(p, w, "block_max_bytes", 4096, CHAIN_MAX_BLOCK_BYTES,
			      &out->block_max_bytes, err)) != 0 ||
	    (rc = ch_json_u32(p, w, "block_interval_ms", 0, 60000, &out->block_interval_ms,
			      err)) != 0 ||
	    (rc = ch_json_u32(p, w, "checkpoint_interval", 1, 1000000, &out->checkpoint_interval,
			      err)) != 0 ||
	    (rc = ch_json_u32(p, w, "view_timeout_ms", 10, 600000, &out->view_timeout_ms, err)) !=
		    0 ||
	    (rc = parse_engine(p, out->engine, err)) != 0)
		return rc;
	return 0;
}

static int
parse_validators(const cJSON *arr, struct chain_genesis *g, struct ch_err *err)
{
	if (!cJSON_IsArray(arr))
		return ch_errf(err, CH_E_CONFIG, "genesis: \"validators\" must be an array");
	int n = cJSON_GetArraySize(arr);
	if (n < 1 || n > CHAIN_MAX_VALIDATORS)
		return ch_errf(err, CH_E_CONFIG, "genesis: need 1..%d validators, found %d",
			       CHAIN_MAX_VALIDATORS, n);
	int i = 0, rc;
	const cJSON *v;
	cJSON_ArrayForEach(v, arr) {
		char what[48];
		struct chain_validator *val = &g->validators[i];
		snprintf(what, sizeof(what), "genesis validators[%d]", i);
		if (!cJSON_IsObject(v))
			return ch_errf(err, CH_E_CONFIG, "%s must be an object", what);
		if ((rc = ch_json_string(v, what, "id", true, val->id, sizeof(val->id), err)) != 0 ||
		    (rc = get_hex(v, what, "pub_key", val->pub_key, CR_PUBKEY_LEN, err)) != 0 ||
		    (rc = ch_json_string(v, what, "p2p_address", false, val->p2p_address,
					 sizeof(val->p2p_address), err)) != 0)
			return rc;
		struct cr_pubkey *pk = NULL;
		if (cr_pubkey_parse(&pk, val->pub_key, NULL) != 0)
			return ch_errf(err, CH_E_CONFIG, "%s: pub_key is not a P-256 public key", what);
		cr_pubkey_free(pk);
		for (int j = 0; j < i; j++)
			if (memcmp(g->validators[j].pub_key, val->pub_key, CR_PUBKEY_LEN) == 0 ||
			    strcmp(g->validators[j].id, val->id) == 0)
				return ch_errf(err, CH_E_CONFIG,
					       "%s repeats the id or key of validators[%d]", what, j);
		i++;
	}
	g->nvalidators = (size_t)n;
	return 0;
}

static int
parse_accounts(const cJSON *arr, struct chain_genesis *g, struct ch_err *err)
{
	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		return ch_errf(err, CH_E_CONFIG, "genesis: \"accounts\" must be an array");
	int n = cJSON_GetArraySize(arr);
	if (n == 0)
		return 0;
	g->accounts = calloc((size_t)n, sizeof(*g->accounts));
	if (g->accounts == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	int i = 0, rc;
	const cJSON *a;
	cJSON_ArrayForEach(a, arr) {
		char what[48];
		snprintf(what, sizeof(what), "genesis accounts[%d]", i);
		if (!cJSON_IsObject(a))
			return ch_errf(err, CH_E_CONFIG, "%s must be an object", what);
		if ((rc = get_hex(a, what, "address", g->accounts[i].address, CR_ADDR_LEN, err)) !=
			    0 ||
		    (rc = ch_json_u64(a, what, "balance", true, 0, UINT64_MAX,
				      &g->accounts[i].balance, err)) != 0)
			return rc;
		i++;
	}
	g->naccounts = (size_t)n;
	return 0;
}

static int
parse(struct chain_genesis *g, const cJSON *root, struct ch_err *err)
{
	int rc;
	if ((rc = ch_json_string(root, "genesis", "chain_id", true, g->chain_id,
				 sizeof(g->chain_id), err)) != 0)
		return rc;
	if (!chain_id_valid(g->chain_id, strlen(g->chain_id)))
		return ch_errf(err, CH_E_CONFIG,
			       "genesis: chain_id must be 1..64 characters of [A-Za-z0-9._-]");
	if ((rc = ch_json_u64(root, "genesis", "genesis_time_ms", true, 0, UINT64_MAX / 2,
			      &g->genesis_time_ms, err)) != 0 ||
	    (rc = parse_validators(cJSON_GetObjectItemCaseSensitive(root, "validators"), g, err)) !=
		    0 ||
	    (rc = parse_accounts(cJSON_GetObjectItemCaseSensitive(root, "accounts"), g, err)) != 0)
		return rc;
	return parse_params(cJSON_GetObjectItemCaseSensitive(root, "params"), &g->params, err);
}

int
chain_genesis_load(struct chain_genesis *g, const char *path, struct ch_err *err)
{
	memset(g, 0, sizeof(*g));
	chain_params_default(&g->params);
	cJSON *root = NULL;
	char *canon = NULL;
	int rc = ch_json_load(path, MAX_GENESIS_BYTES, &root, err);
	if (rc != 0)
		return rc;
	if ((rc = parse(g, root, err)) != 0) {
		ch_err_wrap(err, rc, "%s", path);
	} else if ((canon = cJSON_PrintUnformatted(root)) == NULL) {
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
	} else {
		cr_sha256(canon, strlen(canon), g->hash);
	}
	if (rc != 0)
		chain_genesis_close(g);
	free(canon);
	cJSON_Delete(root);
	return rc;
}

void
chain_genesis_close(struct chain_genesis *g)
{
	if (g == NULL)
		return;
	free(g->accounts);
	g->accounts = NULL;
	g->naccounts = 0;
}

static void
add_hex(cJSON *obj, const char *name, const uint8_t *data, size_t n)
{
	char buf[2 * CR_PUBKEY_LEN + 1];
	cr_hex_encode(data, n, buf);
	cJSON_AddStringToObject(obj, name, buf);
}

int
chain_genesis_save(const struct chain_genesis *g, const char *path, struct ch_err *err)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "chain_id", g->chain_id);
	cJSON_AddNumberToObject(root, "genesis_time_ms", (double)g->genesis_time_ms);
	cJSON *vals = cJSON_AddArrayToObject(root, "validators");
	for (size_t i = 0; i < g->nvalidators; i++) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "id", g->validators[i].id);
		add_hex(v, "pub_key", g->validators[i].pub_key, CR_PUBKEY_LEN);
		cJSON_AddStringToObject(v, "p2p_address", g->validators[i].p2p_address);
		cJSON_AddItemToArray(vals, v);
	}
	cJSON *accts = cJSON_AddArrayToObject(root, "accounts");
	for (size_t i = 0; i < g->naccounts; i++) {
		char balance[24];
		cJSON *a = cJSON_CreateObject();
		add_hex(a, "address", g->accounts[i].address, CR_ADDR_LEN);
		snprintf(balance, sizeof(balance), "%llu", (unsigned long long)g->accounts[i].balance);
		cJSON_AddStringToObject(a, "balance", balance);
		cJSON_AddItemToArray(accts, a);
	}
	cJSON *p = cJSON_AddObjectToObject(root, "params");
	cJSON_AddNumberToObject(p, "block_max_txs", g->params.block_max_txs);
	cJSON_AddNumberToObject(p, "block_max_bytes", g->params.block_max_bytes);
	cJSON_AddNumberToObject(p, "block_interval_ms", g->params.block_interval_ms);
	cJSON_AddNumberToObject(p, "checkpoint_interval", g->params.checkpoint_interval);
	cJSON_AddNumberToObject(p, "view_timeout_ms", g->params.view_timeout_ms);
	cJSON_AddStringToObject(p, "engine", g->params.engine);
	return ch_json_save(root, path, err);
}

int
chain_genesis_state(const struct chain_genesis *g, const struct chain_state_reader *base,
		    struct chain_exec **out, uint8_t digest[CR_HASH_LEN], struct ch_err *err)
{
	static const uint8_t zero[CR_HASH_LEN];
	struct chain_exec *x = NULL;
	if (chain_exec_new(&x, base) != 0)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; i < g->naccounts && rc == 0; i++)
		rc = chain_exec_credit(x, g->accounts[i].address, g->accounts[i].balance, err);
	if (rc == 0)
		rc = chain_valset_write_genesis(x, g, err);
	if (rc != 0) {
		chain_exec_free(x);
		return rc;
	}
	chain_exec_digest(x, zero, digest);
	*out = x;
	return 0;
}
