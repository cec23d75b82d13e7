/* The VNet model: strict parsing of vnet.create params and of the state
 * file, validation, and rendering back (see vnet.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "macro.h"
#include "params.h"
#include "vnet.h"
#include "xalloc.h"

void vnet_free(struct vnet *vnet)
{
	if (!vnet)
		return;
	ipam_done(&vnet->ipam);
	free(vnet->domain);
	free(vnet);
}

bool vnet_has_ipv6(const struct vnet *vnet)
{
	for (size_t i = 0; i < vnet->subnet_count; i++)
		if (vnet->subnets[i].family == AF_INET6)
			return true;
	return false;
}

int vnet_set_mtu(struct vnet *vnet, unsigned mtu, struct pw_error *err)
{
	unsigned min = vnet_has_ipv6(vnet) ? VNET_MTU_MIN_IPV6 : VNET_MTU_MIN;

	if (mtu < min || mtu > VNET_MTU_MAX)
		return pw_error_set(err, -EINVAL, "MTU %u out of range (%u..%u%s)", mtu, min,
				    VNET_MTU_MAX, min == VNET_MTU_MIN_IPV6 ? " with IPv6" : "");
	vnet->mtu = mtu;
	return 0;
}

/* Address ranges whose addresses the kernel and every host give a meaning
 * of their own (RFC 6890): a bridge with a gateway in one would, for
 * example, put 127.0.0.1 on it, and dnsd would then bind port 53 of the
 * host's loopback. */
static const struct reserved_range {
	int family;
	uint8_t addr[16];
	unsigned prefixlen;
	const char *text;
} reserved_ranges[] = {
    {AF_INET, {0}, 8, "0.0.0.0/8 (\"this network\")"},
    {AF_INET, {127}, 8, "127.0.0.0/8 (loopback)"},
    {AF_INET, {169, 254}, 16, "169.254.0.0/16 (link-local)"},
    {AF_INET, {224}, 4, "224.0.0.0/4 (multicast)"},
    {AF_INET, {240}, 4, "240.0.0.0/4 (reserved, with the broadcast address)"},
    {AF_INET6, {[15] = 1}, 128, "::1/128 (loopback)"},
    {AF_INET6, {0}, 128, "::/128 (the unspecified address)"},
    {AF_INET6, {[10] = 0xff, [11] = 0xff}, 96, "::ffff:0:0/96 (IPv4-mapped)"},
    {AF_INET6, {0xfe, 0x80}, 10, "fe80::/10 (link-local)"},
    {AF_INET6, {0xff}, 8, "ff00::/8 (multicast)"},
};

static int check_reserved_ranges(const struct ip_prefix *subnet, struct pw_error *err)
{
	char buf[IP_PREFIX_STRLEN];

	for (size_t i = 0; i < ARRAY_SIZE(reserved_ranges); i++) {
		const struct reserved_range *range = &reserved_ranges[i];
		struct ip_prefix p = {.family = range->family, .prefixlen = range->prefixlen};

		memcpy(p.addr.bytes, range->addr, sizeof(p.addr.bytes));
		if (ip_prefix_overlaps(subnet, &p))
			return pw_error_set(err, -EINVAL,
					    "subnet %s overlaps %s, which cannot be a VNet subnet",
					    ip_prefix_format(subnet, buf), range->text);
	}
	return 0;
}

int vnet_subnet_check_reserved(const struct ip_prefix *subnet, struct pw_error *err)
{
	char buf[IP_PREFIX_STRLEN];
	int r;

	r = check_reserved_ranges(subnet, err);
	if (r < 0)
		return r;
	if (subnet->family == AF_INET6 && subnet->prefixlen < VNET_IPV6_PREFIXLEN_MIN)
		return pw_error_set(err, -EINVAL,
				    "subnet %s: IPv6 prefix length must be /%d to /%d (at most a "
				    "site's /48)",
				    ip_prefix_format(subnet, buf), VNET_IPV6_PREFIXLEN_MIN,
				    VNET_IPV6_PREFIXLEN_MAX);
	return 0;
}

const char *vnet_host_access_name(enum nft_host_access access)
{
	switch (access) {
	case NFT_HOST_ACCESS_NONE:
		return "none";
	case NFT_HOST_ACCESS_ALL:
		return "all";
	default:
		return "dns";
	}
}

int vnet_host_access_parse(const char *text, enum nft_host_access *ret)
{
	static const enum nft_host_access all[] = {NFT_HOST_ACCESS_NONE, NFT_HOST_ACCESS_DNS,
						   NFT_HOST_ACCESS_ALL};

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (streq(text, vnet_host_access_name(all[i]))) {
			*ret = all[i];
			return 0;
		}
	return -EINVAL;
}

int vnet_trust_check(enum trust_mode mode, const char *keys, struct pw_error *err)
{
	int r;

	if (mode == TRUST_OFF) {
		if (!strempty(keys))
			return pw_error_set(err, -EINVAL,
					    "trust_keys: only with trust audit or enforce");
		return 0;
	}
	if (strempty(keys))
		return pw_error_set(err, -EINVAL,
				    "trust_keys: required with trust %s (the keyset images must "
				    "be signed with)",
				    trust_mode_name(mode));
	r = keyset_name_validate(keys, err);
	if (r < 0)
		return pw_error_wrap(err, r, "trust_keys");
	return 0;
}

static int parse_subnets(struct vnet *vnet, json_t *subnets, bool stored, struct pw_error *err)
{
	struct ip_prefix v4 = {0}, v6 = {0};
	bool have_v4 = false, have_v6 = false;
	size_t i;
	json_t *item;
	int r;

	if (!json_is_array(subnets) || json_array_size(subnets) == 0 ||
	    json_array_size(subnets) > VNET_SUBNETS_MAX)
		return pw_error_set(
		    err, -EINVAL,
		    "subnets: expected an array of one IPv4 and optionally one IPv6 "
		    "subnet");
	json_array_foreach(subnets, i, item)
	{
		const char *s = json_string_value(item);
		struct ip_prefix p;

		if (!s)
			return pw_error_set(err, -EINVAL, "subnets: expected strings");
		if (ip_prefix_parse(s, AF_UNSPEC, &p) < 0) {
			struct ip_addr a;
			struct ip_prefix net;
			char buf[IP_PREFIX_STRLEN];

			if (ip_addr_prefix_parse(s, &a, &net) == 0)
				return pw_error_set(
				    err, -EINVAL,
				    "subnet '%s' has host bits set (did you mean %s?)", s,
				    ip_prefix_format(&net, buf));
			return pw_error_set(
			    err, -EINVAL, "invalid subnet '%.64s' (expected e.g. 10.1.0.0/24)", s);
		}
		/* The /48 rule came after VNets with wider IPv6 subnets could be
		 * made: such a stored VNet keeps working (dropping it would delete
		 * its bridge under running groups); one in a reserved range cannot
		 * be served safely and is skipped. */
		r = stored ? check_reserved_ranges(&p, err) : vnet_subnet_check_reserved(&p, err);
		if (r < 0)
			return r;
		if (p.family == AF_INET) {
			if (have_v4)
				return pw_error_set(err, -EINVAL, "only one IPv4 subnet per VNet");
			v4 = p;
			have_v4 = true;
		} else {
			if (have_v6)
				return pw_error_set(err, -EINVAL, "only one IPv6 subnet per VNet");
			v6 = p;
			have_v6 = true;
		}
	}
	if (!have_v4)
		return pw_error_set(err, -EINVAL, "an IPv4 subnet is required");
	if (v4.prefixlen < VNET_IPV4_PREFIXLEN_MIN || v4.prefixlen > VNET_IPV4_PREFIXLEN_MAX) {
		char buf[IP_PREFIX_STRLEN];

		return pw_error_set(
		    err, -EINVAL, "subnet %s: IPv4 prefix length must be /%d to /%d",
		    ip_prefix_format(&v4, buf), VNET_IPV4_PREFIXLEN_MIN, VNET_IPV4_PREFIXLEN_MAX);
	}
	vnet->subnets[0] = v4;
	vnet->subnet_count = 1;
	if (have_v6) {
		char buf[IP_PREFIX_STRLEN];

		/* Every IPv4 host index must exist in the IPv6 subnet too. */
		if (128 - v6.prefixlen < 32 - v4.prefixlen)
			return pw_error_set(err, -EINVAL,
					    "subnet %s: the IPv6 subnet must hold at least as many "
					    "addresses as the IPv4 one (/%u or shorter)",
					    ip_prefix_format(&v6, buf), 96 + v4.prefixlen);
		vnet->subnets[1] = v6;
		vnet->subnet_count = 2;
	}
	return 0;
}

static int parse_gateway(struct vnet *vnet, const char *gateway, struct pw_error *err)
{
	struct ip_addr gw;
	uint64_t index = 1;
	char buf[IP_PREFIX_STRLEN];
	int r;

	if (gateway) {
		if (ip_addr_parse(gateway, AF_INET, &gw) < 0)
			return pw_error_set(
			    err, -EINVAL,
			    "invalid gateway '%.64s' (expected an IPv4 address; the "
			    "IPv6 gateway takes the same host index)",
			    gateway);
		if (ip_prefix_index_of(&vnet->subnets[0], &gw, &index) < 0)
			return pw_error_set(err, -EINVAL, "gateway %s is not in subnet %s", gateway,
					    ip_prefix_format(&vnet->subnets[0], buf));
		if (index == 0 || index == ip_prefix_size(&vnet->subnets[0]) - 1)
			return pw_error_set(err, -EINVAL,
					    "gateway %s is the network or broadcast address of %s",
					    gateway, ip_prefix_format(&vnet->subnets[0], buf));
	}
	for (size_t i = 0; i < vnet->subnet_count; i++) {
		r = ip_prefix_nth(&vnet->subnets[i], index, &vnet->gateways[i]);
		if (r < 0)
			return pw_error_set(err, r, "gateway index %" PRIu64 " is outside %s",
					    index, ip_prefix_format(&vnet->subnets[i], buf));
	}
	r = ipam_init(&vnet->ipam, &vnet->subnets[0], &vnet->gateways[0]);
	if (r < 0)
		return pw_error_set(err, r, "subnet %s cannot hold an address pool",
				    ip_prefix_format(&vnet->subnets[0], buf));
	return 0;
}

static int parse_dns_servers(struct vnet *vnet, json_t *servers, struct pw_error *err)
{
	size_t i;
	json_t *item;

	if (!servers)
		return 0;
	if (!json_is_array(servers) || json_array_size(servers) > VNET_DNS_SERVERS_MAX)
		return pw_error_set(err, -EINVAL,
				    "dns_servers: expected an array of at most %d addresses",
				    VNET_DNS_SERVERS_MAX);
	json_array_foreach(servers, i, item)
	{
		const char *s = json_string_value(item);

		if (!s || ip_addr_parse(s, AF_UNSPEC, &vnet->dns_servers[i]) < 0)
			return pw_error_set(err, -EINVAL, "dns_servers: invalid address '%.64s'",
					    s ? s : "(not a string)");
		vnet->dns_server_count = i + 1;
	}
	return 0;
}

static void peers_refresh(struct vnet *vnet)
{
	for (size_t i = 0; i < vnet->peer_count; i++) {
		snprintf(vnet->peer_bridges[i], IFNAMSIZ, VNET_BRIDGE_PREFIX "%s", vnet->peers[i]);
		vnet->peer_bridge_ptrs[i] = vnet->peer_bridges[i];
	}
}

bool vnet_has_peer(const struct vnet *vnet, const char *name)
{
	for (size_t i = 0; i < vnet->peer_count; i++)
		if (streq(vnet->peers[i], name))
			return true;
	return false;
}

int vnet_peer_add(struct vnet *vnet, const char *name)
{
	size_t at = 0;

	if (vnet_has_peer(vnet, name))
		return 0;
	if (vnet->peer_count >= VNET_PEERS_MAX)
		return -ENOSPC;
	while (at < vnet->peer_count && strcmp(vnet->peers[at], name) < 0)
		at++;
	memmove(vnet->peers[at + 1], vnet->peers[at],
		(vnet->peer_count - at) * sizeof(vnet->peers[0]));
	snprintf(vnet->peers[at], sizeof(vnet->peers[at]), "%s", name);
	vnet->peer_count++;
	peers_refresh(vnet);
	return 0;
}

void vnet_peer_remove(struct vnet *vnet, const char *name)
{
	for (size_t i = 0; i < vnet->peer_count; i++)
		if (streq(vnet->peers[i], name)) {
			memmove(vnet->peers[i], vnet->peers[i + 1],
				(vnet->peer_count - i - 1) * sizeof(vnet->peers[0]));
			vnet->peer_count--;
			peers_refresh(vnet);
			return;
		}
}

json_t *vnet_peers_json(const struct vnet *vnet)
{
	json_t *peers = json_array();

	for (size_t i = 0; i < vnet->peer_count; i++)
		json_array_append_new(peers, json_string(vnet->peers[i]));
	return peers;
}

static int parse_peers(struct vnet *vnet, json_t *peers, struct pw_error *err)
{
	size_t i;
	json_t *item;
	int r;

	if (!peers)
		return 0;
	if (!json_is_array(peers) || json_array_size(peers) > VNET_PEERS_MAX)
		return pw_error_set(err, -EINVAL, "peers: expected an array of at most %d names",
				    VNET_PEERS_MAX);
	json_array_foreach(peers, i, item)
	{
		const char *name = json_string_value(item);

		if (!name)
			return pw_error_set(err, -EINVAL, "peers: expected strings");
		r = name_validate_vnet(name, err);
		if (r < 0)
			return pw_error_wrap(err, r, "peers");
		if (streq(name, vnet->name))
			return pw_error_set(err, -EINVAL, "peers: a VNet cannot peer with itself");
		(void)vnet_peer_add(vnet, name);
	}
	return 0;
}

static int parse_vnet(json_t *params, bool stored, struct vnet **ret_vnet, struct pw_error *err)
{
	_cleanup_vnet_ struct vnet *vnet = NULL;
	const char *name = NULL, *gateway = NULL, *domain = NULL, *host_access = "dns",
		   *trust = "off", *trust_keys = NULL;
	json_t *name_json = NULL, *subnets = NULL, *gateway_json = NULL, *domain_json = NULL,
	       *mtu_json = NULL, *internal_json = NULL, *isolate_json = NULL, *dns_servers = NULL,
	       *peers = NULL, *host_access_json = NULL, *trust_json = NULL, *trust_keys_json = NULL;
	long long mtu = 0;
	bool internal = false, isolate = false;
	int r;

	r = json_unpack_err(
	    params, err, "vnet", JSON_STRICT,
	    "{s:o, s:o, s?:o, s?:o, s?:o, s?:o, s?:o, s?:o, s?:o, s?:o, s?:o, s?:o}", "name",
	    &name_json, "subnets", &subnets, "gateway", &gateway_json, "domain", &domain_json,
	    "mtu", &mtu_json, "internal", &internal_json, "isolate", &isolate_json, "dns_servers",
	    &dns_servers, "peers", &peers, "host_access", &host_access_json, "trust", &trust_json,
	    "trust_keys", &trust_keys_json);
	if (r < 0)
		return r;
	if ((r = param_string(name_json, "name", &name, err)) < 0 ||
	    (r = param_string(gateway_json, "gateway", &gateway, err)) < 0 ||
	    (r = param_string(domain_json, "domain", &domain, err)) < 0 ||
	    (r = param_int(mtu_json, "mtu", 1, VNET_MTU_MAX, &mtu, err)) < 0 ||
	    (r = param_bool(internal_json, "internal", &internal, err)) < 0 ||
	    (r = param_bool(isolate_json, "isolate", &isolate, err)) < 0 ||
	    (r = param_string(host_access_json, "host_access", &host_access, err)) < 0 ||
	    (r = param_string(trust_json, "trust", &trust, err)) < 0 ||
	    (r = param_string(trust_keys_json, "trust_keys", &trust_keys, err)) < 0)
		return r;
	r = name_validate_vnet(name, err);
	if (r < 0)
		return r;

	vnet = xcalloc(1, sizeof(*vnet));
	snprintf(vnet->name, sizeof(vnet->name), "%s", name);
	snprintf(vnet->bridge, sizeof(vnet->bridge), VNET_BRIDGE_PREFIX "%s", name);
	vnet->internal = internal;
	vnet->isolate = isolate;
	if (vnet_host_access_parse(host_access, &vnet->host_access) < 0)
		return pw_error_set(
		    err, -EINVAL, "host_access: '%.16s' is not one of none, dns, all", host_access);
	if (trust_mode_parse(trust, &vnet->trust) < 0)
		return pw_error_set(err, -EINVAL,
				    "trust: '%.16s' is not one of off, audit, enforce", trust);
	r = vnet_trust_check(vnet->trust, trust_keys, err);
	if (r < 0)
		return r;
	if (trust_keys)
		snprintf(vnet->trust_keys, sizeof(vnet->trust_keys), "%s", trust_keys);

	r = parse_subnets(vnet, subnets, stored, err);
	if (r < 0)
		return r;
	r = parse_gateway(vnet, gateway, err);
	if (r < 0)
		return r;
	if (mtu_json) {
		r = vnet_set_mtu(vnet, (unsigned)mtu, err);
		if (r < 0)
			return r;
	}
	if (domain) {
		r = name_validate_domain(domain, err);
		if (r < 0)
			return pw_error_wrap(err, r, "domain");
		vnet->domain = xstrdup(domain);
		/* One spelling: no trailing dot. */
		if (vnet->domain[0] && vnet->domain[strlen(vnet->domain) - 1] == '.')
			vnet->domain[strlen(vnet->domain) - 1] = '\0';
		if (!vnet->domain[0])
			return pw_error_set(err, -EINVAL, "domain: empty");
	} else {
		vnet->domain = xasprintf("%s.internal", name);
	}
	r = parse_dns_servers(vnet, dns_servers, err);
	if (r < 0)
		return r;
	r = parse_peers(vnet, peers, err);
	if (r < 0)
		return r;

	*ret_vnet = TAKE_PTR(vnet);
	return 0;
}

int vnet_parse(json_t *params, struct vnet **ret_vnet, struct pw_error *err)
{
	return parse_vnet(params, false, ret_vnet, err);
}

int vnet_parse_stored(json_t *state, struct vnet **ret_vnet, struct pw_error *err)
{
	return parse_vnet(state, true, ret_vnet, err);
}

void vnet_trust_json(const struct vnet *vnet, json_t *object)
{
	if (!object)
		return;
	json_object_set_new(object, "trust", json_string(trust_mode_name(vnet->trust)));
	if (vnet->trust_keys[0])
		json_object_set_new(object, "trust_keys", json_string(vnet->trust_keys));
}

json_t *vnet_spec_json(const struct vnet *vnet)
{
	char buf[IP_PREFIX_STRLEN];
	json_t *subnets = json_array(), *dns = json_array();

	for (size_t i = 0; i < vnet->subnet_count; i++)
		json_array_append_new(subnets,
				      json_string(ip_prefix_format(&vnet->subnets[i], buf)));
	for (size_t i = 0; i < vnet->dns_server_count; i++)
		json_array_append_new(dns, json_string(ip_addr_format(&vnet->dns_servers[i], buf)));
	json_t *spec;

	spec = json_pack("{s:s, s:o, s:s, s:s, s:I, s:b, s:b, s:s, s:o}", "name", vnet->name,
			 "subnets", subnets, "gateway", ip_addr_format(&vnet->gateways[0], buf),
			 "domain", vnet->domain, "mtu", (json_int_t)vnet->mtu, "internal",
			 vnet->internal, "isolate", vnet->isolate, "host_access",
			 vnet_host_access_name(vnet->host_access), "dns_servers", dns);
	if (spec && vnet->peer_count > 0)
		json_object_set_new(spec, "peers", vnet_peers_json(vnet));
	vnet_trust_json(vnet, spec);
	return spec;
}

void vnet_nft_spec(const struct vnet *vnet, struct nft_vnet_spec *ret_spec)
{
	*ret_spec = (struct nft_vnet_spec){
	    .bridge = vnet->bridge,
	    .subnets = vnet->subnets,
	    .subnet_count = vnet->subnet_count,
	    .gateways = vnet->gateways,
	    .host_access = vnet->host_access,
	    .internal = vnet->internal,
	    .isolate = vnet->isolate,
	    .peers = vnet->peer_bridge_ptrs,
	    .peer_count = vnet->peer_count,
	};
}

int vnet_ipv6_mirror(const struct vnet *vnet, const struct ip_addr *ipv4, struct ip_addr *ret)
{
	uint64_t index;
	int r;

	if (vnet->subnet_count < 2)
		return -ENOENT;
	r = ip_prefix_index_of(&vnet->subnets[0], ipv4, &index);
	if (r < 0)
		return r;
	return ip_prefix_nth(&vnet->subnets[1], index, ret);
}

bool vnet_overlaps(const struct vnet *a, const struct vnet *b, const struct ip_prefix **ret_a,
		   const struct ip_prefix **ret_b)
{
	for (size_t i = 0; i < a->subnet_count; i++)
		for (size_t j = 0; j < b->subnet_count; j++)
			if (a->subnets[i].family == b->subnets[j].family &&
			    ip_prefix_overlaps(&a->subnets[i], &b->subnets[j])) {
				if (ret_a)
					*ret_a = &a->subnets[i];
				if (ret_b)
					*ret_b = &b->subnets[j];
				return true;
			}
	return false;
}
