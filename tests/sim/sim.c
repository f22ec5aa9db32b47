/*
 * sim.c - the simulator's fixture (sim.h): one event queue ordered by (time,
 * sequence), one PRNG (xoshiro256** seeded by splitmix64), the network, the
 * validators' io (node/io.h) and the invariants.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "testchain.h"

#define MAX_EVENTS 3000000

/* ---- randomness ---- */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
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

uint64_t
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

uint64_t
rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + rng_next(r) % (hi - lo + 1); /* modulo bias is irrelevant here */
}

bool
rng_chance(struct rng *r, double p)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53 < p;
}

uint64_t
sim_mix64(uint64_t z)
{
	z = (z ^ (z >> 33)) * UINT64_C(0xff51afd7ed558ccd);
	z = (z ^ (z >> 33)) * UINT64_C(0xc4ceb9fe1a85ec53);
	return z ^ (z >> 33);
}

/* ---- reporting ---- */

void
sim_fail(struct sim *s, const char *fmt, ...)
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

void
sim_trace(struct sim *s, const char *fmt, ...)
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

const char *
sim_hex8(const uint8_t *d)
{
	static char bufs[4][9]; /* four in rotation, for one trace line */
	static int k;
	char *b = bufs[k++ & 3];
	snprintf(b, 9, "%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
	return b;
}

static void *
xdup(const void *p, size_t n)
{
	void *q = malloc(n ? n : 1);
	if (q == NULL)
		abort();
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

/* ---- the event queue: a binary heap on (at, seq) ---- */

enum {
	EV_DELIVER = 1,
	EV_TICK,
	EV_TX,
	EV_CRASH,
	EV_RESTART,
	EV_PARTITION,
	EV_HEAL,
	EV_FAULTS_END,
	EV_RETRY,
	EV_GOV,    /* the governance client's turn */
	EV_GOV_TX, /* one of its transactions reaches a node */
};

/* Clients send what has not committed again, this often, once the faults are over. */
#define RETRY_MS 1000

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

/* ---- the network ---- */

bool
sim_linked(const struct sim *s, uint32_t a, uint32_t b)
{
	return !s->split || s->group[a] == s->group[b];
}

void
sim_send_raw(struct sim *s, uint32_t from, uint32_t to, const uint8_t *data, size_t len,
	     uint64_t extra_ms)
{
	if (to == from || to >= s->total || !sim_linked(s, from, to) || rng_chance(&s->rng, s->drop))
		return;
	int copies = rng_chance(&s->rng, s->o.dup) ? 2 : 1;
	for (int i = 0; i < copies; i++) {
		struct sim_event e;
		memset(&e, 0, sizeof(e));
		e.at = s->now + rng_range(&s->rng, s->o.delay_min, s->o.delay_max) + extra_ms;
		e.type = EV_DELIVER;
		e.to = to;
		e.from = from;
		e.data = xdup(data, len);
		e.len = len;
		ev_push(s, e);
	}
}

/* ---- the equivocation check ---- */

static size_t
sig_slot(const struct sim *s, uint32_t node, uint8_t type, uint64_t view, uint64_t height)
{
	uint64_t k = sim_mix64(((uint64_t)node << 8 | type) ^ sim_mix64(view * 31 + height));
	return (size_t)(k & (s->capsigs - 1));
}

/* note_signed remembers what an honest node signed; true the first time it sees it. */
static bool
note_signed(struct sim *s, uint32_t node, uint8_t type, uint64_t view, uint64_t height,
	    const uint8_t digest[PBFT_HASH_LEN])
{
	if (2 * (s->nsigs + 1) > s->capsigs) {
		struct sim_signed *old = s->sigs;
		size_t oldcap = s->capsigs;
		s->capsigs = oldcap ? 2 * oldcap : 1024;
		if ((s->sigs = calloc(s->capsigs, sizeof(*s->sigs))) == NULL)
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
				sim_fail(s, "honest n%u signed two %s for view %" PRIu64 " height %" PRIu64
					    ": %s and %s",
					 node, type_name(type), view, height, sim_hex8(e->digest),
					 sim_hex8(digest));
			return false;
		}
		j = (j + 1) & (s->capsigs - 1);
	}
	struct sim_signed *e = &s->sigs[j];
	*e = (struct sim_signed){.used = true, .type = type, .node = node, .view = view,
				 .height = height};
	memcpy(e->digest, digest, PBFT_HASH_LEN);
	s->nsigs++;
	return true;
}

/* msg_height: the height whose validator set m's sender belongs to. */
static uint64_t
msg_height(const struct sim_node *nd, const struct pbft_msg *m)
{
	if (m->type == PBFT_VIEWCHANGE)
		return m->height + 1;
	struct chain_tip tip;
	if (m->type == PBFT_NEWVIEW && m->block_len == 0) /* the core may be opening: ask the store */
		return chain_store_tip(nd->store, &tip, NULL) == 0 ? tip.height + 1 : 1;
	return m->height;
}

/* signed_by: is m's signature its sender's (in the set of its height, as nd's chain says)? */
static bool
signed_by(struct sim_node *nd, const struct pbft_msg *m)
{
	struct sim *s = nd->s;
	const struct sim_set *set = sim_set_at(s, nd->store, msg_height(nd, m));
	struct ch_buf b;
	uint8_t d[CR_HASH_LEN];
	ch_buf_init(&b);
	pbft_msg_signed_bytes(m, &b);
	cr_sha256(b.data, b.len, d);
	ch_buf_close(&b);
	return set != NULL && sim_set_check(s, set, m->from, d, m->sig);
}

/*
 * note_durable checks that what a validator signs is on its "disk" before it
 * leaves: a message of view v only once its record holds view v or later
 * (a restart from that record fences v, so nothing signed in it is signed
 * again differently), and a COMMIT only once the record holds that very
 * vote when it first leaves (a later record may hold a later vote; the
 * store then holds the block the old one committed). The record is what
 * survives a crash here, so a missing or late PERSIST shows up as a
 * failure whether or not a crash hits it.
 */
static void
note_durable(struct sim_node *nd, const struct pbft_msg *m, bool first)
{
	struct sim *s = nd->s;
	struct pbft_record_mark rm;
	struct ch_err e;
	ch_err_clear(&e);
	if (nd->record == NULL) {
		sim_fail(s, "n%u sent a %s in view %" PRIu64 " before recording anything", nd->id,
			 type_name(m->type), m->view);
		return;
	}
	/* the engine's record: the first height of its validator set, then the core's */
	if (nd->record_len < 8 ||
	    pbft_record_mark(nd->record + 8, nd->record_len - 8, &rm, &e) != 0) {
		sim_fail(s, "n%u: its record: %s", nd->id, ch_err_msg(&e));
		return;
	}
	if (rm.view < m->view)
		sim_fail(s, "n%u sent a %s in view %" PRIu64 " with view %" PRIu64 " recorded",
			 nd->id, type_name(m->type), m->view, rm.view);
	else if (m->type == PBFT_COMMIT && first &&
		 (!rm.commit.has || rm.commit.view != m->view || rm.commit.height != m->height ||
		  memcmp(rm.commit.digest, m->digest, CR_HASH_LEN) != 0))
		sim_fail(s, "n%u sent COMMIT v%" PRIu64 " h%" PRIu64 " before recording it", nd->id,
			 m->view, m->height);
}

/* note_consensus checks what an honest validator's core sends: it never equivocates or forges. */
static void
note_consensus(struct sim_node *nd, const struct pbft_msg *m)
{
	struct sim *s = nd->s;
	const struct sim_set *set = sim_set_at(s, nd->store, msg_height(nd, m));
	uint32_t self = set != NULL ? sim_index_of(set, nd->key) : UINT32_MAX;
	if (m->from != self) {
		/* relaying others' commit votes or NEW-VIEW is fine; forging is not */
		if ((m->type != PBFT_COMMIT && m->type != PBFT_NEWVIEW) || !signed_by(nd, m))
			sim_fail(s, "honest n%u sent a %s as n%u", nd->id, type_name(m->type), m->from);
		return;
	}
	bool first = false;
	switch (m->type) {
	case PBFT_PREPREPARE:
	case PBFT_PREPARE:
	case PBFT_COMMIT:
		first = note_signed(s, nd->id, m->type, m->view, m->height, m->digest);
		break;
	case PBFT_NEWVIEW:
		if (m->has_prepared) {
			note_signed(s, nd->id, PBFT_PREPREPARE, m->view, m->height, m->digest);
			s->st.reproposals++;
		}
		break;
	}
	note_durable(nd, m, first);
}

/* ---- a validator's io ---- */

static struct node_time
clock_of(const struct sim *s)
{
	struct node_time t = {.mono_ms = s->now, .wall_ms = s->genesis.genesis_time_ms + s->now};
	return t;
}

/* alive_for_io: false once the process died in the call under way (torn crash). */
static bool
alive_for_io(struct sim_node *nd)
{
	if (nd->dead)
		return false;
	if (nd->torn == 0) {
		nd->dead = true;
		TRACE(nd->s, "  n%u dies here (torn)", nd->id);
		return false;
	}
	if (nd->torn > 0)
		nd->torn--;
	return true;
}

static void
io_send(void *arg, int to, const uint8_t *msg, size_t len)
{
	struct sim_node *nd = arg;
	struct sim *s = nd->s;
	if (!alive_for_io(nd))
		return;
	if (nd->byz) {
		sim_byz_out(nd, to, msg, len);
		return;
	}
	struct peer_msg m;
	struct ch_err e;
	if (peer_msg_decode(msg, len, &s->limits, &m, &e) != 0) {
		sim_fail(s, "honest n%u sent a message that does not decode: %s", nd->id,
			 ch_err_msg(&e));
		return;
	}
	uint64_t extra = 0;
	if (m.type == PEER_CONSENSUS && !s->pbft) {
		TRACE(s, "  n%u %s %zu bytes of %s", nd->id, to < 0 ? "broadcasts" : "sends",
		      m.engine_len, s->o.engine);
	} else if (m.type == PEER_CONSENSUS) {
		struct pbft_msg pm;
		if (pbft_msg_decode(m.engine, m.engine_len, s->total, s->limits.max_block, &pm,
				    &e) != 0) {
			sim_fail(s, "honest n%u sent a consensus message that does not decode: %s",
				 nd->id, ch_err_msg(&e));
		} else {
			TRACE(s, "  n%u %s %s v%" PRIu64 " h%" PRIu64 " %s", nd->id,
			      to < 0 ? "broadcasts" : "sends", type_name(pm.type), pm.view, pm.height,
			      sim_hex8(pm.digest));
			note_consensus(nd, &pm);
			pbft_msg_close(&pm);
		}
	} else if (m.type == PEER_GET_BLOCKS) {
		s->st.fetches++;
		TRACE(s, "  n%u asks n%d for h%" PRIu64 "..h%" PRIu64, nd->id, to, m.min_height,
		      m.max_height);
	} else if (m.type == PEER_BLOCKS) {
		extra = rng_range(&s->rng, 0, s->o.fetch_ms);
	}
	peer_msg_close(&m);
	for (uint32_t i = 0; i < s->total; i++)
		if (to < 0 ? i != nd->id : i == (uint32_t)to)
			sim_send_raw(s, nd->id, i, msg, len, extra);
}

static int
io_save_votes(void *arg, const uint8_t *rec, size_t len, struct ch_err *err)
{
	struct sim_node *nd = arg;
	if (!alive_for_io(nd))
		return 0; /* never happened: nothing after it happens either */
	free(nd->record);
	nd->record = xdup(rec, len);
	nd->record_len = len;
	return 0;
}

/* io_may_write: a torn crash may also come just before a store write. */
static bool
io_may_write(void *arg)
{
	return alive_for_io(arg);
}

static bool
io_sign(void *arg, const uint8_t digest[CR_HASH_LEN], uint8_t sig[CR_SIG_LEN])
{
	struct sim_node *nd = arg;
	if (nd->s->keyed_sigs) {
		uint8_t pub[CR_PUBKEY_LEN];
		cr_key_pubkey(nd->key, pub);
		sim_keyed_sig(pub, digest, sig);
		return true;
	}
	return cr_sign(nd->key, digest, sig, NULL) == 0;
}

static bool
io_verify(void *arg, const uint8_t pub[CR_PUBKEY_LEN], const struct cr_pubkey *pk,
	  const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN])
{
	struct sim_node *nd = arg;
	return sim_verify(nd->s, pub, pk, digest, sig);
}

static uint64_t
io_random(void *arg)
{
	struct sim_node *nd = arg;
	return rng_next(&nd->s->rng);
}

static void
io_log(void *arg, enum node_log_level level, const char *line)
{
	struct sim_node *nd = arg;
	if (nd->s->trace != NULL && level >= NODE_LOG_INFO)
		sim_trace(nd->s, "  n%u: %s", nd->id, line);
}

/* ---- validators: start, crash ---- */

static void crash_now(struct sim_node *nd);

/* after_call finishes a call into nd's core: a process that died in it is gone. */
static void
after_call(struct sim_node *nd)
{
	if (nd->dead)
		crash_now(nd);
}

static void
start_node(struct sim_node *nd)
{
	struct sim *s = nd->s;
	struct ch_err e;
	ch_err_clear(&e);
	nd->torn = -1;
	nd->dead = false;
	if (test_store_open(&nd->store, s->env, nd->dir, &s->genesis, &e) != 0) {
		sim_fail(s, "n%u: store: %s", nd->id, ch_err_msg(&e));
		return;
	}
	uint8_t pub[CR_PUBKEY_LEN];
	cr_key_pubkey(nd->key, pub);
	struct node_core_config cfg = {
		.genesis = &s->genesis,
		.self = nd->id,
		.self_pub = pub,
		.store = nd->store,
		.sigcache = s->chain->sigcache,
		.mempool = {.max_txs = 10000, .max_bytes = 64u << 20, .ttl_ms = 600000,
			    .max_nonce_gap = 1000},
		.io = {.arg = nd, .send = io_send, .save_votes = io_save_votes, .sign = io_sign,
		       .verify = io_verify, .random = io_random, .log = io_log,
		       .may_write = io_may_write},
		.votes = nd->record,
		.votes_len = nd->record_len,
	};
	if (!s->failed && node_core_open(&nd->core, &cfg, clock_of(s), &e) != 0)
		sim_fail(s, "n%u: node_core_open: %s", nd->id, ch_err_msg(&e));
	if (nd->core == NULL) {
		chain_store_close(nd->store);
		nd->store = NULL;
		return;
	}
	nd->epoch++;
	schedule(s, s->now + rng_range(&s->rng, 1, 10), EV_TICK, nd->id, nd->id, nd->epoch);
}

static void
crash_now(struct sim_node *nd)
{
	if (nd->core == NULL)
		return;
	TRACE(nd->s, "  n%u crashes", nd->id);
	node_core_close(nd->core);
	nd->core = NULL;
	chain_store_close(nd->store);
	nd->store = NULL;
	nd->torn = -1;
	nd->dead = false;
	nd->epoch++;
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
	TRACE(s, "  n%u restarts at h%" PRIu64, i, nd->checked);
	start_node(nd);
}

/* ---- the invariants ---- */

static void
note_agreed(struct sim *s, uint64_t h, const uint8_t hash[CR_HASH_LEN])
{
	if (s->nagreed == s->capagreed) {
		s->capagreed = s->capagreed ? 2 * s->capagreed : 64;
		s->agreed = realloc(s->agreed, s->capagreed * sizeof(*s->agreed));
		if (s->agreed == NULL)
			abort();
	}
	struct chain_tip ref;
	chain_store_tip(s->reference, &ref, NULL);
	memcpy(s->agreed[s->nagreed][0], hash, CR_HASH_LEN);
	memcpy(s->agreed[s->nagreed][1], ref.state_digest, CR_HASH_LEN);
	s->nagreed++;
	s->st.blocks = s->nagreed;
	(void)h;
}

/* check_block checks block h of honest nd's store: certificate, link, agreement, validity. */
static bool
check_block(struct sim_node *nd, uint64_t h)
{
	struct sim *s = nd->s;
	struct ch_buf blk, cb;
	struct chain_block b;
	struct chain_cert *cert = malloc(sizeof(*cert));
	struct ch_err e;
	bool ok = false;
	ch_buf_init(&blk);
	ch_buf_init(&cb);
	ch_err_clear(&e);
	if (cert == NULL)
		abort();
	if (chain_store_block(nd->store, h, &blk, &cb, &e) != 0 ||
	    chain_cert_decode(cb.data, cb.len, cert, &e) != 0 ||
	    chain_block_decode(blk.data, blk.len, &b, &e) != 0) {
		sim_fail(s, "n%u: committed block h%" PRIu64 " does not read back: %s", nd->id, h,
			 ch_err_msg(&e));
		goto out;
	}
	const struct sim_set *set = sim_set_at(s, s->reference, h);
	if (set == NULL)
		sim_fail(s, "the agreed chain has no validator set at h%" PRIu64, h);
	else if (cert->height != h || memcmp(cert->block_hash, b.hash, CR_HASH_LEN) != 0 ||
		 sim_cert_check(s, set, cert, &e) != 0)
		sim_fail(s, "n%u committed h%" PRIu64 " %s without a valid certificate: %s", nd->id, h,
			 sim_hex8(b.hash), e.code ? ch_err_msg(&e) : "another block's");
	else if (memcmp(b.header.prev_hash, nd->tip_hash, CR_HASH_LEN) != 0)
		sim_fail(s, "n%u committed h%" PRIu64 " %s on another parent than its h%" PRIu64,
			 nd->id, h, sim_hex8(b.hash), h - 1);
	else if (h <= s->nagreed && memcmp(s->agreed[h - 1][0], b.hash, CR_HASH_LEN) != 0)
		sim_fail(s, "agreement: n%u committed %s at h%" PRIu64 ", others %s", nd->id,
			 sim_hex8(b.hash), h, sim_hex8(s->agreed[h - 1][0]));
	else if (h > s->nagreed && sim_reference_commit(s, blk.data, blk.len, cert, h) == 0)
		note_agreed(s, h, b.hash);
	if (!s->failed) {
		ok = true;
		memcpy(nd->tip_hash, b.hash, CR_HASH_LEN);
		for (uint32_t i = 0; i < b.header.tx_count; i++)
			for (uint32_t t = 0; t < s->ntx; t++)
				if (!nd->done[t] &&
				    memcmp(b.txs[i].hash, s->chain->txs[t].hash, CR_HASH_LEN) == 0) {
					nd->done[t] = 1;
					nd->ndone++;
				}
		TRACE(s, "  n%u committed h%" PRIu64 " %s (cert view %" PRIu64 ", %u votes, %u txs)",
		      nd->id, h, sim_hex8(b.hash), cert->view, cert->count, b.header.tx_count);
	}
	chain_block_close(&b);
out:
	ch_buf_close(&blk);
	ch_buf_close(&cb);
	free(cert);
	return ok;
}

/* check_node checks what an honest, running validator committed since the last step. */
static void
check_node(struct sim_node *nd)
{
	struct sim *s = nd->s;
	if (nd->core == NULL || nd->byz)
		return;
	if (node_core_failed(nd->core)) {
		sim_fail(s, "honest n%u's core stopped (a write failed or its state diverged)", nd->id);
		return;
	}
	const struct chain_tip *tip = node_core_tip(nd->core);
	while (nd->checked < tip->height && !s->failed)
		if (check_block(nd, nd->checked + 1))
			nd->checked++;
	if (s->failed)
		return;
	if (tip->height > 0 &&
	    memcmp(tip->state_digest, s->agreed[tip->height - 1][1], CR_HASH_LEN) != 0)
		sim_fail(s, "agreement: n%u's state after h%" PRIu64 " is not the others'", nd->id,
			 tip->height);
	struct node_engine_status st;
	node_core_engine(nd->core, &st);
	if (st.height != tip->height)
		sim_fail(s, "n%u: the engine is at height %" PRIu64 " but the store at %" PRIu64,
			 nd->id, st.height, tip->height);
}

/* ---- events ---- */

static void
on_deliver(struct sim *s, struct sim_event *e)
{
	struct sim_node *nd = &s->nodes[e->to];
	if (nd->core == NULL || !sim_linked(s, e->from, e->to))
		return;
	struct peer_msg m;
	if (peer_msg_decode(e->data, e->len, &s->limits, &m, NULL) != 0) {
		node_core_on_malformed(nd->core);
		return;
	}
	s->st.delivered++;
	TRACE(s, "deliver n%u->n%u %s", e->from, e->to, peer_msg_type_name(m.type));
	if (nd->byz)
		sim_byz_in(nd, &m, e->data, e->len);
	node_core_on_peer(nd->core, &m, clock_of(s));
	peer_msg_close(&m);
	after_call(nd);
	if (nd->core != NULL) { /* as the node's loop: a tick after every batch of input */
		node_core_tick(nd->core, clock_of(s));
		after_call(nd);
	}
}

static void
on_tick(struct sim *s, struct sim_event *e)
{
	struct sim_node *nd = &s->nodes[e->to];
	if (nd->core == NULL || e->arg != nd->epoch)
		return;
	node_core_tick(nd->core, clock_of(s));
	after_call(nd);
	if (nd->core == NULL)
		return;
	if (nd->byz)
		sim_byz_tick(nd);
	uint64_t next = node_core_deadline(nd->core, clock_of(s));
	schedule(s, next > s->now ? next : s->now + 1, EV_TICK, nd->id, nd->id, nd->epoch);
}

static void
on_tx(struct sim *s, struct sim_event *e)
{
	struct sim_node *nd = &s->nodes[e->to];
	if (nd->core == NULL)
		return;
	TRACE(s, "tx %" PRIu64 " reaches n%u", e->arg, nd->id);
	(void)node_core_submit(nd->core, &s->chain->txs[e->arg], false, clock_of(s), NULL);
	after_call(nd);
	if (nd->core != NULL) {
		node_core_tick(nd->core, clock_of(s));
		after_call(nd);
	}
}

static void
on_gov_tx(struct sim *s, struct sim_event *e)
{
	struct sim_node *nd = &s->nodes[e->to];
	if (nd->core == NULL)
		return;
	(void)node_core_submit(nd->core, sim_gov_tx(s, e->arg), false, clock_of(s), NULL);
	after_call(nd);
	if (nd->core != NULL) {
		node_core_tick(nd->core, clock_of(s));
		after_call(nd);
	}
}

/* on_gov: the governance client's turn; its approvals reach every node, each after a lag. */
static void
on_gov(struct sim *s)
{
	uint64_t first, end;
	sim_gov_step(s, &first, &end);
	for (uint64_t k = first; k < end; k++)
		for (uint32_t i = 0; i < s->total; i++)
			schedule(s, s->now + rng_range(&s->rng, 0, 40), EV_GOV_TX, i, i, k);
	if (!sim_gov_done(s))
		schedule(s, s->now + 100, EV_GOV, 0, 0, 0);
}

void
sim_partition(struct sim *s, const int *group)
{
	memcpy(s->group, group, s->total * sizeof(*group));
	s->split = true;
}

void
sim_heal(struct sim *s)
{
	s->split = false;
}

static void submit(struct sim *s, uint32_t t, uint64_t at);

/*
 * retry: as clients do, send every transaction that some honest validator
 * has not committed again (a crash loses a validator's mempool).
 */
static void
retry(struct sim *s)
{
	for (uint32_t t = 0; t < s->ntx; t++)
		for (uint32_t i = 0; i < s->total; i++)
			if (!s->nodes[i].byz && !s->nodes[i].absent && !s->nodes[i].done[t]) {
				submit(s, t, s->now);
				break;
			}
	schedule(s, s->now + RETRY_MS, EV_RETRY, 0, 0, 0);
}

static void
faults_end(struct sim *s)
{
	s->faults_over = true;
	s->drop = 0;
	s->split = false;
	for (uint32_t i = 0; i < s->total; i++) {
		struct sim_node *nd = &s->nodes[i];
		nd->torn = -1;
		if (nd->core == NULL && !nd->absent)
			sim_restart(s, i);
	}
	schedule(s, s->now + RETRY_MS, EV_RETRY, 0, 0, 0);
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
	case EV_TX:
		on_tx(s, e);
		break;
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
		for (uint32_t i = 0; i < s->total; i++)
			s->group[i] = (int)rng_range(&s->rng, 0, e->arg);
		s->split = true;
		TRACE(s, "partition");
		break;
	case EV_HEAL:
		TRACE(s, "heal");
		s->split = false;
		break;
	case EV_FAULTS_END:
		TRACE(s, "faults end");
		faults_end(s);
		break;
	case EV_RETRY:
		retry(s);
		break;
	case EV_GOV:
		on_gov(s);
		break;
	case EV_GOV_TX:
		on_gov_tx(s, e);
		break;
	}
}

/* ---- stepping ---- */

uint64_t
sim_height(const struct sim *s, uint32_t i)
{
	return s->nodes[i].checked;
}

uint64_t
sim_view(const struct sim *s, uint32_t i)
{
	struct node_engine_status st;
	if (s->nodes[i].core == NULL)
		return 0;
	node_core_engine(s->nodes[i].core, &st);
	return st.view;
}

uint64_t
sim_now(const struct sim *s)
{
	return s->now;
}

/*
 * gone: is node i out of the set in force at the agreed tip? (A removed
 * validator, or a joiner removed before it synced, need not follow the
 * chain: only members must commit everything.)
 */
static bool
gone(struct sim *s, uint32_t i)
{
	struct chain_tip tip;
	if (s->gov == NULL || chain_store_tip(s->reference, &tip, NULL) != 0)
		return false;
	const struct sim_set *set = sim_set_at(s, s->reference, tip.height + 1);
	return set != NULL && sim_index_of(set, s->nodes[i].key) == UINT32_MAX;
}

bool
sim_all_committed(const struct sim *s)
{
	struct sim *w = (struct sim *)s; /* the set cache fills as it reads */
	if (!sim_gov_done(s))
		return false;
	for (uint32_t i = 0; i < s->total; i++) {
		const struct sim_node *nd = &s->nodes[i];
		if (!nd->byz && !nd->absent && (nd->core == NULL || nd->ndone < s->ntx) &&
		    !gone(w, i))
			return false;
	}
	return true;
}

static void
liveness_report(struct sim *s)
{
	char buf[600];
	size_t k = 0;
	for (uint32_t i = 0; i < s->total && k < sizeof(buf); i++) {
		const struct sim_node *nd = &s->nodes[i];
		struct node_engine_status st = {0};
		if (nd->core != NULL)
			node_core_engine(nd->core, &st);
		k += (size_t)snprintf(buf + k, sizeof(buf) - k,
				      " n%u%s:h%" PRIu64 ",%u/%utx,v%" PRIu64 "%s", i,
				      nd->byz ? "(byz)" : "", nd->checked, nd->ndone, s->ntx, st.view,
				      st.in_view_change ? "vc" : "");
	}
	sim_fail(s, "liveness: not every tx committed%s %" PRIu64 "ms after the faults stopped;%s",
		 sim_gov_done(s) ? "" : " (nor every validator change)", s->o.live_ms, buf);
}

/* count_views adds the views honest validators moved through to the statistics. */
static void
count_views(struct sim *s, uint64_t *views)
{
	for (uint32_t i = 0; i < s->total; i++) {
		uint64_t v = sim_view(s, i);
		if (!s->nodes[i].byz && v > views[i]) {
			s->st.view_changes += v - views[i];
			views[i] = v;
		}
	}
}

bool
sim_step(struct sim *s)
{
	if (s->failed || s->finished)
		return false;
	if (s->nheap == 0) {
		sim_fail(s, "no events left");
		return false;
	}
	struct sim_event e = ev_pop(s);
	if (e.at > s->now)
		s->now = e.at;
	s->st.events++;
	dispatch(s, &e);
	free(e.data);
	for (uint32_t i = 0; i < s->total && !s->failed; i++)
		check_node(&s->nodes[i]);
	if (s->st.events > MAX_EVENTS)
		sim_fail(s, "more than %d events: a message storm?", MAX_EVENTS);
	if (!s->failed && s->faults_over && sim_all_committed(s))
		s->finished = true;
	if (!s->failed && s->now > s->o.fault_ms + s->o.live_ms)
		liveness_report(s);
	return !s->failed && !s->finished;
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
	uint64_t views[SIM_MAX_N] = {0};
	while (sim_step(s))
		if (s->st.events % 64 == 0)
			count_views(s, views);
	count_views(s, views);
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

/* submit schedules transaction t to reach every validator, each after its own lag. */
static void
submit(struct sim *s, uint32_t t, uint64_t at)
{
	for (uint32_t i = 0; i < s->total; i++) {
		uint64_t lag = rng_range(&s->rng, 0, 30);
		if (rng_chance(&s->rng, 0.1))
			lag += rng_range(&s->rng, 0, 400);
		schedule(s, at + lag, EV_TX, i, i, t);
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
			if (s->total > s->n && rng_chance(r, 0.3)) /* a joiner, at times */
				i = (uint32_t)rng_range(r, s->n, s->total - 1);
			if (s->nodes[i].absent)
				continue;
			uint64_t at = rng_range(r, 0, end);
			bool torn = s->o.torn && rng_chance(r, 0.6);
			schedule(s, at, EV_CRASH, i, i, torn);
			schedule(s, at + rng_range(r, 20, 600), EV_RESTART, i, i, 0);
		}
	schedule(s, end, EV_FAULTS_END, 0, 0, 0);
}

static void
pick_behaviours(struct sim *s, struct sim_node *nd)
{
	unsigned kinds[9], nk = 0;
	for (unsigned b = 0; b < 9; b++)
		if (s->o.byz & (1u << b))
			kinds[nk++] = 1u << b;
	/* one or two behaviours of the allowed ones */
	if (nk > 0) {
		nd->kind = kinds[rng_range(&s->rng, 0, nk - 1)];
		if (rng_chance(&s->rng, 0.5))
			nd->kind |= kinds[rng_range(&s->rng, 0, nk - 1)];
	}
}

struct sim *
sim_new(const struct sim_opts *opts, uint64_t seed, FILE *tr)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct ch_err e;
	if (s == NULL || opts->n < 1 || opts->n + opts->joiners > SIM_MAX_N)
		abort();
	s->o = *opts;
	s->seed = seed;
	s->trace = tr;
	rng_seed(&s->rng, seed);
	s->n = opts->n;
	s->total = opts->n + (opts->changes ? opts->joiners : 0);
	if (s->o.engine == NULL)
		s->o.engine = "pbft";
	s->pbft = strcmp(s->o.engine, "pbft") == 0;
	s->keyed_sigs = !s->pbft;
	struct node_engine_rules rules;
	if (node_engine_rules_of(s->o.engine, s->n, &rules, NULL) != 0)
		abort();
	s->f = rules.faults;
	s->quorum = rules.quorum;
	if (s->o.nbyz > s->f || !rules.byzantine)
		s->o.nbyz = rules.byzantine ? s->f : 0;
	if (s->o.delay_max < s->o.delay_min)
		s->o.delay_max = s->o.delay_min;
	if (s->o.fault_ms == 0)
		s->o.fault_ms = 1;
	if (s->o.live_ms == 0)
		s->o.live_ms = 60000;
	s->ntx = opts->ntx ? opts->ntx : (uint32_t)rng_range(&s->rng, 8, 40);
	if (s->ntx > SIM_MAX_TXS)
		s->ntx = SIM_MAX_TXS;
	s->block_max = opts->block_max ? opts->block_max : (uint32_t)rng_range(&s->rng, 1, 4);
	s->drop = opts->drop;
	s->chain = sim_chain_get(s->n);
	s->genesis = s->chain->genesis; /* shares the accounts array: never closed here */
	s->genesis.params.block_max_txs = s->block_max;
	snprintf(s->genesis.params.engine, sizeof(s->genesis.params.engine), "%s", s->o.engine);
	s->genesis.params.view_timeout_ms =
		(uint32_t)(opts->view_timeout_ms ? opts->view_timeout_ms : 200);
	s->genesis.params.checkpoint_interval =
		(uint32_t)(opts->checkpoint_interval ? opts->checkpoint_interval : 4);
	chain_rules_init(&s->rules, &s->genesis);
	node_core_limits_for(&s->genesis, &s->limits);
	if ((s->verdicts = calloc(SIM_VERDICTS, sizeof(*s->verdicts))) == NULL ||
	    chain_mem_env_new(&s->env, &e) != 0 ||
	    test_store_open(&s->reference, s->env, "/reference", &s->genesis, &e) != 0)
		abort();
	for (uint32_t i = 0; i < s->total; i++) {
		struct sim_node *nd = &s->nodes[i];
		nd->s = s;
		nd->id = i;
		nd->key = s->chain->validator[i];
		nd->torn = -1;
		snprintf(nd->dir, sizeof(nd->dir), "/n%u", i);
		if ((nd->done = calloc(s->ntx, 1)) == NULL)
			abort();
		if (i < s->n && i >= s->n - s->o.nbyz) {
			nd->byz = true;
			pick_behaviours(s, nd);
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
	if (s->o.changes && s->pbft) {
		sim_gov_init(s);
		schedule(s, rng_range(&s->rng, 0, s->o.fault_ms / 3), EV_GOV, 0, 0, 0);
	}
	for (uint32_t t = 0; t < s->ntx; t++)
		submit(s, t, rng_range(&s->rng, 0, s->o.fault_ms * 4 / 5));
	plan_faults(s);
	for (uint32_t i = 0; i < s->total; i++)
		if (!s->nodes[i].absent)
			start_node(&s->nodes[i]);
	return s;
}

void
sim_free(struct sim *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->total; i++) {
		struct sim_node *nd = &s->nodes[i];
		crash_now(nd);
		free(nd->record);
		free(nd->done);
		sim_byz_free(nd);
	}
	for (size_t i = 0; i < s->nheap; i++)
		free(s->heap[i].data);
	sim_gov_free(s);
	chain_store_close(s->reference);
	chain_mem_env_free(s->env);
	free(s->verdicts);
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
		if (seeds == 0)
			seeds = 1;
		uint64_t sc_failed = 0, sc_unsafe = 0, events = 0, blocks = 0, vcs = 0, fetches = 0,
			 repro = 0, verified = 0;
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
			verified += st.verified;
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
		printf("%-18s %5u seeds, %3" PRIu64 " failed; per run %6.0f events, %4.1f blocks, "
		       "%4.1f view changes, %4.2f re-proposals, %4.1f fetches, %5.0f signatures "
		       "checked\n",
		       sc[k].name, seeds, sc_failed, (double)events / d, (double)blocks / d,
		       (double)vcs / d, (double)repro / d, (double)fetches / d, (double)verified / d);
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
