/* Veth pairs for attachments (see veth.h). */
#include <errno.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/veth.h>

#include "netlink.h"
#include "veth.h"

/* The loopback device is ifindex 1 in every netns (LOOPBACK_IFINDEX). */
#define LOOPBACK_IFINDEX 1

static int create_pair(struct nl_sock *host_sock, int netns_fd, const struct veth_config *config)
{
	struct rtnl_link *link = rtnl_link_veth_alloc();
	_cleanup_link_ struct rtnl_link *peer = NULL;
	struct nl_addr *mac = NULL;
	int r = -ENOMEM;

	if (!link)
		return -ENOMEM;
	peer = rtnl_link_veth_get_peer(link);
	mac = nl_addr_build(AF_LLC, config->mac, 6);
	if (!peer || !mac)
		goto out;

	rtnl_link_set_name(link, config->host_ifname);
	rtnl_link_set_mtu(link, config->mtu);
	rtnl_link_set_master(link, config->bridge_ifindex);
	rtnl_link_set_flags(link, IFF_UP);

	rtnl_link_set_name(peer, config->ifname);
	rtnl_link_set_ns_fd(peer, netns_fd);
	rtnl_link_set_mtu(peer, config->mtu);
	rtnl_link_set_addr(peer, mac);
	/* Not IFF_UP here: the kernel opens the peer before the pair is
	 * linked, and veth_open() then fails with ENOTCONN. */

	r = netlink_errno(rtnl_link_add(host_sock, link, NLM_F_CREATE | NLM_F_EXCL));
out:
	if (mac)
		nl_addr_put(mac);
	rtnl_link_veth_release(link);
	return r;
}

/* An address freed by one group and taken by the next comes with another
 * MAC when a MAC was given; neighbours would keep the old one for up to a
 * reachable time. arp_notify makes the kernel send a gratuitous ARP when
 * the interface comes up, which updates their caches at once. */
static int set_arp_notify(struct nl_sock *sock, struct rtnl_link *link)
{
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
	int r;

	if (!change)
		return -ENOMEM;
	r = netlink_errno(rtnl_link_inet_set_conf(change, IPV4_DEVCONF_ARP_NOTIFY, 1));
	if (r < 0)
		return r;
	return netlink_errno(rtnl_link_change(sock, link, change, 0));
}

static int configure_group_end(int netns_fd, const struct veth_config *config, struct pw_error *err)
{
	_cleanup_netlink_ struct nl_sock *sock = NULL;
	_cleanup_link_ struct rtnl_link *link = NULL;
	char buf[INET6_ADDRSTRLEN];
	int ifindex, r;

	r = netlink_open(netns_fd, &sock);
	if (r < 0)
		return pw_error_set(err, r, "netlink socket in the group's netns: %s",
				    strerror(-r));
	r = link_get(sock, config->ifname, &link);
	if (r < 0)
		return pw_error_set(err, r, "%s in the group's netns: %s", config->ifname,
				    strerror(-r));
	ifindex = rtnl_link_get_ifindex(link);
	r = set_arp_notify(sock, link);
	if (r < 0)
		return pw_error_set(err, r, "%s: arp_notify: %s", config->ifname, strerror(-r));
	/* Addresses before up, so the gratuitous ARP on up announces them. */
	for (size_t i = 0; i < config->address_count; i++) {
		r = addr_add(sock, ifindex, &config->addresses[i], config->prefixlens[i]);
		if (r < 0)
			return pw_error_set(err, r, "add address %s to %s: %s",
					    ip_addr_format(&config->addresses[i], buf),
					    config->ifname, strerror(-r));
	}
	r = link_set(sock, ifindex, IFF_UP, 0);
	if (r < 0)
		return pw_error_set(err, r, "%s up: %s", config->ifname, strerror(-r));
	r = link_set(sock, LOOPBACK_IFINDEX, IFF_UP, 0);
	if (r < 0)
		return pw_error_set(err, r, "lo up in the group's netns: %s", strerror(-r));
	if (!config->default_route)
		return 0;
	for (size_t i = 0; i < config->gateway_count; i++) {
		r = route_add_default(sock, ifindex, &config->gateways[i]);
		if (r < 0)
			return pw_error_set(err, r, "default route via %s: %s",
					    ip_addr_format(&config->gateways[i], buf),
					    strerror(-r));
	}
	return 0;
}

int veth_create(struct nl_sock *host_sock, int netns_fd, const struct veth_config *config,
		struct pw_error *err)
{
	int r;

	r = create_pair(host_sock, netns_fd, config);
	if (r == -EEXIST)
		return pw_error_set(
		    err, r, "interface %s (host) or %s (in the group's netns) already exists",
		    config->host_ifname, config->ifname);
	if (r < 0)
		return pw_error_set(err, r, "create veth %s/%s: %s", config->host_ifname,
				    config->ifname, strerror(-r));
	r = configure_group_end(netns_fd, config, err);
	if (r < 0)
		(void)link_delete(host_sock, config->host_ifname);
	return r;
}

int veth_remove(struct nl_sock *host_sock, const char *host_ifname)
{
	return link_delete(host_sock, host_ifname);
}
