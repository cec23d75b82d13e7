/* A group's attachment in the kernel: one veth pair. The host end (named
 * by the caller, deterministic) joins the VNet bridge; the group end is
 * created directly inside the group's netns (IFLA_NET_NS_FD on the peer)
 * under its final name (eth0, eth1, ...), so there is no rename step and
 * no moment where it sits in the host netns. Addresses, the default route
 * and lo go through a netlink socket opened inside the group's netns;
 * netd's thread enters the netns once per attachment, to create that
 * socket (and, on a dual-stack VNet, write two IPv6 sysctls of the group
 * end, per-netns files), and leaves at once. */
#pragma once

#include <netlink/socket.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "prefix.h"

struct veth_config {
	const char *host_ifname;
	const char *ifname; /* in the group's netns */
	const uint8_t *mac; /* of the group end, 6 bytes */
	unsigned mtu;
	int bridge_ifindex;
	const struct ip_addr *addresses; /* of the group end */
	const unsigned *prefixlens;
	size_t address_count;
	const struct ip_addr *gateways; /* per address family, for the default route */
	size_t gateway_count;
	bool default_route;
	/* Send a gratuitous ARP when the group end comes up (arp_notify). A
	 * broadcast reaches every port of the bridge, so this is only for
	 * MACs given by the caller: a default MAC is derived from the address
	 * and no neighbour can hold a different one for it. */
	bool announce;
};

/* Creates the pair and configures the group end; returns the host end's
 * ifindex. On failure nothing of it is left behind. -EEXIST if either
 * name is taken. */
int veth_create(struct nl_sock *host_sock, int netns_fd, const struct veth_config *config,
		struct pw_error *err);
/* Deletes the pair through its host end (the kernel removes both ends);
 * a missing link is success. */
int veth_remove(struct nl_sock *host_sock, const char *host_ifname);
/* Turns on hairpin mode on a bridge port (the host end): the bridge may
 * send a frame back out of the port it came in by, which a group needs to
 * reach its own published port (the DNAT'd frame returns to it). */
int veth_set_hairpin(struct nl_sock *host_sock, const char *host_ifname);
