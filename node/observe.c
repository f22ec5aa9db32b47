/*
 * What a validator shows of itself over HTTP GET (docs/OPERATING.md):
 * /healthz and the explorer page, answered on nng's threads; /metrics,
 * /readyz and /events, answered by the loop, which owns what they read.
 * Also the loop's counting for the metrics after each of its turns.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/explorer.h"
#include "node/log.h"
#include "node/observe.h"
#include "node/ready.h"

#define HEALTH_LOOP_MS 5000 /* /healthz fails when the loop has not turned for this long */

static const char prom_type[] = "text/plain; version=0.0.4; charset=utf-8";

static void
reply_json(struct rpc_http_req *req, int status, cJSON *body)
{
	char *s = body != NULL ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	if (s == NULL) {
		static const char oom[] = "{\"error\":\"out of memory\"}";
		rpc_http_reply(req, 500, NULL, oom, sizeof(oom) - 1);
		return;
	}
	rpc_http_reply(req, status, NULL, s, strlen(s));
	free(s);
}

static void
synced_write(void *arg, double seconds)
{
	struct node *n = arg;
	node_hist_observe(&n->metrics.synced_write, seconds);
}

void
node_observe_init(struct node *n)
{
	struct node_engine_status st;
	memset(&st, 0, sizeof(st));
	node_metrics_init(&n->metrics);
	node_core_engine(n->core, &st);
	n->metrics.last_view = st.view;
	n->counted_height = node_core_tip(n->core)->height;
	n->started_wall_ms = node_clock().wall_ms;
	n->disk_free = node_disk_free(n);
	atomic_store(&n->loop_ms, node_clock().mono_ms);
	chain_store_observe_syncs(n->store, synced_write, n);
}

void
node_observe_synced(struct node *n, double seconds)
{
	synced_write(n, seconds);
}

/* ---- on nng's threads ---- */

static void
healthz(struct node *n, struct rpc_http_req *req, uint64_t now)
{
	uint64_t last = atomic_load(&n->loop_ms);
	uint64_t ago = now > last ? now - last : 0;
	bool ok = ago <= HEALTH_LOOP_MS;
	char body[160];
	int len = snprintf(body, sizeof(body), "{\"ok\":%s,\"loop_ms_ago\":%" PRIu64 "%s}",
			   ok ? "true" : "false", ago,
			   ok ? "" : ",\"error\":\"the node's loop is not turning\"");
	rpc_http_reply(req, ok ? 200 : 503, NULL, body, (size_t)len);
}

bool
node_get_now(struct node *n, struct rpc_http_req *req, const struct rpc_http_in *in,
	     uint64_t now)
{
	if (strcmp(in->path, "/healthz") == 0) {
		healthz(n, req, now);
		return true;
	}
	if (strcmp(in->path, "/") == 0 || strcmp(in->path, "/index.html") == 0) {
		rpc_http_reply(req, 200, "text/html; charset=utf-8", node_explorer_html,
			       node_explorer_html_len);
		return true;
	}
	if (strcmp(in->path, "/metrics") == 0 || strcmp(in->path, "/readyz") == 0 ||
	    strcmp(in->path, "/events") == 0)
		return false;
	static const char nf[] = "{\"error\":\"not found: GET /, /events, /metrics, /healthz or "
				 "/readyz; POST JSON-RPC requests to /\"}";
	rpc_http_reply(req, 404, NULL, nf, sizeof(nf) - 1);
	return true;
}

/* ---- on the loop thread ---- */

/* readiness gathers the facts of the readiness checks and checks them. */
static struct node_ready
readiness(struct node *n, struct node_ready_facts *f)
{
	const struct node_core *c = n->core;
	struct node_engine_status st;
	uint64_t now = node_clock().mono_ms;
	memset(&st, 0, sizeof(st));
	node_core_engine(c, &st);
	*f = (struct node_ready_facts){
		.store_ok = !node_core_failed(c),
		.min_free_disk_mb = n->cfg.min_free_disk_mb,
		/* the free space the loop last saw (once a second): the same that pauses it */
		.disk_known = n->cfg.min_free_disk_mb > 0 && n->disk_free >= 0,
		.free_bytes = n->disk_free >= 0 ? (uint64_t)n->disk_free : 0,
		.height = node_core_tip(c)->height,
		.syncing = node_core_syncing(c),
		.seen = 1,
		.quorum = st.quorum > 0 ? st.quorum : 1,
	};
	const struct node_sets *sets = node_core_sets(c);
	for (uint32_t k = 0; k < sets->cur->n; k++) {
		uint64_t h, seen;
		uint32_t i = sets->cur->m[k].slot;
		if (i == sets->slot)
			continue;
		node_core_peer_height(c, i, &h, &seen);
		if (h > f->peer_height)
			f->peer_height = h;
		if (seen != 0 && now - seen <= NODE_READY_PEER_WINDOW_MS)
			f->seen++;
	}
	return node_ready_check(f);
}

cJSON *
node_readiness(struct node *n, bool *ready)
{
	struct node_ready_facts f;
	struct node_ready r = readiness(n, &f);
	*ready = r.ready;
	return node_ready_json(&f, &r);
}

static void
metrics(struct node *n, struct rpc_http_req *req)
{
	struct node_engine_status st;
	struct node_net_view net;
	struct node_peer_view pv;
	uint64_t hits = 0, verified = 0, sent = 0, dropped = 0, connected = 0;
	struct node_ready_facts facts;
	memset(&st, 0, sizeof(st));
	memset(&net, 0, sizeof(net));
	node_core_engine(n->core, &st);
	n->env.net(n, &net);
	const struct node_sets *sets = node_core_sets(n->core);
	for (uint32_t k = 0; k < sets->latest->n; k++) {
		uint32_t i = sets->latest->m[k].slot;
		if (i == sets->slot)
			continue;
		memset(&pv, 0, sizeof(pv));
		n->env.peer(n, i, &pv);
		sent += pv.sent;
		dropped += pv.dropped;
		connected += pv.connected;
	}
	chain_sigcache_stats(n->sigcache, &hits, &verified);
	const struct node_admit *a = node_core_admit(n->core);
	struct node_metrics_now now = {
		.height = node_core_tip(n->core)->height,
		.view = st.view,
		.validators = sets->cur->n,
		.primary = st.leader != NODE_ENGINE_NO_LEADER && st.leader == node_core_member(n->core),
		.ready = readiness(n, &facts).ready,
		.mempool_txs = chain_mempool_count(a->pool),
		.mempool_bytes = chain_mempool_bytes(a->pool),
		.txs_admitted = a->admitted,
		.txs_refused = a->refused,
		.sigs_verified = verified,
		.sig_cache_hits = hits,
		.peers_connected = connected,
		.peer_sent = sent,
		.peer_received = net.received,
		.peer_dropped = dropped + net.queue_dropped,
		.peer_rate_limited = net.rate_limited,
		.peer_refused = net.rejected + net.bad_signature + net.oversized,
		.peer_connections_refused = net.refused_connections,
		.peer_tls_failures = net.tls_failures,
		.consensus_sent = net.consensus_sent,
		.store_bytes = node_dir_bytes(n->cfg.data_dir),
		.disk_free_bytes = n->disk_free,
		.started_wall_ms = n->started_wall_ms,
	};
	struct ch_buf b;
	ch_buf_init(&b);
	node_metrics_render(&n->metrics, &now, &b);
	if (ch_buf_ok(&b))
		rpc_http_reply(req, 200, prom_type, b.data, b.len);
	else
		rpc_http_reply(req, 500, "text/plain", "out of memory\n", 14);
	ch_buf_close(&b);
}

void
node_get_loop(struct node *n, struct node_event *ev)
{
	struct rpc_http_in in = {.method = "GET",
				 .path = ev->path,
				 .query = ev->query,
				 .last_event_id = ev->last_event_id,
				 .body = "",
				 .len = 0};
	if (strcmp(ev->path, "/metrics") == 0) {
		metrics(n, ev->req);
	} else if (strcmp(ev->path, "/readyz") == 0) {
		bool ready;
		cJSON *body = node_readiness(n, &ready);
		reply_json(ev->req, ready ? 200 : 503, body);
	} else {
		node_feed_open(&n->feed, ev->req, &in, node_clock().mono_ms);
	}
}

/* count_blocks puts the blocks committed since the last turn into the metrics. */
static void
count_blocks(struct node *n, uint64_t tip, uint64_t now_wall)
{
	struct ch_buf raw;
	ch_buf_init(&raw);
	/* after a long state transfer only the latest blocks are looked at */
	if (tip > n->counted_height + NODE_METRICS_BLOCKS_PER_TURN)
		n->counted_height = tip - NODE_METRICS_BLOCKS_PER_TURN;
	for (uint64_t h = n->counted_height + 1; h <= tip; h++) {
		struct chain_header hd;
		ch_buf_reset(&raw);
		if (chain_store_block(n->store, h, &raw, NULL, NULL) != 0 ||
		    chain_block_header(raw.data, raw.len, &hd, NULL) != 0)
			continue;
		node_metrics_block(&n->metrics, hd.time_ms, hd.tx_count, now_wall);
	}
	ch_buf_close(&raw);
	n->counted_height = tip;
}

/*
 * report_refusals logs, at most once per NODE_REFUSALS_LOG_MS, what peers
 * sent that was refused since the last report: one line with the counts,
 * never one per message.
 */
static void
report_refusals(struct node *n, uint64_t now_ms)
{
	struct node_net_view v;
	if (now_ms < n->refusals_logged_ms + NODE_REFUSALS_LOG_MS)
		return;
	n->refusals_logged_ms = now_ms;
	memset(&v, 0, sizeof(v));
	n->env.net(n, &v);
	struct node_net_view *o = &n->refusals_seen;
	uint64_t undecodable = v.rejected - o->rejected, badsig = v.bad_signature - o->bad_signature,
		 oversized = v.oversized - o->oversized, limited = v.rate_limited - o->rate_limited,
		 conns = v.refused_connections - o->refused_connections;
	if (undecodable + badsig + oversized + limited + conns > 0)
		log_warn("peers: refused in the last %u s: undecodable=%" PRIu64
			 " bad_signature=%" PRIu64 " oversized=%" PRIu64 " rate_limited=%" PRIu64
			 " connections=%" PRIu64 " (net_info has the totals)",
			 NODE_REFUSALS_LOG_MS / 1000, undecodable, badsig, oversized, limited, conns);
	*o = v;
}

void
node_observe_turn(struct node *n, struct node_time now)
{
	report_refusals(n, now.mono_ms);
	struct node_engine_status st;
	memset(&st, 0, sizeof(st));
	atomic_store(&n->loop_ms, now.mono_ms);
	uint64_t tip = node_core_tip(n->core)->height;
	if (tip > n->counted_height)
		count_blocks(n, tip, now.wall_ms);
	node_core_engine(n->core, &st);
	node_metrics_view(&n->metrics, st.view);
}

void
node_observe_rpc(struct node *n, const struct node_pending *p, uint64_t now_ms)
{
	for (size_t i = 0; i < p->rpc.ncalls; i++) {
		const struct rpc_call *c = &p->rpc.calls[i];
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(c->response, "error");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
		node_metrics_rpc(&n->metrics, node_method_name(c->method),
				 cJSON_IsNumber(code) ? code->valueint : 0);
	}
	if (p->arrived_ms != 0 && now_ms >= p->arrived_ms)
		node_hist_observe(&n->metrics.rpc_seconds, (double)(now_ms - p->arrived_ms) / 1000);
}
