/*
 * tmpdir.h - temporary directories for tests: made under /tmp with a name
 * that says whose they are, removed with everything in them.
 */
#ifndef TEST_TMPDIR_H
#define TEST_TMPDIR_H

#include <stddef.h>

/* test_tmpdir makes /tmp/<prefix>.XXXXXX into out (cap bytes); 0, or -1 with errno. */
int test_tmpdir(char *out, size_t cap, const char *prefix);

/* test_rmtree removes path and everything under it, without following links (best effort). */
void test_rmtree(const char *path);

/* test_write_file writes text to dir/name, replacing the file; 0, or -1 with errno. */
int test_write_file(const char *dir, const char *name, const char *text);

#endif
