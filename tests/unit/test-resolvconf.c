/* Unit tests for runtime-hooks/common/resolvconf.c: the resolv.conf and
 * hosts files a container sees. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime-hooks/common/resolvconf.h"

static void parse_dns(const char *json_text, struct dns_spec *ret)
{
	struct hook_spec spec;
	struct pw_error err = {};
	json_t *a = json_loads(json_text, 0, NULL);

	assert_non_null(a);
	if (hook_spec_parse(a, "c1", &spec, &err) < 0)
		fail_msg("%s", err.message);
	json_decref(a);
	*ret = spec.dns;
}

static const struct resolv_defaults defaults = {
    .nameservers = {"10.1.0.1", "10.2.0.1"},
    .nameserver_count = 2,
    .searches = {"front.internal", "back.internal"},
    .search_count = 2,
};

static void expect_resolv(const char *annotations, const char *expected)
{
	struct dns_spec dns;
	char *text = NULL;

	parse_dns(annotations, &dns);
	assert_int_equal(resolvconf_render(&dns, &defaults, &text), 0);
	assert_string_equal(text, expected);
	free(text);
}

static void test_defaults(void **state)
{
	expect_resolv("{}", "nameserver 10.1.0.1\n"
			    "nameserver 10.2.0.1\n"
			    "search front.internal back.internal\n");
}

static void test_annotations(void **state)
{
	expect_resolv("{\"podwire.dns.nameservers\":\"192.0.2.53, fd00::53\","
		      "\"podwire.dns.searches\":\"corp.example\","
		      "\"podwire.dns.options\":\"ndots:3 attempts:2\"}",
		      "nameserver 192.0.2.53\n"
		      "nameserver fd00::53\n"
		      "search corp.example\n"
		      "options ndots:3 attempts:2\n");
	/* Each field overrides its default alone. */
	expect_resolv("{\"podwire.dns.options\":\"edns0\"}", "nameserver 10.1.0.1\n"
							     "nameserver 10.2.0.1\n"
							     "search front.internal back.internal\n"
							     "options edns0\n");
	/* Present but empty: no such line at all. */
	expect_resolv("{\"podwire.dns.searches\":\"\",\"podwire.dns.nameservers\":\"9.9.9.9\"}",
		      "nameserver 9.9.9.9\n");
}

static void test_bad_default(void **state)
{
	struct dns_spec dns = {0};
	struct resolv_defaults bad = {.nameservers = {"10.1.0.1\nsearch evil"},
				      .nameserver_count = 1};
	char *text = NULL;

	assert_int_equal(resolvconf_render(&dns, &bad, &text), -EINVAL);
	assert_null(text);
}

static void test_hosts(void **state)
{
	const char *aliases[] = {"www", "portal"};
	struct hosts_entry entry = {
	    .addresses = {"10.1.0.2", "fd00:1::2"},
	    .address_count = 2,
	    .hostname = "web",
	    .domain = "front.internal",
	    .aliases = aliases,
	    .alias_count = 2,
	};
	char *text = NULL;

	assert_int_equal(hosts_render(&entry, &text), 0);
	assert_string_equal(text, "127.0.0.1 localhost\n"
				  "::1 localhost ip6-localhost ip6-loopback\n"
				  "10.1.0.2 web.front.internal web www.front.internal www "
				  "portal.front.internal portal\n"
				  "fd00:1::2 web.front.internal web www.front.internal www "
				  "portal.front.internal portal\n");
	free(text);

	/* No hostname: only the loopback lines. */
	entry.hostname = NULL;
	assert_int_equal(hosts_render(&entry, &text), 0);
	assert_string_equal(text, "127.0.0.1 localhost\n"
				  "::1 localhost ip6-localhost ip6-loopback\n");
	free(text);

	/* No domain: short names only. */
	entry.hostname = "web";
	entry.domain = NULL;
	entry.alias_count = 0;
	entry.address_count = 1;
	assert_int_equal(hosts_render(&entry, &text), 0);
	assert_non_null(strstr(text, "\n10.1.0.2 web\n"));
	free(text);

	entry.hostname = "we b";
	assert_int_equal(hosts_render(&entry, &text), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_annotations),
	    cmocka_unit_test(test_bad_default),
	    cmocka_unit_test(test_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
