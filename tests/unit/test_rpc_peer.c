/*
 * The validator transport (rpc/peer.c) on loopback TCP: delivery, the
 * per-connection message rate, the inbound connection limit, and a
 * bounded stop. Ports are random in 20000-31000 (below the kernel's
 * ephemeral range), retried while in use.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>

#include "rpc/peer.h"
#include "test.h"

struct inbox {
	pthread_mutex_t mu;
	unsigned count;
};

static void
on_msg(void *arg, uint8_t *msg, size_t len)
{
	struct inbox *in = arg;
	(void)len;
	free(msg);
	pthread_mutex_lock(&in->mu);
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

/* pair starts validators 0 and 1, each dialing the other; 1 gets limits lim1. */
static bool
pair(struct rpc_peer_net *net[2], struct inbox in[2], const struct rpc_peer_limits *lim1,
     char urls[2][64])
{
	for (int tries = 0; tries < 20; tries++) {
		int port = 20000 + rand() % 11000;
		snprintf(urls[0], 64, "tcp://127.0.0.1:%d", port);
		snprintf(urls[1], 64, "tcp://127.0.0.1:%d", port + 1);
		const char *u[2] = {urls[0], urls[1]};
		struct ch_err err;
		if (rpc_peer_start(&net[0], urls[0], u, 2, 0, &roomy, on_msg, &in[0], &err) != 0)
			continue;
		if (rpc_peer_start(&net[1], urls[1], u, 2, 1, lim1, on_msg, &in[1], &err) != 0) {
			rpc_peer_stop(net[0], 0);
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
test_delivery(void)
{
	struct rpc_peer_net *net[2];
	struct inbox in[2] = {{PTHREAD_MUTEX_INITIALIZER, 0}, {PTHREAD_MUTEX_INITIALIZER, 0}};
	char urls[2][64];
	REQUIRE(pair(net, in, &roomy, urls));
	REQUIRE(wait_connected(net[0], 1));
	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(rpc_peer_send(net[0], 1, "hello", 5), 0);
	for (int i = 0; i < 500 && count(&in[1]) < 10; i++)
		usleep(10000);
	CHECK_EQ_INT(count(&in[1]), 10);
	CHECK_EQ_INT(rpc_peer_send(net[0], 0, "self", 4), CH_E_INVALID);
	CHECK_EQ_INT(rpc_peer_send(net[0], 1, "x", (1 << 20) + 1), CH_E_TOO_LARGE);
	struct rpc_peer_in_stats st;
	rpc_peer_in_stats(net[1], &st);
	CHECK_EQ_INT(st.received, 10);
	CHECK_EQ_INT(st.rate_limited, 0);
	CHECK_EQ_INT(st.connections, 1);
	CHECK(rpc_peer_stop(net[0], 5000));
	CHECK(rpc_peer_stop(net[1], 5000));
}

static void
test_rate(void)
{
	struct rpc_peer_net *net[2];
	struct inbox in[2] = {{PTHREAD_MUTEX_INITIALIZER, 0}, {PTHREAD_MUTEX_INITIALIZER, 0}};
	char urls[2][64];
	struct rpc_peer_limits lim = roomy;
	lim.msgs_per_s = 50; /* a burst of 100 */
	REQUIRE(pair(net, in, &lim, urls));
	REQUIRE(wait_connected(net[0], 1));
	double t0 = now_s();
	int queued = 0;
	for (int i = 0; i < 1000; i++)
		queued += rpc_peer_send(net[0], 1, "flood", 5) == 0;
	struct rpc_peer_in_stats st;
	for (int i = 0; i < 1000; i++) {
		rpc_peer_in_stats(net[1], &st);
		if (st.received + st.rate_limited >= (uint64_t)queued)
			break;
		usleep(10000);
	}
	double secs = now_s() - t0;
	CHECK_EQ_INT(st.received + st.rate_limited, queued);
	CHECK(st.received >= 100);
	CHECK((double)st.received <= 100 + 50 * secs + 2);
	CHECK(st.rate_limited > 0);
	CHECK_EQ_INT(count(&in[1]), st.received);
	/* the bucket refills: after a second, messages pass again */
	usleep(1100 * 1000);
	unsigned before = count(&in[1]);
	CHECK_EQ_INT(rpc_peer_send(net[0], 1, "later", 5), 0);
	for (int i = 0; i < 500 && count(&in[1]) == before; i++)
		usleep(10000);
	CHECK_EQ_INT(count(&in[1]), before + 1);
	CHECK(rpc_peer_stop(net[0], 5000));
	CHECK(rpc_peer_stop(net[1], 5000));
}

static void
test_connection_limit(void)
{
	struct rpc_peer_net *net[2];
	struct inbox in[2] = {{PTHREAD_MUTEX_INITIALIZER, 0}, {PTHREAD_MUTEX_INITIALIZER, 0}};
	char urls[2][64];
	struct rpc_peer_limits lim = roomy;
	lim.max_conns = 1; /* validator 0's */
	REQUIRE(pair(net, in, &lim, urls));
	REQUIRE(wait_connected(net[0], 1));
	nng_socket extra[3];
	for (int i = 0; i < 3; i++) {
		REQUIRE(nng_push0_open(&extra[i]) == 0);
		CHECK_EQ_INT(nng_dial(extra[i], urls[1], NULL, NNG_FLAG_NONBLOCK), 0);
	}
	struct rpc_peer_in_stats st;
	for (int i = 0; i < 500; i++) {
		rpc_peer_in_stats(net[1], &st);
		if (st.refused_connections >= 3)
			break;
		usleep(10000);
	}
	CHECK(st.refused_connections >= 3);
	CHECK_EQ_INT(st.connections, 1);
	/* validator 0's connection still carries its messages */
	CHECK_EQ_INT(rpc_peer_send(net[0], 1, "still", 5), 0);
	for (int i = 0; i < 500 && count(&in[1]) < 1; i++)
		usleep(10000);
	CHECK_EQ_INT(count(&in[1]), 1);
	for (int i = 0; i < 3; i++)
		nng_close(extra[i]);
	CHECK(rpc_peer_stop(net[0], 5000));
	CHECK(rpc_peer_stop(net[1], 5000));
}

int
main(void)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	RUN(test_delivery);
	RUN(test_rate);
	RUN(test_connection_limit);
	return TEST_DONE();
}
