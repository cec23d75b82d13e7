/* The pure parts of netd/vxlan.c: the inner MTU and the unknown-VTEP
 * nftables script (the kernel parts are tests/system/test-vxlan-dataplane.sh). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../netd/vxlan.h"

static void test_mtu(void **state)
{
	unsigned mtu = 0;

	assert_int_equal(vxlan_mtu(1500, AF_INET, &mtu), 0);
	assert_int_equal(mtu, 1450);
	assert_int_equal(vxlan_mtu(1500, AF_INET6, &mtu), 0);
	assert_int_equal(mtu, 1430);
	assert_int_equal(vxlan_mtu(9000, AF_INET, &mtu), 0);
	assert_int_equal(mtu, 8950);
	/* The smallest that leaves 68 bytes inside. */
	assert_int_equal(vxlan_mtu(118, AF_INET, &mtu), 0);
	assert_int_equal(mtu, 68);
	mtu = 7;
	assert_int_equal(vxlan_mtu(117, AF_INET, &mtu), -ERANGE);
	assert_int_equal(vxlan_mtu(137, AF_INET6, &mtu), -ERANGE);
	assert_int_equal(vxlan_mtu(0, AF_INET, &mtu), -ERANGE);
	assert_int_equal(vxlan_mtu(1500, AF_UNIX, &mtu), -EAFNOSUPPORT);
	assert_int_equal(mtu, 7); /* untouched on failure */
}

static void assert_contains(const char *text, const char *part)
{
	if (!strstr(text, part))
		fail_msg("'%s' not in:\n%s", part, text);
}

static void test_filter_script(void **state)
{
	struct ip_addr vteps[3];
	char *script = NULL;

	assert_int_equal(ip_addr_parse("192.0.2.2", AF_UNSPEC, &vteps[0]), 0);
	assert_int_equal(ip_addr_parse("2001:db8::2", AF_UNSPEC, &vteps[1]), 0);
	assert_int_equal(ip_addr_parse("192.0.2.3", AF_UNSPEC, &vteps[2]), 0);
	assert_int_equal(vxlan_filter_script("eth0", vteps, 3, &script), 0);
	/* Replaced in one transaction, both families' sets, the hook. */
	assert_true(strncmp(script, "table netdev podwire\ndelete table netdev podwire\n", 48) ==
		    0);
	assert_contains(script, "elements = { 192.0.2.2, 192.0.2.3 }");
	assert_contains(script, "elements = { 2001:db8::2 }");
	assert_contains(script, "hook ingress device \"eth0\"");
	assert_contains(script, "udp dport 4789 ip saddr != @vteps4 counter drop");
	assert_contains(script, "udp dport 4789 ip6 saddr != @vteps6 counter drop");
	free(script);

	/* No VTEPs: empty sets, so every VXLAN packet is dropped. */
	script = NULL;
	assert_int_equal(vxlan_filter_script("ens3", NULL, 0, &script), 0);
	assert_null(strstr(script, "elements"));
	assert_contains(script, "set vteps4 {\n\t\ttype ipv4_addr\n\t}");
	free(script);
}

static void test_filter_script_bad(void **state)
{
	struct ip_addr bad = {.family = AF_UNSPEC};
	char *script = NULL;

	assert_int_equal(vxlan_filter_script("", NULL, 0, &script), -EINVAL);
	assert_int_equal(vxlan_filter_script("eth0\"; flush ruleset", NULL, 0, &script), -EINVAL);
	assert_int_equal(vxlan_filter_script("averyverylongname", NULL, 0, &script), -EINVAL);
	assert_int_equal(vxlan_filter_script("eth 0", NULL, 0, &script), -EINVAL);
	assert_int_equal(vxlan_filter_script("eth0", &bad, 1, &script), -EINVAL);
	assert_null(script);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mtu),
	    cmocka_unit_test(test_filter_script),
	    cmocka_unit_test(test_filter_script_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
