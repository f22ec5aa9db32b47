/*
 * byzantine.c - the misbehaviours of byzantine.h. Built only into
 * chaind-byzantine (CMake option CHAIN_BYZANTINE).
 */
#include "byzantine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chain/rules.h"
#include "node/core.h"
#include "node/log.h"
#include "node/peer_msg.h"
#include "pbft/pbft.h"
#include "testchain.h"

enum byz_kind {
	BYZ_SILENT,
	BYZ_EQUIVOCATE,
	BYZ_VOTES,
	BYZ_REPLAY,
	BYZ_BAD_SIG,
	BYZ_WRONG_PARENT,
	BYZ_OVERSPEND,
	BYZ_STALE_NONCE,
	BYZ_OVERSIZED,
	BYZ_FORGE,
	BYZ_FLOOD,
};

static const char *const byz_names[] = {
	[BYZ_SILENT] = "silent",
	[BYZ_EQUIVOCATE] = "equivocate",
	[BYZ_VOTES] = "votes",
	[BYZ_REPLAY] = "replay",
	[BYZ_BAD_SIG] = "bad-sig",
	[BYZ_WRONG_PARENT] = "wrong-parent",
	[BYZ_OVERSPEND] = "overspend",
	[BYZ_STALE_NONCE] = "stale-nonce",
	[BYZ_OVERSIZED] = "oversized",
	[BYZ_FORGE] = "forge",
	[BYZ_FLOOD] = "flood",
};
#define NKINDS (sizeof(byz_names) / sizeof(byz_names[0]))

#define REPLAY_RING 256
#define FLOOD_PER_SEND 1500 /* junk messages to each peer with every consensus message */

struct node_byz {
	enum byz_kind kind;
	uint64_t rng;
	const struct node_identity *id;
	struct chain_rules rules;
	struct peer_msg_limits lim;
	const struct node_io *io; /* the node's, during a send */
	struct ch_buf sent[REPLAY_RING]; /* encodings of messages sent (replay) */
	size_t nsent;
};

int
node_byz_new(struct node_byz **out, const char *name, const struct node_identity *id,
	     struct ch_err *err)
{
	for (size_t k = 0; k < NKINDS; k++) {
		if (strcmp(name, byz_names[k]) != 0)
			continue;
		struct node_byz *b = calloc(1, sizeof(*b));
		if (b == NULL)
			return ch_errf(err, CH_E_NOMEM, "out of memory");
		b->kind = (enum byz_kind)k;
		b->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ull;
		b->id = id;
		chain_rules_init(&b->rules, id->genesis);
		node_core_limits_for(id->genesis, &b->lim);
		for (size_t i = 0; i < REPLAY_RING; i++)
			ch_buf_init(&b->sent[i]);
		*out = b;
		return 0;
	}
	return ch_errf(err, CH_E_CONFIG,
		       "CHAIND_BYZANTINE=%s: unknown behaviour (silent, equivocate, votes, replay, "
		       "bad-sig, wrong-parent, overspend, stale-nonce, oversized, forge, flood)",
		       name);
}

void
node_byz_free(struct node_byz *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < REPLAY_RING; i++)
		ch_buf_close(&b->sent[i]);
	free(b);
}

const char *
node_byz_name(const struct node_byz *b)
{
	return byz_names[b->kind];
}

static uint64_t
rnd(struct node_byz *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

/* send_encoded sends an engine message's encoding as a consensus peer message. */
static void
send_encoded(struct node_byz *bz, int to, const uint8_t *enc, size_t len)
{
	struct peer_msg pm = {.type = PEER_CONSENSUS, .engine = enc, .engine_len = len};
	struct ch_buf out;
	ch_buf_init(&out);
	peer_msg_encode(&pm, &out);
	if (ch_buf_ok(&out))
		bz->io->send(bz->io->arg, to, out.data, out.len);
	ch_buf_close(&out);
}

static void
send_consensus(struct node_byz *bz, int to, const struct pbft_msg *m)
{
	struct ch_buf enc;
	ch_buf_init(&enc);
	pbft_msg_encode(m, &enc);
	if (ch_buf_ok(&enc))
		send_encoded(bz, to, enc.data, enc.len);
	ch_buf_close(&enc);
}

/* resign signs m again with this validator's key after a change. */
static void
resign(struct node_byz *bz, struct pbft_msg *m)
{
	struct ch_buf sb;
	uint8_t d[CR_HASH_LEN];
	ch_buf_init(&sb);
	pbft_msg_signed_bytes(m, &sb);
	cr_sha256(sb.data, sb.len, d);
	if (!ch_buf_ok(&sb) || cr_sign(bz->id->key, d, m->sig, NULL) != 0)
		log_error("byzantine: cannot sign");
	ch_buf_close(&sb);
}

/*
 * variant_block makes the block a misbehaving primary proposes instead of
 * m's: out gets its encoding and digest its hash. False if this behaviour
 * leaves m alone.
 */
static bool
variant_block(struct node_byz *bz, const struct pbft_msg *m, struct ch_buf *out,
	      uint8_t digest[CR_HASH_LEN], const char **what)
{
	struct chain_block b;
	struct chain_tx extra;
	bool ok = true;
	if (m->type != PBFT_PREPREPARE || m->block == NULL ||
	    chain_block_decode(m->block, m->block_len, &b, NULL) != 0)
		return false;
	switch (bz->kind) {
	case BYZ_EQUIVOCATE:
		b.header.time_ms++;
		*what = "a second block for the same height";
		break;
	case BYZ_BAD_SIG:
		b.txs[0].sig[10] ^= 0x01; /* r: still a well-formed signature */
		chain_tx_rehash(&b.txs[0]);
		*what = "a block with a broken transaction signature";
		break;
	case BYZ_WRONG_PARENT:
		b.header.prev_hash[0] ^= 0x01;
		*what = "a block on a wrong parent";
		break;
	case BYZ_OVERSPEND:
		memset(&extra, 0, sizeof(extra));
		snprintf(extra.chain_id, sizeof(extra.chain_id), "%s", bz->rules.chain_id);
		extra.type = CHAIN_TX_TRANSFER;
		extra.amount = 1000000;
		extra.nonce = 0;
		for (size_t i = 0; i < CR_ADDR_LEN; i++)
			extra.to[i] = (uint8_t)rnd(bz);
		ok = chain_tx_sign(&extra, bz->id->key, NULL) == 0;
		if (ok)
			test_block_append(&b, &extra);
		*what = "a block with a transfer from an empty account";
		break;
	case BYZ_STALE_NONCE:
		if (!test_committed_tx(bz->id->store, &extra))
			extra = b.txs[0]; /* before block 1: the same transaction twice */
		test_block_append(&b, &extra);
		*what = "a block with a transaction whose nonce is used";
		break;
	case BYZ_OVERSIZED: { /* one transaction more than a block may hold */
		uint32_t want = bz->rules.block_max_txs + 1;
		struct chain_tx *t = realloc(b.txs, (size_t)want * sizeof(*t));
		if ((ok = t != NULL)) {
			b.txs = t;
			for (uint32_t i = b.header.tx_count; i < want; i++)
				b.txs[i] = b.txs[0];
			b.header.tx_count = want;
		}
		*what = "a block with more transactions than a block may hold";
		break;
	}
	default:
		ok = false;
	}
	if (ok) {
		chain_block_seal(&b);
		chain_block_encode(&b, out);
		memcpy(digest, b.hash, CR_HASH_LEN);
		ok = ch_buf_ok(out);
	}
	chain_block_close(&b);
	return ok;
}

/* variant makes the message the behaviour sends instead of m; false: send m. */
static bool
variant(struct node_byz *bz, const struct pbft_msg *m, struct pbft_msg *v,
	struct ch_buf *block, const char **what)
{
	*v = *m; /* shallow: v borrows m's arrays except a new block */
	if (bz->kind == BYZ_VOTES) {
		if (m->type != PBFT_PREPARE && m->type != PBFT_COMMIT)
			return false;
		for (size_t i = 0; i < PBFT_HASH_LEN; i++)
			v->digest[i] = (uint8_t)rnd(bz);
		*what = m->type == PBFT_PREPARE ? "a PREPARE for a random digest"
						: "a COMMIT for a random digest";
	} else {
		if (!variant_block(bz, m, block, v->digest, what))
			return false;
		v->block = block->data;
		v->block_len = block->len;
	}
	resign(bz, v);
	return true;
}

static void
remember(struct node_byz *bz, const struct pbft_msg *m)
{
	struct ch_buf *slot = &bz->sent[bz->nsent++ % REPLAY_RING];
	slot->len = 0;
	pbft_msg_encode(m, slot);
}

/*
 * forge sends copies of m in the names of the two validators after this one,
 * votes for a random digest, signed with this validator's own key: it has
 * no other. A receiver that checked signatures against the wrong key would
 * count them towards a quorum.
 */
static void
forge(struct node_byz *bz, const struct pbft_msg *m)
{
	uint32_t nv = bz->rules.nvalidators, self = bz->id->self;
	for (uint32_t k = 1; k <= 2 && k < nv; k++) {
		struct pbft_msg v = *m; /* shallow: borrows m's arrays */
		v.from = (self + k) % nv;
		if (m->type == PBFT_PREPARE || m->type == PBFT_COMMIT)
			for (size_t i = 0; i < PBFT_HASH_LEN; i++)
				v.digest[i] = (uint8_t)rnd(bz);
		resign(bz, &v);
		send_consensus(bz, -1, &v);
		log_info("byzantine: sent a type %u message in validator %u's name (view %" PRIu64
			 ", height %" PRIu64 ")",
			 m->type, v.from, m->view, m->height);
	}
}

/* flood sends FLOOD_PER_SEND junk messages to every peer: random bytes, bad JSON-RPC, garbled consensus. */
static void
flood(struct node_byz *bz)
{
	static const char *const bodies[] = {
		"{\"jsonrpc\":\"2.0\",\"method\":\"no_such_method\",\"params\":{}}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"consensus\",\"params\":{\"msg\":\"AAAA\"}}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"txs\",\"params\":{\"msg\":\"AQIAAAAB\"}}",
		"[]",
	};
	uint8_t junk[256];
	size_t sent = 0;
	for (uint32_t to = 0; to < bz->rules.nvalidators; to++) {
		if (to == bz->id->self)
			continue;
		for (size_t k = 0; k < FLOOD_PER_SEND; k++) {
			const void *msg = junk;
			size_t len = 1 + rnd(bz) % sizeof(junk);
			if (k % 2 == 0) {
				for (size_t i = 0; i < len; i++)
					junk[i] = (uint8_t)rnd(bz);
			} else {
				msg = bodies[k / 2 % (sizeof(bodies) / sizeof(bodies[0]))];
				len = strlen(msg);
			}
			bz->io->send(bz->io->arg, (int)to, msg, len);
			sent++;
		}
	}
	log_info("byzantine: flooded its peers with %zu junk messages", sent);
}

/* behave sends m, a consensus message of this validator's, as the behaviour would. */
static void
behave(struct node_byz *bz, int to, const struct pbft_msg *m)
{
	uint32_t nv = bz->rules.nvalidators;
	switch (bz->kind) {
	case BYZ_SILENT:
		log_info("byzantine: withheld a consensus message (type %u, view %" PRIu64
			 ", height %" PRIu64 ")",
			 m->type, m->view, m->height);
		return;
	case BYZ_REPLAY:
		send_consensus(bz, to, m);
		if (bz->nsent > 0) {
			size_t have = bz->nsent < REPLAY_RING ? bz->nsent : REPLAY_RING;
			for (int k = 0; k < 3; k++) {
				const struct ch_buf *old = &bz->sent[rnd(bz) % have];
				send_encoded(bz, -1, old->data, old->len);
			}
			log_info("byzantine: replayed 3 old messages");
		}
		remember(bz, m);
		return;
	case BYZ_FORGE:
		send_consensus(bz, to, m);
		forge(bz, m);
		return;
	case BYZ_FLOOD:
		send_consensus(bz, to, m);
		flood(bz);
		return;
	default:
		break;
	}
	struct pbft_msg v;
	struct ch_buf block;
	const char *what = "";
	ch_buf_init(&block);
	if (!variant(bz, m, &v, &block, &what)) {
		send_consensus(bz, to, m);
		ch_buf_close(&block);
		return;
	}
	/* Equivocation and conflicting votes: the lower half gets m, the upper half v. */
	bool split = bz->kind == BYZ_EQUIVOCATE || bz->kind == BYZ_VOTES;
	int changed = 0;
	for (uint32_t i = 0; i < nv; i++) {
		if (i == bz->id->self || (to >= 0 && (uint32_t)to != i))
			continue;
		bool upper = i >= nv / 2;
		send_consensus(bz, (int)i, !split || upper ? &v : m);
		changed += !split || upper;
	}
	if (changed > 0)
		log_info("byzantine: sent %s at view %" PRIu64 " height %" PRIu64
			 " to %d validator(s)",
			 what, m->view, m->height, changed);
	ch_buf_close(&block);
}

void
node_byz_send(void *arg, const struct node_io *io, int to, const uint8_t *msg, size_t len)
{
	struct node_byz *bz = arg;
	struct peer_msg pm;
	struct pbft_msg m;
	if (peer_msg_decode(msg, len, &bz->lim, &pm, NULL) != 0) {
		io->send(io->arg, to, msg, len);
		return;
	}
	bool consensus = pm.type == PEER_CONSENSUS &&
			 pbft_msg_decode(pm.engine, pm.engine_len, bz->lim.nvalidators,
					 bz->lim.max_block, &m, NULL) == 0;
	peer_msg_close(&pm);
	if (!consensus) {
		io->send(io->arg, to, msg, len);
		return;
	}
	bz->io = io;
	behave(bz, to, &m);
	bz->io = NULL;
	pbft_msg_close(&m);
}
