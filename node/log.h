/*
 * log.h - log records on stderr, one per line, for the parts of the node
 * outside its core (which logs through its node_io): as text,
 *   2026-11-28T18:00:00.123Z INFO peers: listening on tcp://127.0.0.1:26600
 * or as JSON, one object per line:
 *   {"time":"2026-11-28T18:00:00.123Z","level":"info","module":"peers",
 *    "message":"listening on tcp://127.0.0.1:26600","fields":{}}
 * A message that starts with a lower-case word and ": " names its module
 * ("node" otherwise); its key=value words are also given as fields.
 * Thread-safe: each record is one write.
 */
#ifndef NODE_LOG_H
#define NODE_LOG_H

#include <stdint.h>

#include "common/err.h"
#include "node/io.h"

enum node_log_format { NODE_LOG_TEXT, NODE_LOG_JSON };

/*
 * node_log_setup sets the lowest level written (NODE_LOG_INFO until then)
 * and the format. The settings are the process's: main calls this before
 * it starts any thread, and nothing else does.
 */
void node_log_setup(enum node_log_level min, enum node_log_format format);

/* node_log_parse_level reads error, warn, info or debug; node_log_parse_format text or json. */
int node_log_parse_level(const char *s, enum node_log_level *out, struct ch_err *err);
int node_log_parse_format(const char *s, enum node_log_format *out, struct ch_err *err);

void node_log(enum node_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* node_log_line writes one record of an already formatted line. */
void node_log_line(enum node_log_level level, const char *line);

#define log_debug(...) node_log(NODE_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) node_log(NODE_LOG_INFO, __VA_ARGS__)
#define log_warn(...) node_log(NODE_LOG_WARN, __VA_ARGS__)
#define log_error(...) node_log(NODE_LOG_ERROR, __VA_ARGS__)

/* node_clock reads the monotonic and the wall clock. */
struct node_time node_clock(void);

#endif
