/* IPAM: lowest free address, static reservations, release, and the
 * addresses that are never handed out (network, gateway, broadcast). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "../../netd/ipam.h"

static struct ip_prefix prefix(const char *s)
{
	struct ip_prefix p;

	assert_int_equal(ip_prefix_parse(s, AF_UNSPEC, &p), 0);
	return p;
}

static struct ip_addr addr(const char *s)
{
	struct ip_addr a;

	assert_int_equal(ip_addr_parse(s, AF_UNSPEC, &a), 0);
	return a;
}

static void assert_next(struct ipam *ipam, const char *expected)
{
	struct ip_addr got, want = addr(expected);
	char buf[INET6_ADDRSTRLEN];

	assert_int_equal(ipam_allocate(ipam, &got), 0);
	assert_string_equal(ip_addr_format(&got, buf), expected);
	assert_true(ip_addr_equal(&got, &want));
}

static void test_lowest_free(void **state)
{
	struct ip_prefix p = prefix("10.1.0.0/24");
	struct ip_addr gw = addr("10.1.0.1");
	struct ipam ipam;

	assert_int_equal(ipam_init(&ipam, &p, &gw), 0);
	assert_int_equal(ipam_free_count(&ipam), 253);
	assert_next(&ipam, "10.1.0.2");
	assert_next(&ipam, "10.1.0.3");
	assert_next(&ipam, "10.1.0.4");
	assert_int_equal(ipam_free_count(&ipam), 250);
	ipam_done(&ipam);
}

static void test_release_reuses_lowest(void **state)
{
	struct ip_prefix p = prefix("10.1.0.0/24");
	struct ip_addr gw = addr("10.1.0.1"), a3 = addr("10.1.0.3"), a2 = addr("10.1.0.2");
	struct ipam ipam;

	assert_int_equal(ipam_init(&ipam, &p, &gw), 0);
	assert_next(&ipam, "10.1.0.2");
	assert_next(&ipam, "10.1.0.3");
	assert_next(&ipam, "10.1.0.4");
	assert_int_equal(ipam_release(&ipam, &a3), 0);
	assert_false(ipam_is_used(&ipam, &a3));
	/* Releasing twice is fine. */
	assert_int_equal(ipam_release(&ipam, &a3), 0);
	assert_next(&ipam, "10.1.0.3");
	assert_next(&ipam, "10.1.0.5");
	assert_int_equal(ipam_release(&ipam, &a2), 0);
	assert_next(&ipam, "10.1.0.2");
	ipam_done(&ipam);
}

static void test_static_reservations(void **state)
{
	struct ip_prefix p = prefix("10.1.0.0/24");
	struct ip_addr gw = addr("10.1.0.1"), a2 = addr("10.1.0.2"), a9 = addr("10.1.0.9");
	struct ip_addr outside = addr("10.2.0.9"), v6 = addr("fd00::9");
	struct ipam ipam;

	assert_int_equal(ipam_init(&ipam, &p, &gw), 0);
	assert_int_equal(ipam_reserve(&ipam, &a9), 0);
	assert_int_equal(ipam_reserve(&ipam, &a9), -EADDRINUSE);
	assert_int_equal(ipam_reserve(&ipam, &a2), 0);
	/* Allocation skips both reservations. */
	assert_next(&ipam, "10.1.0.3");
	assert_int_equal(ipam_reserve(&ipam, &outside), -ERANGE);
	assert_int_equal(ipam_reserve(&ipam, &v6), -ERANGE);
	assert_int_equal(ipam_release(&ipam, &outside), -ERANGE);
	for (int i = 4; i < 9; i++) {
		char s[32];

		snprintf(s, sizeof(s), "10.1.0.%d", i);
		assert_next(&ipam, s);
	}
	assert_next(&ipam, "10.1.0.10");
	ipam_done(&ipam);
}

static void test_never_fixed(void **state)
{
	struct ip_prefix p = prefix("10.1.0.0/29");
	struct ip_addr gw = addr("10.1.0.3"), net = addr("10.1.0.0"), bcast = addr("10.1.0.7");
	struct ip_addr got;
	struct ipam ipam;
	char buf[INET6_ADDRSTRLEN];
	int n = 0;

	assert_int_equal(ipam_init(&ipam, &p, &gw), 0);
	assert_int_equal(ipam_reserve(&ipam, &net), -EINVAL);
	assert_int_equal(ipam_reserve(&ipam, &gw), -EINVAL);
	assert_int_equal(ipam_reserve(&ipam, &bcast), -EINVAL);
	assert_int_equal(ipam_release(&ipam, &gw), -EINVAL);
	assert_true(ipam_is_fixed(&ipam, &gw));
	assert_true(ipam_is_fixed(&ipam, &bcast));
	while (ipam_allocate(&ipam, &got) == 0) {
		ip_addr_format(&got, buf);
		assert_string_not_equal(buf, "10.1.0.0");
		assert_string_not_equal(buf, "10.1.0.3");
		assert_string_not_equal(buf, "10.1.0.7");
		n++;
	}
	/* .1 .2 .4 .5 .6 */
	assert_int_equal(n, 5);
	assert_int_equal(ipam_allocate(&ipam, &got), -ENOSPC);
	assert_int_equal(ipam_free_count(&ipam), 0);
	/* A release makes exactly that address available again. */
	got = addr("10.1.0.5");
	assert_int_equal(ipam_release(&ipam, &got), 0);
	assert_next(&ipam, "10.1.0.5");
	ipam_done(&ipam);
}

static void test_bad_pools(void **state)
{
	struct ip_prefix p31 = prefix("10.1.0.0/31"), p8 = prefix("10.0.0.0/8"),
			 p24 = prefix("10.1.0.0/24");
	struct ip_addr gw = addr("10.1.0.1"), net = addr("10.1.0.0"), bcast = addr("10.1.0.255"),
		       other = addr("10.2.0.1"), gw8 = addr("10.0.0.1");
	struct ipam ipam;

	assert_int_equal(ipam_init(&ipam, &p31, &net), -EINVAL);
	assert_int_equal(ipam_init(&ipam, &p8, &gw8), -EINVAL);
	assert_int_equal(ipam_init(&ipam, &p24, &net), -EINVAL);
	assert_int_equal(ipam_init(&ipam, &p24, &bcast), -EINVAL);
	assert_int_equal(ipam_init(&ipam, &p24, &other), -EINVAL);
	(void)gw;
}

static void test_full_slash16(void **state)
{
	struct ip_prefix p = prefix("10.9.0.0/16");
	struct ip_addr gw = addr("10.9.0.1"), got, mid = addr("10.9.128.77");
	struct ipam ipam;
	uint64_t n = 0;

	assert_int_equal(ipam_init(&ipam, &p, &gw), 0);
	while (ipam_allocate(&ipam, &got) == 0)
		n++;
	assert_int_equal(n, 65536 - 3);
	assert_int_equal(ipam_release(&ipam, &mid), 0);
	assert_next(&ipam, "10.9.128.77");
	assert_int_equal(ipam_allocate(&ipam, &got), -ENOSPC);
	ipam_done(&ipam);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lowest_free),
	    cmocka_unit_test(test_release_reuses_lowest),
	    cmocka_unit_test(test_static_reservations),
	    cmocka_unit_test(test_never_fixed),
	    cmocka_unit_test(test_bad_pools),
	    cmocka_unit_test(test_full_slash16),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
