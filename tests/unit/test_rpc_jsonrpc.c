/* JSON-RPC 2.0 framing and parameter access (rpc/jsonrpc.c). */
#include <stdlib.h>

#include "rpc/jsonrpc.h"
#include "test.h"

/*
 * answer parses body and answers every valid call: "err" with -32009 and
 * data, "skip" not at all, anything else with its method name as result.
 */
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
		else if (strcmp(c->method, "err") == 0)
			rpc_call_error(c, -32009, "not found", cJSON_CreateString("why"));
		else if (strcmp(c->method, "skip") != 0)
			rpc_call_result(c, cJSON_CreateString(c->method));
	}
	char *out = rpc_request_render(&r, len);
	rpc_request_close(&r);
	return out;
}

static bool
answers(const char *body, const char *want)
{
	size_t len = 0;
	char *got = answer(body, &len);
	bool ok = got != NULL && strcmp(got, want) == 0 && len == strlen(want);
	if (!ok)
		fprintf(stderr, "  body %s\n  got  %s\n  want %s\n", body, got ? got : "(nothing)", want);
	free(got);
	return ok;
}

/* silent: the body gets no response at all. */
static bool
silent(const char *body)
{
	size_t len = 99;
	char *got = answer(body, &len);
	bool ok = got == NULL && len == 0;
	if (!ok)
		fprintf(stderr, "  body %s\n  got  %s\n", body, got ? got : "(len != 0)");
	free(got);
	return ok;
}

/* error_code returns the code of a single error response to body (0 if none). */
static int
error_code(const char *body, const char **idtext)
{
	static char idbuf[64];
	size_t len = 0;
	int code = 0;
	char *got = answer(body, &len);
	cJSON *o = got ? cJSON_Parse(got) : NULL;
	cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
	cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
	if (cJSON_IsNumber(c) && cJSON_IsString(m) && m->valuestring[0] != '\0')
		code = c->valueint;
	char *id = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(o, "id"));
	snprintf(idbuf, sizeof(idbuf), "%s", id ? id : "(none)");
	if (idtext != NULL)
		*idtext = idbuf;
	free(id);
	cJSON_Delete(o);
	free(got);
	return code;
}

static void
test_single_calls(void)
{
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}",
		      "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"status\"}"));
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"m\",\"params\":[1]}",
		      "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":\"m\"}"));
	CHECK(answers("{\"method\":\"m\",\"params\":{\"x\":1},\"id\":-7,\"jsonrpc\":\"2.0\"}",
		      "{\"jsonrpc\":\"2.0\",\"id\":-7,\"result\":\"m\"}"));
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"m\"}",
		      "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"result\":\"m\"}"));
	/* "id": null is a call, not a notification */
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"m\"}",
		      "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":\"m\"}"));
	CHECK(answers(" \r\n\t{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"m\"} \n",
		      "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":\"m\"}"));
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"err\"}",
		      "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32009,\"message\":\"not "
		      "found\",\"data\":\"why\"}}"));
	/* a call nobody answered */
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"skip\"}",
		      "{\"jsonrpc\":\"2.0\",\"id\":4,\"error\":{\"code\":-32603,\"message\":\"internal "
		      "error: the call was not answered\"}}"));
}

static void
test_result_replaced(void)
{
	struct rpc_request r;
	size_t len;
	const char *body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}";
	REQUIRE(rpc_request_parse(&r, body, strlen(body)) == 0);
	REQUIRE(r.ncalls == 1 && !r.batch && r.calls[0].has_id);
	rpc_call_result(&r.calls[0], cJSON_CreateNumber(1));
	rpc_call_error(&r.calls[0], -32000, "second", cJSON_CreateObject());
	rpc_call_result(&r.calls[0], NULL);
	char *out = rpc_request_render(&r, &len);
	CHECK(out != NULL && strcmp(out, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}") == 0);
	free(out);
	rpc_request_close(&r);
	rpc_request_close(NULL);
}

static void
test_parse_errors(void)
{
	static const char *bad[] = {
		"", " ", "{", "{\"jsonrpc\":\"2.0\",\"method\":", "nul", "[1,]", "{'a':1}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"} x",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}{}",
		"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}]]",
	};
	const char *id;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(error_code(bad[i], &id), RPC_PARSE_ERROR);
		CHECK(strcmp(id, "null") == 0);
	}
	CHECK(answers("{\"jsonrpc\":\"2.0\",\"method\":", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
		      "{\"code\":-32700,\"message\":\"parse error: the body is not valid JSON\"}}"));
	/* nesting beyond cJSON's limit is a parse error, not a crash */
	size_t depth = 100000;
	char *deep = malloc(2 * depth + 1);
	REQUIRE(deep != NULL);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	deep[2 * depth] = '\0';
	CHECK_EQ_INT(error_code(deep, NULL), RPC_PARSE_ERROR);
	free(deep);
	/* deep but allowed params are fine */
	char body[2048];
	int n = snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":");
	for (int i = 0; i < 200; i++)
		body[n++] = '[';
	for (int i = 0; i < 200; i++)
		body[n++] = ']';
	body[n++] = '}';
	body[n] = '\0';
	CHECK(answers(body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"m\"}"));
	/* the length is honoured: bytes past len are not read */
	struct rpc_request r;
	const char *two = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}garbage";
	REQUIRE(rpc_request_parse(&r, two, strlen(two) - 7) == 0);
	CHECK(r.calls[0].error_code == 0 && strcmp(r.calls[0].method, "m") == 0);
	rpc_request_close(&r);
}

static void
test_invalid_requests(void)
{
	static const struct {
		const char *body;
		const char *id; /* as rendered in the answer */
	} cases[] = {
		{"42", "null"},
		{"\"x\"", "null"},
		{"true", "null"},
		{"null", "null"},
		{"{}", "null"},
		{"{\"id\":1,\"method\":\"m\"}", "1"},
		{"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"m\"}", "1"},
		{"{\"jsonrpc\":2.0,\"id\":\"a\",\"method\":\"m\"}", "\"a\""},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", "1"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":null}", "1"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1}", "1"},
		{"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":[]}", "null"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":\"p\"}", "1"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":3}", "1"},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":null}", "1"},
		{"{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"m\"}", "null"},
		{"{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"m\"}", "null"},
		{"{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"m\"}", "null"},
		/* no id, but invalid: answered with id null, not treated as a notification */
		{"{\"jsonrpc\":\"2.0\",\"method\":5}", "null"},
		{"{\"method\":\"m\"}", "null"},
		{"[]", "null"},
	};
	const char *id;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int code = error_code(cases[i].body, &id);
		if (code != RPC_INVALID_REQUEST || strcmp(id, cases[i].id) != 0)
			fprintf(stderr, "  body %s: code %d id %s\n", cases[i].body, code, id);
		CHECK_EQ_INT(code, RPC_INVALID_REQUEST);
		CHECK(strcmp(id, cases[i].id) == 0);
	}
	/* an empty batch is one response, not an array */
	CHECK(answers("[]", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
			    "\"message\":\"invalid request: empty batch\"}}"));
}

static void
test_notifications(void)
{
	CHECK(silent("{\"jsonrpc\":\"2.0\",\"method\":\"n\"}"));
	CHECK(silent("{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"params\":[1]}"));
	CHECK(silent("{\"jsonrpc\":\"2.0\",\"method\":\"err\"}")); /* errors are not sent either */
	CHECK(silent("{\"jsonrpc\":\"2.0\",\"method\":\"skip\"}"));
	CHECK(silent("[{\"jsonrpc\":\"2.0\",\"method\":\"n\"},{\"jsonrpc\":\"2.0\",\"method\":\"m\"}]"));
	struct rpc_request r;
	const char *body = "{\"jsonrpc\":\"2.0\",\"method\":\"n\"}";
	REQUIRE(rpc_request_parse(&r, body, strlen(body)) == 0);
	CHECK(!r.calls[0].has_id && r.calls[0].id == NULL && r.calls[0].params == NULL);
	rpc_request_close(&r);
}

static void
test_batches(void)
{
	/* valid, notification, invalid value, invalid object, id null, error, unanswered */
	CHECK(answers("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"},"
		      "{\"jsonrpc\":\"2.0\",\"method\":\"n\"},"
		      "1,"
		      "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":5},"
		      "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"b\",\"params\":{\"k\":1}},"
		      "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"err\"},"
		      "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"skip\"}]",
		      "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"a\"},"
		      "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":"
		      "\"invalid request: a call must be a JSON object\"}},"
		      "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":{\"code\":-32600,\"message\":"
		      "\"invalid request: \\\"method\\\" must be a string\"}},"
		      "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":\"b\"},"
		      "{\"jsonrpc\":\"2.0\",\"id\":6,\"error\":{\"code\":-32009,\"message\":\"not "
		      "found\",\"data\":\"why\"}},"
		      "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32603,\"message\":\"internal "
		      "error: the call was not answered\"}}]"));
	/* every element invalid: one error each */
	size_t len;
	char *s = answer("[1,2,3]", &len);
	cJSON *a = s ? cJSON_Parse(s) : NULL;
	CHECK(cJSON_IsArray(a) && cJSON_GetArraySize(a) == 3);
	cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		cJSON *code = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "error"), "code");
		CHECK(cJSON_IsNumber(code) && code->valueint == RPC_INVALID_REQUEST);
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(e, "id")));
	}
	cJSON_Delete(a);
	free(s);
	/* a batch of one is still a batch */
	CHECK(answers("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}]",
		      "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"a\"}]"));
	/* a nested batch is an invalid call */
	CHECK(answers("[[]]", "[{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
			      "\"message\":\"invalid request: a call must be a JSON object\"}}]"));
}

/* batch_of builds a batch of n calls (ids 0..n-1). */
static char *
batch_of(size_t n)
{
	char *big = malloc(n * 48 + 3);
	size_t off = 0;
	if (big == NULL)
		return NULL;
	big[off++] = '[';
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(big + off, "%s{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"m\"}",
				       i ? "," : "", i);
	big[off++] = ']';
	big[off] = '\0';
	return big;
}

static void
test_batch_limit(void)
{
	size_t len;
	char *big = batch_of(RPC_MAX_BATCH);
	REQUIRE(big != NULL);
	char *s = answer(big, &len);
	cJSON *a = s ? cJSON_Parse(s) : NULL;
	CHECK(cJSON_IsArray(a) && cJSON_GetArraySize(a) == RPC_MAX_BATCH);
	cJSON *last = cJSON_GetArrayItem(a, RPC_MAX_BATCH - 1);
	CHECK(cJSON_GetObjectItem(last, "id") != NULL &&
	      cJSON_GetObjectItem(last, "id")->valueint == RPC_MAX_BATCH - 1);
	cJSON_Delete(a);
	free(s);
	free(big);

	big = batch_of(RPC_MAX_BATCH + 1);
	REQUIRE(big != NULL);
	CHECK(answers(big, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":"
			   "\"invalid request: a batch may hold at most 1000 calls\"}}"));
	free(big);

	/* a huge batch is refused as a whole, quickly */
	big = batch_of(200000);
	REQUIRE(big != NULL);
	struct rpc_request r;
	REQUIRE(rpc_request_parse(&r, big, strlen(big)) == 0);
	CHECK(r.ncalls == 1 && !r.batch && r.calls[0].error_code == RPC_INVALID_REQUEST);
	rpc_request_close(&r);
	free(big);
}

static void
test_param_access(void)
{
	cJSON *obj = cJSON_Parse("{\"a\":1,\"b\":\"x\"}");
	cJSON *arr = cJSON_Parse("[1,\"x\"]");
	CHECK(rpc_param(obj, "b", 0) == cJSON_GetObjectItem(obj, "b"));
	CHECK(rpc_param(obj, "B", 1) == NULL); /* names are case-sensitive; pos is ignored */
	CHECK(rpc_param(arr, "b", 1) == cJSON_GetArrayItem(arr, 1));
	CHECK(rpc_param(arr, "b", 2) == NULL);
	CHECK(rpc_param(arr, "b", -1) == NULL); /* no position: named only */
	CHECK(rpc_param(NULL, "b", 0) == NULL);
	cJSON *num = cJSON_CreateNumber(1);
	CHECK(rpc_param(num, "b", 0) == NULL);
	cJSON_Delete(num);

	const char *s = NULL;
	bool b = false;
	struct ch_err e;
	ch_err_clear(&e);
	CHECK(rpc_param_string(obj, "b", 1, true, &s, &e) == 0 && strcmp(s, "x") == 0);
	CHECK(rpc_param_string(arr, "b", 1, true, &s, &e) == 0 && strcmp(s, "x") == 0);
	CHECK_EQ_INT(rpc_param_string(obj, "a", 0, true, &s, &e), CH_E_INVALID);
	CHECK(strcmp(e.msg, "params.a must be a string") == 0);
	CHECK_EQ_INT(rpc_param_string(obj, "tx", 0, true, &s, &e), CH_E_INVALID);
	CHECK(strcmp(e.msg, "params.tx is required") == 0);
	CHECK_EQ_INT(rpc_param_string(obj, "tx", 0, false, &s, &e), CH_E_NOT_FOUND);
	CHECK_EQ_INT(rpc_param_string(NULL, "tx", 0, false, &s, NULL), CH_E_NOT_FOUND);
	CHECK_EQ_INT(rpc_param_string(NULL, "tx", 0, true, &s, NULL), CH_E_INVALID);

	cJSON *flags = cJSON_Parse("{\"t\":true,\"f\":false,\"n\":1,\"s\":\"true\"}");
	CHECK(rpc_param_bool(flags, "t", 0, true, &b, &e) == 0 && b);
	CHECK(rpc_param_bool(flags, "f", 0, true, &b, &e) == 0 && !b);
	CHECK_EQ_INT(rpc_param_bool(flags, "n", 0, true, &b, &e), CH_E_INVALID);
	CHECK(strcmp(e.msg, "params.n must be true or false") == 0);
	CHECK_EQ_INT(rpc_param_bool(flags, "s", 0, true, &b, &e), CH_E_INVALID);
	CHECK_EQ_INT(rpc_param_bool(flags, "x", 0, false, &b, &e), CH_E_NOT_FOUND);
	cJSON_Delete(flags);
	cJSON_Delete(obj);
	cJSON_Delete(arr);
}

static void
test_param_u64(void)
{
	static const struct {
		const char *json; /* the value of "height" */
		bool ok;
		uint64_t want;
	} cases[] = {
		{"0", true, 0},
		{"5", true, 5},
		{"-0", true, 0},
		{"1e3", true, 1000}, /* an integral JSON number, whatever its spelling */
		{"9007199254740991", true, 9007199254740991ull},
		{"9007199254740992", false, 0}, /* 2^53: might be 2^53+1 rounded */
		{"9007199254740993", false, 0},
		{"18446744073709551615", false, 0},
		{"1e400", false, 0},
		{"-1", false, 0},
		{"1.5", false, 0},
		{"0.0000001", false, 0},
		{"\"0\"", true, 0},
		{"\"007\"", true, 7},
		{"\"9007199254740993\"", true, 9007199254740993ull},
		{"\"18446744073709551615\"", true, UINT64_MAX},
		{"\"18446744073709551616\"", false, 0},
		{"\"99999999999999999999999\"", false, 0},
		{"\"1e3\"", false, 0},
		{"\"-1\"", false, 0},
		{"\"+1\"", false, 0},
		{"\"\"", false, 0},
		{"\" 1\"", false, 0},
		{"\"1 \"", false, 0},
		{"\"0x10\"", false, 0},
		{"\"1.0\"", false, 0},
		{"true", false, 0},
		{"null", false, 0},
		{"[1]", false, 0},
		{"{}", false, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "{\"height\":%s}", cases[i].json);
		cJSON *p = cJSON_Parse(text);
		uint64_t got = 12345;
		struct ch_err e;
		ch_err_clear(&e);
		REQUIRE(p != NULL);
		int rc = rpc_param_u64(p, "height", 0, true, &got, &e);
		if ((rc == 0) != cases[i].ok || (rc == 0 && got != cases[i].want))
			fprintf(stderr, "  height %s: rc %d got %llu\n", cases[i].json, rc,
				(unsigned long long)got);
		CHECK((rc == 0) == cases[i].ok);
		if (cases[i].ok) {
			CHECK(got == cases[i].want);
		} else {
			CHECK_EQ_INT(rc, CH_E_INVALID);
			CHECK(strcmp(e.msg, "params.height must be a non-negative integer") == 0);
			CHECK(got == 12345); /* untouched on failure */
		}
		cJSON_Delete(p);
	}
	/* by position, and absent */
	cJSON *arr = cJSON_Parse("[7,\"18446744073709551615\"]");
	uint64_t u = 0;
	struct ch_err e;
	CHECK(rpc_param_u64(arr, "min_height", 0, true, &u, &e) == 0 && u == 7);
	CHECK(rpc_param_u64(arr, "max_height", 1, true, &u, &e) == 0 && u == UINT64_MAX);
	CHECK_EQ_INT(rpc_param_u64(arr, "timeout_ms", 2, false, &u, &e), CH_E_NOT_FOUND);
	CHECK_EQ_INT(rpc_param_u64(arr, "timeout_ms", 2, true, &u, &e), CH_E_INVALID);
	CHECK(strcmp(e.msg, "params.timeout_ms is required") == 0);
	cJSON_Delete(arr);
}

static void
test_json_u64(void)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {{0, "0"}, {1000, "1000"}, {9007199254740993ull, "9007199254740993"},
		     {UINT64_MAX, "18446744073709551615"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *j = rpc_json_u64(cases[i].v);
		CHECK(cJSON_IsString(j) && strcmp(j->valuestring, cases[i].s) == 0);
		/* and it reads back exactly */
		cJSON *o = cJSON_CreateObject();
		uint64_t back = 0;
		cJSON_AddItemToObject(o, "v", j);
		CHECK(rpc_param_u64(o, "v", 0, true, &back, NULL) == 0 && back == cases[i].v);
		cJSON_Delete(o);
	}
}

int
main(void)
{
	RUN(test_single_calls);
	RUN(test_result_replaced);
	RUN(test_parse_errors);
	RUN(test_invalid_requests);
	RUN(test_notifications);
	RUN(test_batches);
	RUN(test_batch_limit);
	RUN(test_param_access);
	RUN(test_param_u64);
	RUN(test_json_u64);
	return TEST_DONE();
}
