/*
 * vote_file.c - see vote_file.h. Each file holds
 *
 *   "CVR1" | seq u64 | len u32 | record (len bytes) | SHA-256 of all before it
 *
 * written with one pwrite at offset 0 and then fdatasync. Bytes after the
 * trailer (left by a longer earlier record) are ignored.
 */
#include "node/vote_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"

#define MAGIC "CVR1"
#define HEAD_LEN 16
#define MAX_FILE (512u << 20) /* far above any record: a NEW-VIEW block and a prepared one */

struct vote_file {
	int fd[2];
	char path[2][1100];
	uint64_t seq; /* of the latest record, 0: none */
	int next;     /* the file the next save writes: the one without the latest record */
};

/* read_all reads the whole of fd into b (at most MAX_FILE bytes). */
static int
read_all(int fd, struct ch_buf *b)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -1;
	if ((uint64_t)st.st_size > MAX_FILE || !ch_buf_reserve(b, (size_t)st.st_size + 1))
		return -1;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, b->data + got, (size_t)st.st_size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	b->len = got;
	return 0;
}

/*
 * parse checks one file's bytes: true with *seq and the record's place if it
 * holds an intact record. An empty file holds none and is not damaged.
 */
static bool
parse(const struct ch_buf *b, uint64_t *seq, const uint8_t **rec, size_t *len)
{
	struct ch_rd r;
	uint8_t want[CR_HASH_LEN];
	ch_rd_init(&r, b->data, b->len);
	const uint8_t *magic = ch_rd_ptr(&r, 4);
	*seq = ch_rd_u64(&r);
	uint32_t n = ch_rd_u32(&r);
	*rec = ch_rd_ptr(&r, n);
	const uint8_t *sum = ch_rd_ptr(&r, CR_HASH_LEN);
	if (magic == NULL || memcmp(magic, MAGIC, 4) != 0 || *rec == NULL || sum == NULL ||
	    *seq == 0)
		return false;
	cr_sha256(b->data, HEAD_LEN + n, want);
	*len = n;
	return memcmp(want, sum, CR_HASH_LEN) == 0;
}

static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int
vote_file_open(struct vote_file **out, const char *dir, struct ch_buf *rec, bool *found,
	       struct ch_err *err)
{
	struct vote_file *f = calloc(1, sizeof(*f));
	struct ch_buf b[2];
	bool created = false, intact[2] = {false, false}, empty[2] = {false, false};
	uint64_t seq[2] = {0, 0};
	const uint8_t *r[2] = {NULL, NULL};
	size_t len[2] = {0, 0};
	int rc = 0;
	*found = false;
	if (f == NULL)
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	f->fd[0] = f->fd[1] = -1;
	ch_buf_init(&b[0]);
	ch_buf_init(&b[1]);
	for (int i = 0; i < 2 && rc == 0; i++) {
		snprintf(f->path[i], sizeof(f->path[i]), "%s/votes-%c", dir, 'a' + i);
		f->fd[i] = open(f->path[i], O_RDWR | O_CLOEXEC);
		if (f->fd[i] < 0 && errno == ENOENT) {
			f->fd[i] = open(f->path[i], O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			created = true;
		}
		if (f->fd[i] < 0 || read_all(f->fd[i], &b[i]) != 0)
			rc = ch_errf(err, CH_E_IO, "vote record %s: %s", f->path[i], strerror(errno));
		else if (b[i].len == 0)
			empty[i] = true;
		else
			intact[i] = parse(&b[i], &seq[i], &r[i], &len[i]);
	}
	if (rc == 0 && created && sync_dir(dir) != 0)
		rc = ch_errf(err, CH_E_IO, "vote record in %s: %s", dir, strerror(errno));
	if (rc == 0 && !intact[0] && !intact[1] && !empty[0] && !empty[1])
		rc = ch_errf(err, CH_E_DB,
			     "the vote records %s and %s are both damaged: what this validator "
			     "signed is unknown, and starting could make it sign twice",
			     f->path[0], f->path[1]);
	if (rc == 0 && (intact[0] || intact[1])) {
		int latest = intact[0] && (!intact[1] || seq[0] > seq[1]) ? 0 : 1;
		f->seq = seq[latest];
		f->next = 1 - latest;
		rec->len = 0;
		ch_buf_put(rec, r[latest], len[latest]);
		if (!ch_buf_ok(rec))
			rc = ch_errf(err, CH_E_NOMEM, "out of memory");
		*found = rc == 0;
	}
	ch_buf_close(&b[0]);
	ch_buf_close(&b[1]);
	if (rc != 0) {
		vote_file_close(f);
		return rc;
	}
	*out = f;
	return 0;
}

int
vote_file_save(struct vote_file *f, const uint8_t *rec, size_t len, struct ch_err *err)
{
	struct ch_buf b;
	uint8_t sum[CR_HASH_LEN];
	int i = f->next, rc = 0;
	if (len > MAX_FILE - HEAD_LEN - CR_HASH_LEN)
		return ch_errf(err, CH_E_TOO_LARGE, "vote record of %zu bytes", len);
	ch_buf_init(&b);
	ch_buf_put(&b, MAGIC, 4);
	ch_buf_u64(&b, f->seq + 1);
	ch_buf_u32(&b, (uint32_t)len);
	ch_buf_put(&b, rec, len);
	if (ch_buf_ok(&b)) {
		cr_sha256(b.data, b.len, sum);
		ch_buf_put(&b, sum, sizeof(sum));
	}
	if (!ch_buf_ok(&b)) {
		ch_buf_close(&b);
		return ch_errf(err, CH_E_NOMEM, "out of memory");
	}
	for (size_t off = 0; off < b.len && rc == 0;) {
		ssize_t w = pwrite(f->fd[i], b.data + off, b.len - off, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = ch_errf(err, CH_E_IO, "vote record %s: %s", f->path[i],
				     w < 0 ? strerror(errno) : "nothing written");
		else
			off += (size_t)w;
	}
	if (rc == 0 && fdatasync(f->fd[i]) != 0)
		rc = ch_errf(err, CH_E_IO, "vote record %s: %s", f->path[i], strerror(errno));
	ch_buf_close(&b);
	if (rc == 0) {
		f->seq++;
		f->next = 1 - i;
	}
	return rc;
}

void
vote_file_close(struct vote_file *f)
{
	if (f == NULL)
		return;
	for (int i = 0; i < 2; i++)
		if (f->fd[i] >= 0)
			close(f->fd[i]);
	free(f);
}
