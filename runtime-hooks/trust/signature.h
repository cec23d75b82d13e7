/* One stored image signature, as containers/image keeps it: a blob whose
 * first byte is 0 names its format in "\0FORMAT\n" followed by the data;
 * any other first byte is an untagged "simple signing" (OpenPGP) signature,
 * the format older versions stored. Also the sigstore-json body cosign
 * signatures are stored as:
 *   {"mimeType": "application/vnd.dev.cosign.simplesigning.v1+json",
 *    "payload": BASE64(payload),
 *    "annotations": {"dev.cosignproject.cosign/signature": BASE64(DER sig),
 *                    ...}}
 * Pure: no I/O. */
#pragma once

#include <stddef.h>

#include "error.h"

#define SIGSTORE_SIGNATURE_ANNOTATION "dev.cosignproject.cosign/signature"
/* A DER ECDSA P-256 signature is at most 72 bytes; an RSA-4096 one 512.
 * 8 KiB leaves room for any key a registry serves without letting a blob
 * make the verifier allocate without bound. */
#define SIGSTORE_SIGNATURE_MAX 8192

enum trust_sig_format {
	TRUST_SIG_SIMPLE,   /* OpenPGP signed message, payload inside */
	TRUST_SIG_SIGSTORE, /* sigstore-json: payload and signature side by side */
	TRUST_SIG_UNKNOWN,  /* a format we cannot verify (skipped, not trusted) */
};

struct trust_sig {
	enum trust_sig_format format;
	const unsigned char *data; /* points into the blob given to classify */
	size_t len;
};

/* Splits the format tag off blob. -EBADMSG for an empty blob or a tag
 * without its newline. */
int trust_sig_classify(const unsigned char *blob, size_t len, struct trust_sig *ret,
		       struct pw_error *err);

struct sigstore_sig {
	unsigned char *payload;
	size_t payload_len;
	unsigned char *signature;
	size_t signature_len;
};

/* Parses a sigstore-json body; -EBADMSG with err naming what is wrong. */
int sigstore_sig_parse(const unsigned char *data, size_t len, struct sigstore_sig *ret,
		       struct pw_error *err);
void sigstore_sig_done(struct sigstore_sig *sig);

/* Standard base64 with padding (RFC 4648 section 4, what Go's encoding/json
 * writes for []byte). Returns a malloc'd buffer; -EBADMSG when text is not
 * base64, -ENOMEM. */
int base64_decode(const char *text, unsigned char **ret, size_t *ret_len);
