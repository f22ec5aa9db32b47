/*
 * chaind devnet: create a local network if DIR holds none, run every
 * validator as a child process (logs in DIR/nodeI/node.log), keep the
 * others running when one exits, stop them all on Ctrl-C or SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain/genesis.h"
#include "node/cli/cli.h"
#include "node/config.h"
#include "node/log.h"
#include "rpc/client.h"

#define DEVNET_DEFAULT_VALIDATORS 4
#define DEVNET_READY_TIMEOUT_MS 20000

struct child {
	pid_t pid;
	char home[NODE_MAX_PATH];
	char rpc[NODE_MAX_ADDR];
	char ca[NODE_MAX_PATH + 16]; /* home/tls/ca.crt, to reach an https:// rpc */
};

static void
devnet_usage(FILE *f)
{
	fprintf(f,
		"usage: chaind devnet [--validators N] [--dir DIR] [--base-port B] [--reset] [--tls]\n"
		"                     [--engine E]\n"
		"Creates a local network in DIR if it holds none (else restarts it), runs\n"
		"every validator as a child process and stops them all on Ctrl-C or SIGTERM.\n"
		"A validator that exits is reported and the others keep running.\n"
		"  --validators N   validators of a new network (default %d)\n"
		"  --dir DIR        network directory (default ./devnet)\n"
		"  --base-port B    first port of a new network (default 26600)\n"
		"  --reset          delete DIR's network and start afresh\n"
		"  --tls            a new network with mutual TLS between validators and HTTPS\n"
		"                   for clients, who trust DIR/tls/ca.crt (chaind testnet --help)\n"
		"  --engine E       the ordering protocol of a new network: pbft (default), raft\n"
		"                   or multipaxos (crash faults only; chaind testnet --help)\n",
		DEVNET_DEFAULT_VALIDATORS);
}

/* remove_tree deletes path recursively (no symlinks followed). */
static int
remove_tree(const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", "--", path, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

static pid_t
spawn(const char *self_exe, const struct child *c)
{
	char log[NODE_MAX_PATH + 16];
	snprintf(log, sizeof(log), "%s/node.log", c->home);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0); /* Ctrl-C reaches the devnet, which stops the children in order */
	execl(self_exe, self_exe, "start", "--home", c->home, (char *)NULL);
	fprintf(stderr, "chaind devnet: cannot run %s: %s\n", self_exe, strerror(errno));
	_exit(127);
}

static bool
wait_ready(const struct child *c)
{
	uint64_t end = node_clock().mono_ms + DEVNET_READY_TIMEOUT_MS;
	while (node_clock().mono_ms < end) {
		cJSON *res = NULL;
		struct rpc_tls_files tls = {.ca = c->ca};
		if (rpc_client_call(c->rpc, &tls, "health", NULL, 1000, &res, NULL) == 0) {
			cJSON_Delete(res);
			return true;
		}
		if (waitpid(c->pid, NULL, WNOHANG) != 0)
			return false;
		struct timespec ts = {0, 100 * 1000000};
		nanosleep(&ts, NULL);
	}
	return false;
}

int
node_cmd_devnet(int argc, char **argv, const char *self_exe)
{
	struct node_testnet_opts o;
	node_testnet_defaults(&o);
	o.validators = DEVNET_DEFAULT_VALIDATORS;
	o.dir = "devnet";
	o.chain_id = "chaind-devnet";
	bool reset = false, validators_given = false;
	uint64_t validators = o.validators, base = o.base_port;
	const struct node_opt opts[] = {
		{"--validators", NODE_OPT_UINT, 1, 256, &validators, &validators_given},
		{"--dir", NODE_OPT_STRING, 0, 0, &o.dir, NULL},
		{"--base-port", NODE_OPT_UINT, 1024, 65000, &base, NULL},
		{"--reset", NODE_OPT_FLAG, 0, 0, &reset, NULL},
		{"--tls", NODE_OPT_FLAG, 0, 0, &o.tls, NULL},
		{"--engine", NODE_OPT_STRING, 0, 0, &o.engine, NULL},
	};
	int prc = node_parse_opts("devnet", argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
				  devnet_usage);
	if (prc != 0)
		return prc == 1 ? 0 : 2;
	o.validators = (unsigned)validators;
	o.base_port = (unsigned)base;

	char path[NODE_MAX_PATH + 64];
	struct stat st;
	snprintf(path, sizeof(path), "%s/genesis.json", o.dir);
	bool exists = stat(path, &st) == 0;
	if (exists && reset) {
		snprintf(path, sizeof(path), "%s/node0/config.json", o.dir);
		if (stat(path, &st) != 0) {
			fprintf(stderr,
				"chaind devnet: %s does not look like a devnet (no node0/config.json); "
				"not deleting it\n",
				o.dir);
			return 1;
		}
		if (remove_tree(o.dir) != 0) {
			fprintf(stderr, "chaind devnet: cannot remove %s\n", o.dir);
			return 1;
		}
		exists = false;
	}
	struct ch_err err;
	ch_err_clear(&err);
	struct chain_genesis g;
	if (!exists && node_testnet(&o, true, &err) != 0) {
		fprintf(stderr, "chaind devnet: %s\n", ch_err_msg(&err));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/genesis.json", o.dir);
	if (chain_genesis_load(&g, path, &err) != 0) {
		fprintf(stderr, "chaind devnet: %s\n", ch_err_msg(&err));
		return 1;
	}
	size_t n = g.nvalidators;
	if (exists && validators_given && n != o.validators)
		fprintf(stderr,
			"chaind devnet: %s already holds a %zu-validator network; "
			"use --reset for a new one with %u\n",
			o.dir, n, o.validators);
	printf("%s devnet of %zu validator%s (chain %s) in %s\n", exists ? "restarting" : "created",
	       n, n == 1 ? "" : "s", g.chain_id, o.dir);
	chain_genesis_close(&g);

	struct child *kids = calloc(n, sizeof(*kids));
	if (kids == NULL)
		return 1;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);

	int status = 0;
	for (size_t i = 0; i < n; i++) {
		struct node_config c;
		snprintf(kids[i].home, sizeof(kids[i].home), "%s/node%zu", o.dir, i);
		if (node_config_load(&c, kids[i].home, &err) != 0) {
			fprintf(stderr, "chaind devnet: %s\n", ch_err_msg(&err));
			status = 1;
			goto stop;
		}
		snprintf(kids[i].rpc, sizeof(kids[i].rpc), "%s", c.rpc_listen);
		snprintf(kids[i].ca, sizeof(kids[i].ca), "%s/tls/ca.crt", kids[i].home);
		kids[i].pid = spawn(self_exe, &kids[i]);
		if (kids[i].pid < 0) {
			fprintf(stderr, "chaind devnet: fork: %s\n", strerror(errno));
			status = 1;
			goto stop;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!wait_ready(&kids[i])) {
			fprintf(stderr, "chaind devnet: node%zu did not come up; see %s/node.log\n", i,
				kids[i].home);
			status = 1;
			goto stop;
		}
		printf("  node%zu  pid %d  rpc %s  log %s/node.log\n", i, (int)kids[i].pid,
		       kids[i].rpc, kids[i].home);
	}
	printf("funded keys: %s/accounts/account*.pem\n", o.dir);
	printf("explorer: %s/ (any validator's rpc URL, in a browser); metrics: %s/metrics\n",
	       kids[0].rpc, kids[0].rpc);
	if (strncmp(kids[0].rpc, "https://", 8) == 0)
		printf("try: build/wallet --node %s --ca %s/tls/ca.crt status\n", kids[0].rpc, o.dir);
	else
		printf("try: build/wallet --node %s status\n", kids[0].rpc);
	printf("ready; Ctrl-C stops the network\n");
	fflush(stdout);

	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGCHLD)
			break;
		size_t alive = 0;
		for (size_t i = 0; i < n; i++) {
			int ws;
			if (kids[i].pid > 0 && waitpid(kids[i].pid, &ws, WNOHANG) == kids[i].pid) {
				fprintf(stderr, "chaind devnet: node%zu (pid %d) exited (%s %d); "
						"the others keep running\n",
					i, (int)kids[i].pid, WIFEXITED(ws) ? "status" : "signal",
					WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
				kids[i].pid = 0;
			}
			alive += kids[i].pid > 0;
		}
		if (alive == 0) {
			fprintf(stderr, "chaind devnet: every validator has exited\n");
			status = 1;
			break;
		}
	}
stop:
	printf("stopping the devnet\n");
	for (size_t i = 0; i < n; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, SIGTERM);
	uint64_t end = node_clock().mono_ms + 15000;
	for (size_t i = 0; i < n; i++) {
		while (kids[i].pid > 0) {
			if (waitpid(kids[i].pid, NULL, WNOHANG) == kids[i].pid) {
				kids[i].pid = 0;
			} else if (node_clock().mono_ms > end) {
				kill(kids[i].pid, SIGKILL);
				waitpid(kids[i].pid, NULL, 0);
				kids[i].pid = 0;
			} else {
				struct timespec ts = {0, 20 * 1000000};
				nanosleep(&ts, NULL);
			}
		}
	}
	free(kids);
	return status;
}
