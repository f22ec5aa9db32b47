/*
 * cli.h - chaind's subcommands (start, testnet, devnet) and what they share:
 * an option table, and the entry point that chaind and the test build
 * chaind-byzantine both run.
 */
#ifndef NODE_CLI_H
#define NODE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"

struct node;

/*
 * node_cli_main runs chaind's command line. prepare (may be NULL) is called
 * on every validator `start` opens, before it runs (a test build uses it to
 * make the validator misbehave); its error stops the start.
 */
typedef int (*node_prepare_fn)(struct node *n, struct ch_err *err);
int node_cli_main(int argc, char **argv, node_prepare_fn prepare);

/* One option of a subcommand's table. */
struct node_opt {
	const char *name; /* "--dir" */
	enum { NODE_OPT_UINT, NODE_OPT_STRING, NODE_OPT_FLAG } kind;
	uint64_t min, max;  /* NODE_OPT_UINT: the range */
	void *out;          /* uint64_t *, const char ** or bool * */
	bool *given;        /* set when the option appears; may be NULL */
};

/*
 * node_parse_opts parses argv (after the subcommand) against opts: 0 when
 * they parse, 1 after printing usage for --help, 2 after a message on
 * stderr that names cmd and the option.
 */
int node_parse_opts(const char *cmd, int argc, char **argv, const struct node_opt *opts,
		    size_t nopts, void (*usage)(FILE *f));

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

/* node_testnet writes DIR/genesis.json, DIR/nodeI/ and DIR/accounts/ (README, "Running validators by hand"). */
int node_testnet(const struct node_testnet_opts *o, bool quiet, struct ch_err *err);

/* The subcommands; each returns the exit status. */
int node_cmd_testnet(int argc, char **argv);
int node_cmd_devnet(int argc, char **argv, const char *self_exe);

#endif
