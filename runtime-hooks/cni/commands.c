/* CNI operations (see commands.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "commands.h"
#include "rpc-client.h"
#include "state-file.h"
#include "xalloc.h"

/* A plugin call runs inside a runtime's create/delete; 10 s per netd call
 * fails before runtimes give up on the plugin. */
#define CNI_RPC_TIMEOUT_MS 10000

struct ctx {
	const struct cni_request *req;
	struct rpc_client *netd;
	int dir_fd; /* RUN_DIR/cni/NETWORK */
	int lock_fd;
};

/* Maps a netd/transport failure to a CNI code. */
static int netd_fail(struct cni_error *ce, int r, const struct pw_error *err, const char *what)
{
	enum cni_code code = CNI_ERR_NETD;

	if (r == -ECONNREFUSED || r == -ETIMEDOUT || r == -EAGAIN || r == -ECONNRESET)
		code = CNI_ERR_TRY_AGAIN;
	else if (r == -EINVAL || r == -ENOENT) /* a bad request, or an unknown VNet */
		code = CNI_ERR_INVALID_CONFIG;
	/* A refusal by policy (content trust: "VNet 'X' admits only signed
	 * images ...", or a caller who may not change netd) is one complete
	 * line already: the runtime shows it as netd wrote it. */
	if (r == -EPERM || r == -EACCES)
		return cni_error_set(ce, code, r, "%s", pw_error_message(err));
	return cni_error_set(ce, code, r, "%s: %s", what, pw_error_message(err));
}

static int ctx_open(struct ctx *c, const struct cni_request *req, struct cni_error *ce)
{
	_cleanup_free_ char *root = xasprintf("%s/cni", req->run_dir);
	_cleanup_free_ char *dir = xasprintf("%s/%s", root, req->network);
	int root_fd, r;

	c->req = req;
	c->dir_fd = c->lock_fd = -EBADF;
	r = state_dir_open(dir, &c->dir_fd);
	if (r < 0)
		return cni_error_set(ce, CNI_ERR_IO, r, "cannot create %s: %s", dir, strerror(-r));
	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return cni_error_set(ce, CNI_ERR_IO, -errno, "%s: %m", root);
	c->lock_fd = openat(root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	close(root_fd);
	if (c->lock_fd < 0)
		return cni_error_set(ce, CNI_ERR_IO, -errno, "%s/lock: %m", root);
	while (flock(c->lock_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return cni_error_set(ce, CNI_ERR_IO, -errno, "%s/lock: %m", root);
	return 0;
}

static void ctx_close(struct ctx *c)
{
	if (c->netd)
		rpc_client_free(c->netd);
	if (c->dir_fd >= 0)
		close(c->dir_fd);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
}

static int netd_call(struct ctx *c, const char *method, json_t *params, json_t **ret,
		     const char *what, struct cni_error *ce)
{
	struct pw_error err = {0};
	int r;

	if (!c->netd) {
		_cleanup_free_ char *path = xasprintf("%s/netd.sock", c->req->run_dir);

		r = rpc_client_connect(path, CNI_RPC_TIMEOUT_MS, &c->netd, &err);
		if (r < 0) {
			if (r == -ENOENT)
				r = -ECONNREFUSED;
			return netd_fail(ce, r, &err, "cannot reach podwire-netd");
		}
	}
	r = rpc_client_call(c->netd, method, params, ret, &err);
	if (r < 0)
		return netd_fail(ce, r, &err, what);
	return 0;
}

static char *record_name(const char *container_id)
{
	return xasprintf("%s.json", container_id);
}

static int record_write(struct ctx *c, struct cni_error *ce)
{
	_cleanup_free_ char *name = record_name(c->req->container_id);
	json_auto_t *rec =
	    json_pack("{s:s, s:s, s:s, s:s}", "containerID", c->req->container_id, "ifname",
		      c->req->ifname, "netns", c->req->netns, "vnet", c->req->vnet);
	int r = state_write_json(c->dir_fd, name, rec);

	if (r < 0)
		return cni_error_set(ce, CNI_ERR_IO, r, "write record: %s", strerror(-r));
	return 0;
}

static bool record_exists(struct ctx *c, const char *container_id)
{
	_cleanup_free_ char *name = record_name(container_id);

	return faccessat(c->dir_fd, name, F_OK, 0) == 0;
}

/* Prefix length of addr within the VNet's subnets (vnet.show). */
static unsigned prefix_len_of(json_t *vnet, const struct ip_addr *addr)
{
	json_t *subnet;
	size_t i;

	json_array_foreach(json_object_get(vnet, "subnets"), i, subnet)
	{
		struct ip_prefix p;

		if (json_is_string(subnet) &&
		    ip_prefix_parse(json_string_value(subnet), AF_UNSPEC, &p) >= 0 &&
		    ip_prefix_contains(&p, addr))
			return p.prefixlen;
	}
	return addr->family == AF_INET ? 32 : 128;
}

/* The CNI 1.0 result from netd's group and vnet objects. */
static json_t *build_result(const struct cni_request *req, json_t *group, json_t *vnet)
{
	json_t *interfaces = json_array(), *ips = json_array(), *routes = json_array();
	json_t *attachment = NULL, *a, *address, *gateways, *dns_servers = json_array();
	json_t *search = json_array();
	const char *domain = json_string_value(json_object_get(vnet, "domain"));
	const char *bridge = json_string_value(json_object_get(vnet, "bridge"));
	size_t i;

	json_array_foreach(json_object_get(group, "attachments"), i,
			   a) if (json_is_string(json_object_get(a, "vnet")) &&
				  streq(json_string_value(json_object_get(a, "vnet")), req->vnet))
	    attachment = a;

	if (bridge)
		json_array_append_new(interfaces, json_pack("{s:s}", "name", bridge));
	json_array_append_new(
	    interfaces,
	    json_pack("{s:s}", "name",
		      json_string_value(json_object_get(attachment, "host_interface")) ?: "?"));
	json_array_append_new(
	    interfaces,
	    json_pack("{s:s, s:s, s:s}", "name",
		      json_string_value(json_object_get(attachment, "interface")) ?: req->ifname,
		      "mac", json_string_value(json_object_get(attachment, "mac")) ?: "", "sandbox",
		      req->netns));
	gateways = json_object_get(vnet, "gateways");
	json_array_foreach(json_object_get(attachment, "addresses"), i, address)
	{
		struct ip_addr addr, gw;
		char buf[IP_PREFIX_STRLEN + 8];
		const char *gw_text = NULL;
		json_t *g;
		size_t j;

		if (!json_is_string(address) ||
		    ip_addr_parse(json_string_value(address), AF_UNSPEC, &addr) < 0)
			continue;
		json_array_foreach(gateways, j,
				   g) if (json_is_string(g) && ip_addr_parse(json_string_value(g),
									     addr.family, &gw) >= 0)
		    gw_text = gw_text ?: json_string_value(g);
		snprintf(buf, sizeof(buf), "%s/%u", json_string_value(address),
			 prefix_len_of(vnet, &addr));
		/* interface: index into interfaces (the container's eth0). */
		json_array_append_new(
		    ips, gw_text ? json_pack("{s:s, s:s, s:i}", "address", buf, "gateway", gw_text,
					     "interface", (int)json_array_size(interfaces) - 1)
				 : json_pack("{s:s, s:i}", "address", buf, "interface",
					     (int)json_array_size(interfaces) - 1));
		if (gw_text)
			json_array_append_new(
			    routes, json_pack("{s:s, s:s}", "dst",
					      addr.family == AF_INET ? "0.0.0.0/0" : "::/0", "gw",
					      gw_text));
		if (gw_text && addr.family == AF_INET)
			json_array_append_new(dns_servers, json_string(gw_text));
	}
	if (domain && *domain)
		json_array_append_new(search, json_string(domain));
	return json_pack("{s:s, s:o, s:o, s:o, s:{s:o, s:s?, s:o}}", "cniVersion", req->version,
			 "interfaces", interfaces, "ips", ips, "routes", routes, "dns",
			 "nameservers", dns_servers, "domain", domain && *domain ? domain : NULL,
			 "search", search);
}

static int cmd_add(struct ctx *c, json_t **ret_result, struct cni_error *ce)
{
	const struct cni_request *req = c->req;
	json_auto_t *params = NULL, *result = NULL, *group = NULL, *vnet = NULL;
	json_auto_t *show = json_pack("{s:s}", "id", req->container_id);
	json_auto_t *vnet_params = json_pack("{s:s}", "name", req->vnet);
	int r;

	params = json_pack("{s:s, s:s, s:[s]}", "id", req->container_id, "netns", req->netns,
			   "vnets", req->vnet);
	if (req->has_ip) {
		char buf[INET6_ADDRSTRLEN];

		json_object_set_new(params, "ips",
				    json_pack("{s:s}", req->vnet, ip_addr_format(&req->ip, buf)));
	}
	if (req->mac[0])
		json_object_set_new(params, "mac", json_string(req->mac));
	if (req->hostname[0])
		json_object_set_new(params, "hostname", json_string(req->hostname));
	if (req->ports)
		json_object_set(params, "ports", req->ports);

	r = record_write(c, ce);
	if (r < 0)
		return r;
	r = netd_call(c, "group.attach", params, &result, "attach", ce);
	if (r < 0) {
		/* Nothing attached: forget the record again. */
		_cleanup_free_ char *name = record_name(req->container_id);

		(void)state_remove(c->dir_fd, name);
		return r;
	}
	r = netd_call(c, "group.show", show, &group, "group.show", ce);
	if (r < 0)
		return r;
	r = netd_call(c, "vnet.show", vnet_params, &vnet, "vnet.show", ce);
	if (r < 0)
		return r;
	*ret_result = build_result(req, group, vnet);
	return 0;
}

static int detach(struct ctx *c, const char *container_id, struct cni_error *ce)
{
	_cleanup_free_ char *name = record_name(container_id);
	json_auto_t *params = json_pack("{s:s}", "id", container_id);
	json_auto_t *result = NULL;
	int r;

	r = netd_call(c, "group.detach", params, &result, "detach", ce);
	if (r < 0)
		return r;
	r = state_remove(c->dir_fd, name);
	if (r < 0)
		return cni_error_set(ce, CNI_ERR_IO, r, "remove record: %s", strerror(-r));
	return 0;
}

static int cmd_del(struct ctx *c, struct cni_error *ce)
{
	/* Not ours (never added, or deleted already): success, netd untouched. */
	if (!record_exists(c, c->req->container_id))
		return 0;
	return detach(c, c->req->container_id, ce);
}

static int cmd_check(struct ctx *c, struct cni_error *ce)
{
	const struct cni_request *req = c->req;
	json_auto_t *show = json_pack("{s:s}", "id", req->container_id);
	json_auto_t *vnet_params = json_pack("{s:s}", "name", req->vnet);
	json_auto_t *group = NULL, *vnet = NULL, *expected = NULL;
	json_t *ips;
	int r;

	if (!record_exists(c, req->container_id))
		return cni_error_set(ce, CNI_ERR_UNKNOWN_CONTAINER, -ENOENT,
				     "container %s has no podwire attachment on network %s",
				     req->container_id, req->network);
	if (access(req->netns, F_OK) < 0)
		return cni_error_set(ce, CNI_ERR_UNKNOWN_CONTAINER, -ENOENT, "netns %s: %m",
				     req->netns);
	r = netd_call(c, "group.show", show, &group, "group.show", ce);
	if (r < 0) {
		if (ce->err.errnum == ENOENT)
			ce->code = CNI_ERR_UNKNOWN_CONTAINER;
		return r;
	}
	r = netd_call(c, "vnet.show", vnet_params, &vnet, "vnet.show", ce);
	if (r < 0)
		return r;
	expected = build_result(req, group, vnet);
	ips = json_object_get(expected, "ips");
	if (json_array_size(ips) == 0)
		return cni_error_set(ce, CNI_ERR_NETD, -ENOENT,
				     "group %s is not attached to vnet %s", req->container_id,
				     req->vnet);
	for (size_t i = 0; i < req->prev_ip_count; i++) {
		json_t *ip;
		size_t j;
		bool found = false;

		json_array_foreach(ips, j, ip) found =
		    found ||
		    streq(json_string_value(json_object_get(ip, "address")), req->prev_ips[i]);
		if (!found)
			return cni_error_set(ce, CNI_ERR_NETD, -EINVAL,
					     "prevResult address %s is not the group's",
					     req->prev_ips[i]);
	}
	return 0;
}

struct gc_ctx {
	struct ctx *c;
	struct cni_error *ce;
	int first;
};

static int gc_one(int dir_fd, const char *name, void *userdata)
{
	struct gc_ctx *gc = userdata;
	const struct cni_request *req = gc->c->req;
	_cleanup_free_ char *id = xstrndup(name, strlen(name) - strlen(".json"));
	int r;

	for (size_t i = 0; i < req->valid_count; i++)
		if (streq(req->valid[i].container_id, id))
			return 0;
	r = detach(gc->c, id, gc->ce);
	if (r < 0 && !gc->first)
		gc->first = r;
	return 0;
}

static int cmd_gc(struct ctx *c, struct cni_error *ce)
{
	struct gc_ctx gc = {.c = c, .ce = ce};
	int r;

	/* Without the list we cannot know what is stale: release nothing. */
	if (!c->req->has_valid)
		return 0;
	r = state_foreach(c->dir_fd, ".json", gc_one, &gc);
	if (r < 0)
		return cni_error_set(ce, CNI_ERR_IO, r, "read records: %s", strerror(-r));
	return gc.first;
}

static int cmd_status(struct ctx *c, struct cni_error *ce)
{
	json_auto_t *params = json_pack("{s:s}", "name", c->req->vnet);
	json_auto_t *vnet = NULL;
	int r;

	r = netd_call(c, "vnet.show", params, &vnet, "vnet.show", ce);
	if (r < 0) {
		/* Not reachable, or the VNet does not exist: adds would fail. */
		ce->code = CNI_ERR_NOT_AVAILABLE;
		return r;
	}
	return 0;
}

int cni_run(const struct cni_request *req, json_t **ret_result, struct cni_error *ce)
{
	struct ctx c = {0};
	int r;

	*ret_result = NULL;
	if (req->command == CNI_VERSION) {
		*ret_result = cni_version_json();
		return 0;
	}
	r = ctx_open(&c, req, ce);
	if (r >= 0) {
		switch (req->command) {
		case CNI_ADD:
			r = cmd_add(&c, ret_result, ce);
			break;
		case CNI_DEL:
			r = cmd_del(&c, ce);
			break;
		case CNI_CHECK:
			r = cmd_check(&c, ce);
			break;
		case CNI_GC:
			r = cmd_gc(&c, ce);
			break;
		case CNI_STATUS:
			r = cmd_status(&c, ce);
			break;
		case CNI_VERSION:
			break;
		}
	}
	ctx_close(&c);
	return r;
}
