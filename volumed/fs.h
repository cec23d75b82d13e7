/* One share's FUSE file system: a pass-through to the backing directory
 * served by libfuse's low-level API on its own multi-threaded session.
 *
 * Inodes: every inode the kernel knows is a struct fs_inode holding an
 * O_PATH|O_NOFOLLOW fd of the backing object, keyed by (st_dev, st_ino)
 * so hard links share one entry; the FUSE node id is its address (the root
 * is FUSE_ROOT_ID). All file system work is relative to these fds: nothing
 * walks a path from the root, and volumed itself never follows a symlink.
 * The name ".snapshots" at the root is the share's snapshot directory:
 * every inode below it is read-only (mutations get EROFS).
 *
 * Locking (in this order, never the other way):
 *   mutation_lock  rwlock: every mutating operation holds it shared; a
 *                  snapshot or restore holds it exclusive, so it sees and
 *                  makes a point-in-time tree. Writer-preferring.
 *   inode->lock    mutex: the inode's cached size and orphan flag, held
 *                  across a write/truncate/fallocate so quota checks and
 *                  size updates are atomic per file.
 *   table_lock     mutex: the inode hash table and lookup counts.
 *   quota.lock     inside struct quota.
 * Statistics are atomics. Kernel notifications (invalidations) are sent
 * with no lock held: the kernel may call back into the file system while
 * handling them. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "quota.h"

struct fuse_session;
struct fs_inode;

/* Attribute and entry cache timeout. The kernel may trust what it cached
 * this long: only volumed changes the backing directory, every change goes
 * through this one mount (so the kernel sees it), and the changes volumed
 * makes itself (restore) are followed by explicit invalidations. */
#define FS_CACHE_TIMEOUT_SEC 86400.0
/* Largest read or write the kernel sends in one request (libfuse derives
 * the kernel's max_pages from it). Just under 1 MiB: libfuse splices
 * replies (read data) through a pipe that must hold the data plus a few
 * pages of headers, and without CAP_SYS_RESOURCE a pipe holds at most
 * pipe-max-size (1 MiB by default); a full 1 MiB request would not fit and
 * libfuse would fall back to copying through a buffer. */
#define FS_MAX_WRITE (1024 * 1024 - 16 * 1024)
/* Worker threads per share: enough to keep a few parallel readers busy on
 * a 2-core host. Idle ones are kept (FS_IDLE_THREADS = all of them):
 * libfuse otherwise ends and starts threads (each with its own /dev/fuse
 * clone and pipe) on every burst of read-ahead or writeback. */
#define FS_MAX_THREADS	16
#define FS_IDLE_THREADS FS_MAX_THREADS

struct fs_stats {
	uint64_t ops; /* requests served (atomic) */
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t passthrough_opens; /* opens the kernel serves from the backing file */
};

/* What files show instead of their real owner and mode (-1 = real). */
struct fs_override {
	int64_t uid;
	int64_t gid;
	int file_mode;
	int dir_mode;
};

struct share_fs {
	char *name;
	char *mountpoint;
	int root_fd;	  /* backing directory, O_PATH */
	int snapshots_fd; /* snapshot store shown as .snapshots, O_PATH */
	int proc_fd;	  /* /proc/self/fd, to reopen O_PATH fds */
	int mount_fd;	  /* O_PATH of the mounted root, to reach our own mount */
	struct fs_override override;
	bool writeback_cache;

	/* Kernel passthrough (fs-passthrough.c). dev_fd is the session's
	 * /dev/fuse fd (owned by the session); init_unique and
	 * kernel_offers_passthrough are set while INIT is read, before any
	 * other request; passthrough (atomic) once our INIT reply asked for it,
	 * cleared if the kernel refuses a backing file. */
	int dev_fd;
	int stack_depth;
	uint64_t init_unique;
	uint32_t kernel_flags;	/* the INIT request's flags */
	uint32_t kernel_flags2; /* and flags2 */
	bool kernel_offers_passthrough;
	bool passthrough;

	struct quota quota;
	struct fs_stats stats;
	pthread_rwlock_t mutation_lock;

	pthread_mutex_t table_lock;
	struct fs_inode *root;
	struct fs_inode **buckets;
	size_t bucket_count;
	size_t inode_count;

	struct fuse_session *session;
	pthread_t thread;
	bool thread_started;
	int loop_result;
};

struct share_fs_params {
	const char *name;
	const char *mountpoint;
	int backing_fd;	  /* duplicated */
	int snapshots_fd; /* duplicated */
	struct fs_override override;
	uint64_t quota_bytes;
	uint64_t quota_files;
};

/* Scans the backing directory for quota usage, mounts the share at
 * mountpoint (which must exist and not be mounted) and starts serving it. */
int share_fs_start(const struct share_fs_params *p, struct share_fs **ret_fs);
/* Stops serving, unmounts (lazily: groups holding bind mounts see ENOTCONN
 * from then on) and frees everything. NULL is fine. */
void share_fs_stop(struct share_fs *fs);

/* Walks the backing directory and sets the quota usage from it. */
int share_fs_rescan(struct share_fs *fs);

/* Freezes mutations (exclusive mutation_lock) after flushing the kernel's
 * dirty pages of this mount, so a snapshot sees everything written before
 * the call. */
void share_fs_freeze(struct share_fs *fs);
void share_fs_thaw(struct share_fs *fs);

/* Invalidation after volumed changed the backing tree itself (restore,
 * snapshot create/delete). Call with no fs lock held. */
struct fs_inval;
struct fs_inval *fs_inval_new(void);
/* Records that NAME in the backing directory dir_fd changed (removed,
 * created or replaced). */
void fs_inval_entry(struct share_fs *fs, struct fs_inval *inv, int dir_fd, const char *name);
/* Records that the content or attributes of the object at fd changed. */
void fs_inval_inode(struct share_fs *fs, struct fs_inval *inv, int fd);
/* Sends what was recorded and frees inv. */
void fs_inval_send(struct share_fs *fs, struct fs_inval *inv);
/* After a restore: refreshes the cached size of every known inode. */
void fs_refresh_sizes(struct share_fs *fs);

/* Internal to fs-*.c. */
struct fs_inode {
	struct fs_inode *hash_next;
	int fd; /* O_PATH|O_NOFOLLOW */
	dev_t dev;
	ino_t ino;
	mode_t type;	  /* S_IFMT bits */
	bool read_only;	  /* under .snapshots */
	uint64_t nlookup; /* table_lock */
	pthread_mutex_t lock;
	uint64_t size; /* lock: the size quota has counted for this file */
	bool orphan;   /* lock: last link gone, quota already credited */
	/* lock: how the kernel does this file's I/O (fs-data.c). The kernel
	 * refuses (EIO) a passthrough open while the file has cached opens
	 * and the reverse, so volumed never hands out both at once; its
	 * counts drop at RELEASE, after the kernel's own, so they never
	 * undercount. All passthrough opens share one backing file. */
	uint32_t passthrough_opens;
	uint32_t cached_opens;
	int backing_id;		/* > 0 while passthrough_opens > 0 */
	int backing_fd;		/* the registered backing file */
	bool backing_read_only; /* backing_fd could only be opened O_RDONLY */
	bool cache_stale;	/* written around the kernel's page cache */
};
