/*
 * wallet.h - what the wallet's files share: the options and commands it
 * knows, the per-run context, output and input helpers.
 *
 * Every command gets the context, returns an exit status (WALLET_OK,
 * WALLET_FAIL, WALLET_USAGE) and, when it fails, leaves one line of
 * explanation in ctx->err; main prints it as "wallet: <msg>" on stderr.
 * Nothing is printed on stdout by a command that fails.
 */
#ifndef WALLET_WALLET_H
#define WALLET_WALLET_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "chain/tx.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "rpc/tls.h"

#define WALLET_DEFAULT_NODE "http://127.0.0.1:26601"
#define WALLET_RPC_TIMEOUT_MS 10000
#define WALLET_MAX_ARGS 8

enum { WALLET_OK = 0, WALLET_FAIL = 1, WALLET_USAGE = 2 };

/* Options, in the order help lists them. */
enum wallet_opt {
	WOPT_KEY,
	WOPT_OUT,
	WOPT_TO,
	WOPT_AMOUNT,
	WOPT_ID,
	WOPT_PUB_KEY,
	WOPT_P2P,
	WOPT_HEIGHT,
	WOPT_NONCE,
	WOPT_CHAIN_ID,
	WOPT_WAIT,
	WOPT_TIMEOUT,
	WOPT_PRINT_ONLY,
	WOPT_NODE,
	WOPT_CA,
	WOPT_TLS_CERT,
	WOPT_TLS_KEY,
	WOPT_JSON,
	WOPT_HELP,
	WOPT__COUNT
};

#define WOPT_BIT(o) (1u << (o))

struct wallet_option {
	const char *name; /* with the dashes, "--key" */
	const char *arg;  /* "FILE", or NULL for a flag */
	const char *help;
};

struct wallet_ctx;

struct wallet_command {
	const char *name; /* one word, or a group and a word: "validator add" */
	const char *usage; /* the whole line after "wallet " */
	const char *help;
	int min_args, max_args; /* positional arguments after the command */
	unsigned opts;          /* WOPT_BIT set of the options it takes */
	unsigned required;      /* ... and of those it needs */
	int (*run)(struct wallet_ctx *w);
};

/* The tables (main.c). The command table ends with a NULL name. */
extern const struct wallet_option wallet_options[WOPT__COUNT];
extern const struct wallet_command wallet_commands[];

/* One run of the wallet: parsed command line and the error to report. */
struct wallet_ctx {
	const struct wallet_command *cmd;
	const char *val[WOPT__COUNT]; /* option values (borrowed from argv) */
	unsigned seen;                /* WOPT_BIT of every option given */
	const char *node;             /* --node or the default */
	struct rpc_tls_files tls;     /* --ca, --tls-cert, --tls-key (for https://) */
	bool json;                    /* --json */
	int nargs;
	const char *args[WALLET_MAX_ARGS]; /* positional, borrowed from argv */
	struct ch_err err;
};

static inline bool
wallet_has(const struct wallet_ctx *w, enum wallet_opt o)
{
	return (w->seen & WOPT_BIT(o)) != 0;
}

/* help.c: full help, or one command's, on f. */
void wallet_help(FILE *f);
void wallet_help_command(FILE *f, const struct wallet_command *c);

/* output.c */

/* wallet_errf records one line (newlines become spaces) and returns WALLET_FAIL. */
int wallet_errf(struct wallet_ctx *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wallet_verrf(struct wallet_ctx *w, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* wallet_print prints result: cJSON_Print with --json, else "key: value" lines. */
void wallet_print(const struct wallet_ctx *w, const cJSON *result);

/* wallet_json_u64 reads obj.name as a whole JSON number or a decimal string. */
bool wallet_json_u64(const cJSON *obj, const char *name, uint64_t *out);

/* wallet_json_hex decodes obj.name, a hex string of exactly n bytes. */
bool wallet_json_hex(const cJSON *obj, const char *name, uint8_t *out, size_t n);

/* input.c: checks of command-line values; each records a message on failure. */
int wallet_parse_addr(struct wallet_ctx *w, const char *what, const char *s,
		      uint8_t out[CR_ADDR_LEN]);
int wallet_parse_hash(struct wallet_ctx *w, const char *what, const char *s,
		      uint8_t out[CR_HASH_LEN]);
int wallet_parse_u64(struct wallet_ctx *w, const char *what, const char *s, uint64_t min,
		     uint64_t max, uint64_t *out);
/* wallet_load_key loads --key; free with cr_key_free. */
int wallet_load_key(struct wallet_ctx *w, struct cr_key **out);

/* send.c */

/* What a sending command adds to the common path (each may be NULL). */
struct wallet_send_hooks {
	/*
	 * check runs before signing, once the chain id and nonce are known and
	 * only when the transaction will be sent: non-zero (w->err set) stops.
	 */
	int (*check)(struct wallet_ctx *w, const struct chain_tx *tx,
		     const uint8_t signer[CR_PUBKEY_LEN]);
	/* answer may add fields to the node's answer (borrowed) before it is printed. */
	void (*answer)(struct wallet_ctx *w, const struct chain_tx *tx, cJSON *answer);
};

/*
 * wallet_sign_and_send completes tx (type and body set): the chain id and
 * nonce from the options or the node; signs it with --key and prints it
 * (--print-only) or sends it (broadcast_tx_commit with --wait) and prints
 * the node's answer. hooks may be NULL.
 */
int wallet_sign_and_send(struct wallet_ctx *w, struct chain_tx *tx,
			 const struct wallet_send_hooks *hooks);

/* query.c */

/*
 * wallet_call calls method on --node (params transferred, may be NULL) and
 * stores the result in *result (caller frees). On failure ctx->err holds
 * the node's message or why it could not be reached.
 */
int wallet_call(struct wallet_ctx *w, const char *method, cJSON *params, int timeout_ms,
		cJSON **result);

/* The commands. */
int wallet_cmd_keygen(struct wallet_ctx *w);
int wallet_cmd_address(struct wallet_ctx *w);
int wallet_cmd_transfer(struct wallet_ctx *w);
int wallet_cmd_set(struct wallet_ctx *w);
int wallet_cmd_balance(struct wallet_ctx *w);
int wallet_cmd_get(struct wallet_ctx *w);
int wallet_cmd_tx(struct wallet_ctx *w);
int wallet_cmd_block(struct wallet_ctx *w);
int wallet_cmd_status(struct wallet_ctx *w);
int wallet_cmd_validators(struct wallet_ctx *w);
int wallet_cmd_validator_add(struct wallet_ctx *w);
int wallet_cmd_validator_remove(struct wallet_ctx *w);
int wallet_cmd_validator_rekey(struct wallet_ctx *w);
int wallet_cmd_validator_pending(struct wallet_ctx *w);

#endif
