/*
 * json.h - typed reads of JSON configuration (cJSON trees) whose errors name
 * the file and the field: "genesis.json: \"view_timeout_ms\" is 5, must be
 * 10..600000". Every error is CH_E_CONFIG unless said otherwise.
 *
 * In each reader, `what` names the object for messages (a file, or
 * "genesis validators[2]"), `name` is the member. An absent optional member
 * leaves *out as it was and returns 0.
 */
#ifndef CH_JSON_H
#define CH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/*
 * ch_json_load reads and parses path (at most max bytes), which must hold a
 * JSON object; the caller frees *out with cJSON_Delete. File errors are
 * ch_read_file's.
 */
int ch_json_load(const char *path, size_t max, cJSON **out, struct ch_err *err);

/* ch_json_save writes root (consumed, even on failure) formatted to a new file path. */
int ch_json_save(cJSON *root, const char *path, struct ch_err *err);

/* ch_json_string copies a string of 1..cap-1 bytes into out. */
int ch_json_string(const cJSON *obj, const char *what, const char *name, bool required, char *out,
		   size_t cap, struct ch_err *err);

/* ch_json_u64 reads an integer in [min, max]: a JSON number (exact, < 2^53) or a decimal string. */
int ch_json_u64(const cJSON *obj, const char *what, const char *name, bool required, uint64_t min,
		uint64_t max, uint64_t *out, struct ch_err *err);

/* ch_json_u32 is ch_json_u64 into a uint32_t, for an optional member. */
int ch_json_u32(const cJSON *obj, const char *what, const char *name, uint32_t min, uint32_t max,
		uint32_t *out, struct ch_err *err);

#endif
