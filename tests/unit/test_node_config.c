#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/genesis.h"
#include "node/cli/cli.h"
#include "node/config.h"
#include "node/peer_tls.h"
#include "test.h"
#include "tmpdir.h"

static char dir[64];

static void
write_file(const char *name, const char *text)
{
	if (test_write_file(dir, name, text) != 0)
		abort();
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
	struct chain_genesis g;
	snprintf(path, sizeof(path), "%s/genesis.json", net);
	REQUIRE(chain_genesis_load(&g, path, &e) == 0);
	CHECK_EQ_INT(g.nvalidators, 4);
	CHECK_EQ_INT(g.naccounts, 3);
	CHECK(g.accounts[2].balance == 77);
	CHECK(strcmp(g.validators[3].p2p_address, "tcp://127.0.0.1:26606") == 0);
	chain_genesis_close(&g);
	struct node_config c;
	snprintf(path, sizeof(path), "%s/node2", net);
	REQUIRE(node_config_load(&c, path, &e) == 0);
	CHECK(strcmp(c.rpc_listen, "http://127.0.0.1:26605") == 0);
	CHECK(strstr(c.genesis_file, "node2/../genesis.json") != NULL);
	struct stat st;
	CHECK(stat(c.key_file, &st) == 0 && (st.st_mode & 0777) == 0600);
	test_rmtree(net);
}

/* testnet --tls --hosts: one host per validator, the same ports, TLS on, the files written */
static void
test_testnet_hosts(void)
{
	struct node_testnet_opts o;
	char net[128], path[256];
	node_testnet_defaults(&o);
	snprintf(net, sizeof(net), "%s/hosts", dir);
	o.dir = net;
	o.validators = 3;
	o.accounts = 1;
	o.hosts = "10.1.0.1,10.1.0.2,val3.example";
	struct ch_err e;
	CHECK_EQ_INT(node_testnet(&o, true, &e), CH_E_INVALID); /* hosts without TLS */
	CHECK(strstr(e.msg, "--tls") != NULL);
	o.tls = true;
	o.hosts = "10.1.0.1,10.1.0.2";
	CHECK_EQ_INT(node_testnet(&o, true, &e), CH_E_INVALID); /* 2 hosts, 3 validators */
	o.hosts = "10.1.0.1,bad host,x";
	CHECK_EQ_INT(node_testnet(&o, true, &e), CH_E_INVALID);
	o.hosts = "10.1.0.1,10.1.0.2,val3.example";
	REQUIRE(node_testnet(&o, true, &e) == 0);
	struct chain_genesis g;
	snprintf(path, sizeof(path), "%s/genesis.json", net);
	REQUIRE(chain_genesis_load(&g, path, &e) == 0);
	CHECK(strcmp(g.validators[1].p2p_address, "tcp://10.1.0.2:26600") == 0);
	CHECK(strcmp(g.validators[2].p2p_address, "tcp://val3.example:26600") == 0);
	chain_genesis_close(&g);
	struct node_config c;
	snprintf(path, sizeof(path), "%s/node1", net);
	REQUIRE(node_config_load(&c, path, &e) == 0);
	CHECK(c.p2p_tls && !c.allow_plaintext_peers);
	CHECK(strcmp(c.rpc_listen, "https://10.1.0.2:26601") == 0);
	CHECK(strcmp(c.p2p_listen, "tcp://10.1.0.2:26600") == 0);
	struct stat st;
	CHECK(stat(c.rpc_tls_cert, &st) == 0);
	CHECK(stat(c.rpc_tls_key, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(path, sizeof(path), "%s/node2", net);
	REQUIRE(node_config_load(&c, path, &e) == 0);
	CHECK(strcmp(c.p2p_listen, "tcp://0.0.0.0:26600") == 0); /* a name: every address */
	snprintf(path, sizeof(path), "%s/tls/ca.key", net);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(path, sizeof(path), "%s/node0/tls/ca.key", net);
	CHECK(stat(path, &st) != 0); /* the CA's key stays out of the homes */
	test_rmtree(net);
}

/* peer links without TLS: loopback only, unless allowed */
static void
test_plaintext_rule(void)
{
	CHECK(node_addr_loopback("tcp://127.0.0.1:1"));
	CHECK(node_addr_loopback("tcp://127.3.2.1:1"));
	CHECK(node_addr_loopback("tcp://localhost:1"));
	CHECK(node_addr_loopback("tcp://[::1]:1"));
	CHECK(!node_addr_loopback("tcp://10.0.0.1:1"));
	CHECK(!node_addr_loopback("tcp://0.0.0.0:1"));
	CHECK(!node_addr_loopback("tcp://localhost.example:1"));
	CHECK(!node_addr_loopback("tcp://127example.com:1"));
	struct node_config c;
	struct ch_err e;
	bool warn = true;
	node_config_default(&c, dir);
	const char *local[] = {"tcp://127.0.0.1:2", "tcp://127.0.0.1:3"};
	const char *far[] = {"tcp://127.0.0.1:2", "tcp://10.0.0.9:3"};
	CHECK(node_peer_plaintext_check(&c, local, 2, 0, &warn, &e) == 0 && !warn);
	CHECK_EQ_INT(node_peer_plaintext_check(&c, far, 2, 0, &warn, &e), CH_E_CONFIG);
	CHECK(strstr(e.msg, "tcp://10.0.0.9:3") != NULL && strstr(e.msg, "p2p_tls") != NULL);
	CHECK(node_peer_plaintext_check(&c, far, 2, 1, &warn, &e) == 0); /* its own address is not read */
	snprintf(c.p2p_listen, sizeof(c.p2p_listen), "tcp://0.0.0.0:26600");
	CHECK_EQ_INT(node_peer_plaintext_check(&c, local, 2, 0, &warn, &e), CH_E_CONFIG);
	c.allow_plaintext_peers = true;
	CHECK(node_peer_plaintext_check(&c, far, 2, 0, &warn, &e) == 0 && warn);
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
	/* TLS settings go together */
	write_file("config.json", "{\"p2p_tls\":\"yes\"}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	CHECK(strstr(e.msg, "p2p_tls") != NULL);
	write_file("config.json", "{\"rpc_tls_cert\":\"a.crt\"}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	CHECK(strstr(e.msg, "rpc_tls_key") != NULL);
	write_file("config.json", "{\"rpc_listen\":\"https://127.0.0.1:1\"}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG);
	write_file("config.json", "{\"rpc_tls_cert\":\"a.crt\",\"rpc_tls_key\":\"a.key\"}");
	CHECK(node_config_load(&c, dir, &e) == CH_E_CONFIG); /* https needs an https:// URL */
	write_file("config.json", "{\"rpc_tls_cert\":\"a.crt\",\"rpc_tls_key\":\"a.key\","
				  "\"rpc_listen\":\"https://127.0.0.1:1\",\"p2p_tls\":true}");
	REQUIRE(node_config_load(&c, dir, &e) == 0);
	CHECK(c.p2p_tls && strstr(c.rpc_tls_key, "/a.key") != NULL);
	char path[128];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	CHECK(node_config_load(&c, dir, &e) == CH_E_IO);
}

int
main(void)
{
	if (test_tmpdir(dir, sizeof(dir), "node_config") != 0)
		return 1;
	RUN(test_testnet_roundtrip);
	RUN(test_testnet_hosts);
	RUN(test_plaintext_rule);
	RUN(test_config_errors);
	test_rmtree(dir);
	return TEST_DONE();
}
