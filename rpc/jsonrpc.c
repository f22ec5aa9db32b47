/*
 * JSON-RPC 2.0 framing (https://www.jsonrpc.org/specification, sections 4-6)
 * and parameter access. Transport and methods live elsewhere.
 *
 * Out of memory while answering: a call whose response cannot be built is
 * left unanswered and rendered as -32603; if even the rendering fails,
 * rpc_request_render returns NULL with *len = 1 (not 0), so that a caller
 * can tell "out of memory" (HTTP 500) from "nothing to send" (HTTP 204).
 */
#include "rpc/jsonrpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/num.h"

/* 2^53: above it a JSON number may already have been rounded by the parser. */
#define EXACT_LIMIT 9007199254740992.0

static void
call_invalid(struct rpc_call *c, const char *msg)
{
	c->error_code = RPC_INVALID_REQUEST;
	c->error_msg = msg;
	c->method = NULL;
	c->params = NULL;
	c->has_id = true; /* an invalid request is answered, with id null if unreadable */
}

/* parse_call fills c from one request value o (borrowed from the tree). */
static void
parse_call(struct rpc_call *c, cJSON *o)
{
	memset(c, 0, sizeof(*c));
	if (!cJSON_IsObject(o)) {
		call_invalid(c, "invalid request: a call must be a JSON object");
		return;
	}
	cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (id != NULL) {
		if (!cJSON_IsString(id) && !cJSON_IsNumber(id) && !cJSON_IsNull(id)) {
			call_invalid(c, "invalid request: \"id\" must be a string, a number or null");
			return;
		}
		c->id = id;
		c->has_id = true;
	}
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "jsonrpc");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0) {
		call_invalid(c, "invalid request: \"jsonrpc\" must be \"2.0\"");
		return;
	}
	cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "method");
	if (!cJSON_IsString(m)) {
		call_invalid(c, "invalid request: \"method\" must be a string");
		return;
	}
	cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "params");
	if (p != NULL && !cJSON_IsObject(p) && !cJSON_IsArray(p)) {
		call_invalid(c, "invalid request: \"params\" must be an object or an array");
		return;
	}
	c->method = m->valuestring;
	c->params = p;
}

/* parse_json parses exactly len bytes: trailing bytes other than white space fail. */
static cJSON *
parse_json(const char *body, size_t len)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (root == NULL)
		return NULL;
	for (; end < body + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
			cJSON_Delete(root);
			return NULL;
		}
	}
	return root;
}

int
rpc_request_parse(struct rpc_request *r, const char *body, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->root = len > 0 ? parse_json(body, len) : NULL;
	size_t n = 1;
	int k = cJSON_IsArray(r->root) ? cJSON_GetArraySize(r->root) : 0;
	if (k > 0 && k <= RPC_MAX_BATCH) {
		r->batch = true;
		n = (size_t)k;
	}
	r->calls = calloc(n, sizeof(*r->calls));
	if (r->calls == NULL) {
		cJSON_Delete(r->root);
		r->root = NULL;
		return CH_E_NOMEM;
	}
	r->ncalls = n;
	if (r->root == NULL) {
		call_invalid(&r->calls[0], "parse error: the body is not valid JSON");
		r->calls[0].error_code = RPC_PARSE_ERROR;
	} else if (cJSON_IsArray(r->root) && k == 0) {
		call_invalid(&r->calls[0], "invalid request: empty batch");
	} else if (cJSON_IsArray(r->root) && !r->batch) {
		call_invalid(&r->calls[0], "invalid request: a batch may hold at most 1000 calls");
	} else if (r->batch) {
		size_t i = 0;
		cJSON *o;
		cJSON_ArrayForEach(o, r->root) parse_call(&r->calls[i++], o);
	} else {
		parse_call(&r->calls[0], r->root);
	}
	return 0;
}

void
rpc_request_close(struct rpc_request *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->ncalls; i++)
		cJSON_Delete(r->calls[i].response);
	free(r->calls);
	cJSON_Delete(r->root);
	memset(r, 0, sizeof(*r));
}

/* respond makes c's response {"jsonrpc","id",key: value}; value is consumed. */
static void
respond(struct rpc_call *c, const char *key, cJSON *value)
{
	cJSON *o = NULL, *id = NULL;

	cJSON_Delete(c->response);
	c->response = NULL;
	if (!c->has_id || value == NULL) /* a notification gets nothing; or out of memory */
		goto fail;
	if ((o = cJSON_CreateObject()) == NULL || cJSON_AddStringToObject(o, "jsonrpc", "2.0") == NULL)
		goto fail;
	if ((id = c->id != NULL ? cJSON_Duplicate(c->id, 1) : cJSON_CreateNull()) == NULL)
		goto fail;
	/* constant keys: adding them allocates nothing, so cannot fail */
	cJSON_AddItemToObjectCS(o, "id", id);
	cJSON_AddItemToObjectCS(o, key, value);
	c->response = o;
	return;
fail:
	cJSON_Delete(value);
	cJSON_Delete(o);
}

void
rpc_call_result(struct rpc_call *c, cJSON *result)
{
	respond(c, "result", result != NULL ? result : cJSON_CreateNull());
}

void
rpc_call_error(struct rpc_call *c, int code, const char *msg, cJSON *data)
{
	cJSON *e = cJSON_CreateObject();
	if (e == NULL || cJSON_AddNumberToObject(e, "code", code) == NULL ||
	    cJSON_AddStringToObject(e, "message", msg != NULL ? msg : "error") == NULL) {
		cJSON_Delete(data);
		cJSON_Delete(e);
		e = NULL;
	} else if (data != NULL) {
		cJSON_AddItemToObjectCS(e, "data", data);
	}
	respond(c, "error", e);
}

char *
rpc_request_render(struct rpc_request *r, size_t *len)
{
	cJSON *out = NULL;
	char *text = NULL;
	size_t answers = 0;

	*len = 0;
	for (size_t i = 0; i < r->ncalls; i++) {
		struct rpc_call *c = &r->calls[i];
		if (!c->has_id)
			continue;
		if (c->response == NULL)
			rpc_call_error(c, RPC_INTERNAL_ERROR, "internal error: the call was not answered",
				       NULL);
		if (c->response == NULL)
			goto oom;
		answers++;
	}
	if (answers == 0)
		return NULL;
	if (r->batch) {
		if ((out = cJSON_CreateArray()) == NULL)
			goto oom;
		for (size_t i = 0; i < r->ncalls; i++) {
			struct rpc_call *c = &r->calls[i];
			if (c->response != NULL) {
				cJSON_AddItemToArray(out, c->response);
				c->response = NULL;
			}
		}
		text = cJSON_PrintUnformatted(out);
		cJSON_Delete(out);
	} else {
		text = cJSON_PrintUnformatted(r->calls[0].response);
	}
	if (text == NULL)
		goto oom;
	*len = strlen(text);
	return text;
oom:
	*len = 1;
	return NULL;
}

cJSON *
rpc_param(const cJSON *params, const char *name, int pos)
{
	if (cJSON_IsObject(params))
		return cJSON_GetObjectItemCaseSensitive(params, name);
	if (cJSON_IsArray(params) && pos >= 0)
		return cJSON_GetArrayItem(params, pos);
	return NULL;
}

/* absent records the missing-parameter outcome. */
static int
absent(const char *name, bool required, struct ch_err *err)
{
	if (required)
		return ch_errf(err, CH_E_INVALID, "params.%s is required", name);
	return CH_E_NOT_FOUND;
}

int
rpc_param_string(const cJSON *params, const char *name, int pos, bool required, const char **out,
		 struct ch_err *err)
{
	const cJSON *v = rpc_param(params, name, pos);
	if (v == NULL)
		return absent(name, required, err);
	if (!cJSON_IsString(v))
		return ch_errf(err, CH_E_INVALID, "params.%s must be a string", name);
	*out = v->valuestring;
	return 0;
}

/*
 * A JSON number is accepted below 2^53 only: cJSON keeps numbers as
 * doubles, where 2^53 and 2^53+1 are the same value, so from 2^53 on the
 * text may have been rounded. Larger values come as decimal strings.
 */
int
rpc_param_u64(const cJSON *params, const char *name, int pos, bool required, uint64_t *out,
	      struct ch_err *err)
{
	const cJSON *v = rpc_param(params, name, pos);
	uint64_t x = 0;
	bool ok;
	if (v == NULL)
		return absent(name, required, err);
	if (cJSON_IsNumber(v))
		ok = v->valuedouble < EXACT_LIMIT && ch_double_u64(v->valuedouble, &x);
	else
		ok = cJSON_IsString(v) && ch_parse_u64(v->valuestring, &x);
	if (!ok)
		return ch_errf(err, CH_E_INVALID, "params.%s must be a non-negative integer", name);
	*out = x;
	return 0;
}

int
rpc_param_bool(const cJSON *params, const char *name, int pos, bool required, bool *out,
	       struct ch_err *err)
{
	const cJSON *v = rpc_param(params, name, pos);
	if (v == NULL)
		return absent(name, required, err);
	if (!cJSON_IsBool(v))
		return ch_errf(err, CH_E_INVALID, "params.%s must be true or false", name);
	*out = cJSON_IsTrue(v);
	return 0;
}

cJSON *
rpc_json_u64(uint64_t v)
{
	char buf[21];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cJSON_CreateString(buf);
}
