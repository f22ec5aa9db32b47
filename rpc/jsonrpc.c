/* JSON-RPC 2.0 request framing and responses (specification sections 4-6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/num.h"
#include "rpc/jsonrpc.h"

static void
call_fail(struct rpc_call *c, int code, const char *msg)
{
	c->error_code = code;
	c->error_msg = msg;
	c->method = NULL;
}

/* parse_call fills c from one request object (which stays owned by the tree). */
static void
parse_call(struct rpc_call *c, cJSON *o)
{
	memset(c, 0, sizeof(*c));
	if (!cJSON_IsObject(o)) {
		call_fail(c, RPC_INVALID_REQUEST, "invalid request: expected a JSON object");
		c->has_id = true; /* answered with id null */
		return;
	}
	cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (id != NULL) {
		c->has_id = true;
		if (cJSON_IsString(id) || cJSON_IsNumber(id) || cJSON_IsNull(id))
			c->id = id;
		else {
			call_fail(c, RPC_INVALID_REQUEST,
				  "invalid request: id must be a string, a number or null");
			return;
		}
	}
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "jsonrpc");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0) {
		call_fail(c, RPC_INVALID_REQUEST, "invalid request: \"jsonrpc\" must be \"2.0\"");
		c->has_id = true;
		return;
	}
	cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "method");
	if (!cJSON_IsString(m)) {
		call_fail(c, RPC_INVALID_REQUEST, "invalid request: \"method\" must be a string");
		c->has_id = true;
		return;
	}
	cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "params");
	if (p != NULL && !cJSON_IsObject(p) && !cJSON_IsArray(p)) {
		call_fail(c, RPC_INVALID_REQUEST,
			  "invalid request: \"params\" must be an object or an array");
		c->has_id = true;
		return;
	}
	c->method = m->valuestring;
	c->params = p;
}

int
rpc_request_parse(struct rpc_request *r, const char *body, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->root = cJSON_ParseWithLength(body, len);
	size_t n = 1;
	if (r->root != NULL && cJSON_IsArray(r->root)) {
		int k = cJSON_GetArraySize(r->root);
		if (k > 0 && k <= RPC_MAX_BATCH) {
			r->batch = true;
			n = (size_t)k;
		}
	}
	r->calls = calloc(n, sizeof(*r->calls));
	if (r->calls == NULL) {
		cJSON_Delete(r->root);
		r->root = NULL;
		return CH_E_NOMEM;
	}
	r->ncalls = n;
	if (r->root == NULL) {
		call_fail(&r->calls[0], RPC_PARSE_ERROR, "parse error: the body is not valid JSON");
		r->calls[0].has_id = true;
	} else if (cJSON_IsArray(r->root) && !r->batch) {
		call_fail(&r->calls[0], RPC_INVALID_REQUEST,
			  cJSON_GetArraySize(r->root) == 0
				  ? "invalid request: empty batch"
				  : "invalid request: batch too large (at most 1000 calls)");
		r->calls[0].has_id = true;
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

static cJSON *
response_base(const struct rpc_call *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddItemToObject(o, "id", c->id ? cJSON_Duplicate(c->id, 1) : cJSON_CreateNull());
	return o;
}

void
rpc_call_result(struct rpc_call *c, cJSON *result)
{
	cJSON_Delete(c->response);
	c->response = response_base(c);
	cJSON_AddItemToObject(c->response, "result", result ? result : cJSON_CreateNull());
}

void
rpc_call_error(struct rpc_call *c, int code, const char *msg, cJSON *data)
{
	cJSON_Delete(c->response);
	c->response = response_base(c);
	cJSON *e = cJSON_AddObjectToObject(c->response, "error");
	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg ? msg : "error");
	if (data != NULL)
		cJSON_AddItemToObject(e, "data", data);
}

char *
rpc_request_render(struct rpc_request *r, size_t *len)
{
	*len = 0;
	cJSON *out = NULL;
	char *text = NULL;
	for (size_t i = 0; i < r->ncalls; i++) {
		struct rpc_call *c = &r->calls[i];
		if (c->response == NULL && c->has_id)
			rpc_call_error(c, RPC_INTERNAL_ERROR, "internal error: no answer", NULL);
	}
	if (r->batch) {
		out = cJSON_CreateArray();
		for (size_t i = 0; i < r->ncalls; i++) {
			struct rpc_call *c = &r->calls[i];
			if (c->has_id && c->response != NULL) {
				cJSON_AddItemToArray(out, c->response);
				c->response = NULL;
			}
		}
		if (cJSON_GetArraySize(out) == 0) {
			cJSON_Delete(out);
			return NULL;
		}
	} else {
		struct rpc_call *c = &r->calls[0];
		if (!c->has_id || c->response == NULL)
			return NULL;
		out = c->response;
		c->response = NULL;
	}
	text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	if (text == NULL) {
		*len = 1; /* distinguishes "out of memory" from "nothing to send" */
		return NULL;
	}
	*len = strlen(text);
	return text;
}

cJSON *
rpc_param(const cJSON *params, const char *name, int pos)
{
	if (params == NULL)
		return NULL;
	if (cJSON_IsObject(params))
		return cJSON_GetObjectItemCaseSensitive(params, name);
	if (cJSON_IsArray(params) && pos >= 0)
		return cJSON_GetArrayItem(params, pos);
	return NULL;
}

int
rpc_param_string(const cJSON *params, const char *name, int pos, bool required, const char **out,
		 struct ch_err *err)
{
	const cJSON *v = rpc_param(params, name, pos);
	if (v == NULL)
		return required ? ch_errf(err, CH_E_INVALID, "missing params.%s", name)
				: CH_E_NOT_FOUND;
	if (!cJSON_IsString(v))
		return ch_errf(err, CH_E_INVALID, "params.%s must be a string", name);
	*out = v->valuestring;
	return 0;
}

int
rpc_param_u64(const cJSON *params, const char *name, int pos, bool required, uint64_t *out,
	      struct ch_err *err)
{
	const cJSON *v = rpc_param(params, name, pos);
	uint64_t x = 0;
	if (v == NULL)
		return required ? ch_errf(err, CH_E_INVALID, "missing params.%s", name)
				: CH_E_NOT_FOUND;
	if (cJSON_IsNumber(v) ? !ch_double_u64(v->valuedouble, &x)
			      : !cJSON_IsString(v) || !ch_parse_u64(v->valuestring, &x))
		goto bad;
	*out = x;
	return 0;
bad:
	return ch_errf(err, CH_E_INVALID,
		       "params.%s must be a non-negative integer (a number, or a decimal string for "
		       "values above 2^53)",
		       name);
}

int
rpc_param_bool(const cJSON *params, const char *name, int pos, bool required, bool *out,
	       struct ch_err *err)
{
	const cJSON *v = rpc_param(params, name, pos);
	if (v == NULL)
		return required ? ch_errf(err, CH_E_INVALID, "missing params.%s", name)
				: CH_E_NOT_FOUND;
	if (!cJSON_IsBool(v))
		return ch_errf(err, CH_E_INVALID, "params.%s must be true or false", name);
	*out = cJSON_IsTrue(v);
	return 0;
}

cJSON *
rpc_json_u64(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return cJSON_CreateString(buf);
}
