/* libFuzzer target: JSON-RPC request framing and parameter access. */
#include <stdlib.h>
#include <string.h>

#include "rpc/jsonrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_request r;
	char *body = malloc(size + 1);
	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	if (rpc_request_parse(&r, body, size) == 0) {
		for (size_t i = 0; i < r.ncalls; i++) {
			struct rpc_call *c = &r.calls[i];
			const char *s;
			uint64_t u;
			bool flag;
			if (c->error_code != 0) {
				rpc_call_error(c, c->error_code, c->error_msg, NULL);
				continue;
			}
			(void)rpc_param_string(c->params, "tx", 0, true, &s, NULL);
			(void)rpc_param_u64(c->params, "height", 0, false, &u, NULL);
			(void)rpc_param_bool(c->params, "flag", 1, false, &flag, NULL);
			rpc_call_result(c, rpc_json_u64(i));
		}
		size_t len = 0;
		free(rpc_request_render(&r, &len));
		rpc_request_close(&r);
	}
	free(body);
	return 0;
}
