/* Veth pairs for attachments (see veth.h). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <netpacket/packet.h>
#include <linux/if_link.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>

#include "log.h"
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
	int arp_fd; /* announce only: a packet socket for the gratuitous ARP */
	const char *step;
};

/* Runs with the thread inside the group's netns (net sysctls are those of
 * the opener's netns; sockets belong to the netns they are made in): makes
 * the netlink socket, the packet socket of an announcement and, on a
 * dual-stack VNet, sets the group end's IPv6 sysctls, all in one visit. */
static int setup_in_group_netns(void *userdata)
{
	struct group_ns_setup *s = userdata;
	const char *ifname = s->config->ifname;
	int r;

	s->step = "netlink socket";
	s->sock_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s->sock_fd < 0)
		return -errno;
	if (s->config->announce) {
		/* Protocol 0: sends only, so nothing queues up on it. */
		s->step = "packet socket";
		s->arp_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s->arp_fd < 0)
			return -errno;
	}
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

/* What veth_create needs of the group end once it is configured. */
struct group_end {
	int ifindex;	      /* in the group's netns */
	int host_ifindex;     /* its peer's: no request in the host netns needed to learn it */
	int arp_fd;	      /* announce only, else -EBADF; the caller closes it */
	struct nl_sock *sock; /* announce only: the netlink socket in the group's netns */
};

static int configure_group_end(int netns_fd, const struct veth_config *config,
			       struct group_end *end, struct pw_error *err)
{
	_cleanup_netlink_ struct nl_sock *sock = NULL;
	_cleanup_link_ struct rtnl_link *link = NULL;
	struct group_ns_setup setup = {.config = config, .sock_fd = -EBADF, .arp_fd = -EBADF};
	char buf[INET6_ADDRSTRLEN];
	int ifindex, r;

	r = netns_run(netns_fd, setup_in_group_netns, &setup);
	end->arp_fd = setup.arp_fd;
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
	end->ifindex = ifindex = rtnl_link_get_ifindex(link);
	end->host_ifindex = rtnl_link_get_link(link);
	if (end->host_ifindex <= 0)
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
	for (size_t i = 0; config->default_route && i < config->gateway_count; i++) {
		r = route_add_default(sock, ifindex, &config->gateways[i]);
		if (r < 0)
			return pw_error_set(err, r, "default route via %s: %s",
					    ip_addr_format(&config->gateways[i], buf),
					    strerror(-r));
	}
	if (config->announce)
		end->sock = TAKE_PTR(sock);
	return 0;
}

/* A gratuitous ARP (a request for its own address, to broadcast) from
 * the group end, as the kernel's arp_notify sends it. */
static int send_gratuitous_arp(int fd, int ifindex, const uint8_t mac[static ETH_ALEN],
			       const struct ip_addr *addr)
{
	struct sockaddr_ll to = {
	    .sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ARP),
	    .sll_ifindex = ifindex,
	    .sll_halen = ETH_ALEN,
	    .sll_addr = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	};
	struct ether_arp arp = {
	    .ea_hdr = {.ar_hrd = htons(ARPHRD_ETHER),
		       .ar_pro = htons(ETH_P_IP),
		       .ar_hln = ETH_ALEN,
		       .ar_pln = 4,
		       .ar_op = htons(ARPOP_REQUEST)},
	};

	memcpy(arp.arp_sha, mac, ETH_ALEN);
	memcpy(arp.arp_spa, addr->addr.bytes, 4);
	memcpy(arp.arp_tpa, addr->addr.bytes, 4);
	if (sendto(fd, &arp, sizeof(arp), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

/* Announces a given MAC once the bridge port forwards, so that neighbours
 * that knew the address with another MAC update at once. The kernel's own
 * announcement (arp_notify) goes out as the group end comes up, before
 * either end has a carrier, and is lost. Reading a link makes the kernel
 * run its pending carrier event first (rtnl_getlink): the host end's
 * enables the bridge port, the group end's gives it a queue to send on.
 * Best effort: a lost announcement costs neighbours one ARP timeout. */
static void announce(struct nl_sock *host_sock, const struct veth_config *config,
		     const struct group_end *end)
{
	_cleanup_link_ struct rtnl_link *host_link = NULL;
	_cleanup_link_ struct rtnl_link *link = NULL;

	(void)link_get(host_sock, config->host_ifname, &host_link);
	if (end->sock)
		(void)link_get(end->sock, config->ifname, &link);
	for (size_t i = 0; i < config->address_count; i++) {
		int r;

		if (config->addresses[i].family != AF_INET)
			continue;
		r = send_gratuitous_arp(end->arp_fd, end->ifindex, config->mac,
					&config->addresses[i]);
		if (r < 0)
			log_warn_errno(r, "cannot announce the MAC of %s", config->ifname);
	}
}

int veth_create(struct nl_sock *host_sock, int netns_fd, const struct veth_config *config,
		struct pw_error *err)
{
	struct group_end end = {.arp_fd = -EBADF};
	int r;

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
	r = configure_group_end(netns_fd, config, &end, err);
	/* Up last, with the group end already up: the port's carrier comes
	 * on once. Up first, the kernel would see it go down (peer down) and
	 * up again, and each change costs a walk of every port of the bridge,
	 * of its forwarding database and of the IPv6 routing table. */
	if (r >= 0) {
		r = link_set(host_sock, end.host_ifindex, IFF_UP, 0);
		if (r < 0)
			pw_error_set(err, r, "%s up: %s", config->host_ifname, strerror(-r));
	}
	if (r >= 0 && end.arp_fd >= 0)
		announce(host_sock, config, &end);
	if (end.arp_fd >= 0)
		close(end.arp_fd);
	if (end.sock)
		netlink_close(end.sock);
	if (r < 0) {
		(void)link_delete(host_sock, config->host_ifname);
		return r;
	}
	return end.host_ifindex;
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
