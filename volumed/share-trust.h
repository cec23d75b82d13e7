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
 * share_trust_keyset_validate(). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

enum share_trust_mode {
	SHARE_TRUST_OFF,
	SHARE_TRUST_AUDIT,   /* admit, but the hook reports untrusted images */
	SHARE_TRUST_ENFORCE, /* admit only images with a trusted verdict */
};

struct share_trust {
	enum share_trust_mode mode;
	char *keys; /* keyset name; NULL when off */
};

/* The verdict of podwire-trust as the hook passes it ("trust" in
 * share.use). Strings point into the JSON it was parsed from. */
struct share_verdict {
	bool trusted;
	const char *image, *digest, *reason, *message; /* NULL if absent */
};

int share_trust_mode_parse(const char *s, enum share_trust_mode *ret, struct pw_error *err);
const char *share_trust_mode_name(enum share_trust_mode mode);
int share_trust_keyset_validate(const char *name, struct pw_error *err);

void share_trust_done(struct share_trust *p);
bool share_trust_equal(const struct share_trust *a, const struct share_trust *b);
/* The policy cur becomes when given mode and/or keys (NULL = not given):
 * keys alone keep the mode (which may not be off), mode alone keeps the
 * keys, mode off drops them. Any mode but off needs keys. share.create
 * passes an off policy as cur. On failure ret is untouched. */
int share_trust_apply(const struct share_trust *cur, const char *mode, const char *keys,
		      struct share_trust *ret, struct pw_error *err);

/* {"trusted":b, "image":s?, "digest":s?, "reason":s?, "message":s?} */
int share_verdict_from_json(json_t *obj, struct share_verdict *ret, struct pw_error *err);

/* The verdict's reason for a log line: "no verdict" (NULL), its reason
 * cut and without control characters, or "untrusted". buf: 64 bytes. */
const char *share_verdict_reason(const struct share_verdict *verdict, char buf[static 64]);

/* Whether a group whose image got verdict (NULL: the caller passed none)
 * may use the share called name: 0 admitted (trusted, or the policy is
 * off), 1 admitted without a trusted verdict (audit), -EACCES refused
 * with the one-line reason in err (enforce). */
int share_trust_admit(const char *name, const struct share_trust *p,
		      const struct share_verdict *verdict, struct pw_error *err);
