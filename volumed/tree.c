/* Tree copy and removal (see tree.h). Recursion depth is the depth of the
 * tree, one fd per level. */
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "dir.h"
#include "macro.h"
#include "tree.h"

/* Bytes per copy_file_range call: large enough to amortise the call,
 * small enough to stay interruptible. */
#define TREE_COPY_CHUNK (64u * 1024 * 1024)
/* Buffer for one xattr list or value (the VFS limit is 64 KiB). */
#define TREE_XATTR_MAX (64 * 1024)

static void proc_path(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

static int copy_xattrs(int src_fd, int dst_fd)
{
	_cleanup_free_ char *list = malloc(TREE_XATTR_MAX), *value = malloc(TREE_XATTR_MAX);
	char src[32], dst[32];
	ssize_t len;

	if (!list || !value)
		return -ENOMEM;
	/* The non-l calls on /proc/self/fd/N: following the magic link lands
	 * on exactly the held inode (a symlink stays the symlink). */
	proc_path(src_fd, src);
	proc_path(dst_fd, dst);
	len = listxattr(src, list, TREE_XATTR_MAX);
	if (len < 0)
		return errno == ENOTSUP ? 0 : -errno;
	for (char *name = list; name < list + len; name += strlen(name) + 1) {
		ssize_t vlen = getxattr(src, name, value, TREE_XATTR_MAX);
		if (vlen < 0)
			continue;
		if (setxattr(dst, name, value, (size_t)vlen, 0) < 0 && errno != ENOTSUP &&
		    errno != EPERM)
			return -errno;
	}
	return 0;
}

int tree_copy_attrs(int src_fd, int dst_fd, const struct stat *st)
{
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	char dst[32];
	int r;

	if (fchownat(dst_fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st->st_mode)) {
		proc_path(dst_fd, dst);
		/* After chown: chown clears set-id bits. */
		if (chmod(dst, st->st_mode & 07777) < 0)
			return -errno;
	}
	r = copy_xattrs(src_fd, dst_fd);
	if (r < 0)
		return r;
	if (utimensat(dst_fd, "", times, AT_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

int tree_copy_file_data(int src_fd, int dst_fd, struct tree_copy_stats *stats)
{
	struct stat st;
	off_t pos = 0;

	if (fstat(src_fd, &st) < 0)
		return -errno;
	if (ftruncate(dst_fd, 0) < 0)
		return -errno;
	if (ioctl(dst_fd, FICLONE, src_fd) == 0) {
		if (stats) {
			stats->reflinked++;
			stats->bytes += (unsigned long long)st.st_size;
		}
		return 0;
	}
	/* Copy the data segments only, so holes stay holes. */
	while (pos < st.st_size) {
		off_t data = lseek(src_fd, pos, SEEK_DATA);
		off_t hole;

		if (data < 0) {
			if (errno == ENXIO)
				break; /* only a hole is left */
			return -errno;
		}
		hole = lseek(src_fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		while (data < hole) {
			off_t in = data, out = data;
			size_t chunk = (size_t)MIN((off_t)TREE_COPY_CHUNK, hole - data);
			ssize_t n = copy_file_range(src_fd, &in, dst_fd, &out, chunk, 0);
			if (n < 0)
				return -errno;
			if (n == 0)
				break; /* shrunk meanwhile */
			data += n;
			if (stats)
				stats->bytes += (unsigned long long)n;
		}
		pos = hole;
	}
	if (ftruncate(dst_fd, st.st_size) < 0)
		return -errno;
	return 0;
}

static int copy_dir_entries(int src_fd, int dst_fd, const char *skip_name,
			    struct tree_copy_stats *stats)
{
	struct dirent *de;
	DIR *d;
	int r;

	r = dir_stream_at(src_fd, ".", 0, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (skip_name && streq(de->d_name, skip_name))
			continue;
		r = tree_copy(dirfd(d), de->d_name, dst_fd, de->d_name, NULL, stats);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

int tree_copy(int src_dir, const char *src_name, int dst_dir, const char *dst_name,
	      const char *skip_name, struct tree_copy_stats *stats)
{
	_cleanup_close_ int src = -EBADF, dst = -EBADF;
	struct stat st;
	int r;

	src = openat(src_dir, src_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		return -errno;
	if (fstat(src, &st) < 0)
		return -errno;
	if (stats)
		stats->files++;
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int in = -EBADF;
		char path[32];

		proc_path(src, path);
		in = open(path, O_RDONLY | O_CLOEXEC);
		if (in < 0)
			return -errno;
		dst = openat(dst_dir, dst_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0600);
		if (dst < 0)
			return -errno;
		r = tree_copy_file_data(in, dst, stats);
		if (r < 0)
			return r;
	} else if (S_ISDIR(st.st_mode)) {
		if (mkdirat(dst_dir, dst_name, 0700) < 0)
			return -errno;
		dst = openat(dst_dir, dst_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dst < 0)
			return -errno;
		r = copy_dir_entries(src, dst, skip_name, stats);
		if (r < 0)
			return r;
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t len = readlinkat(src, "", target, sizeof(target) - 1);

		if (len < 0)
			return -errno;
		target[len] = '\0';
		if (symlinkat(target, dst_dir, dst_name) < 0)
			return -errno;
		dst = openat(dst_dir, dst_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (dst < 0)
			return -errno;
	} else if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		if (mknodat(dst_dir, dst_name, st.st_mode & (S_IFMT | 07777), 0) < 0)
			return -errno;
		dst = openat(dst_dir, dst_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (dst < 0)
			return -errno;
	} else {
		return 0; /* device nodes cannot be made through a share */
	}
	return tree_copy_attrs(src, dst, &st);
}

int tree_remove(int dir, const char *name)
{
	struct stat st;
	int r = 0;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		struct dirent *de;
		DIR *d;

		r = dir_stream_at(dir, name, O_NOFOLLOW, &d);
		if (r < 0)
			return r;
		while ((de = readdir(d))) {
			if (streq(de->d_name, ".") || streq(de->d_name, ".."))
				continue;
			r = tree_remove(dirfd(d), de->d_name);
			if (r < 0)
				break;
		}
		closedir(d);
		if (r < 0)
			return r;
		if (unlinkat(dir, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (unlinkat(dir, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
