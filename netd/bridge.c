/* VNet bridges (see bridge.h). */
#include <errno.h>
#include <net/if.h>
#include <netlink/route/link.h>

#include "bridge.h"
#include "netlink.h"

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

static int bridge_create(struct nl_sock *sock, const struct vnet *vnet)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
	int r;

	if (!link)
		return -ENOMEM;
	r = netlink_errno(rtnl_link_set_type(link, "bridge"));
	if (r < 0)
		return r;
	rtnl_link_set_name(link, vnet->bridge);
	rtnl_link_set_mtu(link, vnet->mtu);
	rtnl_link_set_flags(link, IFF_UP);
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
