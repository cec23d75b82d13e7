/* libnl-route-3 helpers (see netlink.h). */
#include <errno.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <sys/socket.h>

#include "netlink.h"
#include "netns.h"

void netlink_close(struct nl_sock *sock)
{
	nl_socket_free(sock); /* closes the fd */
}

int netlink_adopt(int fd, struct nl_sock **ret_sock)
{
	_cleanup_close_ int owned = fd;
	struct sockaddr_nl local = {.nl_family = AF_NETLINK};
	struct nl_sock *sock;
	int r;

	/* Bound here (the kernel picks the port) so libnl learns the real
	 * port from getsockname. */
	if (bind(owned, (struct sockaddr *)&local, sizeof(local)) < 0)
		return -errno;
	sock = nl_socket_alloc();
	if (!sock)
		return -ENOMEM;
	r = nl_socket_set_fd(sock, NETLINK_ROUTE, owned);
	if (r < 0) {
		nl_socket_free(sock);
		return netlink_errno(r);
	}
	TAKE_FD(owned);
	*ret_sock = sock;
	return 0;
}

int netlink_open(int netns_fd, struct nl_sock **ret_sock)
{
	int fd;

	if (netns_fd >= 0) {
		fd = netns_socket(netns_fd, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
		if (fd < 0)
			return fd;
	} else {
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
		if (fd < 0)
			return -errno;
	}
	return netlink_adopt(fd, ret_sock);
}

int netlink_errno(int nl_error)
{
	switch (nl_error < 0 ? -nl_error : nl_error) {
	case 0:
		return 0;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_NOACCESS:
		return -EACCES;
	default:
		return -EIO;
	}
}

int link_get(struct nl_sock *sock, const char *name, struct rtnl_link **ret_link)
{
	int r = rtnl_link_get_kernel(sock, 0, name, ret_link);

	if (r < 0) {
		r = netlink_errno(r);
		return r == -ENOENT ? -ENODEV : r;
	}
	return 0;
}

int link_delete(struct nl_sock *sock, const char *name)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_alloc();
	int r;

	if (!link)
		return -ENOMEM;
	rtnl_link_set_name(link, name);
	r = netlink_errno(rtnl_link_delete(sock, link));
	if (r == -ENODEV || r == -ENOENT)
		return 0;
	return r < 0 ? r : 1;
}

int link_set(struct nl_sock *sock, int ifindex, unsigned flags, unsigned mtu)
{
	_cleanup_link_ struct rtnl_link *orig = rtnl_link_alloc();
	_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();

	if (!orig || !change)
		return -ENOMEM;
	rtnl_link_set_ifindex(orig, ifindex);
	if (flags)
		rtnl_link_set_flags(change, flags);
	if (mtu > 0)
		rtnl_link_set_mtu(change, mtu);
	return netlink_errno(rtnl_link_change(sock, orig, change, 0));
}

int netlink_request(struct nl_sock *sock, struct nl_msg *msg)
{
	int r = nl_send_auto_complete(sock, msg);

	nlmsg_free(msg);
	if (r < 0)
		return netlink_errno(r);
	return netlink_errno(nl_wait_for_ack(sock));
}

int link_set_af(struct nl_sock *sock, int ifindex, const char *name, bool arp_notify,
		bool no_ipv6_addrs)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex};
	struct nlattr *af, *family, *conf;
	struct nl_msg *msg;
	int r;

	msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (r >= 0 && ifindex == 0)
		r = nla_put_string(msg, IFLA_IFNAME, name);
	af = r < 0 ? NULL : nla_nest_start(msg, IFLA_AF_SPEC);
	if (!af)
		goto nomem;
	if (arp_notify) {
		family = nla_nest_start(msg, AF_INET);
		conf = family ? nla_nest_start(msg, IFLA_INET_CONF) : NULL;
		if (!conf || nla_put_u32(msg, IPV4_DEVCONF_ARP_NOTIFY, 1) < 0)
			goto nomem;
		nla_nest_end(msg, conf);
		nla_nest_end(msg, family);
	}
	if (no_ipv6_addrs) {
		family = nla_nest_start(msg, AF_INET6);
		if (!family ||
		    nla_put_u8(msg, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE) < 0)
			goto nomem;
		nla_nest_end(msg, family);
	}
	nla_nest_end(msg, af);
	return netlink_request(sock, msg);
nomem:
	nlmsg_free(msg);
	return -ENOMEM;
}

struct foreach_ctx {
	int (*cb)(struct rtnl_link *link, void *userdata);
	void *userdata;
	int r;
};

static void foreach_one(struct nl_object *obj, void *arg)
{
	struct foreach_ctx *ctx = arg;

	if (ctx->r >= 0)
		ctx->r = ctx->cb((struct rtnl_link *)obj, ctx->userdata);
}

int link_foreach(struct nl_sock *sock, int (*cb)(struct rtnl_link *link, void *userdata),
		 void *userdata)
{
	struct nl_cache *cache = NULL;
	struct foreach_ctx ctx = {cb, userdata, 0};
	int r;

	r = rtnl_link_alloc_cache(sock, AF_UNSPEC, &cache);
	if (r < 0)
		return netlink_errno(r);
	nl_cache_foreach(cache, foreach_one, &ctx);
	nl_cache_free(cache);
	return ctx.r;
}

static struct nl_addr *nl_addr_from(const struct ip_addr *addr, unsigned prefixlen)
{
	struct nl_addr *a =
	    nl_addr_build(addr->family, addr->addr.bytes, ip_family_addr_size(addr->family));

	if (a)
		nl_addr_set_prefixlen(a, (int)prefixlen);
	return a;
}

int addr_add(struct nl_sock *sock, int ifindex, const struct ip_addr *addr, unsigned prefixlen)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = nl_addr_from(addr, prefixlen);
	int r = -ENOMEM;

	if (!ra || !local)
		goto out;
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, addr->family);
	r = netlink_errno(rtnl_addr_set_local(ra, local));
	if (r < 0)
		goto out;
	rtnl_addr_set_prefixlen(ra, (int)prefixlen);
	if (addr->family == AF_INET6)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	r = netlink_errno(rtnl_addr_add(sock, ra, NLM_F_CREATE | NLM_F_EXCL));
	if (r == -EEXIST)
		r = 0;
out:
	if (local)
		nl_addr_put(local);
	if (ra)
		rtnl_addr_put(ra);
	return r;
}

int route_add_default(struct nl_sock *sock, int ifindex, const struct ip_addr *gateway)
{
	struct rtnl_route *route = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = NULL,
		       *gw = nl_addr_from(gateway, ip_family_addr_size(gateway->family) * 8);
	union in_addr_union any = {0};
	int r = -ENOMEM;

	if (!route || !nh || !gw)
		goto out;
	dst = nl_addr_build(gateway->family, any.bytes, ip_family_addr_size(gateway->family));
	if (!dst)
		goto out;
	nl_addr_set_prefixlen(dst, 0);
	rtnl_route_set_family(route, (uint8_t)gateway->family);
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_protocol(route, RTPROT_STATIC);
	rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
	rtnl_route_set_type(route, RTN_UNICAST);
	r = netlink_errno(rtnl_route_set_dst(route, dst));
	if (r < 0)
		goto out;
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_add_nexthop(route, TAKE_PTR(nh));
	r = netlink_errno(rtnl_route_add(sock, route, NLM_F_CREATE | NLM_F_EXCL));
	if (r == -EEXIST)
		r = 0;
out:
	if (nh)
		rtnl_route_nh_free(nh);
	if (gw)
		nl_addr_put(gw);
	if (dst)
		nl_addr_put(dst);
	if (route)
		rtnl_route_put(route);
	return r;
}

int route_del_multicast6(struct nl_sock *sock, int ifindex)
{
	struct rtmsg rtm = {
	    .rtm_family = AF_INET6,
	    .rtm_dst_len = 8,
	    .rtm_table = RT_TABLE_LOCAL,
	    .rtm_type = RTN_MULTICAST,
	};
	static const uint8_t ff00[16] = {0xff};
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK);

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, RTA_DST, sizeof(ff00), ff00) < 0 ||
	    nla_put_u32(msg, RTA_OIF, (uint32_t)ifindex) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return netlink_request(sock, msg);
}
