/*
 * Log replication: AppendEntries from the leader's side and the follower's
 * (paper 5.3, Figure 2; thesis 3.5, with pipelining as in thesis chapter 10), including
 * the way back for a node whose host's chain ran ahead of its log.
 *
 * Rejoining: the host's chain up to its tip H is committed, and may be
 * ahead of what the log knows (block sync). A core started on a chain with
 * no record cannot say at which index H lies: it is unanchored, holds no
 * entries and acknowledges nothing. An AppendEntries whose prev entry has
 * height H and lies at or below the sender's commit index names a
 * committed entry; every committed block up to H precedes it and none
 * above H does, so the leader's log up to prev is exactly the host's
 * chain. Only then does the node take prev as its base and accept the
 * entries after it. An anchored node whose log fails the consistency check
 * there does the same: what it drops either precedes prev (so the base now
 * stands for it) or conflicts with the committed prev (so it was never
 * committed, and the election restriction loses nothing).
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_internal.h"

/* ---- rejoining ---- */

/* rebase makes the committed entry (index, term, height) the base of an empty log. */
static void
rebase(struct raft *r, uint64_t index, uint64_t term, uint64_t height)
{
	raft_log_reset(&r->log, index, term, height);
	r->anchored = true;
	r->commit_index = index;
	r->dirty = true;
}

/* ---- the leader ---- */

/* need_sync: the follower's host lacks a block this leader can no longer certify to it. */
static bool
need_sync(const struct raft *r, const struct raft_peer *p)
{
	if (p->host_height >= r->host_height)
		return false;
	const struct raft_entry *e = raft_log_block(&r->log, p->host_height + 1, NULL);
	return e == NULL || e->cert == NULL;
}

static void
add_pending(const struct raft *r, struct raft_msg *m, uint64_t cert_h)
{
	for (size_t i = 0; i < r->log.len && m->npending < RAFT_MAX_PENDING; i++) {
		const struct raft_entry *e = &r->log.e[i];
		if (r->log.base_index + 1 + i > m->prev_index)
			break;
		if (e->is_block && e->height > cert_h) {
			m->pending[m->npending].height = e->height;
			memcpy(m->pending[m->npending++].digest, e->digest, RAFT_HASH_LEN);
		}
	}
}

static void
add_certs(const struct raft *r, struct raft_msg *m, const struct raft_peer *p, uint64_t cert_h)
{
	uint64_t h = p->host_height + 1;
	if (h <= r->log.base_height)
		h = r->log.base_height + 1; /* blocks below the log: need_sync decides */
	for (; h <= cert_h && m->ncerts < RAFT_MAX_CERTS; h++) {
		const struct raft_entry *e = raft_log_block(&r->log, h, NULL);
		if (e == NULL || e->cert == NULL)
			continue;
		struct raft_msg_cert *c = &m->certs[m->ncerts++];
		c->height = h;
		c->term = e->cert_term;
		c->nvotes = e->ncert;
		c->votes = e->cert;
		c->raw = NULL;
	}
}

/* add_entries packs entries from prev + 1 up to the byte budget; returns the last index. */
static uint64_t
add_entries(const struct raft *r, struct raft_msg *m)
{
	size_t used = 0;
	uint64_t idx = m->prev_index + 1;
	for (; idx <= raft_log_last_index(&r->log) && m->nentries < RAFT_MAX_ENTRIES; idx++) {
		const struct raft_entry *e = raft_log_get(&r->log, idx);
		struct raft_msg_entry *me = &m->entries[m->nentries];
		me->term = e->term;
		me->height = e->height;
		me->is_block = e->is_block;
		memcpy(me->digest, e->digest, RAFT_HASH_LEN);
		me->block = e->block;
		me->block_len = e->block_len;
		size_t sz = raft_msg_entry_size(me);
		if (m->nentries > 0 && used + sz > r->entry_budget)
			break;
		used += sz;
		m->nentries++;
	}
	return m->prev_index + m->nentries;
}

static void
send_append(struct raft *r, uint32_t f, bool with_entries)
{
	struct raft_peer *p = &r->peers[f];
	struct raft_msg m;
	raft_msg_init(r, &m, RAFT_MSG_APPEND);
	uint64_t cert_h = raft_certified_height(r);
	m.commit_index = r->commit_index;
	m.cert_height = cert_h;
	m.leader_height = r->host_height;
	p->last_sent = r->now;
	uint64_t prev = p->next - 1;
	if (p->next <= r->log.base_index || need_sync(r, p)) {
		/* it needs entries no longer held: block sync, as snapshots (thesis ch. 5) */
		m.flags = RAFT_APPEND_FETCH;
		m.prev_index = r->log.base_index;
		m.prev_term = r->log.base_term;
		m.prev_height = r->log.base_height;
		raft_send(r, f, &m);
		return;
	}
	/*
	 * A heartbeat while entries are in flight names the known match, so
	 * their reordering cannot make it fail; otherwise it probes next - 1.
	 */
	if (!with_entries && !p->probe && p->ninflight > 0 && p->match >= r->log.base_index &&
	    p->match < prev)
		prev = p->match;
	m.prev_index = prev;
	raft_log_term_at(&r->log, prev, &m.prev_term);
	raft_log_height_at(&r->log, prev, &m.prev_height);
	add_pending(r, &m, cert_h);
	add_certs(r, &m, p, cert_h);
	if (with_entries) {
		uint64_t end = add_entries(r, &m);
		if (p->ninflight < RAFT_MAX_INFLIGHT) {
			p->inflight_end[p->ninflight] = end;
			p->inflight_from[p->ninflight] = prev + 1;
			p->inflight_at[p->ninflight++] = r->now;
		}
		if (!p->probe)
			p->next = end + 1; /* optimistic: pipelining (thesis chapter 10) */
	}
	raft_send(r, f, &m);
}

/* replicate sends f what it lacks, within the in-flight window, or a heartbeat when due. */
static void
replicate(struct raft *r, uint32_t f, bool force)
{
	struct raft_peer *p = &r->peers[f];
	bool sent = false;
	for (;;) {
		uint32_t limit = p->probe ? 1 : r->cfg.max_inflight;
		if (p->next > raft_log_last_index(&r->log) || p->ninflight >= limit ||
		    p->next <= r->log.base_index || need_sync(r, p))
			break;
		send_append(r, f, true);
		sent = true;
		if (p->probe)
			break;
	}
	if (!sent && (force || r->now >= p->last_sent + r->cfg.heartbeat_ms))
		send_append(r, f, false);
}

void
raft_replicate_all(struct raft *r, bool force)
{
	if (r->role != RAFT_LEADER)
		return;
	for (uint32_t f = 0; f < r->cfg.n; f++)
		if (f != r->cfg.self)
			replicate(r, f, force);
}

/* raft_leader_start: a new leader appends a no-op of its term (thesis 6.4) and asserts itself. */
void
raft_leader_start(struct raft *r)
{
	r->leader_since = r->now;
	uint64_t h = raft_log_last_height(&r->log);
	struct raft_entry *e = raft_log_append(&r->log);
	e->term = r->term;
	e->height = h;
	r->noop_index = raft_log_last_index(&r->log);
	r->dirty = true;
	raft_flush(r);
	for (uint32_t f = 0; f < r->cfg.n; f++) {
		struct raft_peer *p = &r->peers[f];
		memset(p, 0, sizeof(*p));
		p->next = r->noop_index;
		p->probe = true;
		p->last_heard = r->now;
		p->host_height = r->host_height;
	}
	raft_sign_own_votes(r);
	raft_advance(r);
	raft_replicate_all(r, true);
}

void
raft_leader_stop(struct raft *r)
{
	for (size_t i = 0; i < r->log.len; i++)
		raft_entry_clear_votes(&r->log.e[i]);
}

void
raft_leader_tick(struct raft *r)
{
	uint64_t rto = r->cfg.election_timeout_ms / 2;
	if (rto < r->cfg.heartbeat_ms)
		rto = r->cfg.heartbeat_ms;
	for (uint32_t f = 0; f < r->cfg.n; f++) {
		if (f == r->cfg.self)
			continue;
		struct raft_peer *p = &r->peers[f];
		if (p->ninflight > 0 && r->now >= p->inflight_at[0] + rto) {
			/* retransmit from the oldest unacknowledged AppendEntries */
			if (p->inflight_from[0] < p->next)
				p->next = p->inflight_from[0];
			p->ninflight = 0;
			p->probe = true;
		}
		replicate(r, f, false);
	}
}

/* on_reject picks where to try next: backtrack on the hint, or anchor at the host's tip. */
static void
on_reject(struct raft *r, struct raft_peer *p, const struct raft_msg *m)
{
	uint64_t before = p->next;
	p->ninflight = 0;
	p->probe = true;
	if (!m->unanchored) {
		if (p->match > m->last_index)
			p->match = m->last_index; /* it gave up entries (Rejoining) */
		uint64_t cand = p->next - 1 < m->index ? p->next - 1 : m->index;
		if (cand < p->match)
			cand = p->match; /* it holds this term's entries up to its match */
		if (cand >= r->log.base_index) {
			p->next = cand + 1;
			goto out;
		}
	}
	uint64_t k;
	if (raft_log_last_at_height(&r->log, m->host_height, r->commit_index, &k)) {
		p->next = k + 1; /* a committed entry at its tip's height: see Rejoining */
		if (p->match > k)
			p->match = k;
	} else if (m->host_height < r->log.base_height) {
		p->next = r->log.base_index; /* below what is held: it must sync */
	} else if (p->match > r->commit_index) {
		p->match = r->commit_index; /* past this leader's commit point: wait for it */
	}
out:
	if (p->next != before)
		replicate(r, m->from, false);
}

void
raft_on_append_resp(struct raft *r, const struct raft_msg *m)
{
	if (m->term > r->term) {
		raft_become_follower(r, m->term, RAFT_NO_LEADER);
		return;
	}
	if (r->role != RAFT_LEADER || m->term != r->term)
		return;
	struct raft_peer *p = &r->peers[m->from];
	p->last_heard = r->now;
	p->host_height = m->host_height;
	if (raft_learn_commit(r, m->host_height))
		raft_advance(r);
	if (r->role != RAFT_LEADER)
		return;
	if (!m->success) {
		on_reject(r, p, m);
		return;
	}
	if (m->index > raft_log_last_index(&r->log))
		return; /* not an index of this term's log */
	if (m->index > p->match)
		p->match = m->index;
	if (p->next <= p->match)
		p->next = p->match + 1;
	uint32_t k = 0;
	while (k < p->ninflight && p->inflight_end[k] <= m->index)
		k++;
	memmove(p->inflight_end, p->inflight_end + k, (p->ninflight - k) * sizeof(uint64_t));
	memmove(p->inflight_from, p->inflight_from + k, (p->ninflight - k) * sizeof(uint64_t));
	memmove(p->inflight_at, p->inflight_at + k, (p->ninflight - k) * sizeof(uint64_t));
	p->ninflight -= k;
	if (p->probe) {
		/* the probe found where the logs agree: resume right after it */
		p->probe = false;
		p->ninflight = 0;
		p->next = p->match + 1;
	}
	raft_record_votes(r, m);
	raft_advance(r);
	if (r->role == RAFT_LEADER)
		replicate(r, m->from, false);
}

/* ---- the follower ---- */

static void
respond(struct raft *r, const struct raft_msg *m, bool success, uint64_t index)
{
	struct raft_msg resp;
	raft_msg_init(r, &resp, RAFT_MSG_APPEND_RESP);
	resp.success = success;
	resp.index = index;
	resp.last_index = r->anchored ? raft_log_last_index(&r->log) : 0;
	resp.unanchored = !r->anchored;
	resp.host_height = r->host_height;
	if (success) {
		/* commit votes for the uncertified blocks now held (commit.c) */
		for (uint32_t i = 0; i < m->npending && resp.nvotes < RAFT_MAX_RESP_VOTES; i++) {
			const struct raft_msg_pending *pd = &m->pending[i];
			const struct raft_entry *e = raft_log_block(&r->log, pd->height, NULL);
			if (pd->height <= m->cert_height || pd->height > m->prev_height ||
			    (e != NULL && memcmp(e->digest, pd->digest, RAFT_HASH_LEN) != 0))
				continue;
			resp.votes[resp.nvotes].height = pd->height;
			raft_sign_vote(r, pd->height, m->term, pd->digest,
			               resp.votes[resp.nvotes++].sig);
		}
		for (uint32_t i = 0; i < m->nentries && resp.nvotes < RAFT_MAX_RESP_VOTES; i++) {
			const struct raft_msg_entry *e = &m->entries[i];
			if (!e->is_block || e->height <= m->cert_height)
				continue;
			resp.votes[resp.nvotes].height = e->height;
			raft_sign_vote(r, e->height, m->term, e->digest,
			               resp.votes[resp.nvotes++].sig);
		}
	}
	raft_send(r, m->from, &resp); /* what it acknowledges is durable first */
}

/* reject_hint: the last index worth trying, skipping a conflicting term (paper 5.3, end). */
static uint64_t
reject_hint(const struct raft *r, const struct raft_msg *m)
{
	if (!r->anchored)
		return 0;
	uint64_t last = raft_log_last_index(&r->log), t, u;
	if (m->prev_index > last || m->prev_index <= r->log.base_index ||
	    !raft_log_term_at(&r->log, m->prev_index, &t))
		return last; /* short, or not a conflict (a FETCH) */
	uint64_t hint = m->prev_index - 1;
	while (hint > r->log.base_index && raft_log_term_at(&r->log, hint, &u) && u == t)
		hint--;
	return hint;
}

/* well_formed: entry heights and terms follow from prev (cheap, before any state change). */
static bool
well_formed(const struct raft_msg *m)
{
	uint64_t h = m->prev_height, t = m->prev_term;
	if (m->prev_term > m->term || m->prev_index + m->nentries >= RAFT_MAX_INDEX)
		return false;
	for (uint32_t i = 0; i < m->nentries; i++) {
		const struct raft_msg_entry *e = &m->entries[i];
		if (e->term < t || e->term > m->term || e->height != h + (e->is_block ? 1 : 0))
			return false;
		h = e->height;
		t = e->term;
	}
	return true;
}

/* match_prev: the consistency check (paper 5.3), or anchoring at the host's tip (Rejoining). */
static bool
match_prev(struct raft *r, const struct raft_msg *m)
{
	if (r->anchored) {
		if (m->prev_index < r->log.base_index)
			return true; /* within the committed prefix */
		uint64_t t, h;
		if (raft_log_term_at(&r->log, m->prev_index, &t) && t == m->prev_term)
			return raft_log_height_at(&r->log, m->prev_index, &h) &&
			       h == m->prev_height;
	}
	if (m->prev_index <= m->commit_index && m->prev_height == r->host_height &&
	    (!r->anchored || m->prev_index > r->commit_index)) {
		rebase(r, m->prev_index, m->prev_term, r->host_height);
		return true;
	}
	return false;
}

/* append_entries stores what is new; false if the message must be dropped. */
static bool
append_entries(struct raft *r, const struct raft_msg *m)
{
	uint32_t i = 0;
	for (; i < m->nentries; i++) {
		uint64_t idx = m->prev_index + 1 + i, t;
		if (idx <= r->log.base_index)
			continue;
		if (!raft_log_term_at(&r->log, idx, &t) || t != m->entries[i].term)
			break;
	}
	if (i == m->nentries)
		return true;
	for (uint32_t k = i; k < m->nentries; k++) {
		const struct raft_msg_entry *e = &m->entries[k];
		uint8_t h[RAFT_HASH_LEN];
		if (e->is_block && (!r->host.block_hash(r->host.arg, e->block, e->block_len, h) ||
		                    memcmp(h, e->digest, RAFT_HASH_LEN) != 0))
			return false;
	}
	uint64_t first = m->prev_index + 1 + i;
	if (first <= raft_log_last_index(&r->log)) {
		if (first <= r->commit_index)
			return false; /* would overwrite a committed entry: not a real leader's */
		raft_log_truncate(&r->log, first);
	}
	for (uint32_t k = i; k < m->nentries; k++) {
		const struct raft_msg_entry *me = &m->entries[k];
		struct raft_entry *e = raft_log_append(&r->log);
		e->term = me->term;
		e->height = me->height;
		e->is_block = me->is_block;
		memcpy(e->digest, me->digest, RAFT_HASH_LEN);
		if (me->is_block) {
			if ((e->block = malloc(me->block_len)) == NULL)
				abort();
			memcpy(e->block, me->block, me->block_len);
			e->block_len = me->block_len;
		}
	}
	r->dirty = true;
	return true;
}

static void
store_certs(struct raft *r, const struct raft_msg *m)
{
	for (uint32_t i = 0; i < m->ncerts; i++) {
		const struct raft_msg_cert *c = &m->certs[i];
		struct raft_entry *e = raft_log_block(&r->log, c->height, NULL);
		if (e == NULL || e->cert != NULL || c->nvotes < r->quorum || c->term > m->term)
			continue;
		struct raft_vote v[RAFT_MAX_VALIDATORS];
		bool ok = true;
		for (uint32_t k = 0; k < c->nvotes && ok; k++) {
			raft_msg_cert_vote(c, k, &v[k]);
			ok = (k == 0 || v[k].from > v[k - 1].from) &&
			     raft_verify_vote(r, v[k].from, c->height, c->term, e->digest,
			                      v[k].sig);
		}
		if (!ok)
			continue;
		if ((e->cert = malloc(c->nvotes * sizeof(*e->cert))) == NULL)
			abort();
		memcpy(e->cert, v, c->nvotes * sizeof(*e->cert));
		e->ncert = c->nvotes;
		e->cert_term = c->term;
	}
}

static void
maybe_fetch(struct raft *r, uint32_t leader, uint64_t height)
{
	if (height <= r->host_height || (r->fetching && r->now < r->fetch_deadline))
		return;
	r->fetching = true;
	r->fetch_deadline = r->now + 2 * r->cfg.election_timeout_ms;
	struct raft_action *a = raft_push_action(r, RAFT_ACT_FETCH);
	a->to = leader;
	a->height = height;
}

void
raft_on_append(struct raft *r, const struct raft_msg *m)
{
	if (m->term < r->term) {
		respond(r, m, false, 0); /* our term deposes a stale leader */
		return;
	}
	if (r->role == RAFT_LEADER && m->term == r->term)
		return; /* one leader per term: not from a real peer */
	if (m->term > r->term || r->role != RAFT_FOLLOWER || r->leader != m->from)
		raft_become_follower(r, m->term, m->from);
	r->leader_contact = r->now;
	r->election_deadline = r->now + raft_random_timeout(r);
	if (!well_formed(m))
		return;
	if (m->flags & RAFT_APPEND_FETCH) {
		maybe_fetch(r, m->from, m->leader_height);
		respond(r, m, false, reject_hint(r, m));
		return;
	}
	if (!match_prev(r, m)) {
		respond(r, m, false, reject_hint(r, m));
		return;
	}
	if (!append_entries(r, m))
		return;
	uint64_t match = m->prev_index + m->nentries;
	uint64_t c = m->commit_index < match ? m->commit_index : match;
	if (c > r->commit_index)
		r->commit_index = c;
	store_certs(r, m);
	respond(r, m, true, match);
	raft_emit_commits(r);
}
