/*
 * gen_peer_seeds DIR: writes fuzz_peer's seed corpus into DIR (normally
 * tests/fuzz/corpus/fuzz_peer): one well-formed message of each peer
 * message type, signed with the keys of the fixed network (fuzz_peer_net.h)
 * so that they pass the node's checks, and malformed variants.
 *
 * The consensus seeds run one height of PBFT at validator FUZZ_PEER_SELF
 * (PREPAREs and COMMITs of validators 0, 2, 3, then the primary's
 * PRE-PREPARE of block 1, which the node validates and commits). The block
 * responses carry block 1 and block 2 with commit certificates (block 2
 * still commits by state transfer after block 1 committed by consensus).
 * libFuzzer runs seeds smallest first, which is that order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_peer_net.h"
#include "node/node.h"
#include "node/node_internal.h"

static const char *out_dir;
static struct cr_key *vkey[FUZZ_PEER_VALIDATORS], *akey[FUZZ_PEER_ACCOUNTS];

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

/* b64 / hex return malloc'd strings. */
static char *
b64(const struct ch_buf *b)
{
	char *s = malloc(4 * ((b->len + 2) / 3) + 1);
	if (s == NULL)
		die("out of memory", NULL);
	cr_base64_encode(b->data, b->len, s);
	return s;
}

static char *
hex(const struct ch_buf *b)
{
	char *s = malloc(2 * b->len + 1);
	if (s == NULL)
		die("out of memory", NULL);
	cr_hex_encode(b->data, b->len, s);
	return s;
}

/* ---- consensus messages ---- */

static void
sign_msg(struct pbft_msg *m, uint32_t from, const struct cr_key *k)
{
	struct ch_buf sb;
	uint8_t d[CR_HASH_LEN];
	m->from = from;
	ch_buf_init(&sb);
	pbft_msg_signed_bytes(m, &sb);
	cr_sha256(sb.data, sb.len, d);
	if (cr_sign(k, d, m->sig, NULL) != 0)
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
	sign_msg(m, from, vkey[from]);
}

/* consensus_seed writes m as a "consensus" message (JSON) or as mode 0x01 (raw). */
static void
consensus_seed(const char *name, const struct pbft_msg *m, bool raw)
{
	struct ch_buf enc, out;
	ch_buf_init(&enc);
	ch_buf_init(&out);
	pbft_msg_encode(m, &enc);
	if (raw) {
		ch_buf_u8(&out, 0x01);
		ch_buf_put(&out, enc.data, enc.len);
	} else {
		char *s = b64(&enc);
		static const char head[] =
			"{\"jsonrpc\":\"2.0\",\"method\":\"consensus\",\"params\":{\"msg\":\"";
		ch_buf_put(&out, head, sizeof(head) - 1);
		ch_buf_put(&out, s, strlen(s));
		ch_buf_put(&out, "\"}}", 3);
		free(s);
	}
	write_seed(name, out.data, out.len);
	ch_buf_close(&enc);
	ch_buf_close(&out);
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

/* next_block builds the block on top of n's tip holding tx, proposed by view 0's primary. */
static void
next_block(struct node *n, const struct chain_tx *tx, struct chain_block *b, struct ch_buf *enc)
{
	memset(b, 0, sizeof(*b));
	struct chain_header *h = &b->header;
	snprintf(h->chain_id, sizeof(h->chain_id), "%s", n->genesis.chain_id);
	h->height = n->tip.height + 1;
	memcpy(h->prev_hash, n->tip.hash, CR_HASH_LEN);
	h->time_ms = FUZZ_PEER_GENESIS_MS + 1000 * h->height;
	h->proposer = 0;
	h->view = 0;
	b->txs = (struct chain_tx *)tx;
	chain_block_tx_root(tx, 1, h->tx_root);
	memcpy(h->state_digest, n->tip.state_digest, CR_HASH_LEN);
	h->tx_count = 1;
	chain_header_hash(h, b->hash);
	ch_buf_init(enc);
	chain_block_encode(b, enc);
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

/* blocks_json appends {"block":B64,"cert":B64} to out. */
static void
blocks_json(struct ch_buf *out, const struct ch_buf *blk, const struct ch_buf *cert)
{
	char *bs = b64(blk), *cs = b64(cert);
	ch_buf_put(out, "{\"block\":\"", 10);
	ch_buf_put(out, bs, strlen(bs));
	ch_buf_put(out, "\",\"cert\":\"", 10);
	ch_buf_put(out, cs, strlen(cs));
	ch_buf_put(out, "\"}", 2);
	free(bs);
	free(cs);
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
	memset(&m, 0, sizeof(m));
	m.type = PBFT_PREPARE;
	m.height = 1;
	memcpy(m.digest, b1->hash, CR_HASH_LEN);
	sign_msg(&m, 3, vkey[3]);
	m.from = 2;
	consensus_seed("consensus_prepare_badsig.json", &m, false);

	/* a CHECKPOINT at the first checkpoint height, with a made-up state digest */
	memset(&m, 0, sizeof(m));
	m.type = PBFT_CHECKPOINT;
	m.height = 100;
	memset(m.digest, 0xab, CR_HASH_LEN);
	sign_msg(&m, 2, vkey[2]);
	consensus_seed("consensus_checkpoint_2.json", &m, false);

	/* the primary's PRE-PREPARE of block 1 (the block is not under the signature) */
	memset(&m, 0, sizeof(m));
	m.type = PBFT_PREPREPARE;
	m.height = 1;
	memcpy(m.digest, b1->hash, CR_HASH_LEN);
	m.block = b1enc->data;
	m.block_len = b1enc->len;
	sign_msg(&m, 0, vkey[0]);
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
		sign_msg(&m, from, vkey[from]);
		if (from == 2)
			consensus_seed("consensus_viewchange_2.json", &m, false);
		else
			consensus_seed("raw_viewchange_3.bin", &m, true);
	}

	write_text("consensus_garbled.json",
		   "{\"jsonrpc\":\"2.0\",\"method\":\"consensus\",\"params\":{\"msg\":"
		   "\"AgACAAAAAAAAAAAAAAAAAAAAAQ==\"}}");
	write_text("consensus_msg_number.json",
		   "{\"jsonrpc\":\"2.0\",\"method\":\"consensus\",\"params\":{\"msg\":42}}");
}

static const char txs_head[] = "{\"jsonrpc\":\"2.0\",\"method\":\"txs\",\"params\":{\"txs\":[\"";

/* one_tx_seed writes a "txs" message holding tx alone. */
static void
one_tx_seed(const char *name, const struct chain_tx *tx)
{
	struct ch_buf enc, out;
	ch_buf_init(&enc);
	ch_buf_init(&out);
	chain_tx_encode(tx, &enc);
	char *h = hex(&enc);
	ch_buf_put(&out, txs_head, sizeof(txs_head) - 1);
	ch_buf_put(&out, h, strlen(h));
	ch_buf_put(&out, "\"]}}", 4);
	write_seed(name, out.data, out.len);
	free(h);
	ch_buf_close(&enc);
	ch_buf_close(&out);
}

static void
tx_seeds(const struct chain_tx *tx0, const struct chain_tx *tx1)
{
	struct ch_buf e0, e1, out;
	struct chain_tx bad;
	ch_buf_init(&e0);
	ch_buf_init(&e1);
	ch_buf_init(&out);
	chain_tx_encode(tx0, &e0);
	chain_tx_encode(tx1, &e1);
	char *h0 = hex(&e0), *h1 = hex(&e1);
	ch_buf_put(&out, txs_head, sizeof(txs_head) - 1);
	ch_buf_put(&out, h0, strlen(h0));
	ch_buf_put(&out, "\",\"", 3);
	ch_buf_put(&out, h1, strlen(h1));
	ch_buf_put(&out, "\"]}}", 4);
	write_seed("txs.json", out.data, out.len);

	/* mode 0x02: the same two, length-prefixed */
	ch_buf_reset(&out);
	ch_buf_u8(&out, 0x02);
	ch_buf_u16(&out, (uint16_t)e0.len);
	ch_buf_put(&out, e0.data, e0.len);
	ch_buf_u16(&out, (uint16_t)e1.len);
	ch_buf_put(&out, e1.data, e1.len);
	write_seed("raw_txs.bin", out.data, out.len);

	/* changed after signing: the signature fails */
	bad = *tx0;
	bad.amount = 2000;
	one_tx_seed("txs_badsig.json", &bad);

	/* well signed, for another chain */
	make_tx(&bad, "other-chain", 0, true);
	one_tx_seed("txs_other_chain.json", &bad);

	write_text("txs_not_array.json",
		   "{\"jsonrpc\":\"2.0\",\"method\":\"txs\",\"params\":{\"txs\":\"00\"}}");
	free(h0);
	free(h1);
	ch_buf_close(&e0);
	ch_buf_close(&e1);
	ch_buf_close(&out);
}

static void
result_seeds(const struct ch_buf *b1, const struct ch_buf *c1, const struct ch_buf *b2,
	     const struct ch_buf *c2)
{
	struct ch_buf out;
	ch_buf_init(&out);
	/* the answer to a first request (id 0, before the node asked anything) */
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"blocks\":[";
	ch_buf_put(&out, head, sizeof(head) - 1);
	blocks_json(&out, b1, c1);
	ch_buf_u8(&out, ',');
	blocks_json(&out, b2, c2);
	ch_buf_put(&out, "],\"height\":2}}", 14);
	write_seed("result.json", out.data, out.len);

	/* mode 0x03: block 2 alone, answering whatever the node asked last */
	ch_buf_reset(&out);
	ch_buf_put(&out, "\x03{\"blocks\":[", 12);
	blocks_json(&out, b2, c2);
	ch_buf_put(&out, "],\"height\":3}", 13);
	write_seed("raw_result.bin", out.data, out.len);

	write_text("result_garbage.json",
		   "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"blocks\":[{\"block\":\"!!\","
		   "\"cert\":\"AAAA\"},{\"block\":\"AAAA\"}],\"height\":1e300}}");
	ch_buf_close(&out);
}

static void
other_seeds(void)
{
	write_text("get_blocks.json",
		   "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"get_blocks\","
		   "\"params\":{\"from\":0,\"min_height\":1,\"max_height\":10}}");
	write_text("get_blocks_bad.json",
		   "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"get_blocks\","
		   "\"params\":{\"from\":-1,\"min_height\":0,\"max_height\":1e20}}");
	write_text("status.json", "{\"jsonrpc\":\"2.0\",\"method\":\"status\","
				  "\"params\":{\"from\":0,\"height\":2,\"view\":0}}");
	write_text("status_bad.json", "{\"jsonrpc\":\"2.0\",\"method\":\"status\","
				      "\"params\":{\"from\":\"x\",\"height\":-5}}");
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
	char dir[] = "/tmp/gen_peer_seeds.XXXXXX", home[64];
	struct ch_err e;
	struct node *n = NULL;
	ch_err_clear(&e);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", NULL);
	snprintf(home, sizeof(home), "%s/node%d", dir, FUZZ_PEER_SELF);
	if (fuzz_peer_net_make(dir, &e) != 0 || node_open(&n, home, &e) != 0)
		die("setting up the network", &e);
	for (unsigned i = 0; i < FUZZ_PEER_VALIDATORS; i++)
		if (fuzz_peer_net_key(dir, false, i, &vkey[i], &e) != 0)
			die("loading a key", &e);
	for (unsigned j = 0; j < FUZZ_PEER_ACCOUNTS; j++)
		if (fuzz_peer_net_key(dir, true, j, &akey[j], &e) != 0)
			die("loading a key", &e);

	struct chain_tx tx0, tx1;
	struct chain_block b1, b2;
	struct ch_buf b1enc, b2enc, c1enc, c2enc;
	struct chain_cert *c1 = malloc(sizeof(*c1)), *c2 = malloc(sizeof(*c2));
	if (c1 == NULL || c2 == NULL)
		die("out of memory", NULL);
	make_tx(&tx0, n->genesis.chain_id, 0, true);
	make_tx(&tx1, n->genesis.chain_id, 1, false);
	next_block(n, &tx0, &b1, &b1enc);
	certify(&b1, c1, &c1enc);
	/* commit block 1 here, so that block 2 carries the state digest after it */
	if (node_commit_block(n, &b1, c1, &e) != 0)
		die("committing block 1", &e);
	next_block(n, &tx1, &b2, &b2enc);
	certify(&b2, c2, &c2enc);

	consensus_seeds(&b1, &b1enc);
	tx_seeds(&tx0, &tx1);
	result_seeds(&b1enc, &c1enc, &b2enc, &c2enc);
	other_seeds();

	ch_buf_close(&b1enc);
	ch_buf_close(&b2enc);
	ch_buf_close(&c1enc);
	ch_buf_close(&c2enc);
	free(c1);
	free(c2);
	for (unsigned i = 0; i < FUZZ_PEER_VALIDATORS; i++)
		cr_key_free(vkey[i]);
	for (unsigned j = 0; j < FUZZ_PEER_ACCOUNTS; j++)
		cr_key_free(akey[j]);
	node_close(n);
	fuzz_peer_net_remove(dir);
	return 0;
}
