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
#include "crypto/crypto.h"

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
	int64_t view_timeout_ms;   /* -1: the default */
	const char *engine;        /* NULL: the default (pbft) */
	bool tls;                  /* mutual TLS between validators, HTTPS for clients */
	const char *hosts;         /* "A,B,C": one host per validator; NULL: all on 127.0.0.1 */
};

void node_testnet_defaults(struct node_testnet_opts *o);

/* node_testnet writes DIR/genesis.json, DIR/nodeI/ and DIR/accounts/ (README, "Running validators by hand"). */
int node_testnet(const struct node_testnet_opts *o, bool quiet, struct ch_err *err);

/* A network CA for HTTPS endpoints (tls_files.c). */
struct node_tls_ca {
	char name[64];
	struct cr_key *key;
	char *cert; /* PEM */
};

/* node_tls_ca_new makes a CA named name and writes its certificate and key (0600). */
int node_tls_ca_new(const char *name, const char *cert_path, const char *key_path,
		    struct node_tls_ca *ca, struct ch_err *err);
void node_tls_ca_close(struct node_tls_ca *ca);

/*
 * node_tls_issue writes a new key (0600) and a certificate for it from ca,
 * for subject with the subject alternative names sans ("DNS:x", "IP:a").
 */
int node_tls_issue(const struct node_tls_ca *ca, const char *subject, const char *const *sans,
		   size_t nsans, const char *cert_path, const char *key_path, struct ch_err *err);

/* The subcommands; each returns the exit status. */
int node_cmd_testnet(int argc, char **argv);
int node_cmd_backup(int argc, char **argv);         /* backup.c */
int node_cmd_restore(int argc, char **argv);        /* backup.c */
int node_cmd_init(int argc, char **argv);           /* validator.c */
int node_cmd_show_validator(int argc, char **argv); /* validator.c */
int node_cmd_version(int argc, char **argv);        /* validator.c */
int node_cmd_devnet(int argc, char **argv, const char *self_exe);

#endif
