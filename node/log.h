/*
 * log.h - one-line log records on stderr: "2026-11-28T18:00:00.123Z INFO msg",
 * for the parts of the node outside its core (which logs through its
 * node_io). Thread-safe: each record is one write.
 */
#ifndef NODE_LOG_H
#define NODE_LOG_H

#include <stdint.h>

#include "node/io.h"

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
