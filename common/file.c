#include "common/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
ch_read_file(const char *path, size_t max, char **out, size_t *len, struct ch_err *err)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return ch_errf(err, CH_E_IO, "cannot open %s: %s", path, strerror(errno));
	char *buf = malloc(max + 1);
	if (buf == NULL) {
		fclose(f);
		return ch_errf(err, CH_E_NOMEM, "out of memory reading %s", path);
	}
	size_t n = fread(buf, 1, max + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad || n > max) {
		free(buf);
		return ch_errf(err, bad ? CH_E_IO : CH_E_TOO_LARGE, "%s: %s", path,
			       bad ? "read error" : "file too large");
	}
	buf[n] = '\0';
	*out = buf;
	if (len != NULL)
		*len = n;
	return 0;
}

int
ch_write_new_file(const char *path, const char *data, size_t len, int mode, struct ch_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0) {
		if (errno == EEXIST)
			return ch_errf(err, CH_E_EXISTS, "%s already exists", path);
		return ch_errf(err, CH_E_IO, "cannot create %s: %s", path, strerror(errno));
	}
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			unlink(path);
			return ch_errf(err, CH_E_IO, "cannot write %s: %s", path, strerror(e));
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(path);
		return ch_errf(err, CH_E_IO, "cannot write %s: %s", path, strerror(errno));
	}
	return 0;
}

int
ch_remove_tree(const char *path, struct ch_err *err)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return ch_errf(err, CH_E_IO, "cannot remove %s: %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) == 0)
			return 0;
		return ch_errf(err, CH_E_IO, "cannot remove %s: %s", path, strerror(errno));
	}
	DIR *d = opendir(path);
	if (d == NULL)
		return ch_errf(err, CH_E_IO, "cannot remove %s: %s", path, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t n = strlen(path) + strlen(e->d_name) + 2;
		char *sub = malloc(n);
		if (sub == NULL) {
			rc = ch_errf(err, CH_E_NOMEM, "out of memory removing %s", path);
			break;
		}
		snprintf(sub, n, "%s/%s", path, e->d_name);
		rc = ch_remove_tree(sub, err);
		free(sub);
	}
	closedir(d);
	if (rc == 0 && rmdir(path) != 0)
		rc = ch_errf(err, CH_E_IO, "cannot remove %s: %s", path, strerror(errno));
	return rc;
}
