/* The VNet model: vnet.create params parsed strictly, defaults filled,
 * bad values refused with a message naming them, the state form round
 * trips, IPv6 addresses mirror IPv4 host indexes, overlaps found. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "../../netd/vnet.h"

static struct vnet *parse_ok(const char *text)
{
	json_auto_t *json = json_loads(text, 0, NULL);
	struct pw_error err = {0};
	struct vnet *vnet = NULL;

	assert_non_null(json);
	if (vnet_parse(json, &vnet, &err) < 0)
		fail_msg("parse of %s failed: %s", text, pw_error_message(&err));
	return vnet;
}

static void parse_fails(const char *text, const char *message_part)
{
	json_auto_t *json = json_loads(text, 0, NULL);
	struct pw_error err = {0};
	struct vnet *vnet = NULL;

	assert_non_null(json);
	assert_int_equal(vnet_parse(json, &vnet, &err), -EINVAL);
	assert_null(vnet);
	if (!strstr(pw_error_message(&err), message_part))
		fail_msg("error for %s is '%s', expected '%s' in it", text, pw_error_message(&err),
			 message_part);
}

static void test_defaults(void **state)
{
	struct vnet *vnet = parse_ok("{\"name\":\"prod\",\"subnets\":[\"10.1.0.0/24\"]}");
	char buf[IP_PREFIX_STRLEN];

	assert_string_equal(vnet->bridge, "pw-prod");
	assert_string_equal(vnet->domain, "prod.internal");
	assert_string_equal(ip_addr_format(&vnet->gateways[0], buf), "10.1.0.1");
	assert_int_equal(vnet->mtu, 0); /* left to netd: the host's default-route MTU */
	assert_false(vnet->internal);
	assert_false(vnet->isolate);
	assert_int_equal(vnet->dns_server_count, 0);
	assert_int_equal(ipam_free_count(&vnet->ipam), 253);
	vnet_free(vnet);
}

static void test_everything(void **state)
{
	struct vnet *vnet =
	    parse_ok("{\"name\":\"dev-2\",\"subnets\":[\"fd00:2::/64\",\"10.2.0.0/16\"],"
		     "\"gateway\":\"10.2.255.254\",\"domain\":\"dev.example.\",\"mtu\":9000,"
		     "\"internal\":true,\"isolate\":true,\"dns_servers\":[\"192.0.2.53\",\"2001:"
		     "db8::53\"]}");
	char buf[IP_PREFIX_STRLEN];
	struct ip_addr v4, v6;

	/* IPv4 first whatever the order given. */
	assert_string_equal(ip_prefix_format(&vnet->subnets[0], buf), "10.2.0.0/16");
	assert_string_equal(ip_prefix_format(&vnet->subnets[1], buf), "fd00:2::/64");
	/* The IPv6 gateway has the IPv4 gateway's host index. */
	assert_string_equal(ip_addr_format(&vnet->gateways[1], buf), "fd00:2::fffe");
	assert_string_equal(vnet->domain, "dev.example");
	assert_int_equal(vnet->mtu, 9000);
	assert_true(vnet->internal);
	assert_true(vnet->isolate);
	assert_int_equal(vnet->dns_server_count, 2);
	assert_int_equal(ip_addr_parse("10.2.1.7", AF_INET, &v4), 0);
	assert_int_equal(vnet_ipv6_mirror(vnet, &v4, &v6), 0);
	assert_string_equal(ip_addr_format(&v6, buf), "fd00:2::107");
	vnet_free(vnet);
}

static void test_state_round_trip(void **state)
{
	struct vnet *a =
	    parse_ok("{\"name\":\"prod\",\"subnets\":[\"10.1.0.0/24\",\"fd00:1::/64\"],"
		     "\"isolate\":true,\"dns_servers\":[\"192.0.2.1\"]}");
	json_auto_t *spec = NULL;
	_cleanup_free_ char *text = NULL;
	struct vnet *b;
	json_auto_t *spec_b = NULL;

	assert_int_equal(vnet_set_mtu(a, 1450, NULL), 0);
	spec = vnet_spec_json(a);
	text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	b = parse_ok(text);
	spec_b = vnet_spec_json(b);
	assert_true(json_equal(spec, spec_b));
	assert_int_equal(b->mtu, 1450);
	vnet_free(a);
	vnet_free(b);
}

/* Peers: kept sorted and unique, in the state form only when there are
 * some, and handed to nft as bridge names. */
static void test_peers(void **state)
{
	struct vnet *a = parse_ok("{\"name\":\"prod\",\"subnets\":[\"10.1.0.0/24\"]}");
	struct nft_vnet_spec spec;
	json_auto_t *json = NULL;
	_cleanup_free_ char *text = NULL;
	struct vnet *b;

	json = vnet_spec_json(a);
	assert_null(json_object_get(json, "peers"));
	json_decref(json);
	assert_int_equal(vnet_peer_add(a, "web"), 0);
	assert_int_equal(vnet_peer_add(a, "db"), 0);
	assert_int_equal(vnet_peer_add(a, "web"), 0);
	assert_int_equal(a->peer_count, 2);
	assert_string_equal(a->peers[0], "db");
	assert_true(vnet_has_peer(a, "web"));
	vnet_nft_spec(a, &spec);
	assert_int_equal(spec.peer_count, 2);
	assert_string_equal(spec.peers[0], "pw-db");
	assert_string_equal(spec.peers[1], "pw-web");

	assert_int_equal(vnet_set_mtu(a, 1500, NULL), 0);
	json = vnet_spec_json(a);
	text = json_dumps(json, JSON_COMPACT);
	b = parse_ok(text);
	assert_int_equal(b->peer_count, 2);
	vnet_peer_remove(b, "db");
	vnet_peer_remove(b, "nope");
	assert_int_equal(b->peer_count, 1);
	vnet_nft_spec(b, &spec);
	assert_string_equal(spec.peers[0], "pw-web");
	parse_fails("{\"name\":\"prod\",\"subnets\":[\"10.1.0.0/24\"],\"peers\":[\"prod\"]}",
		    "itself");
	parse_fails("{\"name\":\"prod\",\"subnets\":[\"10.1.0.0/24\"],\"peers\":[\"Bad!\"]}",
		    "peers");
	vnet_free(a);
	vnet_free(b);
}

static void test_refused(void **state)
{
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"extra\":1}", "extra");
	parse_fails("{\"subnets\":[\"10.1.0.0/24\"]}", "name");
	parse_fails("{\"name\":\"a\"}", "subnets");
	parse_fails("{\"name\":\"a\",\"subnets\":[]}", "subnets");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.5/24\"]}", "did you mean 10.1.0.0/24");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/33\"]}", "invalid subnet");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.0.0.0/8\"]}", "/16 to /30");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/31\"]}", "/16 to /30");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"10.2.0.0/24\"]}", "one IPv4");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"fd00::/64\"]}", "IPv4 subnet is required");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/16\",\"fd00::/120\"]}",
		    "at least as many");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"fe80::/64\"]}", "link-local");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"gateway\":\"10.1.0.0\"}",
		    "network or broadcast");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"gateway\":\"10.1.1.1\"}",
		    "not in subnet");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"gateway\":\"fd00::1\"}",
		    "invalid gateway");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"mtu\":100}", "MTU");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"mtu\":4294967396}",
		    "mtu: 4294967396 is out of range");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"mtu\":\"big\"}",
		    "mtu: expected an integer, got a string");
	parse_fails("{\"name\":7,\"subnets\":[\"10.1.0.0/24\"]}", "name: expected a string");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"fd00::/64\"],\"mtu\":1000}",
		    "with IPv6");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"internal\":1}",
		    "internal: expected true or false, got an integer");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"dns_servers\":[\"x\"]}",
		    "dns_servers");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"dns_servers\":[\"1.1.1.1\","
		    "\"1.1.1.2\",\"1.1.1.3\",\"1.1.1.4\"]}",
		    "at most 3");
	parse_fails("{\"name\":\"toolongname13\",\"subnets\":[\"10.1.0.0/24\"]}", "12");
	parse_fails("{\"name\":\"-a\",\"subnets\":[\"10.1.0.0/24\"]}", "");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"domain\":\"a..b\"}", "domain");
}

/* Ranges that cannot be a VNet: the kernel or every host gives their
 * addresses another meaning (loopback, multicast, link-local, "this
 * network", reserved/broadcast), so a bridge with such a gateway breaks the
 * host (dnsd would bind 127.0.0.1:53 of the host). Refused with the range
 * and its meaning named, and so is any subnet overlapping one. */
static void test_reserved_subnets(void **state)
{
	static const struct {
		const char *subnet;
		const char *reason;
	} v4[] =
	    {
		{"127.0.0.0/24", "127.0.0.0/8 (loopback)"},
		{"127.255.255.0/24", "loopback"},
		{"224.0.0.0/24", "224.0.0.0/4 (multicast)"},
		{"239.255.0.0/16", "multicast"},
		{"240.0.0.0/24", "240.0.0.0/4 (reserved"},
		{"255.255.255.0/24", "240.0.0.0/4"},
		{"0.0.0.0/24", "0.0.0.0/8 (\"this network\")"},
		{"0.1.0.0/16", "this network"},
		{"169.254.0.0/16", "169.254.0.0/16 (link-local)"},
		{"169.254.1.0/24", "link-local"},
	    },
	  v6[] = {
	      {"::/64", "::1/128 (loopback)"},	{"::/120", "loopback"},
	      {"::ffff:0:0/96", "IPv4-mapped"}, {"fe80::/64", "fe80::/10 (link-local)"},
	      {"febf:1::/64", "link-local"},	{"ff02::/64", "ff00::/8 (multicast)"},
	      {"fd00::/8", "/48 to /"},		{"fd00::/47", "/48 to /"},
	      {"2000::/3", "/48 to /"},
	  };
	/* Shorter than any VNet may be, and overlapping a reserved range. */
	static const struct {
		const char *subnet;
		const char *reason;
	} wide[] = {
	    {"0.0.0.0/0", "0.0.0.0/8"},	       {"96.0.0.0/3", "127.0.0.0/8 (loopback)"},
	    {"128.0.0.0/1", "169.254.0.0/16"}, {"::/0", "::1/128"},
	    {"fe00::/7", "fe80::/10"},	       {"ff00::/8", "multicast"},
	};
	char text[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v4); i++) {
		snprintf(text, sizeof(text), "{\"name\":\"a\",\"subnets\":[\"%s\"]}", v4[i].subnet);
		parse_fails(text, v4[i].reason);
		parse_fails(text, v4[i].subnet);
	}
	for (i = 0; i < ARRAY_SIZE(v6); i++) {
		snprintf(text, sizeof(text),
			 "{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"%s\"]}", v6[i].subnet);
		parse_fails(text, v6[i].reason);
		parse_fails(text, v6[i].subnet);
	}
	for (i = 0; i < ARRAY_SIZE(wide); i++) {
		struct ip_prefix p;
		struct pw_error err = {0};

		assert_int_equal(ip_prefix_parse(wide[i].subnet, AF_UNSPEC, &p), 0);
		assert_int_equal(vnet_subnet_check_reserved(&p, &err), -EINVAL);
		if (!strstr(pw_error_message(&err), wide[i].reason))
			fail_msg("error for %s is '%s', expected '%s' in it", wide[i].subnet,
				 pw_error_message(&err), wide[i].reason);
	}
	/* Neighbours of the reserved ranges, private and public space are fine. */
	static const char *const fine[] = {
	    "{\"name\":\"a\",\"subnets\":[\"126.255.255.0/24\"]}",
	    "{\"name\":\"a\",\"subnets\":[\"128.0.0.0/24\"]}",
	    "{\"name\":\"a\",\"subnets\":[\"1.0.0.0/16\"]}",
	    "{\"name\":\"a\",\"subnets\":[\"169.253.0.0/16\"]}",
	    "{\"name\":\"a\",\"subnets\":[\"223.255.255.0/24\"]}",
	    "{\"name\":\"a\",\"subnets\":[\"192.168.0.0/16\"]}",
	    "{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"fd00:1:2::/48\"]}",
	    "{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"2001:db8::/64\"]}",
	    "{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"fec0::/64\"]}",
	    "{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"1::/120\"]}",
	};
	for (i = 0; i < ARRAY_SIZE(fine); i++)
		vnet_free(parse_ok(fine[i]));
}

/* A state file an older netd wrote with an IPv6 subnet wider than /48 still
 * loads (its bridge and groups stay); a new VNet like it is refused; a
 * stored VNet in a reserved range is refused either way. */
static void test_stored_wide_ipv6(void **state)
{
	static const char wide[] = "{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"fd00::/8\"]}";
	static const char loopback[] = "{\"name\":\"a\",\"subnets\":[\"127.0.0.0/24\"]}";
	json_auto_t *wide_json = json_loads(wide, 0, NULL);
	json_auto_t *loopback_json = json_loads(loopback, 0, NULL);
	struct vnet *vnet = NULL;
	struct pw_error err = {0};

	assert_int_equal(vnet_parse(wide_json, &vnet, &err), -EINVAL);
	assert_int_equal(vnet_parse_stored(wide_json, &vnet, &err), 0);
	vnet_free(vnet);
	vnet = NULL;
	assert_int_equal(vnet_parse_stored(loopback_json, &vnet, &err), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "loopback"));
}

/* host_access: dns unless given (a state file without it, from an older
 * netd, is dns), kept in the state form, handed to nft with the gateways,
 * anything but none/dns/all refused. */
static void test_host_access(void **state)
{
	struct vnet *a = parse_ok("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"fd00:1::/64\"]}");
	struct vnet *b = parse_ok("{\"name\":\"b\",\"subnets\":[\"10.2.0.0/24\"],"
				  "\"host_access\":\"all\"}");
	struct vnet *c = parse_ok("{\"name\":\"c\",\"subnets\":[\"10.3.0.0/24\"],"
				  "\"host_access\":\"none\"}");
	json_auto_t *spec = NULL;
	struct nft_vnet_spec nft;
	char buf[IP_PREFIX_STRLEN];

	assert_int_equal(a->host_access, NFT_HOST_ACCESS_DNS);
	assert_int_equal(b->host_access, NFT_HOST_ACCESS_ALL);
	assert_int_equal(c->host_access, NFT_HOST_ACCESS_NONE);
	spec = vnet_spec_json(c);
	assert_string_equal(json_string_value(json_object_get(spec, "host_access")), "none");
	json_decref(spec);
	spec = vnet_spec_json(a);
	assert_string_equal(json_string_value(json_object_get(spec, "host_access")), "dns");
	vnet_nft_spec(a, &nft);
	assert_int_equal(nft.host_access, NFT_HOST_ACCESS_DNS);
	assert_non_null(nft.gateways);
	assert_string_equal(ip_addr_format(&nft.gateways[1], buf), "fd00:1::1");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"host_access\":\"open\"}",
		    "host_access: 'open' is not one of none, dns, all");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"host_access\":true}",
		    "host_access: expected a string");
	vnet_free(a);
	vnet_free(b);
	vnet_free(c);
}

/* trust: off unless given (and in an older state file), kept in the state
 * form with its keyset, a mode other than off needs a keyset and off takes
 * none, bad modes and keyset names refused. */
static void test_trust(void **state)
{
	struct vnet *a = parse_ok("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"]}");
	struct vnet *b = parse_ok("{\"name\":\"b\",\"subnets\":[\"10.2.0.0/24\"],"
				  "\"trust\":\"enforce\",\"trust_keys\":\"prod-keys\"}");
	json_auto_t *spec_a = vnet_spec_json(a);
	json_auto_t *spec_b = vnet_spec_json(b);
	struct vnet *again = NULL;
	struct pw_error err = {0};

	assert_int_equal(a->trust, TRUST_OFF);
	assert_string_equal(a->trust_keys, "");
	assert_string_equal(json_string_value(json_object_get(spec_a, "trust")), "off");
	assert_null(json_object_get(spec_a, "trust_keys"));
	assert_int_equal(b->trust, TRUST_ENFORCE);
	assert_string_equal(json_string_value(json_object_get(spec_b, "trust_keys")), "prod-keys");
	json_object_set_new(spec_b, "mtu", json_integer(1500));
	assert_int_equal(vnet_parse_stored(spec_b, &again, &err), 0);
	assert_int_equal(again->trust, TRUST_ENFORCE);
	assert_string_equal(again->trust_keys, "prod-keys");
	vnet_free(again);
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"trust\":\"audit\"}",
		    "trust_keys: required with trust audit");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"trust_keys\":\"k\"}",
		    "trust_keys: only with trust audit or enforce");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"trust\":\"strict\","
		    "\"trust_keys\":\"k\"}",
		    "trust: 'strict' is not one of off, audit, enforce");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"trust\":\"audit\","
		    "\"trust_keys\":\"../k\"}",
		    "trust_keys: keyset name '../k' may contain only a-z, 0-9 and '-'");
	parse_fails("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\"],\"trust\":1}",
		    "trust: expected a string");
	vnet_free(a);
	vnet_free(b);
}

static void test_overlaps(void **state)
{
	struct vnet *a = parse_ok("{\"name\":\"a\",\"subnets\":[\"10.1.0.0/24\",\"fd00:1::/64\"]}");
	struct vnet *b = parse_ok("{\"name\":\"b\",\"subnets\":[\"10.1.0.128/25\"]}");
	struct vnet *c = parse_ok("{\"name\":\"c\",\"subnets\":[\"10.2.0.0/24\",\"fd00:1::/96\"]}");
	struct vnet *d = parse_ok("{\"name\":\"d\",\"subnets\":[\"10.3.0.0/24\",\"fd00:3::/64\"]}");
	const struct ip_prefix *pa, *pb;
	char buf[IP_PREFIX_STRLEN];

	assert_true(vnet_overlaps(a, b, &pa, &pb));
	assert_string_equal(ip_prefix_format(pb, buf), "10.1.0.128/25");
	assert_true(vnet_overlaps(a, c, &pa, &pb));
	assert_string_equal(ip_prefix_format(pa, buf), "fd00:1::/64");
	assert_false(vnet_overlaps(a, d, NULL, NULL));
	assert_false(vnet_overlaps(b, c, NULL, NULL));
	vnet_free(a);
	vnet_free(b);
	vnet_free(c);
	vnet_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	     cmocka_unit_test(test_everything),
	    cmocka_unit_test(test_state_round_trip), cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_overlaps),	     cmocka_unit_test(test_peers),
	    cmocka_unit_test(test_reserved_subnets), cmocka_unit_test(test_host_access),
	    cmocka_unit_test(test_stored_wide_ipv6), cmocka_unit_test(test_trust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
