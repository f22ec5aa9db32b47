/*
 * The core's lifecycle and plumbing: configuration, the action queue,
 * persistence ordering, signed messages, the randomized timer, the entry
 * points the host calls, and introspection.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft_internal.h"

static const char sign_prefix[] = "chaind/raft/v1";

uint32_t
raft_quorum(uint32_t n)
{
	return n / 2 + 1;
}

/* ---- actions ---- */

struct raft_action *
raft_push_action(struct raft *r, uint8_t type)
{
	if (r->head > 0 && r->head == r->nacts)
		r->head = r->nacts = 0;
	if (r->nacts == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct raft_action *a = realloc(r->acts, cap * sizeof(*a));
		if (a == NULL)
			abort(); /* the core cannot lose an action and stay safe */
		r->acts = a;
		r->cap = cap;
	}
	struct raft_action *a = &r->acts[r->nacts++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->leader = RAFT_NO_LEADER;
	return a;
}

void
raft_action_close(struct raft_action *a)
{
	if (a == NULL)
		return;
	ch_buf_close(&a->bytes);
	free(a->block);
	free(a->cert);
	memset(a, 0, sizeof(*a));
}

bool
raft_next_action(struct raft *r, struct raft_action *a)
{
	if (r->head == r->nacts)
		return false;
	*a = r->acts[r->head++];
	return true;
}

void
raft_persist(struct raft *r)
{
	struct raft_action *a = raft_push_action(r, RAFT_ACT_PERSIST);
	ch_buf_init(&a->bytes);
	raft_record_encode(r, &a->bytes);
	if (!ch_buf_ok(&a->bytes))
		abort();
	r->dirty = false;
	r->persisted_commit = r->commit_index;
}

/* raft_flush: what a message may depend on is durable before it leaves. */
void
raft_flush(struct raft *r)
{
	if (r->dirty)
		raft_persist(r);
}

void
raft_note_role(struct raft *r)
{
	if (r->shown && r->shown_role == r->role && r->shown_term == r->term &&
	    r->shown_leader == r->leader)
		return;
	r->shown = true;
	r->shown_role = r->role;
	r->shown_term = r->term;
	r->shown_leader = r->leader;
	struct raft_action *a = raft_push_action(r, RAFT_ACT_ROLE);
	a->role = (uint8_t)r->role;
	a->term = r->term;
	a->leader = r->leader;
}

/* ---- signatures ---- */

void
raft_msg_init(struct raft *r, struct raft_msg *m, uint8_t type)
{
	m->type = type;
	m->from = r->cfg.self;
	m->term = r->term;
	m->last_index = m->last_term = 0;
	m->granted = m->success = m->unanchored = false;
	m->prev_index = m->prev_term = m->prev_height = 0;
	m->commit_index = m->cert_height = m->leader_height = 0;
	m->flags = 0;
	m->npending = m->nentries = m->ncerts = m->nvotes = 0;
	m->index = m->host_height = 0;
}

/* seal encodes m into a new buffer and appends the sender's signature. */
static void
seal(struct raft *r, struct raft_msg *m, struct ch_buf *out)
{
	m->from = r->cfg.self;
	ch_buf_init(out);
	ch_buf_put(out, sign_prefix, sizeof(sign_prefix)); /* with its NUL */
	raft_msg_encode(m, out);
	if (!ch_buf_ok(out))
		abort();
	uint8_t sig[RAFT_SIG_LEN];
	r->host.sign(r->host.arg, out->data, out->len, sig);
	memmove(out->data, out->data + sizeof(sign_prefix), out->len - sizeof(sign_prefix));
	out->len -= sizeof(sign_prefix);
	ch_buf_put(out, sig, RAFT_SIG_LEN);
	if (!ch_buf_ok(out))
		abort();
}

void
raft_send(struct raft *r, uint32_t to, struct raft_msg *m)
{
	raft_flush(r);
	struct raft_action *a = raft_push_action(r, RAFT_ACT_SEND);
	a->to = to;
	seal(r, m, &a->bytes);
}

void
raft_broadcast(struct raft *r, struct raft_msg *m)
{
	raft_flush(r);
	struct raft_action *a = raft_push_action(r, RAFT_ACT_BROADCAST);
	seal(r, m, &a->bytes);
}

static bool
verify_msg(struct raft *r, uint32_t from, const uint8_t *msg, size_t len)
{
	size_t body = len - RAFT_SIG_LEN;
	uint8_t small[512];
	uint8_t *pre = body + sizeof(sign_prefix) <= sizeof(small)
	                       ? small
	                       : malloc(body + sizeof(sign_prefix));
	if (pre == NULL)
		return false; /* dropped: the sender retransmits */
	memcpy(pre, sign_prefix, sizeof(sign_prefix));
	memcpy(pre + sizeof(sign_prefix), msg, body);
	bool ok = r->host.verify(r->host.arg, from, pre, body + sizeof(sign_prefix), msg + body);
	if (pre != small)
		free(pre);
	return ok;
}

void
raft_sign_vote(struct raft *r, uint64_t height, uint64_t term, const uint8_t digest[RAFT_HASH_LEN],
               uint8_t sig[RAFT_SIG_LEN])
{
	uint8_t pre[RAFT_VOTE_PREIMAGE_LEN];
	raft_vote_preimage(height, term, digest, pre);
	r->host.sign(r->host.arg, pre, sizeof(pre), sig);
}

bool
raft_verify_vote(struct raft *r, uint32_t from, uint64_t height, uint64_t term,
                 const uint8_t digest[RAFT_HASH_LEN], const uint8_t sig[RAFT_SIG_LEN])
{
	if (from >= r->cfg.n)
		return false;
	uint8_t pre[RAFT_VOTE_PREIMAGE_LEN];
	raft_vote_preimage(height, term, digest, pre);
	return r->host.verify(r->host.arg, from, pre, sizeof(pre), sig);
}

/* ---- randomized timeouts (paper 5.2), from a PRNG seeded by the config ---- */

static uint64_t
splitmix(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t
raft_random_timeout(struct raft *r)
{
	uint64_t base = r->cfg.election_timeout_ms;
	return base + splitmix(&r->rng) % base;
}

/* ---- lifecycle ---- */

int
raft_new(struct raft **out, const struct raft_config *cfg, const struct raft_host *host,
         uint64_t height, const uint8_t digest[RAFT_HASH_LEN], uint64_t now_ms)
{
	(void)digest; /* the tip is the host's: the core knows it by height */
	*out = NULL;
	if (cfg->n < 1 || cfg->n > RAFT_MAX_VALIDATORS || cfg->self >= cfg->n ||
	    cfg->election_timeout_ms == 0 || cfg->heartbeat_ms == 0 ||
	    cfg->heartbeat_ms >= cfg->election_timeout_ms || cfg->max_block_bytes == 0 ||
	    cfg->max_block_bytes > UINT32_MAX / 2 || cfg->max_msg_bytes == 0 ||
	    cfg->max_msg_bytes > UINT32_MAX / 2 || cfg->max_inflight == 0 ||
	    height >= RAFT_MAX_INDEX || host->sign == NULL || host->verify == NULL ||
	    host->block_hash == NULL)
		return CH_E_INVALID;
	struct raft *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return CH_E_NOMEM;
	r->peers = calloc(cfg->n, sizeof(*r->peers));
	if (r->peers == NULL) {
		free(r);
		return CH_E_NOMEM;
	}
	r->cfg = *cfg;
	if (r->cfg.max_inflight > RAFT_MAX_INFLIGHT)
		r->cfg.max_inflight = RAFT_MAX_INFLIGHT;
	r->host = *host;
	r->quorum = raft_quorum(cfg->n);
	/* at least one block fits in an AppendEntries, whatever max_msg_bytes says */
	size_t one = 17 + RAFT_HASH_LEN + 4 + cfg->max_block_bytes;
	r->entry_budget = cfg->max_msg_bytes > one ? cfg->max_msg_bytes : one;
	r->max_wire = 11 + 6 * 8 + 1 + 1 + RAFT_MAX_PENDING * (8 + RAFT_HASH_LEN) + 2 +
	              r->entry_budget + 17 * RAFT_MAX_ENTRIES + 1 +
	              RAFT_MAX_CERTS * (18 + (size_t)cfg->n * (2 + RAFT_SIG_LEN)) + RAFT_SIG_LEN;
	r->rng = cfg->seed ^ (UINT64_C(0x5851f42d4c957f2d) * (cfg->self + 1));
	r->now = now_ms;
	r->voted_for = RAFT_NO_LEADER;
	r->leader = RAFT_NO_LEADER;
	r->role = RAFT_FOLLOWER;
	r->host_height = r->emitted = height;
	/* the empty chain is trivially committed at index 0; past it, wait for a record */
	r->anchored = height == 0;
	raft_log_init(&r->log, 0, 0, height);
	r->election_deadline = now_ms + raft_random_timeout(r);
	*out = r;
	return 0;
}

void
raft_free(struct raft *r)
{
	if (r == NULL)
		return;
	raft_log_close(&r->log);
	for (size_t i = r->head; i < r->nacts; i++)
		raft_action_close(&r->acts[i]);
	free(r->acts);
	free(r->peers);
	free(r);
}

/* ---- inputs ---- */

static void
advance_clock(struct raft *r, uint64_t now_ms)
{
	if (now_ms > r->now)
		r->now = now_ms;
}

enum raft_input
raft_receive(struct raft *r, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	if (msg == NULL || len > r->max_wire)
		return RAFT_MALFORMED;
	struct raft_msg *m = malloc(sizeof(*m));
	if (m == NULL)
		return RAFT_ACCEPTED; /* dropped: the sender retransmits */
	enum raft_input res = RAFT_ACCEPTED;
	if (raft_msg_decode(msg, len, r->cfg.n, r->cfg.max_block_bytes, m) != 0)
		res = RAFT_MALFORMED;
	else if (m->from >= r->cfg.n || m->from == r->cfg.self || !verify_msg(r, m->from, msg, len))
		res = RAFT_BAD_SIGNATURE;
	if (res != RAFT_ACCEPTED) {
		free(m);
		return res;
	}
	advance_clock(r, now_ms);
	switch (m->type) {
	case RAFT_MSG_PREVOTE:
		raft_on_prevote(r, m);
		break;
	case RAFT_MSG_PREVOTE_RESP:
		raft_on_prevote_resp(r, m);
		break;
	case RAFT_MSG_VOTE:
		raft_on_vote(r, m);
		break;
	case RAFT_MSG_VOTE_RESP:
		raft_on_vote_resp(r, m);
		break;
	case RAFT_MSG_APPEND:
		raft_on_append(r, m);
		break;
	case RAFT_MSG_APPEND_RESP:
		raft_on_append_resp(r, m);
		break;
	}
	free(m);
	raft_note_role(r);
	return RAFT_ACCEPTED;
}

void
raft_tick(struct raft *r, uint64_t now_ms)
{
	advance_clock(r, now_ms);
	if (r->fetching && r->now >= r->fetch_deadline)
		r->fetching = false; /* the next FETCH flag from the leader asks again */
	if (r->role == RAFT_LEADER) {
		raft_check_quorum(r);
		if (r->role == RAFT_LEADER)
			raft_leader_tick(r);
	} else {
		raft_election_tick(r);
	}
	raft_note_role(r);
}

bool
raft_can_propose(const struct raft *r)
{
	return r->role == RAFT_LEADER && r->anchored && r->commit_index >= r->noop_index &&
	       raft_log_last_height(&r->log) == r->host_height && r->emitted == r->host_height;
}

void
raft_propose(struct raft *r, const uint8_t digest[RAFT_HASH_LEN], const uint8_t *block, size_t len,
             uint64_t now_ms)
{
	advance_clock(r, now_ms);
	uint8_t h[RAFT_HASH_LEN];
	if (!raft_can_propose(r) || block == NULL || len == 0 || len > r->cfg.max_block_bytes ||
	    !r->host.block_hash(r->host.arg, block, len, h) ||
	    memcmp(h, digest, RAFT_HASH_LEN) != 0)
		return;
	struct raft_entry *e = raft_log_append(&r->log);
	e->term = r->term;
	e->height = r->host_height + 1;
	e->is_block = true;
	memcpy(e->digest, digest, RAFT_HASH_LEN);
	if ((e->block = malloc(len)) == NULL)
		abort();
	memcpy(e->block, block, len);
	e->block_len = len;
	r->dirty = true;
	raft_flush(r); /* durable before the leader counts itself (paper 5.3) */
	raft_sign_own_votes(r);
	raft_advance(r); /* a single validator commits on its own */
	raft_replicate_all(r, false);
}

void
raft_committed(struct raft *r, uint64_t height, uint64_t now_ms)
{
	advance_clock(r, now_ms);
	if (height <= r->host_height || height >= RAFT_MAX_INDEX)
		return;
	raft_adopt_tip(r, height);
	raft_note_role(r);
}

void
raft_synced(struct raft *r, uint64_t height, const uint8_t digest[RAFT_HASH_LEN],
            uint64_t cert_term, const struct raft_vote *cert, uint32_t ncert, uint64_t now_ms)
{
	/* the blocks and their certificates are the host's: the core needs the height */
	(void)digest;
	(void)cert_term;
	(void)cert;
	(void)ncert;
	advance_clock(r, now_ms);
	r->fetching = false;
	if (height <= r->host_height || height >= RAFT_MAX_INDEX)
		return;
	raft_adopt_tip(r, height);
	raft_note_role(r);
}

/* ---- introspection ---- */

uint64_t
raft_term(const struct raft *r)
{
	return r->term;
}

enum raft_role
raft_role(const struct raft *r)
{
	return r->role;
}

uint32_t
raft_leader(const struct raft *r)
{
	return r->leader;
}

uint64_t
raft_height(const struct raft *r)
{
	return r->host_height;
}

uint64_t
raft_log_first(const struct raft *r)
{
	return r->log.base_index;
}

uint64_t
raft_log_last(const struct raft *r)
{
	return raft_log_last_index(&r->log);
}

uint64_t
raft_commit_index(const struct raft *r)
{
	return r->commit_index;
}

bool
raft_log_entry(const struct raft *r, uint64_t index, struct raft_entry_info *out)
{
	const struct raft_entry *e = raft_log_get(&r->log, index);
	if (e == NULL)
		return false;
	out->index = index;
	out->term = e->term;
	out->height = e->height;
	out->is_block = e->is_block;
	memcpy(out->digest, e->digest, RAFT_HASH_LEN);
	return true;
}
