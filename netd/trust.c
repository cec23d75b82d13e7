/* Trust modes, keyset names and verdicts (see trust.h). */
#include <errno.h>
#include <string.h>

#include "json-util.h"
#include "macro.h"
#include "params.h"
#include "trust.h"

const char *trust_mode_name(enum trust_mode mode)
{
	switch (mode) {
	case TRUST_AUDIT:
		return "audit";
	case TRUST_ENFORCE:
		return "enforce";
	default:
		return "off";
	}
}

int trust_mode_parse(const char *text, enum trust_mode *ret)
{
	static const enum trust_mode all[] = {TRUST_OFF, TRUST_AUDIT, TRUST_ENFORCE};

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (streq(text, trust_mode_name(all[i]))) {
			*ret = all[i];
			return 0;
		}
	return -EINVAL;
}

/* Names are echoed in errors: cut long ones, so the line stays readable. */
#define SHOWN_MAX 40

int keyset_name_validate(const char *name, struct pw_error *err)
{
	size_t len;

	if (strempty(name))
		return pw_error_set(err, -EINVAL, "keyset name is empty");
	len = strlen(name);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return pw_error_set(err, -EINVAL,
					    "keyset name '%.*s' may contain only a-z, 0-9 and '-'",
					    SHOWN_MAX, (c >= ' ' && c < 0x7f) ? name : "(binary)");
	}
	if (len > KEYSET_NAME_MAX)
		return pw_error_set(err, -EINVAL, "keyset name '%.*s' is longer than %d characters",
				    SHOWN_MAX, name, KEYSET_NAME_MAX);
	if (name[0] == '-' || name[len - 1] == '-')
		return pw_error_set(err, -EINVAL, "keyset name '%s' may not start or end with '-'",
				    name);
	return 0;
}

int keyset_repository_validate(const char *repository, struct pw_error *err)
{
	size_t len = strlen(repository);

	if (len > KEYSET_REPOSITORY_MAX)
		return pw_error_set(err, -EINVAL, "repository: longer than %d characters",
				    KEYSET_REPOSITORY_MAX);
	for (size_t i = 0; i < len; i++)
		if (repository[i] <= ' ' || repository[i] >= 0x7f)
			return pw_error_set(err, -EINVAL,
					    "repository: '%.*s' has a space or a character that "
					    "is not printable ASCII",
					    SHOWN_MAX, repository);
	return 0;
}

/* A verdict string: one line of text, bounded. */
static int verdict_string(json_t *value, const char *key, const char **ret, struct pw_error *err)
{
	const char *s = "";
	int r;

	r = param_string(value, key, &s, err);
	if (r < 0)
		return pw_error_wrap(err, r, "trust");
	if (strlen(s) > TRUST_VERDICT_STRING_MAX)
		return pw_error_set(err, -EINVAL, "trust: %s: longer than %d bytes", key,
				    TRUST_VERDICT_STRING_MAX);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return pw_error_set(err, -EINVAL, "trust: %s: has a control character",
					    key);
	*ret = s;
	return 0;
}

int trust_verdict_parse(json_t *value, struct trust_verdict *ret, struct pw_error *err)
{
	struct trust_verdict v = {.image = "", .digest = "", .reason = "", .message = ""};
	json_t *trusted = NULL, *image = NULL, *digest = NULL, *reason = NULL, *message = NULL;
	int r;

	if (!value) {
		*ret = v;
		return 0;
	}
	r = json_unpack_err(value, err, "trust", JSON_STRICT, "{s:o, s?:o, s?:o, s?:o, s?:o}",
			    "trusted", &trusted, "image", &image, "digest", &digest, "reason",
			    &reason, "message", &message);
	if (r < 0)
		return r;
	r = param_bool(trusted, "trusted", &v.trusted, err);
	if (r < 0)
		return pw_error_wrap(err, r, "trust");
	if ((r = verdict_string(image, "image", &v.image, err)) < 0 ||
	    (r = verdict_string(digest, "digest", &v.digest, err)) < 0 ||
	    (r = verdict_string(reason, "reason", &v.reason, err)) < 0 ||
	    (r = verdict_string(message, "message", &v.message, err)) < 0)
		return r;
	v.present = true;
	*ret = v;
	return 0;
}

struct trust_decision trust_decide(enum trust_mode mode, const struct trust_verdict *verdict)
{
	switch (mode) {
	case TRUST_ENFORCE:
		return (struct trust_decision){.admit = verdict->present && verdict->trusted,
					       .count = !verdict->present};
	case TRUST_AUDIT:
		return (struct trust_decision){.admit = true, .count = !verdict->present};
	default:
		return (struct trust_decision){.admit = true};
	}
}
