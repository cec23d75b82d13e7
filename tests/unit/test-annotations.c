/* Unit tests for runtime-hooks/common/annotations.c: what a container's
 * podwire.* annotations ask for, and which values are refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "../../runtime-hooks/common/annotations.h"

static json_t *annotations(const char *json_text)
{
	json_t *v = json_loads(json_text, 0, NULL);

	assert_non_null(v);
	return v;
}

static int parse(const char *json_text, struct hook_spec *spec, struct pw_error *err)
{
	json_t *a = annotations(json_text);
	int r = hook_spec_parse(a, "c0ffee", spec, err);

	json_decref(a);
	return r;
}

static void test_defaults(void **state)
{
	struct hook_spec spec;
	struct pw_error err = {};

	assert_int_equal(hook_spec_parse(NULL, "abc123", &spec, &err), 0);
	assert_string_equal(spec.group, "abc123");
	assert_false(hook_spec_wants_network(&spec));
	assert_int_equal(spec.volume_count, 0);
	assert_false(spec.dns.has_nameservers);

	/* Other annotations are none of our business. */
	assert_int_equal(
	    parse("{\"org.opencontainers.image.title\":\"x\",\"io.podman\":\"1\"}", &spec, &err),
	    0);
	assert_string_equal(spec.group, "c0ffee");
}

static void test_full(void **state)
{
	struct hook_spec spec;
	struct pw_error err = {};
	char buf[INET6_ADDRSTRLEN];

	assert_int_equal(
	    parse("{\"podwire.group\":\"web\","
		  "\"podwire.vnet\":\"front, back\","
		  "\"podwire.ip\":\"10.1.0.9,back=10.2.0.7\","
		  "\"podwire.mac\":\"02:00:00:aa:bb:cc\","
		  "\"podwire.hostname\":\"web\","
		  "\"podwire.aliases\":\"www,portal\","
		  "\"podwire.ports\":\"8080:80/tcp, 5353:53/udp, 8443:443\","
		  "\"podwire.dns.nameservers\":\"10.9.0.1,fd00::53\","
		  "\"podwire.dns.searches\":\"corp.example,svc.local\","
		  "\"podwire.dns.options\":\"ndots:2 timeout:1,rotate\","
		  "\"podwire.volumes\":\"data:/srv/data,cfg:/etc/app:ro,logs:/var/log:rw\"}",
		  &spec, &err),
	    0);
	assert_string_equal(spec.group, "web");
	assert_true(hook_spec_wants_network(&spec));
	assert_int_equal(spec.vnet_count, 2);
	assert_string_equal(spec.vnets[0], "front");
	assert_string_equal(spec.vnets[1], "back");
	assert_int_equal(spec.ip_count, 2);
	assert_string_equal(spec.ips[0].vnet, "front");
	assert_string_equal(ip_addr_format(&spec.ips[0].addr, buf), "10.1.0.9");
	assert_string_equal(spec.ips[1].vnet, "back");
	assert_string_equal(ip_addr_format(&spec.ips[1].addr, buf), "10.2.0.7");
	assert_string_equal(spec.mac, "02:00:00:aa:bb:cc");
	assert_string_equal(spec.hostname, "web");
	assert_int_equal(spec.alias_count, 2);
	assert_string_equal(spec.aliases[1], "portal");

	assert_int_equal(spec.port_count, 3);
	assert_int_equal(spec.ports[0].host_port, 8080);
	assert_int_equal(spec.ports[0].container_port, 80);
	assert_string_equal(spec.ports[0].protocol, "tcp");
	assert_string_equal(spec.ports[1].protocol, "udp");
	assert_string_equal(spec.ports[2].protocol, "tcp");

	assert_true(spec.dns.has_nameservers);
	assert_int_equal(spec.dns.nameserver_count, 2);
	assert_string_equal(ip_addr_format(&spec.dns.nameservers[1], buf), "fd00::53");
	assert_int_equal(spec.dns.search_count, 2);
	assert_string_equal(spec.dns.searches[0], "corp.example");
	assert_int_equal(spec.dns.option_count, 3);
	assert_string_equal(spec.dns.options[0], "ndots:2");
	assert_string_equal(spec.dns.options[2], "rotate");

	assert_int_equal(spec.volume_count, 3);
	assert_string_equal(spec.volumes[0].share, "data");
	assert_string_equal(spec.volumes[0].dest, "/srv/data");
	assert_false(spec.volumes[0].read_only);
	assert_true(spec.volumes[1].read_only);
	assert_false(spec.volumes[2].read_only);
}

static void test_empty_dns_means_none(void **state)
{
	struct hook_spec spec;
	struct pw_error err = {};

	assert_int_equal(
	    parse("{\"podwire.vnet\":\"a\",\"podwire.dns.searches\":\"\"}", &spec, &err), 0);
	assert_true(spec.dns.has_searches);
	assert_int_equal(spec.dns.search_count, 0);
	assert_false(spec.dns.has_nameservers);
}

static void expect_error(const char *json_text, int errnum, const char *needle)
{
	struct hook_spec spec;
	struct pw_error err = {};
	int r = parse(json_text, &spec, &err);

	if (r != -errnum || !strstr(err.message, needle))
		fail_msg("%s: got %d '%s', expected -%d with '%s'", json_text, r, err.message,
			 errnum, needle);
}

static void test_rejects(void **state)
{
	expect_error("{\"podwire.vnets\":\"a\"}", EINVAL, "unknown annotation podwire.vnets");
	expect_error("{\"podwire.vnet\":1}", EINVAL, "expected a string");
	expect_error("{\"podwire.vnet\":\"Prod\"}", EINVAL, "annotation podwire.vnet: vnet name");
	expect_error("{\"podwire.vnet\":\"a,,b\"}", EINVAL, "empty item");
	expect_error("{\"podwire.vnet\":\"a,\"}", EINVAL, "empty item");
	expect_error("{\"podwire.vnet\":\"a,a\"}", EINVAL, "given twice");
	expect_error("{\"podwire.vnet\":\"a,b,c,d,e,f,g,h,i\"}", E2BIG, "more than 8 VNets");
	expect_error("{\"podwire.group\":\"../x\"}", EINVAL, "podwire.group");
	expect_error("{\"podwire.ip\":\"10.1.0.2\"}", EINVAL, "no podwire.vnet");
	expect_error("{\"podwire.vnet\":\"a\",\"podwire.ip\":\"10.1.0.2,10.2.0.2\"}", EINVAL,
		     "no VNet at that position");
	expect_error("{\"podwire.vnet\":\"a\",\"podwire.ip\":\"b=10.1.0.2\"}", EINVAL,
		     "'b' is not in podwire.vnet");
	expect_error("{\"podwire.vnet\":\"a\",\"podwire.ip\":\"10.1.0.2,a=10.1.0.3\"}", EINVAL,
		     "two addresses");
	expect_error("{\"podwire.vnet\":\"a\",\"podwire.ip\":\"fd00::2\"}", EINVAL,
		     "not an IPv4 address");
	expect_error("{\"podwire.vnet\":\"a\",\"podwire.mac\":\"03:00:00:00:00:01\"}", EINVAL,
		     "multicast");
	expect_error("{\"podwire.vnet\":\"a\",\"podwire.mac\":\"00:00:00:00:00:00\"}", EINVAL,
		     "all zeros");
	expect_error("{\"podwire.vnet\":\"a\",\"podwire.mac\":\"02:00:00:00:00:1\"}", EINVAL,
		     "not a MAC");
	expect_error("{\"podwire.vnet\":\"a\",\"podwire.mac\":\"02:00:00:00:00:1g\"}", EINVAL,
		     "not a MAC");
	expect_error("{\"podwire.mac\":\"02:00:00:00:00:01\"}", EINVAL, "need podwire.vnet");
	expect_error("{\"podwire.vnet\":\"a\",\"podwire.hostname\":\"a.b\"}", EINVAL,
		     "podwire.hostname");
	expect_error("{\"podwire.vnet\":\"a\",\"podwire.aliases\":\"ok,-bad\"}", EINVAL,
		     "podwire.aliases");
	expect_error("{\"podwire.dns.nameservers\":\"1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4\"}", E2BIG,
		     "more than 3 name servers");
	expect_error("{\"podwire.dns.nameservers\":\"dns.example\"}", EINVAL, "not an IP address");
	expect_error("{\"podwire.dns.searches\":\"a b\"}", EINVAL, "podwire.dns.searches");
	expect_error("{\"podwire.dns.searches\":\"a,b,c,d,e,f,g\"}", E2BIG, "more than 6");
	expect_error("{\"podwire.dns.options\":\"ndots:2\\nnameserver 6.6.6.6\"}", EINVAL,
		     "may contain only");
	expect_error("{\"podwire.dns.options\":\"x;y\"}", EINVAL, "may contain only");
	expect_error("{\"podwire.container\":\"x\"}", EINVAL, "unknown annotation");
}

static void test_ports(void **state)
{
	struct hook_port ports[HOOK_PORTS_MAX];
	struct pw_error err = {};
	size_t count = 99;

	assert_int_equal(hook_parse_ports("", ports, &count, &err), 0);
	assert_int_equal(count, 0);
	assert_int_equal(hook_parse_ports("1:65535/udp", ports, &count, &err), 0);
	assert_int_equal(count, 1);
	assert_int_equal(ports[0].host_port, 1);
	assert_int_equal(ports[0].container_port, 65535);
	assert_int_equal(hook_parse_ports("80:80/tcp,80:80/udp", ports, &count, &err), 0);
	assert_int_equal(count, 2);

	assert_int_equal(hook_parse_ports("80", ports, &count, &err), -EINVAL);
	assert_non_null(strstr(err.message, "expected HOST_PORT:CONTAINER_PORT"));
	assert_int_equal(hook_parse_ports("0:80", ports, &count, &err), -EINVAL);
	assert_non_null(strstr(err.message, "host port must be 1..65535"));
	assert_int_equal(hook_parse_ports("80:65536", ports, &count, &err), -EINVAL);
	assert_non_null(strstr(err.message, "container port"));
	assert_int_equal(hook_parse_ports("80:80/sctp", ports, &count, &err), -EINVAL);
	assert_non_null(strstr(err.message, "tcp or udp"));
	assert_int_equal(hook_parse_ports("+80:80", ports, &count, &err), -EINVAL);
	assert_int_equal(hook_parse_ports("80:80,80:81", ports, &count, &err), -EINVAL);
	assert_non_null(strstr(err.message, "published twice"));
	assert_int_equal(hook_parse_ports("8/0:80", ports, &count, &err), -EINVAL);
}

static void test_volumes(void **state)
{
	struct hook_volume vols[HOOK_VOLUMES_MAX];
	struct pw_error err = {};
	size_t count;

	assert_int_equal(hook_parse_volumes("s1:/data:ro", vols, &count, &err), 0);
	assert_int_equal(count, 1);
	assert_true(vols[0].read_only);

	assert_int_equal(hook_parse_volumes("s1", vols, &count, &err), -EINVAL);
	assert_non_null(strstr(err.message, "expected SHARE:/DEST"));
	assert_int_equal(hook_parse_volumes(":/data", vols, &count, &err), -EINVAL);
	assert_int_equal(hook_parse_volumes("s1:data", vols, &count, &err), -EINVAL);
	assert_non_null(strstr(err.message, "not an absolute path"));
	assert_int_equal(hook_parse_volumes("s1:/", vols, &count, &err), -EINVAL);
	assert_int_equal(hook_parse_volumes("s1:/a/../etc", vols, &count, &err), -EINVAL);
	assert_non_null(strstr(err.message, "not normalised"));
	assert_int_equal(hook_parse_volumes("s1:/a//b", vols, &count, &err), -EINVAL);
	assert_int_equal(hook_parse_volumes("s1:/a/./b", vols, &count, &err), -EINVAL);
	assert_int_equal(hook_parse_volumes("s1:/a/", vols, &count, &err), -EINVAL);
	assert_int_equal(hook_parse_volumes("s1:/a:rx", vols, &count, &err), -EINVAL);
	assert_non_null(strstr(err.message, "ro or rw"));
	assert_int_equal(hook_parse_volumes("../s:/a", vols, &count, &err), -EINVAL);
	assert_int_equal(hook_parse_volumes("a:/x,b:/x", vols, &count, &err), -EINVAL);
	assert_non_null(strstr(err.message, "two volumes mounted at /x"));

	assert_int_equal(hook_validate_dest("/a/..b/c.d", &err), 0);
	assert_int_equal(hook_validate_dest("/a/\n", &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_empty_dns_means_none),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_ports),
	    cmocka_unit_test(test_volumes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
