/* Mounting into a container's mount namespace (see mntns.h). The hook is
 * single-threaded, so it enters the namespace itself (setns needs a
 * process whose fs_struct is not shared) and comes back: a forked helper
 * cost milliseconds (page-table copy and copy-on-write faults, expensive on
 * virtual machines) where two setns calls cost microseconds. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/annotations.h"
#include "log.h"
#include "mntns.h"
#include "xalloc.h"

/* Bounded by the annotation limits: every volume plus resolv.conf and hosts. */
#define MNTNS_REQUESTS_MAX (HOOK_VOLUMES_MAX + 2)

static int openat2_in_root(int root_fd, const char *rel, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	fd = (int)syscall(SYS_openat2, root_fd, rel[0] ? rel : ".", &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* Opens directory rel (relative, normalised) inside the root, creating
 * missing components (mode 0755). Every step resolves from the root. */
static int open_dir_in_root(int root_fd, const char *rel, int *ret_fd)
{
	char path[HOOK_VOLUME_DEST_MAX];
	_cleanup_close_ int cur = -EBADF;
	size_t len = strlen(rel), end = 0;

	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, rel, len + 1);
	cur = openat2_in_root(root_fd, "", O_PATH | O_DIRECTORY);
	if (cur < 0)
		return cur;
	while (end < len) {
		size_t start = end;
		char saved;
		int fd;

		end = start + strcspn(path + start, "/");
		saved = path[end];
		path[end] = '\0';
		fd = openat2_in_root(root_fd, path, O_PATH | O_DIRECTORY);
		if (fd == -ENOENT) {
			if (mkdirat(cur, path + start, 0755) < 0 && errno != EEXIST)
				return -errno;
			fd = openat2_in_root(root_fd, path, O_PATH | O_DIRECTORY);
		}
		if (fd < 0)
			return fd;
		path[end] = saved;
		if (saved)
			end++;
		close(cur);
		cur = fd;
	}
	*ret_fd = TAKE_FD(cur);
	return 0;
}

/* The mount point for req inside the root, created if missing. */
static int prepare_target(int root_fd, const struct bind_request *req, int *ret_fd)
{
	const char *rel = req->dest + 1;
	const char *slash = strrchr(rel, '/');
	_cleanup_free_ char *dir = slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup("");
	const char *base = slash ? slash + 1 : rel;
	_cleanup_close_ int dir_fd = -EBADF;
	struct stat st;
	int fd, r;

	if (!req->file)
		return open_dir_in_root(root_fd, rel, ret_fd);

	r = open_dir_in_root(root_fd, dir, &dir_fd);
	if (r < 0)
		return r;
	fd = openat2_in_root(root_fd, rel, O_PATH);
	if (fd == -ENOENT) {
		int created = openat(dir_fd, base,
				     O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (created < 0)
			return -errno;
		close(created);
		fd = openat2_in_root(root_fd, rel, O_PATH);
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	*ret_fd = fd;
	return 0;
}

/* Detaches what an earlier step of this child mounted at dest. */
static void undo_mount(int root_fd, const char *dest)
{
	char proc_path[64];
	int fd = openat2_in_root(root_fd, dest + 1, O_PATH);

	if (fd < 0)
		return;
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	(void)umount2(proc_path, MNT_DETACH);
	close(fd);
}

/* Mounts every request inside the root (we are in the container's mount
 * namespace); all or none: on a failure the earlier ones are detached. */
static int bind_in_root(const char *rootfs, const struct bind_request *reqs, const int *trees,
			size_t count, struct pw_error *err)
{
	_cleanup_close_ int root_fd = -EBADF;

	root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return pw_error_set(err, -errno, "rootfs %s: %m", rootfs);
	for (size_t i = 0; i < count; i++) {
		_cleanup_close_ int target = -EBADF;
		int r = prepare_target(root_fd, &reqs[i], &target);

		if (r >= 0 && move_mount(trees[i], "", target, "",
					 MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			r = -errno;
		if (r < 0) {
			for (size_t j = i; j-- > 0;)
				undo_mount(root_fd, reqs[j].dest);
			return pw_error_set(err, r, "mount %s at %s: %s", reqs[i].source,
					    reqs[i].dest, strerror(-r));
		}
	}
	return 0;
}

/* Where we were before setns(): setns(CLONE_NEWNS) moves root and cwd to
 * the new namespace's root, and so does the way back. */
struct fs_place {
	int ns_fd;
	int root_fd;
	int cwd_fd;
};

static int place_save(struct fs_place *p)
{
	p->ns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	p->root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	p->cwd_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->ns_fd < 0 || p->root_fd < 0 || p->cwd_fd < 0)
		return -errno;
	return 0;
}

static int place_restore(const struct fs_place *p)
{
	if (setns(p->ns_fd, CLONE_NEWNS) < 0 || fchdir(p->root_fd) < 0 || chroot(".") < 0 ||
	    fchdir(p->cwd_fd) < 0)
		return -errno;
	return 0;
}

static void place_done(struct fs_place *p)
{
	if (p->ns_fd >= 0)
		close(p->ns_fd);
	if (p->root_fd >= 0)
		close(p->root_fd);
	if (p->cwd_fd >= 0)
		close(p->cwd_fd);
}

int mntns_bind_all(int pid, const char *rootfs, const struct bind_request *reqs, size_t count,
		   struct pw_error *err)
{
	int trees[MNTNS_REQUESTS_MAX];
	size_t tree_count = 0;
	_cleanup_close_ int ns_fd = -EBADF;
	struct fs_place place = {.ns_fd = -EBADF, .root_fd = -EBADF, .cwd_fd = -EBADF};
	char ns_path[64];
	int restore_r, r = 0;

	if (count == 0)
		return 0;
	if (count > MNTNS_REQUESTS_MAX)
		return pw_error_set(err, -E2BIG, "more than %d mounts", MNTNS_REQUESTS_MAX);
	if (pid <= 0)
		return pw_error_set(err, -EINVAL, "state on stdin has no pid to mount into");
	snprintf(ns_path, sizeof(ns_path), "/proc/%d/ns/mnt", pid);
	ns_fd = open(ns_path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0)
		return pw_error_set(err, -errno, "container process %d: %s: %m", pid, ns_path);

	for (; tree_count < count; tree_count++) {
		const struct bind_request *req = &reqs[tree_count];
		struct mount_attr attr = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
		int fd;

		fd = open_tree(AT_FDCWD, req->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (fd < 0) {
			r = pw_error_set(err, -errno, "cannot bind %s: %m", req->source);
			goto out;
		}
		trees[tree_count] = fd;
		if (req->read_only)
			attr.attr_set |= MOUNT_ATTR_RDONLY;
		if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
			tree_count++;
			r = pw_error_set(err, -errno, "cannot set mount flags on %s: %m",
					 req->source);
			goto out;
		}
	}

	r = place_save(&place);
	if (r < 0) {
		r = pw_error_set(err, r, "cannot open our own mount namespace: %s", strerror(-r));
		goto out;
	}
	if (setns(ns_fd, CLONE_NEWNS) < 0) {
		/* A failed setns changes nothing. */
		r = pw_error_set(err, -errno, "cannot enter the container's mount namespace: %m");
		goto out;
	}
	r = bind_in_root(rootfs, reqs, trees, count, err);
	restore_r = place_restore(&place);
	if (restore_r < 0) {
		/* Cannot happen short of a kernel bug (we hold the namespace and
		 * the capabilities that just let us enter the other one). Every
		 * path the stage resolves next would be the container's: stop
		 * here (the runtime then fails the container). */
		log_error("cannot return to the hook's mount namespace: %s", strerror(-restore_r));
		_exit(1);
	}
out:
	for (size_t i = 0; i < tree_count; i++)
		close(trees[i]);
	place_done(&place);
	return r;
}
