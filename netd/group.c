/* The group model: attach request parsing, state file rendering and
 * parsing, derived names, and the id -> group hash table (see group.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>

#include "group.h"
#include "json-util.h"
#include "params.h"
#include "xalloc.h"

/* Version of the group state file format. */
#define GROUP_STATE_VERSION	1
#define GROUP_TABLE_MIN_BUCKETS 64

static uint64_t fnv1a(uint64_t hash, const void *data, size_t size)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < size; i++) {
		hash ^= p[i];
		hash *= UINT64_C(0x100000001b3);
	}
	return hash;
}

static uint64_t pair_hash(uint64_t seed, const char *a, const char *b)
{
	uint64_t hash = fnv1a(UINT64_C(0xcbf29ce484222325) ^ seed, a, strlen(a) + 1);

	return fnv1a(hash, b, strlen(b) + 1);
}

void group_host_ifname(const char *group_id, const char *vnet_name, char ret[static IFNAMSIZ])
{
	/* 48 bits: a collision among a few thousand groups is ~1e-8 likely,
	 * and would be reported as an error rather than sharing a link. */
	uint64_t hash = pair_hash(0, group_id, vnet_name);

	snprintf(ret, IFNAMSIZ, HOST_IFNAME_PREFIX "%012" PRIx64, hash >> 16);
}

void group_default_mac(const struct ip_addr *ipv4, uint8_t ret[static ETHER_ADDR_LEN_BYTES])
{
	ret[0] = 0x02;
	ret[1] = 0x50;
	memcpy(ret + 2, ipv4->addr.bytes, 4);
}

int mac_parse(const char *s, uint8_t ret[static ETHER_ADDR_LEN_BYTES])
{
	unsigned b[ETHER_ADDR_LEN_BYTES];
	char tail;

	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < ETHER_ADDR_LEN_BYTES; i++)
		if (i > 0 && s[i * 3 - 1] != ':')
			return -EINVAL;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < ETHER_ADDR_LEN_BYTES; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) || !isxdigit((unsigned char)s[i * 3 + 1]))
			return -EINVAL;
		ret[i] = (uint8_t)b[i];
	}
	return 0;
}

const char *mac_format(const uint8_t mac[static ETHER_ADDR_LEN_BYTES], char buf[static 18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

static int parse_vnets(json_t *vnets, struct group_request *req, struct pw_error *err)
{
	size_t i;
	json_t *item;
	int r;

	if (!json_is_array(vnets) || json_array_size(vnets) == 0 ||
	    json_array_size(vnets) > GROUP_VNETS_MAX)
		return pw_error_set(err, -EINVAL, "vnets: expected an array of 1 to %d VNet names",
				    GROUP_VNETS_MAX);
	json_array_foreach(vnets, i, item)
	{
		const char *name = json_string_value(item);

		if (!name)
			return pw_error_set(err, -EINVAL, "vnets: expected strings");
		r = name_validate_vnet(name, err);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (streq(req->vnets[j], name))
				return pw_error_set(err, -EINVAL, "vnet '%s' given twice", name);
		req->vnets[i] = name;
		req->vnet_count = i + 1;
	}
	return 0;
}

static int parse_ips(json_t *ips, struct group_request *req, struct pw_error *err)
{
	const char *key;
	json_t *value;

	if (!ips)
		return 0;
	if (!json_is_object(ips))
		return pw_error_set(err, -EINVAL,
				    "ips: expected an object mapping VNet names to IPv4 addresses");
	json_object_foreach(ips, key, value)
	{
		const char *s = json_string_value(value);
		size_t i;

		for (i = 0; i < req->vnet_count; i++)
			if (streq(req->vnets[i], key))
				break;
		if (i == req->vnet_count)
			return pw_error_set(err, -EINVAL,
					    "ips: '%.64s' is not one of the group's vnets", key);
		if (!s || ip_addr_parse(s, AF_INET, &req->ips[i]) < 0)
			return pw_error_set(err, -EINVAL,
					    "ips: invalid IPv4 address '%.64s' for vnet '%s'",
					    s ? s : "(not a string)", key);
		req->has_ip[i] = true;
	}
	return 0;
}

static int parse_aliases(json_t *aliases, struct group_request *req, struct pw_error *err)
{
	size_t i;
	json_t *item;
	int r;

	if (!aliases)
		return 0;
	if (!json_is_array(aliases) || json_array_size(aliases) > GROUP_ALIASES_MAX)
		return pw_error_set(err, -EINVAL, "aliases: expected an array of at most %d names",
				    GROUP_ALIASES_MAX);
	json_array_foreach(aliases, i, item)
	{
		const char *name = json_string_value(item);

		if (!name)
			return pw_error_set(err, -EINVAL, "aliases: expected strings");
		r = name_validate_hostname(name, err);
		if (r < 0)
			return pw_error_wrap(err, r, "alias");
		req->aliases[i] = name;
		req->alias_count = i + 1;
	}
	return 0;
}

static int rate_one(json_t *value, const char *what, uint64_t *ret, struct pw_error *err)
{
	const char *text = json_string_value(value);

	if (!value)
		return 0;
	if (!text || bandwidth_parse_rate(text, ret) < 0)
		return pw_error_set(err, -EINVAL,
				    "%s: invalid rate '%.32s' (expected e.g. 100mbit, 10mbps, "
				    "from %d bit/s to %" PRIu64 " bit/s)",
				    what, text ? text : "(not a string)", BANDWIDTH_RATE_MIN_BPS,
				    (uint64_t)BANDWIDTH_RATE_MAX_BPS);
	if (*ret < BANDWIDTH_RATE_MIN_BPS || *ret > BANDWIDTH_RATE_MAX_BPS)
		return pw_error_set(
		    err, -EINVAL, "%s: rate '%.32s' is out of range (%d..%" PRIu64 " bit/s)", what,
		    text, BANDWIDTH_RATE_MIN_BPS, (uint64_t)BANDWIDTH_RATE_MAX_BPS);
	return 0;
}

int group_rate_parse(json_t *value, struct bandwidth_spec *ret, struct pw_error *err)
{
	struct bandwidth_spec rate = {0};
	json_t *ingress = NULL, *egress = NULL;
	int r;

	if (!value)
		return 0;
	if (json_is_string(value)) {
		r = rate_one(value, "rate", &rate.ingress_bps, err);
		if (r < 0)
			return r;
		rate.egress_bps = rate.ingress_bps;
	} else {
		r = json_unpack_err(value, err, "rate", JSON_STRICT, "{s?:o, s?:o}", "ingress",
				    &ingress, "egress", &egress);
		if (r < 0)
			return r;
		if ((r = rate_one(ingress, "rate.ingress", &rate.ingress_bps, err)) < 0 ||
		    (r = rate_one(egress, "rate.egress", &rate.egress_bps, err)) < 0)
			return r;
	}
	*ret = rate;
	return 0;
}

json_t *group_rate_json(const struct bandwidth_spec *rate)
{
	return json_pack("{s:I, s:I}", "ingress_bps", (json_int_t)rate->ingress_bps, "egress_bps",
			 (json_int_t)rate->egress_bps);
}

int group_request_parse(json_t *params, struct group_request *ret, struct pw_error *err)
{
	struct group_request req = {0};
	json_t *id = NULL, *netns = NULL, *vnets = NULL, *ips = NULL, *mac_json = NULL,
	       *hostname = NULL, *aliases = NULL, *ports = NULL, *rate = NULL, *trust = NULL;
	const char *mac = NULL;
	int r;

	r = json_unpack_err(params, err, "group", JSON_STRICT,
			    "{s:o, s:o, s:o, s?:o, s?:o, s?:o, s?:o, s?:o, s?:o, s?:o}", "id", &id,
			    "netns", &netns, "vnets", &vnets, "ips", &ips, "mac", &mac_json,
			    "hostname", &hostname, "aliases", &aliases, "ports", &ports, "rate",
			    &rate, "trust", &trust);
	if (r < 0)
		return r;
	if ((r = param_string(id, "id", &req.id, err)) < 0 ||
	    (r = param_string(netns, "netns", &req.netns, err)) < 0 ||
	    (r = param_string(mac_json, "mac", &mac, err)) < 0 ||
	    (r = param_string(hostname, "hostname", &req.hostname, err)) < 0)
		return r;
	r = name_validate_group(req.id, err);
	if (r < 0)
		return r;
	if (req.netns[0] != '/' || strlen(req.netns) >= GROUP_NETNS_PATH_MAX)
		return pw_error_set(
		    err, -EINVAL,
		    "netns: expected an absolute path (e.g. /run/netns/NAME) shorter "
		    "than %d bytes",
		    GROUP_NETNS_PATH_MAX);
	r = parse_vnets(vnets, &req, err);
	if (r < 0)
		return r;
	r = parse_ips(ips, &req, err);
	if (r < 0)
		return r;
	if (mac) {
		if (mac_parse(mac, req.mac) < 0)
			return pw_error_set(err, -EINVAL,
					    "invalid MAC '%.64s' (expected e.g. 02:00:00:00:00:01)",
					    mac);
		if (req.mac[0] & 1)
			return pw_error_set(err, -EINVAL, "MAC %s is a multicast address", mac);
		if (!(req.mac[0] | req.mac[1] | req.mac[2] | req.mac[3] | req.mac[4] | req.mac[5]))
			return pw_error_set(err, -EINVAL, "MAC %s is all zeros", mac);
		req.has_mac = true;
	}
	if (req.hostname) {
		r = name_validate_hostname(req.hostname, err);
		if (r < 0)
			return pw_error_wrap(err, r, "hostname");
	} else if (name_validate_hostname(req.id, NULL) == 0) {
		/* The id is the natural DNS name of a group when it is one. */
		req.hostname = req.id;
	}
	r = parse_aliases(aliases, &req, err);
	if (r < 0)
		return r;
	r = ports_parse(ports, req.ports, &req.port_count, err);
	if (r < 0)
		return r;
	r = group_rate_parse(rate, &req.rate, err);
	if (r < 0)
		return r;
	r = trust_verdict_parse(trust, &req.trust, err);
	if (r < 0)
		return r;
	*ret = req;
	return 0;
}

void group_free(struct pw_group *group)
{
	if (!group)
		return;
	free(group->id);
	free(group->netns);
	free(group->hostname);
	for (size_t i = 0; i < group->alias_count; i++)
		free(group->aliases[i]);
	free(group->aliases);
	free(group);
}

json_t *group_state_json(const struct pw_group *group)
{
	json_t *aliases = json_array(), *attachments = json_array(), *ports = json_array();
	char buf[INET6_ADDRSTRLEN], mac[18];

	for (size_t i = 0; i < group->alias_count; i++)
		json_array_append_new(aliases, json_string(group->aliases[i]));
	for (size_t i = 0; i < group->attachment_count; i++) {
		const struct attachment *a = &group->attachments[i];
		json_t *addresses = json_array();

		for (size_t j = 0; j < a->address_count; j++)
			json_array_append_new(addresses,
					      json_string(ip_addr_format(&a->addresses[j], buf)));
		json_array_append_new(
		    attachments, json_pack("{s:s, s:s, s:s, s:s, s:o}", "vnet", a->vnet_name,
					   "interface", a->ifname, "host_interface", a->host_ifname,
					   "mac", mac_format(a->mac, mac), "addresses", addresses));
	}
	for (size_t i = 0; i < group->port_count; i++) {
		char buf_port[PORT_SPEC_STRLEN];

		json_array_append_new(ports, json_string(port_format(&group->ports[i], buf_port)));
	}
	return json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:s?, s:o, s:o, s:o, s:o}", "version",
			 GROUP_STATE_VERSION, "state",
			 group->state == GROUP_ATTACHED ? "attached" : "attaching", "id", group->id,
			 "netns", group->netns, "netns_dev", (json_int_t)group->netns_dev,
			 "netns_ino", (json_int_t)group->netns_ino, "hostname", group->hostname,
			 "aliases", aliases, "attachments", attachments, "ports", ports, "rate",
			 group_rate_json(&group->rate));
}

static int parse_state_attachment(json_t *json, struct attachment *a, struct pw_error *err)
{
	const char *vnet, *ifname, *host_ifname, *mac;
	json_t *addresses, *item;
	size_t i;
	int r;

	r = json_unpack_err(json, err, "attachment", JSON_STRICT, "{s:s, s:s, s:s, s:s, s:o}",
			    "vnet", &vnet, "interface", &ifname, "host_interface", &host_ifname,
			    "mac", &mac, "addresses", &addresses);
	if (r < 0)
		return r;
	if (name_validate_vnet(vnet, err) < 0 || strlen(ifname) >= IFNAMSIZ ||
	    strlen(host_ifname) >= IFNAMSIZ || mac_parse(mac, a->mac) < 0 ||
	    !json_is_array(addresses) || json_array_size(addresses) == 0 ||
	    json_array_size(addresses) > VNET_SUBNETS_MAX)
		return pw_error_set(err, -EINVAL, "attachment: invalid values");
	snprintf(a->vnet_name, sizeof(a->vnet_name), "%s", vnet);
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	snprintf(a->host_ifname, sizeof(a->host_ifname), "%s", host_ifname);
	json_array_foreach(addresses, i, item)
	{
		const char *s = json_string_value(item);

		if (!s || ip_addr_parse(s, i == 0 ? AF_INET : AF_INET6, &a->addresses[i]) < 0)
			return pw_error_set(err, -EINVAL, "attachment: invalid address");
		a->address_count = i + 1;
	}
	return 0;
}

int group_state_parse(json_t *json, struct pw_group **ret_group, struct pw_error *err)
{
	_cleanup_group_ struct pw_group *group = NULL;
	const char *state, *id, *netns;
	json_int_t version, netns_dev, netns_ino;
	json_t *hostname, *aliases, *attachments, *item, *ports = NULL, *rate = NULL;
	json_int_t ingress = 0, egress = 0;
	size_t i;
	int r;

	/* "ports" and "rate" are absent in files of netd before issue 6. */
	r = json_unpack_err(json, err, "group state", JSON_STRICT,
			    "{s:I, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s?:o, s?:o}", "version",
			    &version, "state", &state, "id", &id, "netns", &netns, "netns_dev",
			    &netns_dev, "netns_ino", &netns_ino, "hostname", &hostname, "aliases",
			    &aliases, "attachments", &attachments, "ports", &ports, "rate", &rate);
	if (r < 0)
		return r;
	if (version != GROUP_STATE_VERSION)
		return pw_error_set(err, -EINVAL, "group state: unknown version %lld",
				    (long long)version);
	r = name_validate_group(id, err);
	if (r < 0)
		return r;
	if (!json_is_null(hostname) && !json_is_string(hostname))
		return pw_error_set(err, -EINVAL, "group state: invalid hostname");
	if (!json_is_null(hostname) && !json_is_string(hostname))
		return pw_error_set(err, -EINVAL, "group state: invalid hostname");
	if (!json_is_array(aliases) || json_array_size(aliases) > GROUP_ALIASES_MAX ||
	    !json_is_array(attachments) || json_array_size(attachments) == 0 ||
	    json_array_size(attachments) > GROUP_VNETS_MAX)
		return pw_error_set(err, -EINVAL, "group state: invalid aliases or attachments");

	group = xcalloc(1, sizeof(*group));
	group->id = xstrdup(id);
	group->netns = xstrdup(netns);
	group->netns_dev = (uint64_t)netns_dev;
	group->netns_ino = (uint64_t)netns_ino;
	group->hostname = json_is_string(hostname) ? xstrdup(json_string_value(hostname)) : NULL;
	if (streq(state, "attached"))
		group->state = GROUP_ATTACHED;
	else if (streq(state, "attaching"))
		group->state = GROUP_ATTACHING;
	else
		return pw_error_set(err, -EINVAL, "group state: unknown state '%.32s'", state);
	group->aliases = xcalloc(json_array_size(aliases) + 1, sizeof(char *));
	json_array_foreach(aliases, i, item)
	{
		if (!json_is_string(item))
			return pw_error_set(err, -EINVAL, "group state: invalid alias");
		group->aliases[i] = xstrdup(json_string_value(item));
		group->alias_count = i + 1;
	}
	json_array_foreach(attachments, i, item)
	{
		r = parse_state_attachment(item, &group->attachments[i], err);
		if (r < 0)
			return r;
		group->attachment_count = i + 1;
	}
	if (ports && (!json_is_array(ports) || json_array_size(ports) > GROUP_PORTS_MAX))
		return pw_error_set(err, -EINVAL, "group state: invalid ports");
	json_array_foreach(ports, i, item)
	{
		if (!json_is_string(item))
			return pw_error_set(err, -EINVAL, "group state: invalid port");
		r = port_parse_string(json_string_value(item), &group->ports[i], err);
		if (r < 0)
			return pw_error_wrap(err, r, "group state");
		group->port_count = i + 1;
	}
	if (rate) {
		r = json_unpack_err(rate, err, "group state rate", JSON_STRICT, "{s:I, s:I}",
				    "ingress_bps", &ingress, "egress_bps", &egress);
		if (r < 0)
			return r;
		if (ingress < 0 || egress < 0)
			return pw_error_set(err, -EINVAL, "group state: invalid rate");
		group->rate.ingress_bps = (uint64_t)ingress;
		group->rate.egress_bps = (uint64_t)egress;
	}
	*ret_group = TAKE_PTR(group);
	return 0;
}

static size_t id_bucket(const struct group_table *table, const char *id)
{
	return fnv1a(UINT64_C(0xcbf29ce484222325), id, strlen(id)) % table->bucket_count;
}

static size_t host_bucket(const struct group_table *table, const char *host_ifname)
{
	return fnv1a(UINT64_C(0xcbf29ce484222325), host_ifname, strlen(host_ifname)) %
	       table->bucket_count;
}

void group_table_init(struct group_table *table)
{
	*table = (struct group_table){
	    .buckets = xcalloc(GROUP_TABLE_MIN_BUCKETS, sizeof(struct pw_group *)),
	    .host_buckets = xcalloc(GROUP_TABLE_MIN_BUCKETS, sizeof(struct attachment *)),
	    .bucket_count = GROUP_TABLE_MIN_BUCKETS,
	};
}

void group_table_done(struct group_table *table)
{
	for (size_t b = 0; b < table->bucket_count; b++) {
		struct pw_group *g = table->buckets[b];

		while (g) {
			struct pw_group *next = g->hash_next;

			group_free(g);
			g = next;
		}
	}
	free(table->buckets);
	free(table->host_buckets);
	free(table->port_users[0]);
	free(table->port_users[1]);
	*table = (struct group_table){0};
}

struct pw_group *group_table_find(const struct group_table *table, const char *id)
{
	for (struct pw_group *g = table->buckets[id_bucket(table, id)]; g; g = g->hash_next)
		if (streq(g->id, id))
			return g;
	return NULL;
}

struct pw_group *group_table_find_host(const struct group_table *table, const char *host_ifname,
				       size_t *ret_index)
{
	for (struct attachment *a = table->host_buckets[host_bucket(table, host_ifname)]; a;
	     a = a->host_next)
		if (streq(a->host_ifname, host_ifname)) {
			*ret_index = (size_t)(a - a->owner->attachments);
			return a->owner;
		}
	return NULL;
}

static void link_group(struct group_table *table, struct pw_group *group)
{
	size_t b = id_bucket(table, group->id);

	group->hash_next = table->buckets[b];
	table->buckets[b] = group;
	for (size_t i = 0; i < group->attachment_count; i++) {
		struct attachment *a = &group->attachments[i];

		b = host_bucket(table, a->host_ifname);
		a->owner = group;
		a->host_next = table->host_buckets[b];
		table->host_buckets[b] = a;
	}
}

/* Moves every group to bucket_count buckets (growing or shrinking). */
static void table_rehash(struct group_table *table, size_t bucket_count)
{
	struct pw_group **old = table->buckets;
	size_t old_count = table->bucket_count;

	free(table->host_buckets);
	table->bucket_count = bucket_count;
	table->buckets = xcalloc(bucket_count, sizeof(struct pw_group *));
	table->host_buckets = xcalloc(bucket_count, sizeof(struct attachment *));
	for (size_t b = 0; b < old_count; b++) {
		struct pw_group *g = old[b];

		while (g) {
			struct pw_group *next = g->hash_next;

			link_group(table, g);
			g = next;
		}
	}
	free(old);
}

static unsigned proto_slot(uint8_t proto)
{
	return proto == IPPROTO_UDP;
}

/* Adds delta to the users of every host port the group publishes; ports
 * of a group do not change while it is in the table. The counts of a
 * protocol nobody publishes any more go (256 KiB, mostly untouched, but
 * it pins the heap below it after a mass detach). */
static void count_ports(struct group_table *table, const struct pw_group *group, int delta)
{
	for (size_t i = 0; i < group->port_count; i++) {
		const struct nft_port_spec *p = &group->ports[i];
		unsigned slot = proto_slot(p->proto);
		uint32_t **users = &table->port_users[slot];

		if (!*users)
			*users = xcalloc(UINT16_MAX + 1, sizeof(**users));
		for (unsigned port = p->host_port; port <= p->host_port_last; port++)
			(*users)[port] += (uint32_t)delta;
		table->published[slot] += (size_t)delta;
		if (table->published[slot] == 0) {
			free(*users);
			*users = NULL;
		}
	}
}

bool group_table_port_used(const struct group_table *table, const struct nft_port_spec *spec)
{
	const uint32_t *users = table->port_users[proto_slot(spec->proto)];

	if (!users)
		return false;
	for (unsigned port = spec->host_port; port <= spec->host_port_last; port++)
		if (users[port])
			return true;
	return false;
}

void group_table_add(struct group_table *table, struct pw_group *group)
{
	/* Keep chains short; doubling makes growth O(1) amortised. */
	if (table->count + 1 > table->bucket_count)
		table_rehash(table, table->bucket_count * 2);
	link_group(table, group);
	table->count++;
	count_ports(table, group, 1);
}

static void unlink_host(struct group_table *table, struct attachment *a)
{
	struct attachment **pp = &table->host_buckets[host_bucket(table, a->host_ifname)];

	for (; *pp; pp = &(*pp)->host_next)
		if (*pp == a) {
			*pp = a->host_next;
			break;
		}
	a->host_next = NULL;
	a->owner = NULL;
}

void group_table_remove(struct group_table *table, struct pw_group *group)
{
	struct pw_group **pp = &table->buckets[id_bucket(table, group->id)];

	for (; *pp; pp = &(*pp)->hash_next)
		if (*pp == group) {
			*pp = group->hash_next;
			group->hash_next = NULL;
			for (size_t i = 0; i < group->attachment_count; i++)
				unlink_host(table, &group->attachments[i]);
			table->count--;
			count_ports(table, group, -1);
			/* Halving at a quarter (not at half) keeps a group
			 * coming and going at the boundary from rehashing
			 * every time. */
			if (table->bucket_count > GROUP_TABLE_MIN_BUCKETS &&
			    table->count <= table->bucket_count / 4)
				table_rehash(table, table->bucket_count / 2);
			return;
		}
}

static int group_cmp(const void *a, const void *b)
{
	return strcmp((*(struct pw_group *const *)a)->id, (*(struct pw_group *const *)b)->id);
}

struct pw_group **group_table_sorted(const struct group_table *table, size_t *ret_count)
{
	struct pw_group **all = xcalloc(table->count + 1, sizeof(struct pw_group *));
	size_t n = 0;

	for (size_t b = 0; b < table->bucket_count; b++)
		for (struct pw_group *g = table->buckets[b]; g; g = g->hash_next)
			all[n++] = g;
	qsort(all, n, sizeof(*all), group_cmp);
	*ret_count = n;
	return all;
}
