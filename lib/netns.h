/* Network namespace helpers. A daemon never stays in a foreign netns: to
 * talk netlink inside a group's netns it opens a socket there (a socket
 * keeps the netns it was created in) and switches the calling thread back
 * at once. */
#pragma once

/* Opens a netns file (/proc/PID/ns/net, /run/netns/NAME): -ENOENT if it
 * does not exist, -EINVAL if it is not a network namespace. */
int netns_open(const char *path, int *ret_fd);
/* socket(domain, type, protocol) created inside the netns of netns_fd. */
int netns_socket(int netns_fd, int domain, int type, int protocol);
/* Runs fn(userdata) with the calling thread inside netns_fd, then returns
 * to the original netns (returns fn's result, or the setns error). */
int netns_run(int netns_fd, int (*fn)(void *userdata), void *userdata);
/* Whether two netns fds refer to the same namespace. */
int netns_same(int fd_a, int fd_b);
