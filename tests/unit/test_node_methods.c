/*
 * The JSON-RPC methods (node/methods.c, node/methods_query.c) against an
 * environment (node/rpc_env.h) built here: a genesis applied to an in-memory
 * store, real admission into a mempool, real waiters for
 * broadcast_tx_commit, and stubs for the clock, the engine, the peers and
 * the network. Requests go through rpc_request_parse, node_methods_handle
 * and rpc_request_render, as in the runtime.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "chain/block.h"
#include "chain/genesis.h"
#include "chain/mempool.h"
#include "chain/rules.h"
#include "chain/sigcache.h"
#include "chain/state.h"
#include "chain/store.h"
#include "crypto/crypto.h"
#include "node/admit.h"
#include "node/feed.h"
#include "node/ready.h"
#include "node/rpc_env.h"
#include "node/waiters.h"
#include "rpc/jsonrpc.h"
#include "test.h"
#include "testchain.h"

#define CHAIN_ID "methods-test"
#define FUNDS 1000000000ull
#define POOR_FUNDS 100
#define NVALIDATORS 4
#define SELF 0
#define START_MS 5000 /* the test clock when the node started */

/* The funded accounts: test_key("account", i), POOR with less than the others. */
enum { ALICE, BOB, POOR, NACCTS };
static struct cr_key *accts[NACCTS];
static uint8_t addrs[NACCTS][CR_ADDR_LEN];
static char addr_hex[NACCTS][2 * CR_ADDR_LEN + 1];

/* ---- the fixture: a validator's RPC environment ---- */

struct fx {
	struct test_chain c; /* the genesis, the store, its tip and the rules */
	struct chain_sigcache *sigs;
	struct node_admit admit;
	bool admit_open;
	struct node_waiters waiters;
	struct node_feed feed;
	struct node_rpc_env renv;
	uint64_t clock; /* the test clock (monotonic ms) */
	/* what the submit stub saw */
	int submits;
	bool last_remember;
	/* requests the waiters finished: their rendered answers */
	int finished;
	cJSON *answer;
};

static uint64_t
stub_now(void *arg)
{
	struct fx *f = arg;
	return f->clock;
}

/* stub_submit admits as node_core_submit does (without the gossip). */
static int
stub_submit(void *arg, const struct chain_tx *tx, bool remember, struct ch_err *err)
{
	struct fx *f = arg;
	f->submits++;
	f->last_remember = remember;
	struct chain_state_reader state = chain_store_reader(f->c.store);
	return node_admit_tx(&f->admit, &f->c.rules, &state, tx, f->clock, remember, err);
}

static void
stub_engine(void *arg, struct node_engine_status *out)
{
	struct fx *f = arg;
	*out = (struct node_engine_status){
		.name = "pbft",
		.role = "backup",
		.height = f->c.tip.height,
		.view = 7,
		.leader = 3,
		.in_view_change = true,
		.stable_checkpoint = 100,
		.faults = 1,
		.quorum = 3,
	};
}

/* Validator v: connected if odd, at height 10 + v, never heard from if 2. */
static void
stub_peer(void *arg, uint32_t v, struct node_peer_view *out)
{
	(void)arg;
	out->connected = v % 2 == 1;
	out->height = 10 + v;
	out->seen_ms_ago = v == 2 ? -1 : 100 * (int64_t)v;
	out->sent = 1000 + v;
	out->dropped = v;
}

static void
stub_net(void *arg, struct node_net_view *out)
{
	(void)arg;
	*out = (struct node_net_view){.rejected = 11, .bad_signature = 12, .queue_dropped = 13,
				      .received = 14, .rate_limited = 15, .refused_connections = 16,
				      .sync_refused = 17, .connections = 3};
}

static int
stub_wait(void *arg, struct node_pending *p, struct rpc_call *c, const uint8_t hash[CR_HASH_LEN],
	  uint64_t deadline_ms)
{
	struct fx *f = arg;
	return node_waiters_add(&f->waiters, p, c, hash, deadline_ms);
}

static int
stub_events(void *arg, struct node_pending *p, struct rpc_call *c,
	    const struct node_events_query *q, size_t limit, uint64_t deadline_ms)
{
	struct fx *f = arg;
	return node_feed_poll(&f->feed, p, c, q, limit, deadline_ms, f->clock);
}

/* stub_ready: a validator that has seen only itself of 4 */
static cJSON *
stub_ready(void *arg)
{
	struct fx *f = arg;
	struct node_ready_facts facts = {.store_ok = true, .height = f->c.tip.height, .seen = 1,
					 .quorum = 3};
	struct node_ready r = node_ready_check(&facts);
	return node_ready_json(&facts, &r);
}

/* on_finish renders the answer of a request none of whose calls waits, as the runtime does. */
static void
on_finish(void *arg, struct node_pending *p)
{
	struct fx *f = arg;
	size_t len = 0;
	char *body = rpc_request_render(&p->rpc, &len);
	f->finished++;
	cJSON_Delete(f->answer);
	f->answer = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
	free(body);
	node_pending_free(p);
}

static void
teardown(void *arg)
{
	struct fx *f = arg;
	/* as the runtime stops: whatever still waits is answered and freed */
	node_waiters_settle(&f->waiters, &f->renv, f->clock, true);
	node_feed_settle(&f->feed, f->clock, true);
	cJSON_Delete(f->answer);
	if (f->admit_open)
		node_admit_close(&f->admit);
	chain_sigcache_free(f->sigs);
	test_chain_close(&f->c);
	free(f);
}

static void *
setup(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ch_err e;
	ch_err_clear(&e);
	if (f == NULL)
		return NULL;
	test_genesis(&f->c.genesis, CHAIN_ID, NVALIDATORS, NACCTS, FUNDS);
	f->c.genesis.accounts[POOR].balance = POOR_FUNDS;
	if (test_chain_open(&f->c, "/methods", &e) != 0 ||
	    chain_sigcache_new(&f->sigs, 1024) != 0 ||
	    node_admit_init(&f->admit, &test_mempool_config, f->sigs, &e) != 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		teardown(f);
		return NULL;
	}
	f->admit_open = true;
	f->clock = START_MS + 2500;
	f->waiters = (struct node_waiters){.finish = on_finish, .arg = f};
	f->feed = (struct node_feed){.store = f->c.store,
				     .tip = &f->c.tip,
				     .max_streams = 4,
				     .finish = on_finish,
				     .finish_arg = f};
	f->renv = (struct node_rpc_env){
		.genesis = &f->c.genesis,
		.node_id = "test-node",
		.p2p_listen = "tcp://0.0.0.0:26600",
		.self = SELF,
		.commit_timeout_ms = 30000,
		.store = f->c.store,
		.tip = &f->c.tip,
		.admit = &f->admit,
		.sigcache = f->sigs,
		.started_ms = START_MS,
		.arg = f,
		.now_ms = stub_now,
		.submit = stub_submit,
		.engine = stub_engine,
		.peer = stub_peer,
		.net = stub_net,
		.wait = stub_wait,
		.events = stub_events,
		.ready = stub_ready,
	};
	return f;
}

/* ---- transactions ---- */

/* transfer signs a transfer of amount by from to bob (bob's to alice). */
static void
transfer(struct chain_tx *tx, int from, uint64_t nonce, uint64_t amount)
{
	test_transfer(tx, accts[from], CHAIN_ID, nonce, addrs[from == BOB ? ALICE : BOB], amount);
}

static void
set_value(struct chain_tx *tx, int from, uint64_t nonce, const char *name, const char *value)
{
	test_set(tx, accts[from], CHAIN_ID, nonce, name, value, strlen(value));
}

/* A hex string of a signed transaction's encoding, or of a hash (static buffers, in turn). */
static const char *
tx_hex(const struct chain_tx *tx)
{
	static char bufs[2][2 * CHAIN_MAX_TX_BYTES + 1];
	static int turn;
	char *out = bufs[turn++ % 2];
	struct ch_buf enc;
	ch_buf_init(&enc);
	chain_tx_encode(tx, &enc);
	cr_hex_encode(enc.data, enc.len, out);
	ch_buf_close(&enc);
	return out;
}

static const char *
hash_hex(const uint8_t hash[CR_HASH_LEN])
{
	static char bufs[2][2 * CR_HASH_LEN + 1];
	static int turn;
	char *out = bufs[turn++ % 2];
	cr_hex_encode(hash, CR_HASH_LEN, out);
	return out;
}

/* ---- requests ---- */

/*
 * start parses a body into a pending request and lets the methods answer it;
 * the request is returned for the caller to render or leave waiting.
 */
static struct node_pending *
start(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct node_pending *
start(struct fx *f, const char *fmt, ...)
{
	char body[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	struct node_pending *p = calloc(1, sizeof(*p));
	if (n < 0 || (size_t)n >= sizeof(body) || p == NULL ||
	    rpc_request_parse(&p->rpc, body, (size_t)n) != 0)
		abort();
	node_methods_handle(&f->renv, p);
	return p;
}

/* finish_now renders p's answer (it must not wait) and frees p; NULL if nothing is sent. */
static cJSON *
finish_now(struct node_pending *p)
{
	size_t len = 0;
	char *body = rpc_request_render(&p->rpc, &len);
	cJSON *j = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
	if (body != NULL && j == NULL)
		fprintf(stderr, "  not JSON: %s\n", body);
	free(body);
	node_pending_free(p);
	return j;
}

/* rpc answers one request at once (a call that waits is a test failure: NULL). */
static cJSON *
rpc(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static cJSON *
rpc(struct fx *f, const char *fmt, ...)
{
	char body[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(body))
		abort();
	struct node_pending *p = start(f, "%s", body);
	if (p->waiting != 0) {
		fprintf(stderr, "  %s: still waits\n", body);
		return NULL;
	}
	return finish_now(p);
}

#define CALL(method, params) \
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"" method "\",\"params\":" params "}"

static const cJSON *
get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const cJSON *
result(const cJSON *reply)
{
	const cJSON *r = get(reply, "result");
	if (r == NULL && reply != NULL) {
		char *s = cJSON_PrintUnformatted(reply);
		fprintf(stderr, "  no result: %s\n", s);
		free(s);
	}
	return r;
}

static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *v = get(o, name);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double
num(const cJSON *o, const char *name)
{
	const cJSON *v = get(o, name);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* error_code is the reply's error code (0 if it has none). */
static int
error_code(const cJSON *reply)
{
	const cJSON *e = get(reply, "error");
	return cJSON_IsObject(e) ? (int)num(e, "code") : 0;
}

static const char *
error_msg(const cJSON *reply)
{
	return str(get(reply, "error"), "message");
}

/* error_of is the error code of reply (0 if it has none), which it deletes. */
static int
error_of(cJSON *reply)
{
	int code = error_code(reply);
	cJSON_Delete(reply);
	return code;
}

/* commit_pool commits the next block from the mempool (all of it) and returns its hash. */
static bool
commit_pool(struct fx *f, uint8_t hash_out[CR_HASH_LEN])
{
	struct chain_base base = {.tip = f->c.tip, .state = chain_store_reader(f->c.store),
				  .sigs = f->sigs, .pool = f->admit.pool};
	struct chain_proposal p;
	struct chain_cert *cert = calloc(1, sizeof(*cert));
	struct ch_err e;
	uint8_t digest[CR_HASH_LEN];
	ch_err_clear(&e);
	int rc = chain_block_build(&f->c.rules, &base, f->admit.pool, 1, 2, f->c.tip.time_ms + 1000,
				   NULL, NULL, &p, &e);
	if (rc == 0) {
		cert->height = p.block.header.height;
		cert->view = 2;
		memcpy(cert->block_hash, p.block.hash, CR_HASH_LEN);
		chain_exec_digest(p.exec, f->c.tip.state_digest, digest);
		rc = chain_store_commit(f->c.store, &p.block, cert, p.exec, digest, &e);
	}
	if (rc == 0)
		rc = chain_store_tip(f->c.store, &f->c.tip, &e);
	if (rc == 0) {
		memcpy(hash_out, p.block.hash, CR_HASH_LEN);
		node_admit_committed(&f->admit, &p.block, &base.state, f->clock);
		chain_proposal_close(&p);
	}
	if (rc != 0)
		fprintf(stderr, "  commit: %s\n", e.msg);
	free(cert);
	return rc == 0;
}

/* sync_ok submits tx with broadcast_tx_sync and says whether it is pending. */
static bool
sync_ok(struct fx *f, const struct chain_tx *tx)
{
	cJSON *j = rpc(f, CALL("broadcast_tx_sync", "{\"tx\":\"%s\"}"), tx_hex(tx));
	bool ok = strcmp(str(result(j), "status"), "pending") == 0;
	cJSON_Delete(j);
	return ok;
}

/* commit_waits signs alice's transfer into tx; true if broadcast_tx_commit of it waits. */
static bool
commit_waits(struct fx *f, struct chain_tx *tx)
{
	transfer(tx, ALICE, 0, 5);
	return start(f, CALL("broadcast_tx_commit", "[\"%s\"]"), tx_hex(tx))->waiting == 1;
}

/* ---- the read-only methods ---- */

/* status reports the chain, the tip, the engine's view and primary, and each other validator. */
static void
test_status(void *arg)
{
	struct fx *f = arg;
	cJSON *j = rpc(f, CALL("status", "{}"));
	const cJSON *r = result(j);
	REQUIRE(r != NULL);
	CHECK(strcmp(str(r, "chain_id"), CHAIN_ID) == 0);
	CHECK(strcmp(str(r, "node_id"), "test-node") == 0);
	CHECK(num(r, "validator_index") == SELF);
	CHECK(num(r, "height") == 0);
	CHECK(strcmp(str(r, "latest_block_hash"), hash_hex(f->c.tip.hash)) == 0);
	CHECK(num(r, "latest_block_time_ms") == (double)TEST_GENESIS_MS);
	CHECK(strcmp(str(r, "state_digest"), hash_hex(f->c.tip.state_digest)) == 0);
	CHECK(num(r, "view") == 7);
	CHECK(num(r, "primary") == 3);
	CHECK(strcmp(str(r, "engine"), "pbft") == 0 && strcmp(str(r, "role"), "backup") == 0);
	CHECK(get(r, "term") == NULL && get(r, "ballot") == NULL);
	CHECK(cJSON_IsTrue(get(r, "view_change")));
	CHECK(num(r, "stable_checkpoint") == 100);
	CHECK(num(r, "validators") == NVALIDATORS);
	CHECK(num(r, "validator_set_start") == 1);
	CHECK(cJSON_IsTrue(get(r, "member")));
	CHECK(num(r, "mempool_txs") == 0);
	CHECK(num(r, "uptime_ms") == 2500);
	const cJSON *peers = get(r, "peers");
	REQUIRE(cJSON_IsArray(peers) && cJSON_GetArraySize(peers) == NVALIDATORS - 1);
	for (int i = 0; i < NVALIDATORS - 1; i++) {
		const cJSON *p = cJSON_GetArrayItem(peers, i);
		int v = i + 1; /* every validator but this one (0) */
		char id[16], addr[64];
		snprintf(id, sizeof(id), "n%d", v);
		snprintf(addr, sizeof(addr), "sim://%d", v);
		CHECK(num(p, "index") == v && num(p, "slot") == v);
		CHECK(strcmp(str(p, "id"), id) == 0);
		CHECK(strcmp(str(p, "address"), addr) == 0);
		CHECK(cJSON_IsBool(get(p, "connected")) && cJSON_IsTrue(get(p, "connected")) == (v % 2));
		CHECK(num(p, "height") == 10 + v);
		CHECK(num(p, "last_seen_ms_ago") == (v == 2 ? -1 : 100 * v));
		CHECK(num(p, "sent") == 1000 + v);
		CHECK(num(p, "dropped") == v);
	}
	cJSON_Delete(j);
}

/* validators lists the genesis validators' keys and addresses, and the engine's f and quorum. */
static void
test_validators(void *arg)
{
	struct fx *f = arg;
	cJSON *j = rpc(f, CALL("validators", "[]"));
	const cJSON *r = result(j);
	REQUIRE(r != NULL);
	CHECK(num(r, "f") == 1);
	CHECK(num(r, "quorum") == 3);
	CHECK(num(r, "height") == 1 && num(r, "start_height") == 1);
	const cJSON *vs = get(r, "validators");
	REQUIRE(cJSON_IsArray(vs) && cJSON_GetArraySize(vs) == NVALIDATORS);
	for (int i = 0; i < NVALIDATORS; i++) {
		const cJSON *v = cJSON_GetArrayItem(vs, i);
		char pub[2 * CR_PUBKEY_LEN + 1], addr[2 * CR_ADDR_LEN + 1], id[16], p2p[16];
		uint8_t pk[CR_PUBKEY_LEN], a[CR_ADDR_LEN];
		struct cr_key *k = test_key("validator", (uint32_t)i);
		cr_key_pubkey(k, pk);
		test_key_address(k, a);
		cr_key_free(k);
		cr_hex_encode(pk, CR_PUBKEY_LEN, pub);
		cr_hex_encode(a, CR_ADDR_LEN, addr);
		snprintf(id, sizeof(id), "n%d", i);
		snprintf(p2p, sizeof(p2p), "sim://%d", i);
		CHECK(num(v, "index") == i && num(v, "slot") == i);
		CHECK(strcmp(str(v, "id"), id) == 0);
		CHECK(strcmp(str(v, "pub_key"), pub) == 0);
		CHECK(strcmp(str(v, "address"), addr) == 0);
		CHECK(strcmp(str(v, "p2p_address"), p2p) == 0);
	}
	cJSON_Delete(j);
}

/* ---- the validator set ---- */

/*
 * val_change signs, with genesis validator signer's key, a change op of
 * validator id: its new key test_key("validator", key) (none for a
 * removal) and address addr (an addition's, else NULL).
 */
static void
val_change(struct chain_tx *tx, uint32_t signer, uint64_t nonce, uint8_t op, const char *id,
	   uint32_t key, const char *addr)
{
	struct cr_key *k = test_key("validator", signer);
	memset(tx, 0, sizeof(*tx));
	snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", CHAIN_ID);
	tx->type = CHAIN_TX_VALIDATOR;
	tx->nonce = nonce;
	tx->val_op = op;
	snprintf(tx->name, sizeof(tx->name), "%s", id);
	if (op != CHAIN_VAL_REMOVE) {
		struct cr_key *nk = test_key("validator", key);
		cr_key_pubkey(nk, tx->val_pub);
		cr_key_free(nk);
	}
	if (addr != NULL) {
		tx->value_len = (uint16_t)strlen(addr);
		memcpy(tx->value, addr, tx->value_len + 1);
	}
	if (chain_tx_sign(tx, k, NULL) != 0)
		abort();
	cr_key_free(k);
}

static const char *
key_hex(const char *label, uint32_t i)
{
	static char bufs[2][2 * CR_PUBKEY_LEN + 1];
	static int turn;
	char *out = bufs[turn++ % 2];
	uint8_t pub[CR_PUBKEY_LEN];
	struct cr_key *k = test_key(label, i);
	cr_key_pubkey(k, pub);
	cr_key_free(k);
	cr_hex_encode(pub, CR_PUBKEY_LEN, out);
	return out;
}

/* ids_are: is arr the JSON array of these strings? */
static bool
ids_are(const cJSON *arr, int n, ...)
{
	va_list ap;
	bool ok = cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == n;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);
		const cJSON *v = cJSON_GetArrayItem(arr, i);
		ok = ok && cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
	}
	va_end(ap);
	return ok;
}

/* validators by height: 1 to tip + CHAIN_VAL_DELAY; what is not a height is refused. */
static void
test_validators_height(void *arg)
{
	struct fx *f = arg;
	static const char *const good[] = {"{}", "[]", "{\"height\":1}", "[2]", "{\"height\":\"2\"}"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cJSON *j = rpc(f, CALL("validators", "%s"), good[i]);
		const cJSON *r = result(j);
		REQUIRE(r != NULL);
		CHECK(num(r, "height") == (i < 2 ? 1 : i == 2 ? 1 : 2));
		CHECK(num(r, "start_height") == 1);
		CHECK(cJSON_GetArraySize(get(r, "validators")) == NVALIDATORS);
		CHECK(num(r, "f") == 1 && num(r, "quorum") == 3);
		cJSON_Delete(j);
	}
	/* beyond what the committed state decides */
	cJSON *j = rpc(f, CALL("validators", "{\"height\":3}"));
	CHECK_EQ_INT(error_code(j), RPC_INVALID_PARAMS);
	CHECK(strstr(error_msg(j), "not known yet") != NULL);
	CHECK(strstr(error_msg(j), "at most 2") != NULL);
	cJSON_Delete(j);
	CHECK_EQ_INT(error_of(rpc(f, CALL("validators", "[18446744073709551615]"))),
		     RPC_INVALID_PARAMS);
	j = rpc(f, CALL("validators", "{\"height\":0}"));
	CHECK_EQ_INT(error_code(j), RPC_INVALID_PARAMS);
	CHECK(strstr(error_msg(j), "at least 1") != NULL);
	cJSON_Delete(j);
	static const char *const bad[] = {"{\"height\":-1}", "{\"height\":1.5}",
					  "{\"height\":\"tip\"}", "{\"height\":true}", "[\"\"]",
					  "{\"height\":null}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = rpc(f, CALL("validators", "%s"), bad[i]);
		CHECK_EQ_INT(error_code(j), RPC_INVALID_PARAMS);
		CHECK(strstr(error_msg(j), "height") != NULL);
		cJSON_Delete(j);
	}
}

/* validator_changes with nothing open: empty lists, for the next height. */
static void
test_validator_changes_none(void *arg)
{
	struct fx *f = arg;
	cJSON *j = rpc(f, CALL("validator_changes", "{}"));
	const cJSON *r = result(j);
	REQUIRE(r != NULL);
	CHECK(num(r, "height") == 1);
	CHECK(cJSON_IsArray(get(r, "changes")) && cJSON_GetArraySize(get(r, "changes")) == 0);
	CHECK(cJSON_IsArray(get(r, "scheduled")) && cJSON_GetArraySize(get(r, "scheduled")) == 0);
	cJSON_Delete(j);
}

/*
 * A change's life over the RPC: one approval leaves it open (validator_changes,
 * the block's and the tx's JSON views); a quorum schedules it two blocks on
 * (validators by height, status, peers); a removal shows no key or address.
 */
static void
test_validator_changes(void *arg)
{
	struct fx *f = arg;
	uint8_t bh[CR_HASH_LEN];
	struct chain_tx add[3], rm;
	for (uint32_t v = 0; v < 3; v++)
		val_change(&add[v], v, 0, CHAIN_VAL_ADD, "n4", 4, "sim://4");

	/* block 1: n0 approves adding n4 */
	CHECK(sync_ok(f, &add[0]));
	REQUIRE(commit_pool(f, bh));
	REQUIRE(f->c.tip.height == 1);
	cJSON *j = rpc(f, CALL("validator_changes", "[]"));
	const cJSON *r = result(j);
	REQUIRE(r != NULL);
	CHECK(num(r, "height") == 2);
	REQUIRE(cJSON_GetArraySize(get(r, "changes")) == 1);
	const cJSON *ch = cJSON_GetArrayItem(get(r, "changes"), 0);
	CHECK(strcmp(str(ch, "op"), "add") == 0 && strcmp(str(ch, "id"), "n4") == 0);
	CHECK(strcmp(str(ch, "pub_key"), key_hex("validator", 4)) == 0);
	CHECK(strcmp(str(ch, "p2p_address"), "sim://4") == 0);
	CHECK(num(ch, "first_height") == 1 && num(ch, "open_until") == 1000);
	CHECK(cJSON_GetArraySize(get(ch, "approvals")) == 1 &&
	      cJSON_GetArrayItem(get(ch, "approvals"), 0)->valuedouble == 0);
	CHECK(ids_are(get(ch, "approved_by"), 1, "n0"));
	CHECK(num(ch, "quorum") == 3);
	CHECK(cJSON_GetArraySize(get(r, "scheduled")) == 0);
	cJSON_Delete(j);

	/* the block and the tx show the change */
	j = rpc(f, CALL("block", "{\"height\":1}"));
	const cJSON *vt = get(result(j), "validator_txs");
	REQUIRE(cJSON_GetArraySize(vt) == 1);
	const cJSON *t = cJSON_GetArrayItem(vt, 0);
	CHECK(num(t, "index") == 0 && strcmp(str(t, "hash"), hash_hex(add[0].hash)) == 0);
	CHECK(strcmp(str(t, "type"), "validator") == 0 && strcmp(str(t, "op"), "add") == 0);
	CHECK(strcmp(str(t, "validator_id"), "n4") == 0);
	CHECK(strcmp(str(t, "validator_pub_key"), key_hex("validator", 4)) == 0);
	CHECK(strcmp(str(t, "p2p_address"), "sim://4") == 0);
	CHECK(strcmp(str(t, "pub_key"), key_hex("validator", 0)) == 0);
	CHECK(get(t, "name") == NULL && get(t, "value") == NULL);
	cJSON_Delete(j);
	j = rpc(f, CALL("tx", "{\"hash\":\"%s\"}"), hash_hex(add[0].hash));
	CHECK(strcmp(str(get(result(j), "tx"), "validator_id"), "n4") == 0);
	cJSON_Delete(j);

	/* block 2: n1 and n2 approve; the quorum of 3 schedules n4 from height 4 */
	CHECK(sync_ok(f, &add[1]) && sync_ok(f, &add[2]));
	REQUIRE(commit_pool(f, bh));
	REQUIRE(f->c.tip.height == 2);
	j = rpc(f, CALL("validator_changes", "{}"));
	r = result(j);
	REQUIRE(r != NULL);
	CHECK(num(r, "height") == 3 && cJSON_GetArraySize(get(r, "changes")) == 0);
	REQUIRE(cJSON_GetArraySize(get(r, "scheduled")) == 1);
	const cJSON *sc = cJSON_GetArrayItem(get(r, "scheduled"), 0);
	CHECK(num(sc, "start_height") == 4);
	CHECK(ids_are(get(sc, "validators"), 5, "n0", "n1", "n2", "n3", "n4"));
	cJSON_Delete(j);

	/* the next height still has the genesis set; height 4 the new one */
	j = rpc(f, CALL("validators", "{}"));
	r = result(j);
	CHECK(num(r, "height") == 3 && num(r, "start_height") == 1);
	CHECK(cJSON_GetArraySize(get(r, "validators")) == 4 && num(r, "quorum") == 3);
	cJSON_Delete(j);
	j = rpc(f, CALL("validators", "{\"height\":4}"));
	r = result(j);
	REQUIRE(r != NULL);
	CHECK(num(r, "height") == 4 && num(r, "start_height") == 4);
	CHECK(num(r, "f") == 1 && num(r, "quorum") == 4);
	REQUIRE(cJSON_GetArraySize(get(r, "validators")) == 5);
	const cJSON *v4 = cJSON_GetArrayItem(get(r, "validators"), 4);
	CHECK(num(v4, "index") == 4 && num(v4, "slot") == 4 && strcmp(str(v4, "id"), "n4") == 0);
	CHECK(strcmp(str(v4, "pub_key"), key_hex("validator", 4)) == 0);
	CHECK(strcmp(str(v4, "p2p_address"), "sim://4") == 0);
	cJSON_Delete(j);
	CHECK_EQ_INT(error_of(rpc(f, CALL("validators", "[5]"))), RPC_INVALID_PARAMS);

	/* status: the set in force, this node in it; peers: the latest set but this node */
	j = rpc(f, CALL("status", "{}"));
	r = result(j);
	REQUIRE(r != NULL);
	CHECK(num(r, "validators") == 4 && num(r, "validator_set_start") == 1);
	CHECK(cJSON_IsTrue(get(r, "member")));
	const cJSON *peers = get(r, "peers");
	REQUIRE(cJSON_GetArraySize(peers) == 4);
	const cJSON *p4 = cJSON_GetArrayItem(peers, 3);
	CHECK(num(p4, "slot") == 4 && num(p4, "index") == 4 && strcmp(str(p4, "id"), "n4") == 0);
	CHECK(strcmp(str(p4, "address"), "sim://4") == 0 && num(p4, "height") == 14);
	cJSON_Delete(j);

	/* seen from n4's node (not in force yet): not a member, every genesis validator a peer */
	uint8_t pub4[CR_PUBKEY_LEN];
	REQUIRE(cr_hex_decode_exact(key_hex("validator", 4), pub4, CR_PUBKEY_LEN) == 0);
	f->renv.self_pub = pub4;
	f->renv.self = UINT32_MAX;
	j = rpc(f, CALL("status", "{}"));
	r = result(j);
	CHECK(cJSON_IsFalse(get(r, "member")));
	peers = get(r, "peers");
	REQUIRE(cJSON_GetArraySize(peers) == 4);
	CHECK(num(cJSON_GetArrayItem(peers, 0), "slot") == 0);
	cJSON_Delete(j);
	j = rpc(f, CALL("net_info", "{}"));
	CHECK(cJSON_GetArraySize(get(result(j), "peers")) == 4);
	cJSON_Delete(j);

	/* block 3: n0 approves removing n1; block 4: n4 is in force */
	val_change(&rm, 0, 1, CHAIN_VAL_REMOVE, "n1", 0, NULL);
	CHECK(sync_ok(f, &rm));
	REQUIRE(commit_pool(f, bh));
	j = rpc(f, CALL("validator_changes", "{}"));
	r = result(j);
	REQUIRE(cJSON_GetArraySize(get(r, "changes")) == 1);
	ch = cJSON_GetArrayItem(get(r, "changes"), 0);
	CHECK(strcmp(str(ch, "op"), "remove") == 0 && strcmp(str(ch, "id"), "n1") == 0);
	CHECK(cJSON_IsNull(get(ch, "pub_key")) && cJSON_IsNull(get(ch, "p2p_address")));
	CHECK(num(ch, "quorum") == 4); /* of the set at height 4 */
	CHECK(ids_are(get(ch, "approved_by"), 1, "n0"));
	CHECK(cJSON_GetArraySize(get(r, "scheduled")) == 0);
	cJSON_Delete(j);
	j = rpc(f, CALL("block", "[3]"));
	t = cJSON_GetArrayItem(get(result(j), "validator_txs"), 0);
	CHECK(strcmp(str(t, "op"), "remove") == 0 && strcmp(str(t, "validator_id"), "n1") == 0);
	CHECK(get(t, "validator_pub_key") == NULL && get(t, "p2p_address") == NULL);
	cJSON_Delete(j);
	j = rpc(f, CALL("status", "{}"));
	r = result(j);
	CHECK(num(r, "validators") == 5 && num(r, "validator_set_start") == 4);
	CHECK(cJSON_IsTrue(get(r, "member")));
	CHECK(cJSON_GetArraySize(get(r, "peers")) == 4); /* n0..n3 */
	cJSON_Delete(j);
	/* the past is still known */
	j = rpc(f, CALL("validators", "[3]"));
	CHECK(num(result(j), "start_height") == 1);
	cJSON_Delete(j);
	/* a block without validator changes has no validator_txs */
	struct chain_tx tx;
	transfer(&tx, ALICE, 0, 1);
	CHECK(sync_ok(f, &tx));
	REQUIRE(commit_pool(f, bh));
	j = rpc(f, CALL("block", "{}"));
	CHECK(result(j) != NULL && get(result(j), "validator_txs") == NULL);
	cJSON_Delete(j);
}

/* net_info reports the network's counters as the net callback gives them. */
static void
test_net_info(void *arg)
{
	struct fx *f = arg;
	cJSON *j = rpc(f, "{\"jsonrpc\":\"2.0\",\"id\":\"n\",\"method\":\"net_info\"}");
	const cJSON *r = result(j);
	REQUIRE(r != NULL);
	CHECK(strcmp(str(j, "id"), "n") == 0);
	CHECK(cJSON_IsTrue(get(r, "listening")));
	CHECK(strcmp(str(r, "p2p_address"), "tcp://0.0.0.0:26600") == 0);
	CHECK(num(r, "peer_messages_rejected") == 11);
	CHECK(num(r, "peer_messages_bad_signature") == 12);
	CHECK(num(r, "peer_messages_dropped") == 13);
	CHECK(num(r, "peer_messages_received") == 14);
	CHECK(num(r, "peer_messages_rate_limited") == 15);
	CHECK(num(r, "peer_connections_refused") == 16);
	CHECK(num(r, "peer_sync_requests_refused") == 17);
	CHECK(num(r, "peer_connections") == 3);
	CHECK(cJSON_GetArraySize(get(r, "peers")) == NVALIDATORS - 1);
	cJSON_Delete(j);
}

/* account answers a funded address's balance and nonces, an unknown address with zeroes. */
static void
test_account(void *arg)
{
	struct fx *f = arg;
	cJSON *j = rpc(f, CALL("account", "{\"address\":\"%s\"}"), addr_hex[ALICE]);
	const cJSON *r = result(j);
	REQUIRE(r != NULL);
	CHECK(strcmp(str(r, "address"), addr_hex[ALICE]) == 0);
	CHECK(strcmp(str(r, "balance"), "1000000000") == 0);
	CHECK(num(r, "nonce") == 0 && num(r, "pending_nonce") == 0);
	cJSON_Delete(j);

	/* a pending transaction moves pending_nonce, not nonce; by position, in upper case */
	struct chain_tx tx;
	transfer(&tx, ALICE, 0, 5);
	CHECK(sync_ok(f, &tx));
	char upper[2 * CR_ADDR_LEN + 1];
	for (int i = 0; i <= 2 * CR_ADDR_LEN; i++)
		upper[i] = (char)(addr_hex[ALICE][i] >= 'a' ? addr_hex[ALICE][i] - 32 : addr_hex[ALICE][i]);
	j = rpc(f, CALL("account", "[\"0x%s\"]"), upper);
	r = result(j);
	CHECK(num(r, "nonce") == 0 && num(r, "pending_nonce") == 1);
	cJSON_Delete(j);

	j = rpc(f, CALL("account", "{\"address\":\"%s\"}"), "00112233445566778899aabbccddeeff00112233");
	r = result(j);
	REQUIRE(r != NULL);
	CHECK(strcmp(str(r, "balance"), "0") == 0);
	CHECK(num(r, "nonce") == 0 && num(r, "pending_nonce") == 0);
	cJSON_Delete(j);

	CHECK_EQ_INT(error_of(rpc(f, CALL("account", "{\"address\":\"abc\"}"))),
		     RPC_INVALID_PARAMS);
	CHECK_EQ_INT(error_of(rpc(f, CALL("account", "{}"))), RPC_INVALID_PARAMS);
}

/* ---- submitting ---- */

/* broadcast_tx_sync of a good transaction: pending, in the mempool, submitted once. */
static void
test_sync_good(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	transfer(&tx, ALICE, 0, 5);
	cJSON *j = rpc(f, CALL("broadcast_tx_sync", "{\"tx\":\"%s\"}"), tx_hex(&tx));
	const cJSON *r = result(j);
	REQUIRE(r != NULL);
	CHECK(strcmp(str(r, "status"), "pending") == 0);
	CHECK(strcmp(str(r, "hash"), hash_hex(tx.hash)) == 0);
	CHECK(chain_mempool_get(f->admit.pool, tx.hash) != NULL);
	CHECK_EQ_INT(f->submits, 1);
	CHECK(!f->last_remember);
	cJSON_Delete(j);

	/* again: answered from the mempool, not submitted twice */
	j = rpc(f, CALL("broadcast_tx_sync", "[\"%s\"]"), tx_hex(&tx));
	CHECK(strcmp(str(result(j), "status"), "pending") == 0);
	CHECK_EQ_INT(f->submits, 1);
	CHECK_EQ_INT(chain_mempool_count(f->admit.pool), 1);
	cJSON_Delete(j);
}

/* broadcast_tx_sync of text that is not hex, or not a transaction: -32001, nothing submitted. */
static void
test_sync_malformed(void *arg)
{
	struct fx *f = arg;
	static const char *const bad[] = {"zz", "abc", "0x", "", "00ff"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *j = rpc(f, CALL("broadcast_tx_sync", "{\"tx\":\"%s\"}"), bad[i]);
		CHECK_EQ_INT(error_code(j), -32001);
		CHECK(error_msg(j)[0] != '\0');
		cJSON_Delete(j);
	}
	struct chain_tx tx;
	transfer(&tx, ALICE, 0, 5);
	/* a trailing byte */
	CHECK_EQ_INT(error_of(rpc(f, CALL("broadcast_tx_sync", "{\"tx\":\"%s00\"}"), tx_hex(&tx))),
		     -32001);
	CHECK_EQ_INT(error_of(rpc(f, CALL("broadcast_tx_sync", "{\"tx\":5}"))), RPC_INVALID_PARAMS);
	CHECK_EQ_INT(f->submits, 0);
	CHECK_EQ_INT(chain_mempool_count(f->admit.pool), 0);
}

/* broadcast_tx_sync of an overspend is -32006 with the balance, and the mempool stays empty. */
static void
test_sync_overspend(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	transfer(&tx, POOR, 0, POOR_FUNDS + 1);
	cJSON *j = rpc(f, CALL("broadcast_tx_sync", "{\"tx\":\"%s\"}"), tx_hex(&tx));
	CHECK_EQ_INT(error_code(j), -32006);
	CHECK(strstr(error_msg(j), "100") != NULL);
	CHECK_EQ_INT(f->submits, 1);
	CHECK_EQ_INT(chain_mempool_count(f->admit.pool), 0);
	cJSON_Delete(j);
	/* a sync refusal is the client's to read: not remembered */
	CHECK_EQ_INT(error_of(rpc(f, CALL("tx", "{\"hash\":\"%s\"}"), hash_hex(tx.hash))), -32009);
}

/* broadcast_tx_async answers a refused transaction's hash; tx then says it was dropped, and why. */
static void
test_async_refused(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	transfer(&tx, POOR, 0, POOR_FUNDS + 1);
	cJSON *j = rpc(f, CALL("broadcast_tx_async", "{\"tx\":\"%s\"}"), tx_hex(&tx));
	const cJSON *r = result(j);
	REQUIRE(r != NULL);
	CHECK(strcmp(str(r, "hash"), hash_hex(tx.hash)) == 0);
	CHECK(get(r, "status") == NULL);
	CHECK_EQ_INT(f->submits, 1);
	CHECK(f->last_remember);
	cJSON_Delete(j);

	j = rpc(f, CALL("tx", "{\"hash\":\"%s\"}"), hash_hex(tx.hash));
	r = result(j);
	REQUIRE(r != NULL);
	CHECK(strcmp(str(r, "hash"), hash_hex(tx.hash)) == 0);
	CHECK(strcmp(str(r, "status"), "dropped") == 0);
	CHECK(strstr(str(r, "reason"), "balance 100 is less than the amount 101") != NULL);
	CHECK(num(r, "code") == -32006);
	cJSON_Delete(j);
}

/*
 * A transaction refused for want of funds, sent again once they arrived, is
 * pending: neither tx nor a waiting broadcast_tx_commit tells of the refusal.
 */
static void
test_refused_then_admitted(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx, fund;
	transfer(&tx, POOR, 0, POOR_FUNDS + 1);
	cJSON_Delete(rpc(f, CALL("broadcast_tx_async", "[\"%s\"]"), tx_hex(&tx)));
	cJSON *j = rpc(f, CALL("tx", "[\"%s\"]"), hash_hex(tx.hash));
	CHECK(strcmp(str(result(j), "status"), "dropped") == 0);
	cJSON_Delete(j);
	test_transfer(&fund, accts[ALICE], CHAIN_ID, 0, addrs[POOR], 1);
	j = rpc(f, CALL("broadcast_tx_sync", "[\"%s\"]"), tx_hex(&fund));
	CHECK(result(j) != NULL);
	cJSON_Delete(j);
	uint8_t bh[CR_HASH_LEN];
	REQUIRE(commit_pool(f, bh));
	REQUIRE(start(f, CALL("broadcast_tx_commit", "[\"%s\"]"), tx_hex(&tx))->waiting == 1);
	node_waiters_settle(&f->waiters, &f->renv, f->clock, false);
	CHECK_EQ_INT(f->finished, 0);
	j = rpc(f, CALL("tx", "[\"%s\"]"), hash_hex(tx.hash));
	CHECK(strcmp(str(result(j), "status"), "pending") == 0);
	cJSON_Delete(j);
}

/* broadcast_tx_async of a good transaction pools it; tx then shows it pending. */
static void
test_async_good_then_tx_pending(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	set_value(&tx, BOB, 0, "greeting", "hello");
	cJSON *j = rpc(f, CALL("broadcast_tx_async", "[\"%s\"]"), tx_hex(&tx));
	CHECK(strcmp(str(result(j), "hash"), hash_hex(tx.hash)) == 0);
	cJSON_Delete(j);
	CHECK(chain_mempool_get(f->admit.pool, tx.hash) != NULL);
	j = rpc(f, CALL("tx", "[\"%s\"]"), hash_hex(tx.hash));
	const cJSON *r = result(j);
	REQUIRE(r != NULL);
	CHECK(strcmp(str(r, "status"), "pending") == 0);
	CHECK(strcmp(str(r, "raw"), tx_hex(&tx)) == 0);
	const cJSON *view = get(r, "tx");
	CHECK(strcmp(str(view, "type"), "set") == 0);
	CHECK(strcmp(str(view, "from"), addr_hex[BOB]) == 0);
	CHECK(strcmp(str(view, "name"), "greeting") == 0);
	CHECK(strcmp(str(view, "value"), "hello") == 0);
	cJSON_Delete(j);
}

/* tx of a hash nobody knows is -32009; of a malformed hash -32602. */
static void
test_tx_unknown(void *arg)
{
	struct fx *f = arg;
	uint8_t h[CR_HASH_LEN];
	memset(h, 0xab, sizeof(h));
	CHECK_EQ_INT(error_of(rpc(f, CALL("tx", "{\"hash\":\"%s\"}"), hash_hex(h))), -32009);
	CHECK_EQ_INT(error_of(rpc(f, CALL("tx", "{\"hash\":\"abcd\"}"))), RPC_INVALID_PARAMS);
}

/* num_unconfirmed_txs counts the mempool's transactions and their bytes. */
static void
test_num_unconfirmed(void *arg)
{
	struct fx *f = arg;
	cJSON *j = rpc(f, CALL("num_unconfirmed_txs", "{}"));
	CHECK(num(result(j), "count") == 0 && num(result(j), "bytes") == 0);
	cJSON_Delete(j);
	struct chain_tx a, b;
	transfer(&a, ALICE, 0, 1);
	set_value(&b, ALICE, 1, "k", "a longer value than a transfer has");
	CHECK(sync_ok(f, &a) && sync_ok(f, &b));
	j = rpc(f, CALL("num_unconfirmed_txs", "{}"));
	CHECK(num(result(j), "count") == 2);
	CHECK(num(result(j), "bytes") == a.size + b.size);
	cJSON_Delete(j);
}

/* block with nothing committed yet is -32009, for the latest and for a height. */
static void
test_block_none(void *arg)
{
	struct fx *f = arg;
	cJSON *j = rpc(f, CALL("block", "{}"));
	CHECK_EQ_INT(error_code(j), -32009);
	CHECK(strstr(error_msg(j), "no block") != NULL);
	cJSON_Delete(j);
	CHECK_EQ_INT(error_of(rpc(f, CALL("block", "{\"height\":1}"))), -32009);
	uint8_t h[CR_HASH_LEN] = {1};
	CHECK_EQ_INT(error_of(rpc(f, CALL("block", "{\"hash\":\"%s\"}"), hash_hex(h))), -32009);
	j = rpc(f, CALL("blockchain", "{}"));
	CHECK(num(result(j), "last_height") == 0);
	CHECK(cJSON_GetArraySize(get(result(j), "blocks")) == 0);
	cJSON_Delete(j);
}

/* get of a value nobody set is -32009; of a name that cannot exist -32602. */
static void
test_get_missing(void *arg)
{
	struct fx *f = arg;
	CHECK_EQ_INT(error_of(rpc(f, CALL("get", "{\"owner\":\"%s\",\"name\":\"nothing\"}"),
				  addr_hex[ALICE])),
		     -32009);
	CHECK_EQ_INT(error_of(rpc(f, CALL("get", "{\"owner\":\"%s\",\"name\":\"no spaces\"}"),
				  addr_hex[ALICE])),
		     RPC_INVALID_PARAMS);
	CHECK_EQ_INT(error_of(rpc(f, CALL("get", "[\"%s\"]"), addr_hex[ALICE])),
		     RPC_INVALID_PARAMS);
}

/* An unknown method is -32601, naming it. */
static void
test_unknown_method(void *arg)
{
	struct fx *f = arg;
	cJSON *j = rpc(f, CALL("frobnicate", "{}"));
	CHECK_EQ_INT(error_code(j), RPC_METHOD_NOT_FOUND);
	CHECK(strstr(error_msg(j), "frobnicate") != NULL);
	cJSON_Delete(j);
	/* and a request the framing refused is answered with its own error */
	CHECK_EQ_INT(error_of(rpc(f, "{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"status\"}")),
		     RPC_INVALID_REQUEST);
}

/* A batch of two calls gets both answers, in order, with their ids; a notification gets none. */
static void
test_batch(void *arg)
{
	struct fx *f = arg;
	cJSON *j = rpc(f, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"num_unconfirmed_txs\"},"
			  "{\"jsonrpc\":\"2.0\",\"id\":\"two\",\"method\":\"health\"},"
			  "{\"jsonrpc\":\"2.0\",\"method\":\"status\"}]");
	REQUIRE(cJSON_IsArray(j));
	CHECK_EQ_INT(cJSON_GetArraySize(j), 2);
	const cJSON *a = cJSON_GetArrayItem(j, 0), *b = cJSON_GetArrayItem(j, 1);
	CHECK(num(a, "id") == 1 && num(result(a), "count") == 0);
	CHECK(strcmp(str(b, "id"), "two") == 0 && cJSON_IsTrue(get(result(b), "ok")));
	cJSON_Delete(j);
}

/* ---- broadcast_tx_commit and its waiters ---- */

/* broadcast_tx_commit waits; past its deadline, settle answers -32010 with the hash. */
static void
test_commit_times_out(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	transfer(&tx, ALICE, 0, 5);
	struct node_pending *p =
		start(f, CALL("broadcast_tx_commit", "{\"tx\":\"%s\",\"timeout_ms\":1000}"), tx_hex(&tx));
	REQUIRE(p->waiting == 1);
	CHECK(p->rpc.calls[0].response == NULL);
	CHECK_EQ_INT(f->submits, 1);
	CHECK(chain_mempool_get(f->admit.pool, tx.hash) != NULL);
	CHECK(node_waiters_deadline(&f->waiters) == f->clock + 1000);

	f->clock += 999;
	node_waiters_settle(&f->waiters, &f->renv, f->clock, false);
	CHECK_EQ_INT(f->finished, 0);
	CHECK(p->waiting == 1);
	f->clock += 1;
	node_waiters_settle(&f->waiters, &f->renv, f->clock, false);
	REQUIRE(f->finished == 1); /* p is freed now */
	CHECK_EQ_INT(error_code(f->answer), -32010);
	CHECK(strcmp(str(get(get(f->answer, "error"), "data"), "hash"), hash_hex(tx.hash)) == 0);
	CHECK(node_waiters_deadline(&f->waiters) == UINT64_MAX);
}

/* A waiting broadcast_tx_commit is answered -32011 when the node shuts down. */
static void
test_commit_shutting_down(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	REQUIRE(commit_waits(f, &tx));
	CHECK(node_waiters_deadline(&f->waiters) == f->clock + f->renv.commit_timeout_ms);
	node_waiters_settle(&f->waiters, &f->renv, f->clock, true);
	REQUIRE(f->finished == 1);
	CHECK_EQ_INT(error_code(f->answer), -32011);
	CHECK(strstr(error_msg(f->answer), "shutting down") != NULL);
}

/* broadcast_tx_commit refuses a timeout out of range, and answers a refused transaction at once. */
static void
test_commit_refusals(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	transfer(&tx, ALICE, 0, 5);
	CHECK_EQ_INT(error_of(rpc(f,
				  CALL("broadcast_tx_commit", "{\"tx\":\"%s\",\"timeout_ms\":0}"),
				  tx_hex(&tx))),
		     RPC_INVALID_PARAMS);
	CHECK_EQ_INT(error_of(rpc(f,
				  CALL("broadcast_tx_commit", "{\"tx\":\"%s\",\"timeout_ms\":600001}"),
				  tx_hex(&tx))),
		     RPC_INVALID_PARAMS);
	CHECK_EQ_INT(f->submits, 0);
	transfer(&tx, POOR, 0, POOR_FUNDS + 1);
	CHECK_EQ_INT(error_of(rpc(f, CALL("broadcast_tx_commit", "{\"tx\":\"%s\"}"), tx_hex(&tx))),
		     -32006);
	CHECK(node_waiters_deadline(&f->waiters) == UINT64_MAX);
}

/* A waiting broadcast_tx_commit is answered with the height once its transaction commits. */
static void
test_commit_answered_on_commit(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	REQUIRE(commit_waits(f, &tx));
	uint8_t bh[CR_HASH_LEN];
	REQUIRE(commit_pool(f, bh));
	node_waiters_settle(&f->waiters, &f->renv, f->clock, false);
	REQUIRE(f->finished == 1);
	const cJSON *r = result(f->answer);
	CHECK(strcmp(str(r, "status"), "committed") == 0);
	CHECK(strcmp(str(r, "hash"), hash_hex(tx.hash)) == 0);
	CHECK(num(r, "height") == 1 && num(r, "index") == 0);
	/* and a commit of a committed transaction is answered at once */
	cJSON *j = rpc(f, CALL("broadcast_tx_commit", "[\"%s\"]"), tx_hex(&tx));
	CHECK(strcmp(str(result(j), "status"), "committed") == 0);
	cJSON_Delete(j);
	CHECK_EQ_INT(f->submits, 1);
}

/* A waiting call whose transaction leaves the mempool uncommitted is answered -32004. */
static void
test_commit_left_mempool(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	REQUIRE(commit_waits(f, &tx));
	chain_mempool_remove(f->admit.pool, tx.hash);
	node_waiters_settle(&f->waiters, &f->renv, f->clock, false);
	REQUIRE(f->finished == 1);
	CHECK_EQ_INT(error_code(f->answer), -32004);
}

/* A batch whose one call waits is answered whole, both calls, once the wait is over. */
static void
test_commit_in_batch(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	transfer(&tx, ALICE, 0, 5);
	struct node_pending *p =
		start(f,
		      "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_commit\","
		      "\"params\":[\"%s\"]},"
		      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"num_unconfirmed_txs\"}]",
		      tx_hex(&tx));
	REQUIRE(p->waiting == 1);
	CHECK(p->rpc.calls[0].response == NULL && p->rpc.calls[1].response != NULL);
	uint8_t bh[CR_HASH_LEN];
	REQUIRE(commit_pool(f, bh));
	node_waiters_settle(&f->waiters, &f->renv, f->clock, false);
	REQUIRE(f->finished == 1);
	REQUIRE(cJSON_IsArray(f->answer) && cJSON_GetArraySize(f->answer) == 2);
	const cJSON *a = cJSON_GetArrayItem(f->answer, 0), *b = cJSON_GetArrayItem(f->answer, 1);
	CHECK(num(a, "id") == 1 && strcmp(str(result(a), "status"), "committed") == 0);
	CHECK(num(b, "id") == 2 && num(result(b), "count") == 1); /* counted before the commit */
}

/* blockchain answers a range past the tip with no blocks, wherever in it the range starts. */
static void
test_blockchain_ranges(void *arg)
{
	struct fx *f = arg;
	struct chain_tx tx;
	transfer(&tx, ALICE, 0, 5);
	CHECK(sync_ok(f, &tx));
	uint8_t bh[CR_HASH_LEN];
	REQUIRE(commit_pool(f, bh));
	static const char *const past_tip[] = {"{\"min_height\":2,\"max_height\":9}",
					       "{\"min_height\":3,\"max_height\":9}",
					       "{\"min_height\":3}"};
	for (size_t i = 0; i < 3; i++) {
		cJSON *j = rpc(f, CALL("blockchain", "%s"), past_tip[i]);
		const cJSON *r = result(j);
		CHECK(r != NULL && num(r, "last_height") == 1);
		CHECK(r != NULL && cJSON_GetArraySize(get(r, "blocks")) == 0);
		cJSON_Delete(j);
	}
	cJSON *j = rpc(f, CALL("blockchain", "{\"min_height\":1,\"max_height\":9}"));
	CHECK(cJSON_GetArraySize(get(result(j), "blocks")) == 1);
	cJSON_Delete(j);
	j = rpc(f, CALL("blockchain", "[1, 1]"));
	CHECK(cJSON_GetArraySize(get(result(j), "blocks")) == 1);
	cJSON_Delete(j);
	CHECK_EQ_INT(error_of(rpc(f, CALL("blockchain", "{\"min_height\":\"x\"}"))),
		     RPC_INVALID_PARAMS);
}

/* ---- committed blocks ---- */

/* block, blockchain, tx (with a Merkle proof that verifies) and get read a committed block. */
static void
test_committed_block(void *arg)
{
	struct fx *f = arg;
	struct chain_tx txs[3];
	transfer(&txs[0], ALICE, 0, 7);
	transfer(&txs[1], ALICE, 1, 8);
	set_value(&txs[2], BOB, 0, "greeting", "hello");
	for (int i = 0; i < 3; i++)
		CHECK(sync_ok(f, &txs[i]));
	uint8_t bh[CR_HASH_LEN];
	REQUIRE(commit_pool(f, bh));
	CHECK(f->c.tip.height == 1);
	CHECK_EQ_INT(chain_mempool_count(f->admit.pool), 0);

	/* the latest block, by height and by hash */
	static const char *const asks[] = {"{}", "{\"height\":1}", "[1]", "{\"hash\":\"%s\"}"};
	for (size_t k = 0; k < 4; k++) {
		char params[128];
		snprintf(params, sizeof(params), asks[k], hash_hex(bh));
		cJSON *j = rpc(f, CALL("block", "%s"), params);
		const cJSON *r = result(j);
		REQUIRE(r != NULL);
		CHECK(strcmp(str(r, "hash"), hash_hex(bh)) == 0);
		const cJSON *h = get(r, "header");
		CHECK(num(h, "height") == 1 && num(h, "tx_count") == 3 && num(h, "proposer") == 1);
		CHECK(num(h, "view") == 2 && num(h, "time_ms") == (double)(TEST_GENESIS_MS + 1000));
		CHECK(strcmp(str(h, "chain_id"), CHAIN_ID) == 0);
		const cJSON *hs = get(r, "txs");
		REQUIRE(cJSON_GetArraySize(hs) == 3);
		for (int i = 0; i < 3; i++)
			CHECK(strcmp(cJSON_GetArrayItem(hs, i)->valuestring, hash_hex(txs[i].hash)) == 0);
		const cJSON *cert = get(r, "cert");
		CHECK(num(cert, "height") == 1 && num(cert, "view") == 2);
		CHECK(strcmp(str(cert, "block_hash"), hash_hex(bh)) == 0);
		CHECK(cJSON_GetArraySize(get(cert, "votes")) == 0);
		/* raw is the block's encoding */
		const char *raw = str(r, "raw");
		size_t rl = strlen(raw) / 2, n = 0;
		uint8_t *enc = malloc(rl + 1);
		struct chain_block b;
		CHECK(cr_hex_decode(raw, strlen(raw), enc, rl + 1, &n) == 0 &&
		      chain_block_decode(enc, n, &b, NULL) == 0 &&
		      memcmp(b.hash, bh, CR_HASH_LEN) == 0);
		chain_block_close(&b);
		free(enc);
		cJSON_Delete(j);
	}
	CHECK_EQ_INT(error_of(rpc(f, CALL("block", "{\"height\":2}"))), -32009);

	cJSON *j = rpc(f, CALL("blockchain", "{}"));
	const cJSON *r = result(j);
	CHECK(num(r, "last_height") == 1);
	REQUIRE(cJSON_GetArraySize(get(r, "blocks")) == 1);
	const cJSON *b0 = cJSON_GetArrayItem(get(r, "blocks"), 0);
	CHECK(strcmp(str(b0, "hash"), hash_hex(bh)) == 0);
	CHECK(num(get(b0, "header"), "height") == 1);
	CHECK(get(b0, "txs") == NULL);
	cJSON_Delete(j);
	j = rpc(f, CALL("blockchain", "{\"min_height\":1,\"max_height\":9}"));
	CHECK(cJSON_GetArraySize(get(result(j), "blocks")) == 1);
	cJSON_Delete(j);

	/* each transaction with a proof of its place under the block's tx_root */
	for (int i = 0; i < 3; i++) {
		j = rpc(f, CALL("tx", "{\"hash\":\"%s\"}"), hash_hex(txs[i].hash));
		r = result(j);
		REQUIRE(r != NULL);
		CHECK(strcmp(str(r, "status"), "committed") == 0);
		CHECK(num(r, "height") == 1 && num(r, "index") == i);
		CHECK(strcmp(str(r, "block_hash"), hash_hex(bh)) == 0);
		CHECK(strcmp(str(r, "raw"), tx_hex(&txs[i])) == 0);
		CHECK(strcmp(str(get(r, "tx"), "hash"), hash_hex(txs[i].hash)) == 0);
		const cJSON *proof = get(r, "proof");
		CHECK(num(proof, "index") == i && num(proof, "total") == 3);
		uint8_t root[CR_HASH_LEN], path[CR_MERKLE_MAX_DEPTH][CR_HASH_LEN];
		CHECK(cr_hex_decode_exact(str(proof, "root"), root, CR_HASH_LEN) == 0);
		const cJSON *pa = get(proof, "path");
		size_t pl = (size_t)cJSON_GetArraySize(pa);
		REQUIRE(pl >= 1 && pl <= 2);
		for (size_t k = 0; k < pl; k++)
			CHECK(cr_hex_decode_exact(cJSON_GetArrayItem(pa, (int)k)->valuestring, path[k],
						  CR_HASH_LEN) == 0);
		const uint8_t(*cpath)[CR_HASH_LEN] = (const uint8_t(*)[CR_HASH_LEN])path;
		CHECK(cr_merkle_verify(txs[i].hash, (size_t)i, 3, cpath, pl, root));
		CHECK(!cr_merkle_verify(txs[(i + 1) % 3].hash, (size_t)i, 3, cpath, pl, root));
		cJSON_Delete(j);
	}
	uint8_t root[CR_HASH_LEN];
	chain_block_tx_root(txs, 3, root);
	j = rpc(f, CALL("tx", "{\"hash\":\"%s\"}"), hash_hex(txs[0].hash));
	CHECK(strcmp(str(get(result(j), "proof"), "root"), hash_hex(root)) == 0);
	cJSON_Delete(j);

	/* the state moved: nonces, balances and the value set */
	j = rpc(f, CALL("account", "{\"address\":\"%s\"}"), addr_hex[ALICE]);
	CHECK(num(result(j), "nonce") == 2);
	CHECK(strcmp(str(result(j), "balance"), "999999985") == 0);
	cJSON_Delete(j);
	j = rpc(f, CALL("get", "{\"owner\":\"%s\",\"name\":\"greeting\"}"), addr_hex[BOB]);
	CHECK(strcmp(str(result(j), "value"), "hello") == 0);
	CHECK(strcmp(str(result(j), "owner"), addr_hex[BOB]) == 0);
	cJSON_Delete(j);
	j = rpc(f, CALL("status", "{}"));
	CHECK(num(result(j), "height") == 1);
	CHECK(strcmp(str(result(j), "latest_block_hash"), hash_hex(bh)) == 0);
	cJSON_Delete(j);
	/* resubmitting a committed transaction answers committed, and submits nothing */
	int before = f->submits;
	j = rpc(f, CALL("broadcast_tx_sync", "{\"tx\":\"%s\"}"), tx_hex(&txs[1]));
	CHECK(strcmp(str(result(j), "status"), "committed") == 0 && num(result(j), "height") == 1);
	cJSON_Delete(j);
	CHECK_EQ_INT(f->submits, before);
}

/* values lists an owner's values in name order, a page at a time */
static void
test_values(void *arg)
{
	struct fx *f = arg;
	struct chain_tx txs[3];
	set_value(&txs[0], BOB, 0, "b.name", "two");
	set_value(&txs[1], BOB, 1, "a.name", "one");
	set_value(&txs[2], ALICE, 0, "c.name", "alice's");
	for (int i = 0; i < 3; i++)
		CHECK(sync_ok(f, &txs[i]));
	uint8_t bh[CR_HASH_LEN];
	REQUIRE(commit_pool(f, bh));
	cJSON *j = rpc(f, CALL("values", "{\"owner\":\"%s\"}"), addr_hex[BOB]);
	const cJSON *r = result(j);
	REQUIRE(r != NULL && cJSON_GetArraySize(get(r, "values")) == 2);
	CHECK(strcmp(str(cJSON_GetArrayItem(get(r, "values"), 0), "name"), "a.name") == 0);
	CHECK(strcmp(str(cJSON_GetArrayItem(get(r, "values"), 0), "value"), "one") == 0);
	CHECK(strcmp(str(cJSON_GetArrayItem(get(r, "values"), 1), "name"), "b.name") == 0);
	CHECK(cJSON_IsFalse(get(r, "more")));
	cJSON_Delete(j);
	j = rpc(f, CALL("values", "{\"owner\":\"%s\",\"limit\":1}"), addr_hex[BOB]);
	r = result(j);
	CHECK(r != NULL && cJSON_GetArraySize(get(r, "values")) == 1 && cJSON_IsTrue(get(r, "more")));
	cJSON_Delete(j);
	j = rpc(f, CALL("values", "{\"owner\":\"%s\",\"after\":\"a.name\"}"), addr_hex[BOB]);
	r = result(j);
	REQUIRE(r != NULL && cJSON_GetArraySize(get(r, "values")) == 1);
	CHECK(strcmp(str(cJSON_GetArrayItem(get(r, "values"), 0), "value"), "two") == 0);
	cJSON_Delete(j);
	j = rpc(f, CALL("values", "{\"owner\":\"%s\"}"), addr_hex[POOR]);
	CHECK(cJSON_GetArraySize(get(result(j), "values")) == 0);
	cJSON_Delete(j);
	CHECK_EQ_INT(error_of(rpc(f, CALL("values", "{\"owner\":\"12\"}"))), RPC_INVALID_PARAMS);
	CHECK_EQ_INT(error_of(rpc(f, CALL("values", "{\"owner\":\"%s\",\"limit\":0}"),
				  addr_hex[BOB])),
		     RPC_INVALID_PARAMS);
}

/* ---- events ---- */

static const cJSON *
event_at(const cJSON *r, int i)
{
	return cJSON_GetArrayItem(get(r, "events"), i);
}

/* events answers from committed blocks at once, or waits for one (long poll); resumes by height. */
static void
test_events(void *arg)
{
	struct fx *f = arg;
	cJSON *j = rpc(f, CALL("events", "{\"from_height\":1}"));
	const cJSON *r = result(j);
	CHECK(r != NULL && cJSON_GetArraySize(get(r, "events")) == 0);
	CHECK(num(r, "next_height") == 1 && num(r, "height") == 0);
	cJSON_Delete(j);
	/* a long poll waits for the next commit */
	REQUIRE(start(f, CALL("events", "{\"from_height\":1,\"timeout_ms\":5000}"))->waiting == 1);
	struct chain_tx txs[3];
	transfer(&txs[0], ALICE, 0, 7);
	transfer(&txs[1], BOB, 0, 8);
	set_value(&txs[2], BOB, 1, "greeting", "hello");
	for (int i = 0; i < 3; i++)
		CHECK(sync_ok(f, &txs[i]));
	node_feed_settle(&f->feed, f->clock, false);
	CHECK_EQ_INT(f->finished, 0);
	uint8_t bh[CR_HASH_LEN];
	REQUIRE(commit_pool(f, bh));
	node_feed_settle(&f->feed, f->clock, false);
	CHECK_EQ_INT(f->finished, 1);
	r = result(f->answer);
	REQUIRE(r != NULL);
	REQUIRE(cJSON_GetArraySize(get(r, "events")) == 4);
	CHECK(num(r, "next_height") == 2 && num(r, "height") == 1);
	const cJSON *b = event_at(r, 0);
	CHECK(strcmp(str(b, "kind"), "block") == 0 && strcmp(str(b, "id"), "1-0") == 0);
	CHECK(strcmp(str(b, "hash"), hash_hex(bh)) == 0 && num(b, "tx_count") == 3);
	for (int i = 0; i < 3; i++) {
		const cJSON *t = event_at(r, i + 1);
		char id[8];
		snprintf(id, sizeof(id), "1-%d", i + 1);
		CHECK(strcmp(str(t, "kind"), "tx") == 0 && strcmp(str(t, "id"), id) == 0);
		CHECK(strcmp(str(t, "hash"), hash_hex(txs[i].hash)) == 0 && num(t, "index") == i);
	}
	/* filters: kinds, and an account as sender or recipient */
	j = rpc(f, CALL("events", "{\"from_height\":1,\"kinds\":[\"block\"]}"));
	CHECK(cJSON_GetArraySize(get(result(j), "events")) == 1);
	cJSON_Delete(j);
	j = rpc(f, CALL("events", "{\"from_height\":1,\"kinds\":[\"tx\"],\"account\":\"%s\"}"),
		addr_hex[ALICE]);
	r = result(j);
	/* alice sent txs[0] and received txs[1] (bob's transfers go to alice) */
	REQUIRE(cJSON_GetArraySize(get(r, "events")) == 2);
	CHECK(strcmp(str(event_at(r, 0), "hash"), hash_hex(txs[0].hash)) == 0);
	CHECK(strcmp(str(event_at(r, 1), "hash"), hash_hex(txs[1].hash)) == 0);
	cJSON_Delete(j);
	/* limit never splits a block, and a block that would go past it waits for the next answer */
	j = rpc(f, CALL("events", "{\"from_height\":1,\"limit\":1}"));
	CHECK(cJSON_GetArraySize(get(result(j), "events")) == 4);
	cJSON_Delete(j);
	struct chain_tx more;
	transfer(&more, ALICE, 1, 9);
	CHECK(sync_ok(f, &more));
	REQUIRE(commit_pool(f, bh)); /* block 2: 2 events */
	j = rpc(f, CALL("events", "{\"from_height\":1,\"limit\":5}"));
	r = result(j);
	CHECK(cJSON_GetArraySize(get(r, "events")) == 4 && num(r, "next_height") == 2);
	cJSON_Delete(j);
	j = rpc(f, CALL("events", "{\"from_height\":1,\"limit\":6}"));
	r = result(j);
	CHECK(cJSON_GetArraySize(get(r, "events")) == 6 && num(r, "next_height") == 3);
	cJSON_Delete(j);
	/* a long poll past the tip answers empty once its time is up */
	REQUIRE(start(f, CALL("events", "{\"from_height\":3,\"timeout_ms\":100}"))->waiting == 1);
	f->clock += 50;
	node_feed_settle(&f->feed, f->clock, false);
	CHECK_EQ_INT(f->finished, 1);
	f->clock += 50;
	node_feed_settle(&f->feed, f->clock, false);
	CHECK_EQ_INT(f->finished, 2);
	r = result(f->answer);
	CHECK(r != NULL && cJSON_GetArraySize(get(r, "events")) == 0 && num(r, "next_height") == 3);
	/* bad parameters */
	CHECK_EQ_INT(error_of(rpc(f, CALL("events", "{}"))), RPC_INVALID_PARAMS);
	CHECK_EQ_INT(error_of(rpc(f, CALL("events", "{\"from_height\":0}"))), RPC_INVALID_PARAMS);
	CHECK_EQ_INT(error_of(rpc(f, CALL("events", "{\"from_height\":1,\"kinds\":[\"x\"]}"))),
		     RPC_INVALID_PARAMS);
	CHECK_EQ_INT(error_of(rpc(f, CALL("events", "{\"from_height\":1,\"account\":\"zz\"}"))),
		     RPC_INVALID_PARAMS);
	CHECK_EQ_INT(
		error_of(rpc(f, CALL("events", "{\"from_height\":1,\"timeout_ms\":600000}"))),
		RPC_INVALID_PARAMS);
}

/* GET /events: the query and Last-Event-ID give where a stream starts */
static void
test_event_stream_query(void *arg)
{
	struct node_events_query q;
	struct ch_err e;
	CHECK_EQ_INT(node_feed_parse_query("", NULL, &q, &e), 0);
	CHECK(q.from_height == 1 && q.after_ordinal == -1 && q.kinds == (NODE_EV_BLOCK | NODE_EV_TX));
	CHECK_EQ_INT(node_feed_parse_query("from_height=7&kinds=block%2Ctx", NULL, &q, &e), 0);
	CHECK(q.from_height == 7 && q.kinds == (NODE_EV_BLOCK | NODE_EV_TX) && !q.has_account);
	CHECK_EQ_INT(node_feed_parse_query("kinds=tx&from_height=2", "9-3", &q, &e), 0);
	CHECK(q.from_height == 9 && q.after_ordinal == 3 && q.kinds == NODE_EV_TX);
	CHECK_EQ_INT(node_feed_parse_query("account=00112233445566778899aabbccddeeff00112233", NULL,
					   &q, &e),
		     0);
	CHECK(q.has_account && q.account[19] == 0x33);
	CHECK_EQ_INT(node_feed_parse_query("from_height=0", NULL, &q, &e), CH_E_INVALID);
	CHECK_EQ_INT(node_feed_parse_query("kinds=blocks", NULL, &q, &e), CH_E_INVALID);
	CHECK(strstr(e.msg, "blocks") != NULL);
	CHECK_EQ_INT(node_feed_parse_query("account=12", NULL, &q, &e), CH_E_INVALID);
	CHECK_EQ_INT(node_feed_parse_query("", "7", &q, &e), CH_E_INVALID);
	uint64_t h;
	uint32_t o;
	CHECK(node_events_parse_id("12-0", &h, &o) && h == 12 && o == 0);
	CHECK(!node_events_parse_id("12-", &h, &o) && !node_events_parse_id("-1", &h, &o));
}

int
main(void)
{
	for (uint32_t i = 0; i < NACCTS; i++) {
		accts[i] = test_key("account", i);
		test_key_address(accts[i], addrs[i]);
		cr_hex_encode(addrs[i], CR_ADDR_LEN, addr_hex[i]);
	}
	RUN_WITH(test_status, setup, teardown);
	RUN_WITH(test_validators, setup, teardown);
	RUN_WITH(test_validators_height, setup, teardown);
	RUN_WITH(test_validator_changes_none, setup, teardown);
	RUN_WITH(test_validator_changes, setup, teardown);
	RUN_WITH(test_net_info, setup, teardown);
	RUN_WITH(test_account, setup, teardown);
	RUN_WITH(test_sync_good, setup, teardown);
	RUN_WITH(test_sync_malformed, setup, teardown);
	RUN_WITH(test_sync_overspend, setup, teardown);
	RUN_WITH(test_async_refused, setup, teardown);
	RUN_WITH(test_refused_then_admitted, setup, teardown);
	RUN_WITH(test_async_good_then_tx_pending, setup, teardown);
	RUN_WITH(test_tx_unknown, setup, teardown);
	RUN_WITH(test_num_unconfirmed, setup, teardown);
	RUN_WITH(test_block_none, setup, teardown);
	RUN_WITH(test_get_missing, setup, teardown);
	RUN_WITH(test_unknown_method, setup, teardown);
	RUN_WITH(test_batch, setup, teardown);
	RUN_WITH(test_commit_times_out, setup, teardown);
	RUN_WITH(test_commit_shutting_down, setup, teardown);
	RUN_WITH(test_commit_refusals, setup, teardown);
	RUN_WITH(test_commit_answered_on_commit, setup, teardown);
	RUN_WITH(test_commit_left_mempool, setup, teardown);
	RUN_WITH(test_commit_in_batch, setup, teardown);
	RUN_WITH(test_blockchain_ranges, setup, teardown);
	RUN_WITH(test_committed_block, setup, teardown);
	RUN_WITH(test_values, setup, teardown);
	RUN_WITH(test_events, setup, teardown);
	RUN_WITH(test_event_stream_query, setup, teardown);
	for (int i = 0; i < NACCTS; i++)
		cr_key_free(accts[i]);
	return TEST_DONE();
}
