/*
 * chaind backup and chaind restore: a copy of a validator's home taken while
 * it runs, and a new home made from such a copy.
 *
 * A backup directory holds
 *   backup.json   what was copied: chain, genesis, tip, when, from whom
 *   data/         a copy of the data directory (chain_store_backup)
 *   genesis.json  config.json  the home's files, as they were
 *   tls/          the JSON-RPC TLS files config.json names, if any
 * and, only when asked (--with-key), validator.pem and the vote record
 * (votes-a, votes-b). The key and the vote record go together: a key that
 * runs with a vote record older than what it last signed can sign a second,
 * conflicting vote. A backup's own record is only as new as the backup, so
 * the safe way to move a validator is to stop it and move its key and vote
 * record themselves into the restored home (restore --key --votes).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "chain/genesis.h"
#include "chain/store.h"
#include "common/file.h"
#include "common/json.h"
#include "node/cli/cli.h"
#include "node/config.h"
#include "node/engine.h"
#include "node/log.h"
#include "node/vote_file.h"

#define BACKUP_FORMAT 1
#define MAX_FILE_BYTES (16u << 20)
#define PATH_CAP (NODE_MAX_PATH + 64)
/* a save of the running validator may tear the file being read; the other one then holds */
#define VOTE_READ_TRIES 3

/* The RPC TLS files a config may name, and their names in a backup and a restored home. */
static const struct {
	size_t off;
	const char *name;
	int mode;
} tls_files[] = {
	{offsetof(struct node_config, rpc_tls_cert), "tls/rpc.crt", 0644},
	{offsetof(struct node_config, rpc_tls_key), "tls/rpc.key", 0600},
	{offsetof(struct node_config, rpc_tls_client_ca), "tls/client-ca.crt", 0644},
};
#define NTLS (sizeof(tls_files) / sizeof(tls_files[0]))

static char *
tls_path(struct node_config *c, size_t i)
{
	return (char *)c + tls_files[i].off;
}

/* join writes dir/name into out (PATH_CAP bytes). */
static int
join(char *out, const char *dir, const char *name, struct ch_err *err)
{
	int n = snprintf(out, PATH_CAP, "%s/%s", dir, name);
	if (n < 0 || n >= PATH_CAP)
		return ch_errf(err, CH_E_INVALID, "%s/%s: the path is too long", dir, name);
	return 0;
}

static bool
exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int
make_dir(const char *path, struct ch_err *err)
{
	if (mkdir(path, 0700) != 0)
		return ch_errf(err, errno == EEXIST ? CH_E_EXISTS : CH_E_IO,
			       "cannot create directory %s: %s", path, strerror(errno));
	return 0;
}

/* sync_dir makes the names written in dir durable. */
static int
sync_dir(const char *dir, struct ch_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	if (fd < 0 || fsync(fd) != 0)
		rc = ch_errf(err, CH_E_IO, "cannot sync directory %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* copy_file copies from to a new file to, with mode; sha256 (may be NULL) gets its hash. */
static int
copy_file(const char *from, const char *to, int mode, uint8_t sha256[CR_HASH_LEN],
	  struct ch_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc = ch_read_file(from, MAX_FILE_BYTES, &data, &len, err);
	if (rc == 0 && sha256 != NULL)
		cr_sha256(data, len, sha256);
	if (rc == 0)
		rc = ch_write_new_file(to, data, len, mode, err);
	if (data != NULL)
		explicit_bzero(data, len); /* it may be a key */
	free(data);
	return rc;
}

static int
file_sha256(const char *path, uint8_t out[CR_HASH_LEN], struct ch_err *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc = ch_read_file(path, MAX_FILE_BYTES, &data, &len, err);
	if (rc == 0)
		cr_sha256(data, len, out);
	free(data);
	return rc;
}

static int
key_pub(const char *path, uint8_t pub[CR_PUBKEY_LEN], struct ch_err *err)
{
	struct cr_key *k = NULL;
	int rc = cr_key_load_pem(&k, path, err);
	if (rc == 0)
		cr_key_pubkey(k, pub);
	cr_key_free(k);
	return rc;
}

/* validator_of returns the genesis validator whose key is pub, or NULL. */
static const struct chain_validator *
validator_of(const struct chain_genesis *g, const uint8_t pub[CR_PUBKEY_LEN])
{
	for (size_t i = 0; i < g->nvalidators; i++)
		if (memcmp(g->validators[i].pub_key, pub, CR_PUBKEY_LEN) == 0)
			return &g->validators[i];
	return NULL;
}

/*
 * locked says whether a process holds data_dir's RocksDB lock (a running
 * validator): RocksDB takes a POSIX write lock on data_dir/LOCK, which
 * F_GETLK reports without taking it.
 */
static bool
locked(const char *data_dir)
{
	char path[PATH_CAP];
	if (join(path, data_dir, "LOCK", NULL) != 0)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	bool held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

/* A vote record read from a directory. */
struct votes {
	struct ch_buf rec;
	bool found; /* it holds a record (else: the validator signed nothing yet) */
	struct node_engine_mark mark;
};

/*
 * read_votes loads the vote record of dir (votes-a, votes-b), written by
 * the ordering engine called engine, without creating anything there:
 * CH_E_NOT_FOUND when dir has neither file.
 */
static int
read_votes(const char *dir, const char *engine, struct votes *v, struct ch_err *err)
{
	char a[PATH_CAP], b[PATH_CAP];
	struct vote_file *f = NULL;
	int rc;
	memset(&v->mark, 0, sizeof(v->mark));
	v->found = false;
	if ((rc = join(a, dir, "votes-a", err)) != 0 || (rc = join(b, dir, "votes-b", err)) != 0)
		return rc;
	if (!exists(a) && !exists(b))
		return ch_errf(err, CH_E_NOT_FOUND, "%s holds no vote record (votes-a, votes-b)",
			       dir);
	if (!exists(a) || !exists(b))
		return ch_errf(err, CH_E_NOT_FOUND, "%s holds only one of votes-a and votes-b",
			       dir);
	for (int i = 0; i < VOTE_READ_TRIES; i++) {
		if (i > 0)
			usleep(50000);
		v->rec.len = 0;
		rc = vote_file_open(&f, dir, &v->rec, &v->found, err);
		vote_file_close(f);
		f = NULL;
		if (rc != CH_E_DB)
			break;
	}
	if (rc == 0 && v->found)
		rc = node_engine_record_mark(engine, v->rec.data, v->rec.len, &v->mark, err);
	if (rc == CH_E_BAD_ENCODING)
		rc = ch_err_wrap(err, rc, "vote record in %s", dir);
	return rc;
}

/* write_votes makes dir's vote record files, holding v's record if it has one. */
static int
write_votes(const char *dir, const struct votes *v, struct ch_err *err)
{
	struct vote_file *f = NULL;
	struct ch_buf none;
	bool found = false;
	ch_buf_init(&none);
	int rc = vote_file_open(&f, dir, &none, &found, err);
	if (rc == 0 && found)
		rc = ch_errf(err, CH_E_EXISTS, "%s already holds a vote record", dir);
	if (rc == 0 && v->found)
		rc = vote_file_save(f, v->rec.data, v->rec.len, err);
	vote_file_close(f);
	ch_buf_close(&none);
	return rc;
}

/* behind: is record a older than b (earlier in height or in view)? */
static bool
behind(const struct votes *a, const struct votes *b)
{
	if (!b->found || !b->mark.voted)
		return false;
	if (!a->found || !a->mark.voted)
		return true;
	/* views start again with each validator set: a later set's record is ahead */
	if (a->mark.epoch != b->mark.epoch)
		return a->mark.epoch < b->mark.epoch;
	return a->mark.height < b->mark.height || a->mark.view < b->mark.view;
}

static void
describe_votes(const struct votes *v, char *out, size_t cap)
{
	if (!v->found || !v->mark.voted)
		snprintf(out, cap, "no vote yet");
	else
		snprintf(out, cap, "last vote at height %" PRIu64 ", view %" PRIu64, v->mark.height,
			 v->mark.view);
}

/*
 * check_store opens a copied data directory, reads all of it with the
 * checksums, and checks it holds the chain of genesis g; tip gets its tip.
 */
static int
check_store(const char *dir, const struct chain_genesis *g, struct chain_tip *tip, uint64_t *keys,
	    struct ch_err *err)
{
	struct chain_store *s = NULL;
	uint8_t h[CR_HASH_LEN];
	bool applied = false;
	int rc = chain_store_open(&s, dir, err);
	if (rc == 0)
		rc = chain_store_verify(s, keys, err);
	if (rc == 0)
		rc = chain_store_genesis(s, &applied, h, err);
	if (rc == 0 && !applied)
		rc = ch_errf(err, CH_E_CONFIG, "%s holds no chain (genesis was never applied)",
			     dir);
	if (rc == 0 && memcmp(h, g->hash, CR_HASH_LEN) != 0)
		rc = ch_errf(err, CH_E_CONFIG, "%s holds the chain of another genesis than %s's",
			     dir, g->chain_id);
	if (rc == 0)
		rc = chain_store_tip(s, tip, err);
	chain_store_close(s);
	return rc;
}

/* ---- chaind backup ---- */

struct backup_opts {
	const char *home, *out;
	bool with_key;
};

static void
backup_usage(FILE *f)
{
	fprintf(f, "usage: chaind backup --home DIR --out DEST [--with-key]\n"
		   "Copies the validator home DIR to the new directory DEST, while the validator\n"
		   "runs or when it is stopped: DEST/data (the data directory as of one moment,\n"
		   "every record checked), config.json, genesis.json, the JSON-RPC TLS files\n"
		   "config.json names, and DEST/backup.json (chain, genesis hash, tip height and\n"
		   "hash, time, moniker). `chaind restore` makes a home from it.\n"
		   "  --home DIR   the validator's home (config.json)\n"
		   "  --out DEST   where to write the backup (must not exist)\n"
		   "  --with-key   also copy the validator key (validator.pem, mode 0600) and its\n"
		   "               vote record (votes-a, votes-b). Without it the backup holds\n"
		   "               neither: a key restored with a vote record older than what it\n"
		   "               last signed can sign twice. To move a validator, stop it and\n"
		   "               move its key and vote record (chaind restore --key --votes).\n");
}

/* write_backup_json writes out/backup.json. */
static int
write_backup_json(const char *out, const struct node_config *cfg, const struct chain_genesis *g,
		  const uint8_t genesis_sha[CR_HASH_LEN], const struct chain_tip *tip,
		  uint64_t keys, const struct chain_validator *self,
		  const uint8_t pub[CR_PUBKEY_LEN], bool running, const struct backup_opts *o,
		  const struct votes *votes, struct ch_err *err)
{
	char path[PATH_CAP], hex[2 * CR_HASH_LEN + 1], phex[2 * CR_PUBKEY_LEN + 1], when[32];
	struct node_time now = node_clock();
	time_t secs = (time_t)(now.wall_ms / 1000);
	struct tm tm;
	int rc = join(path, out, "backup.json", err);
	if (rc != 0)
		return rc;
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON *root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "format", BACKUP_FORMAT);
	cJSON_AddStringToObject(root, "chain_id", g->chain_id);
	cr_hex_encode(g->hash, CR_HASH_LEN, hex);
	cJSON_AddStringToObject(root, "genesis_hash", hex);
	cr_hex_encode(genesis_sha, CR_HASH_LEN, hex);
	cJSON_AddStringToObject(root, "genesis_sha256", hex);
	cJSON_AddNumberToObject(root, "tip_height", (double)tip->height);
	cr_hex_encode(tip->hash, CR_HASH_LEN, hex);
	cJSON_AddStringToObject(root, "tip_hash", hex);
	cJSON_AddNumberToObject(root, "records", (double)keys);
	cJSON_AddStringToObject(root, "created", when);
	cJSON_AddNumberToObject(root, "created_ms", (double)now.wall_ms);
	cJSON_AddStringToObject(root, "moniker", cfg->moniker);
	cJSON_AddStringToObject(root, "source_home", o->home);
	cJSON_AddBoolToObject(root, "source_running", running);
	if (self != NULL) {
		cJSON_AddStringToObject(root, "validator_id", self->id);
		cr_hex_encode(pub, CR_PUBKEY_LEN, phex);
		cJSON_AddStringToObject(root, "validator_pub_key", phex);
	}
	cJSON_AddBoolToObject(root, "with_key", o->with_key);
	if (o->with_key && votes->found && votes->mark.voted) {
		cJSON_AddNumberToObject(root, "votes_height", (double)votes->mark.height);
		cJSON_AddNumberToObject(root, "votes_view", (double)votes->mark.view);
	}
	return ch_json_save(root, path, err);
}

/* backup writes the backup of o->home into o->out, which it has created. */
static int
backup(const struct backup_opts *o, struct ch_err *err)
{
	struct node_config cfg;
	struct chain_genesis g;
	struct chain_tip tip;
	struct votes votes;
	char path[PATH_CAP], from[PATH_CAP], tls[PATH_CAP];
	uint8_t genesis_sha[CR_HASH_LEN], pub[CR_PUBKEY_LEN];
	const struct chain_validator *self = NULL;
	uint64_t keys = 0, checked = 0;
	bool made_tls = false;
	int rc;
	memset(&g, 0, sizeof(g));
	ch_buf_init(&votes.rec);
	votes.found = false;
	if ((rc = node_config_load(&cfg, o->home, err)) != 0 ||
	    (rc = chain_genesis_load(&g, cfg.genesis_file, err)) != 0)
		goto out;
	bool running = locked(cfg.data_dir);
	if ((rc = join(path, o->out, "data", err)) != 0 ||
	    (rc = chain_store_backup(cfg.data_dir, path, &keys, err)) != 0 ||
	    (rc = check_store(path, &g, &tip, &checked, err)) != 0)
		goto out;
	if (checked != keys) {
		rc = ch_errf(err, CH_E_DB, "%s: %" PRIu64 " records copied, %" PRIu64 " read back",
			     path, keys, checked);
		goto out;
	}
	if ((rc = join(path, o->out, "genesis.json", err)) != 0 ||
	    (rc = copy_file(cfg.genesis_file, path, 0644, genesis_sha, err)) != 0 ||
	    (rc = join(from, o->home, "config.json", err)) != 0 ||
	    (rc = join(path, o->out, "config.json", err)) != 0 ||
	    (rc = copy_file(from, path, 0644, NULL, err)) != 0 ||
	    (rc = join(tls, o->out, "tls", err)) != 0)
		goto out;
	for (size_t i = 0; i < NTLS; i++) {
		if (tls_path(&cfg, i)[0] == '\0')
			continue;
		if (!made_tls && (rc = make_dir(tls, err)) != 0)
			goto out;
		made_tls = true;
		if ((rc = join(path, o->out, tls_files[i].name, err)) != 0 ||
		    (rc = copy_file(tls_path(&cfg, i), path, tls_files[i].mode, NULL, err)) != 0)
			goto out;
	}
	struct ch_err kerr;
	ch_err_clear(&kerr);
	if (key_pub(cfg.key_file, pub, &kerr) == 0)
		self = validator_of(&g, pub);
	else if (o->with_key) {
		rc = ch_errf(err, kerr.code, "%s", ch_err_msg(&kerr));
		goto out;
	} else
		log_warn("backup: the backup does not say whose it is: %s", ch_err_msg(&kerr));
	if (o->with_key) {
		/* read after the data: the record is then at least as new as the copy */
		rc = read_votes(cfg.home, g.params.engine, &votes, err);
		if (rc == CH_E_NOT_FOUND) /* a validator that never ran: nothing signed */
			rc = 0;
		if (rc != 0 || (rc = join(path, o->out, "validator.pem", err)) != 0 ||
		    (rc = copy_file(cfg.key_file, path, 0600, NULL, err)) != 0 ||
		    (rc = write_votes(o->out, &votes, err)) != 0)
			goto out;
	}
	if ((rc = write_backup_json(o->out, &cfg, &g, genesis_sha, &tip, keys, self, pub, running,
				    o, &votes, err)) != 0 ||
	    (made_tls && (rc = sync_dir(tls, err)) != 0) || (rc = sync_dir(o->out, err)) != 0)
		goto out;
	char h[17], vd[80];
	cr_hex_encode(tip.hash, 8, h);
	describe_votes(&votes, vd, sizeof(vd));
	printf("backed up %s (%s of chain %s%s) to %s: %" PRIu64 " records, height %" PRIu64
	       " (%s...)\n",
	       o->home, cfg.moniker, g.chain_id, running ? ", running" : "", o->out, keys,
	       tip.height, tip.height ? h : "genesis");
	if (o->with_key)
		printf("  with the validator key and its vote record (%s): keep it as safe as the "
		       "key\n",
		       vd);
	else
		printf("  without the validator key and vote record: restore them from the "
		       "validator itself (chaind restore --key --votes)\n");
out:
	ch_buf_close(&votes.rec);
	chain_genesis_close(&g);
	return rc;
}

int
node_cmd_backup(int argc, char **argv)
{
	struct backup_opts o = {NULL, NULL, false};
	const struct node_opt opts[] = {
		{"--home", NODE_OPT_STRING, 0, 0, &o.home, NULL},
		{"--out", NODE_OPT_STRING, 0, 0, &o.out, NULL},
		{"--with-key", NODE_OPT_FLAG, 0, 0, &o.with_key, NULL},
	};
	int rc = node_parse_opts("backup", argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
				 backup_usage);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	if (o.home == NULL || o.out == NULL) {
		fprintf(stderr,
			"chaind backup: --home DIR and --out DEST are required (see --help)\n");
		return 2;
	}
	struct ch_err err;
	ch_err_clear(&err);
	if (exists(o.out)) {
		fprintf(stderr,
			"chaind backup: %s already exists: a backup goes to a new directory\n",
			o.out);
		return 1;
	}
	if ((rc = make_dir(o.out, &err)) == 0 && (rc = backup(&o, &err)) != 0)
		ch_remove_tree(o.out, NULL); /* no half backup that looks like one */
	if (rc != 0) {
		fprintf(stderr, "chaind backup: %s\n", ch_err_msg(&err));
		return 1;
	}
	return 0;
}

/* ---- chaind restore ---- */

struct restore_opts {
	const char *from, *home, *key, *votes;
};

static void
restore_usage(FILE *f)
{
	fprintf(f, "usage: chaind restore --from DEST --home NEWHOME [--key FILE --votes DIR]\n"
		   "Makes the new validator home NEWHOME from the backup DEST (chaind backup):\n"
		   "config.json (paths inside NEWHOME), genesis.json, data/ (checked whole) and\n"
		   "the TLS files. Started, the validator syncs the blocks after the backup from\n"
		   "its peers. NEWHOME must not hold config.json or a data directory.\n"
		   "  --from DEST   the backup\n"
		   "  --home DIR    the home to make (created if missing)\n"
		   "  --key FILE    the validator key to run with (copied, mode 0600)\n"
		   "  --votes DIR   the directory holding that key's vote record (votes-a,\n"
		   "                votes-b), normally the old home: required with --key\n"
		   "Without --key, the backup's own key and vote record are restored if it was\n"
		   "taken --with-key, else the home has no key and cannot start as a validator.\n"
		   "A key must run with a vote record at least as new as what it last signed, or\n"
		   "it can sign two conflicting votes. A backup's record is as old as the backup:\n"
		   "restoring it is unsafe if the original validator ran after it was taken. To\n"
		   "move a validator: stop it, restore with --key OLDHOME/validator.pem --votes\n"
		   "OLDHOME, then remove the key and votes-a, votes-b from OLDHOME.\n");
}

/* What restore reads from a backup before it writes anything. */
struct backup_info {
	char chain_id[CHAIN_MAX_CHAIN_ID + 1];
	char created[32];
	uint8_t genesis_sha[CR_HASH_LEN];
	uint64_t tip_height;
	uint8_t tip_hash[CR_HASH_LEN];
	bool with_key, source_running, has_pub;
	uint8_t pub[CR_PUBKEY_LEN];
};

static int
hex_field(const cJSON *root, const char *w, const char *name, bool required, uint8_t *out, size_t n,
	  bool *given, struct ch_err *err)
{
	char hex[2 * CR_PUBKEY_LEN + 3] = "";
	int rc = ch_json_string(root, w, name, required, hex, sizeof(hex), err);
	if (given != NULL)
		*given = rc == 0 && hex[0] != '\0';
	if (rc == 0 && hex[0] != '\0' && cr_hex_decode_exact(hex, out, n) != 0)
		rc = ch_errf(err, CH_E_CONFIG, "%s: \"%s\" is not %zu bytes of hex", w, name, n);
	return rc;
}

static int
read_backup_json(const char *from, struct backup_info *b, struct ch_err *err)
{
	char path[PATH_CAP];
	cJSON *root = NULL;
	uint64_t format = 0;
	memset(b, 0, sizeof(*b));
	int rc = join(path, from, "backup.json", err);
	if (rc == 0 && (rc = ch_json_load(path, MAX_FILE_BYTES, &root, err)) != 0 &&
	    rc == CH_E_IO && !exists(path))
		rc = ch_errf(err, CH_E_NOT_FOUND, "%s is not a backup: it has no backup.json",
			     from);
	if (rc != 0)
		goto out;
	const char *w = path;
	if ((rc = ch_json_u64(root, w, "format", true, 1, UINT64_MAX, &format, err)) != 0)
		goto out;
	if (format != BACKUP_FORMAT) {
		rc = ch_errf(err, CH_E_CONFIG,
			     "%s: format %" PRIu64 " is not one this chaind reads", w, format);
		goto out;
	}
	if ((rc = ch_json_string(root, w, "chain_id", true, b->chain_id, sizeof(b->chain_id),
				 err)) != 0 ||
	    (rc = ch_json_string(root, w, "created", false, b->created, sizeof(b->created), err)) !=
		    0 ||
	    (rc = hex_field(root, w, "genesis_sha256", true, b->genesis_sha, CR_HASH_LEN, NULL,
			    err)) != 0 ||
	    (rc = ch_json_u64(root, w, "tip_height", true, 0, UINT64_MAX, &b->tip_height, err)) !=
		    0 ||
	    (rc = hex_field(root, w, "tip_hash", true, b->tip_hash, CR_HASH_LEN, NULL, err)) != 0 ||
	    (rc = hex_field(root, w, "validator_pub_key", false, b->pub, CR_PUBKEY_LEN, &b->has_pub,
			    err)) != 0)
		goto out;
	b->with_key = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "with_key"));
	b->source_running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "source_running"));
out:
	cJSON_Delete(root);
	return rc;
}

/* The files and directories restore made, removed again if it fails. */
#define MAX_MADE 12
struct made {
	char path[MAX_MADE][PATH_CAP];
	int n;
};

static void
made_add(struct made *m, const char *path)
{
	if (m->n < MAX_MADE)
		snprintf(m->path[m->n++], PATH_CAP, "%s", path);
}

static void
made_undo(const struct made *m)
{
	for (int i = m->n - 1; i >= 0; i--)
		ch_remove_tree(m->path[i], NULL);
}

/* The key and vote record a restore puts into the new home. */
struct restore_key {
	const char *key;   /* NULL: none */
	const char *votes; /* the directory of its vote record */
	struct votes rec;
};

/*
 * check_outside_votes checks the vote record of a key brought from outside
 * the backup (--key, --votes): the validator of that directory has stopped,
 * the directory's own key (if it has one) is this key, and the record is not
 * older than the one in the backup (if it has one).
 */
static int
check_outside_votes(const struct restore_opts *o, const struct backup_info *b,
		    const char *engine, const uint8_t pub[CR_PUBKEY_LEN], struct restore_key *k,
		    struct ch_err *err)
{
	struct node_config vc;
	struct ch_err probe;
	uint8_t vpub[CR_PUBKEY_LEN];
	struct votes bv;
	int rc = 0;
	ch_buf_init(&bv.rec);
	ch_err_clear(&probe);
	/* a home says where its data and key are; a bare directory may hold validator.pem */
	if (node_config_load(&vc, o->votes, &probe) != 0)
		node_config_default(&vc, o->votes);
	if (locked(vc.data_dir)) {
		rc = ch_errf(err, CH_E_INVALID,
			     "the validator in %s is running (%s is locked): stop it first, its "
			     "vote record changes with every vote",
			     o->votes, vc.data_dir);
		goto out;
	}
	if (key_pub(vc.key_file, vpub, &probe) == 0 && memcmp(vpub, pub, CR_PUBKEY_LEN) != 0) {
		rc = ch_errf(err, CH_E_INVALID,
			     "the vote record in %s is another validator's: its key %s is not %s",
			     o->votes, vc.key_file, o->key);
		goto out;
	}
	if ((rc = read_votes(o->votes, engine, &k->rec, err)) != 0)
		goto out;
	if (b->with_key) {
		if ((rc = read_votes(o->from, engine, &bv, err)) != 0)
			goto out;
		if (behind(&k->rec, &bv)) {
			char mine[80], theirs[80];
			describe_votes(&k->rec, mine, sizeof(mine));
			describe_votes(&bv, theirs, sizeof(theirs));
			rc = ch_errf(
				err, CH_E_INVALID,
				"the vote record in %s (%s) is older than the backup's own (%s): "
				"this key signed more than it holds; use the newest record",
				o->votes, mine, theirs);
			goto out;
		}
	}
	if (k->rec.found && k->rec.mark.voted && k->rec.mark.height < b->tip_height)
		log_warn("restore: the vote record in %s has its last vote at height %" PRIu64
			 ", below the backup's tip %" PRIu64 ": right for a validator that caught "
			 "up without voting, wrong for a copy of an older record (do not start "
			 "it then)",
			 o->votes, k->rec.mark.height, b->tip_height);
out:
	ch_buf_close(&bv.rec);
	return rc;
}

/*
 * choose_key decides which key and vote record go into the new home, and
 * refuses the combinations that could make the validator sign twice.
 */
static int
choose_key(const struct restore_opts *o, const struct backup_info *b, const struct chain_genesis *g,
	   struct restore_key *k, char *own_key, struct ch_err *err)
{
	uint8_t pub[CR_PUBKEY_LEN];
	int rc;
	k->key = NULL;
	k->votes = NULL;
	if (o->key == NULL && !b->with_key)
		return 0;
	if (o->key != NULL) {
		k->key = o->key;
		k->votes = o->votes;
	} else {
		if ((rc = join(own_key, o->from, "validator.pem", err)) != 0)
			return rc;
		k->key = own_key;
		k->votes = o->from;
	}
	if ((rc = key_pub(k->key, pub, err)) != 0)
		return rc;
	const struct chain_validator *v = validator_of(g, pub);
	if (v == NULL)
		return ch_errf(err, CH_E_INVALID, "the key in %s is not a validator of chain %s",
			       k->key, g->chain_id);
	if (b->has_pub && memcmp(pub, b->pub, CR_PUBKEY_LEN) != 0)
		return ch_errf(err, CH_E_INVALID,
			       "the key in %s is validator %s's, not the key of the validator this "
			       "backup was taken from",
			       k->key, v->id);
	if (o->key != NULL)
		return check_outside_votes(o, b, g->params.engine, pub, k, err);
	if ((rc = read_votes(o->from, g->params.engine, &k->rec, err)) != 0)
		return ch_err_wrap(err, CH_E_INVALID,
				   "backup taken --with-key without its vote record");
	char vd[80];
	describe_votes(&k->rec, vd, sizeof(vd));
	log_warn("restore: using the key and vote record saved in the backup (%s, %s)%s: safe only "
		 "if validator %s has not run since; if it has, it may have signed votes this "
		 "record lacks and could now sign twice. The safe way: stop it and restore with "
		 "--key OLDHOME/validator.pem --votes OLDHOME",
		 b->created[0] ? b->created : "undated", vd,
		 b->source_running ? ", taken while it ran" : "", v->id);
	return 0;
}

/* check_target checks that none of the paths restore writes exists in home (tls/ if tls). */
static int
check_target(const char *home, bool tls, struct ch_err *err)
{
	static const struct {
		const char *name, *what;
	} paths[] = {
		{"config.json", "config.json"},
		{"data", "a data directory"},
		{"genesis.json", "genesis.json"},
		{"validator.pem", "a validator key"},
		{"votes-a", "a vote record"},
		{"votes-b", "a vote record"},
		{"tls", "tls/"},
	};
	char path[PATH_CAP];
	struct stat st;
	if (lstat(home, &st) == 0 && !S_ISDIR(st.st_mode))
		return ch_errf(err, CH_E_EXISTS, "%s exists and is not a directory", home);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int rc = join(path, home, paths[i].name, err);
		if (rc != 0)
			return rc;
		if ((tls || strcmp(paths[i].name, "tls") != 0) && exists(path))
			return ch_errf(
				err, CH_E_EXISTS,
				"%s already holds %s (%s): restore makes a new home, it does "
				"not write over one",
				home, paths[i].what, path);
	}
	return 0;
}

static int
restore(const struct restore_opts *o, struct ch_err *err)
{
	struct backup_info b;
	struct node_config cfg;
	struct chain_genesis g;
	struct chain_tip tip;
	struct restore_key k;
	struct made made = {.n = 0};
	char genesis[PATH_CAP], data[PATH_CAP], path[PATH_CAP], own_key[PATH_CAP];
	uint8_t sha[CR_HASH_LEN];
	uint64_t keys = 0;
	bool tls = false;
	int rc;
	memset(&g, 0, sizeof(g));
	ch_buf_init(&k.rec.rec);
	k.rec.found = false;
	k.key = NULL;
	/* everything is checked before anything is written */
	if ((rc = read_backup_json(o->from, &b, err)) != 0 ||
	    (rc = node_config_load(&cfg, o->from, err)) != 0 ||
	    (rc = join(genesis, o->from, "genesis.json", err)) != 0 ||
	    (rc = join(data, o->from, "data", err)) != 0 ||
	    (rc = file_sha256(genesis, sha, err)) != 0)
		goto out;
	if (memcmp(sha, b.genesis_sha, CR_HASH_LEN) != 0) {
		rc = ch_errf(err, CH_E_CORRUPT,
			     "%s is not the genesis file the backup was taken with", genesis);
		goto out;
	}
	if ((rc = chain_genesis_load(&g, genesis, err)) != 0)
		goto out;
	if (strcmp(g.chain_id, b.chain_id) != 0) {
		rc = ch_errf(err, CH_E_CORRUPT, "%s is chain %s's, the backup says %s", genesis,
			     g.chain_id, b.chain_id);
		goto out;
	}
	for (size_t i = 0; i < NTLS; i++)
		tls = tls || tls_path(&cfg, i)[0] != '\0';
	if ((rc = check_target(o->home, tls, err)) != 0 ||
	    (rc = choose_key(o, &b, &g, &k, own_key, err)) != 0)
		goto out;

	if (!exists(o->home)) {
		if ((rc = make_dir(o->home, err)) != 0)
			goto out;
		made_add(&made, o->home);
	}
	/* the new config: the backup's settings, every file inside the new home */
	snprintf(cfg.home, sizeof(cfg.home), "%s", o->home);
	if ((rc = join(cfg.data_dir, o->home, "data", err)) != 0 ||
	    (rc = join(cfg.genesis_file, o->home, "genesis.json", err)) != 0 ||
	    (rc = join(cfg.key_file, o->home, "validator.pem", err)) != 0)
		goto out;
	made_add(&made, cfg.data_dir);
	if ((rc = chain_store_backup(data, cfg.data_dir, &keys, err)) != 0 ||
	    (rc = check_store(cfg.data_dir, &g, &tip, &keys, err)) != 0)
		goto out;
	if (tip.height != b.tip_height || memcmp(tip.hash, b.tip_hash, CR_HASH_LEN) != 0) {
		rc = ch_errf(err, CH_E_CORRUPT,
			     "%s ends at height %" PRIu64
			     ", not at the tip backup.json names (%" PRIu64 ")",
			     data, tip.height, b.tip_height);
		goto out;
	}
	made_add(&made, cfg.genesis_file);
	if ((rc = copy_file(genesis, cfg.genesis_file, 0644, NULL, err)) != 0)
		goto out;
	if (tls) {
		if ((rc = join(path, o->home, "tls", err)) != 0 || (rc = make_dir(path, err)) != 0)
			goto out;
		made_add(&made, path);
	}
	for (size_t i = 0; i < NTLS; i++) {
		char *dst = tls_path(&cfg, i);
		if (dst[0] == '\0')
			continue;
		if ((rc = join(path, o->from, tls_files[i].name, err)) != 0 ||
		    (rc = join(dst, o->home, tls_files[i].name, err)) != 0 ||
		    (rc = copy_file(path, dst, tls_files[i].mode, NULL, err)) != 0)
			goto out;
	}
	if (k.key != NULL) {
		made_add(&made, cfg.key_file);
		if ((rc = copy_file(k.key, cfg.key_file, 0600, NULL, err)) != 0)
			goto out;
		for (int i = 0; i < 2; i++) {
			if ((rc = join(path, o->home, i == 0 ? "votes-a" : "votes-b", err)) != 0)
				goto out;
			made_add(&made, path);
		}
		if ((rc = write_votes(o->home, &k.rec, err)) != 0)
			goto out;
	}
	/* config.json last: a home without it is not one chaind starts */
	if ((rc = join(path, o->home, "config.json", err)) != 0)
		goto out;
	made_add(&made, path);
	if ((rc = node_config_save(&cfg, err)) != 0 ||
	    (rc = join(path, o->home, "tls", err)) != 0 ||
	    (tls && (rc = sync_dir(path, err)) != 0) || (rc = sync_dir(o->home, err)) != 0)
		goto out;

	char h[17], vd[80];
	cr_hex_encode(tip.hash, 8, h);
	describe_votes(&k.rec, vd, sizeof(vd));
	printf("restored %s from %s: chain %s at height %" PRIu64 " (%s...), %" PRIu64 " records\n",
	       o->home, o->from, g.chain_id, tip.height, tip.height ? h : "genesis", keys);
	if (k.key == NULL) {
		printf("  no validator key: put the key at %s and its vote record (votes-a, "
		       "votes-b, "
		       "moved from the stopped validator) beside config.json before starting\n",
		       cfg.key_file);
	} else if (o->key != NULL) {
		log_info("restore: key %s with the vote record of %s (%s)", o->key, o->votes, vd);
		printf("  with the key %s and the vote record of %s (%s); remove both from there "
		       "now: the old home must never start again\n",
		       o->key, o->votes, vd);
	} else {
		printf("  with the key and vote record saved in the backup (%s)\n", vd);
	}
	printf("start it with: chaind start --home %s (it syncs the rest from its peers)\n",
	       o->home);
out:
	ch_buf_close(&k.rec.rec);
	chain_genesis_close(&g);
	if (rc != 0)
		made_undo(&made);
	return rc;
}

int
node_cmd_restore(int argc, char **argv)
{
	struct restore_opts o = {NULL, NULL, NULL, NULL};
	const struct node_opt opts[] = {
		{"--from", NODE_OPT_STRING, 0, 0, &o.from, NULL},
		{"--home", NODE_OPT_STRING, 0, 0, &o.home, NULL},
		{"--key", NODE_OPT_STRING, 0, 0, &o.key, NULL},
		{"--votes", NODE_OPT_STRING, 0, 0, &o.votes, NULL},
	};
	int rc = node_parse_opts("restore", argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
				 restore_usage);
	if (rc != 0)
		return rc == 1 ? 0 : 2;
	if (o.from == NULL || o.home == NULL) {
		fprintf(stderr, "chaind restore: --from DEST and --home NEWHOME are required (see "
				"--help)\n");
		return 2;
	}
	if (o.votes != NULL && o.key == NULL) {
		fprintf(stderr, "chaind restore: --votes DIR goes with --key FILE (see --help)\n");
		return 2;
	}
	if (o.key != NULL && o.votes == NULL) {
		fprintf(stderr,
			"chaind restore: refusing --key without --votes: a validator key must come "
			"with its vote record (votes-a, votes-b of its home), or the restored "
			"validator can sign a second, conflicting vote\n");
		return 1;
	}
	struct ch_err err;
	ch_err_clear(&err);
	if (restore(&o, &err) != 0) {
		fprintf(stderr, "chaind restore: %s\n", ch_err_msg(&err));
		return 1;
	}
	return 0;
}
