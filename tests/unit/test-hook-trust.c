/* Unit tests for runtime-hooks/hook/trust.c: the hook's trust policies,
 * which container podwire-trust looks at (podman or CRI-O), its
 * arguments, reading its --json verdict, and the decision. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../../runtime-hooks/hook/trust.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define IMG  "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* A wait status as waitpid() reports a normal exit. */
#define EXITED(code) ((code) << 8)

static struct trust_check *new_check(void)
{
	struct trust_check *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	return c;
}

static void test_modes(void **state)
{
	enum trust_mode m;

	assert_int_equal(trust_mode_parse(NULL, &m), 0); /* an older daemon: off */
	assert_int_equal(m, TRUST_MODE_OFF);
	assert_int_equal(trust_mode_parse("audit", &m), 0);
	assert_int_equal(m, TRUST_MODE_AUDIT);
	assert_int_equal(trust_mode_parse("enforce", &m), 0);
	assert_string_equal(trust_mode_name(m), "enforce");
	assert_int_equal(trust_mode_parse("Enforce", &m), -EINVAL);
}

static void test_check_add(void **state)
{
	struct trust_check *c = new_check();
	struct pw_error err = {};

	assert_int_equal(trust_check_add(c, false, "front", NULL, NULL, &err), 0);
	assert_false(trust_check_needed(c));
	assert_int_equal(trust_check_add(c, false, "secure", "enforce", "prod", &err), 0);
	assert_int_equal(trust_check_add(c, true, "data", "audit", "prod", &err), 0);
	assert_int_equal(trust_check_add(c, true, "logs", "enforce", "dev", &err), 0);
	assert_true(trust_check_needed(c));
	/* One keyset entry per name: one podwire-trust run each. */
	assert_int_equal(c->keyset_count, 2);
	assert_int_equal(c->objects[1].keyset, c->objects[2].keyset);
	assert_string_equal(c->keysets[c->objects[3].keyset].name, "dev");

	assert_int_equal(trust_check_add(c, false, "x", "strict", "prod", &err), -EBADMSG);
	assert_string_equal(err.message, "vnet 'x': unknown trust mode 'strict'");
	assert_int_equal(trust_check_add(c, true, "y", "audit", NULL, &err), -EBADMSG);
	assert_string_equal(err.message, "share 'y': trust audit with a bad keyset name ''");
	assert_int_equal(trust_check_add(c, true, "y", "audit", "../etc", &err), -EBADMSG);
	assert_int_equal(c->object_count, 4);
	free(c);
}

static void test_target_podman(void **state)
{
	const char *bundle = "/var/lib/containers/storage/overlay-containers/" ID_A "/userdata";
	json_t *annotations = json_object();
	struct trust_target t;

	trust_target_build(ID_A, bundle, bundle, "/r", "/run/containers/storage", annotations, &t);
	assert_false(t.crio);
	assert_false(t.foreign_bundle);
	assert_string_equal(t.bundle, bundle);
	assert_string_equal(t.rootfs, "/r");

	/* A bundle in the storage naming another container than the state. */
	trust_target_build(ID_B, bundle, bundle, "/r", "/run/containers/storage", annotations, &t);
	assert_true(t.foreign_bundle);
	assert_string_equal(t.container_id, ID_A);

	/* A hand-made bundle: podwire-trust says "no identity". */
	trust_target_build("web", "/srv/b", "/srv/b", "/srv/b/rootfs", NULL, annotations, &t);
	assert_false(t.crio);
	assert_false(t.foreign_bundle);
	json_decref(annotations);
}

static void test_target_crio(void **state)
{
	const char *bundle = "/run/containers/storage/overlay-containers/" ID_A "/userdata";
	json_t *annotations = json_pack("{s:s}", "io.kubernetes.cri-o.ImageRef", IMG);
	json_t *none = json_object();
	struct trust_target t;

	trust_target_build(ID_A, bundle, bundle, "/m", "/run/containers/storage", annotations, &t);
	assert_true(t.crio);
	assert_string_equal(t.container_id, ID_A);
	assert_string_equal(t.driver, "overlay");
	assert_string_equal(t.image_ref, IMG);

	/* The annotation alone is not CRI-O: a user can set it. */
	trust_target_build(ID_A, "/srv/b", "/srv/b", "/m", "/run/containers/storage", annotations,
			   &t);
	assert_false(t.crio);
	/* In the run root, but not the runtime's container. */
	trust_target_build(ID_B, bundle, bundle, "/m", "/run/containers/storage", annotations, &t);
	assert_false(t.crio);
	/* Another run root (a prefix of the path is not enough). */
	trust_target_build(ID_A, bundle, bundle, "/m", "/run/containers", annotations, &t);
	assert_false(t.crio);
	/* In the run root without the annotation: the podman way. */
	trust_target_build(ID_A, bundle, bundle, "/m", "/run/containers/storage", none, &t);
	assert_false(t.crio);
	assert_false(t.foreign_bundle);
	json_decref(annotations);
	json_decref(none);
}

static char *join(const char *argv[])
{
	static char buf[4096];

	buf[0] = '\0';
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, argv[i]);
	}
	return buf;
}

static void test_argv(void **state)
{
	struct trust_keyset ks = {.found = true};
	struct trust_config cfg = {};
	struct trust_target podman = {.bundle = "/s/vfs-containers/x/userdata", .rootfs = "/r"};
	struct trust_target crio = {.crio = true,
				    .container_id = ID_A,
				    .driver = "overlay",
				    .image_ref = "sha256:" IMG,
				    .bundle = "/b",
				    .rootfs = "/m"};
	const char *argv[TRUST_ARGV_MAX];

	strcpy(ks.cosign_key, "/var/lib/podwire/netd/trust/k/cosign.pub");
	trust_helper_argv("/bin/podwire-trust", &cfg, &podman, &ks, argv);
	assert_string_equal(
	    join(argv), "/bin/podwire-trust verify --json --bundle /s/vfs-containers/x/userdata "
			"--rootfs /r --storage-root /var/lib/containers/storage --run-root "
			"/run/containers/storage --cosign-key "
			"/var/lib/podwire/netd/trust/k/cosign.pub");

	/* Both keys and a repository; another graph root has no default run root. */
	strcpy(ks.gpg_keyring, "/k/keyring.gpg");
	strcpy(ks.repository, "registry.example/app");
	cfg.graph_root = "/s";
	trust_helper_argv("t", &cfg, &podman, &ks, argv);
	assert_string_equal(join(argv), "t verify --json --bundle /s/vfs-containers/x/userdata "
					"--rootfs /r --storage-root /s --cosign-key "
					"/var/lib/podwire/netd/trust/k/cosign.pub --gpg-keyring "
					"/k/keyring.gpg --repository registry.example/app");

	ks.cosign_key[0] = '\0';
	ks.repository[0] = '\0';
	cfg.run_root = "/run/s";
	trust_helper_argv("t", &cfg, &crio, &ks, argv);
	assert_string_equal(join(argv), "t verify --json --container " ID_A
					" --driver overlay --image-id sha256:" IMG
					" --rootfs /m --storage-root /s --run-root /run/s "
					"--gpg-keyring /k/keyring.gpg");
}

static void test_verdict_parse(void **state)
{
	struct trust_verdict_info v;
	struct pw_error err = {};
	const char *ok = "{\"trusted\":true,\"reason\":\"trusted\",\"image\":\"r/app:1\","
			 "\"digest\":\"sha256:11\",\"message\":\"signed reference 'r/app'\"}\n";
	const char *bad = "{\"trusted\":false,\"reason\":\"wrong key\",\"image\":\"r/evil:1\","
			  "\"digest\":\"sha256:22\",\"message\":\"signed by key FBA6\"}\n";

	assert_int_equal(trust_verdict_parse(EXITED(0), ok, strlen(ok), "", &v, &err), 0);
	assert_true(v.trusted);
	assert_string_equal(v.image, "r/app:1");
	assert_string_equal(v.message, "signed reference 'r/app'");

	assert_int_equal(trust_verdict_parse(EXITED(1), bad, strlen(bad),
					     "podwire-trust: image r/evil:1 ...\n", &v, &err),
			 0);
	assert_false(v.trusted);
	assert_string_equal(v.reason, "wrong key");
	assert_string_equal(v.digest, "sha256:22");

	/* Exit 1 without a verdict: the helper could not check (a key file). */
	assert_int_equal(trust_verdict_parse(EXITED(1), "", 0,
					     "podwire-trust: /k/cosign.pub: not a P-256 key\n"
					     "more\n",
					     &v, &err),
			 -EINVAL);
	assert_string_equal(err.message, "podwire-trust gave no verdict (status 1): "
					 "podwire-trust: /k/cosign.pub: not a P-256 key");
	/* A usage error is never a verdict, even with JSON. */
	assert_int_equal(trust_verdict_parse(EXITED(2), ok, strlen(ok), "", &v, &err), -EINVAL);
	assert_string_equal(err.message, "podwire-trust exited with status 2: no message");
	/* A status that contradicts the JSON. */
	assert_int_equal(trust_verdict_parse(EXITED(0), bad, strlen(bad), "", &v, &err), -EBADMSG);
	assert_int_equal(trust_verdict_parse(EXITED(1), ok, strlen(ok), "", &v, &err), -EBADMSG);
	/* Killed (the timeout, the OOM killer). */
	assert_int_equal(trust_verdict_parse(SIGKILL, "", 0, "", &v, &err), -EIO);
	assert_string_equal(err.message, "podwire-trust was killed by signal 9");
	/* A field missing or of the wrong type. */
	const char *partial = "{\"trusted\":false,\"reason\":\"unsigned\"}";
	assert_int_equal(trust_verdict_parse(EXITED(1), partial, strlen(partial), "", &v, &err),
			 -EBADMSG);
	const char *typed = "{\"trusted\":\"no\",\"reason\":\"x\",\"image\":\"i\","
			    "\"digest\":\"d\",\"message\":\"m\"}";
	assert_int_equal(trust_verdict_parse(EXITED(1), typed, strlen(typed), "", &v, &err),
			 -EBADMSG);
}

static void test_verdict_long_fields(void **state)
{
	struct trust_verdict_info v;
	struct pw_error err = {};
	char image[2000], *out;

	memset(image, 'a', sizeof(image) - 1);
	image[sizeof(image) - 1] = '\0';
	assert_true(asprintf(&out,
			     "{\"trusted\":false,\"reason\":\"unsigned\",\"image\":\"%s\","
			     "\"digest\":\"d\",\"message\":\"m\"}",
			     image) > 0);
	assert_int_equal(trust_verdict_parse(EXITED(1), out, strlen(out), "", &v, &err), 0);
	assert_int_equal(strlen(v.image), TRUST_IMAGE_MAX);
	free(out);

	/* A control character would split the hook's line (and netd refuses it). */
	const char *ctl = "{\"trusted\":false,\"reason\":\"no identity\",\"image\":\"(no image)\","
			  "\"digest\":\"(no digest)\",\"message\":\"rootfs /a\\nb: gone\\u007f\"}";
	assert_int_equal(trust_verdict_parse(EXITED(1), ctl, strlen(ctl), "", &v, &err), 0);
	assert_string_equal(v.message, "rootfs /a?b: gone?");
}

static void set_verdict(struct trust_check *c, const char *keyset, bool trusted, const char *reason)
{
	for (size_t i = 0; i < c->keyset_count; i++)
		if (streq(c->keysets[i].name, keyset)) {
			c->keysets[i].found = true;
			c->keysets[i].verdict = (struct trust_verdict_info){.trusted = trusted};
			strcpy(c->keysets[i].verdict.image, "r/app:1");
			strcpy(c->keysets[i].verdict.digest, "sha256:11");
			strcpy(c->keysets[i].verdict.reason, reason);
			strcpy(c->keysets[i].verdict.message, "detail");
		}
}

static void test_decision(void **state)
{
	struct trust_check *c = new_check();
	struct pw_error err = {};
	const struct trust_verdict_info *v;

	assert_int_equal(trust_check_add(c, false, "front", "off", NULL, &err), 0);
	assert_null(trust_check_vnet_verdict(c));
	assert_int_equal(trust_check_add(c, false, "audited", "audit", "dev", &err), 0);
	assert_int_equal(trust_check_add(c, false, "secure", "enforce", "prod", &err), 0);
	assert_int_equal(trust_check_add(c, true, "data", "enforce", "dev", &err), 0);
	set_verdict(c, "dev", false, "unsigned");
	set_verdict(c, "prod", true, "trusted");

	/* group.attach carries the enforce VNet's verdict: the audit VNet's
	 * "unsigned" must not make netd refuse the enforce one. */
	v = trust_check_vnet_verdict(c);
	assert_non_null(v);
	assert_true(v->trusted);
	v = trust_check_share_verdict(c, "data");
	assert_non_null(v);
	assert_false(v->trusted);
	assert_null(trust_check_share_verdict(c, "other"));

	/* The share under enforce refuses. */
	assert_int_equal(trust_check_refused(c), 3);
	trust_refusal_message(c, 3, &err);
	assert_string_equal(err.message, "share 'data' admits only signed images (trust "
					 "enforce): image r/app:1 (sha256:11): unsigned: detail");
	set_verdict(c, "dev", true, "trusted");
	assert_int_equal(trust_check_refused(c), -1);

	/* A hand-made rootfs: no image to name; a missing keyset: no detail. */
	set_verdict(c, "prod", false, "no identity");
	strcpy(c->keysets[c->objects[2].keyset].verdict.image, "(no image)");
	assert_int_equal(trust_check_refused(c), 2);
	trust_refusal_message(c, 2, &err);
	assert_string_equal(err.message, "VNet 'secure' admits only signed images (trust enforce): "
					 "no image: no identity: detail");
	set_verdict(c, "prod", false, "keyset 'prod' not found");
	c->keysets[c->objects[2].keyset].found = false;
	trust_refusal_message(c, 2, &err);
	assert_string_equal(err.message, "VNet 'secure' admits only signed images (trust enforce): "
					 "keyset 'prod' not found");
	free(c);

	/* Audit only: the (untrusted) audit verdict travels; nothing refused. */
	c = new_check();
	assert_int_equal(trust_check_add(c, false, "audited", "audit", "dev", &err), 0);
	set_verdict(c, "dev", false, "unsigned");
	v = trust_check_vnet_verdict(c);
	assert_non_null(v);
	assert_false(v->trusted);
	assert_int_equal(trust_check_refused(c), -1);

	json_t *j = trust_verdict_to_json(v);
	assert_false(json_is_true(json_object_get(j, "trusted")));
	assert_string_equal(json_string_value(json_object_get(j, "reason")), "unsigned");
	assert_string_equal(json_string_value(json_object_get(j, "digest")), "sha256:11");
	json_decref(j);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_check_add),
	    cmocka_unit_test(test_target_podman),
	    cmocka_unit_test(test_target_crio),
	    cmocka_unit_test(test_argv),
	    cmocka_unit_test(test_verdict_parse),
	    cmocka_unit_test(test_verdict_long_fields),
	    cmocka_unit_test(test_decision),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
