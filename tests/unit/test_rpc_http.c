/*
 * The JSON-RPC HTTP server and client against each other on 127.0.0.1, on
 * ports chosen here (random in 30000-40000, retried while in use). Requests
 * are answered from another thread, as the node loop does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "rpc/client.h"
#include "rpc/http_server.h"
#include "rpc/jsonrpc.h"
#include "test.h"

/* ECHO answers a POST with its body and a GET with "METHOD path?query"; STREAM streams a GET */
enum mode { ECHO, JSONRPC, FAIL500, STREAM };

struct pending {
	struct rpc_http_req *req;
	const char *body;
	size_t len;
	char target[128]; /* a GET's "METHOD path?query" */
	bool get;
	struct pending *next;
};

/* answerer: the callback queues requests, a thread answers them. */
struct answerer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pending *head, *tail;
	int received; /* callbacks so far */
	bool hold;    /* keep requests until hold is cleared */
	bool wait_close; /* STREAM: a stream ends only once its client is gone (or after 5 s) */
	bool quit;
	enum mode mode;
	pthread_t thr;
	int written, closed; /* stream reports */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
on_req(void *arg, struct rpc_http_req *req, const struct rpc_http_in *in)
{
	struct answerer *a = arg;
	struct pending *p = malloc(sizeof(*p));
	if (p == NULL) {
		rpc_http_reply(req, 500, "text/plain", "oom", 3);
		return;
	}
	p->req = req;
	p->body = in->body;
	p->len = in->len;
	p->get = strcmp(in->method, "POST") != 0;
	snprintf(p->target, sizeof(p->target), "%s %s%s%s%s%s", in->method, in->path,
		 in->query[0] ? "?" : "", in->query, in->last_event_id ? " id=" : "",
		 in->last_event_id ? in->last_event_id : "");
	p->next = NULL;
	pthread_mutex_lock(&a->mu);
	if (a->tail != NULL)
		a->tail->next = p;
	else
		a->head = p;
	a->tail = p;
	a->received++;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

/* answer_jsonrpc serves "echo" (result = params) and "fail" (-32009). */
static void
answer_jsonrpc(struct pending *p)
{
	struct rpc_request r;
	size_t len = 0;
	if (rpc_request_parse(&r, p->body, p->len) != 0) {
		rpc_http_reply(p->req, 500, NULL, NULL, 0);
		return;
	}
	for (size_t i = 0; i < r.ncalls; i++) {
		struct rpc_call *c = &r.calls[i];
		if (c->error_code != 0)
			rpc_call_error(c, c->error_code, c->error_msg, NULL);
		else if (strcmp(c->method, "echo") == 0)
			rpc_call_result(c, c->params ? cJSON_Duplicate(c->params, 1) : NULL);
		else if (strcmp(c->method, "fail") == 0)
			rpc_call_error(c, ch_rpc_code(CH_E_NOT_FOUND), "no such thing",
				       cJSON_CreateString("detail"));
		else
			rpc_call_error(c, RPC_METHOD_NOT_FOUND, "method not found", NULL);
	}
	char *out = rpc_request_render(&r, &len);
	if (out != NULL)
		rpc_http_reply(p->req, 200, NULL, out, len);
	else
		rpc_http_reply(p->req, len == 0 ? 204 : 500, NULL, NULL, 0);
	free(out);
	rpc_request_close(&r);
}

static void
on_stream(void *arg, uint64_t id, bool closed)
{
	struct answerer *a = arg;
	pthread_mutex_lock(&a->mu);
	if (closed)
		a->closed++;
	else
		a->written++;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

/* wait_written waits (at most 5 s) for n writes of a stream to be taken. */
static bool
wait_written(struct answerer *a, int n)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&a->mu);
	while (a->written < n && a->closed == 0 &&
	       pthread_cond_timedwait(&a->cv, &a->mu, &until) == 0)
		;
	bool ok = a->written >= n;
	pthread_mutex_unlock(&a->mu);
	return ok;
}

/* answer_stream streams "one\n" then "two\n", and closes. */
static void
answer_stream(struct answerer *a, struct pending *p)
{
	struct rpc_http_stream *st;
	struct ch_err e;
	if (rpc_http_stream_open(p->req, "text/event-stream", 7, on_stream, a, &st, &e) != 0)
		return;
	if (wait_written(a, 1) && rpc_http_stream_write(st, "one\n", 4) == 0 && wait_written(a, 2))
		(void)rpc_http_stream_write(st, "two\n", 4);
	wait_written(a, 3);
	/* a client that leaves: keep the stream until its close is heard (the writes may all
	   have been taken before it left) */
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&a->mu);
	while (a->wait_close && a->closed == 0 &&
	       pthread_cond_timedwait(&a->cv, &a->mu, &until) == 0)
		;
	pthread_mutex_unlock(&a->mu);
	rpc_http_stream_close(st);
}

static void *
answer_loop(void *arg)
{
	struct answerer *a = arg;
	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->quit && (a->head == NULL || a->hold))
			pthread_cond_wait(&a->cv, &a->mu);
		struct pending *p = a->head;
		if (p == NULL)
			break; /* quit with nothing left */
		a->head = p->next;
		if (a->head == NULL)
			a->tail = NULL;
		pthread_mutex_unlock(&a->mu);
		if (a->mode == STREAM && p->get)
			answer_stream(a, p);
		else if (a->mode == ECHO && p->get)
			rpc_http_reply(p->req, 200, "text/plain", p->target, strlen(p->target));
		else if (a->mode == ECHO || a->mode == STREAM)
			rpc_http_reply(p->req, 200, "text/plain", p->body, p->len);
		else if (a->mode == FAIL500)
			rpc_http_reply(p->req, 500, "text/plain", "boom", 4);
		else
			answer_jsonrpc(p);
		free(p);
		pthread_mutex_lock(&a->mu);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static void
answerer_start(struct answerer *a, enum mode mode)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->mode = mode;
	pthread_create(&a->thr, NULL, answer_loop, a);
}

/* answerer_stop answers whatever is left, then ends the thread. */
static void
answerer_stop(struct answerer *a)
{
	pthread_mutex_lock(&a->mu);
	a->quit = true;
	a->hold = false;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thr, NULL);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
}

static void
set_hold(struct answerer *a, bool hold)
{
	pthread_mutex_lock(&a->mu);
	a->hold = hold;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

/* wait_received waits (at most 5 s) until n requests reached the callback. */
static bool
wait_received(struct answerer *a, int n)
{
	uint64_t deadline = now_ms() + 5000;
	bool ok;
	for (;;) {
		pthread_mutex_lock(&a->mu);
		ok = a->received >= n;
		pthread_mutex_unlock(&a->mu);
		if (ok || now_ms() > deadline)
			return ok;
		usleep(2000);
	}
}

static int
received(struct answerer *a)
{
	pthread_mutex_lock(&a->mu);
	int n = a->received;
	pthread_mutex_unlock(&a->mu);
	return n;
}

/* start_server listens on a random free port in 30000-40000; url receives it. */
static struct rpc_http_server *
start_server(char url[64], int *port, size_t max_body, size_t max_inflight, struct answerer *a)
{
	struct rpc_http_server *s = NULL;
	struct ch_err e;
	for (int i = 0; i < 50; i++) {
		*port = 30000 + rand() % 10001;
		snprintf(url, 64, "http://127.0.0.1:%d", *port);
		ch_err_clear(&e);
		if (rpc_http_start(&s, url, NULL, max_body, max_inflight, on_req, a, &e) == 0)
			return s;
		if (strstr(e.msg, "address in use") == NULL) {
			fprintf(stderr, "rpc_http_start: %s\n", e.msg);
			return NULL;
		}
	}
	return NULL;
}

static int
tcp_connect(int port)
{
	struct sockaddr_in sa;
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/*
 * raw sends req as is and reads until the server closes (at most 5 s);
 * the requests say "Connection: close". Returns the bytes read (malloc'd).
 */
static char *
raw(int port, const char *req, size_t len)
{
	struct ch_buf b;
	char chunk[4096];
	int fd = tcp_connect(port);
	ch_buf_init(&b);
	if (fd < 0)
		return NULL;
	if (send_all(fd, req, len)) {
		for (;;) {
			ssize_t k = recv(fd, chunk, sizeof(chunk), 0);
			if (k <= 0)
				break;
			ch_buf_put(&b, chunk, (size_t)k);
		}
	}
	close(fd);
	ch_buf_u8(&b, 0);
	return (char *)ch_buf_steal(&b, NULL);
}

static int
raw_status(const char *resp)
{
	int status = 0;
	if (resp == NULL || sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		return 0;
	return status;
}

static int
post(const char *url, const char *body, size_t len, struct ch_buf *resp, struct ch_err *e)
{
	int status = 0;
	ch_buf_reset(resp);
	ch_err_clear(e);
	int rc = rpc_client_post(url, NULL, body, len, 10000, resp, &status, e);
	return rc != 0 ? -rc : status;
}

static bool
resp_is(const struct ch_buf *b, const void *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

static bool
resp_has(const struct ch_buf *b, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i + n <= b->len; i++)
		if (memcmp(b->data + i, s, n) == 0)
			return true;
	return false;
}

static char *
filled(size_t n, char c)
{
	char *p = malloc(n + 1);
	if (p != NULL) {
		memset(p, c, n);
		p[n] = '\0';
	}
	return p;
}

static void
test_round_trip(void)
{
	struct answerer a;
	char url[64];
	int port;
	struct ch_buf resp;
	struct ch_err e;
	answerer_start(&a, ECHO);
	struct rpc_http_server *s = start_server(url, &port, 1 << 20, 16, &a);
	ch_buf_init(&resp);
	REQUIRE(s != NULL);
	CHECK_EQ_INT(post(url, "hello", 5, &resp, &e), 200);
	CHECK(resp_is(&resp, "hello", 5));
	CHECK_EQ_INT(post(url, "", 0, &resp, &e), 200);
	CHECK_EQ_INT(resp.len, 0);
	char *big = filled(1 << 20, 'x'); /* exactly the limit */
	CHECK_EQ_INT(post(url, big, 1 << 20, &resp, &e), 200);
	CHECK(resp_is(&resp, big, 1 << 20));
	free(big);
	for (int i = 0; i < 20; i++) {
		char body[32];
		int n = snprintf(body, sizeof(body), "request %d", i);
		CHECK_EQ_INT(post(url, body, (size_t)n, &resp, &e), 200);
		CHECK(resp_is(&resp, body, (size_t)n));
	}
	/* two requests on one connection: bodies are read exactly */
	static const char two[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
				  "POST /?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
				  "Connection: close\r\n\r\nde";
	char *out = raw(port, two, sizeof(two) - 1);
	REQUIRE(out != NULL);
	char *second = strstr(out + 1, "HTTP/1.1 200");
	CHECK(raw_status(out) == 200 && second != NULL);
	CHECK(strstr(out, "\r\n\r\nabc") != NULL && second != NULL && strstr(second, "\r\n\r\nde"));
	free(out);
	ch_buf_close(&resp);
	rpc_http_stop(s);
	answerer_stop(&a);
}

static void
test_oversize(void)
{
	struct answerer a;
	char url[64];
	int port;
	struct ch_buf resp;
	struct ch_err e;
	answerer_start(&a, ECHO);
	struct rpc_http_server *s = start_server(url, &port, 1024, 16, &a);
	ch_buf_init(&resp);
	REQUIRE(s != NULL);
	char *body = filled(3u << 20, ' ');
	REQUIRE(body != NULL);
	CHECK_EQ_INT(post(url, body, 1024, &resp, &e), 200);
	CHECK_EQ_INT(received(&a), 1);
	CHECK_EQ_INT(post(url, body, 1025, &resp, &e), 413);
	CHECK(resp_has(&resp, "\"code\":-32008"));
	CHECK(resp_has(&resp, "limit 1024 bytes"));
	/* larger than socket buffers: read and discarded, so the client sees 413 */
	CHECK_EQ_INT(post(url, body, 3u << 20, &resp, &e), 413);
	/* a client that waits for "100 Continue" is answered before sending */
	static const char expect[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
				     "Expect: 100-continue\r\n\r\n";
	char *out = raw(port, expect, sizeof(expect) - 1);
	CHECK_EQ_INT(raw_status(out), 413);
	free(out);
	/* far beyond the limit: refused unread; the client may see 413 or a reset */
	char *huge = filled(24u << 20, ' ');
	REQUIRE(huge != NULL);
	int st = post(url, huge, 24u << 20, &resp, &e);
	CHECK(st == 413 || st == -CH_E_IO);
	free(huge);
	CHECK_EQ_INT(received(&a), 1); /* none of them reached the callback */
	CHECK_EQ_INT(post(url, "still", 5, &resp, &e), 200);
	CHECK(resp_is(&resp, "still", 5));
	free(body);
	ch_buf_close(&resp);
	rpc_http_stop(s);
	answerer_stop(&a);
}

static void
test_methods_and_paths(void)
{
	struct answerer a;
	char url[64];
	int port;
	answerer_start(&a, ECHO);
	struct rpc_http_server *s = start_server(url, &port, 1024, 16, &a);
	REQUIRE(s != NULL);
	/* a GET of any path reaches the callback, with its query and Last-Event-ID */
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char *out = raw(port, get, sizeof(get) - 1);
	CHECK_EQ_INT(raw_status(out), 200);
	CHECK(out != NULL && strstr(out, "\r\n\r\nGET /") != NULL);
	free(out);
	static const char getq[] = "GET http://x/events?from_height=3&kinds=tx HTTP/1.1\r\n"
				   "Host: x\r\nLast-Event-ID: 5-2\r\nConnection: close\r\n\r\n";
	out = raw(port, getq, sizeof(getq) - 1);
	CHECK(out != NULL && strstr(out, "GET /events?from_height=3&kinds=tx id=5-2") != NULL);
	free(out);
	static const char head[] = "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	out = raw(port, head, sizeof(head) - 1);
	CHECK_EQ_INT(raw_status(out), 200);
	CHECK(out != NULL && strstr(out, "HEAD /metrics") == NULL); /* no body for HEAD */
	free(out);
	static const char getbody[] = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
	out = raw(port, getbody, sizeof(getbody) - 1);
	CHECK_EQ_INT(raw_status(out), 400);
	free(out);
	static const char put[] = "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
	out = raw(port, put, sizeof(put) - 1); /* a body was left unread: the server closes */
	CHECK_EQ_INT(raw_status(out), 405);
	CHECK(out != NULL && strstr(out, "Allow: POST") != NULL && strstr(out, "-32600") != NULL);
	free(out);
	static const char del[] = "DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	out = raw(port, del, sizeof(del) - 1);
	CHECK_EQ_INT(raw_status(out), 405);
	free(out);
	static const char path[] = "POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
	out = raw(port, path, sizeof(path) - 1);
	CHECK_EQ_INT(raw_status(out), 404);
	free(out);
	static const char chunked[] = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
				      "\r\n2\r\n{}\r\n0\r\n\r\n";
	out = raw(port, chunked, sizeof(chunked) - 1);
	CHECK_EQ_INT(raw_status(out), 411);
	free(out);
	static const char badlen[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n{}";
	out = raw(port, badlen, sizeof(badlen) - 1);
	CHECK_EQ_INT(raw_status(out), 400);
	free(out);
	CHECK_EQ_INT(received(&a), 3);
	rpc_http_stop(s);
	answerer_stop(&a);
}

/* a GET turned into a stream: the head, then each write, then the close ends the body */
static void
test_stream(void)
{
	struct answerer a;
	char url[64];
	int port;
	answerer_start(&a, STREAM);
	struct rpc_http_server *s = start_server(url, &port, 1024, 4, &a);
	REQUIRE(s != NULL);
	static const char get[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
	char *out = raw(port, get, sizeof(get) - 1);
	CHECK_EQ_INT(raw_status(out), 200);
	CHECK(out != NULL && strstr(out, "Content-Type: text/event-stream\r\n") != NULL);
	CHECK(out != NULL && strstr(out, "\r\n\r\none\ntwo\n") != NULL);
	free(out);
	/* the server still serves requests on other connections */
	struct ch_buf resp;
	struct ch_err e;
	ch_buf_init(&resp);
	CHECK_EQ_INT(post(url, "ok", 2, &resp, &e), 200);
	ch_buf_close(&resp);
	/* a client that leaves: the stream hears of it */
	pthread_mutex_lock(&a.mu);
	a.written = a.closed = 0;
	a.hold = false;
	a.wait_close = true;
	pthread_mutex_unlock(&a.mu);
	int fd = tcp_connect(port);
	REQUIRE(fd >= 0);
	CHECK(send_all(fd, get, sizeof(get) - 1));
	char buf[256];
	CHECK(recv(fd, buf, sizeof(buf), 0) > 0); /* the head */
	close(fd);
	uint64_t deadline = now_ms() + 5000;
	int closed = 0;
	while (closed == 0 && now_ms() < deadline) {
		pthread_mutex_lock(&a.mu);
		closed = a.closed;
		pthread_mutex_unlock(&a.mu);
		usleep(2000);
	}
	CHECK_EQ_INT(closed, 1);
	rpc_http_stop(s);
	answerer_stop(&a);
}

struct poster {
	const char *url;
	int status;
	struct ch_err err;
	pthread_t thr;
};

static void *
post_thread(void *arg)
{
	struct poster *p = arg;
	struct ch_buf resp;
	ch_buf_init(&resp);
	p->status = post(p->url, "{}", 2, &resp, &p->err);
	ch_buf_close(&resp);
	return NULL;
}

static void
test_inflight_limit(void)
{
	struct answerer a;
	char url[64];
	int port;
	struct ch_buf resp;
	struct ch_err e;
	struct poster p[2];
	answerer_start(&a, ECHO);
	set_hold(&a, true);
	struct rpc_http_server *s = start_server(url, &port, 1024, 2, &a);
	ch_buf_init(&resp);
	REQUIRE(s != NULL);
	for (int i = 0; i < 2; i++) {
		p[i].url = url;
		pthread_create(&p[i].thr, NULL, post_thread, &p[i]);
	}
	CHECK(wait_received(&a, 2));
	uint64_t t0 = now_ms();
	CHECK_EQ_INT(post(url, "{}", 2, &resp, &e), 503);
	CHECK(now_ms() - t0 < 2000); /* answered by the server itself, at once */
	CHECK(resp_has(&resp, "\"code\":-32011"));
	CHECK(resp_has(&resp, "too many requests in flight"));
	set_hold(&a, false);
	for (int i = 0; i < 2; i++) {
		pthread_join(p[i].thr, NULL);
		CHECK_EQ_INT(p[i].status, 200);
	}
	CHECK_EQ_INT(post(url, "{}", 2, &resp, &e), 200); /* slots were given back */
	CHECK_EQ_INT(received(&a), 3);
	ch_buf_close(&resp);
	rpc_http_stop(s);
	answerer_stop(&a);
}

/* free_port returns a port that nothing listens on (bound, then released). */
static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void
test_unreachable(void)
{
	char url[64];
	struct ch_err e;
	cJSON *res = (cJSON *)1;
	int port = free_port();
	REQUIRE(port != 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	ch_err_clear(&e);
	uint64_t t0 = now_ms();
	CHECK_EQ_INT(rpc_client_call(url, NULL, "status", NULL, 5000, &res, &e), CH_E_IO);
	CHECK(now_ms() - t0 < 2000);
	CHECK(res == NULL);
	CHECK(strstr(e.msg, "cannot reach http://127.0.0.1:") != NULL);
	CHECK(strstr(e.msg, "connection refused") != NULL);
	ch_err_clear(&e);
	CHECK_EQ_INT(rpc_client_call("ftp://x", NULL, "status", cJSON_CreateArray(), 1000, &res, &e),
		     CH_E_INVALID);
}

static void
test_call_end_to_end(void)
{
	struct answerer a;
	char url[64];
	int port;
	struct ch_err e;
	cJSON *res = NULL;
	answerer_start(&a, JSONRPC);
	struct rpc_http_server *s = start_server(url, &port, 1 << 20, 16, &a);
	REQUIRE(s != NULL);
	ch_err_clear(&e);
	CHECK_EQ_INT(rpc_client_call(url, NULL, "echo", cJSON_Parse("{\"a\":[1,\"b\"]}"), 5000, &res, &e),
		     0);
	char *text = res ? cJSON_PrintUnformatted(res) : NULL;
	CHECK(text != NULL && strcmp(text, "{\"a\":[1,\"b\"]}") == 0);
	free(text);
	cJSON_Delete(res);
	res = NULL;
	CHECK_EQ_INT(rpc_client_call(url, NULL, "echo", NULL, 5000, &res, &e), 0);
	CHECK(cJSON_IsNull(res));
	cJSON_Delete(res);
	res = NULL;
	CHECK_EQ_INT(rpc_client_call(url, NULL, "fail", cJSON_CreateArray(), 5000, &res, &e),
		     CH_E_NOT_FOUND);
	CHECK(strcmp(e.msg, "no such thing") == 0 && res == NULL);
	CHECK_EQ_INT(rpc_client_call(url, NULL, "nope", NULL, 5000, &res, &e), CH_E_INVALID);
	CHECK(strcmp(e.msg, "method not found") == 0);
	/* a notification gets 204 and no body */
	static const char call[] = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\"}";
	char note[256];
	int n = snprintf(note, sizeof(note),
			 "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 sizeof(call) - 1, call);
	char *out = raw(port, note, (size_t)n);
	CHECK_EQ_INT(raw_status(out), 204);
	free(out);
	rpc_http_stop(s);
	answerer_stop(&a);

	/* JSON without a result; then no JSON at all, with an error status */
	answerer_start(&a, ECHO);
	s = start_server(url, &port, 1 << 20, 16, &a);
	REQUIRE(s != NULL);
	CHECK_EQ_INT(rpc_client_call(url, NULL, "echo", NULL, 5000, &res, &e), CH_E_IO);
	CHECK(strstr(e.msg, "answered without a result") != NULL);
	rpc_http_stop(s);
	answerer_stop(&a);
	answerer_start(&a, FAIL500);
	s = start_server(url, &port, 1 << 20, 16, &a);
	REQUIRE(s != NULL);
	CHECK_EQ_INT(rpc_client_call(url, NULL, "echo", NULL, 5000, &res, &e), CH_E_IO);
	CHECK(strcmp(e.msg, "http status 500") == 0);
	rpc_http_stop(s);
	answerer_stop(&a);
}

static void
test_address_in_use(void)
{
	struct answerer a;
	char url[64];
	char want[128];
	int port;
	struct ch_err e;
	struct rpc_http_server *s2 = NULL;
	answerer_start(&a, ECHO);
	struct rpc_http_server *s = start_server(url, &port, 1024, 16, &a);
	REQUIRE(s != NULL);
	/* a second server of this process on the same address */
	ch_err_clear(&e);
	CHECK_EQ_INT(rpc_http_start(&s2, url, NULL, 1024, 16, on_req, &a, &e), CH_E_IO);
	CHECK(s2 == NULL);
	snprintf(want, sizeof(want), "json-rpc listen %s: address in use", url);
	CHECK(strcmp(e.msg, want) == 0);
	rpc_http_stop(s);

	/* a listener of someone else's */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(fd >= 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0) {
		ch_err_clear(&e);
		CHECK_EQ_INT(rpc_http_start(&s2, url, NULL, 1024, 16, on_req, &a, &e), CH_E_IO);
		CHECK(strcmp(e.msg, want) == 0);
	}
	close(fd);
	ch_err_clear(&e);
	CHECK_EQ_INT(rpc_http_start(&s2, "tcp://127.0.0.1:1", NULL, 1024, 16, on_req, &a, &e),
		     CH_E_CONFIG);
	answerer_stop(&a);
}

static void
test_restart_same_port(void)
{
	struct answerer a;
	char url[64];
	int port;
	struct ch_buf resp;
	struct ch_err e;
	answerer_start(&a, ECHO);
	ch_buf_init(&resp);
	struct rpc_http_server *s = start_server(url, &port, 1024, 16, &a);
	REQUIRE(s != NULL);
	CHECK_EQ_INT(post(url, "1", 1, &resp, &e), 200);
	rpc_http_stop(s);
	ch_err_clear(&e);
	s = NULL;
	CHECK_EQ_INT(rpc_http_start(&s, url, NULL, 1024, 16, on_req, &a, &e), 0);
	if (s == NULL)
		fprintf(stderr, "  restart: %s\n", e.msg);
	CHECK_EQ_INT(post(url, "2", 1, &resp, &e), s != NULL ? 200 : -CH_E_IO);
	rpc_http_stop(s);
	ch_buf_close(&resp);
	answerer_stop(&a);
}

static void
test_client_goes_away(void)
{
	struct answerer a;
	char url[64];
	int port;
	struct ch_buf resp;
	struct ch_err e;
	answerer_start(&a, ECHO);
	set_hold(&a, true);
	ch_buf_init(&resp);
	struct rpc_http_server *s = start_server(url, &port, 1024, 4, &a);
	REQUIRE(s != NULL);
	/* the client leaves while the request is held: the late answer is dropped */
	static const char req[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
	int fd = tcp_connect(port);
	REQUIRE(fd >= 0);
	CHECK(send_all(fd, req, sizeof(req) - 1));
	CHECK(wait_received(&a, 1));
	close(fd);
	usleep(20000);
	set_hold(&a, false);
	/* the client leaves in the middle of its body: nothing reaches the callback */
	static const char part[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nhel";
	fd = tcp_connect(port);
	REQUIRE(fd >= 0);
	CHECK(send_all(fd, part, sizeof(part) - 1));
	usleep(20000);
	close(fd);
	/* every slot is free again */
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(post(url, "ok", 2, &resp, &e), 200);
	CHECK_EQ_INT(received(&a), 7);
	ch_buf_close(&resp);
	rpc_http_stop(s);
	answerer_stop(&a);
}

/* stopping with a request still held (a caller's bug) must not crash or leak */
static void
test_stop_while_held(void)
{
	struct answerer a;
	char url[64];
	int port;
	struct poster p;
	answerer_start(&a, ECHO);
	set_hold(&a, true);
	struct rpc_http_server *s = start_server(url, &port, 1024, 4, &a);
	REQUIRE(s != NULL);
	p.url = url;
	pthread_create(&p.thr, NULL, post_thread, &p);
	CHECK(wait_received(&a, 1));
	rpc_http_stop(s);
	pthread_join(p.thr, NULL);
	CHECK_EQ_INT(p.status, -CH_E_IO); /* the connection was closed without an answer */
	answerer_stop(&a); /* answers now, after the stop */
}

int
main(void)
{
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	RUN(test_round_trip);
	RUN(test_oversize);
	RUN(test_methods_and_paths);
	RUN(test_stream);
	RUN(test_inflight_limit);
	RUN(test_unreachable);
	RUN(test_call_end_to_end);
	RUN(test_address_in_use);
	RUN(test_restart_same_port);
	RUN(test_client_goes_away);
	RUN(test_stop_while_held);
	return TEST_DONE();
}
