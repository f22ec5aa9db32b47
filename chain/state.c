/*
 * Execution overlay: written accounts and data entries in open-addressing
 * hash tables over a read-only base. Iteration sorts by key.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "chain/state.h"
#include "chain/valset.h"

struct acct_entry {
	bool used;
	uint8_t addr[CR_ADDR_LEN];
	struct chain_account acct;
};

struct data_entry {
	bool used;
	uint8_t owner[CR_ADDR_LEN];
	char name[CHAIN_MAX_NAME + 1];
	uint16_t len;
	uint8_t *value; /* owned */
};

struct chain_exec {
	struct chain_state_reader base;
	struct acct_entry *accts;
	size_t nacct, acap;
	struct data_entry *data;
	size_t ndata, dcap;
	uint64_t height; /* of the block executed; 0: none (validator changes refused) */
};

static uint64_t
hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

int
chain_state_nonce(void *reader, const uint8_t addr[CR_ADDR_LEN], uint64_t *nonce)
{
	const struct chain_state_reader *rd = reader;
	struct chain_account a;
	int rc = rd->get_account(rd->arg, addr, &a, NULL);
	if (rc == 0)
		*nonce = a.nonce;
	return rc;
}

int
chain_exec_new(struct chain_exec **out, const struct chain_state_reader *base)
{
	struct chain_exec *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return CH_E_NOMEM;
	x->base = *base;
	*out = x;
	return 0;
}

void
chain_exec_set_height(struct chain_exec *x, uint64_t height)
{
	x->height = height;
}

static int
reader_account(void *arg, const uint8_t addr[CR_ADDR_LEN], struct chain_account *out,
	       struct ch_err *err)
{
	return chain_exec_account(arg, addr, out, err);
}

static int
reader_data(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name, struct ch_buf *value,
	    bool *found, struct ch_err *err)
{
	return chain_exec_data(arg, owner, name, value, found, err);
}

struct chain_state_reader
chain_exec_reader(struct chain_exec *x)
{
	struct chain_state_reader r = {.get_account = reader_account, .get_data = reader_data,
				       .arg = x};
	return r;
}

void
chain_exec_free(struct chain_exec *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->dcap; i++)
		free(x->data[i].value);
	free(x->data);
	free(x->accts);
	free(x);
}

size_t
chain_exec_writes(const struct chain_exec *x)
{
	return x->nacct + x->ndata;
}

/* ---- accounts ---- */

static struct acct_entry *
acct_slot(struct acct_entry *t, size_t cap, const uint8_t addr[CR_ADDR_LEN])
{
	size_t i = hash_bytes(addr, CR_ADDR_LEN) & (cap - 1);
	while (t[i].used && memcmp(t[i].addr, addr, CR_ADDR_LEN) != 0)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

/* acct_reserve makes room for k more accounts. */
static int
acct_reserve(struct chain_exec *x, size_t k)
{
	if (x->nacct + k <= x->acap / 2)
		return 0;
	size_t cap = x->acap ? x->acap : 64;
	while (x->nacct + k > cap / 2)
		cap *= 2;
	struct acct_entry *t = calloc(cap, sizeof(*t));
	if (t == NULL)
		return CH_E_NOMEM;
	for (size_t i = 0; i < x->acap; i++)
		if (x->accts[i].used)
			*acct_slot(t, cap, x->accts[i].addr) = x->accts[i];
	free(x->accts);
	x->accts = t;
	x->acap = cap;
	return 0;
}

static const struct acct_entry *
acct_find(const struct chain_exec *x, const uint8_t addr[CR_ADDR_LEN])
{
	if (x->acap == 0)
		return NULL;
	const struct acct_entry *e = acct_slot(x->accts, x->acap, addr);
	return e->used ? e : NULL;
}

int
chain_exec_account(struct chain_exec *x, const uint8_t addr[CR_ADDR_LEN],
		   struct chain_account *out, struct ch_err *err)
{
	const struct acct_entry *e = acct_find(x, addr);
	if (e != NULL) {
		*out = e->acct;
		return 0;
	}
	return x->base.get_account(x->base.arg, addr, out, err);
}

static int
acct_put(struct chain_exec *x, const uint8_t addr[CR_ADDR_LEN], const struct chain_account *a)
{
	if (acct_reserve(x, 1) != 0)
		return CH_E_NOMEM;
	struct acct_entry *e = acct_slot(x->accts, x->acap, addr);
	if (!e->used) {
		e->used = true;
		memcpy(e->addr, addr, CR_ADDR_LEN);
		x->nacct++;
	}
	e->acct = *a;
	return 0;
}

/* ---- data ---- */

static uint64_t
data_hash(const uint8_t owner[CR_ADDR_LEN], const char *name)
{
	return hash_bytes(owner, CR_ADDR_LEN) ^ (hash_bytes((const uint8_t *)name, strlen(name)) * 31);
}

static struct data_entry *
data_slot(struct data_entry *t, size_t cap, const uint8_t owner[CR_ADDR_LEN], const char *name)
{
	size_t i = data_hash(owner, name) & (cap - 1);
	while (t[i].used &&
	       (memcmp(t[i].owner, owner, CR_ADDR_LEN) != 0 || strcmp(t[i].name, name) != 0))
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static int
data_grow(struct chain_exec *x)
{
	if (x->ndata + 1 <= x->dcap / 2)
		return 0;
	size_t cap = x->dcap ? x->dcap * 2 : 64;
	struct data_entry *t = calloc(cap, sizeof(*t));
	if (t == NULL)
		return CH_E_NOMEM;
	for (size_t i = 0; i < x->dcap; i++)
		if (x->data[i].used)
			*data_slot(t, cap, x->data[i].owner, x->data[i].name) = x->data[i];
	free(x->data);
	x->data = t;
	x->dcap = cap;
	return 0;
}

int
chain_exec_data(struct chain_exec *x, const uint8_t owner[CR_ADDR_LEN], const char *name,
		struct ch_buf *value, bool *found, struct ch_err *err)
{
	if (x->dcap > 0) {
		const struct data_entry *e = data_slot(x->data, x->dcap, owner, name);
		if (e->used) {
			ch_buf_put(value, e->value, e->len);
			*found = true;
			return ch_buf_ok(value) ? 0 : ch_errf(err, CH_E_NOMEM, "out of memory");
		}
	}
	return x->base.get_data(x->base.arg, owner, name, value, found, err);
}

static int
data_put(struct chain_exec *x, const uint8_t owner[CR_ADDR_LEN], const char *name,
	 const uint8_t *value, uint16_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL || data_grow(x) != 0) {
		free(copy);
		return CH_E_NOMEM;
	}
	memcpy(copy, value, len);
	struct data_entry *e = data_slot(x->data, x->dcap, owner, name);
	if (!e->used) {
		e->used = true;
		memcpy(e->owner, owner, CR_ADDR_LEN);
		strcpy(e->name, name);
		x->ndata++;
	}
	free(e->value);
	e->value = copy;
	e->len = len;
	return 0;
}

/* ---- rules ---- */

int
chain_exec_apply(struct chain_exec *x, const struct chain_tx *tx, struct ch_err *err)
{
	struct chain_account from, to;
	int rc = chain_exec_account(x, tx->sender, &from, err);
	if (rc != 0)
		return rc;
	if (tx->nonce < from.nonce)
		return ch_errf(err, CH_E_NONCE_TOO_LOW,
			       "nonce %" PRIu64 " already used (account nonce is %" PRIu64 ")",
			       tx->nonce, from.nonce);
	if (tx->nonce > from.nonce)
		return ch_errf(err, CH_E_NONCE_TOO_HIGH,
			       "nonce %" PRIu64 " but the account nonce is %" PRIu64, tx->nonce,
			       from.nonce);
	if (from.nonce == UINT64_MAX)
		return ch_errf(err, CH_E_TX_INVALID, "account nonce is exhausted");
	if (tx->type == CHAIN_TX_TRANSFER) {
		if (from.balance < tx->amount)
			return ch_errf(err, CH_E_INSUFFICIENT_FUNDS,
				       "balance %" PRIu64 " is less than the amount %" PRIu64,
				       from.balance, tx->amount);
		bool self = memcmp(tx->sender, tx->to, CR_ADDR_LEN) == 0;
		if (!self) {
			if ((rc = chain_exec_account(x, tx->to, &to, err)) != 0)
				return rc;
			if (to.balance > UINT64_MAX - tx->amount)
				return ch_errf(err, CH_E_TX_INVALID,
					       "the receiver's balance would overflow");
		}
		/* Grow both tables first so that no later step can fail half-way. */
		if (acct_reserve(x, 2) != 0)
			return ch_errf(err, CH_E_NOMEM, "out of memory");
		from.nonce++;
		if (!self) {
			from.balance -= tx->amount;
			to.balance += tx->amount;
			if (acct_put(x, tx->to, &to) != 0)
				return ch_errf(err, CH_E_NOMEM, "out of memory");
		}
		if (acct_put(x, tx->sender, &from) != 0)
			return ch_errf(err, CH_E_NOMEM, "out of memory");
		return 0;
	}
	if (tx->type == CHAIN_TX_SET) {
		if (acct_reserve(x, 1) != 0)
			return ch_errf(err, CH_E_NOMEM, "out of memory");
		if (data_put(x, tx->sender, tx->name, tx->value, tx->value_len) != 0)
			return ch_errf(err, CH_E_NOMEM, "out of memory");
		from.nonce++;
		if (acct_put(x, tx->sender, &from) != 0)
			return ch_errf(err, CH_E_NOMEM, "out of memory");
		return 0;
	}
	if (tx->type == CHAIN_TX_VALIDATOR) {
		if (acct_reserve(x, 1) != 0)
			return ch_errf(err, CH_E_NOMEM, "out of memory");
		if ((rc = chain_valset_apply(x, x->height, tx, NULL, err)) != 0)
			return rc;
		from.nonce++;
		if (acct_put(x, tx->sender, &from) != 0)
			return ch_errf(err, CH_E_NOMEM, "out of memory");
		return 0;
	}
	return ch_errf(err, CH_E_TX_INVALID, "unknown transaction type %u", tx->type);
}

int
chain_exec_put_data(struct chain_exec *x, const uint8_t owner[CR_ADDR_LEN], const char *name,
		    const uint8_t *value, uint16_t len)
{
	return data_put(x, owner, name, value, len);
}

int
chain_exec_credit(struct chain_exec *x, const uint8_t addr[CR_ADDR_LEN], uint64_t amount,
		  struct ch_err *err)
{
	struct chain_account a;
	int rc = chain_exec_account(x, addr, &a, err);
	if (rc != 0)
		return rc;
	if (a.balance > UINT64_MAX - amount)
		return ch_errf(err, CH_E_TX_INVALID, "balance would overflow");
	a.balance += amount;
	return acct_put(x, addr, &a) == 0 ? 0 : ch_errf(err, CH_E_NOMEM, "out of memory");
}

/* ---- ordered iteration and digest ---- */

static int
cmp_acct(const void *a, const void *b)
{
	return memcmp((*(const struct acct_entry *const *)a)->addr,
		      (*(const struct acct_entry *const *)b)->addr, CR_ADDR_LEN);
}

static int
cmp_data(const void *a, const void *b)
{
	const struct data_entry *x = *(const struct data_entry *const *)a;
	const struct data_entry *y = *(const struct data_entry *const *)b;
	int c = memcmp(x->owner, y->owner, CR_ADDR_LEN);
	return c != 0 ? c : strcmp(x->name, y->name);
}

static const struct acct_entry **
sorted_accts(const struct chain_exec *x)
{
	const struct acct_entry **v = malloc((x->nacct ? x->nacct : 1) * sizeof(*v));
	if (v == NULL)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < x->acap; i++)
		if (x->accts[i].used)
			v[k++] = &x->accts[i];
	qsort(v, k, sizeof(*v), cmp_acct);
	return v;
}

static const struct data_entry **
sorted_data(const struct chain_exec *x)
{
	const struct data_entry **v = malloc((x->ndata ? x->ndata : 1) * sizeof(*v));
	if (v == NULL)
		abort();
	size_t k = 0;
	for (size_t i = 0; i < x->dcap; i++)
		if (x->data[i].used)
			v[k++] = &x->data[i];
	qsort(v, k, sizeof(*v), cmp_data);
	return v;
}

void
chain_exec_foreach_account(const struct chain_exec *x,
			   void (*fn)(void *arg, const uint8_t addr[CR_ADDR_LEN],
				      const struct chain_account *acct),
			   void *arg)
{
	const struct acct_entry **v = sorted_accts(x);
	for (size_t i = 0; i < x->nacct; i++)
		fn(arg, v[i]->addr, &v[i]->acct);
	free(v);
}

void
chain_exec_foreach_data(const struct chain_exec *x,
			void (*fn)(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name,
				   const uint8_t *value, size_t len),
			void *arg)
{
	const struct data_entry **v = sorted_data(x);
	for (size_t i = 0; i < x->ndata; i++)
		fn(arg, v[i]->owner, v[i]->name, v[i]->value, v[i]->len);
	free(v);
}

static void
digest_acct(void *arg, const uint8_t addr[CR_ADDR_LEN], const struct chain_account *a)
{
	uint8_t rec[1 + CR_ADDR_LEN + 16];
	rec[0] = 'A';
	memcpy(rec + 1, addr, CR_ADDR_LEN);
	ch_put_be64(rec + 1 + CR_ADDR_LEN, a->balance);
	ch_put_be64(rec + 9 + CR_ADDR_LEN, a->nonce);
	cr_sha256_update(arg, rec, sizeof(rec));
}

static void
digest_data(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name, const uint8_t *value,
	    size_t len)
{
	uint8_t rec[1 + CR_ADDR_LEN + 1];
	uint8_t vl[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	rec[0] = 'D';
	memcpy(rec + 1, owner, CR_ADDR_LEN);
	rec[1 + CR_ADDR_LEN] = (uint8_t)strlen(name);
	cr_sha256_update(arg, rec, sizeof(rec));
	cr_sha256_update(arg, name, strlen(name));
	cr_sha256_update(arg, vl, 2);
	cr_sha256_update(arg, value, len);
}

void
chain_exec_digest(const struct chain_exec *x, const uint8_t prev[CR_HASH_LEN],
		  uint8_t out[CR_HASH_LEN])
{
	static const char domain[] = "chaind/state/v1";
	struct cr_sha256_ctx c = {0};
	if (cr_sha256_init(&c) != 0)
		abort();
	cr_sha256_update(&c, domain, sizeof(domain));
	cr_sha256_update(&c, prev, CR_HASH_LEN);
	chain_exec_foreach_account(x, digest_acct, &c);
	chain_exec_foreach_data(x, digest_data, &c);
	cr_sha256_final(&c, out);
	cr_sha256_close(&c);
}
