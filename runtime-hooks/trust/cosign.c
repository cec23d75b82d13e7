/* cosign signature verification with OpenSSL (see cosign.h). */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

#include "cosign.h"
#include "macro.h"

static void evp_pkey_freep(EVP_PKEY **key)
{
	EVP_PKEY_free(*key);
}

static void evp_md_ctx_freep(EVP_MD_CTX **ctx)
{
	EVP_MD_CTX_free(*ctx);
}

int cosign_key_load(const char *path, EVP_PKEY **ret, struct pw_error *err)
{
	_cleanup_(evp_pkey_freep) EVP_PKEY *key = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	char group[64] = "";
	size_t group_len = 0;

	f = fopen(path, "re");
	if (!f)
		return pw_error_set(err, -errno, "cosign key %s: %m", path);
	key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	ERR_clear_error();
	if (!key)
		return pw_error_set(err, -EINVAL, "cosign key %s: not a PEM public key", path);
	if (!EVP_PKEY_is_a(key, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    &group_len) ||
	    !streq(group, "prime256v1"))
		return pw_error_set(err, -EINVAL, "cosign key %s: not an ECDSA P-256 key", path);
	*ret = TAKE_PTR(key);
	return 0;
}

int cosign_verify(EVP_PKEY *key, const unsigned char *payload, size_t payload_len,
		  const unsigned char *signature, size_t signature_len, struct pw_error *err)
{
	_cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;

	if (!ctx)
		return pw_error_set(err, -ENOMEM, "out of memory");
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) != 1) {
		ERR_clear_error();
		return pw_error_set(err, -EINVAL, "cannot verify with this key");
	}
	r = EVP_DigestVerify(ctx, signature, signature_len, payload, payload_len);
	ERR_clear_error();
	if (r == 1)
		return 0;
	/* 0: well-formed but wrong; negative: not a DER ECDSA-Sig-Value. */
	if (r == 0)
		return pw_error_set(err, -EKEYREJECTED, "signature does not verify with the key");
	return pw_error_set(err, -EBADMSG, "signature is not a DER ECDSA signature");
}
