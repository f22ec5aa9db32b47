/* Errors, printing of results, and reading fields of the node's answers. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/num.h"
#include "wallet/wallet.h"

int
wallet_verrf(struct wallet_ctx *w, const char *fmt, va_list ap)
{
	w->err.code = CH_E_INVALID;
	vsnprintf(w->err.msg, sizeof(w->err.msg), fmt, ap);
	for (char *p = w->err.msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return WALLET_FAIL;
}

int
wallet_errf(struct wallet_ctx *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	wallet_verrf(w, fmt, ap);
	va_end(ap);
	return WALLET_FAIL;
}

static void
print_scalar(const cJSON *v)
{
	uint64_t u;
	if (cJSON_IsString(v))
		fputs(v->valuestring, stdout);
	else if (cJSON_IsBool(v))
		fputs(cJSON_IsTrue(v) ? "true" : "false", stdout);
	else if (cJSON_IsNumber(v) && ch_double_u64(v->valuedouble, &u))
		printf("%" PRIu64, u);
	else if (cJSON_IsNumber(v))
		printf("%.17g", v->valuedouble);
	else
		fputs("null", stdout);
}

/* print_item prints "key: value", or for a container "key:" and its members indented. */
static void
print_item(const char *key, const cJSON *v, int depth)
{
	const cJSON *x;
	printf("%*s%s%s", 2 * depth, "", key != NULL ? key : "-", key != NULL ? ":" : "");
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0) {
		printf(" (none)\n");
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		printf("\n");
		cJSON_ArrayForEach(x, v) {
			print_item(cJSON_IsObject(v) ? x->string : NULL, x, depth + 1);
		}
	} else {
		printf(" ");
		print_scalar(v);
		printf("\n");
	}
}

void
wallet_print(const struct wallet_ctx *w, const cJSON *result)
{
	const cJSON *x;
	if (w->json) {
		char *s = cJSON_Print(result);
		printf("%s\n", s != NULL ? s : "null");
		free(s);
	} else if (cJSON_IsObject(result)) {
		cJSON_ArrayForEach(x, result) {
			print_item(x->string, x, 0);
		}
	} else {
		print_scalar(result);
		printf("\n");
	}
}

bool
wallet_json_u64(const cJSON *obj, const char *name, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (cJSON_IsNumber(v))
		return ch_double_u64(v->valuedouble, out);
	return cJSON_IsString(v) && ch_parse_u64(v->valuestring, out);
}

bool
wallet_json_hex(const cJSON *obj, const char *name, uint8_t *out, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(v) && cr_hex_decode_exact(v->valuestring, out, n) == 0;
}
