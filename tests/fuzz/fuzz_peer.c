/*
 * libFuzzer target: a validator's handling of every peer message type
 * ("consensus", "txs", "get_blocks", "status" and block responses), as the
 * node loop runs it: node_on_peer_message, then node_drive to carry out
 * what the consensus core asked for.
 *
 * The node is real: validator FUZZ_PEER_SELF of the fixed network of
 * fuzz_peer_net.h, opened by node_open on a store in a fresh directory
 * under /tmp (removed at exit, or by the next run after a crash), without
 * its JSON-RPC server, peer sockets and signature workers: n->peers stays
 * NULL, so what it sends is dropped, and "txs" skips the preparation
 * stage (node/prep.c), as when its queue is full. Its state
 * (mempool, consensus, store) carries over from one input to the next, as
 * in a running node; without the validators' keys an input can only move
 * it as far as the seeds' signed messages do (gen_peer_seeds.c).
 *
 * The first byte of an input picks how it is delivered:
 *   0x01  the rest is an encoded pbft message, sent as
 *         {"jsonrpc":"2.0","method":"consensus","params":{"msg":BASE64(rest)}}
 *   0x02  the rest is transactions, each a 2-byte big-endian length and
 *         that many bytes (a short last one gets what is left), sent as
 *         {"jsonrpc":"2.0","method":"txs","params":{"txs":[HEX,...]}}
 *   0x03  the rest is the JSON value of "result", sent as the answer
 *         {"jsonrpc":"2.0","id":SYNC_ID,"result":REST} to the node's latest
 *         block request (SYNC_ID is n->sync_id, which an input cannot know)
 *   else  the input is the message itself.
 * A node that turns fatal (it stops signing: a commit or its vote record
 * failed) aborts the run: peer input must never get it there.
 * The node's log lines are dropped (node_log is wrapped at link time, see
 * CMakeLists.txt); FUZZ_PEER_LOG=1 in the environment shows them.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_peer_net.h"
#include "node/log.h"
#include "node/node.h"
#include "node/node_internal.h"

#define MODE_CONSENSUS 0x01
#define MODE_TXS 0x02
#define MODE_RESULT 0x03

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void __wrap_node_log(enum node_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static char dir[] = "/tmp/fuzz_peer.XXXXXX";
static struct node *node;
static bool show_log;

/* __wrap_node_log stands in for node_log (ld --wrap): the node's lines would bury libFuzzer's. */
void
__wrap_node_log(enum node_log_level level, const char *fmt, ...)
{
	static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
	if (!show_log)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fuzz_peer: node %s: ", names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
cleanup(void)
{
	node_close(node);
	node = NULL;
	fuzz_peer_net_remove(dir);
}

/* unlocked: path exists and no process holds a lock on it. */
static bool
unlocked(const char *path)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	bool free_ = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK;
	close(fd);
	return free_;
}

/*
 * remove_stale removes the directories of earlier runs that crashed (a
 * crash skips atexit; each holds about 75 MB of preallocated RocksDB log):
 * those whose store nobody has open, as RocksDB locks data/LOCK while it
 * does. One without that file (a crash while setting up) is left alone:
 * it may be a run setting up now.
 */
static void
remove_stale(void)
{
	DIR *d = opendir("/tmp");
	const struct dirent *e;
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[64], lock[96];
		if (strncmp(e->d_name, "fuzz_peer.", 10) != 0 || strlen(e->d_name) != strlen("fuzz_peer.XXXXXX"))
			continue;
		snprintf(path, sizeof(path), "/tmp/%s", e->d_name);
		snprintf(lock, sizeof(lock), "%s/node%d/data/LOCK", path, FUZZ_PEER_SELF);
		if (unlocked(lock))
			fuzz_peer_net_remove(path);
	}
	closedir(d);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct ch_err err;
	char home[sizeof(dir) + 16];
	ch_err_clear(&err);
	show_log = getenv("FUZZ_PEER_LOG") != NULL;
	remove_stale();
	if (mkdtemp(dir) == NULL) {
		perror("fuzz_peer: mkdtemp");
		exit(1);
	}
	snprintf(home, sizeof(home), "%s/node%d", dir, FUZZ_PEER_SELF);
	if (fuzz_peer_net_make(dir, &err) != 0 || node_open(&node, home, &err) != 0) {
		fprintf(stderr, "fuzz_peer: cannot set up a node in %s: %s\n", dir, ch_err_msg(&err));
		fuzz_peer_net_remove(dir);
		exit(1);
	}
	atexit(cleanup);
	return 0;
}

/* put_b64 appends the base64 of data to b. */
static void
put_b64(struct ch_buf *b, const uint8_t *data, size_t len)
{
	size_t n = 4 * ((len + 2) / 3);
	if (!ch_buf_reserve(b, n + 1))
		return;
	cr_base64_encode(data, len, (char *)b->data + b->len);
	b->len += n;
}

/* put_hex appends the hex of data to b. */
static void
put_hex(struct ch_buf *b, const uint8_t *data, size_t len)
{
	if (!ch_buf_reserve(b, 2 * len + 1))
		return;
	cr_hex_encode(data, len, (char *)b->data + b->len);
	b->len += 2 * len;
}

static void
put_str(struct ch_buf *b, const char *s)
{
	ch_buf_put(b, s, strlen(s));
}

/* wrap_txs: length-prefixed transactions into a "txs" message. */
static void
wrap_txs(struct ch_buf *b, const uint8_t *p, size_t len)
{
	put_str(b, "{\"jsonrpc\":\"2.0\",\"method\":\"txs\",\"params\":{\"txs\":[");
	for (bool first = true; len > 0; first = false) {
		size_t n = len < 2 ? 0 : (size_t)p[0] << 8 | p[1];
		size_t head = len < 2 ? len : 2;
		p += head;
		len -= head;
		if (n > len)
			n = len;
		if (!first)
			ch_buf_u8(b, ',');
		ch_buf_u8(b, '"');
		put_hex(b, p, n);
		ch_buf_u8(b, '"');
		p += n;
		len -= n;
	}
	put_str(b, "]}}");
}

/* message builds the peer message of an input in modes 0x01..0x03 (see the top of the file). */
static void
message(struct ch_buf *b, const uint8_t *data, size_t size)
{
	char id[32];
	switch (data[0]) {
	case MODE_CONSENSUS:
		put_str(b, "{\"jsonrpc\":\"2.0\",\"method\":\"consensus\",\"params\":{\"msg\":\"");
		put_b64(b, data + 1, size - 1);
		put_str(b, "\"}}");
		break;
	case MODE_TXS:
		wrap_txs(b, data + 1, size - 1);
		break;
	case MODE_RESULT:
		snprintf(id, sizeof(id), "%llu", (unsigned long long)node->sync_id);
		put_str(b, "{\"jsonrpc\":\"2.0\",\"id\":");
		put_str(b, id);
		put_str(b, ",\"result\":");
		ch_buf_put(b, data + 1, size - 1);
		ch_buf_u8(b, '}');
		break;
	}
}

/* deliver hands the node one message, as handle_peer in node/node.c does. */
static void
deliver(const uint8_t *msg, size_t len)
{
	node_on_peer_message(node, msg, len);
	node_drive(node);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || data[0] > MODE_RESULT || data[0] == 0) {
		deliver(data, size);
	} else {
		struct ch_buf b;
		ch_buf_init(&b);
		message(&b, data, size);
		/* an exact-size copy, so ASan sees a read past the end (b has spare capacity) */
		uint8_t *msg = ch_buf_ok(&b) ? malloc(b.len) : NULL;
		if (msg != NULL) {
			memcpy(msg, b.data, b.len);
			deliver(msg, b.len);
		}
		free(msg);
		ch_buf_close(&b);
	}
	if (node->fatal) {
		fprintf(stderr, "fuzz_peer: the node turned fatal on a peer message\n");
		abort();
	}
	return 0;
}
