/* The JSON-RPC method `events` (docs/RPC.md): its parameters; the waiting is node/feed.c's. */
#include <string.h>

#include "node/events.h"
#include "node/methods.h"

/* param_kinds reads params.kinds, an array of "block" and "tx" (both if absent). */
static int
param_kinds(const struct rpc_call *c, unsigned *kinds, struct ch_err *err)
{
	const cJSON *a = rpc_param(c->params, "kinds", 1);
	*kinds = NODE_EV_BLOCK | NODE_EV_TX;
	if (a == NULL || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
		return ch_errf(err, CH_E_INVALID,
			       "params.kinds must be a non-empty array of \"block\" and \"tx\"");
	*kinds = 0;
	const cJSON *k;
	cJSON_ArrayForEach(k, a)
	{
		if (cJSON_IsString(k) && strcmp(k->valuestring, "block") == 0)
			*kinds |= NODE_EV_BLOCK;
		else if (cJSON_IsString(k) && strcmp(k->valuestring, "tx") == 0)
			*kinds |= NODE_EV_TX;
		else
			return ch_errf(err, CH_E_INVALID,
				       "params.kinds may hold only \"block\" and \"tx\"");
	}
	return 0;
}

/* optional reads an optional u64 parameter within lo..hi. */
static int
optional(const struct rpc_call *c, const char *name, int pos, uint64_t lo, uint64_t hi,
	 uint64_t *v, struct ch_err *err)
{
	int rc = rpc_param_u64(c->params, name, pos, false, v, err);
	if (rc == CH_E_NOT_FOUND)
		return 0;
	if (rc == 0 && (*v < lo || *v > hi))
		rc = ch_errf(err, CH_E_INVALID, "params.%s must be %llu..%llu", name,
			     (unsigned long long)lo, (unsigned long long)hi);
	return rc;
}

void
node_m_events(const struct node_rpc_env *env, struct node_pending *p, struct rpc_call *c)
{
	struct node_events_query q = {.after_ordinal = -1};
	uint64_t timeout = 0, limit = NODE_EVENTS_MAX;
	const char *account = NULL;
	struct ch_err e;
	ch_err_clear(&e);
	int rc = rpc_param_u64(c->params, "from_height", 0, true, &q.from_height, &e);
	if (rc == 0 && q.from_height == 0)
		rc = ch_errf(&e, CH_E_INVALID, "params.from_height must be at least 1");
	if (rc == 0)
		rc = param_kinds(c, &q.kinds, &e);
	if (rc == 0 && (rc = rpc_param_string(c->params, "account", 2, false, &account, &e)) ==
			       CH_E_NOT_FOUND)
		rc = 0;
	if (rc == 0 && account != NULL) {
		if (cr_hex_decode_exact(account, q.account, CR_ADDR_LEN) != 0)
			rc = ch_errf(&e, CH_E_INVALID, "params.account must be %d hex characters",
				     2 * CR_ADDR_LEN);
		q.has_account = true;
	}
	if (rc == 0)
		rc = optional(c, "timeout_ms", 3, 0, NODE_EVENTS_MAX_WAIT_MS, &timeout, &e);
	if (rc == 0)
		rc = optional(c, "limit", 4, 1, NODE_EVENTS_MAX, &limit, &e);
	if (rc != 0) {
		node_fail(c, &e);
		return;
	}
	uint64_t now = env->now_ms(env->arg);
	if (env->events(env->arg, p, c, &q, (size_t)limit, now + timeout) != 0)
		node_fail_code(c, CH_E_NOMEM, "out of memory");
}
