/* Snapshot creation, listing, deletion and restore (see snapshot.h). A
 * snapshot is copied into tmp/ and renamed into data/ when complete, so a
 * crash never leaves a half snapshot visible; its metadata file is
 * written after the rename. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dir.h"
#include "fs.h"
#include "log.h"
#include "snapshot.h"
#include "state-file.h"
#include "tree.h"
#include "xalloc.h"

static int open_sub(struct volumed *v, struct share *s, const char *sub, int *ret_fd,
		    struct pw_error *err)
{
	int r = volumed_snapshot_dir(v, s->config.name, sub, ret_fd);

	if (r < 0)
		return pw_error_set(err, r, "snapshot directory of share '%s': %s", s->config.name,
				    strerror(-r));
	return 0;
}

static json_t *snapshot_json(int meta_fd, const char *snap)
{
	_cleanup_free_ char *file = xasprintf("%s.json", snap);
	json_t *obj = NULL;

	if (state_read_json(meta_fd, file, &obj) < 0 || !json_is_object(obj)) {
		json_decref(obj);
		obj = json_object();
	}
	json_object_set_new(obj, "name", json_string(snap));
	return obj;
}

int snapshot_count(struct volumed *v, struct share *s)
{
	_cleanup_close_ int data = -EBADF;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int count = 0;

	if (volumed_snapshot_dir(v, s->config.name, "data", &data) < 0)
		return 0;
	d = fdopendir(TAKE_FD(data));
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			count++;
	return count;
}

int snapshot_list(struct volumed *v, struct share *s, json_t **ret, struct pw_error *err)
{
	_cleanup_close_ int data = -EBADF, meta = -EBADF;
	_cleanup_closedir_ DIR *d = NULL;
	json_t *list = json_array();
	struct dirent *de;
	int r;

	if ((r = open_sub(v, s, "data", &data, err)) < 0 ||
	    (r = open_sub(v, s, "meta", &meta, err)) < 0) {
		json_decref(list);
		return r;
	}
	d = fdopendir(TAKE_FD(data));
	if (!d) {
		json_decref(list);
		return pw_error_set(err, -errno, "listing snapshots: %s", strerror(errno));
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			json_array_append_new(list, snapshot_json(meta, de->d_name));
	*ret = json_pack("{s:s, s:o}", "share", s->config.name, "snapshots", list);
	return 0;
}

static void default_name(int data_fd, char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	size_t len;

	gmtime_r(&now, &tm);
	len = strftime(buf, size, "%Y%m%d-%H%M%S", &tm);
	/* Two snapshots in one second: add a counter. */
	for (int i = 2; faccessat(data_fd, buf, F_OK, AT_SYMLINK_NOFOLLOW) == 0; i++)
		snprintf(buf + len, size - len, "-%d", i);
}

int snapshot_create(struct volumed *v, struct share *s, const char *snap, json_t **ret,
		    struct pw_error *err)
{
	_cleanup_close_ int data = -EBADF, meta = -EBADF, tmp = -EBADF, backing = -EBADF;
	struct tree_copy_stats stats = {};
	char name[SNAPSHOT_NAME_MAX + 1];
	uint64_t start = (uint64_t)time(NULL);
	int r;

	if ((r = open_sub(v, s, "data", &data, err)) < 0 ||
	    (r = open_sub(v, s, "meta", &meta, err)) < 0 ||
	    (r = open_sub(v, s, "tmp", &tmp, err)) < 0)
		return r;
	if (snap) {
		r = snapshot_name_validate(snap, err);
		if (r < 0)
			return r;
		snprintf(name, sizeof(name), "%s", snap);
		if (faccessat(data, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			*ret = snapshot_json(meta, name);
			return 0;
		}
	} else
		default_name(data, name, sizeof(name));
	if (snapshot_count(v, s) >= SNAPSHOTS_MAX)
		return pw_error_set(err, -ENOSPC, "share '%s' has %d snapshots already",
				    s->config.name, SNAPSHOTS_MAX);
	r = volumed_share_open_backing(v, s, &backing, err);
	if (r < 0)
		return r;
	r = tree_remove(tmp, name); /* left by a crash */
	if (r < 0)
		return pw_error_set(err, r, "clearing old temporary snapshot: %s", strerror(-r));

	if (s->fs)
		share_fs_freeze(s->fs);
	r = tree_copy(backing, ".", tmp, name, SHARE_SNAPSHOT_DIR, &stats);
	if (s->fs)
		share_fs_thaw(s->fs);
	if (r < 0) {
		tree_remove(tmp, name);
		return pw_error_set(err, r, "copying share '%s': %s", s->config.name, strerror(-r));
	}
	if (renameat(tmp, name, data, name) < 0) {
		r = -errno;
		tree_remove(tmp, name);
		return pw_error_set(err, r, "snapshot '%s': %s", name, strerror(-r));
	}
	json_t *obj = json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", name, "created",
				(json_int_t)start, "files", (json_int_t)stats.files, "bytes",
				(json_int_t)stats.bytes, "reflinked", (json_int_t)stats.reflinked);
	_cleanup_free_ char *file = xasprintf("%s.json", name);
	r = state_write_json(meta, file, obj);
	if (r < 0) {
		json_decref(obj);
		return pw_error_set(err, r, "saving snapshot metadata: %s", strerror(-r));
	}
	if (s->fs) {
		/* The kernel may have cached ".snapshots/NAME" as absent. */
		struct fs_inval *inv = fs_inval_new();
		fs_inval_entry(s->fs, inv, data, name);
		fs_inval_inode(s->fs, inv, data);
		fs_inval_send(s->fs, inv);
	}
	log_info("snapshot taken share=%s snapshot=%s files=%lu bytes=%llu reflinked=%lu",
		 s->config.name, name, stats.files, stats.bytes, stats.reflinked);
	*ret = obj;
	return 0;
}

int snapshot_delete(struct volumed *v, struct share *s, const char *snap, struct pw_error *err)
{
	_cleanup_close_ int data = -EBADF, meta = -EBADF;
	_cleanup_free_ char *file = NULL;
	int r;

	r = snapshot_name_validate(snap, err);
	if (r < 0)
		return r;
	if ((r = open_sub(v, s, "data", &data, err)) < 0 ||
	    (r = open_sub(v, s, "meta", &meta, err)) < 0)
		return r;
	r = tree_remove(data, snap);
	if (r < 0)
		return pw_error_set(err, r, "deleting snapshot '%s': %s", snap, strerror(-r));
	file = xasprintf("%s.json", snap);
	state_remove(meta, file);
	if (s->fs) {
		struct fs_inval *inv = fs_inval_new();
		fs_inval_entry(s->fs, inv, data, snap);
		fs_inval_inode(s->fs, inv, data);
		fs_inval_send(s->fs, inv);
	}
	log_info("snapshot deleted share=%s snapshot=%s", s->config.name, snap);
	return 0;
}

struct restore {
	struct share_fs *fs; /* NULL if the share is not mounted */
	struct fs_inval *inv;
	struct tree_copy_stats stats;
	unsigned long removed;
};

static void note_entry(struct restore *rs, int dir_fd, const char *name)
{
	if (rs->fs)
		fs_inval_entry(rs->fs, rs->inv, dir_fd, name);
}

static void note_inode(struct restore *rs, int fd)
{
	if (rs->fs)
		fs_inval_inode(rs->fs, rs->inv, fd);
}

static int restore_entry(struct restore *rs, int src_dir, int dst_dir, const char *name);

static int restore_dir(struct restore *rs, int src_fd, int dst_fd, bool is_root)
{
	struct dirent *de;
	DIR *d;
	int r;

	r = dir_stream_at(dst_fd, ".", 0, &d);
	if (r < 0)
		return r;
	/* What the snapshot does not have goes. */
	while ((de = readdir(d))) {
		struct stat st;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (is_root && streq(de->d_name, SHARE_SNAPSHOT_DIR))
			continue;
		if (fstatat(src_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (errno != ENOENT) {
			r = -errno;
			break;
		}
		r = tree_remove(dirfd(d), de->d_name);
		if (r < 0)
			break;
		rs->removed++;
		note_entry(rs, dst_fd, de->d_name);
	}
	closedir(d);
	if (r < 0)
		return r;

	r = dir_stream_at(src_fd, ".", 0, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (is_root && streq(de->d_name, SHARE_SNAPSHOT_DIR))
			continue;
		r = restore_entry(rs, dirfd(d), dst_fd, de->d_name);
		if (r < 0)
			break;
	}
	closedir(d);
	note_inode(rs, dst_fd);
	return r;
}

static int restore_entry(struct restore *rs, int src_dir, int dst_dir, const char *name)
{
	struct stat sst, dst;
	int r;

	if (fstatat(src_dir, name, &sst, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (fstatat(dst_dir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (sst.st_mode & S_IFMT) == (dst.st_mode & S_IFMT) &&
	    (S_ISREG(sst.st_mode) || S_ISDIR(sst.st_mode))) {
		_cleanup_close_ int src_fd = -EBADF, dst_fd = -EBADF;

		/* Same kind: restore in place, so open files and the
		 * kernel's inodes stay valid and see the old content. */
		if (S_ISREG(sst.st_mode)) {
			src_fd = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			dst_fd = openat(dst_dir, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
			if (src_fd < 0 || dst_fd < 0)
				return -errno;
			r = tree_copy_file_data(src_fd, dst_fd, &rs->stats);
			rs->stats.files++;
		} else {
			src_fd =
			    openat(src_dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			dst_fd =
			    openat(dst_dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (src_fd < 0 || dst_fd < 0)
				return -errno;
			r = restore_dir(rs, src_fd, dst_fd, false);
		}
		if (r < 0)
			return r;
		r = tree_copy_attrs(src_fd, dst_fd, &sst);
		if (r < 0)
			return r;
		note_inode(rs, dst_fd);
		return 0;
	}
	r = tree_remove(dst_dir, name);
	if (r < 0)
		return r;
	r = tree_copy(src_dir, name, dst_dir, name, NULL, &rs->stats);
	if (r < 0)
		return r;
	note_entry(rs, dst_dir, name);
	return 0;
}

/* Walks path's parent directories in the snapshot (src) and the share
 * (dst) by fd, never following a symlink; missing directories in the
 * share are recreated as the snapshot has them. Returns the last
 * component in *ret_name. */
static int walk_parents(int src_root, int dst_root, char *path, int *ret_src, int *ret_dst,
			char **ret_name, struct pw_error *err)
{
	int src = fcntl(src_root, F_DUPFD_CLOEXEC, 3), dst = fcntl(dst_root, F_DUPFD_CLOEXEC, 3);
	char *component = path, *slash;
	int r = 0;

	if (src < 0 || dst < 0) {
		r = -errno;
		goto fail;
	}
	while ((slash = strchr(component, '/'))) {
		int next_src, next_dst;
		struct stat st;

		*slash = '\0';
		next_src = openat(src, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next_src < 0) {
			r = pw_error_set(err, -errno, "'%s' in the snapshot: %s", component,
					 errno == ENOTDIR || errno == ELOOP ? "not a directory"
									    : strerror(errno));
			goto fail;
		}
		close(src);
		src = next_src;
		if (fstatat(dst, component, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT || mkdirat(dst, component, 0700) < 0) {
				r = pw_error_set(err, -errno, "'%s' in the share: %s", component,
						 strerror(errno));
				goto fail;
			}
			next_dst =
			    openat(dst, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next_dst >= 0 && fstat(src, &st) == 0)
				tree_copy_attrs(src, next_dst, &st);
		} else
			next_dst =
			    openat(dst, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next_dst < 0) {
			r = pw_error_set(err, -errno, "'%s' in the share: %s", component,
					 errno == ENOTDIR || errno == ELOOP ? "not a directory"
									    : strerror(errno));
			goto fail;
		}
		close(dst);
		dst = next_dst;
		*slash = '/';
		component = slash + 1;
	}
	*ret_src = src;
	*ret_dst = dst;
	*ret_name = component;
	return 0;
fail:
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	return r < 0 ? r : -EIO;
}

int snapshot_restore(struct volumed *v, struct share *s, const char *snap, const char *path,
		     json_t **ret, struct pw_error *err)
{
	_cleanup_close_ int data = -EBADF, src = -EBADF, backing = -EBADF;
	_cleanup_free_ char *path_copy = NULL;
	struct restore rs = {.fs = s->fs};
	int r;

	r = snapshot_name_validate(snap, err);
	if (r < 0)
		return r;
	if (path) {
		r = share_path_validate(path, err);
		if (r < 0)
			return r;
		if (streq(path, SHARE_SNAPSHOT_DIR) ||
		    !strncmp(path, SHARE_SNAPSHOT_DIR "/", strlen(SHARE_SNAPSHOT_DIR) + 1))
			return pw_error_set(err, -EINVAL, "cannot restore into %s",
					    SHARE_SNAPSHOT_DIR);
	}
	r = open_sub(v, s, "data", &data, err);
	if (r < 0)
		return r;
	src = openat(data, snap, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		return pw_error_set(err, -errno, "snapshot '%s' of share '%s': %s", snap,
				    s->config.name, strerror(errno));
	r = volumed_share_open_backing(v, s, &backing, err);
	if (r < 0)
		return r;

	if (s->fs) {
		rs.inv = fs_inval_new();
		share_fs_freeze(s->fs);
	}
	if (!path)
		r = restore_dir(&rs, src, backing, true);
	else {
		int src_parent = -EBADF, dst_parent = -EBADF;
		char *name;

		path_copy = xstrdup(path);
		r = walk_parents(src, backing, path_copy, &src_parent, &dst_parent, &name, err);
		if (r == 0) {
			r = restore_entry(&rs, src_parent, dst_parent, name);
			if (r == -ENOENT)
				r = pw_error_set(err, r, "'%s' is not in snapshot '%s'", path,
						 snap);
			close(src_parent);
			close(dst_parent);
		}
	}
	if (s->fs) {
		fs_refresh_sizes(s->fs);
		share_fs_rescan(s->fs);
		share_fs_thaw(s->fs);
		fs_inval_send(s->fs, rs.inv);
	}
	if (r < 0)
		return pw_error_wrap(err, r, "restoring share '%s' from snapshot '%s'",
				     s->config.name, snap);
	log_info("share restored share=%s snapshot=%s path=%s files=%lu removed=%lu",
		 s->config.name, snap, path ? path : "/", rs.stats.files, rs.removed);
	*ret = json_pack("{s:s, s:s, s:s, s:I, s:I}", "share", s->config.name, "snapshot", snap,
			 "path", path ? path : "", "files", (json_int_t)rs.stats.files, "removed",
			 (json_int_t)rs.removed);
	return 0;
}
