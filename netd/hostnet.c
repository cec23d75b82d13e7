/* Host netns facts: default-route MTU, route conflicts, forwarding (see
 * hostnet.h). These dump the route table, so they are for VNet creation
 * and start-up, never per group. */
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <netlink/route/route.h>
#include <stdio.h>

#include "hostnet.h"
#include "netlink.h"
#include "vnet.h"

struct default_route {
	uint32_t priority;
	int ifindex;
};

static void find_default(struct nl_object *obj, void *arg)
{
	struct rtnl_route *route = (struct rtnl_route *)obj;
	struct default_route *best = arg;
	struct nl_addr *dst = rtnl_route_get_dst(route);
	struct rtnl_nexthop *nh;

	if (rtnl_route_get_table(route) != RT_TABLE_MAIN ||
	    rtnl_route_get_type(route) != RTN_UNICAST)
		return;
	if (dst && nl_addr_get_prefixlen(dst) != 0)
		return;
	if (rtnl_route_get_nnexthops(route) < 1)
		return;
	nh = rtnl_route_nexthop_n(route, 0);
	if (!nh || rtnl_route_nh_get_ifindex(nh) <= 0)
		return;
	if (best->ifindex == 0 || rtnl_route_get_priority(route) < best->priority) {
		best->priority = rtnl_route_get_priority(route);
		best->ifindex = rtnl_route_nh_get_ifindex(nh);
	}
}

int hostnet_default_mtu(struct nl_sock *sock, unsigned *ret_mtu)
{
	struct nl_cache *cache = NULL;
	struct default_route best = {0};
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r;

	r = rtnl_route_alloc_cache(sock, AF_INET, 0, &cache);
	if (r < 0)
		return netlink_errno(r);
	nl_cache_foreach(cache, find_default, &best);
	nl_cache_free(cache);

	*ret_mtu = HOSTNET_MTU_FALLBACK;
	if (best.ifindex == 0)
		return 0;
	r = rtnl_link_get_kernel(sock, best.ifindex, NULL, &link);
	if (r < 0)
		return 0; /* the interface went away meanwhile */
	if (rtnl_link_get_mtu(link) > 0)
		*ret_mtu = rtnl_link_get_mtu(link);
	return 0;
}

struct conflict_ctx {
	struct nl_cache *links;
	const struct ip_prefix *prefixes;
	size_t count;
	char *desc;
	size_t desc_size;
	bool found;
};

static void check_route(struct nl_object *obj, void *arg)
{
	struct rtnl_route *route = (struct rtnl_route *)obj;
	struct conflict_ctx *ctx = arg;
	struct nl_addr *dst = rtnl_route_get_dst(route);
	struct rtnl_nexthop *nh = NULL;
	struct ip_prefix p = {0};
	char ifname[IFNAMSIZ] = "", buf[IP_PREFIX_STRLEN];
	uint8_t type = rtnl_route_get_type(route);

	if (ctx->found || !dst || rtnl_route_get_table(route) == RT_TABLE_LOCAL)
		return;
	if (type == RTN_LOCAL || type == RTN_BROADCAST || type == RTN_MULTICAST ||
	    type == RTN_ANYCAST)
		return;
	p.family = nl_addr_get_family(dst);
	p.prefixlen = nl_addr_get_prefixlen(dst);
	if ((p.family != AF_INET && p.family != AF_INET6) || p.prefixlen == 0 ||
	    nl_addr_get_len(dst) != ip_family_addr_size(p.family))
		return;
	memcpy(p.addr.bytes, nl_addr_get_binary_addr(dst), nl_addr_get_len(dst));
	/* fe80::/10 and ff00::/8 are on every IPv6 interface and never a
	 * VNet subnet (vnet.c refuses them). */
	if (p.family == AF_INET6 && (p.addr.bytes[0] == 0xff ||
				     (p.addr.bytes[0] == 0xfe && (p.addr.bytes[1] & 0xc0) == 0x80)))
		return;
	if (rtnl_route_get_nnexthops(route) > 0)
		nh = rtnl_route_nexthop_n(route, 0);
	if (nh && rtnl_route_nh_get_ifindex(nh) > 0)
		rtnl_link_i2name(ctx->links, rtnl_route_nh_get_ifindex(nh), ifname, sizeof(ifname));
	if (strncmp(ifname, VNET_BRIDGE_PREFIX, strlen(VNET_BRIDGE_PREFIX)) == 0)
		return;
	for (size_t i = 0; i < ctx->count; i++) {
		if (ctx->prefixes[i].family != p.family ||
		    !ip_prefix_overlaps(&ctx->prefixes[i], &p))
			continue;
		snprintf(ctx->desc, ctx->desc_size, "%s%s%s", ip_prefix_format(&p, buf),
			 ifname[0] ? " dev " : "", ifname);
		ctx->found = true;
		return;
	}
}

int hostnet_route_conflict(struct nl_sock *sock, const struct ip_prefix *prefixes, size_t count,
			   char *ret_desc, size_t desc_size)
{
	struct conflict_ctx ctx = {
	    .prefixes = prefixes, .count = count, .desc = ret_desc, .desc_size = desc_size};
	int families[] = {AF_INET, AF_INET6};
	int r;

	r = rtnl_link_alloc_cache(sock, AF_UNSPEC, &ctx.links);
	if (r < 0)
		return netlink_errno(r);
	for (size_t f = 0; f < ARRAY_SIZE(families) && !ctx.found; f++) {
		struct nl_cache *routes = NULL;

		r = rtnl_route_alloc_cache(sock, families[f], 0, &routes);
		if (r < 0) {
			nl_cache_free(ctx.links);
			return netlink_errno(r);
		}
		nl_cache_foreach(routes, check_route, &ctx);
		nl_cache_free(routes);
	}
	nl_cache_free(ctx.links);
	return ctx.found ? 1 : 0;
}

static int write_sysctl(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		return -errno;
	return 0;
}

int hostnet_enable_forwarding(bool ipv6)
{
	int r = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");

	if (r < 0)
		return r;
	if (ipv6)
		r = write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	return r;
}
