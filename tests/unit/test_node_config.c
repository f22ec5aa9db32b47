#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/cli.h"
#include "node/config.h"
#include "test.h"

static char dir[64];

static void
write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* genesis_error loads text as genesis.json and returns the error message ("" if it loads). */
static const char *
genesis_error(const char *text)
{
	static struct ch_err e;
	char path[256];
	struct node_genesis g;
	write_file("g.json", text);
	snprintf(path, sizeof(path), "%s/g.json", dir);
	ch_err_clear(&e);
	if (node_genesis_load(&g, path, &e) == 0) {
		node_genesis_close(&g);
		return "";
	}
	return e.msg;
}

static void
test_testnet_roundtrip(void)
{
	struct node_testnet_opts o;
	char net[128], path[256];
	node_testnet_defaults(&o);
	snprintf(net, sizeof(net), "%s/net", dir);
	o.dir = net;
	o.validators = 4;
	o.accounts = 3;
	o.balance = 77;
	struct ch_err e;
	REQUIRE(node_testnet(&o, true, &e) == 0);
	CHECK(node_testnet(&o, true, &e) == CH_E_EXISTS); /* never overwrites a network */
	struct node_genesis g;
	snprintf(path, sizeof(path), "%s/genesis.json", net);
	REQUIRE(node_genesis_load(&g, path, &e) == 0);
	CHECK_EQ_INT(g.nvalidators, 4);
	CHECK_EQ_INT(g.naccounts, 3);
	CHECK(g.accounts[2].balance == 77);
	CHECK(strcmp(g.validators[3].p2p_address, "tcp://127.0.0.1:26606") == 0);
	node_genesis_close(&g);
	struct node_config c;
	snprintf(path, sizeof(path), "%s/node2", net);
	REQUIRE(node_config_load(&c, path, &e) == 0);
	CHECK(strcmp(c.rpc_listen, "http://127.0.0.1:26605") == 0);
	CHECK(strstr(c.genesis_file, "node2/../genesis.json") != NULL);
	struct stat st;
	CHECK(stat(c.key_file, &st) == 0 && (st.st_mode & 0777) == 0600);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", net);
	CHECK(system(cmd) == 0);
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
}

static void
test_config_errors(void)
{
	struct node_config c;
	struct ch_err e;
	write_file("config.json", "{\"rpc_listen\":\"tcp://x\"}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	CHECK(strstr(e.msg, "rpc_listen") != NULL);
	write_file("config.json", "{\"mempool_max_txs\":\"lots\"}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	CHECK(strstr(e.msg, "mempool_max_txs") != NULL);
	write_file("config.json", "{\"moniker\":5}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	write_file("config.json", "{\"data_dir\":\"/abs/data\",\"key_file\":\"k.pem\"}");
	REQUIRE(node_config_load(&c, dir, &e) == 0);
	CHECK(strcmp(c.data_dir, "/abs/data") == 0);
	CHECK(strstr(c.key_file, "/k.pem") != NULL && strncmp(c.key_file, dir, strlen(dir)) == 0);
	write_file("config.json", "{\"peer_addresses\":{\"node1\":\"tcp://127.0.0.1:9\","
				  "\"node2\":\"tcp://10.0.0.2:26604\"}}");
	REQUIRE(node_config_load(&c, dir, &e) == 0);
	CHECK(c.npeer_addresses == 2);
	CHECK(strcmp(c.peer_addresses[0].id, "node1") == 0);
	CHECK(strcmp(c.peer_addresses[1].address, "tcp://10.0.0.2:26604") == 0);
	write_file("config.json", "{\"peer_addresses\":[\"tcp://127.0.0.1:9\"]}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	CHECK(strstr(e.msg, "peer_addresses") != NULL);
	write_file("config.json", "{\"peer_addresses\":{\"node1\":\"http://127.0.0.1:9\"}}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	CHECK(strstr(e.msg, "peer_addresses.node1") != NULL);
	/* the resource limits: defaults, values, and out-of-range values named */
	write_file("config.json", "{}");
	REQUIRE(node_config_load(&c, dir, &e) == 0);
	CHECK(c.peer_max_connections == 0 && c.peer_max_msgs_per_s == 1000);
	CHECK(c.peer_max_bytes_per_s == 64ull << 20 && c.min_free_disk_mb == 64);
	write_file("config.json", "{\"peer_max_connections\":40,\"peer_max_msgs_per_s\":50,"
				  "\"peer_max_bytes_per_s\":1048576,\"min_free_disk_mb\":0}");
	REQUIRE(node_config_load(&c, dir, &e) == 0);
	CHECK(c.peer_max_connections == 40 && c.peer_max_msgs_per_s == 50);
	CHECK(c.peer_max_bytes_per_s == 1048576 && c.min_free_disk_mb == 0);
	write_file("config.json", "{\"peer_max_msgs_per_s\":0}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	CHECK(strstr(e.msg, "peer_max_msgs_per_s") != NULL);
	write_file("config.json", "{\"peer_max_bytes_per_s\":10}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	CHECK(strstr(e.msg, "peer_max_bytes_per_s") != NULL);
	write_file("config.json", "{\"min_free_disk_mb\":-1}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	CHECK(strstr(e.msg, "min_free_disk_mb") != NULL);
	char path[128];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	CHECK(node_config_load(&c, dir, &e) == CH_E_IO);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/node_cfg_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_testnet_roundtrip);
	RUN(test_genesis_errors);
	RUN(test_config_errors);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return TEST_DONE();
}
