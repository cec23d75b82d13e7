/* netd and volumed clients for the hook (see daemons.h). */
#include <errno.h>
#include <string.h>

#include "daemons.h"
#include "json-util.h"
#include "xalloc.h"

int daemon_connect(const char *run_dir, const char *name, struct rpc_client **ret,
		   struct pw_error *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s.sock", run_dir, name);
	int r;

	r = rpc_client_connect(path, HOOK_RPC_TIMEOUT_MS, ret, err);
	if (r < 0)
		return pw_error_wrap(err, r, "cannot reach podwire-%s at %s", name, path);
	return 0;
}

int netd_group_attach(struct rpc_client *netd, const struct hook_spec *spec, const char *netns,
		      struct pw_error *err)
{
	json_auto_t *params =
	    json_pack("{s:s, s:s, s:[]}", "id", spec->group, "netns", netns, "vnets");
	json_auto_t *result = NULL;
	json_t *vnets = json_object_get(params, "vnets");

	for (size_t i = 0; i < spec->vnet_count; i++)
		json_array_append_new(vnets, json_string(spec->vnets[i]));
	if (spec->ip_count > 0) {
		json_t *ips = json_object();

		for (size_t i = 0; i < spec->ip_count; i++) {
			char buf[INET6_ADDRSTRLEN];

			json_object_set_new(ips, spec->ips[i].vnet,
					    json_string(ip_addr_format(&spec->ips[i].addr, buf)));
		}
		json_object_set_new(params, "ips", ips);
	}
	if (spec->mac[0])
		json_object_set_new(params, "mac", json_string(spec->mac));
	if (spec->hostname[0])
		json_object_set_new(params, "hostname", json_string(spec->hostname));
	if (spec->alias_count > 0) {
		json_t *aliases = json_array();

		for (size_t i = 0; i < spec->alias_count; i++)
			json_array_append_new(aliases, json_string(spec->aliases[i]));
		json_object_set_new(params, "aliases", aliases);
	}
	if (spec->port_count > 0) {
		json_t *ports = json_array();

		/* netd publishes them on every host address (podwire.ports has
		 * no host address) and refuses a host port held by another
		 * group, naming it. */
		for (size_t i = 0; i < spec->port_count; i++)
			json_array_append_new(ports,
					      json_pack("{s:i, s:i, s:s}", "host_port",
							spec->ports[i].host_port, "port",
							spec->ports[i].container_port, "proto",
							spec->ports[i].protocol));
		json_object_set_new(params, "ports", ports);
	}
	return rpc_client_call(netd, "group.attach", params, &result, err);
}

int netd_group_detach(struct rpc_client *netd, const char *group, struct pw_error *err)
{
	json_auto_t *params = json_pack("{s:s}", "id", group);
	json_auto_t *result = NULL;

	return rpc_client_call(netd, "group.detach", params, &result, err);
}

static int copy_field(char *dst, size_t size, json_t *value, const char *what, struct pw_error *err)
{
	if (!json_is_string(value) || json_string_length(value) >= size)
		return pw_error_set(err, -EBADMSG, "netd reply: bad %s", what);
	strcpy(dst, json_string_value(value));
	return 0;
}

static int vnet_domain(struct rpc_client *netd, const char *vnet, char *dst, size_t size,
		       struct pw_error *err)
{
	json_auto_t *params = json_pack("{s:s}", "name", vnet);
	json_auto_t *result = NULL;
	int r;

	r = rpc_client_call(netd, "vnet.show", params, &result, err);
	if (r < 0)
		return pw_error_wrap(err, r, "vnet '%s'", vnet);
	return copy_field(dst, size, json_object_get(result, "domain"), "vnet domain", err);
}

int netd_group_net(struct rpc_client *netd, const char *group, struct group_net *ret,
		   struct pw_error *err)
{
	json_auto_t *params = json_pack("{s:s}", "id", group);
	json_auto_t *result = NULL;
	json_t *attachments, *attachment, *aliases, *alias, *hostname;
	size_t i;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = rpc_client_call(netd, "group.show", params, &result, err);
	if (r < 0)
		return r;
	hostname = json_object_get(result, "hostname");
	if (hostname && !json_is_null(hostname)) {
		r = copy_field(ret->hostname, sizeof(ret->hostname), hostname, "hostname", err);
		if (r < 0)
			return r;
	}
	aliases = json_object_get(result, "aliases");
	json_array_foreach(aliases, i, alias)
	{
		if (ret->alias_count >= HOOK_ALIASES_MAX)
			break;
		r = copy_field(ret->aliases[ret->alias_count++], sizeof(ret->aliases[0]), alias,
			       "alias", err);
		if (r < 0)
			return r;
	}
	attachments = json_object_get(result, "attachments");
	if (!json_is_array(attachments))
		return pw_error_set(err, -EBADMSG, "netd reply: group has no attachments array");
	json_array_foreach(attachments, i, attachment)
	{
		json_t *addresses, *address, *gateway, *vnet;
		size_t j;

		vnet = json_object_get(attachment, "vnet");
		gateway = json_object_get(attachment, "gateway");
		addresses = json_object_get(attachment, "addresses");
		json_array_foreach(addresses, j, address)
		{
			if (ret->address_count >= HOSTS_ADDRESSES_MAX)
				break;
			r = copy_field(ret->addresses[ret->address_count++],
				       sizeof(ret->addresses[0]), address, "address", err);
			if (r < 0)
				return r;
		}
		if (gateway && json_is_string(gateway) &&
		    ret->gateway_count < RESOLV_NAMESERVERS_MAX) {
			r = copy_field(ret->gateways[ret->gateway_count++],
				       sizeof(ret->gateways[0]), gateway, "gateway", err);
			if (r < 0)
				return r;
		}
		if (json_is_string(vnet) && ret->domain_count < RESOLV_SEARCHES_MAX) {
			r = vnet_domain(netd, json_string_value(vnet),
					ret->domains[ret->domain_count], sizeof(ret->domains[0]),
					err);
			if (r < 0)
				return r;
			if (ret->domains[ret->domain_count][0])
				ret->domain_count++;
		}
	}
	return 0;
}

int volumed_share_use(struct rpc_client *volumed, const char *share, const char *group,
		      bool read_only, char **ret_mountpoint, struct pw_error *err)
{
	json_auto_t *params =
	    json_pack("{s:s, s:s, s:b}", "name", share, "group", group, "read_only", read_only);
	json_auto_t *result = NULL;
	json_t *mountpoint;
	int r;

	r = rpc_client_call(volumed, "share.use", params, &result, err);
	if (r < 0)
		return r;
	mountpoint = json_object_get(result, "mountpoint");
	if (!json_is_string(mountpoint) || json_string_value(mountpoint)[0] != '/')
		return pw_error_set(err, -EBADMSG, "volumed reply: no mountpoint");
	*ret_mountpoint = xstrdup(json_string_value(mountpoint));
	return 0;
}

int volumed_share_release(struct rpc_client *volumed, const char *share, const char *group,
			  struct pw_error *err)
{
	json_auto_t *params = json_pack("{s:s, s:s}", "name", share, "group", group);
	json_auto_t *result = NULL;

	return rpc_client_call(volumed, "share.release", params, &result, err);
}
