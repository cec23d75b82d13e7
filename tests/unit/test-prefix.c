/* Unit tests for lib/prefix.c: the address math IPAM and subnet checks
 * rely on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sys/socket.h>

#include "prefix.h"

static struct ip_prefix P(const char *s)
{
	struct ip_prefix p;
	assert_int_equal(ip_prefix_parse(s, AF_UNSPEC, &p), 0);
	return p;
}

static struct ip_addr A(const char *s)
{
	struct ip_addr a;
	assert_int_equal(ip_addr_parse(s, AF_UNSPEC, &a), 0);
	return a;
}

static void test_parse_format(void **state)
{
	char buf[IP_PREFIX_STRLEN];
	struct ip_prefix p = P("10.1.0.0/24");

	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.prefixlen, 24);
	assert_string_equal(ip_prefix_format(&p, buf), "10.1.0.0/24");
	p = P("fd00:1::/64");
	assert_int_equal(p.family, AF_INET6);
	assert_string_equal(ip_prefix_format(&p, buf), "fd00:1::/64");
	p = P("0.0.0.0/0");
	assert_int_equal(p.prefixlen, 0);
}

static void test_parse_rejects(void **state)
{
	struct ip_prefix p;
	struct ip_addr a;
	const char *bad[] = { "", "10.1.0.0", "10.1.0.0/", "10.1.0.0/33", "10.1.0.5/24",
			      "10.1.0/24", "10.1.0.0/24x", "10.1.0.0/-1", "fd00::/129",
			      "/24", "10.1.0.0/0024", "hello/8", "10.1.0.0//24", "fd00::1/64" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ip_prefix_parse(bad[i], AF_UNSPEC, &p), -EINVAL);
	assert_int_equal(ip_prefix_parse("fd00::/64", AF_INET, &p), -EINVAL);
	assert_int_equal(ip_addr_parse("10.1.0.256", AF_UNSPEC, &a), -EINVAL);
	assert_int_equal(ip_addr_parse("10.1.0.1", AF_INET6, &a), -EINVAL);
	assert_int_equal(ip_addr_parse(NULL, AF_UNSPEC, &a), -EINVAL);
}

static void test_contains_overlaps(void **state)
{
	struct ip_prefix a = P("10.1.0.0/24"), b = P("10.1.0.128/25"), c = P("10.1.1.0/24"),
			 d = P("10.0.0.0/8"), v6 = P("fd00::/64");
	struct ip_addr in = A("10.1.0.77"), out = A("10.1.1.1");

	assert_true(ip_prefix_contains(&a, &in));
	assert_false(ip_prefix_contains(&a, &out));
	assert_true(ip_prefix_overlaps(&a, &b));
	assert_true(ip_prefix_overlaps(&b, &a));
	assert_false(ip_prefix_overlaps(&a, &c));
	assert_true(ip_prefix_overlaps(&d, &c));
	assert_false(ip_prefix_overlaps(&a, &v6));
	struct ip_prefix odd = P("10.1.0.0/23");
	assert_true(ip_prefix_overlaps(&odd, &c));
}

static void test_nth_index(void **state)
{
	char buf[INET6_ADDRSTRLEN];
	struct ip_prefix p = P("10.1.0.0/24");
	struct ip_addr a, last;
	uint64_t idx;

	assert_int_equal(ip_prefix_size(&p), 256);
	assert_int_equal(ip_prefix_nth(&p, 1, &a), 0);
	assert_string_equal(ip_addr_format(&a, buf), "10.1.0.1");
	assert_int_equal(ip_prefix_nth(&p, 255, &a), 0);
	assert_string_equal(ip_addr_format(&a, buf), "10.1.0.255");
	assert_int_equal(ip_prefix_nth(&p, 256, &a), -ERANGE);
	a = A("10.1.0.77");
	assert_int_equal(ip_prefix_index_of(&p, &a, &idx), 0);
	assert_int_equal(idx, 77);
	a = A("10.1.1.77");
	assert_int_equal(ip_prefix_index_of(&p, &a, &idx), -ERANGE);
	ip_prefix_last(&p, &last);
	assert_string_equal(ip_addr_format(&last, buf), "10.1.0.255");

	p = P("172.16.0.0/12");
	assert_int_equal(ip_prefix_nth(&p, 65536 + 2, &a), 0);
	assert_string_equal(ip_addr_format(&a, buf), "172.17.0.2");
	assert_int_equal(ip_prefix_index_of(&p, &a, &idx), 0);
	assert_int_equal(idx, 65538);

	p = P("fd00:1::/64");
	assert_int_equal(ip_prefix_size(&p), UINT64_MAX);
	assert_int_equal(ip_prefix_nth(&p, 0x10002, &a), 0);
	assert_string_equal(ip_addr_format(&a, buf), "fd00:1::1:2");
	assert_int_equal(ip_prefix_index_of(&p, &a, &idx), 0);
	assert_int_equal(idx, 0x10002);
	p = P("fd00:1::/120");
	assert_int_equal(ip_prefix_size(&p), 256);
	assert_int_equal(ip_prefix_nth(&p, 256, &a), -ERANGE);
}

static void test_addr_prefix_parse(void **state)
{
	char buf[IP_PREFIX_STRLEN];
	struct ip_addr a;
	struct ip_prefix p;

	assert_int_equal(ip_addr_prefix_parse("10.1.0.5/24", &a, &p), 0);
	assert_string_equal(ip_prefix_format(&p, buf), "10.1.0.0/24");
	assert_string_equal(ip_addr_format(&a, buf), "10.1.0.5");
	assert_true(ip_addr_equal(&a, &(struct ip_addr){ .family = AF_INET,
							  .addr.bytes = { 10, 1, 0, 5 } }));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_contains_overlaps),
		cmocka_unit_test(test_nth_index),
		cmocka_unit_test(test_addr_prefix_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
