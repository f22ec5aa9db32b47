/*
 * A randomized simulation of the Raft core (raft/raft.h), in the manner of
 * canonical/raft's raft_fixture: n cores (n in 1, 2, 3, 4, 5, 7) over a
 * simulated network, clock and disk, driven by one seeded event queue,
 * with every safety invariant checked after every step.
 *
 * Each validator has a host: fake but strict signatures (a keyed hash of the
 * validator and the bytes), a fake block hash over blocks that name the
 * items they hold, a committed chain it extends from COMMIT actions
 * (telling the core with raft_committed, at once or a little later) or by
 * block sync (answering FETCH from the named host's chain or the longest
 * one, then raft_synced), and a durable record (the last PERSIST carried
 * out). The network drops, delays, duplicates and reorders, and partitions
 * (sometimes the leader with a minority). A crash may come between any two
 * actions of a drain: what follows it is lost, and the validator restarts
 * from its record and its host's tip; at the end of the faults sometimes
 * every validator restarts at once. A validator may join late, its host
 * seeded with a copy of the chain and no record.
 *
 * Invariants (paper Figure 3, and the chain's): election safety, log
 * matching (same index and term, same entry and same predecessor), leader
 * completeness (a new leader holds every block any host committed above
 * its own host's tip), agreement of the hosts' chains, no item twice,
 * COMMITs at the host's tip + 1 with a block that hashes to its digest and
 * a certificate of a majority of distinct, ascending validators whose
 * votes verify over the commit-vote preimage, every message accepted by
 * its receiver. Liveness: once the faults stop, every host reaches the
 * same height holding every item submitted, within 6 simulated seconds.
 *
 * Also: mangled and re-signed messages on the wire (raft_receive must stay
 * memory safe, and refuse what the signature does not cover), and the
 * mutation check: with cfg.unsafe_commit_old_terms (the Figure 8 bug) the
 * checker must find a violation. Random schedules rarely reach Figure 8, so
 * a scripted schedule reproduces it and the violation is required there.
 *
 * Usage: test_raft_sim [replay SCENARIO SEED]; RAFT_SIM_TRACE=1 prints each
 * step of a replay; RAFT_SIM_SEEDS (per scenario), RAFT_SIM_BASE and
 * RAFT_SIM_GARBAGE (seeds) widen a soak run.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "raft/raft.h"
#include "test.h"

#define MAXN 7
#define MAX_CHAIN 256
#define MAX_ITEMS 64
#define MAX_ITEMS_PER_BLOCK 4
#define LM_SLOTS (1u << 14)

/* ---- deterministic randomness ---- */

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t
rnd(uint64_t *s, uint64_t n)
{
	return n ? splitmix(s) % n : 0;
}

static bool
chance(uint64_t *s, double p)
{
	return (double)(splitmix(s) >> 11) * (1.0 / 9007199254740992.0) < p;
}

/* ---- fake crypto: strict, cheap, deterministic ---- */

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	return h ^ (h >> 33);
}

static uint64_t
hash64(uint64_t key, const uint8_t *p, size_t len)
{
	uint64_t h = key ^ (len * UINT64_C(0x9e3779b97f4a7c15));
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * UINT64_C(0x87c37b91114253d5);
		h = (h << 31) | (h >> 33);
		p += 8;
		len -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, p, len);
	return mix64(h ^ w ^ 0xff);
}

static void
expand(uint64_t x, uint8_t *out, size_t words)
{
	for (size_t i = 0; i < words; i++) {
		uint64_t v = mix64(x + i * UINT64_C(0x9e3779b97f4a7c15));
		memcpy(out + 8 * i, &v, 8);
	}
}

static uint64_t
key_of(uint32_t v)
{
	return mix64(UINT64_C(0x5eed) + v);
}

static void
fake_sign_as(uint32_t v, const uint8_t *b, size_t len, uint8_t sig[RAFT_SIG_LEN])
{
	expand(hash64(key_of(v), b, len), sig, RAFT_SIG_LEN / 8);
}

static bool
fake_verify_as(uint32_t v, const uint8_t *b, size_t len, const uint8_t sig[RAFT_SIG_LEN])
{
	uint8_t want[RAFT_SIG_LEN];
	fake_sign_as(v, b, len, want);
	return memcmp(want, sig, RAFT_SIG_LEN) == 0;
}

/* A block: 'B' | height u64 | parent digest prefix (8) | nitems u8 | nitems x item u16. */
static bool
fake_block_hash(void *arg, const uint8_t *b, size_t len, uint8_t out[RAFT_HASH_LEN])
{
	(void)arg;
	if (len < 18 || b[0] != 'B' || len != 18 + 2 * (size_t)b[17])
		return false;
	expand(hash64(UINT64_C(0xb10c), b, len), out, RAFT_HASH_LEN / 8);
	return true;
}

/* ---- the simulation ---- */

struct scenario {
	const char *name;
	double drop, dup;
	uint32_t delay_min, delay_max;
	bool partitions, minority, crashes, torn, spont_sync;
	bool unsafe;
	bool late;    /* sometimes a validator joins late, its host seeded with a chain copy */
	bool narrow;  /* 3 validators, one entry per message, leaders die young: Figure 8 prone */
	bool garbage; /* mangled and re-signed copies of messages on the wire; no checks */
};

enum { EV_MSG, EV_TICK, EV_RESTART, EV_CHAOS, EV_SUBMIT, EV_SYNC, EV_HEAL, EV_COMMITTED, EV_JOIN };

struct ev {
	uint64_t t, seq;
	uint8_t kind;
	uint32_t a, b; /* MSG: from, to; SYNC: node, source; others: node */
	uint64_t x;    /* SYNC: height; MSG, RESTART: incarnation of b / a */
	uint8_t *bytes;
	size_t len;
};

struct block_rec {
	uint8_t digest[RAFT_HASH_LEN];
	uint32_t nitems;
	uint16_t items[MAX_ITEMS_PER_BLOCK];
	uint64_t cert_term;
	uint32_t ncert;
	struct raft_vote cert[MAXN];
};

struct host {
	uint32_t id;
	struct raft *r; /* NULL while down */
	uint64_t incarnation;
	uint64_t height; /* committed chain: the canonical chain up to here */
	bool tip_moved;  /* raft_committed is due */
	uint8_t *record;
	size_t record_len;
};

/* log matching: (index, term) -> what every log holding it must agree on */
struct lm_slot {
	uint32_t gen;
	uint64_t index, term, height;
	bool is_block;
	uint64_t d;         /* a 64-bit digest prefix */
	uint64_t prev_term; /* UINT64_MAX: not seen yet */
};

/* what any core holds at an index at or below its commit index (state machine safety) */
struct committed_entry {
	bool has;
	uint64_t term, digest;
};

struct sim {
	const struct scenario *sc;
	uint64_t seed, rng;
	uint32_t n;
	struct raft_config cfg;
	struct host h[MAXN];
	uint64_t now, seq;
	struct ev *heap;
	size_t nheap, capheap;
	bool faults;
	double drop, dup;
	uint32_t dmin, dmax;
	uint8_t group[MAXN];
	uint64_t fault_end, deadline;
	/* ground truth */
	struct block_rec chain[MAX_CHAIN + 1];
	uint64_t chain_len;
	uint32_t nsubmitted, nitems;
	bool item_done[MAX_ITEMS];
	uint32_t *leader_of; /* by term; UINT32_MAX none */
	uint64_t nterms;
	struct committed_entry *committed; /* by index: entries at or below a commit index */
	uint64_t ncommitted;
	/* scripted runs: messages wait in a pool until the script moves them */
	bool manual;
	struct ev *pool;
	size_t npool, cappool;
	/* outcome */
	bool failed;
	char why[512];
	uint64_t steps, commits, syncs, crashes_done, cold_starts;
	uint64_t garbage_accepted;              /* unsigned changes accepted: must stay 0 */
	uint64_t garbage_sent, garbage_handled; /* mangled messages, and those past decoding */
};

static struct lm_slot lm_table[LM_SLOTS];
static uint32_t lm_generation;
static bool trace; /* RAFT_SIM_TRACE set: print every step of a replay */

static void
trace_state(const struct sim *s, const char *what, uint32_t a, uint32_t b)
{
	printf("%6" PRIu64 " %-8s %u->%u |", s->now, what, a, b);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct raft *r = s->h[i].r;
		if (r == NULL) {
			printf(" [%u down h%" PRIu64 "]", i, s->h[i].height);
			continue;
		}
		printf(" [%u %c t%" PRIu64 " c%" PRIu64 " (%" PRIu64 ",%" PRIu64 "] h%" PRIu64 "]",
		       i, "FPCL"[raft_role(r)], raft_term(r), raft_commit_index(r),
		       raft_log_first(r), raft_log_last(r), raft_height(r));
	}
	printf(" g");
	for (uint32_t i = 0; i < s->n; i++)
		printf("%u", s->group[i]);
	printf("\n");
}

static void
fail(struct sim *s, const char *fmt, ...)
{
	if (s->failed || s->sc->garbage)
		return; /* garbage from a signing peer may break anything but memory safety */
	s->failed = true;
	va_list ap;
	va_start(ap, fmt);
	int k = snprintf(s->why, sizeof(s->why), "t=%" PRIu64 " ", s->now);
	vsnprintf(s->why + k, sizeof(s->why) - (size_t)k, fmt, ap);
	va_end(ap);
}

/* ---- host callbacks ---- */

struct cb_arg {
	struct sim *s;
	uint32_t id;
};
static struct cb_arg cb_args[MAXN];

static void
host_sign(void *arg, const uint8_t *b, size_t len, uint8_t sig[RAFT_SIG_LEN])
{
	fake_sign_as(((struct cb_arg *)arg)->id, b, len, sig);
}

static bool
host_verify(void *arg, uint32_t v, const uint8_t *b, size_t len, const uint8_t sig[RAFT_SIG_LEN])
{
	(void)arg;
	return fake_verify_as(v, b, len, sig);
}

/* ---- event queue (binary heap on (t, seq)) ---- */

static bool
ev_less(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void
push_ev(struct sim *s, struct ev e)
{
	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? 2 * s->capheap : 1024;
		s->heap = realloc(s->heap, s->capheap * sizeof(*s->heap));
		if (s->heap == NULL)
			abort();
	}
	e.seq = s->seq++;
	size_t i = s->nheap++;
	while (i > 0 && ev_less(&e, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = e;
}

static struct ev
pop_ev(struct sim *s)
{
	struct ev top = s->heap[0], last = s->heap[--s->nheap];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && ev_less(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!ev_less(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap > 0)
		s->heap[i] = last;
	return top;
}

static void
at(struct sim *s, uint64_t t, uint8_t kind, uint32_t a, uint32_t b, uint64_t x)
{
	struct ev e = {.t = t, .kind = kind, .a = a, .b = b, .x = x};
	push_ev(s, e);
}

/* ---- the network ---- */

static void
send_msg(struct sim *s, uint32_t from, uint32_t to, const uint8_t *b, size_t len)
{
	if (s->manual) {
		if (s->npool == s->cappool) {
			s->cappool = s->cappool ? 2 * s->cappool : 64;
			if ((s->pool = realloc(s->pool, s->cappool * sizeof(*s->pool))) == NULL)
				abort();
		}
		struct ev *e = &s->pool[s->npool++];
		memset(e, 0, sizeof(*e));
		e->a = from;
		e->b = to;
		e->len = len;
		if ((e->bytes = malloc(len)) == NULL)
			abort();
		memcpy(e->bytes, b, len);
		return;
	}
	if (s->faults && chance(&s->rng, s->drop))
		return;
	int copies = s->faults && chance(&s->rng, s->dup) ? 2 : 1;
	for (int c = 0; c < copies; c++) {
		struct ev e = {.kind = EV_MSG, .a = from, .b = to, .len = len};
		e.t = s->now + s->dmin + rnd(&s->rng, s->dmax - s->dmin + 1);
		e.x = s->h[to].incarnation;
		if ((e.bytes = malloc(len)) == NULL)
			abort();
		memcpy(e.bytes, b, len);
		push_ev(s, e);
	}
}

/* ---- invariants ---- */

static void
check_cert(struct sim *s, uint64_t height, uint64_t term, const uint8_t digest[RAFT_HASH_LEN],
           const struct raft_vote *cert, uint32_t ncert)
{
	if (ncert < raft_quorum(s->n) || ncert > s->n) {
		fail(s, "certificate for height %" PRIu64 " has %u votes", height, ncert);
		return;
	}
	uint8_t pre[17 + 8 + 8 + RAFT_HASH_LEN];
	memcpy(pre, "chaind/commit/v1", 17);
	ch_put_be64(pre + 17, height);
	ch_put_be64(pre + 25, term);
	memcpy(pre + 33, digest, RAFT_HASH_LEN);
	for (uint32_t i = 0; i < ncert; i++) {
		if (cert[i].from >= s->n || (i > 0 && cert[i].from <= cert[i - 1].from)) {
			fail(s, "certificate for height %" PRIu64 " not ascending/distinct",
			     height);
			return;
		}
		if (!fake_verify_as(cert[i].from, pre, sizeof(pre), cert[i].sig)) {
			fail(s, "certificate vote of %u for height %" PRIu64 " does not verify",
			     cert[i].from, height);
			return;
		}
	}
}

static void
note_leader(struct sim *s, uint32_t id, uint64_t term)
{
	if (term > 1000000) {
		fail(s, "node %u leads term %" PRIu64, id, term);
		return;
	}
	if (term >= s->nterms) {
		uint64_t nt = term * 2 + 16;
		s->leader_of = realloc(s->leader_of, nt * sizeof(*s->leader_of));
		if (s->leader_of == NULL)
			abort();
		for (uint64_t i = s->nterms; i < nt; i++)
			s->leader_of[i] = UINT32_MAX;
		s->nterms = nt;
	}
	if (s->leader_of[term] != UINT32_MAX && s->leader_of[term] != id)
		fail(s, "election safety: %u and %u both lead term %" PRIu64, s->leader_of[term],
		     id, term);
	s->leader_of[term] = id;
	/* leader completeness: every committed block is in its host's chain or its log */
	struct host *h = &s->h[id];
	uint64_t first = raft_log_first(h->r), last = raft_log_last(h->r);
	uint64_t want = h->height + 1;
	for (uint64_t i = first + 1; i <= last && want <= s->chain_len; i++) {
		struct raft_entry_info e;
		if (!raft_log_entry(h->r, i, &e) || !e.is_block || e.height != want)
			continue;
		if (memcmp(e.digest, s->chain[want].digest, RAFT_HASH_LEN) != 0)
			break;
		want++;
	}
	if (want <= s->chain_len)
		fail(s,
		     "leader completeness: leader %u of term %" PRIu64
		     " lacks committed block %" PRIu64 " (host at %" PRIu64 ")",
		     id, term, want, h->height);
}

/* check_committed: state machine safety (paper Figure 3), by index. */
static void
check_committed(struct sim *s, uint32_t id, uint64_t index, uint64_t term, uint64_t digest)
{
	if (index > 1000000)
		return; /* only garbage gets there */
	if (index >= s->ncommitted) {
		uint64_t n = index * 2 + 64;
		s->committed = realloc(s->committed, n * sizeof(*s->committed));
		if (s->committed == NULL)
			abort();
		memset(s->committed + s->ncommitted, 0,
		       (n - s->ncommitted) * sizeof(*s->committed));
		s->ncommitted = n;
	}
	struct committed_entry *c = &s->committed[index];
	if (!c->has) {
		c->has = true;
		c->term = term;
		c->digest = digest;
	} else if (c->term != term || c->digest != digest) {
		fail(s,
		     "state machine safety: node %u holds another committed entry at index "
		     "%" PRIu64,
		     id, index);
	}
}

/* check_log: log matching (paper 5.3) for one validator's held entries. */
static void
check_log(struct sim *s, uint32_t id)
{
	struct raft *r = s->h[id].r;
	if (r == NULL)
		return;
	uint64_t first = raft_log_first(r), last = raft_log_last(r);
	if (raft_commit_index(r) > last && raft_commit_index(r) != 0)
		fail(s, "node %u commit index %" PRIu64 " beyond its log %" PRIu64, id,
		     raft_commit_index(r), last);
	uint64_t prev_term = UINT64_MAX;
	for (uint64_t i = first + 1; i <= last; i++) {
		struct raft_entry_info e;
		if (!raft_log_entry(r, i, &e)) {
			fail(s, "node %u: index %" PRIu64 " in (first, last] not held", id, i);
			return;
		}
		uint64_t d;
		memcpy(&d, e.digest, 8);
		uint32_t slot = (uint32_t)(mix64(i * 31 + e.term) & (LM_SLOTS - 1));
		for (;;) {
			struct lm_slot *l = &lm_table[slot];
			if (l->gen != lm_generation) {
				l->gen = lm_generation;
				l->index = i;
				l->term = e.term;
				l->height = e.height;
				l->is_block = e.is_block;
				l->d = d;
				l->prev_term = prev_term;
				break;
			}
			if (l->index == i && l->term == e.term) {
				if (l->height != e.height || l->is_block != e.is_block || l->d != d)
					fail(s,
					     "log matching: index %" PRIu64 " term %" PRIu64
					     " differs on node %u",
					     i, e.term, id);
				if (prev_term != UINT64_MAX) {
					if (l->prev_term == UINT64_MAX)
						l->prev_term = prev_term;
					else if (l->prev_term != prev_term)
						fail(s,
						     "log matching: entries before index %" PRIu64
						     " term %" PRIu64 " differ on node %u",
						     i, e.term, id);
				}
				break;
			}
			slot = (slot + 1) & (LM_SLOTS - 1);
		}
		prev_term = e.term;
		if (i <= raft_commit_index(r))
			check_committed(s, id, i, e.term, d);
	}
}

/* ---- hosts ---- */

static void crash(struct sim *s, uint32_t id);

static void
host_commit(struct sim *s, struct host *h, const struct raft_action *a)
{
	if (a->height != h->height + 1) {
		fail(s, "node %u: COMMIT for height %" PRIu64 " on tip %" PRIu64, h->id, a->height,
		     h->height);
		return;
	}
	uint8_t d[RAFT_HASH_LEN];
	if (!fake_block_hash(NULL, a->block, a->block_len, d) ||
	    memcmp(d, a->digest, RAFT_HASH_LEN) != 0) {
		fail(s, "node %u: COMMIT block does not hash to its digest", h->id);
		return;
	}
	check_cert(s, a->height, a->term, a->digest, a->cert, a->ncert);
	if (a->height <= s->chain_len) {
		if (memcmp(s->chain[a->height].digest, a->digest, RAFT_HASH_LEN) != 0)
			fail(s, "agreement: node %u commits another block at height %" PRIu64,
			     h->id, a->height);
	} else {
		if (a->height > MAX_CHAIN) {
			fail(s, "chain too long");
			return;
		}
		struct block_rec *b = &s->chain[a->height];
		if (a->block[17] > MAX_ITEMS_PER_BLOCK) {
			fail(s, "block with %u items", a->block[17]);
			return;
		}
		memcpy(b->digest, a->digest, RAFT_HASH_LEN);
		b->nitems = a->block[17];
		for (uint32_t i = 0; i < b->nitems; i++) {
			uint16_t it = (uint16_t)(a->block[18 + 2 * i] << 8 | a->block[19 + 2 * i]);
			b->items[i] = it;
			if (it >= MAX_ITEMS || s->item_done[it])
				fail(s, "item %u committed twice", it);
			else
				s->item_done[it] = true;
		}
		b->cert_term = a->term;
		b->ncert = a->ncert < MAXN ? a->ncert : MAXN;
		memcpy(b->cert, a->cert, b->ncert * sizeof(*b->cert));
		s->chain_len = a->height;
	}
	h->height = a->height;
	h->tip_moved = true;
	s->commits++;
}

static void
propose(struct sim *s, struct host *h)
{
	uint16_t items[MAX_ITEMS_PER_BLOCK];
	uint32_t k = 0, maxk = 1 + (uint32_t)rnd(&s->rng, MAX_ITEMS_PER_BLOCK);
	for (uint32_t i = 0; i < s->nsubmitted && k < maxk; i++)
		if (!s->item_done[i])
			items[k++] = (uint16_t)i;
	if (k == 0)
		return;
	uint8_t b[18 + 2 * MAX_ITEMS_PER_BLOCK];
	uint64_t height = raft_height(h->r) + 1;
	b[0] = 'B';
	ch_put_be64(b + 1, height);
	if (height > 1)
		memcpy(b + 9, s->chain[height - 1].digest, 8);
	else
		memset(b + 9, 0, 8);
	b[17] = (uint8_t)k;
	for (uint32_t i = 0; i < k; i++) {
		b[18 + 2 * i] = (uint8_t)(items[i] >> 8);
		b[19 + 2 * i] = (uint8_t)items[i];
	}
	uint8_t d[RAFT_HASH_LEN];
	fake_block_hash(NULL, b, 18 + 2 * k, d);
	raft_propose(h->r, d, b, 18 + 2 * k, s->now);
}

/* drain carries out every action of h's core, in order, and what they lead to. */
static void
drain(struct sim *s, struct host *h)
{
	while (h->r != NULL && !s->failed) {
		struct raft_action a;
		bool any = false;
		while (h->r != NULL && raft_next_action(h->r, &a)) {
			any = true;
			if (s->faults && s->sc->torn && chance(&s->rng, 0.004)) {
				raft_action_close(&a);
				crash(s, h->id); /* this action and the rest are lost */
				return;
			}
			switch (a.type) {
			case RAFT_ACT_SEND:
				if (a.to >= s->n || a.to == h->id)
					fail(s, "node %u sends to %u", h->id, a.to);
				else
					send_msg(s, h->id, a.to, a.bytes.data, a.bytes.len);
				break;
			case RAFT_ACT_BROADCAST:
				for (uint32_t i = 0; i < s->n; i++)
					if (i != h->id)
						send_msg(s, h->id, i, a.bytes.data, a.bytes.len);
				break;
			case RAFT_ACT_PERSIST:
				free(h->record);
				h->record = ch_buf_steal(&a.bytes, &h->record_len);
				break;
			case RAFT_ACT_COMMIT:
				host_commit(s, h, &a);
				if (s->faults && s->sc->narrow && raft_role(h->r) == RAFT_LEADER &&
				    chance(&s->rng, 0.3)) {
					raft_action_close(&a);
					crash(s, h->id); /* before its own entries spread */
					return;
				}
				break;
			case RAFT_ACT_FETCH:
				if (a.to >= s->n || a.to == h->id)
					fail(s, "node %u fetches from %u", h->id, a.to);
				else
					at(s, s->now + 2 + rnd(&s->rng, 20), EV_SYNC, h->id, a.to,
					   a.height);
				break;
			case RAFT_ACT_ROLE:
				if (a.role == RAFT_LEADER)
					note_leader(s, h->id, a.term);
				break;
			default:
				fail(s, "node %u: unknown action %u", h->id, a.type);
			}
			raft_action_close(&a);
		}
		if (h->r == NULL || s->failed)
			return;
		if (h->tip_moved) {
			h->tip_moved = false;
			if (chance(&s->rng, 0.3)) {
				/* the host reports its new tip a little later */
				at(s, s->now + 1 + rnd(&s->rng, 15), EV_COMMITTED, h->id, 0,
				   h->incarnation);
			} else {
				raft_committed(h->r, h->height, s->now);
				continue;
			}
		}
		if (!any && raft_can_propose(h->r) && s->nsubmitted > 0) {
			uint64_t before = raft_log_last(h->r);
			propose(s, h);
			if (raft_log_last(h->r) != before)
				continue;
		}
		if (!any)
			break;
	}
	check_log(s, h->id);
}

static void
start(struct sim *s, uint32_t id)
{
	struct host *h = &s->h[id];
	struct raft_config cfg = s->cfg;
	cfg.self = id;
	struct raft_host hc = {.arg = &cb_args[id],
	                       .sign = host_sign,
	                       .verify = host_verify,
	                       .block_hash = fake_block_hash};
	cb_args[id].s = s;
	cb_args[id].id = id;
	uint8_t zero[RAFT_HASH_LEN] = {0};
	const uint8_t *d = h->height ? s->chain[h->height].digest : zero;
	if (raft_new(&h->r, &cfg, &hc, h->height, d, s->now) != 0) {
		fail(s, "raft_new failed");
		return;
	}
	if (h->record == NULL && h->height > 0)
		s->cold_starts++; /* a chain, no record: unanchored until a leader anchors it */
	if (h->record != NULL) {
		struct ch_err err;
		ch_err_clear(&err);
		if (raft_restore(h->r, h->record, h->record_len, &err) != 0)
			fail(s, "node %u: raft_restore: %s", id, ch_err_msg(&err));
		uint64_t term, height;
		bool voted;
		if (raft_record_mark(h->record, h->record_len, &term, &height, &voted, &err) != 0)
			fail(s, "node %u: raft_record_mark: %s", id, ch_err_msg(&err));
	}
	h->incarnation++;
	drain(s, h);
}

static void
crash(struct sim *s, uint32_t id)
{
	struct host *h = &s->h[id];
	if (h->r == NULL)
		return;
	raft_free(h->r);
	h->r = NULL;
	h->tip_moved = false;
	h->incarnation++;
	s->crashes_done++;
	if (s->faults)
		at(s, s->now + 20 + rnd(&s->rng, 300), EV_RESTART, id, 0, h->incarnation);
}

static void
do_sync(struct sim *s, uint32_t id, uint32_t src, uint64_t height)
{
	struct host *h = &s->h[id];
	if (chance(&s->rng, 0.3)) {
		/* another host's chain will do: the most advanced one */
		for (uint32_t i = 0; i < s->n; i++)
			if (i != id && s->h[i].height > s->h[src].height)
				src = i;
		height = s->h[src].height;
	}
	uint64_t target = s->h[src].height < height ? s->h[src].height : height;
	if (h->r == NULL || target <= h->height)
		return;
	h->height = target;
	const struct block_rec *b = &s->chain[target];
	s->syncs++;
	raft_synced(h->r, target, b->digest, b->cert_term, b->cert, b->ncert, s->now);
	drain(s, h);
}

/* ---- faults ---- */

static uint32_t
current_leader(const struct sim *s)
{
	uint32_t best = UINT32_MAX;
	uint64_t bt = 0;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->h[i].r != NULL && raft_role(s->h[i].r) == RAFT_LEADER &&
		    raft_term(s->h[i].r) >= bt) {
			best = i;
			bt = raft_term(s->h[i].r);
		}
	return best;
}

static void
chaos(struct sim *s)
{
	const struct scenario *sc = s->sc;
	if (sc->partitions && chance(&s->rng, 0.3)) {
		if (chance(&s->rng, 0.4))
			memset(s->group, 0, sizeof(s->group));
		else
			for (uint32_t i = 0; i < s->n; i++)
				s->group[i] = (uint8_t)rnd(&s->rng, 2 + rnd(&s->rng, 2));
	}
	if (sc->minority && chance(&s->rng, 0.25)) {
		uint32_t l = current_leader(s);
		if (l != UINT32_MAX && s->n > 1) {
			/* the leader and fewer than a majority on one side */
			uint32_t keep = (uint32_t)rnd(&s->rng, raft_quorum(s->n) - 1 + 1);
			if (keep >= raft_quorum(s->n) - 1)
				keep = raft_quorum(s->n) > 1 ? raft_quorum(s->n) - 2 : 0;
			memset(s->group, 1, sizeof(s->group));
			s->group[l] = 0;
			for (uint32_t k = 0; k < keep; k++)
				s->group[(l + 1 + k) % s->n] = 0;
		}
	} else if (sc->minority && chance(&s->rng, 0.2)) {
		memset(s->group, 0, sizeof(s->group));
	}
	if (sc->crashes && chance(&s->rng, sc->torn && !sc->partitions ? 0.3 : 0.15)) {
		uint32_t id = (uint32_t)rnd(&s->rng, s->n);
		crash(s, id);
	}
	if (sc->narrow && chance(&s->rng, 0.4)) {
		uint32_t l = current_leader(s);
		if (l != UINT32_MAX)
			crash(s, l); /* leaders die young: old-term entries pile up */
	}
	if (sc->spont_sync && chance(&s->rng, 0.1)) {
		uint32_t id = (uint32_t)rnd(&s->rng, s->n), best = id;
		for (uint32_t i = 0; i < s->n; i++)
			if (s->h[i].height > s->h[best].height)
				best = i;
		if (best != id)
			do_sync(s, id, best, s->h[best].height);
	}
}

static void
heal(struct sim *s)
{
	s->faults = false;
	memset(s->group, 0, sizeof(s->group));
	bool everyone = s->sc->crashes && chance(&s->rng, 0.5);
	for (uint32_t i = 0; i < s->n; i++) {
		if (everyone)
			crash(s, i); /* a cold restart of the whole set, from the records */
		if (s->h[i].r == NULL)
			start(s, i);
	}
}

static bool
converged(const struct sim *s)
{
	for (uint32_t i = 0; i < s->nsubmitted; i++)
		if (!s->item_done[i])
			return false;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->h[i].r == NULL || s->h[i].height != s->chain_len)
			return false;
	return true;
}

/* ---- garbage on the wire ---- */

static const uint64_t edge_values[] = {
        0,
        1,
        2,
        0x100,
        0xffffffff,
        (UINT64_C(1) << 62) - 1,
        UINT64_C(1) << 62,
        UINT64_MAX - 1,
        UINT64_MAX,
};

/* resign replaces the signature of b (len) with from's over the raft domain. */
static void
resign(uint8_t *b, size_t len)
{
	if (len < 3 + RAFT_SIG_LEN)
		return;
	uint32_t from = (uint32_t)b[1] << 8 | b[2];
	size_t body = len - RAFT_SIG_LEN;
	uint8_t *pre = malloc(15 + body);
	if (pre == NULL)
		abort();
	memcpy(pre, "chaind/raft/v1", 15);
	memcpy(pre + 15, b, body);
	fake_sign_as(from, pre, 15 + body, b + body);
	free(pre);
}

/*
 * inject_garbage hands node to a mangled copy of a real message: random
 * bytes, flips, truncations, extensions, edge values in 8-byte fields;
 * half of them re-signed by the sender they name, so they get past the
 * signature check into the handlers. Unsigned changes must be refused.
 */
static void
inject_garbage(struct sim *s, uint32_t to, const uint8_t *orig, size_t len)
{
	struct host *h = &s->h[to];
	if (h->r == NULL)
		return;
	size_t cap = len + 64;
	uint8_t *b = malloc(cap);
	if (b == NULL)
		abort();
	memcpy(b, orig, len);
	size_t n = len;
	switch (rnd(&s->rng, 6)) {
	case 0: /* random bytes */
		n = rnd(&s->rng, cap + 1);
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)splitmix(&s->rng);
		break;
	case 1: /* flips */
		for (int k = 1 + (int)rnd(&s->rng, 3); k > 0 && n > 0; k--)
			b[rnd(&s->rng, n)] ^= (uint8_t)(1 + rnd(&s->rng, 255));
		break;
	case 2: /* truncate */
		n = rnd(&s->rng, len + 1);
		break;
	case 3: /* extend */
		for (size_t extra = 1 + rnd(&s->rng, 63); extra > 0; extra--)
			b[n++] = (uint8_t)splitmix(&s->rng);
		break;
	default: /* an edge value in a field */
		if (n >= 8 + RAFT_SIG_LEN) {
			size_t off = rnd(&s->rng, n - 8 - RAFT_SIG_LEN + 1);
			uint64_t v = edge_values[rnd(&s->rng, sizeof(edge_values) / 8)];
			if (chance(&s->rng, 0.3))
				v = splitmix(&s->rng) >> rnd(&s->rng, 64);
			ch_put_be64(b + off, v);
		}
		break;
	}
	bool signed_ok = chance(&s->rng, 0.5);
	if (signed_ok)
		resign(b, n);
	bool same = n == len && memcmp(b, orig, len) == 0;
	enum raft_input in = raft_receive(h->r, b, n, s->now);
	s->garbage_sent++;
	if (in == RAFT_ACCEPTED)
		s->garbage_handled++;
	if (!signed_ok && !same && in == RAFT_ACCEPTED) {
		s->garbage_accepted++;
	}
	free(b);
	drain(s, h);
}

/* ---- one run ---- */

static void
step(struct sim *s, struct ev *e)
{
	static const char *names[] = {"msg",  "tick", "restart",  "chaos", "submit",
	                              "sync", "heal", "executed", "join"};
	s->now = e->t;
	s->steps++;
	if (trace && (e->kind != EV_TICK || s->now % 100 == 0))
		trace_state(s, names[e->kind], e->a, e->b);
	if (trace && e->kind == EV_MSG && e->len > 11) {
		const uint8_t *p = e->bytes;
		uint64_t term = ch_get_be64(p + 3);
		if (p[0] == 5)
			printf("       APPEND t%" PRIu64 " prev %" PRIu64 "/t%" PRIu64 "/h%" PRIu64
			       " commit %" PRIu64 " cert_h %" PRIu64 " lh %" PRIu64 " flags %u\n",
			       term, ch_get_be64(p + 11), ch_get_be64(p + 19), ch_get_be64(p + 27),
			       ch_get_be64(p + 35), ch_get_be64(p + 43), ch_get_be64(p + 51),
			       p[59]);
		else if (p[0] == 6)
			printf("       APPEND_RESP t%" PRIu64 " ok %u index %" PRIu64
			       " last %" PRIu64 " unanch %u hh %" PRIu64 " votes %u\n",
			       term, p[11], ch_get_be64(p + 12), ch_get_be64(p + 20), p[28],
			       ch_get_be64(p + 29), p[37]);
		else
			printf("       type %u t%" PRIu64 "\n", p[0], term);
	}
	switch (e->kind) {
	case EV_MSG: {
		struct host *h = &s->h[e->b];
		if (h->r != NULL && s->sc->garbage && chance(&s->rng, 0.5))
			inject_garbage(s, e->b, e->bytes, e->len);
		if (h->r != NULL && s->group[e->a] == s->group[e->b]) {
			enum raft_input in = raft_receive(h->r, e->bytes, e->len, s->now);
			if (in != RAFT_ACCEPTED) {
				fail(s, "node %u rejects a message of %u (%d)", e->b, e->a,
				     (int)in);
				if (trace)
					for (size_t i = 0; i < e->len; i++)
						printf("%02x%s", e->bytes[i],
						       i + 1 == e->len ? "\n" : "");
			}
			drain(s, h);
		}
		free(e->bytes);
		break;
	}
	case EV_TICK: {
		struct host *h = &s->h[e->a];
		if (h->r != NULL) {
			raft_tick(h->r, s->now);
			drain(s, h);
		}
		at(s, s->now + 10, EV_TICK, e->a, 0, 0);
		break;
	}
	case EV_RESTART:
		if (s->h[e->a].r == NULL && s->h[e->a].incarnation == e->x)
			start(s, e->a);
		break;
	case EV_CHAOS:
		if (s->faults) {
			chaos(s);
			at(s,
			   s->now +
			           (s->sc->narrow ? 20 + rnd(&s->rng, 60) : 50 + rnd(&s->rng, 150)),
			   EV_CHAOS, 0, 0, 0);
		}
		break;
	case EV_SUBMIT:
		if (s->nsubmitted < s->nitems)
			s->nsubmitted++;
		/* a host proposes from its drain; nudge the leader */
		for (uint32_t i = 0; i < s->n; i++)
			if (s->h[i].r != NULL && raft_can_propose(s->h[i].r)) {
				propose(s, &s->h[i]);
				drain(s, &s->h[i]);
			}
		break;
	case EV_SYNC:
		do_sync(s, e->a, e->b, e->x);
		break;
	case EV_HEAL:
		heal(s);
		break;
	case EV_JOIN: {
		/* a new validator: its host copies the longest chain, its core has no record */
		struct host *h = &s->h[e->a];
		if (h->r != NULL || h->record != NULL)
			break; /* already running (heal started it) */
		for (uint32_t i = 0; i < s->n; i++)
			if (s->h[i].height > h->height)
				h->height = s->h[i].height;
		start(s, e->a);
		break;
	}
	case EV_COMMITTED:
		if (s->h[e->a].r != NULL && s->h[e->a].incarnation == e->x) {
			raft_committed(s->h[e->a].r, s->h[e->a].height, s->now);
			drain(s, &s->h[e->a]);
		}
		break;
	}
}

static void
sim_free(struct sim *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		raft_free(s->h[i].r);
		free(s->h[i].record);
	}
	for (size_t i = 0; i < s->nheap; i++)
		free(s->heap[i].bytes);
	free(s->heap);
	for (size_t i = 0; i < s->npool; i++)
		free(s->pool[i].bytes);
	free(s->pool);
	free(s->leader_of);
	free(s->committed);
}

static const uint32_t sizes[] = {1, 2, 3, 4, 5, 7};

/* run_seed runs one schedule; true if every invariant held and it converged. */
static bool
run_seed(const struct scenario *sc, uint64_t seed, bool verbose, struct sim *out_stats)
{
	struct sim *s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	s->sc = sc;
	s->seed = seed;
	s->rng = seed * UINT64_C(0x2545f4914f6cdd1d) + 1;
	s->n = sizes[rnd(&s->rng, sizeof(sizes) / sizeof(sizes[0]))];
	if (sc->narrow)
		s->n = 3;
	lm_generation++;
	s->cfg.n = s->n;
	s->cfg.election_timeout_ms = 100;
	s->cfg.heartbeat_ms = 20 + rnd(&s->rng, 10);
	s->cfg.max_block_bytes = 18 + 2 * MAX_ITEMS_PER_BLOCK + rnd(&s->rng, 8);
	s->cfg.max_msg_bytes = chance(&s->rng, 0.5) ? 1 : 64 + rnd(&s->rng, 400);
	s->cfg.max_inflight = 1 + (uint32_t)rnd(&s->rng, 4);
	static const uint32_t retains[] = {1, 2, 4, 16};
	s->cfg.retain = retains[rnd(&s->rng, 4)];
	s->cfg.seed = seed;
	s->cfg.unsafe_commit_old_terms = sc->unsafe;
	if (sc->narrow) {
		s->cfg.max_block_bytes = 18 + 2 * MAX_ITEMS_PER_BLOCK;
		s->cfg.max_msg_bytes = 1;
	}
	s->faults = true;
	s->drop = sc->drop;
	s->dup = sc->dup;
	s->dmin = sc->delay_min;
	s->dmax = sc->delay_max;
	s->nitems = 6 + (uint32_t)rnd(&s->rng, 20);
	uint64_t fault_ms = 1000 + rnd(&s->rng, 1500);
	s->fault_end = fault_ms;
	s->deadline = fault_ms + (sc->garbage ? 300 : 6000); /* liveness bound after the faults */
	uint32_t late = UINT32_MAX;
	if (sc->late && s->n > 1 && chance(&s->rng, 0.3)) {
		late = s->n - 1;
		at(s, 200 + rnd(&s->rng, fault_ms), EV_JOIN, late, 0, 0);
	}
	for (uint32_t i = 0; i < s->n; i++) {
		s->h[i].id = i;
		if (i != late)
			start(s, i);
		at(s, rnd(&s->rng, 10), EV_TICK, i, 0, 0);
	}
	for (uint32_t i = 0; i < s->nitems; i++)
		at(s, rnd(&s->rng, fault_ms), EV_SUBMIT, 0, 0, 0);
	if (sc->partitions || sc->minority || sc->crashes || sc->spont_sync)
		at(s, 100, EV_CHAOS, 0, 0, 0);
	at(s, fault_ms, EV_HEAL, 0, 0, 0);
	bool live = false;
	while (!s->failed && s->nheap > 0) {
		struct ev e = pop_ev(s);
		if (e.t > s->deadline) {
			free(e.bytes);
			break;
		}
		step(s, &e);
		if (!s->faults && converged(s)) {
			live = true;
			break;
		}
	}
	if (!s->failed && !live) {
		char buf[256];
		int k = snprintf(buf, sizeof(buf), "liveness: chain %" PRIu64 ", hosts",
		                 s->chain_len);
		for (uint32_t i = 0; i < s->n && k < (int)sizeof(buf); i++)
			k += snprintf(buf + k, sizeof(buf) - (size_t)k, " %" PRIu64 "%s",
			              s->h[i].height,
			              s->h[i].r && raft_role(s->h[i].r) == RAFT_LEADER ? "L" : "");
		fail(s, "%s", buf);
	}
	bool ok = !s->failed || sc->garbage;
	if (!ok && verbose)
		fprintf(stderr,
		        "%s scenario %s seed %" PRIu64 " n=%u retain=%u inflight=%u msg=%zu: %s\n"
		        "  replay: test_raft_sim replay %s %" PRIu64 "\n",
		        sc->unsafe ? "mutation caught:" : "FAIL", sc->name, seed, s->n,
		        s->cfg.retain, s->cfg.max_inflight, s->cfg.max_msg_bytes, s->why, sc->name,
		        seed);
	if (out_stats != NULL) {
		out_stats->steps += s->steps;
		out_stats->commits += s->commits;
		out_stats->syncs += s->syncs;
		out_stats->crashes_done += s->crashes_done;
		out_stats->cold_starts += s->cold_starts;
		out_stats->garbage_accepted += s->garbage_accepted;
		out_stats->garbage_sent += s->garbage_sent;
		out_stats->garbage_handled += s->garbage_handled;
	}
	sim_free(s);
	free(s);
	return ok;
}

static const struct scenario scenarios[] = {
        {.name = "clean", .delay_min = 1, .delay_max = 5},
        {.name = "lossy", .drop = 0.2, .dup = 0.1, .delay_min = 1, .delay_max = 30},
        {.name = "partitions",
         .drop = 0.02,
         .dup = 0.02,
         .delay_min = 1,
         .delay_max = 10,
         .partitions = true},
        {.name = "minority", .drop = 0.02, .delay_min = 1, .delay_max = 10, .minority = true},
        {.name = "crash",
         .delay_min = 1,
         .delay_max = 10,
         .crashes = true,
         .torn = true,
         .late = true},
        {.name = "all",
         .drop = 0.1,
         .dup = 0.05,
         .delay_min = 1,
         .delay_max = 25,
         .partitions = true,
         .minority = true,
         .crashes = true,
         .torn = true,
         .spont_sync = true,
         .late = true},
        /* the mutation check's schedules, with the safe rule: they must pass */
        {.name = "narrow",
         .drop = 0.3,
         .dup = 0.05,
         .delay_min = 1,
         .delay_max = 25,
         .partitions = true,
         .minority = true,
         .crashes = true,
         .torn = true,
         .narrow = true},
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static const struct scenario unsafe_scenario = {.name = "unsafe",
                                                .drop = 0.3,
                                                .dup = 0.05,
                                                .delay_min = 1,
                                                .delay_max = 25,
                                                .partitions = true,
                                                .minority = true,
                                                .crashes = true,
                                                .torn = true,
                                                .unsafe = true,
                                                .narrow = true};

static double
seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define SEEDS_PER_SCENARIO 1000

static void
test_random_schedules(void)
{
	struct sim stats;
	memset(&stats, 0, sizeof(stats));
	double t0 = seconds();
	unsigned total = 0, failed = 0;
	/* RAFT_SIM_SEEDS and RAFT_SIM_BASE widen a soak run */
	uint64_t per = getenv("RAFT_SIM_SEEDS") ? strtoull(getenv("RAFT_SIM_SEEDS"), NULL, 10)
	                                        : SEEDS_PER_SCENARIO;
	uint64_t base = getenv("RAFT_SIM_BASE") ? strtoull(getenv("RAFT_SIM_BASE"), NULL, 10) : 0;
	for (size_t k = 0; k < NSCENARIOS; k++)
		for (uint64_t i = 0; i < per; i++) {
			uint64_t seed = (k + 1) * 1000003 + base + i;
			total++;
			if (!run_seed(&scenarios[k], seed, failed < 10, &stats))
				failed++;
		}
	printf("raft sim: %u seeds over %zu scenarios, %u failed, %.2fs (%" PRIu64
	       " steps, %" PRIu64 " commits, %" PRIu64 " syncs, %" PRIu64 " crashes, %" PRIu64
	       " starts on a chain without a record)\n",
	       total, NSCENARIOS, failed, seconds() - t0, stats.steps, stats.commits, stats.syncs,
	       stats.crashes_done, stats.cold_starts);
	CHECK_EQ_INT(failed, 0);
}

/* ---- the scripted Figure 8 (paper 5.4.2) ---- */

/* pool_take removes the first pooled message from -> to (UINT32_MAX: any in mask). */
static bool
pool_take(struct sim *s, uint32_t mask, uint32_t from, uint32_t to, struct ev *out)
{
	for (size_t i = 0; i < s->npool; i++) {
		struct ev *e = &s->pool[i];
		bool hit = from == UINT32_MAX ? ((mask >> e->a) & 1) && ((mask >> e->b) & 1)
		                              : e->a == from && e->b == to;
		if (!hit)
			continue;
		*out = *e;
		memmove(e, e + 1, (s->npool - i - 1) * sizeof(*e));
		s->npool--;
		return true;
	}
	return false;
}

static bool
deliver(struct sim *s, uint32_t mask, uint32_t from, uint32_t to)
{
	struct ev e;
	if (!pool_take(s, mask, from, to, &e))
		return false;
	struct host *h = &s->h[e.b];
	if (trace)
		trace_state(s, "deliver", e.a, e.b);
	if (h->r != NULL) {
		raft_receive(h->r, e.bytes, e.len, s->now);
		drain(s, h);
	}
	free(e.bytes);
	return true;
}

/* drop_outside drops every pooled message with an end outside mask. */
static void
drop_outside(struct sim *s, uint32_t mask)
{
	size_t k = 0;
	for (size_t i = 0; i < s->npool; i++) {
		if (((mask >> s->pool[i].a) & 1) && ((mask >> s->pool[i].b) & 1))
			s->pool[k++] = s->pool[i];
		else
			free(s->pool[i].bytes);
	}
	s->npool = k;
}

static void
drop_from(struct sim *s, uint32_t id)
{
	drop_outside(s, 0x7fu & ~(1u << id));
}

static void
poke(struct sim *s, uint32_t id, uint64_t advance_ms)
{
	s->now += advance_ms;
	if (trace)
		trace_state(s, "tick", id, id);
	raft_tick(s->h[id].r, s->now);
	drain(s, &s->h[id]);
}

/* elect times id out (again if refused) and delivers among mask until it leads. */
static bool
elect(struct sim *s, uint32_t mask, uint32_t id)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		poke(s, id, 250);
		for (int i = 0; i < 200; i++) {
			drop_outside(s, mask);
			if (raft_role(s->h[id].r) == RAFT_LEADER)
				return true;
			if (!deliver(s, mask, UINT32_MAX, 0))
				break;
		}
	}
	return false;
}

/*
 * figure8 runs, on three validators, the schedule of the paper's Figure 8
 * with this chain's no-ops, one entry per AppendEntries: block X of term 1
 * stays on node 0; node 2 leads term 2 with a no-op only it holds; node 0
 * leads term 3 and gets X (of term 1) to node 1, a majority, but not its
 * own no-op. The unsafe rule commits X there; then node 2 leads term 4 with
 * node 1's vote and overwrites it. Returns whether the checker objected;
 * *x_committed says whether X was committed in term 3.
 */
static bool
figure8(bool unsafe, bool *x_committed, char *why, size_t whylen)
{
	static const struct scenario sc = {.name = "figure8"};
	struct sim *s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	s->sc = &sc;
	s->manual = true;
	s->n = 3;
	s->rng = 1;
	lm_generation++;
	s->cfg.n = 3;
	s->cfg.election_timeout_ms = 100;
	s->cfg.heartbeat_ms = 20;
	s->cfg.max_block_bytes = 30; /* a no-op and a block do not fit together */
	s->cfg.max_msg_bytes = 1;
	s->cfg.max_inflight = 1;
	s->cfg.retain = 4;
	s->cfg.seed = 8;
	s->cfg.unsafe_commit_old_terms = unsafe;
	s->nitems = 2;
	for (uint32_t i = 0; i < 3; i++) {
		s->h[i].id = i;
		start(s, i);
	}
	/* term 1: node 0 leads, every node holds its no-op */
	bool ok = elect(s, 7, 0);
	while (ok && deliver(s, 7, UINT32_MAX, 0))
		;
	/* node 0 appends X; it reaches nobody */
	s->nsubmitted = 1;
	drain(s, &s->h[0]);
	drop_from(s, 0);
	crash(s, 0);
	/* term 2: node 2 leads with node 1's vote; its no-op reaches nobody */
	ok = ok && elect(s, 6, 2);
	drop_from(s, 2);
	crash(s, 2);
	/* term 3: node 0 is back and leads; X reaches node 1, node 0's no-op does not */
	s->now += 10;
	start(s, 0);
	ok = ok && elect(s, 3, 0);
	deliver(s, 3, 0, 1); /* AppendEntries(prev = X, [no-op]): rejected */
	deliver(s, 3, 1, 0);
	deliver(s, 3, 0, 1); /* AppendEntries(prev = 1, [X]): accepted */
	deliver(s, 3, 1, 0);
	*x_committed = s->chain_len >= 1;
	drop_from(s, 0);
	crash(s, 0);
	/* term 4: node 2 is back and leads with node 1's vote (its last term 2 beats 1) */
	s->now += 10;
	start(s, 2);
	s->nsubmitted = 2;
	ok = ok && elect(s, 6, 2);
	for (int i = 0; i < 200 && deliver(s, 6, UINT32_MAX, 0); i++)
		;
	bool violated = s->failed;
	snprintf(why, whylen, "%s", s->failed ? s->why : (ok ? "no violation" : "script stalled"));
	sim_free(s);
	free(s);
	return violated;
}

static void
test_figure8_scripted(void)
{
	char why[512];
	bool x = false;
	/* the safe rule: X is not committed in term 3, and nothing goes wrong */
	CHECK(!figure8(false, &x, why, sizeof(why)));
	CHECK(!x);
	printf("figure 8, safe rule: %s, X committed in term 3: %s\n", why, x ? "yes" : "no");
	bool v = figure8(true, &x, why, sizeof(why));
	printf("figure 8, unsafe_commit_old_terms: X committed in term 3: %s; checker: %s\n",
	       x ? "yes" : "no", why);
	CHECK(x);
	CHECK(v);
}

static const struct scenario garbage_scenario = {.name = "garbage",
                                                 .drop = 0.05,
                                                 .dup = 0.05,
                                                 .delay_min = 1,
                                                 .delay_max = 10,
                                                 .crashes = true,
                                                 .garbage = true};

static void
test_garbage_inputs(void)
{
	struct sim stats;
	memset(&stats, 0, sizeof(stats));
	double t0 = seconds();
	uint64_t seeds = getenv("RAFT_SIM_GARBAGE") ? strtoull(getenv("RAFT_SIM_GARBAGE"), NULL, 10)
					       : 1000;
	for (uint64_t i = 0; i < seeds; i++)
		run_seed(&garbage_scenario, 9000001 + i, false, &stats);
	printf("garbage: %" PRIu64 " seeds, %" PRIu64 " mangled messages, %" PRIu64
	       " of them decoded, signed and handled, %.2fs\n",
	       seeds, stats.garbage_sent, stats.garbage_handled, seconds() - t0);
	CHECK_EQ_INT(stats.garbage_accepted, 0);
}

static void
test_unsafe_random(void)
{
	double t0 = seconds();
	unsigned total = 0, failed = 0;
	for (uint64_t i = 0; i < 10000; i++) {
		total++;
		if (!run_seed(&unsafe_scenario, 7000001 + i, failed < 3, NULL))
			failed++;
	}
	printf("mutation (unsafe_commit_old_terms), random schedules: %u of %u seeds found a "
	       "violation, %.2fs\n",
	       failed, total, seconds() - t0);
}

int
main(int argc, char **argv)
{
	trace = getenv("RAFT_SIM_TRACE") != NULL;
	if (argc == 4 && strcmp(argv[1], "replay") == 0) {
		const struct scenario *sc = NULL;
		for (size_t k = 0; k < NSCENARIOS; k++)
			if (strcmp(argv[2], scenarios[k].name) == 0)
				sc = &scenarios[k];
		if (strcmp(argv[2], "unsafe") == 0)
			sc = &unsafe_scenario;
		if (sc == NULL)
			return 2;
		bool ok = run_seed(sc, strtoull(argv[3], NULL, 10), true, NULL);
		printf("%s\n", ok ? "ok" : "FAIL");
		return ok ? 0 : 1;
	}
	RUN(test_random_schedules);
	RUN(test_garbage_inputs);
	RUN(test_unsafe_random);
	RUN(test_figure8_scripted);
	return TEST_DONE();
}
