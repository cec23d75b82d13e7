/* Network namespace helpers (see netns.h). setns() switches only the
 * calling thread, so these are safe in multi-threaded programs as long as
 * the thread switches back before doing anything else. */
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "macro.h"
#include "netns.h"

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	default:
		return "not a namespace file";
	}
}

static const char *ns_kind(int type)
{
	switch (type) {
	case CLONE_NEWNS:
		return "a mount namespace";
	case CLONE_NEWUTS:
		return "a UTS namespace";
	case CLONE_NEWIPC:
		return "an IPC namespace";
	case CLONE_NEWUSER:
		return "a user namespace";
	case CLONE_NEWPID:
		return "a PID namespace";
	case CLONE_NEWCGROUP:
		return "a cgroup namespace";
	default:
		return "another kind of namespace";
	}
}

int netns_open(const char *path, int *ret_fd, struct pw_error *err)
{
	_cleanup_close_ int path_fd = -EBADF, fd = -EBADF;
	char fd_path[64];
	struct statfs sfs;
	struct stat st;
	int type;

	/* O_PATH opens nothing: a FIFO does not block (a plain open waits for
	 * a writer, forever in a single-threaded daemon) and a device's open
	 * handler (a tape rewinding, a watchdog arming) never runs. Symlinks
	 * are followed, as for any path a user gives. */
	path_fd = open(path, O_PATH | O_CLOEXEC);
	if (path_fd < 0)
		return pw_error_set(err, -errno, "netns %s: %s", path, strerror(errno));
	if (fstat(path_fd, &st) < 0 || fstatfs(path_fd, &sfs) < 0)
		return pw_error_set(err, -errno, "netns %s: %s", path, strerror(errno));
	if (sfs.f_type != NSFS_MAGIC)
		return pw_error_set(err, -EINVAL, "netns %s is not a network namespace (it is %s)",
				    path, file_kind(st.st_mode));
	/* An nsfs inode: opening it for real has no side effect. Reopen the
	 * very inode through /proc (the path may have changed meanwhile);
	 * setns() and the ioctl need a real open file. */
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", path_fd);
	fd = open(fd_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return pw_error_set(err, -errno, "netns %s: %s", path, strerror(errno));
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0)
		return pw_error_set(err, -EINVAL, "netns %s is not a network namespace (%s)", path,
				    strerror(errno));
	if (type != CLONE_NEWNET)
		return pw_error_set(err, -EINVAL, "netns %s is not a network namespace (it is %s)",
				    path, ns_kind(type));
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int netns_run(int netns_fd, int (*fn)(void *userdata), void *userdata)
{
	_cleanup_close_ int self = -EBADF;
	int r;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	r = fn(userdata);
	if (setns(self, CLONE_NEWNET) < 0)
		abort(); /* Staying in a foreign netns would misdirect everything after. */
	return r;
}

struct socket_args {
	int domain, type, protocol;
};

static int make_socket(void *userdata)
{
	struct socket_args *a = userdata;
	int fd = socket(a->domain, a->type | SOCK_CLOEXEC, a->protocol);
	return fd < 0 ? -errno : fd;
}

int netns_socket(int netns_fd, int domain, int type, int protocol)
{
	struct socket_args a = { domain, type, protocol };
	return netns_run(netns_fd, make_socket, &a);
}

int netns_same(int fd_a, int fd_b)
{
	struct stat a, b;

	if (fstat(fd_a, &a) < 0 || fstat(fd_b, &b) < 0)
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}
