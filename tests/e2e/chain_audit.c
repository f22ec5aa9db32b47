/*
 * chain-audit: checks the data directories of a stopped network against the
 * promises of the chain, for the end-to-end tests. It replays the first
 * directory's chain from genesis and checks, block by block:
 *   - links: height, parent hash, transaction root, chain id;
 *   - every transaction signature, and execution in order: each sender's
 *     nonces run 0, 1, 2, ... with no gap, no overspending;
 *   - the state digest in each header against the replayed state;
 *   - the commit certificate of every directory: a quorum (of the chain's
 *     engine) of valid votes for exactly this block, by the validator set in
 *     force at its height as the replayed state says (the genesis's, then
 *     each set the chain's validator changes scheduled: chain/valset.h);
 *   - safety: every other directory holds the same block at each height it
 *     has;
 * and at the end: each directory's tip and state against the replay, total
 * supply equal to genesis's, and every transaction hash listed in the
 * --acked file (one hex hash per line) committed in every directory.
 * Usage: chain-audit GENESIS [--acked FILE] [--same-tip] DATADIR...
 * Prints what it checked; exit status 0 when nothing is violated, 1 when
 * something is (each violation is printed), 2 on bad usage or unreadable
 * input.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/block.h"
#include "chain/genesis.h"
#include "chain/rules.h"
#include "chain/state.h"
#include "chain/store.h"
#include "chain/tx.h"
#include "chain/valset.h"
#include "node/engine.h"

#define MAX_DIRS 16
#define BUCKETS 4096

/* The replayed state: accounts and data values in a chained hash table. */
struct acct {
	uint8_t addr[CR_ADDR_LEN];
	struct chain_account a;
	struct acct *next;
};
struct datum {
	uint8_t owner[CR_ADDR_LEN];
	char name[CHAIN_MAX_NAME + 1];
	uint8_t *value;
	size_t len;
	struct datum *next;
};
struct state {
	struct acct *accts[BUCKETS];
	struct datum *data[BUCKETS];
	size_t naccts;
};

struct audit {
	struct state st;
	long violations;
	long safety; /* heights at which two directories hold different blocks */
	long missing; /* acknowledged transactions absent from some directory */
	struct node_engine_rules rules; /* of the genesis's engine: the certificates' quorum */
};

static unsigned
bucket(const uint8_t *p, size_t n)
{
	unsigned h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % BUCKETS;
}

static struct acct *
acct_find(struct state *st, const uint8_t addr[CR_ADDR_LEN], int create)
{
	struct acct **head = &st->accts[bucket(addr, CR_ADDR_LEN)];
	for (struct acct *a = *head; a != NULL; a = a->next)
		if (memcmp(a->addr, addr, CR_ADDR_LEN) == 0)
			return a;
	if (!create)
		return NULL;
	struct acct *a = calloc(1, sizeof(*a));
	if (a == NULL)
		abort();
	memcpy(a->addr, addr, CR_ADDR_LEN);
	a->next = *head;
	*head = a;
	st->naccts++;
	return a;
}

static struct datum *
datum_find(struct state *st, const uint8_t owner[CR_ADDR_LEN], const char *name, int create)
{
	struct datum **head = &st->data[bucket(owner, CR_ADDR_LEN)];
	for (struct datum *d = *head; d != NULL; d = d->next)
		if (memcmp(d->owner, owner, CR_ADDR_LEN) == 0 && strcmp(d->name, name) == 0)
			return d;
	if (!create)
		return NULL;
	struct datum *d = calloc(1, sizeof(*d));
	if (d == NULL)
		abort();
	memcpy(d->owner, owner, CR_ADDR_LEN);
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->next = *head;
	*head = d;
	return d;
}

static void
state_free(struct state *st)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct acct *a = st->accts[i], *n; a != NULL; a = n) {
			n = a->next;
			free(a);
		}
		for (struct datum *d = st->data[i], *n; d != NULL; d = n) {
			n = d->next;
			free(d->value);
			free(d);
		}
	}
}

/* The replayed state as the base of a chain_exec overlay. */
static int
rd_account(void *arg, const uint8_t addr[CR_ADDR_LEN], struct chain_account *out,
	   struct ch_err *err)
{
	(void)err;
	struct acct *a = acct_find(arg, addr, 0);
	*out = a ? a->a : (struct chain_account){0, 0};
	return 0;
}

static int
rd_data(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name, struct ch_buf *value,
	bool *found, struct ch_err *err)
{
	(void)err;
	struct datum *d = datum_find(arg, owner, name, 0);
	*found = d != NULL;
	if (d != NULL)
		ch_buf_put(value, d->value, d->len);
	return 0;
}

static void
put_acct(void *arg, const uint8_t addr[CR_ADDR_LEN], const struct chain_account *acct)
{
	acct_find(arg, addr, 1)->a = *acct;
}

static void
put_datum(void *arg, const uint8_t owner[CR_ADDR_LEN], const char *name, const uint8_t *value,
	  size_t len)
{
	struct datum *d = datum_find(arg, owner, name, 1);
	free(d->value);
	d->value = malloc(len + 1);
	if (d->value == NULL)
		abort();
	memcpy(d->value, value, len);
	d->len = len;
}

static void
merge(struct state *st, const struct chain_exec *x)
{
	chain_exec_foreach_account(x, put_acct, st);
	chain_exec_foreach_data(x, put_datum, st);
}

static void
violation(struct audit *a, const char *fmt, ...)
{
	va_list ap;
	if (++a->violations > 50)
		return;
	printf("VIOLATION: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void
hex32(const uint8_t *h, char out[2 * CR_HASH_LEN + 1])
{
	cr_hex_encode(h, CR_HASH_LEN, out);
}

struct dir {
	const char *path;
	struct chain_store *s;
	struct chain_tip tip;
};

/* check_cert decodes and verifies the certificate a directory holds for block b, by set vs. */
static void
check_cert(struct audit *a, const struct chain_genesis *g, const struct chain_valset *vs,
	   const struct dir *d, const struct chain_block *b, const struct ch_buf *certbuf)
{
	struct chain_cert c;
	struct ch_err e;
	struct node_engine_rules rules;
	uint8_t pubs[CHAIN_MAX_VALIDATORS][CR_PUBKEY_LEN];
	for (size_t i = 0; i < vs->n; i++)
		memcpy(pubs[i], vs->m[i].pub_key, CR_PUBKEY_LEN);
	ch_err_clear(&e);
	if (node_engine_rules_of(g->params.engine, vs->n, &rules, &e) != 0) {
		violation(a, "height %" PRIu64 ": %s", b->header.height, ch_err_msg(&e));
		return;
	}
	if (chain_cert_decode(certbuf->data, certbuf->len, &c, &e) != 0)
		violation(a, "%s: height %" PRIu64 ": certificate does not decode: %s", d->path,
			  b->header.height, ch_err_msg(&e));
	else if (c.height != b->header.height || memcmp(c.block_hash, b->hash, CR_HASH_LEN) != 0)
		violation(a, "%s: height %" PRIu64 ": certificate is for another block", d->path,
			  b->header.height);
	else if (chain_cert_verify(&c, (const uint8_t(*)[CR_PUBKEY_LEN])pubs, vs->n, rules.quorum,
				   &e) != 0)
		violation(a, "%s: height %" PRIu64 ": certificate: %s", d->path, b->header.height,
			  ch_err_msg(&e));
}

/*
 * replay_block checks block b on top of the replayed chain (tip) with the
 * rules validators apply, and executes it into the replayed state; false
 * (and a violation) if it breaks a rule: the replay cannot go past it.
 */
static bool
replay_block(struct audit *a, const struct chain_genesis *g, const struct chain_valset *vs,
	     const struct chain_block *b, struct chain_tip *tip, uint64_t *ntx)
{
	struct chain_rules rules;
	struct chain_base base = {.tip = *tip, .state = {rd_account, rd_data, &a->st}};
	struct chain_exec *x = NULL;
	struct ch_err e;
	ch_err_clear(&e);
	chain_rules_init(&rules, g);
	uint32_t proposer = node_engine_proposer_of(g->params.engine, b->header.view, vs->n);
	if (chain_block_check(&rules, &base, b, proposer, UINT64_MAX, &x, &e) != 0) {
		violation(a, "height %" PRIu64 ": %s", tip->height + 1, ch_err_msg(&e));
		return false;
	}
	*ntx += b->header.tx_count;
	uint8_t next[CR_HASH_LEN];
	chain_exec_digest(x, tip->state_digest, next);
	tip->height = b->header.height;
	memcpy(tip->hash, b->hash, CR_HASH_LEN);
	memcpy(tip->state_digest, next, CR_HASH_LEN);
	tip->time_ms = b->header.time_ms;
	merge(&a->st, x);
	chain_exec_free(x);
	return true;
}

/* genesis_state credits the allocations: the tip at height 0 and the supply. */
static void
genesis_state(struct audit *a, const struct chain_genesis *g, struct chain_tip *tip,
	      uint64_t *supply)
{
	struct chain_state_reader rd = {rd_account, rd_data, &a->st};
	struct chain_exec *x = NULL;
	struct ch_err e;
	memset(tip, 0, sizeof(*tip));
	tip->time_ms = g->genesis_time_ms;
	*supply = 0;
	for (size_t i = 0; i < g->naccounts; i++)
		if (__builtin_add_overflow(*supply, g->accounts[i].balance, supply)) {
			fprintf(stderr, "chain-audit: genesis supply overflows\n");
			exit(2);
		}
	if (chain_genesis_state(g, &rd, &x, tip->state_digest, &e) != 0) {
		fprintf(stderr, "chain-audit: genesis state: %s\n", ch_err_msg(&e));
		exit(2);
	}
	merge(&a->st, x);
	chain_exec_free(x);
}

/* check_final compares a directory at the replayed height with the replayed state. */
static void
check_final(struct audit *a, const struct dir *d, const uint8_t digest[CR_HASH_LEN])
{
	struct chain_state_reader rd = chain_store_reader(d->s);
	struct ch_err e;
	if (memcmp(d->tip.state_digest, digest, CR_HASH_LEN) != 0)
		violation(a, "%s: tip state digest differs from the replayed state", d->path);
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct acct *ac = a->st.accts[i]; ac != NULL; ac = ac->next) {
			struct chain_account got;
			ch_err_clear(&e);
			if (rd.get_account(rd.arg, ac->addr, &got, &e) != 0 ||
			    got.balance != ac->a.balance || got.nonce != ac->a.nonce) {
				char hex[2 * CR_ADDR_LEN + 1];
				cr_hex_encode(ac->addr, CR_ADDR_LEN, hex);
				violation(a, "%s: account %s differs from the replayed state", d->path,
					  hex);
			}
		}
}

/* check_acked finds every listed transaction hash in every directory. */
static long
check_acked(struct audit *a, const char *file, struct dir *dirs, size_t ndirs)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		perror(file);
		exit(2);
	}
	char line[256];
	long n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n \t")] = '\0';
		uint8_t h[CR_HASH_LEN];
		if (line[0] == '\0')
			continue;
		if (cr_hex_decode_exact(line, h, CR_HASH_LEN) != 0) {
			fprintf(stderr, "chain-audit: %s: not a hash: %s\n", file, line);
			exit(2);
		}
		n++;
		bool lost = false;
		for (size_t k = 0; k < ndirs; k++) {
			uint64_t height;
			uint32_t index;
			struct ch_buf blk, cert;
			struct chain_block b;
			struct ch_err e;
			ch_buf_init(&blk);
			ch_buf_init(&cert);
			ch_err_clear(&e);
			int found = chain_store_tx_location(dirs[k].s, h, &height, &index, &e) == 0 &&
				    height <= dirs[k].tip.height &&
				    chain_store_block(dirs[k].s, height, &blk, &cert, &e) == 0 &&
				    chain_block_decode(blk.data, blk.len, &b, &e) == 0;
			if (found) {
				found = index < b.header.tx_count &&
					memcmp(b.txs[index].hash, h, CR_HASH_LEN) == 0;
				chain_block_close(&b);
			}
			if (!found) {
				violation(a, "%s: acknowledged tx %s is not in the chain", dirs[k].path,
					  line);
				lost = true;
			}
			ch_buf_close(&blk);
			ch_buf_close(&cert);
		}
		a->missing += lost;
	}
	fclose(f);
	return n;
}

static int
usage(void)
{
	fprintf(stderr, "usage: chain-audit GENESIS [--acked FILE] [--same-tip] DATADIR...\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct audit a;
	struct chain_genesis g;
	struct dir dirs[MAX_DIRS];
	size_t ndirs = 0;
	const char *acked = NULL;
	bool same_tip = false;
	struct ch_err e;
	memset(&a, 0, sizeof(a));
	memset(dirs, 0, sizeof(dirs));
	if (argc < 3)
		return usage();
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--acked") == 0 && i + 1 < argc)
			acked = argv[++i];
		else if (strcmp(argv[i], "--same-tip") == 0)
			same_tip = true;
		else if (argv[i][0] == '-' || ndirs == MAX_DIRS)
			return usage();
		else
			dirs[ndirs++].path = argv[i];
	}
	if (ndirs == 0)
		return usage();
	ch_err_clear(&e);
	if (chain_genesis_load(&g, argv[1], &e) != 0 ||
	    node_engine_rules_of(g.params.engine, (uint32_t)g.nvalidators, &a.rules, &e) != 0) {
		fprintf(stderr, "chain-audit: %s\n", ch_err_msg(&e));
		return 2;
	}
	uint64_t max_tip = 0;
	for (size_t k = 0; k < ndirs; k++) {
		if (chain_store_open(&dirs[k].s, dirs[k].path, &e) != 0 ||
		    chain_store_tip(dirs[k].s, &dirs[k].tip, &e) != 0) {
			fprintf(stderr, "chain-audit: %s: %s\n", dirs[k].path, ch_err_msg(&e));
			return 2;
		}
		if (dirs[k].tip.height > max_tip)
			max_tip = dirs[k].tip.height;
		if (same_tip && dirs[k].tip.height != dirs[0].tip.height)
			violation(&a, "%s is at height %" PRIu64 ", %s at %" PRIu64, dirs[k].path,
				  dirs[k].tip.height, dirs[0].path, dirs[0].tip.height);
	}
	/* The replay follows the longest chain; the others must be its prefixes. */
	size_t ref = 0;
	for (size_t k = 0; k < ndirs; k++)
		if (dirs[k].tip.height == max_tip) {
			ref = k;
			break;
		}
	struct chain_tip tip;
	uint64_t supply, ntx = 0, nsets = 0;
	struct chain_valset *vs = malloc(sizeof(*vs));
	if (vs == NULL) {
		fprintf(stderr, "chain-audit: out of memory\n");
		return 2;
	}
	genesis_state(&a, &g, &tip, &supply);
	for (uint64_t h = 1; h <= max_tip; h++) {
		struct ch_buf blk, cert;
		struct chain_block b;
		ch_buf_init(&blk);
		ch_buf_init(&cert);
		if (chain_store_block(dirs[ref].s, h, &blk, &cert, &e) != 0 ||
		    chain_block_decode(blk.data, blk.len, &b, &e) != 0) {
			violation(&a, "%s: block %" PRIu64 " below its tip: %s", dirs[ref].path, h,
				  ch_err_msg(&e));
			ch_buf_close(&blk);
			ch_buf_close(&cert);
			break;
		}
		/* the set in force at h, as the state before it says */
		struct chain_state_reader rd = {rd_account, rd_data, &a.st};
		if (chain_valset_at(&rd, h, vs, &e) != 0) {
			violation(&a, "height %" PRIu64 ": no validator set: %s", h, ch_err_msg(&e));
			chain_block_close(&b);
			ch_buf_close(&blk);
			ch_buf_close(&cert);
			break;
		}
		if (vs->start == h && h > 1)
			printf("chain-audit: a validator set of %u rules from height %" PRIu64 "\n",
			       vs->n, h);
		nsets += vs->start == h;
		bool valid = replay_block(&a, &g, vs, &b, &tip, &ntx);
		for (size_t k = 0; k < ndirs && valid; k++) {
			struct ch_buf other, ocert;
			/* A lower tip's state is the one this block's header names. */
			if (h == dirs[k].tip.height + 1 &&
			    memcmp(dirs[k].tip.state_digest, b.header.state_digest, CR_HASH_LEN) != 0)
				violation(&a, "%s: tip state digest differs from the replayed state",
					  dirs[k].path);
			if (h > dirs[k].tip.height)
				continue;
			ch_buf_init(&other);
			ch_buf_init(&ocert);
			if (chain_store_block(dirs[k].s, h, &other, &ocert, &e) != 0)
				violation(&a, "%s: block %" PRIu64 " below its tip: %s", dirs[k].path,
					  h, ch_err_msg(&e));
			else if (other.len != blk.len || memcmp(other.data, blk.data, blk.len) != 0) {
				a.safety++;
				violation(&a, "SAFETY: %s and %s hold different blocks at height %" PRIu64,
					  dirs[k].path, dirs[ref].path, h);
			} else
				check_cert(&a, &g, vs, &dirs[k], &b, &ocert);
			if (h == dirs[k].tip.height && memcmp(dirs[k].tip.hash, b.hash, CR_HASH_LEN))
				violation(&a, "%s: tip hash is not block %" PRIu64 "'s", dirs[k].path, h);
			ch_buf_close(&other);
			ch_buf_close(&ocert);
		}
		chain_block_close(&b);
		ch_buf_close(&blk);
		ch_buf_close(&cert);
		if (!valid)
			break;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct acct *ac = a.st.accts[i]; ac != NULL; ac = ac->next)
			if (__builtin_add_overflow(total, ac->a.balance, &total))
				violation(&a, "total balance overflows");
	if (total != supply)
		violation(&a, "total supply is %" PRIu64 ", genesis made %" PRIu64, total, supply);
	for (size_t k = 0; k < ndirs; k++)
		if (dirs[k].tip.height == max_tip)
			check_final(&a, &dirs[k], tip.state_digest);
	long nacked = acked ? check_acked(&a, acked, dirs, ndirs) : 0;
	for (size_t k = 0; k < ndirs; k++) {
		char hex[2 * CR_HASH_LEN + 1];
		hex32(dirs[k].tip.hash, hex);
		printf("%s: height %" PRIu64 " tip %s\n", dirs[k].path, dirs[k].tip.height, hex);
	}
	printf("audit: %zu directories, %" PRIu64 " blocks, %" PRIu64
	       " transactions, %zu accounts, supply %" PRIu64 ", %ld acknowledged "
	       "transactions looked up, %ld missing, %" PRIu64 " validator sets, "
	       "%ld safety violations, %ld violations\n",
	       ndirs, max_tip, ntx, a.st.naccts, total, nacked, a.missing, nsets, a.safety,
	       a.violations);
	free(vs);
	for (size_t k = 0; k < ndirs; k++)
		chain_store_close(dirs[k].s);
	chain_genesis_close(&g);
	state_free(&a.st);
	return a.violations > 0;
}
