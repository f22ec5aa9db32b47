/*
 * libFuzzer target: the crash-fault cores (raft/, paxos/) on any bytes. The
 * input is a sequence of messages, each a 2-byte big-endian length and that
 * many bytes, fed to a Raft core and to a Multi-Paxos core of validator 0 of
 * 4 whose host accepts every signature (so forged messages reach the
 * protocol logic) and that the clock moves on between messages. Every
 * action is taken out and released; the cores must neither crash nor leak.
 */
#include <stdlib.h>
#include <string.h>

#include "paxos/paxos.h"
#include "raft/raft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sign(void *arg, const uint8_t *bytes, size_t len, uint8_t sig[64])
{
	(void)arg;
	memset(sig, 0, 64);
	memcpy(sig, bytes, len < 64 ? len : 64);
}

static bool
verify(void *arg, uint32_t v, const uint8_t *bytes, size_t len, const uint8_t sig[64])
{
	(void)arg;
	(void)v;
	(void)bytes;
	(void)len;
	(void)sig;
	return true;
}

/* A block's hash: its first 32 bytes, zero-padded; empty blocks do not decode. */
static bool
block_hash(void *arg, const uint8_t *block, size_t len, uint8_t out[32])
{
	(void)arg;
	if (len == 0)
		return false;
	memset(out, 0, 32);
	memcpy(out, block, len < 32 ? len : 32);
	return true;
}

static void
drain(struct raft *r, struct paxos *p)
{
	struct raft_action ra;
	while (raft_next_action(r, &ra))
		raft_action_close(&ra);
	struct paxos_action pa;
	while (paxos_next_action(p, &pa))
		paxos_action_close(&pa);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[32];
	struct raft_config rc = {.n = 4, .self = 0, .election_timeout_ms = 100, .heartbeat_ms = 10,
				 .max_block_bytes = 4096, .max_msg_bytes = 8192, .max_inflight = 4,
				 .retain = 8, .seed = 1};
	struct raft_host rh = {.sign = sign, .verify = verify, .block_hash = block_hash};
	struct paxos_config pc = {.n = 4, .self = 0, .timeout_ms = 100, .max_timeout_ms = 1600,
				  .heartbeat_ms = 10, .max_block_bytes = 4096, .seed = 1};
	struct paxos_host ph = {.sign = sign, .verify = verify, .block_hash = block_hash};
	struct raft *r = NULL;
	struct paxos *p = NULL;
	if (raft_new(&r, &rc, &rh, 0, zero, 0) != 0 || paxos_new(&p, &pc, &ph, 0, zero, 0) != 0)
		abort();
	uint64_t now = 0;
	size_t off = 0;
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		now += 1 + (len % 97);
		(void)raft_receive(r, data + off, len, now);
		(void)paxos_receive(p, data + off, len, now);
		drain(r, p);
		raft_tick(r, now);
		paxos_tick(p, now);
		drain(r, p);
		if (raft_can_propose(r)) {
			uint8_t blk[40] = {1};
			uint8_t d[32];
			block_hash(NULL, blk, sizeof(blk), d);
			raft_propose(r, d, blk, sizeof(blk), now);
			drain(r, p);
		}
		off += len;
	}
	raft_free(r);
	paxos_free(p);
	return 0;
}
