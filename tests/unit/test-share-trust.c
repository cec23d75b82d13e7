/* Unit tests for volumed/share-trust.c: a share's trust policy (modes,
 * keyset names, the keep/clear rules of share.set), its place in the
 * share's state (old state = off), the hook's verdict and the share.use
 * decision with its one-line refusals. */
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

static void test_modes(void **state)
{
	enum share_trust_mode mode;
	struct pw_error err = {};

	assert_int_equal(share_trust_mode_parse("off", &mode, NULL), 0);
	assert_int_equal(mode, SHARE_TRUST_OFF);
	assert_int_equal(share_trust_mode_parse("audit", &mode, NULL), 0);
	assert_int_equal(mode, SHARE_TRUST_AUDIT);
	assert_int_equal(share_trust_mode_parse("enforce", &mode, NULL), 0);
	assert_int_equal(mode, SHARE_TRUST_ENFORCE);
	assert_string_equal(share_trust_mode_name(SHARE_TRUST_ENFORCE), "enforce");
	assert_int_equal(share_trust_mode_parse("maybe", &mode, &err), -EINVAL);
	assert_string_equal(pw_error_message(&err),
			    "trust 'maybe' is not one of off, audit, enforce");
	assert_int_equal(share_trust_mode_parse("Enforce", &mode, NULL), -EINVAL);
	assert_int_equal(share_trust_mode_parse("", &mode, NULL), -EINVAL);
}

static void test_keyset_names(void **state)
{
	struct pw_error err = {};

	assert_int_equal(share_trust_keyset_validate("prod", NULL), 0);
	assert_int_equal(share_trust_keyset_validate("team-a-2026", NULL), 0);
	assert_int_equal(share_trust_keyset_validate("../etc", &err), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "keyset name '../etc' is invalid"));
	assert_null(strchr(pw_error_message(&err), '\n'));
	assert_int_equal(share_trust_keyset_validate("a/b", NULL), -EINVAL);
	assert_int_equal(share_trust_keyset_validate("Prod", NULL), -EINVAL);
	assert_int_equal(share_trust_keyset_validate("-x", NULL), -EINVAL);
	assert_int_equal(share_trust_keyset_validate("", NULL), -EINVAL);
	assert_int_equal(share_trust_keyset_validate("abcdefghijklm", NULL), -EINVAL); /* 13 */
	assert_int_equal(share_trust_keyset_validate("x\ny", &err), -EINVAL);
	assert_null(strchr(pw_error_message(&err), '\n'));
}

static void test_apply(void **state)
{
	struct share_trust off = {SHARE_TRUST_OFF, NULL}, enforce = {SHARE_TRUST_ENFORCE, "prod"};
	struct share_trust p = {SHARE_TRUST_AUDIT, (char *)"untouched"};
	struct pw_error err = {};

	/* From off: a mode needs keys, keys need a mode. */
	assert_int_equal(share_trust_apply(&off, "enforce", NULL, &p, &err), -EINVAL);
	assert_string_equal(pw_error_message(&err),
			    "trust enforce needs trust_keys (a keyset name)");
	assert_string_equal(p.keys, "untouched"); /* ret untouched on failure */
	assert_int_equal(share_trust_apply(&off, NULL, "prod", &p, &err), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "trust_keys needs trust audit or enforce"));
	assert_int_equal(share_trust_apply(&off, "off", "prod", &p, NULL), -EINVAL);
	assert_int_equal(share_trust_apply(&off, "maybe", "prod", &p, NULL), -EINVAL);
	assert_int_equal(share_trust_apply(&off, "audit", "../k", &p, NULL), -EINVAL);

	assert_int_equal(share_trust_apply(&off, "audit", "prod", &p, NULL), 0);
	assert_int_equal(p.mode, SHARE_TRUST_AUDIT);
	assert_string_equal(p.keys, "prod");
	share_trust_done(&p);
	assert_int_equal(share_trust_apply(&off, NULL, NULL, &p, NULL), 0);
	assert_int_equal(p.mode, SHARE_TRUST_OFF);

	/* From enforce: a mode alone keeps the keys, keys alone the mode,
	 * off drops the keys. */
	assert_int_equal(share_trust_apply(&enforce, "audit", NULL, &p, NULL), 0);
	assert_int_equal(p.mode, SHARE_TRUST_AUDIT);
	assert_string_equal(p.keys, "prod");
	assert_ptr_not_equal(p.keys, enforce.keys); /* a copy */
	share_trust_done(&p);
	assert_int_equal(share_trust_apply(&enforce, NULL, "staging", &p, NULL), 0);
	assert_int_equal(p.mode, SHARE_TRUST_ENFORCE);
	assert_string_equal(p.keys, "staging");
	share_trust_done(&p);
	assert_int_equal(share_trust_apply(&enforce, "off", NULL, &p, NULL), 0);
	assert_int_equal(p.mode, SHARE_TRUST_OFF);
	assert_null(p.keys);
	assert_int_equal(share_trust_apply(&enforce, "off", "prod", &p, NULL), -EINVAL);
}

static void test_config(void **state)
{
	struct share_config c, back, old;
	struct pw_error err = {};
	json_t *obj;

	assert_int_equal(
	    parse("{\"name\":\"data\",\"trust\":\"enforce\",\"trust_keys\":\"prod\"}", &c, &err),
	    0);
	assert_int_equal(c.trust.mode, SHARE_TRUST_ENFORCE);
	assert_string_equal(c.trust.keys, "prod");
	obj = share_config_to_json(&c);
	assert_string_equal(json_string_value(json_object_get(obj, "trust")), "enforce");
	assert_string_equal(json_string_value(json_object_get(obj, "trust_keys")), "prod");
	assert_int_equal(share_config_from_json(obj, &back, &err), 0);
	assert_true(share_config_equal(&c, &back));
	json_decref(obj);

	/* State written before trust existed loads as off, and an off share
	 * writes no trust fields (older volumed versions read it). */
	assert_int_equal(parse("{\"name\":\"data\",\"quota_bytes\":10}", &old, &err), 0);
	assert_int_equal(old.trust.mode, SHARE_TRUST_OFF);
	assert_null(old.trust.keys);
	obj = share_config_to_json(&old);
	assert_null(json_object_get(obj, "trust"));
	assert_null(json_object_get(obj, "trust_keys"));
	json_decref(obj);

	/* Same share with another policy is another setting. */
	back.trust.mode = SHARE_TRUST_AUDIT;
	assert_false(share_config_equal(&c, &back));
	share_config_done(&c);
	share_config_done(&back);
	share_config_done(&old);

	assert_int_equal(
	    parse("{\"name\":\"x\",\"trust\":\"maybe\",\"trust_keys\":\"k\"}", &c, &err), -EINVAL);
	assert_int_equal(parse("{\"name\":\"x\",\"trust\":\"enforce\"}", &c, &err), -EINVAL);
	assert_int_equal(parse("{\"name\":\"x\",\"trust_keys\":\"k\"}", &c, &err), -EINVAL);
	assert_int_equal(
	    parse("{\"name\":\"x\",\"trust\":\"audit\",\"trust_keys\":\"../k\"}", &c, &err),
	    -EINVAL);
	assert_int_equal(parse("{\"name\":\"x\",\"trust\":true}", &c, &err), -EINVAL);
}

static int verdict(const char *text, struct share_verdict *v, json_t **ret_obj)
{
	*ret_obj = json_loads(text, 0, NULL);
	assert_non_null(*ret_obj);
	return share_verdict_from_json(*ret_obj, v, NULL);
}

static void test_verdict(void **state)
{
	struct share_verdict v;
	json_t *obj;

	assert_int_equal(
	    verdict("{\"trusted\":false,\"image\":\"r/app:1\",\"digest\":\"sha256:ab\","
		    "\"reason\":\"wrong key\",\"message\":\"m\"}",
		    &v, &obj),
	    0);
	assert_false(v.trusted);
	assert_string_equal(v.reason, "wrong key");
	assert_string_equal(v.message, "m");
	json_decref(obj);
	assert_int_equal(verdict("{\"trusted\":true}", &v, &obj), 0);
	assert_true(v.trusted);
	assert_null(v.message);
	json_decref(obj);
	assert_int_equal(verdict("{}", &v, &obj), -EINVAL);
	json_decref(obj);
	assert_int_equal(verdict("{\"trusted\":\"yes\"}", &v, &obj), -EINVAL);
	json_decref(obj);
	assert_int_equal(verdict("{\"trusted\":true,\"extra\":1}", &v, &obj), -EINVAL);
	json_decref(obj);
}

static void test_admit(void **state)
{
	struct share_trust off = {SHARE_TRUST_OFF, NULL};
	struct share_trust audit = {SHARE_TRUST_AUDIT, "prod"};
	struct share_trust enforce = {SHARE_TRUST_ENFORCE, "prod"};
	struct share_verdict good = {.trusted = true};
	struct share_verdict bad = {.trusted = false,
				    .reason = "wrong key",
				    .message = "image r/evil:1 (sha256:29): wrong key: signed by "
					       "key FBA6\nsecond line"};
	struct share_verdict bare = {.trusted = false, .reason = "unsigned"};
	struct pw_error err = {};

	assert_int_equal(share_trust_admit("data", &off, NULL, NULL), 0);
	assert_int_equal(share_trust_admit("data", &off, &bad, NULL), 0);
	assert_int_equal(share_trust_admit("data", &audit, &good, NULL), 0);
	assert_int_equal(share_trust_admit("data", &audit, NULL, NULL), 1);
	assert_int_equal(share_trust_admit("data", &audit, &bad, NULL), 1);
	assert_int_equal(share_trust_admit("data", &enforce, &good, NULL), 0);

	assert_int_equal(share_trust_admit("data", &enforce, NULL, &err), -EACCES);
	assert_string_equal(pw_error_message(&err),
			    "share 'data' admits only signed images (trust enforce): no image "
			    "identity: the caller passed no verdict");
	assert_int_equal(share_trust_admit("data", &enforce, &bad, &err), -EACCES);
	assert_string_equal(pw_error_message(&err),
			    "share 'data' admits only signed images (trust enforce): image "
			    "r/evil:1 (sha256:29): wrong key: signed by key FBA6?second line");
	char buf[64];
	struct share_verdict odd = {.reason = "wrong\nkey"};
	assert_string_equal(share_verdict_reason(NULL, buf), "no verdict");
	assert_string_equal(share_verdict_reason(&(struct share_verdict){}, buf), "untrusted");
	assert_string_equal(share_verdict_reason(&bad, buf), "wrong key");
	assert_string_equal(share_verdict_reason(&odd, buf), "wrong?key");

	assert_int_equal(share_trust_admit("data", &enforce, &bare, &err), -EACCES);
	assert_string_equal(pw_error_message(&err),
			    "share 'data' admits only signed images (trust enforce): unsigned");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modes),   cmocka_unit_test(test_keyset_names),
	    cmocka_unit_test(test_apply),   cmocka_unit_test(test_config),
	    cmocka_unit_test(test_verdict), cmocka_unit_test(test_admit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
