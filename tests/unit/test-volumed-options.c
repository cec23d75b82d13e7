/* Unit tests for volumed/options.c: podwire-volumed's command line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "../../volumed/options.h"

static int parse(struct volumed_options *o, struct pw_error *err, ...)
{
	char *argv[16] = {"podwire-volumed"};
	int argc = 1;
	va_list ap;
	char *arg;

	va_start(ap, err);
	while ((arg = va_arg(ap, char *)) && argc < 15)
		argv[argc++] = arg;
	va_end(ap);
	return volumed_options_parse(argc, argv, o, err);
}

static void test_defaults(void **state)
{
	struct volumed_options o;

	assert_int_equal(parse(&o, NULL, NULL), 0);
	assert_int_equal(o.action, VOLUMED_RUN);
	assert_string_equal(o.run_dir, "/run/podwire");
	assert_string_equal(o.state_dir, "/var/lib/podwire/volumed");
	assert_null(o.admin_group);
	assert_int_equal(o.log_level, LOG_LEVEL_INFO);
}

static void test_all(void **state)
{
	struct volumed_options o;

	assert_int_equal(parse(&o, NULL, "--run-dir", "/tmp/r", "--state-dir=/tmp/s", "--log-level",
			       "debug", "--admin-group", "wheel", NULL),
			 0);
	assert_string_equal(o.run_dir, "/tmp/r");
	assert_string_equal(o.state_dir, "/tmp/s");
	assert_string_equal(o.admin_group, "wheel");
	assert_int_equal(o.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(parse(&o, NULL, "--help", NULL), 0);
	assert_int_equal(o.action, VOLUMED_HELP);
	assert_int_equal(parse(&o, NULL, "-h", NULL), 0);
	assert_int_equal(o.action, VOLUMED_HELP);
	assert_int_equal(parse(&o, NULL, "--version", NULL), 0);
	assert_int_equal(o.action, VOLUMED_VERSION_ACTION);
}

static void test_errors(void **state)
{
	struct volumed_options o;
	struct pw_error err = {};

	assert_int_equal(parse(&o, &err, "--run-dir", "relative", NULL), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "absolute"));
	assert_int_equal(parse(&o, &err, "--log-level", "loud", NULL), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "loud"));
	assert_int_equal(parse(&o, &err, "--bogus", NULL), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "--bogus"));
	assert_int_equal(parse(&o, &err, "--state-dir", NULL), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "needs a value"));
	assert_int_equal(parse(&o, &err, "extra", NULL), -EINVAL);
	assert_int_equal(parse(&o, &err, "--admin-group", "", NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_all),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
