/* One share's FUSE session (see fs.h): mounting, the operation table, the
 * kernel capabilities asked for, the serving thread, stopping, the quota
 * scan, freezing for snapshots and invalidations.
 *
 * Fast paths asked of the kernel: ~1 MiB max_write, replies spliced from
 * backing files to /dev/fuse, 2 MiB read-ahead, readdirplus, parallel directory
 * operations, cached symlinks, long attribute/entry timeouts, page cache
 * kept across opens, and (shares without a byte quota) the writeback
 * cache. There is no flush operation: volumed buffers nothing, and the
 * kernel stops sending FLUSH (one round trip per close(2)) after the first
 * ENOSYS. Locks are left to the kernel (no getlk/setlk/flock operations):
 * every group sees the share through bind mounts of this one mount, so
 * the kernel's own POSIX and flock locks conflict across all groups. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dir.h"
#include "fs-internal.h"
#include "fs-passthrough.h"
#include "log.h"
#include "macro.h"
#include "share.h"
#include "xalloc.h"

/* Initial hash buckets; the table doubles as it fills. */
#define FS_BUCKETS_INITIAL 1024
/* Requests the kernel keeps in flight in the background (readahead,
 * writeback): the default of 12 starves two cores' worth of workers. */
#define FS_MAX_BACKGROUND 64
/* Kernel read-ahead of a share's mount, KiB. A FUSE mount starts with the
 * 128 KiB of a new bdi (the INIT reply can only lower it), so a cold
 * sequential read waits for one 128 KiB round trip after another; with
 * 2 MiB two ~1 MiB requests are in flight (cold 1 MiB reads about twice
 * as fast). Larger windows measured slower: more requests in flight at
 * once on one backing fd defeat the backing file's own read-ahead. */
#define FS_READAHEAD_KB 2048
/* Share of the system's dirty-page limit one writeback-cache share may
 * hold, percent. The kernel starts FUSE mounts at 1% with a strict limit,
 * which throttles a writer to a few dozen MiB of dirty pages: right for an
 * untrusted server, needlessly slow for volumed (root, our own daemon). */
#define FS_DIRTY_MAX_RATIO 40

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct share_fs *fs = userdata;
	const unsigned wanted = FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
				FUSE_CAP_READDIRPLUS | FUSE_CAP_PARALLEL_DIROPS |
				FUSE_CAP_ASYNC_DIO | FUSE_CAP_CACHE_SYMLINKS |
				FUSE_CAP_ATOMIC_O_TRUNC | FUSE_CAP_ASYNC_READ;

	conn->want |= conn->capable & wanted;
	/* The kernel serves files in passthrough mode only on a connection
	 * without the writeback cache; passthrough is the faster of the two
	 * (native reads and writes), so the writeback cache is only for
	 * kernels without passthrough. */
	if (fs->kernel_offers_passthrough)
		fs->writeback_cache = false;
	if (fs->writeback_cache && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else
		fs->writeback_cache = false;
	/* Requests are read with read(2), not spliced: a splice costs every
	 * request a second system call (small ones are copied out of the
	 * pipe anyway), which measured ~25% slower unlink and stat; only
	 * large writes gained (~15%). Replies are still spliced. */
	conn->want &=
	    ~(unsigned)(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS | FUSE_CAP_SPLICE_READ);
	conn->max_write = FS_MAX_WRITE;
	conn->max_background = FS_MAX_BACKGROUND;
	conn->congestion_threshold = FS_MAX_BACKGROUND * 3 / 4;
	conn->time_gran = 1;
}

static const struct fuse_lowlevel_ops fs_ops = {
    .init = fs_init,
    .lookup = fs_op_lookup,
    .forget = fs_op_forget,
    .forget_multi = fs_op_forget_multi,
    .getattr = fs_op_getattr,
    .setattr = fs_op_setattr,
    .readlink = fs_op_readlink,
    .mknod = fs_op_mknod,
    .mkdir = fs_op_mkdir,
    .symlink = fs_op_symlink,
    .link = fs_op_link,
    .unlink = fs_op_unlink,
    .rmdir = fs_op_rmdir,
    .rename = fs_op_rename,
    .statfs = fs_op_statfs,
    .setxattr = fs_op_setxattr,
    .getxattr = fs_op_getxattr,
    .listxattr = fs_op_listxattr,
    .removexattr = fs_op_removexattr,
    .create = fs_op_create,
    .open = fs_op_open,
    .read = fs_op_read,
    .write_buf = fs_op_write_buf,
    .release = fs_op_release,
    .fsync = fs_op_fsync,
    .fallocate = fs_op_fallocate,
    .copy_file_range = fs_op_copy_file_range,
    .lseek = fs_op_lseek,
    .opendir = fs_op_opendir,
    .readdir = fs_op_readdir,
    .readdirplus = fs_op_readdirplus,
    .releasedir = fs_op_releasedir,
    .fsyncdir = fs_op_fsyncdir,
};

/* (dev, ino) pairs already counted, for hard links during a scan. */
struct seen_set {
	struct {
		dev_t dev;
		ino_t ino;
	} * items;
	size_t count, cap;
};

static bool seen_add(struct seen_set *s, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->items[i].dev == dev && s->items[i].ino == ino)
			return false;
	if (s->count == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
	}
	s->items[s->count].dev = dev;
	s->items[s->count].ino = ino;
	s->count++;
	return true;
}

static int scan_dir(int dir_fd, bool is_root, struct seen_set *seen, uint64_t *bytes,
		    uint64_t *files)
{
	struct dirent *de;
	DIR *d;
	int r;

	r = dir_stream_at(dir_fd, ".", 0, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		struct stat st;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (is_root && streq(de->d_name, SHARE_SNAPSHOT_DIR))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* removed meanwhile */
		if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) &&
		    !seen_add(seen, st.st_dev, st.st_ino))
			continue;
		(*files)++;
		if (S_ISREG(st.st_mode))
			*bytes += (uint64_t)st.st_size;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			r = scan_dir(sub, false, seen, bytes, files);
			close(sub);
			if (r < 0)
				break;
		}
	}
	closedir(d);
	return r;
}

int share_fs_rescan(struct share_fs *fs)
{
	struct seen_set seen = {};
	uint64_t bytes = 0, files = 0;
	int r;

	r = scan_dir(fs->root_fd, true, &seen, &bytes, &files);
	free(seen.items);
	if (r < 0)
		return r;
	quota_set_usage(&fs->quota, bytes, files);
	return 0;
}

static int write_sysfs(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);

	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		return errno ? -errno : -EIO;
	return 0;
}

/* Raises the read-ahead and dirty-page limits of the mount's bdi (named
 * MAJOR:MINOR after the connection's device). Must run after the kernel
 * processed our INIT reply, which would lower the read-ahead again: the
 * statfs below waits for that. Failing is harmless (no sysfs in this mount
 * namespace, an older kernel): the share is only slower. */
static void tune_bdi(struct share_fs *fs)
{
	char path[128], value[32];
	struct statfs sfs;
	struct stat st;
	int r;

	if (fstatfs(fs->mount_fd, &sfs) < 0 || fstat(fs->mount_fd, &st) < 0) {
		log_errno(LOG_LEVEL_DEBUG, -errno, "share %s: cannot stat the mount", fs->name);
		return;
	}
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
		 minor(st.st_dev));
	snprintf(value, sizeof(value), "%d", FS_READAHEAD_KB);
	r = write_sysfs(path, value);
	if (r < 0)
		log_errno(LOG_LEVEL_DEBUG, r, "share %s: setting %s", fs->name, path);
	if (!fs->writeback_cache)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/max_ratio", major(st.st_dev),
		 minor(st.st_dev));
	snprintf(value, sizeof(value), "%d", FS_DIRTY_MAX_RATIO);
	r = write_sysfs(path, value);
	if (r < 0)
		log_errno(LOG_LEVEL_DEBUG, r, "share %s: setting %s", fs->name, path);
}

static void *loop_thread(void *userdata)
{
	struct share_fs *fs = userdata;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();

	fuse_loop_cfg_set_clone_fd(cfg, 1);
	fuse_loop_cfg_set_max_threads(cfg, FS_MAX_THREADS);
	fuse_loop_cfg_set_idle_threads(cfg, FS_IDLE_THREADS);
	fs->loop_result = fuse_session_loop_mt(fs->session, cfg);
	fuse_loop_cfg_destroy(cfg);
	return NULL;
}

static void fs_free(struct share_fs *fs)
{
	if (!fs)
		return;
	if (fs->session)
		fuse_session_destroy(fs->session);
	for (size_t b = 0; b < fs->bucket_count; b++) {
		struct fs_inode *i = fs->buckets[b], *next;
		for (; i; i = next) {
			next = i->hash_next;
			close(i->fd);
			if (i->backing_fd >= 0)
				close(i->backing_fd);
			pthread_mutex_destroy(&i->lock);
			free(i);
		}
	}
	free(fs->buckets);
	if (fs->mount_fd >= 0)
		close(fs->mount_fd);
	if (fs->root_fd >= 0)
		close(fs->root_fd);
	if (fs->snapshots_fd >= 0)
		close(fs->snapshots_fd);
	if (fs->proc_fd >= 0)
		close(fs->proc_fd);
	quota_done(&fs->quota);
	pthread_rwlock_destroy(&fs->mutation_lock);
	pthread_mutex_destroy(&fs->table_lock);
	free(fs->name);
	free(fs->mountpoint);
	free(fs);
}

int share_fs_start(const struct share_fs_params *p, struct share_fs **ret_fs)
{
	struct share_fs *fs = xcalloc(1, sizeof(*fs));
	pthread_rwlockattr_t rwattr;
	struct stat st;
	int r;

	fs->name = xstrdup(p->name);
	fs->mountpoint = xstrdup(p->mountpoint);
	fs->override = p->override;
	fs->writeback_cache = p->quota_bytes == 0;
	fs->mount_fd = -EBADF;
	fs->dev_fd = -EBADF;
	quota_init(&fs->quota, p->quota_bytes, p->quota_files);
	pthread_rwlockattr_init(&rwattr);
	/* A snapshot must not wait forever behind a stream of writers. */
	pthread_rwlockattr_setkind_np(&rwattr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&fs->mutation_lock, &rwattr);
	pthread_rwlockattr_destroy(&rwattr);
	pthread_mutex_init(&fs->table_lock, NULL);
	fs->bucket_count = FS_BUCKETS_INITIAL;
	fs->buckets = xcalloc(fs->bucket_count, sizeof(*fs->buckets));

	fs->root_fd = fcntl(p->backing_fd, F_DUPFD_CLOEXEC, 3);
	fs->snapshots_fd = fcntl(p->snapshots_fd, F_DUPFD_CLOEXEC, 3);
	fs->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root_fd < 0 || fs->snapshots_fd < 0 || fs->proc_fd < 0) {
		r = -errno;
		goto fail;
	}
	if (fstat(fs->root_fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	{
		int root_fd = openat(fs->root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root_fd < 0) {
			r = -errno;
			goto fail;
		}
		fs_table_add_root(fs, root_fd, &st);
	}

	r = share_fs_rescan(fs);
	if (r < 0) {
		log_error_errno(r, "share %s: scanning the backing directory failed", p->name);
		goto fail;
	}

	{
		_cleanup_free_ char *opts = xasprintf(
		    "allow_other,default_permissions,fsname=podwire:%s,subtype=podwire", p->name);
		char *argv[] = {"podwire-volumed", "-o", opts, NULL};
		struct fuse_args args = FUSE_ARGS_INIT(3, argv);

		fs->session = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), fs);
		fuse_opt_free_args(&args);
	}
	if (!fs->session) {
		r = -EIO;
		log_error("share %s: creating the FUSE session failed", p->name);
		goto fail;
	}
	r = fs_passthrough_mount(fs, p->mountpoint);
	if (r < 0)
		goto fail;
	/* A handle on the mount itself: it reaches this connection even if
	 * the mount point is covered or detached. */
	fs->mount_fd = open(p->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = pthread_create(&fs->thread, NULL, loop_thread, fs);
	if (r != 0) {
		r = -r;
		umount2(p->mountpoint, MNT_DETACH);
		goto fail;
	}
	fs->thread_started = true;
	tune_bdi(fs);
	*ret_fs = fs;
	return 0;
fail:
	fs_free(fs);
	return r;
}

void share_fs_stop(struct share_fs *fs)
{
	if (!fs)
		return;
	if (fs->thread_started) {
		static unsigned long counter;
		char name[64];
		struct stat st;

		fuse_session_exit(fs->session);
		/* The workers sleep in read(2) on /dev/fuse: a lookup of a
		 * name never asked before reaches one of them, which then
		 * sees the exit flag and ends the loop. */
		snprintf(name, sizeof(name), ".podwire-stop-%d-%lu", getpid(),
			 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
		if (fs->mount_fd >= 0)
			(void)fstatat(fs->mount_fd, name, &st, AT_SYMLINK_NOFOLLOW);
		pthread_join(fs->thread, NULL);
		fs->thread_started = false;
		/* volumed mounted it itself (fs-passthrough.c): libfuse does
		 * not know the mount point. */
		if (umount2(fs->mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
			log_errno(LOG_LEVEL_WARN, -errno, "share %s: unmounting %s", fs->name,
				  fs->mountpoint);
	}
	fs_free(fs);
}

void share_fs_freeze(struct share_fs *fs)
{
	/* Dirty pages of the writeback cache reach volumed first. */
	if (fs->mount_fd >= 0) {
		int fd = openat(fs->mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			syncfs(fd);
			close(fd);
		}
	}
	pthread_rwlock_wrlock(&fs->mutation_lock);
}

void share_fs_thaw(struct share_fs *fs)
{
	pthread_rwlock_unlock(&fs->mutation_lock);
}

void fs_refresh_sizes(struct share_fs *fs)
{
	/* Called frozen: no write runs, so sizes can be set directly. */
	pthread_mutex_lock(&fs->table_lock);
	for (size_t b = 0; b < fs->bucket_count; b++)
		for (struct fs_inode *i = fs->buckets[b]; i; i = i->hash_next) {
			struct stat st;
			if (!S_ISREG(i->type) ||
			    fstatat(i->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			__atomic_store_n(&i->size, (uint64_t)st.st_size, __ATOMIC_RELAXED);
			i->orphan = st.st_nlink == 0;
		}
	pthread_mutex_unlock(&fs->table_lock);
}

struct fs_inval_item {
	fuse_ino_t nodeid;
	char *name; /* NULL: the inode itself */
};

struct fs_inval {
	struct fs_inval_item *items;
	size_t count, cap;
};

struct fs_inval *fs_inval_new(void)
{
	return xcalloc(1, sizeof(struct fs_inval));
}

static void inval_add(struct fs_inval *inv, fuse_ino_t nodeid, const char *name)
{
	if (inv->count == inv->cap) {
		inv->cap = inv->cap ? inv->cap * 2 : 32;
		inv->items = xrealloc(inv->items, inv->cap * sizeof(*inv->items));
	}
	inv->items[inv->count].nodeid = nodeid;
	inv->items[inv->count].name = name ? xstrdup(name) : NULL;
	inv->count++;
}

static fuse_ino_t known_nodeid(struct share_fs *fs, int fd)
{
	struct fs_inode *inode;
	struct stat st;

	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	inode = fs_inode_find(fs, st.st_dev, st.st_ino);
	return inode ? fs_nodeid(fs, inode) : 0;
}

void fs_inval_entry(struct share_fs *fs, struct fs_inval *inv, int dir_fd, const char *name)
{
	fuse_ino_t parent = known_nodeid(fs, dir_fd);

	if (parent)
		inval_add(inv, parent, name);
}

void fs_inval_inode(struct share_fs *fs, struct fs_inval *inv, int fd)
{
	fuse_ino_t nodeid = known_nodeid(fs, fd);

	if (nodeid)
		inval_add(inv, nodeid, NULL);
}

void fs_inval_send(struct share_fs *fs, struct fs_inval *inv)
{
	for (size_t i = 0; i < inv->count; i++) {
		struct fs_inval_item *it = &inv->items[i];

		/* -ENOENT: the kernel forgot it meanwhile; nothing to drop. */
		if (it->name)
			fuse_lowlevel_notify_inval_entry(fs->session, it->nodeid, it->name,
							 strlen(it->name));
		else
			fuse_lowlevel_notify_inval_inode(fs->session, it->nodeid, 0, 0);
		free(it->name);
	}
	free(inv->items);
	free(inv);
}
