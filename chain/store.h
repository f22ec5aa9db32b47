/*
 * store.h - the node's RocksDB database: blocks with their commit
 * certificates, the transaction index, account state and metadata.
 *
 * Keys (one column family, a one-byte prefix per kind):
 *   'M' name            metadata (tip, genesis hash, consensus records)
 *   'B' height u64      block encoding
 *   'C' height u64      commit certificate encoding
 *   'H' block hash      height u64
 *   'T' tx hash         height u64 | index u32
 *   'A' address         balance u64 | nonce u64
 *   'D' owner | name    value
 * Every block commits in one synced WriteBatch together with its state
 * writes and the new tip, so a crash leaves either all of a block or none.
 *
 * Threading: a store may be read from any thread; writes (commit, put_meta)
 * come from one thread at a time.
 */
#ifndef CHAIN_STORE_H
#define CHAIN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/block.h"
#include "chain/state.h"
#include "common/buf.h"
#include "common/err.h"

struct chain_store;

/* The last committed block. height 0 means only genesis state exists. */
struct chain_tip {
	uint64_t height;
	uint8_t hash[CR_HASH_LEN];         /* zero at height 0 */
	uint8_t state_digest[CR_HASH_LEN]; /* after the tip block (or genesis) */
	uint64_t time_ms;                  /* tip block's time (genesis time at 0) */
};

/*
 * chain_store_open opens (creating if needed) the database in dir. Errors:
 * CH_E_CORRUPT if RocksDB finds the directory damaged, else CH_E_DB, each
 * with RocksDB's message.
 */
int chain_store_open(struct chain_store **out, const char *dir, struct ch_err *err);

/*
 * An in-memory file system for stores, for simulations and tests: a store
 * opened on it keeps what it wrote across a close and a new open of the same
 * dir (a restart), and everything is gone with the env. Free it after every
 * store on it is closed.
 */
struct chain_mem_env;
int chain_mem_env_new(struct chain_mem_env **out, struct ch_err *err);
void chain_mem_env_free(struct chain_mem_env *env); /* NULL is fine */

/* chain_store_open_mem is chain_store_open on env instead of the disk. */
int chain_store_open_mem(struct chain_store **out, struct chain_mem_env *env, const char *dir,
			 struct ch_err *err);

/*
 * chain_store_verify reads every record with its checksum (a full scan) and
 * fails with CH_E_CORRUPT naming the damaged file if any does not match.
 * keys gets the number of records read.
 */
int chain_store_verify(struct chain_store *s, uint64_t *keys, struct ch_err *err);

/*
 * chain_store_backup copies every record of the database in data_dir into a
 * new database dest_dir, as of one moment: it may run while a validator has
 * data_dir open and writes to it. It reads as a RocksDB secondary instance
 * caught up with that writer (its own files in a temporary directory under
 * $TMPDIR or /tmp, removed afterwards), so it takes no lock on data_dir and
 * writes nothing there; a stopped database is read the same way. Records
 * are read with their checksums (CH_E_CORRUPT names the damage); the copy
 * ends with a synced write and a flush, so it is on disk when this returns.
 * keys gets the number of records copied. dest_dir must not exist
 * (CH_E_EXISTS) and its parent must; on failure what was written there is
 * removed. Errors CH_E_DB, CH_E_CORRUPT, CH_E_IO, each naming the directory.
 */
int chain_store_backup(const char *data_dir, const char *dest_dir, uint64_t *keys,
		       struct ch_err *err);

/* chain_store_close closes the database. NULL is fine. */
void chain_store_close(struct chain_store *s);

/*
 * chain_store_genesis returns whether genesis was applied and, if so, the
 * hash of the genesis file it was applied from (to refuse a foreign chain).
 */
int chain_store_genesis(struct chain_store *s, bool *applied, uint8_t genesis_hash[CR_HASH_LEN],
			struct ch_err *err);

/*
 * chain_store_apply_genesis writes the genesis state (x), the tip at height
 * 0 with state digest and time, and genesis_hash, in one synced batch.
 */
int chain_store_apply_genesis(struct chain_store *s, const uint8_t genesis_hash[CR_HASH_LEN],
			      const struct chain_exec *x, const uint8_t digest[CR_HASH_LEN],
			      uint64_t time_ms, struct ch_err *err);

int chain_store_tip(struct chain_store *s, struct chain_tip *out, struct ch_err *err);

/*
 * chain_store_commit writes block b (its encoding is recomputed), cert, the
 * tx index, the writes of x and the new tip (digest = state digest after b)
 * in one synced WriteBatch. b->header.height must be tip height + 1
 * (CH_E_INVALID otherwise).
 */
int chain_store_commit(struct chain_store *s, const struct chain_block *b,
		       const struct chain_cert *cert, const struct chain_exec *x,
		       const uint8_t digest[CR_HASH_LEN], struct ch_err *err);

/* chain_store_reader returns a reader over committed state (borrows s). */
struct chain_state_reader chain_store_reader(struct chain_store *s);

/* Reads. Values are appended to caller-owned buffers; CH_E_NOT_FOUND if absent. */
int chain_store_block(struct chain_store *s, uint64_t height, struct ch_buf *block,
		      struct ch_buf *cert, struct ch_err *err);
int chain_store_height_of(struct chain_store *s, const uint8_t block_hash[CR_HASH_LEN],
			  uint64_t *height, struct ch_err *err);
int chain_store_tx_location(struct chain_store *s, const uint8_t tx_hash[CR_HASH_LEN],
			    uint64_t *height, uint32_t *index, struct ch_err *err);

/*
 * chain_store_observe_syncs has fn called after each synced write (a
 * commit, a synced put) with how long it took, on the writing thread.
 * fn NULL stops it. Set it before other threads write.
 */
void chain_store_observe_syncs(struct chain_store *s, void (*fn)(void *arg, double seconds),
			       void *arg);

/*
 * chain_store_values lists owner's data values in name order, after the
 * name `after` ("" for the first), at most max of them: fn gets each name
 * (NUL-terminated) and value. *more says whether others follow. Errors
 * CH_E_DB, or fn's non-zero return.
 */
int chain_store_values(struct chain_store *s, const uint8_t owner[CR_ADDR_LEN], const char *after,
		       size_t max,
		       int (*fn)(void *arg, const char *name, const uint8_t *value, size_t len),
		       void *arg, bool *more, struct ch_err *err);

/* Metadata records for other modules (e.g. consensus state). put is synced. */
int chain_store_put_meta(struct chain_store *s, const char *name, const void *val, size_t len,
			 struct ch_err *err);
int chain_store_get_meta(struct chain_store *s, const char *name, struct ch_buf *val,
			 struct ch_err *err);

#endif
