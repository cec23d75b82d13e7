/* Unit tests for lib/name.c: which names users may give objects. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "name.h"

static void test_vnet(void **state)
{
	struct pw_error err = {};

	assert_int_equal(name_validate_vnet("prod", &err), 0);
	assert_int_equal(name_validate_vnet("a-1", &err), 0);
	assert_int_equal(name_validate_vnet("abcdefghijkl", &err), 0); /* 12 */
	assert_int_equal(name_validate_vnet("abcdefghijklm", &err), -EINVAL);
	assert_non_null(strstr(err.message, "longer than 12"));
	assert_int_equal(name_validate_vnet("", &err), -EINVAL);
	assert_int_equal(name_validate_vnet("Prod", &err), -EINVAL);
	assert_int_equal(name_validate_vnet("-x", &err), -EINVAL);
	assert_int_equal(name_validate_vnet("x-", &err), -EINVAL);
	assert_int_equal(name_validate_vnet("a/b", &err), -EINVAL);
	assert_int_equal(name_validate_vnet("a b", &err), -EINVAL);
	assert_int_equal(name_validate_vnet("../x", &err), -EINVAL);
}

static void test_group_share(void **state)
{
	struct pw_error err = {};
	char long_id[GROUP_ID_MAX + 2];

	assert_int_equal(name_validate_group("web-1.prod_A", &err), 0);
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[GROUP_ID_MAX] = '\0';
	assert_int_equal(name_validate_group(long_id, &err), 0);
	long_id[GROUP_ID_MAX] = 'a';
	long_id[GROUP_ID_MAX + 1] = '\0';
	assert_int_equal(name_validate_group(long_id, &err), -EINVAL);
	assert_int_equal(name_validate_group("..", &err), -EINVAL);
	assert_int_equal(name_validate_group("a/b", &err), -EINVAL);
	assert_int_equal(name_validate_share("data", &err), 0);
	assert_int_equal(name_validate_share("../etc", &err), -EINVAL);
	assert_int_equal(name_validate_share(".", &err), -EINVAL);
	assert_int_equal(name_validate_share(".hidden", &err), -EINVAL);
	assert_int_equal(name_validate_share("a\nb", &err), -EINVAL);
	assert_null(strchr(err.message, '\n')); /* errors stay one line */
}

static void test_dns(void **state)
{
	struct pw_error err = {};
	char label[70], name[300];

	assert_int_equal(name_validate_hostname("web-1", &err), 0);
	assert_int_equal(name_validate_hostname("web.x", &err), -EINVAL);
	assert_int_equal(name_validate_hostname("-web", &err), -EINVAL);
	memset(label, 'a', 64);
	label[64] = '\0';
	assert_int_equal(name_validate_hostname(label, &err), -EINVAL);
	label[63] = '\0';
	assert_int_equal(name_validate_hostname(label, &err), 0);

	assert_int_equal(name_validate_domain("prod.internal", &err), 0);
	assert_int_equal(name_validate_domain("prod.internal.", &err), 0);
	assert_int_equal(name_validate_domain("_sip._tcp.corp", &err), 0);
	assert_int_equal(name_validate_domain("a..b", &err), -EINVAL);
	assert_int_equal(name_validate_domain(".a", &err), -EINVAL);
	/* 4 * 63 + 3 dots = 255 > 253 */
	snprintf(name, sizeof(name), "%s.%s.%s.%s", label, label, label, label);
	assert_int_equal(name_validate_domain(name, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnet),
		cmocka_unit_test(test_group_share),
		cmocka_unit_test(test_dns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
