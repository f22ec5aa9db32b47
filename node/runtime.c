/*
 * The runtime (node.h): the loop thread that owns the core, the queue nng's
 * threads and the signature workers feed it through, the core's io over the
 * peer transport and the vote files, the RPC environment, and shutdown.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "node/log.h"
#include "node/observe.h"
#include "node/peer_tls.h"
#include "node/runtime.h"

#define NODE_DISK_CHECK_MS 1000

static void stream_report(void *arg, uint64_t id, bool closed);
static void follow_sets(struct node *n);

/* ---- the core's io ---- */

/* transport_send: straight to the peers. */
static void
transport_send(void *arg, int to, const uint8_t *msg, size_t len)
{
	struct node *n = arg;
	if (n->peers == NULL)
		return;
	if (to < 0)
		rpc_peer_broadcast(n->peers, msg, len);
	else
		rpc_peer_send(n->peers, (size_t)to, msg, len);
}

/* io_send sends what the core sends, or gives it to a test's hook with the real io to send with. */
static void
io_send(void *arg, int to, const uint8_t *msg, size_t len)
{
	struct node *n = arg;
	if (n->hook == NULL) {
		transport_send(n, to, msg, len);
		return;
	}
	struct node_io io;
	node_runtime_io(n, &io);
	io.send = transport_send;
	n->hook(n->hook_arg, &io, to, msg, len);
}

static int
io_save_votes(void *arg, const uint8_t *rec, size_t len, struct ch_err *err)
{
	struct node *n = arg;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = vote_file_save(n->votes, rec, len, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	node_observe_synced(n, (double)(t1.tv_sec - t0.tv_sec) +
				       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return rc;
}

static bool
io_sign(void *arg, const uint8_t digest[CR_HASH_LEN], uint8_t sig[CR_SIG_LEN])
{
	struct node *n = arg;
	return cr_sign(n->key, digest, sig, NULL) == 0;
}

static uint64_t
io_random(void *arg)
{
	uint64_t x = 0;
	if (getrandom(&x, sizeof(x), 0) != (ssize_t)sizeof(x))
		x = node_clock().wall_ms * 0x9e3779b97f4a7c15ull;
	return x;
}

static void
io_log(void *arg, enum node_log_level level, const char *line)
{
	node_log_line(level, line);
}

void
node_runtime_io(struct node *n, struct node_io *io)
{
	*io = (struct node_io){
		.arg = n,
		.send = io_send,
		.save_votes = io_save_votes,
		.sign = io_sign,
		.verify = node_io_verify,
		.random = io_random,
		.log = io_log,
	};
}

/* ---- the RPC environment ---- */

static uint64_t
env_now(void *arg)
{
	return node_clock().mono_ms;
}

static int
env_submit(void *arg, const struct chain_tx *tx, bool remember, struct ch_err *err)
{
	struct node *n = arg;
	if (n->disk_low)
		return ch_errf(err, CH_E_UNAVAILABLE,
			       "node is paused: the disk holding its data has less than "
			       "min_free_disk_mb (%u MiB) free",
			       n->cfg.min_free_disk_mb);
	return node_core_submit(n->core, tx, remember, node_clock(), err);
}

static void
env_engine(void *arg, struct node_engine_status *out)
{
	struct node *n = arg;
	node_core_engine(n->core, out);
}

static void
env_peer(void *arg, uint32_t i, struct node_peer_view *out)
{
	struct node *n = arg;
	uint64_t seen;
	struct rpc_peer_stats st;
	memset(&st, 0, sizeof(st));
	if (n->peers != NULL)
		rpc_peer_stats(n->peers, i, &st);
	node_core_peer_height(n->core, i, &out->height, &seen);
	out->connected = st.connected;
	out->sent = st.sent;
	out->dropped = st.dropped;
	out->tls_failures = st.tls_failures;
	out->seen_ms_ago = seen ? (int64_t)(node_clock().mono_ms - seen) : -1;
}

static void
env_net(void *arg, struct node_net_view *out)
{
	struct node *n = arg;
	struct node_core_counts cc;
	struct rpc_peer_in_stats in;
	memset(&in, 0, sizeof(in));
	node_core_counts(n->core, &cc);
	if (n->peers != NULL)
		rpc_peer_in_stats(n->peers, &in);
	pthread_mutex_lock(&n->mu);
	out->rejected = cc.rejected + n->rejected;
	out->queue_dropped = n->queue_dropped;
	pthread_mutex_unlock(&n->mu);
	out->bad_signature = cc.bad_signature;
	out->sync_refused = cc.sync_refused;
	out->consensus_sent = cc.consensus_sent;
	out->received = in.received;
	out->rate_limited = in.rate_limited;
	out->oversized = in.oversized;
	out->refused_connections = in.refused_connections;
	out->tls_failures = in.tls_failures;
	out->connections = in.connections;
}

static int
env_wait(void *arg, struct node_pending *p, struct rpc_call *c, const uint8_t hash[CR_HASH_LEN],
	 uint64_t deadline_ms)
{
	struct node *n = arg;
	return node_waiters_add(&n->waiters, p, c, hash, deadline_ms);
}

static int
env_events(void *arg, struct node_pending *p, struct rpc_call *c, const struct node_events_query *q,
	   size_t limit, uint64_t deadline_ms)
{
	struct node *n = arg;
	return node_feed_poll(&n->feed, p, c, q, limit, deadline_ms, node_clock().mono_ms);
}

static cJSON *
env_ready(void *arg)
{
	bool ready;
	return node_readiness(arg, &ready);
}

static void
reply_error(struct rpc_http_req *req, int http_status, int code, const char *msg)
{
	char body[256];
	int len = snprintf(body, sizeof(body),
			   "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":%d,\"message\":\"%s\"}}",
			   code, msg);
	rpc_http_reply(req, http_status, NULL, body, (size_t)len);
}

/* finish renders and sends p's answer and frees p, once none of its calls waits. */
static void
finish(void *arg, struct node_pending *p)
{
	struct node *n = arg;
	size_t len = 0;
	node_observe_rpc(n, p, node_clock().mono_ms);
	char *body = rpc_request_render(&p->rpc, &len);
	if (body == NULL && len == 0)
		rpc_http_reply(p->req, 204, NULL, NULL, 0);
	else if (body == NULL)
		reply_error(p->req, 500, ch_rpc_code(CH_E_NOMEM), "out of memory");
	else
		rpc_http_reply(p->req, 200, NULL, body, len);
	free(body);
	node_pending_free(p);
}

static void
init_env(struct node *n)
{
	n->env = (struct node_rpc_env){
		.genesis = &n->genesis,
		.node_id = n->cfg.moniker,
		.p2p_listen = n->cfg.p2p_listen,
		.p2p_tls = n->cfg.p2p_tls,
		.self = n->self,
		.self_pub = n->self_pub,
		.commit_timeout_ms = n->cfg.commit_timeout_ms,
		.store = n->store,
		.tip = node_core_tip(n->core),
		.admit = node_core_admit(n->core),
		.sigcache = n->sigcache,
		.started_ms = n->started_ms,
		.arg = n,
		.now_ms = env_now,
		.submit = env_submit,
		.engine = env_engine,
		.peer = env_peer,
		.net = env_net,
		.wait = env_wait,
		.events = env_events,
		.ready = env_ready,
	};
	n->waiters = (struct node_waiters){.finish = finish, .arg = n};
	n->feed = (struct node_feed){
		.store = n->store,
		.tip = node_core_tip(n->core),
		.max_streams = n->cfg.rpc_max_streams,
		.report = stream_report,
		.report_arg = n,
		.finish = finish,
		.finish_arg = n,
	};
}

/* ---- the queue ---- */

/* discard answers a queued request with "shutting down" and frees ev. */
static void
discard(struct node_event *ev)
{
	if (ev->req != NULL)
		reply_error(ev->req, 503, ch_rpc_code(CH_E_UNAVAILABLE), "node is shutting down");
	node_event_free(ev);
}

static void
discard_all(struct node_event *evs)
{
	while (evs != NULL) {
		struct node_event *next = evs->next;
		discard(evs);
		evs = next;
	}
}

void
node_push(struct node *n, struct node_event *ev)
{
	pthread_mutex_lock(&n->mu);
	bool queued = !n->stopping && node_queue_push(&n->queue, ev);
	if (queued)
		pthread_cond_signal(&n->cv);
	else if (node_event_is_peer(ev))
		n->queue_dropped++;
	pthread_mutex_unlock(&n->mu);
	if (!queued)
		discard(ev);
}

static void
push(void *arg, struct node_event *ev)
{
	node_push(arg, ev);
}

/* stream_report (an nng thread): an event stream's write was taken, or its client left. */
static void
stream_report(void *arg, uint64_t id, bool closed)
{
	struct node *n = arg;
	struct node_event *ev = calloc(1, sizeof(*ev));
	if (ev == NULL)
		return; /* the stream looks slow and is cut off; its client resumes */
	ev->stream = id;
	ev->stream_closed = closed;
	node_push(n, ev);
}

/*
 * on_http (an nng thread): a JSON-RPC request goes to the signature
 * workers, then the loop; a GET is answered here or by the loop.
 */
static void
on_http(void *arg, struct rpc_http_req *req, const struct rpc_http_in *in)
{
	struct node *n = arg;
	uint64_t now = node_clock().mono_ms;
	bool get = strcmp(in->method, "POST") != 0;
	if (get && node_get_now(n, req, in, now))
		return;
	struct node_event *ev = calloc(1, sizeof(*ev));
	if (ev == NULL) {
		reply_error(req, 503, ch_rpc_code(CH_E_NOMEM), "node is out of memory");
		return;
	}
	ev->req = req;
	ev->body = in->body;
	ev->len = in->len;
	ev->arrived_ms = now;
	if (get) {
		ev->path = in->path;
		ev->query = in->query;
		ev->last_event_id = in->last_event_id;
		node_push(n, ev);
	} else if (!node_verify_pool_submit(n->pool, ev)) {
		node_push(n, ev);
	}
}

/*
 * on_peer (an nng thread) decodes a peer message once, here: its
 * transactions go to the signature workers (unless the chain trusts its
 * validators), everything else straight to the loop, in the order it came.
 */
static void
on_peer(void *arg, uint8_t *raw, size_t len)
{
	struct node *n = arg;
	struct node_event *ev = calloc(1, sizeof(*ev));
	int rc = ev == NULL ? CH_E_NOMEM : peer_msg_decode(raw, len, &n->limits, &ev->msg, NULL);
	free(raw);
	if (rc != 0) {
		free(ev);
		pthread_mutex_lock(&n->mu);
		n->rejected++;
		pthread_mutex_unlock(&n->mu);
		return;
	}
	/* with a crash-fault engine the loop vouches for a peer's transactions (node/gossip.c) */
	if (ev->msg.type != PEER_TXS || n->trust_peers || !node_verify_pool_submit(n->pool, ev))
		push(n, ev);
}

/* ---- the loop ---- */

static void
handle(struct node *n, struct node_event *ev)
{
	if (ev->stream != 0) {
		node_feed_report(&n->feed, ev->stream, ev->stream_closed, node_clock().mono_ms);
		node_event_free(ev);
		return;
	}
	if (ev->req == NULL) {
		if (!n->disk_low) /* paused: peers retransmit, and it catches up afterwards */
			node_core_on_peer(n->core, &ev->msg, node_clock());
		node_event_free(ev);
		return;
	}
	if (ev->path != NULL) {
		node_get_loop(n, ev);
		node_event_free(ev);
		return;
	}
	struct node_pending *p = ev->pending;
	ev->pending = NULL;
	if (p == NULL && (p = calloc(1, sizeof(*p))) != NULL) { /* not parsed by a worker */
		p->req = ev->req;
		if (rpc_request_parse(&p->rpc, ev->body, ev->len) != 0) {
			free(p);
			p = NULL;
		}
	}
	if (p == NULL)
		reply_error(ev->req, 503, ch_rpc_code(CH_E_NOMEM), "out of memory");
	else
		p->arrived_ms = ev->arrived_ms;
	node_event_free(ev);
	if (p == NULL)
		return;
	node_methods_handle(&n->env, p);
	if (p->waiting == 0)
		finish(n, p);
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* wait_events waits until deadline_ms, an event or a stop; returns the events (under no lock). */
static struct node_event *
wait_events(struct node *n, uint64_t deadline_ms, bool *stop)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline_ms / 1000),
			      .tv_nsec = (long)(deadline_ms % 1000) * 1000000};
	pthread_mutex_lock(&n->mu);
	while (n->queue.head == NULL && !n->stopping && node_clock().mono_ms < deadline_ms)
		pthread_cond_timedwait(&n->cv, &n->mu, &ts);
	*stop = n->stopping;
	struct node_event *evs = node_queue_take_all(&n->queue);
	pthread_mutex_unlock(&n->mu);
	return evs;
}

/*
 * check_disk pauses the node when the disk runs low, and resumes it when
 * space is back (once a second). Paused, it takes no part in consensus
 * (peer messages are dropped, no ticks) and refuses transactions, so that
 * nothing is written; it catches up from its peers afterwards.
 */
static void
check_disk(struct node *n, uint64_t now)
{
	if (now < n->last_disk_check_ms + NODE_DISK_CHECK_MS)
		return;
	n->last_disk_check_ms = now;
	n->disk_free = node_disk_free(n);
	uint64_t need = (uint64_t)n->cfg.min_free_disk_mb << 20;
	bool low = need > 0 && n->disk_free >= 0 && (uint64_t)n->disk_free < need;
	if (low && !n->disk_low)
		log_error("disk: pausing: the disk holding %s has %" PRId64 " MiB free, below "
			  "min_free_disk_mb (%u); this validator takes no part in consensus and "
			  "refuses transactions until space is freed",
			  n->cfg.data_dir, n->disk_free >> 20, n->cfg.min_free_disk_mb);
	else if (!low && n->disk_low)
		log_info("disk: resuming: %" PRId64 " MiB free on the disk holding %s",
			 n->disk_free >> 20, n->cfg.data_dir);
	n->disk_low = low;
}

static int
loop(struct node *n, struct ch_err *err)
{
	for (;;) {
		struct node_time now = node_clock();
		uint64_t deadline = min_u64(node_core_deadline(n->core, now),
					    node_waiters_deadline(&n->waiters));
		deadline = min_u64(deadline, n->last_disk_check_ms + NODE_DISK_CHECK_MS);
		deadline = min_u64(deadline, node_feed_deadline(&n->feed));
		bool stop;
		struct node_event *evs = wait_events(n, deadline, &stop);
		if (stop || node_core_failed(n->core)) {
			discard_all(evs);
			if (stop)
				return 0;
			log_error("stopping: a storage failure makes it unsafe to go on");
			pthread_mutex_lock(&n->mu);
			n->stopping = true;
			evs = node_queue_take_all(&n->queue);
			pthread_mutex_unlock(&n->mu);
			discard_all(evs);
			return ch_errf(err, CH_E_DB, "storage failure; see the log");
		}
		uint64_t height = node_core_tip(n->core)->height;
		while (evs != NULL) {
			struct node_event *next = evs->next;
			handle(n, evs);
			evs = next;
		}
		now = node_clock();
		if (!n->disk_low)
			node_core_tick(n->core, now);
		check_disk(n, now.mono_ms);
		follow_sets(n);
		bool moved = node_core_tip(n->core)->height != height;
		if (moved || node_waiters_deadline(&n->waiters) <= now.mono_ms)
			node_waiters_settle(&n->waiters, &n->env, now.mono_ms, false);
		if (moved || node_feed_deadline(&n->feed) <= now.mono_ms)
			node_feed_settle(&n->feed, now.mono_ms, false);
		node_observe_turn(n, now);
	}
}

/* ---- starting and stopping ---- */

/*
 * peer_url: the address to dial for member m: its p2p address from the
 * chain, or the one config.json's peer_addresses names for its id.
 */
static const char *
peer_url(const struct node *n, const struct chain_member *m)
{
	for (size_t k = 0; k < n->cfg.npeer_addresses; k++)
		if (strcmp(n->cfg.peer_addresses[k].id, m->id) == 0)
			return n->cfg.peer_addresses[k].address;
	return m->addr;
}

/*
 * wanted fills urls (by slot) with whom to stay connected: the members of
 * the set in force and of the last scheduled one (a validator voted in is
 * dialed from the block that schedules it, so that it can sync), not this
 * node. Returns one past the highest slot.
 */
static size_t
wanted(const struct node *n, const char *urls[RPC_PEER_MAX])
{
	const struct node_sets *s = node_core_sets(n->core);
	const struct chain_valset *sets[2] = {s->cur, s->latest};
	size_t top = 0;
	for (size_t i = 0; i < RPC_PEER_MAX; i++)
		urls[i] = NULL;
	for (int k = 0; k < 2; k++)
		for (uint32_t i = 0; i < sets[k]->n; i++) {
			const struct chain_member *m = &sets[k]->m[i];
			if (m->slot == s->slot || m->slot >= RPC_PEER_MAX)
				continue;
			urls[m->slot] = peer_url(n, m);
			if (m->slot + 1u > top)
				top = m->slot + 1u;
		}
	return top;
}

/* follow_sets redials as the validator set changes: new members are dialed, removed ones dropped. */
static void
follow_sets(struct node *n)
{
	const struct node_sets *s = node_core_sets(n->core);
	if (n->peers == NULL || s->gen == n->peers_gen)
		return;
	n->peers_gen = s->gen;
	const char *urls[RPC_PEER_MAX];
	wanted(n, urls);
	for (size_t i = 0; i < RPC_PEER_MAX; i++) {
		const char *want = urls[i] != NULL ? urls[i] : "";
		if (strcmp(want, n->peer_urls[i]) == 0)
			continue;
		struct ch_err e;
		ch_err_clear(&e);
		if (*want && !n->cfg.p2p_tls && !n->cfg.allow_plaintext_peers &&
		    !node_addr_loopback(want)) {
			log_warn("peers: not dialing validator slot %zu at %s: the link would be "
				 "plaintext (allow_plaintext_peers is off)",
				 i, want);
			continue;
		}
		if (rpc_peer_set(n->peers, i, want, &e) != 0) {
			log_warn("peers: cannot %s validator slot %zu at %s: %s",
				 *want ? "dial" : "drop", i, *want ? want : n->peer_urls[i],
				 ch_err_msg(&e));
			continue;
		}
		log_info("peers: %s validator slot %zu%s%s", *want ? "dialing" : "dropped", i,
			 *want ? " at " : "", want);
		snprintf(n->peer_urls[i], CHAIN_MAX_ADDR, "%s", want);
	}
}

static int
start_peers(struct node *n, struct ch_err *err)
{
	const struct chain_genesis *g = &n->genesis;
	if (g->nvalidators < 2 && n->self != NODE_NOT_MEMBER)
		return 0; /* the only validator of its genesis: nobody to talk to */
	for (size_t k = 0; k < n->cfg.npeer_addresses; k++) {
		const struct node_peer_address *pa = &n->cfg.peer_addresses[k];
		size_t i = 0;
		while (i < g->nvalidators && strcmp(g->validators[i].id, pa->id) != 0)
			i++;
		if (i == g->nvalidators)
			log_warn("peers: peer_addresses names %s, which is not a genesis validator "
				 "(used if the chain adds it)",
				 pa->id);
		else
			log_info("peers: dialing %s at %s (peer_addresses)", pa->id, pa->address);
	}
	n->peer_urls = calloc(RPC_PEER_MAX, sizeof(*n->peer_urls));
	if (n->peer_urls == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	const char *urls[RPC_PEER_MAX];
	size_t npeers = wanted(n, urls);
	uint32_t slot = node_core_sets(n->core)->slot;
	size_t self = slot == NODE_NOT_MEMBER ? SIZE_MAX : slot;
	if (self != SIZE_MAX && self >= npeers)
		npeers = self + 1;
	size_t max_msg = peer_msg_max_len(&n->limits);
	struct rpc_peer_limits lim = {
		.max_msg_bytes = max_msg,
		.queue_len = 4096,
		.max_conns = n->cfg.peer_max_connections,
		.msgs_per_s = n->cfg.peer_max_msgs_per_s,
		/* a burst (two seconds' worth) must hold the largest message */
		.bytes_per_s = n->cfg.peer_max_bytes_per_s > max_msg ? n->cfg.peer_max_bytes_per_s
								     : max_msg,
	};
	if (lim.max_conns == 0) /* each validator dials once; room for reconnects and tools */
		lim.max_conns = 2 * (uint32_t)(npeers > g->nvalidators ? npeers : g->nvalidators) + 8;
	struct node_peer_tls tls = {0};
	bool warn = false;
	/* TLS anchors are the genesis validators': TLS links serve genesis members only for now */
	const char *list[RPC_PEER_MAX];
	size_t nlist = 0;
	for (size_t i = 0; i < npeers; i++)
		if (urls[i] != NULL)
			list[nlist++] = urls[i];
	int rc = n->cfg.p2p_tls ? node_peer_tls_make(&tls, g, n->key, n->self,
						     (int64_t)time(NULL), err)
				: node_peer_plaintext_check(&n->cfg, list, nlist, SIZE_MAX, &warn, err);
	if (warn)
		log_warn("peers: links beyond this host are plaintext (allow_plaintext_peers): "
			 "anyone on the path reads them and can reach the peer port");
	if (rc == 0 && n->cfg.p2p_tls && npeers > g->nvalidators)
		npeers = g->nvalidators; /* no anchors for the others: they stay undialed */
	if (rc == 0)
		rc = rpc_peer_start(&n->peers, n->cfg.p2p_listen, urls, npeers, self, &lim,
				    n->cfg.p2p_tls ? &tls.view : NULL, on_peer, n, err);
	node_peer_tls_close(&tls);
	if (rc == 0) {
		for (size_t i = 0; i < npeers; i++)
			if (urls[i] != NULL && i != self)
				snprintf(n->peer_urls[i], CHAIN_MAX_ADDR, "%s", urls[i]);
		n->peers_gen = node_core_sets(n->core)->gen;
		log_info("peers: listening on %s%s, %zu other validators", n->cfg.p2p_listen,
			 n->cfg.p2p_tls ? " (mutual TLS)" : "", npeers - (self != SIZE_MAX));
	}
	return rc;
}

static void
stop_peers(struct node *n)
{
	rpc_peer_stop(n->peers);
	n->peers = NULL;
	free(n->peer_urls);
	n->peer_urls = NULL;
}

int
node_run(struct node *n, struct ch_err *err)
{
	n->started_ms = node_clock().mono_ms;
	n->last_disk_check_ms = n->started_ms;
	init_env(n);
	node_observe_init(n);
	n->trust_peers = node_core_trusts_peers(n->core); /* read here, off the loop, unchanging */
	int rc = node_verify_pool_start(&n->pool, n->cfg.verify_threads, n->sigcache, push, n, err);
	if (rc == 0) {
		log_info("checking signatures on %u threads", node_verify_pool_threads(n->pool));
		rc = start_peers(n, err);
	}
	if (rc == 0) {
		struct rpc_tls_files tf = {
			.cert = n->cfg.rpc_tls_cert,
			.key = n->cfg.rpc_tls_key,
			.ca = n->cfg.rpc_tls_client_ca[0] != '\0' ? n->cfg.rpc_tls_client_ca : NULL};
		bool https = n->cfg.rpc_tls_cert[0] != '\0';
		rc = rpc_http_start(&n->http, n->cfg.rpc_listen, https ? &tf : NULL,
				    n->cfg.rpc_max_body_bytes, n->cfg.rpc_max_inflight, on_http, n,
				    err);
	}
	if (rc != 0) {
		stop_peers(n);
		node_verify_pool_stop(n->pool);
		n->pool = NULL;
		return rc;
	}
	log_info("serving JSON-RPC on %s", n->cfg.rpc_listen);
	rc = loop(n, err);
	atomic_store(&n->stop_phase, "answering waiting clients");
	node_waiters_settle(&n->waiters, &n->env, node_clock().mono_ms, true);
	node_feed_settle(&n->feed, node_clock().mono_ms, true); /* and closing the event streams */
	/* new requests are refused from here on; those the node holds are answered below */
	atomic_store(&n->stop_phase, "refusing new JSON-RPC requests");
	rpc_http_refuse(n->http);
	atomic_store(&n->stop_phase, "closing the peer connections");
	stop_peers(n);
	/* the workers finish what they hold; the loop is gone, so it is answered "shutting down" */
	atomic_store(&n->stop_phase, "stopping the signature workers");
	node_verify_pool_stop(n->pool);
	n->pool = NULL;
	pthread_mutex_lock(&n->mu);
	struct node_event *left = node_queue_take_all(&n->queue);
	pthread_mutex_unlock(&n->mu);
	discard_all(left);
	/* every request is answered now: nng can let go of the server */
	atomic_store(&n->stop_phase, "stopping the JSON-RPC server");
	rpc_http_stop(n->http);
	n->http = NULL;
	log_info("stopped at height %" PRIu64, node_core_tip(n->core)->height);
	return rc;
}

void
node_stop(struct node *n)
{
	pthread_mutex_lock(&n->mu);
	n->stopping = true;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

const char *
node_stop_phase(struct node *n)
{
	return atomic_load(&n->stop_phase);
}
