/* Veth pairs for attachments (see veth.h). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "netlink.h"
#include "netns.h"
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

	/* The host end is made down and comes up last (veth_create): see
	 * there. */
	rtnl_link_set_name(link, config->host_ifname);
	rtnl_link_set_mtu(link, config->mtu);
	rtnl_link_set_master(link, config->bridge_ifindex);

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

static int sysctl_write(const char *family, const char *ifname, const char *key, const char *value)
{
	char path[128];
	_cleanup_close_ int fd = -EBADF;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", family, ifname, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		return -errno;
	return 0;
}

/* IPv6 sysctls are absent on kernels without IPv6: nothing to quiet then. */
static int sysctl_write_ipv6(const char *ifname, const char *key, const char *value)
{
	int r = sysctl_write("ipv6", ifname, key, value);

	return r == -ENOENT ? 0 : r;
}

struct group_ns_setup {
	const struct veth_config *config;
	int sock_fd;
	const char *step;
};

/* Runs with the thread inside the group's netns (net sysctls are those of
 * the opener's netns): makes the netlink socket and, on a dual-stack VNet,
 * sets the group end's IPv6 sysctls, all in one visit. */
static int setup_in_group_netns(void *userdata)
{
	struct group_ns_setup *s = userdata;
	const char *ifname = s->config->ifname;
	int r;

	s->step = "netlink socket";
	s->sock_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->sock_fd < 0)
		return -errno;
	if (s->config->address_count < 2)
		return 0;
	/* Addresses and routes are static: no router advertisement (from a
	 * rogue group) may change them, and soliciting is noise on the
	 * bridge. Only sysctls set these (netlink cannot), at the price of a
	 * /proc/sys lookup that grows with the namespaces (see link_set_af). */
	s->step = "IPv6 settings";
	r = sysctl_write_ipv6(ifname, "accept_ra", "0");
	if (r >= 0)
		r = sysctl_write_ipv6(ifname, "router_solicitations", "0");
	return r;
}

/* A bridge port needs no IPv6 of its own: without a link-local address it
 * sends no DAD, MLD or router solicitation, each of which the bridge
 * would flood to every port. The port is still down, so the change raises
 * no link event (an event on an up port makes the kernel walk the IPv6
 * routing table, which holds a multicast route per port). By name, so
 * that no RTM_GETLINK comes first. */
static int quiet_host_end(struct nl_sock *host_sock, const char *host_ifname)
{
	int r = link_set_af(host_sock, 0, host_ifname, false, true);

	/* A kernel without IPv6 has nothing to quiet. */
	return r == -EAFNOSUPPORT || r == -EOPNOTSUPP ? 0 : r;
}

/* Before the group end comes up: a gratuitous ARP when it does (a given
 * MAC; arp_notify), and on an IPv4-only VNet no IPv6 address of its own
 * (addr_gen_mode none: no link-local address, hence no DAD, MLD report or
 * router solicitation flooded to every port of the bridge). One request. */
static int quiet_group_end(struct nl_sock *sock, int ifindex, const struct veth_config *config)
{
	bool no_ipv6 = config->address_count < 2;
	int r;

	if (!config->announce && !no_ipv6)
		return 0;
	r = link_set_af(sock, ifindex, NULL, config->announce, no_ipv6);
	if (r == -EAFNOSUPPORT && no_ipv6) /* a kernel without IPv6 */
		r = config->announce ? link_set_af(sock, ifindex, NULL, true, false) : 0;
	return r;
}

/* Sets *host_ifindex to the host end's index, which the group end's link
 * names (its peer): no request in the host netns needed to learn it. */
static int configure_group_end(int netns_fd, const struct veth_config *config, int *host_ifindex,
			       struct pw_error *err)
{
	_cleanup_netlink_ struct nl_sock *sock = NULL;
	_cleanup_link_ struct rtnl_link *link = NULL;
	struct group_ns_setup setup = {.config = config, .sock_fd = -EBADF};
	char buf[INET6_ADDRSTRLEN];
	int ifindex, r;

	r = netns_run(netns_fd, setup_in_group_netns, &setup);
	if (r < 0) {
		if (setup.sock_fd >= 0)
			close(setup.sock_fd);
		return pw_error_set(err, r, "group's netns: %s of %s: %s", setup.step,
				    config->ifname, strerror(-r));
	}
	r = netlink_adopt(setup.sock_fd, &sock);
	if (r < 0)
		return pw_error_set(err, r, "netlink socket in the group's netns: %s",
				    strerror(-r));
	r = link_get(sock, config->ifname, &link);
	if (r < 0)
		return pw_error_set(err, r, "%s in the group's netns: %s", config->ifname,
				    strerror(-r));
	ifindex = rtnl_link_get_ifindex(link);
	*host_ifindex = rtnl_link_get_link(link);
	if (*host_ifindex <= 0)
		return pw_error_set(err, -ENODEV, "%s in the group's netns names no peer",
				    config->ifname);
	r = quiet_group_end(sock, ifindex, config);
	if (r < 0)
		return pw_error_set(err, r, "%s: arp_notify and IPv6 settings: %s", config->ifname,
				    strerror(-r));
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
	int host_ifindex = 0, r;

	r = create_pair(host_sock, netns_fd, config);
	if (r == -EEXIST)
		return pw_error_set(
		    err, r, "interface %s (host) or %s (in the group's netns) already exists",
		    config->host_ifname, config->ifname);
	if (r < 0)
		return pw_error_set(err, r, "create veth %s/%s: %s", config->host_ifname,
				    config->ifname, strerror(-r));
	r = quiet_host_end(host_sock, config->host_ifname);
	if (r < 0) {
		(void)link_delete(host_sock, config->host_ifname);
		return pw_error_set(err, r, "%s: disable IPv6: %s", config->host_ifname,
				    strerror(-r));
	}
	r = configure_group_end(netns_fd, config, &host_ifindex, err);
	/* Up last, with the group end already up: the port's carrier comes
	 * on once. Up first, the kernel would see it go down (peer down) and
	 * up again, and each change costs a walk of every port of the bridge,
	 * of its forwarding database and of the IPv6 routing table. */
	if (r >= 0) {
		r = link_set(host_sock, host_ifindex, IFF_UP, 0);
		if (r < 0)
			pw_error_set(err, r, "%s up: %s", config->host_ifname, strerror(-r));
	}
	if (r < 0) {
		(void)link_delete(host_sock, config->host_ifname);
		return r;
	}
	return host_ifindex;
}

int veth_remove(struct nl_sock *host_sock, const char *host_ifname)
{
	return link_delete(host_sock, host_ifname);
}

int veth_set_hairpin(struct nl_sock *host_sock, const char *host_ifname)
{
	struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE};
	struct nl_msg *msg;
	struct nlattr *protinfo;
	int r;

	ifi.ifi_index = (int)if_nametoindex(host_ifname);
	if (ifi.ifi_index == 0)
		return -errno;
	msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	/* RTM_SETLINK of family AF_BRIDGE reaches the bridge port's settings
	 * (IFLA_PROTINFO), as `bridge link set ... hairpin on` does. */
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	protinfo = r < 0 ? NULL : nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED);
	if (!protinfo || nla_put_u8(msg, IFLA_BRPORT_MODE, 1) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, protinfo);
	return netlink_request(host_sock, msg);
}
