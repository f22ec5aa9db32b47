/*
 * gen_peer_seeds DIR: writes fuzz_peer's seed corpus into DIR (normally
 * tests/fuzz/corpus/fuzz_peer): one well-formed message of each peer
 * message type, made with the peer codec (node/peer_msg.h) and signed with
 * the keys of the fixed network (fuzz_net.h) so that they pass the
 * validator's checks, and malformed variants.
 *
 * The consensus seeds run one height of PBFT at validator FUZZ_SELF
 * (PREPAREs and COMMITs of validators 0, 2, 3, then the primary's
 * PRE-PREPARE of block 1, which the validator checks and commits). The block
 * answers carry block 1 and block 2 with commit certificates (block 2 still
 * commits by state transfer after block 1 committed by consensus).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/rules.h"
#include "fuzz_net.h"
#include "pbft/pbft.h"
#include "testchain.h"

static const char *out_dir;
static struct cr_key *vkey[FUZZ_VALIDATORS], *akey[FUZZ_ACCOUNTS];

static void
die(const char *what, const struct ch_err *e)
{
	fprintf(stderr, "gen_peer_seeds: %s: %s\n", what, e != NULL ? ch_err_msg(e) : "failed");
	exit(1);
}

static void
write_seed(const char *name, const void *data, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die(path, NULL);
}

static void
write_text(const char *name, const char *text)
{
	write_seed(name, text, strlen(text));
}

/* write_msg writes m as a message text. */
static void
write_msg(const char *name, const struct peer_msg *m)
{
	struct ch_buf b;
	ch_buf_init(&b);
	peer_msg_encode(m, &b);
	if (!ch_buf_ok(&b))
		die("out of memory", NULL);
	write_seed(name, b.data, b.len);
	ch_buf_close(&b);
}

/* write_payload writes a binary payload after a mode byte of fuzz_peer.c. */
static void
write_payload(const char *name, uint8_t mode, const uint8_t *p, size_t len)
{
	struct ch_buf b;
	ch_buf_init(&b);
	ch_buf_u8(&b, mode);
	ch_buf_put(&b, p, len);
	write_seed(name, b.data, b.len);
	ch_buf_close(&b);
}

/* payload_of appends m's binary payload to out. */
static void
payload_of(const struct peer_msg *m, struct ch_buf *out)
{
	peer_msg_encode_payload(m, out);
	if (!ch_buf_ok(out))
		die("out of memory", NULL);
}

/* ---- consensus messages ---- */

static void
sign_msg(struct pbft_msg *m, uint32_t from)
{
	struct ch_buf sb;
	uint8_t d[CR_HASH_LEN];
	m->from = from;
	ch_buf_init(&sb);
	pbft_msg_signed_bytes(m, &sb);
	cr_sha256(sb.data, sb.len, d);
	if (cr_sign(vkey[from], d, m->sig, NULL) != 0)
		die("signing", NULL);
	ch_buf_close(&sb);
}

static void
vote(struct pbft_msg *m, uint8_t type, uint32_t from, uint64_t height, const uint8_t digest[32])
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->height = height;
	memcpy(m->digest, digest, CR_HASH_LEN);
	sign_msg(m, from);
}

/* consensus_seed writes m as a consensus message (text), or its payload (mode 0x01). */
static void
consensus_seed(const char *name, const struct pbft_msg *m, bool raw)
{
	struct ch_buf enc, pl;
	ch_buf_init(&enc);
	ch_buf_init(&pl);
	pbft_msg_encode(m, &enc);
	struct peer_msg pm = {.type = PEER_CONSENSUS, .engine = enc.data, .engine_len = enc.len};
	if (raw) {
		payload_of(&pm, &pl);
		write_payload(name, 0x01, pl.data, pl.len);
	} else {
		write_msg(name, &pm);
	}
	ch_buf_close(&enc);
	ch_buf_close(&pl);
}

/* ---- transactions and blocks ---- */

static void
make_tx(struct chain_tx *tx, const char *chain_id, unsigned account, bool transfer)
{
	memset(tx, 0, sizeof(*tx));
	snprintf(tx->chain_id, sizeof(tx->chain_id), "%s", chain_id);
	if (transfer) {
		uint8_t pub[CR_PUBKEY_LEN];
		cr_key_pubkey(akey[1 - account], pub);
		tx->type = CHAIN_TX_TRANSFER;
		cr_address(pub, tx->to);
		tx->amount = 1000;
	} else {
		tx->type = CHAIN_TX_SET;
		snprintf(tx->name, sizeof(tx->name), "fuzz/peer");
		tx->value_len = 4;
		memcpy(tx->value, "seed", 4);
	}
	struct ch_err e;
	if (chain_tx_sign(tx, akey[account], &e) != 0)
		die("signing a transaction", &e);
}

/* certify: the commit certificate of validators 0, 2 and 3 (a quorum of 4) for b. */
static void
certify(const struct chain_block *b, struct chain_cert *c, struct ch_buf *enc)
{
	static const uint32_t who[] = {0, 2, 3};
	memset(c, 0, sizeof(*c));
	c->height = b->header.height;
	c->view = 0;
	memcpy(c->block_hash, b->hash, CR_HASH_LEN);
	c->count = 3;
	for (int i = 0; i < 3; i++) {
		struct pbft_msg m;
		vote(&m, PBFT_COMMIT, who[i], c->height, b->hash);
		c->votes[i].validator = (uint16_t)who[i];
		memcpy(c->votes[i].sig, m.sig, CR_SIG_LEN);
	}
	ch_buf_init(enc);
	chain_cert_encode(c, enc);
}

/* next_block makes the block after store's tip holding tx, proposed by view 0's primary, and commits it. */
static void
next_block(struct chain_store *store, const struct chain_genesis *g, struct chain_tx *tx,
	   struct chain_block *b, struct ch_buf *enc, struct chain_cert *c, struct ch_buf *cenc)
{
	struct chain_rules rules;
	struct chain_base base = {.state = chain_store_reader(store)};
	struct chain_exec *x = NULL;
	struct ch_err e;
	uint8_t digest[CR_HASH_LEN];
	chain_rules_init(&rules, g);
	if (chain_store_tip(store, &base.tip, &e) != 0)
		die("the tip", &e);
	memset(b, 0, sizeof(*b));
	struct chain_header *h = &b->header;
	snprintf(h->chain_id, sizeof(h->chain_id), "%s", g->chain_id);
	h->height = base.tip.height + 1;
	memcpy(h->prev_hash, base.tip.hash, CR_HASH_LEN);
	h->time_ms = g->genesis_time_ms + 1000 * h->height;
	memcpy(h->state_digest, base.tip.state_digest, CR_HASH_LEN);
	h->tx_count = 1;
	b->txs = tx;
	chain_block_seal(b);
	ch_buf_init(enc);
	chain_block_encode(b, enc);
	certify(b, c, cenc);
	if (chain_block_check(&rules, &base, b, 0, UINT64_MAX, &x, &e) != 0)
		die("a seed block", &e);
	chain_exec_digest(x, base.tip.state_digest, digest);
	if (chain_store_commit(store, b, c, x, digest, &e) != 0)
		die("committing a seed block", &e);
	chain_exec_free(x);
}

/* ---- the seeds ---- */

static void
consensus_seeds(const struct chain_block *b1, const struct ch_buf *b1enc)
{
	struct pbft_msg m;
	uint8_t pp_sig[CR_SIG_LEN];
	struct pbft_vote prep[2];

	vote(&m, PBFT_PREPARE, 2, 1, b1->hash);
	consensus_seed("consensus_prepare_2.json", &m, false);
	prep[0].from = 2;
	memcpy(prep[0].sig, m.sig, CR_SIG_LEN);
	vote(&m, PBFT_PREPARE, 3, 1, b1->hash);
	consensus_seed("consensus_prepare_3.json", &m, false);
	prep[1].from = 3;
	memcpy(prep[1].sig, m.sig, CR_SIG_LEN);
	vote(&m, PBFT_COMMIT, 0, 1, b1->hash);
	consensus_seed("consensus_commit_0.json", &m, false);
	vote(&m, PBFT_COMMIT, 2, 1, b1->hash);
	consensus_seed("consensus_commit_2.json", &m, false);
	vote(&m, PBFT_COMMIT, 3, 1, b1->hash);
	consensus_seed("consensus_commit_3.json", &m, false);

	/* a PREPARE claiming validator 2 but signed by 3 */
	vote(&m, PBFT_PREPARE, 3, 1, b1->hash);
	m.from = 2;
	consensus_seed("consensus_prepare_badsig.json", &m, false);

	/* a CHECKPOINT at the first checkpoint height, with a made-up state digest */
	memset(&m, 0, sizeof(m));
	m.type = PBFT_CHECKPOINT;
	m.height = 100;
	memset(m.digest, 0xab, CR_HASH_LEN);
	sign_msg(&m, 2);
	consensus_seed("consensus_checkpoint_2.json", &m, false);

	/* the primary's PRE-PREPARE of block 1 (the block is not under the signature) */
	memset(&m, 0, sizeof(m));
	m.type = PBFT_PREPREPARE;
	m.height = 1;
	memcpy(m.digest, b1->hash, CR_HASH_LEN);
	m.block = b1enc->data;
	m.block_len = b1enc->len;
	sign_msg(&m, 0);
	memcpy(pp_sig, m.sig, CR_SIG_LEN);
	consensus_seed("consensus_preprepare_0.json", &m, false);
	consensus_seed("raw_preprepare_0.bin", &m, true);

	/* VIEW-CHANGEs to view 1 with the prepared certificate of block 1 and the block */
	for (uint32_t from = 2; from <= 3; from++) {
		memset(&m, 0, sizeof(m));
		m.type = PBFT_VIEWCHANGE;
		m.view = 1;
		m.has_prepared = true;
		m.p_view = 0;
		memcpy(m.p_digest, b1->hash, CR_HASH_LEN);
		memcpy(m.p_sig, pp_sig, CR_SIG_LEN);
		m.nprep = 2;
		m.prep = prep;
		m.block = b1enc->data;
		m.block_len = b1enc->len;
		sign_msg(&m, from);
		consensus_seed(from == 2 ? "consensus_viewchange_2.json" : "raw_viewchange_3.bin", &m,
			       from == 3);
	}

	static const uint8_t garbled[] = {PEER_MSG_VERSION, PEER_CONSENSUS, 2, 0, 2, 0, 0, 0, 1};
	write_payload("raw_consensus_garbled.bin", 0x01, garbled, sizeof(garbled));
	write_text("consensus_msg_number.json",
		   "{\"jsonrpc\":\"2.0\",\"method\":\"consensus\",\"params\":{\"msg\":42}}");
}

static void
tx_seeds(const struct chain_tx *tx0, const struct chain_tx *tx1)
{
	struct chain_tx two[2] = {*tx0, *tx1}, bad;
	struct peer_msg m = {.type = PEER_TXS, .txs = two, .ntxs = 2};
	struct ch_buf pl;
	write_msg("txs.json", &m);
	ch_buf_init(&pl);
	payload_of(&m, &pl);
	write_payload("raw_txs.bin", 0x01, pl.data, pl.len);
	/* a count the bytes cannot hold */
	pl.data[2] = 0x7f;
	write_payload("raw_txs_count.bin", 0x01, pl.data, pl.len);
	ch_buf_close(&pl);

	/* changed after signing: the signature fails */
	bad = *tx0;
	bad.amount = 2000;
	m = (struct peer_msg){.type = PEER_TXS, .txs = &bad, .ntxs = 1};
	write_msg("txs_badsig.json", &m);

	/* well signed, for another chain */
	make_tx(&bad, "other-chain", 0, true);
	write_msg("txs_other_chain.json", &m);

	write_text("txs_not_base64.json",
		   "{\"jsonrpc\":\"2.0\",\"method\":\"txs\",\"params\":{\"msg\":\"!!\"}}");
}

static void
answer_seeds(const struct ch_buf *b1, const struct ch_buf *c1, const struct ch_buf *b2,
	     const struct ch_buf *c2)
{
	struct peer_block blocks[2] = {{b1->data, b1->len, c1->data, c1->len},
				       {b2->data, b2->len, c2->data, c2->len}};
	/* the answer to a first request (id 0, the validator's first request id here) */
	struct peer_msg m = {.type = PEER_BLOCKS, .id = 0, .height = 2, .blocks = blocks,
			     .nblocks = 2};
	write_msg("blocks.json", &m);
	/* mode 0x02: block 2 alone, answering whatever the validator asked last */
	struct ch_buf pl;
	ch_buf_init(&pl);
	m = (struct peer_msg){.type = PEER_BLOCKS, .height = 3, .blocks = &blocks[1], .nblocks = 1};
	payload_of(&m, &pl);
	write_payload("raw_blocks.bin", 0x02, pl.data, pl.len);
	ch_buf_close(&pl);
	write_text("blocks_garbage.json",
		   "{\"jsonrpc\":\"2.0\",\"id\":1e300,\"result\":{\"msg\":\"AQUAAAAAAAAAAQAB\"}}");
}

static void
other_seeds(void)
{
	struct peer_msg m = {.type = PEER_GET_BLOCKS, .id = 7, .from = 0, .min_height = 1,
			     .max_height = 10};
	write_msg("get_blocks.json", &m);
	m = (struct peer_msg){.type = PEER_STATUS, .from = 0, .height = 2, .view = 0};
	write_msg("status.json", &m);
	struct ch_buf pl;
	ch_buf_init(&pl);
	payload_of(&m, &pl);
	pl.data[3] = 9; /* from a validator that does not exist */
	write_payload("raw_status_from.bin", 0x01, pl.data, pl.len);
	ch_buf_close(&pl);
	write_text("not_json.txt", "{\"jsonrpc\":\"2.0\",\"method\":\"consensus\",\"params\":{");
	write_text("array.json", "[{\"method\":\"status\"},1,null]");
	write_text("unknown_method.json",
		   "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"no_such_method\",\"params\":{}}");
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_peer_seeds DIR\n");
		return 2;
	}
	out_dir = argv[1];
	struct chain_genesis g;
	struct chain_mem_env *env = NULL;
	struct chain_store *store = NULL;
	struct ch_err e;
	test_genesis(&g, FUZZ_CHAIN_ID, FUZZ_VALIDATORS, FUZZ_ACCOUNTS, 1000000000);
	if (chain_mem_env_new(&env, &e) != 0 || test_store_open(&store, env, "/seeds", &g, &e) != 0)
		die("a store", &e);
	for (unsigned i = 0; i < FUZZ_VALIDATORS; i++)
		vkey[i] = test_key("validator", i);
	for (unsigned j = 0; j < FUZZ_ACCOUNTS; j++)
		akey[j] = test_key("account", j);

	struct chain_tx tx0, tx1;
	struct chain_block b1, b2;
	struct ch_buf b1enc, b2enc, c1enc, c2enc;
	struct chain_cert *c1 = malloc(sizeof(*c1)), *c2 = malloc(sizeof(*c2));
	if (c1 == NULL || c2 == NULL)
		die("out of memory", NULL);
	make_tx(&tx0, g.chain_id, 0, true);
	make_tx(&tx1, g.chain_id, 1, false);
	next_block(store, &g, &tx0, &b1, &b1enc, c1, &c1enc);
	next_block(store, &g, &tx1, &b2, &b2enc, c2, &c2enc);

	consensus_seeds(&b1, &b1enc);
	tx_seeds(&tx0, &tx1);
	answer_seeds(&b1enc, &c1enc, &b2enc, &c2enc);
	other_seeds();

	ch_buf_close(&b1enc);
	ch_buf_close(&b2enc);
	ch_buf_close(&c1enc);
	ch_buf_close(&c2enc);
	free(c1);
	free(c2);
	for (unsigned i = 0; i < FUZZ_VALIDATORS; i++)
		cr_key_free(vkey[i]);
	for (unsigned j = 0; j < FUZZ_ACCOUNTS; j++)
		cr_key_free(akey[j]);
	chain_store_close(store);
	chain_mem_env_free(env);
	chain_genesis_close(&g);
	return 0;
}
