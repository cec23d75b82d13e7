/* netd's RPC handlers (see rpc.h). Params are parsed at this edge with
 * JSON_STRICT: an unknown key, a wrong type or a bad value is an
 * invalid_params error and changes nothing. */
#include <errno.h>

#include "cluster.h"
#include "dataplane.h"
#include "dns-records.h"
#include "events.h"
#include "json-util.h"
#include "netd.h"
#include "rpc.h"

static int no_params(struct rpc_request *req, struct pw_error *err)
{
	return json_unpack_err(req->params, err, req->method, JSON_STRICT, "{}");
}

static int vnet_create(struct rpc_request *req, void *userdata, json_t **ret_result,
		       struct pw_error *err)
{
	struct netd *netd = userdata;
	struct vnet *spec = NULL, *vnet;
	int r;

	if (json_object_get(req->params, "peers"))
		return pw_error_set(err, -EINVAL,
				    "peers: not a vnet.create parameter (peer with vnet.peer)");
	r = vnet_parse(req->params, &spec, err);
	if (r < 0)
		return r;
	r = netd_vnet_create(netd, spec, &vnet, err);
	if (r < 0)
		return r;
	*ret_result = events_vnet_json(vnet);
	return 0;
}

static int vnet_delete(struct rpc_request *req, void *userdata, json_t **ret_result,
		       struct pw_error *err)
{
	const char *name;
	int force = 0, r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s:s, s?:b}", "name",
			    &name, "force", &force);
	if (r < 0)
		return r;
	r = name_validate_vnet(name, err);
	if (r < 0)
		return r;
	return netd_vnet_delete(userdata, name, force, err);
}

/* vnet.set: the settings that may change on a live VNet (host_access,
 * trust, trust_keys); the others define the VNet and need a delete and a
 * create. */
static int vnet_set(struct rpc_request *req, void *userdata, json_t **ret_result,
		    struct pw_error *err)
{
	struct vnet_settings settings = {0};
	const char *name, *host_access = NULL, *trust = NULL;
	struct vnet *vnet;
	int r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s:s, s?:s, s?:s, s?:s}",
			    "name", &name, "host_access", &host_access, "trust", &trust,
			    "trust_keys", &settings.trust_keys);
	if (r < 0)
		return r;
	r = name_validate_vnet(name, err);
	if (r < 0)
		return r;
	if (!host_access && !trust && !settings.trust_keys)
		return pw_error_set(err, -EINVAL,
				    "vnet.set: nothing to set (host_access, trust, trust_keys)");
	if (host_access) {
		if (vnet_host_access_parse(host_access, &settings.host_access) < 0)
			return pw_error_set(err, -EINVAL,
					    "host_access: '%.16s' is not one of none, dns, all",
					    host_access);
		settings.has_host_access = true;
	}
	if (trust) {
		if (trust_mode_parse(trust, &settings.trust) < 0)
			return pw_error_set(err, -EINVAL,
					    "trust: '%.16s' is not one of off, audit, enforce",
					    trust);
		settings.has_trust = true;
	}
	if (settings.trust_keys) {
		r = keyset_name_validate(settings.trust_keys, err);
		if (r < 0)
			return pw_error_wrap(err, r, "trust_keys");
	}
	r = netd_vnet_set(userdata, name, &settings, &vnet, err);
	if (r < 0)
		return r;
	*ret_result = events_vnet_json(vnet);
	return 0;
}

static int vnet_list(struct rpc_request *req, void *userdata, json_t **ret_result,
		     struct pw_error *err)
{
	struct netd *netd = userdata;
	json_t *vnets;
	int r;

	r = no_params(req, err);
	if (r < 0)
		return r;
	vnets = json_array();
	for (size_t i = 0; i < netd->vnet_count; i++)
		json_array_append_new(vnets, events_vnet_json(netd->vnets[i]));
	*ret_result = json_pack("{s:o}", "vnets", vnets);
	return 0;
}

static int vnet_show(struct rpc_request *req, void *userdata, json_t **ret_result,
		     struct pw_error *err)
{
	struct vnet *vnet;
	const char *name;
	int r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s:s}", "name", &name);
	if (r < 0)
		return r;
	r = name_validate_vnet(name, err);
	if (r < 0)
		return r;
	vnet = netd_vnet_find(userdata, name);
	if (!vnet)
		return pw_error_set(err, -ENOENT, "vnet '%s' not found", name);
	*ret_result = events_vnet_json(vnet);
	/* Self-healing: when netd last put its nftables tables back. */
	json_object_set_new(*ret_result, "nft_restored_at",
			    json_integer(((struct netd *)userdata)->nft_restored_at));
	return 0;
}

static int vnet_peering(struct rpc_request *req, void *userdata, struct pw_error *err, bool peer)
{
	const char *name, *other;
	int r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s:s, s:s}", "name", &name,
			    "peer", &other);
	if (r < 0)
		return r;
	if ((r = name_validate_vnet(name, err)) < 0 || (r = name_validate_vnet(other, err)) < 0)
		return r;
	if (peer)
		return netd_vnet_peer(userdata, name, other, err);
	return netd_vnet_unpeer(userdata, name, other, err);
}

static int vnet_peer(struct rpc_request *req, void *userdata, json_t **ret_result,
		     struct pw_error *err)
{
	(void)ret_result;
	return vnet_peering(req, userdata, err, true);
}

static int vnet_unpeer(struct rpc_request *req, void *userdata, json_t **ret_result,
		       struct pw_error *err)
{
	(void)ret_result;
	return vnet_peering(req, userdata, err, false);
}

static int stats(struct rpc_request *req, void *userdata, json_t **ret_result, struct pw_error *err)
{
	int r;

	r = no_params(req, err);
	if (r < 0)
		return r;
	return netd_stats(userdata, ret_result, err);
}

static int group_attach(struct rpc_request *req, void *userdata, json_t **ret_result,
			struct pw_error *err)
{
	struct group_request greq;
	struct pw_group *group;
	int r;

	struct netd *netd = userdata;
	uint64_t start = now_us();

	r = group_request_parse(req->params, &greq, err);
	if (r < 0)
		return r;
	r = netd_group_attach(netd, &greq, &group, err);
	if (r < 0)
		return r;
	latency_record(netd->attach_latency, now_us() - start);
	*ret_result = events_group_json(group);
	return 0;
}

static int group_detach(struct rpc_request *req, void *userdata, json_t **ret_result,
			struct pw_error *err)
{
	struct netd *netd = userdata;
	uint64_t start;
	const char *id;
	int r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s:s}", "id", &id);
	if (r < 0)
		return r;
	r = name_validate_group(id, err);
	if (r < 0)
		return r;
	start = now_us();
	r = netd_group_detach(netd, id, err);
	if (r < 0)
		return r;
	latency_record(netd->detach_latency, now_us() - start);
	return 0;
}

static int group_list(struct rpc_request *req, void *userdata, json_t **ret_result,
		      struct pw_error *err)
{
	struct netd *netd = userdata;
	_cleanup_free_ struct pw_group **sorted = NULL;
	const char *vnet = NULL;
	json_t *groups;
	size_t count;
	int r;

	/* "vnet" (optional) lists only the groups attached to that VNet. */
	r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s?:s}", "vnet", &vnet);
	if (r < 0)
		return r;
	if (vnet && !netd_vnet_find(netd, vnet))
		return pw_error_set(err, -ENOENT, "vnet '%s' not found", vnet);
	groups = json_array();
	sorted = group_table_sorted(&netd->groups, &count);
	for (size_t i = 0; i < count; i++) {
		bool on_vnet = !vnet;

		for (size_t j = 0; !on_vnet && j < sorted[i]->attachment_count; j++)
			on_vnet = streq(sorted[i]->attachments[j].vnet_name, vnet);
		if (on_vnet)
			json_array_append_new(groups, events_group_json(sorted[i]));
	}
	*ret_result = json_pack("{s:o}", "groups", groups);
	return 0;
}

static int group_show(struct rpc_request *req, void *userdata, json_t **ret_result,
		      struct pw_error *err)
{
	struct pw_group *group;
	const char *id;
	int r;

	r = json_unpack_err(req->params, err, req->method, JSON_STRICT, "{s:s}", "id", &id);
	if (r < 0)
		return r;
	r = name_validate_group(id, err);
	if (r < 0)
		return r;
	group = group_table_find(&((struct netd *)userdata)->groups, id);
	if (!group)
		return pw_error_set(err, -ENOENT, "group '%s' not found", id);
	*ret_result = events_group_json(group);
	return 0;
}

static int events_subscribe(struct rpc_request *req, void *userdata, json_t **ret_result,
			    struct pw_error *err)
{
	int r;

	r = no_params(req, err);
	if (r < 0)
		return r;
	*ret_result = events_snapshot(userdata);
	rpc_conn_subscribe(req->conn);
	return 0;
}

/* cluster.status: this host's registration and view (cluster.c); an
 * error on a netd started without --cluster-etcd. */
static int cluster_status(struct rpc_request *req, void *userdata, json_t **ret_result,
			  struct pw_error *err)
{
	struct netd *netd = userdata;
	int r;

	r = no_params(req, err);
	if (r < 0)
		return r;
	if (!netd->cluster)
		return pw_error_set(err, -ENOENT,
				    "not in a cluster (netd runs without --cluster-etcd)");
	*ret_result = cluster_status_json(netd->cluster);
	return 0;
}

const struct rpc_method netd_rpc_methods[] = {
    {"vnet.create", vnet_create, true},
    {"vnet.delete", vnet_delete, true},
    {"vnet.set", vnet_set, true},
    {"vnet.list", vnet_list, false},
    {"vnet.show", vnet_show, false},
    {"vnet.peer", vnet_peer, true},
    {"vnet.unpeer", vnet_unpeer, true},
    {"stats", stats, false},
    {"group.attach", group_attach, true},
    {"group.detach", group_detach, true},
    {"group.list", group_list, false},
    {"group.show", group_show, false},
    {"events.subscribe", events_subscribe, false},
    {"cluster.status", cluster_status, false},
    /* Content trust (netd/trust-keysets.c, netd/trust-ledger.c) */
    {"trust.keyset.add", trust_rpc_keyset_add, true},
    {"trust.keyset.remove", trust_rpc_keyset_remove, true},
    {"trust.keyset.list", trust_rpc_keyset_list, false},
    {"trust.keyset.show", trust_rpc_keyset_show, false},
    {"trust.report", trust_rpc_report, true},
    /* DNS records and zones (netd/dns-records.c) */
    {"dns.record.add", dns_rpc_record_add, true},
    {"dns.record.remove", dns_rpc_record_remove, true},
    {"dns.record.list", dns_rpc_record_list, false},
    {"dns.zone.create", dns_rpc_zone_create, true},
    {"dns.zone.delete", dns_rpc_zone_delete, true},
    {"dns.zone.list", dns_rpc_zone_list, false},
    {"dns.zone.link", dns_rpc_zone_link, true},
    {"dns.zone.unlink", dns_rpc_zone_unlink, true},
};
const size_t netd_rpc_method_count = ARRAY_SIZE(netd_rpc_methods);
