/* Unit tests for volumed/share.c: share settings parsed from JSON (strict,
 * with clear errors), modes, snapshot names, restore paths and backing
 * directories. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "../../volumed/share.h"

static int parse(const char *text, struct share_config *c, struct pw_error *err)
{
	json_t *obj = json_loads(text, 0, NULL);
	int r;

	assert_non_null(obj);
	r = share_config_from_json(obj, c, err);
	json_decref(obj);
	return r;
}

static void test_minimal(void **state)
{
	struct share_config c;
	struct pw_error err = {};

	assert_int_equal(parse("{\"name\":\"data\"}", &c, &err), 0);
	assert_string_equal(c.name, "data");
	assert_null(c.backing);
	assert_int_equal(c.quota_bytes, 0);
	assert_int_equal(c.uid, -1);
	assert_int_equal(c.file_mode, -1);
	share_config_done(&c);
}

static void test_full_roundtrip(void **state)
{
	struct share_config c, back;
	struct pw_error err = {};
	json_t *obj;

	assert_int_equal(parse("{\"name\":\"web-data_1.x\",\"backing\":\"/srv/data/\","
			       "\"quota_bytes\":1073741824,\"quota_files\":1000,\"uid\":1000,"
			       "\"gid\":0,\"file_mode\":\"0640\",\"dir_mode\":493}",
			       &c, &err),
			 0);
	assert_string_equal(c.backing, "/srv/data"); /* one spelling */
	assert_int_equal(c.quota_bytes, 1073741824);
	assert_int_equal(c.gid, 0);
	assert_int_equal(c.file_mode, 0640);
	assert_int_equal(c.dir_mode, 0755);
	obj = share_config_to_json(&c);
	assert_string_equal(json_string_value(json_object_get(obj, "file_mode")), "0640");
	assert_int_equal(share_config_from_json(obj, &back, &err), 0);
	assert_true(share_config_equal(&c, &back));
	back.quota_files++;
	assert_false(share_config_equal(&c, &back));
	json_decref(obj);
	share_config_done(&c);
	share_config_done(&back);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
	    "{}",
	    "{\"name\":\"../etc\"}",
	    "{\"name\":\".hidden\"}",
	    "{\"name\":\"a/b\"}",
	    "{\"name\":\"\"}",
	    "{\"name\":\"x\",\"extra\":1}",
	    "{\"name\":\"x\",\"quota_bytes\":-1}",
	    "{\"name\":\"x\",\"quota_bytes\":\"1G\"}",
	    "{\"name\":\"x\",\"uid\":-5}",
	    "{\"name\":\"x\",\"uid\":4294967295}",
	    "{\"name\":\"x\",\"file_mode\":\"0999\"}",
	    "{\"name\":\"x\",\"file_mode\":\"rwx\"}",
	    "{\"name\":\"x\",\"dir_mode\":70000}",
	    "{\"name\":\"x\",\"backing\":\"relative\"}",
	    "{\"name\":\"x\",\"backing\":\"/srv/../etc\"}",
	    "{\"name\":\"x\",\"backing\":\"/\"}",
	    "{\"name\":\"x\",\"backing\":\"/srv//x\"}",
	    "{\"name\":1}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct share_config c;
		struct pw_error err = {};

		if (parse(bad[i], &c, &err) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_true(strlen(pw_error_message(&err)) > 0);
		assert_null(strchr(pw_error_message(&err), '\n'));
	}
}

static void test_modes(void **state)
{
	int m;
	char buf[8];

	assert_int_equal(share_mode_parse("0644", &m), 0);
	assert_int_equal(m, 0644);
	assert_int_equal(share_mode_parse("755", &m), 0);
	assert_int_equal(m, 0755);
	assert_int_equal(share_mode_parse("0o2775", &m), 0);
	assert_int_equal(m, 02775);
	assert_int_equal(share_mode_parse("8", &m), -EINVAL);
	assert_int_equal(share_mode_parse("", &m), -EINVAL);
	assert_int_equal(share_mode_parse("-644", &m), -EINVAL);
	assert_int_equal(share_mode_parse("17777", &m), -EINVAL);
	assert_string_equal(share_mode_format(0640, buf), "0640");
}

static void test_snapshot_names(void **state)
{
	assert_int_equal(snapshot_name_validate("20261128-074001", NULL), 0);
	assert_int_equal(snapshot_name_validate("before_upgrade.v2", NULL), 0);
	assert_int_equal(snapshot_name_validate("", NULL), -EINVAL);
	assert_int_equal(snapshot_name_validate("..", NULL), -EINVAL);
	assert_int_equal(snapshot_name_validate(".tmp", NULL), -EINVAL);
	assert_int_equal(snapshot_name_validate("a/b", NULL), -EINVAL);
	assert_int_equal(snapshot_name_validate("-x", NULL), -EINVAL);
	assert_int_equal(snapshot_name_validate("sp ace", NULL), -EINVAL);
	char long_name[SNAPSHOT_NAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(snapshot_name_validate(long_name, NULL), -EINVAL);
	long_name[SNAPSHOT_NAME_MAX] = '\0';
	assert_int_equal(snapshot_name_validate(long_name, NULL), 0);
}

static void test_paths(void **state)
{
	assert_int_equal(share_path_validate("dir/file.txt", NULL), 0);
	assert_int_equal(share_path_validate("file", NULL), 0);
	assert_int_equal(share_path_validate("...", NULL), 0); /* a name, not .. */
	assert_int_equal(share_path_validate("", NULL), -EINVAL);
	assert_int_equal(share_path_validate("/etc/passwd", NULL), -EINVAL);
	assert_int_equal(share_path_validate("../x", NULL), -EINVAL);
	assert_int_equal(share_path_validate("a/../../x", NULL), -EINVAL);
	assert_int_equal(share_path_validate("a/./b", NULL), -EINVAL);
	assert_int_equal(share_path_validate("a//b", NULL), -EINVAL);
	assert_int_equal(share_path_validate("a/", NULL), -EINVAL);
	assert_int_equal(share_path_validate("..", NULL), -EINVAL);

	assert_int_equal(share_backing_validate("/srv/share", NULL), 0);
	assert_int_equal(share_backing_validate("/srv/share/", NULL), 0);
	assert_int_equal(share_backing_validate("/", NULL), -EINVAL);
	assert_int_equal(share_backing_validate("srv", NULL), -EINVAL);
	assert_int_equal(share_backing_validate("/srv/./x", NULL), -EINVAL);
	assert_int_equal(share_backing_validate("/srv/..", NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal),	   cmocka_unit_test(test_full_roundtrip),
	    cmocka_unit_test(test_refused),	   cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_snapshot_names), cmocka_unit_test(test_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
