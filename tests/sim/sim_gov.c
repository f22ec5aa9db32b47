/*
 * Validator-set changes in the simulator: the sets of each height as the
 * chain's state says, the signature checks the invariants make against
 * them, and a governance client that has the validators vote a planned
 * series of changes through (joiners added, members removed, keys
 * replaced), one change at a time.
 *
 * The client acts like operators with a wallet: for the next change of the
 * plan, a quorum of the honest members of the set in force each sign an
 * approval with their account's nonce on the agreed chain, sent to every
 * node and again until it commits; once the change rules, the next. A
 * re-keyed validator is restarted with its new key once its new key rules.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "testchain.h"

/* ---- the sets of each height ---- */

/* a set with its keys parsed, cached by its start height */
struct sim_set {
	struct chain_valset vs;
	struct cr_pubkey *keys[CHAIN_MAX_VALIDATORS];
};

#define SET_CACHE 64

struct sim_sets {
	struct sim_set *sets[SET_CACHE];
	size_t n;
};

static void
sets_free(struct sim_sets *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		for (uint32_t k = 0; k < CHAIN_MAX_VALIDATORS; k++)
			cr_pubkey_free(c->sets[i]->keys[k]);
		free(c->sets[i]);
	}
	free(c);
}

/*
 * sim_set_at returns the set in force at height by store's state (whose tip
 * must be at height - 2 or later, so that it is final), or NULL.
 */
const struct sim_set *
sim_set_at(struct sim *s, struct chain_store *store, uint64_t height)
{
	if (s->sets == NULL && (s->sets = calloc(1, sizeof(*s->sets))) == NULL)
		abort();
	struct sim_sets *c = s->sets;
	uint64_t starts[CHAIN_MAX_EPOCHS > 256 ? 256 : CHAIN_MAX_EPOCHS];
	size_t n = 0;
	struct chain_state_reader r = chain_store_reader(store);
	if (height == 0)
		height = 1;
	if (chain_valset_starts(&r, starts, 256, &n, NULL) != 0 || n == 0 || n > 256)
		return NULL;
	size_t i = n;
	while (i > 0 && starts[i - 1] > height)
		i--;
	if (i == 0)
		return NULL;
	uint64_t start = starts[i - 1];
	for (size_t k = 0; k < c->n; k++)
		if (c->sets[k]->vs.start == start)
			return c->sets[k];
	struct sim_set *set = calloc(1, sizeof(*set));
	if (set == NULL)
		abort();
	if (chain_valset_at(&r, height, &set->vs, NULL) != 0) {
		free(set);
		return NULL;
	}
	for (uint32_t k = 0; k < set->vs.n; k++)
		if (cr_pubkey_parse(&set->keys[k], set->vs.m[k].pub_key, NULL) != 0)
			abort();
	if (c->n == SET_CACHE) { /* more sets than a run makes: keep the cache bounded */
		for (uint32_t k = 0; k < CHAIN_MAX_VALIDATORS; k++)
			cr_pubkey_free(c->sets[0]->keys[k]);
		free(c->sets[0]);
		memmove(&c->sets[0], &c->sets[1], (SET_CACHE - 1) * sizeof(c->sets[0]));
		c->n--;
	}
	c->sets[c->n++] = set;
	return set;
}

uint32_t
sim_set_n(const struct sim_set *set)
{
	return set->vs.n;
}

bool
sim_set_check(struct sim *s, const struct sim_set *set, uint32_t v,
	      const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN])
{
	if (v >= set->vs.n)
		return false;
	if (s->keyed_sigs) {
		uint8_t want[CR_SIG_LEN];
		sim_keyed_sig(set->vs.m[v].pub_key, digest, want);
		return memcmp(want, sig, CR_SIG_LEN) == 0;
	}
	return sim_verify(s, set->vs.m[v].pub_key, set->keys[v], digest, sig);
}

/* the arguments of a chain_vote_check_fn over one set */
struct set_check {
	struct sim *s;
	const struct sim_set *set;
};

static bool
check_vote(void *arg, uint32_t v, const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN])
{
	struct set_check *sc = arg;
	return sim_set_check(sc->s, sc->set, v, digest, sig);
}

int
sim_cert_check(struct sim *s, const struct sim_set *set, const struct chain_cert *cert,
	       struct ch_err *err)
{
	struct node_engine_rules er;
	if (node_engine_rules_of(s->o.engine, set->vs.n, &er, err) != 0)
		return CH_E_INVALID;
	struct set_check sc = {s, set};
	return chain_cert_check(cert, set->vs.n, er.quorum, check_vote, &sc, err);
}

uint32_t
sim_index_of(const struct sim_set *set, const struct cr_key *key)
{
	uint8_t pub[CR_PUBKEY_LEN];
	cr_key_pubkey(key, pub);
	int i = chain_valset_find_key(&set->vs, pub);
	return i < 0 ? UINT32_MAX : (uint32_t)i;
}

/* ---- the governance client ---- */

struct gov_change {
	uint8_t op;
	uint32_t node;   /* the node added, removed or re-keyed */
	bool done;       /* in force */
	struct chain_tx approval[SIM_MAX_N]; /* by validator node i, signed at nonce[i] */
	bool signed_[SIM_MAX_N];
};

#define GOV_MAX 6
#define GOV_EVERY_MS 100
#define GOV_RESEND_MS 500

struct sim_gov {
	struct gov_change plan[GOV_MAX];
	uint32_t nplan, next;
	uint64_t last_sent;
	struct cr_key *rekey[SIM_MAX_N];
	/* what the client has in flight: transactions handed to the event queue by index */
	struct chain_tx *txs;
	size_t ntxs, captxs;
};

static struct cr_key *
node_key(struct sim *s, uint32_t i)
{
	return s->nodes[i].key;
}

static void
pub_of(const struct cr_key *k, uint8_t out[CR_PUBKEY_LEN])
{
	cr_key_pubkey(k, out);
}

/* member: does set hold node i (by its current key)? */
static bool
member(struct sim *s, const struct chain_valset *vs, uint32_t i)
{
	uint8_t pub[CR_PUBKEY_LEN];
	pub_of(node_key(s, i), pub);
	return chain_valset_find_key(vs, pub) >= 0;
}

/* honest_members counts the honest nodes in vs, and byz the faulty ones. */
static void
count_members(struct sim *s, const struct chain_valset *vs, uint32_t *honest, uint32_t *byz)
{
	*honest = *byz = 0;
	for (uint32_t i = 0; i < s->total; i++)
		if (member(s, vs, i))
			(s->nodes[i].byz ? (*byz)++ : (*honest)++);
}

/*
 * sim_gov_init draws the plan: add the first joiner, then a mix of further
 * additions (in joiner order, so that slots are node numbers), removals
 * (the Byzantine validator first, the primary of view 0 often) and one
 * re-key, never leaving more faulty members than the set tolerates.
 */
void
sim_gov_init(struct sim *s)
{
	struct sim_gov *g = calloc(1, sizeof(*g));
	if (g == NULL)
		abort();
	s->gov = g;
	struct rng *r = &s->rng;
	/* the sets as the plan goes, to keep each step possible */
	bool in[SIM_MAX_N] = {0};
	uint32_t size = s->n, next_join = s->n;
	for (uint32_t i = 0; i < s->n; i++)
		in[i] = true;
	uint32_t byz_in = s->o.nbyz;
	bool rekeyed = false;
	for (int tries = 0; g->nplan < GOV_MAX && tries < 40; tries++) {
		struct gov_change c = {0};
		uint64_t pick = g->nplan == 0 ? 0 : rng_range(r, 0, 3);
		if (pick == 0 && next_join < s->total) {
			c.op = CHAIN_VAL_ADD;
			c.node = next_join++;
			in[c.node] = true;
			size++;
		} else if (pick == 1 || (pick == 0 && byz_in > 0)) {
			uint32_t victim = UINT32_MAX;
			for (uint32_t i = 0; i < s->total && byz_in > 0; i++)
				if (in[i] && s->nodes[i].byz)
					victim = i; /* vote the faulty one out first */
			if (victim == UINT32_MAX && size > 1) {
				if (in[0] && rng_chance(r, 0.5))
					victim = 0; /* often the primary of view 0 */
				else
					for (int k = 0; k < 8 && victim == UINT32_MAX; k++) {
						uint32_t i = (uint32_t)rng_range(r, 0, s->total - 1);
						if (in[i])
							victim = i;
					}
			}
			if (victim == UINT32_MAX)
				continue;
			bool faulty = s->nodes[victim].byz;
			uint32_t after = size - 1, byz_after = byz_in - faulty;
			if (after < 1 || byz_after > chain_valset_faults(after))
				continue;
			c.op = CHAIN_VAL_REMOVE;
			c.node = victim;
			in[victim] = false;
			size = after;
			byz_in = byz_after;
		} else if (pick == 2 && !rekeyed) {
			uint32_t i = (uint32_t)rng_range(r, 0, s->total - 1);
			if (!in[i] || s->nodes[i].byz)
				continue;
			c.op = CHAIN_VAL_REKEY;
			c.node = i;
			rekeyed = true;
		} else {
			continue;
		}
		g->plan[g->nplan++] = c;
	}
	for (uint32_t i = 0; i < s->total; i++)
		g->rekey[i] = test_key("rekey", i);
	/* joiners no change adds never start */
	for (uint32_t i = s->n; i < s->total; i++)
		s->nodes[i].absent = i >= next_join;
	if (s->trace != NULL)
		for (uint32_t k = 0; k < g->nplan; k++)
			fprintf(s->trace, "change %u: %s n%u\n", k, chain_val_op_name(g->plan[k].op),
				g->plan[k].node);
}

void
sim_gov_free(struct sim *s)
{
	struct sim_gov *g = s->gov;
	sets_free(s->sets);
	s->sets = NULL;
	if (g == NULL)
		return;
	for (uint32_t i = 0; i < SIM_MAX_N; i++)
		cr_key_free(g->rekey[i]);
	free(g->txs);
	free(g);
	s->gov = NULL;
}

bool
sim_gov_done(const struct sim *s)
{
	return s->gov == NULL || s->gov->next == s->gov->nplan;
}

/* applied: does vs show change c made? */
static bool
applied(struct sim *s, const struct chain_valset *vs, const struct gov_change *c)
{
	char id[16];
	snprintf(id, sizeof(id), "n%u", c->node);
	if (c->op == CHAIN_VAL_ADD)
		return chain_valset_find_id(vs, id) >= 0;
	if (c->op == CHAIN_VAL_REMOVE)
		return chain_valset_find_id(vs, id) < 0;
	uint8_t pub[CR_PUBKEY_LEN];
	pub_of(s->gov->rekey[c->node], pub);
	return chain_valset_find_key(vs, pub) >= 0;
}

/* approval fills tx with node signer's approval of c at nonce. */
static void
approval(struct sim *s, const struct gov_change *c, uint32_t signer, uint64_t nonce,
	 struct chain_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", s->genesis.chain_id);
	tx->type = CHAIN_TX_VALIDATOR;
	tx->nonce = nonce;
	tx->val_op = c->op;
	snprintf(tx->name, sizeof(tx->name), "n%u", c->node);
	if (c->op == CHAIN_VAL_ADD) {
		pub_of(s->nodes[c->node].key, tx->val_pub);
		tx->value_len = (uint16_t)snprintf((char *)tx->value, sizeof(tx->value), "sim://%u",
						   c->node);
	} else if (c->op == CHAIN_VAL_REKEY) {
		pub_of(s->gov->rekey[c->node], tx->val_pub);
	}
	if (chain_tx_sign(tx, node_key(s, signer), NULL) != 0)
		abort();
}

/* queue_tx keeps tx for the event queue and returns its number. */
static uint64_t
queue_tx(struct sim_gov *g, const struct chain_tx *tx)
{
	if (g->ntxs == g->captxs) {
		g->captxs = g->captxs ? 2 * g->captxs : 64;
		g->txs = realloc(g->txs, g->captxs * sizeof(*g->txs));
		if (g->txs == NULL)
			abort();
	}
	g->txs[g->ntxs] = *tx;
	return g->ntxs++;
}

const struct chain_tx *
sim_gov_tx(const struct sim *s, uint64_t k)
{
	return &s->gov->txs[k];
}

/* rekeyed: the change that re-keyed node i rules: it restarts with its new key. */
static void
rekeyed(struct sim *s, uint32_t i)
{
	struct sim_node *nd = &s->nodes[i];
	nd->key = s->gov->rekey[i];
	TRACE(s, "  n%u restarts with its new key", i);
	if (nd->core != NULL)
		sim_restart(s, i);
}

/*
 * sim_gov_step moves the plan on: marks the change in force once it rules
 * at the agreed tip's next height, or (re)sends a quorum's approvals.
 * Returns the transactions to hand to every node through *first..*end.
 */
void
sim_gov_step(struct sim *s, uint64_t *first, uint64_t *end)
{
	struct sim_gov *g = s->gov;
	*first = *end = 0;
	if (g == NULL || g->next == g->nplan)
		return;
	struct chain_tip tip;
	if (chain_store_tip(s->reference, &tip, NULL) != 0)
		return;
	const struct sim_set *cur = sim_set_at(s, s->reference, tip.height + 1);
	struct chain_valset *latest = malloc(sizeof(*latest));
	struct chain_state_reader r = chain_store_reader(s->reference);
	if (cur == NULL || latest == NULL || chain_valset_at(&r, UINT64_MAX, latest, NULL) != 0) {
		free(latest);
		return;
	}
	struct gov_change *c = &g->plan[g->next];
	if (applied(s, latest, c)) {
		if (latest->start <= tip.height + 1 && applied(s, &cur->vs, c)) {
			TRACE(s, "change %u (%s n%u) rules from h%" PRIu64, g->next,
			      chain_val_op_name(c->op), c->node, cur->vs.start);
			c->done = true;
			g->next++;
			g->last_sent = 0;
			if (c->op == CHAIN_VAL_REKEY)
				rekeyed(s, c->node);
		}
		free(latest);
		return;
	}
	free(latest);
	if (g->last_sent != 0 && s->now < g->last_sent + GOV_RESEND_MS)
		return;
	g->last_sent = s->now ? s->now : 1;
	/* a quorum of the honest members of the set in force approves */
	struct node_engine_rules er;
	if (node_engine_rules_of(s->o.engine, cur->vs.n, &er, NULL) != 0)
		return;
	uint32_t want = er.quorum, have = 0, honest = 0, byz = 0;
	count_members(s, &cur->vs, &honest, &byz);
	*first = g->ntxs;
	for (uint32_t i = 0; i < s->total && have < want; i++) {
		if (s->nodes[i].byz || !member(s, &cur->vs, i))
			continue;
		have++;
		uint8_t addr[CR_ADDR_LEN];
		struct chain_account acct;
		test_key_address(node_key(s, i), addr);
		if (r.get_account(r.arg, addr, &acct, NULL) != 0)
			continue;
		if (!c->signed_[i] || c->approval[i].nonce != acct.nonce) {
			if (c->signed_[i] && c->approval[i].nonce < acct.nonce)
				continue; /* approved already: its nonce moved on */
			approval(s, c, i, acct.nonce, &c->approval[i]);
			c->signed_[i] = true;
		}
		queue_tx(g, &c->approval[i]);
	}
	*end = g->ntxs;
	TRACE(s, "change %u (%s n%u): %" PRIu64 " approvals sent (quorum %u of %u; %u honest)",
	      g->next, chain_val_op_name(c->op), c->node, *end - *first, want, cur->vs.n, honest);
}
