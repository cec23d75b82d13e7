/* Signature policy decisions (see verify.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cosign.h"
#include "macro.h"
#include "signature.h"
#include "verify.h"

const char *trust_reason_name(enum trust_reason reason)
{
	switch (reason) {
	case TRUST_UNSIGNED:
		return "unsigned";
	case TRUST_WRONG_KEY:
		return "wrong key";
	case TRUST_MALFORMED:
		return "malformed signature";
	case TRUST_BAD_SIGNATURE:
		return "bad signature";
	case TRUST_DIGEST_MISMATCH:
		return "digest mismatch";
	case TRUST_REFERENCE_MISMATCH:
		return "reference mismatch";
	case TRUST_OK:
		return "trusted";
	}
	return "?";
}

void trust_verifier_close(struct trust_verifier *v)
{
	EVP_PKEY_free(v->cosign_key);
	v->cosign_key = NULL;
	if (v->has_gpg)
		gpg_verifier_close(&v->gpg);
	v->has_gpg = false;
}

int trust_verifier_open(const struct trust_policy *policy, struct trust_verifier *ret,
			struct pw_error *err)
{
	struct trust_verifier v = {};
	int r;

	if (strempty(policy->cosign_key_path) && strempty(policy->gpg_keyring_path))
		return pw_error_set(err, -EINVAL, "no key: give a cosign key or a GPG keyring");
	if (policy->repository && strlen(policy->repository) > TRUST_REFERENCE_MAX)
		return pw_error_set(err, -EINVAL, "repository prefix is too long");
	snprintf(v.repository, sizeof(v.repository), "%s",
		 policy->repository ? policy->repository : "");
	if (!strempty(policy->cosign_key_path)) {
		r = cosign_key_load(policy->cosign_key_path, &v.cosign_key, err);
		if (r < 0)
			return r;
	}
	if (!strempty(policy->gpg_keyring_path)) {
		r = gpg_verifier_open(policy->gpg_keyring_path, &v.gpg, err);
		if (r < 0) {
			trust_verifier_close(&v);
			return r;
		}
		v.has_gpg = true;
	}
	*ret = v;
	return 0;
}

/* The claim a signature makes, once its signature checks out; or the
 * reason it does not. Returns TRUST_OK with *claim filled, or a failure
 * with err filled; -1 (as an int) when the policy has no key for it. */
static int check_signature(struct trust_verifier *v, const struct storage_signature *stored,
			   struct trust_claim *claim, struct pw_error *err)
{
	struct trust_sig sig;
	int r;

	if (trust_sig_classify(stored->data, stored->len, &sig, err) < 0)
		return TRUST_MALFORMED;
	if (sig.format == TRUST_SIG_SIMPLE) {
		_cleanup_free_ char *payload = NULL;
		size_t len;

		if (!v->has_gpg)
			return -1;
		r = gpg_verify(&v->gpg, sig.data, sig.len, &payload, &len, err);
		if (r == -ENOKEY)
			return TRUST_WRONG_KEY;
		if (r == -EKEYREJECTED)
			return TRUST_BAD_SIGNATURE;
		if (r < 0)
			return TRUST_MALFORMED;
		if (trust_claim_parse(payload, len, TRUST_CLAIM_TYPE_ATOMIC, claim, err) < 0)
			return TRUST_MALFORMED;
		return TRUST_OK;
	}
	if (sig.format == TRUST_SIG_SIGSTORE) {
		struct sigstore_sig body;
		enum trust_reason reason = TRUST_OK;

		if (!v->cosign_key)
			return -1;
		if (sigstore_sig_parse(sig.data, sig.len, &body, err) < 0)
			return TRUST_MALFORMED;
		r = cosign_verify(v->cosign_key, body.payload, body.payload_len, body.signature,
				  body.signature_len, err);
		/* ECDSA cannot tell another key's signature from an altered one. */
		if (r == -EKEYREJECTED)
			reason = TRUST_BAD_SIGNATURE;
		else if (r < 0)
			reason = TRUST_MALFORMED;
		else if (trust_claim_parse((const char *)body.payload, body.payload_len,
					   TRUST_CLAIM_TYPE_COSIGN, claim, err) < 0)
			reason = TRUST_MALFORMED;
		sigstore_sig_done(&body);
		return reason;
	}
	return -1;
}

static bool image_has_digest(const struct image_identity *id, const char *digest)
{
	for (size_t i = 0; i < id->manifest_count; i++)
		if (streq(id->manifest_digests[i], digest))
			return true;
	return false;
}

int trust_verify(struct trust_verifier *v, const struct image_identity *id,
		 struct trust_verdict *ret)
{
	*ret = (struct trust_verdict){.reason = TRUST_UNSIGNED};
	snprintf(ret->detail, sizeof(ret->detail), "%s",
		 id->signature_count ? "no signature in a format the policy has a key for"
				     : "the image has no signatures");
	for (size_t i = 0; i < id->signature_count; i++) {
		struct trust_claim claim = {};
		struct pw_error err = {};
		int reason = check_signature(v, &id->signatures[i], &claim, &err);

		if (reason < 0)
			continue;
		ret->signatures_checked++;
		if (reason == TRUST_OK && !image_has_digest(id, claim.digest)) {
			reason = TRUST_DIGEST_MISMATCH;
			pw_error_set(&err, -EPERM,
				     "signed digest %s is not a manifest of this image",
				     claim.digest);
		} else if (reason == TRUST_OK &&
			   !trust_reference_matches(claim.reference, v->repository)) {
			reason = TRUST_REFERENCE_MISMATCH;
			pw_error_set(&err, -EPERM, "signed reference '%s' is not in '%s'",
				     claim.reference, v->repository);
		}
		if (reason == TRUST_OK) {
			ret->reason = TRUST_OK;
			ret->claim = claim;
			snprintf(ret->detail, sizeof(ret->detail), "signed reference '%s'",
				 claim.reference);
			return 0;
		}
		if ((enum trust_reason)reason >= ret->reason) {
			ret->reason = reason;
			ret->claim = claim;
			snprintf(ret->detail, sizeof(ret->detail), "%s", pw_error_message(&err));
		}
	}
	return -EPERM;
}
