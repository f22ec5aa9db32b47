#include "node/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct node_time
node_clock(void)
{
	struct timespec m, w;
	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &w);
	struct node_time t = {
		.mono_ms = (uint64_t)m.tv_sec * 1000 + (uint64_t)m.tv_nsec / 1000000,
		.wall_ms = (uint64_t)w.tv_sec * 1000 + (uint64_t)w.tv_nsec / 1000000,
	};
	return t;
}

void
node_log_line(enum node_log_level level, const char *msg)
{
	static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	char line[1024];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	int m = snprintf(line + n, sizeof(line) - n - 1, ".%03ldZ %s %s", ts.tv_nsec / 1000000,
			 names[level], msg);
	n = m < 0 ? n : (n + (size_t)m < sizeof(line) - 1 ? n + (size_t)m : sizeof(line) - 2);
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

void
node_log(enum node_log_level level, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	node_log_line(level, msg);
}
