/* SPDX-License-Identifier: Apache-2.0 */
/* A file of monitors.d: what it may say, and that every mistake is named with its member. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "monitor-file.h"
#include "util.h"

#define CONFIG "\"dataplane-config\": {}"

static const struct parse_case {
	const char *text;
	int r;
	const char *name;	 /* ok: the name given or taken from "web.json" */
	const char *interfaces;	 /* ok: joined by "," */
	bool is_template;	 /* ok */
	const char *config_file; /* ok */
	const char *message_has; /* error: the message names this */
} cases[] = {
    {"{\"interface\": \"eth0\", " CONFIG "}", 0, "web", "eth0", false, NULL},
    {"{\"name\": \"n1\", \"interface\": \"eth0\", \"dataplane-file\": \"c.json\"}", 0, "n1", "eth0",
     false, "c.json"},
    {"{\"interface\": \"veth*\", " CONFIG "}", 0, "web", "veth*", true},
    {"{\"interface\": \"veth[0-3]\", " CONFIG "}", 0, "web", "veth[0-3]", true},
    {"{\"interface\": [\"eth0\"], " CONFIG "}", 0, "web", "eth0", true}, /* a list is one */
    {"{\"interface\": [\"eth0\", \"veth?\"], \"type\": \"XDP_SKB\", \"position\": \"first\", "
     "\"loglevel\": \"INFO\", " CONFIG "}",
     0, "web", "eth0,veth?", true},
    {"{\"interface\": \"eth0\", \"before\": \"other\", " CONFIG "}", 0, "web", "eth0", false},
    {"{\"interface\": \"eth0\", \"colour\": \"blue\", " CONFIG "}", -EBADMSG,
     .message_has = "colour"},
    {"{\"interface\": \"eth0\"}", -EBADMSG, .message_has = "dataplane-config or dataplane-file"},
    {"{\"interface\": \"eth0\", \"dataplane-file\": \"c\", " CONFIG "}", -EBADMSG,
     .message_has = "not both"},
    {"{" CONFIG "}", -EBADMSG, .message_has = "interface"},
    {"{\"interface\": 3, " CONFIG "}", -EBADMSG, .message_has = "interface"},
    {"{\"interface\": [], " CONFIG "}", -EBADMSG, .message_has = "empty"},
    {"{\"interface\": [\"eth0\", 1], " CONFIG "}", -EBADMSG, .message_has = "interface[1]"},
    {"{\"interface\": \"\", " CONFIG "}", -EBADMSG, .message_has = "empty"},
    {"{\"interface\": \"eth0\", \"name\": 5, " CONFIG "}", -EBADMSG, .message_has = "name"},
    {"{\"interface\": \"eth0\", \"dataplane-config\": []}", -EBADMSG,
     .message_has = "dataplane-config"},
    {"{\"interface\": \"eth0\", \"interface\": \"eth1\", " CONFIG "}", -EBADMSG,
     .message_has = "invalid JSON"},
    {"[1]", -EBADMSG, .message_has = "JSON object"},
    {"{\"interface\": ", -EBADMSG, .message_has = "line 1"},
};

static char *joined(char **l)
{
	static char buf[256];

	buf[0] = 0;
	for (; l && *l; l++) {
		if (buf[0])
			strcat(buf, ",");
		strcat(buf, *l);
	}
	return buf;
}

static void test_parse(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct parse_case *c = &cases[i];
		struct dm_monitor_file f = {};
		dm_error e = DM_ERROR_NULL;
		int r = dm_monitor_file_parse(c->text, "web.json", &f, &e);

		print_message("case %zu: %s\n", i, c->text);
		assert_int_equal(r, c->r);
		if (r < 0) {
			assert_non_null(e.message);
			assert_non_null(strstr(e.message, c->message_has));
		} else {
			assert_string_equal(f.name, c->name);
			assert_string_equal(joined(f.interfaces), c->interfaces);
			assert_int_equal(f.is_template, c->is_template);
			if (c->config_file)
				assert_string_equal(f.config_file, c->config_file);
			else
				assert_non_null(f.config);
		}
		dm_monitor_file_done(&f);
		dm_error_done(&e);
	}
}

/* The optional members reach the core as they were written (it checks their values). */
static void test_members(void **state)
{
	struct dm_monitor_file f = {};
	dm_error e = DM_ERROR_NULL;

	assert_int_equal(dm_monitor_file_parse("{\"interface\": \"e\", \"type\": \"XDP_DRV\", "
					       "\"position\": \"last\", \"loglevel\": \"DEBUG\", "
					       "\"after\": \"m\", " CONFIG "}",
					       "x.json", &f, &e),
			 0);
	assert_string_equal(f.type, "XDP_DRV");
	assert_string_equal(f.position, "last");
	assert_string_equal(f.loglevel, "DEBUG");
	assert_string_equal(f.after, "m");
	assert_null(f.before);
	dm_monitor_file_done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
