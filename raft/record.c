/*
 * The durable record (paper Figure 2, "persistent state"; thesis 3.8): what
 * a validator must remember across a crash. It is self-contained, so each
 * PERSIST replaces the previous one:
 *
 *   version u8 (=1) | term u64 | voted_for u32 (0xffffffff: none) | anchored u8
 *   | base_index u64 | base_term u64 | base_height u64 | commit_index u64
 *   | nentries u32 | nentries x (term u64 | height u64 | kind u8
 *                               [kind 1: digest[32] | len u32 | block])
 *
 * The base is the last entry known committed at or below the host's tip
 * (when unanchored: zero, with the tip's height); the entries are those
 * after it. The commit index is written before any COMMIT that relies on
 * it, so after a restart the host's tip is among the committed entries,
 * unless block sync took the chain further (the log then catches up).
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_internal.h"

#define RECORD_VERSION 1

static void
put_entry(struct ch_buf *b, const struct raft_entry *e)
{
	ch_buf_u64(b, e->term);
	ch_buf_u64(b, e->height);
	ch_buf_u8(b, e->is_block);
	if (e->is_block) {
		ch_buf_put(b, e->digest, RAFT_HASH_LEN);
		ch_buf_u32(b, (uint32_t)e->block_len);
		ch_buf_put(b, e->block, e->block_len);
	}
}

void
raft_record_encode(const struct raft *r, struct ch_buf *out)
{
	uint64_t base = 0, bterm = 0, bheight = r->host_height;
	if (r->anchored) {
		base = raft_log_last_upto(&r->log, r->host_height, r->commit_index);
		raft_log_term_at(&r->log, base, &bterm);
		raft_log_height_at(&r->log, base, &bheight);
	}
	ch_buf_u8(out, RECORD_VERSION);
	ch_buf_u64(out, r->term);
	ch_buf_u32(out, r->voted_for);
	ch_buf_u8(out, r->anchored);
	ch_buf_u64(out, r->anchored ? base : 0);
	ch_buf_u64(out, bterm);
	ch_buf_u64(out, bheight);
	ch_buf_u64(out, r->commit_index);
	uint64_t last = r->anchored ? raft_log_last_index(&r->log) : base;
	ch_buf_u32(out, (uint32_t)(last - base));
	for (uint64_t i = base + 1; i <= last; i++)
		put_entry(out, raft_log_get(&r->log, i));
}

struct record {
	uint64_t term;
	uint32_t voted_for;
	bool anchored;
	uint64_t base_index, base_term, base_height, commit_index;
	uint32_t nentries;
	const uint8_t *entries; /* borrowed: the encoded entries */
	size_t entries_len;
	uint64_t top_height; /* the highest block height, or base_height */
};

static uint64_t
rd_num(struct ch_rd *r)
{
	uint64_t v = ch_rd_u64(r);
	if (v >= RAFT_MAX_INDEX)
		r->bad = true;
	return v;
}

/* read_entry parses one entry into e (block borrowed); false if malformed. */
static bool
read_entry(struct ch_rd *r, struct raft_msg_entry *e)
{
	e->term = rd_num(r);
	e->height = rd_num(r);
	uint8_t kind = ch_rd_u8(r);
	e->is_block = kind == 1;
	e->block = NULL;
	e->block_len = 0;
	memset(e->digest, 0, RAFT_HASH_LEN);
	if (kind == 1) {
		ch_rd_copy(r, e->digest, RAFT_HASH_LEN);
		e->block_len = ch_rd_u32(r);
		e->block = ch_rd_ptr(r, e->block_len);
		if (e->block_len == 0 || e->block == NULL)
			return false;
	}
	return kind <= 1 && !r->bad;
}

/* parse checks a whole record: fields bounded, heights and terms consistent, nothing trailing. */
static bool
parse(const uint8_t *data, size_t len, struct record *rec)
{
	struct ch_rd r;
	ch_rd_init(&r, data, len);
	if (ch_rd_u8(&r) != RECORD_VERSION)
		return false;
	rec->term = rd_num(&r);
	rec->voted_for = ch_rd_u32(&r);
	uint8_t anchored = ch_rd_u8(&r);
	rec->anchored = anchored == 1;
	rec->base_index = rd_num(&r);
	rec->base_term = rd_num(&r);
	rec->base_height = rd_num(&r);
	rec->commit_index = rd_num(&r);
	rec->nentries = ch_rd_u32(&r);
	if (r.bad || anchored > 1 || rec->base_term > rec->term ||
	    rec->nentries > ch_rd_left(&r) / 17 || (!rec->anchored && rec->nentries > 0) ||
	    rec->base_index + rec->nentries >= RAFT_MAX_INDEX ||
	    rec->commit_index < rec->base_index ||
	    rec->commit_index > rec->base_index + rec->nentries)
		return false;
	rec->entries = data + r.off;
	rec->entries_len = ch_rd_left(&r);
	uint64_t h = rec->base_height, t = rec->base_term;
	rec->top_height = h;
	for (uint32_t i = 0; i < rec->nentries; i++) {
		struct raft_msg_entry e;
		if (!read_entry(&r, &e) || e.term < t || e.term > rec->term ||
		    e.height != h + (e.is_block ? 1 : 0))
			return false;
		h = e.height;
		t = e.term;
	}
	rec->top_height = h;
	return ch_rd_done(&r);
}

int
raft_restore(struct raft *r, const uint8_t *record, size_t len, struct ch_err *err)
{
	struct record rec;
	if (record == NULL || !parse(record, len, &rec) ||
	    (rec.voted_for != RAFT_NO_LEADER && rec.voted_for >= r->cfg.n))
		return ch_errf(err, CH_E_BAD_ENCODING, "raft record is damaged");
	if (rec.anchored && rec.base_height > r->host_height)
		return ch_errf(err, CH_E_INVALID,
		               "raft record starts at height %llu, past the chain's tip %llu",
		               (unsigned long long)rec.base_height,
		               (unsigned long long)r->host_height);
	r->term = rec.term;
	r->voted_for = rec.voted_for;
	raft_log_reset(&r->log, rec.base_index, rec.base_term, rec.base_height);
	struct ch_rd rd;
	ch_rd_init(&rd, rec.entries, rec.entries_len);
	for (uint32_t i = 0; i < rec.nentries; i++) {
		struct raft_msg_entry me;
		read_entry(&rd, &me);
		struct raft_entry *e = raft_log_append(&r->log);
		e->term = me.term;
		e->height = me.height;
		e->is_block = me.is_block;
		memcpy(e->digest, me.digest, RAFT_HASH_LEN);
		if (me.is_block) {
			if ((e->block = malloc(me.block_len)) == NULL) {
				raft_log_reset(&r->log, 0, 0, r->host_height);
				return ch_errf(err, CH_E_NOMEM,
				               "out of memory restoring the raft log");
			}
			memcpy(e->block, me.block, me.block_len);
			e->block_len = me.block_len;
		}
	}
	r->anchored = rec.anchored;
	r->commit_index = rec.commit_index;
	if (rec.anchored) /* the host's from here down */
		raft_log_compact(&r->log,
		                 raft_log_last_upto(&r->log, r->host_height, r->commit_index));
	else
		raft_log_reset(&r->log, 0, 0, r->host_height);
	r->dirty = false;
	r->persisted_commit = r->commit_index;
	r->leader = RAFT_NO_LEADER;
	r->role = RAFT_FOLLOWER;
	return 0;
}

int
raft_record_mark(const uint8_t *record, size_t len, uint64_t *term, uint64_t *height, bool *voted,
                 struct ch_err *err)
{
	struct record rec;
	if (record == NULL || !parse(record, len, &rec))
		return ch_errf(err, CH_E_BAD_ENCODING, "raft record is damaged");
	*term = rec.term;
	*height = rec.top_height;
	*voted = rec.voted_for != RAFT_NO_LEADER;
	return 0;
}
