/*
 * Paxos messages: wire encoding, strict decoding, and what signatures cover.
 *
 *   type u8 | from u16 | ballot u64 | body | sig[64]
 *   PREPARE    slot u64 (the first slot asked about)
 *   PROMISE    slot u64 (echo) | height u64 | count u8
 *              | count x (slot u64 | ballot u64 | digest[32] | len u32 | block)
 *   ACCEPT     slot u64 | digest[32] | len u32 | block
 *   ACCEPTED   slot u64 | digest[32]
 *   COMMITTED  slot u64 | digest[32] | count u16 | count x (from u16 | sig[64])
 *   HEARTBEAT  height u64
 *   NACK       height u64
 *
 * ACCEPTED is signed as the commit vote of chain/block.h,
 * "chaind/commit/v1" 0x00 | height u64 | view u64 | hash[32] with view =
 * ballot, so a majority of them is the block's commit certificate. Every
 * other message is signed over "chaind/paxos/v1" 0x00 followed by its
 * encoding up to the signature.
 */
#include <string.h>

#include "paxos/paxos_internal.h"

static const char sign_prefix[] = "chaind/paxos/v1";
static const char commit_prefix[] = "chaind/commit/v1";

void
paxos_vote_preimage(uint64_t height, uint64_t ballot, const uint8_t digest[PAXOS_HASH_LEN],
		    struct ch_buf *out)
{
	ch_buf_put(out, commit_prefix, sizeof(commit_prefix)); /* with its NUL */
	ch_buf_u64(out, height);
	ch_buf_u64(out, ballot);
	ch_buf_put(out, digest, PAXOS_HASH_LEN);
}

static void
put_block(struct ch_buf *b, const uint8_t *block, size_t len)
{
	ch_buf_u32(b, (uint32_t)len);
	ch_buf_put(b, block, len);
}

void
paxos_msg_body(const struct paxos_msg *m, struct ch_buf *out)
{
	ch_buf_u8(out, m->type);
	ch_buf_u16(out, (uint16_t)m->from);
	ch_buf_u64(out, m->ballot);
	switch (m->type) {
	case PAXOS_PREPARE:
		ch_buf_u64(out, m->slot);
		break;
	case PAXOS_PROMISE:
		ch_buf_u64(out, m->slot);
		ch_buf_u64(out, m->height);
		ch_buf_u8(out, (uint8_t)m->nentries);
		for (uint32_t i = 0; i < m->nentries; i++) {
			const struct paxos_entry *e = &m->entries[i];
			ch_buf_u64(out, e->slot);
			ch_buf_u64(out, e->ballot);
			ch_buf_put(out, e->digest, PAXOS_HASH_LEN);
			put_block(out, e->block, e->block_len);
		}
		break;
	case PAXOS_ACCEPT:
		ch_buf_u64(out, m->slot);
		ch_buf_put(out, m->digest, PAXOS_HASH_LEN);
		put_block(out, m->block, m->block_len);
		break;
	case PAXOS_ACCEPTED:
		ch_buf_u64(out, m->slot);
		ch_buf_put(out, m->digest, PAXOS_HASH_LEN);
		break;
	case PAXOS_COMMITTED:
		ch_buf_u64(out, m->slot);
		ch_buf_put(out, m->digest, PAXOS_HASH_LEN);
		ch_buf_u16(out, (uint16_t)m->nvotes);
		for (uint32_t i = 0; i < m->nvotes; i++) {
			ch_buf_u16(out, (uint16_t)m->votes[i].from);
			ch_buf_put(out, m->votes[i].sig, PAXOS_SIG_LEN);
		}
		break;
	default: /* HEARTBEAT, NACK */
		ch_buf_u64(out, m->height);
		break;
	}
}

void
paxos_msg_signed(const struct paxos_msg *m, struct ch_buf *out)
{
	if (m->type == PAXOS_ACCEPTED) {
		paxos_vote_preimage(m->slot, m->ballot, m->digest, out);
		return;
	}
	ch_buf_put(out, sign_prefix, sizeof(sign_prefix));
	paxos_msg_body(m, out);
}

/* get_block borrows a length-prefixed block of 1..max_block bytes. */
static bool
get_block(struct ch_rd *r, size_t max_block, const uint8_t **block, size_t *len)
{
	uint32_t n = ch_rd_u32(r);
	if (r->bad || n == 0 || n > max_block)
		return false;
	*block = ch_rd_ptr(r, n);
	*len = n;
	return *block != NULL;
}

static bool
get_entries(struct ch_rd *r, size_t max_block, struct paxos_msg *m)
{
	uint32_t k = ch_rd_u8(r);
	if (r->bad || k > PAXOS_WINDOW)
		return false;
	for (uint32_t i = 0; i < k; i++) {
		struct paxos_entry *e = &m->entries[i];
		e->slot = ch_rd_u64(r);
		e->ballot = ch_rd_u64(r);
		ch_rd_copy(r, e->digest, PAXOS_HASH_LEN);
		if (!get_block(r, max_block, &e->block, &e->block_len))
			return false;
		/* ascending slots at or above the one asked about, ballots no later than the promise */
		if (e->slot < m->slot || (i > 0 && e->slot <= m->entries[i - 1].slot) ||
		    e->ballot == 0 || e->ballot > m->ballot)
			return false;
	}
	m->nentries = k;
	return true;
}

static bool
get_votes(struct ch_rd *r, uint32_t n, struct paxos_msg *m)
{
	uint32_t k = ch_rd_u16(r);
	if (r->bad || k > n || (size_t)k * (2 + PAXOS_SIG_LEN) > ch_rd_left(r))
		return false;
	for (uint32_t i = 0; i < k; i++) {
		m->votes[i].from = ch_rd_u16(r);
		ch_rd_copy(r, m->votes[i].sig, PAXOS_SIG_LEN);
		/* distinct validators in ascending order */
		if (m->votes[i].from >= n || (i > 0 && m->votes[i].from <= m->votes[i - 1].from))
			return false;
	}
	m->nvotes = k;
	return !r->bad;
}

static bool
decode_body(struct ch_rd *r, uint32_t n, size_t max_block, struct paxos_msg *m)
{
	switch (m->type) {
	case PAXOS_PREPARE:
		m->slot = ch_rd_u64(r);
		return m->ballot > 0 && m->slot > 0;
	case PAXOS_PROMISE:
		m->slot = ch_rd_u64(r);
		m->height = ch_rd_u64(r);
		return m->ballot > 0 && m->slot > 0 && get_entries(r, max_block, m);
	case PAXOS_ACCEPT:
		m->slot = ch_rd_u64(r);
		ch_rd_copy(r, m->digest, PAXOS_HASH_LEN);
		return m->ballot > 0 && m->slot > 0 &&
		       get_block(r, max_block, &m->block, &m->block_len);
	case PAXOS_ACCEPTED:
		m->slot = ch_rd_u64(r);
		ch_rd_copy(r, m->digest, PAXOS_HASH_LEN);
		return m->ballot > 0 && m->slot > 0;
	case PAXOS_COMMITTED:
		m->slot = ch_rd_u64(r);
		ch_rd_copy(r, m->digest, PAXOS_HASH_LEN);
		return m->ballot > 0 && m->slot > 0 && get_votes(r, n, m);
	case PAXOS_HEARTBEAT:
		m->height = ch_rd_u64(r);
		return m->ballot > 0;
	case PAXOS_NACK:
		m->height = ch_rd_u64(r);
		return true;
	default:
		return false;
	}
}

int
paxos_msg_decode(const uint8_t *data, size_t len, uint32_t n, size_t max_block,
		 struct paxos_msg *m)
{
	struct ch_rd r;
	ch_rd_init(&r, data, len);
	m->type = ch_rd_u8(&r);
	m->from = ch_rd_u16(&r);
	m->ballot = ch_rd_u64(&r);
	m->slot = m->height = 0;
	m->block = NULL;
	m->block_len = 0;
	m->nentries = m->nvotes = 0;
	memset(m->digest, 0, PAXOS_HASH_LEN);
	if (r.bad || !decode_body(&r, n, max_block, m))
		return CH_E_BAD_ENCODING;
	ch_rd_copy(&r, m->sig, PAXOS_SIG_LEN);
	return ch_rd_done(&r) ? 0 : CH_E_BAD_ENCODING;
}

size_t
paxos_max_message(uint32_t n, size_t max_block_bytes)
{
	size_t head = 1 + 2 + 8, tail = PAXOS_SIG_LEN;
	size_t promise = head + 8 + 8 + 1 +
			 PAXOS_WINDOW * (8 + 8 + PAXOS_HASH_LEN + 4 + max_block_bytes) + tail;
	size_t committed = head + 8 + PAXOS_HASH_LEN + 2 + (size_t)n * (2 + PAXOS_SIG_LEN) + tail;
	return promise > committed ? promise : committed; /* an ACCEPT is smaller than a PROMISE */
}
