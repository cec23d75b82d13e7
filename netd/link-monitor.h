/* Watches the links of netd's network namespace for deletions: a group's
 * host veth goes when the kernel destroys the group's netns (the last
 * process left and nothing holds it open: the kernel deletes every veth
 * pair with an end inside) or when someone deletes either end by hand.
 *
 * A NETLINK_ROUTE socket subscribed to RTNLGRP_LINK with a classic BPF
 * filter that lets only RTM_DELLINK of family AF_UNSPEC through (the
 * kernel sends one link notification per message): the new-link and
 * change notifications every attach causes (several per veth pair) never
 * reach netd, so watching costs nothing per attach. AF_BRIDGE deletions
 * (a port leaving a bridge) are filtered out too.
 *
 * Not tied to an event loop: the owner polls link_monitor_fd() for input
 * and calls link_monitor_process(), which never blocks. Single-threaded. */
#pragma once

#include "error.h"

struct link_monitor;

/* Called from link_monitor_process() with the name of each deleted link
 * that starts with the monitor's prefix, or with NULL once when the kernel
 * dropped notifications (the socket's buffer overflowed): the owner should
 * then check every link it cares about. */
typedef void (*link_monitor_cb)(const char *ifname, void *userdata);

int link_monitor_new(const char *prefix, link_monitor_cb cb, void *userdata,
		     struct link_monitor **ret_monitor, struct pw_error *err);
void link_monitor_free(struct link_monitor *monitor);
int link_monitor_fd(const struct link_monitor *monitor);
/* Reads every pending notification: the number of deletions reported, or
 * a negative errno. */
int link_monitor_process(struct link_monitor *monitor);
