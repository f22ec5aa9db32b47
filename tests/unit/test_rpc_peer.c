/*
 * The validator transport (rpc/peer.c) on loopback TCP: delivery both ways
 * and in order, queueing while a peer is down, the queue bounds, the
 * per-connection message rate, the inbound connection limit, the hello and
 * frame checks seen from raw TCP clients, peers added, moved and removed
 * at runtime (rpc_peer_set, also under TLS), a node without an index of its
 * own, and 200 start/stop cycles under a flood, each stop within 1 s. Ports
 * are random in 20000-31000 (below the kernel's ephemeral range), retried
 * while in use.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/cert.h"
#include "rpc/peer.h"
#include "test.h"
#include "testchain.h"

struct inbox {
	pthread_mutex_t mu;
	unsigned count;
	unsigned next;      /* the sequence number expected next */
	unsigned disorder;  /* messages out of order or damaged */
	unsigned damaged;   /* messages whose bytes are wrong, whatever their order */
};

#define INBOX_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0}

/* a message: "seq=N;" then bytes (uint8_t)(N + i) up to its length */
static size_t
make_msg(uint8_t *buf, size_t len, unsigned seq)
{
	int n = snprintf((char *)buf, len, "seq=%u;", seq);
	for (size_t i = (size_t)n; i < len; i++)
		buf[i] = (uint8_t)(seq + i);
	return len;
}

static void
on_msg(void *arg, uint8_t *msg, size_t len)
{
	struct inbox *in = arg;
	unsigned seq = 0;
	bool ok = len >= 6 && sscanf((const char *)msg, "seq=%u;", &seq) == 1;
	for (size_t i = 0; ok && i < len; i++)
		if (msg[i] == ';') {
			for (size_t k = i + 1; k < len; k++)
				ok = ok && msg[k] == (uint8_t)(seq + k);
			break;
		}
	free(msg);
	pthread_mutex_lock(&in->mu);
	if (!ok || seq != in->next)
		in->disorder++;
	if (!ok)
		in->damaged++;
	in->next = seq + 1;
	in->count++;
	pthread_mutex_unlock(&in->mu);
}

static unsigned
count(struct inbox *in)
{
	pthread_mutex_lock(&in->mu);
	unsigned c = in->count;
	pthread_mutex_unlock(&in->mu);
	return c;
}

/* wait_count waits (at most ms) until in has received n messages. */
static bool
wait_count(struct inbox *in, unsigned n, int ms)
{
	for (int i = 0; i < ms / 5 && count(in) < n; i++)
		usleep(5000);
	return count(in) >= n;
}

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const struct rpc_peer_limits roomy = {
	.max_msg_bytes = 1 << 20,
	.queue_len = 4096,
	.max_conns = 8,
	.msgs_per_s = 100000,
	.bytes_per_s = 1ull << 30,
};

static void
pick_urls(char urls[2][64], int *port)
{
	*port = 20000 + rand() % 11000;
	snprintf(urls[0], 64, "tcp://127.0.0.1:%d", *port);
	snprintf(urls[1], 64, "tcp://127.0.0.1:%d", *port + 1);
}

/* start starts validator i of a pair on urls[i]. */
static bool
start(struct rpc_peer_net **net, char urls[2][64], size_t i, const struct rpc_peer_limits *lim,
      struct inbox *in)
{
	const char *u[2] = {urls[0], urls[1]};
	struct ch_err err;
	return rpc_peer_start(net, urls[i], u, 2, i, lim, NULL, on_msg, in, &err) == 0;
}

/* pair starts validators 0 and 1, each dialing the other; 1 gets limits lim1. */
static bool
pair(struct rpc_peer_net *net[2], struct inbox in[2], const struct rpc_peer_limits *lim1,
     char urls[2][64])
{
	for (int tries = 0; tries < 20; tries++) {
		int port;
		pick_urls(urls, &port);
		if (!start(&net[0], urls, 0, &roomy, &in[0]))
			continue;
		if (!start(&net[1], urls, 1, lim1, &in[1])) {
			rpc_peer_stop(net[0]);
			continue;
		}
		return true;
	}
	return false;
}

/* wait_connected waits (at most 5 s) until net is connected to peer. */
static bool
wait_connected(struct rpc_peer_net *net, size_t peer)
{
	for (int i = 0; i < 500; i++) {
		struct rpc_peer_stats st;
		rpc_peer_stats(net, peer, &st);
		if (st.connected)
			return true;
		usleep(10000);
	}
	return false;
}

static void
send_seq(struct rpc_peer_net *net, size_t to, unsigned from, unsigned n, size_t len)
{
	uint8_t buf[256];
	for (unsigned s = from; s < from + n; s++)
		CHECK_EQ_INT(rpc_peer_send(net, to, buf, make_msg(buf, len, s)), 0);
}

static void
test_delivery(void)
{
	struct rpc_peer_net *net[2];
	struct inbox in[2] = {INBOX_INIT, INBOX_INIT};
	char urls[2][64];
	REQUIRE(pair(net, in, &roomy, urls));
	REQUIRE(wait_connected(net[0], 1));
	REQUIRE(wait_connected(net[1], 0));
	send_seq(net[0], 1, 0, 100, 40);
	send_seq(net[1], 0, 0, 100, 60);
	CHECK(wait_count(&in[1], 100, 5000));
	CHECK(wait_count(&in[0], 100, 5000));
	CHECK_EQ_INT(in[0].disorder + in[1].disorder, 0);
	CHECK_EQ_INT(rpc_peer_send(net[0], 0, "self", 4), CH_E_INVALID);
	CHECK_EQ_INT(rpc_peer_send(net[0], 2, "none", 4), CH_E_INVALID);
	CHECK_EQ_INT(rpc_peer_send(net[0], 1, "", 0), CH_E_INVALID);
	CHECK_EQ_INT(rpc_peer_send(net[0], 1, "x", (1 << 20) + 1), CH_E_TOO_LARGE);
	struct rpc_peer_in_stats st;
	rpc_peer_in_stats(net[1], &st);
	CHECK_EQ_INT(st.received, 100);
	CHECK_EQ_INT(st.rate_limited, 0);
	CHECK_EQ_INT(st.oversized, 0);
	CHECK_EQ_INT(st.connections, 1);
	struct rpc_peer_stats ps;
	rpc_peer_stats(net[0], 1, &ps);
	CHECK_EQ_INT(ps.sent, 100);
	CHECK_EQ_INT(ps.oversized, 1);
	CHECK_EQ_INT(ps.queued, 0);
	rpc_peer_stop(net[0]);
	rpc_peer_stop(net[1]);
}

/* Many messages of many sizes on one connection, up to 200 KB: in order, intact. */
static void
test_order(void)
{
	struct rpc_peer_net *net[2];
	struct inbox in[2] = {INBOX_INIT, INBOX_INIT};
	char urls[2][64];
	REQUIRE(pair(net, in, &roomy, urls));
	REQUIRE(wait_connected(net[0], 1));
	size_t cap = 200000;
	uint8_t *buf = malloc(cap);
	REQUIRE(buf != NULL);
	unsigned n = 0, bytes = 0;
	for (unsigned s = 0; s < 3000; s++) {
		size_t len = s % 100 == 0 ? cap - s : 16 + (size_t)rand() % 3000;
		int rc;
		while ((rc = rpc_peer_send(net[0], 1, buf, make_msg(buf, len, s))) ==
		       CH_E_UNAVAILABLE)
			usleep(1000); /* the queue is full: wait for it to drain */
		CHECK_EQ_INT(rc, 0);
		n++;
		bytes += (unsigned)len;
	}
	free(buf);
	CHECK(wait_count(&in[1], n, 20000));
	CHECK_EQ_INT(count(&in[1]), n);
	CHECK_EQ_INT(in[1].disorder, 0);
	printf("     %u messages, %u bytes in order\n", n, bytes);
	rpc_peer_stop(net[0]);
	rpc_peer_stop(net[1]);
}

/* Messages for a peer that is down wait in its queue and go out once it is up, also after a restart. */
static void
test_queue_while_down(void)
{
	struct rpc_peer_net *net[2] = {NULL, NULL};
	struct inbox in[2] = {INBOX_INIT, INBOX_INIT};
	char urls[2][64];
	bool up = false;
	for (int tries = 0; tries < 20 && !up; tries++) {
		int port;
		pick_urls(urls, &port);
		if (!start(&net[0], urls, 0, &roomy, &in[0]))
			continue;
		send_seq(net[0], 1, 0, 10, 100);
		struct rpc_peer_stats st;
		rpc_peer_stats(net[0], 1, &st);
		CHECK(!st.connected);
		CHECK_EQ_INT(st.queued, 10);
		usleep(300 * 1000); /* a few failed dials */
		up = start(&net[1], urls, 1, &roomy, &in[1]);
		if (!up)
			rpc_peer_stop(net[0]);
	}
	REQUIRE(up);
	CHECK(wait_count(&in[1], 10, 5000));
	CHECK_EQ_INT(in[1].disorder, 0);
	/* validator 1 restarts: validator 0 notices, queues, redials */
	rpc_peer_stop(net[1]);
	struct rpc_peer_stats st;
	for (int i = 0; i < 200; i++) {
		rpc_peer_stats(net[0], 1, &st);
		if (!st.connected)
			break;
		usleep(10000);
	}
	CHECK(!st.connected);
	send_seq(net[0], 1, 10, 5, 100);
	in[1].count = 0;
	REQUIRE(start(&net[1], urls, 1, &roomy, &in[1]));
	CHECK(wait_count(&in[1], 5, 5000));
	CHECK_EQ_INT(in[1].disorder, 0);
	rpc_peer_stats(net[0], 1, &st);
	CHECK_EQ_INT(st.queued, 0);
	rpc_peer_stop(net[0]);
	rpc_peer_stop(net[1]);
}

/* The queue to a peer is bounded by count and by bytes; what does not fit is refused and counted. */
static void
test_queue_bounds(void)
{
	char urls[2][64];
	int port;
	pick_urls(urls, &port); /* nobody listens on urls[1] */
	struct rpc_peer_limits lim = roomy;
	lim.queue_bytes = 10000;
	struct rpc_peer_net *net;
	struct inbox in = INBOX_INIT;
	const char *u[2] = {urls[0], urls[1]};
	struct ch_err err;
	REQUIRE(rpc_peer_start(&net, NULL, u, 2, 0, &lim, NULL, on_msg, &in, &err) == 0);
	uint8_t buf[1000] = {0};
	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(rpc_peer_send(net, 1, buf, sizeof(buf)), 0);
	CHECK_EQ_INT(rpc_peer_send(net, 1, buf, sizeof(buf)), CH_E_UNAVAILABLE);
	CHECK_EQ_INT(rpc_peer_send(net, 1, buf, 1), CH_E_UNAVAILABLE);
	struct rpc_peer_stats st;
	rpc_peer_stats(net, 1, &st);
	CHECK_EQ_INT(st.sent, 10);
	CHECK_EQ_INT(st.dropped, 2);
	CHECK_EQ_INT(st.queued, 10);
	rpc_peer_stop(net);

	lim = roomy;
	lim.queue_len = 5;
	REQUIRE(rpc_peer_start(&net, NULL, u, 2, 0, &lim, NULL, on_msg, &in, &err) == 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_INT(rpc_peer_send(net, 1, buf, 10), 0);
	CHECK_EQ_INT(rpc_peer_send(net, 1, buf, 10), CH_E_UNAVAILABLE);
	rpc_peer_stop(net);
}

static void
test_rate(void)
{
	struct rpc_peer_net *net[2];
	struct inbox in[2] = {INBOX_INIT, INBOX_INIT};
	char urls[2][64];
	struct rpc_peer_limits lim = roomy;
	lim.msgs_per_s = 50; /* a burst of 100 */
	REQUIRE(pair(net, in, &lim, urls));
	REQUIRE(wait_connected(net[0], 1));
	double t0 = now_s();
	int queued = 0;
	uint8_t buf[64];
	for (unsigned i = 0; i < 1000; i++)
		queued += rpc_peer_send(net[0], 1, buf, make_msg(buf, 20, i)) == 0;
	struct rpc_peer_in_stats st;
	for (int i = 0; i < 1000; i++) {
		rpc_peer_in_stats(net[1], &st);
		if (st.received + st.rate_limited >= (uint64_t)queued)
			break;
		usleep(10000);
	}
	double secs = now_s() - t0;
	CHECK_EQ_INT(queued, 1000);
	CHECK_EQ_INT(st.received + st.rate_limited, queued);
	CHECK(st.received >= 100);
	CHECK((double)st.received <= 100 + 50 * secs + 2);
	CHECK(st.rate_limited > 0);
	CHECK_EQ_INT(count(&in[1]), st.received);
	/* the bucket refills: after a second, messages pass again */
	usleep(1100 * 1000);
	unsigned before = count(&in[1]);
	CHECK_EQ_INT(rpc_peer_send(net[0], 1, buf, make_msg(buf, 20, 5000)), 0);
	CHECK(wait_count(&in[1], before + 1, 5000));
	CHECK_EQ_INT(count(&in[1]), before + 1);
	rpc_peer_stop(net[0]);
	rpc_peer_stop(net[1]);
}

static const uint8_t hello[8] = {'c', 'h', 'p', '2', 0, 1, 0, 0};

/* raw_connect opens a plain TCP connection to 127.0.0.1:port (-1 on error). */
static int
raw_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static bool
raw_send(int fd, const void *b, size_t n)
{
	return send(fd, b, n, MSG_NOSIGNAL) == (ssize_t)n;
}

/*
 * raw_wait_closed reads what the other side sends until it closes the
 * connection (true) or ms pass (false); the first 8 bytes go to got.
 */
static bool
raw_wait_closed(int fd, int ms, uint8_t got[8], size_t *ngot)
{
	double end = now_s() + ms / 1000.0;
	size_t n = 0;
	for (;;) {
		int left = (int)((end - now_s()) * 1000);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			break;
		uint8_t b[256];
		ssize_t r = recv(fd, b, sizeof(b), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			if (ngot != NULL)
				*ngot = n;
			return true;
		}
		for (ssize_t i = 0; i < r && got != NULL && n < 8; i++)
			got[n++] = b[i];
	}
	if (ngot != NULL)
		*ngot = n;
	return false;
}

/* listen_only starts a validator that only listens (one peer: itself); returns its port. */
static int
listen_only(struct rpc_peer_net **net, struct inbox *in, const struct rpc_peer_limits *lim)
{
	for (int tries = 0; tries < 20; tries++) {
		int port = 20000 + rand() % 11000;
		char url[64];
		snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
		const char *u[1] = {url};
		struct ch_err err;
		if (rpc_peer_start(net, url, u, 1, 0, lim, NULL, on_msg, in, &err) == 0)
			return port;
	}
	return -1;
}

static void
test_connection_limit(void)
{
	struct rpc_peer_net *net[2];
	struct inbox in[2] = {INBOX_INIT, INBOX_INIT};
	char urls[2][64];
	struct rpc_peer_limits lim = roomy;
	lim.max_conns = 1; /* validator 0's */
	REQUIRE(pair(net, in, &lim, urls));
	REQUIRE(wait_connected(net[0], 1));
	int port = atoi(strrchr(urls[1], ':') + 1);
	int extra[3];
	for (int i = 0; i < 3; i++) {
		extra[i] = raw_connect(port);
		CHECK(extra[i] >= 0 && raw_send(extra[i], hello, sizeof(hello)));
	}
	for (int i = 0; i < 3; i++) {
		size_t n = 1;
		CHECK(raw_wait_closed(extra[i], 2000, NULL, &n));
		CHECK_EQ_INT(n, 0); /* closed at accept, before any hello */
		close(extra[i]);
	}
	struct rpc_peer_in_stats st;
	rpc_peer_in_stats(net[1], &st);
	CHECK_EQ_INT(st.refused_connections, 3);
	CHECK_EQ_INT(st.connections, 1);
	/* validator 0's connection still carries its messages */
	send_seq(net[0], 1, 0, 1, 20);
	CHECK(wait_count(&in[1], 1, 5000));
	rpc_peer_stop(net[0]);
	rpc_peer_stop(net[1]);
}

/* Raw clients: the listener's hello, a wrong hello, none, a frame out of range, a good frame. */
static void
test_hello(void)
{
	struct rpc_peer_net *net;
	struct inbox in = INBOX_INIT;
	int port = listen_only(&net, &in, &roomy);
	REQUIRE(port > 0);
	uint8_t got[8];
	size_t n;

	int fd = raw_connect(port); /* a wrong version */
	static const uint8_t v2[8] = {'c', 'h', 'p', '2', 0, 2, 0, 0};
	CHECK(fd >= 0 && raw_send(fd, v2, sizeof(v2)));
	CHECK(raw_wait_closed(fd, 1000, got, &n));
	CHECK_EQ_INT(n, 8);
	CHECK(memcmp(got, hello, 8) == 0);
	close(fd);

	fd = raw_connect(port); /* an SP header, as nng's PUSH sends */
	static const uint8_t sp[8] = {0, 'S', 'P', 0, 0, 0x50, 0, 0};
	CHECK(fd >= 0 && raw_send(fd, sp, sizeof(sp)));
	CHECK(raw_wait_closed(fd, 1000, NULL, NULL));
	close(fd);

	fd = raw_connect(port); /* a hello, then a frame of max_msg_bytes + 1 */
	uint8_t big[12];
	memcpy(big, hello, 8);
	uint32_t len = (1u << 20) + 1;
	big[8] = (uint8_t)(len >> 24), big[9] = (uint8_t)(len >> 16);
	big[10] = (uint8_t)(len >> 8), big[11] = (uint8_t)len;
	CHECK(fd >= 0 && raw_send(fd, big, sizeof(big)));
	CHECK(raw_wait_closed(fd, 1000, NULL, NULL));
	close(fd);

	fd = raw_connect(port); /* a hello, then a frame of 0 bytes */
	memset(big + 8, 0, 4);
	CHECK(fd >= 0 && raw_send(fd, big, sizeof(big)));
	CHECK(raw_wait_closed(fd, 1000, NULL, NULL));
	close(fd);

	fd = raw_connect(port); /* a hello, a good frame, then another held open */
	uint8_t frame[4 + 30];
	frame[0] = frame[1] = frame[2] = 0, frame[3] = 30;
	make_msg(frame + 4, 30, 0);
	CHECK(fd >= 0 && raw_send(fd, hello, 8) && raw_send(fd, frame, sizeof(frame)));
	CHECK(wait_count(&in, 1, 2000));
	CHECK_EQ_INT(in.disorder, 0);
	CHECK(!raw_wait_closed(fd, 300, NULL, NULL));
	close(fd);

	double t0 = now_s();
	fd = raw_connect(port); /* nothing at all: closed after 5 s */
	CHECK(fd >= 0);
	CHECK(raw_wait_closed(fd, 8000, NULL, NULL));
	double secs = now_s() - t0;
	printf("     a silent connection was closed after %.2f s\n", secs);
	CHECK(secs > 4.5 && secs < 7.0);
	close(fd);

	struct rpc_peer_in_stats st;
	rpc_peer_in_stats(net, &st);
	CHECK_EQ_INT(st.oversized, 2);
	CHECK_EQ_INT(st.received, 1);
	CHECK_EQ_INT(st.refused_connections, 0);
	rpc_peer_stop(net);
}

/* A thread that keeps one validator's queue to the other full until told to stop. */
struct flood {
	struct rpc_peer_net *net;
	size_t to;
	atomic_bool stop;
	unsigned sent;
	pthread_t t;
};

static void *
flood_run(void *arg)
{
	struct flood *f = arg;
	uint8_t buf[600];
	unsigned seq = 0;
	while (!atomic_load(&f->stop)) {
		size_t len = 16 + seq % 500;
		if (rpc_peer_send(f->net, f->to, buf, make_msg(buf, len, seq)) == 0) {
			seq++;
		} else {
			usleep(200); /* queue full */
		}
	}
	f->sent = seq;
	return NULL;
}

static double
timed_stop(struct rpc_peer_net *net)
{
	double t0 = now_s();
	rpc_peer_stop(net);
	return now_s() - t0;
}

/* 200 start/stop cycles of a pair flooding each other: every stop within 1 s. */
static void
test_stop_under_flood(void)
{
	double slowest = 0, total = 0;
	unsigned cycles = 200, delivered = 0, slow = 0;
	for (unsigned c = 0; c < cycles; c++) {
		struct rpc_peer_net *net[2];
		struct inbox in[2] = {INBOX_INIT, INBOX_INIT};
		char urls[2][64];
		REQUIRE(pair(net, in, &roomy, urls));
		struct flood f[2] = {{.net = net[0], .to = 1}, {.net = net[1], .to = 0}};
		for (int i = 0; i < 2; i++)
			REQUIRE(pthread_create(&f[i].t, NULL, flood_run, &f[i]) == 0);
		if (c % 2 == 0) /* every other cycle: stop while the connections are still coming up */
			(void)wait_count(&in[0], 1, 1000);
		usleep((useconds_t)(5000 + rand() % 20000));
		/* validator 0 stops with its queue full and validator 1 still flooding it */
		atomic_store(&f[0].stop, true);
		pthread_join(f[0].t, NULL);
		double s0 = timed_stop(net[0]);
		atomic_store(&f[1].stop, true);
		pthread_join(f[1].t, NULL);
		double s1 = timed_stop(net[1]);
		delivered += count(&in[0]) + count(&in[1]);
		CHECK_EQ_INT(in[0].disorder + in[1].disorder, 0);
		for (int i = 0; i < 2; i++) {
			double s = i ? s1 : s0;
			total += s;
			slow += s > 1.0;
			if (s > slowest)
				slowest = s;
		}
	}
	printf("     %u stops, %u messages delivered; slowest stop %.1f ms, mean %.2f ms, %u over 1 s\n",
	       2 * cycles, delivered, slowest * 1000, total * 1000 / (2 * cycles), slow);
	CHECK_EQ_INT(slow, 0);
	CHECK(delivered > cycles);
}

/* ---- addresses given, changed and cleared at runtime (rpc_peer_set) ---- */

/* start_at starts a transport on listen (NULL: dial only) with the n addresses u, as index self. */
static bool
start_at(struct rpc_peer_net **net, const char *listen, const char *const *u, size_t n,
	 size_t self, const struct rpc_peer_tls *tls, struct inbox *in)
{
	struct ch_err err;
	return rpc_peer_start(net, listen, u, n, self, &roomy, tls, on_msg, in, &err) == 0;
}

/* wait_in_conns waits (at most 5 s) until net has n inbound connections open. */
static bool
wait_in_conns(struct rpc_peer_net *net, uint32_t n)
{
	struct rpc_peer_in_stats st;
	for (int i = 0; i < 500; i++) {
		rpc_peer_in_stats(net, &st);
		if (st.connections == n)
			return true;
		usleep(10000);
	}
	return false;
}

/* quad_urls writes four loopback addresses on consecutive ports from a random one. */
static void
quad_urls(char u[4][64])
{
	int port = 20000 + rand() % 11000;
	for (int i = 0; i < 4; i++)
		snprintf(u[i], 64, "tcp://127.0.0.1:%d", port + i);
}

/*
 * trio starts a (validator 0, on u[0], no address for 1), b (validator 1,
 * on u[1], dialing a) and c (also index 1, on u[2], dialing a); nobody
 * listens on u[3].
 */
static bool
trio(struct rpc_peer_net **a, struct rpc_peer_net **b, struct rpc_peer_net **c,
     struct inbox *in_a, struct inbox *in_b, struct inbox *in_c, char u[4][64])
{
	for (int tries = 0; tries < 20; tries++) {
		quad_urls(u);
		const char *ua[2] = {u[0], NULL}, *ub[2] = {u[0], u[1]}, *uc[2] = {u[0], ""};
		if (!start_at(a, u[0], ua, 2, 0, NULL, in_a))
			continue;
		if (!start_at(b, u[1], ub, 2, 1, NULL, in_b)) {
			rpc_peer_stop(*a);
			continue;
		}
		if (start_at(c, u[2], uc, 2, 1, NULL, in_c))
			return true;
		rpc_peer_stop(*a);
		rpc_peer_stop(*b);
	}
	return false;
}

/*
 * Validator 0 (a) starts with no address for 1. rpc_peer_set adds 1 (b),
 * moves it to c (b's connection closes, counters stay), clears it (sends
 * are refused again, c's connection closes), drops what was queued for an
 * address that was cleared, and gives an index beyond the start's one.
 */
static void
test_set_addresses(void)
{
	struct rpc_peer_net *a = NULL, *b = NULL, *c = NULL;
	struct inbox in_a = INBOX_INIT, in_b = INBOX_INIT, in_c = INBOX_INIT;
	char u[4][64];
	REQUIRE(trio(&a, &b, &c, &in_a, &in_b, &in_c, u));
	struct ch_err err;
	struct rpc_peer_stats st;
	uint8_t buf[64];

	/* no address for 1: refused, nothing queued or counted */
	CHECK_EQ_INT(rpc_peer_send(a, 1, buf, make_msg(buf, 40, 0)), CH_E_UNAVAILABLE);
	CHECK_EQ_INT(rpc_peer_send(a, 2, buf, 40), CH_E_INVALID); /* an index a does not know */
	rpc_peer_broadcast(a, buf, 40);                           /* to nobody */
	rpc_peer_stats(a, 1, &st);
	CHECK(!st.connected && st.sent == 0 && st.dropped == 0 && st.queued == 0);
	CHECK_EQ_INT(rpc_peer_set(a, 0, u[1], &err), CH_E_INVALID); /* itself */
	CHECK_EQ_INT(rpc_peer_set(a, RPC_PEER_MAX, u[1], &err), CH_E_INVALID);
	CHECK_EQ_INT(rpc_peer_set(a, 1, "udp://127.0.0.1:1", &err), CH_E_CONFIG);
	CHECK_EQ_INT(rpc_peer_send(a, 1, buf, 40), CH_E_UNAVAILABLE); /* still none */

	/* added: messages arrive; the same address again keeps the connection */
	double t0 = now_s();
	CHECK_EQ_INT(rpc_peer_set(a, 1, u[1], &err), 0);
	send_seq(a, 1, 0, 5, 40);
	CHECK(wait_count(&in_b, 5, 5000));
	printf("     the first messages to an added peer arrived after %.1f ms\n",
	       (now_s() - t0) * 1000);
	REQUIRE(wait_connected(a, 1));
	CHECK_EQ_INT(rpc_peer_set(a, 1, u[1], &err), 0);
	rpc_peer_stats(a, 1, &st);
	CHECK(st.connected);
	CHECK_EQ_INT(st.sent, 5);
	rpc_peer_broadcast(a, buf, make_msg(buf, 40, 5));
	CHECK(wait_count(&in_b, 6, 5000));
	CHECK(wait_in_conns(b, 1));

	/* moved to c: b's connection closes, the next messages go to c, the counters stay */
	CHECK_EQ_INT(rpc_peer_set(a, 1, u[2], &err), 0);
	CHECK(wait_in_conns(b, 0));
	send_seq(a, 1, 0, 3, 40);
	CHECK(wait_count(&in_c, 3, 5000));
	CHECK(wait_in_conns(c, 1));
	rpc_peer_stats(a, 1, &st);
	CHECK_EQ_INT(st.sent, 9);

	/* cleared: refused again, reads as zeros, the connection closes */
	CHECK_EQ_INT(rpc_peer_set(a, 1, NULL, &err), 0);
	CHECK_EQ_INT(rpc_peer_send(a, 1, buf, make_msg(buf, 40, 3)), CH_E_UNAVAILABLE);
	rpc_peer_stats(a, 1, &st);
	CHECK(!st.connected && st.sent == 0 && st.queued == 0);
	CHECK(wait_in_conns(c, 0));

	/* what waits for an address that is then cleared is dropped, not sent to the next */
	CHECK_EQ_INT(rpc_peer_set(a, 1, u[3], &err), 0); /* nobody listens there */
	send_seq(a, 1, 100, 3, 40);
	rpc_peer_stats(a, 1, &st);
	CHECK_EQ_INT(st.queued, 3);
	CHECK_EQ_INT(rpc_peer_set(a, 1, "", &err), 0);
	CHECK_EQ_INT(rpc_peer_set(a, 1, u[2], &err), 0);
	send_seq(a, 1, 3, 1, 40);
	CHECK(wait_count(&in_c, 4, 5000));
	usleep(200 * 1000);
	CHECK_EQ_INT(count(&in_c), 4); /* seq 100.. would also count as disorder */

	/* an index beyond the start's two: known from now on */
	CHECK_EQ_INT(rpc_peer_set(a, 5, u[1], &err), 0);
	send_seq(a, 5, 6, 1, 40);
	CHECK(wait_count(&in_b, 7, 5000));
	CHECK_EQ_INT(rpc_peer_send(a, 4, buf, 40), CH_E_UNAVAILABLE);
	CHECK_EQ_INT(rpc_peer_send(a, 6, buf, 40), CH_E_INVALID);
	CHECK_EQ_INT(in_a.disorder + in_b.disorder + in_c.disorder, 0);
	rpc_peer_stop(a);
	rpc_peer_stop(b);
	rpc_peer_stop(c);
}

/* A node without an index of its own (self SIZE_MAX) dials every index it has an address for. */
static void
test_no_self(void)
{
	struct rpc_peer_net *net[2], *d = NULL;
	struct inbox in[2] = {INBOX_INIT, INBOX_INIT}, in_d = INBOX_INIT;
	char urls[2][64];
	REQUIRE(pair(net, in, &roomy, urls));
	const char *u[2] = {urls[0], NULL};
	REQUIRE(start_at(&d, NULL, u, 2, SIZE_MAX, NULL, &in_d));
	send_seq(d, 0, 0, 3, 30);
	CHECK(wait_count(&in[0], 3, 5000));
	uint8_t buf[64];
	struct ch_err err;
	CHECK_EQ_INT(rpc_peer_send(d, 1, buf, 30), CH_E_UNAVAILABLE);
	CHECK_EQ_INT(rpc_peer_set(d, 1, urls[1], &err), 0);
	send_seq(d, 1, 0, 3, 30);
	CHECK(wait_count(&in[1], 3, 5000));
	rpc_peer_broadcast(d, buf, make_msg(buf, 30, 3)); /* both: neither is self */
	CHECK(wait_count(&in[0], 4, 5000));
	CHECK(wait_count(&in[1], 4, 5000));
	CHECK_EQ_INT(in[0].disorder + in[1].disorder, 0);
	struct rpc_peer_net *bad = NULL;
	CHECK_EQ_INT(rpc_peer_start(&bad, NULL, u, 2, RPC_PEER_MAX, &roomy, NULL, on_msg, &in_d,
				    &err),
		     CH_E_CONFIG); /* an index of its own, out of range */
	rpc_peer_stop(d);
	rpc_peer_stop(net[0]);
	rpc_peer_stop(net[1]);
}

/*
 * With mutual TLS, an index whose anchor rpc_peer_start had can get its
 * address later (and its link is TLS); one beyond the anchors cannot.
 */
static void
test_set_tls(void)
{
	struct ch_err err;
	char *anchor[2] = {NULL, NULL}, *cert[2] = {NULL, NULL}, *key[2] = {NULL, NULL};
	for (uint32_t i = 0; i < 2; i++) {
		struct cr_key *k = test_key("validator", i);
		uint8_t pub[CR_PUBKEY_LEN];
		cr_key_pubkey(k, pub);
		CHECK_EQ_INT(cr_cert_anchor(i, pub, &anchor[i], &err), 0);
		CHECK_EQ_INT(cr_cert_peer(i, k, (int64_t)time(NULL), &cert[i], &key[i], &err), 0);
		cr_key_free(k);
	}
	const char *const anchors[2] = {anchor[0], anchor[1]};
	struct rpc_peer_tls tls[2] = {{cert[0], key[0], anchors}, {cert[1], key[1], anchors}};
	struct rpc_peer_net *a = NULL, *b = NULL;
	struct inbox in_a = INBOX_INIT, in_b = INBOX_INIT;
	char u[4][64];
	bool up = false;
	for (int tries = 0; tries < 20 && !up; tries++) {
		quad_urls(u);
		const char *ua[2] = {u[0], NULL}, *ub[2] = {u[0], u[1]};
		if (!start_at(&a, u[0], ua, 2, 0, &tls[0], &in_a))
			continue;
		if (!(up = start_at(&b, u[1], ub, 2, 1, &tls[1], &in_b)))
			rpc_peer_stop(a);
	}
	REQUIRE(up);
	CHECK_EQ_INT(rpc_peer_set(a, 2, u[1], &err), CH_E_UNAVAILABLE); /* no anchor for 2 */
	CHECK(strstr(err.msg, "plaintext") != NULL);
	CHECK_EQ_INT(rpc_peer_set(a, 1, u[1], &err), 0);
	send_seq(a, 1, 0, 3, 40);
	CHECK(wait_count(&in_b, 3, 5000));
	CHECK_EQ_INT(in_b.disorder, 0);
	struct rpc_peer_stats st;
	rpc_peer_stats(a, 1, &st);
	CHECK(st.connected);
	CHECK_EQ_INT(st.tls_failures, 0);
	rpc_peer_stop(a);
	rpc_peer_stop(b);
	for (int i = 0; i < 2; i++) {
		free(anchor[i]);
		free(cert[i]);
		free(key[i]);
	}
}


/* A thread that sends to peer 1, broadcasts and reads 1's counters until told to stop. */
struct churn {
	struct rpc_peer_net *net;
	atomic_bool stop;
	unsigned queued;
	pthread_t t;
};

static void *
churn_run(void *arg)
{
	struct churn *f = arg;
	uint8_t buf[600];
	unsigned seq = 0;
	while (!atomic_load(&f->stop)) {
		size_t len = 16 + seq % 500;
		struct rpc_peer_stats st;
		if (seq % 16 == 0)
			rpc_peer_broadcast(f->net, buf, make_msg(buf, len, seq));
		else if (rpc_peer_send(f->net, 1, buf, make_msg(buf, len, seq)) == 0)
			f->queued++;
		else
			usleep(200); /* no address, or the queue is full */
		rpc_peer_stats(f->net, 1, &st);
		seq++;
	}
	return NULL;
}

/*
 * 300 random changes of peer 1's address (b, c, none, nobody) while another
 * thread floods it: nothing damaged arrives anywhere, and the stop is prompt.
 */
static void
test_set_under_flood(void)
{
	struct rpc_peer_net *a = NULL, *b = NULL, *c = NULL;
	struct inbox in_a = INBOX_INIT, in_b = INBOX_INIT, in_c = INBOX_INIT;
	char u[4][64];
	REQUIRE(trio(&a, &b, &c, &in_a, &in_b, &in_c, u));
	struct churn f = {.net = a};
	REQUIRE(pthread_create(&f.t, NULL, churn_run, &f) == 0);
	const char *addrs[4] = {u[1], u[2], NULL, u[3]};
	struct ch_err err;
	for (int i = 0; i < 300; i++) {
		CHECK_EQ_INT(rpc_peer_set(a, 1, addrs[rand() % 4], &err), 0);
		usleep((useconds_t)(rand() % 3000));
	}
	CHECK_EQ_INT(rpc_peer_set(a, 1, u[1], &err), 0);
	usleep(100 * 1000);
	atomic_store(&f.stop, true);
	pthread_join(f.t, NULL);
	double s = timed_stop(a);
	printf("     %u messages queued, %u and %u delivered; stop %.1f ms\n", f.queued,
	       count(&in_b), count(&in_c), s * 1000);
	CHECK(s < 1.0);
	CHECK(count(&in_b) + count(&in_c) > 0);
	CHECK_EQ_INT(in_b.damaged + in_c.damaged, 0);
	rpc_peer_stop(b);
	rpc_peer_stop(c);
}

int
main(void)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	RUN(test_delivery);
	RUN(test_order);
	RUN(test_queue_while_down);
	RUN(test_queue_bounds);
	RUN(test_rate);
	RUN(test_connection_limit);
	RUN(test_hello);
	RUN(test_set_addresses);
	RUN(test_no_self);
	RUN(test_set_tls);
	RUN(test_set_under_flood);
	RUN(test_stop_under_flood);
	return TEST_DONE();
}
