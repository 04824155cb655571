/* SPDX-License-Identifier: Apache-2.0 */
/* The order of the monitors on one interface: polycubed's rules for combining position,
 * before and after, and the rank each place gives among the ranks already taken. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "chain.h"

static const struct parse_case {
	const char *position, *before, *after;
	int r;
	enum chain_where where;
	const char *other;
} parse_cases[] = {
    {NULL, NULL, NULL, 0, CHAIN_AUTO, NULL},
    {"auto", NULL, NULL, 0, CHAIN_AUTO, NULL},
    {"first", NULL, NULL, 0, CHAIN_FIRST, NULL},
    {"last", NULL, NULL, 0, CHAIN_LAST, NULL},
    {NULL, "m1", NULL, 0, CHAIN_BEFORE, "m1"},
    {NULL, NULL, "m2", 0, CHAIN_AFTER, "m2"},
    {"middle", NULL, NULL, -EINVAL},
    {"First", NULL, NULL, -EINVAL}, /* polycubed compares exactly */
    {"last", "m1", NULL, -EINVAL},  /* position excludes before... */
    {"auto", NULL, "m1", -EINVAL},  /* ...and after */
    {NULL, "m1", "m2", -EINVAL},    /* before and after exclude each other */
    {NULL, "", NULL, -EINVAL},
};

static void test_parse(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct chain_position pos = {};
		dm_error e = DM_ERROR_NULL;
		int r = chain_position_parse(c->position, c->before, c->after, &pos, &e);

		assert_int_equal(r, c->r);
		if (r < 0) {
			assert_non_null(e.message);
		} else {
			assert_int_equal(pos.where, c->where);
			if (c->other)
				assert_string_equal(pos.other, c->other);
			else
				assert_null(pos.other);
		}
		dm_error_done(&e);
	}
}

/* Ranks 40 (taken by others, for the cases that say so) and 42 are not free. */
static int taken_40_42(uint32_t rank, void *userdata)
{
	return rank != 40 && rank != 42;
}

static const struct pick_case {
	uint32_t ranks[4];
	size_t n;
	enum chain_where where;
	size_t other;
	bool others_filters;
	int r;
	uint32_t rank;
} pick_cases[] = {
    {{}, 0, CHAIN_AUTO, 0, false, 0, CHAIN_RANK_START}, /* alone: the middle */
    {{}, 0, CHAIN_FIRST, 0, false, 0, CHAIN_RANK_START},
    {{50}, 1, CHAIN_FIRST, 0, false, 0, 42},	      /* a step nearer the wire */
    {{50}, 1, CHAIN_FIRST, 0, true, 0, 41},	      /* 42 is another's: the next free */
    {{50}, 1, CHAIN_LAST, 0, false, 0, 58},	      /* a step behind */
    {{50}, 1, CHAIN_AUTO, 0, false, 0, 58},	      /* auto is last */
    {{42, 50, 58}, 3, CHAIN_BEFORE, 1, false, 0, 46}, /* the middle of the gap */
    {{42, 50, 58}, 3, CHAIN_AFTER, 1, false, 0, 54},
    {{42, 50, 58}, 3, CHAIN_BEFORE, 0, false, 0, 21}, /* before the first: the middle to the end */
    {{42, 50, 58}, 3, CHAIN_AFTER, 2, false, 0, 78},
    {{50, 51}, 2, CHAIN_AFTER, 0, false, -ENOSPC}, /* no room between neighbours */
    {{3}, 1, CHAIN_FIRST, 0, false, 0, 2},	   /* the last free place */
    {{2}, 1, CHAIN_FIRST, 0, false, -ENOSPC},
    {{98}, 1, CHAIN_LAST, 0, false, -ENOSPC},
    {{41, 43}, 2, CHAIN_AFTER, 0, true, -ENOSPC}, /* the only rank between is another's */
};

static void test_pick(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(pick_cases); i++) {
		const struct pick_case *c = &pick_cases[i];
		uint32_t rank = 0;
		int r = chain_pick_rank(c->ranks, c->n, c->where, c->other,
					c->others_filters ? taken_40_42 : NULL, NULL, &rank);

		print_message("case %zu\n", i);
		assert_int_equal(r, c->r);
		if (r >= 0)
			assert_int_equal(rank, c->rank);
	}
}

static void test_tc_priority(void **state)
{
	/* Ingress in rank order, egress reversed, both within the span. */
	assert_int_equal(chain_tc_priority(CHAIN_RANK_MIN, 0), CHAIN_RANK_MIN);
	assert_int_equal(chain_tc_priority(CHAIN_RANK_MIN, 1), CHAIN_RANK_MAX);
	assert_int_equal(chain_tc_priority(CHAIN_RANK_MAX, 1), CHAIN_RANK_MIN);
	assert_true(chain_tc_priority(42, 1) > chain_tc_priority(58, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_pick),
	    cmocka_unit_test(test_tc_priority),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
