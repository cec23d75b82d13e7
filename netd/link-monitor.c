/* Link deletion monitor (see link-monitor.h): owns one NETLINK_ROUTE
 * socket in the netns it was created in.
 *
 * Invariants: the socket is non-blocking; what the filter passes is one
 * RTM_DELLINK per datagram, but the parser walks every message of a
 * datagram anyway and checks each one's type and family, so a kernel that
 * batches (or no filter, where SO_ATTACH_FILTER is refused) stays correct.
 *
 * Locking: none; one thread. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>

#include "link-monitor.h"
#include "netlink-events.h"
#include "log.h"
#include "xalloc.h"

/* Room for a burst: deleting a netns with 8 attachments, or a few hundred
 * netns at once (a node drained), is a few hundred notifications of about
 * 1 KiB each. An overflow is not fatal (the owner rescans). */
#define LINK_MONITOR_RCVBUF	(4 * 1024 * 1024)
#define LINK_MONITOR_PREFIX_MAX 8

struct link_monitor {
	struct mnl_socket *nl;
	char prefix[LINK_MONITOR_PREFIX_MAX];
	link_monitor_cb cb;
	void *userdata;
};

/* Accepts a datagram whose first message is an RTM_DELLINK of family
 * AF_UNSPEC, drops the rest. BPF loads are big-endian while netlink
 * headers are in host order: comparing the loaded half-word with
 * htons(RTM_DELLINK) is right on either byte order. */
static int attach_filter(int fd)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_type)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htons(RTM_DELLINK), 0, 3),
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS,
		     NLMSG_HDRLEN + offsetof(struct ifinfomsg, ifi_family)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNSPEC, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

int link_monitor_new(const char *prefix, link_monitor_cb cb, void *userdata,
		     struct link_monitor **ret_monitor, struct pw_error *err)
{
	struct link_monitor *m = xcalloc(1, sizeof(*m));
	int group = RTNLGRP_LINK, size = LINK_MONITOR_RCVBUF, fd, r;

	snprintf(m->prefix, sizeof(m->prefix), "%s", prefix);
	m->cb = cb;
	m->userdata = userdata;
	m->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!m->nl) {
		r = -errno;
		free(m);
		return pw_error_set(err, r, "link monitor: opening a netlink socket: %s",
				    strerror(-r));
	}
	fd = mnl_socket_get_fd(m->nl);
	/* The filter before the subscription, so nothing unfiltered queues. */
	r = attach_filter(fd);
	if (r < 0)
		log_warn_errno(r, "link monitor: no socket filter, reading every link event");
	if (mnl_socket_bind(m->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(m->nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		r = -errno;
		link_monitor_free(m);
		return pw_error_set(err, r, "link monitor: subscribing to link events: %s",
				    strerror(-r));
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	*ret_monitor = m;
	return 0;
}

void link_monitor_free(struct link_monitor *monitor)
{
	if (!monitor)
		return;
	if (monitor->nl)
		mnl_socket_close(monitor->nl);
	free(monitor);
}

int link_monitor_fd(const struct link_monitor *monitor)
{
	return mnl_socket_get_fd(monitor->nl);
}

/* The name of a deleted link with our prefix, or NULL. */
static const char *deleted_name(const struct link_monitor *m, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi;
	const struct nlattr *attr;

	if (nlh->nlmsg_type != RTM_DELLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return NULL;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (ifi->ifi_family != AF_UNSPEC)
		return NULL;
	mnl_attr_for_each(attr, nlh, sizeof(*ifi))
	{
		const char *name;

		if (mnl_attr_get_type(attr) != IFLA_IFNAME)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_get_payload_len(attr) > IFNAMSIZ)
			return NULL;
		name = mnl_attr_get_str(attr);
		return strncmp(name, m->prefix, strlen(m->prefix)) == 0 ? name : NULL;
	}
	return NULL;
}

/* netlink_events_drain() callback: 1 for a deletion passed on. */
static int link_monitor_message(const struct nlmsghdr *nlh, void *userdata)
{
	struct link_monitor *monitor = userdata;
	const char *name = deleted_name(monitor, nlh);

	if (!name)
		return 0;
	monitor->cb(name, monitor->userdata);
	return 1;
}

int link_monitor_process(struct link_monitor *monitor)
{
	bool lost;
	int seen;

	seen = netlink_events_drain(monitor->nl, link_monitor_message, monitor, &lost);
	if (seen < 0)
		return log_error_errno(seen, "link monitor: reading events");
	if (lost) {
		log_warn("link monitor: events were lost; checking every group's links");
		monitor->cb(NULL, monitor->userdata);
	}
	return seen;
}
