/*
 * Raft messages: wire encoding, strict decoding, and the commit-vote
 * preimage. Big-endian throughout:
 *
 *   type u8 | from u16 | term u64 | body | sig[64]
 *   PREVOTE, VOTE            last_index u64 | last_term u64
 *   PREVOTE_RESP, VOTE_RESP  granted u8
 *   APPEND       prev_index u64 | prev_term u64 | prev_height u64
 *                | commit_index u64 | cert_height u64 | leader_height u64 | flags u8
 *                | npending u8 | npending x (height u64 | digest[32])
 *                | nentries u16 | nentries x (term u64 | height u64 | kind u8
 *                                             [kind 1: digest[32] | len u32 | block])
 *                | ncerts u8 | ncerts x (height u64 | term u64 | nvotes u16
 *                                        | nvotes x (from u16 | sig[64]))
 *   APPEND_RESP  success u8 | index u64 | last_index u64 | unanchored u8 | host_height u64
 *                | nvotes u8 | nvotes x (height u64 | sig[64])
 *
 * The signature covers "chaind/raft/v1" 0x00 followed by every byte before
 * it (core.c); decoding is canonical, so those bytes are the fields.
 */
#include <string.h>

#include "raft/raft_internal.h"

static const char commit_prefix[] = "chaind/commit/v1";

void
raft_vote_preimage(uint64_t height, uint64_t term, const uint8_t digest[RAFT_HASH_LEN],
                   uint8_t out[RAFT_VOTE_PREIMAGE_LEN])
{
	memcpy(out, commit_prefix, sizeof(commit_prefix)); /* with its NUL */
	ch_put_be64(out + sizeof(commit_prefix), height);
	ch_put_be64(out + sizeof(commit_prefix) + 8, term);
	memcpy(out + sizeof(commit_prefix) + 16, digest, RAFT_HASH_LEN);
}

size_t
raft_msg_entry_size(const struct raft_msg_entry *e)
{
	return 17 + (e->is_block ? RAFT_HASH_LEN + 4 + e->block_len : 0);
}

static void
encode_append(const struct raft_msg *m, struct ch_buf *b)
{
	ch_buf_u64(b, m->prev_index);
	ch_buf_u64(b, m->prev_term);
	ch_buf_u64(b, m->prev_height);
	ch_buf_u64(b, m->commit_index);
	ch_buf_u64(b, m->cert_height);
	ch_buf_u64(b, m->leader_height);
	ch_buf_u8(b, m->flags);
	ch_buf_u8(b, (uint8_t)m->npending);
	for (uint32_t i = 0; i < m->npending; i++) {
		ch_buf_u64(b, m->pending[i].height);
		ch_buf_put(b, m->pending[i].digest, RAFT_HASH_LEN);
	}
	ch_buf_u16(b, (uint16_t)m->nentries);
	for (uint32_t i = 0; i < m->nentries; i++) {
		const struct raft_msg_entry *e = &m->entries[i];
		ch_buf_u64(b, e->term);
		ch_buf_u64(b, e->height);
		ch_buf_u8(b, e->is_block);
		if (e->is_block) {
			ch_buf_put(b, e->digest, RAFT_HASH_LEN);
			ch_buf_u32(b, (uint32_t)e->block_len);
			ch_buf_put(b, e->block, e->block_len);
		}
	}
	ch_buf_u8(b, (uint8_t)m->ncerts);
	for (uint32_t i = 0; i < m->ncerts; i++) {
		const struct raft_msg_cert *c = &m->certs[i];
		ch_buf_u64(b, c->height);
		ch_buf_u64(b, c->term);
		ch_buf_u16(b, (uint16_t)c->nvotes);
		for (uint32_t k = 0; k < c->nvotes; k++) {
			ch_buf_u16(b, (uint16_t)c->votes[k].from);
			ch_buf_put(b, c->votes[k].sig, RAFT_SIG_LEN);
		}
	}
}

void
raft_msg_encode(const struct raft_msg *m, struct ch_buf *b)
{
	ch_buf_u8(b, m->type);
	ch_buf_u16(b, (uint16_t)m->from);
	ch_buf_u64(b, m->term);
	switch (m->type) {
	case RAFT_MSG_PREVOTE:
	case RAFT_MSG_VOTE:
		ch_buf_u64(b, m->last_index);
		ch_buf_u64(b, m->last_term);
		break;
	case RAFT_MSG_PREVOTE_RESP:
	case RAFT_MSG_VOTE_RESP:
		ch_buf_u8(b, m->granted);
		break;
	case RAFT_MSG_APPEND:
		encode_append(m, b);
		break;
	case RAFT_MSG_APPEND_RESP:
		ch_buf_u8(b, m->success);
		ch_buf_u64(b, m->index);
		ch_buf_u64(b, m->last_index);
		ch_buf_u8(b, m->unanchored);
		ch_buf_u64(b, m->host_height);
		ch_buf_u8(b, (uint8_t)m->nvotes);
		for (uint32_t i = 0; i < m->nvotes; i++) {
			ch_buf_u64(b, m->votes[i].height);
			ch_buf_put(b, m->votes[i].sig, RAFT_SIG_LEN);
		}
		break;
	default:
		break;
	}
}

/* ---- decoding ---- */

/* rd_num reads a u64 that must be below RAFT_MAX_INDEX. */
static uint64_t
rd_num(struct ch_rd *r)
{
	uint64_t v = ch_rd_u64(r);
	if (v >= RAFT_MAX_INDEX)
		r->bad = true;
	return v;
}

static bool
rd_flag(struct ch_rd *r)
{
	uint8_t v = ch_rd_u8(r);
	if (v > 1)
		r->bad = true;
	return v == 1;
}

static void
decode_entry(struct ch_rd *r, size_t max_block, struct raft_msg_entry *e)
{
	e->term = rd_num(r);
	e->height = rd_num(r);
	e->is_block = rd_flag(r);
	e->block = NULL;
	e->block_len = 0;
	if (!e->is_block) {
		memset(e->digest, 0, RAFT_HASH_LEN);
		return;
	}
	ch_rd_copy(r, e->digest, RAFT_HASH_LEN);
	uint32_t len = ch_rd_u32(r);
	if (r->bad || len == 0 || len > max_block) {
		r->bad = true;
		return;
	}
	e->block = ch_rd_ptr(r, len);
	e->block_len = len;
}

static void
decode_append(struct ch_rd *r, uint32_t n, size_t max_block, struct raft_msg *m)
{
	m->prev_index = rd_num(r);
	m->prev_term = rd_num(r);
	m->prev_height = rd_num(r);
	m->commit_index = rd_num(r);
	m->cert_height = rd_num(r);
	m->leader_height = rd_num(r);
	m->flags = ch_rd_u8(r);
	if (m->flags & ~RAFT_APPEND_FETCH)
		r->bad = true;
	m->npending = ch_rd_u8(r);
	if (m->npending > RAFT_MAX_PENDING) {
		r->bad = true;
		return;
	}
	for (uint32_t i = 0; i < m->npending && !r->bad; i++) {
		m->pending[i].height = rd_num(r);
		ch_rd_copy(r, m->pending[i].digest, RAFT_HASH_LEN);
	}
	m->nentries = ch_rd_u16(r);
	if (m->nentries > RAFT_MAX_ENTRIES) {
		r->bad = true;
		return;
	}
	for (uint32_t i = 0; i < m->nentries && !r->bad; i++)
		decode_entry(r, max_block, &m->entries[i]);
	m->ncerts = ch_rd_u8(r);
	if (m->ncerts > RAFT_MAX_CERTS) {
		r->bad = true;
		return;
	}
	for (uint32_t i = 0; i < m->ncerts && !r->bad; i++) {
		struct raft_msg_cert *c = &m->certs[i];
		c->height = rd_num(r);
		c->term = rd_num(r);
		c->nvotes = ch_rd_u16(r);
		c->votes = NULL;
		if (c->nvotes == 0 || c->nvotes > n) {
			r->bad = true;
			return;
		}
		c->raw = ch_rd_ptr(r, (size_t)c->nvotes * (2 + RAFT_SIG_LEN));
	}
}

static void
decode_append_resp(struct ch_rd *r, struct raft_msg *m)
{
	m->success = rd_flag(r);
	m->index = rd_num(r);
	m->last_index = rd_num(r);
	m->unanchored = rd_flag(r);
	m->host_height = rd_num(r);
	m->nvotes = ch_rd_u8(r);
	if (m->nvotes > RAFT_MAX_RESP_VOTES) {
		r->bad = true;
		return;
	}
	for (uint32_t i = 0; i < m->nvotes && !r->bad; i++) {
		m->votes[i].height = rd_num(r);
		ch_rd_copy(r, m->votes[i].sig, RAFT_SIG_LEN);
	}
}

int
raft_msg_decode(const uint8_t *data, size_t len, uint32_t n, size_t max_block, struct raft_msg *m)
{
	struct ch_rd r;
	if (len < 11 + RAFT_SIG_LEN)
		return CH_E_BAD_ENCODING;
	ch_rd_init(&r, data, len - RAFT_SIG_LEN); /* the signature is the last 64 bytes */
	m->type = ch_rd_u8(&r);
	m->from = ch_rd_u16(&r);
	m->term = rd_num(&r);
	m->npending = m->nentries = m->ncerts = m->nvotes = 0;
	switch (m->type) {
	case RAFT_MSG_PREVOTE:
	case RAFT_MSG_VOTE:
		m->last_index = rd_num(&r);
		m->last_term = rd_num(&r);
		break;
	case RAFT_MSG_PREVOTE_RESP:
	case RAFT_MSG_VOTE_RESP:
		m->granted = rd_flag(&r);
		break;
	case RAFT_MSG_APPEND:
		decode_append(&r, n, max_block, m);
		break;
	case RAFT_MSG_APPEND_RESP:
		decode_append_resp(&r, m);
		break;
	default:
		return CH_E_BAD_ENCODING;
	}
	return ch_rd_done(&r) ? 0 : CH_E_BAD_ENCODING;
}

void
raft_msg_cert_vote(const struct raft_msg_cert *c, uint32_t i, struct raft_vote *out)
{
	const uint8_t *p = c->raw + (size_t)i * (2 + RAFT_SIG_LEN);
	out->from = (uint32_t)p[0] << 8 | p[1];
	memcpy(out->sig, p + 2, RAFT_SIG_LEN);
}
