/* The simple signing payload (see claim.h). */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "claim.h"
#include "json-util.h"
#include "macro.h"

bool trust_digest_valid(const char *digest)
{
	if (strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != TRUST_DIGEST_STRLEN)
		return false;
	for (const char *p = digest + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

bool trust_reference_matches(const char *reference, const char *prefix)
{
	size_t len = strlen(prefix);

	if (len == 0)
		return true;
	if (strncmp(reference, prefix, len) != 0)
		return false;
	/* A prefix that ends in a separator already marks a boundary. */
	if (strchr("/:@", prefix[len - 1]))
		return true;
	return reference[len] == '\0' || strchr("/:@", reference[len]);
}

int trust_claim_parse(const char *payload, size_t len, const char *expected_type,
		      struct trust_claim *ret, struct pw_error *err)
{
	json_auto_t *root = NULL;
	json_t *optional = NULL;
	const char *reference = NULL, *digest = NULL, *type = NULL;
	json_error_t jerr;

	if (len > TRUST_PAYLOAD_MAX)
		return pw_error_set(err, -EBADMSG, "signed payload of %zu bytes is too large", len);
	root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return pw_error_set(err, -EBADMSG, "signed payload is not JSON: %s", jerr.text);
	/* critical is strict: a member we do not know could be a restriction
	 * we would silently ignore (containers/image refuses it too). */
	if (json_unpack_ex(root, &jerr, JSON_STRICT, "{s:{s:{s?s}, s:{s:s}, s:s}, s?o}", "critical",
			   "identity", "docker-reference", &reference, "image",
			   "docker-manifest-digest", &digest, "type", &type, "optional",
			   &optional) < 0)
		return pw_error_set(err, -EBADMSG, "signed payload: %s", jerr.text);
	if (!streq(type, expected_type))
		return pw_error_set(err, -EBADMSG, "signed payload has type '%s', not '%s'", type,
				    expected_type);
	if (!trust_digest_valid(digest))
		return pw_error_set(err, -EBADMSG, "signed payload has an invalid digest '%s'",
				    digest);
	if (reference && strlen(reference) > TRUST_REFERENCE_MAX)
		return pw_error_set(err, -EBADMSG, "signed reference is too long");
	snprintf(ret->reference, sizeof(ret->reference), "%s", reference ? reference : "");
	snprintf(ret->digest, sizeof(ret->digest), "%s", digest);
	return 0;
}
