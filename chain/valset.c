/* The validator set over a chain's life (valset.h). */
#include "chain/valset.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

const uint8_t CHAIN_SYS_OWNER[CR_ADDR_LEN] = {0};

static const char starts_name[] = "valset/starts";
static const char index_name[] = "approve/index";
static const char change_domain[] = "chaind/valchange/v1";

uint32_t
chain_valset_faults(uint32_t n)
{
	return n == 0 ? 0 : (n - 1) / 3;
}

uint32_t
chain_valset_quorum(uint32_t n)
{
	uint32_t f = chain_valset_faults(n);
	return (n + f + 2) / 2;
}

void
chain_valset_genesis(const struct chain_genesis *g, struct chain_valset *s)
{
	memset(s, 0, sizeof(*s));
	s->start = 1;
	s->n = (uint32_t)g->nvalidators;
	s->next_slot = (uint16_t)g->nvalidators;
	for (uint32_t i = 0; i < s->n; i++) {
		struct chain_member *m = &s->m[i];
		m->slot = (uint16_t)i;
		snprintf(m->id, sizeof(m->id), "%s", g->validators[i].id);
		memcpy(m->pub_key, g->validators[i].pub_key, CR_PUBKEY_LEN);
		snprintf(m->addr, sizeof(m->addr), "%s", g->validators[i].p2p_address);
	}
}

int
chain_valset_find_key(const struct chain_valset *s, const uint8_t pub[CR_PUBKEY_LEN])
{
	for (uint32_t i = 0; i < s->n; i++)
		if (memcmp(s->m[i].pub_key, pub, CR_PUBKEY_LEN) == 0)
			return (int)i;
	return -1;
}

int
chain_valset_find_id(const struct chain_valset *s, const char *id)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (strcmp(s->m[i].id, id) == 0)
			return (int)i;
	return -1;
}

int
chain_valset_find_slot(const struct chain_valset *s, uint32_t slot)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->m[i].slot == slot)
			return (int)i;
	return -1;
}

bool
chain_valset_same(const struct chain_valset *a, const struct chain_valset *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->n; i++)
		if (a->m[i].slot != b->m[i].slot ||
		    memcmp(a->m[i].pub_key, b->m[i].pub_key, CR_PUBKEY_LEN) != 0)
			return false;
	return true;
}

/* ---- encodings ---- */

static void
put_str(struct ch_buf *b, const char *s)
{
	size_t n = strlen(s);
	ch_buf_u8(b, (uint8_t)n);
	ch_buf_put(b, s, n);
}

/* get_str reads a u8-length string into out (cap bytes with its NUL); false if it does not fit. */
static bool
get_str(struct ch_rd *r, char *out, size_t cap)
{
	uint8_t n = ch_rd_u8(r);
	if (r->bad || n >= cap)
		return false;
	ch_rd_copy(r, out, n);
	out[n] = 0;
	return !r->bad && strlen(out) == n;
}

static void
set_encode(const struct chain_valset *s, struct ch_buf *b)
{
	ch_buf_u16(b, s->next_slot);
	ch_buf_u16(b, (uint16_t)s->n);
	for (uint32_t i = 0; i < s->n; i++) {
		ch_buf_u16(b, s->m[i].slot);
		ch_buf_put(b, s->m[i].pub_key, CR_PUBKEY_LEN);
		put_str(b, s->m[i].id);
		put_str(b, s->m[i].addr);
	}
}

static int
set_decode(const uint8_t *p, size_t len, uint64_t start, struct chain_valset *s,
	   struct ch_err *err)
{
	struct ch_rd r;
	ch_rd_init(&r, p, len);
	memset(s, 0, sizeof(*s));
	s->start = start;
	s->next_slot = ch_rd_u16(&r);
	s->n = ch_rd_u16(&r);
	bool ok = !r.bad && s->n >= 1 && s->n <= CHAIN_MAX_VALIDATORS;
	for (uint32_t i = 0; ok && i < s->n; i++) {
		struct chain_member *m = &s->m[i];
		m->slot = ch_rd_u16(&r);
		ch_rd_copy(&r, m->pub_key, CR_PUBKEY_LEN);
		ok = get_str(&r, m->id, sizeof(m->id)) && get_str(&r, m->addr, sizeof(m->addr)) &&
		     m->slot < s->next_slot && (i == 0 || m->slot > s->m[i - 1].slot);
	}
	if (!ok || !ch_rd_done(&r))
		return ch_errf(err, CH_E_CORRUPT, "state: the validator set from height %" PRIu64
			       " is damaged", start);
	return 0;
}

/* ---- reading ---- */

static void
set_name(char out[40], uint64_t start)
{
	snprintf(out, 40, "valset/%" PRIu64, start);
}

int
chain_valset_starts(const struct chain_state_reader *state, uint64_t *starts, size_t cap,
		    size_t *n, struct ch_err *err)
{
	struct ch_buf v;
	bool found = false;
	ch_buf_init(&v);
	int rc = state->get_data(state->arg, CHAIN_SYS_OWNER, starts_name, &v, &found, err);
	*n = 0;
	if (rc == 0 && (!found || v.len == 0))
		rc = ch_errf(err, CH_E_NOT_FOUND, "state: no validator set recorded");
	else if (rc == 0 && (v.len % 8 != 0 || v.len / 8 > CHAIN_MAX_EPOCHS))
		rc = ch_errf(err, CH_E_CORRUPT, "state: the list of validator sets is damaged");
	if (rc == 0) {
		struct ch_rd r;
		ch_rd_init(&r, v.data, v.len);
		for (size_t i = 0; i < v.len / 8; i++) {
			uint64_t s = ch_rd_u64(&r);
			if (i < cap)
				starts[i] = s;
		}
		*n = v.len / 8;
	}
	ch_buf_close(&v);
	return rc;
}

static int
read_set(const struct chain_state_reader *state, uint64_t start, struct chain_valset *out,
	 struct ch_err *err)
{
	char name[40];
	struct ch_buf v;
	bool found = false;
	set_name(name, start);
	ch_buf_init(&v);
	int rc = state->get_data(state->arg, CHAIN_SYS_OWNER, name, &v, &found, err);
	if (rc == 0 && !found)
		rc = ch_errf(err, CH_E_CORRUPT, "state: the validator set from height %" PRIu64
			     " is missing", start);
	if (rc == 0)
		rc = set_decode(v.data, v.len, start, out, err);
	ch_buf_close(&v);
	return rc;
}

int
chain_valset_at_last(const struct chain_state_reader *state, uint64_t height,
		     struct chain_valset *out, uint64_t *last_start, struct ch_err *err)
{
	uint64_t *starts = malloc(CHAIN_MAX_EPOCHS * sizeof(*starts));
	if (starts == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	size_t n = 0;
	int rc = chain_valset_starts(state, starts, CHAIN_MAX_EPOCHS, &n, err);
	size_t i = n;
	while (rc == 0 && i > 0 && starts[i - 1] > height)
		i--;
	uint64_t start = i > 0 ? starts[i - 1] : 0;
	if (rc == 0 && last_start != NULL)
		*last_start = starts[n - 1];
	free(starts);
	if (rc == 0 && i == 0)
		rc = ch_errf(err, CH_E_NOT_FOUND, "state: no validator set at height %" PRIu64,
			     height);
	return rc == 0 ? read_set(state, start, out, err) : rc;
}

int
chain_valset_at(const struct chain_state_reader *state, uint64_t height, struct chain_valset *out,
		struct ch_err *err)
{
	return chain_valset_at_last(state, height, out, NULL, err);
}

/* ---- writing ---- */

static int
put(struct chain_exec *x, const char *name, const struct ch_buf *v, struct ch_err *err)
{
	if (!ch_buf_ok(v) || v->len > UINT16_MAX)
		return ch_errf(err, CH_E_NOMEM, "state: out of memory writing %s", name);
	int rc = chain_exec_put_data(x, CHAIN_SYS_OWNER, name, v->data, (uint16_t)v->len);
	return rc == 0 ? 0 : ch_errf(err, rc, "state: out of memory writing %s", name);
}

static int
write_set(struct chain_exec *x, const struct chain_valset *s, bool new_start, struct ch_err *err)
{
	struct chain_state_reader r = chain_exec_reader(x);
	char name[40];
	struct ch_buf v;
	int rc = 0;
	ch_buf_init(&v);
	if (new_start) {
		bool found = false;
		rc = r.get_data(r.arg, CHAIN_SYS_OWNER, starts_name, &v, &found, err);
		if (rc == 0 && v.len / 8 >= CHAIN_MAX_EPOCHS)
			rc = ch_errf(err, CH_E_TX_INVALID,
				     "the chain has had %d validator sets, the most it can have",
				     CHAIN_MAX_EPOCHS);
		ch_buf_u64(&v, s->start);
		if (rc == 0)
			rc = put(x, starts_name, &v, err);
		v.len = 0;
	}
	set_encode(s, &v);
	set_name(name, s->start);
	if (rc == 0)
		rc = put(x, name, &v, err);
	ch_buf_close(&v);
	return rc;
}

int
chain_valset_write_genesis(struct chain_exec *x, const struct chain_genesis *g,
			   struct ch_err *err)
{
	struct chain_valset *s = malloc(sizeof(*s));
	if (s == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	chain_valset_genesis(g, s);
	int rc = write_set(x, s, true, err);
	free(s);
	return rc;
}

/* ---- changes ---- */

void
chain_valset_change_key(uint8_t op, const char *id, const uint8_t pub[CR_PUBKEY_LEN],
			const char *addr, uint8_t key[16])
{
	struct ch_buf b;
	uint8_t h[CR_HASH_LEN];
	ch_buf_init(&b);
	ch_buf_put(&b, change_domain, sizeof(change_domain));
	ch_buf_u8(&b, op);
	put_str(&b, id);
	ch_buf_put(&b, pub, CR_PUBKEY_LEN);
	put_str(&b, addr);
	if (!ch_buf_ok(&b))
		abort(); /* a few hundred bytes */
	cr_sha256(b.data, b.len, h);
	memcpy(key, h, 16);
	ch_buf_close(&b);
}

static void
change_name(char out[48], const uint8_t key[16])
{
	char hex[33];
	cr_hex_encode(key, 16, hex);
	snprintf(out, 48, "approve/%s", hex);
}

/*
 * An open change is recorded as a struct chain_open_change holding every
 * approver's slot (members or not; its quorum is not recorded).
 */

static void
change_encode(const struct chain_open_change *c, struct ch_buf *b)
{
	ch_buf_u64(b, c->first_height);
	ch_buf_u8(b, c->op);
	put_str(b, c->id);
	ch_buf_put(b, c->pub_key, CR_PUBKEY_LEN);
	put_str(b, c->addr);
	ch_buf_u16(b, (uint16_t)c->napprovers);
	for (uint32_t i = 0; i < c->napprovers; i++)
		ch_buf_u16(b, c->approvers[i]);
}

/* read_change reads the change recorded under key: *found false if none (or cleared). */
static int
read_change(const struct chain_state_reader *r, const uint8_t key[16], struct chain_open_change *c,
	    bool *found, struct ch_err *err)
{
	char name[48];
	struct ch_buf v;
	change_name(name, key);
	ch_buf_init(&v);
	*found = false;
	int rc = r->get_data(r->arg, CHAIN_SYS_OWNER, name, &v, found, err);
	if (rc == 0 && *found && v.len == 0)
		*found = false; /* completed changes are cleared to an empty value */
	if (rc == 0 && *found) {
		struct ch_rd rd;
		ch_rd_init(&rd, v.data, v.len);
		memset(c, 0, sizeof(*c));
		c->first_height = ch_rd_u64(&rd);
		c->op = ch_rd_u8(&rd);
		bool ok = get_str(&rd, c->id, sizeof(c->id));
		ch_rd_copy(&rd, c->pub_key, CR_PUBKEY_LEN);
		ok = ok && get_str(&rd, c->addr, sizeof(c->addr));
		c->napprovers = ch_rd_u16(&rd);
		ok = ok && !rd.bad && c->napprovers <= CHAIN_MAX_VALIDATORS;
		for (uint32_t i = 0; ok && i < c->napprovers; i++)
			c->approvers[i] = ch_rd_u16(&rd);
		if (!ok || !ch_rd_done(&rd))
			rc = ch_errf(err, CH_E_CORRUPT, "state: the open change %s is damaged", name);
	}
	ch_buf_close(&v);
	return rc;
}

/* read_index reads the open changes' keys into keys (at most CHAIN_MAX_OPEN_CHANGES). */
static int
read_index(const struct chain_state_reader *r, uint8_t (*keys)[16], size_t *n, struct ch_err *err)
{
	struct ch_buf v;
	bool found = false;
	ch_buf_init(&v);
	*n = 0;
	int rc = r->get_data(r->arg, CHAIN_SYS_OWNER, index_name, &v, &found, err);
	if (rc == 0 && (v.len % 16 != 0 || v.len / 16 > CHAIN_MAX_OPEN_CHANGES))
		rc = ch_errf(err, CH_E_CORRUPT, "state: the index of open changes is damaged");
	if (rc == 0 && v.len > 0) { /* memcpy from a NULL v.data is undefined even for 0 bytes */
		*n = v.len / 16;
		memcpy(keys, v.data, v.len);
	}
	ch_buf_close(&v);
	return rc;
}

static int
write_index(struct chain_exec *x, uint8_t (*keys)[16], size_t n, struct ch_err *err)
{
	struct ch_buf v;
	ch_buf_init(&v);
	ch_buf_put(&v, keys, n * 16);
	if (n == 0)
		ch_buf_reserve(&v, 1);
	int rc = put(x, index_name, &v, err);
	ch_buf_close(&v);
	return rc;
}

/* live: is a change first approved at first still open at height? */
static bool
live(uint64_t first, uint64_t height)
{
	return height < first + CHAIN_APPROVAL_TTL;
}

/* counted: the approvals of c by members of cur. */
static uint32_t
counted(const struct chain_open_change *c, const struct chain_valset *cur)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < c->napprovers; i++)
		k += chain_valset_find_slot(cur, c->approvers[i]) >= 0;
	return k;
}

/* check_change: does tx's change apply to the latest scheduled set? */
static int
check_change(const struct chain_tx *tx, const struct chain_valset *last, struct ch_err *err)
{
	int at = chain_valset_find_id(last, tx->name);
	if (tx->val_op == CHAIN_VAL_ADD) {
		if (at >= 0)
			return ch_errf(err, CH_E_TX_INVALID, "validator id %s is already in the set",
				       tx->name);
		if (chain_valset_find_key(last, tx->val_pub) >= 0)
			return ch_errf(err, CH_E_TX_INVALID, "that key is already a validator's");
		if (last->n >= CHAIN_MAX_VALIDATORS || last->next_slot >= CHAIN_MAX_VALIDATORS)
			return ch_errf(err, CH_E_TX_INVALID,
				       "the chain has given out all %d validator slots",
				       CHAIN_MAX_VALIDATORS);
		struct cr_pubkey *pk = NULL;
		if (cr_pubkey_parse(&pk, tx->val_pub, NULL) != 0)
			return ch_errf(err, CH_E_TX_INVALID, "the new validator's key is not a P-256 point");
		cr_pubkey_free(pk);
		return 0;
	}
	if (at < 0)
		return ch_errf(err, CH_E_TX_INVALID, "no validator %s in the set", tx->name);
	if (tx->val_op == CHAIN_VAL_REMOVE) {
		if (last->n <= 1)
			return ch_errf(err, CH_E_TX_INVALID, "cannot remove the last validator");
		return 0;
	}
	if (chain_valset_find_key(last, tx->val_pub) >= 0)
		return ch_errf(err, CH_E_TX_INVALID, "that key is already a validator's");
	struct cr_pubkey *pk = NULL;
	if (cr_pubkey_parse(&pk, tx->val_pub, NULL) != 0)
		return ch_errf(err, CH_E_TX_INVALID, "the new key is not a P-256 point");
	cr_pubkey_free(pk);
	return 0;
}

/* change_set applies tx's change to s (checked by check_change). */
static void
change_set(struct chain_valset *s, const struct chain_tx *tx)
{
	int at = chain_valset_find_id(s, tx->name);
	if (tx->val_op == CHAIN_VAL_ADD) {
		struct chain_member *m = &s->m[s->n++];
		memset(m, 0, sizeof(*m));
		m->slot = s->next_slot++;
		snprintf(m->id, sizeof(m->id), "%.*s", CHAIN_MAX_VAL_ID, tx->name);
		memcpy(m->pub_key, tx->val_pub, CR_PUBKEY_LEN);
		snprintf(m->addr, sizeof(m->addr), "%.*s", (int)tx->value_len, (const char *)tx->value);
	} else if (tx->val_op == CHAIN_VAL_REMOVE) {
		memmove(&s->m[at], &s->m[at + 1], (s->n - (uint32_t)at - 1) * sizeof(s->m[0]));
		s->n--;
	} else {
		memcpy(s->m[at].pub_key, tx->val_pub, CR_PUBKEY_LEN);
	}
}

struct apply_ctx {
	struct chain_valset cur, last;
	struct chain_open_change ch;
	uint8_t keys[CHAIN_MAX_OPEN_CHANGES][16];
};

/* index_add puts key into the index, evicting expired changes when it is full. */
static int
index_add(struct chain_exec *x, struct apply_ctx *a, const uint8_t key[16], uint64_t height,
	  struct ch_err *err)
{
	struct chain_state_reader r = chain_exec_reader(x);
	size_t n = 0;
	int rc = read_index(&r, a->keys, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (memcmp(a->keys[i], key, 16) == 0)
			return 0;
	if (rc == 0 && n == CHAIN_MAX_OPEN_CHANGES) {
		size_t k = 0;
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct chain_open_change old;
			bool found = false;
			rc = read_change(&r, a->keys[i], &old, &found, err);
			if (rc == 0 && found && live(old.first_height, height))
				memcpy(a->keys[k++], a->keys[i], 16);
		}
		n = k;
		if (rc == 0 && n == CHAIN_MAX_OPEN_CHANGES)
			rc = ch_errf(err, CH_E_TX_INVALID, "%d validator changes are open already",
				     CHAIN_MAX_OPEN_CHANGES);
	}
	if (rc == 0) {
		memcpy(a->keys[n++], key, 16);
		rc = write_index(x, a->keys, n, err);
	}
	return rc;
}

static int
index_remove(struct chain_exec *x, struct apply_ctx *a, const uint8_t key[16], struct ch_err *err)
{
	struct chain_state_reader r = chain_exec_reader(x);
	size_t n = 0, k = 0;
	int rc = read_index(&r, a->keys, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (memcmp(a->keys[i], key, 16) != 0)
			memcpy(a->keys[k++], a->keys[i], 16);
	return rc == 0 ? write_index(x, a->keys, k, err) : rc;
}

/* check_started: may validator slot start another change (CHAIN_MAX_OPEN_PER_VALIDATOR)? */
static int
check_started(const struct chain_state_reader *r, struct apply_ctx *a, uint16_t slot,
	      uint64_t height, struct ch_err *err)
{
	size_t n = 0;
	uint32_t mine = 0;
	int rc = read_index(r, a->keys, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct chain_open_change c;
		bool found = false;
		rc = read_change(r, a->keys[i], &c, &found, err);
		mine += rc == 0 && found && live(c.first_height, height) && c.napprovers > 0 &&
			c.approvers[0] == slot;
	}
	if (rc == 0 && mine >= CHAIN_MAX_OPEN_PER_VALIDATOR)
		rc = ch_errf(err, CH_E_TX_INVALID,
			     "this validator has started %u open changes already, the most it may",
			     mine);
	return rc;
}

static int
apply(struct chain_exec *x, struct apply_ctx *a, uint64_t height, const struct chain_tx *tx,
      bool *scheduled, struct ch_err *err)
{
	struct chain_state_reader r = chain_exec_reader(x);
	int rc;
	if ((rc = chain_valset_at(&r, height, &a->cur, err)) != 0 ||
	    (rc = chain_valset_at(&r, UINT64_MAX, &a->last, err)) != 0)
		return rc;
	int signer = chain_valset_find_key(&a->cur, tx->pubkey);
	if (signer < 0)
		return ch_errf(err, CH_E_TX_INVALID,
			       "the signer is not a validator of the set at height %" PRIu64, height);
	if ((rc = check_change(tx, &a->last, err)) != 0)
		return rc;
	char addr[CHAIN_MAX_VAL_ADDR + 1];
	snprintf(addr, sizeof(addr), "%.*s", (int)tx->value_len, (const char *)tx->value);
	uint8_t key[16];
	chain_valset_change_key(tx->val_op, tx->name, tx->val_pub, addr, key);
	bool found = false;
	if ((rc = read_change(&r, key, &a->ch, &found, err)) != 0)
		return rc;
	if (!found || !live(a->ch.first_height, height)) {
		if ((rc = check_started(&r, a, a->cur.m[signer].slot, height, err)) != 0)
			return rc;
		memset(&a->ch, 0, sizeof(a->ch));
		a->ch.first_height = height;
		a->ch.op = tx->val_op;
		snprintf(a->ch.id, sizeof(a->ch.id), "%.*s", CHAIN_MAX_VAL_ID, tx->name);
		memcpy(a->ch.pub_key, tx->val_pub, CR_PUBKEY_LEN);
		snprintf(a->ch.addr, sizeof(a->ch.addr), "%s", addr);
	}
	uint16_t slot = a->cur.m[signer].slot;
	for (uint32_t i = 0; i < a->ch.napprovers; i++)
		if (a->ch.approvers[i] == slot)
			return ch_errf(err, CH_E_TX_INVALID,
				       "validator %s already approved this change",
				       a->cur.m[signer].id);
	/* drop approvals of former members: they no longer count, and the list stays bounded */
	uint32_t k = 0;
	for (uint32_t i = 0; i < a->ch.napprovers; i++)
		if (chain_valset_find_slot(&a->cur, a->ch.approvers[i]) >= 0)
			a->ch.approvers[k++] = a->ch.approvers[i];
	a->ch.napprovers = k;
	a->ch.approvers[a->ch.napprovers++] = slot;

	char name[48];
	struct ch_buf v;
	change_name(name, key);
	ch_buf_init(&v);
	bool done = counted(&a->ch, &a->cur) >= chain_valset_quorum(a->cur.n);
	if (done) {
		/* the change rules from height + delay, on top of every change scheduled before */
		uint64_t start = height + CHAIN_VAL_DELAY;
		bool new_start = a->last.start != start;
		change_set(&a->last, tx);
		a->last.start = start;
		/* write_set refuses before it writes: nothing has changed if it does */
		if ((rc = write_set(x, &a->last, new_start, err)) == 0)
			rc = index_remove(x, a, key, err);
		ch_buf_reserve(&v, 1);
	} else {
		change_encode(&a->ch, &v);
		rc = index_add(x, a, key, height, err);
	}
	if (rc == 0)
		rc = put(x, name, &v, err);
	ch_buf_close(&v);
	if (rc == 0 && scheduled != NULL)
		*scheduled = done;
	return rc;
}

int
chain_valset_apply(struct chain_exec *x, uint64_t height, const struct chain_tx *tx,
		   bool *scheduled, struct ch_err *err)
{
	if (height == 0)
		return ch_errf(err, CH_E_TX_INVALID, "a validator change must be in a block");
	struct apply_ctx *a = malloc(sizeof(*a));
	if (a == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	int rc = apply(x, a, height, tx, scheduled, err);
	free(a);
	return rc;
}

int
chain_valset_open(const struct chain_state_reader *state, uint64_t height,
		  struct chain_open_change *out, size_t cap, size_t *n, struct ch_err *err)
{
	struct apply_ctx *a = malloc(sizeof(*a));
	if (a == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	size_t nk = 0;
	*n = 0;
	int rc = chain_valset_at(state, height, &a->cur, err);
	if (rc == 0)
		rc = read_index(state, a->keys, &nk, err);
	for (size_t i = 0; rc == 0 && i < nk && *n < cap; i++) {
		bool found = false;
		rc = read_change(state, a->keys[i], &a->ch, &found, err);
		if (rc != 0 || !found || !live(a->ch.first_height, height))
			continue;
		struct chain_open_change *o = &out[*n];
		memset(o, 0, sizeof(*o));
		for (uint32_t j = 0; j < a->ch.napprovers; j++)
			if (chain_valset_find_slot(&a->cur, a->ch.approvers[j]) >= 0)
				o->approvers[o->napprovers++] = a->ch.approvers[j];
		if (o->napprovers == 0)
			continue;
		o->first_height = a->ch.first_height;
		o->op = a->ch.op;
		memcpy(o->id, a->ch.id, sizeof(o->id));
		memcpy(o->pub_key, a->ch.pub_key, CR_PUBKEY_LEN);
		memcpy(o->addr, a->ch.addr, sizeof(o->addr));
		o->quorum = chain_valset_quorum(a->cur.n);
		(*n)++;
	}
	free(a);
	return rc;
}
