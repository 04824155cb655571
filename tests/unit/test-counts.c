/* SPDX-License-Identifier: Apache-2.0 */
/* The counts remembered per object between reads (base/counts.h): set, read, overwrite, forget. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "counts.h"

static void test_counts(void **state)
{
	struct dm_counts t = DM_COUNTS_INIT;
	int a = 0, b = 0, c = 0; /* only their addresses are keys */
	size_t n = 99;

	assert_false(dm_counts_get(&t, &a, &n)); /* nothing counted yet */
	assert_int_equal(n, 99);		 /* ... and *ret untouched */
	dm_counts_set(&t, &a, 1);
	dm_counts_set(&t, &b, 2);
	dm_counts_set(&t, &c, 0);
	dm_counts_set(&t, &a, 10); /* a second set replaces */
	assert_true(dm_counts_get(&t, &a, &n));
	assert_int_equal(n, 10);
	assert_true(dm_counts_get(&t, &b, &n));
	assert_int_equal(n, 2);
	assert_true(dm_counts_get(&t, &c, &n)); /* zero is a count */
	assert_int_equal(n, 0);
	assert_int_equal(t.len, 3);

	dm_counts_forget(&t, &a); /* the others stay */
	assert_false(dm_counts_get(&t, &a, &n));
	assert_true(dm_counts_get(&t, &b, &n));
	assert_int_equal(n, 2);
	dm_counts_forget(&t, &a); /* twice is harmless */
	dm_counts_forget(&t, &b);
	dm_counts_forget(&t, &c);
	assert_int_equal(t.len, 0);
	assert_null(t.v); /* the memory went with the last key */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
