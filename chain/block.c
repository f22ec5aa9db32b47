/* Block headers, blocks, commit votes and certificates. */
#include <stdlib.h>
#include <string.h>

#include "chain/block.h"

static const char vote_domain[] = "chaind/commit/v1";

void
chain_header_encode(const struct chain_header *h, struct ch_buf *out)
{
	size_t idlen = strnlen(h->chain_id, sizeof(h->chain_id));
	ch_buf_u8(out, CHAIN_BLOCK_VERSION);
	ch_buf_u8(out, (uint8_t)idlen);
	ch_buf_put(out, h->chain_id, idlen);
	ch_buf_u64(out, h->height);
	ch_buf_put(out, h->prev_hash, CR_HASH_LEN);
	ch_buf_u64(out, h->time_ms);
	ch_buf_u16(out, h->proposer);
	ch_buf_u64(out, h->view);
	ch_buf_put(out, h->tx_root, CR_HASH_LEN);
	ch_buf_put(out, h->state_digest, CR_HASH_LEN);
	ch_buf_u32(out, h->tx_count);
}

static int
read_header(struct ch_rd *r, struct chain_header *h, struct ch_err *err)
{
	memset(h, 0, sizeof(*h));
	uint8_t version = ch_rd_u8(r);
	if (!r->bad && version != CHAIN_BLOCK_VERSION)
		return ch_errf(err, CH_E_BAD_ENCODING, "block: version %u (must be %d)", version,
			       CHAIN_BLOCK_VERSION);
	uint8_t idlen = ch_rd_u8(r);
	if (!r->bad && (idlen < 1 || idlen > CHAIN_MAX_CHAIN_ID))
		return ch_errf(err, CH_E_BAD_ENCODING, "block: chain id length %u (must be 1..%d)",
			       idlen, CHAIN_MAX_CHAIN_ID);
	ch_rd_copy(r, h->chain_id, idlen);
	if (!r->bad && !chain_id_valid(h->chain_id, idlen))
		return ch_errf(err, CH_E_BAD_ENCODING,
			       "block: chain id has a byte outside [A-Za-z0-9._-]");
	h->height = ch_rd_u64(r);
	ch_rd_copy(r, h->prev_hash, CR_HASH_LEN);
	h->time_ms = ch_rd_u64(r);
	h->proposer = ch_rd_u16(r);
	h->view = ch_rd_u64(r);
	ch_rd_copy(r, h->tx_root, CR_HASH_LEN);
	ch_rd_copy(r, h->state_digest, CR_HASH_LEN);
	h->tx_count = ch_rd_u32(r);
	if (r->bad)
		return ch_errf(err, CH_E_BAD_ENCODING, "block: truncated header");
	if (h->height == 0)
		return ch_errf(err, CH_E_BAD_ENCODING, "block: height 0 (blocks start at 1)");
	if (h->tx_count > CHAIN_MAX_BLOCK_TXS)
		return ch_errf(err, CH_E_BAD_ENCODING, "block: tx count %u (the limit is %d)",
			       h->tx_count, CHAIN_MAX_BLOCK_TXS);
	return 0;
}

int
chain_header_decode(const uint8_t *data, size_t len, struct chain_header *h, struct ch_err *err)
{
	struct ch_rd r;
	ch_rd_init(&r, data, len);
	int rc = read_header(&r, h, err);
	if (rc == 0 && !ch_rd_done(&r))
		rc = ch_errf(err, CH_E_BAD_ENCODING, "block header: %zu trailing bytes",
			     ch_rd_left(&r));
	return rc;
}

int
chain_block_header(const uint8_t *data, size_t len, struct chain_header *h, struct ch_err *err)
{
	struct ch_rd r;
	ch_rd_init(&r, data, len);
	return read_header(&r, h, err);
}

void
chain_header_hash(const struct chain_header *h, uint8_t out[CR_HASH_LEN])
{
	struct ch_buf b;
	ch_buf_init(&b);
	chain_header_encode(h, &b);
	if (!ch_buf_ok(&b))
		abort();
	cr_sha256(b.data, b.len, out);
	ch_buf_close(&b);
}

void
chain_block_tx_root(const struct chain_tx *txs, size_t n, uint8_t out[CR_HASH_LEN])
{
	if (n == 0) {
		cr_merkle_root(NULL, 0, out);
		return;
	}
	uint8_t(*leaves)[CR_HASH_LEN] = malloc(n * sizeof(*leaves));
	if (leaves == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		memcpy(leaves[i], txs[i].hash, CR_HASH_LEN);
	cr_merkle_root((const uint8_t(*)[CR_HASH_LEN])leaves, n, out);
	free(leaves);
}

void
chain_block_encode(const struct chain_block *b, struct ch_buf *out)
{
	chain_header_encode(&b->header, out);
	for (uint32_t i = 0; i < b->header.tx_count; i++) {
		size_t at = out->len;
		ch_buf_u32(out, 0); /* length, patched below */
		chain_tx_encode(&b->txs[i], out);
		if (ch_buf_ok(out)) {
			ch_put_be32(out->data + at, (uint32_t)(out->len - at - 4));
		}
	}
}

/* The smallest valid transaction encoding: bounds tx_count against the input. */

int
chain_block_decode(const uint8_t *data, size_t len, struct chain_block *b, struct ch_err *err)
{
	memset(b, 0, sizeof(*b));
	if (len > CHAIN_MAX_BLOCK_BYTES)
		return ch_errf(err, CH_E_TOO_LARGE, "block: %zu bytes (the limit is %u)", len,
			       CHAIN_MAX_BLOCK_BYTES);
	struct ch_rd r;
	ch_rd_init(&r, data, len);
	int rc = read_header(&r, &b->header, err);
	if (rc != 0)
		return rc;
	uint32_t n = b->header.tx_count;
	/* checked before allocating, so a short input cannot ask for a huge array */
	if ((size_t)n * (4 + CHAIN_MIN_TX_BYTES) > ch_rd_left(&r))
		return ch_errf(err, CH_E_BAD_ENCODING,
			       "block: tx count %u cannot fit in the %zu bytes after the header", n,
			       ch_rd_left(&r));
	if (n > 0 && (b->txs = calloc(n, sizeof(*b->txs))) == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory decoding a block of %u txs", n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t tl = ch_rd_u32(&r);
		if (r.bad) {
			rc = ch_errf(err, CH_E_BAD_ENCODING, "block: truncated at the length of tx %u", i);
			goto fail;
		}
		if (tl > CHAIN_MAX_TX_BYTES) {
			rc = ch_errf(err, CH_E_BAD_ENCODING, "block: tx %u length %u (the limit is %d)",
				     i, tl, CHAIN_MAX_TX_BYTES);
			goto fail;
		}
		const uint8_t *p = ch_rd_ptr(&r, tl);
		if (p == NULL) {
			rc = ch_errf(err, CH_E_BAD_ENCODING, "block: tx %u is truncated", i);
			goto fail;
		}
		if ((rc = chain_tx_decode(p, tl, &b->txs[i], err)) != 0)
			goto fail;
	}
	if (!ch_rd_done(&r)) {
		rc = ch_errf(err, CH_E_BAD_ENCODING, "block: %zu trailing bytes", ch_rd_left(&r));
		goto fail;
	}
	uint8_t root[CR_HASH_LEN];
	chain_block_tx_root(b->txs, n, root);
	if (memcmp(root, b->header.tx_root, CR_HASH_LEN) != 0) {
		rc = ch_errf(err, CH_E_BLOCK_INVALID,
			     "block %llu: the Merkle root does not match its transactions",
			     (unsigned long long)b->header.height);
		goto fail;
	}
	chain_header_hash(&b->header, b->hash);
	return 0;
fail:
	chain_block_close(b);
	return rc;
}

void
chain_block_close(struct chain_block *b)
{
	if (b == NULL)
		return;
	free(b->txs);
	b->txs = NULL;
}

void
chain_vote_digest(uint64_t height, uint64_t view, const uint8_t block_hash[CR_HASH_LEN],
		  uint8_t out[CR_HASH_LEN])
{
	uint8_t buf[sizeof(vote_domain) + 8 + 8 + CR_HASH_LEN];
	memcpy(buf, vote_domain, sizeof(vote_domain));
	ch_put_be64(buf + sizeof(vote_domain), height);
	ch_put_be64(buf + sizeof(vote_domain) + 8, view);
	memcpy(buf + sizeof(vote_domain) + 16, block_hash, CR_HASH_LEN);
	cr_sha256(buf, sizeof(buf), out);
}

void
chain_cert_encode(const struct chain_cert *c, struct ch_buf *out)
{
	ch_buf_u64(out, c->height);
	ch_buf_u64(out, c->view);
	ch_buf_put(out, c->block_hash, CR_HASH_LEN);
	ch_buf_u16(out, c->count);
	for (uint16_t i = 0; i < c->count; i++) {
		ch_buf_u16(out, c->votes[i].validator);
		ch_buf_put(out, c->votes[i].sig, CR_SIG_LEN);
	}
}

int
chain_cert_decode(const uint8_t *data, size_t len, struct chain_cert *c, struct ch_err *err)
{
	struct ch_rd r;
	ch_rd_init(&r, data, len);
	memset(c, 0, sizeof(*c));
	c->height = ch_rd_u64(&r);
	c->view = ch_rd_u64(&r);
	ch_rd_copy(&r, c->block_hash, CR_HASH_LEN);
	uint16_t count = ch_rd_u16(&r);
	if (!r.bad && count > CHAIN_MAX_VALIDATORS)
		return ch_errf(err, CH_E_BAD_ENCODING, "certificate: %u votes (the limit is %d)",
			       count, CHAIN_MAX_VALIDATORS);
	if (!r.bad && (size_t)count * (2 + CR_SIG_LEN) != ch_rd_left(&r))
		return ch_errf(err, CH_E_BAD_ENCODING,
			       "certificate: %u votes need %zu bytes after the count, not %zu", count,
			       (size_t)count * (2 + CR_SIG_LEN), ch_rd_left(&r));
	c->count = count;
	for (uint16_t i = 0; i < count && !r.bad; i++) {
		c->votes[i].validator = ch_rd_u16(&r);
		ch_rd_copy(&r, c->votes[i].sig, CR_SIG_LEN);
		if (i > 0 && c->votes[i].validator <= c->votes[i - 1].validator)
			return ch_errf(err, CH_E_BAD_ENCODING,
				       "certificate: vote %u names validator %u after validator %u "
				       "(must be strictly ascending)",
				       i, c->votes[i].validator, c->votes[i - 1].validator);
	}
	if (!ch_rd_done(&r))
		return ch_errf(err, CH_E_BAD_ENCODING, "certificate: truncated (%zu bytes)", len);
	return 0;
}

int
chain_cert_check(const struct chain_cert *c, size_t n, size_t quorum, chain_vote_check_fn check,
		 void *arg, struct ch_err *err)
{
	/* a quorum of 0 would accept an empty certificate */
	if (quorum < 1 || quorum > n)
		return ch_errf(err, CH_E_INVALID, "certificate: quorum %zu of %zu validators", quorum,
			       n);
	if (c->count > CHAIN_MAX_VALIDATORS)
		return ch_errf(err, CH_E_INVALID, "certificate: %u votes (the limit is %d)", c->count,
			       CHAIN_MAX_VALIDATORS);
	if (c->count < quorum)
		return ch_errf(err, CH_E_BAD_SIGNATURE,
			       "certificate of height %llu has %u votes; %zu are needed",
			       (unsigned long long)c->height, c->count, quorum);
	uint8_t d[CR_HASH_LEN];
	chain_vote_digest(c->height, c->view, c->block_hash, d);
	for (uint16_t i = 0; i < c->count; i++) {
		uint16_t v = c->votes[i].validator;
		if (v >= n)
			return ch_errf(err, CH_E_INVALID,
				       "certificate: vote %u names validator %u, but there are %zu", i,
				       v, n);
		/* ascending implies distinct: nobody's vote counts twice */
		if (i > 0 && v <= c->votes[i - 1].validator)
			return ch_errf(err, CH_E_INVALID,
				       "certificate: vote %u names validator %u after validator %u "
				       "(must be strictly ascending)",
				       i, v, c->votes[i - 1].validator);
		if (!check(arg, v, d, c->votes[i].sig))
			return ch_errf(err, CH_E_BAD_SIGNATURE,
				       "certificate: the vote of validator %u does not verify", v);
	}
	return 0;
}

static bool
check_pubkey(void *arg, uint32_t v, const uint8_t digest[CR_HASH_LEN], const uint8_t sig[CR_SIG_LEN])
{
	const uint8_t(*pubkeys)[CR_PUBKEY_LEN] = arg;
	return cr_verify(pubkeys[v], digest, sig);
}

int
chain_cert_verify(const struct chain_cert *c, const uint8_t (*pubkeys)[CR_PUBKEY_LEN], size_t n,
		  size_t quorum, struct ch_err *err)
{
	return chain_cert_check(c, n, quorum, check_pubkey, (void *)pubkeys, err);
}
