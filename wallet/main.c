/*
 * wallet: keys, signed transactions and chain queries from the command line.
 * This file holds the option and command tables, parses the command line
 * (options may come anywhere, the last of a repeated one wins, "--" ends
 * them) and dispatches.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wallet/wallet.h"

const struct wallet_option wallet_options[WOPT__COUNT] = {
	[WOPT_KEY] = {"--key", "FILE", "PEM private key (P-256) to sign with or to show"},
	[WOPT_OUT] = {"--out", "FILE", "where to write the new key (mode 0600, never overwritten)"},
	[WOPT_TO] = {"--to", "ADDR", "recipient address: 40 hex characters, 0x optional"},
	[WOPT_AMOUNT] = {"--amount", "N", "amount to send, a whole number 1..18446744073709551615"},
	[WOPT_ID] = {"--id", "ID", "a validator's id: 1..63 characters of [A-Za-z0-9._:/-]"},
	[WOPT_PUB_KEY] = {"--pub-key", "HEX",
			  "a validator's public key: 66 hex characters, compressed P-256\n"
			  "                    (what `chaind show-validator --json` prints as pub_key)"},
	[WOPT_P2P] = {"--p2p", "ADDR",
		      "where the other validators reach a new one: tcp://HOST:PORT"},
	[WOPT_HEIGHT] = {"--height", "N", "the height to show the validator set of (default: the next)"},
	[WOPT_NONCE] = {"--nonce", "N",
			"nonce to sign with, never changed (default: the account's next nonce,\n"
			"                    from the node, and the one after if another transaction\n"
			"                    takes it first)"},
	[WOPT_CHAIN_ID] = {"--chain-id", "ID", "chain id to sign for (default: from the node)"},
	[WOPT_WAIT] = {"--wait", NULL, "wait until the transaction is committed"},
	[WOPT_TIMEOUT] = {"--timeout-ms", "N", "how long --wait waits, 1..600000 (default 10000)"},
	[WOPT_PRINT_ONLY] = {"--print-only", NULL,
			     "print the signed transaction in hex and send nothing; "
			     "with --nonce and --chain-id no node is needed"},
	[WOPT_NODE] = {"--node", "URL", "the node's JSON-RPC URL (default " WALLET_DEFAULT_NODE ")"},
	[WOPT_CA] = {"--ca", "FILE", "for an https:// node: the CA certificate (PEM) that issued its certificate"},
	[WOPT_TLS_CERT] = {"--tls-cert", "FILE",
			   "for an https:// node that asks for one: a client certificate (PEM)"},
	[WOPT_TLS_KEY] = {"--tls-key", "FILE", "the key of --tls-cert (PEM)"},
	[WOPT_JSON] = {"--json", NULL, "print the result as JSON"},
	[WOPT_HELP] = {"--help", NULL, "show help (also -h)"},
};

#define B(o) WOPT_BIT(WOPT_##o)
#define COMMON (B(NODE) | B(CA) | B(TLS_CERT) | B(TLS_KEY) | B(JSON) | B(HELP))
#define SEND (COMMON | B(KEY) | B(NONCE) | B(CHAIN_ID) | B(WAIT) | B(TIMEOUT) | B(PRINT_ONLY))

const struct wallet_command wallet_commands[] = {
	{"keygen", "keygen --out FILE", "make a new P-256 key and print its address", 0, 0,
	 COMMON | B(OUT), B(OUT), wallet_cmd_keygen},
	{"address", "address --key FILE", "print the key's address (--json adds the public key)", 0,
	 0, COMMON | B(KEY), B(KEY), wallet_cmd_address},
	{"transfer",
	 "transfer --key FILE --to ADDR --amount N [--nonce N] [--chain-id ID] [--wait] "
	 "[--timeout-ms N] [--print-only]",
	 "sign and send a transfer of N from the key's account to ADDR; prints the tx hash", 0, 0,
	 SEND | B(TO) | B(AMOUNT), B(KEY) | B(TO) | B(AMOUNT), wallet_cmd_transfer},
	{"set",
	 "set --key FILE NAME VALUE [--nonce N] [--chain-id ID] [--wait] [--timeout-ms N] "
	 "[--print-only]",
	 "sign and send: store VALUE under NAME in the key's account; prints the tx hash", 2, 2,
	 SEND, B(KEY), wallet_cmd_set},
	{"balance", "balance ADDR", "balance and nonce of an account", 1, 1, COMMON, 0,
	 wallet_cmd_balance},
	{"get", "get OWNER NAME", "the value account OWNER stored under NAME", 2, 2, COMMON, 0,
	 wallet_cmd_get},
	{"tx", "tx HASH",
	 "a transaction and its status; for a committed one the Merkle inclusion proof is "
	 "checked against its block's header",
	 1, 1, COMMON, 0, wallet_cmd_tx},
	{"block", "block [HEIGHT]",
	 "a block's header, transaction hashes and number of commit votes (default: the latest)", 0,
	 1, COMMON, 0, wallet_cmd_block},
	{"status", "status", "the node's chain id, height, view, peers and mempool", 0, 0, COMMON, 0,
	 wallet_cmd_status},
	{"validators", "validators [--height N]",
	 "the validator set in force at a height (default: the next), with f and the quorum", 0, 0,
	 COMMON | B(HEIGHT), 0, wallet_cmd_validators},
	{"validator add",
	 "validator add --key FILE --id ID --pub-key HEX --p2p ADDR [--wait] [--timeout-ms N] "
	 "[--nonce N] [--chain-id ID] [--print-only]",
	 "approve adding validator ID with key HEX at ADDR, signed with your validator key\n"
	 "      (--key); the change rules two blocks after a quorum of the set approved it", 0, 0,
	 SEND | B(ID) | B(PUB_KEY) | B(P2P), B(KEY) | B(ID) | B(PUB_KEY) | B(P2P),
	 wallet_cmd_validator_add},
	{"validator remove",
	 "validator remove --key FILE --id ID [--wait] [--timeout-ms N] [--nonce N] "
	 "[--chain-id ID] [--print-only]",
	 "approve removing validator ID, signed with your validator key (--key)", 0, 0,
	 SEND | B(ID), B(KEY) | B(ID), wallet_cmd_validator_remove},
	{"validator rekey",
	 "validator rekey --key FILE --id ID --pub-key HEX [--wait] [--timeout-ms N] [--nonce N] "
	 "[--chain-id ID] [--print-only]",
	 "approve giving validator ID the new key HEX, signed with your validator key (--key)", 0,
	 0, SEND | B(ID) | B(PUB_KEY), B(KEY) | B(ID) | B(PUB_KEY), wallet_cmd_validator_rekey},
	{"validator pending", "validator pending",
	 "the open validator changes with their approvals, and the sets scheduled to rule", 0, 0,
	 COMMON, 0, wallet_cmd_validator_pending},
	{NULL, NULL, NULL, 0, 0, 0, 0, NULL},
};

/* The positional words of the command line: the command and its arguments. */
struct words {
	int n; /* all of them, even past the array */
	const char *w[WALLET_MAX_ARGS + 1];
};

static int usage_errf(struct wallet_ctx *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
usage_errf(struct wallet_ctx *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	wallet_verrf(w, fmt, ap);
	va_end(ap);
	return WALLET_USAGE;
}

static const struct wallet_command *
find_command(const char *name)
{
	for (const struct wallet_command *c = wallet_commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* is_group: do some commands' names start with the word group and a space ("validator ")? */
static bool
is_group(const char *group)
{
	size_t n = strlen(group);
	for (const struct wallet_command *c = wallet_commands; c->name != NULL; c++)
		if (strncmp(c->name, group, n) == 0 && c->name[n] == ' ')
			return true;
	return false;
}

/* find_words finds the command the words at w name: two words of a group, or one; *used says. */
static const struct wallet_command *
find_words(const char *const *w, int n, int *used)
{
	char name[64];
	const struct wallet_command *c;
	if (n >= 2 && snprintf(name, sizeof(name), "%s %s", w[0], w[1]) < (int)sizeof(name) &&
	    (c = find_command(name)) != NULL) {
		*used = 2;
		return c;
	}
	*used = 1;
	return n >= 1 ? find_command(w[0]) : NULL;
}

/* group_usage: the error for a group named without one of its commands. */
static int
group_usage(struct wallet_ctx *w, const char *group, const char *word)
{
	char list[160] = "";
	size_t n = strlen(group), len = 0;
	for (const struct wallet_command *c = wallet_commands; c->name != NULL; c++)
		if (strncmp(c->name, group, n) == 0 && c->name[n] == ' ' && len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "",
						c->name + n + 1);
	if (word == NULL)
		return usage_errf(w, "%s needs one of: %s (see wallet %s --help)", group, list, group);
	return usage_errf(w, "unknown command \"%s %s\"; %s takes one of: %s (see wallet %s --help)",
			  group, word, group, list, group);
}

/* help_group prints the help of every command of group. */
static void
help_group(FILE *f, const char *group)
{
	size_t n = strlen(group);
	bool first = true;
	for (const struct wallet_command *c = wallet_commands; c->name != NULL; c++)
		if (strncmp(c->name, group, n) == 0 && c->name[n] == ' ') {
			fprintf(f, "%s", first ? "" : "\n");
			wallet_help_command(f, c);
			first = false;
		}
}

/* find_option returns the option named by the first len bytes of s, or -1. */
static int
find_option(const char *s, size_t len)
{
	if (len == 2 && strncmp(s, "-h", 2) == 0)
		return WOPT_HELP;
	for (int o = 0; o < WOPT__COUNT; o++)
		if (strlen(wallet_options[o].name) == len &&
		    strncmp(wallet_options[o].name, s, len) == 0)
			return o;
	return -1;
}

/* is_option: "--x..." and "-h"; other words with a dash (e.g. "-5") are arguments. */
static bool
is_option(const char *a)
{
	return (a[0] == '-' && a[1] == '-' && a[2] != '\0') || strcmp(a, "-h") == 0;
}

static int
parse(struct wallet_ctx *w, int argc, char **argv, struct words *words)
{
	bool opts_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!opts_done && strcmp(a, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (opts_done || !is_option(a)) {
			if (words->n < WALLET_MAX_ARGS + 1)
				words->w[words->n] = a;
			words->n++;
			continue;
		}
		const char *eq = strchr(a, '=');
		int o = find_option(a, eq != NULL ? (size_t)(eq - a) : strlen(a));
		if (o < 0)
			return usage_errf(w, "unknown option %s (see wallet --help)", a);
		const struct wallet_option *opt = &wallet_options[o];
		w->seen |= WOPT_BIT(o);
		if (opt->arg == NULL) {
			if (eq != NULL)
				return usage_errf(w, "%s takes no value", opt->name);
			continue;
		}
		if (eq != NULL)
			w->val[o] = eq + 1;
		else if (i + 1 < argc && !is_option(argv[i + 1]))
			w->val[o] = argv[++i];
		else
			return usage_errf(w, "%s needs a value (%s)", opt->name, opt->arg);
	}
	return WALLET_OK;
}

/* check_shape checks the options and arguments against what c takes. */
static int
check_shape(struct wallet_ctx *w, const struct wallet_command *c, int nargs)
{
	for (int o = 0; o < WOPT__COUNT; o++) {
		const struct wallet_option *opt = &wallet_options[o];
		if (wallet_has(w, o) && !(c->opts & WOPT_BIT(o)))
			return usage_errf(w, "%s does not take %s (see wallet %s --help)", c->name,
					  opt->name, c->name);
		if (!wallet_has(w, o) && (c->required & WOPT_BIT(o)))
			return usage_errf(w, "%s needs %s %s (usage: wallet %s)", c->name, opt->name,
					  opt->arg, c->usage);
	}
	if (nargs < c->min_args || nargs > c->max_args)
		return usage_errf(w, "%s: %s arguments (usage: wallet %s)", c->name,
				  nargs < c->min_args ? "missing" : "too many", c->usage);
	return WALLET_OK;
}

/* run parses argv and runs the command; the error, if any, is left in w->err. */
static int
run(struct wallet_ctx *w, int argc, char **argv)
{
	struct words words;
	const struct wallet_command *c;
	int rc;
	memset(&words, 0, sizeof(words));
	if ((rc = parse(w, argc, argv, &words)) != 0)
		return rc;
	bool help = wallet_has(w, WOPT_HELP);
	int used = 0, nw = words.n < WALLET_MAX_ARGS + 1 ? words.n : WALLET_MAX_ARGS + 1;
	if (words.n == 0 && !help)
		return usage_errf(w, "no command given; one of keygen, address, transfer, set, "
				     "balance, get, tx, block, status, validators, validator "
				     "(see wallet --help)");
	if (words.n == 0 || (strcmp(words.w[0], "help") == 0 && words.n == 1)) {
		wallet_help(stdout);
		return WALLET_OK;
	}
	if (strcmp(words.w[0], "help") == 0) {
		if (words.n == 2 && is_group(words.w[1])) {
			help_group(stdout, words.w[1]);
			return WALLET_OK;
		}
		c = find_words(words.w + 1, nw - 1, &used);
		if (c == NULL || words.n != 1 + used)
			return usage_errf(w, "no help for \"%s%s%s\" (see wallet --help)", words.w[1],
					  words.n > 2 ? " " : "", words.n > 2 ? words.w[2] : "");
		wallet_help_command(stdout, c);
		return WALLET_OK;
	}
	if ((c = find_words(words.w, nw, &used)) == NULL) {
		if (is_group(words.w[0]) && help && words.n == 1) {
			help_group(stdout, words.w[0]);
			return WALLET_OK;
		}
		if (is_group(words.w[0]))
			return group_usage(w, words.w[0], words.n > 1 ? words.w[1] : NULL);
		return usage_errf(w, "unknown command \"%s\" (see wallet --help)", words.w[0]);
	}
	if (help) {
		wallet_help_command(stdout, c);
		return WALLET_OK;
	}
	if ((rc = check_shape(w, c, words.n - used)) != 0)
		return rc;
	w->cmd = c;
	w->nargs = words.n - used;
	memcpy(w->args, words.w + used, (size_t)w->nargs * sizeof(w->args[0]));
	w->node = wallet_has(w, WOPT_NODE) ? w->val[WOPT_NODE] : WALLET_DEFAULT_NODE;
	w->json = wallet_has(w, WOPT_JSON);
	w->tls = (struct rpc_tls_files){.ca = w->val[WOPT_CA],
					.cert = w->val[WOPT_TLS_CERT],
					.key = w->val[WOPT_TLS_KEY]};
	return c->run(w);
}

int
main(int argc, char **argv)
{
	struct wallet_ctx w;
	memset(&w, 0, sizeof(w));
	int rc = run(&w, argc, argv);
	if (rc != WALLET_OK) {
		fflush(stdout);
		fprintf(stderr, "wallet: %s\n",
			w.err.code != 0 ? w.err.msg : "failed for an unknown reason");
	}
	if (fflush(stdout) != 0 && rc == WALLET_OK) {
		fprintf(stderr, "wallet: cannot write the output\n");
		rc = WALLET_FAIL;
	}
	return rc;
}
