/* netd's side of content trust, the pure parts: keyset names (VNet rules,
 * so no '/', '.' or ".." reaches a path), repository prefixes, the checks
 * of cosign keys (PEM, EC P-256 only) and GPG keyrings (armored or binary
 * OpenPGP public keys, base64 on the wire), verdict parsing and what an
 * attach does under each mode. netd/trust.c, netd/trust-keys.c */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "../../netd/trust-keys.h"
#include "../../netd/trust.h"

static void expect_error(int r, const struct pw_error *err, const char *part)
{
	assert_int_equal(r, -EINVAL);
	if (!strstr(pw_error_message(err), part))
		fail_msg("error '%s', expected '%s' in it", pw_error_message(err), part);
}

static void test_names(void **state)
{
	struct pw_error err = {0};

	assert_int_equal(keyset_name_validate("prod", &err), 0);
	assert_int_equal(keyset_name_validate("a-1", &err), 0);
	assert_int_equal(keyset_name_validate("abcdefghijkl", &err), 0);
	expect_error(keyset_name_validate("", &err), &err, "keyset name is empty");
	expect_error(keyset_name_validate(NULL, &err), &err, "keyset name is empty");
	expect_error(keyset_name_validate("abcdefghijklm", &err), &err, "longer than 12");
	expect_error(keyset_name_validate("..", &err), &err, "may contain only a-z, 0-9 and '-'");
	expect_error(keyset_name_validate("a/b", &err), &err, "may contain only");
	expect_error(keyset_name_validate("Prod", &err), &err, "may contain only");
	expect_error(keyset_name_validate("-a", &err), &err, "may not start or end with '-'");
	expect_error(keyset_name_validate("a-", &err), &err, "may not start or end with '-'");

	assert_int_equal(keyset_repository_validate("", &err), 0);
	assert_int_equal(keyset_repository_validate("registry.example:5000/app", &err), 0);
	expect_error(keyset_repository_validate("a b", &err), &err, "repository:");
	expect_error(keyset_repository_validate("a\n", &err), &err, "repository:");
}

static void test_modes(void **state)
{
	enum trust_mode mode;

	assert_int_equal(trust_mode_parse("off", &mode), 0);
	assert_int_equal(mode, TRUST_OFF);
	assert_int_equal(trust_mode_parse("audit", &mode), 0);
	assert_int_equal(mode, TRUST_AUDIT);
	assert_int_equal(trust_mode_parse("enforce", &mode), 0);
	assert_int_equal(mode, TRUST_ENFORCE);
	assert_string_equal(trust_mode_name(TRUST_ENFORCE), "enforce");
	assert_int_equal(trust_mode_parse("Enforce", &mode), -EINVAL);
	assert_int_equal(trust_mode_parse("", &mode), -EINVAL);
}

/* PEM of a fresh public key of the given type ("EC" with a curve, or RSA). */
static char *make_pem(const char *type, const char *curve)
{
	EVP_PKEY *key = curve ? EVP_PKEY_Q_keygen(NULL, NULL, type, curve)
			      : EVP_PKEY_Q_keygen(NULL, NULL, type, (size_t)2048);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem;
	long len;

	assert_non_null(key);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
	len = BIO_get_mem_data(bio, &data);
	pem = strndup(data, (size_t)len);
	BIO_free(bio);
	EVP_PKEY_free(key);
	return pem;
}

static void test_cosign(void **state)
{
	struct pw_error err = {0};
	char *p256 = make_pem("EC", "P-256"), *p384 = make_pem("EC", "P-384");
	char *rsa = make_pem("RSA", NULL);
	char *cut = strndup(p256, strlen(p256) / 2);

	assert_int_equal(trust_keys_check_cosign(p256, strlen(p256), &err), 0);
	expect_error(trust_keys_check_cosign(p384, strlen(p384), &err), &err,
		     "not an ECDSA P-256 key");
	assert_non_null(strstr(pw_error_message(&err), "secp384r1"));
	expect_error(trust_keys_check_cosign(rsa, strlen(rsa), &err), &err,
		     "not an ECDSA P-256 key");
	assert_non_null(strstr(pw_error_message(&err), "RSA"));
	expect_error(trust_keys_check_cosign(cut, strlen(cut), &err), &err, "not a PEM public key");
	expect_error(trust_keys_check_cosign("hello", 5, &err), &err, "not a PEM public key");
	expect_error(trust_keys_check_cosign("", 0, &err), &err, "cosign_key: empty");
	expect_error(trust_keys_check_cosign(p256, KEYSET_KEY_MAX + 1, &err), &err, "larger than");
	free(p256);
	free(p384);
	free(rsa);
	free(cut);
}

/* The first bytes of `gpg --export` (old-format public-key packet, tag 6)
 * and of a new-format one (0xC6), a secret key (tag 5) and a user id
 * packet (tag 13) alone. */
static void test_gpg(void **state)
{
	static const uint8_t old_public[] = {0x98, 0x33, 0x04, 0x6b};
	static const uint8_t new_public[] = {0xc6, 0x33, 0x04, 0x6b};
	static const uint8_t secret[] = {0x94, 0x58, 0x04};
	static const uint8_t user_id[] = {0xb4, 0x05, 'a'};
	static const char armored[] = "\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ...\n";
	static const char armored_secret[] = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n";
	struct pw_error err = {0};
	uint8_t *data = NULL;
	size_t len = 0;

	assert_int_equal(trust_keys_check_gpg(old_public, sizeof(old_public), &err), 0);
	assert_int_equal(trust_keys_check_gpg(new_public, sizeof(new_public), &err), 0);
	assert_int_equal(trust_keys_check_gpg((const uint8_t *)armored, strlen(armored), &err), 0);
	expect_error(trust_keys_check_gpg(secret, sizeof(secret), &err), &err, "a secret key");
	expect_error(
	    trust_keys_check_gpg((const uint8_t *)armored_secret, strlen(armored_secret), &err),
	    &err, "a secret key block");
	expect_error(trust_keys_check_gpg(user_id, sizeof(user_id), &err), &err, "packet tag 13");
	expect_error(trust_keys_check_gpg((const uint8_t *)"-----BEGIN PUBLIC KEY-----", 26, &err),
		     &err, "not OpenPGP");
	expect_error(trust_keys_check_gpg(old_public, 0, &err), &err, "gpg_keyring: empty");

	/* base64 of 98 33 04 6b, with a line break */
	assert_int_equal(trust_keys_decode_gpg("mDME\naw==", &data, &len, &err), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(data, old_public, 4);
	free(data);
	expect_error(trust_keys_decode_gpg("***", &data, &len, &err), &err, "not base64");
	expect_error(trust_keys_decode_gpg("", &data, &len, &err), &err, "gpg_keyring: empty");
	/* base64 of "hello": decodes, is not OpenPGP */
	expect_error(trust_keys_decode_gpg("aGVsbG8=", &data, &len, &err), &err, "not OpenPGP");
}

/* Parses text (NULL: no verdict) into *ret; the strings point into the
 * JSON, kept in *ret_json. */
static void verdict_of(const char *text, int expect, json_t **ret_json, struct trust_verdict *ret)
{
	json_t *json = text ? json_loads(text, 0, NULL) : NULL;
	struct pw_error err = {0};

	assert_true(!text || json);
	assert_int_equal(trust_verdict_parse(json, ret, &err), expect);
	if (ret_json)
		*ret_json = json;
	else
		json_decref(json);
}

static void test_verdicts(void **state)
{
	json_auto_t *yes_json = NULL, *no_json = NULL;
	struct trust_verdict none, yes, no, bad;
	struct trust_decision d;

	verdict_of(NULL, 0, NULL, &none);
	verdict_of("{\"trusted\":true,\"image\":\"r/app:1\",\"digest\":\"sha256:aa\","
		   "\"reason\":\"\",\"message\":\"ok\"}",
		   0, &yes_json, &yes);
	verdict_of("{\"trusted\":false,\"reason\":\"unsigned\"}", 0, &no_json, &no);
	assert_false(none.present);
	assert_true(yes.present && yes.trusted);
	assert_string_equal(yes.image, "r/app:1");
	assert_true(no.present && !no.trusted);
	assert_string_equal(no.message, "");
	verdict_of("{\"image\":\"x\"}", -EINVAL, NULL, &bad);
	verdict_of("{\"trusted\":1}", -EINVAL, NULL, &bad);
	verdict_of("{\"trusted\":true,\"extra\":1}", -EINVAL, NULL, &bad);
	verdict_of("{\"trusted\":false,\"message\":\"a\\nb\"}", -EINVAL, NULL, &bad);
	verdict_of("[true]", -EINVAL, NULL, &bad);

	/* enforce: only a trusted verdict; netd counts only a missing one */
	d = trust_decide(TRUST_ENFORCE, &none);
	assert_false(d.admit);
	assert_true(d.count);
	d = trust_decide(TRUST_ENFORCE, &no);
	assert_false(d.admit);
	assert_false(d.count);
	d = trust_decide(TRUST_ENFORCE, &yes);
	assert_true(d.admit);
	assert_false(d.count);
	/* audit: everything; a missing verdict counted */
	d = trust_decide(TRUST_AUDIT, &none);
	assert_true(d.admit);
	assert_true(d.count);
	d = trust_decide(TRUST_AUDIT, &no);
	assert_true(d.admit);
	assert_false(d.count);
	d = trust_decide(TRUST_OFF, &none);
	assert_true(d.admit);
	assert_false(d.count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_cosign),   cmocka_unit_test(test_gpg),
	    cmocka_unit_test(test_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
