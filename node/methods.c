/*
 * The JSON-RPC methods (docs/RPC.md) against their environment (rpc_env.h):
 * the dispatch, and the methods that submit transactions. The read-only
 * queries are in methods_query.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/json_view.h"
#include "node/methods.h"

#define COMMIT_TIMEOUT_MAX_MS 600000

void
node_fail(struct rpc_call *c, const struct ch_err *e)
{
	rpc_call_error(c, ch_rpc_code(e->code), ch_err_msg(e), NULL);
}

void
node_fail_code(struct rpc_call *c, int code, const char *msg)
{
	rpc_call_error(c, ch_rpc_code(code), msg, NULL);
}

cJSON *
node_hash_result(const uint8_t hash[CR_HASH_LEN])
{
	cJSON *r = cJSON_CreateObject();
	node_json_add_hex(r, "hash", hash, CR_HASH_LEN);
	return r;
}

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

void
node_pending_free(struct node_pending *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; p->txs != NULL && i < p->rpc.ncalls; i++)
		free(p->txs[i]);
	free(p->txs);
	rpc_request_close(&p->rpc);
	free(p);
}

bool
node_tx_status(const struct node_rpc_env *env, struct rpc_call *c, const uint8_t hash[CR_HASH_LEN])
{
	uint64_t height;
	uint32_t index;
	const struct node_dropped *d;
	if (chain_store_tx_location(env->store, hash, &height, &index, NULL) == 0) {
		cJSON *r = node_hash_result(hash);
		cJSON_AddStringToObject(r, "status", "committed");
		cJSON_AddNumberToObject(r, "height", (double)height);
		cJSON_AddNumberToObject(r, "index", index);
		rpc_call_result(c, r);
		return true;
	}
	if ((d = node_admit_dropped(env->admit, hash)) != NULL) {
		rpc_call_error(c, ch_rpc_code(d->code), d->msg, NULL);
		return true;
	}
	return false;
}

/* known_status answers with the status of a transaction that is committed or pending (else false). */
static bool
known_status(const struct node_rpc_env *env, struct rpc_call *c, const uint8_t hash[CR_HASH_LEN])
{
	if (chain_store_tx_location(env->store, hash, &(uint64_t){0}, &(uint32_t){0}, NULL) == 0)
		return node_tx_status(env, c, hash);
	if (chain_mempool_get(env->admit->pool, hash) == NULL)
		return false;
	cJSON *r = node_hash_result(hash);
	cJSON_AddStringToObject(r, "status", "pending");
	rpc_call_result(c, r);
	return true;
}

/*
 * call_tx returns c's transaction (caller frees): the one a signature
 * worker decoded, or decoded now; NULL with the error in err.
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
m_broadcast_tx_async(const struct node_rpc_env *env, struct node_pending *p, struct rpc_call *c)
{
	struct ch_err e;
	ch_err_clear(&e);
	struct chain_tx *tx = call_tx(p, c, &e);
	if (tx == NULL) {
		node_fail(c, &e);
		return;
	}
	if (chain_mempool_get(env->admit->pool, tx->hash) == NULL)
		(void)env->submit(env->arg, tx, true, &e);
	rpc_call_result(c, node_hash_result(tx->hash));
	free(tx);
}

static void
m_broadcast_tx_sync(const struct node_rpc_env *env, struct node_pending *p, struct rpc_call *c)
{
	struct ch_err e;
	ch_err_clear(&e);
	struct chain_tx *tx = call_tx(p, c, &e);
	if (tx == NULL) {
		node_fail(c, &e);
	} else if (!known_status(env, c, tx->hash)) {
		if (env->submit(env->arg, tx, false, &e) != 0) {
			node_fail(c, &e);
		} else {
			cJSON *r = node_hash_result(tx->hash);
			cJSON_AddStringToObject(r, "status", "pending");
			rpc_call_result(c, r);
		}
	}
	free(tx);
}

static void
m_broadcast_tx_commit(const struct node_rpc_env *env, struct node_pending *p, struct rpc_call *c)
{
	struct chain_tx *tx = NULL;
	struct ch_err e;
	uint64_t timeout = env->commit_timeout_ms;
	ch_err_clear(&e);
	int rc = rpc_param_u64(c->params, "timeout_ms", 1, false, &timeout, &e);
	if (rc == CH_E_NOT_FOUND)
		rc = 0;
	if (rc == 0 && (timeout < 1 || timeout > COMMIT_TIMEOUT_MAX_MS))
		rc = ch_errf(&e, CH_E_INVALID, "params.timeout_ms must be 1..%d",
			     COMMIT_TIMEOUT_MAX_MS);
	if (rc != 0 || (tx = call_tx(p, c, &e)) == NULL) {
		node_fail(c, &e);
	} else if (chain_store_tx_location(env->store, tx->hash, &(uint64_t){0}, &(uint32_t){0},
					   NULL) == 0) {
		node_tx_status(env, c, tx->hash);
	} else if (chain_mempool_get(env->admit->pool, tx->hash) == NULL &&
		   env->submit(env->arg, tx, false, &e) != 0) {
		node_fail(c, &e);
	} else if (env->wait(env->arg, p, c, tx->hash, env->now_ms(env->arg) + timeout) != 0) {
		node_fail_code(c, CH_E_NOMEM, "out of memory");
	}
	free(tx);
}

static const struct {
	const char *name;
	void (*query)(const struct node_rpc_env *, struct rpc_call *);
	void (*submit)(const struct node_rpc_env *, struct node_pending *, struct rpc_call *);
} methods[] = {
	{"status", node_m_status, NULL},
	{"health", node_m_health, NULL},
	{"validators", node_m_validators, NULL},
	{"validator_changes", node_m_validator_changes, NULL},
	{"net_info", node_m_net_info, NULL},
	{"broadcast_tx_async", NULL, m_broadcast_tx_async},
	{"broadcast_tx_sync", NULL, m_broadcast_tx_sync},
	{"broadcast_tx_commit", NULL, m_broadcast_tx_commit},
	{"tx", node_m_tx, NULL},
	{"block", node_m_block, NULL},
	{"blockchain", node_m_blockchain, NULL},
	{"account", node_m_account, NULL},
	{"get", node_m_get, NULL},
	{"values", node_m_values, NULL},
	{"num_unconfirmed_txs", node_m_num_unconfirmed_txs, NULL},
	{"events", NULL, node_m_events},
};

const char *
node_method_name(const char *name)
{
	for (size_t m = 0; name != NULL && m < sizeof(methods) / sizeof(methods[0]); m++)
		if (strcmp(methods[m].name, name) == 0)
			return methods[m].name;
	return NULL;
}

void
node_methods_handle(const struct node_rpc_env *env, struct node_pending *p)
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
		} else if (methods[m].submit != NULL) {
			methods[m].submit(env, p, c);
		} else {
			methods[m].query(env, c);
		}
	}
}
