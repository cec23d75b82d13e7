/* Atomic, durable state files (see state-file.h). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dir.h"
#include "macro.h"
#include "state-file.h"

#define TMP_PREFIX ".tmp-"

int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int state_dir_open(const char *path, int *ret_fd)
{
	int r = mkdir_p(path, 0755);
	if (r < 0)
		return r;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

static int write_all(int fd, const char *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

int state_write_json(int dir_fd, const char *name, json_t *value)
{
	char tmp[512];
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (strchr(name, '/') || strlen(name) > 255)
		return -EINVAL;
	text = json_dumps(value, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%d-%s", (int)getpid(), name);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text, strlen(text));
	if (r >= 0)
		r = write_all(fd, "\n", 1);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dir_fd, tmp, 0);
		return r;
	}
	if (fsync(dir_fd) < 0)
		return -errno;
	return 0;
}

int state_read_json(int dir_fd, const char *name, json_t **ret_value)
{
	_cleanup_close_ int fd = -EBADF;
	json_error_t jerr;
	FILE *f;
	json_t *v;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "r");
	if (!f)
		return -errno;
	TAKE_FD(fd);
	v = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!v)
		return -EBADMSG;
	*ret_value = v;
	return 0;
}

int state_remove(int dir_fd, const char *name)
{
	if (unlinkat(dir_fd, name, 0) < 0) {
		if (errno == ENOENT)
			return 0;
		return -errno;
	}
	if (fsync(dir_fd) < 0)
		return -errno;
	return 0;
}

int state_foreach(int dir_fd, const char *suffix, int (*cb)(int dir_fd, const char *name, void *userdata),
		  void *userdata)
{
	_cleanup_closedir_ DIR *d = NULL;
	size_t suffix_len = strlen(suffix);
	int r;

	r = dir_stream_at(dir_fd, ".", 0, &d);
	if (r < 0)
		return r;
	for (struct dirent *de; (de = readdir(d));) {
		size_t len = strlen(de->d_name);

		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
			/* Left by a write interrupted before its rename. */
			unlinkat(dir_fd, de->d_name, 0);
			continue;
		}
		if (len <= suffix_len || strcmp(de->d_name + len - suffix_len, suffix) != 0)
			continue;
		r = cb(dir_fd, de->d_name, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}
