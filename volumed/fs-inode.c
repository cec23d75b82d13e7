/* The inode table of one share (see fs.h): lookup, reference counting,
 * attributes with the share's overrides, and the helpers every operation
 * uses (name checks, the mutation lock, reopening O_PATH fds).
 *
 * Locking: table_lock guards buckets, inode_count and every nlookup; an
 * inode is freed only when its nlookup drops to 0 under table_lock, which
 * happens only on FORGET, after which the kernel never names it again. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "fs-internal.h"
#include "share.h"
#include "xalloc.h"

struct fs_inode *fs_inode_of(struct share_fs *fs, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return fs->root;
	return (struct fs_inode *)(uintptr_t)ino;
}

int fs_name_check(const char *name)
{
	if (strempty(name) || streq(name, ".") || streq(name, "..") || strchr(name, '/'))
		return -EINVAL;
	return 0;
}

bool fs_name_reserved(struct share_fs *fs, struct fs_inode *parent, const char *name)
{
	return parent == fs->root && streq(name, SHARE_SNAPSHOT_DIR);
}

int fs_mutation_begin(struct share_fs *fs, struct fs_inode *inode)
{
	if (inode->read_only)
		return -EROFS;
	pthread_rwlock_rdlock(&fs->mutation_lock);
	return 0;
}

void fs_mutation_end(struct share_fs *fs)
{
	pthread_rwlock_unlock(&fs->mutation_lock);
}

int fs_inode_reopen(struct share_fs *fs, struct fs_inode *inode, int flags)
{
	char name[16];
	int fd;

	snprintf(name, sizeof(name), "%d", inode->fd);
	fd = openat(fs->proc_fd, name, (flags & ~O_NOFOLLOW) | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void fs_stat_override(struct share_fs *fs, struct fs_inode *inode, struct stat *st)
{
	mode_t type = st->st_mode & S_IFMT;

	if (fs->override.uid >= 0)
		st->st_uid = (uid_t)fs->override.uid;
	if (fs->override.gid >= 0)
		st->st_gid = (gid_t)fs->override.gid;
	if (type == S_IFDIR && fs->override.dir_mode >= 0)
		st->st_mode = type | (mode_t)fs->override.dir_mode;
	else if (type != S_IFDIR && type != S_IFLNK && fs->override.file_mode >= 0)
		st->st_mode = type | (mode_t)fs->override.file_mode;
	if (inode->read_only && type != S_IFLNK)
		st->st_mode &= ~(mode_t)0222;
}

int fs_inode_stat(struct share_fs *fs, struct fs_inode *inode, struct stat *ret)
{
	if (fstatat(inode->fd, "", ret, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	fs_stat_override(fs, inode, ret);
	return 0;
}

static size_t bucket_of(const struct share_fs *fs, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev;
	return (size_t)(h % fs->bucket_count);
}

static struct fs_inode *find_locked(struct share_fs *fs, dev_t dev, ino_t ino)
{
	for (struct fs_inode *i = fs->buckets[bucket_of(fs, dev, ino)]; i; i = i->hash_next)
		if (i->ino == ino && i->dev == dev)
			return i;
	return NULL;
}

struct fs_inode *fs_inode_find(struct share_fs *fs, dev_t dev, ino_t ino)
{
	struct fs_inode *inode;

	pthread_mutex_lock(&fs->table_lock);
	inode = find_locked(fs, dev, ino);
	pthread_mutex_unlock(&fs->table_lock);
	return inode;
}

/* Doubles the bucket array when chains get long (load factor 2). */
static void grow_locked(struct share_fs *fs)
{
	size_t old_count = fs->bucket_count;
	struct fs_inode **old = fs->buckets;

	if (fs->inode_count < old_count * 2)
		return;
	fs->bucket_count = old_count * 2;
	fs->buckets = xcalloc(fs->bucket_count, sizeof(*fs->buckets));
	for (size_t b = 0; b < old_count; b++) {
		struct fs_inode *i = old[b], *next;
		for (; i; i = next) {
			size_t nb = bucket_of(fs, i->dev, i->ino);
			next = i->hash_next;
			i->hash_next = fs->buckets[nb];
			fs->buckets[nb] = i;
		}
	}
	free(old);
}

void fs_table_add_root(struct share_fs *fs, int fd, const struct stat *st)
{
	struct fs_inode *root = xcalloc(1, sizeof(*root));
	size_t b = bucket_of(fs, st->st_dev, st->st_ino);

	root->fd = fd;
	root->dev = st->st_dev;
	root->ino = st->st_ino;
	root->type = S_IFDIR;
	root->nlookup = 1;
	root->backing_fd = -EBADF;
	pthread_mutex_init(&root->lock, NULL);
	root->hash_next = fs->buckets[b];
	fs->buckets[b] = root;
	fs->root = root;
	fs->inode_count++;
}

/* Finds or adds the inode for fd (consumed) with one more lookup. */
static struct fs_inode *inode_get(struct share_fs *fs, int fd, const struct stat *st,
				  bool read_only)
{
	struct fs_inode *inode;

	pthread_mutex_lock(&fs->table_lock);
	inode = find_locked(fs, st->st_dev, st->st_ino);
	if (inode) {
		inode->nlookup++;
		pthread_mutex_unlock(&fs->table_lock);
		close(fd);
		return inode;
	}
	inode = xcalloc(1, sizeof(*inode));
	inode->fd = fd;
	inode->dev = st->st_dev;
	inode->ino = st->st_ino;
	inode->type = st->st_mode & S_IFMT;
	inode->read_only = read_only;
	inode->nlookup = 1;
	inode->size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	inode->backing_fd = -EBADF;
	pthread_mutex_init(&inode->lock, NULL);
	fs->inode_count++;
	grow_locked(fs);
	size_t b = bucket_of(fs, inode->dev, inode->ino);
	inode->hash_next = fs->buckets[b];
	fs->buckets[b] = inode;
	pthread_mutex_unlock(&fs->table_lock);
	return inode;
}

void fs_inode_unref(struct share_fs *fs, struct fs_inode *inode, uint64_t count)
{
	if (inode == fs->root)
		return;
	pthread_mutex_lock(&fs->table_lock);
	inode->nlookup = count > inode->nlookup ? 0 : inode->nlookup - count;
	if (inode->nlookup > 0) {
		pthread_mutex_unlock(&fs->table_lock);
		return;
	}
	struct fs_inode **p = &fs->buckets[bucket_of(fs, inode->dev, inode->ino)];
	while (*p && *p != inode)
		p = &(*p)->hash_next;
	if (*p)
		*p = inode->hash_next;
	fs->inode_count--;
	pthread_mutex_unlock(&fs->table_lock);
	close(inode->fd);
	if (inode->backing_fd >= 0) /* the kernel forgot it while open: not expected */
		close(inode->backing_fd);
	pthread_mutex_destroy(&inode->lock);
	free(inode);
}

int fs_lookup_entry(struct share_fs *fs, struct fs_inode *parent, const char *name,
		    struct fuse_entry_param *e)
{
	bool snapshots = fs_name_reserved(fs, parent, name);
	struct stat st;
	int fd, r;

	r = fs_name_check(name);
	if (r < 0)
		return r;
	if (snapshots)
		fd = openat(fs->snapshots_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	else
		fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	struct fs_inode *inode = inode_get(fs, fd, &st, snapshots || parent->read_only);
	fs_stat_override(fs, inode, &st);
	*e = (struct fuse_entry_param){
	    .ino = fs_nodeid(fs, inode),
	    .attr = st,
	    .attr_timeout = FS_CACHE_TIMEOUT_SEC,
	    .entry_timeout = FS_CACHE_TIMEOUT_SEC,
	};
	return 0;
}

void fs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct share_fs *fs = fs_of(req);
	struct fuse_entry_param e;
	int r;

	fs_count_op(fs);
	r = fs_lookup_entry(fs, fs_inode_of(fs, parent), name, &e);
	if (r == -ENOENT) {
		/* A negative entry the kernel may cache: names appear only
		 * through this mount or through a restore, which invalidates. */
		e = (struct fuse_entry_param){.ino = 0, .entry_timeout = FS_CACHE_TIMEOUT_SEC};
		fuse_reply_entry(req, &e);
		return;
	}
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	fuse_reply_entry(req, &e);
}

void fs_op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct share_fs *fs = fs_of(req);

	fs_inode_unref(fs, fs_inode_of(fs, ino), nlookup);
	fuse_reply_none(req);
}

void fs_op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct share_fs *fs = fs_of(req);

	for (size_t i = 0; i < count; i++)
		fs_inode_unref(fs, fs_inode_of(fs, forgets[i].ino), forgets[i].nlookup);
	fuse_reply_none(req);
}

void fs_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct share_fs *fs = fs_of(req);
	struct stat st;
	int r;

	fs_count_op(fs);
	r = fs_inode_stat(fs, fs_inode_of(fs, ino), &st);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, FS_CACHE_TIMEOUT_SEC);
}

int fs_chown_to_caller(fuse_req_t req, struct fs_inode *parent, int fd)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t gid = ctx->gid;
	struct stat pst;

	if (ctx->uid == 0 && ctx->gid == 0)
		return 0; /* volumed runs as root: already right */
	if (fstatat(parent->fd, "", &pst, AT_EMPTY_PATH) < 0)
		return -errno;
	if (pst.st_mode & S_ISGID)
		gid = (gid_t)-1;
	if (fchownat(fd, "", ctx->uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

bool fs_kill_sxid(fuse_req_t req, int fd)
{
	struct stat st;

	if (fuse_req_ctx(req)->uid == 0 || fstat(fd, &st) < 0 || !fs_mode_is_sxid(st.st_mode))
		return false;
	/* Fails only if the file went away; the write itself stands. */
	return fchmod(fd, st.st_mode & 07777 & ~(mode_t)(S_ISUID | S_ISGID)) == 0;
}
