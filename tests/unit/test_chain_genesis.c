/* genesis.json: loading, its errors, saving, and the genesis state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain/genesis.h"
#include "chain/store.h"
#include "test.h"
#include "tmpdir.h"

static char dir[64];

static void
write_file(const char *name, const char *text)
{
	if (test_write_file(dir, name, text) != 0)
		abort();
}

/* genesis_error loads text as genesis.json and returns the error message ("" if it loads). */
static const char *
genesis_error(const char *text)
{
	static struct ch_err e;
	char path[256];
	struct chain_genesis g;
	write_file("g.json", text);
	snprintf(path, sizeof(path), "%s/g.json", dir);
	ch_err_clear(&e);
	if (chain_genesis_load(&g, path, &e) == 0) {
		chain_genesis_close(&g);
		return "";
	}
	return e.msg;
}

static void
test_genesis_errors(void)
{
	static const char *key =
		"\"pub_key\":\"036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296\"";
	char ok[512];
	snprintf(ok, sizeof(ok),
		 "{\"chain_id\":\"c\",\"genesis_time_ms\":1,\"validators\":[{\"id\":\"v\",%s}]}", key);
	CHECK(strcmp(genesis_error(ok), "") == 0);
	CHECK(strstr(genesis_error("{"), "not a JSON object") != NULL);
	CHECK(strstr(genesis_error("[]"), "not a JSON object") != NULL);
	CHECK(strstr(genesis_error("{\"genesis_time_ms\":1}"), "chain_id") != NULL);
	CHECK(strstr(genesis_error("{\"chain_id\":\"bad id\",\"genesis_time_ms\":1}"), "chain_id") !=
	      NULL);
	CHECK(strstr(genesis_error("{\"chain_id\":\"c\",\"genesis_time_ms\":-1}"),
		     "genesis_time_ms") != NULL);
	CHECK(strstr(genesis_error("{\"chain_id\":\"c\",\"genesis_time_ms\":1,\"validators\":[]}"),
		     "validators") != NULL);
	CHECK(strstr(genesis_error("{\"chain_id\":\"c\",\"genesis_time_ms\":1,\"validators\":[{\"id\":"
				   "\"v\",\"pub_key\":\"02ff\"}]}"),
		     "pub_key") != NULL);
	char dup[768];
	snprintf(dup, sizeof(dup),
		 "{\"chain_id\":\"c\",\"genesis_time_ms\":1,\"validators\":[{\"id\":\"v\",%s},{\"id\":"
		 "\"w\",%s}]}",
		 key, key);
	CHECK(strstr(genesis_error(dup), "repeats") != NULL);
	char bal[768];
	snprintf(bal, sizeof(bal),
		 "{\"chain_id\":\"c\",\"genesis_time_ms\":1,\"validators\":[{\"id\":\"v\",%s}],"
		 "\"accounts\":[{\"address\":\"%040d\",\"balance\":\"18446744073709551616\"}]}",
		 key, 0);
	CHECK(strstr(genesis_error(bal), "balance") != NULL);
	char par[768];
	snprintf(par, sizeof(par),
		 "{\"chain_id\":\"c\",\"genesis_time_ms\":1,\"validators\":[{\"id\":\"v\",%s}],"
		 "\"params\":{\"block_max_txs\":0}}",
		 key);
	CHECK(strstr(genesis_error(par), "block_max_txs") != NULL);
	char eng[768];
	snprintf(eng, sizeof(eng),
		 "{\"chain_id\":\"c\",\"genesis_time_ms\":1,\"validators\":[{\"id\":\"v\",%s}],"
		 "\"params\":{\"engine\":\"hotstuff\"}}",
		 key);
	CHECK(strstr(genesis_error(eng), "\"engine\" must be \"pbft\", \"raft\" or \"multipaxos\"") !=
	      NULL);
	snprintf(eng, sizeof(eng),
		 "{\"chain_id\":\"c\",\"genesis_time_ms\":1,\"validators\":[{\"id\":\"v\",%s}],"
		 "\"params\":{\"engine\":7}}",
		 key);
	CHECK(strstr(genesis_error(eng), "engine") != NULL);
}

/* A genesis saved and loaded again is the same, with the same hash; its state credits each account. */
static void
test_save_load_state(void)
{
	struct chain_genesis g, h;
	struct ch_err e;
	char path[256];
	memset(&g, 0, sizeof(g));
	snprintf(g.chain_id, sizeof(g.chain_id), "round-trip");
	g.genesis_time_ms = 1700000000000ull;
	chain_params_default(&g.params);
	g.params.view_timeout_ms = 700;
	g.nvalidators = 1;
	snprintf(g.validators[0].id, sizeof(g.validators[0].id), "v0");
	snprintf(g.validators[0].p2p_address, sizeof(g.validators[0].p2p_address),
		 "tcp://127.0.0.1:9");
	REQUIRE(cr_hex_decode_exact("036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
				    g.validators[0].pub_key, CR_PUBKEY_LEN) == 0);
	struct chain_allocation acc[2] = {{{1}, 5}, {{2}, 18446744073709551615ull}};
	g.accounts = acc;
	g.naccounts = 2;
	snprintf(path, sizeof(path), "%s/saved.json", dir);
	REQUIRE(chain_genesis_save(&g, path, &e) == 0);
	CHECK(chain_genesis_save(&g, path, &e) == CH_E_EXISTS);
	REQUIRE(chain_genesis_load(&h, path, &e) == 0);
	CHECK(strcmp(h.chain_id, "round-trip") == 0 && h.genesis_time_ms == g.genesis_time_ms);
	CHECK(h.params.view_timeout_ms == 700 && h.naccounts == 2);
	CHECK(strcmp(h.params.engine, "pbft") == 0); /* the default, written out */
	CHECK(h.accounts[1].balance == 18446744073709551615ull);
	struct chain_genesis again;
	REQUIRE(chain_genesis_load(&again, path, &e) == 0);
	CHECK(memcmp(again.hash, h.hash, CR_HASH_LEN) == 0);
	chain_genesis_close(&again);
	/* the engine is part of the genesis, so of its hash */
	snprintf(g.params.engine, sizeof(g.params.engine), "multipaxos");
	snprintf(path, sizeof(path), "%s/saved-paxos.json", dir);
	REQUIRE(chain_genesis_save(&g, path, &e) == 0);
	REQUIRE(chain_genesis_load(&again, path, &e) == 0);
	CHECK(strcmp(again.params.engine, "multipaxos") == 0);
	CHECK(memcmp(again.hash, h.hash, CR_HASH_LEN) != 0);
	chain_genesis_close(&again);

	struct chain_store *s = NULL;
	struct chain_mem_env *env = NULL;
	REQUIRE(chain_mem_env_new(&env, &e) == 0);
	REQUIRE(chain_store_open_mem(&s, env, "/genesis", &e) == 0);
	struct chain_state_reader rd = chain_store_reader(s);
	struct chain_exec *x = NULL;
	uint8_t d1[CR_HASH_LEN], d2[CR_HASH_LEN];
	REQUIRE(chain_genesis_state(&h, &rd, &x, d1, &e) == 0);
	struct chain_account a;
	CHECK(chain_exec_account(x, acc[0].address, &a, &e) == 0 && a.balance == 5);
	chain_exec_free(x);
	REQUIRE(chain_genesis_state(&h, &rd, &x, d2, &e) == 0);
	CHECK(memcmp(d1, d2, CR_HASH_LEN) == 0); /* deterministic */
	chain_exec_free(x);
	/* an overflowing allocation (the same address twice) is refused */
	h.accounts[1] = h.accounts[0];
	h.accounts[1].balance = 18446744073709551615ull;
	CHECK(chain_genesis_state(&h, &rd, &x, d2, &e) == CH_E_TX_INVALID);
	chain_store_close(s);
	chain_mem_env_free(env);
	chain_genesis_close(&h);
}

int
main(void)
{
	if (test_tmpdir(dir, sizeof(dir), "chain_genesis") != 0)
		return 1;
	RUN(test_genesis_errors);
	RUN(test_save_load_state);
	test_rmtree(dir);
	return TEST_DONE();
}
