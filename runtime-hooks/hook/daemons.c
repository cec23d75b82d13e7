/* netd and volumed clients for the hook (see daemons.h). */
#include <errno.h>
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
		      json_t *trust, struct group_net *ret_net, struct pw_error *err)
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
	if (trust)
		json_object_set(params, "trust", trust);
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

/* Ids of pipelined requests: far from rpc_client_call's (1, 2, ...), so a
 * reply can never be taken for the other's. */
#define PIPELINE_ID_BASE 1000000

int daemon_send_many(struct rpc_client *client, struct daemon_call *calls, size_t count,
		     struct pw_error *err)
{
	_cleanup_free_ char *lines = NULL;
	size_t len = 0, done = 0;

	for (size_t i = 0; i < count; i++) {
		json_auto_t *req = json_pack("{s:I, s:s, s:O}", "id",
					     (json_int_t)(PIPELINE_ID_BASE + i), "method",
					     calls[i].method, "params", calls[i].params);
		_cleanup_free_ char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
		size_t n;

		if (!line)
			return pw_error_set(err, -ENOMEM, "out of memory");
		n = strlen(line);
		lines = xrealloc(lines, len + n + 2);
		memcpy(lines + len, line, n);
		len += n;
		lines[len++] = '\n';
	}
	/* A few hundred bytes into an empty socket buffer: one send. */
	while (done < len) {
		ssize_t n = send(rpc_client_fd(client), lines + done, len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pw_error_set(err, -errno, "send: %m");
		done += (size_t)n;
	}
	return 0;
}

int daemon_recv_many(struct rpc_client *client, const char *daemon, struct daemon_call *calls,
		     size_t count, struct pw_error *err)
{
	for (size_t i = 0; i < count; i++) {
		json_auto_t *msg = NULL;
		json_t *error, *id;
		int r;

		r = rpc_client_read_reply(client, &msg, err);
		if (r < 0)
			return pw_error_wrap(err, r, "podwire-%s", daemon);
		id = json_object_get(msg, "id");
		if (!json_is_integer(id) ||
		    json_integer_value(id) != (json_int_t)(PIPELINE_ID_BASE + i))
			return pw_error_set(err, -EBADMSG, "%s reply: unexpected id", daemon);
		error = json_object_get(msg, "error");
		if (error) {
			const char *code = json_string_value(json_object_get(error, "code"));

			calls[i].r = -pw_error_errno_from_code(code ? code : "internal");
			calls[i].error = json_incref(error);
			continue;
		}
		calls[i].result = json_incref(json_object_get(msg, "result"));
		if (!json_is_object(calls[i].result))
			return pw_error_set(err, -EBADMSG, "%s reply to %s: no result", daemon,
					    calls[i].method);
	}
	return 0;
}

void daemon_calls_done(struct daemon_call *calls, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		json_decref(calls[i].params);
		json_decref(calls[i].result);
		json_decref(calls[i].error);
		calls[i].params = calls[i].result = calls[i].error = NULL;
	}
}

int daemon_call_error(const struct daemon_call *call, struct pw_error *err)
{
	const char *message = json_string_value(json_object_get(call->error, "message"));

	return pw_error_set(err, call->r, "%s", message ? message : "unknown error");
}

void group_net_set_domains(struct group_net *net, const struct hook_spec *spec,
			   const char (*domains)[DNS_NAME_MAX + 1])
{
	/* The group's attachments are on the VNets asked for; keep their order. */
	net->domain_count = 0;
	for (size_t i = 0; i < net->vnet_count; i++)
		for (size_t j = 0; j < spec->vnet_count; j++)
			if (streq(net->vnets[i], spec->vnets[j]) && domains[j][0]) {
				strcpy(net->domains[net->domain_count++], domains[j]);
				break;
			}
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
		      bool read_only, json_t *trust, char **ret_mountpoint, struct pw_error *err)
{
	json_auto_t *params =
	    json_pack("{s:s, s:s, s:b}", "name", share, "group", group, "read_only", read_only);
	json_auto_t *result = NULL;
	json_t *mountpoint;
	int r;

	if (trust)
		json_object_set(params, "trust", trust);
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
