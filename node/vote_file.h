/*
 * vote_file.h - the durable copy of the consensus core's vote record (what
 * the validator signed), kept outside the block store, in the validator's
 * home directory: moving a damaged data directory away, or a write-ahead log
 * that RocksDB recovers only up to a damaged record, must not make the
 * validator forget a vote and sign a conflicting one.
 *
 * Two files, DIR/votes-a and DIR/votes-b, take the saves in turn. Each holds
 * one record with a sequence number and a SHA-256 over both, so a save torn
 * by a crash spoils only the file being written, and loading takes the valid
 * file with the higher sequence number. A save returns once the record is
 * on disk (fdatasync).
 */
#ifndef NODE_VOTE_FILE_H
#define NODE_VOTE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct vote_file;

/*
 * vote_file_open opens (creating if need be) the two files in dir and loads
 * the latest record into rec: *found is false if neither file has one yet
 * (a new validator, or a first save torn by a crash). Both files holding
 * damaged records is an error (CH_E_DB) that names them: what the validator
 * signed is then unknown.
 */
int vote_file_open(struct vote_file **out, const char *dir, struct ch_buf *rec, bool *found,
		   struct ch_err *err);

/* vote_file_save writes rec durably, replacing the older of the two records. */
int vote_file_save(struct vote_file *f, const uint8_t *rec, size_t len, struct ch_err *err);

void vote_file_close(struct vote_file *f); /* NULL is fine */

#endif
