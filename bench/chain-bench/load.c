/*
 * One benchmark run: client threads submit pre-signed transactions in
 * JSON-RPC batches (broadcast_tx_sync), or one at a time and wait for the
 * commit (broadcast_tx_commit) in closed loop; a watcher reads every new
 * block from the first validator and notes when each transaction committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench/chain-bench/bench.h"
#include "common/buf.h"
#include "rpc/client.h"

#define RPC_TIMEOUT_MS 30000
#define MAX_BATCH 1000 /* the node's JSON-RPC batch limit */

struct run {
	struct bench_net *net;
	const struct bench_txset *set;
	const struct bench_run_opts *o;
	uint64_t start_ns, end_ns;
	size_t **client_txs; /* per client: tx numbers in signing order */
	size_t *client_count;
	/* counters, atomic */
	size_t submitted, accepted, rejected, committed;
	int stop_clients, stop_watcher, ran_out;
	pthread_mutex_t mu;
	char first_error[256];
	uint64_t watched_height;
};

static size_t
load_sz(const size_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
add_sz(size_t *p, size_t v)
{
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static void
note_error(struct run *r, const char *msg)
{
	pthread_mutex_lock(&r->mu);
	if (r->first_error[0] == '\0')
		snprintf(r->first_error, sizeof(r->first_error), "%s", msg);
	pthread_mutex_unlock(&r->mu);
}

/* note_commit records the first time a transaction was seen committed. */
static void
note_commit(struct run *r, struct bench_tx *t, uint64_t now)
{
	uint64_t zero = 0;
	if (__atomic_compare_exchange_n(&t->commit_ns, &zero, now, false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED))
		add_sz(&r->committed, 1);
}

/* ---- clients ---- */

struct client {
	struct run *r;
	unsigned id;
	size_t next; /* position in r->client_txs[id] */
};

/* settle applies one JSON-RPC response object to the transaction it answers. */
static void
settle(struct run *r, struct bench_tx *t, const cJSON *resp, const char *fallback)
{
	const cJSON *e = resp ? cJSON_GetObjectItemCaseSensitive(resp, "error") : NULL;
	if (resp != NULL && e == NULL && cJSON_GetObjectItemCaseSensitive(resp, "result") != NULL) {
		__atomic_store_n(&t->state, TX_ACCEPTED, __ATOMIC_RELAXED);
		add_sz(&r->accepted, 1);
		return;
	}
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
	__atomic_store_n(&t->state, TX_REJECTED, __ATOMIC_RELAXED);
	add_sz(&r->rejected, 1);
	note_error(r, cJSON_IsString(m) ? m->valuestring : fallback);
}

/* send_batch submits txs[0..n) of the client's list in one JSON-RPC batch. */
static void
send_batch(struct client *c, const size_t *nums, size_t n)
{
	struct run *r = c->r;
	const char *url = r->net->urls[c->id % r->net->n];
	struct ch_buf body, resp;
	char head[96];
	ch_buf_init(&body);
	ch_buf_init(&resp);
	ch_buf_u8(&body, '[');
	uint64_t now = bench_now_ns();
	for (size_t i = 0; i < n; i++) {
		struct bench_tx *t = &r->set->txs[nums[i]];
		int len = snprintf(head, sizeof(head),
				   "%s{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"broadcast_tx_sync\","
				   "\"params\":{\"tx\":\"",
				   i ? "," : "", i);
		ch_buf_put(&body, head, (size_t)len);
		ch_buf_put(&body, t->hex, t->hexlen);
		ch_buf_put(&body, "\"}}", 3);
		t->submit_ns = now;
		__atomic_store_n(&t->state, TX_SENT, __ATOMIC_RELAXED);
	}
	ch_buf_u8(&body, ']');
	add_sz(&r->submitted, n);
	struct ch_err e;
	int status = 0;
	ch_err_clear(&e);
	cJSON *root = NULL;
	if (!ch_buf_ok(&body))
		ch_errf(&e, CH_E_NOMEM, "out of memory");
	else if (rpc_client_post(url, &r->net->tls, (const char *)body.data, body.len, RPC_TIMEOUT_MS, &resp,
				 &status, &e) == 0)
		root = cJSON_ParseWithLength((const char *)resp.data, resp.len);
	if (cJSON_IsArray(root)) {
		const cJSON *o;
		bool *seen = calloc(n, sizeof(*seen));
		cJSON_ArrayForEach(o, root) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
			if (seen != NULL && cJSON_IsNumber(id) && id->valuedouble >= 0 &&
			    id->valuedouble < (double)n && !seen[(size_t)id->valuedouble]) {
				seen[(size_t)id->valuedouble] = true;
				settle(r, &r->set->txs[nums[(size_t)id->valuedouble]], o, "no answer");
			}
		}
		for (size_t i = 0; seen != NULL && i < n; i++)
			if (!seen[i])
				settle(r, &r->set->txs[nums[i]], NULL, "no answer in the batch response");
		free(seen);
	} else {
		char msg[200];
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(err, "message");
		snprintf(msg, sizeof(msg), "%s", e.code ? ch_err_msg(&e) :
					 cJSON_IsString(m) ? m->valuestring : "malformed response");
		for (size_t i = 0; i < n; i++)
			settle(r, &r->set->txs[nums[i]], NULL, msg);
	}
	cJSON_Delete(root);
	ch_buf_close(&body);
	ch_buf_close(&resp);
}

/* send_commit submits one transaction and waits for its commit (closed loop). */
static void
send_commit(struct client *c, size_t num)
{
	struct run *r = c->r;
	struct bench_tx *t = &r->set->txs[num];
	cJSON *p = cJSON_CreateObject(), *res = NULL;
	struct ch_err e;
	ch_err_clear(&e);
	cJSON_AddStringToObject(p, "tx", t->hex);
	t->submit_ns = bench_now_ns();
	__atomic_store_n(&t->state, TX_SENT, __ATOMIC_RELAXED);
	add_sz(&r->submitted, 1);
	int rc = rpc_client_call(r->net->urls[c->id % r->net->n], &r->net->tls, "broadcast_tx_commit", p,
				 RPC_TIMEOUT_MS, &res, &e);
	uint64_t now = bench_now_ns();
	if (rc == 0) {
		__atomic_store_n(&t->state, TX_ACCEPTED, __ATOMIC_RELAXED);
		add_sz(&r->accepted, 1);
		note_commit(r, t, now);
	} else {
		__atomic_store_n(&t->state, TX_REJECTED, __ATOMIC_RELAXED);
		add_sz(&r->rejected, 1);
		note_error(r, ch_err_msg(&e));
	}
	cJSON_Delete(res);
}

static void *
client_thread(void *arg)
{
	struct client *c = arg;
	struct run *r = c->r;
	const struct bench_run_opts *o = r->o;
	const size_t *mine = r->client_txs[c->id];
	size_t have = r->client_count[c->id];
	double per_client = o->rate / o->clients;
	while (!__atomic_load_n(&r->stop_clients, __ATOMIC_RELAXED)) {
		uint64_t now = bench_now_ns();
		if (now >= r->end_ns)
			break;
		if (c->next >= have) {
			__atomic_store_n(&r->ran_out, 1, __ATOMIC_RELAXED);
			break;
		}
		size_t n;
		if (o->mode == MODE_CLOSED) {
			send_commit(c, mine[c->next++]);
			continue;
		} else if (o->mode == MODE_MAX) {
			size_t out = load_sz(&r->accepted) + load_sz(&r->rejected);
			size_t done = load_sz(&r->committed) + load_sz(&r->rejected);
			if (out > done + o->window) {
				bench_sleep_ns(1000000);
				continue;
			}
			n = o->batch;
		} else {
			double due = (double)(now - r->start_ns) / 1e9 * per_client;
			if (due < (double)c->next + 1) {
				double wait_s = ((double)c->next + 1 - due) / per_client;
				bench_sleep_ns((uint64_t)(wait_s * 1e9) + 1);
				continue;
			}
			n = (size_t)due - c->next;
			if (n > MAX_BATCH)
				n = MAX_BATCH;
		}
		if (n > have - c->next)
			n = have - c->next;
		send_batch(c, mine + c->next, n);
		c->next += n;
	}
	return NULL;
}

/* ---- the watcher ---- */

#define WATCH_WAIT_MS 1000 /* how long one long poll of `events` waits for a commit */

/* note_hash notes the commit of the transaction with hash hex, if it is one of the run's. */
static void
note_hash(struct run *r, const cJSON *hex, uint64_t now)
{
	uint8_t hash[CR_HASH_LEN];
	struct bench_tx *t;
	if (cJSON_IsString(hex) && cr_hex_decode_exact(hex->valuestring, hash, CR_HASH_LEN) == 0 &&
	    (t = bench_txset_find(r->set, hash)) != NULL)
		note_commit(r, t, now);
}

/*
 * watch_events asks the first validator for the transactions committed
 * from r->watched_height + 1 on (a long poll: it answers at the next
 * commit) and notes each of the run's committed.
 */
static int
watch_events(struct run *r, bool quiet)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL, *kinds = cJSON_CreateArray();
	struct ch_err e;
	ch_err_clear(&e);
	cJSON_AddNumberToObject(p, "from_height", (double)(r->watched_height + 1));
	cJSON_AddItemToArray(kinds, cJSON_CreateString("tx"));
	cJSON_AddItemToObject(p, "kinds", kinds);
	cJSON_AddNumberToObject(p, "timeout_ms", WATCH_WAIT_MS);
	if (rpc_client_call(r->net->urls[0], &r->net->tls, "events", p, RPC_TIMEOUT_MS, &res, &e) != 0) {
		if (!quiet)
			note_error(r, ch_err_msg(&e));
		return -1;
	}
	uint64_t now = bench_now_ns();
	const cJSON *ev, *next = cJSON_GetObjectItemCaseSensitive(res, "next_height");
	cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(res, "events"))
		note_hash(r, cJSON_GetObjectItemCaseSensitive(ev, "hash"), now);
	if (cJSON_IsNumber(next) && next->valuedouble >= 1)
		r->watched_height = (uint64_t)next->valuedouble - 1;
	cJSON_Delete(res);
	return 0;
}

/* watch_block notes the commit of the run's transactions in block height (older builds). */
static int
watch_block(struct run *r, uint64_t height)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL;
	struct ch_err e;
	ch_err_clear(&e);
	cJSON_AddNumberToObject(p, "height", (double)height);
	if (rpc_client_call(r->net->urls[0], &r->net->tls, "block", p, RPC_TIMEOUT_MS, &res, &e) != 0) {
		note_error(r, ch_err_msg(&e));
		return -1;
	}
	uint64_t now = bench_now_ns();
	const cJSON *h;
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(res, "txs"))
		note_hash(r, h, now);
	cJSON_Delete(res);
	return 0;
}

/* poll_blocks: for a validator without `events`, its height every 2 ms and each new block. */
static void
poll_blocks(struct run *r)
{
	cJSON *res = NULL;
	struct ch_err e;
	ch_err_clear(&e);
	uint64_t height = 0;
	if (rpc_client_call(r->net->urls[0], &r->net->tls, "status", NULL, RPC_TIMEOUT_MS, &res, &e) == 0) {
		const cJSON *jh = cJSON_GetObjectItemCaseSensitive(res, "height");
		height = cJSON_IsNumber(jh) ? (uint64_t)jh->valuedouble : 0;
	}
	cJSON_Delete(res);
	if (height <= r->watched_height) {
		bench_sleep_ns(2000000);
		return;
	}
	while (r->watched_height < height && watch_block(r, r->watched_height + 1) == 0)
		r->watched_height++;
}

/*
 * watcher_thread follows the first validator's commits in the open loop
 * and at max rate, where a transaction's latency ends when it is seen
 * committed: by long polls of `events`, or by polling for an older build
 * that does not have them. Not in the closed loop, whose clients see their
 * commits in broadcast_tx_commit's answers: a watcher would only load the
 * validator it watches.
 */
static void *
watcher_thread(void *arg)
{
	struct run *r = arg;
	bool events = watch_events(r, true) == 0;
	while (!__atomic_load_n(&r->stop_watcher, __ATOMIC_RELAXED)) {
		if (!events)
			poll_blocks(r);
		else if (watch_events(r, false) != 0)
			bench_sleep_ns(100000000); /* busy or gone: not in a tight loop */
	}
	return NULL;
}

/* ---- scraping the metrics, as a Prometheus server would ---- */

struct scraper {
	struct run *r;
	unsigned period_ms;
	size_t scrapes, failures;
	double max_ms;
};

static void *
scraper_thread(void *arg)
{
	struct scraper *sc = arg;
	struct run *r = sc->r;
	struct ch_buf body;
	char url[128];
	ch_buf_init(&body);
	uint64_t next = bench_now_ns();
	while (!__atomic_load_n(&r->stop_watcher, __ATOMIC_RELAXED)) {
		uint64_t now = bench_now_ns();
		if (now < next) {
			bench_sleep_ns(next - now < 20000000 ? next - now : 20000000);
			continue;
		}
		next += (uint64_t)sc->period_ms * 1000000;
		for (unsigned i = 0; i < r->net->n; i++) {
			struct ch_err e;
			int status = 0;
			uint64_t t0 = bench_now_ns();
			ch_buf_reset(&body);
			snprintf(url, sizeof(url), "%smetrics", r->net->urls[i]);
			if (rpc_client_get(url, &r->net->tls, RPC_TIMEOUT_MS, &body, &status, &e) != 0 || status != 200)
				sc->failures++;
			double ms = (double)(bench_now_ns() - t0) / 1e6;
			sc->max_ms = ms > sc->max_ms ? ms : sc->max_ms;
			sc->scrapes++;
		}
	}
	ch_buf_close(&body);
	return NULL;
}

/* ---- the run ---- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
percentile(const double *sorted, size_t n, double q)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return sorted[i < n ? i : n - 1];
}

/* summarize fills the counts and latencies of res from the transactions. */
static void
summarize(struct run *r, struct bench_result *res)
{
	const struct bench_txset *s = r->set;
	double *lat = malloc((s->count ? s->count : 1) * sizeof(*lat));
	size_t nl = 0;
	double sum = 0;
	for (size_t i = 0; i < s->count; i++) {
		const struct bench_tx *t = &s->txs[i];
		int st = __atomic_load_n(&t->state, __ATOMIC_RELAXED);
		uint64_t c = __atomic_load_n(&t->commit_ns, __ATOMIC_RELAXED);
		if (st == TX_UNSENT)
			continue;
		res->submitted++;
		res->accepted += st == TX_ACCEPTED;
		res->rejected += st == TX_REJECTED;
		if (c != 0) {
			res->committed++;
			if (c <= r->end_ns)
				res->committed_in_window++;
			if (lat != NULL) {
				lat[nl] = (double)(c - t->submit_ns) / 1e6;
				sum += lat[nl++];
			}
		} else if (st == TX_ACCEPTED) {
			res->lost++;
		}
	}
	if (lat != NULL) {
		qsort(lat, nl, sizeof(*lat), cmp_double);
		res->lat_p50 = percentile(lat, nl, 0.50);
		res->lat_p90 = percentile(lat, nl, 0.90);
		res->lat_p99 = percentile(lat, nl, 0.99);
		res->lat_max = nl ? lat[nl - 1] : 0;
		res->lat_mean = nl ? sum / (double)nl : 0;
	}
	free(lat);
	res->committed_tps = (double)res->committed_in_window / res->duration_s;
}

static void
progress(struct run *r, uint64_t now, size_t *last_committed, uint64_t *last_ns)
{
	size_t c = load_sz(&r->committed);
	double dt = (double)(now - *last_ns) / 1e9;
	fprintf(stderr,
		"  [%5.1fs] sent %zu  accepted %zu  rejected %zu  committed %zu  (%.0f tx/s)  "
		"height %llu\n",
		(double)(now - r->start_ns) / 1e9, load_sz(&r->submitted), load_sz(&r->accepted),
		load_sz(&r->rejected), c, dt > 0 ? (double)(c - *last_committed) / dt : 0,
		(unsigned long long)r->watched_height);
	*last_committed = c;
	*last_ns = now;
}

/* start_height: the chain's height before the run, so the watcher reads only new blocks. */
static uint64_t
start_height(struct bench_net *net)
{
	cJSON *res = NULL;
	uint64_t h = 0;
	if (rpc_client_call(net->urls[0], &net->tls, "status", NULL, RPC_TIMEOUT_MS, &res, NULL) == 0) {
		const cJSON *jh = cJSON_GetObjectItemCaseSensitive(res, "height");
		h = cJSON_IsNumber(jh) ? (uint64_t)jh->valuedouble : 0;
	}
	cJSON_Delete(res);
	return h;
}

int
bench_run(struct bench_net *net, const struct bench_txset *set, const struct bench_run_opts *o,
	  struct bench_result *res, struct ch_err *err)
{
	struct run r = {.net = net, .set = set, .o = o};
	struct client clients[BENCH_MAX_CLIENTS];
	pthread_t tids[BENCH_MAX_CLIENTS], watcher;
	unsigned started = 0;
	int rc = 0;
	memset(res, 0, sizeof(*res));
	res->mode = o->mode;
	res->target_rate = o->rate;
	res->clients = o->clients;
	res->duration_s = o->duration_s;
	res->signed_txs = set->count;
	res->validators = net->n;
	pthread_mutex_init(&r.mu, NULL);
	r.client_txs = calloc(o->clients, sizeof(*r.client_txs));
	r.client_count = calloc(o->clients, sizeof(*r.client_count));
	if (r.client_txs == NULL || r.client_count == NULL) {
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < set->count; i++)
		r.client_count[set->txs[i].client]++;
	for (unsigned c = 0; c < o->clients; c++) {
		r.client_txs[c] = malloc((r.client_count[c] + 1) * sizeof(size_t));
		if (r.client_txs[c] == NULL) {
			rc = ch_errf(err, CH_E_NOMEM, "out of memory");
			goto out;
		}
		r.client_count[c] = 0;
	}
	for (size_t i = 0; i < set->count; i++) {
		unsigned c = set->txs[i].client;
		r.client_txs[c][r.client_count[c]++] = i;
	}
	r.watched_height = start_height(net);
	double cpu0[BENCH_MAX_VALIDATORS];
	for (unsigned i = 0; i < net->n; i++)
		cpu0[i] = bench_proc_cpu_s(net->pids[i]);
	r.start_ns = bench_now_ns();
	r.end_ns = r.start_ns + (uint64_t)(o->duration_s * 1e9);
	bool watching = o->mode != MODE_CLOSED;
	if (watching && pthread_create(&watcher, NULL, watcher_thread, &r) != 0) {
		rc = ch_errf(err, CH_E_NOMEM, "cannot start a thread");
		goto out;
	}
	struct scraper sc = {.r = &r, .period_ms = o->scrape_ms};
	pthread_t scraper;
	bool scraping = o->scrape_ms > 0 && pthread_create(&scraper, NULL, scraper_thread, &sc) == 0;
	for (; started < o->clients; started++) {
		clients[started] = (struct client){.r = &r, .id = started};
		if (pthread_create(&tids[started], NULL, client_thread, &clients[started]) != 0)
			break;
	}
	size_t last_c = 0;
	uint64_t last_ns = r.start_ns, next_print = r.start_ns + 1000000000u;
	uint64_t drain_end = r.end_ns + (uint64_t)(o->drain_s * 1e9);
	bool clients_done = false;
	for (;;) {
		uint64_t now = bench_now_ns();
		if (!clients_done && now >= r.end_ns) {
			__atomic_store_n(&r.stop_clients, 1, __ATOMIC_RELAXED);
			for (unsigned c = 0; c < started; c++)
				pthread_join(tids[c], NULL);
			clients_done = true;
			/* CPU over the window only; the drain that follows is not load */
			for (unsigned i = 0; i < net->n; i++) {
				double c1 = bench_proc_cpu_s(net->pids[i]);
				res->cpu_s[i] = c1 >= 0 && cpu0[i] >= 0 ? c1 - cpu0[i] : -1;
			}
		}
		if (clients_done && load_sz(&r.committed) >= load_sz(&r.accepted))
			break;
		if (now >= drain_end)
			break;
		if (!bench_net_alive(net, err)) {
			rc = CH_E_UNAVAILABLE;
			break;
		}
		if (!o->quiet && now >= next_print) {
			progress(&r, now, &last_c, &last_ns);
			next_print += 1000000000u;
		}
		bench_sleep_ns(20000000);
	}
	if (!clients_done) {
		__atomic_store_n(&r.stop_clients, 1, __ATOMIC_RELAXED);
		for (unsigned c = 0; c < started; c++)
			pthread_join(tids[c], NULL);
	}
	__atomic_store_n(&r.stop_watcher, 1, __ATOMIC_RELAXED);
	if (watching)
		pthread_join(watcher, NULL);
	if (scraping)
		pthread_join(scraper, NULL);
	res->scrapes = sc.scrapes;
	res->scrape_failures = sc.failures;
	res->scrape_ms_max = sc.max_ms;
	for (unsigned i = 0; i < net->n; i++)
		res->peak_rss_mb[i] = bench_proc_peak_rss_mb(net->pids[i]);
	summarize(&r, res);
	res->ran_out = r.ran_out != 0;
	snprintf(res->first_error, sizeof(res->first_error), "%s", r.first_error);
out:
	for (unsigned c = 0; r.client_txs != NULL && c < o->clients; c++)
		free(r.client_txs[c]);
	free(r.client_txs);
	free(r.client_count);
	pthread_mutex_destroy(&r.mu);
	return rc;
}
