/* Network namespace helpers. A daemon never stays in a foreign netns: to
 * talk netlink inside a group's netns it opens a socket there (a socket
 * keeps the netns it was created in) and switches the calling thread back
 * at once. */
#pragma once

#include "error.h"

/* Opens a netns file (/proc/PID/ns/net, /run/netns/NAME) given by a
 * client, safely: never blocks (a FIFO), never opens a device, and refuses
 * anything but a network namespace with -EINVAL and a message saying what
 * the path is ("netns /tmp/f is not a network namespace (it is a FIFO)");
 * a missing path is -ENOENT. err may be NULL. */
int netns_open(const char *path, int *ret_fd, struct pw_error *err);
/* socket(domain, type, protocol) created inside the netns of netns_fd. */
int netns_socket(int netns_fd, int domain, int type, int protocol);
/* Runs fn(userdata) with the calling thread inside netns_fd, then returns
 * to the original netns (returns fn's result, or the setns error). */
int netns_run(int netns_fd, int (*fn)(void *userdata), void *userdata);
/* Whether two netns fds refer to the same namespace. */
int netns_same(int fd_a, int fd_b);
