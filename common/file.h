/*
 * file.h - whole-file reads and writes for configuration and key material.
 */
#ifndef CH_FILE_H
#define CH_FILE_H

#include <stddef.h>

#include "common/err.h"

/*
 * ch_read_file reads path (at most max bytes) into a malloc'd buffer with a
 * NUL after the last byte; the caller frees *out. *len (may be NULL) gets
 * the length. CH_E_IO names the file and the reason, CH_E_TOO_LARGE if it
 * holds more than max bytes, CH_E_NOMEM.
 */
int ch_read_file(const char *path, size_t max, char **out, size_t *len, struct ch_err *err);

/*
 * ch_write_new_file creates path with mode and writes data, synced to disk
 * before it returns. It never replaces a file: CH_E_EXISTS if path exists.
 * A failed write removes the partial file (CH_E_IO).
 */
int ch_write_new_file(const char *path, const char *data, size_t len, int mode,
		      struct ch_err *err);

/*
 * ch_remove_tree removes path and, if it is a directory, everything under
 * it (symbolic links are removed, not followed). A path that does not exist
 * is not an error. CH_E_IO names what could not be removed.
 */
int ch_remove_tree(const char *path, struct ch_err *err);

#endif
