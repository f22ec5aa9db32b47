/*
 * What a validator shows of itself: the Prometheus exposition of its
 * metrics (node/metrics.h), the readiness checks (node/ready.h), and the
 * JSON log records (node/log.h, written to a pipe in place of stderr).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "node/log.h"
#include "node/metrics.h"
#include "node/ready.h"
#include "test.h"

static char *
render(const struct node_metrics *m, const struct node_metrics_now *now)
{
	struct ch_buf b;
	ch_buf_init(&b);
	node_metrics_render(m, now, &b);
	ch_buf_u8(&b, 0);
	return ch_buf_ok(&b) ? (char *)ch_buf_steal(&b, NULL) : NULL;
}

/* line_of returns the sample line starting with prefix, or NULL. */
static const char *
line_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, prefix, n) == 0)
			return p;
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	return NULL;
}

static void
test_metrics_render(void)
{
	struct node_metrics m;
	uint64_t refused[CH_E__COUNT] = {0};
	node_metrics_init(&m);
	node_metrics_block(&m, 1000, 3, 1004);
	node_metrics_block(&m, 1020, 0, 1030); /* 20 ms after the first */
	node_metrics_view(&m, 0);
	node_metrics_view(&m, 2);
	node_metrics_view(&m, 2);
	node_metrics_rpc(&m, "status", 0);
	node_metrics_rpc(&m, "status", 0);
	node_metrics_rpc(&m, NULL, -32601);
	refused[CH_E_NONCE_TOO_LOW] = 4;
	struct node_metrics_now now = {.height = 2, .view = 2, .validators = 4, .ready = true,
				       .txs_refused = refused, .disk_free_bytes = -1};
	char *t = render(&m, &now);
	REQUIRE(t != NULL);
	CHECK(strstr(t, "# HELP chaind_height ") != NULL && strstr(t, "# TYPE chaind_height gauge\n"));
	CHECK(line_of(t, "chaind_height 2\n") != NULL);
	CHECK(line_of(t, "chaind_view_changes_total 1\n") != NULL);
	CHECK(line_of(t, "chaind_ready 1\n") != NULL);
	/* one interval of 0.02 s: cumulative buckets from le="0.025" on */
	CHECK(line_of(t, "chaind_block_interval_seconds_bucket{le=\"0.01\"} 0\n") != NULL);
	CHECK(line_of(t, "chaind_block_interval_seconds_bucket{le=\"0.025\"} 1\n") != NULL);
	CHECK(line_of(t, "chaind_block_interval_seconds_bucket{le=\"+Inf\"} 1\n") != NULL);
	CHECK(line_of(t, "chaind_block_interval_seconds_count 1\n") != NULL);
	CHECK(line_of(t, "chaind_block_txs_sum 3\n") != NULL);
	CHECK(line_of(t, "chaind_block_txs_bucket{le=\"0\"} 1\n") != NULL);
	CHECK(line_of(t, "chaind_commit_latency_seconds_count 2\n") != NULL);
	CHECK(line_of(t, "chaind_txs_refused_total{reason=\"nonce_too_low\"} 4\n") != NULL);
	CHECK(line_of(t, "chaind_rpc_requests_total{method=\"status\",code=\"0\"} 2\n") != NULL);
	CHECK(line_of(t, "chaind_rpc_requests_total{method=\"other\",code=\"-32601\"} 1\n") != NULL);
	CHECK(line_of(t, "chaind_disk_free_bytes") == NULL); /* unknown: left out */
	CHECK(line_of(t, "process_resident_memory_bytes ") != NULL);
	CHECK(line_of(t, "process_open_fds ") != NULL);
	CHECK(line_of(t, "process_start_time_seconds ") != NULL);
	free(t);
}

static void
test_rpc_series_bounded(void)
{
	struct node_metrics m;
	char name[16];
	node_metrics_init(&m);
	for (int i = 0; i < NODE_METRICS_RPC_SERIES + 10; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		node_metrics_rpc(&m, name, 0);
	}
	CHECK(m.nrpc == NODE_METRICS_RPC_SERIES && m.rpc_dropped == 10);
}

static void
test_ready_checks(void)
{
	struct node_ready_facts f = {.store_ok = true, .disk_known = true, .free_bytes = 100u << 20,
				     .min_free_disk_mb = 64, .height = 10, .peer_height = 15,
				     .seen = 3, .quorum = 3};
	struct node_ready r = node_ready_check(&f);
	CHECK(r.ready && r.store && r.disk && r.sync && r.peers);
	f.syncing = true; /* asking a peer for the block it lacks: still ready */
	CHECK(node_ready_check(&f).ready);
	f.peer_height = 16; /* six behind */
	f.free_bytes = 63u << 20;
	f.seen = 2;
	r = node_ready_check(&f);
	CHECK(!r.ready && r.store && !r.disk && !r.sync && !r.peers);
	cJSON *j = node_ready_json(&f, &r);
	REQUIRE(j != NULL);
	const cJSON *failing = cJSON_GetObjectItem(j, "failing");
	CHECK(cJSON_GetArraySize(failing) == 3);
	CHECK(strcmp(cJSON_GetArrayItem(failing, 0)->valuestring, "disk") == 0);
	CHECK(strcmp(cJSON_GetArrayItem(failing, 1)->valuestring, "sync") == 0);
	CHECK(strcmp(cJSON_GetArrayItem(failing, 2)->valuestring, "peers") == 0);
	const cJSON *disk = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "checks"), "disk");
	CHECK(cJSON_GetObjectItem(disk, "free_mb")->valuedouble == 63);
	cJSON_Delete(j);
	f = (struct node_ready_facts){.store_ok = false, .seen = 1, .quorum = 1};
	r = node_ready_check(&f);
	CHECK(!r.ready && !r.store && r.disk && r.sync && r.peers); /* no disk limit: not checked */
}

/* capture runs one log call with stderr on a pipe and returns what it wrote. */
static char *
capture(enum node_log_level level, const char *msg)
{
	static char out[8192];
	int fds[2], saved = dup(STDERR_FILENO);
	if (saved < 0 || pipe(fds) != 0)
		return NULL;
	dup2(fds[1], STDERR_FILENO);
	node_log_line(level, msg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	ssize_t n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

static void
test_log_json(void)
{
	node_log_setup(NODE_LOG_INFO, NODE_LOG_JSON);
	char *s = capture(NODE_LOG_WARN, "peers: refused \"x\" undecodable=3 rate_limited=0 (a\\b)");
	REQUIRE(s != NULL);
	CHECK(s[strlen(s) - 1] == '\n' && strchr(s, '\n') == s + strlen(s) - 1); /* one line */
	cJSON *j = cJSON_Parse(s);
	REQUIRE(j != NULL);
	CHECK(strcmp(cJSON_GetObjectItem(j, "level")->valuestring, "warn") == 0);
	CHECK(strcmp(cJSON_GetObjectItem(j, "module")->valuestring, "peers") == 0);
	CHECK(strcmp(cJSON_GetObjectItem(j, "message")->valuestring,
		     "refused \"x\" undecodable=3 rate_limited=0 (a\\b)") == 0);
	const cJSON *fields = cJSON_GetObjectItem(j, "fields");
	CHECK(strcmp(cJSON_GetObjectItem(fields, "undecodable")->valuestring, "3") == 0);
	CHECK(strcmp(cJSON_GetObjectItem(fields, "rate_limited")->valuestring, "0") == 0);
	CHECK(strlen(cJSON_GetObjectItem(j, "time")->valuestring) == 24);
	cJSON_Delete(j);
	j = cJSON_Parse(capture(NODE_LOG_ERROR, "no module here"));
	CHECK(j != NULL && strcmp(cJSON_GetObjectItem(j, "module")->valuestring, "node") == 0);
	cJSON_Delete(j);
	/* below the level: nothing */
	CHECK(strcmp(capture(NODE_LOG_DEBUG, "quiet"), "") == 0);
	/* a record too long for one line is still one valid object */
	char big[6000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	j = cJSON_Parse(capture(NODE_LOG_INFO, big));
	CHECK(j != NULL);
	cJSON_Delete(j);
	node_log_setup(NODE_LOG_INFO, NODE_LOG_TEXT);
	s = capture(NODE_LOG_INFO, "hello");
	CHECK(strstr(s, "Z INFO hello\n") != NULL);
	struct ch_err e;
	enum node_log_level lv;
	enum node_log_format fm;
	CHECK(node_log_parse_level("debug", &lv, &e) == 0 && lv == NODE_LOG_DEBUG);
	CHECK(node_log_parse_level("verbose", &lv, &e) == CH_E_CONFIG && strstr(e.msg, "verbose"));
	CHECK(node_log_parse_format("json", &fm, &e) == 0 && fm == NODE_LOG_JSON);
	CHECK(node_log_parse_format("xml", &fm, &e) == CH_E_CONFIG);
}

int
main(void)
{
	RUN(test_metrics_render);
	RUN(test_rpc_series_bounded);
	RUN(test_ready_checks);
	RUN(test_log_json);
	return TEST_DONE();
}
