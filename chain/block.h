/*
 * block.h - block headers, blocks, votes and commit certificates: canonical
 * encodings, hashes and checks.
 *
 * Header encoding (big-endian):
 *   version u8 (=1) | chain_id_len u8 | chain_id | height u64 | prev_hash[32]
 *   | time_ms u64 | proposer u16 | view u64 | tx_root[32] | state_digest[32]
 *   | tx_count u32
 * Block hash = SHA-256(header encoding). tx_root is the Merkle root
 * (crypto.h) of the transactions' hashes in block order; state_digest is the
 * state digest after the previous block (chain/state.h).
 * Block encoding: header | tx_count times (tx_len u32 | tx encoding).
 *
 * A commit vote is a validator's signature over
 *   SHA-256("chaind/commit/v1" 0x00 || height u64 || view u64 || block_hash)
 * and a commit certificate carries votes of distinct validators:
 *   height u64 | view u64 | block_hash[32] | count u16
 *   | count times (validator u16 | sig[64])   (validators strictly ascending)
 */
#ifndef CHAIN_BLOCK_H
#define CHAIN_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/tx.h"
#include "common/buf.h"
#include "common/err.h"
#include "crypto/crypto.h"

#define CHAIN_BLOCK_VERSION 1
#define CHAIN_MAX_VALIDATORS 256
/* Hard limits of the format; the consensus parameters set smaller ones. */
#define CHAIN_MAX_BLOCK_TXS 100000
#define CHAIN_MAX_BLOCK_BYTES (64u << 20)

struct chain_header {
	char chain_id[CHAIN_MAX_CHAIN_ID + 1];
	uint64_t height;
	uint8_t prev_hash[CR_HASH_LEN];
	uint64_t time_ms;
	uint16_t proposer;
	uint64_t view;
	uint8_t tx_root[CR_HASH_LEN];
	uint8_t state_digest[CR_HASH_LEN];
	uint32_t tx_count;
};

/* A decoded block. Owns txs (an array of tx_count). */
struct chain_block {
	struct chain_header header;
	uint8_t hash[CR_HASH_LEN]; /* derived */
	struct chain_tx *txs;
};

void chain_header_encode(const struct chain_header *h, struct ch_buf *out);
int chain_header_decode(const uint8_t *data, size_t len, struct chain_header *h,
			struct ch_err *err);
void chain_header_hash(const struct chain_header *h, uint8_t out[CR_HASH_LEN]);
/* chain_block_header decodes only the header at the start of an encoded block. */
int chain_block_header(const uint8_t *data, size_t len, struct chain_header *h,
		       struct ch_err *err);

/* chain_block_encode appends header and transactions to out. */
void chain_block_encode(const struct chain_block *b, struct ch_buf *out);

/*
 * chain_block_decode parses exactly len bytes into b (allocating b->txs;
 * release with chain_block_close), decodes every transaction (without
 * verifying signatures), checks tx_count and that tx_root matches the
 * transactions, and computes b->hash.
 */
int chain_block_decode(const uint8_t *data, size_t len, struct chain_block *b,
		       struct ch_err *err);

/* chain_block_close frees b->txs. NULL is fine. */
void chain_block_close(struct chain_block *b);

/* chain_block_tx_root computes the Merkle root of b's transaction hashes. */
void chain_block_tx_root(const struct chain_tx *txs, size_t n, uint8_t out[CR_HASH_LEN]);

/* ---- votes and certificates ---- */

struct chain_vote {
	uint16_t validator;
	uint8_t sig[CR_SIG_LEN];
};

/* The length of a certificate encoding with n votes. */
#define CHAIN_CERT_BYTES(n) (8 + 8 + CR_HASH_LEN + 2 + (size_t)(n) * (2 + CR_SIG_LEN))

struct chain_cert {
	uint64_t height;
	uint64_t view;
	uint8_t block_hash[CR_HASH_LEN];
	uint16_t count;
	struct chain_vote votes[CHAIN_MAX_VALIDATORS];
};

/* chain_vote_digest computes what a commit vote signs. */
void chain_vote_digest(uint64_t height, uint64_t view, const uint8_t block_hash[CR_HASH_LEN],
		       uint8_t out[CR_HASH_LEN]);

void chain_cert_encode(const struct chain_cert *c, struct ch_buf *out);
int chain_cert_decode(const uint8_t *data, size_t len, struct chain_cert *c,
		      struct ch_err *err);

/* A check of validator v's signature of a commit-vote digest (v < the set's size). */
typedef bool (*chain_vote_check_fn)(void *arg, uint32_t v, const uint8_t digest[CR_HASH_LEN],
				    const uint8_t sig[CR_SIG_LEN]);

/*
 * chain_cert_check checks c against a validator set of n: at least quorum
 * votes, validators distinct, ascending and < n, and every signature valid
 * over (height, view, block_hash) as check(arg, ...) says. Errors:
 * CH_E_INVALID (malformed), CH_E_BAD_SIGNATURE (too few votes or a bad one).
 */
int chain_cert_check(const struct chain_cert *c, size_t n, size_t quorum, chain_vote_check_fn check,
		     void *arg, struct ch_err *err);

/* chain_cert_verify is chain_cert_check against n public keys (decoded for each vote). */
int chain_cert_verify(const struct chain_cert *c, const uint8_t (*pubkeys)[CR_PUBKEY_LEN],
		      size_t n, size_t quorum, struct ch_err *err);

#endif
