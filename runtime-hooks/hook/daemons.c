/* netd and volumed clients for the hook (see daemons.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

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

static int group_net_from_json(json_t *result, struct group_net *ret, struct pw_error *err);

int netd_group_attach(struct rpc_client *netd, const struct hook_spec *spec, const char *netns,
		      struct group_net *ret_net, struct pw_error *err)
{
	json_auto_t *params =
	    json_pack("{s:s, s:s, s:[]}", "id", spec->group, "netns", netns, "vnets");
	json_auto_t *result = NULL;
	int r;
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
			json_array_append_new(ports, json_pack("{s:i, s:i, s:s}", "host_port",
							       spec->ports[i].host_port, "port",
							       spec->ports[i].container_port,
							       "proto", spec->ports[i].protocol));
		json_object_set_new(params, "ports", ports);
	}
	r = rpc_client_call(netd, "group.attach", params, &result, err);
	if (r < 0 || !ret_net)
		return r;
	/* The reply is the group as group.show gives it: no second call. */
	return group_net_from_json(result, ret_net, err);
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
	int r;

	r = rpc_client_call(netd, "group.show", params, &result, err);
	if (r < 0)
		return r;
	return group_net_from_json(result, ret, err);
}

int netd_group_domains(struct rpc_client *netd, struct group_net *net, struct pw_error *err)
{
	net->domain_count = 0;
	for (size_t i = 0; i < net->vnet_count; i++) {
		int r = vnet_domain(netd, net->vnets[i], net->domains[net->domain_count],
				    sizeof(net->domains[0]), err);
		if (r < 0)
			return r;
		if (net->domains[net->domain_count][0])
			net->domain_count++;
	}
	return 0;
}

int netd_domains_send(struct rpc_client *netd, const struct hook_spec *spec, struct pw_error *err)
{
	_cleanup_free_ char *lines = NULL;
	size_t len = 0;

	for (size_t i = 0; i < spec->vnet_count; i++) {
		json_auto_t *req =
		    json_pack("{s:I, s:s, s:{s:s}}", "id", (json_int_t)(i + 1), "method",
			      "vnet.show", "params", "name", spec->vnets[i]);
		_cleanup_free_ char *line = json_dumps(req, JSON_COMPACT);
		size_t n = strlen(line);

		lines = xrealloc(lines, len + n + 2);
		memcpy(lines + len, line, n);
		len += n;
		lines[len++] = '\n';
	}
	/* A few hundred bytes into an empty socket buffer: one send. */
	if (len > 0 && send(rpc_client_fd(netd), lines, len, MSG_NOSIGNAL) != (ssize_t)len)
		return pw_error_set(err, -EIO, "send to podwire-netd: %m");
	return 0;
}

int netd_domains_recv(struct rpc_client *netd, const struct hook_spec *spec, struct group_net *net,
		      struct pw_error *err)
{
	char domains[HOOK_VNETS_MAX][DNS_NAME_MAX + 1];

	for (size_t i = 0; i < spec->vnet_count; i++) {
		struct pollfd pfd = {.fd = rpc_client_fd(netd), .events = POLLIN};
		json_auto_t *msg = NULL;
		json_t *error, *id;
		int r;

		/* rpc_client_read() has no deadline: wait here with the call's. */
		r = poll(&pfd, 1, HOOK_RPC_TIMEOUT_MS);
		if (r <= 0)
			return pw_error_set(err, r == 0 ? -ETIMEDOUT : -errno,
					    "no reply from podwire-netd to vnet.show");
		r = rpc_client_read(netd, &msg, err);
		if (r < 0)
			return r;
		id = json_object_get(msg, "id");
		if (!json_is_integer(id) || json_integer_value(id) != (json_int_t)(i + 1))
			return pw_error_set(err, -EBADMSG, "netd reply: unexpected id");
		error = json_object_get(msg, "error");
		if (error) {
			const char *code = json_string_value(json_object_get(error, "code"));
			const char *message = json_string_value(json_object_get(error, "message"));

			r = pw_error_set(err, -pw_error_errno_from_code(code ? code : "internal"),
					 "%s", message ? message : "unknown error");
			return pw_error_wrap(err, r, "vnet '%s'", spec->vnets[i]);
		}
		r = copy_field(domains[i], sizeof(domains[i]),
			       json_object_get(json_object_get(msg, "result"), "domain"),
			       "vnet domain", err);
		if (r < 0)
			return r;
	}
	/* The group's attachments are on the VNets asked for; keep their order. */
	net->domain_count = 0;
	for (size_t i = 0; i < net->vnet_count; i++)
		for (size_t j = 0; j < spec->vnet_count; j++)
			if (streq(net->vnets[i], spec->vnets[j]) && domains[j][0]) {
				strcpy(net->domains[net->domain_count++], domains[j]);
				break;
			}
	return 0;
}

/* A group object (group.show's or group.attach's result). */
static int group_net_from_json(json_t *result, struct group_net *ret, struct pw_error *err)
{
	json_t *attachments, *attachment, *aliases, *alias, *hostname;
	size_t i;
	int r;

	memset(ret, 0, sizeof(*ret));
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
		if (json_is_string(vnet) && ret->vnet_count < RESOLV_SEARCHES_MAX) {
			r = copy_field(ret->vnets[ret->vnet_count++], sizeof(ret->vnets[0]), vnet,
				       "vnet", err);
			if (r < 0)
				return r;
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
