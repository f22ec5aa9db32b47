/*
 * chaind init, show-validator and version: a validator key and home for an
 * operator who joins a network, what the other operators need to know of
 * it, and what this binary is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <nng/nng.h>
#include <openssl/crypto.h>

#include "chain/genesis.h"
#include "common/file.h"
#include "crypto/cert.h"
#include "node/cli/cli.h"
#include "node/config.h"
#include "node/peer_msg.h"

#ifndef CHAIND_VERSION /* both set by the build, from the project and from pkg-config */
#define CHAIND_VERSION "unknown"
#endif
#ifndef CHAIND_ROCKSDB_VERSION
#define CHAIND_ROCKSDB_VERSION "unknown"
#endif

/* ---- version ---- */

static void
version_usage(FILE *f)
{
	fprintf(f, "usage: chaind version [--json]\n"
		   "Prints chaind's version and those of the libraries it runs on.\n");
}

int
node_cmd_version(int argc, char **argv)
{
	bool json = false;
	const struct node_opt opts[] = {{"--json", NODE_OPT_FLAG, 0, 0, &json, NULL}};
	int rc = node_parse_opts("version", argc, argv, opts, 1, version_usage);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	const char *rocks = CHAIND_ROCKSDB_VERSION; /* the version built against */
	if (!json) {
		printf("chaind %s\nnng %s, RocksDB %s, %s, cJSON %s\n", CHAIND_VERSION, nng_version(),
		       rocks, OpenSSL_version(OPENSSL_VERSION), cJSON_Version());
		return 0;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "version", CHAIND_VERSION);
	cJSON_AddStringToObject(o, "nng", nng_version());
	cJSON_AddStringToObject(o, "rocksdb", rocks);
	cJSON_AddStringToObject(o, "openssl", OpenSSL_version(OPENSSL_VERSION));
	cJSON_AddStringToObject(o, "cjson", cJSON_Version());
	char *s = cJSON_PrintUnformatted(o);
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	cJSON_Delete(o);
	return s != NULL ? 0 : 1;
}

/* ---- show-validator ---- */

/*
 * describe fills o with what other operators need of the validator in home:
 * its id, key, address, peer address and the certificate of its JSON-RPC
 * endpoint, if any; and its place in the genesis, if it is there.
 */
static int
describe(const char *home, cJSON *o, struct ch_err *err)
{
	struct node_config c;
	struct cr_key *k = NULL;
	struct chain_genesis g;
	uint8_t pub[CR_PUBKEY_LEN], addr[CR_ADDR_LEN], fp[CR_HASH_LEN];
	char hex[2 * CR_PUBKEY_LEN + 1]; /* the longest it holds: a key (33 bytes), a hash (32) */
	char *pem = NULL;
	memset(&g, 0, sizeof(g));
	int rc = node_config_load(&c, home, err);
	if (rc == 0)
		rc = cr_key_load_pem(&k, c.key_file, err);
	if (rc != 0)
		return rc;
	cr_key_pubkey(k, pub);
	cr_key_free(k);
	cr_address(pub, addr);
	cJSON_AddStringToObject(o, "id", c.moniker);
	cr_hex_encode(pub, CR_PUBKEY_LEN, hex);
	cJSON_AddStringToObject(o, "pub_key", hex);
	cr_hex_encode(addr, CR_ADDR_LEN, hex);
	cJSON_AddStringToObject(o, "address", hex);
	const char *p2p = c.p2p_listen;
	struct ch_err gerr;
	if (chain_genesis_load(&g, c.genesis_file, &gerr) == 0) {
		for (size_t i = 0; i < g.nvalidators; i++) {
			if (memcmp(g.validators[i].pub_key, pub, CR_PUBKEY_LEN) != 0)
				continue;
			cJSON_AddNumberToObject(o, "validator_index", (double)i);
			cJSON_AddStringToObject(o, "genesis_id", g.validators[i].id);
			p2p = g.validators[i].p2p_address;
		}
	}
	cJSON_AddStringToObject(o, "p2p_address", p2p);
	cJSON_AddBoolToObject(o, "p2p_tls", c.p2p_tls);
	cJSON_AddStringToObject(o, "rpc_address", c.rpc_listen);
	if (c.rpc_tls_cert[0] != '\0') {
		rc = ch_read_file(c.rpc_tls_cert, 1u << 20, &pem, NULL, err);
		if (rc == 0)
			rc = cr_cert_fingerprint(pem, fp, err);
		if (rc == 0) {
			cr_hex_encode(fp, CR_HASH_LEN, hex);
			cJSON_AddStringToObject(o, "rpc_cert_sha256", hex);
		}
		free(pem);
	}
	chain_genesis_close(&g);
	return rc;
}

/*
 * warn_gaps says on stderr what of o the other operators could not use as
 * it is: an id the chain would refuse in a validator change, or a listen
 * address on every interface instead of one they can dial.
 */
static void
warn_gaps(const cJSON *o)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	const cJSON *p2p = cJSON_GetObjectItemCaseSensitive(o, "p2p_address");
	if (cJSON_IsString(id) && (strlen(id->valuestring) > CHAIN_MAX_VAL_ID ||
				   !chain_name_valid(id->valuestring, strlen(id->valuestring))))
		fprintf(stderr,
			"chaind show-validator: warning: the id \"%s\" (moniker) is not a valid "
			"validator id (1..%d characters of [A-Za-z0-9._:/-]); pick one that is for "
			"wallet validator add --id\n",
			id->valuestring, CHAIN_MAX_VAL_ID);
	if (cJSON_IsString(p2p) && (strstr(p2p->valuestring, "//0.0.0.0:") != NULL ||
				    strstr(p2p->valuestring, "//[::]:") != NULL))
		fprintf(stderr,
			"chaind show-validator: warning: p2p_address %s listens on every interface; "
			"give the others tcp://HOST:PORT with this machine's address instead "
			"(wallet validator add --p2p)\n",
			p2p->valuestring);
}

static void
show_usage(FILE *f)
{
	fprintf(f,
		"usage: chaind show-validator --home DIR [--json]\n"
		"Prints what the other operators of a network need of the validator in DIR:\n"
		"its id, public key (what genesis or a vote to add it names), address, peer\n"
		"address, and the SHA-256 of its JSON-RPC certificate if it serves HTTPS. Its\n"
		"peer links need no certificate of their own to be exchanged: each start\n"
		"issues one with the validator key, and peers check it against that key.\n"
		"--json prints one object with at least id, pub_key and p2p_address: what\n"
		"`wallet validator add --id ID --pub-key HEX --p2p ADDR` takes to vote it in.\n"
		"A warning on stderr says if the id or the address would not do for that.\n");
}

int
node_cmd_show_validator(int argc, char **argv)
{
	const char *home = NULL;
	bool json = false;
	const struct node_opt opts[] = {
		{"--home", NODE_OPT_STRING, 0, 0, &home, NULL},
		{"--json", NODE_OPT_FLAG, 0, 0, &json, NULL},
	};
	int rc = node_parse_opts("show-validator", argc, argv, opts, 2, show_usage);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	if (home == NULL) {
		fprintf(stderr, "chaind show-validator: --home DIR is required (see --help)\n");
		return 2;
	}
	struct ch_err err;
	ch_err_clear(&err);
	cJSON *o = cJSON_CreateObject();
	if (o == NULL || describe(home, o, &err) != 0) {
		fprintf(stderr, "chaind show-validator: %s\n",
			o == NULL ? "out of memory" : ch_err_msg(&err));
		cJSON_Delete(o);
		return 1;
	}
	warn_gaps(o);
	if (json) {
		char *s = cJSON_PrintUnformatted(o);
		printf("%s\n", s != NULL ? s : "{}");
		free(s);
	} else {
		const cJSON *v;
		cJSON_ArrayForEach(v, o)
		{
			if (cJSON_IsString(v))
				printf("%s: %s\n", v->string, v->valuestring);
			else if (cJSON_IsBool(v))
				printf("%s: %s\n", v->string, cJSON_IsTrue(v) ? "true" : "false");
			else
				printf("%s: %.0f\n", v->string, v->valuedouble);
		}
	}
	cJSON_Delete(o);
	return 0;
}

/* ---- init ---- */

static void
init_usage(FILE *f)
{
	fprintf(f,
		"usage: chaind init --home DIR [--moniker NAME] [--p2p tcp://HOST:PORT]\n"
		"                   [--rpc URL] [--genesis FILE]\n"
		"Makes a home for a new validator: a fresh key (DIR/validator.pem, mode\n"
		"0600) and DIR/config.json with mutual TLS on peer links. Give the output of\n"
		"`chaind show-validator --home DIR` to the network's other operators; put the\n"
		"network's genesis.json where --genesis says (default DIR/../genesis.json).\n"
		"  --moniker NAME   this validator's name (default: DIR's last component)\n"
		"  --p2p ADDR       where it listens for peers (default tcp://0.0.0.0:26600)\n"
		"  --rpc URL        where it serves JSON-RPC (default http://127.0.0.1:26601)\n"
		"  --genesis FILE   the network's genesis file\n");
}

int
node_cmd_init(int argc, char **argv)
{
	const char *home = NULL, *moniker = NULL, *p2p = "tcp://0.0.0.0:26600";
	const char *rpc = "http://127.0.0.1:26601", *genesis = NULL;
	const struct node_opt opts[] = {
		{"--home", NODE_OPT_STRING, 0, 0, &home, NULL},
		{"--moniker", NODE_OPT_STRING, 0, 0, &moniker, NULL},
		{"--p2p", NODE_OPT_STRING, 0, 0, &p2p, NULL},
		{"--rpc", NODE_OPT_STRING, 0, 0, &rpc, NULL},
		{"--genesis", NODE_OPT_STRING, 0, 0, &genesis, NULL},
	};
	int rc = node_parse_opts("init", argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
				 init_usage);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	if (home == NULL) {
		fprintf(stderr, "chaind init: --home DIR is required (see --help)\n");
		return 2;
	}
	if (strncmp(p2p, "tcp://", 6) != 0 || strlen(p2p) >= NODE_MAX_ADDR ||
	    (strncmp(rpc, "http://", 7) != 0 && strncmp(rpc, "https://", 8) != 0) ||
	    strlen(rpc) >= NODE_MAX_ADDR) {
		fprintf(stderr, "chaind init: --p2p must be tcp://HOST:PORT and --rpc an http(s):// "
				"URL\n");
		return 2;
	}
	struct node_config c;
	struct ch_err err;
	struct stat st;
	ch_err_clear(&err);
	node_config_default(&c, home);
	char path[NODE_MAX_PATH + 16];
	snprintf(path, sizeof(path), "%s/config.json", home);
	if (stat(path, &st) == 0 || stat(c.key_file, &st) == 0) {
		fprintf(stderr, "chaind init: %s already holds a validator; pick another --home\n",
			home);
		return 1;
	}
	char parent[NODE_MAX_PATH];
	snprintf(parent, sizeof(parent), "%s", home);
	for (char *q = strchr(parent + 1, '/'); q != NULL; q = strchr(q + 1, '/')) {
		*q = '\0'; /* the parents, as mkdir -p would */
		(void)mkdir(parent, 0755);
		*q = '/';
	}
	if (mkdir(home, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "chaind init: cannot create %s: %s\n", home, strerror(errno));
		return 1;
	}
	const char *base = strrchr(home, '/');
	base = base != NULL && base[1] != '\0' ? base + 1 : home;
	snprintf(c.moniker, sizeof(c.moniker), "%s", moniker != NULL ? moniker : base);
	snprintf(c.p2p_listen, sizeof(c.p2p_listen), "%s", p2p);
	snprintf(c.rpc_listen, sizeof(c.rpc_listen), "%s", rpc);
	if (genesis != NULL && snprintf(c.genesis_file, sizeof(c.genesis_file), "%s", genesis) >=
				       (int)sizeof(c.genesis_file)) {
		fprintf(stderr, "chaind init: --genesis is too long\n");
		return 2;
	}
	c.p2p_tls = true;
	struct cr_key *k = NULL;
	rc = cr_key_generate(&k, &err);
	if (rc == 0)
		rc = cr_key_save_pem(k, c.key_file, &err);
	cr_key_free(k);
	if (rc == 0)
		rc = node_config_save(&c, &err);
	if (rc != 0) {
		fprintf(stderr, "chaind init: %s\n", ch_err_msg(&err));
		return 1;
	}
	printf("made validator %s in %s (key %s)\n", c.moniker, home, c.key_file);
	char *show[] = {"--home", (char *)home};
	return node_cmd_show_validator(2, show);
}
