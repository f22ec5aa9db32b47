/* Counting and the Prometheus exposition (metrics.h). */
#include "node/metrics.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const double interval_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
					 0.25,  0.5,    1,     2.5,  5,     10,   30};
static const double txs_bounds[] = {0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
static const double latency_bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
					0.1,    0.2,   0.5,   1,     2,    5,    10};
static const double write_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01,
				      0.025,  0.05,    0.1,    0.25,  0.5,   1};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
hist_init(struct node_hist *h, const double *bounds, size_t n)
{
	_Static_assert(N(interval_bounds) <= NODE_HIST_BUCKETS, "buckets");
	_Static_assert(N(txs_bounds) <= NODE_HIST_BUCKETS, "buckets");
	_Static_assert(N(latency_bounds) <= NODE_HIST_BUCKETS, "buckets");
	_Static_assert(N(write_bounds) <= NODE_HIST_BUCKETS, "buckets");
	memset(h, 0, sizeof(*h));
	h->bounds = bounds;
	h->nbounds = n;
}

void
node_hist_observe(struct node_hist *h, double v)
{
	size_t i = 0;
	while (i < h->nbounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

void
node_metrics_init(struct node_metrics *m)
{
	memset(m, 0, sizeof(*m));
	hist_init(&m->block_interval, interval_bounds, N(interval_bounds));
	hist_init(&m->block_txs, txs_bounds, N(txs_bounds));
	hist_init(&m->commit_latency, latency_bounds, N(latency_bounds));
	hist_init(&m->synced_write, write_bounds, N(write_bounds));
	hist_init(&m->rpc_seconds, latency_bounds, N(latency_bounds));
}

void
node_metrics_block(struct node_metrics *m, uint64_t time_ms, uint32_t ntxs, uint64_t now_ms)
{
	if (m->last_block_ms != 0 && time_ms >= m->last_block_ms)
		node_hist_observe(&m->block_interval, (double)(time_ms - m->last_block_ms) / 1000);
	m->last_block_ms = time_ms;
	node_hist_observe(&m->block_txs, ntxs);
	/* clocks of different validators may disagree a little: never below zero */
	node_hist_observe(&m->commit_latency,
			  now_ms > time_ms ? (double)(now_ms - time_ms) / 1000 : 0);
}

void
node_metrics_view(struct node_metrics *m, uint64_t view)
{
	if (view > m->last_view) {
		m->view_changes++;
		m->last_view = view;
	}
}

void
node_metrics_rpc(struct node_metrics *m, const char *method, int code)
{
	if (method == NULL)
		method = "other";
	for (size_t i = 0; i < m->nrpc; i++) {
		struct node_rpc_series *s = &m->rpc[i];
		if (s->code == code && strcmp(s->method, method) == 0) {
			s->count++;
			return;
		}
	}
	if (m->nrpc == NODE_METRICS_RPC_SERIES) {
		m->rpc_dropped++;
		return;
	}
	struct node_rpc_series *s = &m->rpc[m->nrpc++];
	snprintf(s->method, sizeof(s->method), "%s", method);
	s->code = code;
	s->count = 1;
}

/* ---- rendering ---- */

static void
put(struct ch_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct ch_buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		ch_buf_put(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void
head(struct ch_buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
gauge(struct ch_buf *b, const char *name, const char *help, double v)
{
	head(b, name, "gauge", help);
	put(b, "%s %.17g\n", name, v);
}

static void
counter(struct ch_buf *b, const char *name, const char *help, uint64_t v)
{
	head(b, name, "counter", help);
	put(b, "%s %" PRIu64 "\n", name, v);
}

static void
hist(struct ch_buf *b, const char *name, const char *help, const struct node_hist *h)
{
	head(b, name, "histogram", help);
	uint64_t cum = 0;
	for (size_t i = 0; i < h->nbounds; i++) {
		cum += h->counts[i];
		put(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, h->bounds[i], cum);
	}
	put(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->count);
	put(b, "%s_sum %.17g\n%s_count %" PRIu64 "\n", name, h->sum, name, h->count);
}

/* lower copies an error name in lower case ("NONCE_TOO_LOW" -> "nonce_too_low"). */
static void
lower(const char *in, char *out, size_t size)
{
	size_t i = 0;
	for (; in[i] != '\0' && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static void
refused(struct ch_buf *b, const uint64_t *by_code)
{
	char reason[32];
	head(b, "chaind_txs_refused_total", "counter",
	     "Transactions refused at admission (from clients and from peers), by reason.");
	for (int code = 1; code < CH_E__COUNT; code++) {
		if (by_code == NULL || by_code[code] == 0)
			continue;
		lower(ch_errname(code), reason, sizeof(reason));
		put(b, "chaind_txs_refused_total{reason=\"%s\"} %" PRIu64 "\n", reason,
		    by_code[code]);
	}
}

static void
rpc_counts(struct ch_buf *b, const struct node_metrics *m)
{
	head(b, "chaind_rpc_requests_total", "counter",
	     "JSON-RPC calls answered, by method and code (0 for a result).");
	for (size_t i = 0; i < m->nrpc; i++)
		put(b, "chaind_rpc_requests_total{method=\"%s\",code=\"%d\"} %" PRIu64 "\n",
		    m->rpc[i].method, m->rpc[i].code, m->rpc[i].count);
}

/* ---- the process, from /proc/self ---- */

struct proc {
	double cpu_s;
	uint64_t rss_bytes, vsize_bytes, start_s;
	bool ok;
};

static struct proc
read_proc(void)
{
	struct proc p = {0};
	char buf[2048];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return p;
	buf[n] = '\0';
	const char *s = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long utime, stime, vsize;
	unsigned long long start;
	long rss;
	/* fields 3.. after the name: state ... utime(14) stime(15) ... starttime(22) vsize(23) rss(24) */
	if (s == NULL ||
	    sscanf(s + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d "
		   "%llu %lu %ld",
		   &utime, &stime, &start, &vsize, &rss) != 5)
		return p;
	double tick = (double)sysconf(_SC_CLK_TCK);
	p.cpu_s = (double)(utime + stime) / tick;
	p.vsize_bytes = vsize;
	p.rss_bytes = (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
	/* starttime counts ticks since boot: add the boot time from /proc/stat */
	FILE *f = fopen("/proc/stat", "re");
	unsigned long long btime = 0;
	while (f != NULL && fgets(buf, sizeof(buf), f) != NULL)
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	if (f != NULL)
		fclose(f);
	p.start_s = btime + (uint64_t)((double)start / tick);
	p.ok = true;
	return p;
}

static uint64_t
open_fds(void)
{
	uint64_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0; /* not the directory's own */
}

static void
process(struct ch_buf *b, uint64_t started_wall_ms)
{
	struct proc p = read_proc();
	struct rlimit rl;
	if (p.ok) {
		head(b, "process_cpu_seconds_total", "counter",
		     "Total user and system CPU time spent in seconds.");
		put(b, "process_cpu_seconds_total %.17g\n", p.cpu_s);
		gauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.",
		      (double)p.rss_bytes);
		gauge(b, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
		      (double)p.vsize_bytes);
	}
	gauge(b, "process_start_time_seconds",
	      "Start time of the process since unix epoch in seconds.",
	      p.ok && p.start_s > 0 ? (double)p.start_s : (double)started_wall_ms / 1000);
	gauge(b, "process_open_fds", "Number of open file descriptors.", (double)open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		gauge(b, "process_max_fds", "Maximum number of open file descriptors.",
		      (double)rl.rlim_cur);
}

void
node_metrics_render(const struct node_metrics *m, const struct node_metrics_now *now,
		    struct ch_buf *b)
{
	gauge(b, "chaind_height", "Height of the last committed block.", (double)now->height);
	gauge(b, "chaind_view", "The consensus view this validator is in.", (double)now->view);
	counter(b, "chaind_view_changes_total", "Views this validator entered after its first.",
		m->view_changes);
	gauge(b, "chaind_is_primary", "1 if this validator proposes in its current view.",
	      now->primary ? 1 : 0);
	gauge(b, "chaind_validators", "Validators in the set in force at the next height.",
	      (double)now->validators);
	gauge(b, "chaind_ready", "1 if GET /readyz answers 200.", now->ready ? 1 : 0);
	hist(b, "chaind_block_interval_seconds",
	     "Time between consecutive committed blocks, by their header times.",
	     &m->block_interval);
	hist(b, "chaind_block_txs", "Transactions per committed block.", &m->block_txs);
	hist(b, "chaind_commit_latency_seconds",
	     "From a block's proposal (its header time) to its commit on this validator.",
	     &m->commit_latency);
	gauge(b, "chaind_mempool_txs", "Transactions in the mempool.", (double)now->mempool_txs);
	gauge(b, "chaind_mempool_bytes", "Bytes of transactions in the mempool.",
	      (double)now->mempool_bytes);
	counter(b, "chaind_txs_admitted_total",
		"Transactions admitted to the mempool (from clients and from peers).",
		now->txs_admitted);
	refused(b, now->txs_refused);
	counter(b, "chaind_signatures_verified_total", "Transaction signatures checked.",
		now->sigs_verified);
	counter(b, "chaind_signature_cache_hits_total",
		"Transaction signature checks answered by an earlier verdict.",
		now->sig_cache_hits);
	gauge(b, "chaind_peers_connected", "Other validators this one has a connection to.",
	      (double)now->peers_connected);
	counter(b, "chaind_peer_messages_sent_total", "Peer messages handed to connections.",
		now->peer_sent);
	counter(b, "chaind_peer_messages_received_total", "Peer messages received.",
		now->peer_received);
	counter(b, "chaind_peer_messages_dropped_total",
		"Peer messages dropped: a send queue or the node's queue was full.",
		now->peer_dropped);
	counter(b, "chaind_peer_messages_rate_limited_total",
		"Peer messages dropped over a connection's rate.", now->peer_rate_limited);
	counter(b, "chaind_peer_messages_refused_total",
		"Peer messages refused: undecodable, oversized, or badly signed.",
		now->peer_refused);
	counter(b, "chaind_peer_connections_refused_total",
		"Inbound peer connections refused at accept.", now->peer_connections_refused);
	counter(b, "chaind_consensus_messages_sent_total",
		"Consensus engine messages sent to other validators (a broadcast counts once per recipient).",
		now->consensus_sent);
	counter(b, "chaind_peer_tls_failures_total",
		"Inbound peer connections ended by a failed TLS handshake or a broken record.",
		now->peer_tls_failures);
	hist(b, "chaind_synced_write_seconds",
	     "Synced writes on the commit path (the vote record, committed blocks).",
	     &m->synced_write);
	gauge(b, "chaind_store_bytes", "Bytes of the data directory on disk.",
	      (double)now->store_bytes);
	if (now->disk_free_bytes >= 0)
		gauge(b, "chaind_disk_free_bytes",
		      "Bytes free for the node on the file system of the data directory.",
		      (double)now->disk_free_bytes);
	rpc_counts(b, m);
	hist(b, "chaind_rpc_request_seconds", "From an HTTP request's arrival to its answer.",
	     &m->rpc_seconds);
	process(b, now->started_wall_ms);
}

uint64_t
node_dir_bytes(const char *dir)
{
	uint64_t total = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return 0;
	int dfd = dirfd(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			total += (uint64_t)st.st_blocks * 512;
		} else if (S_ISDIR(st.st_mode)) {
			char sub[4096];
			if (snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) < (int)sizeof(sub))
				total += node_dir_bytes(sub);
		}
	}
	closedir(d);
	return total;
}
