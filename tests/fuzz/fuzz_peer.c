/*
 * libFuzzer target: the peer protocol's decoder (node/peer_msg.h) and a
 * validator's handling of every message type it decodes, as the node's loop
 * runs it: peer_msg_decode, then node_core_on_peer and node_core_tick.
 *
 * The validator is real: validator FUZZ_SELF of the fixed network of
 * fuzz_net.h, a core on a RocksDB store in memory, whose sends go nowhere.
 * Its state (mempool, consensus, store) carries over from one input to the
 * next, as in a running node; without the validators' keys an input can
 * only move it as far as the seeds' signed messages do (gen_peer_seeds.c).
 *
 * The first byte of an input picks how it is delivered:
 *   0x01  the rest is a binary payload (version, type, body), wrapped in the
 *         JSON-RPC text its type byte calls for (peer_msg_wrap)
 *   0x02  the rest is a binary payload answering the validator's latest
 *         block request (its id, which an input cannot know)
 *   else  the input is the message text itself.
 * A core that fails (it stops signing: a commit or its vote record failed,
 * or its state diverged) aborts the run: peer input must never get it there.
 * FUZZ_PEER_LOG=1 in the environment shows the core's log lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_net.h"
#include "node/core_internal.h"

#define MODE_PAYLOAD 0x01
#define MODE_ANSWER 0x02

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_net net;

static void
cleanup(void)
{
	fuzz_net_close(&net);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ch_err err;
	ch_err_clear(&err);
	if (fuzz_net_open(&net, &err) != 0) {
		fprintf(stderr, "fuzz_peer: cannot set up a validator: %s\n", ch_err_msg(&err));
		exit(1);
	}
	atexit(cleanup);
	return 0;
}

/* deliver hands the validator one message text, as its runtime and loop do. */
static void
deliver(const uint8_t *text, size_t len)
{
	struct peer_msg m;
	if (peer_msg_decode(text, len, node_core_limits(net.core), &m, NULL) != 0) {
		node_core_on_malformed(net.core);
		return;
	}
	node_core_on_peer(net.core, &m, fuzz_net_time(&net));
	peer_msg_close(&m);
	node_core_tick(net.core, fuzz_net_time(&net));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || (data[0] != MODE_PAYLOAD && data[0] != MODE_ANSWER)) {
		deliver(data, size);
	} else {
		struct ch_buf b;
		ch_buf_init(&b);
		uint8_t type = data[0] == MODE_ANSWER ? PEER_BLOCKS : size > 2 ? data[2] : 0;
		peer_msg_wrap(type, data[0] == MODE_ANSWER ? net.core->sync.id : 1, data + 1,
			      size - 1, &b);
		/* an exact-size copy, so ASan sees a read past the end (b has spare capacity) */
		uint8_t *text = ch_buf_ok(&b) ? malloc(b.len) : NULL;
		if (text != NULL) {
			memcpy(text, b.data, b.len);
			deliver(text, b.len);
		}
		free(text);
		ch_buf_close(&b);
	}
	if (node_core_failed(net.core)) {
		fprintf(stderr, "fuzz_peer: the validator's core failed on a peer message\n");
		abort();
	}
	return 0;
}
