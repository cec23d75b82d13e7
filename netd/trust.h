/* Content trust, the pure part of netd's side (docs/trust.md, "Policy"):
 * the policy modes of a VNet, keyset names, the verdict a caller passes
 * with group.attach and what netd does with it. The key checks that need
 * libcrypto are in trust-keys.h; the keysets netd stores in
 * trust-keysets.h; counters, reports and the attach check in
 * trust-ledger.h.
 *
 * Pure: no files, no kernel, no logging. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

/* Keyset names follow the VNet rules (lib/name.c): [a-z0-9-], no '-' at
 * either end, 1..12. They become directory names under STATE_DIR/trust,
 * so the narrow alphabet also keeps '/', '.' and ".." out. */
#define KEYSET_NAME_MAX 12
/* A repository prefix is a docker reference without tag or digest
 * ("registry.example/app"): 255 is the longest reference the registry
 * specification's name grammar allows. */
#define KEYSET_REPOSITORY_MAX 255
/* What a verdict's strings may hold: they reach a log line, an event and
 * an error reply (one line each). An image reference is at most a few
 * hundred bytes; a podwire-trust message names an image, a digest and a
 * key fingerprint. */
#define TRUST_VERDICT_STRING_MAX 1024

enum trust_mode {
	TRUST_OFF,
	TRUST_AUDIT,
	TRUST_ENFORCE,
};

/* "off", "audit", "enforce" and back; parse is -EINVAL for anything else. */
const char *trust_mode_name(enum trust_mode mode);
int trust_mode_parse(const char *text, enum trust_mode *ret);

int keyset_name_validate(const char *name, struct pw_error *err);
/* Printable ASCII without spaces, at most KEYSET_REPOSITORY_MAX; "" is
 * any repository. */
int keyset_repository_validate(const char *repository, struct pw_error *err);

/* The hook's verdict on a container's image (group.attach "trust").
 * Strings point into the JSON it was parsed from; "" when absent. */
struct trust_verdict {
	bool present; /* the caller passed one */
	bool trusted;
	const char *image;
	const char *digest;
	const char *reason;
	const char *message;
};

/* Parses {"trusted":b, "image"?:S, "digest"?:S, "reason"?:S,
 * "message"?:S} strictly. value NULL: no verdict (present false). */
int trust_verdict_parse(json_t *value, struct trust_verdict *ret, struct pw_error *err);

/* What group.attach does on a VNet with the given mode and verdict. */
struct trust_decision {
	bool admit;
	/* netd counts (and announces) the denial itself: no verdict came, so
	 * nobody reported one. A verdict's denial was reported by the hook
	 * (trust.report) and is not counted twice. */
	bool count;
};
struct trust_decision trust_decide(enum trust_mode mode, const struct trust_verdict *verdict);

/* The reason netd records when it counts a denial itself. */
#define TRUST_REASON_UNVERIFIED "unverified"
/* The refusal's MESSAGE when no verdict came. */
#define TRUST_NO_VERDICT_MESSAGE                                                                   \
	"no image identity: the caller passed no verdict (podwire-cni and 'podwire group "         \
	"attach' cannot see images)"
