/* VXLAN links, their static FDB and the bridge's permanent neighbours (see
 * vxlan.h). The link itself is made with libnl's vxlan API; the bridge
 * port flags, FDB and neighbour requests are built by hand, as
 * bridge_set_options does: libnl has no setter for the port flags and
 * its neighbour object cannot carry a VTEP address on an AF_BRIDGE entry. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/vxlan.h>

#include "netlink.h"
#include "vxlan.h"

/* The smallest MTU the kernel takes for an IPv4 device (and ETH_MIN_MTU). */
#define VXLAN_INNER_MTU_MIN 68

int vxlan_mtu(unsigned underlay_mtu, int underlay_family, unsigned *ret_mtu)
{
	unsigned overhead;

	if (underlay_family == AF_INET)
		overhead = VXLAN_OVERHEAD_IPV4;
	else if (underlay_family == AF_INET6)
		overhead = VXLAN_OVERHEAD_IPV6;
	else
		return -EAFNOSUPPORT;
	if (underlay_mtu < VXLAN_INNER_MTU_MIN + overhead)
		return -ERANGE;
	*ret_mtu = underlay_mtu - overhead;
	return 0;
}

struct addr_match {
	const struct ip_addr *address;
	int ifindex;
};

static void addr_match_one(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *addr = (struct rtnl_addr *)obj;
	struct addr_match *match = arg;
	struct nl_addr *local = rtnl_addr_get_local(addr);

	if (match->ifindex > 0 || !local || nl_addr_get_family(local) != match->address->family ||
	    nl_addr_get_len(local) != ip_family_addr_size(match->address->family))
		return;
	if (memcmp(nl_addr_get_binary_addr(local), match->address->addr.bytes,
		   nl_addr_get_len(local)) == 0)
		match->ifindex = rtnl_addr_get_ifindex(addr);
}

int vxlan_underlay_mtu(struct nl_sock *sock, const struct ip_addr *address, unsigned *ret_mtu)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	struct addr_match match = {address, 0};
	struct nl_cache *cache = NULL;
	int r;

	r = rtnl_addr_alloc_cache(sock, &cache);
	if (r < 0)
		return netlink_errno(r);
	nl_cache_foreach(cache, addr_match_one, &match);
	nl_cache_free(cache);
	if (match.ifindex <= 0)
		return -EADDRNOTAVAIL;
	r = rtnl_link_get_kernel(sock, match.ifindex, NULL, &link);
	if (r < 0)
		return netlink_errno(r);
	*ret_mtu = rtnl_link_get_mtu(link);
	return 0;
}

static struct nl_addr *nl_addr_of(const struct ip_addr *addr)
{
	return nl_addr_build(addr->family, addr->addr.bytes, ip_family_addr_size(addr->family));
}

static uint8_t config_ttl(const struct vxlan_config *config)
{
	return config->ttl ? config->ttl : VXLAN_TTL_DEFAULT;
}

/* Whether the existing link carries what config asks for in the fields
 * the kernel cannot change on a live VXLAN link (VNI, addresses, port)
 * or that we never change in place (TTL, learning, checksums). */
static bool vxlan_matches(struct rtnl_link *link, const struct vxlan_config *config)
{
	struct nl_addr *local = NULL, *group = NULL;
	uint32_t vni, port;
	bool same;

	if (!rtnl_link_is_vxlan(link))
		return false;
	if (rtnl_link_vxlan_get_id(link, &vni) < 0 || vni != config->vni)
		return false;
	if (rtnl_link_vxlan_get_port(link, &port) < 0 || port != VXLAN_UDP_PORT)
		return false;
	if (rtnl_link_vxlan_get_learning(link) != 0 ||
	    rtnl_link_vxlan_get_ttl(link) != config_ttl(config))
		return false;
	/* A multicast group or default remote would flood. */
	if (rtnl_link_vxlan_get_group(link, &group) >= 0) {
		nl_addr_put(group);
		return false;
	}
	if (config->local.family == AF_INET && rtnl_link_vxlan_get_udp_csum(link) != 1)
		return false;
	if (config->local.family == AF_INET6 && (rtnl_link_vxlan_get_udp_zero_csum6_tx(link) > 0 ||
						 rtnl_link_vxlan_get_udp_zero_csum6_rx(link) > 0))
		return false;
	if (rtnl_link_vxlan_get_local(link, &local) < 0)
		return false;
	same = nl_addr_get_family(local) == config->local.family &&
	       nl_addr_get_len(local) == ip_family_addr_size(config->local.family) &&
	       memcmp(nl_addr_get_binary_addr(local), config->local.addr.bytes,
		      nl_addr_get_len(local)) == 0;
	nl_addr_put(local);
	return same;
}

static int vxlan_create(struct nl_sock *sock, const struct vxlan_config *config, int bridge_ifindex,
			unsigned mtu)
{
	_cleanup_link_ struct rtnl_link *link = rtnl_link_vxlan_alloc();
	struct nl_addr *local;
	int r;

	if (!link)
		return -ENOMEM;
	local = nl_addr_of(&config->local);
	if (!local)
		return -ENOMEM;
	rtnl_link_set_name(link, config->name);
	r = rtnl_link_vxlan_set_local(link, local);
	nl_addr_put(local);
	if (r >= 0)
		r = rtnl_link_vxlan_set_id(link, config->vni);
	if (r >= 0)
		r = rtnl_link_vxlan_set_port(link, VXLAN_UDP_PORT);
	if (r >= 0)
		r = rtnl_link_vxlan_set_learning(link, 0);
	if (r >= 0)
		r = rtnl_link_vxlan_set_ttl(link, config_ttl(config));
	/* Checksummed outer UDP on IPv4 too (the kernel's default there is
	 * zero): with checksum offload it costs nothing and a corrupted
	 * header is caught at the VTEP instead of delivering a frame to the
	 * wrong VNI or MAC. IPv6 forbids zero checksums (RFC 8200) unless
	 * both ends opt in, and we do not. */
	if (r >= 0)
		r = rtnl_link_vxlan_set_udp_csum(link, 1);
	if (r >= 0 && config->local.family == AF_INET6)
		r = rtnl_link_vxlan_set_udp_zero_csum6_tx(link, 0);
	if (r >= 0 && config->local.family == AF_INET6)
		r = rtnl_link_vxlan_set_udp_zero_csum6_rx(link, 0);
	if (r < 0)
		return netlink_errno(r);
	rtnl_link_set_mtu(link, mtu);
	rtnl_link_set_master(link, bridge_ifindex);
	/* Down: vxlan_ensure brings it up once the port flags are set, so no
	 * frame is flooded to it or learned from it before. */
	r = netlink_errno(rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL));
	return r;
}

/* The port flags of the model in vxlan.h, on the bridge port ifindex. */
static int vxlan_set_port_flags(struct nl_sock *sock, int ifindex)
{
	static const struct {
		int type;
		uint8_t value;
	} flags[] = {
	    {IFLA_BRPORT_LEARNING, 0},	     {IFLA_BRPORT_UNICAST_FLOOD, 0},
	    {IFLA_BRPORT_MCAST_FLOOD, 0},    {IFLA_BRPORT_BCAST_FLOOD, 0},
	    {IFLA_BRPORT_NEIGH_SUPPRESS, 1},
	};
	struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
	struct nlattr *protinfo;
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
		goto nomem;
	protinfo = nla_nest_start(msg, IFLA_PROTINFO | NLA_F_NESTED);
	if (!protinfo)
		goto nomem;
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		if (nla_put_u8(msg, flags[i].type, flags[i].value) < 0)
			goto nomem;
	nla_nest_end(msg, protinfo);
	return netlink_request(sock, msg);
nomem:
	nlmsg_free(msg);
	return -ENOMEM;
}

int vxlan_ensure(struct nl_sock *sock, const struct vxlan_config *config, struct pw_error *err)
{
	_cleanup_link_ struct rtnl_link *link = NULL, *bridge = NULL;
	char buf[INET6_ADDRSTRLEN];
	int bridge_ifindex, ifindex, created = 0, r;
	unsigned mtu = config->mtu;

	if (config->vni == 0 || config->vni > VXLAN_VNI_MAX)
		return pw_error_set(err, -EINVAL, "VNI %u is out of range 1-%u", config->vni,
				    VXLAN_VNI_MAX);
	if (config->local.family != AF_INET && config->local.family != AF_INET6)
		return pw_error_set(err, -EINVAL, "%s: no local VTEP address", config->name);
	if (!config->name[0] || strlen(config->name) >= IFNAMSIZ)
		return pw_error_set(err, -EINVAL, "bad interface name '%s'", config->name);
	r = link_get(sock, config->bridge, &bridge);
	if (r < 0)
		return pw_error_set(err, r, "bridge %s: %s", config->bridge, strerror(-r));
	if (!rtnl_link_get_type(bridge) || !streq(rtnl_link_get_type(bridge), "bridge"))
		return pw_error_set(err, -EINVAL, "%s is not a bridge", config->bridge);
	bridge_ifindex = rtnl_link_get_ifindex(bridge);
	if (mtu == 0) {
		unsigned underlay_mtu;

		r = vxlan_underlay_mtu(sock, &config->local, &underlay_mtu);
		if (r < 0)
			return pw_error_set(err, r, "%s: underlay interface with address %s: %s",
					    config->name, ip_addr_format(&config->local, buf),
					    strerror(-r));
		r = vxlan_mtu(underlay_mtu, config->local.family, &mtu);
		if (r < 0)
			return pw_error_set(err, r, "%s: underlay MTU %u is too small for VXLAN",
					    config->name, underlay_mtu);
	}

	r = link_get(sock, config->name, &link);
	/* Not ours to delete (as bridge_ensure refuses a non-bridge). */
	if (r >= 0 && !rtnl_link_is_vxlan(link))
		return pw_error_set(err, -EEXIST, "interface %s exists and is not a VXLAN link",
				    config->name);
	if (r >= 0 && !vxlan_matches(link, config)) {
		/* Another VNI, VTEP or setting: a live link's VNI and
		 * addresses cannot be changed, so it is made again. */
		rtnl_link_put(TAKE_PTR(link));
		r = link_delete(sock, config->name);
		if (r < 0)
			return pw_error_set(err, r, "delete %s to create it again: %s",
					    config->name, strerror(-r));
		r = -ENODEV;
	}
	if (r == -ENODEV) {
		r = vxlan_create(sock, config, bridge_ifindex, mtu);
		/* The name is free (just checked): EEXIST is the kernel
		 * refusing a second link with the VNI, address and port. */
		if (r == -EEXIST)
			return pw_error_set(err, r,
					    "create %s: another VXLAN link has VNI %u on port %d",
					    config->name, config->vni, VXLAN_UDP_PORT);
		if (r < 0)
			return pw_error_set(err, r, "create VXLAN link %s (VNI %u, local %s): %s",
					    config->name, config->vni,
					    ip_addr_format(&config->local, buf), strerror(-r));
		created = 1;
		r = link_get(sock, config->name, &link);
	}
	if (r < 0)
		return pw_error_set(err, r, "%s: %s", config->name, strerror(-r));
	ifindex = rtnl_link_get_ifindex(link);

	if (created) {
		/* No link-local address: it would only send router
		 * solicitations and MLD reports nowhere. */
		r = link_set_af(sock, ifindex, NULL, false, true);
		if (r < 0 && r != -EAFNOSUPPORT && r != -EOPNOTSUPP)
			return pw_error_set(err, r, "%s: turn IPv6 addresses off: %s", config->name,
					    strerror(-r));
	}
	if (rtnl_link_get_master(link) != bridge_ifindex) {
		_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();

		if (!change)
			return pw_error_set(err, -ENOMEM, "%s: out of memory", config->name);
		rtnl_link_set_master(change, bridge_ifindex);
		r = netlink_errno(rtnl_link_change(sock, link, change, 0));
		if (r < 0)
			return pw_error_set(err, r, "%s: join bridge %s: %s", config->name,
					    config->bridge, strerror(-r));
	}
	r = vxlan_set_port_flags(sock, ifindex);
	if (r < 0)
		return pw_error_set(
		    err, r, "%s: bridge port flags (learning, flood off, neigh_suppress on): %s",
		    config->name, strerror(-r));
	if (rtnl_link_get_mtu(link) != mtu || !(rtnl_link_get_flags(link) & IFF_UP)) {
		r = link_set(sock, ifindex, IFF_UP, mtu);
		if (r < 0)
			return pw_error_set(err, r, "%s: set MTU %u and up: %s", config->name, mtu,
					    strerror(-r));
	}
	return created;
}

int vxlan_remove(struct nl_sock *sock, const char *name)
{
	int r = link_delete(sock, name);

	return r < 0 ? r : 0;
}

int vxlan_bridge_set_mtu(struct nl_sock *sock, const char *bridge, unsigned mtu,
			 struct pw_error *err)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r;

	if (mtu < VXLAN_INNER_MTU_MIN)
		return pw_error_set(err, -EINVAL, "MTU %u is below %d", mtu, VXLAN_INNER_MTU_MIN);
	r = link_get(sock, bridge, &link);
	if (r < 0)
		return pw_error_set(err, r, "bridge %s: %s", bridge, strerror(-r));
	if (!rtnl_link_get_type(link) || !streq(rtnl_link_get_type(link), "bridge"))
		return pw_error_set(err, -EINVAL, "%s is not a bridge", bridge);
	if (rtnl_link_get_mtu(link) == mtu)
		return 0;
	r = link_set(sock, rtnl_link_get_ifindex(link), 0, mtu);
	if (r < 0)
		return pw_error_set(err, r, "bridge %s: set MTU %u: %s", bridge, mtu, strerror(-r));
	return 0;
}

/* One RTM_NEWNEIGH/RTM_DELNEIGH. */
static int neigh_request(struct nl_sock *sock, int type, int flags, const struct ndmsg *ndm,
			 const uint8_t *mac, const struct ip_addr *dst)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK | flags);

	if (!msg)
		return -ENOMEM;
	if (nlmsg_append(msg, (void *)ndm, sizeof(*ndm), NLMSG_ALIGNTO) < 0 ||
	    (mac && nla_put(msg, NDA_LLADDR, ETH_ALEN, mac) < 0) ||
	    (dst &&
	     nla_put(msg, NDA_DST, (int)ip_family_addr_size(dst->family), dst->addr.bytes) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return netlink_request(sock, msg);
}

static int vxlan_ifindex(struct nl_sock *sock, const char *name, int *ret_ifindex)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r = link_get(sock, name, &link);

	if (r < 0)
		return r;
	if (!rtnl_link_is_vxlan(link))
		return -EINVAL;
	*ret_ifindex = rtnl_link_get_ifindex(link);
	return 0;
}

static int bridge_ifindex_of(struct nl_sock *sock, const char *name, int *ret_ifindex)
{
	_cleanup_link_ struct rtnl_link *link = NULL;
	int r = link_get(sock, name, &link);

	if (r < 0)
		return r;
	if (!rtnl_link_get_type(link) || !streq(rtnl_link_get_type(link), "bridge"))
		return -EINVAL;
	*ret_ifindex = rtnl_link_get_ifindex(link);
	return 0;
}

static bool mac_is_unicast(const uint8_t mac[static ETH_ALEN])
{
	static const uint8_t zero[ETH_ALEN];

	return !(mac[0] & 1) && memcmp(mac, zero, ETH_ALEN) != 0;
}

static const char *mac_text(const uint8_t mac[static ETH_ALEN], char buf[static 18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

int vxlan_fdb_add(struct nl_sock *sock, const char *name, const uint8_t mac[static ETH_ALEN],
		  const struct ip_addr *remote, struct pw_error *err)
{
	char macbuf[18], buf[INET6_ADDRSTRLEN];
	struct ndmsg ndm = {.ndm_family = AF_BRIDGE};
	int r;

	/* The all-zeros MAC would be a default remote (head-end flooding),
	 * a multicast one is never a group's address. */
	if (!mac_is_unicast(mac))
		return pw_error_set(err, -EINVAL, "%s: FDB entry for %s: not a unicast MAC", name,
				    mac_text(mac, macbuf));
	if (remote->family != AF_INET && remote->family != AF_INET6)
		return pw_error_set(err, -EINVAL, "%s: FDB entry for %s: no VTEP address", name,
				    mac_text(mac, macbuf));
	r = vxlan_ifindex(sock, name, &ndm.ndm_ifindex);
	if (r < 0)
		return pw_error_set(err, r, "VXLAN link %s: %s", name,
				    r == -EINVAL ? "not a VXLAN link" : strerror(-r));
	/* The link's entry first: the bridge then never forwards to the port
	 * a frame the link would drop. NUD_PERMANENT means "static" to the
	 * VXLAN driver; NLM_F_REPLACE moves an entry to a new VTEP. */
	ndm.ndm_state = NUD_PERMANENT;
	ndm.ndm_flags = NTF_SELF;
	r = neigh_request(sock, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, &ndm, mac, remote);
	if (r < 0)
		return pw_error_set(err, r, "%s: FDB entry %s dst %s: %s", name,
				    mac_text(mac, macbuf), ip_addr_format(remote, buf),
				    strerror(-r));
	/* To the bridge NUD_PERMANENT would mean "local" (delivered to the
	 * bridge itself): a forwarding entry is NUD_NOARP, "static". */
	ndm.ndm_state = NUD_NOARP;
	ndm.ndm_flags = NTF_MASTER;
	r = neigh_request(sock, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, &ndm, mac, NULL);
	if (r < 0)
		return pw_error_set(err, r, "bridge FDB entry %s on %s: %s", mac_text(mac, macbuf),
				    name, strerror(-r));
	return 0;
}

int vxlan_fdb_remove(struct nl_sock *sock, const char *name, const uint8_t mac[static ETH_ALEN],
		     struct pw_error *err)
{
	char macbuf[18];
	struct ndmsg ndm = {.ndm_family = AF_BRIDGE};
	int r;

	r = vxlan_ifindex(sock, name, &ndm.ndm_ifindex);
	if (r == -ENODEV)
		return 0; /* its entries went with it */
	if (r < 0)
		return pw_error_set(err, r, "VXLAN link %s: %s", name,
				    r == -EINVAL ? "not a VXLAN link" : strerror(-r));
	/* The bridge's first, so nothing is forwarded to a dropped MAC. */
	ndm.ndm_flags = NTF_MASTER;
	r = neigh_request(sock, RTM_DELNEIGH, 0, &ndm, mac, NULL);
	if (r < 0 && r != -ENOENT)
		return pw_error_set(err, r, "%s: remove bridge FDB entry %s: %s", name,
				    mac_text(mac, macbuf), strerror(-r));
	ndm.ndm_flags = NTF_SELF;
	r = neigh_request(sock, RTM_DELNEIGH, 0, &ndm, mac, NULL);
	if (r < 0 && r != -ENOENT)
		return pw_error_set(err, r, "%s: remove FDB entry %s: %s", name,
				    mac_text(mac, macbuf), strerror(-r));
	return 0;
}

int vxlan_neigh_add(struct nl_sock *sock, const char *bridge, const struct ip_addr *address,
		    const uint8_t mac[static ETH_ALEN], struct pw_error *err)
{
	char macbuf[18], buf[INET6_ADDRSTRLEN];
	struct ndmsg ndm = {.ndm_family = (uint8_t)address->family, .ndm_state = NUD_PERMANENT};
	int r;

	if (address->family != AF_INET && address->family != AF_INET6)
		return pw_error_set(err, -EINVAL, "neighbour on %s: no address", bridge);
	if (!mac_is_unicast(mac))
		return pw_error_set(err, -EINVAL, "neighbour %s: %s is not a unicast MAC",
				    ip_addr_format(address, buf), mac_text(mac, macbuf));
	r = bridge_ifindex_of(sock, bridge, &ndm.ndm_ifindex);
	if (r < 0)
		return pw_error_set(err, r, "bridge %s: %s", bridge,
				    r == -EINVAL ? "not a bridge" : strerror(-r));
	r = neigh_request(sock, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, &ndm, mac, address);
	if (r < 0)
		return pw_error_set(err, r, "%s: neighbour %s lladdr %s: %s", bridge,
				    ip_addr_format(address, buf), mac_text(mac, macbuf),
				    strerror(-r));
	return 0;
}

int vxlan_neigh_remove(struct nl_sock *sock, const char *bridge, const struct ip_addr *address,
		       struct pw_error *err)
{
	char buf[INET6_ADDRSTRLEN];
	struct ndmsg ndm = {.ndm_family = (uint8_t)address->family};
	int r;

	if (address->family != AF_INET && address->family != AF_INET6)
		return pw_error_set(err, -EINVAL, "neighbour on %s: no address", bridge);
	r = bridge_ifindex_of(sock, bridge, &ndm.ndm_ifindex);
	if (r == -ENODEV)
		return 0;
	if (r < 0)
		return pw_error_set(err, r, "bridge %s: %s", bridge,
				    r == -EINVAL ? "not a bridge" : strerror(-r));
	r = neigh_request(sock, RTM_DELNEIGH, 0, &ndm, NULL, address);
	if (r < 0 && r != -ENOENT)
		return pw_error_set(err, r, "%s: remove neighbour %s: %s", bridge,
				    ip_addr_format(address, buf), strerror(-r));
	return 0;
}

/* A neighbour dump (RTM_GETNEIGH of one family), every message to parse. */
struct dump_ctx {
	int ifindex;
	int (*parse)(struct dump_ctx *ctx, const struct ndmsg *ndm, struct nlattr **tb);
	int (*fdb_cb)(const struct vxlan_fdb_entry *entry, void *userdata);
	int (*neigh_cb)(const struct vxlan_neigh_entry *entry, void *userdata);
	void *userdata;
	int r;
};

static int dump_valid(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *ctx = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[NDA_MAX + 1];
	const struct ndmsg *ndm;

	if (ctx->r < 0 || nlh->nlmsg_type != RTM_NEWNEIGH ||
	    nlmsg_parse(nlh, sizeof(struct ndmsg), tb, NDA_MAX, NULL) < 0)
		return NL_OK;
	ndm = nlmsg_data(nlh);
	if (ndm->ndm_ifindex != ctx->ifindex)
		return NL_OK;
	ctx->r = ctx->parse(ctx, ndm, tb);
	return NL_OK;
}

static bool attr_to_ip(struct nlattr *attr, struct ip_addr *ret)
{
	int len = nla_len(attr);

	if (len != 4 && len != 16)
		return false;
	ret->family = len == 4 ? AF_INET : AF_INET6;
	memset(&ret->addr, 0, sizeof(ret->addr));
	memcpy(ret->addr.bytes, nla_data(attr), (size_t)len);
	return true;
}

static int neigh_dump(struct nl_sock *sock, int family, struct dump_ctx *ctx)
{
	struct ndmsg ndm = {.ndm_family = (uint8_t)family};
	struct nl_cb *sock_cb, *cb;
	int r;

	r = nl_send_simple(sock, RTM_GETNEIGH, NLM_F_DUMP, &ndm, sizeof(ndm));
	if (r < 0)
		return netlink_errno(r);
	/* nl_socket_get_cb takes a reference. */
	sock_cb = nl_socket_get_cb(sock);
	cb = sock_cb ? nl_cb_clone(sock_cb) : NULL;
	if (sock_cb)
		nl_cb_put(sock_cb);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dump_valid, ctx);
	r = nl_recvmsgs(sock, cb);
	nl_cb_put(cb);
	/* The table changed during the dump: the caller may retry. */
	if (r == -NLE_DUMP_INTR)
		return -EAGAIN;
	if (r < 0)
		return netlink_errno(r);
	return ctx->r;
}

static int fdb_parse(struct dump_ctx *ctx, const struct ndmsg *ndm, struct nlattr **tb)
{
	/* The bridge marks its entries with NDA_MASTER, not NTF_MASTER. */
	struct vxlan_fdb_entry entry = {
	    .master = tb[NDA_MASTER] || (ndm->ndm_flags & NTF_MASTER),
	    .state = ndm->ndm_state,
	    .flags = ndm->ndm_flags,
	};

	if (!tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != ETH_ALEN)
		return 0;
	memcpy(entry.mac, nla_data(tb[NDA_LLADDR]), ETH_ALEN);
	if (tb[NDA_DST])
		entry.has_remote = attr_to_ip(tb[NDA_DST], &entry.remote);
	return ctx->fdb_cb(&entry, ctx->userdata);
}

int vxlan_fdb_foreach(struct nl_sock *sock, const char *name,
		      int (*cb)(const struct vxlan_fdb_entry *entry, void *userdata),
		      void *userdata)
{
	struct dump_ctx ctx = {.parse = fdb_parse, .fdb_cb = cb, .userdata = userdata};
	int r = vxlan_ifindex(sock, name, &ctx.ifindex);

	if (r < 0)
		return r;
	return neigh_dump(sock, AF_BRIDGE, &ctx);
}

static int neigh_parse(struct dump_ctx *ctx, const struct ndmsg *ndm, struct nlattr **tb)
{
	struct vxlan_neigh_entry entry = {.state = ndm->ndm_state};

	if (!tb[NDA_DST] || !attr_to_ip(tb[NDA_DST], &entry.address))
		return 0;
	if (tb[NDA_LLADDR] && nla_len(tb[NDA_LLADDR]) == ETH_ALEN) {
		memcpy(entry.mac, nla_data(tb[NDA_LLADDR]), ETH_ALEN);
		entry.has_mac = true;
	}
	return ctx->neigh_cb(&entry, ctx->userdata);
}

int vxlan_neigh_foreach(struct nl_sock *sock, const char *bridge,
			int (*cb)(const struct vxlan_neigh_entry *entry, void *userdata),
			void *userdata)
{
	struct dump_ctx ctx = {.parse = neigh_parse, .neigh_cb = cb, .userdata = userdata};
	int r = bridge_ifindex_of(sock, bridge, &ctx.ifindex);

	if (r < 0)
		return r;
	r = neigh_dump(sock, AF_INET, &ctx);
	if (r >= 0)
		r = neigh_dump(sock, AF_INET6, &ctx);
	return r;
}

/* Interface names in the script are quoted: anything but what the kernel
 * allows in a name, and a quote, is refused. */
static bool ifname_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= IFNAMSIZ || streq(name, ".") || streq(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '"' || *p == '\\' || *p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

static void put_set(FILE *f, const char *set, const char *type, int family,
		    const struct ip_addr *vteps, size_t vtep_count)
{
	char buf[INET6_ADDRSTRLEN];
	bool first = true;

	fprintf(f, "\tset %s {\n\t\ttype %s\n", set, type);
	for (size_t i = 0; i < vtep_count; i++) {
		if (vteps[i].family != family)
			continue;
		fprintf(f, "%s%s", first ? "\t\telements = { " : ", ",
			ip_addr_format(&vteps[i], buf));
		first = false;
	}
	fprintf(f, "%s\t}\n", first ? "" : " }\n");
}

int vxlan_filter_script(const char *underlay_dev, const struct ip_addr *vteps, size_t vtep_count,
			char **ret_script)
{
	char *script = NULL;
	size_t size = 0;
	FILE *f;

	if (!ifname_valid(underlay_dev))
		return -EINVAL;
	for (size_t i = 0; i < vtep_count; i++)
		if (vteps[i].family != AF_INET && vteps[i].family != AF_INET6)
			return -EINVAL;
	f = open_memstream(&script, &size);
	if (!f)
		return -ENOMEM;
	/* "table ... ; delete table ..." first: the whole file is one
	 * transaction, so a reload replaces the table (sets included)
	 * atomically whether or not it existed. */
	fprintf(f, "table netdev podwire\ndelete table netdev podwire\n");
	fprintf(f, "table netdev podwire {\n");
	put_set(f, "vteps4", "ipv4_addr", AF_INET, vteps, vtep_count);
	put_set(f, "vteps6", "ipv6_addr", AF_INET6, vteps, vtep_count);
	/* Ingress of the underlay device, before IP, conntrack and the VXLAN
	 * socket see the packet. Of a fragmented datagram only the first
	 * fragment has the UDP header; dropping it is enough, the rest never
	 * reassembles. meta l4proto (not ip6 nexthdr) finds UDP behind IPv6
	 * extension headers too. */
	fprintf(
	    f,
	    "\tchain underlay {\n"
	    "\t\ttype filter hook ingress device \"%s\" priority -500; policy accept;\n"
	    "\t\tmeta protocol ip meta l4proto udp udp dport %d ip saddr != @vteps4 counter drop\n"
	    "\t\tmeta protocol ip6 meta l4proto udp udp dport %d ip6 saddr != @vteps6 counter "
	    "drop\n"
	    "\t}\n}\n",
	    underlay_dev, VXLAN_UDP_PORT, VXLAN_UDP_PORT);
	if (fclose(f) != 0) {
		free(script);
		return -ENOMEM;
	}
	*ret_script = script;
	return 0;
}
