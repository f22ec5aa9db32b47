/*
 * The network under test: made with `chaind testnet` and started here, or
 * attached to; its JSON-RPC URLs, funded account keys and validator PIDs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench/chain-bench/bench.h"
#include "rpc/client.h"

extern char **environ;

uint64_t
bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* spawn runs argv with stdout and stderr to log (or inherited if NULL). */
static int
spawn(pid_t *pid, char *const argv[], const char *log, struct ch_err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (log != NULL) {
		posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	}
	int rv = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rv != 0)
		return ch_errf(err, CH_E_IO, "cannot run %s: %s", argv[0], strerror(rv));
	return 0;
}

/* load_json reads a whole JSON file. */
static cJSON *
load_json(const char *path, struct ch_err *err)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		ch_errf(err, CH_E_IO, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[8192];
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = 2 * (len + n + 1);
			char *t = realloc(text, cap);
			if (t == NULL) {
				free(text);
				fclose(f);
				ch_errf(err, CH_E_NOMEM, "out of memory");
				return NULL;
			}
			text = t;
		}
		memcpy(text + len, chunk, n);
		len += n;
	}
	fclose(f);
	cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
	free(text);
	if (root == NULL)
		ch_errf(err, CH_E_BAD_ENCODING, "%s is not JSON", path);
	return root;
}

/* load_layout reads the validators' RPC URLs and the funded accounts' keys. */
static int
load_layout(struct bench_net *net, struct ch_err *err)
{
	char path[PATH_MAX];
	struct stat st;
	net->n = 0;
	for (unsigned i = 0; i < BENCH_MAX_VALIDATORS; i++) {
		snprintf(path, sizeof(path), "%s/node%u/config.json", net->dir, i);
		if (stat(path, &st) != 0)
			break;
		cJSON *c = load_json(path, err);
		if (c == NULL)
			return CH_E_CONFIG;
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(c, "rpc_listen");
		if (!cJSON_IsString(u)) {
			cJSON_Delete(c);
			return ch_errf(err, CH_E_CONFIG, "%s has no rpc_listen", path);
		}
		snprintf(net->urls[i], sizeof(net->urls[i]), "%s/", u->valuestring);
		cJSON_Delete(c);
		net->n = i + 1;
	}
	if (net->n == 0)
		return ch_errf(err, CH_E_CONFIG, "%s holds no validator (node0/config.json)", net->dir);
	/* an https network (chaind testnet --tls): its CA, and its client certificate */
	snprintf(net->ca, sizeof(net->ca), "%s/tls/ca.crt", net->dir);
	snprintf(net->client_cert, sizeof(net->client_cert), "%s/tls/client.crt", net->dir);
	snprintf(net->client_key, sizeof(net->client_key), "%s/tls/client.key", net->dir);
	net->tls = (struct rpc_tls_files){.ca = net->ca};
	if (stat(net->client_cert, &st) == 0)
		net->tls = (struct rpc_tls_files){
			.ca = net->ca, .cert = net->client_cert, .key = net->client_key};
	unsigned m = 0;
	for (;; m++) {
		snprintf(path, sizeof(path), "%s/accounts/account%u.pem", net->dir, m);
		if (stat(path, &st) != 0)
			break;
	}
	if (m == 0)
		return ch_errf(err, CH_E_CONFIG, "%s/accounts holds no funded account key", net->dir);
	net->naccounts = m;
	net->keys = calloc(m, sizeof(*net->keys));
	net->next_nonce = calloc(m, sizeof(*net->next_nonce));
	net->addrs = calloc(m, sizeof(*net->addrs));
	if (net->keys == NULL || net->next_nonce == NULL || net->addrs == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	for (unsigned j = 0; j < m; j++) {
		uint8_t pub[CR_PUBKEY_LEN];
		snprintf(path, sizeof(path), "%s/accounts/account%u.pem", net->dir, j);
		int rc = cr_key_load_pem(&net->keys[j], path, err);
		if (rc != 0)
			return rc;
		cr_key_pubkey(net->keys[j], pub);
		cr_address(pub, net->addrs[j]);
	}
	return 0;
}

/* wait_ready waits until every validator answers status, and takes the chain id. */
static int
wait_ready(struct bench_net *net, double seconds, struct ch_err *err)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)(seconds * 1e9);
	for (unsigned i = 0; i < net->n; i++) {
		for (;;) {
			cJSON *r = NULL;
			struct ch_err e;
			ch_err_clear(&e);
			if (rpc_client_call(net->urls[i], &net->tls, "status", NULL, 2000, &r, &e) == 0) {
				const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "chain_id");
				if (cJSON_IsString(id))
					snprintf(net->chain_id, sizeof(net->chain_id), "%s", id->valuestring);
				cJSON_Delete(r);
				break;
			}
			if (!bench_net_alive(net, err))
				return CH_E_UNAVAILABLE;
			if (bench_now_ns() > deadline)
				return ch_errf(err, CH_E_TIMEOUT, "validator %u (%s) did not answer: %s", i,
					       net->urls[i], ch_err_msg(&e));
			bench_sleep_ns(50 * 1000000u);
		}
	}
	return 0;
}

int
bench_net_sync_nonces(struct bench_net *net, struct ch_err *err)
{
	for (unsigned j = 0; j < net->naccounts; j++) {
		char hex[2 * CR_ADDR_LEN + 1];
		cr_hex_encode(net->addrs[j], CR_ADDR_LEN, hex);
		cJSON *p = cJSON_CreateObject(), *r = NULL;
		cJSON_AddStringToObject(p, "address", hex);
		int rc = rpc_client_call(net->urls[0], &net->tls, "account", p, 5000, &r, err);
		if (rc != 0)
			return rc;
		const cJSON *pn = cJSON_GetObjectItemCaseSensitive(r, "pending_nonce");
		net->next_nonce[j] = cJSON_IsNumber(pn) ? (uint64_t)pn->valuedouble : 0;
		cJSON_Delete(r);
	}
	return 0;
}

int
bench_net_start(struct bench_net *net, const struct bench_net_opts *o, struct ch_err *err)
{
	char vals[16], accts[16], port[16];
	char *argv[64];
	int argc = 0, rc;
	memset(net, 0, sizeof(*net));
	snprintf(net->dir, sizeof(net->dir), "%s", o->dir);
	snprintf(vals, sizeof(vals), "%u", o->validators);
	snprintf(accts, sizeof(accts), "%u", o->accounts);
	snprintf(port, sizeof(port), "%u", o->base_port);
	char *extra = o->testnet_args ? strdup(o->testnet_args) : NULL;
	argv[argc++] = (char *)o->chaind;
	argv[argc++] = "testnet";
	argv[argc++] = "--validators";
	argv[argc++] = vals;
	argv[argc++] = "--dir";
	argv[argc++] = net->dir;
	argv[argc++] = "--accounts";
	argv[argc++] = accts;
	argv[argc++] = "--base-port";
	argv[argc++] = port;
	for (char *save = NULL, *t = extra ? strtok_r(extra, " ", &save) : NULL; t != NULL && argc < 62;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	char log[PATH_MAX];
	snprintf(log, sizeof(log), "%s.testnet.log", net->dir);
	pid_t pid;
	int status = 0;
	rc = spawn(&pid, argv, log, err);
	free(extra);
	if (rc != 0)
		return rc;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ch_errf(err, CH_E_IO, "chaind testnet failed; see %s", log);
	if ((rc = load_layout(net, err)) != 0)
		return rc;
	net->owned = true;
	for (unsigned i = 0; i < net->n; i++) {
		char home[PATH_MAX], nlog[PATH_MAX];
		snprintf(home, sizeof(home), "%s/node%u", net->dir, i);
		snprintf(nlog, sizeof(nlog), "%s/node%u.log", net->dir, i);
		char *nargv[] = {(char *)o->chaind, "start", "--home", home, NULL};
		if ((rc = spawn(&net->pids[i], nargv, nlog, err)) != 0)
			return rc;
	}
	if ((rc = wait_ready(net, 30, err)) != 0)
		return rc;
	return 0; /* a new network: every account starts at nonce 0 */
}

/* find_pid looks for the process running `chaind start --home home`. */
static pid_t
find_pid(const char *home)
{
	char want[PATH_MAX];
	if (realpath(home, want) == NULL)
		return 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	while (d != NULL && found == 0 && (e = readdir(d)) != NULL) {
		char path[300], args[4096];
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		if (f == NULL)
			continue;
		size_t n = fread(args, 1, sizeof(args) - 1, f);
		fclose(f);
		args[n] = '\0';
		/* arguments are NUL-separated: look for "--home" followed by the folder */
		for (size_t i = 0; i < n; i += strlen(args + i) + 1) {
			char got[PATH_MAX];
			if (strcmp(args + i, "--home") == 0 && i + 7 < n &&
			    realpath(args + i + 7, got) != NULL && strcmp(got, want) == 0)
				found = (pid_t)atoi(e->d_name);
		}
	}
	if (d != NULL)
		closedir(d);
	return found;
}

int
bench_net_attach(struct bench_net *net, const char *dir, struct ch_err *err)
{
	memset(net, 0, sizeof(*net));
	snprintf(net->dir, sizeof(net->dir), "%s", dir);
	int rc = load_layout(net, err);
	if (rc != 0)
		return rc;
	for (unsigned i = 0; i < net->n; i++) {
		char home[PATH_MAX];
		snprintf(home, sizeof(home), "%s/node%u", dir, i);
		net->pids[i] = find_pid(home);
	}
	if ((rc = wait_ready(net, 5, err)) != 0)
		return rc;
	return bench_net_sync_nonces(net, err);
}

bool
bench_net_alive(struct bench_net *net, struct ch_err *err)
{
	for (unsigned i = 0; net->owned && i < net->n; i++) {
		int status;
		if (net->pids[i] > 0 && waitpid(net->pids[i], &status, WNOHANG) == net->pids[i]) {
			net->pids[i] = 0;
			ch_errf(err, CH_E_UNAVAILABLE, "validator %u exited; see %s/node%u.log", i,
				net->dir, i);
			return false;
		}
	}
	return true;
}

void
bench_net_stop(struct bench_net *net)
{
	for (unsigned i = 0; net->owned && i < net->n; i++)
		if (net->pids[i] > 0)
			kill(net->pids[i], SIGTERM);
	for (unsigned i = 0; net->owned && i < net->n; i++) {
		if (net->pids[i] <= 0)
			continue;
		int status;
		uint64_t deadline = bench_now_ns() + 10 * 1000000000ull;
		while (waitpid(net->pids[i], &status, WNOHANG) == 0) {
			if (bench_now_ns() > deadline) {
				kill(net->pids[i], SIGKILL);
				waitpid(net->pids[i], &status, 0);
				break;
			}
			bench_sleep_ns(20 * 1000000u);
		}
		net->pids[i] = 0;
	}
	for (unsigned j = 0; net->keys != NULL && j < net->naccounts; j++)
		cr_key_free(net->keys[j]);
	free(net->keys);
	free(net->next_nonce);
	free(net->addrs);
	net->keys = NULL;
	net->next_nonce = NULL;
	net->addrs = NULL;
}

double
bench_proc_cpu_s(pid_t pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = pid > 0 ? fopen(path, "r") : NULL;
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields after the command name "(...)": state is field 3, utime 14, stime 15 */
	char *p = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0;
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double
bench_proc_peak_rss_mb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = pid > 0 ? fopen(path, "r") : NULL;
	double mb = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		unsigned long kb;
		if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
			mb = (double)kb / 1024.0;
	}
	if (f != NULL)
		fclose(f);
	return mb;
}
