/*
 * The validator set over a chain's life (chain/valset.c): the genesis set,
 * and changes (add, remove, rekey) approved by a quorum of the set in force
 * and ruling CHAIN_VAL_DELAY blocks after the approval that completes them.
 * Every change is a real transaction, signed with a real P-256 key, applied
 * to the overlay chain_genesis_state returns over an empty base.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "chain/genesis.h"
#include "chain/state.h"
#include "chain/tx.h"
#include "chain/valset.h"
#include "crypto/crypto.h"
#include "pbft/pbft.h"
#include "test.h"
#include "testchain.h"

#define CHAIN_ID "valset-test"
#define H 5 /* the height of the first approvals */

/* ---- keys: test_key("validator", i), the keys test_genesis gives validator i ---- */

#define NKEYS (CHAIN_MAX_VALIDATORS + 8)
static struct cr_key *vkeys[NKEYS];
static uint8_t vpubs[NKEYS][CR_PUBKEY_LEN];
static struct cr_key *outsider; /* never a validator */

static const struct cr_key *
vkey(uint32_t i)
{
	if (vkeys[i] == NULL) {
		vkeys[i] = test_key("validator", i);
		cr_key_pubkey(vkeys[i], vpubs[i]);
	}
	return vkeys[i];
}

static const uint8_t *
vpub(uint32_t i)
{
	vkey(i);
	return vpubs[i];
}

/* A compressed encoding whose x (2^256 - 1) is above the field prime: no P-256 point. */
static const uint8_t bad_point[CR_PUBKEY_LEN] = {
	0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- the fixture: a genesis of n validators applied over an empty base ---- */

static int
empty_account(void *arg, const uint8_t addr[CR_ADDR_LEN], struct chain_account *out,
	      struct ch_err *err)
{
	(void)arg, (void)addr, (void)err;
	memset(out, 0, sizeof(*out));
	return 0;
}

static int
empty_data(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name, struct ch_buf *value,
	   bool *found, struct ch_err *err)
{
	(void)arg, (void)owner, (void)name, (void)value, (void)err;
	*found = false;
	return 0;
}

static const struct chain_state_reader empty_base = {empty_account, empty_data, NULL};

struct fx {
	struct chain_genesis g;
	struct chain_exec *x;
	uint8_t genesis_digest[CR_HASH_LEN];
	struct chain_valset set; /* the last set read (at) */
	struct chain_open_change open[CHAIN_MAX_OPEN_CHANGES];
	size_t nopen; /* of the last listing (open_at) */
	struct ch_err e;
	bool scheduled; /* of the last approval (approve) */
};

static void
teardown(void *arg)
{
	struct fx *f = arg;
	chain_exec_free(f->x);
	chain_genesis_close(&f->g);
	free(f);
}

static struct fx *
setup_n(uint32_t n)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	test_genesis(&f->g, CHAIN_ID, n, 0, 0);
	if (chain_genesis_state(&f->g, &empty_base, &f->x, f->genesis_digest, &f->e) != 0) {
		fprintf(stderr, "setup: %s\n", f->e.msg);
		teardown(f);
		return NULL;
	}
	return f;
}

static void *
setup4(void)
{
	return setup_n(4); /* quorum 3 */
}

/* at reads the set in force at height into f->set; NULL (and a message) on error. */
static const struct chain_valset *
at(struct fx *f, uint64_t height)
{
	struct chain_state_reader r = chain_exec_reader(f->x);
	int rc = chain_valset_at(&r, height, &f->set, &f->e);
	if (rc != 0) {
		fprintf(stderr, "  chain_valset_at(%" PRIu64 "): %s %s\n", height, ch_errname(rc),
			f->e.msg);
		return NULL;
	}
	return &f->set;
}

/* open_at lists the changes open at height into f->open; false (and a message) on error. */
static bool
open_at(struct fx *f, uint64_t height)
{
	struct chain_state_reader r = chain_exec_reader(f->x);
	int rc = chain_valset_open(&r, height, f->open, CHAIN_MAX_OPEN_CHANGES, &f->nopen, &f->e);
	if (rc != 0)
		fprintf(stderr, "  chain_valset_open(%" PRIu64 "): %s %s\n", height, ch_errname(rc),
			f->e.msg);
	return rc == 0;
}

/* members_are: does s hold exactly the members of these slots, in order, with these keys? */
static bool
members_are(const struct chain_valset *s, uint32_t n, const uint16_t *slots,
	    const uint32_t *keys)
{
	bool ok = s != NULL && s->n == n;
	for (uint32_t i = 0; ok && i < n; i++)
		ok = s->m[i].slot == slots[i] &&
		     memcmp(s->m[i].pub_key, vpub(keys[i]), CR_PUBKEY_LEN) == 0;
	if (!ok && s != NULL) {
		fprintf(stderr, "  set from %" PRIu64 ": %" PRIu32 " members (want %" PRIu32 "):",
			s->start, s->n, n);
		for (uint32_t i = 0; i < s->n; i++)
			fprintf(stderr, " %s@%u", s->m[i].id, s->m[i].slot);
		fprintf(stderr, "\n");
	}
	return ok;
}

#define SLOTS(...) ((const uint16_t[]){__VA_ARGS__})
#define KEYS(...) ((const uint32_t[]){__VA_ARGS__})

/* ---- changes ---- */

/* A change: op on id, with key pub and address addr (NULL: none). */
struct spec {
	uint8_t op;
	const char *id;
	const uint8_t *pub;
	const char *addr;
};

static struct spec
add_of(const char *id, uint32_t key, const char *addr)
{
	return (struct spec){CHAIN_VAL_ADD, id, vpub(key), addr};
}

static struct spec
remove_of(const char *id)
{
	return (struct spec){CHAIN_VAL_REMOVE, id, NULL, NULL};
}

static struct spec
rekey_of(const char *id, uint32_t key)
{
	return (struct spec){CHAIN_VAL_REKEY, id, vpub(key), NULL};
}

/* sign_change fills tx with change s at nonce, signed by k (aborts if signing fails). */
static void
sign_change(struct chain_tx *tx, const struct cr_key *k, uint64_t nonce, struct spec s)
{
	struct ch_err e;
	memset(tx, 0, sizeof(*tx));
	snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", CHAIN_ID);
	tx->type = CHAIN_TX_VALIDATOR;
	tx->nonce = nonce;
	tx->val_op = s.op;
	snprintf(tx->name, sizeof(tx->name), "%s", s.id);
	if (s.pub != NULL)
		memcpy(tx->val_pub, s.pub, CR_PUBKEY_LEN);
	if (s.addr != NULL) {
		tx->value_len = (uint16_t)strlen(s.addr);
		memcpy(tx->value, s.addr, tx->value_len);
	}
	if (chain_tx_sign(tx, k, &e) != 0) {
		fprintf(stderr, "sign_change: %s\n", e.msg);
		abort();
	}
	if (chain_tx_verify(tx, &e) != 0)
		abort();
}

/* approve: k signs change s, applied in block height (chain_valset_apply); f->scheduled, f->e. */
static int
approve(struct fx *f, uint64_t height, const struct cr_key *k, struct spec s)
{
	struct chain_tx tx;
	sign_change(&tx, k, 0, s);
	ch_err_clear(&f->e);
	f->scheduled = false;
	return chain_valset_apply(f->x, height, &tx, &f->scheduled, &f->e);
}

/* approved: k's approval of s at height is accepted, and completes s or not as said. */
static bool
approved(struct fx *f, uint64_t height, const struct cr_key *k, struct spec s, bool completes)
{
	int rc = approve(f, height, k, s);
	if (rc != 0 || f->scheduled != completes) {
		fprintf(stderr, "  %s %s at %" PRIu64 ": %s \"%s\", scheduled %d (want OK, %d)\n",
			chain_val_op_name(s.op), s.id, height, ch_errname(rc), f->e.msg,
			f->scheduled, completes);
		return false;
	}
	return true;
}

/* unchanged_by: runs fn's attempt, true if the overlay's writes and digest stayed. */
struct snapshot {
	size_t writes;
	uint8_t digest[CR_HASH_LEN];
};

static void
snap(const struct fx *f, struct snapshot *s)
{
	s->writes = chain_exec_writes(f->x);
	chain_exec_digest(f->x, f->genesis_digest, s->digest);
}

static bool
same_snap(const struct fx *f, const struct snapshot *before)
{
	struct snapshot now;
	snap(f, &now);
	return now.writes == before->writes && memcmp(now.digest, before->digest, CR_HASH_LEN) == 0;
}

/*
 * refused: k's approval of s at height fails with CH_E_TX_INVALID and a
 * message containing what, and leaves the overlay as it was.
 */
static bool
refused(struct fx *f, uint64_t height, const struct cr_key *k, struct spec s, const char *what)
{
	struct snapshot before;
	snap(f, &before);
	int rc = approve(f, height, k, s);
	bool same = same_snap(f, &before);
	bool ok = rc == CH_E_TX_INVALID && f->e.code == CH_E_TX_INVALID &&
		  strstr(f->e.msg, what) != NULL && same;
	if (!ok)
		fprintf(stderr,
			"  %s %s at %" PRIu64 ": want TX_INVALID \"%s\", got %s \"%s\"%s\n",
			chain_val_op_name(s.op), s.id, height, what, ch_errname(rc), f->e.msg,
			same ? "" : " and the overlay changed");
	return ok;
}

/* find_open: the change of op on id in the last listing, or NULL. */
static const struct chain_open_change *
find_open(const struct fx *f, uint8_t op, const char *id)
{
	for (size_t i = 0; i < f->nopen; i++)
		if (f->open[i].op == op && strcmp(f->open[i].id, id) == 0)
			return &f->open[i];
	return NULL;
}

/* approvers_are: does o list exactly these approver slots (in any order), and this quorum? */
static bool
approvers_are(const struct chain_open_change *o, uint32_t quorum, uint32_t n,
	      const uint16_t *slots)
{
	if (o == NULL) {
		fprintf(stderr, "  the change is not listed\n");
		return false;
	}
	bool ok = o->quorum == quorum && o->napprovers == n;
	for (uint32_t i = 0; ok && i < n; i++) {
		bool seen = false;
		for (uint32_t j = 0; j < o->napprovers; j++)
			seen = seen || o->approvers[j] == slots[i];
		ok = seen;
	}
	if (!ok) {
		fprintf(stderr, "  %s %s: quorum %" PRIu32 ", approvers", chain_val_op_name(o->op),
			o->id, o->quorum);
		for (uint32_t j = 0; j < o->napprovers; j++)
			fprintf(stderr, " %u", o->approvers[j]);
		fprintf(stderr, " (want quorum %" PRIu32 ", %" PRIu32 " approvers)\n", quorum, n);
	}
	return ok;
}

/* ---- 1. genesis ---- */

static void
test_genesis_set(void *arg)
{
	struct fx *f = arg;
	const struct chain_valset *s = at(f, 1);
	REQUIRE(s != NULL);
	CHECK_EQ_INT(s->start, 1);
	CHECK_EQ_INT(s->n, 4);
	CHECK_EQ_INT(s->next_slot, 4);
	for (uint32_t i = 0; i < s->n; i++) {
		char id[24], addr[24];
		snprintf(id, sizeof(id), "n%u", i);
		snprintf(addr, sizeof(addr), "sim://%u", i);
		CHECK_EQ_INT(s->m[i].slot, i);
		CHECK(strcmp(s->m[i].id, id) == 0);
		CHECK(strcmp(s->m[i].addr, addr) == 0);
		CHECK(memcmp(s->m[i].pub_key, vpub(i), CR_PUBKEY_LEN) == 0);
		CHECK_EQ_INT(chain_valset_find_key(s, vpub(i)), i);
		CHECK_EQ_INT(chain_valset_find_id(s, id), i);
		CHECK_EQ_INT(chain_valset_find_slot(s, i), i);
	}
	CHECK_EQ_INT(chain_valset_find_slot(s, 4), -1);
	CHECK_EQ_INT(chain_valset_find_id(s, "n4"), -1);
	CHECK_EQ_INT(chain_valset_find_key(s, vpub(4)), -1);

	/* what chain_valset_genesis makes is what was recorded */
	static struct chain_valset g;
	chain_valset_genesis(&f->g, &g);
	CHECK(chain_valset_same(&g, s));
	CHECK(g.start == 1 && g.next_slot == 4);

	/* the latest scheduled, and any later height: the genesis set still */
	static struct chain_valset first;
	first = *s;
	REQUIRE(at(f, UINT64_MAX) != NULL);
	CHECK(chain_valset_same(&first, &f->set) && f->set.start == 1);
	REQUIRE(at(f, 1000000) != NULL);
	CHECK(chain_valset_same(&first, &f->set));
	/* no set before height 1 */
	struct chain_state_reader r = chain_exec_reader(f->x);
	CHECK_EQ_INT(chain_valset_at(&r, 0, &f->set, &f->e), CH_E_NOT_FOUND);

	uint64_t starts[4];
	size_t n = 0;
	CHECK_EQ_INT(chain_valset_starts(&r, starts, 4, &n, &f->e), 0);
	CHECK(n == 1 && starts[0] == 1);
	REQUIRE(open_at(f, 1));
	CHECK_EQ_INT(f->nopen, 0);

	/* a state without sets (a store from before they were recorded) */
	struct chain_exec *bare = NULL;
	REQUIRE(chain_exec_new(&bare, &empty_base) == 0);
	r = chain_exec_reader(bare);
	CHECK_EQ_INT(chain_valset_at(&r, 1, &f->set, &f->e), CH_E_NOT_FOUND);
	chain_exec_free(bare);

	/* the state digest covers the set: another validator address, another genesis digest */
	struct chain_genesis g2;
	struct chain_exec *x2 = NULL;
	uint8_t d2[CR_HASH_LEN];
	test_genesis(&g2, CHAIN_ID, 4, 0, 0);
	snprintf(g2.validators[3].p2p_address, sizeof(g2.validators[3].p2p_address), "sim://9");
	REQUIRE(chain_genesis_state(&g2, &empty_base, &x2, d2, &f->e) == 0);
	CHECK(memcmp(d2, f->genesis_digest, CR_HASH_LEN) != 0);
	chain_exec_free(x2);
	chain_genesis_close(&g2);
}

/* The genesis set as a store keeps it (the records go through its WriteBatch and back). */
static void
test_genesis_in_store(void)
{
	struct test_chain c;
	struct ch_err e;
	static struct chain_valset s, g;
	memset(&c, 0, sizeof(c));
	test_genesis(&c.genesis, CHAIN_ID, 7, 1, 100);
	if (test_chain_open(&c, "/valset", &e) != 0) {
		fprintf(stderr, "  test_chain_open: %s\n", e.msg);
		test_chain_close(&c);
		REQUIRE(false);
	}
	struct chain_state_reader r = chain_store_reader(c.store);
	CHECK_EQ_INT(chain_valset_at(&r, 1, &s, &e), 0);
	chain_valset_genesis(&c.genesis, &g);
	CHECK(chain_valset_same(&s, &g) && s.n == 7 && s.next_slot == 7 && s.start == 1);
	CHECK(strcmp(s.m[6].id, "n6") == 0 && strcmp(s.m[6].addr, "sim://6") == 0);
	struct chain_open_change o[1];
	size_t n = 1;
	CHECK_EQ_INT(chain_valset_open(&r, 1, o, 1, &n, &e), 0);
	CHECK_EQ_INT(n, 0);
	test_chain_close(&c);
}

/* ---- 2. an addition approved by a quorum ---- */

static void
test_add_by_quorum(void *arg)
{
	struct fx *f = arg;
	struct spec add = add_of("n4", 4, "tcp://10.0.0.4:7000");

	CHECK(approved(f, H, vkey(0), add, false));
	REQUIRE(at(f, H + CHAIN_VAL_DELAY) != NULL);
	CHECK_EQ_INT(f->set.n, 4);
	REQUIRE(at(f, UINT64_MAX) != NULL);
	CHECK(f->set.n == 4 && f->set.start == 1);
	REQUIRE(open_at(f, H));
	CHECK_EQ_INT(f->nopen, 1);
	const struct chain_open_change *o = find_open(f, CHAIN_VAL_ADD, "n4");
	CHECK(approvers_are(o, 3, 1, SLOTS(0)));
	if (o != NULL) {
		CHECK_EQ_INT(o->first_height, H);
		CHECK(memcmp(o->pub_key, vpub(4), CR_PUBKEY_LEN) == 0);
		CHECK(strcmp(o->addr, "tcp://10.0.0.4:7000") == 0);
	}

	/* the same approval again; one by a key outside the set */
	CHECK(refused(f, H, vkey(0), add, "already approved"));
	CHECK(refused(f, H + 1, vkey(0), add, "already approved"));
	CHECK(refused(f, H, outsider, add, "not a validator"));
	/* the same id with another address is another change: it starts with its own approvals */
	CHECK(approved(f, H, vkey(1), add_of("n4", 4, "tcp://10.0.0.5:7000"), false));
	REQUIRE(open_at(f, H));
	CHECK_EQ_INT(f->nopen, 2);

	CHECK(approved(f, H + 1, vkey(1), add, false));
	CHECK(approved(f, H + 1, vkey(2), add, true));
	const uint64_t start = H + 1 + CHAIN_VAL_DELAY;
	CHECK(members_are(at(f, H + 1), 4, SLOTS(0, 1, 2, 3), KEYS(0, 1, 2, 3)));
	CHECK(members_are(at(f, start - 1), 4, SLOTS(0, 1, 2, 3), KEYS(0, 1, 2, 3)));
	const struct chain_valset *s = at(f, start);
	CHECK(members_are(s, 5, SLOTS(0, 1, 2, 3, 4), KEYS(0, 1, 2, 3, 4)));
	if (s != NULL && s->n == 5) {
		CHECK(s->start == start && s->next_slot == 5);
		CHECK(strcmp(s->m[4].id, "n4") == 0);
		CHECK(strcmp(s->m[4].addr, "tcp://10.0.0.4:7000") == 0);
	}
	CHECK(members_are(at(f, UINT64_MAX), 5, SLOTS(0, 1, 2, 3, 4), KEYS(0, 1, 2, 3, 4)));
	uint64_t starts[4];
	size_t n = 0;
	struct chain_state_reader r = chain_exec_reader(f->x);
	CHECK_EQ_INT(chain_valset_starts(&r, starts, 4, &n, &f->e), 0);
	CHECK(n == 2 && starts[0] == 1 && starts[1] == start);

	/* the completed change is no longer open; the rival address remains */
	REQUIRE(open_at(f, H + 1));
	CHECK_EQ_INT(f->nopen, 1);
	CHECK(find_open(f, CHAIN_VAL_ADD, "n4") != NULL &&
	      strcmp(find_open(f, CHAIN_VAL_ADD, "n4")->addr, "tcp://10.0.0.5:7000") == 0);
	/* and the id is now taken in the latest scheduled set, even before it rules */
	CHECK(refused(f, H + 1, vkey(3), add, "already in the set"));
	CHECK(refused(f, H + 1, vkey(0), add_of("n4", 4, "tcp://10.0.0.5:7000"),
		      "already in the set"));
	/* the new member approves from the height its set rules, and quorum is now 4 of 5 */
	CHECK(refused(f, start - 1, vkey(4), remove_of("n0"), "not a validator"));
	CHECK(approved(f, start, vkey(4), remove_of("n0"), false));
	REQUIRE(open_at(f, start));
	CHECK(approvers_are(find_open(f, CHAIN_VAL_REMOVE, "n0"), 4, 1, SLOTS(4)));
}

/* ---- 3. through chain_exec_apply: nonces, heights, a rejection changes nothing ---- */

static uint64_t
nonce_of(struct fx *f, const struct cr_key *k)
{
	uint8_t a[CR_ADDR_LEN];
	struct chain_account acct;
	test_key_address(k, a);
	if (chain_exec_account(f->x, a, &acct, NULL) != 0)
		abort();
	return acct.nonce;
}

/* exec_refused: chain_exec_apply of tx fails with code (and what in the message), x unchanged. */
static bool
exec_refused(struct fx *f, const struct chain_tx *tx, int code, const char *what)
{
	struct snapshot before;
	snap(f, &before);
	ch_err_clear(&f->e);
	int rc = chain_exec_apply(f->x, tx, &f->e);
	bool same = same_snap(f, &before);
	bool ok = rc == code && strstr(f->e.msg, what) != NULL && same;
	if (!ok)
		fprintf(stderr, "  want %s \"%s\", got %s \"%s\"%s\n", ch_errname(code), what,
			ch_errname(rc), f->e.msg, same ? "" : " and the overlay changed");
	return ok;
}

static void
test_exec_apply(void *arg)
{
	struct fx *f = arg;
	struct spec add = add_of("n4", 4, "sim://4");
	struct chain_tx tx;
	struct ch_err e;

	/* an overlay without a height refuses validator changes */
	sign_change(&tx, vkey(0), 0, add);
	CHECK(exec_refused(f, &tx, CH_E_TX_INVALID, "must be in a block"));
	CHECK_EQ_INT(nonce_of(f, vkey(0)), 0);

	chain_exec_set_height(f->x, H);
	size_t w = chain_exec_writes(f->x);
	CHECK_EQ_INT(chain_exec_apply(f->x, &tx, &e), 0);
	CHECK_EQ_INT(nonce_of(f, vkey(0)), 1);
	CHECK(chain_exec_writes(f->x) > w);
	struct ch_buf v;
	bool found = false;
	ch_buf_init(&v);
	CHECK(chain_exec_data(f->x, CHAIN_SYS_OWNER, "approve/index", &v, &found, &e) == 0);
	CHECK(found);
	CHECK_EQ_INT(v.len, 16);
	ch_buf_close(&v);

	/* rejections: nothing moves, nonce included */
	CHECK(exec_refused(f, &tx, CH_E_NONCE_TOO_LOW, "already used")); /* a replay */
	sign_change(&tx, vkey(0), 1, add);
	CHECK(exec_refused(f, &tx, CH_E_TX_INVALID, "already approved"));
	CHECK_EQ_INT(nonce_of(f, vkey(0)), 1);
	sign_change(&tx, outsider, 0, add);
	CHECK(exec_refused(f, &tx, CH_E_TX_INVALID, "not a validator"));
	CHECK_EQ_INT(nonce_of(f, outsider), 0);
	sign_change(&tx, vkey(1), 3, add);
	CHECK(exec_refused(f, &tx, CH_E_NONCE_TOO_HIGH, "nonce 3"));
	sign_change(&tx, vkey(1), 0, add_of("n0", 5, "sim://5"));
	CHECK(exec_refused(f, &tx, CH_E_TX_INVALID, "already in the set"));
	CHECK_EQ_INT(nonce_of(f, vkey(1)), 0);
	REQUIRE(open_at(f, H));
	CHECK(approvers_are(find_open(f, CHAIN_VAL_ADD, "n4"), 3, 1, SLOTS(0)));

	/* the refused attempts did not count: two more approvals complete it */
	sign_change(&tx, vkey(1), 0, add);
	CHECK_EQ_INT(chain_exec_apply(f->x, &tx, &e), 0);
	chain_exec_set_height(f->x, H + 1);
	sign_change(&tx, vkey(2), 0, add);
	CHECK_EQ_INT(chain_exec_apply(f->x, &tx, &e), 0);
	CHECK(nonce_of(f, vkey(1)) == 1 && nonce_of(f, vkey(2)) == 1);
	CHECK(members_are(at(f, H + 2), 4, SLOTS(0, 1, 2, 3), KEYS(0, 1, 2, 3)));
	CHECK(members_are(at(f, H + 1 + CHAIN_VAL_DELAY), 5, SLOTS(0, 1, 2, 3, 4),
			  KEYS(0, 1, 2, 3, 4)));
	REQUIRE(open_at(f, H + 1));
	CHECK_EQ_INT(f->nopen, 0);
}

/* ---- 4. removals, and several changes at one height or at consecutive heights ---- */

static void
test_remove(void *arg)
{
	struct fx *f = arg;
	struct spec rm = remove_of("n3");
	CHECK(approved(f, H, vkey(3), rm, false)); /* a member may approve its own removal */
	CHECK(approved(f, H, vkey(1), rm, false));
	CHECK(approved(f, H, vkey(2), rm, true));
	CHECK(members_are(at(f, H + 1), 4, SLOTS(0, 1, 2, 3), KEYS(0, 1, 2, 3)));
	const struct chain_valset *s = at(f, H + CHAIN_VAL_DELAY);
	CHECK(members_are(s, 3, SLOTS(0, 1, 2), KEYS(0, 1, 2)));
	CHECK(s != NULL && s->next_slot == 4); /* slot 3 is retired, not reused */
	/* n3 is still a member until then, but no longer in the latest set */
	CHECK(refused(f, H + 1, vkey(3), rm, "no validator n3"));
	CHECK(approved(f, H + 1, vkey(3), add_of("n5", 5, "sim://5"), false));
	CHECK(refused(f, H + CHAIN_VAL_DELAY, vkey(3), add_of("n6", 6, "sim://6"),
		      "not a validator"));
	/* three members: quorum 2 */
	CHECK(approved(f, H + CHAIN_VAL_DELAY, vkey(0), add_of("n6", 6, "sim://6"), false));
	REQUIRE(open_at(f, H + CHAIN_VAL_DELAY));
	CHECK(approvers_are(find_open(f, CHAIN_VAL_ADD, "n6"), 2, 1, SLOTS(0)));
	CHECK(approved(f, H + CHAIN_VAL_DELAY, vkey(1), add_of("n6", 6, "sim://6"), true));
	CHECK(members_are(at(f, H + 2 * CHAIN_VAL_DELAY), 4, SLOTS(0, 1, 2, 4), KEYS(0, 1, 2, 6)));
}

static void
test_same_block(void *arg)
{
	struct fx *f = arg;
	struct spec add = add_of("n4", 4, "sim://4"), rm = remove_of("n3");
	CHECK(approved(f, H, vkey(0), add, false));
	CHECK(approved(f, H, vkey(0), rm, false));
	CHECK(approved(f, H, vkey(1), rm, false));
	CHECK(approved(f, H, vkey(1), add, false));
	CHECK(approved(f, H, vkey(2), add, true));
	CHECK(approved(f, H, vkey(2), rm, true));
	CHECK(members_are(at(f, H + 1), 4, SLOTS(0, 1, 2, 3), KEYS(0, 1, 2, 3)));
	const struct chain_valset *s = at(f, H + CHAIN_VAL_DELAY);
	CHECK(members_are(s, 4, SLOTS(0, 1, 2, 4), KEYS(0, 1, 2, 4)));
	CHECK(s != NULL && s->start == H + CHAIN_VAL_DELAY && s->next_slot == 5);
	/* one set for the height, not two */
	uint64_t starts[4];
	size_t n = 0;
	struct chain_state_reader r = chain_exec_reader(f->x);
	CHECK_EQ_INT(chain_valset_starts(&r, starts, 4, &n, &f->e), 0);
	CHECK(n == 2 && starts[0] == 1 && starts[1] == H + CHAIN_VAL_DELAY);
	REQUIRE(open_at(f, H));
	CHECK_EQ_INT(f->nopen, 0);
}

static void
test_consecutive(void *arg)
{
	struct fx *f = arg;
	struct spec add = add_of("n4", 4, "sim://4"), rm0 = remove_of("n0");
	CHECK(approved(f, H, vkey(0), add, false));
	CHECK(approved(f, H, vkey(1), add, false));
	CHECK(approved(f, H, vkey(2), add, true)); /* rules from H + 2 */
	CHECK(approved(f, H + 1, vkey(0), rm0, false));
	CHECK(approved(f, H + 1, vkey(1), rm0, false));
	CHECK(approved(f, H + 1, vkey(3), rm0, true)); /* from H + 3, on top of the addition */
	CHECK(members_are(at(f, H + 1), 4, SLOTS(0, 1, 2, 3), KEYS(0, 1, 2, 3)));
	CHECK(members_are(at(f, H + 2), 5, SLOTS(0, 1, 2, 3, 4), KEYS(0, 1, 2, 3, 4)));
	CHECK(members_are(at(f, H + 3), 4, SLOTS(1, 2, 3, 4), KEYS(1, 2, 3, 4)));
	CHECK(members_are(at(f, UINT64_MAX), 4, SLOTS(1, 2, 3, 4), KEYS(1, 2, 3, 4)));
	uint64_t starts[4];
	size_t n = 0;
	struct chain_state_reader r = chain_exec_reader(f->x);
	CHECK_EQ_INT(chain_valset_starts(&r, starts, 4, &n, &f->e), 0);
	CHECK(n == 3 && starts[0] == 1 && starts[1] == H + 2 && starts[2] == H + 3);

	/* at H + 2 the five vote (quorum 4); at H + 3 the four without n0 (quorum 3) */
	struct spec rm4 = remove_of("n4");
	CHECK(approved(f, H + 2, vkey(0), rm4, false));
	REQUIRE(open_at(f, H + 2));
	CHECK(approvers_are(find_open(f, CHAIN_VAL_REMOVE, "n4"), 4, 1, SLOTS(0)));
	REQUIRE(open_at(f, H + 3));
	CHECK(find_open(f, CHAIN_VAL_REMOVE, "n4") == NULL); /* n0's approval no longer counts */
	CHECK(refused(f, H + 3, vkey(0), rm4, "not a validator"));
	CHECK(approved(f, H + 3, vkey(4), rm4, false));
	CHECK(approved(f, H + 3, vkey(1), rm4, false));
	CHECK(approved(f, H + 3, vkey(2), rm4, true));
	CHECK(members_are(at(f, H + 5), 3, SLOTS(1, 2, 3), KEYS(1, 2, 3)));

	/* the same addition again: a new change (the old approvals were cleared), a new slot */
	CHECK(approved(f, H + 5, vkey(1), add, false));
	REQUIRE(open_at(f, H + 5));
	const struct chain_open_change *o = find_open(f, CHAIN_VAL_ADD, "n4");
	CHECK(approvers_are(o, 2, 1, SLOTS(1)));
	CHECK(o != NULL && o->first_height == H + 5);
	CHECK(approved(f, H + 5, vkey(2), add, true));
	const struct chain_valset *s = at(f, H + 7);
	CHECK(members_are(s, 4, SLOTS(1, 2, 3, 5), KEYS(1, 2, 3, 4)));
	CHECK(s != NULL && s->next_slot == 6);
}

/* ---- 5. rekey ---- */

static void
test_rekey(void *arg)
{
	struct fx *f = arg;
	struct spec rk = rekey_of("n1", 4);
	CHECK(approved(f, H, vkey(0), rk, false));
	CHECK(approved(f, H, vkey(1), rk, false));
	CHECK(approved(f, H, vkey(2), rk, true));
	const struct chain_valset *s = at(f, H + CHAIN_VAL_DELAY);
	CHECK(members_are(s, 4, SLOTS(0, 1, 2, 3), KEYS(0, 4, 2, 3)));
	if (s != NULL && s->n == 4) /* the slot, id and address stay */
		CHECK(strcmp(s->m[1].id, "n1") == 0 && strcmp(s->m[1].addr, "sim://1") == 0 &&
		      s->next_slot == 4);
	CHECK(members_are(at(f, H + 1), 4, SLOTS(0, 1, 2, 3), KEYS(0, 1, 2, 3)));

	/* before: the old key approves, the new one is nobody */
	struct spec x = add_of("n5", 5, "sim://5"), y = add_of("n6", 6, "sim://6");
	CHECK(refused(f, H + 1, vkey(4), x, "not a validator"));
	CHECK(approved(f, H + 1, vkey(1), x, false));
	/* after: the other way round */
	const uint64_t h = H + CHAIN_VAL_DELAY;
	CHECK(refused(f, h, vkey(1), y, "not a validator"));
	CHECK(approved(f, h, vkey(0), y, false));
	CHECK(approved(f, h, vkey(4), y, false));
	REQUIRE(open_at(f, h));
	CHECK(approvers_are(find_open(f, CHAIN_VAL_ADD, "n6"), 3, 2, SLOTS(0, 1)));
	CHECK(approved(f, h, vkey(3), y, true));
	CHECK(members_are(at(f, h + CHAIN_VAL_DELAY), 5, SLOTS(0, 1, 2, 3, 4),
			  KEYS(0, 4, 2, 3, 6)));
	/* an approval belongs to the member (its slot), not its key: the old key's still counts */
	REQUIRE(open_at(f, h));
	CHECK(approvers_are(find_open(f, CHAIN_VAL_ADD, "n5"), 3, 1, SLOTS(1)));
	CHECK(refused(f, h, vkey(4), x, "already approved"));
	/* keys in use, ids not in the set */
	CHECK(refused(f, h, vkey(0), rekey_of("n0", 2), "already a validator's"));
	CHECK(refused(f, h, vkey(0), rekey_of("n0", 0), "already a validator's"));
	/* n1's old key is in no set from h on: it may be given out again */
	CHECK(approved(f, h, vkey(0), rekey_of("n0", 1), false));
	CHECK(refused(f, h, vkey(0), rekey_of("n9", 7), "no validator n9"));
}

/* ---- 6. approvals of a removed member ---- */

static void
test_removed_approvals(void *arg)
{
	struct fx *f = arg;
	struct spec x = add_of("n4", 4, "sim://4"), z = add_of("n5", 5, "sim://5");
	struct spec rm = remove_of("n3");
	CHECK(approved(f, H, vkey(3), x, false));
	CHECK(approved(f, H, vkey(0), x, false));
	CHECK(approved(f, H, vkey(3), z, false));
	CHECK(approved(f, H, vkey(0), rm, false));
	CHECK(approved(f, H, vkey(1), rm, false));
	CHECK(approved(f, H, vkey(2), rm, true));

	REQUIRE(open_at(f, H + 1)); /* n3 still a member */
	CHECK_EQ_INT(f->nopen, 2);
	CHECK(approvers_are(find_open(f, CHAIN_VAL_ADD, "n4"), 3, 2, SLOTS(0, 3)));
	CHECK(approvers_are(find_open(f, CHAIN_VAL_ADD, "n5"), 3, 1, SLOTS(3)));

	const uint64_t h = H + CHAIN_VAL_DELAY; /* n3 gone: three members, quorum 2 */
	REQUIRE(open_at(f, h));
	CHECK_EQ_INT(f->nopen, 1);
	CHECK(approvers_are(find_open(f, CHAIN_VAL_ADD, "n4"), 2, 1, SLOTS(0)));
	CHECK(find_open(f, CHAIN_VAL_ADD, "n5") == NULL); /* no approval that counts */
	/* n3's approval of z does not make up a quorum with n1's */
	CHECK(approved(f, h, vkey(1), z, false));
	REQUIRE(open_at(f, h));
	CHECK(approvers_are(find_open(f, CHAIN_VAL_ADD, "n5"), 2, 1, SLOTS(1)));
	CHECK(approved(f, h, vkey(1), x, true));
	CHECK(members_are(at(f, h + CHAIN_VAL_DELAY), 4, SLOTS(0, 1, 2, 4), KEYS(0, 1, 2, 4)));
}

/* ---- 7. expiry ---- */

static void
test_expiry(void *arg)
{
	struct fx *f = arg;
	struct spec x = add_of("n4", 4, "sim://4");
	const uint64_t end = H + CHAIN_APPROVAL_TTL;
	CHECK(approved(f, H, vkey(0), x, false));
	CHECK(approved(f, end - 1, vkey(1), x, false));
	REQUIRE(open_at(f, end - 1));
	const struct chain_open_change *o = find_open(f, CHAIN_VAL_ADD, "n4");
	CHECK(approvers_are(o, 3, 2, SLOTS(0, 1)));
	CHECK(o != NULL && o->first_height == H);

	REQUIRE(open_at(f, end));
	CHECK_EQ_INT(f->nopen, 0);
	/* the change starts again: n2's approval is the first, and n0 may approve anew */
	CHECK(approved(f, end, vkey(2), x, false));
	REQUIRE(open_at(f, end));
	o = find_open(f, CHAIN_VAL_ADD, "n4");
	CHECK(approvers_are(o, 3, 1, SLOTS(2)));
	CHECK(o != NULL && o->first_height == end);
	CHECK(approved(f, end, vkey(0), x, false));
	CHECK(members_are(at(f, UINT64_MAX), 4, SLOTS(0, 1, 2, 3), KEYS(0, 1, 2, 3)));
	CHECK(approved(f, end + 1, vkey(1), x, true));
	CHECK(members_are(at(f, end + 1 + CHAIN_VAL_DELAY), 5, SLOTS(0, 1, 2, 3, 4),
			  KEYS(0, 1, 2, 3, 4)));
}

/* ---- 8. changes that do not apply ---- */

static void
test_errors(void *arg)
{
	struct fx *f = arg;
	/* an open change first, so that the overlay holds approvals */
	CHECK(approved(f, H, vkey(0), add_of("n4", 4, "sim://4"), false));

	CHECK(refused(f, H, vkey(1), add_of("n2", 5, "sim://5"),
		      "validator id n2 is already in the set"));
	CHECK(refused(f, H, vkey(1), add_of("n9", 1, "sim://9"),
		      "that key is already a validator's"));
	CHECK(refused(f, H, vkey(1), remove_of("nx"), "no validator nx in the set"));
	CHECK(refused(f, H, vkey(1), rekey_of("nx", 5), "no validator nx in the set"));
	CHECK(refused(f, H, vkey(1), rekey_of("n0", 3), "that key is already a validator's"));
	struct spec bad_add = {CHAIN_VAL_ADD, "n9", bad_point, "sim://9"};
	CHECK(refused(f, H, vkey(1), bad_add, "not a P-256 point"));
	struct spec bad_rekey = {CHAIN_VAL_REKEY, "n0", bad_point, NULL};
	CHECK(refused(f, H, vkey(1), bad_rekey, "not a P-256 point"));
	CHECK(refused(f, 0, vkey(1), remove_of("n3"), "must be in a block"));
	CHECK(refused(f, H, outsider, remove_of("n3"), "not a validator"));

	/* the rules apply to the latest scheduled set, not to the one in force */
	CHECK(approved(f, H, vkey(1), add_of("n4", 4, "sim://4"), false));
	CHECK(approved(f, H, vkey(2), add_of("n4", 4, "sim://4"), true));
	CHECK(refused(f, H + 1, vkey(3), add_of("n4", 5, "sim://5"), "already in the set"));
	CHECK(refused(f, H + 1, vkey(3), add_of("n8", 4, "sim://8"), "already a validator's"));
	CHECK(approved(f, H + 1, vkey(3), remove_of("n4"), false));
	CHECK(approved(f, H + 1, vkey(3), rekey_of("n4", 7), false));

	/* nothing refused left a trace */
	REQUIRE(open_at(f, H + 1));
	CHECK_EQ_INT(f->nopen, 2);
	CHECK(members_are(at(f, UINT64_MAX), 5, SLOTS(0, 1, 2, 3, 4), KEYS(0, 1, 2, 3, 4)));
}

/* A set of one may not remove its last member, now or in the latest scheduled set. */
static void
test_last_validator(void)
{
	struct fx *f = setup_n(1);
	REQUIRE(f != NULL);
	CHECK(refused(f, H, vkey(0), remove_of("n0"), "cannot remove the last validator"));
	/* quorum 1 of 1: one approval completes an addition */
	CHECK(approved(f, H, vkey(0), add_of("n1", 1, "sim://1"), true));
	CHECK(members_are(at(f, H + CHAIN_VAL_DELAY), 2, SLOTS(0, 1), KEYS(0, 1)));
	teardown(f);

	f = setup_n(2); /* quorum 2 of 2 */
	REQUIRE(f != NULL);
	CHECK(approved(f, H, vkey(0), remove_of("n1"), false));
	CHECK(approved(f, H, vkey(1), remove_of("n1"), true));
	CHECK(refused(f, H + 1, vkey(1), remove_of("n0"), "cannot remove the last validator"));
	CHECK(members_are(at(f, H + CHAIN_VAL_DELAY), 1, SLOTS(0), KEYS(0)));
	teardown(f);
}

/* At most CHAIN_MAX_OPEN_CHANGES at once; expired ones make room. */
static void
test_open_limit(void *arg)
{
	struct fx *f = arg;
	enum { K = CHAIN_MAX_OPEN_PER_VALIDATOR };
	static uint8_t pubs[K + 2][CR_PUBKEY_LEN];
	for (uint32_t i = 0; i < K + 2; i++) {
		struct cr_key *k = test_key("rekey", i);
		cr_key_pubkey(k, pubs[i]);
		cr_key_free(k);
	}
	/* validator 1 starts as many changes as one may */
	for (uint32_t i = 0; i < K; i++) {
		struct spec s = {CHAIN_VAL_REKEY, "n0", pubs[i], NULL};
		CHECK(approved(f, H + i, vkey(1), s, false));
	}
	REQUIRE(open_at(f, H + K));
	CHECK_EQ_INT(f->nopen, K);
	struct spec more = {CHAIN_VAL_REKEY, "n0", pubs[K], NULL};
	CHECK(refused(f, H + K, vkey(1), more, "started"));
	/* the others are not blocked: validator 2 starts one, and approves one of 1's */
	CHECK(approved(f, H + K, vkey(2), more, false));
	struct spec first = {CHAIN_VAL_REKEY, "n0", pubs[0], NULL};
	CHECK(approved(f, H + K, vkey(2), first, false));
	/* once 1's first has expired, it may start another */
	struct spec last = {CHAIN_VAL_REKEY, "n0", pubs[K + 1], NULL};
	CHECK(approved(f, H + CHAIN_APPROVAL_TTL, vkey(1), last, false));
	REQUIRE(open_at(f, H + CHAIN_APPROVAL_TTL));
	CHECK_EQ_INT(f->nopen, K + 1); /* 1's first expired; 1's last and 2's are in */
}

/* Slots are given out once: CHAIN_MAX_VALIDATORS over the chain's life. */
static void
test_slots(void)
{
	struct fx *f = setup_n(CHAIN_MAX_VALIDATORS);
	REQUIRE(f != NULL);
	CHECK(refused(f, H, vkey(0), add_of("new", CHAIN_MAX_VALIDATORS, "sim://new"),
		      "validator slots"));
	teardown(f);

	/* one slot left: an addition takes it; after a removal there is still none */
	uint32_t n = CHAIN_MAX_VALIDATORS - 1;
	f = setup_n(n);
	REQUIRE(f != NULL);
	struct spec add = add_of("new", CHAIN_MAX_VALIDATORS, "sim://new");
	uint32_t q = chain_valset_quorum(n);
	for (uint32_t i = 0; i < q; i++)
		CHECK(approved(f, H, vkey(i), add, i + 1 == q));
	const struct chain_valset *s = at(f, H + CHAIN_VAL_DELAY);
	REQUIRE(s != NULL);
	CHECK(s->n == CHAIN_MAX_VALIDATORS && s->next_slot == CHAIN_MAX_VALIDATORS);
	CHECK(s->m[n].slot == n && strcmp(s->m[n].id, "new") == 0);
	const uint64_t h = H + CHAIN_VAL_DELAY;
	q = chain_valset_quorum(CHAIN_MAX_VALIDATORS);
	for (uint32_t i = 0; i < q; i++)
		CHECK(approved(f, h, vkey(i + 1), remove_of("n0"), i + 1 == q));
	s = at(f, h + CHAIN_VAL_DELAY);
	REQUIRE(s != NULL);
	CHECK(s->n == n && s->m[0].slot == 1);
	CHECK(refused(f, h + CHAIN_VAL_DELAY, vkey(1),
		      add_of("again", CHAIN_MAX_VALIDATORS + 1, "sim://again"), "validator slots"));
	teardown(f);
}

/* ---- 9. quorums ---- */

static void
test_quorum(void)
{
	for (uint32_t n = 1; n <= CHAIN_MAX_VALIDATORS; n++) {
		CHECK_EQ_INT(chain_valset_quorum(n), pbft_quorum(n));
		CHECK_EQ_INT(chain_valset_faults(n), pbft_faults(n));
	}
	CHECK(chain_valset_quorum(1) == 1 && chain_valset_quorum(3) == 2);
	CHECK(chain_valset_quorum(4) == 3 && chain_valset_quorum(7) == 5);
	CHECK(chain_valset_quorum(256) == 171);
}

/* The key of a change names all of it. */
static void
test_change_key(void)
{
	uint8_t a[16], b[16];
	chain_valset_change_key(CHAIN_VAL_ADD, "n4", vpub(4), "sim://4", a);
	chain_valset_change_key(CHAIN_VAL_ADD, "n4", vpub(4), "sim://4", b);
	CHECK(memcmp(a, b, 16) == 0);
	chain_valset_change_key(CHAIN_VAL_REKEY, "n4", vpub(4), "sim://4", b);
	CHECK(memcmp(a, b, 16) != 0);
	chain_valset_change_key(CHAIN_VAL_ADD, "n5", vpub(4), "sim://4", b);
	CHECK(memcmp(a, b, 16) != 0);
	chain_valset_change_key(CHAIN_VAL_ADD, "n4", vpub(5), "sim://4", b);
	CHECK(memcmp(a, b, 16) != 0);
	chain_valset_change_key(CHAIN_VAL_ADD, "n4", vpub(4), "sim://5", b);
	CHECK(memcmp(a, b, 16) != 0);
	/* the lengths are part of it: "n4" + "1x" is not "n41" + "x" */
	chain_valset_change_key(CHAIN_VAL_ADD, "n41", vpub(4), "x", a);
	chain_valset_change_key(CHAIN_VAL_ADD, "n4", vpub(4), "1x", b);
	CHECK(memcmp(a, b, 16) != 0);
}

int
main(void)
{
	outsider = test_key("outsider", 0);
	RUN_WITH(test_genesis_set, setup4, teardown);
	RUN(test_genesis_in_store);
	RUN_WITH(test_add_by_quorum, setup4, teardown);
	RUN_WITH(test_exec_apply, setup4, teardown);
	RUN_WITH(test_remove, setup4, teardown);
	RUN_WITH(test_same_block, setup4, teardown);
	RUN_WITH(test_consecutive, setup4, teardown);
	RUN_WITH(test_rekey, setup4, teardown);
	RUN_WITH(test_removed_approvals, setup4, teardown);
	RUN_WITH(test_expiry, setup4, teardown);
	RUN_WITH(test_errors, setup4, teardown);
	RUN(test_last_validator);
	RUN_WITH(test_open_limit, setup4, teardown);
	RUN(test_slots);
	RUN(test_quorum);
	RUN(test_change_key);
	for (size_t i = 0; i < NKEYS; i++)
		cr_key_free(vkeys[i]);
	cr_key_free(outsider);
	return TEST_DONE();
}
