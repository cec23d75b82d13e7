/* The key material of a keyset, checked before netd stores it: a cosign
 * public key must parse as an ECDSA P-256 public key (what podwire-trust
 * verifies with, runtime-hooks/trust/cosign.c), a GPG keyring must look
 * like OpenPGP public keys. Bad keys are refused at `keyset add`, where
 * the admin is, not at the next container start.
 *
 * Pure (libcrypto, no files): the unit tests call it directly. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* A key file: a cosign.pub is a few hundred bytes, a keyring with a few
 * keys and their signatures a few KiB to a few hundred; 1 MiB leaves room
 * and keeps one request's memory bounded. (The whole request is also
 * bounded by RPC_LINE_MAX, which the base64 of a keyring counts against.) */
#define KEYSET_KEY_MAX (1024 * 1024)

/* Checks pem (len bytes) is one PEM public key, EC on prime256v1. */
int trust_keys_check_cosign(const char *pem, size_t len, struct pw_error *err);
/* Decodes base64 (whitespace allowed) into *ret_data (malloc'd), then
 * checks it: an ASCII-armored "BEGIN PGP PUBLIC KEY BLOCK" or binary
 * OpenPGP starting with a public-key packet, at most KEYSET_KEY_MAX. */
int trust_keys_decode_gpg(const char *base64, uint8_t **ret_data, size_t *ret_len,
			  struct pw_error *err);
/* Only the check of trust_keys_decode_gpg, on decoded bytes. */
int trust_keys_check_gpg(const uint8_t *data, size_t len, struct pw_error *err);
