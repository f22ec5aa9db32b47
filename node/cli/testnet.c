/* chaind testnet: generate keys, configs and genesis for an N-validator network. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chain/genesis.h"
#include "node/cli/cli.h"
#include "node/config.h"
#include "node/log.h"

void
node_testnet_defaults(struct node_testnet_opts *o)
{
	o->validators = 4;
	o->dir = NULL;
	o->base_port = 26600;
	o->accounts = 10;
	o->balance = 1000000000;
	o->chain_id = "chaind-testnet";
	o->block_interval_ms = -1;
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
	if ((rc = make_dir(o->dir, err)) != 0)
		return rc;
	snprintf(g.chain_id, sizeof(g.chain_id), "%s", o->chain_id);
	g.genesis_time_ms = node_clock().wall_ms;
	chain_params_default(&g.params);
	if (o->block_interval_ms >= 0)
		g.params.block_interval_ms = (uint32_t)o->block_interval_ms;
	g.nvalidators = o->validators;
	for (unsigned i = 0; i < o->validators; i++) {
		struct node_config c;
		char home[NODE_MAX_PATH];
		snprintf(home, sizeof(home), "%s/node%u", o->dir, i);
		if ((rc = make_dir(home, err)) != 0)
			goto out;
		node_config_default(&c, home);
		snprintf(c.moniker, sizeof(c.moniker), "node%u", i);
		snprintf(c.rpc_listen, sizeof(c.rpc_listen), "http://127.0.0.1:%u",
			 o->base_port + 2 * i + 1);
		snprintf(c.p2p_listen, sizeof(c.p2p_listen), "tcp://127.0.0.1:%u",
			 o->base_port + 2 * i);
		if ((rc = new_key(c.key_file, g.validators[i].pub_key, err)) != 0 ||
		    (rc = node_config_save(&c, err)) != 0)
			goto out;
		snprintf(g.validators[i].id, sizeof(g.validators[i].id), "node%u", i);
		snprintf(g.validators[i].p2p_address, sizeof(g.validators[i].p2p_address), "%s",
			 c.p2p_listen);
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
		for (unsigned i = 0; i < o->validators; i++)
			printf("  node%u: %s/node%u  rpc http://127.0.0.1:%u  p2p tcp://127.0.0.1:%u\n",
			       i, o->dir, i, o->base_port + 2 * i + 1, o->base_port + 2 * i);
		printf("  %u funded accounts (balance %" PRIu64 " each): %s/accounts/account*.pem\n",
		       o->accounts, o->balance, o->dir);
		printf("start a validator with: chaind start --home %s/node0\n", o->dir);
	}
out:
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
		"Writes DIR/genesis.json, DIR/nodeI/ (config.json, validator.pem) and\n"
		"DIR/accounts/accountJ.pem (funded). Node i listens for peers on\n"
		"tcp://127.0.0.1:(B+2i) and serves JSON-RPC on http://127.0.0.1:(B+2i+1).\n"
		"  --validators N   number of validators (default 4)\n"
		"  --dir DIR        output directory (required; must not hold a network)\n"
		"  --base-port B    first port (default 26600)\n"
		"  --accounts M     funded accounts (default 10)\n"
		"  --balance X      balance of each funded account (default 1000000000)\n"
		"  --chain-id ID    chain id (default chaind-testnet)\n"
		"  --block-interval-ms T  least time between two blocks' proposals (genesis\n"
		"                   parameter block_interval_ms; default %u)\n", def.block_interval_ms);
}

int
node_cmd_testnet(int argc, char **argv)
{
	struct node_testnet_opts o;
	node_testnet_defaults(&o);
	uint64_t validators = o.validators, base = o.base_port, accounts = o.accounts;
	uint64_t balance = o.balance, interval = 0;
	bool interval_given = false;
	const struct node_opt opts[] = {
		{"--validators", NODE_OPT_UINT, 1, 256, &validators, NULL},
		{"--dir", NODE_OPT_STRING, 0, 0, &o.dir, NULL},
		{"--base-port", NODE_OPT_UINT, 1024, 65000, &base, NULL},
		{"--accounts", NODE_OPT_UINT, 0, 100000, &accounts, NULL},
		{"--balance", NODE_OPT_UINT, 0, UINT64_MAX, &balance, NULL},
		{"--chain-id", NODE_OPT_STRING, 0, 0, &o.chain_id, NULL},
		{"--block-interval-ms", NODE_OPT_UINT, 0, 60000, &interval, &interval_given},
	};
	int rc = node_parse_opts("testnet", argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
				 testnet_usage);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	o.validators = (unsigned)validators;
	o.base_port = (unsigned)base;
	o.accounts = (unsigned)accounts;
	o.balance = balance;
	if (interval_given)
		o.block_interval_ms = (int64_t)interval;
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
