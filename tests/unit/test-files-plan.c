/* SPDX-License-Identifier: Apache-2.0 */
/* What a reload does to one monitor, from what its file wants and what runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "files-plan.h"
#include "util.h"

/* What the file wants in every case: mode 0, level 0, config "A" on eth0 (there), last. */
static const struct files_want want = {0, 0, "A", "eth0", true, "last"};
static const struct files_want want_absent = {0, 0, "A", "eth0", false, "last"};

#define SAME                                                                                       \
	{                                                                                          \
		true, true, false, false, 0, 0, "A", "eth0", "last"                                \
	}

static const struct plan_case {
	const char *what;
	const struct files_want *want;
	struct files_have have;
	unsigned actions;
} cases[] = {
    {"nothing runs: create", &want, {}, FILES_CREATE},
    {"the same: nothing", &want, SAME, 0},
    {"made through the API: conflict", &want, {true, false}, FILES_CONFLICT},
    {"being created: busy", &want, {true, true, true}, FILES_BUSY},
    {"compiling: busy", &want, {true, true, false, true, 0, 0, "A", "eth0", "last"}, FILES_BUSY},
    {"another type: recreate",
     &want,
     {true, true, false, false, 1, 0, "A", "eth0", "last"},
     FILES_RECREATE},
    {"another configuration: inject",
     &want,
     {true, true, false, false, 0, 0, "B", "eth0", "last"},
     FILES_INJECT},
    {"another configuration and level: inject (it takes the level)",
     &want,
     {true, true, false, false, 0, 3, "B", "eth0", "last"},
     FILES_INJECT},
    {"another level: log level",
     &want,
     {true, true, false, false, 0, 3, "A", "eth0", "last"},
     FILES_LOG_LEVEL},
    {"another interface: reattach",
     &want,
     {true, true, false, false, 0, 0, "A", "eth1", "last"},
     FILES_REATTACH},
    {"another place: reattach",
     &want,
     {true, true, false, false, 0, 0, "A", "eth0", "first"},
     FILES_REATTACH},
    {"configuration and place: both",
     &want,
     {true, true, false, false, 0, 0, "B", "eth0", "first"},
     FILES_INJECT | FILES_REATTACH},
    {"detached, the interface is there: attach",
     &want,
     {true, true, false, false, 0, 0, "A", NULL, "last"},
     FILES_REATTACH},
    {"detached, the interface is missing: wait for it",
     &want_absent,
     {true, true, false, false, 0, 0, "A", NULL, "last"},
     0},
    {"waiting for it where wanted: nothing", &want_absent, SAME, 0},
    {"no configuration yet (restored empty): inject",
     &want,
     {true, true, false, false, 0, 0, NULL, "eth0", "last"},
     FILES_INJECT},
};

static void test_plan(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		print_message("case: %s\n", cases[i].what);
		assert_int_equal(files_plan(cases[i].want, &cases[i].have), cases[i].actions);
	}
}

static void test_patterns(void **state)
{
	char *veth[] = {"veth*", NULL}, *list[] = {"eth0", "tap[0-2]", NULL};

	assert_true(files_patterns_match(veth, "veth12"));
	assert_false(files_patterns_match(veth, "eth0"));
	assert_true(files_patterns_match(list, "eth0"));
	assert_true(files_patterns_match(list, "tap2"));
	assert_false(files_patterns_match(list, "tap3"));
	assert_false(files_patterns_match(list, "eth01"));
}

static void test_instance_name(void **state)
{
	char *n = files_instance_name("web", "veth1");

	assert_string_equal(n, "web:veth1");
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan),
	    cmocka_unit_test(test_patterns),
	    cmocka_unit_test(test_instance_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
