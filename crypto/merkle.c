/*
 * Merkle tree hashes and inclusion proofs in the shape of RFC 6962 section
 * 2.1 (RFC 9162 section 2.1.3 for verification): leaves and interior nodes
 * are hashed with different prefixes so a node can never pass for a leaf.
 * Computed by recursion over index ranges: no allocation, depth log2(n).
 */
#include <string.h>

#include "crypto/crypto.h"

static void
leaf_hash(const uint8_t leaf[CR_HASH_LEN], uint8_t out[CR_HASH_LEN])
{
	uint8_t buf[1 + CR_HASH_LEN];
	buf[0] = 0x00;
	memcpy(buf + 1, leaf, CR_HASH_LEN);
	cr_sha256(buf, sizeof(buf), out);
}

static void
node_hash(const uint8_t l[CR_HASH_LEN], const uint8_t r[CR_HASH_LEN], uint8_t out[CR_HASH_LEN])
{
	uint8_t buf[1 + 2 * CR_HASH_LEN];
	buf[0] = 0x01;
	memcpy(buf + 1, l, CR_HASH_LEN);
	memcpy(buf + 1 + CR_HASH_LEN, r, CR_HASH_LEN);
	cr_sha256(buf, sizeof(buf), out);
}

/* split returns the largest power of two smaller than n (n >= 2). */
static size_t
split(size_t n)
{
	size_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* subtree computes the hash of leaves[0..n), n >= 1. */
static void
subtree(const uint8_t (*leaves)[CR_HASH_LEN], size_t n, uint8_t out[CR_HASH_LEN])
{
	if (n == 1) {
		leaf_hash(leaves[0], out);
		return;
	}
	size_t k = split(n);
	uint8_t l[CR_HASH_LEN], r[CR_HASH_LEN];
	subtree(leaves, k, l);
	subtree(leaves + k, n - k, r);
	node_hash(l, r, out);
}

void
cr_merkle_root(const uint8_t (*leaves)[CR_HASH_LEN], size_t n, uint8_t root[CR_HASH_LEN])
{
	if (n == 0) {
		cr_sha256("", 0, root);
		return;
	}
	subtree(leaves, n, root);
}

int
cr_merkle_proof(const uint8_t (*leaves)[CR_HASH_LEN], size_t n, size_t index,
		uint8_t (*path)[CR_HASH_LEN], size_t *pathlen)
{
	if (index >= n)
		return CH_E_INVALID;
	/*
	 * Walk down from the root, remembering each sibling subtree; the path
	 * lists them from the leaf upwards.
	 */
	uint8_t sib[CR_MERKLE_MAX_DEPTH][CR_HASH_LEN];
	size_t depth = 0;
	while (n > 1) {
		size_t k = split(n);
		if (index < k) {
			subtree(leaves + k, n - k, sib[depth++]);
			n = k;
		} else {
			subtree(leaves, k, sib[depth++]);
			leaves += k;
			index -= k;
			n -= k;
		}
	}
	for (size_t i = 0; i < depth; i++)
		memcpy(path[i], sib[depth - 1 - i], CR_HASH_LEN);
	*pathlen = depth;
	return 0;
}

bool
cr_merkle_verify(const uint8_t leaf[CR_HASH_LEN], size_t index, size_t n,
		 const uint8_t (*path)[CR_HASH_LEN], size_t pathlen, const uint8_t root[CR_HASH_LEN])
{
	if (index >= n || pathlen > CR_MERKLE_MAX_DEPTH)
		return false;
	size_t fn = index, sn = n - 1;
	uint8_t r[CR_HASH_LEN];
	leaf_hash(leaf, r);
	for (size_t i = 0; i < pathlen; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			node_hash(path[i], r, r);
			if (!(fn & 1))
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			node_hash(r, path[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, CR_HASH_LEN) == 0;
}
