/*
 * The core's lifecycle and the plumbing the roles share: actions, signing,
 * the entry points (receive, tick, propose, committed, synced), the jitter
 * of the timeouts and introspection.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "paxos/paxos_internal.h"

#define MAX_TIMEOUT_MS (1ull << 40) /* about 35 years */

uint32_t
paxos_quorum(uint32_t n)
{
	return n / 2 + 1;
}

uint32_t
paxos_ballot_leader(uint64_t ballot, uint32_t n)
{
	assert(n >= 1);
	return (uint32_t)(ballot % n);
}

/* ---- small helpers ---- */

void *
paxos_dup(const void *src, size_t len)
{
	if (len == 0)
		return NULL;
	void *q = malloc(len);
	if (q == NULL)
		abort(); /* a value the core holds may be needed for safety */
	memcpy(q, src, len);
	return q;
}

void
paxos_value_clear(struct paxos_value *v)
{
	free(v->block);
	memset(v, 0, sizeof(*v));
}

void
paxos_value_set(struct paxos_value *v, uint64_t slot, uint64_t ballot,
		const uint8_t digest[PAXOS_HASH_LEN], const uint8_t *block, size_t len)
{
	uint8_t *copy = paxos_dup(block, len); /* block may be v's own */
	paxos_value_clear(v);
	v->has = true;
	v->slot = slot;
	v->ballot = ballot;
	memcpy(v->digest, digest, PAXOS_HASH_LEN);
	v->block = copy;
	v->block_len = len;
}

void
paxos_note_ballot(struct paxos *p, uint64_t ballot)
{
	if (ballot > p->seen)
		p->seen = ballot;
}

/*
 * paxos_jittered returns the current failure-detection timeout, doubled
 * per failed attempt up to the cap, plus up to half of it again from the
 * core's own generator, so that validators seldom time out together.
 */
uint64_t
paxos_jittered(struct paxos *p)
{
	uint64_t t = p->cfg.timeout_ms, cap = p->cfg.max_timeout_ms;
	for (uint32_t i = 0; i < p->backoff && t < cap; i++)
		t = t > cap / 2 ? cap : 2 * t;
	/* splitmix64 */
	uint64_t z = (p->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return t + z % (t / 2 + 1);
}

/* ---- actions ---- */

struct paxos_action *
paxos_push(struct paxos *p, uint8_t type)
{
	if (p->head > 0 && p->head == p->nacts)
		p->head = p->nacts = 0;
	if (p->nacts == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct paxos_action *a = realloc(p->acts, cap * sizeof(*a));
		if (a == NULL)
			abort(); /* the core cannot lose an action and stay safe */
		p->acts = a;
		p->cap = cap;
	}
	struct paxos_action *a = &p->acts[p->nacts++];
	memset(a, 0, sizeof(*a));
	ch_buf_init(&a->bytes);
	a->type = type;
	a->leader = PAXOS_NO_LEADER;
	return a;
}

void
paxos_action_close(struct paxos_action *a)
{
	if (a == NULL)
		return;
	ch_buf_close(&a->bytes);
	free(a->block);
	free(a->cert);
	memset(a, 0, sizeof(*a));
}

bool
paxos_next_action(struct paxos *p, struct paxos_action *a)
{
	if (p->head == p->nacts)
		return false;
	*a = p->acts[p->head++];
	return true;
}

void
paxos_emit_persist(struct paxos *p)
{
	struct paxos_action *a = paxos_push(p, PAXOS_ACT_PERSIST);
	paxos_record_encode(p, &a->bytes);
	if (!ch_buf_ok(&a->bytes))
		abort();
}

void
paxos_msg_init(struct paxos *p, struct paxos_msg *m, uint8_t type, uint64_t ballot)
{
	m->type = type;
	m->from = p->cfg.self;
	m->ballot = ballot;
	m->slot = m->height = 0;
	memset(m->digest, 0, PAXOS_HASH_LEN);
	m->block = NULL;
	m->block_len = 0;
	m->nentries = m->nvotes = 0;
}

void
paxos_sign_vote(struct paxos *p, uint64_t slot, uint64_t ballot,
		const uint8_t digest[PAXOS_HASH_LEN], uint8_t sig[PAXOS_SIG_LEN])
{
	struct ch_buf s;
	ch_buf_init(&s);
	paxos_vote_preimage(slot, ballot, digest, &s);
	if (!ch_buf_ok(&s))
		abort();
	p->host.sign(p->host.arg, s.data, s.len, sig);
	ch_buf_close(&s);
}

/* emit_msg signs m and queues it as a SEND or BROADCAST. */
static void
emit_msg(struct paxos *p, uint8_t type, uint32_t to, struct paxos_msg *m)
{
	struct ch_buf s;
	ch_buf_init(&s);
	paxos_msg_signed(m, &s);
	if (!ch_buf_ok(&s))
		abort();
	p->host.sign(p->host.arg, s.data, s.len, m->sig);
	ch_buf_close(&s);
	struct paxos_action *a = paxos_push(p, type);
	a->to = to;
	paxos_msg_body(m, &a->bytes);
	ch_buf_put(&a->bytes, m->sig, PAXOS_SIG_LEN);
	if (!ch_buf_ok(&a->bytes))
		abort();
}

void
paxos_send(struct paxos *p, uint32_t to, struct paxos_msg *m)
{
	if (to != p->cfg.self && to < p->cfg.n)
		emit_msg(p, PAXOS_ACT_SEND, to, m);
}

void
paxos_broadcast(struct paxos *p, struct paxos_msg *m)
{
	if (p->cfg.n > 1)
		emit_msg(p, PAXOS_ACT_BROADCAST, 0, m);
	if (p->leading)
		p->last_send = p->now;
}

/* ---- roles ---- */

uint32_t
paxos_leader(const struct paxos *p)
{
	if (p->leading)
		return p->cfg.self;
	if (p->p1.active || p->follow_ballot == 0)
		return PAXOS_NO_LEADER;
	uint32_t l = paxos_ballot_leader(p->follow_ballot, p->cfg.n);
	return l == p->cfg.self ? PAXOS_NO_LEADER : l;
}

/* role_check emits PAXOS_ACT_ROLE when the ballot, leading or the leader changed. */
static void
role_check(struct paxos *p)
{
	uint32_t leader = paxos_leader(p);
	if (p->role_told && p->role_ballot == p->promised && p->role_leading == p->leading &&
	    p->role_leader == leader)
		return;
	p->role_told = true;
	p->role_ballot = p->promised;
	p->role_leading = p->leading;
	p->role_leader = leader;
	struct paxos_action *a = paxos_push(p, PAXOS_ACT_ROLE);
	a->ballot = p->promised;
	a->leading = p->leading;
	a->leader = leader;
}

/* ---- lifecycle ---- */

int
paxos_new(struct paxos **out, const struct paxos_config *cfg, const struct paxos_host *host,
	  uint64_t height, const uint8_t digest[PAXOS_HASH_LEN], uint64_t now_ms)
{
	(void)digest;
	if (cfg == NULL || host == NULL || cfg->n < 1 || cfg->n > PAXOS_MAX_VALIDATORS ||
	    cfg->self >= cfg->n || cfg->timeout_ms == 0 || cfg->timeout_ms > MAX_TIMEOUT_MS ||
	    cfg->heartbeat_ms == 0 ||
	    cfg->heartbeat_ms >= cfg->timeout_ms || cfg->max_block_bytes == 0 ||
	    cfg->max_block_bytes > UINT32_MAX || host->sign == NULL || host->verify == NULL ||
	    host->block_hash == NULL)
		return CH_E_INVALID;
	struct paxos *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return CH_E_NOMEM;
	p->cfg = *cfg;
	if (p->cfg.max_timeout_ms < p->cfg.timeout_ms)
		p->cfg.max_timeout_ms = p->cfg.timeout_ms;
	if (p->cfg.max_timeout_ms > MAX_TIMEOUT_MS) /* keeps now + timeout far from overflow */
		p->cfg.max_timeout_ms = MAX_TIMEOUT_MS;
	p->host = *host;
	p->quorum = paxos_quorum(cfg->n);
	p->now = now_ms;
	p->rng = cfg->seed ^ (0x9e3779b97f4a7c15ull * ((uint64_t)cfg->self + 1));
	p->height = p->emitted = height;
	p->top_from = PAXOS_NO_LEADER;
	p->follow_deadline = now_ms + paxos_jittered(p);
	*out = p;
	return 0;
}

void
paxos_free(struct paxos *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < PAXOS_WINDOW; i++) {
		paxos_value_clear(&p->accepted[i]);
		paxos_value_clear(&p->reprop[i]);
	}
	paxos_value_clear(&p->fly.v);
	for (size_t i = p->head; i < p->nacts; i++)
		paxos_action_close(&p->acts[i]);
	free(p->acts);
	free(p);
}

/* enter starts every call from the host, which has carried out the earlier actions. */
static void
enter(struct paxos *p, uint64_t now_ms)
{
	assert(p->head == p->nacts && "the host carries out every action before calling again");
	if (now_ms > p->now)
		p->now = now_ms;
}

static void
leave(struct paxos *p)
{
	role_check(p);
}

/* ---- inputs ---- */

static bool
verify_msg(struct paxos *p, const struct paxos_msg *m)
{
	struct ch_buf s;
	ch_buf_init(&s);
	paxos_msg_signed(m, &s);
	bool ok = ch_buf_ok(&s) && p->host.verify(p->host.arg, m->from, s.data, s.len, m->sig);
	ch_buf_close(&s);
	return ok;
}

/*
 * answer_heartbeat tells the leader this validator follows it (a heartbeat
 * of the leader's ballot from another validator, which only the leader's
 * check-quorum counts).
 */
static void
answer_heartbeat(struct paxos *p, uint32_t leader)
{
	struct paxos_msg m;
	paxos_msg_init(p, &m, PAXOS_HEARTBEAT, p->promised);
	m.height = p->height;
	paxos_send(p, leader, &m);
}

static void
dispatch(struct paxos *p, const struct paxos_msg *m)
{
	switch (m->type) {
	case PAXOS_PREPARE:
		paxos_on_prepare(p, m);
		break;
	case PAXOS_PROMISE:
		paxos_on_promise(p, m);
		break;
	case PAXOS_ACCEPT:
		paxos_on_accept(p, m);
		break;
	case PAXOS_ACCEPTED:
		paxos_on_accepted(p, m);
		break;
	case PAXOS_COMMITTED:
		paxos_on_committed(p, m);
		break;
	case PAXOS_HEARTBEAT:
		paxos_heard_leader(p, m->from, m->ballot, true);
		paxos_note_height(p, m->from, m->height);
		paxos_fetch_check(p, false);
		if (!p->leading && m->from == paxos_ballot_leader(m->ballot, p->cfg.n) &&
		    m->ballot == p->promised)
			answer_heartbeat(p, m->from);
		break;
	case PAXOS_NACK:
		paxos_on_nack(p, m);
		break;
	}
}

enum paxos_input
paxos_receive(struct paxos *p, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	enter(p, now_ms);
	struct paxos_msg *m = malloc(sizeof(*m));
	if (m == NULL)
		return PAXOS_ACCEPTED_INPUT; /* dropped like a lost packet: the sender retransmits */
	enum paxos_input rc = PAXOS_ACCEPTED_INPUT;
	if (msg == NULL || paxos_msg_decode(msg, len, p->cfg.n, p->cfg.max_block_bytes, m) != 0)
		rc = PAXOS_MALFORMED;
	else if (m->from >= p->cfg.n || m->from == p->cfg.self || !verify_msg(p, m))
		rc = PAXOS_BAD_SIGNATURE;
	else {
		p->heard[m->from] = p->now;
		dispatch(p, m);
	}
	free(m);
	leave(p);
	return rc;
}

void
paxos_tick(struct paxos *p, uint64_t now_ms)
{
	enter(p, now_ms);
	paxos_proposer_tick(p);
	paxos_fetch_check(p, false);
	leave(p);
}

bool
paxos_can_propose(const struct paxos *p)
{
	return p->leading && p->fresh && !p->fly.v.has && p->emitted == p->height &&
	       p->height >= p->top_height && p->height < UINT64_MAX;
}

void
paxos_propose(struct paxos *p, const uint8_t digest[PAXOS_HASH_LEN], const uint8_t *block,
	      size_t len, uint64_t now_ms)
{
	enter(p, now_ms);
	if (paxos_can_propose(p) && digest != NULL && block != NULL && len > 0 &&
	    len <= p->cfg.max_block_bytes)
		paxos_phase2(p, digest, block, len);
	leave(p);
}

void
paxos_committed(struct paxos *p, uint64_t height, uint64_t now_ms)
{
	enter(p, now_ms);
	paxos_advance(p, height);
	leave(p);
}

void
paxos_synced(struct paxos *p, uint64_t height, const uint8_t digest[PAXOS_HASH_LEN],
	     uint64_t cert_ballot, const struct paxos_vote *cert, uint32_t ncert, uint64_t now_ms)
{
	(void)digest;
	(void)cert_ballot;
	(void)cert;
	(void)ncert;
	enter(p, now_ms);
	if (height > p->height)
		p->fetch_deadline = 0; /* it got somewhere: the next gap may be fetched at once */
	paxos_advance(p, height);
	leave(p);
}

/* ---- introspection ---- */

uint64_t
paxos_ballot(const struct paxos *p)
{
	return p->promised;
}

bool
paxos_leading(const struct paxos *p)
{
	return p->leading;
}

uint64_t
paxos_height(const struct paxos *p)
{
	return p->height;
}

bool
paxos_accepted(const struct paxos *p, uint64_t slot, uint64_t *ballot,
	       uint8_t digest[PAXOS_HASH_LEN])
{
	for (int i = 0; i < PAXOS_WINDOW; i++) {
		const struct paxos_value *v = &p->accepted[i];
		if (v->has && v->slot == slot) {
			if (ballot != NULL)
				*ballot = v->ballot;
			if (digest != NULL)
				memcpy(digest, v->digest, PAXOS_HASH_LEN);
			return true;
		}
	}
	return false;
}
