/* GPG "atomic container signature" verification with gpgme: the stored
 * signature is an OpenPGP signed message whose content is the payload.
 *
 * gpgme runs gpg against a home directory, so the verifier makes a private
 * one (mode 0700, under TMPDIR or /tmp) holding only the keys of the given
 * keyring file (armored or binary) and removes it when closed. A signature
 * that gpg calls good was therefore made by one of those keys; no trust
 * database or user keyring is consulted. */
#pragma once

#include <gpgme.h>
#include <limits.h>
#include <stddef.h>

#include "error.h"

struct gpg_verifier {
	gpgme_ctx_t ctx;
	char home[PATH_MAX];
};

/* -EINVAL when the keyring holds no OpenPGP public key; -errno when it
 * cannot be read. */
int gpg_verifier_open(const char *keyring_path, struct gpg_verifier *ret, struct pw_error *err);
void gpg_verifier_close(struct gpg_verifier *v);
/* Checks signature and returns the signed payload (malloc'd). 0 ok;
 * -ENOKEY when made by a key not in the keyring; -EKEYREJECTED when bad,
 * expired or made by a revoked or expired key; -EBADMSG when not an OpenPGP
 * signed message. */
int gpg_verify(struct gpg_verifier *v, const unsigned char *signature, size_t len,
	       char **ret_payload, size_t *ret_len, struct pw_error *err);
