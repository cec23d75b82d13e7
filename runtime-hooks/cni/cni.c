/* CNI request parsing and error objects (see cni.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cni.h"
#include "json-util.h"
#include "xalloc.h"

static const char *const supported_versions[] = {CNI_SUPPORTED_VERSIONS};

bool cni_version_supported(const char *version)
{
	for (size_t i = 0; i < ARRAY_SIZE(supported_versions); i++)
		if (streq(version, supported_versions[i]))
			return true;
	return false;
}

json_t *cni_version_json(void)
{
	json_t *versions = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(supported_versions); i++)
		json_array_append_new(versions, json_string(supported_versions[i]));
	return json_pack("{s:s, s:o}", "cniVersion", CNI_VERSION_LATEST, "supportedVersions",
			 versions);
}

int cni_error_set(struct cni_error *ce, enum cni_code code, int r, const char *fmt, ...)
{
	va_list ap;

	ce->code = code;
	ce->err.errnum = -r;
	va_start(ap, fmt);
	vsnprintf(ce->err.message, sizeof(ce->err.message), fmt, ap);
	va_end(ap);
	return r;
}

json_t *cni_error_json(const struct cni_error *ce, const char *version)
{
	json_t *o =
	    json_pack("{s:s, s:i, s:s}", "cniVersion",
		      version && cni_version_supported(version) ? version : CNI_VERSION_LATEST,
		      "code", (int)ce->code, "msg", pw_error_message(&ce->err));

	if (ce->details[0])
		json_object_set_new(o, "details", json_string(ce->details));
	return o;
}

int cni_command_parse(const char *name, enum cni_command *ret)
{
	static const struct {
		const char *name;
		enum cni_command command;
	} commands[] = {
	    {"ADD", CNI_ADD},	      {"DEL", CNI_DEL},	      {"CHECK", CNI_CHECK},
	    {"VERSION", CNI_VERSION}, {"STATUS", CNI_STATUS}, {"GC", CNI_GC},
	};

	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (streq(name, commands[i].name)) {
			*ret = commands[i].command;
			return 0;
		}
	return -EINVAL;
}

static int set_ip(struct cni_request *req, const char *text, const char *where,
		  struct cni_error *ce)
{
	struct ip_addr addr;
	struct ip_prefix prefix;
	char buf[IP_PREFIX_STRLEN];
	char *slash;

	if (strlen(text) >= sizeof(buf))
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL, "%s: bad address", where);
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash ? ip_addr_prefix_parse(buf, &addr, &prefix) < 0
		  : ip_addr_parse(buf, AF_UNSPEC, &addr) < 0)
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "%s: '%.60s' is not an IP address", where, text);
	if (addr.family != AF_INET)
		return cni_error_set(ce, CNI_ERR_UNSUPPORTED_FIELD, -EINVAL,
				     "%s: %s: only a static IPv4 address can be asked for", where,
				     text);
	if (req->has_ip && !ip_addr_equal(&req->ip, &addr))
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "%s: a second, different static address %s", where, text);
	req->ip = addr;
	req->has_ip = true;
	return 0;
}

static int set_mac(struct cni_request *req, const char *mac, const char *where,
		   struct cni_error *ce)
{
	struct pw_error err = {0};

	if (hook_validate_mac(mac, &err) < 0)
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL, "%s: %s", where,
				     err.message);
	strcpy(req->mac, mac);
	return 0;
}

/* The ips/mac members of runtimeConfig or args.cni. */
static int parse_static(struct cni_request *req, json_t *obj, const char *where,
			struct cni_error *ce)
{
	json_t *ips, *mac, *ip;
	size_t i;
	int r;

	if (!obj)
		return 0;
	if (!json_is_object(obj))
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL, "%s: expected an object",
				     where);
	ips = json_object_get(obj, "ips");
	if (ips && !json_is_array(ips))
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "%s.ips: expected an array", where);
	json_array_foreach(ips, i, ip)
	{
		if (!json_is_string(ip))
			return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
					     "%s.ips: expected strings", where);
		r = set_ip(req, json_string_value(ip), where, ce);
		if (r < 0)
			return r;
	}
	mac = json_object_get(obj, "mac");
	if (mac) {
		if (!json_is_string(mac))
			return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
					     "%s.mac: expected a string", where);
		r = set_mac(req, json_string_value(mac), where, ce);
		if (r < 0)
			return r;
	}
	return 0;
}

/* CNI_ARGS: "K1=V1;K2=V2". IP, MAC and K8S_POD_NAME are used; IgnoreUnknown
 * is honoured by ignoring every other key anyway. */
static int parse_cni_args(struct cni_request *req, const char *args, struct cni_error *ce)
{
	_cleanup_free_ char *copy = NULL;
	char *item, *save = NULL;
	int r;

	if (strempty(args))
		return 0;
	if (strlen(args) > 4096)
		return cni_error_set(ce, CNI_ERR_INVALID_ENV, -E2BIG, "CNI_ARGS is too long");
	copy = xstrdup(args);
	for (item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(item, '=');

		if (!eq)
			return cni_error_set(ce, CNI_ERR_INVALID_ENV, -EINVAL,
					     "CNI_ARGS: '%.60s' is not KEY=VALUE", item);
		*eq = '\0';
		if (streq(item, "IP")) {
			r = set_ip(req, eq + 1, "CNI_ARGS IP", ce);
			if (r < 0)
				return r;
		} else if (streq(item, "MAC")) {
			r = set_mac(req, eq + 1, "CNI_ARGS MAC", ce);
			if (r < 0)
				return r;
		} else if (streq(item, "K8S_POD_NAME")) {
			/* A name dnsd can serve: a DNS label, else none. */
			if (name_validate_hostname(eq + 1, NULL) >= 0)
				strcpy(req->hostname, eq + 1);
		}
	}
	return 0;
}

static int parse_valid_attachments(struct cni_request *req, json_t *list, struct cni_error *ce)
{
	json_t *item;
	size_t i;

	if (!json_is_array(list) || json_array_size(list) > CNI_VALID_ATTACHMENTS_MAX)
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "cni.dev/valid-attachments: expected an array of at most %d",
				     CNI_VALID_ATTACHMENTS_MAX);
	req->valid = xcalloc(json_array_size(list) + 1, sizeof(*req->valid));
	req->has_valid = true;
	json_array_foreach(list, i, item)
	{
		const char *id, *ifname;

		if (json_unpack(item, "{s:s, s:s}", "containerID", &id, "ifname", &ifname) < 0 ||
		    strlen(id) > GROUP_ID_MAX || strlen(ifname) >= sizeof(req->valid[0].ifname))
			return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
					     "cni.dev/valid-attachments[%zu]: expected "
					     "{containerID, ifname}",
					     i);
		strcpy(req->valid[req->valid_count].container_id, id);
		strcpy(req->valid[req->valid_count].ifname, ifname);
		req->valid_count++;
	}
	return 0;
}

static int parse_prev_result(struct cni_request *req, json_t *prev, struct cni_error *ce)
{
	json_t *ips, *ip;
	size_t i;

	if (!prev)
		return 0;
	ips = json_object_get(prev, "ips");
	json_array_foreach(ips, i, ip)
	{
		json_t *address = json_object_get(ip, "address");

		if (req->prev_ip_count >= HOOK_VNETS_MAX)
			break;
		if (!json_is_string(address) || json_string_length(address) >= IP_PREFIX_STRLEN)
			return cni_error_set(ce, CNI_ERR_DECODE, -EINVAL,
					     "prevResult.ips[%zu].address: expected a string", i);
		strcpy(req->prev_ips[req->prev_ip_count++], json_string_value(address));
	}
	return 0;
}

static int copy_env(char *dst, size_t size, const char *value, const char *name,
		    struct cni_error *ce)
{
	if (strempty(value))
		return cni_error_set(ce, CNI_ERR_INVALID_ENV, -EINVAL, "%s is not set", name);
	if (strlen(value) >= size)
		return cni_error_set(ce, CNI_ERR_INVALID_ENV, -EINVAL, "%s is too long", name);
	strcpy(dst, value);
	return 0;
}

/* runtimeConfig.portMappings (the portMappings capability):
 * [{"hostPort":8080,"containerPort":80,"protocol":"tcp","hostIP":""}]
 * into netd's "ports"; netd checks the numbers and conflicts. */
static int parse_port_mappings(struct cni_request *req, json_t *mappings, struct cni_error *ce)
{
	json_auto_t *ports = json_array();
	json_t *m;
	size_t i;

	if (!mappings || json_array_size(mappings) == 0)
		return 0;
	if (!json_is_array(mappings))
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "runtimeConfig.portMappings: expected an array");
	json_array_foreach(mappings, i, m)
	{
		json_t *host_port = json_object_get(m, "hostPort");
		json_t *port = json_object_get(m, "containerPort");
		const char *proto = json_string_value(json_object_get(m, "protocol"));
		const char *host_ip = json_string_value(json_object_get(m, "hostIP"));
		char proto_lower[4] = "tcp";
		json_t *p;

		if (!json_is_integer(host_port) || !json_is_integer(port))
			return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
					     "runtimeConfig.portMappings[%zu]: hostPort and "
					     "containerPort must be integers",
					     i);
		if (proto && (strcasecmp(proto, "tcp") == 0 || strcasecmp(proto, "udp") == 0))
			snprintf(proto_lower, sizeof(proto_lower), "%s",
				 strcasecmp(proto, "tcp") == 0 ? "tcp" : "udp");
		else if (proto && proto[0])
			return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
					     "runtimeConfig.portMappings[%zu]: protocol '%.16s' is "
					     "not tcp or udp",
					     i, proto);
		p = json_pack("{s:O, s:O, s:s}", "host_port", host_port, "port", port, "proto",
			      proto_lower);
		if (host_ip && host_ip[0])
			json_object_set_new(p, "host_ip", json_string(host_ip));
		json_array_append_new(ports, p);
	}
	req->ports = json_incref(ports);
	return 0;
}

int cni_request_parse(const struct cni_env *env, const char *stdin_text, size_t len,
		      struct cni_request *ret, struct cni_error *ce)
{
	json_auto_t *conf = NULL;
	json_t *runtime_config = NULL, *args = NULL, *prev = NULL, *valid = NULL, *ports;
	const char *version = NULL, *name = NULL, *type = NULL, *vnet = NULL, *run_dir = NULL;
	struct pw_error err = {0};
	json_error_t jerr;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (cni_command_parse(env->command, &ret->command) < 0)
		return cni_error_set(ce, CNI_ERR_INVALID_ENV, -EINVAL,
				     "CNI_COMMAND '%.40s' is not ADD, DEL, CHECK, VERSION, "
				     "STATUS or GC",
				     env->command ? env->command : "");
	if (len > CNI_STDIN_MAX)
		return cni_error_set(ce, CNI_ERR_DECODE, -E2BIG,
				     "configuration larger than %d bytes", CNI_STDIN_MAX);
	conf = json_loadb(stdin_text, len, 0, &jerr);
	if (!conf || !json_is_object(conf))
		return cni_error_set(ce, CNI_ERR_DECODE, -EBADMSG,
				     "network configuration is not a JSON object: %s",
				     conf ? "" : jerr.text);
	if (json_unpack_ex(conf, &jerr, 0, "{s:s}", "cniVersion", &version) < 0)
		return cni_error_set(ce, CNI_ERR_DECODE, -EINVAL, "cniVersion: %s", jerr.text);
	if (strlen(version) >= sizeof(ret->version))
		return cni_error_set(ce, CNI_ERR_INCOMPATIBLE_VERSION, -EINVAL, "bad cniVersion");
	strcpy(ret->version, version);
	if (ret->command == CNI_VERSION)
		return 0;
	if (!cni_version_supported(version))
		return cni_error_set(ce, CNI_ERR_INCOMPATIBLE_VERSION, -EOPNOTSUPP,
				     "cniVersion %.20s is not supported (supported: %s)", version,
				     "1.0.0, 1.1.0");

	if (json_unpack_ex(conf, &jerr, 0, "{s:s, s:s, s?:s, s?:s, s?:o, s?:o, s?:o, s?:o}", "name",
			   &name, "type", &type, "vnet", &vnet, "runDir", &run_dir, "runtimeConfig",
			   &runtime_config, "args", &args, "prevResult", &prev,
			   "cni.dev/valid-attachments", &valid) < 0)
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "network configuration: %s", jerr.text);
	if (name_validate_group(name, &err) < 0)
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL, "name: %s", err.message);
	strcpy(ret->network, name);
	if (!vnet)
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "network '%s': the podwire plugin needs \"vnet\"", name);
	if (name_validate_vnet(vnet, &err) < 0)
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL, "vnet: %s", err.message);
	strcpy(ret->vnet, vnet);
	if (!run_dir)
		run_dir = env->run_dir_default;
	if (run_dir[0] != '/' || strlen(run_dir) >= sizeof(ret->run_dir))
		return cni_error_set(ce, CNI_ERR_INVALID_CONFIG, -EINVAL,
				     "runDir: expected an absolute path");
	strcpy(ret->run_dir, run_dir);

	if (ret->command == CNI_STATUS)
		return 0;
	if (ret->command == CNI_GC) {
		if (valid)
			return parse_valid_attachments(ret, valid, ce);
		return 0;
	}

	/* ADD, DEL, CHECK. */
	r = copy_env(ret->container_id, sizeof(ret->container_id), env->container_id,
		     "CNI_CONTAINERID", ce);
	if (r < 0)
		return r;
	if (name_validate_group(ret->container_id, &err) < 0)
		return cni_error_set(ce, CNI_ERR_INVALID_ENV, -EINVAL, "CNI_CONTAINERID: %s",
				     err.message);
	r = copy_env(ret->ifname, sizeof(ret->ifname), env->ifname, "CNI_IFNAME", ce);
	if (r < 0)
		return r;
	/* DEL may come after the netns is gone, with CNI_NETNS empty. */
	if (ret->command != CNI_DEL || !strempty(env->netns)) {
		r = copy_env(ret->netns, sizeof(ret->netns), env->netns, "CNI_NETNS", ce);
		if (r < 0)
			return r;
	}
	if (ret->command == CNI_ADD) {
		/* netd names the group end of the first VNet eth0. */
		if (!streq(ret->ifname, "eth0"))
			return cni_error_set(ce, CNI_ERR_INVALID_ENV, -EINVAL,
					     "CNI_IFNAME %s: podwire names the interface eth0 "
					     "(one podwire network per container)",
					     ret->ifname);
		r = parse_static(ret, runtime_config, "runtimeConfig", ce);
		if (r < 0)
			return r;
		r = parse_static(ret, json_object_get(args, "cni"), "args.cni", ce);
		if (r < 0)
			return r;
		r = parse_cni_args(ret, env->args, ce);
		if (r < 0)
			return r;
		ports = json_object_get(runtime_config, "portMappings");
		r = parse_port_mappings(ret, ports, ce);
		if (r < 0)
			return r;
	}
	if (ret->command == CNI_CHECK)
		return parse_prev_result(ret, prev, ce);
	return 0;
}

void cni_request_done(struct cni_request *req)
{
	free(req->valid);
	req->valid = NULL;
	json_decref(req->ports);
	req->ports = NULL;
}
