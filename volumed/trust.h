/* A share's content-trust policy (issue 14, docs/trust.md): which mode it
 * runs in and which keyset (kept by netd) signs the images allowed to use
 * it, and the check share.use makes against the verdict podwire-hook
 * passes along. Pure: unit tests call it directly.
 *
 * volumed only stores the keyset's name and checks its syntax (netd's
 * VNet name rules); netd owns the keys. A share naming a keyset that does
 * not exist denies under enforce, because the hook's verdict says so.
 *
 * Invariant of a policy: mode off <=> keys == NULL; keys passed
 * trust_keyset_validate(). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

enum trust_mode {
	TRUST_OFF,
	TRUST_AUDIT,	/* admit, but the hook reports untrusted images */
	TRUST_ENFORCE,	/* admit only images with a trusted verdict */
};

struct trust_policy {
	enum trust_mode mode;
	char *keys; /* keyset name; NULL when off */
};

/* The verdict of podwire-trust as the hook passes it ("trust" in
 * share.use). Strings point into the JSON it was parsed from. */
struct trust_verdict {
	bool trusted;
	const char *image, *digest, *reason, *message; /* NULL if absent */
};

int trust_mode_parse(const char *s, enum trust_mode *ret, struct pw_error *err);
const char *trust_mode_name(enum trust_mode mode);
int trust_keyset_validate(const char *name, struct pw_error *err);

void trust_policy_done(struct trust_policy *p);
bool trust_policy_equal(const struct trust_policy *a, const struct trust_policy *b);
/* The policy cur becomes when given mode and/or keys (NULL = not given):
 * keys alone keep the mode (which may not be off), mode alone keeps the
 * keys, mode off drops them. Any mode but off needs keys. share.create
 * passes an off policy as cur. On failure ret is untouched. */
int trust_policy_apply(const struct trust_policy *cur, const char *mode, const char *keys,
		       struct trust_policy *ret, struct pw_error *err);

/* {"trusted":b, "image":s?, "digest":s?, "reason":s?, "message":s?} */
int trust_verdict_from_json(json_t *obj, struct trust_verdict *ret, struct pw_error *err);

/* Whether a group whose image got verdict (NULL: the caller passed none)
 * may use the share called name: 0 admitted (trusted, or the policy is
 * off), 1 admitted without a trusted verdict (audit), -EACCES refused
 * with the one-line reason in err (enforce). */
int trust_admit(const char *name, const struct trust_policy *p, const struct trust_verdict *verdict,
		struct pw_error *err);
