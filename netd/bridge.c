/* VNet bridges (see bridge.h). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <netlink/route/link.h>

#include "bridge.h"
#include "netlink.h"

/* The smallest MTU the kernel takes for an Ethernet device (ETH_MIN_MTU). */
#define BRIDGE_MTU_MIN 68

static bool is_bridge(struct rtnl_link *link)
{
	const char *type = rtnl_link_get_type(link);

	return type && streq(type, "bridge");
}

int bridge_ifindex(struct nl_sock *sock, const char *name, int *ret_ifindex)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r;

	r = link_get(sock, name, &link);
	if (r < 0)
		return r;
	if (!is_bridge(link))
		return -EINVAL;
	*ret_ifindex = rtnl_link_get_ifindex(link);
	return 0;
}

int bridge_ifindex_fast(struct nl_sock *sock, const char *name, int *ret_ifindex)
{
	char path[sizeof("/sys/class/net//bridge") + IFNAMSIZ];
	unsigned ifindex = if_nametoindex(name);

	if (ifindex == 0)
		return errno == ENODEV ? -ENODEV : bridge_ifindex(sock, name, ret_ifindex);
	/* sysfs shows the netns it was mounted in: when that is not ours
	 * (or it is not mounted), ask netlink. */
	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", name);
	if (access(path, F_OK) < 0)
		return bridge_ifindex(sock, name, ret_ifindex);
	*ret_ifindex = (int)ifindex;
	return 0;
}

/* A bridge without an address of its own takes the lowest MAC among its
 * ports, so attaching a group could change the gateway's MAC under every
 * other group: their ARP caches then point nowhere for seconds and DNS
 * queries to the gateway time out. A fixed, locally administered unicast
 * address derived from the bridge name prevents that and survives
 * restarts. */
static struct nl_addr *bridge_mac(const char *name)
{
	uint64_t hash = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
	uint8_t mac[6];

	for (const char *p = name; *p; p++)
		hash = (hash ^ (uint8_t)*p) * 0x100000001b3ULL;
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(hash >> (8 * i));
	return nl_addr_build(AF_LLC, mac, sizeof(mac));
}

static int bridge_set_mac(struct nl_sock *sock, struct rtnl_link *link, const char *name)
{
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
	struct nl_addr *mac = bridge_mac(name);
	int r;

	if (!change || !mac) {
		nl_addr_put(mac);
		return -ENOMEM;
	}
	if (rtnl_link_get_addr(link) && nl_addr_cmp(rtnl_link_get_addr(link), mac) == 0) {
		nl_addr_put(mac);
		return 0;
	}
	rtnl_link_set_addr(change, mac);
	nl_addr_put(mac);
	r = netlink_errno(rtnl_link_change(sock, link, change, 0));
	return r;
}

/* Multicast snooping off: each port added to a snooping bridge starts its
 * own querier state, and a VNet (like an Azure one) has no multicast
 * groups to snoop for; multicast, IPv6 neighbour discovery included, is
 * flooded to the VNet's ports as on a plain switch. */
static int bridge_set_options(struct nl_sock *sock, int ifindex)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nlattr *info, *data;
	struct nl_msg *msg;
	int r;

	msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	info = r < 0 ? NULL : nla_nest_start(msg, IFLA_LINKINFO);
	if (!info || nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0)
		goto nomem;
	data = nla_nest_start(msg, IFLA_INFO_DATA);
	if (!data || nla_put_u8(msg, IFLA_BR_MCAST_SNOOPING, 0) < 0)
		goto nomem;
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return netlink_request(sock, msg);
nomem:
	nlmsg_free(msg);
	return -ENOMEM;
}

static int bridge_create(struct nl_sock *sock, const struct vnet *vnet)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
	struct nl_addr *mac;
	int r;

	if (!link)
		return -ENOMEM;
	r = netlink_errno(rtnl_link_set_type(link, "bridge"));
	if (r < 0)
		return r;
	mac = bridge_mac(vnet->bridge);
	if (!mac)
		return -ENOMEM;
	rtnl_link_set_addr(link, mac);
	nl_addr_put(mac);
	rtnl_link_set_name(link, vnet->bridge);
	/* Created one byte off, so that bridge_ensure's MTU change marks it
	 * as set by the user: else every port added or removed makes the
	 * kernel take the smallest MTU of all the bridge's ports again, a
	 * walk that makes attaches slower as the VNet grows. */
	rtnl_link_set_mtu(link, vnet->mtu > BRIDGE_MTU_MIN ? vnet->mtu - 1 : vnet->mtu + 1);
	/* Down: bridge_ensure brings it up once it is quiet. */
	r = netlink_errno(rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL));
	return r == -EEXIST ? 0 : r;
}

int bridge_ensure(struct nl_sock *sock, const struct vnet *vnet, struct pw_error *err)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	char buf[INET6_ADDRSTRLEN];
	int ifindex, r;

	r = link_get(sock, vnet->bridge, &link);
	if (r == -ENODEV) {
		r = bridge_create(sock, vnet);
		if (r < 0)
			return pw_error_set(err, r, "create bridge %s: %s", vnet->bridge,
					    strerror(-r));
		r = link_get(sock, vnet->bridge, &link);
	}
	if (r < 0)
		return pw_error_set(err, r, "bridge %s: %s", vnet->bridge, strerror(-r));
	if (!is_bridge(link))
		return pw_error_set(err, -EEXIST, "interface %s exists and is not a bridge",
				    vnet->bridge);
	ifindex = rtnl_link_get_ifindex(link);
	r = bridge_set_options(sock, ifindex);
	if (r < 0)
		return pw_error_set(err, r, "bridge %s: turn multicast snooping off: %s",
				    vnet->bridge, strerror(-r));
	r = bridge_set_mac(sock, link, vnet->bridge);
	if (r < 0)
		return pw_error_set(err, r, "bridge %s: set its MAC address: %s", vnet->bridge,
				    strerror(-r));
	if (!vnet_has_ipv6(vnet)) {
		/* No link-local address on an IPv4-only VNet: else the bridge
		 * sends DAD, router solicitations and MLD reports, each
		 * flooded to every group, for nothing. */
		r = link_set_af(sock, ifindex, NULL, false, true);
		if (r < 0 && r != -EAFNOSUPPORT && r != -EOPNOTSUPP)
			return pw_error_set(err, r, "bridge %s: turn IPv6 addresses off: %s",
					    vnet->bridge, strerror(-r));
	}
	if (rtnl_link_get_mtu(link) != vnet->mtu || !(rtnl_link_get_flags(link) & IFF_UP)) {
		r = link_set(sock, ifindex, IFF_UP, vnet->mtu);
		if (r < 0)
			return pw_error_set(err, r, "bridge %s: set MTU %u and up: %s",
					    vnet->bridge, vnet->mtu, strerror(-r));
	}
	for (size_t i = 0; i < vnet->subnet_count; i++) {
		r = addr_add(sock, ifindex, &vnet->gateways[i], vnet->subnets[i].prefixlen);
		if (r < 0)
			return pw_error_set(err, r, "bridge %s: add gateway address %s: %s",
					    vnet->bridge, ip_addr_format(&vnet->gateways[i], buf),
					    strerror(-r));
	}
	return 0;
}

int bridge_remove(struct nl_sock *sock, const char *name)
{
	return link_delete(sock, name);
}
