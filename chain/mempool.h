/*
 * mempool.h - the bounded pool of valid, not yet committed transactions.
 *
 * Bounded by count and by encoded bytes; deduplicated by hash; each
 * sender's transactions are kept in nonce order. A transaction is admitted
 * if its nonce is at least the account nonce and at most account nonce +
 * max_nonce_gap, and no other pooled transaction of the sender has the same
 * nonce. chain_mempool_select returns, per sender, the run of consecutive
 * nonces that starts at the account nonce, in order of arrival of each
 * sender's first transaction, so a block can be cut from it directly.
 * After a block commits, chain_mempool_drop_below drops what its senders'
 * new nonces made stale, and chain_mempool_expire what outlived its TTL.
 *
 * The mempool copies transactions in; pointers it returns stay valid until
 * the next add, remove or update. Not thread-safe: owned by the node loop.
 */
#ifndef CHAIN_MEMPOOL_H
#define CHAIN_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/tx.h"
#include "common/err.h"

struct chain_mempool_config {
	size_t max_txs;         /* e.g. 50000 */
	size_t max_bytes;       /* e.g. 64 MiB of encoded transactions */
	uint64_t ttl_ms;        /* drop after this long unconfirmed */
	uint64_t max_nonce_gap; /* admit nonce <= account nonce + gap */
};

struct chain_mempool;

int chain_mempool_new(struct chain_mempool **out, const struct chain_mempool_config *cfg);
void chain_mempool_free(struct chain_mempool *mp);

/*
 * chain_mempool_add copies tx in. account_nonce is the sender's committed
 * nonce. Errors: CH_E_KNOWN (same hash pooled), CH_E_NONCE_TOO_LOW (below
 * the account nonce or another pooled tx has this nonce), CH_E_NONCE_TOO_HIGH,
 * CH_E_MEMPOOL_FULL, CH_E_NOMEM; each with a message for the client.
 */
int chain_mempool_add(struct chain_mempool *mp, const struct chain_tx *tx,
		      uint64_t account_nonce, uint64_t now_ms, struct ch_err *err);

/* chain_mempool_get returns the pooled tx with this hash, or NULL. */
const struct chain_tx *chain_mempool_get(const struct chain_mempool *mp,
					 const uint8_t hash[CR_HASH_LEN]);

/* chain_mempool_remove drops one tx by hash (no-op if absent). */
void chain_mempool_remove(struct chain_mempool *mp, const uint8_t hash[CR_HASH_LEN]);

/*
 * Callback giving a sender's committed account nonce. Returns 0 or an
 * error code (then the sender's transactions are left alone).
 */
typedef int (*chain_nonce_fn)(void *arg, const uint8_t addr[CR_ADDR_LEN], uint64_t *nonce);

/*
 * chain_mempool_select writes up to max_txs pointers into out, stopping
 * before max_bytes of encodings, per the ordering above. It does not
 * remove anything. Returns the number written.
 */
size_t chain_mempool_select(const struct chain_mempool *mp, chain_nonce_fn nonce_of, void *arg,
			    size_t max_txs, size_t max_bytes, const struct chain_tx **out);

/* chain_mempool_drop_below drops addr's transactions whose nonce is below nonce. */
void chain_mempool_drop_below(struct chain_mempool *mp, const uint8_t addr[CR_ADDR_LEN],
			      uint64_t nonce);

/* chain_mempool_expire drops the transactions older than the TTL at now_ms. */
void chain_mempool_expire(struct chain_mempool *mp, uint64_t now_ms);

/*
 * chain_mempool_next_nonce returns the first nonce after the run of
 * consecutive pooled nonces of addr that starts at account_nonce (so
 * account_nonce itself when nothing of addr is pooled): the nonce a client
 * should sign with next.
 */
uint64_t chain_mempool_next_nonce(const struct chain_mempool *mp, const uint8_t addr[CR_ADDR_LEN],
				  uint64_t account_nonce);

size_t chain_mempool_count(const struct chain_mempool *mp);
size_t chain_mempool_bytes(const struct chain_mempool *mp);

#endif
