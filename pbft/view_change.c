/*
 * View changes (Castro & Liskov, TOCS 2002, section 4.4), for a chain with
 * one height in flight. A VIEW-CHANGE proves the sender's committed height
 * C with the commit certificate of block C and carries the prepared
 * certificate for C + 1 if it has one. The new primary takes 2f+1 of them,
 * finds the highest C among them (maxC) and re-proposes the prepared block
 * of the highest view at maxC + 1, if any. Why this is safe: a block
 * committed at height h in view v was prepared by f+1 honest replicas; each
 * of them had committed h - 1 before preparing (one height in flight), so
 * any VIEW-CHANGE quorum holds one of them with C = h - 1 and its prepared
 * certificate, or a replica with C >= h whose certificate proves the block.
 * A later view can only have prepared the same block at h (by induction on
 * views), so "highest view wins" picks it.
 *
 * That argument needs one more rule, kept by install_new_view and
 * pbft_on_preprepare: a view orders nothing below its NEW-VIEW's maxC + 1
 * (those heights are committed), and at maxC + 1 only the re-proposed
 * block if there is one. Without it, a replica that lags behind maxC could
 * prepare a second block at a committed height in the new view, on top of
 * its own stale tip (the simulator found this: a lagging new primary
 * proposed over a committed block, and lagging backups accepted it).
 *
 * A replica that sees a commit certificate for its next height in a
 * VIEW-CHANGE commits the block if it holds it (pbft_commit_known): only
 * faulty replicas may have collected that certificate, and then nobody
 * honest could serve the block by state transfer.
 */
#include <stdlib.h>
#include <string.h>

#include "pbft/pbft_internal.h"

static const uint8_t zero_hash[PBFT_HASH_LEN];

bool
pbft_check_cert(struct pbft *p, uint64_t height, uint64_t view, const uint8_t digest[PBFT_HASH_LEN],
		const struct pbft_vote *v, uint32_t n)
{
	if (height == 0)
		return memcmp(digest, zero_hash, PBFT_HASH_LEN) == 0;
	/* the certificate of the height before this set's first is the set before's */
	uint32_t size = pbft_set_n(p, height);
	if (size == 0 || n < pbft_quorum(size))
		return false;
	for (uint32_t i = 0; i < n; i++) {
		if (v[i].from >= size || (i > 0 && v[i].from <= v[i - 1].from))
			return false;
		if (!pbft_verify_vote(p, PBFT_COMMIT, v[i].from, view, height, digest, v[i].sig))
			return false;
	}
	return true;
}

/* check_prepared verifies a VIEW-CHANGE's prepared certificate for height m->height + 1. */
static bool
check_prepared(struct pbft *p, const struct pbft_msg *m)
{
	if (!m->has_prepared)
		return true;
	uint64_t h = m->height + 1;
	uint32_t primary = pbft_primary(m->p_view, p->cfg.n);
	if (m->p_view >= m->view || m->nprep + 1 < p->quorum ||
	    !pbft_verify_vote(p, PBFT_PREPREPARE, primary, m->p_view, h, m->p_digest, m->p_sig))
		return false;
	for (uint32_t i = 0; i < m->nprep; i++) {
		if (m->prep[i].from == primary || (i > 0 && m->prep[i].from <= m->prep[i - 1].from))
			return false;
		if (!pbft_verify_vote(p, PBFT_PREPARE, m->prep[i].from, m->p_view, h, m->p_digest,
				      m->prep[i].sig))
			return false;
	}
	return true;
}

/* check_vc verifies everything in a VIEW-CHANGE but its signature. */
static bool
check_vc(struct pbft *p, const struct pbft_msg *m, bool need_block)
{
	/* from a replica of this set: it committed at least the height before the set's first */
	uint64_t first = p->cfg.first_height > 1 ? p->cfg.first_height : 1;
	if (m->height + 1 < first || m->height + 1 > p->end)
		return false;
	if (!pbft_check_cert(p, m->height, m->cert_view, m->digest, m->cert, m->ncert) ||
	    !check_prepared(p, m))
		return false;
	if (m->has_prepared && need_block) {
		uint8_t h[PBFT_HASH_LEN];
		if (m->block_len == 0 || !p->host.block_hash(p->host.arg, m->block, m->block_len, h) ||
		    memcmp(h, m->p_digest, PBFT_HASH_LEN) != 0)
			return false;
	}
	return true;
}

static void
build_vc(struct pbft *p, struct pbft_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = PBFT_VIEWCHANGE;
	m->view = p->view;
	m->height = p->height;
	memcpy(m->digest, p->hash, PBFT_HASH_LEN);
	m->cert_view = p->cert_view;
	m->ncert = p->height > 0 ? p->ncert : 0;
	if (m->ncert > 0) {
		m->cert = malloc(m->ncert * sizeof(*m->cert));
		if (m->cert == NULL)
			abort();
		memcpy(m->cert, p->cert, m->ncert * sizeof(*m->cert));
	}
	const struct pbft_prepared *pc = &p->prepared;
	if (pc->has && pc->height == p->height + 1 && pc->view < p->view) {
		m->has_prepared = true;
		m->p_view = pc->view;
		memcpy(m->p_digest, pc->digest, PBFT_HASH_LEN);
		memcpy(m->p_sig, pc->pp_sig, PBFT_SIG_LEN);
		m->nprep = pc->nprep;
		if (m->nprep > 0) {
			m->prep = malloc(m->nprep * sizeof(*m->prep));
			if (m->prep == NULL)
				abort();
			memcpy(m->prep, pc->prep, m->nprep * sizeof(*m->prep));
		}
		if (pc->block_len > 0) {
			m->block = malloc(pc->block_len);
			if (m->block == NULL)
				abort();
			memcpy(m->block, pc->block, pc->block_len);
			m->block_len = pc->block_len;
		}
	}
	pbft_sign(p, m);
}

static void store_vc(struct pbft *p, const struct pbft_msg *m);
static void try_new_view(struct pbft *p);

void
pbft_start_view_change(struct pbft *p, uint64_t view)
{
	if (view <= p->view || pbft_ended(p))
		return;
	p->view = view;
	p->in_vc = true;
	pbft_reset_slot(p);
	/* persist the new view before the VIEW-CHANGE leaves: no vote in older views after this */
	pbft_emit_persist(p);
	struct pbft_msg m;
	build_vc(p, &m);
	store_vc(p, &m);
	pbft_emit_msg(p, PBFT_ACT_BROADCAST, 0, &m);
	p->last_retransmit = p->now;
	p->deadline = 0;
	pbft_arm_timer(p);
	pbft_emit_view(p);
	try_new_view(p);
}

void
pbft_retransmit_viewchange(struct pbft *p)
{
	if (pbft_ended(p))
		return;
	if (!p->has_vc[p->cfg.self] || p->vc[p->cfg.self].view != p->view) {
		struct pbft_msg m;
		build_vc(p, &m);
		store_vc(p, &m);
		pbft_msg_close(&m);
	}
	struct pbft_msg copy;
	if (pbft_msg_copy(&copy, &p->vc[p->cfg.self]) == 0)
		pbft_emit_msg(p, PBFT_ACT_BROADCAST, 0, &copy);
}

static void
store_vc(struct pbft *p, const struct pbft_msg *m)
{
	uint32_t i = m->from;
	if (p->has_vc[i]) {
		if (p->vc[i].view > m->view)
			return;
		pbft_msg_close(&p->vc[i]);
		p->has_vc[i] = false;
	}
	if (pbft_msg_copy(&p->vc[i], m) == 0)
		p->has_vc[i] = true;
}

/* choose finds maxC and the prepared VIEW-CHANGE of the highest view at maxC + 1. */
static const struct pbft_msg *
choose(const struct pbft_msg *const *vcs, uint32_t n, uint64_t *max_c)
{
	const struct pbft_msg *best = NULL;
	*max_c = 0;
	for (uint32_t i = 0; i < n; i++)
		if (vcs[i]->height > *max_c)
			*max_c = vcs[i]->height;
	for (uint32_t i = 0; i < n; i++)
		if (vcs[i]->height == *max_c && vcs[i]->has_prepared &&
		    (best == NULL || vcs[i]->p_view > best->p_view))
			best = vcs[i];
	return best;
}

static void install_new_view(struct pbft *p, const struct pbft_msg *nv);

static void
try_new_view(struct pbft *p)
{
	if (!p->in_vc || pbft_primary(p->view, p->cfg.n) != p->cfg.self || pbft_fenced(p, p->view))
		return; /* fenced: it may have sent another NEW-VIEW for this view before a restart */
	const struct pbft_msg *vcs[PBFT_MAX_VALIDATORS];
	uint32_t k = 0;
	for (uint32_t i = 0; i < p->cfg.n; i++)
		if (p->has_vc[i] && p->vc[i].view == p->view)
			vcs[k++] = &p->vc[i];
	if (k < p->quorum)
		return;
	/*
	 * A PRE-PREPARE signed for this view means a NEW-VIEW went out before
	 * a crash: another one could re-propose a different block. Wait for
	 * the old one to come back, or time out into the next view.
	 */
	if (p->pp_vote.has && p->pp_vote.view == p->view)
		return;
	uint64_t max_c;
	const struct pbft_msg *best = choose(vcs, k, &max_c);

	struct pbft_msg nv;
	memset(&nv, 0, sizeof(nv));
	nv.type = PBFT_NEWVIEW;
	nv.view = p->view;
	nv.height = max_c + 1;
	nv.nvcs = k;
	nv.vcs = calloc(k, sizeof(*nv.vcs));
	if (nv.vcs == NULL)
		abort();
	for (uint32_t i = 0; i < k; i++) {
		if (pbft_msg_copy(&nv.vcs[i], vcs[i]) != 0)
			abort();
		free(nv.vcs[i].block); /* blocks travel once, in the NEW-VIEW itself */
		nv.vcs[i].block = NULL;
		nv.vcs[i].block_len = 0;
	}
	if (best != NULL) {
		nv.has_prepared = true;
		memcpy(nv.digest, best->p_digest, PBFT_HASH_LEN);
		nv.block = malloc(best->block_len);
		if (nv.block == NULL)
			abort();
		memcpy(nv.block, best->block, best->block_len);
		nv.block_len = best->block_len;
		/* the new primary's PRE-PREPARE for maxC + 1 in this view */
		p->pp_vote.has = true;
		p->pp_vote.view = p->view;
		p->pp_vote.height = nv.height;
		memcpy(p->pp_vote.digest, nv.digest, PBFT_HASH_LEN);
		pbft_emit_persist(p);
		struct pbft_msg pp;
		memset(&pp, 0, sizeof(pp));
		pp.type = PBFT_PREPREPARE;
		pp.view = p->view;
		pp.height = nv.height;
		memcpy(pp.digest, nv.digest, PBFT_HASH_LEN);
		pbft_sign(p, &pp);
		memcpy(nv.p_sig, pp.sig, PBFT_SIG_LEN);
	}
	pbft_sign(p, &nv);
	struct pbft_msg out;
	if (pbft_msg_copy(&out, &nv) != 0)
		abort();
	pbft_emit_msg(p, PBFT_ACT_BROADCAST, 0, &out);
	install_new_view(p, &nv);
	pbft_msg_close(&nv);
}

void
pbft_on_viewchange(struct pbft *p, const struct pbft_msg *m)
{
	if (!check_vc(p, m, true))
		return;
	pbft_commit_known(p, m->height, m->cert_view, m->digest, m->cert, m->ncert);
	pbft_learn_height(p, m->from, m->height, true); /* its certificate proves it */
	if (m->height < p->height)
		pbft_help_laggard(p, m->from);
	if (m->view < p->view || (m->view == p->view && !p->in_vc)) {
		/*
		 * The sender missed this view's NEW-VIEW: the primary sends it
		 * again, or everyone if the sender is the primary (it crashed
		 * after sending it and lost it).
		 */
		uint32_t primary = pbft_primary(p->view, p->cfg.n);
		if (!p->in_vc && p->has_nv && (primary == p->cfg.self || primary == m->from)) {
			struct pbft_msg copy;
			if (pbft_msg_copy(&copy, &p->nv) == 0)
				pbft_emit_msg(p, PBFT_ACT_SEND, m->from, &copy);
		}
		return;
	}
	store_vc(p, m);
	pbft_arm_timer(p);
	/* f+1 validators want a later view: join the lowest of them (4.5.2) */
	uint32_t k = 0;
	uint64_t lowest = UINT64_MAX;
	for (uint32_t i = 0; i < p->cfg.n; i++)
		if (i != p->cfg.self && p->has_vc[i] && p->vc[i].view > p->view) {
			k++;
			if (p->vc[i].view < lowest)
				lowest = p->vc[i].view;
		}
	if (k >= p->f + 1)
		pbft_start_view_change(p, lowest);
	try_new_view(p);
}

void
pbft_on_newview(struct pbft *p, const struct pbft_msg *m)
{
	if (m->view < p->view || (m->view == p->view && !p->in_vc) ||
	    m->from != pbft_primary(m->view, p->cfg.n) || m->nvcs < p->quorum)
		return;
	const struct pbft_msg *vcs[PBFT_MAX_VALIDATORS];
	bool seen[PBFT_MAX_VALIDATORS] = {false};
	for (uint32_t i = 0; i < m->nvcs; i++) {
		const struct pbft_msg *vc = &m->vcs[i];
		if (vc->view != m->view || seen[vc->from] || !pbft_verify(p, vc) ||
		    !check_vc(p, vc, false))
			return;
		seen[vc->from] = true;
		vcs[i] = vc;
	}
	uint64_t max_c;
	const struct pbft_msg *best = choose(vcs, m->nvcs, &max_c);
	if (m->height != max_c + 1 || m->has_prepared != (best != NULL))
		return;
	if (best != NULL) {
		uint8_t h[PBFT_HASH_LEN];
		if (memcmp(m->digest, best->p_digest, PBFT_HASH_LEN) != 0 || m->block_len == 0 ||
		    !p->host.block_hash(p->host.arg, m->block, m->block_len, h) ||
		    memcmp(h, m->digest, PBFT_HASH_LEN) != 0 ||
		    !pbft_verify_vote(p, PBFT_PREPREPARE, m->from, m->view, m->height, m->digest,
				      m->p_sig))
			return;
	}
	install_new_view(p, m);
}

static void
install_new_view(struct pbft *p, const struct pbft_msg *nv)
{
	bool changed = nv->view != p->view || p->in_vc;
	p->view = nv->view;
	p->in_vc = false;
	/*
	 * Heights up to maxC are committed: this view orders maxC + 1 onwards,
	 * and at maxC + 1 only the re-proposed block if there is one.
	 */
	p->nv_height = nv->height;
	p->nv_fixed = nv->has_prepared;
	memcpy(p->nv_digest, nv->digest, PBFT_HASH_LEN);
	pbft_reset_slot(p);
	if (p->has_nv)
		pbft_msg_close(&p->nv);
	p->has_nv = pbft_msg_copy(&p->nv, nv) == 0;
	for (uint32_t i = 0; i < p->cfg.n; i++)
		if (p->has_vc[i] && p->vc[i].view <= p->view) {
			pbft_msg_close(&p->vc[i]);
			p->has_vc[i] = false;
		}
	if (changed)
		pbft_emit_persist(p);
	p->deadline = 0;
	pbft_arm_timer(p);
	if (changed)
		pbft_emit_view(p);

	for (uint32_t i = 0; i < nv->nvcs; i++) {
		const struct pbft_msg *vc = &nv->vcs[i];
		pbft_commit_known(p, vc->height, vc->cert_view, vc->digest, vc->cert, vc->ncert);
		pbft_learn_height(p, vc->from, vc->height, true);
	}
	if (nv->has_prepared) {
		struct pbft_msg pp;
		memset(&pp, 0, sizeof(pp));
		pp.type = PBFT_PREPREPARE;
		pp.from = nv->from;
		pp.view = nv->view;
		pp.height = nv->height;
		memcpy(pp.digest, nv->digest, PBFT_HASH_LEN);
		memcpy(pp.sig, nv->p_sig, PBFT_SIG_LEN);
		pp.block = nv->block; /* borrowed */
		pp.block_len = nv->block_len;
		if (nv->height == p->height && memcmp(nv->digest, p->hash, PBFT_HASH_LEN) == 0) {
			/* committed here already: vote in the new view so the others can finish */
			if (p->cfg.self != nv->from)
				pbft_send_vote(p, PBFT_PREPARE, nv->view, nv->height, nv->digest);
			pbft_send_vote(p, PBFT_COMMIT, nv->view, nv->height, nv->digest);
		} else {
			pbft_on_preprepare(p, &pp); /* validates; buffers it if we are behind */
		}
	}
	pbft_future_replay(p);
}
