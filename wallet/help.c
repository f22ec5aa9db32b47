/* Help text, generated from the option and command tables of main.c. */
#include <stdio.h>

#include "wallet/wallet.h"

static void
print_option(FILE *f, const struct wallet_option *o)
{
	char name[32];
	snprintf(name, sizeof(name), "%s%s%s", o->name, o->arg != NULL ? " " : "",
		 o->arg != NULL ? o->arg : "");
	fprintf(f, "  %-17s %s\n", name, o->help);
}

void
wallet_help(FILE *f)
{
	fprintf(f, "usage: wallet COMMAND [ARGS] [OPTIONS]\n"
		   "Keys, signed transactions and chain queries for a chaind node.\n"
		   "Options may come anywhere on the line; \"--\" ends them.\n\ncommands:\n");
	for (const struct wallet_command *c = wallet_commands; c->name != NULL; c++)
		fprintf(f, "  wallet %s\n      %s\n", c->usage, c->help);
	fprintf(f, "\noptions:\n");
	for (int o = 0; o < WOPT__COUNT; o++)
		print_option(f, &wallet_options[o]);
	fprintf(f, "\n\"wallet COMMAND --help\" shows one command. "
		   "Exit status: 0 done, 1 failed, 2 bad usage.\n");
}

void
wallet_help_command(FILE *f, const struct wallet_command *c)
{
	fprintf(f, "usage: wallet %s [--node URL] [--json]\n  %s\n\noptions:\n", c->usage, c->help);
	for (int o = 0; o < WOPT__COUNT; o++)
		if (c->opts & WOPT_BIT(o))
			print_option(f, &wallet_options[o]);
}
