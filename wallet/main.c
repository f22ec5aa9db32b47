/* wallet: keys, signed transactions and chain queries from the command line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wallet/wallet.h"

static const struct {
	const char *name;
	const char *usage;
	const char *help;
} commands[] = {
	{"keygen", "keygen --out FILE", "make a P-256 key (file mode 0600, never overwritten)"},
	{"address", "address --key FILE", "print the address of a key"},
	{"transfer", "transfer --key FILE --to ADDR --amount N [--nonce N] [--wait] [--print-only]",
	 "send N to ADDR"},
	{"set", "set --key FILE NAME VALUE [--nonce N] [--wait] [--print-only]",
	 "store VALUE under NAME for the key's address"},
	{"balance", "balance ADDR", "balance and nonce of an account"},
	{"get", "get OWNER NAME", "the value OWNER stored under NAME"},
	{"tx", "tx HASH", "a transaction, its status and (committed) its checked Merkle proof"},
	{"block", "block [HEIGHT]", "a block (the latest without HEIGHT)"},
	{"status", "status", "the node's chain, height, view and mempool"},
};

static void
usage(FILE *f, const char *only)
{
	if (only == NULL)
		fprintf(f, "usage: wallet COMMAND [options]   (wallet COMMAND --help for one command)\n"
			   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (only == NULL || strcmp(only, commands[i].name) == 0)
			fprintf(f, "  wallet %s\n      %s\n", commands[i].usage, commands[i].help);
	fprintf(f, "options for every command:\n"
		   "  --node URL        the node's JSON-RPC URL (default http://127.0.0.1:26601)\n"
		   "  --json            print JSON instead of \"key: value\" lines\n"
		   "transfer and set:\n"
		   "  --nonce N         sign with nonce N (default: the next free nonce from the node)\n"
		   "  --wait            wait until the transaction is committed\n"
		   "  --timeout-ms N    how long --wait waits (default 10000)\n"
		   "  --print-only      print the signed transaction in hex and send nothing\n"
		   "  --chain-id ID     chain id to sign for (default: asked from the node)\n");
}

int
wallet_fail(const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = ' ';
	fprintf(stderr, "wallet: %s\n", line);
	return 1;
}

/* value_opt tells whether an option takes a value, and where it goes. */
static const char **
value_opt(struct wallet_opts *o, const char *name)
{
	static const char *const names[] = {"--node",  "--key",   "--out",      "--to",
					    "--amount", "--nonce", "--chain-id", "--timeout-ms"};
	const char **slots[] = {&o->node,  &o->key,   &o->out,      &o->to,
				&o->amount, &o->nonce, &o->chain_id, &o->timeout};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return slots[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	struct wallet_opts o;
	memset(&o, 0, sizeof(o));
	o.node = "http://127.0.0.1:26601";
	const char *cmd = NULL;
	bool help = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help = true;
		} else if (strcmp(a, "--json") == 0) {
			o.json = true;
		} else if (strcmp(a, "--wait") == 0) {
			o.wait = true;
		} else if (strcmp(a, "--print-only") == 0) {
			o.print_only = true;
		} else if ((slot = value_opt(&o, a)) != NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "wallet: %s needs a value\n", a);
				return 2;
			}
			*slot = argv[++i];
		} else if (a[0] == '-' && a[1] == '-') {
			fprintf(stderr, "wallet: unknown option %s (see wallet --help)\n", a);
			return 2;
		} else if (cmd == NULL) {
			cmd = a;
		} else if (o.nargs < WALLET_MAX_ARGS) {
			o.args[o.nargs++] = a;
		} else {
			fprintf(stderr, "wallet: too many arguments\n");
			return 2;
		}
	}
	if (cmd == NULL || strcmp(cmd, "help") == 0) {
		usage(cmd || help ? stdout : stderr, NULL);
		return cmd || help ? 0 : 2;
	}
	static const struct {
		const char *name;
		int nargs_min, nargs_max;
	} shapes[] = {{"keygen", 0, 0},  {"address", 0, 0}, {"transfer", 0, 0}, {"set", 2, 2},
		      {"balance", 1, 1}, {"get", 2, 2},     {"tx", 1, 1},       {"block", 0, 1},
		      {"status", 0, 0}};
	size_t k = 0;
	while (k < sizeof(shapes) / sizeof(shapes[0]) && strcmp(shapes[k].name, cmd) != 0)
		k++;
	if (k == sizeof(shapes) / sizeof(shapes[0])) {
		fprintf(stderr, "wallet: unknown command \"%s\" (see wallet --help)\n", cmd);
		return 2;
	}
	if (help) {
		usage(stdout, cmd);
		return 0;
	}
	if (o.nargs < shapes[k].nargs_min || o.nargs > shapes[k].nargs_max) {
		fprintf(stderr, "wallet: wrong number of arguments; usage:\n");
		usage(stderr, cmd);
		return 2;
	}
	if (strcmp(cmd, "keygen") == 0)
		return wallet_keygen(&o);
	if (strcmp(cmd, "address") == 0)
		return wallet_address(&o);
	if (strcmp(cmd, "transfer") == 0)
		return wallet_send(&o, true);
	if (strcmp(cmd, "set") == 0)
		return wallet_send(&o, false);
	if (strcmp(cmd, "balance") == 0)
		return wallet_balance(&o);
	if (strcmp(cmd, "get") == 0)
		return wallet_get(&o);
	if (strcmp(cmd, "tx") == 0)
		return wallet_tx(&o);
	if (strcmp(cmd, "block") == 0)
		return wallet_block(&o);
	return wallet_status(&o);
}
