/* Unit tests for the walk over netd's snapshot line (dns/snapshot-scan.c):
 * it finds every element of the arrays asked for, in order, with exact
 * bounds, reads seq, skips other members (strings with escaped quotes and
 * brackets included), tells an error reply from a result, and rejects cut
 * or unbalanced lines instead of reading past them (every cut of a line,
 * and mangled copies, under ASan). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../dns/snapshot-scan.h"

static const char *const keys[] = {"vnets", "groups"};

/* Walks text; writes "K:element|" for each element into out. Returns the
 * last result of snapshot_scanner_next. */
static int walk(const char *text, struct snapshot_scanner *sc, char *out, size_t cap)
{
	unsigned k;
	size_t off, len;
	int r;
	out[0] = 0;
	snapshot_scanner_init(sc, text, strlen(text), keys, 2);
	while ((r = snapshot_scanner_next(sc, &k, &off, &len)) == 1) {
		size_t used = strlen(out);
		snprintf(out + used, cap - used, "%u:%.*s|", k, (int)len, text + off);
	}
	return r;
}

static void test_elements_and_seq(void **state)
{
	struct snapshot_scanner sc;
	char out[512];
	const char *line =
	    "{\"id\":1,\"result\":{\"seq\":42,\"vnets\":[{\"name\":\"a\"}, {\"name\":\"b\"}],"
	    "\"zones\":[{\"name\":\"x]}\\\"\"}],\"groups\":[ {\"id\":\"g\",\"attachments\":"
	    "[{\"vnet\":\"a\"}]} ],\"records\":[]}}\n";
	assert_int_equal(walk(line, &sc, out, sizeof(out)), 0);
	assert_string_equal(out, "0:{\"name\":\"a\"}|0:{\"name\":\"b\"}|"
				 "1:{\"id\":\"g\",\"attachments\":[{\"vnet\":\"a\"}]}|");
	assert_true(sc.has_result);
	assert_true(sc.has_seq);
	assert_int_equal(sc.seq, 42);
}

static void test_empty_and_error(void **state)
{
	struct snapshot_scanner sc;
	char out[64];
	assert_int_equal(walk("{\"id\":1,\"result\":{\"seq\":0,\"vnets\":[],\"groups\":[]}}", &sc,
			      out, sizeof(out)),
			 0);
	assert_string_equal(out, "");
	assert_true(sc.has_result);
	assert_int_equal(
	    walk("{\"id\":1,\"error\":{\"code\":\"x\",\"message\":\"no\"}}", &sc, out, sizeof(out)),
	    0);
	assert_false(sc.has_result);
}

static void test_malformed(void **state)
{
	struct snapshot_scanner sc;
	char out[256];
	static const char *const bad[] = {
	    "",
	    "[1,2]",
	    "{\"result\":{\"vnets\":[{\"name\":\"a\"}",
	    "{\"result\":{\"vnets\":[{\"name\":\"a}]}}",
	    "{\"result\":{\"seq\":-1}}",
	    "{\"result\":{\"vnets\":[1 2]}}",
	    "{\"result\":{}} trailing",
	    "{\"result\" {}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(walk(bad[i], &sc, out, sizeof(out)), -EBADMSG);
}

/* Every cut of a valid line, and lines with bytes changed, are walked
 * without reading past their end (each is a heap copy of exactly its
 * length, so ASan sees any over-read); a cut line never walks to a clean
 * end. */
static void test_cut_and_mangled(void **state)
{
	const char *line = "{\"id\":1,\"result\":{\"seq\":7,\"vnets\":[{\"name\":\"a\",\"x\":[1,"
			   "{\"y\":\"\\\"]\"}]}],\"groups\":[{\"id\":\"g\"},{}]}}";
	size_t full = strlen(line);
	unsigned seed = 12345;
	for (size_t cut = 0; cut <= full; cut++) {
		for (int variant = 0; variant < 8; variant++) {
			char *text = malloc(cut ? cut : 1);
			memcpy(text, line, cut);
			if (variant > 0 && cut > 0) {
				seed = seed * 1103515245 + 12345;
				text[(seed >> 8) % cut] = "{}[]\"\\,:x"[(seed >> 4) % 10];
			}
			struct snapshot_scanner sc;
			unsigned k;
			size_t off, len;
			int r, elements = 0;
			snapshot_scanner_init(&sc, text, cut, keys, 2);
			while ((r = snapshot_scanner_next(&sc, &k, &off, &len)) == 1) {
				assert_true(off + len <= cut);
				assert_true(++elements < 100);
			}
			if (variant == 0 && cut < full)
				assert_int_equal(r, -EBADMSG);
			if (variant == 0 && cut == full)
				assert_int_equal(r, 0);
			free(text);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_elements_and_seq),
	    cmocka_unit_test(test_empty_and_error),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_cut_and_mangled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
