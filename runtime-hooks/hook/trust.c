/* The pure half of the hook's content-trust check (see trust.h): policies,
 * which container podwire-trust looks at, its arguments, its verdict and
 * the decision. No I/O here; trust-run.c does it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "json-util.h"
#include "macro.h"
#include "name.h"
#include "trust.h"

int trust_mode_parse(const char *text, enum trust_mode *ret)
{
	if (!text || streq(text, "off"))
		*ret = TRUST_MODE_OFF;
	else if (streq(text, "audit"))
		*ret = TRUST_MODE_AUDIT;
	else if (streq(text, "enforce"))
		*ret = TRUST_MODE_ENFORCE;
	else
		return -EINVAL;
	return 0;
}

const char *trust_mode_name(enum trust_mode mode)
{
	switch (mode) {
	case TRUST_MODE_AUDIT:
		return "audit";
	case TRUST_MODE_ENFORCE:
		return "enforce";
	default:
		return "off";
	}
}

static const char *object_kind(const struct trust_object *o)
{
	return o->share ? "share" : "VNet";
}

int trust_check_add(struct trust_check *check, bool share, const char *name, const char *trust,
		    const char *trust_keys, struct pw_error *err)
{
	const char *kind = share ? "share" : "vnet";
	struct trust_object *o;
	enum trust_mode mode;
	size_t k;

	if (check->object_count == TRUST_OBJECTS_MAX)
		return pw_error_set(err, -E2BIG, "more than %d VNets and shares",
				    TRUST_OBJECTS_MAX);
	if (trust_mode_parse(trust, &mode) < 0)
		return pw_error_set(err, -EBADMSG, "%s '%s': unknown trust mode '%s'", kind, name,
				    trust);
	if (strlen(name) > SHARE_NAME_MAX)
		return pw_error_set(err, -EBADMSG, "%s '%s': name too long", kind, name);
	o = &check->objects[check->object_count];
	*o = (struct trust_object){.share = share, .mode = mode};
	strcpy(o->name, name);
	if (mode != TRUST_MODE_OFF) {
		/* The daemon checked the name; the hook hands it back to netd
		 * and into messages, so it must still be one. */
		if (strempty(trust_keys) || name_validate_vnet(trust_keys, NULL) < 0)
			return pw_error_set(err, -EBADMSG,
					    "%s '%s': trust %s with a bad keyset name '%s'", kind,
					    name, trust_mode_name(mode), trust_keys ?: "");
		for (k = 0; k < check->keyset_count; k++)
			if (streq(check->keysets[k].name, trust_keys))
				break;
		if (k == check->keyset_count) {
			check->keysets[k] = (struct trust_keyset){};
			strcpy(check->keysets[k].name, trust_keys);
			check->keyset_count++;
		}
		o->keyset = k;
	}
	check->object_count++;
	return 0;
}

bool trust_check_needed(const struct trust_check *check)
{
	for (size_t i = 0; i < check->object_count; i++)
		if (check->objects[i].mode != TRUST_MODE_OFF)
			return true;
	return false;
}

static bool hex_id(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* Splits ".../DRIVER-containers/ID/userdata" (ID 64 hex digits): the part
 * before DRIVER, the driver and the id; false for another shape. */
static bool storage_bundle_split(const char *path, size_t *ret_root_len, char driver[33],
				 char id[65])
{
	const char *end = path + strlen(path), *p, *id_start, *store_start;
	size_t store_len;

	if (end - path < 9 || !streq(end - 9, "/userdata"))
		return false;
	end -= 9;
	for (p = end; p > path && p[-1] != '/'; p--)
		;
	id_start = p;
	if (end - id_start != 64 || p == path)
		return false;
	memcpy(id, id_start, 64);
	id[64] = '\0';
	if (!hex_id(id, 64))
		return false;
	end = id_start - 1;
	for (p = end; p > path && p[-1] != '/'; p--)
		;
	store_start = p;
	store_len = (size_t)(end - store_start);
	if (store_len <= strlen("-containers") || store_len - strlen("-containers") > 32 ||
	    strncmp(end - strlen("-containers"), "-containers", strlen("-containers")) != 0)
		return false;
	snprintf(driver, 33, "%.*s", (int)(store_len - strlen("-containers")), store_start);
	*ret_root_len = store_start > path ? (size_t)(store_start - 1 - path) : 0;
	return true;
}

void trust_target_build(const char *state_id, const char *bundle, const char *bundle_real,
			const char *rootfs, const char *run_root, json_t *annotations,
			struct trust_target *ret)
{
	const char *image_ref =
	    json_string_value(json_object_get(annotations, "io.kubernetes.cri-o.ImageRef"));
	size_t root_len;

	*ret = (struct trust_target){.bundle = bundle, .rootfs = rootfs};
	/* CRI-O: the annotation alone proves nothing (a user can set it), so
	 * the bundle must also be where CRI-O keeps them, in the run root, and
	 * name the container the runtime runs. podwire-trust then reads that
	 * container's records and checks the annotation against them. */
	if (image_ref && bundle_real && run_root &&
	    storage_bundle_split(bundle_real, &root_len, ret->driver, ret->container_id) &&
	    root_len == strlen(run_root) && strncmp(bundle_real, run_root, root_len) == 0 &&
	    streq(ret->container_id, state_id)) {
		ret->crio = true;
		ret->image_ref = image_ref;
		return;
	}
	/* podman: the bundle is ROOT/DRIVER-containers/ID/userdata and ID is
	 * the OCI id too; a bundle there naming another container would make
	 * podwire-trust read that one's records. */
	if (bundle_real &&
	    storage_bundle_split(bundle_real, &root_len, ret->driver, ret->container_id) &&
	    !streq(ret->container_id, state_id)) {
		ret->foreign_bundle = true;
		return;
	}
	ret->driver[0] = '\0';
	ret->container_id[0] = '\0';
}

size_t trust_helper_argv(const char *helper, const struct trust_config *cfg,
			 const struct trust_target *target, const struct trust_keyset *ks,
			 const char *argv[TRUST_ARGV_MAX])
{
	const char *graph_root = cfg->graph_root ?: TRUST_DEFAULT_GRAPH_ROOT;
	size_t n = 0;

	argv[n++] = helper;
	argv[n++] = "verify";
	argv[n++] = "--json";
	if (target->crio) {
		argv[n++] = "--container";
		argv[n++] = target->container_id;
		argv[n++] = "--driver";
		argv[n++] = target->driver;
		argv[n++] = "--image-id";
		argv[n++] = target->image_ref;
	} else {
		argv[n++] = "--bundle";
		argv[n++] = target->bundle;
	}
	if (target->rootfs) {
		argv[n++] = "--rootfs";
		argv[n++] = target->rootfs;
	}
	argv[n++] = "--storage-root";
	argv[n++] = graph_root;
	if (cfg->run_root) {
		argv[n++] = "--run-root";
		argv[n++] = cfg->run_root;
	} else if (streq(graph_root, TRUST_DEFAULT_GRAPH_ROOT)) {
		argv[n++] = "--run-root";
		argv[n++] = TRUST_DEFAULT_RUN_ROOT;
	}
	if (ks->cosign_key[0]) {
		argv[n++] = "--cosign-key";
		argv[n++] = ks->cosign_key;
	}
	if (ks->gpg_keyring[0]) {
		argv[n++] = "--gpg-keyring";
		argv[n++] = ks->gpg_keyring;
	}
	if (ks->repository[0]) {
		argv[n++] = "--repository";
		argv[n++] = ks->repository;
	}
	argv[n] = NULL;
	return n;
}

/* The helper's first stderr line, for an error message. */
static void first_line(const char *text, char *buf, size_t size)
{
	size_t len = text ? strcspn(text, "\n") : 0;

	if (len == 0)
		snprintf(buf, size, "no message");
	else
		snprintf(buf, size, "%.*s", (int)len, text);
}

static void copy_text(char *dst, size_t size, const char *src)
{
	/* Cut, not refused: these fields are for people and logs. Control
	 * characters (a newline in a path) would split the hook's one line
	 * and netd and volumed refuse them in a verdict. */
	snprintf(dst, size, "%s", src);
	for (char *p = dst; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
}

int trust_verdict_parse(int wait_status, const char *out, size_t out_len, const char *err_text,
			struct trust_verdict_info *ret, struct pw_error *err)
{
	json_auto_t *verdict = NULL;
	const char *reason, *image, *digest, *message;
	char line[512];
	int trusted = 0, code;

	first_line(err_text, line, sizeof(line));
	if (WIFSIGNALED(wait_status))
		return pw_error_set(err, -EIO, "podwire-trust was killed by signal %d",
				    WTERMSIG(wait_status));
	if (!WIFEXITED(wait_status))
		return pw_error_set(err, -EIO, "podwire-trust did not exit");
	code = WEXITSTATUS(wait_status);
	if (code != 0 && code != 1)
		return pw_error_set(err, -EINVAL, "podwire-trust exited with status %d: %s", code,
				    line);
	verdict = json_loadb(out, out_len, JSON_DISABLE_EOF_CHECK, NULL);
	/* Exit 1 without a verdict: the helper could not check at all (an
	 * unreadable key file, say). That is an error, not "untrusted". */
	if (!verdict)
		return pw_error_set(err, -EINVAL, "podwire-trust gave no verdict (status %d): %s",
				    code, line);
	if (json_unpack_err(verdict, err, "podwire-trust verdict", 0, "{s:b, s:s, s:s, s:s, s:s}",
			    "trusted", &trusted, "reason", &reason, "image", &image, "digest",
			    &digest, "message", &message) < 0)
		return -EBADMSG;
	if (trusted != (code == 0))
		return pw_error_set(err, -EBADMSG,
				    "podwire-trust: exit status %d does not match its verdict",
				    code);
	*ret = (struct trust_verdict_info){.trusted = trusted};
	copy_text(ret->image, sizeof(ret->image), image);
	copy_text(ret->digest, sizeof(ret->digest), digest);
	copy_text(ret->reason, sizeof(ret->reason), reason);
	copy_text(ret->message, sizeof(ret->message), message);
	return 0;
}

const struct trust_verdict_info *trust_check_vnet_verdict(const struct trust_check *check)
{
	const struct trust_object *audit = NULL;

	for (size_t i = 0; i < check->object_count; i++) {
		const struct trust_object *o = &check->objects[i];

		if (o->share || o->mode == TRUST_MODE_OFF)
			continue;
		if (o->mode == TRUST_MODE_ENFORCE)
			return &check->keysets[o->keyset].verdict;
		if (!audit)
			audit = o;
	}
	return audit ? &check->keysets[audit->keyset].verdict : NULL;
}

const struct trust_verdict_info *trust_check_share_verdict(const struct trust_check *check,
							   const char *share)
{
	for (size_t i = 0; i < check->object_count; i++) {
		const struct trust_object *o = &check->objects[i];

		if (o->share && o->mode != TRUST_MODE_OFF && streq(o->name, share))
			return &check->keysets[o->keyset].verdict;
	}
	return NULL;
}

int trust_check_refused(const struct trust_check *check)
{
	for (size_t i = 0; i < check->object_count; i++) {
		const struct trust_object *o = &check->objects[i];

		if (o->mode == TRUST_MODE_ENFORCE && !check->keysets[o->keyset].verdict.trusted)
			return (int)i;
	}
	return -1;
}

void trust_refusal_message(const struct trust_check *check, size_t object, struct pw_error *err)
{
	const struct trust_object *o = &check->objects[object];
	const struct trust_verdict_info *v = &check->keysets[o->keyset].verdict;

	/* No image at all (a hand-made rootfs): nothing to name. */
	if (streq(v->image, "(no image)"))
		pw_error_set(err, -EPERM,
			     "%s '%s' admits only signed images (trust enforce): no image: %s: %s",
			     object_kind(o), o->name, v->reason, v->message);
	/* A missing keyset: the image was not looked at. */
	else if (!check->keysets[o->keyset].found)
		pw_error_set(err, -EPERM, "%s '%s' admits only signed images (trust enforce): %s",
			     object_kind(o), o->name, v->reason);
	else
		pw_error_set(err, -EPERM,
			     "%s '%s' admits only signed images (trust enforce): image %s (%s): "
			     "%s: %s",
			     object_kind(o), o->name, v->image, v->digest, v->reason, v->message);
}

json_t *trust_verdict_to_json(const struct trust_verdict_info *v)
{
	return json_pack("{s:b, s:s, s:s, s:s, s:s}", "trusted", v->trusted, "image", v->image,
			 "digest", v->digest, "reason", v->reason, "message", v->message);
}
