/*
 * peer-inject: a hostile "validator" for the end-to-end tests. It dials a
 * validator's peer address (rpc/peer.h, as real validators do) and sends
 * COUNT messages of one kind, made with the peer codec (node/peer_msg.h)
 * where they are well-formed:
 *   junk        random bytes, not JSON
 *   badjson     JSON-RPC objects with unknown methods and wrong types
 *   garbled     a "consensus" message whose engine payload does not decode
 *   forged      PREPAREs claiming to come from validator FROM, signed with a
 *               key that is not FROM's
 *   badtx       "txs" gossip of transfers from KEYFILE's account, with nonces
 *               NONCE, NONCE+1, ..., whose signature does not verify
 *   bigtxs      "txs" gossip of about SIZE bytes holding the most entries
 *               the format allows, none a transaction: over the gossip
 *               limit, or under it and refused at the first entry
 *   oversized   messages of SIZE bytes (beyond the node's limit), each on a
 *               raw TCP connection that sends the transport's hello and
 *               then a frame announcing SIZE bytes: the node must close the
 *               connection
 *   getblocks   get_blocks requests in validator FROM's name for every height
 *   conns       COUNT connections at once, each a raw TCP connection that
 *               sends the transport's hello and then nothing, held for
 *               SIZE ms; prints how many of them the node closed
 * And on a validator whose peer links use TLS (config.json's p2p_tls):
 *   tls MODE GENESIS INDEX [KEYFILE]   one TLS connection that then sends
 *               the transport's hello, with a client certificate that is:
 *               nocert    none at all
 *               selfmade  named as validator INDEX's (by GENESIS), made
 *                         with a key of its own
 *               outsider  issued as its own validator INDEX by a key that
 *                         is not in GENESIS (a member of another network)
 *               genuine   issued by KEYFILE, validator INDEX's key: the
 *                         control, which the node must accept
 *               Exit 0 if the node refused the first three before its hello
 *               (or accepted genuine), 1 otherwise; prints what happened.
 * Usage: peer-inject URL KIND COUNT [FROM|SIZE|NONCE] [CHAIN_ID] [KEYFILE]
 *        peer-inject URL tls MODE GENESIS INDEX [KEYFILE]
 * Exit status: 0 if every message was handed to the transport (oversized:
 * every connection was closed by the node; conns: every connection was
 * made), 1 otherwise. A run that has not ended after 120 s stops with
 * status 3.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "chain/genesis.h"
#include "chain/tx.h"
#include "common/buf.h"
#include "crypto/cert.h"
#include "crypto/crypto.h"
#include "node/peer_msg.h"
#include "pbft/pbft.h"
#include "rpc/peer.h"
#include "rpc/tls_internal.h"

#include <nng/supplemental/util/platform.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

/* consensus appends a consensus message carrying engine bytes enc (the peer codec). */
static void
consensus(struct ch_buf *out, const uint8_t *enc, size_t len)
{
	struct peer_msg m = {.type = PEER_CONSENSUS, .engine = enc, .engine_len = len};
	peer_msg_encode(&m, out);
}

static void
forged(struct ch_buf *out, const struct cr_key *key, uint32_t from, uint64_t i)
{
	struct pbft_msg m;
	struct ch_buf sb, enc;
	uint8_t d[CR_HASH_LEN];
	memset(&m, 0, sizeof(m));
	m.type = PBFT_PREPARE;
	m.from = from;
	m.view = 0;
	m.height = 1000 + i; /* above the tip: a vote there must be checked, never moot */
	fill(m.digest, sizeof(m.digest));
	ch_buf_init(&sb);
	ch_buf_init(&enc);
	pbft_msg_signed_bytes(&m, &sb);
	cr_sha256(sb.data, sb.len, d);
	if (cr_sign(key, d, m.sig, NULL) != 0)
		abort();
	pbft_msg_encode(&m, &enc);
	consensus(out, enc.data, enc.len);
	ch_buf_close(&sb);
	ch_buf_close(&enc);
}

static void
badtx(struct ch_buf *out, const struct cr_key *key, const char *chain_id, uint64_t nonce)
{
	struct chain_tx tx;
	memset(&tx, 0, sizeof(tx));
	snprintf(tx.chain_id, sizeof(tx.chain_id), "%s", chain_id);
	tx.type = CHAIN_TX_TRANSFER;
	tx.nonce = nonce;
	tx.amount = 1;
	fill(tx.to, sizeof(tx.to));
	if (chain_tx_sign(&tx, key, NULL) != 0)
		abort();
	tx.amount = 2; /* after signing: the signature no longer matches */
	struct peer_msg m = {.type = PEER_TXS, .txs = &tx, .ntxs = 1};
	peer_msg_encode(&m, out);
}

/*
 * bigtxs appends a txs message of about size bytes of text: as many entries
 * as the format allows, each of junk that does not decode as a transaction.
 */
static void
bigtxs(struct ch_buf *out, size_t size)
{
	struct ch_buf pl;
	uint32_t n = PEER_MAX_TXS;
	size_t each = size * 3 / 4 / n; /* the payload is three quarters of its base64 */
	if (each < 3)
		each = 3;
	ch_buf_init(&pl);
	ch_buf_u8(&pl, PEER_MSG_VERSION);
	ch_buf_u8(&pl, PEER_TXS);
	ch_buf_u32(&pl, n);
	for (uint32_t i = 0; i < n && ch_buf_ok(&pl); i++) {
		ch_buf_u16(&pl, (uint16_t)(each - 2));
		for (size_t k = 2; k < each; k++)
			ch_buf_u8(&pl, 0xee);
	}
	if (ch_buf_ok(&pl))
		peer_msg_wrap(PEER_TXS, 0, pl.data, pl.len, out);
	ch_buf_close(&pl);
}

/* raw_connect opens a raw TCP connection to a tcp://127.0.0.1:PORT url (-1 on error). */
static int
raw_connect(const char *url)
{
	const char *colon = strrchr(url, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)(colon ? atoi(colon + 1) : 0));
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {.tv_sec = 10};
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "peer-inject: cannot connect to %s: %s\n", url, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The transport's hello (rpc/peer.h): "chp2", version 1, 2 reserved. */
static const uint8_t hello[8] = {'c', 'h', 'p', '2', 0, 1, 0, 0};

/*
 * conns holds count handshaken connections open for hold_ms and prints how
 * many the node closed in that time. -1 if a connection could not be made.
 */
static int
conns(const char *url, long count, long hold_ms)
{
	struct pollfd *fds = calloc((size_t)count, sizeof(*fds));
	long made = 0, closed = 0;
	for (; fds != NULL && made < count; made++) {
		int fd = raw_connect(url);
		if (fd < 0)
			break;
		if (send(fd, hello, sizeof(hello), MSG_NOSIGNAL) != (ssize_t)sizeof(hello))
			closed++;
		fds[made] = (struct pollfd){.fd = fd, .events = POLLIN};
	}
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = hold_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(fds, (nfds_t)made, (int)left) <= 0)
			break;
		for (long i = 0; i < made; i++) {
			uint8_t b[64];
			if (fds[i].fd < 0 || fds[i].revents == 0)
				continue;
			ssize_t r = recv(fds[i].fd, b, sizeof(b), 0); /* the node's hello */
			if (r <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1; /* poll skips it from now on */
				closed++;
			}
		}
	}
	for (long i = 0; i < made; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	free(fds);
	printf("peer-inject: %ld connections made, %ld closed by the node within %ld ms\n", made,
	       closed, hold_ms);
	return made == count ? 0 : -1;
}

/*
 * oversized sends one message of `size` bytes to the host:port of a
 * tcp://127.0.0.1:PORT url on a raw TCP connection: the hello, a 32-bit
 * frame length, then payload until the node hangs up. It returns 0
 * if the node closed the connection (before or after the payload ended).
 */
static int
oversized(const char *url, size_t size)
{
	int fd = raw_connect(url);
	if (fd < 0)
		return -1;
	uint8_t head[12];
	memcpy(head, hello, sizeof(hello));
	for (int i = 0; i < 4; i++)
		head[8 + i] = (uint8_t)((uint32_t)size >> (24 - 8 * i));
	static uint8_t chunk[65536];
	memset(chunk, '{', sizeof(chunk));
	int closed = send(fd, head, sizeof(head), MSG_NOSIGNAL) != (ssize_t)sizeof(head);
	for (size_t sent = 0; !closed && sent < size;) {
		size_t n = size - sent < sizeof(chunk) ? size - sent : sizeof(chunk);
		ssize_t w = send(fd, chunk, n, MSG_NOSIGNAL);
		if (w <= 0)
			closed = errno == EPIPE || errno == ECONNRESET || w == 0 ? 1 : -1;
		else
			sent += (size_t)w;
	}
	if (!closed) { /* all written: the node must still hang up, not wait */
		uint8_t b[64];
		ssize_t r;
		while ((r = recv(fd, b, sizeof(b), 0)) > 0)
			;
		closed = r == 0 || errno == ECONNRESET ? 1 : -1;
	}
	if (closed != 1)
		fprintf(stderr, "peer-inject: the node did not close the connection: %s\n",
			strerror(errno));
	close(fd);
	return closed == 1 ? 0 : -1;
}

static void
on_reply(void *arg, uint8_t *msg, size_t len)
{
	(void)arg;
	(void)len;
	free(msg); /* a listener sends nothing; nothing arrives here */
}

/*
 * dial starts the transport towards url alone (validator 0 of two; this
 * side is 1 and listens nowhere) and waits at most 5 s for the connection.
 */
static struct rpc_peer_net *
dial(const char *url)
{
	const char *urls[2] = {url, NULL};
	struct rpc_peer_limits lim = {.max_msg_bytes = (size_t)1 << 30, .queue_len = 4096,
				      .msgs_per_s = 1, .bytes_per_s = 1};
	struct rpc_peer_net *net;
	struct ch_err err;
	if (rpc_peer_start(&net, NULL, urls, 2, 1, &lim, NULL, on_reply, NULL, &err) != 0) {
		fprintf(stderr, "peer-inject: cannot dial %s: %s\n", url, ch_err_msg(&err));
		return NULL;
	}
	for (int i = 0; i < 500; i++) {
		struct rpc_peer_stats st;
		rpc_peer_stats(net, 0, &st);
		if (st.connected)
			return net;
		usleep(10000);
	}
	fprintf(stderr, "peer-inject: cannot dial %s: not connected within 5 s\n", url);
	rpc_peer_stop(net);
	return NULL;
}

/* push queues msg, waiting (at most 5 s) while the queue is full, as a blocking send would. */
static int
push(struct rpc_peer_net *net, const void *msg, size_t len)
{
	for (int waited = 0;; waited++) {
		int rc = rpc_peer_send(net, 0, msg, len);
		if (rc != CH_E_UNAVAILABLE || waited >= 5000)
			return rc;
		usleep(1000);
	}
}

/* hang_up waits (at most 30 s) until the queue is written, then stops the transport. */
static void
hang_up(struct rpc_peer_net *net)
{
	for (int i = 0; i < 3000; i++) {
		struct rpc_peer_stats st;
		rpc_peer_stats(net, 0, &st);
		if (st.queued == 0 || !st.connected)
			break;
		usleep(10000);
	}
	usleep(300 * 1000); /* let the node read the last frames before the close */
	rpc_peer_stop(net);
}

static void
watchdog(int sig)
{
	(void)sig;
	static const char msg[] = "peer-inject: still running after 120 s, giving up\n";
	ssize_t r = write(2, msg, sizeof(msg) - 1);
	(void)r;
	_exit(3);
}

/* tls_cert makes the client certificate of mode (see the top of the file); NULL cert: none. */
static int
tls_cert(const char *mode, const struct chain_genesis *g, uint32_t index, const char *keyfile,
	 char **cert, char **key)
{
	struct ch_err err;
	struct cr_key *k = NULL;
	int64_t now = (int64_t)time(NULL);
	int rc = 0;
	*cert = *key = NULL;
	if (strcmp(mode, "nocert") == 0)
		return 0;
	if (strcmp(mode, "genuine") == 0)
		rc = keyfile != NULL ? cr_key_load_pem(&k, keyfile, &err) : CH_E_INVALID;
	else
		rc = cr_key_generate(&k, &err);
	if (rc == 0 && strcmp(mode, "selfmade") == 0) {
		/* the genesis validator's names, the wrong key */
		char issuer[CR_CERT_NAME_MAX], subject[32], san[40];
		uint8_t pub[CR_PUBKEY_LEN];
		cr_cert_validator_name(index, g->validators[index].pub_key, issuer);
		snprintf(subject, sizeof(subject), "validator-%u", (unsigned)index);
		snprintf(san, sizeof(san), "DNS:validator-%u", (unsigned)index);
		const char *sans[] = {san};
		struct cr_cert_spec s = {.subject = subject, .issuer = issuer, .sans = sans,
					 .nsans = 1, .not_before = now - 86400,
					 .not_after = now + 86400};
		cr_key_pubkey(k, pub);
		rc = cr_cert_make(&s, pub, k, cert, &err);
		if (rc == 0)
			rc = cr_key_pem(k, key, &err);
	} else if (rc == 0 && (strcmp(mode, "outsider") == 0 || strcmp(mode, "genuine") == 0)) {
		rc = cr_cert_peer(index, k, now, cert, key, &err);
	} else if (rc == 0) {
		rc = CH_E_INVALID;
		snprintf(err.msg, sizeof(err.msg), "unknown mode %s", mode);
	}
	cr_key_free(k);
	if (rc != 0)
		fprintf(stderr, "peer-inject: tls %s: %s\n", mode, err.msg);
	return rc;
}

/*
 * tls_probe dials url over TLS with mode's certificate, sends the hello
 * and waits 5 s for the node's: 0 if it came (accepted), 1 if the node
 * refused, -1 if the probe itself failed.
 */
static int
tls_probe(const char *url, const char *mode, const char *genesis, uint32_t index,
	  const char *keyfile)
{
	struct chain_genesis g;
	struct ch_err err;
	char *cert = NULL, *key = NULL, turl[300];
	nng_tls_config *cfg = NULL;
	nng_stream_dialer *d = NULL;
	nng_stream *st = NULL;
	nng_aio *aio = NULL;
	uint8_t in[8];
	int result = -1, rv = 0;
	memset(&g, 0, sizeof(g));
	if (chain_genesis_load(&g, genesis, &err) != 0 || index >= g.nvalidators) {
		fprintf(stderr, "peer-inject: %s: %s\n", genesis,
			index >= g.nvalidators ? "no such validator" : err.msg);
		goto out;
	}
	snprintf(turl, sizeof(turl), "tls+%s", url);
	if (tls_cert(mode, &g, index, keyfile, &cert, &key) != 0 ||
	    rpc_tls_config(&cfg, false, cert, key, NULL, NULL, "peer-inject", &err) != 0 ||
	    nng_stream_dialer_alloc(&d, turl) != 0 ||
	    nng_stream_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg) != 0 ||
	    nng_aio_alloc(&aio, NULL, NULL) != 0)
		goto out;
	nng_aio_set_timeout(aio, 5000);
	nng_stream_dialer_dial(d, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0)
		goto out;
	st = nng_aio_get_output(aio, 0);
	nng_iov iov = {.iov_buf = (void *)hello, .iov_len = 8};
	nng_aio_set_iov(aio, 1, &iov);
	nng_stream_send(st, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) == 0) {
		size_t got = 0;
		while (rv == 0 && got < sizeof(in)) {
			iov = (nng_iov){.iov_buf = in + got, .iov_len = sizeof(in) - got};
			nng_aio_set_iov(aio, 1, &iov);
			nng_stream_recv(st, aio);
			nng_aio_wait(aio);
			if ((rv = nng_aio_result(aio)) == 0)
				got += nng_aio_count(aio);
		}
	}
	result = rv == 0 && memcmp(in, hello, 4) == 0 ? 0 : 1;
	printf("tls %s: %s (%s)\n", mode, result == 0 ? "accepted" : "refused",
	       rv == 0 ? "the node's hello arrived" : nng_strerror(rv));
out:
	if (result < 0)
		fprintf(stderr, "peer-inject: tls %s: the probe failed (%s)\n", mode,
			rv != 0 ? nng_strerror(rv) : "setup");
	if (st != NULL) {
		nng_stream_close(st);
		nng_stream_free(st);
	}
	nng_aio_free(aio);
	nng_stream_dialer_free(d);
	if (cfg != NULL)
		nng_tls_config_free(cfg);
	free(cert);
	free(key);
	chain_genesis_close(&g);
	return result;
}

int
main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: peer-inject URL junk|badjson|garbled|forged|badtx|bigtxs|"
				"oversized|conns|getblocks "
				"COUNT [FROM|SIZE|NONCE] [CHAIN_ID] [KEYFILE]\n");
		return 2;
	}
	const char *url = argv[1], *kind = argv[2];
	long count = atol(argv[3]), arg = argc > 4 ? atol(argv[4]) : 1;
	signal(SIGALRM, watchdog);
	alarm(120);
	if (strcmp(kind, "tls") == 0) {
		if (argc < 6)
			return 2;
		const char *mode = argv[3];
		int r = tls_probe(url, mode, argv[4], (uint32_t)atol(argv[5]), argc > 6 ? argv[6] : NULL);
		if (r < 0)
			return 1;
		return strcmp(mode, "genuine") == 0 ? r != 0 : r != 1;
	}
	if (strcmp(kind, "conns") == 0)
		return conns(url, count, arg) != 0;
	if (strcmp(kind, "oversized") == 0) {
		int failed = 0;
		for (long i = 0; i < count; i++)
			failed += oversized(url, (size_t)arg) != 0;
		return failed > 0;
	}
	const char *chain_id = argc > 5 ? argv[5] : "chaind-testnet";
	struct cr_key *key = NULL;
	struct rpc_peer_net *s;
	if (argc > 6 ? cr_key_load_pem(&key, argv[6], NULL) != 0 : cr_key_generate(&key, NULL) != 0)
		return 1;
	rng_state ^= (uint64_t)time(NULL);
	if ((s = dial(url)) == NULL) {
		cr_key_free(key);
		return 1;
	}
	int failed = 0;
	for (long i = 0; i < count; i++) {
		struct ch_buf m;
		ch_buf_init(&m);
		if (strcmp(kind, "junk") == 0) {
			uint8_t b[256];
			size_t n = 1 + rng() % sizeof(b);
			fill(b, n);
			ch_buf_put(&m, b, n);
		} else if (strcmp(kind, "badjson") == 0) {
			static const char *const bodies[] = {
				"{\"jsonrpc\":\"2.0\",\"method\":\"no_such_method\",\"params\":{}}",
				"{\"jsonrpc\":\"2.0\",\"method\":\"status\",\"params\":{\"from\":\"x\"}}",
				"{\"jsonrpc\":\"2.0\",\"method\":\"txs\",\"params\":{\"txs\":\"nope\"}}",
				"{\"jsonrpc\":\"2.0\",\"method\":\"get_blocks\",\"params\":{\"from\":-1}}",
				"[1,2,3]",
				"{\"jsonrpc\":\"2.0\",\"method\":\"consensus\",\"params\":{\"msg\":42}}",
			};
			const char *b = bodies[i % (sizeof(bodies) / sizeof(bodies[0]))];
			ch_buf_put(&m, b, strlen(b));
		} else if (strcmp(kind, "garbled") == 0) {
			uint8_t b[200];
			fill(b, sizeof(b));
			consensus(&m, b, sizeof(b));
		} else if (strcmp(kind, "bigtxs") == 0) {
			bigtxs(&m, (size_t)arg);
		} else if (strcmp(kind, "getblocks") == 0) {
			struct peer_msg gb = {.type = PEER_GET_BLOCKS, .id = (uint64_t)i + 1,
					      .from = (uint32_t)arg, .min_height = 1,
					      .max_height = 1000000000};
			peer_msg_encode(&gb, &m);
		} else if (strcmp(kind, "forged") == 0) {
			forged(&m, key, (uint32_t)arg, (uint64_t)i);
		} else if (strcmp(kind, "badtx") == 0) {
			badtx(&m, key, chain_id, (uint64_t)(arg + i));
		} else {
			fprintf(stderr, "peer-inject: unknown kind %s\n", kind);
			ch_buf_close(&m);
			rpc_peer_stop(s);
			cr_key_free(key);
			return 2;
		}
		if (!ch_buf_ok(&m) || push(s, m.data, m.len) != 0)
			failed++;
		ch_buf_close(&m);
	}
	hang_up(s);
	cr_key_free(key);
	if (failed > 0)
		fprintf(stderr, "peer-inject: %d of %ld messages not sent\n", failed, count);
	return failed > 0;
}
