#include <stdlib.h>

#include "rpc/jsonrpc.h"
#include "test.h"

/* answer parses body, answers every valid call with its method name, renders. */
static char *
answer(const char *body, size_t *len)
{
	struct rpc_request r;
	if (rpc_request_parse(&r, body, strlen(body)) != 0)
		return NULL;
	for (size_t i = 0; i < r.ncalls; i++) {
		struct rpc_call *c = &r.calls[i];
		if (c->error_code != 0)
			rpc_call_error(c, c->error_code, c->error_msg, NULL);
		else
			rpc_call_result(c, cJSON_CreateString(c->method));
	}
	char *out = rpc_request_render(&r, len);
	rpc_request_close(&r);
	return out;
}

static bool
answers(const char *body, const char *want)
{
	size_t len;
	char *got = answer(body, &len);
	bool ok = got != NULL && strcmp(got, want) == 0;
	if (!ok)
		fprintf(stderr, "  body %s\n  got  %s\n  want %s\n", body, got ? got : "(nothing)", want);
	free(got);
	return ok;
}

static void
test_single_calls(void)
{
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}",
		      "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"status\"}"));
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"m\",\"params\":[1]}",
		      "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":\"m\"}"));
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"m\"}",
		      "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":\"m\"}"));
}

static void
test_errors(void)
{
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"method\":", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
		      "{\"code\":-32700,\"message\":\"parse error: the body is not valid JSON\"}}"));
	size_t len;
	char *s = answer("[]", &len);
	CHECK(s != NULL && strstr(s, "-32600") != NULL && s[0] == '{');
	free(s);
	static const char *invalid[] = {
		"42", "\"x\"", "{\"id\":1,\"method\":\"m\"}",
		"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"m\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":\"p\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"m\"}",
	};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		s = answer(invalid[i], &len);
		CHECK(s != NULL && strstr(s, "-32600") != NULL);
		free(s);
	}
}

static void
test_batches_and_notifications(void)
{
	CHECK(answers("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"},"
		      "{\"jsonrpc\":\"2.0\",\"method\":\"n\"},1]",
		      "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"a\"},{\"jsonrpc\":\"2.0\",\"id\":null,"
		      "\"error\":{\"code\":-32600,\"message\":\"invalid request: expected a JSON "
		      "object\"}}]"));
	size_t len = 99;
	char *s = answer("{\"jsonrpc\":\"2.0\",\"method\":\"n\"}", &len);
	CHECK(s == NULL && len == 0);
	s = answer("[{\"jsonrpc\":\"2.0\",\"method\":\"n\"},{\"jsonrpc\":\"2.0\",\"method\":\"m\"}]", &len);
	CHECK(s == NULL && len == 0);
	/* a batch over the limit is one error */
	size_t n = RPC_MAX_BATCH + 1;
	char *big = malloc(n * 40 + 2);
	size_t off = 0;
	big[off++] = '[';
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(big + off, "%s{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}",
				       i ? "," : "");
	big[off++] = ']';
	big[off] = '\0';
	s = answer(big, &len);
	CHECK(s != NULL && s[0] == '{' && strstr(s, "-32600") != NULL);
	free(s);
	free(big);
}

static void
test_params(void)
{
	cJSON *obj = cJSON_Parse("{\"h\":5,\"s\":\"18446744073709551615\",\"big\":9007199254740993,"
				 "\"neg\":-1,\"frac\":1.5,\"exp\":\"1e3\",\"over\":\"18446744073709551616\","
				 "\"str\":\"x\",\"b\":true}");
	cJSON *arr = cJSON_Parse("[7,\"t\"]");
	uint64_t u = 0;
	const char *s;
	bool b;
	struct ch_err e;
	CHECK(rpc_param_u64(obj, "h", 0, true, &u, &e) == 0 && u == 5);
	CHECK(rpc_param_u64(obj, "s", 0, true, &u, &e) == 0 && u == UINT64_MAX);
	CHECK(rpc_param_u64(obj, "neg", 0, true, &u, &e) == CH_E_INVALID);
	CHECK(strstr(e.msg, "params.neg") != NULL);
	CHECK(rpc_param_u64(obj, "frac", 0, true, &u, &e) == CH_E_INVALID);
	CHECK(rpc_param_u64(obj, "exp", 0, true, &u, &e) == CH_E_INVALID);
	CHECK(rpc_param_u64(obj, "over", 0, true, &u, &e) == CH_E_INVALID);
	CHECK(rpc_param_u64(obj, "str", 0, true, &u, &e) == CH_E_INVALID);
	CHECK(rpc_param_u64(obj, "missing", 0, false, &u, &e) == CH_E_NOT_FOUND);
	CHECK(rpc_param_u64(obj, "missing", 0, true, &u, &e) == CH_E_INVALID);
	CHECK(rpc_param_u64(arr, "h", 0, true, &u, &e) == 0 && u == 7);
	CHECK(rpc_param_string(arr, "t", 1, true, &s, &e) == 0 && strcmp(s, "t") == 0);
	CHECK(rpc_param_string(obj, "h", 0, true, &s, &e) == CH_E_INVALID);
	CHECK(rpc_param_bool(obj, "b", 0, true, &b, &e) == 0 && b);
	CHECK(rpc_param_bool(obj, "h", 0, true, &b, &e) == CH_E_INVALID);
	cJSON *j = rpc_json_u64(UINT64_MAX);
	CHECK(cJSON_IsString(j) && strcmp(j->valuestring, "18446744073709551615") == 0);
	cJSON_Delete(j);
	cJSON_Delete(obj);
	cJSON_Delete(arr);
}

int
main(void)
{
	RUN(test_single_calls);
	RUN(test_errors);
	RUN(test_batches_and_notifications);
	RUN(test_params);
	return TEST_DONE();
}
