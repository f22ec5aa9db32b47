/* chaind testnet: generate keys, configs and genesis for an N-validator network. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chain/genesis.h"
#include "common/file.h"
#include "node/cli/cli.h"
#include "node/config.h"
#include "node/engine.h"
#include "node/log.h"

void
node_testnet_defaults(struct node_testnet_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->validators = 4;
	o->dir = NULL;
	o->base_port = 26600;
	o->accounts = 10;
	o->balance = 1000000000;
	o->chain_id = "chaind-testnet";
	o->block_interval_ms = -1;
	o->view_timeout_ms = -1;
	o->engine = NULL;
	o->tls = false;
	o->hosts = NULL;
}

static int
make_dir(const char *path, struct ch_err *err)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return ch_errf(err, CH_E_IO, "cannot create directory %s: %s", path, strerror(errno));
	return 0;
}

static int
new_key(const char *path, uint8_t pub[CR_PUBKEY_LEN], struct ch_err *err)
{
	struct cr_key *k = NULL;
	int rc = cr_key_generate(&k, err);
	if (rc == 0)
		rc = cr_key_save_pem(k, path, err);
	if (rc == 0)
		cr_key_pubkey(k, pub);
	cr_key_free(k);
	return rc;
}

#define MAX_HOST 64

/* is_ipv4 is true for a dotted quad. */
static bool
is_ipv4(const char *h)
{
	unsigned a, b, c, d;
	char tail;
	return sscanf(h, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a < 256 && b < 256 &&
	       c < 256 && d < 256;
}

/* split_hosts fills hosts[0..n) from "A,B,C": an IPv4 address or a DNS name each. */
static int
split_hosts(const char *list, unsigned n, char (*hosts)[MAX_HOST], bool *distinct,
	    struct ch_err *err)
{
	unsigned k = 0;
	const char *p = list;
	while (true) {
		size_t len = strcspn(p, ",");
		if (k == n)
			return ch_errf(err, CH_E_INVALID, "--hosts names more than %u hosts", n);
		if (len == 0 || len >= MAX_HOST || strspn(p, "abcdefghijklmnopqrstuvwxyz"
							 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") < len)
			return ch_errf(err, CH_E_INVALID,
				       "--hosts: \"%.*s\" is not an IPv4 address or a host name",
				       (int)(len < 80 ? len : 80), p);
		memcpy(hosts[k], p, len);
		hosts[k][len] = '\0';
		k++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	if (k != n)
		return ch_errf(err, CH_E_INVALID, "--hosts names %u hosts for %u validators", k, n);
	*distinct = true;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			if (strcmp(hosts[i], hosts[j]) == 0)
				*distinct = false;
	return 0;
}

/*
 * tls_home writes home/tls/: the network CA's certificate, and a key and
 * certificate for the JSON-RPC endpoint naming localhost and host; then
 * turns on TLS in c.
 */
static int
tls_home(const struct node_tls_ca *ca, struct node_config *c, const char *home, const char *host,
	 struct ch_err *err)
{
	char dir[NODE_MAX_PATH + 8], crt[NODE_MAX_PATH + 32], key[NODE_MAX_PATH + 32], san[80];
	snprintf(dir, sizeof(dir), "%s/tls", home);
	int rc = make_dir(dir, err);
	snprintf(crt, sizeof(crt), "%s/ca.crt", dir);
	if (rc == 0)
		rc = ch_write_new_file(crt, ca->cert, strlen(ca->cert), 0644, err);
	/*
	 * An address is named twice: as an IP entry (for curl, browsers) and as a
	 * DNS entry, because mbedTLS 2.x (under nng, in the wallet) matches a
	 * host only against DNS entries.
	 */
	char ipname[80];
	snprintf(san, sizeof(san), "%s:%s", is_ipv4(host) ? "IP" : "DNS", host);
	snprintf(ipname, sizeof(ipname), "DNS:%s", host);
	const char *sans[] = {"DNS:localhost", "IP:127.0.0.1", "DNS:127.0.0.1", san, ipname};
	size_t nsans = strcmp(host, "127.0.0.1") == 0 ? 3 : is_ipv4(host) ? 5 : 4;
	snprintf(crt, sizeof(crt), "%s/rpc.crt", dir);
	snprintf(key, sizeof(key), "%s/rpc.key", dir);
	if (rc == 0)
		rc = node_tls_issue(ca, c->moniker, sans, nsans, crt, key, err);
	c->p2p_tls = true;
	if (rc == 0 && (strlen(crt) >= sizeof(c->rpc_tls_cert) || strlen(key) >= sizeof(c->rpc_tls_key)))
		rc = ch_errf(err, CH_E_INVALID, "%s: the path is too long", home);
	if (rc == 0) {
		memcpy(c->rpc_tls_cert, crt, strlen(crt) + 1);
		memcpy(c->rpc_tls_key, key, strlen(key) + 1);
	}
	return rc;
}

/* tls_network makes DIR/tls/: the CA (its key stays here, never in a home) and a client's files. */
static int
tls_network(const struct node_testnet_opts *o, struct node_tls_ca *ca, struct ch_err *err)
{
	char dir[NODE_MAX_PATH], crt[NODE_MAX_PATH + 32], key[NODE_MAX_PATH + 32], name[64];
	snprintf(dir, sizeof(dir), "%s/tls", o->dir);
	int rc = make_dir(dir, err);
	snprintf(name, sizeof(name), "%.40s network CA", o->chain_id);
	snprintf(crt, sizeof(crt), "%s/ca.crt", dir);
	snprintf(key, sizeof(key), "%s/ca.key", dir);
	if (rc == 0)
		rc = node_tls_ca_new(name, crt, key, ca, err);
	snprintf(crt, sizeof(crt), "%s/client.crt", dir);
	snprintf(key, sizeof(key), "%s/client.key", dir);
	if (rc == 0)
		rc = node_tls_issue(ca, "client", NULL, 0, crt, key, err);
	return rc;
}

int
node_testnet(const struct node_testnet_opts *o, bool quiet, struct ch_err *err)
{
	char path[NODE_MAX_PATH + 64];
	struct chain_genesis g;
	int rc;
	memset(&g, 0, sizeof(g));
	snprintf(path, sizeof(path), "%s/genesis.json", o->dir);
	struct stat st;
	if (stat(path, &st) == 0)
		return ch_errf(err, CH_E_EXISTS,
			       "%s already holds a network (genesis.json); pick another --dir or "
			       "remove it",
			       o->dir);
	if (o->base_port + 2 * o->validators + 1 > 65535)
		return ch_errf(err, CH_E_INVALID, "--base-port %u leaves no room for %u validators",
			       o->base_port, o->validators);
	char(*hosts)[MAX_HOST] = calloc(o->validators, MAX_HOST);
	bool distinct = false;
	struct node_tls_ca ca = {0};
	if (hosts == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	for (unsigned i = 0; i < o->validators; i++)
		snprintf(hosts[i], MAX_HOST, "127.0.0.1");
	if (o->hosts != NULL && (rc = split_hosts(o->hosts, o->validators, hosts, &distinct, err)) != 0)
		goto out;
	struct node_engine_rules rules;
	if (o->engine != NULL &&
	    ((rc = node_engine_rules_of(o->engine, 1, &rules, err)) != 0 ||
	     strlen(o->engine) > CHAIN_MAX_ENGINE)) {
		rc = ch_errf(err, CH_E_INVALID, "--engine must be pbft, raft or multipaxos, not \"%s\"",
			     o->engine);
		goto out;
	}
	if (o->hosts != NULL && !o->tls) {
		rc = ch_errf(err, CH_E_INVALID,
			     "--hosts puts validators on a network: add --tls (links between hosts "
			     "are refused in plaintext)");
		goto out;
	}
	if ((rc = make_dir(o->dir, err)) != 0 || (o->tls && (rc = tls_network(o, &ca, err)) != 0))
		goto out;
	snprintf(g.chain_id, sizeof(g.chain_id), "%s", o->chain_id);
	g.genesis_time_ms = node_clock().wall_ms;
	chain_params_default(&g.params);
	if (o->block_interval_ms >= 0)
		g.params.block_interval_ms = (uint32_t)o->block_interval_ms;
	if (o->view_timeout_ms >= 0)
		g.params.view_timeout_ms = (uint32_t)o->view_timeout_ms;
	if (o->engine != NULL)
		snprintf(g.params.engine, sizeof(g.params.engine), "%s", o->engine);
	g.nvalidators = o->validators;
	for (unsigned i = 0; i < o->validators; i++) {
		struct node_config c;
		char home[NODE_MAX_PATH];
		snprintf(home, sizeof(home), "%s/node%u", o->dir, i);
		if ((rc = make_dir(home, err)) != 0)
			goto out;
		node_config_default(&c, home);
		snprintf(c.moniker, sizeof(c.moniker), "node%u", i);
		/* one host per validator: the same two ports on each; else ports side by side */
		unsigned port = distinct ? o->base_port : o->base_port + 2 * i;
		/* a name is resolved by the others; here the node listens on every address */
		const char *bind = is_ipv4(hosts[i]) ? hosts[i] : "0.0.0.0";
		snprintf(c.rpc_listen, sizeof(c.rpc_listen), "%s://%s:%u", o->tls ? "https" : "http",
			 bind, port + 1);
		snprintf(c.p2p_listen, sizeof(c.p2p_listen), "tcp://%s:%u", bind, port);
		if ((rc = new_key(c.key_file, g.validators[i].pub_key, err)) != 0 ||
		    (o->tls && (rc = tls_home(&ca, &c, home, hosts[i], err)) != 0) ||
		    (rc = node_config_save(&c, err)) != 0)
			goto out;
		snprintf(g.validators[i].id, sizeof(g.validators[i].id), "node%u", i);
		snprintf(g.validators[i].p2p_address, sizeof(g.validators[i].p2p_address),
			 "tcp://%s:%u", hosts[i], port);
	}
	snprintf(path, sizeof(path), "%s/accounts", o->dir);
	if ((rc = make_dir(path, err)) != 0)
		goto out;
	g.naccounts = o->accounts;
	g.accounts = calloc(o->accounts ? o->accounts : 1, sizeof(*g.accounts));
	if (g.accounts == NULL) {
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
		goto out;
	}
	for (unsigned j = 0; j < o->accounts; j++) {
		uint8_t pub[CR_PUBKEY_LEN];
		snprintf(path, sizeof(path), "%s/accounts/account%u.pem", o->dir, j);
		if ((rc = new_key(path, pub, err)) != 0)
			goto out;
		cr_address(pub, g.accounts[j].address);
		g.accounts[j].balance = o->balance;
	}
	snprintf(path, sizeof(path), "%s/genesis.json", o->dir);
	if ((rc = chain_genesis_save(&g, path, err)) != 0)
		goto out;
	if (!quiet) {
		printf("wrote a %u-validator network for chain %s to %s\n", o->validators,
		       g.chain_id, o->dir);
		for (unsigned i = 0; i < o->validators; i++) {
			unsigned port = distinct ? o->base_port : o->base_port + 2 * i;
			printf("  node%u: %s/node%u  rpc %s://%s:%u  p2p tcp://%s:%u%s\n", i, o->dir, i,
			       o->tls ? "https" : "http", hosts[i], port + 1, hosts[i], port,
			       o->tls ? " (mutual TLS)" : "");
		}
		if (o->tls)
			printf("  clients trust %s/tls/ca.crt (wallet --ca, curl --cacert); keep "
			       "%s/tls/ca.key off the validators\n",
			       o->dir, o->dir);
		if (o->hosts != NULL)
			printf("  copy each nodeI/ and genesis.json to its host, as HOME/nodeI and "
			       "HOME/genesis.json\n");
		printf("  %u funded accounts (balance %" PRIu64 " each): %s/accounts/account*.pem\n",
		       o->accounts, o->balance, o->dir);
		printf("start a validator with: chaind start --home %s/node0\n", o->dir);
	}
out:
	node_tls_ca_close(&ca);
	free(hosts);
	chain_genesis_close(&g);
	return rc;
}

static void
testnet_usage(FILE *f)
{
	struct chain_params def;
	chain_params_default(&def);
	fprintf(f,
		"usage: chaind testnet --validators N --dir DIR [--base-port B] [--accounts M]\n"
		"                      [--balance X] [--chain-id ID] [--block-interval-ms T]\n"
		"                      [--view-timeout-ms T] [--engine E] [--tls] [--hosts A,B,...]\n"
		"Writes DIR/genesis.json, DIR/nodeI/ (config.json, validator.pem) and\n"
		"DIR/accounts/accountJ.pem (funded). Node i listens for peers on\n"
		"tcp://127.0.0.1:(B+2i) and serves JSON-RPC on http://127.0.0.1:(B+2i+1).\n"
		"  --tls            mutual TLS between validators (certificates issued by the\n"
		"                   validator keys, checked against genesis) and HTTPS for\n"
		"                   clients: DIR/tls/ holds a network CA (ca.crt for clients;\n"
		"                   keep ca.key elsewhere) and a client certificate, each\n"
		"                   home's tls/ its endpoint's certificate\n"
		"  --hosts A,B,...  one host (IPv4 address or name) per validator, in order;\n"
		"                   node i listens on host i's ports B and B+1 (needs --tls)\n"
		"  --validators N   number of validators (default 4, or one per --hosts)\n"
		"  --dir DIR        output directory (required; must not hold a network)\n"
		"  --base-port B    first port (default 26600)\n"
		"  --accounts M     funded accounts (default 10)\n"
		"  --balance X      balance of each funded account (default 1000000000)\n"
		"  --chain-id ID    chain id (default chaind-testnet)\n"
		"  --block-interval-ms T  least time between two blocks' proposals (genesis\n"
		"                   parameter block_interval_ms; default %u)\n"
		"  --view-timeout-ms T  how long validators wait for a primary or leader before\n"
		"                   they replace it (genesis parameter view_timeout_ms; default %u)\n"
		"  --engine E       the ordering protocol, fixed for the chain's life: pbft\n"
		"                   (Byzantine faults, default), raft or multipaxos (crash faults\n"
		"                   only: every validator is trusted not to lie; docs/CONSENSUS.md)\n",
		def.block_interval_ms, def.view_timeout_ms);
}

int
node_cmd_testnet(int argc, char **argv)
{
	struct node_testnet_opts o;
	node_testnet_defaults(&o);
	uint64_t validators = o.validators, base = o.base_port, accounts = o.accounts;
	uint64_t balance = o.balance, interval = 0, vtimeout = 0;
	bool interval_given = false, vtimeout_given = false, validators_given = false;
	const struct node_opt opts[] = {
		{"--dir", NODE_OPT_STRING, 0, 0, &o.dir, NULL},
		{"--base-port", NODE_OPT_UINT, 1024, 65000, &base, NULL},
		{"--accounts", NODE_OPT_UINT, 0, 100000, &accounts, NULL},
		{"--balance", NODE_OPT_UINT, 0, UINT64_MAX, &balance, NULL},
		{"--chain-id", NODE_OPT_STRING, 0, 0, &o.chain_id, NULL},
		{"--block-interval-ms", NODE_OPT_UINT, 0, 60000, &interval, &interval_given},
		{"--view-timeout-ms", NODE_OPT_UINT, 10, 600000, &vtimeout, &vtimeout_given},
		{"--engine", NODE_OPT_STRING, 0, 0, &o.engine, NULL},
		{"--tls", NODE_OPT_FLAG, 0, 0, &o.tls, NULL},
		{"--hosts", NODE_OPT_STRING, 0, 0, &o.hosts, NULL},
		{"--validators", NODE_OPT_UINT, 1, 256, &validators, &validators_given},
	};
	int rc = node_parse_opts("testnet", argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
				 testnet_usage);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	if (o.hosts != NULL && !validators_given) {
		validators = 1;
		for (const char *p = o.hosts; *p != '\0'; p++)
			validators += *p == ',';
	}
	o.validators = (unsigned)validators;
	o.base_port = (unsigned)base;
	o.accounts = (unsigned)accounts;
	o.balance = balance;
	if (interval_given)
		o.block_interval_ms = (int64_t)interval;
	if (vtimeout_given)
		o.view_timeout_ms = (int64_t)vtimeout;
	if (o.dir == NULL) {
		fprintf(stderr, "chaind testnet: --dir is required (see --help)\n");
		return 2;
	}
	struct ch_err err;
	ch_err_clear(&err);
	if (node_testnet(&o, false, &err) != 0) {
		fprintf(stderr, "chaind testnet: %s\n", ch_err_msg(&err));
		return 1;
	}
	return 0;
}
