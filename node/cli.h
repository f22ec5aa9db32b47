/*
 * cli.h - the chaind subcommands besides `start`: testnet (write a network's
 * files) and devnet (run one locally), and the small argument helpers they share.
 */
#ifndef NODE_CLI_H
#define NODE_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct node_testnet_opts {
	unsigned validators;
	const char *dir;
	unsigned base_port;
	unsigned accounts;
	uint64_t balance;
	const char *chain_id;
	int64_t block_interval_ms; /* -1: the default */
};

void node_testnet_defaults(struct node_testnet_opts *o);

/* node_testnet writes DIR/genesis.json, DIR/nodeI/, DIR/accounts/ as the contract says. */
int node_testnet(const struct node_testnet_opts *o, bool quiet, struct ch_err *err);

/* chaind testnet / devnet argument parsing and running; return the exit status. */
int node_cmd_testnet(int argc, char **argv);
int node_cmd_devnet(int argc, char **argv, const char *self_exe);

/* node_parse_uint parses a decimal in [min, max]; false with a message on stderr. */
bool node_parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
