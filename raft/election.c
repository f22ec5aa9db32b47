/*
 * Leader election (paper 5.2, 5.4.1) with pre-vote (thesis 9.6), leader
 * stickiness (thesis 4.2.3) and check-quorum (thesis 6.2).
 */
#include <string.h>

#include "raft/raft_internal.h"

/* raft_last_pos: the (term, index) of the last entry (paper 5.4.1); none when unanchored. */
void
raft_last_pos(const struct raft *r, uint64_t *term, uint64_t *index)
{
	*term = r->anchored ? raft_log_last_term(&r->log) : 0;
	*index = r->anchored ? raft_log_last_index(&r->log) : 0;
}

/* log_ok: the election restriction (paper 5.4.1), "at least as up-to-date". */
static bool
log_ok(const struct raft *r, uint64_t last_term, uint64_t last_index)
{
	uint64_t t, i;
	raft_last_pos(r, &t, &i);
	return last_term > t || (last_term == t && last_index >= i);
}

/*
 * heard_leader: a leader was heard within the minimum election timeout, so
 * a pre-vote or a vote for someone else would only disrupt it (thesis 9.6,
 * 4.2.3). A leader counts as hearing itself; check-quorum deposes it when
 * it loses the majority.
 */
static bool
heard_leader(const struct raft *r)
{
	if (r->role == RAFT_LEADER)
		return true;
	return r->leader != RAFT_NO_LEADER &&
	       r->now < r->leader_contact + r->cfg.election_timeout_ms;
}

static void
reset_timer(struct raft *r)
{
	r->election_deadline = r->now + raft_random_timeout(r);
}

void
raft_become_follower(struct raft *r, uint64_t term, uint32_t leader)
{
	if (term > r->term) {
		r->term = term;
		r->voted_for = RAFT_NO_LEADER;
		r->dirty = true;
	}
	if (r->role == RAFT_LEADER)
		raft_leader_stop(r);
	r->role = RAFT_FOLLOWER;
	r->leader = leader;
	r->ngranted = 0;
	reset_timer(r);
}

static void
count_self(struct raft *r)
{
	memset(r->granted, 0, r->cfg.n);
	r->granted[r->cfg.self] = 1;
	r->ngranted = 1;
}

static void
become_leader(struct raft *r)
{
	r->role = RAFT_LEADER;
	r->leader = r->cfg.self;
	raft_leader_start(r);
}

/* start_election: a candidate of the next term votes for itself (paper 5.2). */
static void
start_election(struct raft *r)
{
	r->term++;
	r->voted_for = r->cfg.self;
	r->dirty = true;
	r->role = RAFT_CANDIDATE;
	r->leader = RAFT_NO_LEADER;
	count_self(r);
	reset_timer(r);
	if (r->ngranted >= r->quorum) {
		raft_flush(r);
		become_leader(r);
		return;
	}
	struct raft_msg m;
	raft_msg_init(r, &m, RAFT_MSG_VOTE);
	raft_last_pos(r, &m.last_term, &m.last_index);
	raft_broadcast(r, &m); /* the vote for itself is durable first */
}

/* start_prevote asks whether a majority would vote, without bumping the term (thesis 9.6). */
static void
start_prevote(struct raft *r)
{
	reset_timer(r);
	if (!r->anchored)
		return; /* it holds no log to lead with: wait for a leader to anchor it */
	r->role = RAFT_PRE_CANDIDATE;
	r->leader = RAFT_NO_LEADER;
	count_self(r);
	if (r->ngranted >= r->quorum) {
		start_election(r);
		return;
	}
	struct raft_msg m;
	raft_msg_init(r, &m, RAFT_MSG_PREVOTE);
	m.term = r->term + 1;
	raft_last_pos(r, &m.last_term, &m.last_index);
	raft_broadcast(r, &m);
}

void
raft_election_tick(struct raft *r)
{
	if (r->now >= r->election_deadline)
		start_prevote(r);
}

/* raft_check_quorum: a leader not heard by a majority for an election timeout steps down. */
void
raft_check_quorum(struct raft *r)
{
	uint64_t window = r->cfg.election_timeout_ms;
	if (r->now < r->leader_since + window)
		return;
	uint32_t heard = 1;
	for (uint32_t i = 0; i < r->cfg.n; i++)
		if (i != r->cfg.self && r->now < r->peers[i].last_heard + window)
			heard++;
	if (heard < r->quorum)
		raft_become_follower(r, r->term, RAFT_NO_LEADER);
}

void
raft_on_prevote(struct raft *r, const struct raft_msg *m)
{
	bool grant =
	        m->term > r->term && !heard_leader(r) && log_ok(r, m->last_term, m->last_index);
	struct raft_msg resp;
	raft_msg_init(r, &resp, RAFT_MSG_PREVOTE_RESP);
	resp.term = grant ? m->term : r->term;
	resp.granted = grant;
	raft_send(r, m->from, &resp);
}

void
raft_on_prevote_resp(struct raft *r, const struct raft_msg *m)
{
	if (!m->granted) {
		if (m->term > r->term)
			raft_become_follower(r, m->term, RAFT_NO_LEADER);
		return;
	}
	if (r->role != RAFT_PRE_CANDIDATE || m->term != r->term + 1 || r->granted[m->from])
		return;
	r->granted[m->from] = 1;
	if (++r->ngranted >= r->quorum)
		start_election(r);
}

void
raft_on_vote(struct raft *r, const struct raft_msg *m)
{
	if (m->term > r->term && heard_leader(r))
		return; /* thesis 4.2.3: ignore it, neither the term nor the vote changes */
	if (m->term > r->term)
		raft_become_follower(r, m->term, RAFT_NO_LEADER);
	bool grant = m->term == r->term &&
	             (r->voted_for == RAFT_NO_LEADER || r->voted_for == m->from) &&
	             log_ok(r, m->last_term, m->last_index);
	if (grant && r->voted_for != m->from) {
		r->voted_for = m->from;
		r->dirty = true;
	}
	if (grant)
		reset_timer(r);
	struct raft_msg resp;
	raft_msg_init(r, &resp, RAFT_MSG_VOTE_RESP);
	resp.granted = grant;
	raft_send(r, m->from, &resp); /* the vote is durable before it leaves */
}

void
raft_on_vote_resp(struct raft *r, const struct raft_msg *m)
{
	if (m->term > r->term) {
		raft_become_follower(r, m->term, RAFT_NO_LEADER);
		return;
	}
	if (r->role != RAFT_CANDIDATE || m->term != r->term || !m->granted || r->granted[m->from])
		return;
	r->granted[m->from] = 1;
	if (++r->ngranted >= r->quorum)
		become_leader(r);
}
