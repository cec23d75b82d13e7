/* Thin helpers over libnl-route-3 shared by bridge.c, veth.c, hostnet.c
 * and reconcile.c: sockets (in the calling netns or inside another one),
 * errno mapping, and the link/address requests they all make.
 *
 * Every request is one synchronous netlink round trip (request, ack);
 * nothing here keeps a cache, so no call costs more as links grow except
 * the explicit dumps (link_foreach), which only reconcile makes. */
#pragma once

#include <netlink/route/link.h>
#include <netlink/socket.h>
#include <stdbool.h>

#include "macro.h"
#include "prefix.h"

/* A NETLINK_ROUTE socket in the calling thread's netns (netns_fd < 0) or
 * inside netns_fd (the thread enters it only to create the socket). */
int netlink_open(int netns_fd, struct nl_sock **ret_sock);
/* Wraps an unbound NETLINK_ROUTE socket fd (taking ownership of it, also
 * on failure). */
int netlink_adopt(int fd, struct nl_sock **ret_sock);
void netlink_close(struct nl_sock *sock);
static inline void netlink_closep(struct nl_sock **sock)
{
	if (*sock)
		netlink_close(*sock);
}
#define _cleanup_netlink_ _cleanup_(netlink_closep)

static inline void rtnl_link_putp(struct rtnl_link **link)
{
	if (*link)
		rtnl_link_put(*link);
}
#define _cleanup_link_ _cleanup_(rtnl_link_putp)

/* libnl's NLE_* codes (positive or negative) as a negative errno. */
int netlink_errno(int nl_error);
/* Sends a request built by hand (NLM_F_ACK set), frees it, and waits for
 * the kernel's answer: 0 or a negative errno. */
int netlink_request(struct nl_sock *sock, struct nl_msg *msg);

/* The link named name: -ENODEV if there is none. */
int link_get(struct nl_sock *sock, const char *name, struct rtnl_link **ret_link);
/* Deletes the link: 1 if deleted, 0 if there was none. */
int link_delete(struct nl_sock *sock, const char *name);
/* Sets flags (IFF_UP...) and, if mtu > 0, the MTU of an existing link. */
int link_set(struct nl_sock *sock, int ifindex, unsigned flags, unsigned mtu);
/* Sets per-interface address-family settings of a link, by ifindex (or by
 * name when ifindex is 0), in one RTM_SETLINK: arp_notify (IPv4 devconf)
 * if arp_notify, IPv6 addr_gen_mode none (no link-local address, so no
 * DAD, MLD or router solicitation) if no_ipv6_addrs. Netlink rather than
 * /proc/sys: opening a path under /proc/sys/net/ipv6/conf costs time
 * linear in the number of network namespaces that ever looked it up (their
 * dentries share one hash chain), so a sysctl per attach grows with the
 * groups. -EAFNOSUPPORT on a kernel without IPv6 when no_ipv6_addrs. */
int link_set_af(struct nl_sock *sock, int ifindex, const char *name, bool arp_notify,
		bool no_ipv6_addrs);
/* Calls cb for every link in the socket's netns (one dump). */
int link_foreach(struct nl_sock *sock, int (*cb)(struct rtnl_link *link, void *userdata),
		 void *userdata);

/* Adds addr/prefixlen to ifindex (IPv6 without duplicate address
 * detection: the addresses are ours by construction and must work at
 * once). An existing address is success. */
int addr_add(struct nl_sock *sock, int ifindex, const struct ip_addr *addr, unsigned prefixlen);
/* Adds a default route via gateway on ifindex (an existing one is
 * success). */
int route_add_default(struct nl_sock *sock, int ifindex, const struct ip_addr *gateway);
/* Deletes the IPv6 multicast route ff00::/8 (table local) of ifindex;
 * -ESRCH when it has none. */
int route_del_multicast6(struct nl_sock *sock, int ifindex);
