/* chaind's command line: `start` (run a validator) and the dispatch to the other subcommands. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/cli/cli.h"
#include "node/config.h"
#include "node/log.h"
#include "node/node.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: chaind COMMAND [options]\n"
		"commands:\n"
		"  start --home DIR     run the validator whose files are in DIR\n"
		"  testnet ...          write the files of an N-validator network\n"
		"  devnet ...           create (if needed) and run a local network\n"
		"  backup ...           copy a validator's home, running or stopped\n"
		"  restore ...          make a new home from a backup\n"
		"  init --home DIR      make a key and home for a validator joining a network\n"
		"  show-validator --home DIR  what other operators need of that validator\n"
		"  version              chaind's version and its libraries'\n"
		"  help                 this text; `chaind COMMAND --help` for a command\n");
}

/* How long a stop may take before the process ends itself (status 3). */
#define STOP_LIMIT_S 20

struct sig_waiter {
	struct node *node;
	sigset_t set;
};

/*
 * sig_thread turns SIGINT and SIGTERM into node_stop, and ends the process
 * (status 3, saying where it stuck) when a stop, asked for or caused by a
 * storage failure, has not finished STOP_LIMIT_S seconds after it began.
 * SIGUSR1 from main says node_run has returned.
 */
static void *
sig_thread(void *arg)
{
	struct sig_waiter *w = arg;
	int waited = -1; /* seconds since the stop began; -1: running */
	for (;;) {
		struct timespec tick = {1, 0};
		int sig = sigtimedwait(&w->set, NULL, &tick);
		if (sig == SIGUSR1) {
			node_stop(w->node);
			return NULL;
		}
		if ((sig == SIGINT || sig == SIGTERM) && waited < 0) {
			log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
			node_stop(w->node);
			waited = 0;
		} else if (sig < 0 && errno == EAGAIN) {
			if (waited < 0 && node_stop_phase(w->node) != NULL)
				waited = 0;
			else if (waited >= 0 && ++waited >= STOP_LIMIT_S) {
				const char *ph = node_stop_phase(w->node);
				log_error("shutdown did not finish in %d s (stuck %s); exiting with "
					  "status 3",
					  STOP_LIMIT_S, ph != NULL ? ph : "ending the loop");
				_exit(3);
			}
		}
	}
}

static void
start_usage(FILE *f)
{
	fprintf(f, "usage: chaind start --home DIR [--log-level LEVEL] [--log-format FORMAT]\n"
		   "Runs the validator configured by DIR/config.json until SIGINT or SIGTERM.\n"
		   "  --log-level LEVEL    error, warn, info or debug (config.json log_level;\n"
		   "                       default info)\n"
		   "  --log-format FORMAT  text, or json: one object per line (config.json\n"
		   "                       log_format; default text)\n");
}

/*
 * setup_log applies the log settings: the command line's over config.json's
 * (a config.json that does not load is reported by node_open). Before any
 * thread starts.
 */
static int
setup_log(const char *home, const char *level, const char *format)
{
	struct node_config cfg;
	struct ch_err err;
	enum node_log_level lv;
	enum node_log_format fm;
	ch_err_clear(&err);
	if (node_config_load(&cfg, home, &err) != 0)
		node_config_default(&cfg, home);
	if (level == NULL)
		level = cfg.log_level;
	if (format == NULL)
		format = cfg.log_format;
	if (node_log_parse_level(level, &lv, &err) != 0 ||
	    node_log_parse_format(format, &fm, &err) != 0) {
		fprintf(stderr, "chaind start: %s (see --help)\n", ch_err_msg(&err));
		return 2;
	}
	node_log_setup(lv, fm);
	return 0;
}

static int
cmd_start(int argc, char **argv, node_prepare_fn prepare)
{
	const char *home = NULL, *level = NULL, *format = NULL;
	const struct node_opt opts[] = {{"--home", NODE_OPT_STRING, 0, 0, &home, NULL},
					{"--log-level", NODE_OPT_STRING, 0, 0, &level, NULL},
					{"--log-format", NODE_OPT_STRING, 0, 0, &format, NULL}};
	int prc = node_parse_opts("start", argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
				  start_usage);
	if (prc != 0)
		return prc == 1 ? 0 : 2;
	if (home == NULL) {
		fprintf(stderr, "chaind start: --home DIR is required (see --help)\n");
		return 2;
	}
	if ((prc = setup_log(home, level, format)) != 0)
		return prc;
	struct sig_waiter w;
	sigemptyset(&w.set);
	sigaddset(&w.set, SIGINT);
	sigaddset(&w.set, SIGTERM);
	sigaddset(&w.set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &w.set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* past a file-size limit a write fails (EFBIG): a storage error and a clean stop, not a crash */
	signal(SIGXFSZ, SIG_IGN);

	struct ch_err err;
	ch_err_clear(&err);
	if (node_open(&w.node, home, &err) != 0) {
		log_error("cannot start: %s", ch_err_msg(&err));
		return 1;
	}
	if (prepare != NULL && prepare(w.node, &err) != 0) {
		log_error("cannot start: %s", ch_err_msg(&err));
		node_close(w.node);
		return 1;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, sig_thread, &w) != 0) {
		node_close(w.node);
		return 1;
	}
	int rc = node_run(w.node, &err);
	if (rc != 0)
		log_error("%s", ch_err_msg(&err));
	pthread_kill(t, SIGUSR1); /* wakes the signal thread if no signal came */
	pthread_join(t, NULL);
	if (rc == CH_E_DB) {
		/*
		 * A write failed or the disk is full. Closing the store would write
		 * again, and Debian's RocksDB aborts on a write after a failed log
		 * write; everything committed is synced, so leave the store as a
		 * crash would: the next start recovers it.
		 */
		log_info("the store is left for the next start to recover");
		_exit(1);
	}
	node_close(w.node);
	return rc == 0 ? 0 : 1;
}

int
node_cli_main(int argc, char **argv, node_prepare_fn prepare)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "start") == 0)
		return cmd_start(argc - 2, argv + 2, prepare);
	if (strcmp(cmd, "testnet") == 0)
		return node_cmd_testnet(argc - 2, argv + 2);
	if (strcmp(cmd, "backup") == 0)
		return node_cmd_backup(argc - 2, argv + 2);
	if (strcmp(cmd, "restore") == 0)
		return node_cmd_restore(argc - 2, argv + 2);
	if (strcmp(cmd, "init") == 0)
		return node_cmd_init(argc - 2, argv + 2);
	if (strcmp(cmd, "show-validator") == 0)
		return node_cmd_show_validator(argc - 2, argv + 2);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0)
		return node_cmd_version(argc - 2, argv + 2);
	if (strcmp(cmd, "devnet") == 0) {
		char self[4096];
		ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (len <= 0) {
			fprintf(stderr, "chaind devnet: cannot find its own executable\n");
			return 1;
		}
		self[len] = '\0';
		return node_cmd_devnet(argc - 2, argv + 2, self);
	}
	fprintf(stderr, "chaind: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
