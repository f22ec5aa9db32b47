#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/num.h"
#include "node/config.h"

#define MAX_CONFIG_BYTES (16u << 20)

void
node_params_default(struct node_params *p)
{
	p->block_max_txs = 5000;
	p->block_max_bytes = 4u << 20;
	p->block_interval_ms = 0; /* consensus paces blocks: a new one as soon as the last commits */
	p->checkpoint_interval = 100;
	p->view_timeout_ms = 1000;
}

void
node_config_default(struct node_config *c, const char *home)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->home, sizeof(c->home), "%s", home);
	snprintf(c->moniker, sizeof(c->moniker), "node");
	snprintf(c->genesis_file, sizeof(c->genesis_file), "%s/../genesis.json", home);
	snprintf(c->key_file, sizeof(c->key_file), "%s/validator.pem", home);
	snprintf(c->data_dir, sizeof(c->data_dir), "%s/data", home);
	snprintf(c->rpc_listen, sizeof(c->rpc_listen), "http://127.0.0.1:26601");
	snprintf(c->p2p_listen, sizeof(c->p2p_listen), "tcp://127.0.0.1:26600");
	c->rpc_max_body_bytes = 1u << 20;
	c->rpc_max_inflight = 1024;
	c->mempool_max_txs = 50000;
	c->mempool_max_bytes = 64u << 20;
	c->mempool_ttl_ms = 600000;
	c->mempool_max_nonce_gap = 1000;
	c->commit_timeout_ms = 10000;
	c->peer_max_msgs_per_s = 1000;
	c->peer_max_bytes_per_s = 64ull << 20;
	c->min_free_disk_mb = 64;
}

int
node_read_file(const char *path, size_t max, char **out, size_t *len, struct ch_err *err)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return ch_errf(err, CH_E_IO, "cannot open %s: %s", path, strerror(errno));
	char *buf = malloc(max + 1);
	if (buf == NULL) {
		fclose(f);
		return ch_errf(err, CH_E_NOMEM, "out of memory reading %s", path);
	}
	size_t n = fread(buf, 1, max + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad || n > max) {
		free(buf);
		return ch_errf(err, bad ? CH_E_IO : CH_E_TOO_LARGE, "%s: %s", path,
			       bad ? "read error" : "file too large");
	}
	buf[n] = '\0';
	*out = buf;
	if (len != NULL)
		*len = n;
	return 0;
}

int
node_write_new_file(const char *path, const char *data, size_t len, int mode, struct ch_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0) {
		if (errno == EEXIST)
			return ch_errf(err, CH_E_EXISTS, "%s already exists", path);
		return ch_errf(err, CH_E_IO, "cannot create %s: %s", path, strerror(errno));
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			unlink(path);
			return ch_errf(err, CH_E_IO, "cannot write %s: %s", path, strerror(e));
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(path);
		return ch_errf(err, CH_E_IO, "cannot write %s: %s", path, strerror(errno));
	}
	return 0;
}

/* ---- typed field access with messages that name the field ---- */

static int
get_string(const cJSON *obj, const char *what, const char *name, bool required, char *out,
	   size_t cap, struct ch_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (v == NULL) {
		if (required)
			return ch_errf(err, CH_E_CONFIG, "%s: missing \"%s\"", what, name);
		return 0;
	}
	if (!cJSON_IsString(v))
		return ch_errf(err, CH_E_CONFIG, "%s: \"%s\" must be a string", what, name);
	size_t n = strlen(v->valuestring);
	if (n == 0 || n >= cap)
		return ch_errf(err, CH_E_CONFIG, "%s: \"%s\" must be 1..%zu characters", what, name,
			       cap - 1);
	memcpy(out, v->valuestring, n + 1);
	return 0;
}

/* get_u64 accepts a non-negative integral number (< 2^53) or a decimal string. */
static int
get_u64(const cJSON *obj, const char *what, const char *name, bool required, uint64_t min,
	uint64_t max, uint64_t *out, struct ch_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	uint64_t x = 0;
	if (v == NULL) {
		if (required)
			return ch_errf(err, CH_E_CONFIG, "%s: missing \"%s\"", what, name);
		return 0;
	}
	if (cJSON_IsNumber(v)) {
		if (!ch_double_u64(v->valuedouble, &x))
			goto bad;
	} else if (!cJSON_IsString(v) || !ch_parse_u64(v->valuestring, &x)) {
		goto bad;
	}
	if (x < min || x > max)
		return ch_errf(err, CH_E_CONFIG, "%s: \"%s\" is %" PRIu64 ", must be %" PRIu64
			       "..%" PRIu64, what, name, x, min, max);
	*out = x;
	return 0;
bad:
	return ch_errf(err, CH_E_CONFIG, "%s: \"%s\" must be a non-negative integer", what, name);
}

static int
get_u32(const cJSON *obj, const char *what, const char *name, uint32_t min, uint32_t max,
	uint32_t *out, struct ch_err *err)
{
	uint64_t x = *out;
	int rc = get_u64(obj, what, name, false, min, max, &x, err);
	if (rc == 0)
		*out = (uint32_t)x;
	return rc;
}

static int
get_hex(const cJSON *obj, const char *what, const char *name, uint8_t *out, size_t n,
	struct ch_err *err)
{
	char buf[2 * 64 + 3];
	int rc = get_string(obj, what, name, true, buf, sizeof(buf), err);
	if (rc != 0)
		return rc;
	if (cr_hex_decode_exact(buf, out, n) != 0)
		return ch_errf(err, CH_E_CONFIG, "%s: \"%s\" must be %zu hex characters", what, name,
			       2 * n);
	return 0;
}

static int
parse_file(const char *path, cJSON **out, char **text, struct ch_err *err)
{
	size_t len = 0;
	int rc = node_read_file(path, MAX_CONFIG_BYTES, text, &len, err);
	if (rc != 0)
		return rc;
	const char *end = NULL;
	*out = cJSON_ParseWithOpts(*text, &end, true);
	(void)len;
	if (*out == NULL || !cJSON_IsObject(*out)) {
		size_t off = end != NULL && end >= *text ? (size_t)(end - *text) : 0;
		cJSON_Delete(*out);
		*out = NULL;
		return ch_errf(err, CH_E_CONFIG, "%s: not a JSON object (error near byte %zu)", path,
			       off);
	}
	return 0;
}

static int
parse_params(const cJSON *p, struct node_params *out, struct ch_err *err)
{
	const char *w = "genesis params";
	int rc;
	if (p == NULL)
		return 0;
	if (!cJSON_IsObject(p))
		return ch_errf(err, CH_E_CONFIG, "genesis: \"params\" must be an object");
	if ((rc = get_u32(p, w, "block_max_txs", 1, CHAIN_MAX_BLOCK_TXS, &out->block_max_txs,
			  err)) != 0 ||
	    (rc = get_u32(p, w, "block_max_bytes", 4096, CHAIN_MAX_BLOCK_BYTES,
			  &out->block_max_bytes, err)) != 0 ||
	    (rc = get_u32(p, w, "block_interval_ms", 0, 60000, &out->block_interval_ms, err)) != 0 ||
	    (rc = get_u32(p, w, "checkpoint_interval", 1, 1000000, &out->checkpoint_interval,
			  err)) != 0 ||
	    (rc = get_u32(p, w, "view_timeout_ms", 10, 600000, &out->view_timeout_ms, err)) != 0)
		return rc;
	return 0;
}

static int
parse_validators(const cJSON *arr, struct node_genesis *g, struct ch_err *err)
{
	if (!cJSON_IsArray(arr))
		return ch_errf(err, CH_E_CONFIG, "genesis: \"validators\" must be an array");
	int n = cJSON_GetArraySize(arr);
	if (n < 1 || n > CHAIN_MAX_VALIDATORS)
		return ch_errf(err, CH_E_CONFIG, "genesis: need 1..%d validators, found %d",
			       CHAIN_MAX_VALIDATORS, n);
	int i = 0, rc;
	const cJSON *v;
	cJSON_ArrayForEach(v, arr) {
		char what[48];
		struct node_validator *val = &g->validators[i];
		snprintf(what, sizeof(what), "genesis validators[%d]", i);
		if (!cJSON_IsObject(v))
			return ch_errf(err, CH_E_CONFIG, "%s must be an object", what);
		if ((rc = get_string(v, what, "id", true, val->id, sizeof(val->id), err)) != 0 ||
		    (rc = get_hex(v, what, "pub_key", val->pub_key, CR_PUBKEY_LEN, err)) != 0 ||
		    (rc = get_string(v, what, "p2p_address", false, val->p2p_address,
				     sizeof(val->p2p_address), err)) != 0)
			return rc;
		struct cr_pubkey *pk = NULL;
		if (cr_pubkey_parse(&pk, val->pub_key, NULL) != 0)
			return ch_errf(err, CH_E_CONFIG, "%s: pub_key is not a P-256 public key", what);
		cr_pubkey_free(pk);
		for (int j = 0; j < i; j++)
			if (memcmp(g->validators[j].pub_key, val->pub_key, CR_PUBKEY_LEN) == 0 ||
			    strcmp(g->validators[j].id, val->id) == 0)
				return ch_errf(err, CH_E_CONFIG,
					       "%s repeats the id or key of validators[%d]", what, j);
		i++;
	}
	g->nvalidators = (size_t)n;
	return 0;
}

static int
parse_accounts(const cJSON *arr, struct node_genesis *g, struct ch_err *err)
{
	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		return ch_errf(err, CH_E_CONFIG, "genesis: \"accounts\" must be an array");
	int n = cJSON_GetArraySize(arr);
	if (n == 0)
		return 0;
	g->accounts = calloc((size_t)n, sizeof(*g->accounts));
	if (g->accounts == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	int i = 0, rc;
	const cJSON *a;
	cJSON_ArrayForEach(a, arr) {
		char what[48];
		snprintf(what, sizeof(what), "genesis accounts[%d]", i);
		if (!cJSON_IsObject(a))
			return ch_errf(err, CH_E_CONFIG, "%s must be an object", what);
		if ((rc = get_hex(a, what, "address", g->accounts[i].address, CR_ADDR_LEN, err)) !=
			    0 ||
		    (rc = get_u64(a, what, "balance", true, 0, UINT64_MAX, &g->accounts[i].balance,
				  err)) != 0)
			return rc;
		i++;
	}
	g->naccounts = (size_t)n;
	return 0;
}

int
node_genesis_load(struct node_genesis *g, const char *path, struct ch_err *err)
{
	memset(g, 0, sizeof(*g));
	node_params_default(&g->params);
	cJSON *root = NULL;
	char *text = NULL, *canon = NULL;
	int rc = parse_file(path, &root, &text, err);
	if (rc != 0)
		goto out;
	uint64_t t = 0;
	if ((rc = get_string(root, "genesis", "chain_id", true, g->chain_id, sizeof(g->chain_id),
			     err)) != 0)
		goto out;
	if (!chain_id_valid(g->chain_id, strlen(g->chain_id))) {
		rc = ch_errf(err, CH_E_CONFIG,
			     "genesis: chain_id must be 1..64 characters of [A-Za-z0-9._-]");
		goto out;
	}
	if ((rc = get_u64(root, "genesis", "genesis_time_ms", true, 0, UINT64_MAX / 2, &t, err)) !=
		    0 ||
	    (rc = parse_validators(cJSON_GetObjectItemCaseSensitive(root, "validators"), g, err)) !=
		    0 ||
	    (rc = parse_accounts(cJSON_GetObjectItemCaseSensitive(root, "accounts"), g, err)) != 0 ||
	    (rc = parse_params(cJSON_GetObjectItemCaseSensitive(root, "params"), &g->params, err)) !=
		    0)
		goto out;
	g->genesis_time_ms = t;
	canon = cJSON_PrintUnformatted(root);
	if (canon == NULL) {
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
		goto out;
	}
	cr_sha256(canon, strlen(canon), g->hash);
out:
	if (rc != 0) {
		if (err != NULL && strncmp(err->msg, path, strlen(path)) != 0) {
			char msg[CH_ERRMSG_MAX];
			memcpy(msg, err->msg, sizeof(msg));
			ch_errf(err, err->code, "%s: %.*s", path, CH_ERRMSG_MAX / 2, msg);
		}
		node_genesis_close(g);
	}
	free(canon);
	free(text);
	cJSON_Delete(root);
	return rc;
}

void
node_genesis_close(struct node_genesis *g)
{
	if (g == NULL)
		return;
	free(g->accounts);
	g->accounts = NULL;
	g->naccounts = 0;
}

static cJSON *
u64_string(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cJSON_CreateString(buf);
}

static void
add_hex(cJSON *obj, const char *name, const uint8_t *data, size_t n)
{
	char buf[2 * 64 + 1];
	cr_hex_encode(data, n, buf);
	cJSON_AddStringToObject(obj, name, buf);
}

static int
save_json(cJSON *root, const char *path, struct ch_err *err)
{
	char *text = root != NULL ? cJSON_Print(root) : NULL;
	int rc;
	if (text == NULL)
		rc = ch_errf(err, CH_E_NOMEM, "out of memory");
	else
		rc = node_write_new_file(path, text, strlen(text), 0644, err);
	free(text);
	cJSON_Delete(root);
	return rc;
}

int
node_genesis_save(const struct node_genesis *g, const char *path, struct ch_err *err)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "chain_id", g->chain_id);
	cJSON_AddNumberToObject(root, "genesis_time_ms", (double)g->genesis_time_ms);
	cJSON *vals = cJSON_AddArrayToObject(root, "validators");
	for (size_t i = 0; i < g->nvalidators; i++) {
		cJSON *v = cJSON_CreateObject();
		cJSON_AddStringToObject(v, "id", g->validators[i].id);
		add_hex(v, "pub_key", g->validators[i].pub_key, CR_PUBKEY_LEN);
		cJSON_AddStringToObject(v, "p2p_address", g->validators[i].p2p_address);
		cJSON_AddItemToArray(vals, v);
	}
	cJSON *accts = cJSON_AddArrayToObject(root, "accounts");
	for (size_t i = 0; i < g->naccounts; i++) {
		cJSON *a = cJSON_CreateObject();
		add_hex(a, "address", g->accounts[i].address, CR_ADDR_LEN);
		cJSON_AddItemToObject(a, "balance", u64_string(g->accounts[i].balance));
		cJSON_AddItemToArray(accts, a);
	}
	cJSON *p = cJSON_AddObjectToObject(root, "params");
	cJSON_AddNumberToObject(p, "block_max_txs", g->params.block_max_txs);
	cJSON_AddNumberToObject(p, "block_max_bytes", g->params.block_max_bytes);
	cJSON_AddNumberToObject(p, "block_interval_ms", g->params.block_interval_ms);
	cJSON_AddNumberToObject(p, "checkpoint_interval", g->params.checkpoint_interval);
	cJSON_AddNumberToObject(p, "view_timeout_ms", g->params.view_timeout_ms);
	return save_json(root, path, err);
}

/* resolve makes path absolute-or-relative-to-cwd by prefixing home if relative. */
static int
resolve(char *out, size_t cap, const char *home, const char *path)
{
	int n = path[0] == '/' ? snprintf(out, cap, "%s", path)
			       : snprintf(out, cap, "%s/%s", home, path);
	return n < 0 || (size_t)n >= cap ? CH_E_CONFIG : 0;
}

/* get_peer_addresses reads the optional "peer_addresses" object (id -> tcp:// URL). */
static int
get_peer_addresses(const cJSON *root, const char *w, struct node_config *c, struct ch_err *err)
{
	const cJSON *pa = cJSON_GetObjectItemCaseSensitive(root, "peer_addresses"), *v;
	if (pa == NULL)
		return 0;
	if (!cJSON_IsObject(pa))
		return ch_errf(err, CH_E_CONFIG,
			       "%s: \"peer_addresses\" must be an object of validator id to tcp:// URL",
			       w);
	cJSON_ArrayForEach(v, pa)
	{
		struct node_peer_address *p = &c->peer_addresses[c->npeer_addresses];
		if (c->npeer_addresses == NODE_MAX_PEER_ADDRESSES)
			return ch_errf(err, CH_E_CONFIG, "%s: more than %d peer_addresses", w,
				       NODE_MAX_PEER_ADDRESSES);
		if (!cJSON_IsString(v) || strncmp(v->valuestring, "tcp://", 6) != 0 ||
		    strlen(v->valuestring) >= sizeof(p->address) ||
		    strlen(v->string) >= sizeof(p->id) || v->string[0] == '\0')
			return ch_errf(err, CH_E_CONFIG,
				       "%s: peer_addresses.%.40s must be a tcp:// URL under %zu "
				       "characters",
				       w, v->string, sizeof(p->address));
		snprintf(p->id, sizeof(p->id), "%s", v->string);
		snprintf(p->address, sizeof(p->address), "%s", v->valuestring);
		c->npeer_addresses++;
	}
	return 0;
}

int
node_config_load(struct node_config *c, const char *home, struct ch_err *err)
{
	char path[NODE_MAX_PATH + 16], tmp[NODE_MAX_PATH];
	cJSON *root = NULL;
	char *text = NULL;
	node_config_default(c, home);
	snprintf(path, sizeof(path), "%s/config.json", home);
	int rc = parse_file(path, &root, &text, err);
	if (rc != 0)
		goto out;
	const char *w = path;
	uint64_t v;
	if ((rc = get_string(root, w, "moniker", false, c->moniker, sizeof(c->moniker), err)) != 0 ||
	    (rc = get_string(root, w, "rpc_listen", false, c->rpc_listen, sizeof(c->rpc_listen),
			     err)) != 0 ||
	    (rc = get_string(root, w, "p2p_listen", false, c->p2p_listen, sizeof(c->p2p_listen),
			     err)) != 0 ||
	    (rc = get_u32(root, w, "rpc_max_body_bytes", 1024, 64u << 20, &c->rpc_max_body_bytes,
			  err)) != 0 ||
	    (rc = get_u32(root, w, "rpc_max_inflight", 1, 100000, &c->rpc_max_inflight, err)) != 0 ||
	    (rc = get_u32(root, w, "mempool_max_txs", 1, 10000000, &c->mempool_max_txs, err)) != 0 ||
	    (rc = get_u32(root, w, "verify_threads", 0, 256, &c->verify_threads, err)) != 0 ||
	    (rc = get_u32(root, w, "peer_max_connections", 0, 100000, &c->peer_max_connections,
			  err)) != 0 ||
	    (rc = get_u32(root, w, "peer_max_msgs_per_s", 1, 10000000, &c->peer_max_msgs_per_s,
			  err)) != 0 ||
	    (rc = get_u32(root, w, "min_free_disk_mb", 0, 1u << 24, &c->min_free_disk_mb, err)) !=
		    0 ||
	    (rc = get_u32(root, w, "commit_timeout_ms", 1, 3600000, &c->commit_timeout_ms, err)) !=
		    0)
		goto out;
	v = c->mempool_max_bytes;
	if ((rc = get_u64(root, w, "mempool_max_bytes", false, 4096, 16ull << 30, &v, err)) != 0)
		goto out;
	c->mempool_max_bytes = v;
	v = c->mempool_ttl_ms;
	if ((rc = get_u64(root, w, "mempool_ttl_ms", false, 1000, 30ull * 86400000, &v, err)) != 0)
		goto out;
	c->mempool_ttl_ms = v;
	v = c->mempool_max_nonce_gap;
	if ((rc = get_u64(root, w, "mempool_max_nonce_gap", false, 0, 1000000, &v, err)) != 0)
		goto out;
	c->mempool_max_nonce_gap = v;
	v = c->peer_max_bytes_per_s;
	if ((rc = get_u64(root, w, "peer_max_bytes_per_s", false, 1024, 1ull << 40, &v, err)) != 0)
		goto out;
	c->peer_max_bytes_per_s = v;
	static const struct {
		const char *name;
		size_t off;
	} paths[] = {
		{"genesis_file", offsetof(struct node_config, genesis_file)},
		{"key_file", offsetof(struct node_config, key_file)},
		{"data_dir", offsetof(struct node_config, data_dir)},
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		tmp[0] = '\0';
		if ((rc = get_string(root, w, paths[i].name, false, tmp, sizeof(tmp), err)) != 0)
			goto out;
		if (tmp[0] != '\0' &&
		    resolve((char *)c + paths[i].off, NODE_MAX_PATH, home, tmp) != 0) {
			rc = ch_errf(err, CH_E_CONFIG, "%s: \"%s\" is too long", w, paths[i].name);
			goto out;
		}
	}
	if (strncmp(c->rpc_listen, "http://", 7) != 0) {
		rc = ch_errf(err, CH_E_CONFIG, "%s: rpc_listen must start with http://", w);
		goto out;
	}
	if (strncmp(c->p2p_listen, "tcp://", 6) != 0) {
		rc = ch_errf(err, CH_E_CONFIG, "%s: p2p_listen must start with tcp://", w);
		goto out;
	}
	rc = get_peer_addresses(root, w, c, err);
out:
	free(text);
	cJSON_Delete(root);
	return rc;
}

/* relative returns path without the "home/" prefix when it has one. */
static const char *
relative(const char *path, const char *home)
{
	size_t n = strlen(home);
	if (strncmp(path, home, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

int
node_config_save(const struct node_config *c, struct ch_err *err)
{
	char path[NODE_MAX_PATH + 16];
	snprintf(path, sizeof(path), "%s/config.json", c->home);
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "moniker", c->moniker);
	cJSON_AddStringToObject(root, "genesis_file", relative(c->genesis_file, c->home));
	cJSON_AddStringToObject(root, "key_file", relative(c->key_file, c->home));
	cJSON_AddStringToObject(root, "data_dir", relative(c->data_dir, c->home));
	cJSON_AddStringToObject(root, "rpc_listen", c->rpc_listen);
	cJSON_AddStringToObject(root, "p2p_listen", c->p2p_listen);
	cJSON_AddNumberToObject(root, "rpc_max_body_bytes", c->rpc_max_body_bytes);
	cJSON_AddNumberToObject(root, "rpc_max_inflight", c->rpc_max_inflight);
	cJSON_AddNumberToObject(root, "mempool_max_txs", c->mempool_max_txs);
	cJSON_AddNumberToObject(root, "mempool_max_bytes", (double)c->mempool_max_bytes);
	cJSON_AddNumberToObject(root, "mempool_ttl_ms", (double)c->mempool_ttl_ms);
	cJSON_AddNumberToObject(root, "mempool_max_nonce_gap", (double)c->mempool_max_nonce_gap);
	cJSON_AddNumberToObject(root, "commit_timeout_ms", c->commit_timeout_ms);
	cJSON_AddNumberToObject(root, "verify_threads", c->verify_threads);
	cJSON_AddNumberToObject(root, "peer_max_connections", c->peer_max_connections);
	cJSON_AddNumberToObject(root, "peer_max_msgs_per_s", c->peer_max_msgs_per_s);
	cJSON_AddNumberToObject(root, "peer_max_bytes_per_s", (double)c->peer_max_bytes_per_s);
	cJSON_AddNumberToObject(root, "min_free_disk_mb", c->min_free_disk_mb);
	if (c->npeer_addresses > 0) {
		cJSON *pa = cJSON_AddObjectToObject(root, "peer_addresses");
		for (size_t i = 0; pa != NULL && i < c->npeer_addresses; i++)
			cJSON_AddStringToObject(pa, c->peer_addresses[i].id,
						c->peer_addresses[i].address);
	}
	return save_json(root, path, err);
}
