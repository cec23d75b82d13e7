/* Metadata operations of a share's file system: attributes, creating and
 * removing names, links, renames, statfs and extended attributes. Quota
 * in files is charged before a name is created and credited after the
 * last link of an inode is gone (see fs.h for the locking).
 *
 * Ownership: volumed runs as root, so whatever it creates would be root's;
 * every new file, directory, symlink and FIFO is given to the calling
 * process (fs_chown_to_caller) before the reply, so no client ever sees a
 * root-owned file it just made. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include "fs-internal.h"
#include "macro.h"

/* Completes a create-type operation: reply with the new entry. */
static void reply_new_entry(fuse_req_t req, struct share_fs *fs, struct fs_inode *parent,
			    const char *name)
{
	struct fuse_entry_param e;
	int r = fs_lookup_entry(fs, parent, name, &e);

	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

/* mkdir, symlink, mknod: charge one file, create, chown to the caller. */
static void make_node(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode,
		      dev_t rdev, const char *link_target)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *parent = fs_inode_of(fs, parent_ino);
	_cleanup_close_ int fd = -EBADF;
	int r;

	fs_count_op(fs);
	r = fs_name_check(name);
	if (r < 0)
		goto fail;
	if (fs_name_reserved(fs, parent, name)) {
		r = -EEXIST;
		goto fail;
	}
	r = fs_mutation_begin(fs, parent);
	if (r < 0)
		goto fail;
	r = quota_charge(&fs->quota, 0, 1);
	if (r < 0)
		goto fail_locked;
	if (S_ISDIR(mode))
		r = mkdirat(parent->fd, name, mode & 07777);
	else if (S_ISLNK(mode))
		r = symlinkat(link_target, parent->fd, name);
	else
		r = mknodat(parent->fd, name, mode, rdev);
	if (r < 0) {
		r = -errno;
		quota_charge(&fs->quota, 0, -1);
		goto fail_locked;
	}
	fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fs_chown_to_caller(req, parent, fd) < 0) {
		r = fd < 0 ? -errno : -EIO;
		goto fail_locked;
	}
	reply_new_entry(req, fs, parent, name);
	fs_mutation_end(fs);
	return;
fail_locked:
	fs_mutation_end(fs);
fail:
	fuse_reply_err(req, -r);
}

void fs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	/* Groups get FIFOs, sockets and plain files; device nodes would hand a
	 * container a door to the host's devices. */
	if (!S_ISFIFO(mode) && !S_ISSOCK(mode) && !S_ISREG(mode)) {
		fs_count_op(fs_of(req));
		fuse_reply_err(req, EPERM);
		return;
	}
	make_node(req, parent, name, mode, S_ISREG(mode) ? 0 : rdev, NULL);
}

void fs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make_node(req, parent, name, S_IFDIR | mode, 0, NULL);
}

void fs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	make_node(req, parent, name, S_IFLNK, 0, link);
}

void fs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent_ino, const char *newname)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *inode = fs_inode_of(fs, ino), *newparent = fs_inode_of(fs, newparent_ino);
	int r;

	fs_count_op(fs);
	r = fs_name_check(newname);
	if (r == 0 && fs_name_reserved(fs, newparent, newname))
		r = -EEXIST;
	if (r == 0 && inode->read_only)
		r = -EROFS;
	if (r == 0)
		r = fs_mutation_begin(fs, newparent);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	/* The link is made from the held fd, never by a path (needs
	 * CAP_DAC_READ_SEARCH, which volumed has). Same inode: no quota. */
	if (linkat(inode->fd, "", newparent->fd, newname, AT_EMPTY_PATH) < 0)
		fuse_reply_err(req, errno);
	else
		reply_new_entry(req, fs, newparent, newname);
	fs_mutation_end(fs);
}

/* Credits quota for an inode that just lost the name described by st
 * (stat taken before the removal). */
static void credit_removed(struct share_fs *fs, const struct stat *st)
{
	struct fs_inode *inode;

	if (S_ISDIR(st->st_mode)) {
		quota_charge(&fs->quota, 0, -1);
		return;
	}
	if (st->st_nlink > 1)
		return;
	inode = fs_inode_find(fs, st->st_dev, st->st_ino);
	if (!inode) {
		quota_charge(&fs->quota, S_ISREG(st->st_mode) ? -(int64_t)st->st_size : 0, -1);
		return;
	}
	/* Still open or cached: its size is what quota counted; from now on
	 * writes to it (an unlinked open file) are not charged. */
	pthread_mutex_lock(&inode->lock);
	if (!inode->orphan) {
		quota_charge(&fs->quota, -(int64_t)inode->size, -1);
		inode->orphan = true;
	}
	pthread_mutex_unlock(&inode->lock);
}

static void remove_name(fuse_req_t req, fuse_ino_t parent_ino, const char *name, int flags)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *parent = fs_inode_of(fs, parent_ino);
	struct stat st;
	int r;

	fs_count_op(fs);
	r = fs_name_check(name);
	if (r == 0 && fs_name_reserved(fs, parent, name))
		r = -EROFS;
	if (r == 0)
		r = fs_mutation_begin(fs, parent);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (fstatat(parent->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	else if (unlinkat(parent->fd, name, flags) < 0)
		r = -errno;
	else
		credit_removed(fs, &st);
	fs_mutation_end(fs);
	fuse_reply_err(req, -r);
}

void fs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, 0);
}

void fs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_name(req, parent, name, AT_REMOVEDIR);
}

void fs_op_rename(fuse_req_t req, fuse_ino_t parent_ino, const char *name, fuse_ino_t newparent_ino,
		  const char *newname, unsigned int flags)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *parent = fs_inode_of(fs, parent_ino);
	struct fs_inode *newparent = fs_inode_of(fs, newparent_ino);
	struct stat src, dst;
	bool replaced = false;
	int r;

	fs_count_op(fs);
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	r = fs_name_check(name);
	if (r == 0)
		r = fs_name_check(newname);
	if (r == 0 && (fs_name_reserved(fs, parent, name) ||
		       fs_name_reserved(fs, newparent, newname) || newparent->read_only))
		r = -EROFS;
	if (r == 0)
		r = fs_mutation_begin(fs, parent);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (fstatat(parent->fd, name, &src, AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		goto out;
	}
	if (!(flags & RENAME_EXCHANGE) &&
	    fstatat(newparent->fd, newname, &dst, AT_SYMLINK_NOFOLLOW) == 0)
		replaced = !(dst.st_dev == src.st_dev && dst.st_ino == src.st_ino);
	if (renameat2(parent->fd, name, newparent->fd, newname, flags) < 0) {
		r = -errno;
		goto out;
	}
	if (replaced)
		credit_removed(fs, &dst);
out:
	fs_mutation_end(fs);
	fuse_reply_err(req, -r);
}

void fs_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct share_fs *fs = fs_of(req);
	char buf[PATH_MAX + 1];
	ssize_t len;

	fs_count_op(fs);
	len = readlinkat(fs_inode_of(fs, ino)->fd, "", buf, sizeof(buf));
	if (len < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if ((size_t)len >= sizeof(buf)) {
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	buf[len] = '\0';
	fuse_reply_readlink(req, buf);
}

/* ftruncate with quota: charge growth first, credit shrinkage after. */
static int truncate_inode(struct share_fs *fs, struct fs_inode *inode, int fd, off_t size)
{
	int64_t grow;
	int r = 0;

	pthread_mutex_lock(&inode->lock);
	grow = quota_size_delta(inode->size, (uint64_t)size);
	if (grow > 0 && !inode->orphan)
		r = quota_charge(&fs->quota, grow, 0);
	if (r == 0 && ftruncate(fd, size) < 0) {
		r = -errno;
		if (grow > 0 && !inode->orphan)
			quota_charge(&fs->quota, -grow, 0);
	}
	if (r == 0) {
		if (!inode->orphan && (uint64_t)size < inode->size)
			quota_charge(&fs->quota, -(int64_t)(inode->size - (uint64_t)size), 0);
		inode->size = (uint64_t)size;
	}
	pthread_mutex_unlock(&inode->lock);
	return r;
}

static int setattr_owner(struct share_fs *fs, struct fs_inode *inode, struct stat *attr, int to_set)
{
	uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
	gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

	/* Files show a fixed owner (as an SMB mount with uid=/gid= does):
	 * changing it is refused, "changing" it to what is shown is a no-op. */
	if (fs->override.uid >= 0 && uid != (uid_t)-1) {
		if (uid != (uid_t)fs->override.uid)
			return -EPERM;
		uid = (uid_t)-1;
	}
	if (fs->override.gid >= 0 && gid != (gid_t)-1) {
		if (gid != (gid_t)fs->override.gid)
			return -EPERM;
		gid = (gid_t)-1;
	}
	if (uid == (uid_t)-1 && gid == (gid_t)-1)
		return 0;
	if (fchownat(inode->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int setattr_mode(struct share_fs *fs, struct fs_inode *inode, mode_t mode,
			struct fuse_file_info *fi)
{
	char name[16];

	/* A share with fixed modes ignores chmod, as an SMB mount with
	 * file_mode=/dir_mode= does, so `cp -p` and friends keep working. */
	if ((S_ISDIR(inode->type) && fs->override.dir_mode >= 0) ||
	    (!S_ISDIR(inode->type) && fs->override.file_mode >= 0))
		return 0;
	if (fi) {
		if (fchmod(fs_fh_fd(fi), mode & 07777) < 0)
			return -errno;
		return 0;
	}
	snprintf(name, sizeof(name), "%d", inode->fd);
	if (fchmodat(fs->proc_fd, name, mode & 07777, 0) < 0)
		return -errno;
	return 0;
}

static int setattr_times(struct fs_inode *inode, struct stat *attr, int to_set,
			 struct fuse_file_info *fi)
{
	struct timespec tv[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};

	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;
	if (fi ? futimens(fs_fh_fd(fi), tv) : utimensat(inode->fd, "", tv, AT_EMPTY_PATH))
		return -errno;
	return 0;
}

void fs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		   struct fuse_file_info *fi)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *inode = fs_inode_of(fs, ino);
	struct stat st;
	int r;

	fs_count_op(fs);
	r = fs_mutation_begin(fs, inode);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		r = setattr_owner(fs, inode, attr, to_set);
		if (r < 0)
			goto out;
	}
	if (to_set & FUSE_SET_ATTR_MODE) {
		r = setattr_mode(fs, inode, attr->st_mode, fi);
		if (r < 0)
			goto out;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		_cleanup_close_ int fd = -EBADF;

		if (!S_ISREG(inode->type)) {
			r = S_ISDIR(inode->type) ? -EISDIR : -EINVAL;
			goto out;
		}
		if (!fi) {
			fd = fs_inode_reopen(fs, inode, O_WRONLY);
			if (fd < 0) {
				r = fd;
				goto out;
			}
		}
		r = truncate_inode(fs, inode, fi ? fs_fh_fd(fi) : fd, attr->st_size);
		if (r < 0)
			goto out;
		fs_kill_sxid(req, fi ? fs_fh_fd(fi) : fd);
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
		      FUSE_SET_ATTR_MTIME_NOW)) {
		r = setattr_times(inode, attr, to_set, fi);
		if (r < 0)
			goto out;
	}
	r = fs_inode_stat(fs, inode, &st);
out:
	fs_mutation_end(fs);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, FS_CACHE_TIMEOUT_SEC);
}

void fs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct share_fs *fs = fs_of(req);
	struct statvfs backing, shown;
	struct quota_usage usage;

	fs_count_op(fs);
	if (fstatvfs(fs->root_fd, &backing) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	quota_get(&fs->quota, &usage);
	quota_statfs(&usage, &backing, &shown);
	fuse_reply_statfs(req, &shown);
}

/* xattr system calls on O_PATH fds need the /proc/self/fd path; the magic
 * link resolves to exactly the held inode (never a path walk). */
static void proc_path(struct fs_inode *inode, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", inode->fd);
}

void fs_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		    size_t size, int flags)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *inode = fs_inode_of(fs, ino);
	char path[32];
	int r;

	fs_count_op(fs);
	r = fs_mutation_begin(fs, inode);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	proc_path(inode, path);
	r = setxattr(path, name, value, size, flags) < 0 ? errno : 0;
	fs_mutation_end(fs);
	fuse_reply_err(req, r);
}

void fs_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct share_fs *fs = fs_of(req);
	char path[32];
	ssize_t len;

	fs_count_op(fs);
	proc_path(fs_inode_of(fs, ino), path);
	if (size == 0) {
		len = getxattr(path, name, NULL, 0);
		if (len < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_xattr(req, (size_t)len);
		return;
	}
	_cleanup_free_ char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	len = getxattr(path, name, buf, size);
	if (len < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)len);
}

void fs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct share_fs *fs = fs_of(req);
	char path[32];
	ssize_t len;

	fs_count_op(fs);
	proc_path(fs_inode_of(fs, ino), path);
	if (size == 0) {
		len = listxattr(path, NULL, 0);
		if (len < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_xattr(req, (size_t)len);
		return;
	}
	_cleanup_free_ char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	len = listxattr(path, buf, size);
	if (len < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)len);
}

void fs_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *inode = fs_inode_of(fs, ino);
	char path[32];
	int r;

	fs_count_op(fs);
	r = fs_mutation_begin(fs, inode);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	proc_path(inode, path);
	r = removexattr(path, name) < 0 ? errno : 0;
	fs_mutation_end(fs);
	fuse_reply_err(req, r);
}
