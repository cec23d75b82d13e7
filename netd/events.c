/* Object -> JSON and event broadcast (see events.h). No state of its own;
 * sequence numbers are the RPC server's. */
#include "dns-records.h"
#include "events.h"
#include "log.h"

json_t *events_vnet_json(const struct vnet *vnet)
{
	char buf[IP_PREFIX_STRLEN];
	json_t *object;
	json_t *subnets = json_array(), *gateways = json_array(), *dns = json_array();

	for (size_t i = 0; i < vnet->subnet_count; i++) {
		json_array_append_new(subnets,
				      json_string(ip_prefix_format(&vnet->subnets[i], buf)));
		json_array_append_new(gateways,
				      json_string(ip_addr_format(&vnet->gateways[i], buf)));
	}
	for (size_t i = 0; i < vnet->dns_server_count; i++)
		json_array_append_new(dns, json_string(ip_addr_format(&vnet->dns_servers[i], buf)));
	object = json_pack("{s:s, s:s, s:o, s:o, s:s, s:I, s:b, s:b, s:s, s:o, s:o, s:I}", "name",
			   vnet->name, "bridge", vnet->bridge, "subnets", subnets, "gateways",
			   gateways, "domain", vnet->domain, "mtu", (json_int_t)vnet->mtu,
			   "internal", vnet->internal, "isolate", vnet->isolate, "host_access",
			   vnet_host_access_name(vnet->host_access), "dns_servers", dns, "peers",
			   vnet_peers_json(vnet), "group_count", (json_int_t)vnet->group_count);
	vnet_trust_json(vnet, object);
	return object;
}

json_t *events_group_json(const struct pw_group *group)
{
	json_t *aliases = json_array(), *attachments = json_array();
	char buf[INET6_ADDRSTRLEN], mac[18];

	for (size_t i = 0; i < group->alias_count; i++)
		json_array_append_new(aliases, json_string(group->aliases[i]));
	for (size_t i = 0; i < group->attachment_count; i++) {
		const struct attachment *a = &group->attachments[i];
		json_t *addresses = json_array();
		const char *gateway = "";

		for (size_t j = 0; j < a->address_count; j++)
			json_array_append_new(addresses,
					      json_string(ip_addr_format(&a->addresses[j], buf)));
		if (a->vnet)
			gateway = ip_addr_format(&a->vnet->gateways[0], buf);
		json_array_append_new(
		    attachments,
		    json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "vnet", a->vnet_name, "interface",
			      a->ifname, "host_interface", a->host_ifname, "mac",
			      mac_format(a->mac, mac), "addresses", addresses, "gateway", gateway));
	}
	return json_pack(
	    "{s:s, s:s, s:s?, s:o, s:o, s:o, s:o}", "id", group->id, "netns", group->netns,
	    "hostname", group->hostname, "aliases", aliases, "attachments", attachments, "ports",
	    ports_to_json(group->ports, group->port_count), "rate", group_rate_json(&group->rate));
}

json_t *events_snapshot(const struct netd *netd)
{
	json_t *vnets = json_array(), *groups = json_array();
	_cleanup_free_ struct pw_group **sorted = NULL;
	size_t count;

	for (size_t i = 0; i < netd->vnet_count; i++)
		json_array_append_new(vnets, events_vnet_json(netd->vnets[i]));
	sorted = group_table_sorted(&netd->groups, &count);
	for (size_t i = 0; i < count; i++)
		json_array_append_new(groups, events_group_json(sorted[i]));
	/* Zones and records: netd/dns-records.c */
	return json_pack("{s:I, s:o, s:o, s:o, s:o}", "seq",
			 (json_int_t)(netd->server ? rpc_server_next_seq(netd->server) : 0),
			 "vnets", vnets, "groups", groups, "zones", dns_zones_json_all(), "records",
			 dns_records_json_all());
}

static void broadcast(struct netd *netd, const char *event, json_t *data)
{
	json_auto_t *d = data;

	if (!netd->server || !d)
		return;
	rpc_server_broadcast(netd->server, event, d);
}

void events_vnet_created(struct netd *netd, const struct vnet *vnet)
{
	broadcast(netd, "vnet.created", events_vnet_json(vnet));
}

void events_vnet_updated(struct netd *netd, const struct vnet *vnet)
{
	broadcast(netd, "vnet.updated", events_vnet_json(vnet));
}

void events_vnet_deleted(struct netd *netd, const char *name)
{
	broadcast(netd, "vnet.deleted", json_pack("{s:s}", "name", name));
}

void events_group_attached(struct netd *netd, const struct pw_group *group)
{
	broadcast(netd, "group.attached", events_group_json(group));
}

void events_group_detached(struct netd *netd, const struct pw_group *group,
			   enum group_detach_reason reason)
{
	json_t *data = events_group_json(group);

	if (data)
		json_object_set_new(
		    data, "reason",
		    json_string(reason == GROUP_DETACH_NETNS_GONE ? "netns-gone" : "detach"));
	broadcast(netd, "group.detached", data);
}
