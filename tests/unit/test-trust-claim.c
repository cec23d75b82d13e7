/* Unit tests for runtime-hooks/trust/claim.c and signature.c: the signed
 * payload, repository prefixes, base64 and stored signature tags. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime-hooks/trust/claim.h"
#include "../../runtime-hooks/trust/signature.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *text, struct trust_claim *claim)
{
	struct pw_error err = {};

	return trust_claim_parse(text, strlen(text), TRUST_CLAIM_TYPE_ATOMIC, claim, &err);
}

static void test_claim(void **state)
{
	struct trust_claim claim;

	assert_int_equal(
	    parse("{\"critical\":{\"identity\":{\"docker-reference\":\"r.example/a:1\"},"
		  "\"image\":{\"docker-manifest-digest\":\"" DIGEST "\"},"
		  "\"type\":\"atomic container signature\"},\"optional\":{\"x\":1}}",
		  &claim),
	    0);
	assert_string_equal(claim.reference, "r.example/a:1");
	assert_string_equal(claim.digest, DIGEST);
	/* Refused: another type, an unknown critical member, a bad digest, no
	 * digest, not JSON. */
	assert_int_equal(
	    parse("{\"critical\":{\"identity\":{},\"image\":{\"docker-manifest-digest\":"
		  "\"" DIGEST "\"},\"type\":\"cosign container image signature\"}}",
		  &claim),
	    -EBADMSG);
	assert_int_equal(
	    parse("{\"critical\":{\"identity\":{},\"image\":{\"docker-manifest-digest\":"
		  "\"" DIGEST "\"},\"type\":\"atomic container signature\","
		  "\"expires\":1}}",
		  &claim),
	    -EBADMSG);
	assert_int_equal(
	    parse("{\"critical\":{\"identity\":{},\"image\":{\"docker-manifest-digest\":"
		  "\"sha256:ABC\"},\"type\":\"atomic container signature\"}}",
		  &claim),
	    -EBADMSG);
	assert_int_equal(parse("{\"critical\":{\"identity\":{},\"image\":{},"
			       "\"type\":\"atomic container signature\"}}",
			       &claim),
			 -EBADMSG);
	assert_int_equal(parse("{\"critical\":", &claim), -EBADMSG);
}

static void test_reference(void **state)
{
	assert_true(trust_reference_matches("r.example/app:1", ""));
	assert_true(trust_reference_matches("r.example/app", "r.example/app"));
	assert_true(trust_reference_matches("r.example/app:1", "r.example/app"));
	assert_true(trust_reference_matches("r.example/app@" DIGEST, "r.example/app"));
	assert_true(trust_reference_matches("r.example/app/web:1", "r.example/app"));
	assert_true(trust_reference_matches("r.example/app/web:1", "r.example/"));
	assert_false(trust_reference_matches("r.example/application:1", "r.example/app"));
	assert_false(trust_reference_matches("r.example/ap", "r.example/app"));
	assert_false(trust_reference_matches("evil.example/r.example/app", "r.example/app"));
	assert_false(trust_reference_matches("", "r.example/app"));
}

static void test_base64(void **state)
{
	unsigned char *out;
	size_t len;

	assert_int_equal(base64_decode("aGVsbG8=", &out, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(out, "hello", 5);
	free(out);
	assert_int_equal(base64_decode("", &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
	assert_int_equal(base64_decode("aGVsbG8", &out, &len), -EBADMSG);
	assert_int_equal(base64_decode("aG=sbG8=", &out, &len), -EBADMSG);
	assert_int_equal(base64_decode("aGVs bG8=", &out, &len), -EBADMSG);
}

static void test_classify(void **state)
{
	struct trust_sig sig;

	assert_int_equal(trust_sig_classify((const unsigned char *)"\x89pgp", 4, &sig, NULL), 0);
	assert_int_equal(sig.format, TRUST_SIG_SIMPLE);
	assert_int_equal(sig.len, 4);
	assert_int_equal(
	    trust_sig_classify((const unsigned char *)"\0sigstore-json\n{}", 17, &sig, NULL), 0);
	assert_int_equal(sig.format, TRUST_SIG_SIGSTORE);
	assert_int_equal(sig.len, 2);
	assert_memory_equal(sig.data, "{}", 2);
	assert_int_equal(
	    trust_sig_classify((const unsigned char *)"\0simple-signing\nX", 17, &sig, NULL), 0);
	assert_int_equal(sig.format, TRUST_SIG_SIMPLE);
	assert_int_equal(trust_sig_classify((const unsigned char *)"\0notation\nX", 11, &sig, NULL),
			 0);
	assert_int_equal(sig.format, TRUST_SIG_UNKNOWN);
	assert_int_equal(
	    trust_sig_classify((const unsigned char *)"\0sigstore-json", 14, &sig, NULL), -EBADMSG);
	assert_int_equal(trust_sig_classify((const unsigned char *)"", 0, &sig, NULL), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_claim),
	    cmocka_unit_test(test_reference),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
