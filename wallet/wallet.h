/*
 * wallet.h - what the wallet's files share: parsed options and the
 * commands. Every command returns the process exit status (0 ok, 1 error,
 * 2 usage) after printing one line "wallet: ..." on stderr for an error.
 */
#ifndef WALLET_WALLET_H
#define WALLET_WALLET_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define WALLET_MAX_ARGS 8

struct wallet_opts {
	const char *node;     /* --node URL */
	bool json;            /* --json */
	const char *key;      /* --key FILE */
	const char *out;      /* --out FILE */
	const char *to;       /* --to ADDR */
	const char *amount;   /* --amount N */
	const char *nonce;    /* --nonce N */
	const char *chain_id; /* --chain-id ID */
	const char *timeout;  /* --timeout-ms N */
	bool wait;            /* --wait */
	bool print_only;      /* --print-only */
	int nargs;            /* positional arguments after the command */
	const char *args[WALLET_MAX_ARGS];
};

int wallet_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* wallet_call calls method on the node; prints "wallet: <message>" and returns 1 on error. */
int wallet_call(const struct wallet_opts *o, const char *method, cJSON *params, int timeout_ms,
		cJSON **result);

/* wallet_print prints result as JSON (--json) or as "key: value" lines. */
void wallet_print(const struct wallet_opts *o, const cJSON *result);

int wallet_keygen(const struct wallet_opts *o);
int wallet_address(const struct wallet_opts *o);
int wallet_send(const struct wallet_opts *o, bool transfer);
int wallet_balance(const struct wallet_opts *o);
int wallet_get(const struct wallet_opts *o);
int wallet_tx(const struct wallet_opts *o);
int wallet_block(const struct wallet_opts *o);
int wallet_status(const struct wallet_opts *o);

#endif
