/*
 * jsonrpc.h - JSON-RPC 2.0 framing (https://www.jsonrpc.org/specification),
 * independent of transport and of the methods served.
 *
 * rpc_request_parse turns a body into calls: a single object, or a batch
 * (array) of them. Each call is either valid (method set) or already failed
 * (error_code set: -32600 invalid request). A body that is not JSON, or an
 * empty batch, produces one failed call with id null (-32700 or -32600), as
 * the specification asks. Calls without an "id" member are notifications:
 * they are executed but get no response. The handler answers each call with
 * rpc_call_result or rpc_call_error; rpc_request_render then builds the
 * response body: an object, an array for a batch, or nothing at all when
 * every call was a notification.
 */
#ifndef RPC_JSONRPC_H
#define RPC_JSONRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define RPC_PARSE_ERROR -32700
#define RPC_INVALID_REQUEST -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS -32602
#define RPC_INTERNAL_ERROR -32603

/* Maximum calls in one batch; a larger batch is one -32600 error. */
#define RPC_MAX_BATCH 1000

struct rpc_call {
	cJSON *id;          /* borrowed from the request tree; NULL: notification */
	bool has_id;
	const char *method; /* borrowed; NULL if error_code is set */
	cJSON *params;      /* borrowed; object, array or NULL */
	int error_code;     /* non-zero: invalid before dispatch */
	const char *error_msg;
	cJSON *response;    /* owned; set by rpc_call_result/rpc_call_error */
};

struct rpc_request {
	cJSON *root; /* owned parse tree */
	bool batch;
	size_t ncalls;
	struct rpc_call *calls; /* owned array */
};

/* rpc_request_parse: 0, or CH_E_NOMEM. Invalid input is recorded in calls. */
int rpc_request_parse(struct rpc_request *r, const char *body, size_t len);

/* rpc_request_close frees everything in r. */
void rpc_request_close(struct rpc_request *r);

/* rpc_call_result answers c with result (ownership transferred). */
void rpc_call_result(struct rpc_call *c, cJSON *result);

/* rpc_call_error answers c with an error; data (may be NULL) is transferred. */
void rpc_call_error(struct rpc_call *c, int code, const char *msg, cJSON *data);

/*
 * rpc_request_render returns the response body (malloc'd, NUL-terminated,
 * free with free()) and its length, or NULL with *len = 0 if there is
 * nothing to send. Calls left unanswered get -32603.
 */
char *rpc_request_render(struct rpc_request *r, size_t *len);

/*
 * Parameter access. rpc_param returns the parameter called name (params is
 * an object) or at position pos (params is an array), or NULL.
 * The typed getters return 0, CH_E_INVALID with a message naming the
 * parameter and what it should be, or CH_E_NOT_FOUND if absent and optional.
 */
cJSON *rpc_param(const cJSON *params, const char *name, int pos);
int rpc_param_string(const cJSON *params, const char *name, int pos, bool required,
		     const char **out, struct ch_err *err);
/* Accepts a non-negative integer JSON number (< 2^53) or a decimal string (full uint64). */
int rpc_param_u64(const cJSON *params, const char *name, int pos, bool required,
		  uint64_t *out, struct ch_err *err);
int rpc_param_bool(const cJSON *params, const char *name, int pos, bool required, bool *out,
		   struct ch_err *err);

/* rpc_json_u64 returns a JSON string holding v in decimal (exact for any uint64). */
cJSON *rpc_json_u64(uint64_t v);

#endif
