/*
 * Restarts: the vote record, what a replica must remember across a crash so
 * that it never signs two different blocks for one (view, height) and can
 * still prove, in a VIEW-CHANGE, a block it prepared; and the committed
 * tip's certificate and the resume rule that go with loading it.
 *
 *   version u8 (=2) | view u64 | in_vc u8 | nv_height u64 | nv_fixed u8 | nv_digest[32]
 *   | 3 x (has u8 | view u64 | height u64 | digest[32])   pp, prepare, commit
 *   | has_prepared u8 [| view u64 | height u64 | digest[32] | pp_sig[64]
 *                       | nprep u16 | nprep x (from u16 | sig[64])
 *                       | block_len u32 | block]
 */
#include <stdlib.h>
#include <string.h>

#include "pbft/pbft_internal.h"

#define RECORD_VERSION 2

static void
put_signed(struct ch_buf *b, const struct pbft_signed *s)
{
	ch_buf_u8(b, s->has);
	ch_buf_u64(b, s->view);
	ch_buf_u64(b, s->height);
	ch_buf_put(b, s->digest, PBFT_HASH_LEN);
}

void
pbft_record_encode(const struct pbft *p, struct ch_buf *out)
{
	ch_buf_u8(out, RECORD_VERSION);
	ch_buf_u64(out, p->view);
	ch_buf_u8(out, p->in_vc);
	ch_buf_u64(out, p->nv_height);
	ch_buf_u8(out, p->nv_fixed);
	ch_buf_put(out, p->nv_digest, PBFT_HASH_LEN);
	put_signed(out, &p->pp_vote);
	put_signed(out, &p->prepare_vote);
	put_signed(out, &p->commit_vote);
	const struct pbft_prepared *pc = &p->prepared;
	ch_buf_u8(out, pc->has);
	if (pc->has) {
		ch_buf_u64(out, pc->view);
		ch_buf_u64(out, pc->height);
		ch_buf_put(out, pc->digest, PBFT_HASH_LEN);
		ch_buf_put(out, pc->pp_sig, PBFT_SIG_LEN);
		ch_buf_u16(out, (uint16_t)pc->nprep);
		for (uint32_t i = 0; i < pc->nprep; i++) {
			ch_buf_u16(out, (uint16_t)pc->prep[i].from);
			ch_buf_put(out, pc->prep[i].sig, PBFT_SIG_LEN);
		}
		ch_buf_u32(out, (uint32_t)pc->block_len);
		ch_buf_put(out, pc->block, pc->block_len);
	}
}

static bool
get_signed(struct ch_rd *r, struct pbft_signed *s)
{
	uint8_t has = ch_rd_u8(r);
	s->has = has == 1;
	s->view = ch_rd_u64(r);
	s->height = ch_rd_u64(r);
	ch_rd_copy(r, s->digest, PBFT_HASH_LEN);
	return has <= 1 && !r->bad;
}

int
pbft_restore(struct pbft *p, const uint8_t *record, size_t len, struct ch_err *err)
{
	struct ch_rd r;
	ch_rd_init(&r, record, len);
	struct pbft_prepared pc;
	memset(&pc, 0, sizeof(pc));
	uint64_t view;
	uint8_t in_vc, has, nv_fixed = 0;
	uint64_t nv_height = 0;
	uint8_t nv_digest[PBFT_HASH_LEN] = {0};
	struct pbft_signed pp, prep, com;
	uint8_t version = ch_rd_u8(&r);
	if (version != RECORD_VERSION && version != 1)
		goto bad;
	view = ch_rd_u64(&r);
	in_vc = ch_rd_u8(&r);
	if (version >= 2) { /* version 1 had no NEW-VIEW bounds */
		nv_height = ch_rd_u64(&r);
		nv_fixed = ch_rd_u8(&r);
		ch_rd_copy(&r, nv_digest, PBFT_HASH_LEN);
	}
	if (in_vc > 1 || nv_fixed > 1 || !get_signed(&r, &pp) || !get_signed(&r, &prep) || !get_signed(&r, &com))
		goto bad;
	has = ch_rd_u8(&r);
	if (has > 1)
		goto bad;
	if (has) {
		pc.has = true;
		pc.view = ch_rd_u64(&r);
		pc.height = ch_rd_u64(&r);
		ch_rd_copy(&r, pc.digest, PBFT_HASH_LEN);
		ch_rd_copy(&r, pc.pp_sig, PBFT_SIG_LEN);
		pc.nprep = ch_rd_u16(&r);
		if (pc.nprep > p->cfg.n)
			goto bad;
		for (uint32_t i = 0; i < pc.nprep; i++) {
			pc.prep[i].from = ch_rd_u16(&r);
			ch_rd_copy(&r, pc.prep[i].sig, PBFT_SIG_LEN);
		}
		pc.block_len = ch_rd_u32(&r);
		const uint8_t *b = ch_rd_ptr(&r, pc.block_len);
		if (b == NULL)
			goto bad;
		if (pc.block_len > 0) {
			if ((pc.block = malloc(pc.block_len)) == NULL)
				return ch_errf(err, CH_E_NOMEM, "out of memory restoring consensus state");
			memcpy(pc.block, b, pc.block_len);
		}
	}
	if (!ch_rd_done(&r)) {
		free(pc.block);
		goto bad;
	}
	p->view = view;
	p->in_vc = in_vc;
	p->nv_height = nv_height;
	p->nv_fixed = nv_fixed;
	memcpy(p->nv_digest, nv_digest, PBFT_HASH_LEN);
	if (nv_height > p->goal + 1)
		p->goal = nv_height - 1; /* the NEW-VIEW proved it committed: fetch it */
	p->pp_vote = pp;
	p->prepare_vote = prep;
	p->commit_vote = com;
	free(p->prepared.block);
	p->prepared = pc;
	if (p->prepared.has && p->prepared.height != p->height + 1) {
		free(p->prepared.block);
		memset(&p->prepared, 0, sizeof(p->prepared));
	}
	p->fenced = true;
	p->fence = view;
	if (p->in_vc)
		pbft_arm_timer(p);
	return 0;
bad:
	return ch_errf(err, CH_E_BAD_ENCODING, "consensus record is corrupt");
}

int
pbft_record_mark(const uint8_t *record, size_t len, struct pbft_record_mark *out,
		 struct ch_err *err)
{
	struct ch_rd r;
	struct pbft_signed s[3];
	uint8_t skip[PBFT_SIG_LEN];
	ch_rd_init(&r, record, len);
	uint8_t version = ch_rd_u8(&r);
	if (version != RECORD_VERSION && version != 1)
		goto bad;
	uint64_t v = ch_rd_u64(&r), h = 0;
	uint8_t in_vc = ch_rd_u8(&r), nv_fixed = 0;
	if (version >= 2) {
		ch_rd_u64(&r);
		nv_fixed = ch_rd_u8(&r);
		ch_rd_copy(&r, skip, PBFT_HASH_LEN);
	}
	bool any = in_vc == 1;
	for (int i = 0; i < 3; i++) {
		if (!get_signed(&r, &s[i]))
			goto bad;
		if (s[i].has && s[i].height > h)
			h = s[i].height;
		any = any || s[i].has;
	}
	uint8_t has = ch_rd_u8(&r);
	if (in_vc > 1 || nv_fixed > 1 || has > 1)
		goto bad;
	if (has) {
		ch_rd_u64(&r);
		uint64_t ph = ch_rd_u64(&r);
		ch_rd_copy(&r, skip, PBFT_HASH_LEN);
		ch_rd_copy(&r, skip, PBFT_SIG_LEN);
		size_t nprep = ch_rd_u16(&r);
		if (nprep > PBFT_MAX_VALIDATORS ||
		    ch_rd_ptr(&r, nprep * (2 + PBFT_SIG_LEN)) == NULL ||
		    ch_rd_ptr(&r, ch_rd_u32(&r)) == NULL)
			goto bad;
		if (ph > h)
			h = ph;
		any = true;
	}
	if (!ch_rd_done(&r))
		goto bad;
	out->view = v;
	out->height = h;
	out->voted = any;
	out->commit.has = s[2].has;
	out->commit.view = s[2].view;
	out->commit.height = s[2].height;
	memcpy(out->commit.digest, s[2].digest, PBFT_HASH_LEN);
	return 0;
bad:
	return ch_errf(err, CH_E_BAD_ENCODING, "consensus record is corrupt");
}

void
pbft_set_tip_cert(struct pbft *p, uint64_t cert_view, const struct pbft_vote *cert, uint32_t ncert)
{
	p->cert_view = cert_view;
	p->ncert = ncert > p->cfg.n ? p->cfg.n : ncert;
	memcpy(p->cert, cert, p->ncert * sizeof(*cert));
}

void
pbft_resume(struct pbft *p, uint64_t now_ms)
{
	if (now_ms > p->now)
		p->now = now_ms;
	if (!p->fenced) {
		/* a first start: record the view before signing anything in it */
		pbft_emit_persist(p);
		return;
	}
	if (pbft_primary(p->view, p->cfg.n) == p->cfg.self)
		pbft_start_view_change(p, p->view + 1);
}
