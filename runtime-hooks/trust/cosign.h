/* cosign key-pair signatures: ECDSA P-256 over SHA-256 of the payload, DER
 * encoded, checked with OpenSSL 3 against a PEM public key (what
 * `cosign generate-key-pair` writes as cosign.pub, or `openssl ec -pubout`).
 * Keyless (Fulcio certificate + Rekor) signatures are not supported. */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>

#include "error.h"

/* Loads a PEM "PUBLIC KEY"; -EINVAL unless it is an ECDSA P-256 key,
 * -errno when the file cannot be read. */
int cosign_key_load(const char *path, EVP_PKEY **ret, struct pw_error *err);
/* 0 when signature is a valid signature of payload by key; -EKEYREJECTED
 * when it is not (a bad signature and another key's signature look the
 * same to ECDSA); -EBADMSG when signature is not DER. */
int cosign_verify(EVP_PKEY *key, const unsigned char *payload, size_t payload_len,
		  const unsigned char *signature, size_t signature_len, struct pw_error *err);
