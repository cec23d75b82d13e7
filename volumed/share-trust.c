/* A share's content-trust policy and the share.use check (see trust.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "name.h"
#include "share-trust.h"

/* Longest keyset name echoed in an error; longer ones are cut. */
#define SHOWN_NAME_MAX 40
/* Longest verdict message copied into a refusal (the hook's line names the
 * image, digest and reason; PW_ERROR_MESSAGE_MAX bounds the rest). */
#define VERDICT_MESSAGE_MAX 600

static const char *const mode_names[] = {
    [SHARE_TRUST_OFF] = "off",
    [SHARE_TRUST_AUDIT] = "audit",
    [SHARE_TRUST_ENFORCE] = "enforce",
};

/* Text from a caller, cut and with control characters replaced, so an
 * error that quotes it stays one readable line. */
static const char *printable(const char *s, size_t max, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i] && i < max && i + 4 < size; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + i, "...", 4);
		return buf;
	}
	buf[i] = '\0';
	return buf;
}

int share_trust_mode_parse(const char *s, enum share_trust_mode *ret, struct pw_error *err)
{
	char shown[SHOWN_NAME_MAX + 4];

	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (streq(s, mode_names[i])) {
			*ret = (enum share_trust_mode)i;
			return 0;
		}
	return pw_error_set(err, -EINVAL, "trust '%s' is not one of off, audit, enforce",
			    printable(s, SHOWN_NAME_MAX, shown, sizeof(shown)));
}

const char *share_trust_mode_name(enum share_trust_mode mode)
{
	return mode < ARRAY_SIZE(mode_names) ? mode_names[mode] : "?";
}

/* netd names keysets by its VNet rules (STATE_DIR/trust/NAME/ holds the
 * keys), so a name it would refuse can never match one of its keysets. */
int share_trust_keyset_validate(const char *name, struct pw_error *err)
{
	char shown[SHOWN_NAME_MAX + 4];

	if (name_validate_vnet(name, NULL) < 0)
		return pw_error_set(err, -EINVAL,
				    "keyset name '%s' is invalid: 1 to %d characters a-z, 0-9 "
				    "and '-', not starting or ending with '-'",
				    printable(name, SHOWN_NAME_MAX, shown, sizeof(shown)),
				    VNET_NAME_MAX);
	return 0;
}

void share_trust_done(struct share_trust *p)
{
	free(p->keys);
	*p = (struct share_trust){};
}

bool share_trust_equal(const struct share_trust *a, const struct share_trust *b)
{
	if (a->mode != b->mode)
		return false;
	return (!a->keys && !b->keys) || (a->keys && b->keys && streq(a->keys, b->keys));
}

int share_trust_apply(const struct share_trust *cur, const char *mode, const char *keys,
		      struct share_trust *ret, struct pw_error *err)
{
	enum share_trust_mode new_mode = cur->mode;
	const char *new_keys;
	char *copy = NULL;
	int r;

	if (mode) {
		r = share_trust_mode_parse(mode, &new_mode, err);
		if (r < 0)
			return r;
	}
	if (new_mode == SHARE_TRUST_OFF) {
		if (keys)
			return pw_error_set(err, -EINVAL,
					    "trust_keys needs trust audit or enforce (trust off "
					    "uses no keyset)");
		*ret = (struct share_trust){SHARE_TRUST_OFF, NULL};
		return 0;
	}
	new_keys = keys ? keys : cur->keys;
	if (!new_keys)
		return pw_error_set(err, -EINVAL, "trust %s needs trust_keys (a keyset name)",
				    share_trust_mode_name(new_mode));
	r = share_trust_keyset_validate(new_keys, err);
	if (r < 0)
		return r;
	copy = strdup(new_keys);
	if (!copy)
		return pw_error_set(err, -ENOMEM, "out of memory");
	*ret = (struct share_trust){new_mode, copy};
	return 0;
}

int share_verdict_from_json(json_t *obj, struct share_verdict *ret, struct pw_error *err)
{
	struct share_verdict v = {};
	int trusted = 0;
	int r;

	r = json_unpack_err(obj, err, "trust", JSON_STRICT, "{s:b, s?s, s?s, s?s, s?s}", "trusted",
			    &trusted, "image", &v.image, "digest", &v.digest, "reason", &v.reason,
			    "message", &v.message);
	if (r < 0)
		return r;
	v.trusted = trusted;
	*ret = v;
	return 0;
}

const char *share_verdict_reason(const struct share_verdict *verdict, char buf[static 64])
{
	if (!verdict)
		return "no verdict";
	if (strempty(verdict->reason))
		return "untrusted";
	return printable(verdict->reason, SHOWN_NAME_MAX, buf, 64);
}

int share_trust_admit(const char *name, const struct share_trust *p,
		      const struct share_verdict *verdict, struct pw_error *err)
{
	char shown[VERDICT_MESSAGE_MAX + 4];
	const char *why;

	if (p->mode == SHARE_TRUST_OFF || (verdict && verdict->trusted))
		return 0;
	if (p->mode == SHARE_TRUST_AUDIT)
		return 1;
	if (!verdict)
		why = "no image identity: the caller passed no verdict";
	else if (!strempty(verdict->message))
		why = printable(verdict->message, VERDICT_MESSAGE_MAX, shown, sizeof(shown));
	else if (!strempty(verdict->reason))
		why = printable(verdict->reason, VERDICT_MESSAGE_MAX, shown, sizeof(shown));
	else
		why = "the image is not trusted";
	return pw_error_set(err, -EACCES,
			    "share '%s' admits only signed images (trust enforce): %s", name, why);
}
