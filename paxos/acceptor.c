/*
 * The acceptor (Lamport, "Paxos Made Simple", section 2.2, P1a and the
 * acceptor's two actions, run once for all slots as in section 3): it
 * promises ballot b if it promised nothing higher, accepts a value of
 * ballot b if it promised nothing higher than b, and makes both durable
 * (PAXOS_ACT_PERSIST) before the PROMISE or ACCEPTED that depends on them.
 *
 * ACCEPTED goes to the ballot's leader alone, not to every learner (section
 * 2.3 allows either): n messages per block instead of n^2, and the leader's
 * COMMITTED carries the same signed votes, so a learner checks exactly what
 * it would have collected. If the leader fails in between, the next leader's
 * phase 1 finds the value in a majority and re-proposes it.
 */
#include <string.h>

#include "paxos/paxos_internal.h"

struct paxos_value *
paxos_accepted_at(struct paxos *p, uint64_t slot)
{
	for (int i = 0; i < PAXOS_WINDOW; i++)
		if (p->accepted[i].has && p->accepted[i].slot == slot)
			return &p->accepted[i];
	return NULL;
}

/* paxos_acceptor_trim drops values at or below the host's committed height: those slots are decided. */
void
paxos_acceptor_trim(struct paxos *p)
{
	for (int i = 0; i < PAXOS_WINDOW; i++)
		if (p->accepted[i].has && p->accepted[i].slot <= p->height)
			paxos_value_clear(&p->accepted[i]);
}

/*
 * send_nack refuses a proposer with the highest ballot this validator knows
 * of and its committed height: the proposer stops or catches up.
 */
static void
send_nack(struct paxos *p, uint32_t to)
{
	struct paxos_msg m;
	paxos_msg_init(p, &m, PAXOS_NACK, p->promised > p->follow_ballot ? p->promised
									: p->follow_ballot);
	m.height = p->height;
	paxos_send(p, to, &m);
}

void
paxos_on_prepare(struct paxos *p, const struct paxos_msg *m)
{
	paxos_note_ballot(p, m->ballot);
	paxos_note_height(p, m->from, m->slot - 1); /* the proposer asks from its height + 1 */
	if (m->from != paxos_ballot_leader(m->ballot, p->cfg.n))
		return; /* a ballot is its owner's alone */
	if (m->ballot < p->promised) {
		send_nack(p, m->from);
		return;
	}
	if (m->ballot > p->promised) {
		paxos_higher_ballot(p, m->ballot);
		p->promised = m->ballot;
		paxos_emit_persist(p); /* the promise is durable before it leaves */
	}
	paxos_heard_leader(p, m->from, m->ballot, false);
	/* PROMISE with every accepted value at or above the slot asked about, in slot order */
	struct paxos_msg r;
	paxos_msg_init(p, &r, PAXOS_PROMISE, m->ballot);
	r.slot = m->slot;
	r.height = p->height;
	uint64_t last = 0;
	for (;;) {
		const struct paxos_value *next = NULL;
		for (int i = 0; i < PAXOS_WINDOW; i++) {
			const struct paxos_value *v = &p->accepted[i];
			if (v->has && v->slot >= m->slot && (r.nentries == 0 || v->slot > last) &&
			    (next == NULL || v->slot < next->slot))
				next = v;
		}
		if (next == NULL)
			break;
		struct paxos_entry *e = &r.entries[r.nentries++];
		e->slot = next->slot;
		e->ballot = next->ballot;
		memcpy(e->digest, next->digest, PAXOS_HASH_LEN);
		e->block = next->block;
		e->block_len = next->block_len;
		last = next->slot;
	}
	paxos_send(p, m->from, &r);
}

/*
 * paxos_accept_value accepts (ballot, slot, digest, block) if no higher
 * ballot was promised, raising the promise to ballot, and queues the record
 * with it. False if it may not (a higher promise, a slot outside the window
 * or another value for the same ballot).
 */
bool
paxos_accept_value(struct paxos *p, uint64_t ballot, uint64_t slot,
		   const uint8_t digest[PAXOS_HASH_LEN], const uint8_t *block, size_t len)
{
	if (ballot < p->promised || slot <= p->height || slot - p->height > PAXOS_WINDOW)
		return false;
	paxos_acceptor_trim(p);
	struct paxos_value *v = paxos_accepted_at(p, slot);
	if (v != NULL && v->ballot == ballot)
		return memcmp(v->digest, digest, PAXOS_HASH_LEN) == 0; /* durable already */
	if (ballot > p->promised) {
		paxos_higher_ballot(p, ballot);
		p->promised = ballot;
	}
	if (v == NULL)
		for (int i = 0; i < PAXOS_WINDOW && v == NULL; i++)
			if (!p->accepted[i].has)
				v = &p->accepted[i];
	/* slots in (height, height + PAXOS_WINDOW] are distinct, so one is free */
	paxos_value_set(v, slot, ballot, digest, block, len);
	paxos_emit_persist(p);
	return true;
}

void
paxos_on_accept(struct paxos *p, const struct paxos_msg *m)
{
	paxos_note_ballot(p, m->ballot);
	paxos_note_height(p, m->from, m->slot - 1); /* a leader proposes at its height + 1 */
	if (m->from != paxos_ballot_leader(m->ballot, p->cfg.n))
		return;
	if (m->ballot < p->promised) {
		send_nack(p, m->from);
		return;
	}
	paxos_heard_leader(p, m->from, m->ballot, true);
	if (m->slot <= p->height) {
		send_nack(p, m->from); /* decided here: the leader learns our height */
		return;
	}
	if (m->slot - p->height > PAXOS_WINDOW)
		return; /* too far ahead: block sync first */
	uint8_t h[PAXOS_HASH_LEN];
	if (!p->host.block_hash(p->host.arg, m->block, m->block_len, h) ||
	    memcmp(h, m->digest, PAXOS_HASH_LEN) != 0)
		return;
	if (!paxos_accept_value(p, m->ballot, m->slot, m->digest, m->block, m->block_len))
		return;
	struct paxos_msg r;
	paxos_msg_init(p, &r, PAXOS_ACCEPTED, m->ballot);
	r.slot = m->slot;
	memcpy(r.digest, m->digest, PAXOS_HASH_LEN);
	paxos_send(p, m->from, &r); /* signed as the commit vote */
}
