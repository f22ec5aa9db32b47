/*
 * The normal case of PBFT (Castro & Liskov, TOCS 2002, section 4.3) for one
 * height in flight, plus the plumbing every part of the core shares:
 * actions, signing, the future-message buffer, timers and state transfer.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "pbft/pbft_internal.h"


/* ---- quorum arithmetic (section 4.1, generalised to any n) ---- */

uint32_t
pbft_faults(uint32_t n)
{
	assert(n >= 1);
	return (n - 1) / 3;
}

uint32_t
pbft_quorum(uint32_t n)
{
	return (n + pbft_faults(n) + 2) / 2; /* ceil((n + f + 1) / 2) */
}

uint32_t
pbft_primary(uint64_t view, uint32_t n)
{
	assert(n >= 1);
	return (uint32_t)(view % n);
}

/* ---- actions ---- */

static struct pbft_action *
push_action(struct pbft *p, uint8_t type)
{
	if (p->head > 0 && p->head == p->nacts) {
		p->head = p->nacts = 0;
	}
	if (p->nacts == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct pbft_action *a = realloc(p->acts, cap * sizeof(*a));
		if (a == NULL)
			abort(); /* the core cannot lose an action and stay safe */
		p->acts = a;
		p->cap = cap;
	}
	struct pbft_action *a = &p->acts[p->nacts++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	return a;
}

void
pbft_action_close(struct pbft_action *a)
{
	if (a == NULL)
		return;
	pbft_msg_close(&a->msg);
	free(a->block);
	free(a->cert);
	ch_buf_close(&a->record);
	memset(a, 0, sizeof(*a));
}

bool
pbft_next_action(struct pbft *p, struct pbft_action *a)
{
	if (p->head == p->nacts)
		return false;
	*a = p->acts[p->head++];
	return true;
}

/* pbft_emit_msg queues m for sending; ownership of m's buffers moves to the action. */
void
pbft_emit_msg(struct pbft *p, int type, uint32_t to, struct pbft_msg *m)
{
	struct pbft_action *a = push_action(p, (uint8_t)type);
	a->to = to;
	a->msg = *m;
	memset(m, 0, sizeof(*m));
}

void
pbft_emit_persist(struct pbft *p)
{
	struct pbft_action *a = push_action(p, PBFT_ACT_PERSIST);
	ch_buf_init(&a->record);
	pbft_record_encode(p, &a->record);
	if (!ch_buf_ok(&a->record))
		abort();
}

void
pbft_emit_view(struct pbft *p)
{
	struct pbft_action *a = push_action(p, PBFT_ACT_VIEW);
	a->view = p->view;
	a->in_view_change = p->in_vc;
}

void
pbft_emit_diverged(struct pbft *p, uint64_t height)
{
	struct pbft_action *a = push_action(p, PBFT_ACT_DIVERGED);
	a->height = height;
}

/* ---- signatures ---- */

void
pbft_sign(struct pbft *p, struct pbft_msg *m)
{
	struct ch_buf b;
	ch_buf_init(&b);
	m->from = p->cfg.self;
	pbft_msg_signed_bytes(m, &b);
	if (!ch_buf_ok(&b))
		abort();
	p->host.sign(p->host.arg, b.data, b.len, m->sig);
	ch_buf_close(&b);
}

bool
pbft_verify(struct pbft *p, const struct pbft_msg *m)
{
	/* a commit vote is by the set of its height; everything else by this core's */
	uint64_t first = p->cfg.first_height > 1 ? p->cfg.first_height : 1;
	uint64_t h = m->type == PBFT_COMMIT ? m->height : first;
	uint32_t n = m->type == PBFT_COMMIT ? pbft_set_n(p, h) : p->cfg.n;
	struct ch_buf b;
	ch_buf_init(&b);
	pbft_msg_signed_bytes(m, &b);
	bool ok = ch_buf_ok(&b) && m->from < n &&
		  p->host.verify(p->host.arg, h, m->from, b.data, b.len, m->sig);
	ch_buf_close(&b);
	return ok;
}

bool
pbft_verify_vote(struct pbft *p, uint8_t type, uint32_t from, uint64_t view, uint64_t height,
		 const uint8_t digest[PBFT_HASH_LEN], const uint8_t sig[PBFT_SIG_LEN])
{
	struct pbft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.from = from;
	m.view = view;
	m.height = height;
	memcpy(m.digest, digest, PBFT_HASH_LEN);
	memcpy(m.sig, sig, PBFT_SIG_LEN);
	return pbft_verify(p, &m);
}

/* ---- lifecycle ---- */

int
pbft_new(struct pbft **out, const struct pbft_config *cfg, const struct pbft_host *host,
	 uint64_t height, const uint8_t digest[PBFT_HASH_LEN], uint64_t now_ms)
{
	if (cfg->n < 1 || cfg->n > PBFT_MAX_VALIDATORS || cfg->self >= cfg->n ||
	    cfg->view_timeout_ms == 0 || cfg->checkpoint_interval == 0 ||
	    cfg->base_n > PBFT_MAX_VALIDATORS ||
	    (cfg->first_height > 1 && height + 1 < cfg->first_height))
		return CH_E_INVALID;
	struct pbft *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return CH_E_NOMEM;
	p->future = calloc(PBFT_FUTURE_PER_VALIDATOR * cfg->n, sizeof(*p->future));
	if (p->future == NULL) {
		free(p);
		return CH_E_NOMEM;
	}
	p->cfg = *cfg;
	if (p->cfg.max_view_timeout_ms < p->cfg.view_timeout_ms)
		p->cfg.max_view_timeout_ms = p->cfg.view_timeout_ms;
	p->host = *host;
	p->f = pbft_faults(cfg->n);
	p->quorum = pbft_quorum(cfg->n);
	p->end = UINT64_MAX;
	p->height = height;
	memcpy(p->hash, digest, PBFT_HASH_LEN);
	p->now = now_ms;
	p->last_progress = now_ms;
	p->last_retransmit = now_ms;
	*out = p;
	return 0;
}

void
pbft_reset_slot(struct pbft *p)
{
	free(p->slot.block);
	memset(&p->slot, 0, sizeof(p->slot));
}

static void
clear_prepared(struct pbft *p)
{
	free(p->prepared.block);
	memset(&p->prepared, 0, sizeof(p->prepared));
}

void
pbft_free(struct pbft *p)
{
	if (p == NULL)
		return;
	pbft_reset_slot(p);
	clear_prepared(p);
	for (uint32_t i = 0; i < p->cfg.n; i++)
		if (p->has_vc[i])
			pbft_msg_close(&p->vc[i]);
	if (p->has_nv)
		pbft_msg_close(&p->nv);
	for (size_t i = 0; i < p->nfuture; i++)
		pbft_msg_close(&p->future[i]);
	free(p->future);
	for (size_t i = p->head; i < p->nacts; i++)
		pbft_action_close(&p->acts[i]);
	free(p->acts);
	free(p);
}

/* ---- introspection ---- */

uint64_t
pbft_view(const struct pbft *p)
{
	return p->view;
}

uint64_t
pbft_height(const struct pbft *p)
{
	return p->height;
}

bool
pbft_in_view_change(const struct pbft *p)
{
	return p->in_vc;
}

uint64_t
pbft_stable_checkpoint(const struct pbft *p)
{
	return p->stable;
}

/* ---- timers ---- */

static uint64_t
current_timeout(const struct pbft *p)
{
	uint64_t t = p->cfg.view_timeout_ms;
	for (uint32_t i = 0; i < p->backoff && t < p->cfg.max_view_timeout_ms; i++)
		t *= 2;
	return t < p->cfg.max_view_timeout_ms ? t : p->cfg.max_view_timeout_ms;
}

/*
 * pbft_arm_timer keeps the request timer (section 4.5.2) running while this
 * backup waits for work to commit, and the view-change timer while a view
 * change is under way.
 */
void
pbft_arm_timer(struct pbft *p)
{
	bool waiting = p->slot.has_pp ||
		       (p->pending && pbft_primary(p->view, p->cfg.n) != p->cfg.self);
	if (p->in_vc) {
		/*
		 * The view-change timer runs only once a quorum has left this
		 * view (4.5.2), counting those already in later views; a replica
		 * that got ahead alone waits for the others instead of running
		 * further ahead, one timeout ahead of them for ever.
		 */
		uint32_t k = 0;
		for (uint32_t i = 0; i < p->cfg.n; i++)
			k += p->has_vc[i] && p->vc[i].view >= p->view;
		waiting = k >= p->quorum;
	}
	if (!waiting || p->cfg.n == 1)
		p->deadline = 0;
	else if (p->deadline == 0)
		p->deadline = p->now + current_timeout(p);
}

static void
progress(struct pbft *p)
{
	p->backoff = 0;
	p->deadline = 0;
	p->last_progress = p->now;
	pbft_arm_timer(p);
}

/* ---- state transfer ---- */

/*
 * claimed_height: the highest height at least f + 1 other validators claim
 * to have committed; one of them is honest, so it is committed.
 */
static uint64_t
claimed_height(const struct pbft *p)
{
	uint64_t top[PBFT_MAX_VALIDATORS]; /* the f + 1 largest claims, descending */
	uint32_t k = p->f + 1, have = 0;
	for (uint32_t i = 0; i < p->cfg.n; i++) {
		if (i == p->cfg.self)
			continue;
		uint64_t h = p->peer_height[i];
		uint32_t j = have < k ? have++ : k;
		if (j == k && h <= top[k - 1])
			continue;
		if (j == k)
			j = k - 1;
		while (j > 0 && top[j - 1] < h) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = h;
	}
	return have == k ? top[k - 1] : 0;
}

/*
 * fetch_check asks the host for state transfer when a height above ours
 * is known to be committed, from a validator likely to have it, rotating
 * through them on every retry (a faulty one may serve nothing).
 */
static void
fetch_check(struct pbft *p)
{
	if (p->goal <= p->height || (p->fetching && p->now < p->fetch_deadline))
		return;
	/*
	 * Round robin over those that claimed anything above our height (a
	 * faulty one may claim the most and serve nothing), else over all.
	 */
	uint32_t n = p->cfg.n, pick = UINT32_MAX, any = UINT32_MAX;
	for (uint32_t k = 0; k < n && pick == UINT32_MAX; k++) {
		uint32_t i = (p->fetch_next + k) % n;
		if (i == p->cfg.self)
			continue;
		if (p->peer_height[i] > p->height)
			pick = i;
		else if (any == UINT32_MAX)
			any = i;
	}
	if (pick == UINT32_MAX)
		pick = any;
	if (pick == UINT32_MAX)
		return; /* n = 1 */
	p->fetch_next = pick + 1;
	p->fetching = true;
	p->fetch_deadline = p->now + p->cfg.view_timeout_ms;
	struct pbft_action *a = push_action(p, PBFT_ACT_FETCH);
	a->to = pick;
	a->height = p->goal;
}

/*
 * pbft_learn_height notes that validator from has committed height (a
 * lower bound). proven: a commit certificate showed it; otherwise it is
 * from's word, and only f + 1 such words make a height worth fetching, so
 * that faulty validators cannot keep a replica busy chasing heights.
 */
void
pbft_learn_height(struct pbft *p, uint32_t from, uint64_t height, bool proven)
{
	if (from < p->cfg.n && from != p->cfg.self && height > p->peer_height[from])
		p->peer_height[from] = height;
	if (proven && height > p->goal)
		p->goal = height;
	uint64_t c = claimed_height(p);
	if (c > p->goal)
		p->goal = c;
	fetch_check(p);
}

/*
 * note_ahead keeps the latest COMMIT of each validator that the slot cannot
 * use; a quorum of matching ones is a commit certificate for a height this
 * replica has not reached, so that height is worth fetching.
 */
static void
note_ahead(struct pbft *p, const struct pbft_msg *m)
{
	/*
	 * The latest one wins even if lower: a faulty validator could otherwise
	 * pin its entry with a vote for a height far ahead, and a relayed
	 * certificate may need its real vote.
	 */
	struct pbft_ahead *a = &p->ahead[m->from];
	a->has = true;
	a->height = m->height;
	a->view = m->view;
	memcpy(a->digest, m->digest, PBFT_HASH_LEN);
	memcpy(a->sig, m->sig, PBFT_SIG_LEN);
	struct pbft_vote cert[PBFT_MAX_VALIDATORS];
	uint32_t k = 0;
	for (uint32_t i = 0; i < p->cfg.n; i++) {
		const struct pbft_ahead *b = &p->ahead[i];
		if (b->has && b->height == a->height && b->view == a->view &&
		    memcmp(b->digest, a->digest, PBFT_HASH_LEN) == 0) {
			cert[k].from = i;
			memcpy(cert[k++].sig, b->sig, PBFT_SIG_LEN);
		}
	}
	uint64_t height = m->height;
	/* a COMMIT at h comes from a replica that committed h - 1 */
	pbft_learn_height(p, m->from, height - 1, false);
	if (k >= p->quorum) {
		pbft_commit_known(p, height, a->view, a->digest, cert, k);
		pbft_learn_height(p, m->from, height, true);
	}
}

/*
 * pbft_help_laggard sends validator to, which showed a committed height
 * below ours, the commit certificate of our tip as the COMMIT messages of
 * its signers, so that it can prove to itself that it is behind and fetch
 * (at most once per half timeout per validator).
 */
void
pbft_help_laggard(struct pbft *p, uint32_t to)
{
	uint64_t every = p->cfg.view_timeout_ms / 2 ? p->cfg.view_timeout_ms / 2 : 1;
	if (to >= p->cfg.n || to == p->cfg.self || p->height == 0 || p->ncert == 0 ||
	    (p->last_help[to] != 0 && p->now < p->last_help[to] + every))
		return;
	p->last_help[to] = p->now ? p->now : 1;
	for (uint32_t i = 0; i < p->ncert; i++) {
		struct pbft_msg m;
		memset(&m, 0, sizeof(m));
		m.type = PBFT_COMMIT;
		m.from = p->cert[i].from;
		m.view = p->cert_view;
		m.height = p->height;
		memcpy(m.digest, p->hash, PBFT_HASH_LEN);
		memcpy(m.sig, p->cert[i].sig, PBFT_SIG_LEN);
		pbft_emit_msg(p, PBFT_ACT_SEND, to, &m);
	}
}

/* ---- messages for later heights ---- */

void
pbft_future_add(struct pbft *p, const struct pbft_msg *m)
{
	size_t cap = PBFT_FUTURE_PER_VALIDATOR * p->cfg.n;
	size_t mine = 0;
	for (size_t i = 0; i < p->nfuture; i++)
		mine += p->future[i].from == m->from;
	if (mine >= PBFT_FUTURE_PER_VALIDATOR || p->nfuture == cap) {
		/* Make room by dropping the oldest message (of this sender if it is over its share). */
		size_t victim = 0;
		for (size_t i = 0; i < p->nfuture; i++)
			if (mine < PBFT_FUTURE_PER_VALIDATOR || p->future[i].from == m->from) {
				victim = i;
				break;
			}
		pbft_msg_close(&p->future[victim]);
		memmove(&p->future[victim], &p->future[victim + 1],
			(p->nfuture - victim - 1) * sizeof(*p->future));
		p->nfuture--;
	}
	if (pbft_msg_copy(&p->future[p->nfuture], m) == 0)
		p->nfuture++;
}

void
pbft_future_replay(struct pbft *p)
{
	if (p->host_behind) {
		p->replay_due = true; /* the host has not executed our COMMIT yet */
		return;
	}
	p->replay_due = false;
	if (p->replaying)
		return;
	p->replaying = true;
	bool again = true;
	while (again && p->nfuture > 0) {
		size_t n = p->nfuture;
		struct pbft_msg *msgs = malloc(n * sizeof(*msgs));
		if (msgs == NULL)
			break;
		memcpy(msgs, p->future, n * sizeof(*msgs));
		p->nfuture = 0;
		uint64_t before = p->height;
		for (size_t i = 0; i < n; i++) {
			if (msgs[i].height > p->height && msgs[i].height <= p->end) {
				if (p->host_behind)
					pbft_future_add(p, &msgs[i]); /* for the next call */
				else
					pbft_dispatch(p, &msgs[i]);
			}
			pbft_msg_close(&msgs[i]);
		}
		free(msgs);
		again = p->height > before && !p->host_behind;
	}
	p->replaying = false;
}

/*
 * pbft_enter starts every call from the host, which has carried out the
 * actions of the previous calls by now: messages held back until the
 * host executed a commit can be handled.
 */
void
pbft_enter(struct pbft *p, uint64_t now_ms)
{
	assert(p->head == p->nacts && "the host carries out every action before calling again");
	if (now_ms > p->now)
		p->now = now_ms;
	p->host_behind = false;
	if (p->replay_due)
		pbft_future_replay(p);
}

/* ---- the normal case ---- */

/*
 * pbft_send_vote signs and broadcasts a PREPARE or COMMIT. A COMMIT is
 * persisted first, with the prepared certificate it stands on, so that a
 * restart can never sign a different digest for the same (view, height)
 * nor forget a block that may have committed. A PREPARE is not: the view
 * fence (pbft_internal.h) keeps a restarted replica from signing another.
 */
void
pbft_send_vote(struct pbft *p, uint8_t type, uint64_t view, uint64_t height,
	       const uint8_t digest[PBFT_HASH_LEN])
{
	struct pbft_signed *last = type == PBFT_PREPARE ? &p->prepare_vote : &p->commit_vote;
	if (last->has && last->view == view && last->height == height &&
	    memcmp(last->digest, digest, PBFT_HASH_LEN) != 0)
		return; /* would equivocate */
	if (type == PBFT_PREPARE && pbft_fenced(p, view))
		return; /* may have prepared another digest here before a restart */
	last->has = true;
	last->view = view;
	last->height = height;
	memcpy(last->digest, digest, PBFT_HASH_LEN);
	if (type == PBFT_COMMIT)
		pbft_emit_persist(p);
	struct pbft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.view = view;
	m.height = height;
	memcpy(m.digest, digest, PBFT_HASH_LEN);
	pbft_sign(p, &m);
	if (height == p->height + 1 && view == p->view) {
		struct pbft_held *h = type == PBFT_PREPARE ? &p->slot.prepare[p->cfg.self]
							   : &p->slot.commit[p->cfg.self];
		h->has = true;
		h->view = view;
		memcpy(h->digest, digest, PBFT_HASH_LEN);
		memcpy(h->sig, m.sig, PBFT_SIG_LEN);
	}
	pbft_emit_msg(p, PBFT_ACT_BROADCAST, 0, &m);
}

static uint32_t
count_votes(const struct pbft *p, const struct pbft_held *v, uint32_t skip)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < p->cfg.n; i++)
		if (i != skip && v[i].has && v[i].view == p->slot.view &&
		    memcmp(v[i].digest, p->slot.digest, PBFT_HASH_LEN) == 0)
			k++;
	return k;
}

/*
 * commit_block makes block (taken over) with its certificate the next
 * committed block and tells the host to execute it.
 */
static void
commit_block(struct pbft *p, uint64_t view, const uint8_t digest[PBFT_HASH_LEN], uint8_t *block,
	     size_t len, const struct pbft_vote *cert, uint32_t ncert)
{
	struct pbft_action *a = push_action(p, PBFT_ACT_COMMIT);
	a->height = p->height + 1;
	a->view = view;
	memcpy(a->digest, digest, PBFT_HASH_LEN);
	a->block = block;
	a->block_len = len;
	a->cert = malloc((ncert ? ncert : 1) * sizeof(*a->cert));
	if (a->cert == NULL)
		abort();
	memcpy(a->cert, cert, ncert * sizeof(*cert));
	a->ncert = ncert;
	memcpy(p->cert, cert, ncert * sizeof(*cert));
	p->ncert = ncert;
	p->height++;
	memcpy(p->hash, digest, PBFT_HASH_LEN);
	p->cert_view = view;
	pbft_reset_slot(p);
	if (p->prepared.has && p->prepared.height <= p->height)
		clear_prepared(p);
	if (p->height >= p->goal)
		p->fetching = false;
	progress(p);
	/*
	 * Messages for the next height wait for the next call: validating a
	 * block there needs the host to have executed this one.
	 */
	p->host_behind = true;
	pbft_future_replay(p);
}

static void
commit_slot(struct pbft *p)
{
	struct pbft_slot *s = &p->slot;
	struct pbft_vote cert[PBFT_MAX_VALIDATORS];
	uint32_t k = 0;
	for (uint32_t i = 0; i < p->cfg.n; i++) {
		const struct pbft_held *h = &s->commit[i];
		if (h->has && h->view == s->view && memcmp(h->digest, s->digest, PBFT_HASH_LEN) == 0) {
			cert[k].from = i;
			memcpy(cert[k++].sig, h->sig, PBFT_SIG_LEN);
		}
	}
	uint8_t digest[PBFT_HASH_LEN];
	memcpy(digest, s->digest, PBFT_HASH_LEN);
	uint8_t *block = s->block;
	s->block = NULL;
	commit_block(p, s->view, digest, block, s->block_len, cert, k);
}

/*
 * pbft_commit_known commits the next height from a commit certificate seen
 * elsewhere (a VIEW-CHANGE, a quorum of COMMITs) when this replica holds
 * the block: prepared here, or pre-prepared in the slot. Without it, a
 * block whose certificate only faulty replicas collected could be fetched
 * from nobody, and every NEW-VIEW would start above it. cert must be valid.
 */
void
pbft_commit_known(struct pbft *p, uint64_t height, uint64_t view,
		  const uint8_t digest[PBFT_HASH_LEN], const struct pbft_vote *cert, uint32_t ncert)
{
	if (height != p->height + 1 || ncert < p->quorum)
		return;
	const uint8_t *src = NULL;
	size_t len = 0;
	if (p->slot.has_pp && memcmp(p->slot.digest, digest, PBFT_HASH_LEN) == 0) {
		src = p->slot.block;
		len = p->slot.block_len;
	} else if (p->prepared.has && p->prepared.height == height &&
		   memcmp(p->prepared.digest, digest, PBFT_HASH_LEN) == 0) {
		src = p->prepared.block;
		len = p->prepared.block_len;
	}
	if (src == NULL || len == 0)
		return;
	uint8_t *block = malloc(len);
	if (block == NULL)
		abort();
	memcpy(block, src, len);
	commit_block(p, view, digest, block, len, cert, ncert);
}

/* check_slot moves the in-flight height forward: prepared -> COMMIT, committed -> execute. */
static void
check_slot(struct pbft *p)
{
	struct pbft_slot *s = &p->slot;
	if (!s->has_pp || p->in_vc || s->view != p->view)
		return;
	uint32_t primary = pbft_primary(s->view, p->cfg.n);
	uint32_t prepares = count_votes(p, s->prepare, primary);
	if (!s->sent_commit && prepares + 1 >= p->quorum) {
		/* prepared(m, v, n, i): keep the certificate for view changes (4.4) */
		struct pbft_prepared *pc = &p->prepared;
		clear_prepared(p);
		pc->has = true;
		pc->view = s->view;
		pc->height = p->height + 1;
		memcpy(pc->digest, s->digest, PBFT_HASH_LEN);
		memcpy(pc->pp_sig, s->pp_sig, PBFT_SIG_LEN);
		for (uint32_t i = 0; i < p->cfg.n; i++) {
			const struct pbft_held *h = &s->prepare[i];
			if (i != primary && h->has && h->view == s->view &&
			    memcmp(h->digest, s->digest, PBFT_HASH_LEN) == 0) {
				pc->prep[pc->nprep].from = i;
				memcpy(pc->prep[pc->nprep++].sig, h->sig, PBFT_SIG_LEN);
			}
		}
		if (s->block_len > 0) {
			pc->block = malloc(s->block_len);
			if (pc->block == NULL)
				abort();
			memcpy(pc->block, s->block, s->block_len);
			pc->block_len = s->block_len;
		}
		s->sent_commit = true;
		pbft_send_vote(p, PBFT_COMMIT, s->view, p->height + 1, s->digest);
	}
	/*
	 * 2f+1 matching commits certify the block even if this replica missed
	 * some prepares: f+1 honest replicas prepared it (4.3).
	 */
	if (count_votes(p, s->commit, UINT32_MAX) >= p->quorum)
		commit_slot(p);
}

void
pbft_on_preprepare(struct pbft *p, const struct pbft_msg *m)
{
	struct pbft_slot *s = &p->slot;
	if (m->from != pbft_primary(m->view, p->cfg.n) || m->view != p->view || p->in_vc)
		return;
	if (m->height <= p->height) {
		pbft_help_laggard(p, m->from); /* a primary proposing what we committed is behind */
		return;
	}
	if (m->height < p->nv_height)
		return; /* committed before this view began: the NEW-VIEW proved it */
	if (m->height > p->height + 1 || p->host_behind) {
		pbft_future_add(p, m);
		if (p->host_behind)
			p->replay_due = true;
		else
			pbft_learn_height(p, m->from, m->height - 1, false);
		return;
	}
	if (s->has_pp) {
		if (memcmp(s->digest, m->digest, PBFT_HASH_LEN) != 0)
			pbft_start_view_change(p, p->view + 1); /* equivocating primary */
		return;
	}
	if (p->nv_fixed && m->height == p->nv_height &&
	    memcmp(m->digest, p->nv_digest, PBFT_HASH_LEN) != 0) {
		/* the NEW-VIEW re-proposed another block here: the primary equivocates */
		pbft_start_view_change(p, p->view + 1);
		return;
	}
	uint8_t h[PBFT_HASH_LEN];
	if (m->block_len == 0 || !p->host.block_hash(p->host.arg, m->block, m->block_len, h) ||
	    memcmp(h, m->digest, PBFT_HASH_LEN) != 0 ||
	    !p->host.validate(p->host.arg, m->height, pbft_primary(m->view, p->cfg.n), m->digest,
			      m->block, m->block_len)) {
		/* A signed invalid proposal: the primary is faulty (4.5.2). */
		pbft_start_view_change(p, p->view + 1);
		return;
	}
	s->has_pp = true;
	s->view = m->view;
	memcpy(s->digest, m->digest, PBFT_HASH_LEN);
	memcpy(s->pp_sig, m->sig, PBFT_SIG_LEN);
	s->block = malloc(m->block_len);
	if (s->block == NULL)
		abort();
	memcpy(s->block, m->block, m->block_len);
	s->block_len = m->block_len;
	pbft_arm_timer(p);
	if (p->cfg.self != m->from && !s->sent_prepare) {
		s->sent_prepare = true;
		pbft_send_vote(p, PBFT_PREPARE, m->view, m->height, m->digest);
	}
	check_slot(p);
}

static void
on_vote(struct pbft *p, const struct pbft_msg *m)
{
	if (m->height <= p->height) {
		if (m->height < p->height)
			pbft_help_laggard(p, m->from); /* it still works on a height we passed */
		return;
	}
	bool mine = m->view == p->view && !p->in_vc;
	if (m->type == PBFT_PREPARE && m->from == pbft_primary(m->view, p->cfg.n)) {
		/* the primary's PRE-PREPARE stands for its PREPARE */
	} else if (mine && m->height == p->height + 1) {
		struct pbft_held *h = m->type == PBFT_PREPARE ? &p->slot.prepare[m->from]
							      : &p->slot.commit[m->from];
		h->has = true;
		h->view = m->view;
		memcpy(h->digest, m->digest, PBFT_HASH_LEN);
		memcpy(h->sig, m->sig, PBFT_SIG_LEN);
		check_slot(p);
	} else if (mine) {
		pbft_future_add(p, m);
	}
	if (m->height <= p->height)
		return;
	if (m->type == PBFT_COMMIT)
		note_ahead(p, m);
	else if (m->height > p->height + 1)
		pbft_learn_height(p, m->from, m->height - 1, false);
}

/*
 * note_view tracks views seen in normal-case messages; f+1 validators in a
 * later view mean at least one honest one is there, so a replica that
 * missed the NEW-VIEW joins with a VIEW-CHANGE (and gets the NEW-VIEW back).
 */
static void
note_view(struct pbft *p, const struct pbft_msg *m)
{
	if (m->view <= p->view || m->type > PBFT_COMMIT)
		return;
	if (m->view > p->seen_view[m->from])
		p->seen_view[m->from] = m->view;
	uint32_t k = 0;
	uint64_t lowest = UINT64_MAX;
	for (uint32_t i = 0; i < p->cfg.n; i++)
		if (p->seen_view[i] > p->view) {
			k++;
			if (p->seen_view[i] < lowest)
				lowest = p->seen_view[i];
		}
	if (k >= p->f + 1)
		pbft_start_view_change(p, lowest);
}

void
pbft_dispatch(struct pbft *p, const struct pbft_msg *m)
{
	switch (m->type) {
	case PBFT_PREPREPARE:
		note_view(p, m);
		pbft_on_preprepare(p, m);
		break;
	case PBFT_PREPARE:
	case PBFT_COMMIT:
		note_view(p, m);
		on_vote(p, m);
		break;
	case PBFT_CHECKPOINT:
		pbft_on_checkpoint(p, m);
		break;
	case PBFT_VIEWCHANGE:
		pbft_on_viewchange(p, m);
		break;
	case PBFT_NEWVIEW:
		pbft_on_newview(p, m);
		break;
	default:
		break;
	}
}

/*
 * moot: would m change nothing, whoever signed it? Then its signature need
 * not be checked, which spares about a third of the verifies of a height:
 * the votes beyond the quorum. That is a vote for the height just committed
 * (on_vote drops it) in no later view (note_view ignores it), a PREPARE for
 * a slot that has prepared already, and a vote the slot holds already.
 */
static bool
moot(const struct pbft *p, const struct pbft_msg *m)
{
	if ((m->type != PBFT_PREPARE && m->type != PBFT_COMMIT) || m->from == p->cfg.self ||
	    m->view > p->view)
		return false;
	if (m->height == p->height)
		return true;
	const struct pbft_slot *s = &p->slot;
	if (m->height != p->height + 1 || m->view != p->view || p->in_vc || !s->has_pp ||
	    s->view != m->view)
		return false;
	if (m->type == PBFT_PREPARE && s->sent_commit)
		return true;
	const struct pbft_held *h = m->type == PBFT_PREPARE ? &s->prepare[m->from]
							   : &s->commit[m->from];
	return h->has && h->view == m->view && memcmp(h->digest, m->digest, PBFT_HASH_LEN) == 0;
}

/*
 * foreign: is m about heights another set orders? (A VIEW-CHANGE names its
 * sender's committed height C and is about C + 1; the rest name theirs.)
 */
static bool
foreign(const struct pbft *p, const struct pbft_msg *m)
{
	uint64_t first = p->cfg.first_height > 1 ? p->cfg.first_height : 1;
	uint64_t h = m->type == PBFT_VIEWCHANGE ? m->height + 1 : m->height;
	if (m->type == PBFT_NEWVIEW && m->block_len == 0)
		return false; /* its VIEW-CHANGEs are checked one by one */
	if (m->type == PBFT_COMMIT && m->height + 1 == first)
		return false; /* the certificate of the height before ours: moot or help */
	return h < first || h > p->end;
}

bool
pbft_receive(struct pbft *p, const struct pbft_msg *m, uint64_t now_ms)
{
	pbft_enter(p, now_ms);
	if (m->from >= p->cfg.n)
		return false;
	if (foreign(p, m))
		return true; /* not this set's to judge; the host's state transfer catches up */
	if (moot(p, m))
		return true;
	if (!pbft_verify(p, m))
		return false;
	if (m->from == p->cfg.self) {
		/* our own vote, relayed in a certificate for a height we have not reached */
		if (m->type == PBFT_COMMIT && m->height > p->height)
			note_ahead(p, m);
		/* our own NEW-VIEW, sent before a crash that lost its installation */
		if (m->type == PBFT_NEWVIEW && p->in_vc && m->view == p->view)
			pbft_on_newview(p, m);
		return true;
	}
	pbft_dispatch(p, m);
	return true;
}

/* ---- the primary ---- */

bool
pbft_can_propose(const struct pbft *p)
{
	return p->height < p->end && !p->in_vc && pbft_primary(p->view, p->cfg.n) == p->cfg.self &&
	       !p->slot.has_pp && p->height >= p->goal && p->height + 1 >= p->nv_height &&
	       !(p->nv_fixed && p->height + 1 == p->nv_height) && !pbft_fenced(p, p->view) &&
	       !(p->pp_vote.has && p->pp_vote.view == p->view && p->pp_vote.height == p->height + 1);
}

void
pbft_propose(struct pbft *p, const uint8_t digest[PBFT_HASH_LEN], const uint8_t *block,
	     size_t len, uint64_t now_ms)
{
	pbft_enter(p, now_ms);
	if (!pbft_can_propose(p) || len == 0)
		return;
	p->pp_vote.has = true;
	p->pp_vote.view = p->view;
	p->pp_vote.height = p->height + 1;
	memcpy(p->pp_vote.digest, digest, PBFT_HASH_LEN);
	/* not persisted: a restart fences this view (pbft_internal.h) */

	struct pbft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = PBFT_PREPREPARE;
	m.view = p->view;
	m.height = p->height + 1;
	memcpy(m.digest, digest, PBFT_HASH_LEN);
	pbft_sign(p, &m);
	struct pbft_slot *s = &p->slot;
	s->has_pp = true;
	s->view = p->view;
	memcpy(s->digest, digest, PBFT_HASH_LEN);
	memcpy(s->pp_sig, m.sig, PBFT_SIG_LEN);
	s->block = malloc(len);
	m.block = malloc(len);
	if (s->block == NULL || m.block == NULL)
		abort();
	memcpy(s->block, block, len);
	memcpy(m.block, block, len);
	s->block_len = m.block_len = len;
	pbft_emit_msg(p, PBFT_ACT_BROADCAST, 0, &m);
	/* the primary times out too: its backups may have moved to another view */
	pbft_arm_timer(p);
	/* The primary votes COMMIT like everyone once prepared; with n = 1 that is now. */
	check_slot(p);
}

/* ---- host notices ---- */

void
pbft_set_pending(struct pbft *p, bool pending, uint64_t now_ms)
{
	pbft_enter(p, now_ms);
	p->pending = pending;
	if (!pending && !p->slot.has_pp && !p->in_vc)
		p->deadline = 0;
	pbft_arm_timer(p);
}

void
pbft_set_end(struct pbft *p, uint64_t last)
{
	p->end = last;
}

void
pbft_synced(struct pbft *p, uint64_t height, const uint8_t digest[PBFT_HASH_LEN],
	    uint64_t cert_view, const struct pbft_vote *cert, uint32_t ncert, uint64_t now_ms)
{
	pbft_enter(p, now_ms);
	if (height <= p->height)
		return;
	p->height = height;
	memcpy(p->hash, digest, PBFT_HASH_LEN);
	p->cert_view = cert_view;
	p->ncert = ncert > PBFT_MAX_VALIDATORS ? PBFT_MAX_VALIDATORS : ncert;
	memcpy(p->cert, cert, p->ncert * sizeof(*cert));
	pbft_reset_slot(p);
	if (p->prepared.has && p->prepared.height <= p->height)
		clear_prepared(p);
	if (p->height >= p->goal)
		p->fetching = false;
	progress(p);
	pbft_future_replay(p);
}

/* retransmit re-sends this replica's current messages when nothing moves (lossy links). */
static void
retransmit(struct pbft *p)
{
	p->last_retransmit = p->now;
	if (p->in_vc) {
		pbft_retransmit_viewchange(p);
		return;
	}
	struct pbft_slot *s = &p->slot;
	if (!s->has_pp)
		return;
	struct pbft_msg m;
	memset(&m, 0, sizeof(m));
	m.view = s->view;
	m.height = p->height + 1;
	memcpy(m.digest, s->digest, PBFT_HASH_LEN);
	if (pbft_primary(s->view, p->cfg.n) == p->cfg.self) {
		m.type = PBFT_PREPREPARE;
		memcpy(m.sig, s->pp_sig, PBFT_SIG_LEN);
		m.from = p->cfg.self;
		m.block = malloc(s->block_len);
		if (m.block == NULL)
			abort();
		memcpy(m.block, s->block, s->block_len);
		m.block_len = s->block_len;
		pbft_emit_msg(p, PBFT_ACT_BROADCAST, 0, &m);
	}
	for (int t = PBFT_PREPARE; t <= PBFT_COMMIT; t++) {
		const struct pbft_held *h =
			t == PBFT_PREPARE ? &s->prepare[p->cfg.self] : &s->commit[p->cfg.self];
		if (!h->has)
			continue;
		memset(&m, 0, sizeof(m));
		m.type = (uint8_t)t;
		m.from = p->cfg.self;
		m.view = h->view;
		m.height = p->height + 1;
		memcpy(m.digest, h->digest, PBFT_HASH_LEN);
		memcpy(m.sig, h->sig, PBFT_SIG_LEN);
		pbft_emit_msg(p, PBFT_ACT_BROADCAST, 0, &m);
	}
}

void
pbft_tick(struct pbft *p, uint64_t now_ms)
{
	pbft_enter(p, now_ms);
	if (pbft_ended(p))
		return; /* the host starts the next set's core */
	if (p->deadline != 0 && p->now >= p->deadline) {
		p->deadline = 0;
		if (p->in_vc && p->backoff < 32)
			p->backoff++;
		pbft_start_view_change(p, p->view + 1);
	}
	uint64_t every = p->cfg.view_timeout_ms / 2 ? p->cfg.view_timeout_ms / 2 : 1;
	if (p->now >= p->last_progress + every && p->now >= p->last_retransmit + every)
		retransmit(p);
	if (p->fetching && p->now >= p->fetch_deadline)
		p->fetching = false;
	fetch_check(p); /* retry state transfer from another validator */
}
