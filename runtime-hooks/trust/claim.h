/* The signed claim inside an image signature: the "simple signing" JSON
 * payload both formats carry (containers/image's "atomic container
 * signature", cosign's "cosign container image signature"):
 *   {"critical": {"identity": {"docker-reference": REF},
 *                 "image": {"docker-manifest-digest": "sha256:HEX"},
 *                 "type": TYPE},
 *    "optional": {...}}
 * parsed into a typed struct, and the two checks a policy makes on it.
 *
 * Pure: no I/O, no allocation beyond jansson's during the parse. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define TRUST_CLAIM_TYPE_ATOMIC "atomic container signature"
#define TRUST_CLAIM_TYPE_COSIGN "cosign container image signature"

/* A docker reference is at most 255 characters of name (distribution's
 * limit) plus a tag of up to 128 and the separators. */
#define TRUST_REFERENCE_MAX 400
/* "sha256:" and 64 hex digits: the only digest algorithm containers-storage
 * writes. */
#define TRUST_DIGEST_STRLEN 71
/* A payload is a few hundred bytes; 64 KiB refuses a blob made to exhaust
 * the verifier's memory. */
#define TRUST_PAYLOAD_MAX (64 * 1024)

struct trust_claim {
	char reference[TRUST_REFERENCE_MAX + 1]; /* "" when the payload names none */
	char digest[TRUST_DIGEST_STRLEN + 1];
};

/* Parses payload (not NUL-terminated) and checks critical.type equals
 * expected_type. -EBADMSG with err naming what is wrong. */
int trust_claim_parse(const char *payload, size_t len, const char *expected_type,
		      struct trust_claim *ret, struct pw_error *err);
/* True for "sha256:" followed by 64 lowercase hex digits. */
bool trust_digest_valid(const char *digest);
/* Whether reference lies in the repository (or registry, or namespace)
 * prefix: equal to it, or continuing it after a '/', ':' or '@' — so
 * "example.com/app" matches "example.com/app:1" and "example.com/app/web"
 * but not "example.com/application". An empty prefix matches anything. */
bool trust_reference_matches(const char *reference, const char *prefix);
