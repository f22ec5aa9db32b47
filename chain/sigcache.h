/*
 * sigcache.h - transaction signature checks that remember good verdicts.
 *
 * A node verifies each transaction's signature once: when a client or a
 * peer hands it over (on a worker thread), and never again when the
 * transaction comes back in a block. The cache holds the hashes of
 * transactions whose signature verified; the hash covers the whole
 * encoding, signature included, so a hit vouches for exactly those bytes.
 * Bad signatures are not remembered (they cost nothing to send again, and
 * must not push good verdicts out).
 *
 * Thread-safe: any number of threads may call chain_sigcache_verify at
 * once; the ECDSA verification runs outside the cache's locks. Bounded:
 * at most `capacity` hashes (rounded up), older ones replaced first.
 */
#ifndef CHAIN_SIGCACHE_H
#define CHAIN_SIGCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "chain/tx.h"

struct chain_sigcache;

/* chain_sigcache_new: 0 or CH_E_NOMEM. */
int chain_sigcache_new(struct chain_sigcache **out, size_t capacity);
void chain_sigcache_free(struct chain_sigcache *c);

/*
 * chain_sigcache_verify is chain_tx_verify (0 or CH_E_BAD_SIGNATURE with a
 * message) that answers from the cache when it can. c may be NULL.
 */
int chain_sigcache_verify(struct chain_sigcache *c, const struct chain_tx *tx, struct ch_err *err);

/* chain_sigcache_stats: lookups answered from the cache, and verifications done. */
void chain_sigcache_stats(struct chain_sigcache *c, uint64_t *hits, uint64_t *verified);

/*
 * chain_sigcache_vouch remembers tx as verified without checking it: for a
 * chain whose validators are trusted not to lie (the crash-fault engines),
 * a transaction another validator gossips was checked by the validator a
 * client gave it to. chain_sigcache_vouched counts them.
 */
void chain_sigcache_vouch(struct chain_sigcache *c, const struct chain_tx *tx);
uint64_t chain_sigcache_vouched(struct chain_sigcache *c);

#endif
