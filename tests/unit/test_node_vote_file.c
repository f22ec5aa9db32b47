/*
 * The vote files (node/vote_file.c) in a temporary directory: saves in turn,
 * a save torn by a crash or damaged on disk falls back to the record
 * before it, and two damaged files refuse to load.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/vote_file.h"
#include "test.h"

static char dir[] = "/tmp/test_vote_file.XXXXXX";

static char *
path(char which)
{
	static char p[128];
	snprintf(p, sizeof(p), "%s/votes-%c", dir, which);
	return p;
}

/* load opens the files, returning the record's first byte (-1: none, -2: error). */
static int
load(size_t *len, int *code)
{
	struct vote_file *f = NULL;
	struct ch_buf rec;
	struct ch_err err;
	bool found = false;
	ch_buf_init(&rec);
	int rc = vote_file_open(&f, dir, &rec, &found, &err);
	int first = rc != 0 ? -2 : !found ? -1 : rec.data[0];
	if (len != NULL)
		*len = rec.len;
	if (code != NULL)
		*code = rc;
	vote_file_close(f);
	ch_buf_close(&rec);
	return first;
}

/* save opens the files and saves a record of len bytes, each `byte`. */
static int
save(uint8_t byte, size_t len)
{
	struct vote_file *f = NULL;
	struct ch_buf rec;
	struct ch_err err;
	bool found;
	ch_buf_init(&rec);
	int rc = vote_file_open(&f, dir, &rec, &found, &err);
	uint8_t *data = malloc(len);
	memset(data, byte, len);
	if (rc == 0)
		rc = vote_file_save(f, data, len, &err);
	free(data);
	vote_file_close(f);
	ch_buf_close(&rec);
	return rc;
}

static off_t
file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_size : -1;
}

static void
flip(const char *p, off_t at)
{
	int fd = open(p, O_RDWR);
	uint8_t b = 0;
	if (fd >= 0 && pread(fd, &b, 1, at) == 1) {
		b ^= 0x40;
		CHECK(pwrite(fd, &b, 1, at) == 1);
	}
	if (fd >= 0)
		close(fd);
}

static void
test_new_and_round_trip(void)
{
	size_t len = 0;
	CHECK_EQ_INT(load(NULL, NULL), -1); /* nothing yet: found is false */
	CHECK_EQ_INT(save(1, 100), 0);
	CHECK_EQ_INT(load(&len, NULL), 1);
	CHECK_EQ_INT(len, 100);
	CHECK_EQ_INT(save(2, 5000), 0); /* into the other file */
	CHECK_EQ_INT(load(&len, NULL), 2);
	CHECK_EQ_INT(len, 5000);
	CHECK_EQ_INT(save(3, 10), 0); /* back to the first, shorter than before */
	CHECK_EQ_INT(load(&len, NULL), 3);
	CHECK_EQ_INT(len, 10);
	CHECK(file_size(path('a')) > 0 && file_size(path('b')) > 0);
}

static void
test_torn_save(void)
{
	/* the latest (3) is in votes-a: cut it inside its record, as a crash would */
	CHECK(truncate(path('a'), 30) == 0);
	size_t len = 0;
	CHECK_EQ_INT(load(&len, NULL), 2);
	CHECK_EQ_INT(len, 5000);
	/* the next save goes to the torn file, and wins again */
	CHECK_EQ_INT(save(4, 64), 0);
	CHECK_EQ_INT(load(&len, NULL), 4);
	CHECK_EQ_INT(len, 64);
}

static void
test_damaged(void)
{
	/* a flipped bit in the latest record (votes-a): the one before it is used */
	flip(path('a'), 20);
	CHECK_EQ_INT(load(NULL, NULL), 2);
	/* both damaged: refused, since what was signed is unknown */
	flip(path('b'), 100);
	int code = 0;
	CHECK_EQ_INT(load(NULL, &code), -2);
	CHECK_EQ_INT(code, CH_E_DB);
	/* a save cannot mend that silently either: it needs the files loaded first */
	CHECK(save(5, 10) != 0);
}

static void
test_first_save_torn(void)
{
	unlink(path('a'));
	unlink(path('b'));
	CHECK_EQ_INT(save(7, 100), 0);
	CHECK(truncate(path('a'), 10) == 0); /* the only save, torn: it was never sent */
	CHECK_EQ_INT(load(NULL, NULL), -1);
	CHECK_EQ_INT(save(8, 100), 0);
	CHECK_EQ_INT(load(NULL, NULL), 8);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	RUN(test_new_and_round_trip);
	RUN(test_torn_save);
	RUN(test_damaged);
	RUN(test_first_save_torn);
	unlink(path('a'));
	unlink(path('b'));
	rmdir(dir);
	return TEST_DONE();
}
