#include <stdlib.h>

#include "chain/state.h"
#include "test.h"

/* A base of three funded accounts; no data. */
static int
base_account(void *arg, const uint8_t addr[CR_ADDR_LEN], struct chain_account *out,
	     struct ch_err *err)
{
	(void)arg;
	(void)err;
	memset(out, 0, sizeof(*out));
	if (addr[0] >= 1 && addr[0] <= 3)
		out->balance = addr[0] == 3 ? UINT64_MAX - 5 : 100;
	return 0;
}

static int
base_data(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name, struct ch_buf *value,
	  bool *found, struct ch_err *err)
{
	(void)arg, (void)owner, (void)name, (void)value, (void)err;
	*found = false;
	return 0;
}

static const struct chain_state_reader base = {base_account, base_data, NULL};

static struct chain_tx
transfer(uint8_t from, uint8_t to, uint64_t nonce, uint64_t amount)
{
	struct chain_tx t;
	memset(&t, 0, sizeof(t));
	t.type = CHAIN_TX_TRANSFER;
	t.sender[0] = from;
	t.to[0] = to;
	t.nonce = nonce;
	t.amount = amount;
	return t;
}

static struct chain_tx
set(uint8_t from, uint64_t nonce, const char *name, const char *value)
{
	struct chain_tx t;
	memset(&t, 0, sizeof(t));
	t.type = CHAIN_TX_SET;
	t.sender[0] = from;
	t.nonce = nonce;
	strcpy(t.name, name);
	t.value_len = (uint16_t)strlen(value);
	memcpy(t.value, value, t.value_len);
	return t;
}

static uint64_t
balance(struct chain_exec *x, uint8_t who)
{
	uint8_t a[CR_ADDR_LEN] = {who};
	struct chain_account acct;
	if (chain_exec_account(x, a, &acct, NULL) != 0)
		abort();
	return acct.balance;
}

static void
test_transfers_and_rules(void)
{
	struct chain_exec *x = NULL;
	struct ch_err e;
	REQUIRE(chain_exec_new(&x, &base) == 0);
	struct chain_tx t = transfer(1, 2, 0, 30);
	CHECK(chain_exec_apply(x, &t, &e) == 0);
	CHECK(balance(x, 1) == 70 && balance(x, 2) == 130);
	t = transfer(1, 2, 0, 1);
	CHECK(chain_exec_apply(x, &t, &e) == CH_E_NONCE_TOO_LOW);
	t = transfer(1, 2, 2, 1);
	CHECK(chain_exec_apply(x, &t, &e) == CH_E_NONCE_TOO_HIGH);
	t = transfer(1, 2, 1, 71);
	CHECK(chain_exec_apply(x, &t, &e) == CH_E_INSUFFICIENT_FUNDS);
	CHECK(strstr(e.msg, "70") != NULL);
	t = transfer(1, 3, 1, 10); /* the receiver would overflow */
	CHECK(chain_exec_apply(x, &t, &e) == CH_E_TX_INVALID);
	CHECK(balance(x, 1) == 70 && balance(x, 3) == UINT64_MAX - 5);
	t = transfer(1, 1, 1, 50); /* to itself: only the nonce moves */
	CHECK(chain_exec_apply(x, &t, &e) == 0);
	CHECK(balance(x, 1) == 70);
	t = transfer(4, 1, 0, 1); /* unfunded */
	CHECK(chain_exec_apply(x, &t, &e) == CH_E_INSUFFICIENT_FUNDS);
	chain_exec_free(x);
}

static void
test_set_and_read(void)
{
	struct chain_exec *x = NULL;
	REQUIRE(chain_exec_new(&x, &base) == 0);
	struct chain_tx t = set(2, 0, "k", "v1");
	CHECK(chain_exec_apply(x, &t, NULL) == 0);
	t = set(2, 1, "k", "second");
	CHECK(chain_exec_apply(x, &t, NULL) == 0);
	uint8_t owner[CR_ADDR_LEN] = {2};
	struct ch_buf v;
	bool found = false;
	ch_buf_init(&v);
	CHECK(chain_exec_data(x, owner, "k", &v, &found, NULL) == 0 && found);
	CHECK(v.len == 6 && memcmp(v.data, "second", 6) == 0);
	ch_buf_reset(&v);
	CHECK(chain_exec_data(x, owner, "other", &v, &found, NULL) == 0 && !found);
	ch_buf_close(&v);
	CHECK_EQ_INT(chain_exec_writes(x), 2); /* one account, one data entry */
	chain_exec_free(x);
}

struct order {
	uint8_t last;
	bool sorted;
	size_t n;
};

static void
check_order(void *arg, const uint8_t addr[CR_ADDR_LEN], const struct chain_account *a)
{
	struct order *o = arg;
	(void)a;
	if (o->n++ > 0 && addr[0] <= o->last)
		o->sorted = false;
	o->last = addr[0];
}

/* The digest depends on the writes, not on how they were reached; a rejected tx changes nothing. */
static void
test_digest(void)
{
	struct chain_exec *x = NULL, *y = NULL;
	REQUIRE(chain_exec_new(&x, &base) == 0 && chain_exec_new(&y, &base) == 0);
	struct chain_tx a = transfer(1, 2, 0, 5), b = set(3, 0, "n", "v");
	CHECK(chain_exec_apply(x, &a, NULL) == 0 && chain_exec_apply(x, &b, NULL) == 0);
	CHECK(chain_exec_apply(y, &b, NULL) == 0 && chain_exec_apply(y, &a, NULL) == 0);
	uint8_t prev[32] = {7}, dx[32], dy[32], dz[32];
	chain_exec_digest(x, prev, dx);
	chain_exec_digest(y, prev, dy);
	CHECK(memcmp(dx, dy, 32) == 0);
	struct chain_tx bad = transfer(1, 2, 1, 1000);
	CHECK(chain_exec_apply(x, &bad, NULL) == CH_E_INSUFFICIENT_FUNDS);
	chain_exec_digest(x, prev, dz);
	CHECK(memcmp(dx, dz, 32) == 0);
	prev[0] = 8;
	chain_exec_digest(x, prev, dz);
	CHECK(memcmp(dx, dz, 32) != 0);
	struct order o = {0, true, 0};
	chain_exec_foreach_account(x, check_order, &o);
	CHECK(o.sorted && o.n == 3);
	chain_exec_free(x);
	chain_exec_free(y);
}

static void
test_credit(void)
{
	struct chain_exec *x = NULL;
	REQUIRE(chain_exec_new(&x, &base) == 0);
	uint8_t a[CR_ADDR_LEN] = {9};
	CHECK(chain_exec_credit(x, a, 10, NULL) == 0 && chain_exec_credit(x, a, 5, NULL) == 0);
	CHECK(balance(x, 9) == 15);
	CHECK(chain_exec_credit(x, a, UINT64_MAX, NULL) == CH_E_TX_INVALID);
	CHECK(balance(x, 9) == 15);
	/* many accounts: the table grows and keeps every entry */
	for (int i = 0; i < 5000; i++) {
		uint8_t b[CR_ADDR_LEN] = {0};
		memcpy(b + 1, &i, sizeof(i));
		CHECK(chain_exec_credit(x, b, (uint64_t)i, NULL) == 0);
	}
	CHECK_EQ_INT(chain_exec_writes(x), 5001);
	chain_exec_free(x);
}

int
main(void)
{
	RUN(test_transfers_and_rules);
	RUN(test_set_and_read);
	RUN(test_digest);
	RUN(test_credit);
	return TEST_DONE();
}
