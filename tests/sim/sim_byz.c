/*
 * Byzantine validators of the simulator: each runs a real core and lies
 * around it, on the wire, as a compromised validator can: it signs what it
 * likes with its own key, and nobody else's.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "testchain.h"

/*
 * self_index: nd's number in the set that orders height, as its chain says
 * (its node number when the set never changes, or if it knows none).
 */
static uint32_t
self_index(const struct sim_node *nd, uint64_t height)
{
	if (nd->s->gov == NULL || nd->store == NULL)
		return nd->id;
	const struct sim_set *set = sim_set_at(nd->s, nd->store, height);
	uint32_t i = set != NULL ? sim_index_of(set, nd->key) : UINT32_MAX;
	return i == UINT32_MAX ? nd->id : i;
}

/* next_height: the height nd's core works on. */
static uint64_t
next_height(const struct sim_node *nd)
{
	struct chain_tip tip;
	return nd->store != NULL && chain_store_tip(nd->store, &tip, NULL) == 0 ? tip.height + 1 : 1;
}

void
sim_sign_pbft(const struct sim_node *nd, struct pbft_msg *m)
{
	struct ch_buf b;
	uint8_t d[CR_HASH_LEN];
	ch_buf_init(&b);
	uint64_t h = m->type == PBFT_VIEWCHANGE			  ? m->height + 1
		     : m->type == PBFT_NEWVIEW && m->block_len == 0 ? next_height(nd)
								      : m->height;
	m->from = self_index(nd, h);
	pbft_msg_signed_bytes(m, &b);
	cr_sha256(b.data, b.len, d);
	if (!ch_buf_ok(&b) || cr_sign(nd->key, d, m->sig, NULL) != 0)
		abort();
	ch_buf_close(&b);
}

/* send_to sends a peer message's text from nd to `to` (< 0: every other validator). */
static void
send_to(struct sim_node *nd, int to, const uint8_t *msg, size_t len)
{
	for (uint32_t i = 0; i < nd->s->total; i++)
		if (to < 0 ? i != nd->id : i == (uint32_t)to)
			sim_send_raw(nd->s, nd->id, i, msg, len, 0);
}

void
sim_send_pbft(struct sim_node *nd, int to, const struct pbft_msg *m)
{
	struct ch_buf enc, out;
	ch_buf_init(&enc);
	ch_buf_init(&out);
	pbft_msg_encode(m, &enc);
	struct peer_msg pm = {.type = PEER_CONSENSUS, .engine = enc.data, .engine_len = enc.len};
	peer_msg_encode(&pm, &out);
	if (!ch_buf_ok(&enc) || !ch_buf_ok(&out))
		abort();
	send_to(nd, to, out.data, out.len);
	ch_buf_close(&enc);
	ch_buf_close(&out);
}

static void
vote(struct sim_node *nd, uint8_t type, uint64_t view, uint64_t height,
     const uint8_t digest[PBFT_HASH_LEN], int to)
{
	struct pbft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.view = view;
	m.height = height;
	memcpy(m.digest, digest, PBFT_HASH_LEN);
	sim_sign_pbft(nd, &m);
	sim_send_pbft(nd, to, &m);
}

static void
random_digest(struct sim *s, uint8_t d[PBFT_HASH_LEN])
{
	for (int i = 0; i < PBFT_HASH_LEN; i += 8)
		ch_put_be64(d + i, rng_next(&s->rng));
}

/* ---- blocks that lie ---- */

/* reseal re-encodes b into out after a change: the proposal's digest is b->hash. */
static void
reseal(struct chain_block *b, struct ch_buf *out)
{
	chain_block_seal(b);
	chain_block_encode(b, out);
	if (!ch_buf_ok(out))
		abort();
}

/*
 * break_block changes b so that it breaks one of the chain's rules (or, for
 * the last case, leaves it and breaks the proposal's digest instead).
 */
static void
break_block(struct sim_node *nd, struct chain_block *b, bool *bad_digest)
{
	struct sim *s = nd->s;
	struct chain_tx extra;
	switch (rng_range(&s->rng, 0, 6)) {
	case 0: /* a well-formed signature that does not verify */
		b->txs[0].sig[10] ^= 0x01;
		chain_tx_rehash(&b->txs[0]);
		break;
	case 1:
		b->header.prev_hash[3] ^= 1;
		break;
	case 2:
		b->header.height++;
		break;
	case 3: /* a transaction committed before (or the same one twice) */
		if (!test_committed_tx(nd->store, &extra))
			extra = b->txs[0];
		test_block_append(b, &extra);
		break;
	case 4: /* a transfer from an account with nothing */
		memset(&extra, 0, sizeof(extra));
		snprintf(extra.chain_id, sizeof(extra.chain_id), "sim");
		extra.type = CHAIN_TX_TRANSFER;
		extra.amount = 1;
		memcpy(extra.to, s->chain->account_addr[0], CR_ADDR_LEN);
		if (chain_tx_sign(&extra, nd->key, NULL) != 0)
			abort();
		test_block_append(b, &extra);
		break;
	case 5:
		b->header.state_digest[0] ^= 0x80;
		break;
	default:
		*bad_digest = true;
	}
}

/* lying_proposal makes the PRE-PREPARE a faulty primary sends instead of m: false to send m. */
static bool
lying_proposal(struct sim_node *nd, const struct pbft_msg *m, struct pbft_msg *alt,
	       struct ch_buf *enc)
{
	struct sim *s = nd->s;
	struct chain_block b;
	bool bad_digest = false;
	if (m->type != PBFT_PREPREPARE || m->block_len == 0 ||
	    chain_block_decode(m->block, m->block_len, &b, NULL) != 0)
		return false;
	if ((nd->kind & SIM_BYZ_INVALID) && rng_chance(&s->rng, 0.8)) {
		break_block(nd, &b, &bad_digest);
	} else if (nd->kind & SIM_BYZ_EQUIVOCATE) {
		b.header.time_ms++; /* another valid block for the same height */
		if (b.header.tx_count > 1 && rng_chance(&s->rng, 0.5))
			b.header.tx_count--;
	} else {
		chain_block_close(&b);
		return false;
	}
	reseal(&b, enc);
	memset(alt, 0, sizeof(*alt));
	alt->type = PBFT_PREPREPARE;
	alt->view = m->view;
	alt->height = m->height;
	memcpy(alt->digest, b.hash, PBFT_HASH_LEN);
	if (bad_digest)
		alt->digest[5] ^= 0x10;
	alt->block = enc->data;
	alt->block_len = enc->len;
	sim_sign_pbft(nd, alt);
	chain_block_close(&b);
	TRACE(s, "  byz n%u proposes h%" PRIu64 " %s instead of %s", nd->id, m->height,
	      sim_hex8(alt->digest), sim_hex8(m->digest));
	return true;
}

/* ---- NEW-VIEWs that differ ---- */

static void
keep_vc(struct sim_node *nd, const struct pbft_msg *m)
{
	if (m->from >= nd->s->total || (nd->has_vc[m->from] && nd->vc[m->from].view > m->view))
		return;
	if (nd->has_vc[m->from])
		pbft_msg_close(&nd->vc[m->from]);
	nd->has_vc[m->from] = pbft_msg_copy(&nd->vc[m->from], m) == 0;
}

/*
 * newviews: a faulty new primary sends each validator a NEW-VIEW built from
 * its own random quorum of the VIEW-CHANGEs it holds, each one valid (maxC
 * and the re-proposed block follow the rule), so that they start the view
 * from different NEW-VIEWs.
 */
static void
newviews(struct sim_node *nd, int to, const struct pbft_msg *orig)
{
	struct sim *s = nd->s;
	uint32_t idx[SIM_MAX_N], k = 0, quorum = s->quorum;
	if (s->gov != NULL) { /* the quorum of the set in force */
		const struct sim_set *set = sim_set_at(s, nd->store, next_height(nd));
		struct node_engine_rules er;
		if (set == NULL || node_engine_rules_of(s->o.engine, sim_set_n(set), &er, NULL) != 0) {
			sim_send_pbft(nd, to, orig);
			return;
		}
		quorum = er.quorum;
	}
	for (uint32_t i = 0; i < s->total; i++)
		if (nd->has_vc[i] && nd->vc[i].view == orig->view)
			idx[k++] = i;
	if (k < quorum) {
		sim_send_pbft(nd, to, orig);
		return;
	}
	for (uint32_t r = 0; r < s->total; r++) {
		if (r == nd->id || (to >= 0 && (uint32_t)to != r))
			continue;
		for (uint32_t i = k - 1; i > 0; i--) {
			uint32_t j = (uint32_t)rng_range(&s->rng, 0, i), t = idx[i];
			idx[i] = idx[j];
			idx[j] = t;
		}
		uint32_t q = (uint32_t)rng_range(&s->rng, quorum, k);
		struct pbft_msg nv;
		memset(&nv, 0, sizeof(nv));
		nv.type = PBFT_NEWVIEW;
		nv.view = orig->view;
		nv.nvcs = q;
		if ((nv.vcs = calloc(q, sizeof(*nv.vcs))) == NULL)
			abort();
		uint64_t max_c = 0;
		const struct pbft_msg *best = NULL;
		for (uint32_t j = 0; j < q; j++) {
			const struct pbft_msg *vc = &nd->vc[idx[j]];
			if (pbft_msg_copy(&nv.vcs[j], vc) != 0)
				abort();
			free(nv.vcs[j].block);
			nv.vcs[j].block = NULL;
			nv.vcs[j].block_len = 0;
			if (vc->height > max_c)
				max_c = vc->height;
		}
		for (uint32_t j = 0; j < q; j++) {
			const struct pbft_msg *vc = &nd->vc[idx[j]];
			if (vc->height == max_c && vc->has_prepared &&
			    (best == NULL || vc->p_view > best->p_view))
				best = vc;
		}
		nv.height = max_c + 1;
		if (best != NULL && best->block_len > 0) {
			nv.has_prepared = true;
			memcpy(nv.digest, best->p_digest, PBFT_HASH_LEN);
			if ((nv.block = malloc(best->block_len)) == NULL)
				abort();
			memcpy(nv.block, best->block, best->block_len);
			nv.block_len = best->block_len;
			struct pbft_msg pp;
			memset(&pp, 0, sizeof(pp));
			pp.type = PBFT_PREPREPARE;
			pp.view = nv.view;
			pp.height = nv.height;
			memcpy(pp.digest, nv.digest, PBFT_HASH_LEN);
			sim_sign_pbft(nd, &pp);
			memcpy(nv.p_sig, pp.sig, PBFT_SIG_LEN);
		}
		sim_sign_pbft(nd, &nv);
		TRACE(s, "  byz n%u sends n%u a NEW-VIEW v%" PRIu64 " h%" PRIu64 " %s from %u VCs",
		      nd->id, r, nv.view, nv.height, nv.has_prepared ? sim_hex8(nv.digest) : "(fresh)",
		      q);
		sim_send_pbft(nd, (int)r, &nv);
		pbft_msg_close(&nv);
	}
}

/* ---- blocks on another validator's tip ---- */

/* committed_nonce reads an account's committed nonce, for a scratch mempool. */
static uint64_t
committed_nonce(const struct chain_state_reader *rd, const uint8_t addr[CR_ADDR_LEN])
{
	struct chain_account a;
	return rd->get_account(rd->arg, addr, &a, NULL) == 0 ? a.nonce : 0;
}

/*
 * block_on_tip builds a valid block on validator to's own tip from the
 * simulation's transactions that tip has not committed, proposed by nd in
 * view; the same block for every validator on the same tip. False if none
 * applies.
 */
static bool
block_on_tip(const struct sim_node *nd, const struct sim_node *to, uint64_t view,
	     struct chain_proposal *p)
{
	const struct sim *s = nd->s;
	struct chain_mempool_config mc = {.max_txs = SIM_MAX_TXS, .max_bytes = 1u << 20,
					  .ttl_ms = UINT64_MAX / 2, .max_nonce_gap = SIM_MAX_TXS};
	struct chain_mempool *pool = NULL;
	if (to->core == NULL || chain_mempool_new(&pool, &mc) != 0)
		return false;
	struct chain_base base = {.tip = *node_core_tip(to->core),
				  .state = chain_store_reader(to->store)};
	for (uint32_t t = 0; t < s->ntx; t++) {
		const struct chain_tx *tx = &s->chain->txs[t];
		(void)chain_mempool_add(pool, tx, committed_nonce(&base.state, tx->sender), 0, NULL);
	}
	bool ok = chain_block_build(&s->rules, &base, pool, self_index(nd, base.tip.height + 1), view,
				    base.tip.time_ms + 1,
				    NULL, NULL, p, NULL) == 0;
	chain_mempool_free(pool);
	return ok;
}

/*
 * fork_tips offers every honest validator a fresh, valid block on that
 * validator's own tip; to a validator that lags behind blocks committed in
 * earlier views it is a fork. It votes for it as well.
 */
static void
fork_tips(struct sim_node *nd)
{
	struct sim *s = nd->s;
	struct node_engine_status st;
	node_core_engine(nd->core, &st);
	if (st.leader == NODE_ENGINE_NO_LEADER || st.leader != node_core_member(nd->core))
		return;
	for (uint32_t r = 0; r < s->total; r++) {
		struct chain_proposal p;
		if (r == nd->id || s->nodes[r].byz || !block_on_tip(nd, &s->nodes[r], st.view, &p))
			continue;
		struct pbft_msg pp;
		memset(&pp, 0, sizeof(pp));
		pp.type = PBFT_PREPREPARE;
		pp.view = st.view;
		pp.height = p.block.header.height;
		memcpy(pp.digest, p.block.hash, PBFT_HASH_LEN);
		pp.block = p.enc.data;
		pp.block_len = p.enc.len;
		sim_sign_pbft(nd, &pp);
		TRACE(s, "  byz n%u offers n%u a block h%" PRIu64 " %s on its tip", nd->id, r,
		      pp.height, sim_hex8(pp.digest));
		sim_send_pbft(nd, (int)r, &pp);
		vote(nd, PBFT_COMMIT, st.view, pp.height, pp.digest, -1);
		chain_proposal_close(&p);
	}
}

/*
 * forged_answer answers a validator's request for blocks with one block of
 * nd's making on that validator's tip, certified by nd's vote alone (and a
 * claim of more heights to come).
 */
static void
forged_answer(struct sim_node *nd, int to, const struct peer_msg *req)
{
	struct sim *s = nd->s;
	struct chain_proposal p;
	struct node_engine_status st;
	if (to < 0 || nd->core == NULL)
		return;
	node_core_engine(nd->core, &st);
	if (!block_on_tip(nd, &s->nodes[to], st.view, &p))
		return;
	struct chain_cert *cert = calloc(1, sizeof(*cert));
	struct pbft_msg v;
	struct ch_buf cenc, out;
	if (cert == NULL)
		abort();
	memset(&v, 0, sizeof(v));
	v.type = PBFT_COMMIT;
	v.view = st.view;
	v.height = p.block.header.height;
	memcpy(v.digest, p.block.hash, PBFT_HASH_LEN);
	sim_sign_pbft(nd, &v);
	cert->height = v.height;
	cert->view = v.view;
	memcpy(cert->block_hash, v.digest, CR_HASH_LEN);
	cert->count = 1;
	cert->votes[0].validator = (uint16_t)self_index(nd, next_height(nd));
	memcpy(cert->votes[0].sig, v.sig, CR_SIG_LEN);
	ch_buf_init(&cenc);
	ch_buf_init(&out);
	chain_cert_encode(cert, &cenc);
	struct peer_block pb = {p.enc.data, p.enc.len, cenc.data, cenc.len};
	struct peer_msg ans = {.type = PEER_BLOCKS, .id = req->id, .height = v.height + 1000,
			       .blocks = &pb, .nblocks = 1};
	peer_msg_encode(&ans, &out);
	if (ch_buf_ok(&out))
		sim_send_raw(s, nd->id, (uint32_t)to, out.data, out.len, 0);
	TRACE(s, "  byz n%u answers n%d with a forged block h%" PRIu64 " %s", nd->id, to, v.height,
	      sim_hex8(v.digest));
	ch_buf_close(&cenc);
	ch_buf_close(&out);
	chain_proposal_close(&p);
	free(cert);
}

/* ---- what a faulty validator's core sends, and what it does with it ---- */

static void
out_consensus(struct sim_node *nd, int to, const struct pbft_msg *m, const uint8_t *raw,
	      size_t len)
{
	struct sim *s = nd->s;
	if (m->type == PBFT_VIEWCHANGE)
		keep_vc(nd, m);
	if ((nd->kind & SIM_BYZ_NEWVIEW) && m->type == PBFT_NEWVIEW) {
		newviews(nd, to, m);
		return;
	}
	struct pbft_msg alt;
	struct ch_buf enc;
	ch_buf_init(&enc);
	if (lying_proposal(nd, m, &alt, &enc)) {
		/* each validator gets the lie or the truth (invalid ones: mostly the lie) */
		double p = (nd->kind & SIM_BYZ_INVALID) ? 0.8 : 0.5;
		for (uint32_t i = 0; i < s->total; i++)
			if (i != nd->id && (to < 0 || (uint32_t)to == i)) {
				if (rng_chance(&s->rng, p))
					sim_send_pbft(nd, (int)i, &alt);
				else
					sim_send_raw(s, nd->id, i, raw, len, 0);
			}
		ch_buf_close(&enc);
		return;
	}
	ch_buf_close(&enc);
	if ((nd->kind & SIM_BYZ_VOTES) && (m->type == PBFT_PREPARE || m->type == PBFT_COMMIT)) {
		uint8_t d[PBFT_HASH_LEN];
		random_digest(s, d);
		for (uint32_t i = 0; i < s->total; i++) {
			if (i == nd->id || (to >= 0 && (uint32_t)to != i))
				continue;
			if (rng_chance(&s->rng, 0.5))
				vote(nd, m->type, m->view, m->height, d, (int)i);
			else
				sim_send_raw(s, nd->id, i, raw, len, 0);
		}
		return;
	}
	send_to(nd, to, raw, len);
}

void
sim_byz_out(struct sim_node *nd, int to, const uint8_t *msg, size_t len)
{
	struct sim *s = nd->s;
	struct peer_msg pm;
	struct pbft_msg m;
	if (nd->kind & SIM_BYZ_SILENT)
		return; /* not even state transfer */
	if (peer_msg_decode(msg, len, &s->limits, &pm, NULL) != 0) {
		send_to(nd, to, msg, len);
		return;
	}
	if (pm.type == PEER_CONSENSUS && pbft_msg_decode(pm.engine, pm.engine_len, s->total,
							 s->limits.max_block, &m, NULL) == 0) {
		out_consensus(nd, to, &m, msg, len);
		pbft_msg_close(&m);
	} else if ((nd->kind & SIM_BYZ_SYNC) && pm.type == PEER_BLOCKS) {
		forged_answer(nd, to, &pm);
	} else if ((nd->kind & SIM_BYZ_SYNC) && pm.type == PEER_STATUS) {
		struct ch_buf out;
		ch_buf_init(&out);
		pm.height += 1000; /* a lure: the others ask it for blocks */
		peer_msg_encode(&pm, &out);
		if (ch_buf_ok(&out))
			send_to(nd, to, out.data, out.len);
		ch_buf_close(&out);
	} else {
		send_to(nd, to, msg, len);
	}
	peer_msg_close(&pm);
}

static void
remember(struct sim_node *nd, const uint8_t *data, size_t len)
{
	size_t i = nd->nreplay < SIM_REPLAY_MAX ? nd->nreplay++
						: rng_range(&nd->s->rng, 0, SIM_REPLAY_MAX - 1);
	free(nd->replay[i].data);
	if ((nd->replay[i].data = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(nd->replay[i].data, data, len);
	nd->replay[i].len = len;
}

void
sim_byz_in(struct sim_node *nd, const struct peer_msg *pm, const uint8_t *raw, size_t len)
{
	struct sim *s = nd->s;
	struct pbft_msg m;
	if (nd->kind & (SIM_BYZ_REPLAY | SIM_BYZ_GARBAGE))
		remember(nd, raw, len);
	if (pm->type != PEER_CONSENSUS ||
	    pbft_msg_decode(pm->engine, pm->engine_len, s->total, s->limits.max_block, &m,
			    NULL) != 0)
		return;
	if (m.type == PBFT_VIEWCHANGE)
		keep_vc(nd, &m);
	/* with VOTES it votes for whatever it sees */
	if ((nd->kind & SIM_BYZ_VOTES) && m.type >= PBFT_PREPREPARE && m.type <= PBFT_COMMIT &&
	    rng_chance(&s->rng, 0.3)) {
		vote(nd, PBFT_PREPARE, m.view, m.height, m.digest, -1);
		vote(nd, PBFT_COMMIT, m.view, m.height, m.digest, -1);
	}
	pbft_msg_close(&m);
}

/* ---- on its own, now and then ---- */

void
sim_byz_tick(struct sim_node *nd)
{
	struct sim *s = nd->s;
	struct rng *r = &s->rng;
	if (nd->kind & SIM_BYZ_SILENT)
		return;
	uint32_t to = (uint32_t)rng_range(r, 0, s->total - 1);
	if ((nd->kind & SIM_BYZ_REPLAY) && nd->nreplay > 0 && rng_chance(r, 0.3)) {
		const struct sim_raw *x = &nd->replay[rng_range(r, 0, nd->nreplay - 1)];
		sim_send_raw(s, nd->id, to, x->data, x->len, 0);
	}
	if ((nd->kind & SIM_BYZ_GARBAGE) && rng_chance(r, 0.3)) {
		uint8_t junk[600];
		size_t len;
		if (nd->nreplay > 0 && rng_chance(r, 0.7)) {
			const struct sim_raw *x = &nd->replay[rng_range(r, 0, nd->nreplay - 1)];
			len = x->len < sizeof(junk) ? x->len : sizeof(junk);
			memcpy(junk, x->data, len);
			if (len > 0 && rng_chance(r, 0.5))
				len = rng_range(r, 0, len - 1);
			for (int k = (int)rng_range(r, 1, 4); k > 0 && len > 0; k--)
				junk[rng_range(r, 0, len - 1)] ^= (uint8_t)rng_range(r, 1, 255);
		} else {
			len = rng_range(r, 0, sizeof(junk));
			for (size_t i = 0; i < len; i++)
				junk[i] = (uint8_t)rng_next(r);
		}
		sim_send_raw(s, nd->id, to, junk, len, 0);
	}
	if ((nd->kind & SIM_BYZ_FORK) && nd->core != NULL && rng_chance(r, 0.5))
		fork_tips(nd);
	if ((nd->kind & SIM_BYZ_VOTES) && nd->core != NULL && rng_chance(r, 0.3)) {
		struct node_engine_status st;
		uint8_t d[PBFT_HASH_LEN];
		node_core_engine(nd->core, &st);
		random_digest(s, d);
		uint64_t v = st.view + rng_range(r, 0, 2), h = st.height + rng_range(r, 0, 4);
		vote(nd, (uint8_t)rng_range(r, PBFT_PREPREPARE, PBFT_COMMIT), v, h, d, -1);
		if (rng_chance(r, 0.3)) {
			/* a bogus checkpoint far ahead: a lure for state transfer */
			uint64_t k = s->genesis.params.checkpoint_interval;
			uint64_t ch = (st.height / k + rng_range(r, 1, 50)) * k;
			vote(nd, PBFT_CHECKPOINT, 0, ch, d, -1);
		}
	}
}

void
sim_byz_free(struct sim_node *nd)
{
	for (size_t k = 0; k < nd->nreplay; k++)
		free(nd->replay[k].data);
	nd->nreplay = 0;
	for (uint32_t k = 0; k < SIM_MAX_N; k++)
		if (nd->has_vc[k]) {
			pbft_msg_close(&nd->vc[k]);
			nd->has_vc[k] = false;
		}
}
