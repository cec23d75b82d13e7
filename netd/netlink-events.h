/* Reading a netlink socket subscribed to multicast events (the link and
 * the nftables monitors): every datagram queued now, message by message,
 * without blocking, noticing when the kernel had to drop some. */
#pragma once

#include <stdbool.h>

#include <libmnl/libmnl.h>

/* Calls each(nlh, userdata) for every message of every datagram waiting on
 * nl (a non-blocking socket) and returns the sum of what each returned, or
 * a negative errno if reading failed. *ret_lost tells whether the receive
 * buffer overflowed (ENOBUFS) in between: events were dropped, and the
 * caller has to look at the kernel's state itself. */
int netlink_events_drain(struct mnl_socket *nl,
			 int (*each)(const struct nlmsghdr *nlh, void *userdata), void *userdata,
			 bool *ret_lost);
