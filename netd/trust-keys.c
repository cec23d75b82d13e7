/* Keyset key checks with libcrypto (see trust-keys.h). */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "macro.h"
#include "trust-keys.h"
#include "xalloc.h"

static void evp_pkey_freep(EVP_PKEY **key)
{
	EVP_PKEY_free(*key);
}

static void bio_freep(BIO **bio)
{
	BIO_free(*bio);
}

static void evp_encode_ctx_freep(EVP_ENCODE_CTX **ctx)
{
	EVP_ENCODE_CTX_free(*ctx);
}

int trust_keys_check_cosign(const char *pem, size_t len, struct pw_error *err)
{
	_cleanup_(evp_pkey_freep) EVP_PKEY *key = NULL;
	_cleanup_(bio_freep) BIO *bio = NULL;
	char group[64] = "";
	size_t group_len = 0;

	if (len == 0)
		return pw_error_set(err, -EINVAL, "cosign_key: empty");
	if (len > KEYSET_KEY_MAX)
		return pw_error_set(err, -EINVAL, "cosign_key: larger than %d bytes",
				    KEYSET_KEY_MAX);
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return pw_error_set(err, -ENOMEM, "cosign_key: out of memory");
	key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	ERR_clear_error();
	if (!key)
		return pw_error_set(err, -EINVAL,
				    "cosign_key: not a PEM public key (expected '-----BEGIN PUBLIC "
				    "KEY-----', e.g. cosign.pub)");
	if (!EVP_PKEY_is_a(key, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    &group_len) ||
	    !streq(group, "prime256v1")) {
		ERR_clear_error();
		return pw_error_set(err, -EINVAL,
				    "cosign_key: not an ECDSA P-256 key, what cosign signs with "
				    "(this one: %s%s%s)",
				    EVP_PKEY_get0_type_name(key) ?: "another type",
				    group[0] ? " " : "", group);
	}
	return 0;
}

#define ARMOR_PUBLIC  "-----BEGIN PGP PUBLIC KEY BLOCK-----"
#define ARMOR_PRIVATE "-----BEGIN PGP PRIVATE KEY BLOCK-----"
/* OpenPGP packet tags (RFC 4880 4.3). */
#define PGP_TAG_SECRET_KEY 5
#define PGP_TAG_PUBLIC_KEY 6

int trust_keys_check_gpg(const uint8_t *data, size_t len, struct pw_error *err)
{
	size_t skip = 0;
	unsigned tag;

	if (len == 0)
		return pw_error_set(err, -EINVAL, "gpg_keyring: empty");
	if (len > KEYSET_KEY_MAX)
		return pw_error_set(err, -EINVAL, "gpg_keyring: larger than %d bytes",
				    KEYSET_KEY_MAX);
	while (skip < len && (data[skip] == ' ' || data[skip] == '\t' || data[skip] == '\r' ||
			      data[skip] == '\n'))
		skip++;
	if (len - skip >= strlen(ARMOR_PUBLIC) &&
	    memcmp(data + skip, ARMOR_PUBLIC, strlen(ARMOR_PUBLIC)) == 0)
		return 0;
	if (len - skip >= strlen(ARMOR_PRIVATE) &&
	    memcmp(data + skip, ARMOR_PRIVATE, strlen(ARMOR_PRIVATE)) == 0)
		return pw_error_set(err, -EINVAL,
				    "gpg_keyring: a secret key block; give the public keys "
				    "(gpg --export)");
	/* Binary: the first byte is a packet header (bit 7 set); bit 6 picks
	 * the new format (tag in bits 0-5) or the old one (bits 2-5). */
	if (!(data[0] & 0x80))
		return pw_error_set(err, -EINVAL,
				    "gpg_keyring: not OpenPGP (expected an armored '" ARMOR_PUBLIC
				    "' or a binary keyring, e.g. from gpg --export)");
	tag = (data[0] & 0x40) ? (data[0] & 0x3f) : ((data[0] >> 2) & 0x0f);
	if (tag == PGP_TAG_SECRET_KEY)
		return pw_error_set(
		    err, -EINVAL, "gpg_keyring: a secret key; give the public keys (gpg --export)");
	if (tag != PGP_TAG_PUBLIC_KEY)
		return pw_error_set(
		    err, -EINVAL,
		    "gpg_keyring: OpenPGP data that does not start with a public key "
		    "(packet tag %u; expected a keyring from gpg --export)",
		    tag);
	return 0;
}

int trust_keys_decode_gpg(const char *base64, uint8_t **ret_data, size_t *ret_len,
			  struct pw_error *err)
{
	_cleanup_(evp_encode_ctx_freep) EVP_ENCODE_CTX *ctx = NULL;
	_cleanup_free_ uint8_t *data = NULL;
	size_t in_len = strlen(base64), out_len = 0;
	int n = 0, r;

	/* More base64 than KEYSET_KEY_MAX bytes decode from (with a line
	 * break every 64 characters) is too large before decoding it. */
	if (in_len > (size_t)KEYSET_KEY_MAX / 3 * 4 + KEYSET_KEY_MAX / 48 + 8)
		return pw_error_set(err, -EINVAL, "gpg_keyring: larger than %d bytes",
				    KEYSET_KEY_MAX);
	ctx = EVP_ENCODE_CTX_new();
	if (!ctx)
		return pw_error_set(err, -ENOMEM, "gpg_keyring: out of memory");
	data = xmalloc(in_len / 4 * 3 + 4);
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, data, &n, (const unsigned char *)base64, (int)in_len) < 0) {
		ERR_clear_error();
		return pw_error_set(err, -EINVAL, "gpg_keyring: not base64");
	}
	out_len = (size_t)n;
	if (EVP_DecodeFinal(ctx, data + out_len, &n) < 0) {
		ERR_clear_error();
		return pw_error_set(err, -EINVAL, "gpg_keyring: not base64");
	}
	out_len += (size_t)n;
	r = trust_keys_check_gpg(data, out_len, err);
	if (r < 0)
		return r;
	*ret_data = TAKE_PTR(data);
	*ret_len = out_len;
	return 0;
}
