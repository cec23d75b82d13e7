/* Stored signature blobs and the sigstore-json body (see signature.h). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "signature.h"

int trust_sig_classify(const unsigned char *blob, size_t len, struct trust_sig *ret,
		       struct pw_error *err)
{
	const unsigned char *newline;

	if (len == 0)
		return pw_error_set(err, -EBADMSG, "empty signature");
	if (blob[0] != 0) {
		*ret = (struct trust_sig){TRUST_SIG_SIMPLE, blob, len};
		return 0;
	}
	newline = memchr(blob, '\n', len);
	if (!newline)
		return pw_error_set(err, -EBADMSG, "signature has a format tag without its end");
	size_t tag_len = (size_t)(newline - blob) - 1;
	enum trust_sig_format format = TRUST_SIG_UNKNOWN;

	if (tag_len == strlen("simple-signing") && !memcmp(blob + 1, "simple-signing", tag_len))
		format = TRUST_SIG_SIMPLE;
	else if (tag_len == strlen("sigstore-json") && !memcmp(blob + 1, "sigstore-json", tag_len))
		format = TRUST_SIG_SIGSTORE;
	*ret = (struct trust_sig){format, newline + 1, len - (size_t)(newline + 1 - blob)};
	return 0;
}

static int decode_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *text, unsigned char **ret, size_t *ret_len)
{
	size_t len = strlen(text);
	_cleanup_free_ unsigned char *out = NULL;
	size_t out_len = 0;

	if (len % 4 != 0)
		return -EBADMSG;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		size_t pad = 0;

		for (size_t j = 0; j < 4; j++) {
			/* '=' only as the last one or two characters of the text. */
			if (text[i + j] == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad > 0)
				return -EBADMSG;
			v[j] = decode_value((unsigned char)text[i + j]);
			if (v[j] < 0)
				return -EBADMSG;
		}
		unsigned triple = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
				  (unsigned)v[2] << 6 | (unsigned)v[3];
		out[out_len++] = triple >> 16;
		if (pad < 2)
			out[out_len++] = (triple >> 8) & 0xff;
		if (pad < 1)
			out[out_len++] = triple & 0xff;
	}
	*ret = TAKE_PTR(out);
	*ret_len = out_len;
	return 0;
}

void sigstore_sig_done(struct sigstore_sig *sig)
{
	free(sig->payload);
	free(sig->signature);
	*sig = (struct sigstore_sig){};
}

int sigstore_sig_parse(const unsigned char *data, size_t len, struct sigstore_sig *ret,
		       struct pw_error *err)
{
	json_auto_t *root = NULL;
	json_t *annotations = NULL;
	const char *mime_type = NULL, *payload = NULL, *signature;
	struct sigstore_sig sig = {};
	json_error_t jerr;
	int r;

	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return pw_error_set(err, -EBADMSG, "sigstore signature is not JSON: %s", jerr.text);
	if (json_unpack_ex(root, &jerr, 0, "{s:s, s:s, s:o}", "mimeType", &mime_type, "payload",
			   &payload, "annotations", &annotations) < 0)
		return pw_error_set(err, -EBADMSG, "sigstore signature: %s", jerr.text);
	signature = json_string_value(json_object_get(annotations, SIGSTORE_SIGNATURE_ANNOTATION));
	if (!signature)
		return pw_error_set(err, -EBADMSG, "sigstore signature has no %s annotation",
				    SIGSTORE_SIGNATURE_ANNOTATION);
	r = base64_decode(payload, &sig.payload, &sig.payload_len);
	if (r == -ENOMEM)
		return pw_error_set(err, r, "out of memory");
	if (r < 0)
		return pw_error_set(err, -EBADMSG, "sigstore signature: payload is not base64");
	r = base64_decode(signature, &sig.signature, &sig.signature_len);
	if (r < 0 || sig.signature_len == 0 || sig.signature_len > SIGSTORE_SIGNATURE_MAX) {
		sigstore_sig_done(&sig);
		if (r == -ENOMEM)
			return pw_error_set(err, r, "out of memory");
		return pw_error_set(err, -EBADMSG,
				    "sigstore signature: the signature annotation is not a "
				    "base64 signature");
	}
	*ret = sig;
	return 0;
}
