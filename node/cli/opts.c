/* The option table of chaind's subcommands (cli.h). */
#include <inttypes.h>
#include <string.h>

#include "common/num.h"
#include "node/cli/cli.h"

int
node_parse_opts(const char *cmd, int argc, char **argv, const struct node_opt *opts, size_t nopts,
		void (*usage)(FILE *f))
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		}
		const struct node_opt *o = NULL;
		for (size_t k = 0; k < nopts && o == NULL; k++)
			if (strcmp(opts[k].name, a) == 0)
				o = &opts[k];
		if (o == NULL) {
			fprintf(stderr, "chaind %s: unknown option %s (see --help)\n", cmd, a);
			return 2;
		}
		if (o->given != NULL)
			*o->given = true;
		if (o->kind == NODE_OPT_FLAG) {
			*(bool *)o->out = true;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "chaind %s: %s needs a value (see --help)\n", cmd, a);
			return 2;
		}
		const char *v = argv[++i];
		uint64_t x = 0;
		if (o->kind == NODE_OPT_STRING) {
			*(const char **)o->out = v;
		} else if (ch_parse_u64(v, &x) && x >= o->min && x <= o->max) {
			*(uint64_t *)o->out = x;
		} else {
			fprintf(stderr,
				"chaind %s: %s needs a whole number in %" PRIu64 "..%" PRIu64
				", got \"%s\"\n",
				cmd, a, o->min, o->max, v);
			return 2;
		}
	}
	return 0;
}
