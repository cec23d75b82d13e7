/* Unit tests for runtime-hooks/trust/verify.c with cosign.c and gpg.c: an
 * image with a signature by the policy's key, over one of its manifest
 * digests, for a reference in the policy's repository is trusted; every
 * other case is refused with its own reason. Keys are made at test time:
 * ECDSA keys with OpenSSL, GPG keys with `gpg --batch` in a private
 * GNUPGHOME under the test's temp dir. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime-hooks/trust/signature.h"
#include "../../runtime-hooks/trust/verify.h"

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char tmp_dir[] = "/tmp/pw-test-trust.XXXXXX";
static char path_buf[4096];

static const char *tmp_path(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", tmp_dir, name);
	return path_buf;
}

static char *payload_text(const char *type, const char *reference, const char *digest)
{
	char *text;

	assert_true(asprintf(&text,
			     "{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},"
			     "\"image\":{\"docker-manifest-digest\":\"%s\"},\"type\":\"%s\"},"
			     "\"optional\":{\"creator\":\"test\"}}",
			     reference, digest, type) > 0);
	return text;
}

/* ---- cosign ---- */

static EVP_PKEY *ec_key(const char *curve)
{
	EVP_PKEY *key = EVP_EC_gen(curve);

	assert_non_null(key);
	return key;
}

static void write_public_pem(EVP_PKEY *key, const char *name)
{
	FILE *f = fopen(tmp_path(name), "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, key), 1);
	fclose(f);
}

static void base64(const unsigned char *data, size_t len, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
}

/* A stored sigstore-json signature of payload by key. */
static void cosign_sign(EVP_PKEY *key, const char *payload, struct storage_signature *ret)
{
	unsigned char sig[256];
	size_t sig_len = sizeof(sig);
	char sig64[512], *payload64, *blob;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int len;

	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(
	    EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)payload, strlen(payload)), 1);
	EVP_MD_CTX_free(ctx);
	base64(sig, sig_len, sig64);
	payload64 = calloc(1, strlen(payload) * 2 + 8);
	base64((const unsigned char *)payload, strlen(payload), payload64);
	len = asprintf(
	    &blob,
	    "%csigstore-json\n{\"mimeType\":\"application/vnd.dev.cosign.simplesigning.v1+json\","
	    "\"payload\":\"%s\",\"annotations\":{\"%s\":\"%s\"}}",
	    0, payload64, SIGSTORE_SIGNATURE_ANNOTATION, sig64);
	assert_true(len > 0);
	free(payload64);
	*ret = (struct storage_signature){.data = (unsigned char *)blob, .len = (size_t)len};
	snprintf(ret->manifest_digest, sizeof(ret->manifest_digest), "%s", DIGEST_A);
}

static void identity_init(struct image_identity *id, size_t signature_count)
{
	*id = (struct image_identity){};
	strcpy(id->manifest_digests[0], DIGEST_A);
	id->manifest_count = 1;
	id->signatures = calloc(STORAGE_SIGNATURES_MAX, sizeof(*id->signatures));
	id->signature_count = signature_count;
}

static enum trust_reason verify_with(const struct trust_policy *policy,
				     const struct image_identity *id, struct trust_verdict *verdict)
{
	struct trust_verifier v;
	struct pw_error err = {};
	int r;

	assert_int_equal(trust_verifier_open(policy, &v, &err), 0);
	r = trust_verify(&v, id, verdict);
	trust_verifier_close(&v);
	assert_int_equal(r == 0, verdict->reason == TRUST_OK);
	return verdict->reason;
}

static void test_cosign(void **state)
{
	EVP_PKEY *key = ec_key("P-256"), *other = ec_key("P-256");
	struct trust_policy policy = {.cosign_key_path = tmp_path("cosign.pub"),
				      .repository = "registry.example/app"};
	struct image_identity id;
	struct trust_verdict verdict;
	char *good = payload_text(TRUST_CLAIM_TYPE_COSIGN, "registry.example/app:1", DIGEST_A);

	write_public_pem(key, "cosign.pub");

	/* Signed by the key, over the image's digest, in the repository. */
	identity_init(&id, 1);
	cosign_sign(key, good, &id.signatures[0]);
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_OK);
	assert_string_equal(verdict.claim.reference, "registry.example/app:1");
	assert_string_equal(verdict.claim.digest, DIGEST_A);

	/* The same signature, another policy repository. */
	policy.repository = "registry.example/application";
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_REFERENCE_MISMATCH);
	assert_non_null(strstr(verdict.detail, "registry.example/app:1"));
	policy.repository = "registry.example/app";

	/* An image whose manifests are others: a signature copied over. */
	strcpy(id.manifest_digests[0], DIGEST_B);
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_DIGEST_MISMATCH);
	assert_non_null(strstr(verdict.detail, DIGEST_A));
	image_identity_done(&id);

	/* Another key's signature. */
	identity_init(&id, 1);
	cosign_sign(other, good, &id.signatures[0]);
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_BAD_SIGNATURE);
	image_identity_done(&id);

	/* A payload altered after signing: the signature stays, the base64
	 * payload is replaced by one naming another repository. */
	identity_init(&id, 1);
	cosign_sign(key, good, &id.signatures[0]);
	{
		char *evil =
		    payload_text(TRUST_CLAIM_TYPE_COSIGN, "registry.example/app:2", DIGEST_A);
		char evil64[1024], good64[1024];
		char *blob = (char *)id.signatures[0].data;
		char *at;

		base64((const unsigned char *)good, strlen(good), good64);
		base64((const unsigned char *)evil, strlen(evil), evil64);
		assert_int_equal(strlen(good64), strlen(evil64));
		at = strstr(blob + 1, good64);
		assert_non_null(at);
		memcpy(at, evil64, strlen(evil64));
		free(evil);
	}
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_BAD_SIGNATURE);
	image_identity_done(&id);

	/* A payload of the wrong type (an atomic one signed with the cosign key). */
	identity_init(&id, 1);
	{
		char *atomic =
		    payload_text(TRUST_CLAIM_TYPE_ATOMIC, "registry.example/app:1", DIGEST_A);

		cosign_sign(key, atomic, &id.signatures[0]);
		free(atomic);
	}
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_MALFORMED);
	image_identity_done(&id);

	/* No signatures at all; and one the policy has no key for (GPG). */
	identity_init(&id, 0);
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_UNSIGNED);
	image_identity_done(&id);
	identity_init(&id, 1);
	id.signatures[0].data = (unsigned char *)strdup("\x89 an OpenPGP packet");
	id.signatures[0].len = strlen((char *)id.signatures[0].data);
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_UNSIGNED);
	image_identity_done(&id);

	/* A valid signature next to a broken one: trusted. */
	identity_init(&id, 2);
	id.signatures[0].data = malloc(16);
	memcpy(id.signatures[0].data, "\0sigstore-json\n{", 16);
	id.signatures[0].len = 16;
	cosign_sign(key, good, &id.signatures[1]);
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_OK);
	image_identity_done(&id);

	free(good);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static void test_cosign_malformed(void **state)
{
	EVP_PKEY *key = ec_key("P-256");
	struct trust_policy policy = {.cosign_key_path = tmp_path("cosign.pub")};
	static const char *const blobs[] = {
	    "not json",
	    "{\"mimeType\":\"x\",\"payload\":\"%%%%\",\"annotations\":"
	    "{\"dev.cosignproject.cosign/signature\":\"AAAA\"}}",
	    "{\"mimeType\":\"x\",\"payload\":\"e30=\",\"annotations\":{}}",
	    "{\"mimeType\":\"x\",\"payload\":\"e30=\",\"annotations\":"
	    "{\"dev.cosignproject.cosign/signature\":\"bm90IERFUg==\"}}",
	};
	struct trust_verdict verdict;

	write_public_pem(key, "cosign.pub");
	for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		struct image_identity id;
		char *blob;
		int len = asprintf(&blob, "%csigstore-json\n%s", 0, blobs[i]);

		identity_init(&id, 1);
		id.signatures[0].data = (unsigned char *)blob;
		id.signatures[0].len = (size_t)len;
		assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_MALFORMED);
		image_identity_done(&id);
	}
	EVP_PKEY_free(key);
}

static void test_cosign_keys(void **state)
{
	EVP_PKEY *p384 = ec_key("P-384");
	struct trust_verifier v;
	struct pw_error err = {};
	struct trust_policy policy = {.cosign_key_path = tmp_path("p384.pub")};
	FILE *f;

	write_public_pem(p384, "p384.pub");
	assert_int_equal(trust_verifier_open(&policy, &v, &err), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "not an ECDSA P-256 key"));

	f = fopen(tmp_path("garbage.pub"), "w");
	fputs("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", f);
	fclose(f);
	policy.cosign_key_path = tmp_path("garbage.pub");
	assert_int_equal(trust_verifier_open(&policy, &v, &err), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "not a PEM public key"));

	policy.cosign_key_path = tmp_path("missing.pub");
	assert_int_equal(trust_verifier_open(&policy, &v, &err), -ENOENT);

	policy.cosign_key_path = NULL;
	assert_int_equal(trust_verifier_open(&policy, &v, &err), -EINVAL);
	assert_non_null(strstr(pw_error_message(&err), "no key"));
	EVP_PKEY_free(p384);
}

/* ---- GPG ---- */

static void run(const char *fmt, ...)
{
	char *cmd;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void gpg_key(const char *home, const char *uid)
{
	run("mkdir -p -m 0700 %s/%s && GNUPGHOME=%s/%s gpg --batch --quiet --passphrase '' "
	    "--quick-gen-key '%s' ed25519 sign never 2>/dev/null && "
	    "GNUPGHOME=%s/%s gpg --batch --export --armor >%s/%s.asc",
	    tmp_dir, home, tmp_dir, home, uid, tmp_dir, home, tmp_dir, home);
}

/* A stored simple-signing signature of payload by the key in home. */
static void gpg_sign(const char *home, const char *payload, struct storage_signature *ret)
{
	FILE *f = fopen(tmp_path("payload.json"), "w");
	unsigned char *blob;
	long len;

	fputs(payload, f);
	fclose(f);
	run("GNUPGHOME=%s/%s gpg --batch --quiet --yes --sign -o %s/payload.gpg %s/payload.json",
	    tmp_dir, home, tmp_dir, tmp_dir);
	f = fopen(tmp_path("payload.gpg"), "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	blob = malloc((size_t)len);
	assert_int_equal(fread(blob, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*ret = (struct storage_signature){.data = blob, .len = (size_t)len};
	snprintf(ret->manifest_digest, sizeof(ret->manifest_digest), "%s", DIGEST_A);
}

static void test_gpg(void **state)
{
	char keyring[4096];
	struct trust_policy policy = {.repository = "registry.example/app"};
	struct image_identity id;
	struct trust_verdict verdict;
	char *good = payload_text(TRUST_CLAIM_TYPE_ATOMIC, "registry.example/app:1", DIGEST_A);

	gpg_key("alice", "alice <alice@example.invalid>");
	gpg_key("mallory", "mallory <mallory@example.invalid>");
	snprintf(keyring, sizeof(keyring), "%s/alice.asc", tmp_dir);
	policy.gpg_keyring_path = keyring;

	identity_init(&id, 1);
	gpg_sign("alice", good, &id.signatures[0]);
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_OK);
	assert_string_equal(verdict.claim.reference, "registry.example/app:1");

	policy.repository = "registry.example/other";
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_REFERENCE_MISMATCH);
	policy.repository = "registry.example/app";

	strcpy(id.manifest_digests[0], DIGEST_B);
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_DIGEST_MISMATCH);
	strcpy(id.manifest_digests[0], DIGEST_A);

	/* One flipped byte in the middle of the signed message. */
	id.signatures[0].data[id.signatures[0].len / 2] ^= 0x01;
	assert_true(verify_with(&policy, &id, &verdict) == TRUST_BAD_SIGNATURE ||
		    verdict.reason == TRUST_MALFORMED);
	image_identity_done(&id);

	/* Mallory's signature: her key is not in alice's keyring. */
	identity_init(&id, 1);
	gpg_sign("mallory", good, &id.signatures[0]);
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_WRONG_KEY);
	assert_non_null(strstr(verdict.detail, "not in the keyring"));
	image_identity_done(&id);

	/* Not an OpenPGP message; a cosign-type payload signed with GPG. */
	identity_init(&id, 1);
	id.signatures[0].data = (unsigned char *)strdup("\x89garbage that is no packet");
	id.signatures[0].len = strlen((char *)id.signatures[0].data);
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_MALFORMED);
	image_identity_done(&id);
	identity_init(&id, 1);
	{
		char *cosign =
		    payload_text(TRUST_CLAIM_TYPE_COSIGN, "registry.example/app:1", DIGEST_A);

		gpg_sign("alice", cosign, &id.signatures[0]);
		free(cosign);
	}
	assert_int_equal(verify_with(&policy, &id, &verdict), TRUST_MALFORMED);
	image_identity_done(&id);

	/* A keyring file without keys. */
	{
		struct trust_verifier v;
		struct pw_error err = {};
		FILE *f = fopen(tmp_path("empty.asc"), "w");

		fputs("nothing\n", f);
		fclose(f);
		policy.gpg_keyring_path = tmp_path("empty.asc");
		assert_int_equal(trust_verifier_open(&policy, &v, &err), -EINVAL);
		assert_non_null(strstr(pw_error_message(&err), "no OpenPGP public key"));
	}
	free(good);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static int setup(void **state)
{
	if (!mkdtemp(tmp_dir))
		return -1;
	/* gpg_verifier's private homes go here too, so teardown sees leftovers. */
	setenv("TMPDIR", tmp_dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[4096];

	/* Key generation started a gpg-agent per home: stop them first. */
	snprintf(cmd, sizeof(cmd),
		 "for h in %s/alice %s/mallory; do [ -d $h ] && GNUPGHOME=$h gpgconf --kill "
		 "gpg-agent; done 2>/dev/null; true",
		 tmp_dir, tmp_dir);
	if (system(cmd) != 0)
		return -1;
	nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cosign),
	    cmocka_unit_test(test_cosign_malformed),
	    cmocka_unit_test(test_cosign_keys),
	    cmocka_unit_test(test_gpg),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
