/*
 * sim.c - the deterministic PBFT simulator (see sim.h). One event queue
 * ordered by (time, sequence), one PRNG (xoshiro256** seeded by
 * splitmix64), and hosts that model the node: fake but unforgeable
 * signatures, opaque blocks with a 256-bit non-cryptographic hash, a
 * durable vote record, a chain with certificates, mempools and state
 * transfer.
 */
#include "sim.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

#define TICK_MS 10
#define REPLAY_MAX 64
#define MAX_EVENTS 3000000
#define TX_INVALID_BIT (UINT64_C(1) << 63)
#define BLK_HDR (8 + PBFT_HASH_LEN + 4 + 8 + 4)
#define BLK_MAX_TXS 64

static const uint8_t zero_hash[PBFT_HASH_LEN];

/* ---- randomness ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void
rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* rng_range: uniform in [lo, hi] (modulo bias is irrelevant here). */
static uint64_t
rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + rng_next(r) % (hi - lo + 1);
}

static bool
rng_chance(struct rng *r, double p)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53 < p;
}

/* ---- hashing: keyed 64-bit hash and a 256-bit block hash ---- */

static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 33)) * UINT64_C(0xff51afd7ed558ccd);
	z = (z ^ (z >> 33)) * UINT64_C(0xc4ceb9fe1a85ec53);
	return z ^ (z >> 33);
}

static uint64_t
hash64(uint64_t key, const uint8_t *p, size_t n)
{
	uint64_t h = mix64(key ^ (n * UINT64_C(0x9e3779b97f4a7c15)));
	while (n >= 8) {
		uint64_t w = 0;
		for (int i = 0; i < 8; i++)
			w |= (uint64_t)p[i] << (8 * i);
		h = mix64(h ^ w) + UINT64_C(0x632be59bd9b4e019);
		p += 8;
		n -= 8;
	}
	uint64_t w = (uint64_t)n << 56;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return mix64(h ^ w);
}

static void
hash256(const uint8_t *p, size_t n, uint8_t out[PBFT_HASH_LEN])
{
	static const uint64_t keys[4] = {UINT64_C(0x243f6a8885a308d3), UINT64_C(0x13198a2e03707344),
					 UINT64_C(0xa4093822299f31d0), UINT64_C(0x082efa98ec4e6c89)};
	for (int i = 0; i < 4; i++)
		ch_put_be64(out + 8 * i, hash64(keys[i], p, n));
}

/* ---- the simulation ---- */

enum {
	EV_DELIVER = 1,
	EV_TICK,
	EV_TX,
	EV_CRASH,
	EV_RESTART,
	EV_PARTITION,
	EV_HEAL,
	EV_FETCH,
	EV_FAULTS_END,
};

struct sim_event {
	uint64_t at, seq;
	uint8_t type;
	uint32_t to, from;
	uint64_t arg;
	uint8_t *data;
	size_t len;
};

/* A committed block with its certificate. */
struct sim_cblock {
	uint8_t *data;
	size_t len;
	uint8_t hash[PBFT_HASH_LEN];
	uint64_t cert_view;
	uint32_t ncert;
	struct pbft_vote *cert;
};

struct sim_raw {
	uint8_t *data;
	size_t len;
};

struct sim_node {
	struct sim *s;
	uint32_t id;
	struct pbft *core; /* NULL while crashed */
	bool byz;
	unsigned kind; /* SIM_BYZ_* of a Byzantine replica */
	uint64_t secret;
	struct sim_cblock *chain; /* chain[h - 1] is block h */
	size_t height, cap;
	uint8_t *record; /* the durable vote record */
	size_t record_len;
	uint8_t *known; /* per tx: reached this mempool */
	uint8_t *done;  /* per tx: committed on this chain */
	uint32_t ndone;
	bool pending;
	int torn; /* >= 0: crash before that many more actions */
	uint64_t epoch;
	struct sim_raw replay[REPLAY_MAX];
	size_t nreplay;
	bool has_vc[SIM_MAX_N]; /* the latest VIEW-CHANGE of each, kept by a Byzantine primary */
	struct pbft_msg vc[SIM_MAX_N];
};

/* What an honest replica signed, for the equivocation check. */
struct sim_signed {
	bool used;
	uint8_t type;
	uint32_t node;
	uint64_t view, height;
	uint8_t digest[PBFT_HASH_LEN];
};

struct sim {
	struct sim_opts o;
	uint64_t seed;
	struct rng rng;
	uint64_t now;
	FILE *trace;
	uint32_t n, f, quorum;
	uint32_t ntx, block_max;
	struct pbft_config cfg;
	struct sim_node nodes[SIM_MAX_N];

	struct sim_event *heap;
	size_t nheap, capheap;
	uint64_t seq;

	uint8_t (*agreed)[PBFT_HASH_LEN]; /* agreed[h - 1]: the block honest replicas committed */
	size_t nagreed, capagreed;

	struct sim_signed *sigs;
	size_t nsigs, capsigs;

	int group[SIM_MAX_N];
	bool split;
	double drop;
	bool faults_over;
	bool finished;
	bool failed;
	char err[1024];
	struct sim_stats st;
};

static void settle(struct sim_node *nd);

static void
fail(struct sim *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	s->failed = true;
	va_list ap;
	va_start(ap, fmt);
	int k = snprintf(s->err, sizeof(s->err), "t=%" PRIu64 "ms: ", s->now);
	vsnprintf(s->err + k, sizeof(s->err) - (size_t)k, fmt, ap);
	va_end(ap);
	if (s->trace != NULL)
		fprintf(s->trace, "VIOLATION %s\n", s->err);
}

/* trace: one line of the event log; TRACE skips formatting its arguments when off. */
#define TRACE(s, ...)                          \
	do {                                   \
		if ((s)->trace != NULL)        \
			trace_line((s), __VA_ARGS__); \
	} while (0)

static void
trace_line(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(s->trace, "%7" PRIu64 " ", s->now);
	vfprintf(s->trace, fmt, ap);
	fputc('\n', s->trace);
	va_end(ap);
}

static const char *
type_name(uint8_t t)
{
	static const char *names[] = {"?",          "PRE-PREPARE", "PREPARE", "COMMIT",
				      "CHECKPOINT", "VIEW-CHANGE", "NEW-VIEW"};
	return t <= PBFT_NEWVIEW ? names[t] : "?";
}

/* hex8 renders the first 4 bytes of a digest (static buffers, 4 in rotation). */
static const char *
hex8(const uint8_t *d)
{
	static char bufs[4][9];
	static int k;
	char *b = bufs[k++ & 3];
	snprintf(b, 9, "%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
	return b;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

static void *
xdup(const void *p, size_t n)
{
	void *q = xmalloc(n);
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

/* ---- the event queue: a binary heap on (at, seq) ---- */

static bool
ev_before(const struct sim_event *a, const struct sim_event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
ev_push(struct sim *s, struct sim_event e)
{
	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? 2 * s->capheap : 256;
		s->heap = realloc(s->heap, s->capheap * sizeof(*s->heap));
		if (s->heap == NULL)
			abort();
	}
	e.seq = s->seq++;
	size_t i = s->nheap++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!ev_before(&e, &s->heap[up]))
			break;
		s->heap[i] = s->heap[up];
		i = up;
	}
	s->heap[i] = e;
}

static struct sim_event
ev_pop(struct sim *s)
{
	struct sim_event top = s->heap[0];
	struct sim_event last = s->heap[--s->nheap];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && ev_before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!ev_before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap > 0)
		s->heap[i] = last;
	return top;
}

static void
schedule(struct sim *s, uint64_t at, uint8_t type, uint32_t to, uint32_t from, uint64_t arg)
{
	struct sim_event e;
	memset(&e, 0, sizeof(e));
	e.at = at;
	e.type = type;
	e.to = to;
	e.from = from;
	e.arg = arg;
	ev_push(s, e);
}

/* ---- signatures: validator index | keyed hash of the bytes | zero padding ---- */

static void
sim_sign(const struct sim_node *nd, const uint8_t *b, size_t len, uint8_t sig[PBFT_SIG_LEN])
{
	memset(sig, 0, PBFT_SIG_LEN);
	sig[0] = (uint8_t)(nd->id >> 8);
	sig[1] = (uint8_t)nd->id;
	ch_put_be64(sig + 2, hash64(nd->secret, b, len));
}

static bool
sim_verify(const struct sim *s, uint32_t v, const uint8_t *b, size_t len,
	   const uint8_t sig[PBFT_SIG_LEN])
{
	if (v >= s->n || sig[0] != (uint8_t)(v >> 8) || sig[1] != (uint8_t)v)
		return false;
	for (int i = 10; i < PBFT_SIG_LEN; i++)
		if (sig[i] != 0)
			return false;
	return ch_get_be64(sig + 2) == hash64(s->nodes[v].secret, b, len);
}

/* sign_msg signs m as nd (what a Byzantine replica can do: sign as itself only). */
static void
sign_msg(const struct sim_node *nd, struct pbft_msg *m)
{
	struct ch_buf b;
	ch_buf_init(&b);
	m->from = nd->id;
	pbft_msg_signed_bytes(m, &b);
	sim_sign(nd, b.data, b.len, m->sig);
	ch_buf_close(&b);
}

static bool
verify_commit_vote(const struct sim *s, uint32_t from, uint64_t height, uint64_t view,
		   const uint8_t digest[PBFT_HASH_LEN], const uint8_t sig[PBFT_SIG_LEN])
{
	struct pbft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = PBFT_COMMIT;
	m.height = height;
	m.view = view;
	memcpy(m.digest, digest, PBFT_HASH_LEN);
	struct ch_buf b;
	ch_buf_init(&b);
	pbft_msg_signed_bytes(&m, &b);
	bool ok = sim_verify(s, from, b.data, b.len, sig);
	ch_buf_close(&b);
	return ok;
}

/* ---- blocks: height | parent | proposer | salt | ntx | tx ids ---- */

struct sim_blk {
	uint64_t height;
	uint8_t parent[PBFT_HASH_LEN];
	uint32_t proposer;
	uint64_t salt;
	uint32_t ntx;
	uint64_t txs[BLK_MAX_TXS];
};

static bool
blk_decode(const uint8_t *data, size_t len, struct sim_blk *b)
{
	struct ch_rd r;
	ch_rd_init(&r, data, len);
	b->height = ch_rd_u64(&r);
	ch_rd_copy(&r, b->parent, PBFT_HASH_LEN);
	b->proposer = ch_rd_u32(&r);
	b->salt = ch_rd_u64(&r);
	b->ntx = ch_rd_u32(&r);
	if (r.bad || b->ntx > BLK_MAX_TXS)
		return false;
	for (uint32_t i = 0; i < b->ntx; i++)
		b->txs[i] = ch_rd_u64(&r);
	return ch_rd_done(&r);
}

static void
blk_encode(const struct sim_blk *b, struct ch_buf *out)
{
	ch_buf_u64(out, b->height);
	ch_buf_put(out, b->parent, PBFT_HASH_LEN);
	ch_buf_u32(out, b->proposer);
	ch_buf_u64(out, b->salt);
	ch_buf_u32(out, b->ntx);
	for (uint32_t i = 0; i < b->ntx; i++)
		ch_buf_u64(out, b->txs[i]);
	if (!ch_buf_ok(out))
		abort();
}

static const uint8_t *
tip_hash(const struct sim_node *nd)
{
	return nd->height ? nd->chain[nd->height - 1].hash : zero_hash;
}

/* block_valid: the host's validation of a block for height on top of nd's committed tip. */
static bool
block_valid(const struct sim_node *nd, uint64_t height, const uint8_t digest[PBFT_HASH_LEN],
	    const uint8_t *data, size_t len, const char **why)
{
	const struct sim *s = nd->s;
	struct sim_blk b;
	uint8_t h[PBFT_HASH_LEN];
	const char *w = NULL;
	if (!blk_decode(data, len, &b))
		w = "does not decode";
	else if (b.height != height || height != nd->height + 1)
		w = "wrong height";
	else if (memcmp(b.parent, tip_hash(nd), PBFT_HASH_LEN) != 0)
		w = "wrong parent";
	else if (hash256(data, len, h), memcmp(h, digest, PBFT_HASH_LEN) != 0)
		w = "hash mismatch";
	else if (b.ntx == 0 || b.ntx > s->block_max)
		w = "bad tx count";
	for (uint32_t i = 0; w == NULL && i < b.ntx; i++) {
		uint64_t t = b.txs[i];
		if ((t & TX_INVALID_BIT) || t >= s->ntx)
			w = "invalid tx";
		else if (nd->done[t])
			w = "tx already committed";
		for (uint32_t j = 0; w == NULL && j < i; j++)
			if (b.txs[j] == t)
				w = "duplicate tx";
	}
	if (why != NULL)
		*why = w;
	return w == NULL;
}

/* ---- host callbacks ---- */

static void
host_sign(void *arg, const uint8_t *bytes, size_t len, uint8_t sig[PBFT_SIG_LEN])
{
	sim_sign(arg, bytes, len, sig);
}

static bool
host_verify(void *arg, uint32_t v, const uint8_t *bytes, size_t len, const uint8_t sig[PBFT_SIG_LEN])
{
	const struct sim_node *nd = arg;
	return sim_verify(nd->s, v, bytes, len, sig);
}

static bool
host_validate(void *arg, uint64_t height, const uint8_t digest[PBFT_HASH_LEN], const uint8_t *block,
	      size_t len)
{
	struct sim_node *nd = arg;
	const char *why;
	bool ok = block_valid(nd, height, digest, block, len, &why);
	if (!ok)
		TRACE(nd->s, "  n%u rejects block h%" PRIu64 " %s: %s", nd->id, height, hex8(digest),
		      why);
	return ok;
}

static bool
host_block_hash(void *arg, const uint8_t *block, size_t len, uint8_t out[PBFT_HASH_LEN])
{
	struct sim_blk b;
	if (!blk_decode(block, len, &b))
		return false;
	hash256(block, len, out);
	return true;
}

/* ---- the equivocation check ---- */

static size_t
sig_slot(const struct sim *s, uint32_t node, uint8_t type, uint64_t view, uint64_t height)
{
	uint64_t k = mix64(((uint64_t)node << 8 | type) ^ mix64(view * 31 + height));
	return (size_t)(k & (s->capsigs - 1));
}

static void
note_signed(struct sim *s, uint32_t node, uint8_t type, uint64_t view, uint64_t height,
	    const uint8_t digest[PBFT_HASH_LEN])
{
	if (2 * (s->nsigs + 1) > s->capsigs) {
		struct sim_signed *old = s->sigs;
		size_t oldcap = s->capsigs;
		s->capsigs = oldcap ? 2 * oldcap : 1024;
		s->sigs = calloc(s->capsigs, sizeof(*s->sigs));
		if (s->sigs == NULL)
			abort();
		for (size_t i = 0; i < oldcap; i++) {
			if (!old[i].used)
				continue;
			size_t j = sig_slot(s, old[i].node, old[i].type, old[i].view, old[i].height);
			while (s->sigs[j].used)
				j = (j + 1) & (s->capsigs - 1);
			s->sigs[j] = old[i];
		}
		free(old);
	}
	size_t j = sig_slot(s, node, type, view, height);
	while (s->sigs[j].used) {
		struct sim_signed *e = &s->sigs[j];
		if (e->node == node && e->type == type && e->view == view && e->height == height) {
			if (memcmp(e->digest, digest, PBFT_HASH_LEN) != 0)
				fail(s, "honest n%u signed two %s for view %" PRIu64 " height %" PRIu64
					": %s and %s",
				     node, type_name(type), view, height, hex8(e->digest), hex8(digest));
			return;
		}
		j = (j + 1) & (s->capsigs - 1);
	}
	struct sim_signed *e = &s->sigs[j];
	e->used = true;
	e->node = node;
	e->type = type;
	e->view = view;
	e->height = height;
	memcpy(e->digest, digest, PBFT_HASH_LEN);
	s->nsigs++;
}

static void
note_sent(struct sim *s, const struct sim_node *nd, const struct pbft_msg *m)
{
	if (m->from != nd->id) {
		/* relaying others' commit votes or NEW-VIEW is fine; forging is not */
		struct ch_buf b;
		ch_buf_init(&b);
		pbft_msg_signed_bytes(m, &b);
		bool ok = (m->type == PBFT_COMMIT || m->type == PBFT_NEWVIEW) &&
			  sim_verify(s, m->from, b.data, b.len, m->sig);
		ch_buf_close(&b);
		if (!ok)
			fail(s, "honest n%u sent a %s as n%u", nd->id, type_name(m->type), m->from);
		return;
	}
	switch (m->type) {
	case PBFT_PREPREPARE:
	case PBFT_PREPARE:
	case PBFT_COMMIT:
		note_signed(s, nd->id, m->type, m->view, m->height, m->digest);
		break;
	case PBFT_NEWVIEW:
		if (m->has_prepared)
			note_signed(s, nd->id, PBFT_PREPREPARE, m->view, m->height, m->digest);
		break;
	default:
		break;
	}
}

/* ---- the network ---- */

static bool
linked(const struct sim *s, uint32_t a, uint32_t b)
{
	return !s->split || s->group[a] == s->group[b];
}

static uint64_t
delay(struct sim *s)
{
	return rng_range(&s->rng, s->o.delay_min, s->o.delay_max);
}

static void
send_raw(struct sim *s, uint32_t from, uint32_t to, const uint8_t *data, size_t len)
{
	if (to == from || to >= s->n || !linked(s, from, to) || rng_chance(&s->rng, s->drop))
		return;
	int copies = rng_chance(&s->rng, s->o.dup) ? 2 : 1;
	for (int i = 0; i < copies; i++) {
		struct sim_event e;
		memset(&e, 0, sizeof(e));
		e.at = s->now + delay(s);
		e.type = EV_DELIVER;
		e.to = to;
		e.from = from;
		e.data = xdup(data, len);
		e.len = len;
		ev_push(s, e);
	}
}

/* to == UINT32_MAX: everyone but from. */
static void
send_all(struct sim *s, uint32_t from, uint32_t to, const struct pbft_msg *m)
{
	struct ch_buf b;
	ch_buf_init(&b);
	pbft_msg_encode(m, &b);
	if (!ch_buf_ok(&b))
		abort();
	for (uint32_t i = 0; i < s->n; i++)
		if (to == UINT32_MAX ? i != from : i == to)
			send_raw(s, from, i, b.data, b.len);
	ch_buf_close(&b);
}

/* ---- Byzantine behaviour ---- */

static void
byz_vote(struct sim_node *nd, uint8_t type, uint64_t view, uint64_t height,
	 const uint8_t digest[PBFT_HASH_LEN], uint32_t to)
{
	struct pbft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.view = view;
	m.height = height;
	memcpy(m.digest, digest, PBFT_HASH_LEN);
	sign_msg(nd, &m);
	send_all(nd->s, nd->id, to, &m);
}

static void
random_digest(struct sim *s, uint8_t d[PBFT_HASH_LEN])
{
	for (int i = 0; i < PBFT_HASH_LEN; i += 8)
		ch_put_be64(d + i, rng_next(&s->rng));
}

static void byz_keep_vc(struct sim_node *nd, const struct pbft_msg *m);
static void byz_newview(struct sim_node *nd, uint32_t to, const struct pbft_msg *orig);

/* byz_out: a Byzantine replica's core wants m sent; lie about it. */
static void
byz_out(struct sim_node *nd, uint32_t to, const struct pbft_msg *m)
{
	struct sim *s = nd->s;
	if (nd->kind & SIM_BYZ_SILENT)
		return;
	if (m->type == PBFT_VIEWCHANGE)
		byz_keep_vc(nd, m);
	if ((nd->kind & SIM_BYZ_NEWVIEW) && m->type == PBFT_NEWVIEW) {
		byz_newview(nd, to, m);
		return;
	}
	if ((nd->kind & SIM_BYZ_EQUIVOCATE) && m->type == PBFT_PREPREPARE && m->block_len > 0) {
		struct sim_blk b;
		if (blk_decode(m->block, m->block_len, &b)) {
			b.salt = rng_next(&s->rng) | 1;
			if (b.ntx > 1 && rng_chance(&s->rng, 0.5))
				b.ntx--;
			struct pbft_msg alt;
			memset(&alt, 0, sizeof(alt));
			struct ch_buf enc;
			ch_buf_init(&enc);
			blk_encode(&b, &enc);
			alt.type = PBFT_PREPREPARE;
			alt.view = m->view;
			alt.height = m->height;
			hash256(enc.data, enc.len, alt.digest);
			alt.block = enc.data;
			alt.block_len = enc.len;
			sign_msg(nd, &alt);
			for (uint32_t i = 0; i < s->n; i++)
				if (i != nd->id && (to == UINT32_MAX || to == i))
					send_all(s, nd->id, i, rng_chance(&s->rng, 0.5) ? &alt : m);
			ch_buf_close(&enc);
			return;
		}
	}
	if ((nd->kind & SIM_BYZ_VOTES) && (m->type == PBFT_PREPARE || m->type == PBFT_COMMIT)) {
		uint8_t d[PBFT_HASH_LEN];
		random_digest(s, d);
		for (uint32_t i = 0; i < s->n; i++) {
			if (i == nd->id || (to != UINT32_MAX && to != i))
				continue;
			if (rng_chance(&s->rng, 0.5))
				byz_vote(nd, m->type, m->view, m->height, d, i);
			else
				send_all(s, nd->id, i, m);
		}
		return;
	}
	send_all(s, nd->id, to, m);
}

static void
byz_keep_vc(struct sim_node *nd, const struct pbft_msg *m)
{
	if (m->from >= nd->s->n || (nd->has_vc[m->from] && nd->vc[m->from].view > m->view))
		return;
	if (nd->has_vc[m->from])
		pbft_msg_close(&nd->vc[m->from]);
	nd->has_vc[m->from] = pbft_msg_copy(&nd->vc[m->from], m) == 0;
}

/*
 * byz_newview: a faulty new primary sends each replica a NEW-VIEW built from
 * its own random quorum of the VIEW-CHANGEs it holds, each one valid (maxC
 * and the re-proposed block follow the rule), so replicas start the view
 * from different NEW-VIEWs.
 */
static void
byz_newview(struct sim_node *nd, uint32_t to, const struct pbft_msg *orig)
{
	struct sim *s = nd->s;
	uint32_t idx[SIM_MAX_N], k = 0;
	for (uint32_t i = 0; i < s->n; i++)
		if (nd->has_vc[i] && nd->vc[i].view == orig->view)
			idx[k++] = i;
	if (k < s->quorum) {
		send_all(s, nd->id, to, orig);
		return;
	}
	for (uint32_t r = 0; r < s->n; r++) {
		if (r == nd->id || (to != UINT32_MAX && to != r))
			continue;
		for (uint32_t i = k - 1; i > 0; i--) {
			uint32_t j = (uint32_t)rng_range(&s->rng, 0, i), t = idx[i];
			idx[i] = idx[j];
			idx[j] = t;
		}
		uint32_t q = (uint32_t)rng_range(&s->rng, s->quorum, k);
		struct pbft_msg nv;
		memset(&nv, 0, sizeof(nv));
		nv.type = PBFT_NEWVIEW;
		nv.view = orig->view;
		nv.nvcs = q;
		nv.vcs = calloc(q, sizeof(*nv.vcs));
		if (nv.vcs == NULL)
			abort();
		uint64_t max_c = 0;
		const struct pbft_msg *best = NULL;
		for (uint32_t j = 0; j < q; j++) {
			const struct pbft_msg *vc = &nd->vc[idx[j]];
			if (pbft_msg_copy(&nv.vcs[j], vc) != 0)
				abort();
			free(nv.vcs[j].block);
			nv.vcs[j].block = NULL;
			nv.vcs[j].block_len = 0;
			if (vc->height > max_c)
				max_c = vc->height;
		}
		for (uint32_t j = 0; j < q; j++) {
			const struct pbft_msg *vc = &nd->vc[idx[j]];
			if (vc->height == max_c && vc->has_prepared && (best == NULL || vc->p_view > best->p_view))
				best = vc;
		}
		nv.height = max_c + 1;
		if (best != NULL && best->block_len > 0) {
			nv.has_prepared = true;
			memcpy(nv.digest, best->p_digest, PBFT_HASH_LEN);
			nv.block = xdup(best->block, best->block_len);
			nv.block_len = best->block_len;
			struct pbft_msg pp;
			memset(&pp, 0, sizeof(pp));
			pp.type = PBFT_PREPREPARE;
			pp.view = nv.view;
			pp.height = nv.height;
			memcpy(pp.digest, nv.digest, PBFT_HASH_LEN);
			sign_msg(nd, &pp);
			memcpy(nv.p_sig, pp.sig, PBFT_SIG_LEN);
		}
		sign_msg(nd, &nv);
		TRACE(s, "  byz n%u sends n%u a NEW-VIEW v%" PRIu64 " h%" PRIu64 " %s from %u VCs", nd->id,
		      r, nv.view, nv.height, nv.has_prepared ? hex8(nv.digest) : "(fresh)", q);
		send_all(s, nd->id, r, &nv);
		pbft_msg_close(&nv);
	}
}

static void
byz_remember(struct sim_node *nd, const uint8_t *data, size_t len)
{
	size_t i = nd->nreplay < REPLAY_MAX ? nd->nreplay++ : rng_range(&nd->s->rng, 0, REPLAY_MAX - 1);
	free(nd->replay[i].data);
	nd->replay[i].data = xdup(data, len);
	nd->replay[i].len = len;
}

/* byz_in: a Byzantine replica saw m; with SIM_BYZ_VOTES it votes for whatever it sees. */
static void
byz_in(struct sim_node *nd, const struct pbft_msg *m, const uint8_t *raw, size_t len)
{
	struct sim *s = nd->s;
	if (nd->kind & (SIM_BYZ_REPLAY | SIM_BYZ_GARBAGE))
		byz_remember(nd, raw, len);
	if (m->type == PBFT_VIEWCHANGE)
		byz_keep_vc(nd, m);
	if ((nd->kind & SIM_BYZ_VOTES) && m->type >= PBFT_PREPREPARE && m->type <= PBFT_COMMIT &&
	    rng_chance(&s->rng, 0.3)) {
		byz_vote(nd, PBFT_PREPARE, m->view, m->height, m->digest, UINT32_MAX);
		byz_vote(nd, PBFT_COMMIT, m->view, m->height, m->digest, UINT32_MAX);
	}
}

/*
 * byz_fork: a faulty primary offers every replica a fresh, valid-looking
 * block on that replica's own tip; to a replica that lags behind blocks
 * committed in earlier views it is a fork. It votes for it as well.
 */
static void
byz_fork(struct sim_node *nd)
{
	struct sim *s = nd->s;
	uint64_t view = pbft_view(nd->core);
	if (pbft_primary(view, s->n) != nd->id)
		return;
	for (uint32_t r = 0; r < s->n; r++) {
		const struct sim_node *to = &s->nodes[r];
		if (r == nd->id || to->byz)
			continue;
		struct sim_blk b;
		memset(&b, 0, sizeof(b));
		b.height = to->height + 1;
		memcpy(b.parent, tip_hash(to), PBFT_HASH_LEN);
		b.proposer = nd->id;
		/* the same fork for everyone on the same tip, so that they can agree on it */
		b.salt = mix64(view * 1000003 + b.height) | 1;
		for (uint32_t t = 0; t < s->ntx && b.ntx < s->block_max; t++)
			if (!to->done[t])
				b.txs[b.ntx++] = t;
		if (b.ntx == 0)
			continue;
		struct ch_buf enc;
		ch_buf_init(&enc);
		blk_encode(&b, &enc);
		struct pbft_msg pp;
		memset(&pp, 0, sizeof(pp));
		pp.type = PBFT_PREPREPARE;
		pp.view = view;
		pp.height = b.height;
		hash256(enc.data, enc.len, pp.digest);
		pp.block = enc.data;
		pp.block_len = enc.len;
		sign_msg(nd, &pp);
		send_all(s, nd->id, r, &pp);
		byz_vote(nd, PBFT_COMMIT, view, pp.height, pp.digest, UINT32_MAX);
		ch_buf_close(&enc);
	}
}

static void
byz_tick(struct sim_node *nd)
{
	struct sim *s = nd->s;
	struct rng *r = &s->rng;
	if (nd->kind & SIM_BYZ_SILENT)
		return;
	uint32_t to = (uint32_t)rng_range(r, 0, s->n - 1);
	if ((nd->kind & SIM_BYZ_REPLAY) && nd->nreplay > 0 && rng_chance(r, 0.3)) {
		const struct sim_raw *x = &nd->replay[rng_range(r, 0, nd->nreplay - 1)];
		send_raw(s, nd->id, to, x->data, x->len);
	}
	if ((nd->kind & SIM_BYZ_GARBAGE) && rng_chance(r, 0.3)) {
		uint8_t junk[300];
		size_t len;
		if (nd->nreplay > 0 && rng_chance(r, 0.7)) {
			const struct sim_raw *x = &nd->replay[rng_range(r, 0, nd->nreplay - 1)];
			len = x->len < sizeof(junk) ? x->len : sizeof(junk);
			memcpy(junk, x->data, len);
			if (len > 0 && rng_chance(r, 0.5))
				len = rng_range(r, 0, len - 1);
			for (int k = (int)rng_range(r, 1, 4); k > 0 && len > 0; k--)
				junk[rng_range(r, 0, len - 1)] ^= (uint8_t)rng_range(r, 1, 255);
		} else {
			len = rng_range(r, 0, sizeof(junk));
			for (size_t i = 0; i < len; i++)
				junk[i] = (uint8_t)rng_next(r);
			if (len > 0)
				junk[0] = (uint8_t)rng_range(r, 1, 7);
		}
		send_raw(s, nd->id, to, junk, len);
	}
	if ((nd->kind & SIM_BYZ_FORK) && nd->core != NULL && rng_chance(r, 0.5))
		byz_fork(nd);
	if ((nd->kind & SIM_BYZ_VOTES) && nd->core != NULL && rng_chance(r, 0.3)) {
		uint8_t d[PBFT_HASH_LEN];
		random_digest(s, d);
		uint64_t v = pbft_view(nd->core) + rng_range(r, 0, 2);
		uint64_t h = pbft_height(nd->core) + rng_range(r, 0, 4);
		byz_vote(nd, (uint8_t)rng_range(r, PBFT_PREPREPARE, PBFT_COMMIT), v, h, d, UINT32_MAX);
		if (rng_chance(r, 0.3)) {
			/* a bogus checkpoint far ahead: a lure for state transfer */
			uint64_t k = s->cfg.checkpoint_interval;
			uint64_t ch = (pbft_height(nd->core) / k + rng_range(r, 1, 50)) * k;
			byz_vote(nd, PBFT_CHECKPOINT, 0, ch, d, UINT32_MAX);
		}
	}
}

/* ---- the host: committing, state transfer, proposing ---- */

static bool
cert_valid(const struct sim *s, uint64_t height, uint64_t view, const uint8_t digest[PBFT_HASH_LEN],
	   const struct pbft_vote *cert, uint32_t ncert)
{
	bool seen[SIM_MAX_N] = {false};
	uint32_t k = 0;
	for (uint32_t i = 0; i < ncert; i++) {
		uint32_t v = cert[i].from;
		if (v >= s->n || seen[v] || !verify_commit_vote(s, v, height, view, digest, cert[i].sig))
			return false;
		seen[v] = true;
		k++;
	}
	return k >= s->quorum;
}

static void
state_digest(const struct sim_node *nd, uint8_t out[PBFT_HASH_LEN])
{
	uint8_t buf[8 + PBFT_HASH_LEN];
	ch_put_be64(buf, nd->height);
	memcpy(buf + 8, tip_hash(nd), PBFT_HASH_LEN);
	hash256(buf, sizeof(buf), out);
	out[0] ^= 0x5a;
}

/*
 * append_block checks a block the core committed (or state transfer
 * brought) and appends it to nd's chain: certificate, link, validity,
 * agreement with every other honest replica.
 */
static bool
append_block(struct sim_node *nd, const uint8_t *data, size_t len, const uint8_t hash[PBFT_HASH_LEN],
	     uint64_t height, uint64_t cert_view, const struct pbft_vote *cert, uint32_t ncert,
	     const char *how)
{
	struct sim *s = nd->s;
	const char *why = NULL;
	if (height != nd->height + 1)
		why = "height does not follow the tip";
	else if (!cert_valid(s, height, cert_view, hash, cert, ncert))
		why = "certificate does not verify";
	else
		block_valid(nd, height, hash, data, len, &why);
	if (why != NULL) {
		if (!nd->byz)
			fail(s, "n%u %s block h%" PRIu64 " %s: %s", nd->id, how, height, hex8(hash),
			     why);
		return false;
	}
	if (!nd->byz) {
		if (height <= s->nagreed) {
			if (memcmp(s->agreed[height - 1], hash, PBFT_HASH_LEN) != 0)
				fail(s, "agreement: n%u committed %s at h%" PRIu64 ", others %s", nd->id,
				     hex8(hash), height, hex8(s->agreed[height - 1]));
		} else {
			if (s->nagreed == s->capagreed) {
				s->capagreed = s->capagreed ? 2 * s->capagreed : 64;
				s->agreed = realloc(s->agreed, s->capagreed * sizeof(*s->agreed));
				if (s->agreed == NULL)
					abort();
			}
			memcpy(s->agreed[s->nagreed++], hash, PBFT_HASH_LEN);
			s->st.blocks = s->nagreed;
		}
	}
	if (nd->height == nd->cap) {
		nd->cap = nd->cap ? 2 * nd->cap : 32;
		nd->chain = realloc(nd->chain, nd->cap * sizeof(*nd->chain));
		if (nd->chain == NULL)
			abort();
	}
	struct sim_cblock *c = &nd->chain[nd->height++];
	c->data = xdup(data, len);
	c->len = len;
	memcpy(c->hash, hash, PBFT_HASH_LEN);
	c->cert_view = cert_view;
	c->ncert = ncert;
	c->cert = xdup(cert, ncert * sizeof(*cert));
	struct sim_blk b;
	blk_decode(data, len, &b);
	for (uint32_t i = 0; i < b.ntx; i++)
		if (!nd->done[b.txs[i]]) {
			nd->done[b.txs[i]] = 1;
			nd->ndone++;
		}
	TRACE(s, "  n%u %s h%" PRIu64 " %s (cert view %" PRIu64 ", %u votes, %u txs)", nd->id, how,
	      height, hex8(hash), cert_view, ncert, b.ntx);
	return true;
}

static void
after_append(struct sim_node *nd)
{
	if (nd->height % nd->s->cfg.checkpoint_interval == 0) {
		uint8_t d[PBFT_HASH_LEN];
		state_digest(nd, d);
		pbft_checkpoint_digest(nd->core, nd->height, d, nd->s->now);
	}
}

static void
crash_now(struct sim_node *nd)
{
	struct sim *s = nd->s;
	if (nd->core == NULL)
		return;
	TRACE(s, "  n%u crashes", nd->id);
	pbft_free(nd->core);
	nd->core = NULL;
	nd->torn = -1;
	nd->epoch++;
}

/* drain carries out the core's actions in order, as the node loop does. */
static void
drain(struct sim_node *nd)
{
	struct sim *s = nd->s;
	struct pbft_action a;
	while (nd->core != NULL && pbft_next_action(nd->core, &a)) {
		if (nd->torn == 0) {
			pbft_action_close(&a);
			crash_now(nd); /* the rest of the batch never happens */
			return;
		}
		if (nd->torn > 0)
			nd->torn--;
		switch (a.type) {
		case PBFT_ACT_PERSIST:
			free(nd->record);
			nd->record = xdup(a.record.data, a.record.len);
			nd->record_len = a.record.len;
			break;
		case PBFT_ACT_SEND:
		case PBFT_ACT_BROADCAST: {
			uint32_t to = a.type == PBFT_ACT_SEND ? a.to : UINT32_MAX;
			if (a.type == PBFT_ACT_SEND && (a.to >= s->n || a.to == nd->id))
				fail(s, "n%u sends to %u", nd->id, a.to);
			TRACE(s, "  n%u %s %s v%" PRIu64 " h%" PRIu64 " %s", nd->id,
			      a.type == PBFT_ACT_SEND ? "sends" : "broadcasts", type_name(a.msg.type),
			      a.msg.view, a.msg.height, hex8(a.msg.digest));
			if (nd->byz) {
				byz_out(nd, to, &a.msg);
			} else {
				note_sent(s, nd, &a.msg);
				if (a.msg.type == PBFT_NEWVIEW && a.msg.has_prepared)
					s->st.reproposals++;
				send_all(s, nd->id, to, &a.msg);
			}
			break;
		}
		case PBFT_ACT_COMMIT:
			if (append_block(nd, a.block, a.block_len, a.digest, a.height, a.view, a.cert,
					 a.ncert, "commits"))
				after_append(nd);
			break;
		case PBFT_ACT_FETCH:
			s->st.fetches++;
			TRACE(s, "  n%u fetches up to h%" PRIu64 " from n%u", nd->id, a.height, a.to);
			if (a.to < s->n && a.to != nd->id && linked(s, nd->id, a.to) &&
			    !rng_chance(&s->rng, s->drop))
				schedule(s, s->now + 2 * delay(s) + 1 + rng_range(&s->rng, 0, s->o.fetch_ms),
					 EV_FETCH, nd->id, a.to, a.height);
			break;
		case PBFT_ACT_VIEW:
			TRACE(s, "  n%u %s view %" PRIu64, nd->id,
			      a.in_view_change ? "changing to" : "entered", a.view);
			if (a.in_view_change && !nd->byz)
				s->st.view_changes++;
			break;
		default:
			fail(s, "n%u: unknown action %u", nd->id, a.type);
		}
		pbft_action_close(&a);
	}
}

static void
update_pending(struct sim_node *nd, bool force)
{
	if (nd->core == NULL)
		return;
	bool pending = false;
	for (uint32_t t = 0; t < nd->s->ntx && !pending; t++)
		pending = nd->known[t] && !nd->done[t];
	if (pending != nd->pending || force) {
		nd->pending = pending;
		pbft_set_pending(nd->core, pending, nd->s->now);
	}
}

/* propose cuts a block when the core lets this replica propose (invalid ones if it is so inclined). */
static bool
propose(struct sim_node *nd)
{
	struct sim *s = nd->s;
	if (nd->core == NULL || !pbft_can_propose(nd->core))
		return false;
	struct sim_blk b;
	memset(&b, 0, sizeof(b));
	b.height = nd->height + 1;
	memcpy(b.parent, tip_hash(nd), PBFT_HASH_LEN);
	b.proposer = nd->id;
	for (uint32_t t = 0; t < s->ntx && b.ntx < s->block_max; t++)
		if (nd->known[t] && !nd->done[t])
			b.txs[b.ntx++] = t;
	if (b.ntx == 0)
		return false;
	bool bad_digest = false;
	if ((nd->kind & SIM_BYZ_INVALID) && rng_chance(&s->rng, 0.8)) {
		switch (rng_range(&s->rng, 0, 5)) {
		case 0:
			b.txs[0] |= TX_INVALID_BIT;
			break;
		case 1:
			b.parent[3] ^= 1;
			break;
		case 2:
			b.height++;
			break;
		case 3:
			if (nd->height > 0) {
				struct sim_blk old;
				blk_decode(nd->chain[nd->height - 1].data, nd->chain[nd->height - 1].len,
					   &old);
				b.txs[0] = old.txs[0]; /* replays a committed tx */
			} else {
				b.txs[0] |= TX_INVALID_BIT;
			}
			break;
		case 4:
			if (b.ntx < BLK_MAX_TXS)
				b.txs[b.ntx++] = b.txs[0];
			else
				b.txs[0] |= TX_INVALID_BIT;
			break;
		default:
			bad_digest = true;
		}
	}
	struct ch_buf enc;
	ch_buf_init(&enc);
	blk_encode(&b, &enc);
	uint8_t d[PBFT_HASH_LEN];
	hash256(enc.data, enc.len, d);
	if (bad_digest)
		d[5] ^= 0x10;
	TRACE(s, "  n%u proposes h%" PRIu64 " %s (%u txs)", nd->id, b.height, hex8(d), b.ntx);
	pbft_propose(nd->core, d, enc.data, enc.len, s->now);
	ch_buf_close(&enc);
	return true;
}

/* settle lets a replica act after an input: actions, pending flag, a proposal. */
static void
settle(struct sim_node *nd)
{
	for (int round = 0; round < 1000 && nd->core != NULL; round++) {
		drain(nd);
		update_pending(nd, false);
		if (!propose(nd))
			break;
	}
	drain(nd);
	if (nd->core != NULL && !nd->byz && pbft_height(nd->core) != nd->height)
		fail(nd->s, "n%u: core height %" PRIu64 " but host height %zu", nd->id,
		     pbft_height(nd->core), nd->height);
}

static void
start_node(struct sim_node *nd)
{
	struct sim *s = nd->s;
	struct pbft_config cfg = s->cfg;
	cfg.self = nd->id;
	struct pbft_host host = {
		.arg = nd,
		.sign = host_sign,
		.verify = host_verify,
		.validate = host_validate,
		.block_hash = host_block_hash,
	};
	if (pbft_new(&nd->core, &cfg, &host, nd->height, tip_hash(nd), s->now) != 0)
		abort();
	if (nd->height > 0) {
		const struct sim_cblock *c = &nd->chain[nd->height - 1];
		pbft_set_tip_cert(nd->core, c->cert_view, c->cert, c->ncert);
	}
	if (nd->record != NULL) {
		struct ch_err e;
		ch_err_clear(&e);
		if (pbft_restore(nd->core, nd->record, nd->record_len, &e) != 0)
			fail(s, "n%u: pbft_restore: %s", nd->id, ch_err_msg(&e));
	}
	pbft_resume(nd->core, s->now);
	nd->torn = -1;
	nd->epoch++;
	schedule(s, s->now + rng_range(&s->rng, 1, TICK_MS), EV_TICK, nd->id, nd->id, nd->epoch);
	update_pending(nd, true);
	settle(nd);
}

/* ---- events ---- */

static void
on_deliver(struct sim *s, struct sim_event *e)
{
	struct sim_node *nd = &s->nodes[e->to];
	if (nd->core == NULL || !linked(s, e->from, e->to))
		return;
	struct pbft_msg m;
	struct ch_err err;
	ch_err_clear(&err);
	if (pbft_msg_decode(e->data, e->len, s->n, s->cfg.max_block_bytes, &m, &err) != 0) {
		if (!s->nodes[e->from].byz)
			fail(s, "n%u could not decode a message from honest n%u: %s", e->to, e->from,
			     ch_err_msg(&err));
		return;
	}
	s->st.delivered++;
	TRACE(s, "deliver n%u->n%u %s v%" PRIu64 " h%" PRIu64 " %s (signer n%u)", e->from, e->to,
	      type_name(m.type), m.view, m.height, hex8(m.digest), m.from);
	if (nd->byz)
		byz_in(nd, &m, e->data, e->len);
	pbft_receive(nd->core, &m, s->now);
	pbft_msg_close(&m);
	settle(nd);
}

static void
on_fetch(struct sim *s, struct sim_event *e)
{
	struct sim_node *nd = &s->nodes[e->to], *peer = &s->nodes[e->from];
	if (nd->core == NULL)
		return;
	if (peer->byz || peer->core == NULL || !linked(s, nd->id, peer->id)) {
		TRACE(s, "fetch n%u<-n%u gets nothing", nd->id, peer->id);
		return;
	}
	TRACE(s, "fetch n%u<-n%u: h%zu..h%zu", nd->id, peer->id, nd->height + 1, peer->height);
	while (nd->height < peer->height && nd->core != NULL && !s->failed) {
		const struct sim_cblock *c = &peer->chain[nd->height];
		if (!append_block(nd, c->data, c->len, c->hash, nd->height + 1, c->cert_view, c->cert,
				  c->ncert, "syncs"))
			break;
		pbft_synced(nd->core, nd->height, c->hash, c->cert_view, c->cert, c->ncert, s->now);
		after_append(nd);
		drain(nd);
	}
	settle(nd);
}

static void
on_tick(struct sim *s, struct sim_event *e)
{
	struct sim_node *nd = &s->nodes[e->to];
	if (nd->core == NULL || e->arg != nd->epoch)
		return;
	pbft_tick(nd->core, s->now);
	if (nd->byz)
		byz_tick(nd);
	settle(nd);
	schedule(s, s->now + TICK_MS, EV_TICK, nd->id, nd->id, nd->epoch);
}

void
sim_crash(struct sim *s, uint32_t i)
{
	crash_now(&s->nodes[i]);
}

void
sim_restart(struct sim *s, uint32_t i)
{
	struct sim_node *nd = &s->nodes[i];
	crash_now(nd);
	s->st.restarts++;
	TRACE(s, "  n%u restarts at h%zu", i, nd->height);
	start_node(nd);
}

void
sim_partition(struct sim *s, const int *group)
{
	memcpy(s->group, group, s->n * sizeof(*group));
	s->split = true;
}

void
sim_heal(struct sim *s)
{
	s->split = false;
}

static void
faults_end(struct sim *s)
{
	s->faults_over = true;
	s->drop = 0;
	s->split = false;
	for (uint32_t i = 0; i < s->n; i++) {
		struct sim_node *nd = &s->nodes[i];
		nd->torn = -1;
		if (nd->core == NULL)
			sim_restart(s, i);
	}
}

static void
dispatch(struct sim *s, struct sim_event *e)
{
	switch (e->type) {
	case EV_DELIVER:
		on_deliver(s, e);
		break;
	case EV_TICK:
		on_tick(s, e);
		break;
	case EV_TX: {
		struct sim_node *nd = &s->nodes[e->to];
		nd->known[e->arg] = 1;
		if (nd->core != NULL) {
			TRACE(s, "tx %" PRIu64 " reaches n%u", e->arg, nd->id);
			settle(nd);
		}
		break;
	}
	case EV_CRASH:
		if (s->faults_over)
			break;
		TRACE(s, "crash n%u%s", e->to, e->arg ? " (torn)" : "");
		if (e->arg && s->nodes[e->to].core != NULL)
			s->nodes[e->to].torn = (int)rng_range(&s->rng, 0, 3);
		else
			crash_now(&s->nodes[e->to]);
		break;
	case EV_RESTART:
		if (!s->faults_over)
			sim_restart(s, e->to);
		break;
	case EV_PARTITION:
		if (s->faults_over)
			break;
		for (uint32_t i = 0; i < s->n; i++)
			s->group[i] = (int)rng_range(&s->rng, 0, e->arg);
		s->split = true;
		if (s->trace != NULL) {
			char g[SIM_MAX_N * 3 + 1];
			size_t k = 0;
			for (uint32_t i = 0; i < s->n; i++)
				k += (size_t)snprintf(g + k, sizeof(g) - k, "%d ", s->group[i]);
			TRACE(s, "partition: %s", g);
		}
		break;
	case EV_HEAL:
		TRACE(s, "heal");
		s->split = false;
		break;
	case EV_FETCH:
		on_fetch(s, e);
		break;
	case EV_FAULTS_END:
		TRACE(s, "faults end");
		faults_end(s);
		break;
	}
}

uint64_t
sim_height(const struct sim *s, uint32_t i)
{
	return s->nodes[i].height;
}

uint64_t
sim_view(const struct sim *s, uint32_t i)
{
	return s->nodes[i].core ? pbft_view(s->nodes[i].core) : 0;
}

uint64_t
sim_now(const struct sim *s)
{
	return s->now;
}

bool
sim_all_committed(const struct sim *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		const struct sim_node *nd = &s->nodes[i];
		if (!nd->byz && (nd->core == NULL || nd->ndone < s->ntx))
			return false;
	}
	return true;
}

static void
liveness_report(struct sim *s)
{
	char buf[600];
	size_t k = 0;
	for (uint32_t i = 0; i < s->n && k < sizeof(buf); i++) {
		const struct sim_node *nd = &s->nodes[i];
		k += (size_t)snprintf(buf + k, sizeof(buf) - k,
				      " n%u%s:h%zu,%u/%utx,v%" PRIu64 "%s", i, nd->byz ? "(byz)" : "",
				      nd->height, nd->ndone, s->ntx,
				      nd->core ? pbft_view(nd->core) : 0,
				      nd->core && pbft_in_view_change(nd->core) ? "vc" : "");
	}
	fail(s, "liveness: not every tx committed %" PRIu64 "ms after the faults stopped;%s",
	     s->o.live_ms, buf);
}

bool
sim_step(struct sim *s)
{
	if (s->failed || s->finished)
		return false;
	if (s->nheap == 0) {
		fail(s, "no events left");
		return false;
	}
	struct sim_event e = ev_pop(s);
	if (e.at > s->now)
		s->now = e.at;
	s->st.events++;
	dispatch(s, &e);
	free(e.data);
	if (s->st.events > MAX_EVENTS)
		fail(s, "more than %d events: a message storm?", MAX_EVENTS);
	if (!s->failed && s->faults_over && sim_all_committed(s))
		s->finished = true;
	if (!s->failed && s->now > s->o.fault_ms + s->o.live_ms)
		liveness_report(s);
	return !s->failed;
}

bool
sim_step_until(struct sim *s, bool (*pred)(struct sim *, void *), void *arg, uint64_t max_ms)
{
	uint64_t end = s->now + max_ms;
	while (!pred(s, arg)) {
		if (s->now > end || !sim_step(s))
			return false;
	}
	return true;
}

int
sim_run(struct sim *s)
{
	while (sim_step(s))
		;
	return s->failed ? 1 : 0;
}

const char *
sim_error(const struct sim *s)
{
	return s->err;
}

void
sim_get_stats(const struct sim *s, struct sim_stats *st)
{
	*st = s->st;
}

void
sim_submit(struct sim *s, uint32_t tx, uint64_t at)
{
	for (uint32_t i = 0; i < s->n; i++) {
		uint64_t lag = rng_range(&s->rng, 0, 30);
		if (rng_chance(&s->rng, 0.1))
			lag += rng_range(&s->rng, 0, 400);
		schedule(s, at + lag, EV_TX, i, i, tx);
	}
}

/* plan_faults draws the run's fault schedule from the seed. */
static void
plan_faults(struct sim *s)
{
	struct rng *r = &s->rng;
	uint64_t end = s->o.fault_ms;
	if (s->o.partitions && s->n > 1)
		for (int k = (int)rng_range(r, 1, 3); k > 0; k--) {
			uint64_t at = rng_range(r, 0, end);
			schedule(s, at, EV_PARTITION, 0, 0, rng_range(r, 1, 2));
			schedule(s, at + rng_range(r, 50, 800), EV_HEAL, 0, 0, 0);
		}
	uint32_t honest = s->n - s->o.nbyz;
	if (s->o.crashes)
		for (int k = (int)rng_range(r, 1, 4); k > 0; k--) {
			uint32_t i = (uint32_t)rng_range(r, 0, honest - 1);
			uint64_t at = rng_range(r, 0, end);
			bool torn = s->o.torn && rng_chance(r, 0.6);
			schedule(s, at, EV_CRASH, i, i, torn);
			schedule(s, at + rng_range(r, 20, 600), EV_RESTART, i, i, 0);
		}
	schedule(s, end, EV_FAULTS_END, 0, 0, 0);
}

struct sim *
sim_new(const struct sim_opts *opts, uint64_t seed, FILE *tr)
{
	struct sim *s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	s->o = *opts;
	s->seed = seed;
	s->trace = tr;
	rng_seed(&s->rng, seed);
	s->n = opts->n;
	if (s->n < 1 || s->n > SIM_MAX_N)
		abort();
	s->f = pbft_faults(s->n);
	s->quorum = pbft_quorum(s->n);
	if (s->o.nbyz > s->f)
		s->o.nbyz = s->f;
	if (s->o.delay_max < s->o.delay_min)
		s->o.delay_max = s->o.delay_min;
	if (s->o.fault_ms == 0)
		s->o.fault_ms = 1;
	if (s->o.live_ms == 0)
		s->o.live_ms = 60000;
	s->ntx = opts->ntx ? opts->ntx : (uint32_t)rng_range(&s->rng, 8, 40);
	s->block_max = opts->block_max ? opts->block_max : (uint32_t)rng_range(&s->rng, 1, 4);
	if (s->block_max > BLK_MAX_TXS)
		s->block_max = BLK_MAX_TXS;
	s->drop = opts->drop;
	s->cfg.n = s->n;
	s->cfg.view_timeout_ms = opts->view_timeout_ms ? opts->view_timeout_ms : 200;
	s->cfg.max_view_timeout_ms = 16 * s->cfg.view_timeout_ms;
	s->cfg.checkpoint_interval = opts->checkpoint_interval ? opts->checkpoint_interval : 4;
	s->cfg.watermark_window = 4 * s->cfg.checkpoint_interval;
	s->cfg.max_block_bytes = BLK_HDR + 8 * BLK_MAX_TXS;
	for (uint32_t i = 0; i < s->n; i++) {
		struct sim_node *nd = &s->nodes[i];
		nd->s = s;
		nd->id = i;
		nd->secret = rng_next(&s->rng);
		nd->torn = -1;
		nd->known = calloc(s->ntx, 1);
		nd->done = calloc(s->ntx, 1);
		if (nd->known == NULL || nd->done == NULL)
			abort();
		if (i >= s->n - s->o.nbyz) {
			nd->byz = true;
			unsigned kinds[8], nk = 0;
			for (unsigned b = 0; b < 8; b++)
				if (opts->byz & (1u << b))
					kinds[nk++] = 1u << b;
			/* one or two behaviours of the allowed ones */
			if (nk > 0) {
				nd->kind = kinds[rng_range(&s->rng, 0, nk - 1)];
				if (rng_chance(&s->rng, 0.5))
					nd->kind |= kinds[rng_range(&s->rng, 0, nk - 1)];
			}
		}
	}
	if (s->trace != NULL) {
		fprintf(s->trace, "seed %" PRIu64 ": n=%u f=%u quorum=%u byz=%u txs=%u block_max=%u\n",
			seed, s->n, s->f, s->quorum, s->o.nbyz, s->ntx, s->block_max);
		for (uint32_t i = 0; i < s->n; i++)
			if (s->nodes[i].byz)
				fprintf(s->trace, "n%u is Byzantine: behaviours 0x%x\n", i,
					s->nodes[i].kind);
	}
	for (uint32_t t = 0; t < s->ntx; t++)
		sim_submit(s, t, rng_range(&s->rng, 0, s->o.fault_ms * 4 / 5));
	plan_faults(s);
	for (uint32_t i = 0; i < s->n; i++)
		start_node(&s->nodes[i]);
	return s;
}

void
sim_free(struct sim *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->n; i++) {
		struct sim_node *nd = &s->nodes[i];
		pbft_free(nd->core);
		for (size_t h = 0; h < nd->height; h++) {
			free(nd->chain[h].data);
			free(nd->chain[h].cert);
		}
		free(nd->chain);
		free(nd->record);
		free(nd->known);
		free(nd->done);
		for (size_t k = 0; k < nd->nreplay; k++)
			free(nd->replay[k].data);
		for (uint32_t k = 0; k < s->n; k++)
			if (nd->has_vc[k])
				pbft_msg_close(&nd->vc[k]);
	}
	for (size_t i = 0; i < s->nheap; i++)
		free(s->heap[i].data);
	free(s->heap);
	free(s->agreed);
	free(s->sigs);
	free(s);
}

/* ---- the seed runner ---- */

int
sim_main(const struct sim_scenario *sc, size_t nsc)
{
	const char *only = getenv("SIM_SCENARIO");
	const char *seed_env = getenv("SIM_SEED");
	const char *scale_env = getenv("SIM_SCALE");
	double scale = scale_env ? strtod(scale_env, NULL) : 1.0;
	if (scale <= 0)
		scale = 1.0;
	uint64_t passed = 0, failed = 0;
	bool found = only == NULL;
	const char *faults_path = getenv("CHAIN_FAULTS_FILE");
	FILE *faults = faults_path && seed_env == NULL ? fopen(faults_path, "w") : NULL;
	for (size_t k = 0; k < nsc; k++) {
		if (only != NULL && strcmp(only, sc[k].name) != 0)
			continue;
		found = true;
		if (seed_env != NULL) {
			uint64_t seed = strtoull(seed_env, NULL, 0);
			struct sim *s = sim_new(&sc[k].opts, seed, stdout);
			int rc = sim_run(s);
			struct sim_stats st;
			sim_get_stats(s, &st);
			printf("%s seed %" PRIu64 ": %s%s (t=%" PRIu64 "ms, %" PRIu64
			       " events, %" PRIu64 " blocks, %" PRIu64 " view changes)\n",
			       sc[k].name, seed, rc ? "FAIL: " : "ok", rc ? sim_error(s) : "", sim_now(s),
			       st.events, st.blocks, st.view_changes);
			rc ? failed++ : passed++;
			sim_free(s);
			continue;
		}
		uint32_t seeds = (uint32_t)(sc[k].seeds * scale);
		uint64_t sc_failed = 0, sc_unsafe = 0, events = 0, blocks = 0, vcs = 0, fetches = 0,
			 repro = 0;
		for (uint32_t seed = 1; seed <= seeds; seed++) {
			struct sim *s = sim_new(&sc[k].opts, seed, NULL);
			int rc = sim_run(s);
			struct sim_stats st;
			sim_get_stats(s, &st);
			events += st.events;
			blocks += st.blocks;
			vcs += st.view_changes;
			fetches += st.fetches;
			repro += st.reproposals;
			if (rc != 0) {
				if (sc_failed < 5)
					printf("FAIL %s seed %u: %s\n  replay: SIM_SCENARIO=%s SIM_SEED=%u\n",
					       sc[k].name, seed, sim_error(s), sc[k].name, seed);
				sc_failed++;
				/* Everything but a stall is a safety (or honesty) violation. */
				sc_unsafe += strstr(sim_error(s), "liveness:") == NULL &&
					     strstr(sim_error(s), "no events left") == NULL;
				failed++;
			} else {
				passed++;
			}
			sim_free(s);
		}
		double d = seeds ? (double)seeds : 1.0;
		printf("%-20s %5u seeds, %3" PRIu64 " failed; per run %6.0f events, %4.1f blocks, "
		       "%4.1f view changes, %4.2f re-proposals, %4.1f fetches\n",
		       sc[k].name, seeds, sc_failed, (double)events / d, (double)blocks / d,
		       (double)vcs / d, (double)repro / d, (double)fetches / d);
		fflush(stdout);
		if (faults != NULL)
			fprintf(faults,
				"simulated: %s [%s]\t%u\t%" PRIu64 "\tn/a\t%" PRIu64
				" runs failed; per run %.1f blocks, %.1f view changes\n",
				sc[k].what ? sc[k].what : sc[k].name, sc[k].name, seeds, sc_unsafe,
				sc_failed, (double)blocks / d, (double)vcs / d);
	}
	if (faults != NULL)
		fclose(faults);
	if (!found) {
		printf("no scenario named %s\n", only);
		failed++;
	}
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n", passed, failed);
	return failed ? 1 : 0;
}
