/* Published-port mappings (netd/ports.c): the string and object forms,
 * ranges, errors, overlap. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "../../netd/ports.h"

static void assert_round_trip(const char *text, const char *expected)
{
	struct nft_port_spec p;
	struct pw_error err = {0};
	char buf[PORT_SPEC_STRLEN];

	assert_int_equal(port_parse_string(text, &p, &err), 0);
	assert_string_equal(port_format(&p, buf), expected);
}

static void assert_bad(const char *text, const char *message_part)
{
	struct nft_port_spec p;
	struct pw_error err = {0};

	assert_int_equal(port_parse_string(text, &p, &err), -EINVAL);
	if (!strstr(pw_error_message(&err), message_part))
		fail_msg("'%s': '%s' not in '%s'", text, message_part, pw_error_message(&err));
}

static void test_strings(void **state)
{
	struct nft_port_spec p;
	struct pw_error err = {0};

	assert_round_trip("8080:80", "8080:80/tcp");
	assert_round_trip("5353:53/udp", "5353:53/udp");
	assert_round_trip("192.0.2.1:8080:80/tcp", "192.0.2.1:8080:80/tcp");
	assert_round_trip("[fd00::1]:8080:80", "[fd00::1]:8080:80/tcp");
	assert_round_trip("8000-8009:9000", "8000-8009:9000/tcp");
	assert_int_equal(port_parse_string("8000-8002:9000/udp", &p, &err), 0);
	assert_int_equal(p.host_port, 8000);
	assert_int_equal(p.host_port_last, 8002);
	assert_int_equal(p.port, 9000);
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.host_addr.family, 0);
}

static void test_bad_strings(void **state)
{
	assert_bad("8080", "expected HOSTPORT:PORT");
	assert_bad("0:80", "not a port number");
	assert_bad("8080:70000", "not a port number");
	assert_bad("8080:80/sctp", "not tcp or udp");
	assert_bad("1.2.3:8080:80", "not IPv4");
	assert_bad("[fd00::1:8080:80", "unclosed");
	assert_bad("9000-8000:80", "ends before it starts");
	assert_bad("1-2000:80", "wider than 1024");
	assert_bad("65000-65100:65500", "ends past 65535");
	assert_bad("x:80", "not a port number");
}

static void test_json(void **state)
{
	json_t *ports = json_loads("[\"8080:80\", {\"host_port\": 5353, \"port\": 53, \"proto\": "
				   "\"udp\"}, {\"host_ip\": \"192.0.2.1\", \"host_port\": "
				   "\"7000-7001\", \"port\": 70}]",
				   0, NULL);
	struct nft_port_spec out[GROUP_PORTS_MAX];
	struct pw_error err = {0};
	size_t count;
	char *text;

	assert_non_null(ports);
	assert_int_equal(ports_parse(ports, out, &count, &err), 0);
	assert_int_equal(count, 3);
	assert_int_equal(out[1].proto, IPPROTO_UDP);
	assert_int_equal(out[2].host_port_last, 7001);
	json_t *back = ports_to_json(out, count);
	text = json_dumps(back, JSON_COMPACT);
	assert_string_equal(text, "[{\"host_port\":8080,\"host_port_last\":8080,\"port\":80,"
				  "\"proto\":\"tcp\"},{\"host_port\":5353,\"host_port_last\":5353,"
				  "\"port\":53,\"proto\":\"udp\"},{\"host_port\":7000,"
				  "\"host_port_last\":7001,\"port\":70,\"proto\":\"tcp\","
				  "\"host_ip\":\"192.0.2.1\"}]");
	free(text);
	json_decref(back);
	json_decref(ports);

	ports = json_loads("[{\"host_port\": 1, \"port\": 2, \"color\": \"red\"}]", 0, NULL);
	assert_int_equal(ports_parse(ports, out, &count, &err), -EINVAL);
	json_decref(ports);
	ports = json_loads("[\"8080:80\", \"8080:81\"]", 0, NULL);
	assert_int_equal(ports_parse(ports, out, &count, &err), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "overlaps"));
	json_decref(ports);
	ports = json_loads("{}", 0, NULL);
	assert_int_equal(ports_parse(ports, out, &count, &err), -EINVAL);
	json_decref(ports);
}

static void test_overlap(void **state)
{
	struct nft_port_spec a, b;
	struct pw_error err = {0};

	assert_int_equal(port_parse_string("8000-8010:80", &a, &err), 0);
	assert_int_equal(port_parse_string("8010:80", &b, &err), 0);
	assert_true(port_overlaps(&a, &b));
	assert_int_equal(port_parse_string("8011:80", &b, &err), 0);
	assert_false(port_overlaps(&a, &b));
	assert_int_equal(port_parse_string("8005:80/udp", &b, &err), 0);
	assert_false(port_overlaps(&a, &b));
	assert_int_equal(port_parse_string("192.0.2.1:8005:80", &b, &err), 0);
	assert_true(port_overlaps(&a, &b)); /* every address includes this one */
	assert_int_equal(port_parse_string("192.0.2.1:9000:80", &a, &err), 0);
	assert_int_equal(port_parse_string("192.0.2.2:9000:80", &b, &err), 0);
	assert_false(port_overlaps(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_bad_strings),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_overlap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
