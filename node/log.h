/*
 * log.h - one-line log records on stderr: "2026-11-28T18:00:00.123Z INFO msg".
 * Thread-safe (each record is one write).
 */
#ifndef NODE_LOG_H
#define NODE_LOG_H

#include <stdint.h>

enum node_log_level { NODE_LOG_DEBUG, NODE_LOG_INFO, NODE_LOG_WARN, NODE_LOG_ERROR };

void node_log(enum node_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) node_log(NODE_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) node_log(NODE_LOG_INFO, __VA_ARGS__)
#define log_warn(...) node_log(NODE_LOG_WARN, __VA_ARGS__)
#define log_error(...) node_log(NODE_LOG_ERROR, __VA_ARGS__)

/* node_now_ms returns wall-clock milliseconds since the Unix epoch. */
uint64_t node_now_ms(void);

/* node_mono_ms returns monotonic milliseconds (for timers). */
uint64_t node_mono_ms(void);

#endif
