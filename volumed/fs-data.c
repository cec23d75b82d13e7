/* File data operations of a share's file system: open/create, read and
 * write (spliced between /dev/fuse and the backing file where the kernel
 * allows it), fsync, fallocate, copy_file_range and lseek. File handles
 * are real fds of the backing file (fi->fh, with the I/O mode above the fd).
 *
 * I/O modes: every open of a regular file is in kernel passthrough mode
 * (the kernel reads, writes and maps the backing file itself; volumed sees
 * no READ or WRITE), since while a file has a backing file the kernel
 * takes no other kind of open of it. An open that writes on a share with
 * a byte quota adds direct I/O: its reads and writes come to volumed,
 * whole, so EDQUOT refuses a write entirely. Without passthrough (an older
 * kernel, a backing file that cannot be registered) opens are cached
 * (kernel page cache), and quota writers direct. Growth by passthrough
 * writes is counted against the quota at fsync and at release, from the
 * backing file's size.
 *
 * Quota: a write, truncate, fallocate or copy that volumed serves and that
 * would make a file larger charges the growth before touching the file,
 * under inode->lock, and is refused whole with EDQUOT if the quota has no
 * room: the file is left exactly as it was. */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-internal.h"
#include "fs-passthrough.h"
#include "macro.h"

/* The flags volumed opens a backing file with for a client's flags. */
static int backing_flags(struct share_fs *fs, int flags)
{
	/* The kernel passes explicit offsets (it tracks the size for
	 * O_APPEND); O_DIRECT buffers from libfuse are not aligned, the
	 * client's O_DIRECT is honoured by direct_io on the handle instead. */
	flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_DIRECT);
	/* With the writeback cache the kernel reads pages around partial
	 * writes even on write-only handles. */
	if (fs->writeback_cache && (flags & O_ACCMODE) == O_WRONLY)
		flags = (flags & ~O_ACCMODE) | O_RDWR;
	return flags | O_NOFOLLOW | O_CLOEXEC;
}

static bool open_writes(const struct fuse_file_info *fi)
{
	return (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
}

/* Registers the inode's backing file for passthrough if it has none yet.
 * inode->lock held. */
static int backing_get(struct share_fs *fs, struct fs_inode *inode)
{
	int fd, id;

	if (inode->backing_id > 0)
		return 0;
	/* One backing file serves every passthrough open of the inode, the
	 * writing ones too: read-write unless that is impossible (a
	 * snapshot, a read-only backing file system). */
	fd = inode->read_only ? -EROFS : fs_inode_reopen(fs, inode, O_RDWR | O_NOFOLLOW);
	inode->backing_read_only = fd < 0;
	if (fd < 0)
		fd = fs_inode_reopen(fs, inode, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return fd;
	id = fs_backing_open(fs, fd);
	if (id < 0) {
		close(fd);
		return id;
	}
	inode->backing_id = id;
	inode->backing_fd = fd;
	return 0;
}

/* The last passthrough open is gone. inode->lock held. */
static void backing_put(struct share_fs *fs, struct fs_inode *inode)
{
	fs_backing_close(fs, inode->backing_id);
	close(inode->backing_fd);
	inode->backing_id = 0;
	inode->backing_fd = -EBADF;
}

static bool inode_is_sxid(struct fs_inode *inode)
{
	struct stat st;

	return fstatat(inode->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 &&
	       fs_mode_is_sxid(st.st_mode);
}

/* Picks the I/O mode of a new open of inode and counts it; returns the
 * backing id for a passthrough open, else 0. */
static int io_mode_begin(struct share_fs *fs, struct fs_inode *inode, struct fuse_file_info *fi,
			 enum fs_io_mode *ret_mode)
{
	bool writing = open_writes(fi);
	bool passthrough =
	    S_ISREG(inode->type) && __atomic_load_n(&fs->passthrough, __ATOMIC_ACQUIRE);
	bool quota_writer = false;
	int backing_id = 0;

	if (writing && S_ISREG(inode->type)) {
		struct quota_usage usage;

		quota_get(&fs->quota, &usage);
		quota_writer = usage.limit_bytes != 0;
	}
	pthread_mutex_lock(&inode->lock);
	if (passthrough && inode->cached_opens == 0 && backing_get(fs, inode) == 0) {
		/* While a file has a backing file, the kernel takes only
		 * passthrough opens of it. Writers that volumed must see (a
		 * byte quota; a backing file it could only open read-only; a
		 * set-user/group-ID file, whose bits a write clears) add
		 * direct I/O: their reads and writes then come to
		 * volumed, only mmap uses the backing file. */
		inode->passthrough_opens++;
		backing_id = inode->backing_id;
		*ret_mode = FS_IO_PASSTHROUGH;
		fi->direct_io =
		    quota_writer || (writing && (inode->backing_read_only || inode_is_sxid(inode)));
		fi->keep_cache = 0;
	} else if (quota_writer) {
		/* The whole write(2) reaches volumed in one request (up to
		 * max_write), so EDQUOT refuses all of it: through the page
		 * cache, a write starting inside a page not cached is split
		 * at that page's end and could half succeed. */
		*ret_mode = FS_IO_DIRECT;
		fi->direct_io = 1;
		fi->keep_cache = 0;
	} else {
		inode->cached_opens++;
		*ret_mode = FS_IO_CACHED;
		/* Written around the page cache since it was last used: drop it. */
		fi->keep_cache = fi->keep_cache && !inode->cache_stale;
		inode->cache_stale = false;
	}
	if (writing && *ret_mode != FS_IO_CACHED)
		inode->cache_stale = true;
	pthread_mutex_unlock(&inode->lock);
	if (*ret_mode == FS_IO_PASSTHROUGH)
		__atomic_add_fetch(&fs->stats.passthrough_opens, 1, __ATOMIC_RELAXED);
	return backing_id;
}

static enum fs_io_mode handle_mode(const struct fuse_file_info *fi)
{
	return (enum fs_io_mode)((fi->fh >> FS_FH_MODE_SHIFT) & 0xff);
}

/* Counts what passthrough writes through the handle added to the file's
 * size against the quota. */
static void settle_passthrough_growth(struct share_fs *fs, struct fs_inode *inode,
				      const struct fuse_file_info *fi)
{
	struct stat st;

	if (!(fi->fh & FS_FH_WRITABLE) || handle_mode(fi) != FS_IO_PASSTHROUGH)
		return;
	if (fstat(fs_fh_fd(fi), &st) < 0)
		return;
	pthread_mutex_lock(&inode->lock);
	if ((uint64_t)st.st_size > inode->size) {
		if (!inode->orphan)
			quota_account(&fs->quota,
				      quota_size_delta(inode->size, (uint64_t)st.st_size));
		inode->size = (uint64_t)st.st_size;
	}
	pthread_mutex_unlock(&inode->lock);
}

/* Undoes io_mode_begin and closes the handle: at RELEASE, or when the
 * open reply did not reach the kernel. */
static void handle_close(struct share_fs *fs, struct fs_inode *inode, struct fuse_file_info *fi)
{
	enum fs_io_mode mode = handle_mode(fi);

	settle_passthrough_growth(fs, inode, fi);
	pthread_mutex_lock(&inode->lock);
	if (mode == FS_IO_PASSTHROUGH && inode->passthrough_opens > 0 &&
	    --inode->passthrough_opens == 0)
		backing_put(fs, inode);
	else if (mode == FS_IO_CACHED && inode->cached_opens > 0)
		inode->cached_opens--;
	pthread_mutex_unlock(&inode->lock);
	close(fs_fh_fd(fi));
}

/* Fills fi for fd (consumed) and counts the open; returns the backing id
 * for the reply (0: not passthrough). */
static int set_handle(struct share_fs *fs, struct fs_inode *inode, struct fuse_file_info *fi,
		      int fd)
{
	bool direct = fi->flags & O_DIRECT;
	enum fs_io_mode mode;
	int backing_id;

	fi->direct_io = direct;
	/* The page cache stays valid across opens: nothing but this mount
	 * changes the file (restore invalidates explicitly). */
	fi->keep_cache = !direct;
	fi->noflush = 1;
	backing_id = io_mode_begin(fs, inode, fi, &mode);
	fi->fh = (uint64_t)(uint32_t)fd | (uint64_t)mode << FS_FH_MODE_SHIFT |
		 (open_writes(fi) ? FS_FH_WRITABLE : 0);
	return backing_id;
}

/* ftruncate to 0 with the quota credited; for O_TRUNC. */
static int truncate_zero(struct share_fs *fs, struct fs_inode *inode, int fd)
{
	int r = 0;

	pthread_mutex_lock(&inode->lock);
	if (ftruncate(fd, 0) < 0)
		r = -errno;
	else {
		if (!inode->orphan && inode->size)
			quota_charge(&fs->quota, -(int64_t)inode->size, 0);
		inode->size = 0;
	}
	pthread_mutex_unlock(&inode->lock);
	return r;
}

/* have_mutation: the caller already holds the shared mutation lock (it is
 * not taken twice: a waiting snapshot would deadlock a recursive read
 * lock on a writer-preferring rwlock). */
static int open_inode(struct share_fs *fs, struct fs_inode *inode, struct fuse_file_info *fi,
		      bool have_mutation, int *ret_backing_id)
{
	bool writing = open_writes(fi);
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (writing && inode->read_only)
		return -EROFS;
	fd = fs_inode_reopen(fs, inode, backing_flags(fs, fi->flags));
	if (fd < 0)
		return fd;
	if (fi->flags & O_TRUNC) {
		if (!have_mutation) {
			r = fs_mutation_begin(fs, inode);
			if (r < 0)
				return r;
		}
		r = truncate_zero(fs, inode, fd);
		if (!have_mutation)
			fs_mutation_end(fs);
		if (r < 0)
			return r;
	}
	*ret_backing_id = set_handle(fs, inode, fi, TAKE_FD(fd));
	return 0;
}

/* Sends the open or create reply, in passthrough mode if backing_id > 0;
 * undoes the open if the opener is gone (interrupted). */
static void reply_open(fuse_req_t req, struct fs_inode *inode, struct fuse_file_info *fi,
		       const struct fuse_entry_param *e, int backing_id)
{
	int r;

	if (backing_id > 0)
		fs_passthrough_arm(backing_id);
	r = e ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	fs_passthrough_disarm();
	if (r == -ENOENT)
		handle_close(fs_of(req), inode, fi);
}

void fs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *inode = fs_inode_of(fs, ino);
	int backing_id = 0, r;

	fs_count_op(fs);
	r = open_inode(fs, inode, fi, false, &backing_id);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_open(req, inode, fi, NULL, backing_id);
}

void fs_op_create(fuse_req_t req, fuse_ino_t parent_ino, const char *name, mode_t mode,
		  struct fuse_file_info *fi)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *parent = fs_inode_of(fs, parent_ino);
	struct fuse_entry_param e;
	_cleanup_close_ int fd = -EBADF;
	int backing_id = 0, r;

	fs_count_op(fs);
	r = fs_name_check(name);
	if (r == 0 && fs_name_reserved(fs, parent, name))
		r = -EEXIST;
	if (r == 0)
		r = fs_mutation_begin(fs, parent);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	r = quota_charge(&fs->quota, 0, 1);
	if (r < 0)
		goto out;
	fd =
	    openat(parent->fd, name, backing_flags(fs, fi->flags) | O_CREAT | O_EXCL, mode & 07777);
	if (fd < 0) {
		r = -errno;
		quota_charge(&fs->quota, 0, -1);
		if (r != -EEXIST || (fi->flags & O_EXCL))
			goto out;
		/* Someone made it since the kernel's lookup: open it. */
		r = fs_lookup_entry(fs, parent, name, &e);
		if (r < 0)
			goto out;
		r = open_inode(fs, fs_inode_of(fs, e.ino), fi, true, &backing_id);
		if (r < 0) {
			fs_inode_unref(fs, fs_inode_of(fs, e.ino), 1);
			goto out;
		}
		fs_mutation_end(fs);
		reply_open(req, fs_inode_of(fs, e.ino), fi, &e, backing_id);
		return;
	}
	r = fs_chown_to_caller(req, parent, fd);
	if (r == 0)
		r = fs_lookup_entry(fs, parent, name, &e);
	if (r < 0)
		goto out;
	backing_id = set_handle(fs, fs_inode_of(fs, e.ino), fi, TAKE_FD(fd));
	fs_mutation_end(fs);
	reply_open(req, fs_inode_of(fs, e.ino), fi, &e, backing_id);
	return;
out:
	fs_mutation_end(fs);
	fuse_reply_err(req, -r);
}

void fs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *inode = fs_inode_of(fs, ino);
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	uint64_t file_size = __atomic_load_n(&inode->size, __ATOMIC_RELAXED);

	fs_count_op(fs);
	/* Counted from the known size: the splice below does not say how
	 * much it moved. */
	if ((uint64_t)off < file_size)
		__atomic_add_fetch(&fs->stats.bytes_read, MIN((uint64_t)size, file_size - off),
				   __ATOMIC_RELAXED);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fs_fh_fd(fi);
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

/* Charges the growth of inode to end; called with inode->lock held. */
static int charge_growth(struct share_fs *fs, struct fs_inode *inode, uint64_t end,
			 int64_t *ret_grow)
{
	int64_t grow = inode->orphan ? 0 : quota_size_delta(inode->size, end);
	int r = grow > 0 ? quota_charge(&fs->quota, grow, 0) : 0;

	*ret_grow = r < 0 ? 0 : grow;
	return r;
}

/* After a write that may have been short: credits what was charged but
 * not used and records the new size. inode->lock held. */
static void settle_growth(struct share_fs *fs, struct fs_inode *inode, int64_t charged,
			  uint64_t end)
{
	int64_t used = inode->orphan ? 0 : quota_size_delta(inode->size, end);

	if (charged > used)
		quota_charge(&fs->quota, used - charged, 0);
	if (end > inode->size)
		inode->size = end;
}

void fs_op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in_buf, off_t off,
		     struct fuse_file_info *fi)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *inode = fs_inode_of(fs, ino);
	size_t size = fuse_buf_size(in_buf);
	struct fuse_bufvec out_buf = FUSE_BUFVEC_INIT(size);
	bool killed;
	int64_t charged;
	ssize_t res;
	int r;

	fs_count_op(fs);
	r = fs_mutation_begin(fs, inode);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	pthread_mutex_lock(&inode->lock);
	r = charge_growth(fs, inode, (uint64_t)off + size, &charged);
	if (r < 0) {
		pthread_mutex_unlock(&inode->lock);
		fs_mutation_end(fs);
		fuse_reply_err(req, -r);
		return;
	}
	out_buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out_buf.buf[0].fd = fs_fh_fd(fi);
	out_buf.buf[0].pos = off;
	res = fuse_buf_copy(&out_buf, in_buf, 0);
	settle_growth(fs, inode, charged, res > 0 ? (uint64_t)off + (uint64_t)res : 0);
	killed = res > 0 && fs_kill_sxid(req, fs_fh_fd(fi));
	pthread_mutex_unlock(&inode->lock);
	fs_mutation_end(fs);
	if (res < 0) {
		fuse_reply_err(req, (int)-res);
		return;
	}
	__atomic_add_fetch(&fs->stats.bytes_written, (uint64_t)res, __ATOMIC_RELAXED);
	/* The kernel's cached mode still has the bits: drop its attributes
	 * (offset -1: no pages, so nothing waits on this write's pages). */
	if (killed)
		fuse_lowlevel_notify_inval_inode(fs->session, ino, -1, 0);
	fuse_reply_write(req, (size_t)res);
}

void fs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct share_fs *fs = fs_of(req);

	handle_close(fs, fs_inode_of(fs, ino), fi);
	fuse_reply_err(req, 0);
}

void fs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct share_fs *fs = fs_of(req);
	int r;

	fs_count_op(fs);
	if (fi) {
		r = datasync ? fdatasync(fs_fh_fd(fi)) : fsync(fs_fh_fd(fi));
		r = r < 0 ? -errno : 0;
		settle_passthrough_growth(fs, fs_inode_of(fs, ino), fi);
	} else {
		_cleanup_close_ int fd = fs_inode_reopen(fs, fs_inode_of(fs, ino), O_RDONLY);
		if (fd < 0) {
			fuse_reply_err(req, -fd);
			return;
		}
		r = datasync ? fdatasync(fd) : fsync(fd);
		r = r < 0 ? -errno : 0;
	}
	fuse_reply_err(req, -r);
}

void fs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
		     struct fuse_file_info *fi)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *inode = fs_inode_of(fs, ino);
	const int supported = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
	struct quota_usage usage;
	uint64_t end = (uint64_t)offset + (uint64_t)length;
	int64_t charged = 0;
	int r;

	fs_count_op(fs);
	if (mode & ~supported) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	r = fs_mutation_begin(fs, inode);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	pthread_mutex_lock(&inode->lock);
	quota_get(&fs->quota, &usage);
	if (!(mode & FALLOC_FL_KEEP_SIZE))
		r = charge_growth(fs, inode, end, &charged);
	else if (!(mode & FALLOC_FL_PUNCH_HOLE) && usage.limit_bytes && end > inode->size)
		/* Quota counts sizes: space kept past the end would be
		 * invisible to it, so a share with a byte quota does not
		 * preallocate past the end. */
		r = -EOPNOTSUPP;
	if (r == 0 && fallocate(fs_fh_fd(fi), mode, offset, length) < 0)
		r = -errno;
	settle_growth(fs, inode, charged, r == 0 && !(mode & FALLOC_FL_KEEP_SIZE) ? end : 0);
	pthread_mutex_unlock(&inode->lock);
	fs_mutation_end(fs);
	fuse_reply_err(req, -r);
}

void fs_op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			   struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			   struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct share_fs *fs = fs_of(req);
	struct fs_inode *in = fs_inode_of(fs, ino_in), *out = fs_inode_of(fs, ino_out);
	uint64_t in_size = __atomic_load_n(&in->size, __ATOMIC_RELAXED);
	int64_t charged;
	ssize_t res;
	int r;

	fs_count_op(fs);
	/* Only what the source has can be copied: charge for that much. */
	len = (uint64_t)off_in >= in_size ? 0 : MIN((uint64_t)len, in_size - (uint64_t)off_in);
	r = fs_mutation_begin(fs, out);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	pthread_mutex_lock(&out->lock);
	r = charge_growth(fs, out, (uint64_t)off_out + len, &charged);
	if (r < 0) {
		pthread_mutex_unlock(&out->lock);
		fs_mutation_end(fs);
		fuse_reply_err(req, -r);
		return;
	}
	res = len ? copy_file_range(fs_fh_fd(fi_in), &off_in, fs_fh_fd(fi_out), &off_out, len,
				    (unsigned)flags)
		  : 0;
	r = res < 0 ? errno : 0;
	/* off_out has advanced by what was copied. */
	settle_growth(fs, out, charged, res > 0 ? (uint64_t)off_out : 0);
	pthread_mutex_unlock(&out->lock);
	fs_mutation_end(fs);
	if (res < 0) {
		fuse_reply_err(req, r);
		return;
	}
	__atomic_add_fetch(&fs->stats.bytes_written, (uint64_t)res, __ATOMIC_RELAXED);
	fuse_reply_write(req, (size_t)res);
}

void fs_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info *fi)
{
	off_t res;

	fs_count_op(fs_of(req));
	res = lseek(fs_fh_fd(fi), off, whence);
	if (res < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_lseek(req, res);
}
