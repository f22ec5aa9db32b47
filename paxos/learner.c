/*
 * The learner (Lamport, "Paxos Made Simple", section 2.3): a value is
 * chosen when a majority of acceptors accepted it in one ballot; their
 * ACCEPTED signatures are commit votes, so the majority is the block's
 * commit certificate. The leader collects them and broadcasts COMMITTED;
 * a learner that holds the block commits it in slot order (PAXOS_ACT_COMMIT)
 * and one that lacks it, or learns of committed heights above its own,
 * asks the host for block sync (PAXOS_ACT_FETCH), one request at a time.
 */
#include <string.h>

#include "paxos/paxos_internal.h"

static void
trim_chosen(struct paxos *p)
{
	for (int i = 0; i < PAXOS_WINDOW; i++)
		if (p->chosen[i].has && p->chosen[i].slot <= p->emitted)
			p->chosen[i].has = false;
}

static struct paxos_chosen *
chosen_at(struct paxos *p, uint64_t slot)
{
	for (int i = 0; i < PAXOS_WINDOW; i++)
		if (p->chosen[i].has && p->chosen[i].slot == slot)
			return &p->chosen[i];
	return NULL;
}

void
paxos_note_height(struct paxos *p, uint32_t from, uint64_t height)
{
	if (from >= p->cfg.n || from == p->cfg.self)
		return;
	if (height > p->peer_height[from])
		p->peer_height[from] = height;
	if (height > p->goal)
		p->goal = height;
}

/*
 * paxos_fetch_check asks for block sync when a height above ours is known
 * committed elsewhere. Unless urgent (a known gap), it waits a heartbeat
 * interval first, in case the COMMITTED for it is only late; then one
 * request at a time, rotating over those that claimed a higher height.
 */
void
paxos_fetch_check(struct paxos *p, bool urgent)
{
	if (p->goal <= p->emitted) {
		p->goal_since = 0;
		return;
	}
	if (p->goal_since == 0)
		p->goal_since = p->now ? p->now : 1;
	if (p->now < p->fetch_deadline || (!urgent && p->now < p->goal_since + p->cfg.heartbeat_ms))
		return;
	uint32_t n = p->cfg.n;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (p->fetch_next + k) % n;
		if (i == p->cfg.self || p->peer_height[i] <= p->emitted)
			continue;
		p->fetch_next = i + 1;
		p->fetch_deadline = p->now + p->cfg.timeout_ms;
		struct paxos_action *a = paxos_push(p, PAXOS_ACT_FETCH);
		a->to = i;
		a->height = p->peer_height[i];
		return;
	}
}

/* paxos_fetch_from fetches now (one request at a time), from `from` first if it is ahead. */
void
paxos_fetch_from(struct paxos *p, uint32_t from)
{
	if (from < p->cfg.n && from != p->cfg.self && p->now >= p->fetch_deadline)
		p->fetch_next = from;
	paxos_fetch_check(p, true);
}

/* block_for finds the bytes of the chosen value (slot, digest) if this validator holds them. */
static const struct paxos_value *
block_for(struct paxos *p, uint64_t slot, const uint8_t digest[PAXOS_HASH_LEN])
{
	const struct paxos_value *v = paxos_accepted_at(p, slot);
	if (v != NULL && memcmp(v->digest, digest, PAXOS_HASH_LEN) == 0)
		return v;
	v = &p->fly.v;
	if (v->has && v->slot == slot && memcmp(v->digest, digest, PAXOS_HASH_LEN) == 0)
		return v;
	return NULL;
}

/* paxos_try_commit queues COMMIT for every chosen slot right after the last one, in order. */
void
paxos_try_commit(struct paxos *p)
{
	for (;;) {
		trim_chosen(p);
		if (p->emitted == UINT64_MAX)
			return;
		struct paxos_chosen *c = chosen_at(p, p->emitted + 1);
		if (c == NULL)
			return;
		const struct paxos_value *v = block_for(p, c->slot, c->digest);
		if (v == NULL) {
			paxos_note_height(p, c->from, c->slot);
			paxos_fetch_from(p, c->from); /* whoever told us holds it */
			return;
		}
		struct paxos_action *a = paxos_push(p, PAXOS_ACT_COMMIT);
		a->height = c->slot;
		a->ballot = c->ballot;
		memcpy(a->digest, c->digest, PAXOS_HASH_LEN);
		a->block = paxos_dup(v->block, v->block_len);
		a->block_len = v->block_len;
		a->ncert = c->ncert;
		a->cert = paxos_dup(c->cert, c->ncert * sizeof(*c->cert));
		p->emitted = c->slot;
		c->has = false;
	}
}

void
paxos_learn_chosen(struct paxos *p, uint64_t slot, uint64_t ballot,
		   const uint8_t digest[PAXOS_HASH_LEN], uint32_t from,
		   const struct paxos_vote *cert, uint32_t ncert)
{
	trim_chosen(p);
	if (slot <= p->emitted || slot - p->emitted > PAXOS_WINDOW || chosen_at(p, slot) != NULL)
		return;
	struct paxos_chosen *c = NULL;
	for (int i = 0; i < PAXOS_WINDOW && c == NULL; i++)
		if (!p->chosen[i].has)
			c = &p->chosen[i];
	/* slots in (emitted, emitted + PAXOS_WINDOW] are distinct, so one is free */
	c->has = true;
	c->slot = slot;
	c->ballot = ballot;
	memcpy(c->digest, digest, PAXOS_HASH_LEN);
	c->from = from;
	c->ncert = ncert;
	memcpy(c->cert, cert, ncert * sizeof(*cert));
	paxos_try_commit(p);
}

void
paxos_on_committed(struct paxos *p, const struct paxos_msg *m)
{
	paxos_heard_leader(p, m->from, m->ballot, true);
	if (m->slot <= p->emitted)
		return;
	/* keep the votes that verify; fewer than a majority is no certificate */
	struct paxos_vote cert[PAXOS_MAX_VALIDATORS];
	uint32_t k = 0;
	struct ch_buf pre;
	ch_buf_init(&pre);
	paxos_vote_preimage(m->slot, m->ballot, m->digest, &pre);
	if (!ch_buf_ok(&pre)) {
		ch_buf_close(&pre);
		return;
	}
	for (uint32_t i = 0; i < m->nvotes; i++)
		if (p->host.verify(p->host.arg, m->votes[i].from, pre.data, pre.len,
				   m->votes[i].sig))
			cert[k++] = m->votes[i];
	ch_buf_close(&pre);
	if (k < p->quorum)
		return;
	/* the sender queued COMMIT before telling us, so it holds the block */
	paxos_note_height(p, m->from, m->slot);
	paxos_learn_chosen(p, m->slot, m->ballot, m->digest, m->from, cert, k);
	paxos_fetch_check(p, false);
}

/* paxos_advance: the host's committed height is now at least height (executed or synced). */
void
paxos_advance(struct paxos *p, uint64_t height)
{
	if (height > p->height) {
		p->height = height;
		p->catch_progress = p->now;
	}
	if (p->height > p->emitted)
		p->emitted = p->height;
	paxos_acceptor_trim(p);
	paxos_proposer_trim(p);
	paxos_try_commit(p);
	paxos_lead_step(p);
	paxos_fetch_check(p, false);
}
