/* PBFT messages: wire encoding, strict decoding, and what signatures cover. */
#include <stdlib.h>
#include <string.h>

#include "pbft/pbft.h"

static const char sign_prefix[] = "chaind/pbft/v1";
static const char commit_prefix[] = "chaind/commit/v1";

void
pbft_msg_close(struct pbft_msg *m)
{
	if (m == NULL)
		return;
	free(m->block);
	free(m->cert);
	free(m->prep);
	for (uint32_t i = 0; i < m->nvcs; i++)
		pbft_msg_close(&m->vcs[i]);
	free(m->vcs);
	memset(m, 0, sizeof(*m));
}

static void *
dup_mem(const void *p, size_t n)
{
	if (n == 0 || p == NULL)
		return NULL;
	void *q = malloc(n);
	if (q != NULL)
		memcpy(q, p, n);
	return q;
}

int
pbft_msg_copy(struct pbft_msg *dst, const struct pbft_msg *src)
{
	*dst = *src;
	dst->block = dup_mem(src->block, src->block_len);
	dst->cert = dup_mem(src->cert, src->ncert * sizeof(*src->cert));
	dst->prep = dup_mem(src->prep, src->nprep * sizeof(*src->prep));
	dst->vcs = src->nvcs ? calloc(src->nvcs, sizeof(*dst->vcs)) : NULL;
	bool ok = (src->block_len == 0 || dst->block != NULL) &&
		  (src->ncert == 0 || dst->cert != NULL) && (src->nprep == 0 || dst->prep != NULL) &&
		  (src->nvcs == 0 || dst->vcs != NULL);
	uint32_t copied = 0;
	if (ok && dst->vcs != NULL)
		for (; copied < src->nvcs; copied++)
			if (pbft_msg_copy(&dst->vcs[copied], &src->vcs[copied]) != 0) {
				ok = false;
				break;
			}
	if (!ok) {
		dst->nvcs = copied;
		if (dst->vcs == NULL)
			dst->nvcs = 0;
		pbft_msg_close(dst);
		return CH_E_NOMEM;
	}
	return 0;
}

static void
put_votes(struct ch_buf *b, const struct pbft_vote *v, uint32_t n)
{
	ch_buf_u16(b, (uint16_t)n);
	for (uint32_t i = 0; i < n; i++) {
		ch_buf_u16(b, (uint16_t)v[i].from);
		ch_buf_put(b, v[i].sig, PBFT_SIG_LEN);
	}
}

void
pbft_vote_bytes(uint8_t type, uint64_t view, uint64_t height, const uint8_t digest[PBFT_HASH_LEN],
		struct ch_buf *out)
{
	ch_buf_put(out, sign_prefix, sizeof(sign_prefix)); /* includes the NUL */
	ch_buf_u8(out, type);
	ch_buf_u64(out, view);
	ch_buf_u64(out, height);
	ch_buf_put(out, digest, PBFT_HASH_LEN);
}

/* viewchange_body: the signed fields of a VIEW-CHANGE (block excluded). */
static void
viewchange_body(const struct pbft_msg *m, struct ch_buf *out)
{
	ch_buf_u64(out, m->cert_view);
	put_votes(out, m->cert, m->ncert);
	ch_buf_u8(out, m->has_prepared);
	if (m->has_prepared) {
		ch_buf_u64(out, m->p_view);
		ch_buf_put(out, m->p_digest, PBFT_HASH_LEN);
		ch_buf_put(out, m->p_sig, PBFT_SIG_LEN);
		put_votes(out, m->prep, m->nprep);
	}
}

void
pbft_msg_signed_bytes(const struct pbft_msg *m, struct ch_buf *out)
{
	switch (m->type) {
	case PBFT_COMMIT:
		ch_buf_put(out, commit_prefix, sizeof(commit_prefix));
		ch_buf_u64(out, m->height);
		ch_buf_u64(out, m->view);
		ch_buf_put(out, m->digest, PBFT_HASH_LEN);
		return;
	case PBFT_PREPREPARE:
	case PBFT_PREPARE:
	case PBFT_CHECKPOINT:
		pbft_vote_bytes(m->type, m->type == PBFT_CHECKPOINT ? 0 : m->view, m->height,
				m->digest, out);
		return;
	case PBFT_VIEWCHANGE:
		pbft_vote_bytes(m->type, m->view, m->height, m->digest, out);
		viewchange_body(m, out);
		return;
	case PBFT_NEWVIEW:
		pbft_vote_bytes(m->type, m->view, m->height, m->digest, out);
		ch_buf_u8(out, m->has_prepared);
		ch_buf_put(out, m->p_sig, PBFT_SIG_LEN);
		ch_buf_u16(out, (uint16_t)m->nvcs);
		for (uint32_t i = 0; i < m->nvcs; i++) {
			ch_buf_u16(out, (uint16_t)m->vcs[i].from);
			ch_buf_put(out, m->vcs[i].sig, PBFT_SIG_LEN);
		}
		return;
	}
}

void
pbft_msg_encode(const struct pbft_msg *m, struct ch_buf *out)
{
	ch_buf_u8(out, m->type);
	ch_buf_u16(out, (uint16_t)m->from);
	ch_buf_u64(out, m->view);
	ch_buf_u64(out, m->height);
	ch_buf_put(out, m->digest, PBFT_HASH_LEN);
	switch (m->type) {
	case PBFT_PREPREPARE:
		ch_buf_u32(out, (uint32_t)m->block_len);
		ch_buf_put(out, m->block, m->block_len);
		break;
	case PBFT_VIEWCHANGE:
		viewchange_body(m, out);
		ch_buf_u32(out, (uint32_t)m->block_len);
		ch_buf_put(out, m->block, m->block_len);
		break;
	case PBFT_NEWVIEW:
		ch_buf_u8(out, m->has_prepared);
		ch_buf_put(out, m->p_sig, PBFT_SIG_LEN);
		ch_buf_u16(out, (uint16_t)m->nvcs);
		for (uint32_t i = 0; i < m->nvcs; i++) {
			struct ch_buf vb;
			ch_buf_init(&vb);
			pbft_msg_encode(&m->vcs[i], &vb);
			ch_buf_u32(out, (uint32_t)vb.len);
			ch_buf_put(out, vb.data, vb.len);
			if (!ch_buf_ok(&vb))
				out->oom = true;
			ch_buf_close(&vb);
		}
		ch_buf_u32(out, (uint32_t)m->block_len);
		ch_buf_put(out, m->block, m->block_len);
		break;
	default:
		break;
	}
	ch_buf_put(out, m->sig, PBFT_SIG_LEN);
}

static int
get_votes(struct ch_rd *r, uint32_t n, struct pbft_vote **out, uint32_t *count)
{
	uint32_t k = ch_rd_u16(r);
	if (r->bad || k > n || k * (2 + PBFT_SIG_LEN) > ch_rd_left(r))
		return CH_E_BAD_ENCODING;
	*count = k;
	if (k == 0)
		return 0;
	if ((*out = calloc(k, sizeof(**out))) == NULL)
		return CH_E_NOMEM;
	for (uint32_t i = 0; i < k; i++) {
		(*out)[i].from = ch_rd_u16(r);
		ch_rd_copy(r, (*out)[i].sig, PBFT_SIG_LEN);
		if ((*out)[i].from >= n)
			return CH_E_BAD_ENCODING;
	}
	return r->bad ? CH_E_BAD_ENCODING : 0;
}

static int
get_block(struct ch_rd *r, size_t max_block, struct pbft_msg *m)
{
	uint32_t len = ch_rd_u32(r);
	if (r->bad || len > max_block || len > ch_rd_left(r))
		return CH_E_BAD_ENCODING;
	m->block_len = len;
	if (len == 0)
		return 0;
	if ((m->block = malloc(len)) == NULL)
		return CH_E_NOMEM;
	ch_rd_copy(r, m->block, len);
	return 0;
}

static int
get_flag(struct ch_rd *r, bool *out)
{
	uint8_t v = ch_rd_u8(r);
	*out = v == 1;
	return v > 1 ? CH_E_BAD_ENCODING : 0;
}

static int decode_at(struct ch_rd *r, uint32_t n, size_t max_block, int depth,
		     struct pbft_msg *m);

static int
decode_body(struct ch_rd *r, uint32_t n, size_t max_block, int depth, struct pbft_msg *m)
{
	int rc = 0;
	switch (m->type) {
	case PBFT_PREPARE:
	case PBFT_COMMIT:
	case PBFT_CHECKPOINT:
		return 0;
	case PBFT_PREPREPARE:
		return get_block(r, max_block, m);
	case PBFT_VIEWCHANGE:
		m->cert_view = ch_rd_u64(r);
		if ((rc = get_votes(r, n, &m->cert, &m->ncert)) != 0)
			return rc;
		if ((rc = get_flag(r, &m->has_prepared)) != 0)
			return rc;
		if (m->has_prepared) {
			m->p_view = ch_rd_u64(r);
			ch_rd_copy(r, m->p_digest, PBFT_HASH_LEN);
			ch_rd_copy(r, m->p_sig, PBFT_SIG_LEN);
			if ((rc = get_votes(r, n, &m->prep, &m->nprep)) != 0)
				return rc;
		}
		return get_block(r, max_block, m);
	case PBFT_NEWVIEW:
		if (depth > 0)
			return CH_E_BAD_ENCODING;
		if ((rc = get_flag(r, &m->has_prepared)) != 0)
			return rc;
		ch_rd_copy(r, m->p_sig, PBFT_SIG_LEN);
		m->nvcs = ch_rd_u16(r);
		if (r->bad || m->nvcs > n || m->nvcs * 64u > ch_rd_left(r)) {
			m->nvcs = 0;
			return CH_E_BAD_ENCODING;
		}
		if (m->nvcs > 0 && (m->vcs = calloc(m->nvcs, sizeof(*m->vcs))) == NULL) {
			m->nvcs = 0;
			return CH_E_NOMEM;
		}
		for (uint32_t i = 0; i < m->nvcs; i++) {
			uint32_t len = ch_rd_u32(r);
			const uint8_t *p = ch_rd_ptr(r, len);
			struct ch_rd sub;
			if (p == NULL)
				return CH_E_BAD_ENCODING;
			ch_rd_init(&sub, p, len);
			if ((rc = decode_at(&sub, n, max_block, depth + 1, &m->vcs[i])) != 0)
				return rc;
			if (m->vcs[i].type != PBFT_VIEWCHANGE)
				return CH_E_BAD_ENCODING;
		}
		return get_block(r, max_block, m);
	default:
		return CH_E_BAD_ENCODING;
	}
}

static int
decode_at(struct ch_rd *r, uint32_t n, size_t max_block, int depth, struct pbft_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = ch_rd_u8(r);
	m->from = ch_rd_u16(r);
	m->view = ch_rd_u64(r);
	m->height = ch_rd_u64(r);
	ch_rd_copy(r, m->digest, PBFT_HASH_LEN);
	if (r->bad || m->from >= n)
		return CH_E_BAD_ENCODING;
	int rc = decode_body(r, n, max_block, depth, m);
	if (rc != 0)
		return rc;
	ch_rd_copy(r, m->sig, PBFT_SIG_LEN);
	return ch_rd_done(r) ? 0 : CH_E_BAD_ENCODING;
}

int
pbft_msg_decode(const uint8_t *data, size_t len, uint32_t n, size_t max_block,
		struct pbft_msg *m, struct ch_err *err)
{
	struct ch_rd r;
	ch_rd_init(&r, data, len);
	int rc = decode_at(&r, n, max_block, 0, m);
	if (rc != 0) {
		pbft_msg_close(m);
		return ch_errf(err, rc, rc == CH_E_NOMEM ? "out of memory decoding a peer message"
							 : "malformed peer message");
	}
	return 0;
}
