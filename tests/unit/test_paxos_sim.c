/*
 * test_paxos_sim.c - the Multi-Paxos core under a deterministic randomized
 * simulation: n cores, each with a strict fake host (keyed-hash signatures,
 * a fake block hash, a chain of committed blocks that name their items), a
 * network that drops, delays, duplicates, reorders and partitions, and
 * crashes at any point of a drain (a PERSIST not carried out is lost with
 * everything after it; the node restarts from its last durable record and
 * its committed tip). One event queue ordered by (time, sequence) and one
 * generator seeded per run make every run replayable from its seed.
 *
 * Checked after every step:
 *  - one value per slot: every (slot, ballot) that a majority of acceptors
 *    durably accepted is chosen, and all chosen values of a slot are equal;
 *  - agreement: no two hosts commit different blocks at one height, and a
 *    committed block is the value chosen at its height;
 *  - certificates: a majority of distinct validators in ascending order,
 *    each a valid signature of the commit-vote preimage of the block;
 *  - COMMIT heights follow the host's tip; a proposal builds on the tip.
 * Liveness: once the faults stop (heal, restart every node, no drops), all
 * nodes reach one height holding every submitted item within LIVE_MS.
 *
 * Then the mutation check: with unsafe_skip_reproposal set, the checker
 * must catch a violation in some runs.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "paxos/paxos.h"
#include "test.h"

#define MAXN 7
#define MAX_ITEMS 64
#define MAX_H 128
#define TICK_MS 20
#define FAULT_MS 6000
#define LIVE_MS 30000
#define ACC_CAP 4096
#define ITEMS_PER_BLOCK 3

enum scenario {
	SC_CLEAN,
	SC_LOSSY,
	SC_PARTITION,
	SC_LEADER_MINORITY,
	SC_CRASH,
	SC_CHAOS,
	SC_CUT_AT_COMMIT, /* scripted: a leader is cut off right as it commits */
	SC_MINORITY_DOWN, /* crash-restart, then a minority stays down after the faults */
	SC_COUNT,
};

static const char *const scenario_name[SC_COUNT] = {
	"clean", "lossy", "partition", "leader-minority", "crash-restart", "chaos", "cut-at-commit",
	"minority-down",
};

/* minority-down: the held nodes come back at HOLD_MS after the faults; the others must finish first. */
#define HOLD_MS 4000

/* ---- determinism: splitmix64 ---- */

static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct rng {
	uint64_t s;
};

static uint64_t
rnd(struct rng *r)
{
	return mix64(r->s += 0x9e3779b97f4a7c15ull);
}

static uint64_t
below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool
chance(struct rng *r, uint32_t permille)
{
	return below(r, 1000) < permille;
}

/* ---- fake cryptography: strict, keyed by validator ---- */

static uint64_t
fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void
expand(uint64_t h, uint8_t *out, size_t words)
{
	for (size_t i = 0; i < words; i++) {
		uint64_t w = mix64(h + 0x9e3779b97f4a7c15ull * (i + 1));
		for (int j = 0; j < 8; j++)
			out[8 * i + j] = (uint8_t)(w >> (8 * j));
	}
}

static void
fake_sig(uint32_t validator, const uint8_t *b, size_t len, uint8_t sig[PAXOS_SIG_LEN])
{
	expand(fnv(b, len) ^ mix64(0x5157ull + validator), sig, PAXOS_SIG_LEN / 8);
}

static void
fake_hash(const uint8_t *b, size_t len, uint8_t out[PAXOS_HASH_LEN])
{
	expand(fnv(b, len), out, PAXOS_HASH_LEN / 8);
}

static void
vote_preimage(uint64_t height, uint64_t ballot, const uint8_t digest[PAXOS_HASH_LEN],
	      uint8_t out[17 + 16 + PAXOS_HASH_LEN])
{
	memcpy(out, "chaind/commit/v1", 17); /* with its NUL */
	for (int i = 0; i < 8; i++) {
		out[17 + i] = (uint8_t)(height >> (56 - 8 * i));
		out[25 + i] = (uint8_t)(ballot >> (56 - 8 * i));
	}
	memcpy(out + 33, digest, PAXOS_HASH_LEN);
}

/* ---- the world ---- */

enum ev_kind {
	EV_DELIVER,
	EV_TICK,
	EV_FETCH,
	EV_SUBMIT,
	EV_RESTART,
	EV_CRASH,
	EV_NET,
	EV_HEAL,
	EV_CHECK,
	EV_MAJORITY_CHECK,
	EV_RELEASE,
};

struct event {
	uint64_t at, seq;
	uint8_t kind;
	uint32_t node, from;
	uint32_t epoch;
	uint64_t height;
	uint8_t *bytes;
	size_t len;
};

struct blk {
	uint8_t digest[PAXOS_HASH_LEN];
	uint8_t *bytes;
	size_t len;
	uint64_t ballot;
	uint32_t ncert;
	struct paxos_vote cert[MAXN];
};

struct sim;

/* Messages kept from a run, as fuzz input. */
#define CAPTURE_MAX 4000
struct capture {
	size_t n;
	uint8_t *msg[CAPTURE_MAX];
	size_t len[CAPTURE_MAX];
};

struct node {
	struct sim *sim;
	uint32_t id;
	struct paxos *core;
	bool up;
	bool held; /* kept down after the faults (minority-down) */
	uint32_t epoch;
	uint8_t *record; /* the last durable record */
	size_t record_len;
	uint64_t durable_ballot;
	struct blk chain[MAX_H + 1];
	uint64_t tip;
	bool has_item[MAX_ITEMS];
	uint64_t nonce;
};

/* One (slot, ballot) and the acceptors that durably accepted it. */
struct acc {
	bool used, chosen;
	uint64_t slot, ballot;
	uint8_t digest[PAXOS_HASH_LEN];
	uint32_t mask;
};

struct sim {
	uint64_t seed;
	enum scenario sc;
	uint32_t n;
	bool unsafe;
	struct rng rng;
	uint64_t now, seq;
	struct event *heap;
	size_t nheap, capheap;
	struct node nodes[MAXN];
	/* network and faults */
	bool faults;
	uint32_t drop, dup, late, dmin, dmax, crash_permille;
	int group[MAXN];
	/* checker */
	struct acc acc[ACC_CAP];
	bool chosen_has[MAX_H + 1];
	uint8_t chosen_digest[MAX_H + 1][PAXOS_HASH_LEN];
	bool com_has[MAX_H + 1];
	uint8_t com_digest[MAX_H + 1][PAXOS_HASH_LEN];
	uint32_t nitems;
	uint64_t live_from; /* every node is up again from here */
	bool done, failed;
	char why[256];
	struct capture *capture; /* if set, every message sent is kept here */
	uint64_t steps;
	struct stats {
		uint64_t runs, crashes, leads, fetches, syncs, dropped, commits, height, ms, max_ms;
	} st;
};

static void
fail(struct sim *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	s->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* ---- the event queue: a binary heap on (at, seq) ---- */

static bool
ev_less(const struct event *a, const struct event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
push_ev(struct sim *s, struct event e)
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

static struct event
pop_ev(struct sim *s)
{
	struct event top = s->heap[0], last = s->heap[--s->nheap];
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
at(struct sim *s, uint64_t when, uint8_t kind, uint32_t node, uint32_t epoch)
{
	struct event e = {0};
	e.at = when;
	e.kind = kind;
	e.node = node;
	e.epoch = epoch;
	push_ev(s, e);
}

/* ---- the host: callbacks ---- */

static void
h_sign(void *arg, const uint8_t *b, size_t len, uint8_t sig[PAXOS_SIG_LEN])
{
	const struct node *nd = arg;
	fake_sig(nd->id, b, len, sig);
}

static bool
h_verify(void *arg, uint32_t v, const uint8_t *b, size_t len, const uint8_t sig[PAXOS_SIG_LEN])
{
	const struct node *nd = arg;
	uint8_t want[PAXOS_SIG_LEN];
	if (v >= nd->sim->n)
		return false;
	fake_sig(v, b, len, want);
	return memcmp(want, sig, PAXOS_SIG_LEN) == 0;
}

static bool
h_hash(void *arg, const uint8_t *b, size_t len, uint8_t out[PAXOS_HASH_LEN])
{
	(void)arg;
	if (b == NULL || len < 2 || b[0] != 'B' || b[1] != ' ')
		return false;
	fake_hash(b, len, out);
	return true;
}

static struct paxos_config
config_of(const struct sim *s, uint32_t self)
{
	struct paxos_config c;
	memset(&c, 0, sizeof(c));
	c.n = s->n;
	c.self = self;
	c.timeout_ms = 200;
	c.max_timeout_ms = 1600;
	c.heartbeat_ms = 50;
	c.max_block_bytes = 4096;
	c.seed = s->seed;
	c.unsafe_skip_reproposal = s->unsafe;
	return c;
}

static struct paxos_host
host_of(struct node *nd)
{
	struct paxos_host h = {nd, h_sign, h_verify, h_hash};
	return h;
}

/* ---- blocks ---- */

/* parse_block reads "B h=H p=P n=N i=a,b,..." into height and an item set. */
static bool
parse_block(const uint8_t *b, size_t len, uint64_t *height, bool items[MAX_ITEMS])
{
	char text[512];
	if (len >= sizeof(text))
		return false;
	memcpy(text, b, len);
	text[len] = 0;
	unsigned long long h, nonce;
	unsigned p;
	int off = 0;
	if (sscanf(text, "B h=%llu p=%u n=%llu i=%n", &h, &p, &nonce, &off) != 3 || off == 0)
		return false;
	*height = h;
	memset(items, 0, MAX_ITEMS * sizeof(bool));
	const char *c = text + off;
	while (*c) {
		char *end;
		unsigned long v = strtoul(c, &end, 10);
		if (end == c || v >= MAX_ITEMS)
			return false;
		items[v] = true;
		c = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != 0)
			return false;
	}
	return true;
}

/*
 * check_block: a committed block (from COMMIT or block sync) hashes to its
 * digest, names its height, is the value chosen there, agrees with every
 * other host, and carries a valid certificate.
 */
static void
check_block(struct sim *s, uint32_t who, uint64_t height, uint64_t ballot,
	    const uint8_t digest[PAXOS_HASH_LEN], const uint8_t *b, size_t len,
	    const struct paxos_vote *cert, uint32_t ncert)
{
	uint8_t h[PAXOS_HASH_LEN];
	uint64_t named;
	bool items[MAX_ITEMS];
	if (height == 0 || height > MAX_H) {
		fail(s, "node %u: commit at height %" PRIu64 " out of range", who, height);
		return;
	}
	if (!h_hash(NULL, b, len, h) || memcmp(h, digest, PAXOS_HASH_LEN) != 0)
		fail(s, "node %u: block at %" PRIu64 " does not hash to its digest", who, height);
	else if (!parse_block(b, len, &named, items) || named != height)
		fail(s, "node %u: block at %" PRIu64 " names another height", who, height);
	if (ncert < paxos_quorum(s->n) || ncert > s->n)
		fail(s, "node %u: certificate at %" PRIu64 " has %u votes", who, height, ncert);
	uint8_t pre[17 + 16 + PAXOS_HASH_LEN];
	vote_preimage(height, ballot, digest, pre);
	for (uint32_t i = 0; i < ncert && !s->failed; i++) {
		uint8_t want[PAXOS_SIG_LEN];
		if (cert[i].from >= s->n || (i > 0 && cert[i].from <= cert[i - 1].from)) {
			fail(s, "node %u: certificate at %" PRIu64 " not distinct ascending", who,
			     height);
			break;
		}
		fake_sig(cert[i].from, pre, sizeof(pre), want);
		if (memcmp(want, cert[i].sig, PAXOS_SIG_LEN) != 0)
			fail(s, "node %u: certificate at %" PRIu64 " has a bad vote of %u", who,
			     height, cert[i].from);
	}
	if (s->com_has[height] && memcmp(s->com_digest[height], digest, PAXOS_HASH_LEN) != 0)
		fail(s, "agreement: node %u commits another block at height %" PRIu64, who, height);
	s->com_has[height] = true;
	memcpy(s->com_digest[height], digest, PAXOS_HASH_LEN);
	if (!s->chosen_has[height] ||
	    memcmp(s->chosen_digest[height], digest, PAXOS_HASH_LEN) != 0)
		fail(s, "node %u: block committed at %" PRIu64 " is not the chosen value", who,
		     height);
}

static void
append_block(struct sim *s, struct node *nd, uint64_t ballot, const uint8_t digest[PAXOS_HASH_LEN],
	     const uint8_t *b, size_t len, const struct paxos_vote *cert, uint32_t ncert)
{
	check_block(s, nd->id, nd->tip + 1, ballot, digest, b, len, cert, ncert);
	if (s->failed || nd->tip + 1 > MAX_H)
		return;
	struct blk *k = &nd->chain[++nd->tip];
	memcpy(k->digest, digest, PAXOS_HASH_LEN);
	k->bytes = malloc(len);
	if (k->bytes == NULL)
		abort();
	memcpy(k->bytes, b, len);
	k->len = len;
	k->ballot = ballot;
	k->ncert = ncert > MAXN ? MAXN : ncert;
	memcpy(k->cert, cert, k->ncert * sizeof(*cert));
	uint64_t h;
	bool items[MAX_ITEMS];
	if (parse_block(b, len, &h, items))
		for (int i = 0; i < MAX_ITEMS; i++)
			nd->has_item[i] = nd->has_item[i] || items[i];
}

/* ---- the checker of chosen values, fed by durable records ---- */

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
note_accepted(struct sim *s, uint32_t who, uint64_t slot, uint64_t ballot,
	      const uint8_t digest[PAXOS_HASH_LEN])
{
	size_t i = (size_t)(mix64(slot * 0x1000193ull ^ ballot) % ACC_CAP);
	for (size_t probes = 0; probes < ACC_CAP; probes++, i = (i + 1) % ACC_CAP) {
		struct acc *a = &s->acc[i];
		if (a->used && (a->slot != slot || a->ballot != ballot))
			continue;
		if (!a->used) {
			a->used = true;
			a->slot = slot;
			a->ballot = ballot;
			memcpy(a->digest, digest, PAXOS_HASH_LEN);
		} else if (memcmp(a->digest, digest, PAXOS_HASH_LEN) != 0) {
			fail(s, "two values accepted in ballot %" PRIu64 " at slot %" PRIu64, ballot,
			     slot);
			return;
		}
		a->mask |= 1u << who;
		if (!a->chosen && (uint32_t)__builtin_popcount(a->mask) >= paxos_quorum(s->n)) {
			a->chosen = true;
			if (slot > MAX_H) {
				fail(s, "slot %" PRIu64 " beyond the simulation", slot);
				return;
			}
			if (s->chosen_has[slot] &&
			    memcmp(s->chosen_digest[slot], digest, PAXOS_HASH_LEN) != 0)
				fail(s, "two values chosen at slot %" PRIu64 " (ballot %" PRIu64 ")",
				     slot, ballot);
			s->chosen_has[slot] = true;
			memcpy(s->chosen_digest[slot], digest, PAXOS_HASH_LEN);
		}
		return;
	}
	fail(s, "checker table full");
}

/* track_record reads a durable record (paxos/record.c's layout) into the checker. */
static void
track_record(struct sim *s, uint32_t who, const uint8_t *r, size_t len)
{
	uint64_t ballot, height;
	bool voted;
	if (paxos_record_mark(r, len, &ballot, &height, &voted, NULL) != 0) {
		fail(s, "node %u persisted a record paxos_record_mark rejects", who);
		return;
	}
	if (ballot < s->nodes[who].durable_ballot)
		fail(s, "node %u: a record went back in ballot", who);
	s->nodes[who].durable_ballot = ballot;
	size_t off = 1 + 8;
	uint32_t count = r[off++];
	for (uint32_t i = 0; i < count && !s->failed; i++) {
		uint64_t slot = be64(r + off), b = be64(r + off + 8);
		const uint8_t *digest = r + off + 16;
		const uint8_t *l = r + off + 16 + PAXOS_HASH_LEN;
		uint32_t blen = (uint32_t)l[0] << 24 | (uint32_t)l[1] << 16 | (uint32_t)l[2] << 8 | l[3];
		note_accepted(s, who, slot, b, digest);
		off += 16 + PAXOS_HASH_LEN + 4 + blen;
	}
}

/* ---- the network ---- */

static void
net_send(struct sim *s, uint32_t from, uint32_t to, const uint8_t *b, size_t len)
{
	if (s->faults && chance(&s->rng, s->drop)) {
		s->st.dropped++;
		return;
	}
	if (s->capture != NULL && s->capture->n < CAPTURE_MAX) {
		struct capture *k = s->capture;
		k->msg[k->n] = malloc(len);
		if (k->msg[k->n] == NULL)
			abort();
		memcpy(k->msg[k->n], b, len);
		k->len[k->n++] = len;
	}
	int copies = 1 + (s->faults && chance(&s->rng, s->dup));
	for (int c = 0; c < copies; c++) {
		struct event e = {0};
		e.at = s->now + s->dmin + below(&s->rng, s->dmax - s->dmin + 1);
		if (s->faults && chance(&s->rng, s->late))
			e.at += below(&s->rng, 1500); /* a straggler, long after the others */
		e.kind = EV_DELIVER;
		e.node = to;
		e.from = from;
		e.bytes = malloc(len);
		if (e.bytes == NULL)
			abort();
		memcpy(e.bytes, b, len);
		e.len = len;
		push_ev(s, e);
	}
}

/* ---- a node's life ---- */

static void
crash(struct sim *s, struct node *nd)
{
	paxos_free(nd->core);
	nd->core = NULL;
	nd->up = false;
	s->st.crashes++;
	nd->epoch++;
	at(s, s->now + 50 + below(&s->rng, 600), EV_RESTART, nd->id, nd->epoch);
}

static void
isolate(struct sim *s, uint32_t who)
{
	for (uint32_t i = 0; i < s->n; i++)
		s->group[i] = 0;
	s->group[who] = 1;
	at(s, s->now + 300 + below(&s->rng, 600), EV_NET, 0, UINT32_MAX); /* heal later */
}

static bool
cut_off(const struct sim *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->group[i] != 0)
			return true;
	return false;
}

/*
 * drain carries out every action of nd's core in order, as a host must; a
 * crash may strike before any of them. False if the node crashed.
 */
static bool
drain(struct sim *s, struct node *nd)
{
	struct paxos_action a;
	while (paxos_next_action(nd->core, &a)) {
		if (s->faults && s->crash_permille && chance(&s->rng, s->crash_permille)) {
			paxos_action_close(&a);
			crash(s, nd);
			return false;
		}
		if ((a.type == PAXOS_ACT_SEND || a.type == PAXOS_ACT_BROADCAST) &&
		    a.bytes.len > paxos_max_message(s->n, 4096))
			fail(s, "node %u: a message of %zu bytes is above the bound", nd->id, a.bytes.len);
		if (a.type == PAXOS_ACT_PERSIST && a.bytes.len > paxos_max_record(4096))
			fail(s, "node %u: a record of %zu bytes is above the bound", nd->id, a.bytes.len);
		switch (a.type) {
		case PAXOS_ACT_SEND:
			if (a.to >= s->n || a.to == nd->id)
				fail(s, "node %u: SEND to %u", nd->id, a.to);
			else
				net_send(s, nd->id, a.to, a.bytes.data, a.bytes.len);
			break;
		case PAXOS_ACT_BROADCAST:
			for (uint32_t j = 0; j < s->n; j++)
				if (j != nd->id)
					net_send(s, nd->id, j, a.bytes.data, a.bytes.len);
			break;
		case PAXOS_ACT_PERSIST:
			free(nd->record);
			nd->record = malloc(a.bytes.len);
			if (nd->record == NULL)
				abort();
			memcpy(nd->record, a.bytes.data, a.bytes.len);
			nd->record_len = a.bytes.len;
			track_record(s, nd->id, a.bytes.data, a.bytes.len);
			break;
		case PAXOS_ACT_COMMIT:
			if (a.height != nd->tip + 1)
				fail(s, "node %u: COMMIT at %" PRIu64 " on tip %" PRIu64, nd->id,
				     a.height, nd->tip);
			else
				append_block(s, nd, a.ballot, a.digest, a.block, a.block_len, a.cert,
					     a.ncert);
			s->st.commits++;
			if (s->sc == SC_CUT_AT_COMMIT && s->faults && !cut_off(s) &&
			    paxos_leading(nd->core) && chance(&s->rng, 500))
				isolate(s, nd->id); /* its COMMITTED will not get out */
			break;
		case PAXOS_ACT_FETCH: {
			if (a.to >= s->n || a.to == nd->id) {
				fail(s, "node %u: FETCH from %u", nd->id, a.to);
				break;
			}
			s->st.fetches++;
			struct event e = {0};
			e.at = s->now + s->dmin + below(&s->rng, 2 * (s->dmax - s->dmin) + 1);
			e.kind = EV_FETCH;
			e.node = nd->id;
			e.from = a.to;
			e.epoch = nd->epoch;
			e.height = a.height;
			push_ev(s, e);
			break;
		}
		case PAXOS_ACT_ROLE:
			if (a.leader != PAXOS_NO_LEADER && a.leader >= s->n)
				fail(s, "node %u: ROLE names leader %u", nd->id, a.leader);
			if (a.leading && (a.leader != nd->id || a.ballot != paxos_ballot(nd->core)))
				fail(s, "node %u: ROLE leads but names %u", nd->id, a.leader);
			s->st.leads += a.leading;
			break;
		default:
			fail(s, "node %u: unknown action %u", nd->id, a.type);
		}
		paxos_action_close(&a);
	}
	return true;
}

/* propose cuts a block of pending items on the executed tip, if there are any. */
static bool
propose(struct sim *s, struct node *nd)
{
	char text[256];
	int len = snprintf(text, sizeof(text), "B h=%" PRIu64 " p=%u n=%" PRIu64 " i=",
			   nd->tip + 1, nd->id, nd->nonce++);
	int k = 0;
	for (uint32_t i = 0; i < s->nitems && k < ITEMS_PER_BLOCK; i++)
		if (!nd->has_item[i])
			len += snprintf(text + len, sizeof(text) - (size_t)len, "%s%u", k++ ? "," : "",
					i);
	if (k == 0)
		return false;
	if (paxos_height(nd->core) != nd->tip) {
		fail(s, "node %u: may propose at core height %" PRIu64 " on tip %" PRIu64, nd->id,
		     paxos_height(nd->core), nd->tip);
		return false;
	}
	uint8_t digest[PAXOS_HASH_LEN];
	fake_hash((const uint8_t *)text, (size_t)len, digest);
	paxos_propose(nd->core, digest, (const uint8_t *)text, (size_t)len, s->now);
	return true;
}

/* host_run: carry out the actions, report commits, propose while the core lets us. */
static void
host_run(struct sim *s, struct node *nd)
{
	for (int rounds = 0; rounds < 1000 && !s->failed; rounds++) {
		uint64_t before = nd->tip;
		if (!drain(s, nd))
			return;
		if (nd->tip != before) {
			paxos_committed(nd->core, nd->tip, s->now);
			continue;
		}
		if (paxos_can_propose(nd->core) && propose(s, nd))
			continue;
		return;
	}
	fail(s, "node %u: host loop does not settle", nd->id);
}

static void
start(struct sim *s, struct node *nd)
{
	struct paxos_config cfg = config_of(s, nd->id);
	struct paxos_host host = host_of(nd);
	const uint8_t *digest = nd->chain[nd->tip].digest;
	if (paxos_new(&nd->core, &cfg, &host, nd->tip, digest, s->now) != 0) {
		fail(s, "node %u: paxos_new failed", nd->id);
		return;
	}
	struct ch_err err = {0};
	if (nd->record != NULL && paxos_restore(nd->core, nd->record, nd->record_len, &err) != 0) {
		fail(s, "node %u: paxos_restore: %s", nd->id, err.msg);
		return;
	}
	nd->up = true;
	at(s, s->now + 1 + below(&s->rng, TICK_MS), EV_TICK, nd->id, nd->epoch);
	host_run(s, nd);
}

/* do_fetch: block sync from another node's committed chain, as a host does it. */
static void
do_fetch(struct sim *s, const struct event *e)
{
	struct node *r = &s->nodes[e->node], *t = &s->nodes[e->from];
	if (!r->up || r->epoch != e->epoch || !t->up || s->group[e->node] != s->group[e->from] ||
	    (s->faults && chance(&s->rng, s->drop)))
		return; /* lost: the core asks again after its timeout */
	uint64_t upto = t->tip < e->height ? t->tip : e->height;
	s->st.syncs += r->tip < upto;
	while (r->tip < upto && !s->failed) {
		const struct blk *k = &t->chain[r->tip + 1];
		append_block(s, r, k->ballot, k->digest, k->bytes, k->len, k->cert, k->ncert);
	}
	const struct blk *top = &r->chain[r->tip];
	paxos_synced(r->core, r->tip, top->digest, top->ballot, top->ncert ? top->cert : NULL,
		     top->ncert, s->now);
	host_run(s, r);
}

/* leader_of: the leading node of the highest ballot, or n. */
static uint32_t
leader_of(const struct sim *s)
{
	uint32_t best = s->n;
	for (uint32_t i = 0; i < s->n; i++) {
		const struct node *nd = &s->nodes[i];
		if (nd->up && paxos_leading(nd->core) &&
		    (best == s->n || paxos_ballot(nd->core) > paxos_ballot(s->nodes[best].core)))
			best = i;
	}
	return best;
}

/* net_change: the scenario's next partition (or a heal). */
static void
net_change(struct sim *s, bool reschedule)
{
	for (uint32_t i = 0; i < s->n; i++)
		s->group[i] = 0;
	bool parts = s->sc == SC_PARTITION || s->sc == SC_CHAOS;
	bool minority = s->sc == SC_LEADER_MINORITY || s->sc == SC_CHAOS;
	uint64_t r = below(&s->rng, 4);
	if (parts && r <= 1) {
		for (uint32_t i = 0; i < s->n; i++)
			s->group[i] = (int)below(&s->rng, 3);
	} else if (minority && r >= 2) {
		uint32_t l = leader_of(s);
		if (l < s->n) {
			uint32_t extra = below(&s->rng, (s->n - 1) / 2); /* leader plus < half */
			s->group[l] = 1;
			for (uint32_t k = 0; k < extra; k++)
				s->group[below(&s->rng, s->n)] = 1;
			uint32_t cut = 0;
			for (uint32_t i = 0; i < s->n; i++)
				cut += s->group[i] == 1;
			if (2 * cut >= s->n) /* keep it a minority */
				for (uint32_t i = 0; i < s->n; i++)
					s->group[i] = i == l;
		}
	}
	if (reschedule)
		at(s, s->now + 100 + below(&s->rng, 500), EV_NET, 0, 0);
}

/* all_live: every node that is up (all of them unless only_up) holds every item at one height. */
static bool
all_live(const struct sim *s, bool only_up)
{
	const struct node *a = NULL;
	for (uint32_t i = 0; i < s->n; i++) {
		const struct node *nd = &s->nodes[i];
		if (!nd->up && only_up)
			continue;
		if (a == NULL)
			a = nd;
		if (!nd->up || nd->tip != a->tip || paxos_height(nd->core) != nd->tip)
			return false;
		for (uint32_t k = 0; k < s->nitems; k++)
			if (!nd->has_item[k])
				return false;
	}
	return true;
}

static void
step(struct sim *s)
{
	struct event e = pop_ev(s);
	s->now = e.at;
	s->steps++;
	struct node *nd = &s->nodes[e.node < s->n ? e.node : 0];
	switch (e.kind) {
	case EV_DELIVER:
		if (nd->up && s->group[e.from] == s->group[e.node]) {
			enum paxos_input rc = paxos_receive(nd->core, e.bytes, e.len, s->now);
			if (rc != PAXOS_ACCEPTED_INPUT)
				fail(s, "node %u rejected a message of %u (%d)", e.node, e.from, rc);
			host_run(s, nd);
		}
		break;
	case EV_TICK:
		if (nd->up && nd->epoch == e.epoch) {
			paxos_tick(nd->core, s->now);
			host_run(s, nd);
			if (nd->up && nd->epoch == e.epoch)
				at(s, s->now + TICK_MS, EV_TICK, e.node, e.epoch);
		}
		break;
	case EV_FETCH:
		do_fetch(s, &e);
		break;
	case EV_SUBMIT:
		if (s->nitems < MAX_ITEMS)
			s->nitems++;
		break;
	case EV_RESTART:
		if (!nd->up && !nd->held && nd->epoch == e.epoch)
			start(s, nd);
		break;
	case EV_CRASH:
		if (s->faults && nd->up) {
			uint32_t down = 0;
			for (uint32_t i = 0; i < s->n; i++)
				down += !s->nodes[i].up;
			if (2 * (down + 1) < s->n || chance(&s->rng, 200))
				crash(s, nd);
		}
		if (s->faults)
			at(s, s->now + 100 + below(&s->rng, 400), EV_CRASH, below(&s->rng, s->n), 0);
		break;
	case EV_NET:
		if (!s->faults)
			break;
		if (e.epoch == UINT32_MAX) /* the end of a scripted cut */
			for (uint32_t i = 0; i < s->n; i++)
				s->group[i] = 0;
		else
			net_change(s, true);
		break;
	case EV_HEAL:
		s->faults = false;
		for (uint32_t i = 0; i < s->n; i++)
			s->group[i] = 0;
		if (s->sc == SC_MINORITY_DOWN && s->n >= 3) {
			/* f = (n - 1) / 2 crash faults are tolerated: the rest must go on */
			uint32_t k = 1 + (uint32_t)below(&s->rng, (s->n - 1) / 2);
			for (uint32_t j = 0; j < k; j++) {
				struct node *x = &s->nodes[below(&s->rng, s->n)];
				if (x->up)
					crash(s, x);
				x->held = true;
			}
			s->live_from = s->now + HOLD_MS;
			at(s, s->now + HOLD_MS - 500, EV_MAJORITY_CHECK, 0, 0);
			at(s, s->live_from, EV_RELEASE, 0, 0);
		}
		for (uint32_t i = 0; i < s->n && !s->failed; i++)
			if (!s->nodes[i].up && !s->nodes[i].held)
				start(s, &s->nodes[i]);
		break;
	case EV_MAJORITY_CHECK:
		if (!all_live(s, true))
			fail(s, "liveness: the majority that is up did not commit every item");
		break;
	case EV_RELEASE:
		for (uint32_t i = 0; i < s->n && !s->failed; i++)
			if (s->nodes[i].held) {
				s->nodes[i].held = false;
				start(s, &s->nodes[i]);
			}
		break;
	case EV_CHECK:
		if (s->now > s->live_from && all_live(s, false))
			s->done = true;
		else if (s->now > s->live_from + LIVE_MS)
			fail(s, "liveness: no agreement on every item %d ms after the faults stopped",
			     LIVE_MS);
		else
			at(s, s->now + 50, EV_CHECK, 0, 0);
		break;
	}
	free(e.bytes);
}

static void
describe(const struct sim *s)
{
	fprintf(stderr, "  seed %" PRIu64 " scenario %s n=%u%s: %s (t=%" PRIu64 " ms)\n", s->seed,
		scenario_name[s->sc], s->n, s->unsafe ? " unsafe" : "", s->why, s->now);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct node *nd = &s->nodes[i];
		fprintf(stderr, "    node %u: %s tip %" PRIu64, i, nd->up ? "up" : "down", nd->tip);
		if (nd->up)
			fprintf(stderr, " ballot %" PRIu64 " leading %d leader %u core height %" PRIu64,
				paxos_ballot(nd->core), paxos_leading(nd->core),
				paxos_leader(nd->core), paxos_height(nd->core));
		fprintf(stderr, "\n");
	}
}

/* run_one: one seeded run; true if every check held. */
static bool
run_one(struct sim *s, uint64_t seed, enum scenario sc, uint32_t n, bool unsafe, bool quiet)
{
	struct event *heap = s->heap;
	size_t capheap = s->capheap;
	struct capture *capture = s->capture;
	memset(s, 0, sizeof(*s));
	s->heap = heap;
	s->capheap = capheap;
	s->capture = capture;
	s->st.runs = 1;
	s->seed = seed;
	s->sc = sc;
	s->n = n;
	s->unsafe = unsafe;
	s->rng.s = seed * 0x2545f4914f6cdd1dull + sc;
	s->faults = true;
	s->live_from = FAULT_MS + 500; /* the late items are in */
	s->dmin = 1;
	s->dmax = 10;
	switch (sc) {
	case SC_CLEAN:
		break;
	case SC_LOSSY:
		s->drop = 100 + (uint32_t)below(&s->rng, 300);
		s->dup = 50;
		s->late = 20;
		s->dmax = 60;
		break;
	case SC_PARTITION:
	case SC_LEADER_MINORITY:
		s->drop = 50;
		s->dup = 20;
		s->dmax = 30;
		break;
	case SC_CRASH:
	case SC_MINORITY_DOWN:
		s->crash_permille = 8;
		s->dmax = 20;
		break;
	case SC_CHAOS:
		s->drop = 150;
		s->dup = 50;
		s->late = 20;
		s->dmax = 60;
		s->crash_permille = 5;
		break;
	case SC_CUT_AT_COMMIT:
		s->dmax = 20;
		break;
	default:
		break;
	}
	for (uint32_t i = 0; i < n; i++) {
		s->nodes[i].sim = s;
		s->nodes[i].id = i;
	}
	for (uint32_t i = 0; i < n && !s->failed; i++)
		start(s, &s->nodes[i]);
	uint32_t items = 16 + (uint32_t)below(&s->rng, MAX_ITEMS - 16 - 2);
	for (uint32_t k = 0; k < items; k++)
		at(s, below(&s->rng, FAULT_MS), EV_SUBMIT, 0, 0);
	for (uint32_t k = 0; k < 2; k++)
		at(s, FAULT_MS + 1 + below(&s->rng, 500), EV_SUBMIT, 0, 0);
	if (sc == SC_PARTITION || sc == SC_LEADER_MINORITY || sc == SC_CHAOS)
		at(s, 200 + below(&s->rng, 500), EV_NET, 0, 0);
	if (sc == SC_CRASH || sc == SC_CHAOS || sc == SC_MINORITY_DOWN)
		at(s, 100 + below(&s->rng, 500), EV_CRASH, below(&s->rng, n), 0);
	at(s, FAULT_MS, EV_HEAL, 0, 0);
	at(s, FAULT_MS + 50, EV_CHECK, 0, 0);
	while (!s->done && !s->failed && s->nheap > 0)
		step(s);
	if (!s->done && !s->failed)
		fail(s, "the event queue ran dry");
	s->st.height = s->nodes[0].tip;
	s->st.ms = s->now;
	if (s->failed && !quiet)
		describe(s);
	/* release */
	while (s->nheap > 0) {
		struct event e = pop_ev(s);
		free(e.bytes);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct node *nd = &s->nodes[i];
		paxos_free(nd->core);
		free(nd->record);
		for (uint64_t h = 1; h <= nd->tip; h++)
			free(nd->chain[h].bytes);
	}
	return !s->failed;
}

static const uint32_t sizes[] = {1, 2, 3, 4, 5, 7};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static double
seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 10) : def;
}

/* Every scenario for every n over many seeds: no check may fail. */
static void
test_sim_seeds(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	REQUIRE(s != NULL);
	uint64_t runs = env_u64("PAXOS_SIM_RUNS", 4000), base = env_u64("PAXOS_SIM_SEED", 1);
	uint64_t failures = 0, steps = 0;
	struct stats sum[SC_COUNT];
	memset(sum, 0, sizeof(sum));
	double t0 = seconds();
	for (uint64_t i = 0; i < runs && failures < 5; i++) {
		enum scenario sc = (enum scenario)(i % SC_COUNT);
		uint32_t n = sizes[(i / SC_COUNT) % NSIZES];
		if (!run_one(s, base + i, sc, n, false, false))
			failures++;
		steps += s->steps;
		struct stats *a = &sum[sc];
		a->runs++;
		a->crashes += s->st.crashes;
		a->leads += s->st.leads;
		a->fetches += s->st.fetches;
		a->syncs += s->st.syncs;
		a->dropped += s->st.dropped;
		a->commits += s->st.commits;
		a->height += s->st.height;
		a->ms += s->st.ms - FAULT_MS;
		if (s->st.ms - FAULT_MS > a->max_ms)
			a->max_ms = s->st.ms - FAULT_MS;
	}
	for (int k = 0; k < SC_COUNT; k++) {
		const struct stats *a = &sum[k];
		if (a->runs == 0)
			continue;
		printf("  %-16s %4" PRIu64 " runs; per run: height %.1f, %.1f leaderships, %.1f "
		       "crashes, %.0f drops, %.1f fetches (%.1f useful); settled %.0f ms after the "
		       "faults (max %" PRIu64 ")\n",
		       scenario_name[k], a->runs, (double)a->height / a->runs,
		       (double)a->leads / a->runs, (double)a->crashes / a->runs,
		       (double)a->dropped / a->runs, (double)a->fetches / a->runs,
		       (double)a->syncs / a->runs, (double)a->ms / a->runs, a->max_ms);
	}
	printf("paxos sim: %" PRIu64 " runs (seeds %" PRIu64 "..%" PRIu64 ", %d scenarios x n in "
	       "{1,2,3,4,5,7}), %" PRIu64 " steps, %" PRIu64 " failed, %.1f s\n",
	       runs, base, base + runs - 1, SC_COUNT, steps, failures, seconds() - t0);
	CHECK_EQ_INT(failures, 0);
	free(s->heap);
	free(s);
}

/*
 * The mutation check: a leader that skips re-proposals must be caught. The
 * scripted cut-at-commit schedule isolates a leader as soon as it commits,
 * so the next leader finds the chosen value only in its promises.
 */
static void
test_sim_catches_skipped_reproposal(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	REQUIRE(s != NULL);
	uint64_t runs = env_u64("PAXOS_SIM_MUTANT_RUNS", 600), caught = 0;
	uint64_t caught_random = 0, runs_random = 0;
	double t0 = seconds();
	for (uint64_t i = 0; i < runs; i++) {
		uint32_t n = sizes[2 + i % (NSIZES - 2)]; /* n >= 3: two majorities without the leader */
		caught += !run_one(s, 1000000 + i, SC_CUT_AT_COMMIT, n, true, true);
	}
	for (uint64_t i = 0; i < runs / 2; i++) {
		uint32_t n = sizes[2 + i % (NSIZES - 2)];
		enum scenario sc = i % 2 ? SC_CHAOS : SC_LEADER_MINORITY;
		caught_random += !run_one(s, 2000000 + i, sc, n, true, true);
		runs_random++;
	}
	printf("mutation unsafe_skip_reproposal: cut-at-commit caught %" PRIu64 " of %" PRIu64
	       ", random (leader-minority, chaos) caught %" PRIu64 " of %" PRIu64 ", %.1f s\n",
	       caught, runs, caught_random, runs_random, seconds() - t0);
	CHECK(caught > 0);
	free(s->heap);
	free(s);
}


/* ---- garbage: the core never crashes, accepts no forged bytes, stays bounded ---- */

static bool
yes_verify(void *arg, uint32_t v, const uint8_t *b, size_t len, const uint8_t sig[PAXOS_SIG_LEN])
{
	(void)arg, (void)v, (void)b, (void)len, (void)sig;
	return true;
}

static bool
any_hash(void *arg, const uint8_t *b, size_t len, uint8_t out[PAXOS_HASH_LEN])
{
	(void)arg;
	fake_hash(b, len, out);
	return true;
}

/* mutate changes buf (a copy of a message) in place: flips, extreme integers, a new length. */
static size_t
mutate(struct rng *r, uint8_t *buf, size_t len, size_t cap)
{
	static const uint64_t extremes[] = {0, 1, 2, 3, 4, 7, 8, 9, UINT32_MAX, UINT64_MAX,
					    UINT64_MAX - 1, UINT64_MAX - 7, 1ull << 63};
	switch (below(r, 5)) {
	case 0: /* flip a few bytes */
		for (uint64_t k = 1 + below(r, 3); k > 0 && len > 0; k--)
			buf[below(r, len)] ^= (uint8_t)(1 + below(r, 255));
		break;
	case 1: /* an extreme big-endian integer anywhere */
		if (len >= 8) {
			size_t at_ = below(r, len - 7);
			uint64_t v = extremes[below(r, sizeof(extremes) / sizeof(extremes[0]))];
			for (int i = 0; i < 8; i++)
				buf[at_ + i] = (uint8_t)(v >> (56 - 8 * i));
		}
		break;
	case 2: /* truncate */
		len = below(r, len + 1);
		break;
	case 3: /* grow */
		while (len < cap && below(r, 4) != 0)
			buf[len++] = (uint8_t)rnd(r);
		break;
	default: /* random bytes */
		len = below(r, cap < 300 ? cap : 300);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd(r);
		break;
	}
	return len;
}

/*
 * fuzz_drain carries out a core's actions as a minimal host would and checks
 * what can be checked without a network: valid targets, commits on the tip,
 * bounded certificates, a bounded number of actions per call.
 */
static void
fuzz_drain(struct paxos *p, uint32_t n, uint32_t self, uint64_t *tip, uint64_t *fetch_to)
{
	struct paxos_action a;
	size_t count = 0;
	while (paxos_next_action(p, &a)) {
		count++;
		switch (a.type) {
		case PAXOS_ACT_SEND:
		case PAXOS_ACT_FETCH:
			CHECK(a.to < n && a.to != self);
			if (a.type == PAXOS_ACT_FETCH)
				*fetch_to = a.height;
			break;
		case PAXOS_ACT_COMMIT:
			CHECK(a.height == *tip + 1);
			CHECK(a.ncert <= n && a.ncert >= paxos_quorum(n));
			CHECK(a.block_len > 0 && a.block_len <= 4096);
			*tip = a.height;
			break;
		case PAXOS_ACT_ROLE:
			CHECK(a.leader == PAXOS_NO_LEADER || a.leader < n);
			break;
		case PAXOS_ACT_BROADCAST:
		case PAXOS_ACT_PERSIST:
			CHECK(a.bytes.len > 0);
			break;
		default:
			CHECK(0);
		}
		paxos_action_close(&a);
	}
	CHECK(count <= 4 * n + 16);
}

static void
capture_messages(struct sim *s, struct capture *k, uint32_t n)
{
	s->capture = k;
	run_one(s, 77, SC_CHAOS, n, false, true);
	run_one(s, 78, SC_CUT_AT_COMMIT, n, false, true);
	run_one(s, 79, SC_LOSSY, n, false, true);
	s->capture = NULL;
}

/* Strict host: a changed byte is never accepted; the originals decode. */
static void
test_garbage_strict(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct capture *k = calloc(1, sizeof(*k));
	REQUIRE(s != NULL && k != NULL);
	const uint32_t n = 4, self = 1;
	capture_messages(s, k, n);
	CHECK(k->n > 1000); /* every type, from every sender */
	s->n = n;
	s->nodes[self].sim = s;
	s->nodes[self].id = self;
	struct paxos_config cfg = config_of(s, self);
	struct paxos_host host = host_of(&s->nodes[self]);
	struct paxos *p;
	REQUIRE(paxos_new(&p, &cfg, &host, 0, s->nodes[0].chain[0].digest, 0) == 0);
	struct rng r = {5};
	uint64_t tip = 0, fetch_to = 0, now = 0, forged = 0, tried = 0;
	uint8_t buf[8192];
	for (size_t i = 0; i < k->n; i++) {
		now += 3;
		enum paxos_input rc = paxos_receive(p, k->msg[i], k->len[i], now);
		CHECK(rc != PAXOS_MALFORMED);
		fuzz_drain(p, n, self, &tip, &fetch_to);
		for (int m = 0; m < 20; m++) {
			memcpy(buf, k->msg[i], k->len[i]);
			size_t len = mutate(&r, buf, k->len[i], sizeof(buf));
			if (len == k->len[i] && memcmp(buf, k->msg[i], len) == 0)
				continue;
			tried++;
			forged += paxos_receive(p, buf, len, now) == PAXOS_ACCEPTED_INPUT;
			fuzz_drain(p, n, self, &tip, &fetch_to);
		}
		paxos_tick(p, now);
		fuzz_drain(p, n, self, &tip, &fetch_to);
		if (tip > paxos_height(p))
			paxos_committed(p, tip, now);
		fuzz_drain(p, n, self, &tip, &fetch_to);
	}
	CHECK(paxos_receive(p, NULL, 0, now) == PAXOS_MALFORMED);
	printf("garbage (strict host): %" PRIu64 " mutants of %zu messages, %" PRIu64 " accepted\n",
	       tried, k->n, forged);
	CHECK_EQ_INT(forged, 0);
	paxos_free(p);
	for (size_t i = 0; i < k->n; i++)
		free(k->msg[i]);
	free(k);
	free(s->heap);
	free(s);
}

/*
 * A host whose verify and block_hash accept everything lets mutants reach
 * every path with extreme ballots, slots and heights: no crash, no
 * out-of-bounds access (run it under the sanitizers), bounded output.
 */
static void
test_garbage_permissive(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct capture *k = calloc(1, sizeof(*k));
	REQUIRE(s != NULL && k != NULL);
	const uint32_t n = 5;
	capture_messages(s, k, n);
	struct rng r = {9};
	uint8_t buf[8192];
	uint64_t calls = 0;
	for (uint32_t self = 0; self < n; self++) {
		struct paxos_config cfg = config_of(s, self);
		cfg.n = n;
		struct paxos_host host = {NULL, h_sign, yes_verify, any_hash};
		s->nodes[self].sim = s;
		s->nodes[self].id = self;
		host.arg = &s->nodes[self];
		struct paxos *p;
		uint8_t zero[PAXOS_HASH_LEN] = {0};
		REQUIRE(paxos_new(&p, &cfg, &host, 0, zero, 0) == 0);
		uint64_t tip = 0, fetch_to = 0, now = 0;
		for (int it = 0; it < 40000; it++) {
			size_t i = below(&r, k->n);
			memcpy(buf, k->msg[i], k->len[i]);
			size_t len = below(&r, 4) ? mutate(&r, buf, k->len[i], sizeof(buf)) : k->len[i];
			paxos_receive(p, buf, len, now);
			fuzz_drain(p, n, self, &tip, &fetch_to);
			calls++;
			switch (below(&r, 8)) {
			case 0:
				now += below(&r, 400);
				paxos_tick(p, now);
				break;
			case 1:
				if (fetch_to > tip && fetch_to < tip + 1000) {
					tip += 1 + below(&r, fetch_to - tip);
					paxos_synced(p, tip, zero, 0, NULL, 0, now);
				}
				break;
			case 2:
				if (paxos_can_propose(p)) {
					char text[64];
					int l = snprintf(text, sizeof(text), "B h=%" PRIu64 " p=%u n=%d i=1",
							 tip + 1, self, it);
					uint8_t d[PAXOS_HASH_LEN];
					fake_hash((const uint8_t *)text, (size_t)l, d);
					paxos_propose(p, d, (const uint8_t *)text, (size_t)l, now);
				}
				break;
			default:
				break;
			}
			fuzz_drain(p, n, self, &tip, &fetch_to);
			if (tip > paxos_height(p)) {
				paxos_committed(p, tip, now);
				fuzz_drain(p, n, self, &tip, &fetch_to);
			}
		}
		paxos_free(p);
	}
	printf("garbage (permissive host): %" PRIu64 " inputs over %u cores\n", calls, n);
	for (size_t i = 0; i < k->n; i++)
		free(k->msg[i]);
	free(k);
	free(s->heap);
	free(s);
}

/* Records: restore gives back what was persisted; damaged records fail cleanly. */
static void
test_record(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	REQUIRE(s != NULL);
	/* one clean run of three: node 0's last record holds its promise and values */
	struct capture *k = calloc(1, sizeof(*k));
	REQUIRE(k != NULL);
	s->n = 3;
	s->nodes[1].sim = s;
	s->nodes[1].id = 1;
	struct paxos_config cfg = config_of(s, 1);
	struct paxos_host host = host_of(&s->nodes[1]);
	struct paxos *p;
	uint8_t zero[PAXOS_HASH_LEN] = {0};
	REQUIRE(paxos_new(&p, &cfg, &host, 0, zero, 0) == 0);
	/* make node 1 accept a value of node 0's ballot 3 at slot 1 */
	uint8_t block[] = "B h=1 p=0 n=0 i=1";
	uint8_t digest[PAXOS_HASH_LEN];
	fake_hash(block, sizeof(block) - 1, digest);
	uint8_t msg[256];
	size_t len = 0;
	msg[len++] = 3; /* ACCEPT */
	msg[len++] = 0;
	msg[len++] = 0; /* from 0 */
	for (int i = 0; i < 8; i++)
		msg[len++] = (uint8_t)(i == 7 ? 3 : 0); /* ballot 3 */
	for (int i = 0; i < 8; i++)
		msg[len++] = (uint8_t)(i == 7 ? 1 : 0); /* slot 1 */
	memcpy(msg + len, digest, PAXOS_HASH_LEN);
	len += PAXOS_HASH_LEN;
	uint32_t bl = sizeof(block) - 1;
	msg[len++] = 0;
	msg[len++] = 0;
	msg[len++] = 0;
	msg[len++] = (uint8_t)bl;
	memcpy(msg + len, block, bl);
	len += bl;
	uint8_t pre[256];
	memcpy(pre, "chaind/paxos/v1", 16);
	memcpy(pre + 16, msg, len);
	fake_sig(0, pre, 16 + len, msg + len);
	len += PAXOS_SIG_LEN;
	CHECK(paxos_receive(p, msg, len, 1) == PAXOS_ACCEPTED_INPUT);
	struct paxos_action a;
	uint8_t *rec = NULL;
	size_t rec_len = 0;
	bool accepted_sent = false;
	while (paxos_next_action(p, &a)) {
		if (a.type == PAXOS_ACT_PERSIST) {
			CHECK(!accepted_sent); /* durable before the vote leaves */
			free(rec);
			rec_len = a.bytes.len;
			rec = ch_buf_steal(&a.bytes, NULL);
		}
		accepted_sent = accepted_sent || (a.type == PAXOS_ACT_SEND && a.to == 0);
		paxos_action_close(&a);
	}
	CHECK(accepted_sent);
	REQUIRE(rec != NULL);
	CHECK_EQ_INT(rec_len, 1 + 8 + 1 + 8 + 8 + PAXOS_HASH_LEN + 4 + bl);
	uint64_t ballot = 0, height = 0;
	bool voted = false;
	CHECK(paxos_record_mark(rec, rec_len, &ballot, &height, &voted, NULL) == 0);
	CHECK_EQ_INT(ballot, 3);
	CHECK_EQ_INT(height, 1);
	CHECK(voted);
	paxos_free(p);
	/* a restart gets it back, or skips it once the host committed slot 1 */
	REQUIRE(paxos_new(&p, &cfg, &host, 0, zero, 0) == 0);
	CHECK(paxos_restore(p, rec, rec_len, NULL) == 0);
	uint64_t b = 0;
	uint8_t d[PAXOS_HASH_LEN];
	CHECK(paxos_accepted(p, 1, &b, d) && b == 3 && memcmp(d, digest, PAXOS_HASH_LEN) == 0);
	CHECK_EQ_INT(paxos_ballot(p), 3);
	paxos_free(p);
	REQUIRE(paxos_new(&p, &cfg, &host, 1, digest, 0) == 0);
	CHECK(paxos_restore(p, rec, rec_len, NULL) == 0);
	CHECK(!paxos_accepted(p, 1, NULL, NULL));
	paxos_free(p);
	/* damage: every truncation and a few thousand mutants fail cleanly or restore */
	struct rng r = {11};
	uint8_t buf[1024];
	for (size_t cut = 0; cut < rec_len; cut++) {
		struct ch_err err = {0};
		CHECK(paxos_record_mark(rec, cut, &ballot, &height, &voted, &err) ==
		      CH_E_BAD_ENCODING);
	}
	for (int it = 0; it < 3000; it++) {
		memcpy(buf, rec, rec_len);
		size_t l = mutate(&r, buf, rec_len, sizeof(buf));
		REQUIRE(paxos_new(&p, &cfg, &host, 0, zero, 0) == 0);
		int rc = paxos_restore(p, buf, l, NULL);
		CHECK(rc == 0 || rc == CH_E_BAD_ENCODING);
		paxos_record_mark(buf, l, &ballot, &height, &voted, NULL);
		paxos_free(p);
	}
	free(rec);
	free(k);
	free(s);
}

/* ---- scripted: one core and hand-made messages ---- */

static size_t
put64(uint8_t *out, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
	return 8;
}

/* sign_msg appends validator from's signature over the domain-separated body. */
static size_t
sign_msg(uint32_t from, uint8_t *msg, size_t len)
{
	uint8_t pre[512];
	memcpy(pre, "chaind/paxos/v1", 16);
	memcpy(pre + 16, msg, len);
	fake_sig(from, pre, 16 + len, msg + len);
	return len + PAXOS_SIG_LEN;
}

/* drain_count carries nothing out; it counts what came and remembers the last PREPARE's ballot. */
static void
drain_count(struct paxos *p, uint32_t *fetches, uint32_t *prepares, uint64_t *prepare_ballot)
{
	struct paxos_action a;
	while (paxos_next_action(p, &a)) {
		if (a.type == PAXOS_ACT_FETCH)
			(*fetches)++;
		if (a.type == PAXOS_ACT_BROADCAST && a.bytes.len > 11 && a.bytes.data[0] == 1) {
			(*prepares)++;
			*prepare_ballot = be64(a.bytes.data + 3);
		}
		paxos_action_close(&a);
	}
}

/*
 * A new leader learns from a promise that slots up to 5 are chosen, but the
 * promiser that holds them never serves the block sync. The leader must not
 * stall everyone with heartbeats: it retries the fetch, then steps down and
 * runs phase 1 again with a higher ballot.
 */
static void
test_leader_gives_up_catching_up(void)
{
	struct sim *s = calloc(1, sizeof(*s));
	REQUIRE(s != NULL);
	s->n = 3;
	s->seed = 1;
	s->nodes[0].sim = s;
	struct paxos_config cfg = config_of(s, 0);
	struct paxos_host host = host_of(&s->nodes[0]);
	struct paxos *p;
	uint8_t zero[PAXOS_HASH_LEN] = {0};
	REQUIRE(paxos_new(&p, &cfg, &host, 0, zero, 0) == 0);
	uint32_t fetches = 0, prepares = 0;
	uint64_t ballot = 0, now = 0;
	while (prepares == 0 && now < 10000) {
		paxos_tick(p, now += 10);
		drain_count(p, &fetches, &prepares, &ballot);
	}
	REQUIRE(prepares == 1);
	CHECK_EQ_INT(ballot, 3); /* round 1 of proposer 0 */
	uint8_t msg[256];
	size_t len = 0;
	msg[len++] = 2; /* PROMISE from 1: committed up to 5, nothing accepted above 1 */
	msg[len++] = 0;
	msg[len++] = 1;
	len += put64(msg + len, ballot);
	len += put64(msg + len, 1);
	len += put64(msg + len, 5);
	msg[len++] = 0;
	len = sign_msg(1, msg, len);
	CHECK(paxos_receive(p, msg, len, now) == PAXOS_ACCEPTED_INPUT);
	drain_count(p, &fetches, &prepares, &ballot);
	CHECK(paxos_leading(p));
	CHECK(!paxos_can_propose(p)); /* slots 1..5 are chosen: fetch them first */
	CHECK_EQ_INT(fetches, 1);
	/* validator 1 answers the heartbeats (so check-quorum holds) but never serves the sync */
	uint8_t ack[128];
	size_t alen = 0;
	ack[alen++] = 6; /* HEARTBEAT of the leader's ballot from 1: its answer */
	ack[alen++] = 0;
	ack[alen++] = 1;
	alen += put64(ack + alen, ballot);
	alen += put64(ack + alen, 5);
	alen = sign_msg(1, ack, alen);
	uint64_t led = now;
	while (paxos_leading(p) && now < led + 10000) {
		paxos_tick(p, now += 10);
		drain_count(p, &fetches, &prepares, &ballot);
		CHECK(paxos_receive(p, ack, alen, now) == PAXOS_ACCEPTED_INPUT);
		drain_count(p, &fetches, &prepares, &ballot);
	}
	CHECK(!paxos_leading(p));
	CHECK(now - led >= 4 * cfg.timeout_ms && now - led < 6 * cfg.timeout_ms);
	CHECK(fetches >= 3); /* retried every timeout_ms meanwhile */
	while (prepares == 1 && now < led + 20000) {
		paxos_tick(p, now += 10);
		drain_count(p, &fetches, &prepares, &ballot);
	}
	CHECK_EQ_INT(prepares, 2);
	CHECK_EQ_INT(ballot, 6); /* a new phase 1, higher ballot */
	paxos_free(p);
	free(s);
}

int
main(void)
{
	RUN(test_record);
	RUN(test_leader_gives_up_catching_up);
	RUN(test_garbage_strict);
	RUN(test_garbage_permissive);
	RUN(test_sim_seeds);
	RUN(test_sim_catches_skipped_reproposal);
	return TEST_DONE();
}
