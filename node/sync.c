/* State transfer and height announcements (sync.h). */
#include "node/sync.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node/core_internal.h"

void
node_sync_init(struct node_sync *s, uint64_t first_id)
{
	memset(s, 0, sizeof(*s));
	s->id = first_id % PEER_MAX_ID;
}

void
node_sync_request(struct node_core *c, uint32_t peer, uint64_t upto)
{
	struct node_sync *s = &c->sync;
	uint64_t lo = c->tip.height + 1, now = c->now.mono_ms;
	if (upto < lo || peer == c->sets.slot || peer >= CHAIN_MAX_VALIDATORS)
		return;
	if (s->pending && now < s->deadline_ms)
		return;
	if (!s->pending && upto - lo + 1 >= NODE_SYNC_LOG_GAP)
		node_core_log(c, NODE_LOG_INFO,
			      "state transfer: %" PRIu64 " blocks behind; asking validator %u for "
			      "heights %" PRIu64 "..%" PRIu64,
			      upto - lo + 1, peer, lo, upto);
	s->pending = true;
	s->peer = peer;
	s->deadline_ms = now + NODE_SYNC_RETRY_MS;
	s->id = (s->id + 1) % PEER_MAX_ID;
	struct peer_msg m = {.type = PEER_GET_BLOCKS, .id = s->id, .from = c->sets.slot,
			     .min_height = lo, .max_height = upto};
	if (c->sets.slot == NODE_NOT_MEMBER) {
		m.from = PEER_FROM_KEY; /* no slot yet: the others know it by its key */
		memcpy(m.pub, c->sets.self_pub, CR_PUBKEY_LEN);
	}
	node_core_send(c, (int)peer, &m);
}

void
node_sync_on_status(struct node_core *c, const struct peer_msg *m)
{
	struct node_sync *s = &c->sync;
	s->peer_height[m->from] = m->height;
	s->peer_seen_ms[m->from] = c->now.mono_ms;
	if (m->height > c->tip.height)
		node_sync_request(c, m->from, m->height);
}

/* serve_allowed takes one answer to validator `to` from its bucket. */
static bool
serve_allowed(struct node_sync *s, uint32_t to, uint64_t now)
{
	double cap = 2.0 * NODE_SYNC_ANSWERS_PER_S;
	double t = s->serve_tokens[to] +
		   (double)(now - s->serve_ms[to]) * NODE_SYNC_ANSWERS_PER_S / 1000.0;
	s->serve_ms[to] = now;
	s->serve_tokens[to] = t > cap ? cap : t;
	if (s->serve_tokens[to] < 1.0)
		return false;
	s->serve_tokens[to] -= 1.0;
	return true;
}

void
node_sync_on_get_blocks(struct node_core *c, const struct peer_msg *m)
{
	struct node_sync *s = &c->sync;
	uint32_t to = m->from;
	if (to == PEER_FROM_KEY)
		to = node_sets_slot_by_key(&c->sets, m->pub); /* a validator voted in, not yet synced */
	if (m->min_height < 1 || to == c->sets.slot || to >= CHAIN_MAX_VALIDATORS)
		return;
	if (!serve_allowed(s, to, c->now.mono_ms)) {
		s->refused++;
		return;
	}
	uint64_t hi = m->max_height < c->tip.height ? m->max_height : c->tip.height;
	struct ch_buf blk[PEER_MAX_BLOCKS], cert[PEER_MAX_BLOCKS];
	struct peer_block items[PEER_MAX_BLOCKS];
	/* one answer holds at most one largest block's worth of blocks */
	size_t budget = c->limits.max_block, bytes = 0;
	uint32_t count = 0;
	for (uint64_t h = m->min_height; h <= hi && count < PEER_MAX_BLOCKS; h++) {
		ch_buf_init(&blk[count]);
		ch_buf_init(&cert[count]);
		if (chain_store_block(c->store, h, &blk[count], &cert[count], NULL) != 0 ||
		    (count > 0 && bytes + blk[count].len > budget)) {
			ch_buf_close(&blk[count]);
			ch_buf_close(&cert[count]);
			break;
		}
		bytes += blk[count].len;
		items[count] = (struct peer_block){blk[count].data, blk[count].len, cert[count].data,
						   cert[count].len};
		count++;
	}
	struct peer_msg ans = {.type = PEER_BLOCKS, .id = m->id, .height = c->tip.height,
			       .blocks = items, .nblocks = count};
	node_core_send(c, (int)to, &ans);
	for (uint32_t i = 0; i < count; i++) {
		ch_buf_close(&blk[i]);
		ch_buf_close(&cert[i]);
	}
}

/*
 * apply_fetched checks a fetched block against its certificate (a quorum of
 * the validator set in force at its height: the tip's next, cur) and the
 * chain's rules, then commits it. CH_E_KNOWN:
 * the block is at or below the tip (committed meanwhile by consensus).
 */
/* cert_quorum: the votes a certificate of the set in force needs, by the chain's engine. */
static uint32_t
cert_quorum(const struct node_core *c)
{
	struct node_engine_rules er;
	if (node_engine_rules_of(c->genesis->params.engine, CORE_N(c), &er, NULL) != 0)
		return UINT32_MAX;
	return er.quorum;
}

static int
apply_fetched(struct node_core *c, const struct peer_block *pb, struct chain_cert *cert,
	      struct ch_err *err)
{
	struct chain_block b;
	int rc = chain_cert_decode(pb->cert, pb->cert_len, cert, err);
	if (rc != 0 || (rc = chain_block_decode(pb->block, pb->block_len, &b, err)) != 0)
		return rc;
	if (b.header.height <= c->tip.height)
		rc = ch_errf(err, CH_E_KNOWN, "block %" PRIu64 " is already committed",
			     b.header.height);
	else if (b.header.height != c->tip.height + 1)
		rc = ch_errf(err, CH_E_BLOCK_INVALID,
			     "fetched block %" PRIu64 " does not follow the tip %" PRIu64,
			     b.header.height, c->tip.height);
	else if (cert->height != b.header.height || memcmp(cert->block_hash, b.hash, CR_HASH_LEN) != 0)
		rc = ch_errf(err, CH_E_BLOCK_INVALID, "fetched block does not match its certificate");
	else
		rc = chain_cert_check(cert, CORE_N(c), cert_quorum(c), node_core_check_vote, c, err);
	if (rc == 0)
		rc = node_core_apply(c, &b, cert, NULL, err);
	chain_block_close(&b);
	return rc;
}

void
node_sync_on_blocks(struct node_core *c, const struct peer_msg *m)
{
	struct node_sync *s = &c->sync;
	if (!s->pending || m->id != s->id)
		return;
	s->pending = false;
	struct chain_cert *cert = malloc(sizeof(*cert));
	if (cert == NULL)
		return;
	bool any = false;
	for (uint32_t i = 0; i < m->nblocks && !c->failed; i++) {
		struct ch_err e;
		ch_err_clear(&e);
		int rc = apply_fetched(c, &m->blocks[i], cert, &e);
		if (rc == CH_E_KNOWN)
			continue; /* committed by consensus while the answer was on its way */
		if (rc != 0) {
			node_core_log(c, NODE_LOG_WARN,
				      "state transfer from validator %u stopped at height %" PRIu64
				      ": %s",
				      s->peer, c->tip.height + 1, ch_err_msg(&e));
			break;
		}
		any = true;
		node_consensus_synced(c, cert);
	}
	free(cert);
	if (any && m->height > c->tip.height)
		node_sync_request(c, s->peer, m->height);
}

void
node_sync_send_status(struct node_core *c)
{
	if (c->sets.slot == NODE_NOT_MEMBER)
		return; /* nobody knows this node yet */
	struct node_engine_status st = {0};
	if (c->cons.engine != NULL)
		node_engine_status(c->cons.engine, &st);
	struct peer_msg m = {.type = PEER_STATUS, .from = c->sets.slot, .height = c->tip.height,
			     .view = st.view};
	node_core_send(c, -1, &m);
}
