/*
 * Commitment: the commit rule (paper 5.4.2), commit certificates, COMMIT
 * actions, and the committed prefix the core shares with the host.
 *
 * Commit certificates: an AppendEntries names cert_height, below which the
 * leader holds a certificate for every block, and lists the digests of the
 * uncertified blocks at or below prev. A follower that accepts it signs a
 * commit vote (height, term, digest) for each of those and for each block
 * among the entries: after the consistency check its log (or its host's
 * committed chain) agrees with the leader's up to the last entry, so it
 * holds them. The leader signs its own; once a block is committed it gets
 * a certificate of a majority of this term's votes, in ascending validator
 * order, and the leader sends certificates to followers whose host lacks
 * them. Anyone emits COMMIT for a committed block once it holds the block
 * and its certificate, in height order.
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_internal.h"

/* ---- the committed prefix ---- */

/*
 * raft_compact drops entries the host has executed (committed, at or below
 * its tip), keeping cfg.retain of them for followers that lag.
 */
void
raft_compact(struct raft *r)
{
	if (!r->anchored)
		return;
	uint64_t exec = raft_log_last_upto(&r->log, r->host_height, r->commit_index);
	if (exec > r->log.base_index + r->cfg.retain)
		raft_log_compact(&r->log, exec - r->cfg.retain);
}

/*
 * raft_adopt_tip: the host's chain now ends at height (committed or
 * synced). The log is kept even when the chain is past it: it is still a
 * valid Raft log, and a leader anchors it at the tip if it must.
 */
void
raft_adopt_tip(struct raft *r, uint64_t height)
{
	r->host_height = height;
	if (r->emitted < height)
		r->emitted = height;
	bool learned = raft_learn_commit(r, height);
	raft_compact(r);
	if (learned)
		raft_advance(r);
}

/* ---- commit and certificates ---- */

/*
 * raft_learn_commit: a host's chain holds only committed blocks. The leader's
 * log holds every committed entry (paper 5.4.3) and one block per height,
 * so its block at a height some host reached is committed, with all before
 * it. Only a leader may conclude this: a follower's block at that height
 * may be an uncommitted one of an older term.
 */
bool
raft_learn_commit(struct raft *r, uint64_t host_height)
{
	uint64_t j;
	if (r->role != RAFT_LEADER || raft_log_block(&r->log, host_height, &j) == NULL ||
	    j <= r->commit_index)
		return false;
	r->commit_index = j;
	return true;
}

static struct raft_vote_slot *
votes_of(struct raft *r, struct raft_entry *e)
{
	if (e->votes == NULL && (e->votes = calloc(r->cfg.n, sizeof(*e->votes))) == NULL)
		abort();
	return e->votes;
}

static void
add_vote(struct raft *r, struct raft_entry *e, uint32_t from, const uint8_t sig[RAFT_SIG_LEN])
{
	struct raft_vote_slot *v = votes_of(r, e);
	if (v[from].has)
		return;
	v[from].has = true;
	memcpy(v[from].sig, sig, RAFT_SIG_LEN);
	e->nvotes++;
}

/* raft_record_votes keeps a follower's verified commit votes of this term (see the top). */
void
raft_record_votes(struct raft *r, const struct raft_msg *m)
{
	for (uint32_t i = 0; i < m->nvotes; i++) {
		uint64_t idx;
		struct raft_entry *e = raft_log_block(&r->log, m->votes[i].height, &idx);
		if (e == NULL || e->cert != NULL || idx > m->index ||
		    (e->votes != NULL && e->votes[m->from].has))
			continue;
		if (raft_verify_vote(r, m->from, e->height, r->term, e->digest, m->votes[i].sig))
			add_vote(r, e, m->from, m->votes[i].sig);
	}
}

/* raft_sign_own_votes: the leader's vote for each uncertified block it holds (durable). */
void
raft_sign_own_votes(struct raft *r)
{
	for (size_t i = 0; i < r->log.len; i++) {
		struct raft_entry *e = &r->log.e[i];
		if (!e->is_block || e->cert != NULL || e->height <= r->host_height ||
		    (e->votes != NULL && e->votes[r->cfg.self].has))
			continue;
		uint8_t sig[RAFT_SIG_LEN];
		raft_sign_vote(r, e->height, r->term, e->digest, sig);
		add_vote(r, e, r->cfg.self, sig);
	}
}

/* raft_certified_height: every block up to it is in the host's chain, handed out, or certified. */
uint64_t
raft_certified_height(const struct raft *r)
{
	uint64_t h = r->emitted;
	for (;;) {
		const struct raft_entry *e = raft_log_block(&r->log, h + 1, NULL);
		if (e == NULL || e->cert == NULL)
			return h;
		h++;
	}
}

/* build_certs gives each committed block with a majority of this term's votes its certificate. */
static bool
build_certs(struct raft *r)
{
	bool any = false;
	for (size_t i = 0; i < r->log.len; i++) {
		struct raft_entry *e = &r->log.e[i];
		if (r->log.base_index + 1 + i > r->commit_index)
			break;
		if (!e->is_block || e->cert != NULL || e->nvotes < r->quorum)
			continue;
		if ((e->cert = malloc(r->quorum * sizeof(*e->cert))) == NULL)
			abort();
		uint32_t k = 0;
		for (uint32_t v = 0; v < r->cfg.n && k < r->quorum; v++)
			if (e->votes[v].has) {
				e->cert[k].from = v;
				memcpy(e->cert[k++].sig, e->votes[v].sig, RAFT_SIG_LEN);
			}
		e->ncert = k;
		e->cert_term = r->term;
		raft_entry_clear_votes(e);
		any = true;
	}
	return any;
}

/* raft_emit_commits hands the host committed, certified blocks in height order. */
void
raft_emit_commits(struct raft *r)
{
	for (;;) {
		uint64_t idx;
		const struct raft_entry *e = raft_log_block(&r->log, r->emitted + 1, &idx);
		if (e == NULL || idx > r->commit_index || e->cert == NULL)
			return;
		/* the record knows the commit before the host executes (restarts anchor on it) */
		if (r->dirty || r->persisted_commit < idx)
			raft_persist(r);
		struct raft_action *a = raft_push_action(r, RAFT_ACT_COMMIT);
		a->height = e->height;
		a->term = e->cert_term;
		memcpy(a->digest, e->digest, RAFT_HASH_LEN);
		if ((a->block = malloc(e->block_len)) == NULL ||
		    (a->cert = malloc(e->ncert * sizeof(*a->cert))) == NULL)
			abort();
		memcpy(a->block, e->block, e->block_len);
		a->block_len = e->block_len;
		memcpy(a->cert, e->cert, e->ncert * sizeof(*a->cert));
		a->ncert = e->ncert;
		r->emitted++;
	}
}

static int
cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* quorum_match: the highest index a majority holds (the leader's own log is durable). */
static uint64_t
quorum_match(const struct raft *r)
{
	uint64_t m[RAFT_MAX_VALIDATORS];
	for (uint32_t i = 0; i < r->cfg.n; i++)
		m[i] = i == r->cfg.self ? raft_log_last_index(&r->log) : r->peers[i].match;
	qsort(m, r->cfg.n, sizeof(m[0]), cmp_desc);
	return m[r->quorum - 1];
}

/*
 * raft_advance: a leader commits the highest index a majority holds if its
 * entry is of the current term (paper 5.4.2: counting replicas of an older
 * term's entry is the Figure 8 bug, which cfg.unsafe_commit_old_terms
 * re-enables for tests); then certificates and COMMITs follow.
 */
void
raft_advance(struct raft *r)
{
	if (r->role != RAFT_LEADER) {
		raft_emit_commits(r);
		return;
	}
	bool progress = false;
	for (uint32_t f = 0; f < r->cfg.n; f++)
		if (f != r->cfg.self && raft_learn_commit(r, r->peers[f].host_height))
			progress = true;
	uint64_t n = quorum_match(r), t;
	if (n > r->commit_index && raft_log_term_at(&r->log, n, &t) &&
	    (t == r->term || r->cfg.unsafe_commit_old_terms)) {
		r->commit_index = n;
		progress = true;
	}
	if (build_certs(r))
		progress = true;
	raft_emit_commits(r);
	if (progress)
		raft_replicate_all(r, true); /* followers learn the commit and certificates now */
}
