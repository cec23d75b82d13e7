/* Start-up reconciliation (see reconcile.h). Runs once, before the socket
 * exists, so nothing else observes the intermediate states. Its cost grows
 * with the number of groups (one link dump, one fstat per group), which is
 * fine for start-up and never paid per operation. */
#include <errno.h>
#include <netlink/route/link.h>
#include <stdio.h>

#include "bandwidth.h"
#include "bridge.h"
#include "dataplane.h"
#include "hostnet.h"
#include "log.h"
#include "netlink.h"
#include "netns.h"
#include "reconcile.h"
#include "veth.h"
#include "xalloc.h"

/* The ifb of a rate-limited host veth "pwvX" is "pwbX" (bandwidth.h). */
#define IFB_IFNAME_PREFIX "pwb"

struct host_link {
	char name[IFNAMSIZ];
	int master;
};

struct link_list {
	struct host_link *links;
	size_t count;
	size_t cap;
};

static int load_vnet(struct vnet *vnet, void *userdata)
{
	struct netd *netd = userdata;

	if (netd_vnet_find(netd, vnet->name) || netd->vnet_count >= VNETS_MAX) {
		log_error("VNet state skipped (duplicate or too many) vnet=%s", vnet->name);
		vnet_free(vnet);
		return 0;
	}
	for (size_t i = 0; i < netd->vnet_count; i++)
		if (vnet_overlaps(vnet, netd->vnets[i], NULL, NULL)) {
			log_error("VNet state skipped: overlaps vnet=%s other=%s", vnet->name,
				  netd->vnets[i]->name);
			vnet_free(vnet);
			return 0;
		}
	/* Kept: the policy stays as the admin set it (under enforce the hook
	 * finds no keyset and denies) until a keyset of that name is added
	 * again or the VNet is set otherwise. */
	if (vnet->trust != TRUST_OFF && !trust_keysets_find(&netd->keysets, vnet->trust_keys))
		log_error("VNet names a missing keyset (add it again) vnet=%s trust=%s keyset=%s",
			  vnet->name, trust_mode_name(vnet->trust), vnet->trust_keys);
	netd_vnet_insert(netd, vnet);
	return 0;
}

static void drop_group(struct netd *netd, struct pw_group *group, bool reserved, const char *why)
{
	log_info("group released at start group=%s reason=\"%s\"", group->id, why);
	netd_group_teardown(netd, group, reserved);
	(void)store_group_remove(&netd->store, group->id);
	group_free(group);
}

static int load_group(struct pw_group *group, void *userdata)
{
	struct netd *netd = userdata;
	size_t reserved = 0;
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < group->attachment_count; i++)
		group->attachments[i].vnet = netd_vnet_find(netd, group->attachments[i].vnet_name);

	if (group->state == GROUP_ATTACHING) {
		drop_group(netd, group, false, "interrupted attach rolled back");
		return 0;
	}
	if (group_table_find(&netd->groups, group->id)) {
		drop_group(netd, group, false, "duplicate id");
		return 0;
	}
	for (size_t i = 0; i < group->attachment_count; i++) {
		struct attachment *a = &group->attachments[i];

		if (!a->vnet) {
			/* Force-deleting the VNet crashed half-way. */
			for (size_t j = 0; j < reserved; j++)
				(void)ipam_release(&group->attachments[j].vnet->ipam,
						   &group->attachments[j].addresses[0]);
			drop_group(netd, group, false, "its vnet no longer exists");
			return 0;
		}
		if (ipam_reserve(&a->vnet->ipam, &a->addresses[0]) < 0) {
			log_error("address conflict in state group=%s vnet=%s addr=%s", group->id,
				  a->vnet_name, ip_addr_format(&a->addresses[0], buf));
			for (size_t j = 0; j < reserved; j++)
				(void)ipam_release(&group->attachments[j].vnet->ipam,
						   &group->attachments[j].addresses[0]);
			/* Tearing down touches only this group's links: host
			 * names derive from (id, vnet), so they are its own. */
			drop_group(netd, group, false, "address already held by another group");
			return 0;
		}
		reserved = i + 1;
	}
	if (!netd_group_netns_alive(group)) {
		drop_group(netd, group, true, "netns gone");
		return 0;
	}
	for (size_t i = 0; i < group->attachment_count; i++)
		group->attachments[i].vnet->group_count++;
	group_table_add(&netd->groups, group);
	return 0;
}

static int collect_link(struct rtnl_link *link, void *userdata)
{
	struct link_list *list = userdata;
	const char *name = rtnl_link_get_name(link);

	if (!name)
		return 0;
	if (list->count == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 64;
		list->links = xrealloc(list->links, list->cap * sizeof(*list->links));
	}
	snprintf(list->links[list->count].name, IFNAMSIZ, "%s", name);
	list->links[list->count].master = rtnl_link_get_master(link);
	list->count++;
	return 0;
}

static int host_link_cmp(const void *a, const void *b)
{
	return strcmp(((const struct host_link *)a)->name, ((const struct host_link *)b)->name);
}

static struct host_link *find_link(struct link_list *list, const char *name)
{
	struct host_link key = {0};

	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, list->links, list->count, sizeof(key), host_link_cmp);
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Every attachment of a live group gets its pair back on its bridge. */
static void repair_group(struct netd *netd, struct pw_group *group, struct link_list *links)
{
	_cleanup_close_ int netns_fd = -EBADF;

	for (size_t i = 0; i < group->attachment_count; i++) {
		struct attachment *a = &group->attachments[i];
		struct host_link *link = find_link(links, a->host_ifname);
		struct pw_error err = {0};
		int bridge_index, r;

		r = bridge_ifindex(netd->nl, a->vnet->bridge, &bridge_index);
		if (r < 0)
			continue; /* bridge_ensure failed and logged */
		if (link) {
			if (link->master != bridge_index) {
				_cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
				_cleanup_link_ struct rtnl_link *orig = NULL;

				r = link_get(netd->nl, a->host_ifname, &orig);
				if (r >= 0 && change) {
					rtnl_link_set_master(change, bridge_index);
					r = netlink_errno(
					    rtnl_link_change(netd->nl, orig, change, 0));
				}
				if (r < 0)
					log_warn_errno(r, "cannot put %s back on %s",
						       a->host_ifname, a->vnet->bridge);
				else
					log_info("port re-attached to bridge group=%s link=%s",
						 group->id, a->host_ifname);
			}
			continue;
		}
		if (netns_fd < 0) {
			r = netns_open(group->netns, &netns_fd, &err);
			if (r < 0) {
				log_warn("cannot open the netns of group %s error=\"%s\"", group->id,
					 pw_error_message(&err));
				return;
			}
		}
		r = netd_attachment_create(netd, group, i, netns_fd, &err);
		if (r < 0)
			log_warn("cannot recreate attachment group=%s vnet=%s error=\"%s\"",
				 group->id, a->vnet_name, pw_error_message(&err));
		else
			log_info("attachment recreated group=%s vnet=%s", group->id, a->vnet_name);
	}
}

static void delete_strangers(struct netd *netd, struct link_list *links)
{
	_cleanup_free_ struct host_link *known = NULL;
	struct link_list known_list = {0};
	_cleanup_free_ struct pw_group **groups = NULL;
	size_t count;

	groups = group_table_sorted(&netd->groups, &count);
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < groups[i]->attachment_count; j++) {
			if (known_list.count == known_list.cap) {
				known_list.cap = known_list.cap ? known_list.cap * 2 : 64;
				known_list.links = xrealloc(
				    known_list.links, known_list.cap * sizeof(struct host_link));
			}
			snprintf(known_list.links[known_list.count++].name, IFNAMSIZ, "%s",
				 groups[i]->attachments[j].host_ifname);
		}
	known = known_list.links;
	if (known_list.count)
		qsort(known, known_list.count, sizeof(*known), host_link_cmp);

	for (size_t i = 0; i < links->count; i++) {
		const char *name = links->links[i].name;
		bool ours = false;
		int r;

		if (starts_with(name, VNET_BRIDGE_PREFIX)) {
			ours = netd_vnet_find(netd, name + strlen(VNET_BRIDGE_PREFIX)) != NULL;
		} else if (starts_with(name, HOST_IFNAME_PREFIX) &&
			   strlen(name) == strlen(HOST_IFNAME_PREFIX) + 12) {
			ours = find_link(&known_list, name) != NULL;
		} else if (starts_with(name, IFB_IFNAME_PREFIX) &&
			   strlen(name) == strlen(IFB_IFNAME_PREFIX) + 12) {
			/* A rate limit's ifb: ours while its veth's group is. */
			char veth[IFNAMSIZ];

			snprintf(veth, sizeof(veth), HOST_IFNAME_PREFIX "%s",
				 name + strlen(IFB_IFNAME_PREFIX));
			ours = find_link(&known_list, veth) != NULL;
		} else {
			continue;
		}
		if (ours)
			continue;
		r = link_delete(netd->nl, name);
		if (r < 0)
			log_warn_errno(r, "cannot delete unknown link %s", name);
		else if (r > 0)
			log_info("deleted link unknown to the state link=%s", name);
	}
}

int reconcile_run(struct netd *netd, struct pw_error *err)
{
	struct link_list links = {0};
	_cleanup_free_ struct pw_group **groups = NULL;
	bool ipv6 = false;
	size_t count;
	int r;

	r = store_vnet_load_all(&netd->store, load_vnet, netd);
	if (r < 0)
		return pw_error_set(err, r, "load VNets: %s", strerror(-r));
	r = store_group_load_all(&netd->store, load_group, netd);
	if (r < 0)
		return pw_error_set(err, r, "load groups: %s", strerror(-r));

	for (size_t i = 0; i < netd->vnet_count; i++) {
		struct vnet *vnet = netd->vnets[i];

		/* A peering is symmetric; a crash between the two state
		 * writes leaves one side: complete it. A gone peer is dropped. */
		for (size_t j = 0; j < vnet->peer_count;) {
			struct vnet *peer = netd_vnet_find(netd, vnet->peers[j]);

			if (!peer) {
				log_warn("peer gone, unpeered vnet=%s peer=%s", vnet->name,
					 vnet->peers[j]);
				vnet_peer_remove(vnet, vnet->peers[j]);
				(void)store_vnet_save(&netd->store, vnet);
				continue;
			}
			if (!vnet_has_peer(peer, vnet->name) &&
			    vnet_peer_add(peer, vnet->name) == 0)
				(void)store_vnet_save(&netd->store, peer);
			j++;
		}
	}
	for (size_t i = 0; i < netd->vnet_count; i++) {
		struct pw_error berr = {0};

		if (bridge_ensure(netd->nl, netd->vnets[i], &berr) < 0)
			log_error("cannot restore bridge vnet=%s error=\"%s\"",
				  netd->vnets[i]->name, pw_error_message(&berr));
		ipv6 |= netd->vnets[i]->subnet_count > 1;
	}

	r = link_foreach(netd->nl, collect_link, &links);
	if (r < 0) {
		free(links.links);
		return pw_error_set(err, r, "list links: %s", strerror(-r));
	}
	if (links.count)
		qsort(links.links, links.count, sizeof(*links.links), host_link_cmp);
	groups = group_table_sorted(&netd->groups, &count);
	for (size_t i = 0; i < count; i++) {
		repair_group(netd, groups[i], &links);
		netd_group_links_repair(netd, groups[i]);
	}
	delete_strangers(netd, &links);
	free(links.links);

	/* Both tables, with every group's elements (anti-spoofing, counters,
	 * published ports). */
	r = netd_nft_sync(netd, err);
	if (r < 0)
		return pw_error_wrap(err, r, "nftables");

	r = hostnet_enable_forwarding(ipv6);
	if (r < 0)
		log_warn_errno(r, "cannot enable forwarding");
	log_info("reconciled vnets=%zu groups=%zu", netd->vnet_count, netd->groups.count);
	return 0;
}
