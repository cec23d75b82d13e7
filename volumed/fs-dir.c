/* Directory listing of a share's file system: opendir/readdir(plus) on a
 * real directory stream of the backing directory. readdirplus answers
 * with full entries (one lookup reference each) so `ls -l` costs one
 * request per buffer, not one per file. The name ".snapshots" in the
 * backing root is hidden: at the root that name is the snapshot
 * directory. A handle is used by one request at a time (the kernel
 * serialises readdir on one open directory). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "fs-internal.h"
#include "macro.h"
#include "share.h"
#include "xalloc.h"

struct fs_dir {
	DIR *stream;
	off_t offset;
	struct dirent *entry; /* read but not yet returned (buffer was full) */
};

static struct fs_dir *dir_of(struct fuse_file_info *fi)
{
	return (struct fs_dir *)(uintptr_t)fi->fh;
}

void fs_op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct share_fs *fs = fs_of(req);
	struct fs_dir *d;
	int fd;

	fs_count_op(fs);
	fd = openat(fs_inode_of(fs, ino)->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	d = xcalloc(1, sizeof(*d));
	d->stream = fdopendir(fd);
	if (!d->stream) {
		int r = errno;
		close(fd);
		free(d);
		fuse_reply_err(req, r);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	/* The kernel may keep listings: they change only through this mount,
	 * which invalidates them on every change. */
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		closedir(d->stream);
		free(d);
	}
}

static bool is_dot(const char *name)
{
	return streq(name, ".") || streq(name, "..");
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset,
		       struct fuse_file_info *fi, bool plus)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *inode = fs_inode_of(fs, ino);
	struct fs_dir *d = dir_of(fi);
	_cleanup_free_ char *buf = xmalloc(size);
	char *p = buf;
	size_t rem = size;
	int err = 0;

	fs_count_op(fs);
	if (offset != d->offset) {
		seekdir(d->stream, offset);
		d->entry = NULL;
		d->offset = offset;
	}
	for (;;) {
		size_t entsize;
		const char *name;
		off_t next;

		if (!d->entry) {
			errno = 0;
			d->entry = readdir(d->stream);
			if (!d->entry) {
				err = errno;
				break;
			}
		}
		next = d->entry->d_off;
		name = d->entry->d_name;
		if (inode == fs->root && streq(name, SHARE_SNAPSHOT_DIR)) {
			d->entry = NULL;
			d->offset = next;
			continue;
		}
		if (plus) {
			struct fuse_entry_param e = {.ino = 0};

			if (is_dot(name)) {
				e.attr.st_ino = d->entry->d_ino;
				e.attr.st_mode = (mode_t)d->entry->d_type << 12;
			} else {
				int r = fs_lookup_entry(fs, inode, name, &e);
				if (r == -ENOENT) { /* gone since readdir */
					d->entry = NULL;
					d->offset = next;
					continue;
				}
				if (r < 0) {
					err = -r;
					break;
				}
			}
			entsize = fuse_add_direntry_plus(req, p, rem, name, &e, next);
			if (entsize > rem) {
				if (e.ino)
					fs_inode_unref(fs, fs_inode_of(fs, e.ino), 1);
				break;
			}
		} else {
			struct stat st = {
			    .st_ino = d->entry->d_ino,
			    .st_mode = (mode_t)d->entry->d_type << 12,
			};
			entsize = fuse_add_direntry(req, p, rem, name, &st, next);
			if (entsize > rem)
				break;
		}
		p += entsize;
		rem -= entsize;
		d->entry = NULL;
		d->offset = next;
	}
	/* An error after some entries: return those, the error comes next time. */
	if (err && rem == size)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, buf, size - rem);
}

void fs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

void fs_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

void fs_op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_dir *d = dir_of(fi);

	closedir(d->stream);
	free(d);
	fuse_reply_err(req, 0);
}

void fs_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	int fd = dirfd(dir_of(fi)->stream);
	int r = datasync ? fdatasync(fd) : fsync(fd);

	fuse_reply_err(req, r < 0 ? errno : 0);
}
