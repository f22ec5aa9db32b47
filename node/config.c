/* config.json (config.h). */
#include "node/config.h"
#include "node/log.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/json.h"

#define MAX_CONFIG_BYTES (16u << 20)

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
	c->rpc_max_streams = 64;
	snprintf(c->log_level, sizeof(c->log_level), "info");
	snprintf(c->log_format, sizeof(c->log_format), "text");
}

/* resolve makes path absolute-or-relative-to-cwd by prefixing home if relative. */
static int
resolve(char *out, size_t cap, const char *home, const char *path)
{
	int n = path[0] == '/' ? snprintf(out, cap, "%s", path)
			       : snprintf(out, cap, "%s/%s", home, path);
	return n < 0 || (size_t)n >= cap ? CH_E_CONFIG : 0;
}

/* get_bool reads an optional boolean. */
static int
get_bool(const cJSON *root, const char *w, const char *name, bool *out, struct ch_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
	if (v == NULL)
		return 0;
	if (!cJSON_IsBool(v))
		return ch_errf(err, CH_E_CONFIG, "%s: \"%s\" must be true or false", w, name);
	*out = cJSON_IsTrue(v);
	return 0;
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
	node_config_default(c, home);
	snprintf(path, sizeof(path), "%s/config.json", home);
	int rc = ch_json_load(path, MAX_CONFIG_BYTES, &root, err);
	if (rc != 0)
		goto out;
	const char *w = path;
	uint64_t v;
	if ((rc = ch_json_string(root, w, "moniker", false, c->moniker, sizeof(c->moniker), err)) != 0 ||
	    (rc = ch_json_string(root, w, "rpc_listen", false, c->rpc_listen, sizeof(c->rpc_listen),
			     err)) != 0 ||
	    (rc = ch_json_string(root, w, "p2p_listen", false, c->p2p_listen, sizeof(c->p2p_listen),
			     err)) != 0 ||
	    (rc = ch_json_u32(root, w, "rpc_max_body_bytes", 1024, 64u << 20, &c->rpc_max_body_bytes,
			  err)) != 0 ||
	    (rc = ch_json_u32(root, w, "rpc_max_inflight", 1, 100000, &c->rpc_max_inflight, err)) != 0 ||
	    (rc = ch_json_u32(root, w, "mempool_max_txs", 1, 10000000, &c->mempool_max_txs, err)) != 0 ||
	    (rc = ch_json_u32(root, w, "verify_threads", 0, 256, &c->verify_threads, err)) != 0 ||
	    (rc = ch_json_u32(root, w, "peer_max_connections", 0, 100000, &c->peer_max_connections,
			  err)) != 0 ||
	    (rc = ch_json_u32(root, w, "peer_max_msgs_per_s", 1, 10000000, &c->peer_max_msgs_per_s,
			  err)) != 0 ||
	    (rc = ch_json_u32(root, w, "min_free_disk_mb", 0, 1u << 24, &c->min_free_disk_mb, err)) !=
		    0 ||
	    (rc = ch_json_u32(root, w, "commit_timeout_ms", 1, 3600000, &c->commit_timeout_ms, err)) !=
		    0 ||
	    (rc = ch_json_u32(root, w, "rpc_max_streams", 0, 10000, &c->rpc_max_streams, err)) != 0 ||
	    (rc = ch_json_string(root, w, "log_level", false, c->log_level, sizeof(c->log_level),
				 err)) != 0 ||
	    (rc = ch_json_string(root, w, "log_format", false, c->log_format, sizeof(c->log_format),
				 err)) != 0)
		goto out;
	enum node_log_level level;
	enum node_log_format format;
	if ((rc = node_log_parse_level(c->log_level, &level, err)) != 0 ||
	    (rc = node_log_parse_format(c->log_format, &format, err)) != 0) {
		rc = ch_err_wrap(err, CH_E_CONFIG, "%s", w);
		goto out;
	}
	v = c->mempool_max_bytes;
	if ((rc = ch_json_u64(root, w, "mempool_max_bytes", false, 4096, 16ull << 30, &v, err)) != 0)
		goto out;
	c->mempool_max_bytes = v;
	v = c->mempool_ttl_ms;
	if ((rc = ch_json_u64(root, w, "mempool_ttl_ms", false, 1000, 30ull * 86400000, &v, err)) != 0)
		goto out;
	c->mempool_ttl_ms = v;
	v = c->mempool_max_nonce_gap;
	if ((rc = ch_json_u64(root, w, "mempool_max_nonce_gap", false, 0, 1000000, &v, err)) != 0)
		goto out;
	c->mempool_max_nonce_gap = v;
	v = c->peer_max_bytes_per_s;
	if ((rc = ch_json_u64(root, w, "peer_max_bytes_per_s", false, 1024, 1ull << 40, &v, err)) != 0)
		goto out;
	c->peer_max_bytes_per_s = v;
	static const struct {
		const char *name;
		size_t off;
	} paths[] = {
		{"genesis_file", offsetof(struct node_config, genesis_file)},
		{"key_file", offsetof(struct node_config, key_file)},
		{"data_dir", offsetof(struct node_config, data_dir)},
		{"rpc_tls_cert", offsetof(struct node_config, rpc_tls_cert)},
		{"rpc_tls_key", offsetof(struct node_config, rpc_tls_key)},
		{"rpc_tls_client_ca", offsetof(struct node_config, rpc_tls_client_ca)},
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		tmp[0] = '\0';
		if ((rc = ch_json_string(root, w, paths[i].name, false, tmp, sizeof(tmp), err)) != 0)
			goto out;
		if (tmp[0] != '\0' &&
		    resolve((char *)c + paths[i].off, NODE_MAX_PATH, home, tmp) != 0) {
			rc = ch_errf(err, CH_E_CONFIG, "%s: \"%s\" is too long", w, paths[i].name);
			goto out;
		}
	}
	if ((rc = get_bool(root, w, "p2p_tls", &c->p2p_tls, err)) != 0 ||
	    (rc = get_bool(root, w, "allow_plaintext_peers", &c->allow_plaintext_peers, err)) != 0)
		goto out;
	bool https = c->rpc_tls_cert[0] != '\0';
	if ((c->rpc_tls_cert[0] == '\0') != (c->rpc_tls_key[0] == '\0')) {
		rc = ch_errf(err, CH_E_CONFIG, "%s: rpc_tls_cert and rpc_tls_key go together", w);
		goto out;
	}
	if (!https && c->rpc_tls_client_ca[0] != '\0') {
		rc = ch_errf(err, CH_E_CONFIG, "%s: rpc_tls_client_ca needs rpc_tls_cert and rpc_tls_key",
			     w);
		goto out;
	}
	if (strncmp(c->rpc_listen, https ? "https://" : "http://", https ? 8 : 7) != 0) {
		rc = ch_errf(err, CH_E_CONFIG, "%s: rpc_listen must start with %s", w,
			     https ? "https:// when rpc_tls_cert is set"
				   : "http:// (https:// needs rpc_tls_cert and rpc_tls_key)");
		goto out;
	}
	if (strncmp(c->p2p_listen, "tcp://", 6) != 0) {
		rc = ch_errf(err, CH_E_CONFIG, "%s: p2p_listen must start with tcp://", w);
		goto out;
	}
	rc = get_peer_addresses(root, w, c, err);
out:
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
	cJSON_AddNumberToObject(root, "rpc_max_streams", c->rpc_max_streams);
	cJSON_AddStringToObject(root, "log_level", c->log_level);
	cJSON_AddStringToObject(root, "log_format", c->log_format);
	cJSON_AddBoolToObject(root, "p2p_tls", c->p2p_tls);
	cJSON_AddBoolToObject(root, "allow_plaintext_peers", c->allow_plaintext_peers);
	if (c->rpc_tls_cert[0] != '\0') /* absent, not "", when unset */
		cJSON_AddStringToObject(root, "rpc_tls_cert", relative(c->rpc_tls_cert, c->home));
	if (c->rpc_tls_key[0] != '\0')
		cJSON_AddStringToObject(root, "rpc_tls_key", relative(c->rpc_tls_key, c->home));
	if (c->rpc_tls_client_ca[0] != '\0')
		cJSON_AddStringToObject(root, "rpc_tls_client_ca",
					relative(c->rpc_tls_client_ca, c->home));
	if (c->npeer_addresses > 0) {
		cJSON *pa = cJSON_AddObjectToObject(root, "peer_addresses");
		for (size_t i = 0; pa != NULL && i < c->npeer_addresses; i++)
			cJSON_AddStringToObject(pa, c->peer_addresses[i].id,
						c->peer_addresses[i].address);
	}
	return ch_json_save(root, path, err);
}
