/* Network namespace helpers (see netns.h). setns() switches only the
 * calling thread, so these are safe in multi-threaded programs as long as
 * the thread switches back before doing anything else. */
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/ioctl.h>

#include "macro.h"
#include "netns.h"

int netns_open(const char *path, int *ret_fd)
{
	_cleanup_close_ int fd = -EBADF;
	int type;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* /run/netns/NAME and /proc/PID/ns/net are nsfs inodes; ask the
	 * kernel which kind of namespace (anything else fails the ioctl). */
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0 || type != CLONE_NEWNET)
		return -EINVAL;
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
