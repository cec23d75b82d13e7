/* The operations behind netd's RPC methods: VNet create/delete and group
 * attach/detach. Each validates, writes state, changes the kernel and
 * announces the change, in an order that survives kill -9 at any point
 * (reconcile.c finishes or rolls back what a crash interrupted):
 *
 *   vnet create: state file, bridge, nft elements
 *   vnet delete: state file removed, nft elements, bridge (a leftover
 *                bridge is a stranger to the next start and is deleted)
 *   attach:      addresses reserved + state "attaching", veth pairs,
 *                hairpin/rate limits/nft elements (dataplane.c), state
 *                "attached"
 *   detach:      state file removed, nft elements and rate limits, veth
 *                pairs (leftovers are strangers; the next sync drops
 *                elements of groups it does not know); a group whose netns
 *                died is released the same way (link-watch.c)
 *
 * Single-threaded: one operation at a time, so "never handed out twice"
 * holds for concurrent callers too. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "bridge.h"
#include "dataplane.h"
#include "events.h"
#include "hostnet.h"
#include "log.h"
#include "netd.h"
#include "netns.h"
#include "veth.h"
#include "xalloc.h"

struct vnet *netd_vnet_find(const struct netd *netd, const char *name)
{
	for (size_t i = 0; i < netd->vnet_count; i++)
		if (streq(netd->vnets[i]->name, name))
			return netd->vnets[i];
	return NULL;
}

void netd_vnet_insert(struct netd *netd, struct vnet *vnet)
{
	netd->vnets[netd->vnet_count++] = vnet;
}

void netd_vnet_unlink(struct netd *netd, struct vnet *vnet)
{
	for (size_t i = 0; i < netd->vnet_count; i++)
		if (netd->vnets[i] == vnet) {
			memmove(&netd->vnets[i], &netd->vnets[i + 1],
				(netd->vnet_count - i - 1) * sizeof(netd->vnets[0]));
			netd->vnet_count--;
			return;
		}
}

/* Same definition (what a repeated create must match to be a no-op). */
static bool vnet_same(const struct vnet *a, const struct vnet *b)
{
	json_auto_t *ja = vnet_spec_json(a);
	json_auto_t *jb = vnet_spec_json(b);

	return json_equal(ja, jb);
}

static int check_overlaps(struct netd *netd, const struct vnet *spec, struct pw_error *err)
{
	char a_buf[IP_PREFIX_STRLEN], b_buf[IP_PREFIX_STRLEN], route[128];
	int r;

	for (size_t i = 0; i < netd->vnet_count; i++) {
		const struct ip_prefix *a, *b;

		if (vnet_overlaps(spec, netd->vnets[i], &a, &b))
			return pw_error_set(err, -EINVAL,
					    "subnet %s overlaps subnet %s of vnet '%s'",
					    ip_prefix_format(a, a_buf), ip_prefix_format(b, b_buf),
					    netd->vnets[i]->name);
	}
	for (size_t i = 0; i < spec->subnet_count; i++) {
		r = hostnet_route_conflict(netd->nl, &spec->subnets[i], 1, route, sizeof(route));
		if (r < 0)
			return pw_error_set(err, r, "read host routes: %s", strerror(-r));
		if (r > 0)
			return pw_error_set(err, -EINVAL, "subnet %s overlaps the host route %s",
					    ip_prefix_format(&spec->subnets[i], a_buf), route);
	}
	return 0;
}

int netd_vnet_create(struct netd *netd, struct vnet *spec, struct vnet **ret_vnet,
		     struct pw_error *err)
{
	_cleanup_vnet_ struct vnet *vnet = spec;
	struct vnet *existing = netd_vnet_find(netd, vnet->name);
	struct nft_vnet_spec nft_spec;
	int r;

	r = netd_trust_keys_check(netd, vnet->trust, vnet->trust_keys, err);
	if (r < 0)
		return r;
	if (existing) {
		if (vnet->mtu == 0)
			vnet->mtu = existing->mtu;
		/* Peerings are made by vnet.peer, not part of a create. */
		for (size_t i = 0; i < existing->peer_count; i++)
			(void)vnet_peer_add(vnet, existing->peers[i]);
		if (!vnet_same(vnet, existing))
			return pw_error_set(err, -EEXIST,
					    "vnet '%s' exists with different settings (delete it "
					    "first)",
					    vnet->name);
		*ret_vnet = existing;
		return 0;
	}
	if (netd->vnet_count >= VNETS_MAX)
		return pw_error_set(err, -ENOSPC, "too many VNets (at most %d)", VNETS_MAX);
	if (vnet->mtu == 0) {
		unsigned mtu;

		r = hostnet_default_mtu(netd->nl, &mtu);
		if (r < 0)
			return pw_error_set(err, r, "find the default-route MTU: %s", strerror(-r));
		r = vnet_set_mtu(vnet, mtu, err);
		if (r < 0)
			return pw_error_wrap(err, r, "default MTU of the host's default route");
	}
	r = check_overlaps(netd, vnet, err);
	if (r < 0)
		return r;

	r = store_vnet_save(&netd->store, vnet);
	if (r < 0)
		return pw_error_set(err, r, "write state of vnet '%s': %s", vnet->name,
				    strerror(-r));
	r = bridge_ensure(netd->nl, vnet, err);
	if (r < 0)
		goto undo;
	vnet_nft_spec(vnet, &nft_spec);
	r = nft_vnet_add(netd->nft, &nft_spec, err);
	if (r < 0) {
		pw_error_wrap(err, r, "nftables");
		goto undo;
	}
	if (vnet->subnet_count > 1) {
		r = hostnet_enable_forwarding(true);
		if (r < 0)
			log_warn_errno(r, "cannot enable IPv6 forwarding");
	}

	netd_vnet_insert(netd, vnet);
	log_info("vnet created vnet=%s bridge=%s mtu=%u", vnet->name, vnet->bridge, vnet->mtu);
	events_vnet_created(netd, vnet);
	*ret_vnet = TAKE_PTR(vnet);
	return 0;

undo:
	(void)bridge_remove(netd->nl, vnet->bridge);
	(void)store_vnet_remove(&netd->store, vnet->name);
	return r;
}

int netd_trust_keys_check(const struct netd *netd, enum trust_mode mode, const char *keys,
			  struct pw_error *err)
{
	if (mode != TRUST_OFF && !trust_keysets_find(&netd->keysets, keys))
		return pw_error_set(err, -ENOENT,
				    "trust_keys: keyset '%s' not found (add it with 'podwire trust "
				    "keyset add')",
				    keys);
	return 0;
}

int netd_vnet_set(struct netd *netd, const char *name, const struct vnet_settings *settings,
		  struct vnet **ret_vnet, struct pw_error *err)
{
	struct vnet *vnet = netd_vnet_find(netd, name);
	enum nft_host_access old_access, access;
	enum trust_mode old_trust, trust;
	char old_keys[sizeof(vnet->trust_keys)], keys[sizeof(vnet->trust_keys)];
	struct nft_vnet_spec nft_spec;
	bool saved = false;
	int r;

	if (!vnet)
		return pw_error_set(err, -ENOENT, "vnet '%s' not found", name);
	*ret_vnet = vnet;
	access = settings->has_host_access ? settings->host_access : vnet->host_access;
	trust = settings->has_trust ? settings->trust : vnet->trust;
	if (settings->trust_keys && !settings->has_trust && trust == TRUST_OFF)
		return pw_error_set(err, -EINVAL,
				    "trust_keys: vnet '%s' has trust off (set trust audit or "
				    "enforce with it)",
				    name);
	if (trust == TRUST_OFF)
		keys[0] = '\0';
	else
		snprintf(keys, sizeof(keys), "%s",
			 settings->trust_keys ? settings->trust_keys : vnet->trust_keys);
	r = vnet_trust_check(
	    trust, settings->has_trust && trust == TRUST_OFF ? settings->trust_keys : keys, err);
	if (r < 0)
		return r;
	r = netd_trust_keys_check(netd, trust, keys, err);
	if (r < 0)
		return r;
	if (vnet->host_access == access && vnet->trust == trust && streq(vnet->trust_keys, keys))
		return 0;

	old_access = vnet->host_access;
	old_trust = vnet->trust;
	memcpy(old_keys, vnet->trust_keys, sizeof(old_keys));
	vnet->host_access = access;
	vnet->trust = trust;
	memcpy(vnet->trust_keys, keys, sizeof(keys));
	r = store_vnet_save(&netd->store, vnet);
	if (r < 0) {
		pw_error_set(err, r, "write state of vnet '%s': %s", name, strerror(-r));
		goto undo;
	}
	if (access != old_access) {
		vnet_nft_spec(vnet, &nft_spec);
		r = nft_vnet_host_access(netd->nft, &nft_spec, err);
		if (r < 0) {
			pw_error_wrap(err, r, "nftables");
			saved = true;
			goto undo;
		}
	}
	log_info("vnet updated vnet=%s host_access=%s trust=%s trust_keys=%s", name,
		 vnet_host_access_name(access), trust_mode_name(trust), keys[0] ? keys : "-");
	events_vnet_updated(netd, vnet);
	return 0;

undo:
	vnet->host_access = old_access;
	vnet->trust = old_trust;
	memcpy(vnet->trust_keys, old_keys, sizeof(old_keys));
	if (saved)
		(void)store_vnet_save(&netd->store, vnet);
	return r;
}

int netd_vnet_delete(struct netd *netd, const char *name, bool force, struct pw_error *err)
{
	struct vnet *vnet = netd_vnet_find(netd, name);
	struct nft_vnet_spec nft_spec;
	int r;

	if (!vnet)
		return 0;
	if (vnet->group_count > 0) {
		_cleanup_free_ struct pw_group **groups = NULL;
		size_t count;

		if (!force)
			return pw_error_set(err, -EBUSY,
					    "vnet '%s' has %u group(s) attached (detach them, or "
					    "force)",
					    name, vnet->group_count);
		groups = group_table_sorted(&netd->groups, &count);
		for (size_t i = 0; i < count; i++)
			for (size_t j = 0; j < groups[i]->attachment_count; j++)
				if (groups[i]->attachments[j].vnet == vnet) {
					r = netd_group_detach(netd, groups[i]->id, err);
					if (r < 0)
						return pw_error_wrap(err, r, "force delete");
					break;
				}
	}

	netd_vnet_unpeer_all(netd, vnet);
	r = store_vnet_remove(&netd->store, name);
	if (r < 0)
		return pw_error_set(err, r, "remove state of vnet '%s': %s", name, strerror(-r));
	netd_vnet_unlink(netd, vnet);
	vnet_nft_spec(vnet, &nft_spec);
	r = nft_vnet_remove(netd->nft, &nft_spec, err);
	if (r < 0)
		log_warn("cannot remove nft elements vnet=%s error=\"%s\"", name,
			 pw_error_message(err));
	r = bridge_remove(netd->nl, vnet->bridge);
	if (r < 0)
		log_warn_errno(r, "cannot remove bridge %s", vnet->bridge);
	pw_error_clear(err);
	log_info("vnet deleted vnet=%s", name);
	events_vnet_deleted(netd, name);
	vnet_free(vnet);
	return 0;
}

int netd_attachment_create(struct netd *netd, const struct pw_group *group, size_t index,
			   int netns_fd, struct pw_error *err)
{
	const struct attachment *a = &group->attachments[index];
	const struct vnet *vnet = a->vnet;
	unsigned prefixlens[VNET_SUBNETS_MAX];
	uint8_t default_mac[ETHER_ADDR_LEN_BYTES];
	struct veth_config config;
	int bridge_index, r;

	r = bridge_ifindex_fast(netd->nl, vnet->bridge, &bridge_index);
	if (r == -ENODEV) {
		/* Someone deleted the bridge: put it back rather than fail. */
		r = bridge_ensure(netd->nl, vnet, err);
		if (r < 0)
			return r;
		r = bridge_ifindex(netd->nl, vnet->bridge, &bridge_index);
	}
	if (r < 0)
		return pw_error_set(err, r, "bridge %s: %s", vnet->bridge, strerror(-r));
	for (size_t i = 0; i < a->address_count; i++)
		prefixlens[i] = vnet->subnets[i].prefixlen;
	group_default_mac(&a->addresses[0], default_mac);
	config = (struct veth_config){
	    .host_ifname = a->host_ifname,
	    .ifname = a->ifname,
	    .mac = a->mac,
	    .mtu = vnet->mtu,
	    .bridge_ifindex = bridge_index,
	    .addresses = a->addresses,
	    .prefixlens = prefixlens,
	    .address_count = a->address_count,
	    .gateways = vnet->gateways,
	    .gateway_count = vnet->subnet_count,
	    .default_route = index == 0,
	    .announce = memcmp(a->mac, default_mac, sizeof(default_mac)) != 0,
	};
	/* The routes of the ports made before this one exist by now: gone
	 * before this port's carrier event walks them. */
	port_mroutes_flush(&netd->mroutes);
	r = veth_create(netd->nl, netns_fd, &config, err);
	if (r < 0)
		return r;
	port_mroutes_queue(&netd->mroutes, r);
	return 0;
}

void netd_group_teardown(struct netd *netd, struct pw_group *group, bool addresses_reserved)
{
	netd_group_dataplane_remove(netd, group);
	for (size_t i = 0; i < group->attachment_count; i++) {
		struct attachment *a = &group->attachments[i];
		int r;

		r = veth_remove(netd->nl, a->host_ifname);
		if (r < 0)
			log_warn_errno(r, "cannot remove %s of group %s", a->host_ifname,
				       group->id);
		if (!a->vnet)
			continue;
		if (addresses_reserved)
			(void)ipam_release(&a->vnet->ipam, &a->addresses[0]);
	}
}

/* Whether an existing group is what req asks for (attach twice = once). */
static bool group_matches(const struct pw_group *group, const struct group_request *req,
			  uint64_t netns_dev, uint64_t netns_ino)
{
	if (group->netns_dev != netns_dev || group->netns_ino != netns_ino ||
	    group->attachment_count != req->vnet_count)
		return false;
	for (size_t i = 0; i < req->vnet_count; i++) {
		const struct attachment *a = &group->attachments[i];

		if (!streq(a->vnet_name, req->vnets[i]))
			return false;
		if (req->has_ip[i] && !ip_addr_equal(&a->addresses[0], &req->ips[i]))
			return false;
	}
	if (req->has_mac && memcmp(group->attachments[0].mac, req->mac, sizeof(req->mac)) != 0)
		return false;
	if (!ports_same(group->ports, group->port_count, req->ports, req->port_count) ||
	    group->rate.ingress_bps != req->rate.ingress_bps ||
	    group->rate.egress_bps != req->rate.egress_bps)
		return false;
	return true;
}

static int reserve_address(struct vnet *vnet, const struct group_request *req, size_t i,
			   struct attachment *a, struct pw_error *err)
{
	char buf[INET6_ADDRSTRLEN], net[IP_PREFIX_STRLEN];
	int r;

	if (req->has_ip[i]) {
		ip_addr_format(&req->ips[i], buf);
		r = ipam_reserve(&vnet->ipam, &req->ips[i]);
		if (r == -ERANGE)
			return pw_error_set(err, -EINVAL, "vnet '%s': %s is not in subnet %s",
					    vnet->name, buf,
					    ip_prefix_format(&vnet->subnets[0], net));
		if (r == -EINVAL)
			return pw_error_set(err, -EINVAL,
					    "vnet '%s': %s is the network, gateway or broadcast "
					    "address",
					    vnet->name, buf);
		if (r == -EADDRINUSE)
			return pw_error_set(err, -EEXIST, "vnet '%s': %s is already in use",
					    vnet->name, buf);
		if (r < 0)
			return pw_error_set(err, r, "vnet '%s': reserve %s: %s", vnet->name, buf,
					    strerror(-r));
		a->addresses[0] = req->ips[i];
	} else {
		r = ipam_allocate(&vnet->ipam, &a->addresses[0]);
		if (r == -ENOSPC)
			return pw_error_set(err, r, "vnet '%s': subnet %s is full", vnet->name,
					    ip_prefix_format(&vnet->subnets[0], net));
		if (r < 0)
			return pw_error_set(err, r, "vnet '%s': allocate: %s", vnet->name,
					    strerror(-r));
	}
	a->address_count = 1;
	if (vnet->subnet_count > 1) {
		r = vnet_ipv6_mirror(vnet, &a->addresses[0], &a->addresses[1]);
		if (r < 0) {
			(void)ipam_release(&vnet->ipam, &a->addresses[0]);
			return pw_error_set(err, r, "vnet '%s': IPv6 address: %s", vnet->name,
					    strerror(-r));
		}
		a->address_count = 2;
	}
	return 0;
}

static struct pw_group *group_from_request(const struct group_request *req, uint64_t netns_dev,
					   uint64_t netns_ino)
{
	struct pw_group *group = xcalloc(1, sizeof(*group));

	group->id = xstrdup(req->id);
	group->netns = xstrdup(req->netns);
	group->netns_dev = netns_dev;
	group->netns_ino = netns_ino;
	group->hostname = req->hostname ? xstrdup(req->hostname) : NULL;
	group->aliases = xcalloc(req->alias_count + 1, sizeof(char *));
	for (size_t i = 0; i < req->alias_count; i++)
		group->aliases[i] = xstrdup(req->aliases[i]);
	group->alias_count = req->alias_count;
	memcpy(group->ports, req->ports, req->port_count * sizeof(req->ports[0]));
	group->port_count = req->port_count;
	group->rate = req->rate;
	group->state = GROUP_ATTACHING;
	return group;
}

int netd_group_attach(struct netd *netd, const struct group_request *req,
		      struct pw_group **ret_group, struct pw_error *err)
{
	_cleanup_group_ struct pw_group *group = NULL;
	_cleanup_close_ int netns_fd = -EBADF;
	struct pw_group *existing;
	struct stat st;
	size_t reserved = 0, created = 0;
	int r;

	for (size_t i = 0; i < req->vnet_count; i++)
		if (!netd_vnet_find(netd, req->vnets[i]))
			return pw_error_set(err, -ENOENT, "vnet '%s' not found", req->vnets[i]);
	/* Content trust, before anything changes: the refusal is one line of
	 * its own, not wrapped (podwire-cni and the hook show it as is). */
	r = trust_check_attach(netd, req, err);
	if (r < 0)
		return r;

	r = netns_open(req->netns, &netns_fd, err);
	if (r < 0)
		return r;
	if (fstat(netns_fd, &st) < 0)
		return pw_error_set(err, -errno, "netns %s: %m", req->netns);
	if (netns_same(netns_fd, netd->host_netns_fd) > 0)
		return pw_error_set(err, -EINVAL, "netns %s is netd's own network namespace",
				    req->netns);

	existing = group_table_find(&netd->groups, req->id);
	if (existing) {
		if (!group_matches(existing, req, st.st_dev, st.st_ino))
			return pw_error_set(
			    err, -EEXIST,
			    "group '%s' is already attached with a different netns, "
			    "VNets, address, MAC, ports or rate (detach it first)",
			    req->id);
		*ret_group = existing;
		return 0;
	}
	if (netd->groups.count >= GROUPS_MAX)
		return pw_error_set(err, -ENOSPC, "too many groups (at most %d)", GROUPS_MAX);
	r = netd_ports_check(netd, req->id, req->ports, req->port_count, err);
	if (r < 0)
		return pw_error_wrap(err, r, "attach group '%s'", req->id);

	group = group_from_request(req, st.st_dev, st.st_ino);
	for (size_t i = 0; i < req->vnet_count; i++) {
		struct attachment *a = &group->attachments[i];
		struct vnet *vnet = netd_vnet_find(netd, req->vnets[i]);

		a->vnet = vnet;
		snprintf(a->vnet_name, sizeof(a->vnet_name), "%s", vnet->name);
		snprintf(a->ifname, sizeof(a->ifname), "eth%zu", i);
		group_host_ifname(req->id, vnet->name, a->host_ifname);
		r = reserve_address(vnet, req, i, a, err);
		if (r < 0)
			goto undo;
		if (i == 0 && req->has_mac)
			memcpy(a->mac, req->mac, sizeof(a->mac));
		else
			group_default_mac(&a->addresses[0], a->mac);
		reserved = group->attachment_count = i + 1;
	}

	/* Durable before the first link exists: a crash from here on leaves
	 * a file that names every link and address to undo. */
	r = store_group_save(&netd->store, group);
	if (r < 0) {
		pw_error_set(err, r, "write state: %s", strerror(-r));
		goto undo;
	}
	for (size_t i = 0; i < group->attachment_count; i++) {
		r = netd_attachment_create(netd, group, i, netns_fd, err);
		if (r < 0) {
			pw_error_wrap(err, r, "vnet '%s'", group->attachments[i].vnet_name);
			goto undo_links;
		}
		created = i + 1;
	}
	r = netd_group_dataplane_add(netd, group, err);
	if (r < 0)
		goto undo_links;
	group->state = GROUP_ATTACHED;
	r = store_group_save(&netd->store, group);
	if (r < 0) {
		pw_error_set(err, r, "write state: %s", strerror(-r));
		netd_group_dataplane_remove(netd, group);
		goto undo_links;
	}

	for (size_t i = 0; i < group->attachment_count; i++)
		group->attachments[i].vnet->group_count++;
	group_table_add(&netd->groups, group);
	log_info("group attached group=%s netns=%s vnets=%zu", group->id, group->netns,
		 group->attachment_count);
	events_group_attached(netd, group);
	*ret_group = TAKE_PTR(group);
	return 0;

undo_links:
	for (size_t i = 0; i < created; i++)
		(void)veth_remove(netd->nl, group->attachments[i].host_ifname);
	(void)store_group_remove(&netd->store, group->id);
undo:
	for (size_t i = 0; i < reserved; i++)
		(void)ipam_release(&group->attachments[i].vnet->ipam,
				   &group->attachments[i].addresses[0]);
	return pw_error_wrap(err, r, "attach group '%s'", req->id);
}

bool netd_group_netns_alive(const struct pw_group *group)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;

	/* O_PATH: no open of whatever the path names (a FIFO, a device), just
	 * a handle to fstat. */
	fd = open(group->netns, O_PATH | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return false;
	return (uint64_t)st.st_dev == group->netns_dev && (uint64_t)st.st_ino == group->netns_ino;
}

int netd_group_release(struct netd *netd, struct pw_group *group, enum group_detach_reason reason,
		       struct pw_error *err)
{
	int r;

	r = store_group_remove(&netd->store, group->id);
	if (r < 0)
		return pw_error_set(err, r, "detach group '%s': remove state: %s", group->id,
				    strerror(-r));
	/* Out of the table before its links go: the link monitor then finds
	 * no group for the deletions netd itself causes. */
	group_table_remove(&netd->groups, group);
	netd_group_teardown(netd, group, true);
	for (size_t i = 0; i < group->attachment_count; i++)
		group->attachments[i].vnet->group_count--;
	log_info("group detached group=%s reason=%s", group->id,
		 reason == GROUP_DETACH_NETNS_GONE ? "netns-gone" : "detach");
	events_group_detached(netd, group, reason);
	group_free(group);
	netd_heap_trim_soon(netd);
	return 0;
}

int netd_group_detach(struct netd *netd, const char *id, struct pw_error *err)
{
	struct pw_group *group = group_table_find(&netd->groups, id);

	if (!group)
		return 0;
	return netd_group_release(netd, group, GROUP_DETACH_REQUESTED, err);
}
