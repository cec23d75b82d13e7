/* Unit tests for volumed/quota.c: charging growth, refusing what passes a
 * limit without charging anything, crediting shrinkage, and what statfs
 * shows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "../../volumed/quota.h"

static void usage_is(struct quota *q, uint64_t bytes, uint64_t files)
{
	struct quota_usage u;

	quota_get(q, &u);
	assert_int_equal(u.used_bytes, bytes);
	assert_int_equal(u.used_files, files);
}

static void test_unlimited(void **state)
{
	struct quota q;

	quota_init(&q, 0, 0);
	assert_int_equal(quota_charge(&q, INT64_MAX / 2, 1000000), 0);
	assert_int_equal(quota_charge(&q, INT64_MAX / 2, 1), 0);
	quota_done(&q);
}

static void test_bytes_limit(void **state)
{
	struct quota q;

	quota_init(&q, 1000, 0);
	assert_int_equal(quota_charge(&q, 600, 1), 0);
	assert_int_equal(quota_charge(&q, 401, 0), -EDQUOT);
	usage_is(&q, 600, 1);			       /* nothing charged by a refusal */
	assert_int_equal(quota_charge(&q, 400, 0), 0); /* exactly full is fine */
	assert_int_equal(quota_charge(&q, 1, 0), -EDQUOT);
	assert_int_equal(quota_charge(&q, 0, 5), 0); /* files unlimited */
	assert_int_equal(quota_charge(&q, -500, -1), 0);
	usage_is(&q, 500, 5);
	quota_done(&q);
}

static void test_files_limit(void **state)
{
	struct quota q;

	quota_init(&q, 0, 2);
	assert_int_equal(quota_charge(&q, 0, 1), 0);
	assert_int_equal(quota_charge(&q, 0, 1), 0);
	assert_int_equal(quota_charge(&q, 0, 1), -EDQUOT);
	/* A combined change is refused whole if either limit is passed. */
	quota_set_limits(&q, 100, 2);
	assert_int_equal(quota_charge(&q, 10, 1), -EDQUOT);
	usage_is(&q, 0, 2);
	quota_done(&q);
}

static void test_shrink_floor_and_over_limit(void **state)
{
	struct quota q;

	quota_init(&q, 100, 0);
	quota_set_usage(&q, 50, 3);
	assert_int_equal(quota_charge(&q, -80, -10), 0); /* never below 0 */
	usage_is(&q, 0, 0);
	/* A limit lowered below usage: growth refused, shrinkage allowed. */
	quota_set_usage(&q, 500, 1);
	assert_int_equal(quota_charge(&q, 1, 0), -EDQUOT);
	assert_int_equal(quota_charge(&q, -100, 0), 0);
	usage_is(&q, 400, 1);
	assert_int_equal(quota_charge(&q, INT64_MIN, 0), 0);
	usage_is(&q, 0, 1);
	/* No overflow near the top of the range. */
	quota_set_limits(&q, UINT64_MAX, 0);
	quota_set_usage(&q, UINT64_MAX - 10, 0);
	assert_int_equal(quota_charge(&q, 11, 0), -EDQUOT);
	assert_int_equal(quota_charge(&q, 10, 0), 0);
	quota_done(&q);
}

/* Growth that already happened (passthrough writes) is recorded even past
 * the limit; from then on growth is refused and shrinkage allowed. */
static void test_account_past_limit(void **state)
{
	struct quota q;

	quota_init(&q, 1000, 0);
	assert_int_equal(quota_charge(&q, 900, 1), 0);
	quota_account(&q, 300);
	usage_is(&q, 1200, 1);
	assert_int_equal(quota_charge(&q, 1, 0), -EDQUOT);
	quota_account(&q, -5000); /* never below 0 */
	usage_is(&q, 0, 1);
	quota_done(&q);
}

static void test_size_delta(void **state)
{
	assert_int_equal(quota_size_delta(100, 150), 50);
	assert_int_equal(quota_size_delta(150, 100), 0);
	assert_int_equal(quota_size_delta(7, 7), 0);
	assert_int_equal(quota_size_delta(0, UINT64_MAX), INT64_MAX);
}

static void test_statfs(void **state)
{
	struct statvfs backing = {.f_bsize = 4096,
				  .f_frsize = 4096,
				  .f_blocks = 1000000,
				  .f_bfree = 500000,
				  .f_bavail = 400000,
				  .f_files = 100000,
				  .f_ffree = 90000,
				  .f_favail = 90000};
	struct quota_usage u = {.limit_bytes = 10 * 4096,
				.used_bytes = 4 * 4096 + 1,
				.limit_files = 100,
				.used_files = 30};
	struct statvfs shown;

	quota_statfs(&u, &backing, &shown);
	assert_int_equal(shown.f_blocks, 10);
	assert_int_equal(shown.f_bfree, 5); /* partial blocks are not free */
	assert_int_equal(shown.f_bavail, 5);
	assert_int_equal(shown.f_files, 100);
	assert_int_equal(shown.f_ffree, 70);

	/* Never more free than the backing file system has. */
	backing.f_bavail = 2;
	quota_statfs(&u, &backing, &shown);
	assert_int_equal(shown.f_bavail, 2);

	/* Over the limit: nothing free. */
	u.used_bytes = 20 * 4096;
	quota_statfs(&u, &backing, &shown);
	assert_int_equal(shown.f_bfree, 0);

	/* No limits: the backing numbers. */
	u = (struct quota_usage){0};
	quota_statfs(&u, &backing, &shown);
	assert_int_equal(shown.f_blocks, backing.f_blocks);
	assert_int_equal(shown.f_files, backing.f_files);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unlimited),
	    cmocka_unit_test(test_bytes_limit),
	    cmocka_unit_test(test_files_limit),
	    cmocka_unit_test(test_shrink_floor_and_over_limit),
	    cmocka_unit_test(test_size_delta),
	    cmocka_unit_test(test_statfs),
	    cmocka_unit_test(test_account_past_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
