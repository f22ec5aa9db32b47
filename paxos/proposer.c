/*
 * The proposer (Lamport, "Paxos Made Simple", section 3): a validator that
 * suspects the leader runs phase 1 once, for a ballot higher than any it has
 * seen, over every slot above its committed height; with a majority of
 * promises it leads. It first catches up to the highest committed height a
 * promise reported (those slots are chosen), then re-proposes, slot by slot,
 * the value of the highest ballot reported for each open slot, and only then
 * proposes new values (section 3: "the leader ... must first execute phase 2
 * for the instances whose values it has learned about").
 *
 * Failure detection (section 3, "a reliable leader election"): a follower
 * that has not heard from the leader of its ballot for a jittered timeout
 * starts phase 1; each failed attempt doubles the timeout, up to a cap.
 */
#include <string.h>

#include "paxos/paxos_internal.h"

/* next_ballot: the smallest ballot of ours above every ballot seen; 0 if none is left. */
static uint64_t
next_ballot(const struct paxos *p)
{
	uint64_t n = p->cfg.n, s = p->seen;
	uint64_t b = (s / n) * n + p->cfg.self;
	if (b <= s) {
		if (b > UINT64_MAX - n)
			return 0;
		b += n;
	}
	return b;
}

static void
clear_reprop(struct paxos *p)
{
	for (int i = 0; i < PAXOS_WINDOW; i++)
		paxos_value_clear(&p->reprop[i]);
}

static void
clear_flight(struct paxos *p)
{
	paxos_value_clear(&p->fly.v);
	p->fly.chosen = false;
	p->fly.nvotes = 0;
	memset(p->fly.voted, 0, sizeof(p->fly.voted));
}

/* paxos_proposer_trim forgets what the host's committed height made moot. */
void
paxos_proposer_trim(struct paxos *p)
{
	if (p->fly.v.has && p->fly.v.slot <= p->height)
		clear_flight(p);
	for (int i = 0; i < PAXOS_WINDOW; i++)
		if (p->reprop[i].has && p->reprop[i].slot <= p->height)
			paxos_value_clear(&p->reprop[i]);
}

/* step_down: a higher ballot exists, or the attempt failed; follow for a while. */
static void
step_down(struct paxos *p)
{
	p->leading = false;
	p->p1.active = false;
	p->fresh = false;
	p->top_height = 0;
	clear_flight(p);
	clear_reprop(p);
	if (p->backoff < 32)
		p->backoff++;
	p->follow_deadline = p->now + paxos_jittered(p);
}

void
paxos_higher_ballot(struct paxos *p, uint64_t ballot)
{
	paxos_note_ballot(p, ballot);
	if ((p->leading || p->p1.active) && ballot > p->mine)
		step_down(p);
}

void
paxos_heard_leader(struct paxos *p, uint32_t from, uint64_t ballot, bool phase2)
{
	if (from != paxos_ballot_leader(ballot, p->cfg.n))
		return;
	paxos_higher_ballot(p, ballot);
	if (ballot < p->follow_ballot)
		return;
	p->follow_ballot = ballot;
	if (!p->leading && !p->p1.active)
		p->follow_deadline = p->now + paxos_jittered(p);
	if (phase2)
		p->backoff = 0; /* someone leads and works: the next election starts afresh */
}

/* merge keeps, per slot above the highest reported committed height, the value of the highest ballot. */
static void
merge(struct paxos *p, uint32_t from, uint64_t height, const struct paxos_entry *e, uint32_t k)
{
	if (height > p->top_height) {
		p->top_height = height;
		p->top_from = from;
		for (int i = 0; i < PAXOS_WINDOW; i++)
			if (p->reprop[i].has && p->reprop[i].slot <= height)
				paxos_value_clear(&p->reprop[i]);
	}
	for (uint32_t j = 0; j < k; j++) {
		if (e[j].slot <= p->top_height || e[j].slot - p->top_height > PAXOS_WINDOW)
			continue;
		struct paxos_value *v = NULL, *free_v = NULL;
		for (int i = 0; i < PAXOS_WINDOW; i++) {
			if (p->reprop[i].has && p->reprop[i].slot == e[j].slot)
				v = &p->reprop[i];
			else if (!p->reprop[i].has && free_v == NULL)
				free_v = &p->reprop[i];
		}
		if (v != NULL && v->ballot >= e[j].ballot)
			continue;
		if (v == NULL)
			v = free_v; /* distinct slots in a window of PAXOS_WINDOW: one is free */
		paxos_value_set(v, e[j].slot, e[j].ballot, e[j].digest, e[j].block, e[j].block_len);
	}
}

static void
own_entries(struct paxos *p, struct paxos_entry *e, uint32_t *k)
{
	*k = 0;
	for (int i = 0; i < PAXOS_WINDOW; i++) {
		const struct paxos_value *v = &p->accepted[i];
		if (!v->has || v->slot < p->p1.from)
			continue;
		struct paxos_entry *x = &e[(*k)++];
		x->slot = v->slot;
		x->ballot = v->ballot;
		memcpy(x->digest, v->digest, PAXOS_HASH_LEN);
		x->block = v->block;
		x->block_len = v->block_len;
	}
}

static void
send_prepare(struct paxos *p, bool all)
{
	struct paxos_msg m;
	paxos_msg_init(p, &m, PAXOS_PREPARE, p->mine);
	m.slot = p->p1.from;
	if (all) {
		paxos_broadcast(p, &m);
		return;
	}
	for (uint32_t i = 0; i < p->cfg.n; i++)
		if (!p->p1.promised[i])
			paxos_send(p, i, &m);
}

static void
send_heartbeat(struct paxos *p)
{
	struct paxos_msg m;
	paxos_msg_init(p, &m, PAXOS_HEARTBEAT, p->mine);
	m.height = p->height;
	paxos_broadcast(p, &m);
	p->last_send = p->now;
}

static void
phase1_done(struct paxos *p)
{
	p->p1.active = false;
	p->leading = true;
	p->lead_since = p->now;
	p->backoff = 0;
	p->fresh = false;
	if (p->mine > p->follow_ballot)
		p->follow_ballot = p->mine;
	send_heartbeat(p); /* followers learn the leader at once */
	p->catch_progress = p->now;
	if (p->top_height > p->emitted) {
		/* slots up to top_height are chosen: fetch them from that promiser first */
		paxos_note_height(p, p->top_from, p->top_height);
		paxos_fetch_from(p, p->top_from);
	}
	paxos_lead_step(p);
}

void
paxos_start_phase1(struct paxos *p)
{
	uint64_t b = next_ballot(p);
	if (b == 0)
		return; /* ballots are exhausted: follow whoever has the last one */
	p->leading = false;
	p->fresh = false;
	clear_flight(p);
	clear_reprop(p);
	p->mine = b;
	p->promised = b;
	p->seen = b;
	struct paxos_phase1 *p1 = &p->p1;
	memset(p1, 0, sizeof(*p1));
	p1->active = true;
	p1->from = p->height + 1;
	p1->promised[p->cfg.self] = true;
	p1->count = 1;
	p1->retry_at = p->now + p->cfg.timeout_ms;
	p1->deadline = p->now + p->cfg.timeout_ms + paxos_jittered(p);
	p->top_height = p->height;
	p->top_from = p->cfg.self;
	struct paxos_entry e[PAXOS_WINDOW];
	uint32_t k;
	own_entries(p, e, &k);
	merge(p, p->cfg.self, p->height, e, k);
	paxos_emit_persist(p); /* our own promise, before anyone acts on the PREPARE */
	send_prepare(p, true);
	if (p1->count >= p->quorum)
		phase1_done(p);
}

void
paxos_on_promise(struct paxos *p, const struct paxos_msg *m)
{
	paxos_note_ballot(p, m->ballot);
	paxos_note_height(p, m->from, m->height);
	struct paxos_phase1 *p1 = &p->p1;
	if (!p1->active || m->ballot != p->mine || m->slot != p1->from || p1->promised[m->from])
		return;
	for (uint32_t i = 0; i < m->nentries; i++) {
		uint8_t h[PAXOS_HASH_LEN];
		const struct paxos_entry *e = &m->entries[i];
		if (!p->host.block_hash(p->host.arg, e->block, e->block_len, h) ||
		    memcmp(h, e->digest, PAXOS_HASH_LEN) != 0)
			return;
	}
	p1->promised[m->from] = true;
	p1->count++;
	merge(p, m->from, m->height, m->entries, m->nentries);
	if (p1->count >= p->quorum)
		phase1_done(p);
}

void
paxos_on_nack(struct paxos *p, const struct paxos_msg *m)
{
	paxos_note_height(p, m->from, m->height);
	paxos_higher_ballot(p, m->ballot);
}

/* check_chosen: a majority accepted the leader's value; it is chosen (section 2.2). */
static void
check_chosen(struct paxos *p)
{
	struct paxos_flight *f = &p->fly;
	if (f->chosen || f->nvotes < p->quorum)
		return;
	f->chosen = true;
	struct paxos_msg m;
	paxos_msg_init(p, &m, PAXOS_COMMITTED, f->v.ballot);
	m.slot = f->v.slot;
	memcpy(m.digest, f->v.digest, PAXOS_HASH_LEN);
	for (uint32_t i = 0; i < p->cfg.n; i++)
		if (f->voted[i]) {
			m.votes[m.nvotes].from = i;
			memcpy(m.votes[m.nvotes++].sig, f->sig[i], PAXOS_SIG_LEN);
		}
	/* COMMIT first: the block is stored here before anyone may fetch it from us */
	paxos_learn_chosen(p, m.slot, m.ballot, m.digest, p->cfg.self, m.votes, m.nvotes);
	paxos_broadcast(p, &m);
}

/* phase2 proposes (mine, height + 1, digest, block) to every acceptor, ourselves first. */
void
paxos_phase2(struct paxos *p, const uint8_t digest[PAXOS_HASH_LEN], const uint8_t *block,
	     size_t len)
{
	struct paxos_flight *f = &p->fly;
	uint64_t slot = p->height + 1;
	paxos_value_set(&f->v, slot, p->mine, digest, block, len);
	f->chosen = false;
	f->nvotes = 0;
	memset(f->voted, 0, sizeof(f->voted));
	f->retry_at = p->now + p->cfg.timeout_ms;
	if (paxos_accept_value(p, p->mine, slot, digest, block, len)) {
		paxos_sign_vote(p, slot, p->mine, digest, f->sig[p->cfg.self]);
		f->voted[p->cfg.self] = true;
		f->nvotes = 1;
	}
	struct paxos_msg m;
	paxos_msg_init(p, &m, PAXOS_ACCEPT, p->mine);
	m.slot = slot;
	memcpy(m.digest, digest, PAXOS_HASH_LEN);
	m.block = f->v.block;
	m.block_len = f->v.block_len;
	paxos_broadcast(p, &m);
	check_chosen(p);
}

void
paxos_on_accepted(struct paxos *p, const struct paxos_msg *m)
{
	struct paxos_flight *f = &p->fly;
	if (!p->leading || m->ballot != p->mine || !f->v.has || f->chosen || m->slot != f->v.slot ||
	    memcmp(m->digest, f->v.digest, PAXOS_HASH_LEN) != 0 || f->voted[m->from])
		return;
	f->voted[m->from] = true;
	memcpy(f->sig[m->from], m->sig, PAXOS_SIG_LEN);
	f->nvotes++;
	check_chosen(p);
}

/*
 * paxos_lead_step moves a leader on once its slot is chosen and executed:
 * after catching up, the next open slot's reported value, or new values.
 */
void
paxos_lead_step(struct paxos *p)
{
	if (!p->leading || p->fly.v.has || p->height < p->top_height || p->emitted > p->height ||
	    p->fresh || p->height == UINT64_MAX)
		return;
	paxos_proposer_trim(p);
	struct paxos_value *v = NULL;
	for (int i = 0; i < PAXOS_WINDOW; i++)
		if (p->reprop[i].has && p->reprop[i].slot == p->height + 1)
			v = &p->reprop[i];
	if (v != NULL && !p->cfg.unsafe_skip_reproposal) {
		struct paxos_value take = *v;
		memset(v, 0, sizeof(*v));
		paxos_phase2(p, take.digest, take.block, take.block_len);
		paxos_value_clear(&take);
		return;
	}
	/* no open slot holds a value any more: a value above a gap was never chosen */
	clear_reprop(p);
	p->fresh = true;
}

/* hears_majority: a majority (this validator too) sent something valid within a timeout. */
static bool
hears_majority(const struct paxos *p)
{
	uint32_t alive = 1;
	for (uint32_t i = 0; i < p->cfg.n; i++)
		if (i != p->cfg.self && p->heard[i] + p->cfg.timeout_ms > p->now)
			alive++;
	return alive >= p->quorum;
}

void
paxos_proposer_tick(struct paxos *p)
{
	if (p->leading) {
		struct paxos_flight *f = &p->fly;
		if (f->v.has && !f->chosen && p->now >= f->retry_at) {
			struct paxos_msg m;
			paxos_msg_init(p, &m, PAXOS_ACCEPT, p->mine);
			m.slot = f->v.slot;
			memcpy(m.digest, f->v.digest, PAXOS_HASH_LEN);
			m.block = f->v.block;
			m.block_len = f->v.block_len;
			for (uint32_t i = 0; i < p->cfg.n; i++)
				if (!f->voted[i])
					paxos_send(p, i, &m);
			f->retry_at = p->now + p->cfg.timeout_ms;
		}
		if (p->now >= p->last_send + p->cfg.heartbeat_ms)
			send_heartbeat(p);
		/*
		 * Catching up gets nowhere (whoever holds the chosen blocks is
		 * down): step down, so that another phase 1 can find a majority
		 * that holds them, instead of stalling everyone with heartbeats.
		 */
		if (p->height < p->top_height &&
		    p->now >= p->catch_progress + 4 * p->cfg.timeout_ms)
			step_down(p);
		/*
		 * Check-quorum (as Raft's, Ongaro's thesis 6.2): a leader that has
		 * heard from no majority for a timeout is cut off from it; it
		 * stops leading instead of claiming a ballot it cannot use.
		 */
		else if (p->now >= p->lead_since + p->cfg.timeout_ms && !hears_majority(p))
			step_down(p);
		return;
	}
	if (p->p1.active) {
		if (p->now >= p->p1.deadline) {
			if (p->backoff < 32)
				p->backoff++; /* a failed attempt */
			paxos_start_phase1(p);
		} else if (p->now >= p->p1.retry_at) {
			send_prepare(p, false);
			p->p1.retry_at = p->now + p->cfg.timeout_ms;
		}
		return;
	}
	if (p->now >= p->follow_deadline)
		paxos_start_phase1(p);
}
