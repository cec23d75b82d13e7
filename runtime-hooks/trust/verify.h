/* Whether an image's stored signatures make it trusted under a policy:
 * at least one signature, made by a policy key, whose signed claim names
 * one of the image's manifest digests (storage.h says which those are) and
 * a reference inside the policy's repository prefix.
 *
 * Signatures in a format the policy has no key for (GPG ones under a cosign
 * key, and the reverse) or in a format podwire does not know are skipped.
 * When none is accepted, the verdict names the failure that got furthest,
 * so a user reads "reference mismatch" rather than "unsigned" when a valid
 * signature for another repository is there. */
#pragma once

#include <openssl/evp.h>
#include <stdbool.h>

#include "claim.h"
#include "error.h"
#include "gpg.h"
#include "storage.h"

/* In the order "got further": a verdict keeps the largest one seen. */
enum trust_reason {
	TRUST_UNSIGNED,
	TRUST_WRONG_KEY,
	TRUST_MALFORMED,
	TRUST_BAD_SIGNATURE,
	TRUST_DIGEST_MISMATCH,
	TRUST_REFERENCE_MISMATCH,
	TRUST_OK,
};

struct trust_policy {
	const char *cosign_key_path;  /* NULL: no cosign key */
	const char *gpg_keyring_path; /* NULL: no GPG keyring */
	const char *repository;	      /* NULL or "": any reference */
};

struct trust_verifier {
	EVP_PKEY *cosign_key;
	bool has_gpg;
	struct gpg_verifier gpg;
	char repository[TRUST_REFERENCE_MAX + 1];
};

struct trust_verdict {
	enum trust_reason reason;
	struct trust_claim claim; /* of the accepted signature, or the one that got furthest */
	size_t signatures_checked;
	char detail[PW_ERROR_MESSAGE_MAX];
};

/* Loads the policy's keys; at least one is required (-EINVAL). */
int trust_verifier_open(const struct trust_policy *policy, struct trust_verifier *ret,
			struct pw_error *err);
void trust_verifier_close(struct trust_verifier *v);
/* Fills ret; returns 0 when trusted, -EPERM when not. */
int trust_verify(struct trust_verifier *v, const struct image_identity *id,
		 struct trust_verdict *ret);
/* "unsigned", "wrong key", "bad signature", ... */
const char *trust_reason_name(enum trust_reason reason);
