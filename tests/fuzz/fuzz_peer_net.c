/* The fixed network of fuzz_peer and gen_peer_seeds (fuzz_peer_net.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "node/cli.h"
#include "node/config.h"
#include "fuzz_peer_net.h"

/* P-256 test keys (openssl genpkey), public in this repository: never fund them anywhere. */
static const char *const validator_pem[FUZZ_PEER_VALIDATORS] = {
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9s77i8W7MLZdgihD\n"
	"pwT4ra+6xjFrMUpTAMI9hU/59fuhRANCAAS/1gvt3TxUwzy5Pg1dE8ksnZmpGeZg\n"
	"5xjV2ezZsDxg46+X0katrFrg0iSW9XCSP1SXv/4dccHogAg08f/lugNc\n"
	"-----END PRIVATE KEY-----\n",
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgv5MTsQlqZmfbDNj/\n"
	"rpKn4H32KXxkx8s71TtFqLlJl9uhRANCAAQr5VaoMFKDcFnL1aGChtmpSRY+7gFd\n"
	"uFi9nbvfrxvB+WRJMA6FGW7WNUWz0zovsnV3ipoMZ/2VywbjSnhGOU9j\n"
	"-----END PRIVATE KEY-----\n",
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgOv4bZFnTpmSFoRb4\n"
	"DMaKiWTN5FbUyW4HUcGPVYKcPQKhRANCAAR6ELnVc9zy1s0fvEyRWwkbqQ0GDEkc\n"
	"z9Rnl0EN7o9FirlNUNkQrSybW8gR931+Gk2KAFSLV10ubmTWh1YdpZlR\n"
	"-----END PRIVATE KEY-----\n",
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2eav+c2DdnIMQbkQ\n"
	"H03pqTyl2M+zDVzltYvUEaWtuYihRANCAAQHJumM+zCO+Ub7JLBA4ba3z3OgYdJk\n"
	"YOBW4n00+wcDCJTnSCfd9cjT+BO8DLXSuKxoKsrXYndbZEeiNt9UZs0+\n"
	"-----END PRIVATE KEY-----\n",
};

static const char *const account_pem[FUZZ_PEER_ACCOUNTS] = {
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgpX2fzD+3Q0k/8YRg\n"
	"6yGOvvemTL+vdIe0VIYayBxXHzihRANCAARFsCwpRGFknVRdpnG4cduAOWN/MUs5\n"
	"DFD/6deAneLa9soZ3CG954UBTsBrUENtqL3USogKDol6LjMvg4QtpMMe\n"
	"-----END PRIVATE KEY-----\n",
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyhSKJl4JjrSJMV5K\n"
	"k60WpVT8V4Jnn+MBtr9EB61366+hRANCAARx5OAevl4f00ii2aiseSeNVH49tIOH\n"
	"SUPc9qXjox/ZxlmqNJUCnU+wxShmvWE51E0Du4oqFGn7E3CMPs5Ku8w1\n"
	"-----END PRIVATE KEY-----\n",
};

static void
key_path(char *out, size_t cap, const char *dir, bool account, unsigned i)
{
	if (account)
		snprintf(out, cap, "%s/accounts/account%u.pem", dir, i);
	else
		snprintf(out, cap, "%s/node%u/validator.pem", dir, i);
}

/* replace_file writes text over path (node_testnet wrote it; its writers never overwrite). */
static int
replace_file(const char *path, const char *text, struct ch_err *err)
{
	size_t len = strlen(text);
	if (unlink(path) != 0 && errno != ENOENT)
		return ch_errf(err, CH_E_IO, "cannot remove %s: %s", path, strerror(errno));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return ch_errf(err, CH_E_IO, "cannot create %s: %s", path, strerror(errno));
	ssize_t w = write(fd, text, len);
	int rc = w == (ssize_t)len ? 0 : ch_errf(err, CH_E_IO, "cannot write %s", path);
	close(fd);
	return rc;
}

/* public_key reads the compressed public key of key file path. */
static int
public_key(const char *path, uint8_t pub[CR_PUBKEY_LEN], struct ch_err *err)
{
	struct cr_key *k = NULL;
	int rc = cr_key_load_pem(&k, path, err);
	if (rc == 0)
		cr_key_pubkey(k, pub);
	cr_key_free(k);
	return rc;
}

/* fix_genesis puts the fixed keys and time into the genesis node_testnet wrote. */
static int
fix_genesis(const char *dir, struct ch_err *err)
{
	char path[NODE_MAX_PATH + 64];
	uint8_t pub[CR_PUBKEY_LEN];
	struct node_genesis g;
	snprintf(path, sizeof(path), "%s/genesis.json", dir);
	int rc = node_genesis_load(&g, path, err);
	if (rc != 0)
		return rc;
	g.genesis_time_ms = FUZZ_PEER_GENESIS_MS;
	for (unsigned i = 0; i < FUZZ_PEER_VALIDATORS && rc == 0; i++) {
		key_path(path, sizeof(path), dir, false, i);
		rc = public_key(path, g.validators[i].pub_key, err);
	}
	for (unsigned j = 0; j < FUZZ_PEER_ACCOUNTS && rc == 0; j++) {
		key_path(path, sizeof(path), dir, true, j);
		if ((rc = public_key(path, pub, err)) == 0)
			cr_address(pub, g.accounts[j].address);
	}
	snprintf(path, sizeof(path), "%s/genesis.json", dir);
	if (rc == 0 && unlink(path) != 0)
		rc = ch_errf(err, CH_E_IO, "cannot remove %s: %s", path, strerror(errno));
	if (rc == 0)
		rc = node_genesis_save(&g, path, err);
	node_genesis_close(&g);
	return rc;
}

int
fuzz_peer_net_make(const char *dir, struct ch_err *err)
{
	char path[NODE_MAX_PATH + 64];
	struct node_testnet_opts o;
	node_testnet_defaults(&o);
	o.dir = dir;
	o.validators = FUZZ_PEER_VALIDATORS;
	o.accounts = FUZZ_PEER_ACCOUNTS;
	int rc = node_testnet(&o, true, err);
	for (unsigned i = 0; i < FUZZ_PEER_VALIDATORS && rc == 0; i++) {
		key_path(path, sizeof(path), dir, false, i);
		rc = replace_file(path, validator_pem[i], err);
	}
	for (unsigned j = 0; j < FUZZ_PEER_ACCOUNTS && rc == 0; j++) {
		key_path(path, sizeof(path), dir, true, j);
		rc = replace_file(path, account_pem[j], err);
	}
	if (rc == 0)
		rc = fix_genesis(dir, err);
	return rc;
}

int
fuzz_peer_net_key(const char *dir, bool account, unsigned i, struct cr_key **out,
		  struct ch_err *err)
{
	char path[NODE_MAX_PATH + 64];
	key_path(path, sizeof(path), dir, account, i);
	return cr_key_load_pem(out, path, err);
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
fuzz_peer_net_remove(const char *dir)
{
	/* depth first, not following links: only what is under dir goes */
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
