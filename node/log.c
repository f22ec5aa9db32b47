#include "node/log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

/* Set once by main (node_log_setup) before any thread starts; read-only afterwards. */
static struct {
	enum node_log_level min;
	enum node_log_format format;
} settings = {NODE_LOG_INFO, NODE_LOG_TEXT};

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
node_log_setup(enum node_log_level min, enum node_log_format format)
{
	settings.min = min;
	settings.format = format;
}

int
node_log_parse_level(const char *s, enum node_log_level *out, struct ch_err *err)
{
	for (int i = NODE_LOG_DEBUG; i <= NODE_LOG_ERROR; i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum node_log_level)i;
			return 0;
		}
	return ch_errf(err, CH_E_CONFIG, "log level \"%s\" is not one of error, warn, info, debug",
		       s);
}

int
node_log_parse_format(const char *s, enum node_log_format *out, struct ch_err *err)
{
	if (strcmp(s, "text") == 0 || strcmp(s, "json") == 0) {
		*out = s[0] == 't' ? NODE_LOG_TEXT : NODE_LOG_JSON;
		return 0;
	}
	return ch_errf(err, CH_E_CONFIG, "log format \"%s\" is not text or json", s);
}

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

/* A line being built; what does not fit is cut. */
struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
};

static void
add(struct line *l, const char *s, size_t n)
{
	size_t room = sizeof(l->buf) - 1 - l->len; /* one byte kept for the newline */
	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
adds(struct line *l, const char *s)
{
	add(l, s, strlen(s));
}

/* add_json_string appends s (n bytes) as a JSON string. */
static void
add_json_string(struct line *l, const char *s, size_t n)
{
	char esc[8];
	add(l, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			add(l, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			add(l, esc, 6);
		} else {
			add(l, (const char *)&c, 1);
		}
	}
	add(l, "\"", 1);
}

/* module_len: the length of a leading "word: " module name in msg, or 0. */
static size_t
module_len(const char *msg)
{
	size_t n = 0;
	while (islower((unsigned char)msg[n]) || msg[n] == '_' || msg[n] == '-')
		n++;
	return n > 0 && n <= 24 && msg[n] == ':' && msg[n + 1] == ' ' ? n : 0;
}

/* add_fields appends the key=value words of msg as JSON members. */
static void
add_fields(struct line *l, const char *msg)
{
	bool first = true;
	for (const char *p = msg; *p != '\0';) {
		size_t w = strcspn(p, " ,;()");
		const char *eq = memchr(p, '=', w);
		size_t k = eq != NULL ? (size_t)(eq - p) : 0;
		bool key = k > 0;
		for (size_t i = 0; key && i < k; i++)
			key = islower((unsigned char)p[i]) || p[i] == '_';
		if (key && w > k + 1) {
			if (!first)
				add(l, ",", 1);
			add_json_string(l, p, k);
			add(l, ":", 1);
			add_json_string(l, eq + 1, w - k - 1);
			first = false;
		}
		p += w;
		while (*p == ' ' || *p == ',' || *p == ';' || *p == '(' || *p == ')')
			p++;
	}
}

void
node_log_line(enum node_log_level level, const char *msg)
{
	if (level < settings.min)
		return;
	struct line l = {.len = 0};
	char stamp[40];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	if (settings.format == NODE_LOG_TEXT) {
		char up[8];
		size_t i = 0;
		for (; level_names[level][i] != '\0'; i++)
			up[i] = (char)toupper((unsigned char)level_names[level][i]);
		up[i] = '\0';
		adds(&l, stamp);
		add(&l, " ", 1);
		adds(&l, up);
		add(&l, " ", 1);
		adds(&l, msg);
	} else {
		size_t m = module_len(msg);
		adds(&l, "{\"time\":\"");
		adds(&l, stamp);
		adds(&l, "\",\"level\":\"");
		adds(&l, level_names[level]);
		adds(&l, "\",\"module\":");
		add_json_string(&l, m > 0 ? msg : "node", m > 0 ? m : 4);
		adds(&l, ",\"message\":");
		const char *body = m > 0 ? msg + m + 2 : msg;
		add_json_string(&l, body, strlen(body));
		adds(&l, ",\"fields\":{");
		add_fields(&l, body);
		adds(&l, "}}");
		if (l.len == sizeof(l.buf) - 1) /* cut: keep it one valid object anyway */
			l.len = (size_t)snprintf(l.buf, sizeof(l.buf) - 1,
						 "{\"time\":\"%s\",\"level\":\"%s\",\"module\":\"log\","
						 "\"message\":\"(a record over %d bytes was cut)\","
						 "\"fields\":{}}",
						 stamp, level_names[level], LOG_LINE_MAX);
	}
	l.buf[l.len++] = '\n';
	ssize_t w = write(STDERR_FILENO, l.buf, l.len);
	(void)w;
}

void
node_log(enum node_log_level level, const char *fmt, ...)
{
	char msg[2048];
	if (level < settings.min)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	node_log_line(level, msg);
}
