/* Annotation parsing (see annotations.h). Lists are comma-separated with
 * optional blanks around each item; every item is checked for form here so
 * the daemons only ever see well-formed requests. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "annotations.h"

/* The longest list value we split: 64 ports of "65535:65535/tcp" fit in
 * 1 KiB; 32 volumes with long destinations need more. */
#define LIST_VALUE_MAX (HOOK_VOLUMES_MAX * (HOOK_VOLUME_DEST_MAX / 4))

typedef int (*item_cb)(const char *item, size_t index, void *userdata, struct pw_error *err);

/* Calls cb for each comma-separated, blank-trimmed item of value. An empty
 * value has no items; an empty item ("a,,b") is an error. */
static int list_foreach(const char *value, item_cb cb, void *userdata, struct pw_error *err)
{
	char buf[LIST_VALUE_MAX];
	char *item, *save = NULL;
	size_t index = 0, len;
	int r;

	len = strlen(value);
	if (len >= sizeof(buf))
		return pw_error_set(err, -E2BIG, "value is longer than %zu bytes", sizeof(buf) - 1);
	memcpy(buf, value, len + 1);

	/* Blank-only value = empty list. */
	if (strspn(buf, " \t") == len)
		return 0;
	if (buf[len - 1] == ',' || buf[strspn(buf, " \t")] == ',' || strstr(buf, ",,"))
		return pw_error_set(err, -EINVAL, "empty item in list '%.80s'", value);

	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *end;

		item += strspn(item, " \t");
		end = item + strlen(item);
		while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*item)
			return pw_error_set(err, -EINVAL, "empty item in list '%.80s'", value);
		r = cb(item, index++, userdata, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int copy_str(char *dst, size_t size, const char *src, const char *what, struct pw_error *err)
{
	size_t len = strlen(src);

	if (len >= size)
		return pw_error_set(err, -EINVAL, "%s '%.40s...' is longer than %zu characters",
				    what, src, size - 1);
	memcpy(dst, src, len + 1);
	return 0;
}

static int vnet_item(const char *item, size_t index, void *userdata, struct pw_error *err)
{
	struct hook_spec *spec = userdata;
	int r;

	if (index >= HOOK_VNETS_MAX)
		return pw_error_set(err, -E2BIG, "more than %d VNets", HOOK_VNETS_MAX);
	r = name_validate_vnet(item, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < spec->vnet_count; i++)
		if (streq(spec->vnets[i], item))
			return pw_error_set(err, -EINVAL, "VNet '%s' given twice", item);
	strcpy(spec->vnets[spec->vnet_count++], item);
	return 0;
}

/* "ADDR" (for the VNet at the same position) or "VNET=ADDR". */
static int ip_item(const char *item, size_t index, void *userdata, struct pw_error *err)
{
	struct hook_spec *spec = userdata;
	struct hook_ip *ip;
	const char *eq = strchr(item, '=');
	const char *addr = item;
	int r;

	if (index >= HOOK_VNETS_MAX)
		return pw_error_set(err, -E2BIG, "more than %d addresses", HOOK_VNETS_MAX);
	ip = &spec->ips[spec->ip_count];
	if (eq) {
		size_t len = (size_t)(eq - item);

		if (len == 0 || len > VNET_NAME_MAX)
			return pw_error_set(err, -EINVAL, "'%.80s': expected VNET=ADDRESS", item);
		memcpy(ip->vnet, item, len);
		ip->vnet[len] = '\0';
		r = name_validate_vnet(ip->vnet, err);
		if (r < 0)
			return r;
		addr = eq + 1;
	} else {
		ip->vnet[0] = '\0';
	}
	if (ip_addr_parse(addr, AF_INET, &ip->addr) < 0)
		return pw_error_set(err, -EINVAL, "'%.80s' is not an IPv4 address", addr);
	/* Remember the position for bare addresses; resolved against the VNet
	 * list once both annotations are read. */
	if (!eq)
		snprintf(ip->vnet, sizeof(ip->vnet), "#%zu", index);
	spec->ip_count++;
	return 0;
}

static int alias_item(const char *item, size_t index, void *userdata, struct pw_error *err)
{
	struct hook_spec *spec = userdata;
	int r;

	if (index >= HOOK_ALIASES_MAX)
		return pw_error_set(err, -E2BIG, "more than %d aliases", HOOK_ALIASES_MAX);
	r = name_validate_hostname(item, err);
	if (r < 0)
		return r;
	strcpy(spec->aliases[spec->alias_count++], item);
	return 0;
}

static int parse_port_number(const char *s, size_t len, uint16_t *ret)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -ERANGE;
	*ret = (uint16_t)v;
	return 0;
}

struct port_list {
	struct hook_port *ports;
	size_t count;
};

/* "HOST:CONTAINER[/tcp|/udp]". */
static int port_item(const char *item, size_t index, void *userdata, struct pw_error *err)
{
	struct port_list *list = userdata;
	struct hook_port port = {0};
	const char *colon = strchr(item, ':');
	const char *slash = strchr(item, '/');
	const char *cport;
	size_t cport_len;

	if (index >= HOOK_PORTS_MAX)
		return pw_error_set(err, -E2BIG, "more than %d published ports", HOOK_PORTS_MAX);
	if (!colon || (slash && slash < colon))
		return pw_error_set(err, -EINVAL,
				    "'%.80s': expected HOST_PORT:CONTAINER_PORT[/tcp|/udp]", item);
	if (parse_port_number(item, (size_t)(colon - item), &port.host_port) < 0)
		return pw_error_set(err, -EINVAL, "'%.80s': host port must be 1..65535", item);
	cport = colon + 1;
	cport_len = slash ? (size_t)(slash - cport) : strlen(cport);
	if (parse_port_number(cport, cport_len, &port.container_port) < 0)
		return pw_error_set(err, -EINVAL, "'%.80s': container port must be 1..65535", item);
	if (!slash || streq(slash, "/tcp"))
		strcpy(port.protocol, "tcp");
	else if (streq(slash, "/udp"))
		strcpy(port.protocol, "udp");
	else
		return pw_error_set(err, -EINVAL, "'%.80s': protocol must be tcp or udp", item);
	for (size_t i = 0; i < list->count; i++)
		if (list->ports[i].host_port == port.host_port &&
		    streq(list->ports[i].protocol, port.protocol))
			return pw_error_set(err, -EINVAL, "host port %u/%s published twice",
					    port.host_port, port.protocol);
	list->ports[list->count++] = port;
	return 0;
}

int hook_parse_ports(const char *value, struct hook_port *ports, size_t *ret_count,
		     struct pw_error *err)
{
	struct port_list list = {.ports = ports};
	int r;

	r = list_foreach(value, port_item, &list, err);
	if (r < 0)
		return r;
	*ret_count = list.count;
	return 0;
}

int hook_validate_dest(const char *dest, struct pw_error *err)
{
	const char *p;
	size_t len = strlen(dest);

	if (dest[0] != '/')
		return pw_error_set(err, -EINVAL, "destination '%.80s' is not an absolute path",
				    dest);
	if (len >= HOOK_VOLUME_DEST_MAX)
		return pw_error_set(err, -EINVAL, "destination '%.40s...' is longer than %d bytes",
				    dest, HOOK_VOLUME_DEST_MAX - 1);
	if (len == 1)
		return pw_error_set(err, -EINVAL, "destination may not be '/'");
	if (dest[len - 1] == '/')
		return pw_error_set(err, -EINVAL, "destination '%.80s' ends with '/'", dest);
	for (p = dest; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return pw_error_set(
			    err, -EINVAL, "destination '%.80s' contains a control character", dest);
	/* Walk the components: each starts after a '/'. */
	for (p = dest; p && *p; p = strchr(p + 1, '/')) {
		const char *c = p + 1;
		size_t clen = strcspn(c, "/");

		if (clen == 0 || (clen == 1 && c[0] == '.') ||
		    (clen == 2 && c[0] == '.' && c[1] == '.'))
			return pw_error_set(err, -EINVAL,
					    "destination '%.80s' is not normalised (empty, '.' or "
					    "'..' component)",
					    dest);
	}
	return 0;
}

struct volume_list {
	struct hook_volume *volumes;
	size_t count;
};

/* "SHARE:/DEST[:ro|:rw]". */
static int volume_item(const char *item, size_t index, void *userdata, struct pw_error *err)
{
	struct volume_list *list = userdata;
	struct hook_volume *vol;
	const char *colon = strchr(item, ':');
	const char *dest, *mode;
	size_t share_len, dest_len;
	int r;

	if (index >= HOOK_VOLUMES_MAX)
		return pw_error_set(err, -E2BIG, "more than %d volumes", HOOK_VOLUMES_MAX);
	if (!colon)
		return pw_error_set(err, -EINVAL, "'%.80s': expected SHARE:/DEST[:ro]", item);
	vol = &list->volumes[list->count];
	share_len = (size_t)(colon - item);
	if (share_len == 0 || share_len > SHARE_NAME_MAX)
		return pw_error_set(err, -EINVAL, "'%.80s': bad share name", item);
	memcpy(vol->share, item, share_len);
	vol->share[share_len] = '\0';
	r = name_validate_share(vol->share, err);
	if (r < 0)
		return r;

	dest = colon + 1;
	mode = strchr(dest, ':');
	dest_len = mode ? (size_t)(mode - dest) : strlen(dest);
	if (dest_len >= sizeof(vol->dest))
		return pw_error_set(err, -EINVAL, "'%.40s...': destination too long", item);
	memcpy(vol->dest, dest, dest_len);
	vol->dest[dest_len] = '\0';
	r = hook_validate_dest(vol->dest, err);
	if (r < 0)
		return r;

	vol->read_only = false;
	if (mode) {
		if (streq(mode, ":ro"))
			vol->read_only = true;
		else if (!streq(mode, ":rw"))
			return pw_error_set(err, -EINVAL, "'%.80s': mode must be ro or rw", item);
	}
	for (size_t i = 0; i < list->count; i++)
		if (streq(list->volumes[i].dest, vol->dest))
			return pw_error_set(err, -EINVAL, "two volumes mounted at %s", vol->dest);
	list->count++;
	return 0;
}

int hook_parse_volumes(const char *value, struct hook_volume *volumes, size_t *ret_count,
		       struct pw_error *err)
{
	struct volume_list list = {.volumes = volumes};
	int r;

	r = list_foreach(value, volume_item, &list, err);
	if (r < 0)
		return r;
	*ret_count = list.count;
	return 0;
}

int hook_validate_mac(const char *mac, struct pw_error *err)
{
	unsigned bytes[6];
	int consumed = 0;
	bool zero = true;

	if (strlen(mac) != MAC_STRLEN - 1 ||
	    sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%n", &bytes[0], &bytes[1], &bytes[2], &bytes[3],
		   &bytes[4], &bytes[5], &consumed) != 6 ||
	    consumed != MAC_STRLEN - 1)
		return pw_error_set(err, -EINVAL,
				    "'%.40s' is not a MAC address (02:00:00:00:00:01)", mac);
	for (int i = 0; i < (int)MAC_STRLEN - 1; i++)
		if ((i % 3 == 2) ? mac[i] != ':' : !isxdigit((unsigned char)mac[i]))
			return pw_error_set(
			    err, -EINVAL, "'%.40s' is not a MAC address (02:00:00:00:00:01)", mac);
	if (bytes[0] & 1)
		return pw_error_set(err, -EINVAL, "MAC %s is a multicast address", mac);
	for (int i = 0; i < 6; i++)
		zero = zero && bytes[i] == 0;
	if (zero)
		return pw_error_set(err, -EINVAL, "MAC %s is all zeros", mac);
	return 0;
}

static int nameserver_item(const char *item, size_t index, void *userdata, struct pw_error *err)
{
	struct dns_spec *dns = userdata;

	if (index >= RESOLV_NAMESERVERS_MAX)
		return pw_error_set(err, -E2BIG,
				    "more than %d name servers (resolvers read only the first %d)",
				    RESOLV_NAMESERVERS_MAX, RESOLV_NAMESERVERS_MAX);
	if (ip_addr_parse(item, AF_UNSPEC, &dns->nameservers[dns->nameserver_count]) < 0)
		return pw_error_set(err, -EINVAL, "'%.80s' is not an IP address", item);
	dns->nameserver_count++;
	return 0;
}

static int search_item(const char *item, size_t index, void *userdata, struct pw_error *err)
{
	struct dns_spec *dns = userdata;
	int r;

	if (index >= RESOLV_SEARCHES_MAX)
		return pw_error_set(err, -E2BIG, "more than %d search domains",
				    RESOLV_SEARCHES_MAX);
	r = name_validate_domain(item, err);
	if (r < 0)
		return r;
	return copy_str(dns->searches[dns->search_count++], sizeof(dns->searches[0]), item,
			"search domain", err);
}

/* An option is a resolv.conf token: letters, digits and "-_.:" only, so
 * nothing can add a line or another keyword to the file. */
static int option_item(const char *item, size_t index, void *userdata, struct pw_error *err)
{
	struct dns_spec *dns = userdata;

	if (index >= RESOLV_OPTIONS_MAX)
		return pw_error_set(err, -E2BIG, "more than %d options", RESOLV_OPTIONS_MAX);
	for (const char *p = item; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.:", *p))
			return pw_error_set(err, -EINVAL,
					    "option '%.40s' may contain only letters, digits and "
					    "'-_.:' (e.g. ndots:2)",
					    item);
	return copy_str(dns->options[dns->option_count++], sizeof(dns->options[0]), item, "option",
			err);
}

struct annotation {
	const char *key; /* after "podwire." */
	int (*parse)(const char *value, struct hook_spec *spec, struct pw_error *err);
};

static int parse_group(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	int r = name_validate_group(value, err);

	if (r < 0)
		return r;
	return copy_str(spec->group, sizeof(spec->group), value, "group", err);
}

static int parse_vnet(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	return list_foreach(value, vnet_item, spec, err);
}

static int parse_ip(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	return list_foreach(value, ip_item, spec, err);
}

static int parse_mac(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	int r = hook_validate_mac(value, err);

	if (r < 0)
		return r;
	strcpy(spec->mac, value);
	return 0;
}

static int parse_hostname(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	int r = name_validate_hostname(value, err);

	if (r < 0)
		return r;
	strcpy(spec->hostname, value);
	return 0;
}

static int parse_aliases(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	return list_foreach(value, alias_item, spec, err);
}

static int parse_ports(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	return hook_parse_ports(value, spec->ports, &spec->port_count, err);
}

static int parse_nameservers(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	spec->dns.has_nameservers = true;
	return list_foreach(value, nameserver_item, &spec->dns, err);
}

static int parse_searches(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	spec->dns.has_searches = true;
	return list_foreach(value, search_item, &spec->dns, err);
}

static int parse_options(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	/* Options are separated by blanks or commas (ACI's dnsConfig.options
	 * is one space-separated string). */
	char buf[RESOLV_OPTIONS_MAX * (RESOLV_OPTION_MAX + 2)];
	char *item, *save = NULL;
	size_t index = 0;
	int r;

	if (strlen(value) >= sizeof(buf))
		return pw_error_set(err, -E2BIG, "value is longer than %zu bytes", sizeof(buf) - 1);
	strcpy(buf, value);
	spec->dns.has_options = true;
	for (item = strtok_r(buf, " \t,", &save); item; item = strtok_r(NULL, " \t,", &save)) {
		r = option_item(item, index++, &spec->dns, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_volumes(const char *value, struct hook_spec *spec, struct pw_error *err)
{
	return hook_parse_volumes(value, spec->volumes, &spec->volume_count, err);
}

static const struct annotation annotations_known[] = {
    {"group", parse_group},
    {"vnet", parse_vnet},
    {"ip", parse_ip},
    {"mac", parse_mac},
    {"hostname", parse_hostname},
    {"aliases", parse_aliases},
    {"ports", parse_ports},
    {"dns.nameservers", parse_nameservers},
    {"dns.searches", parse_searches},
    {"dns.options", parse_options},
    {"volumes", parse_volumes},
};

/* Binds bare addresses ("#N") to the VNet at position N and checks named
 * ones refer to a requested VNet. */
static int resolve_ips(struct hook_spec *spec, struct pw_error *err)
{
	if (spec->ip_count > 0 && spec->vnet_count == 0)
		return pw_error_set(err, -EINVAL, "annotation podwire.ip: no podwire.vnet given");
	for (size_t i = 0; i < spec->ip_count; i++) {
		struct hook_ip *ip = &spec->ips[i];
		bool found = false;

		if (ip->vnet[0] == '#') {
			size_t pos = strtoul(ip->vnet + 1, NULL, 10);

			if (pos >= spec->vnet_count)
				return pw_error_set(err, -EINVAL,
						    "annotation podwire.ip: address %zu has no "
						    "VNet at that position in podwire.vnet",
						    pos + 1);
			strcpy(ip->vnet, spec->vnets[pos]);
		}
		for (size_t v = 0; v < spec->vnet_count; v++)
			found = found || streq(spec->vnets[v], ip->vnet);
		if (!found)
			return pw_error_set(
			    err, -EINVAL, "annotation podwire.ip: VNet '%s' is not in podwire.vnet",
			    ip->vnet);
		for (size_t j = 0; j < i; j++)
			if (streq(spec->ips[j].vnet, ip->vnet))
				return pw_error_set(err, -EINVAL,
						    "annotation podwire.ip: two addresses for VNet "
						    "'%s'",
						    ip->vnet);
	}
	return 0;
}

int hook_spec_parse(json_t *annotations, const char *container_id, struct hook_spec *ret,
		    struct pw_error *err)
{
	const char *key;
	json_t *value;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (annotations && !json_is_object(annotations))
		return pw_error_set(err, -EINVAL, "annotations: expected an object");

	json_object_foreach(annotations, key, value)
	{
		const struct annotation *a = NULL;

		if (strncmp(key, ANNOTATION_PREFIX, strlen(ANNOTATION_PREFIX)) != 0)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(annotations_known); i++)
			if (streq(key + strlen(ANNOTATION_PREFIX), annotations_known[i].key))
				a = &annotations_known[i];
		if (!a)
			return pw_error_set(err, -EINVAL, "unknown annotation %.80s", key);
		if (!json_is_string(value))
			return pw_error_set(err, -EINVAL, "annotation %s: expected a string", key);
		r = a->parse(json_string_value(value), ret, err);
		if (r < 0)
			return pw_error_wrap(err, r, "annotation %s", key);
	}

	if (!ret->group[0]) {
		r = name_validate_group(container_id, err);
		if (r < 0)
			return pw_error_wrap(
			    err, r, "container id cannot be a group id; set podwire.group");
		strcpy(ret->group, container_id);
	}
	r = resolve_ips(ret, err);
	if (r < 0)
		return r;
	if (ret->vnet_count == 0 &&
	    (ret->mac[0] || ret->hostname[0] || ret->alias_count || ret->port_count))
		return pw_error_set(err, -EINVAL,
				    "annotations podwire.mac, .hostname, .aliases and .ports need "
				    "podwire.vnet");
	return 0;
}

bool hook_spec_wants_network(const struct hook_spec *spec)
{
	return spec->vnet_count > 0;
}
