/* gpgme verification against a private keyring (see gpg.h). */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpg.h"
#include "macro.h"

static void gpgme_data_releasep(gpgme_data_t *d)
{
	if (*d)
		gpgme_data_release(*d);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	remove(path);
	return 0;
}

void gpg_verifier_close(struct gpg_verifier *v)
{
	if (v->ctx)
		gpgme_release(v->ctx);
	v->ctx = NULL;
	if (v->home[0])
		nftw(v->home, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	v->home[0] = '\0';
}

static int write_gpg_conf(const char *home)
{
	char path[PATH_MAX];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "%s/gpg.conf", home);
	f = fopen(path, "wxe");
	if (!f)
		return -errno;
	fputs("no-autostart\n", f);
	if (fflush(f) != 0)
		return -errno;
	return 0;
}

static int gpg_fail(struct pw_error *err, int r, const char *what, gpgme_error_t gerr)
{
	return pw_error_set(err, r, "%s: %s", what, gpgme_strerror(gerr));
}

int gpg_verifier_open(const char *keyring_path, struct gpg_verifier *ret, struct pw_error *err)
{
	struct gpg_verifier v = {};
	_cleanup_(gpgme_data_releasep) gpgme_data_t keys = NULL;
	const char *tmp = getenv("TMPDIR");
	gpgme_import_result_t imported;
	gpgme_error_t gerr;
	int r;

	*ret = v;
	/* gpgme would otherwise run gpgconf three times, gpgsm and gpg once
	 * more to discover engines we do not use: gpg is at gpgme's built-in
	 * path on Debian. */
	gpgme_set_global_flag("disable-gpgconf", "1");
	gpgme_check_version(NULL);
	gerr = gpgme_data_new_from_file(&keys, keyring_path, 1);
	if (gerr) {
		r = gpgme_err_code_to_errno(gpgme_err_code(gerr));
		return pw_error_set(err, r > 0 ? -r : -EIO, "gpg keyring %s: %s", keyring_path,
				    gpgme_strerror(gerr));
	}
	snprintf(v.home, sizeof(v.home), "%s/podwire-trust-gpg.XXXXXX",
		 strempty(tmp) ? "/tmp" : tmp);
	if (!mkdtemp(v.home))
		return pw_error_set(err, -errno, "gpg home %s: %m", v.home);
	/* gpg starts a gpg-agent for the home on import, which would outlive
	 * us (and the hook that runs us): public keys and verification need
	 * none. */
	r = write_gpg_conf(v.home);
	if (r < 0) {
		gpg_verifier_close(&v);
		return pw_error_set(err, r, "gpg home: gpg.conf: %s", strerror(-r));
	}
	gerr = gpgme_new(&v.ctx);
	if (!gerr)
		gerr = gpgme_ctx_set_engine_info(v.ctx, GPGME_PROTOCOL_OpenPGP, NULL, v.home);
	if (gerr) {
		r = gpg_fail(err, -EIO, "gpgme", gerr);
		gpg_verifier_close(&v);
		return r;
	}
	gerr = gpgme_op_import(v.ctx, keys);
	imported = gerr ? NULL : gpgme_op_import_result(v.ctx);
	if (!imported || imported->imported + imported->unchanged == 0) {
		r = pw_error_set(err, -EINVAL, "gpg keyring %s: no OpenPGP public key in it",
				 keyring_path);
		gpg_verifier_close(&v);
		return r;
	}
	*ret = v;
	return 0;
}

int gpg_verify(struct gpg_verifier *v, const unsigned char *signature, size_t len,
	       char **ret_payload, size_t *ret_len, struct pw_error *err)
{
	_cleanup_(gpgme_data_releasep) gpgme_data_t sig = NULL;
	_cleanup_(gpgme_data_releasep) gpgme_data_t plain = NULL;
	gpgme_verify_result_t result;
	gpgme_signature_t s;
	gpgme_error_t gerr;
	char *payload;
	size_t payload_len;

	gerr = gpgme_data_new_from_mem(&sig, (const char *)signature, len, 0);
	if (!gerr)
		gerr = gpgme_data_new(&plain);
	if (gerr)
		return gpg_fail(err, -ENOMEM, "gpgme", gerr);
	gerr = gpgme_op_verify(v->ctx, sig, NULL, plain);
	result = gerr ? NULL : gpgme_op_verify_result(v->ctx);
	if (!result || !result->signatures)
		return pw_error_set(err, -EBADMSG, "not an OpenPGP signed message");
	/* containers/image accepts exactly one signature per message. */
	s = result->signatures;
	if (s->next)
		return pw_error_set(err, -EBADMSG, "OpenPGP message carries several signatures");
	switch (gpgme_err_code(s->status)) {
	case GPG_ERR_NO_ERROR:
		break;
	case GPG_ERR_NO_PUBKEY:
		return pw_error_set(err, -ENOKEY, "signed by key %s, which is not in the keyring",
				    s->fpr ? s->fpr : "?");
	case GPG_ERR_BAD_SIGNATURE:
		return pw_error_set(err, -EKEYREJECTED, "bad OpenPGP signature");
	default:
		return pw_error_set(err, -EKEYREJECTED, "OpenPGP signature by %s: %s",
				    s->fpr ? s->fpr : "?", gpgme_strerror(s->status));
	}
	payload = gpgme_data_release_and_get_mem(TAKE_PTR(plain), &payload_len);
	if (!payload)
		return pw_error_set(err, -ENOMEM, "out of memory");
	/* gpgme's buffer must go back through gpgme_free; callers use free. */
	*ret_payload = malloc(payload_len + 1);
	if (!*ret_payload) {
		gpgme_free(payload);
		return pw_error_set(err, -ENOMEM, "out of memory");
	}
	memcpy(*ret_payload, payload, payload_len);
	(*ret_payload)[payload_len] = '\0';
	*ret_len = payload_len;
	gpgme_free(payload);
	return 0;
}
