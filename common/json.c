#include "common/json.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/num.h"

int
ch_json_load(const char *path, size_t max, cJSON **out, struct ch_err *err)
{
	char *text = NULL;
	int rc = ch_read_file(path, max, &text, NULL, err);
	if (rc != 0)
		return rc;
	const char *end = NULL;
	*out = cJSON_ParseWithOpts(text, &end, true);
	if (*out == NULL || !cJSON_IsObject(*out)) {
		size_t off = end != NULL && end >= text ? (size_t)(end - text) : 0;
		cJSON_Delete(*out);
		*out = NULL;
		rc = ch_errf(err, CH_E_CONFIG, "%s: not a JSON object (error near byte %zu)", path,
			     off);
	}
	free(text);
	return rc;
}

int
ch_json_save(cJSON *root, const char *path, struct ch_err *err)
{
	char *text = root != NULL ? cJSON_Print(root) : NULL;
	int rc;
	if (text == NULL)
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
	else
		rc = ch_write_new_file(path, text, strlen(text), 0644, err);
	free(text);
	cJSON_Delete(root);
	return rc;
}

int
ch_json_string(const cJSON *obj, const char *what, const char *name, bool required, char *out,
	       size_t cap, struct ch_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (v == NULL) {
		if (required)
			return ch_errf(err, CH_E_CONFIG, "%s: missing \"%s\"", what, name);
		return 0;
	}
	if (!cJSON_IsString(v))
		return ch_errf(err, CH_E_CONFIG, "%s: \"%s\" must be a string", what, name);
	size_t n = strlen(v->valuestring);
	if (n == 0 || n >= cap)
		return ch_errf(err, CH_E_CONFIG, "%s: \"%s\" must be 1..%zu characters", what, name,
			       cap - 1);
	memcpy(out, v->valuestring, n + 1);
	return 0;
}

int
ch_json_u64(const cJSON *obj, const char *what, const char *name, bool required, uint64_t min,
	    uint64_t max, uint64_t *out, struct ch_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	uint64_t x = 0;
	if (v == NULL) {
		if (required)
			return ch_errf(err, CH_E_CONFIG, "%s: missing \"%s\"", what, name);
		return 0;
	}
	bool ok = cJSON_IsNumber(v) ? ch_double_u64(v->valuedouble, &x)
				    : cJSON_IsString(v) && ch_parse_u64(v->valuestring, &x);
	if (!ok)
		return ch_errf(err, CH_E_CONFIG, "%s: \"%s\" must be a non-negative integer", what,
			       name);
	if (x < min || x > max)
		return ch_errf(err, CH_E_CONFIG,
			       "%s: \"%s\" is %" PRIu64 ", must be %" PRIu64 "..%" PRIu64, what, name,
			       x, min, max);
	*out = x;
	return 0;
}

int
ch_json_u32(const cJSON *obj, const char *what, const char *name, uint32_t min, uint32_t max,
	    uint32_t *out, struct ch_err *err)
{
	uint64_t x = *out;
	int rc = ch_json_u64(obj, what, name, false, min, max, &x, err);
	if (rc == 0)
		*out = (uint32_t)x;
	return rc;
}
