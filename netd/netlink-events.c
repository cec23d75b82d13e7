/* Draining multicast netlink event sockets (see netlink-events.h).
 * Stateless; one thread. */
#include <errno.h>
#include <sys/socket.h>

#include "netlink-events.h"
#include "macro.h"
#include "xalloc.h"

int netlink_events_drain(struct mnl_socket *nl,
			 int (*each)(const struct nlmsghdr *nlh, void *userdata), void *userdata,
			 bool *ret_lost)
{
	_cleanup_free_ char *buf = xmalloc(MNL_SOCKET_BUFFER_SIZE);
	int seen = 0;

	*ret_lost = false;
	for (;;) {
		const struct nlmsghdr *nlh;
		ssize_t len =
		    recv(mnl_socket_get_fd(nl), buf, MNL_SOCKET_BUFFER_SIZE, MSG_DONTWAIT);
		int remaining;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return seen;
			/* The kernel dropped events; what is queued after
			 * the overflow is still worth reading. */
			if (errno == ENOBUFS) {
				*ret_lost = true;
				continue;
			}
			return -errno;
		}
		remaining = (int)len;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, remaining);
		     nlh = mnl_nlmsg_next(nlh, &remaining))
			seen += each(nlh, userdata);
	}
}
