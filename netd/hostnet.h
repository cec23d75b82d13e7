/* Facts about the host netns that VNet creation depends on: the MTU of
 * the default-route interface, routes a new subnet would collide with,
 * and IP forwarding. All act on the netns of the given socket (netd's own,
 * "the host"). */
#pragma once

#include <netlink/socket.h>
#include <stdbool.h>
#include <stddef.h>

#include "prefix.h"

/* Ethernet's MTU, for hosts without a default route. */
#define HOSTNET_MTU_FALLBACK 1500

/* The MTU of the interface of the IPv4 default route with the lowest
 * metric in the main table, or HOSTNET_MTU_FALLBACK if there is none. */
int hostnet_default_mtu(struct nl_sock *sock, unsigned *ret_mtu);

/* Looks for a route in the host netns (any table but local; default
 * routes, link-local and routes on podwire's own bridges "pw-*" aside)
 * whose destination overlaps one of the prefixes. Returns 1 and describes
 * it in ret_desc ("10.1.0.0/16 dev eth0"), 0 if none, or a negative
 * errno. */
int hostnet_route_conflict(struct nl_sock *sock, const struct ip_prefix *prefixes, size_t count,
			   char *ret_desc, size_t desc_size);

/* Turns on IPv4 forwarding (and IPv6 forwarding if ipv6) in the calling
 * netns: groups reach the outside through it. */
int hostnet_enable_forwarding(bool ipv6);
