/* SPDX-License-Identifier: Apache-2.0 */
/* The state file: what is saved comes back the same; it is written whole or not at all; a file
 * or an entry that is broken is skipped, never the entries beside it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "state.h"

/* Test documents write ' for ", so that they read as JSON rather than as C escapes. */
static char *dq(const char *s)
{
	char *t = strdup(s);

	assert_non_null(t);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static char *make_dir(void)
{
	char *dir = strdup("/tmp/test-state.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void remove_dir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = strdup_printf("%s/%s", dir, de->d_name);

		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			assert_int_equal(unlink(p), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static void write_file(const char *dir, const char *text)
{
	_cleanup_free_ char *path = strdup_printf("%s/" STATE_FILE, dir);
	_cleanup_fclose_ FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
}

/* The names of the entries a document gives back. */
static char *loaded_names(const char *doc)
{
	_cleanup_free_ char *text = dq(doc);
	_cleanup_free_ char *names = strdup("");
	json_t *root = json_loads(text, 0, NULL);
	struct state_monitor *l = NULL;
	size_t n = 99;

	assert_non_null(root);
	assert_int_equal(state_from_json(root, &l, &n), 0);
	json_decref(root);
	for (size_t i = 0; i < n; i++) {
		char *more = strdup_printf("%s%s%s", names, i ? " " : "", l[i].name);

		free(names);
		names = more;
	}
	state_monitors_free(l, n);
	return TAKE_PTR(names);
}

static void test_round_trip(void **state)
{
	char *dir = make_dir();
	json_t *config = json_pack("{s:{s:s, s:s, s:[]}, s:{}}", "ingress-path", "name", "in",
				   "code", "int x;\n\"quoted\"", "metric-configs", "egress-path");
	struct state_monitor saved[] = {
	    {.name = "a.b", .type = "TC", .loglevel = "OFF"},
	    {.name = "mon0",
	     .type = "XDP_DRV",
	     .loglevel = "TRACE",
	     .config = config,
	     .ifname = "veth0",
	     .clsact_created = true},
	    {.name = "w", .type = "XDP_SKB", .loglevel = "INFO", .ifname = "gone0"},
	    /* Monitors of monitors.d keep their origin: their file owns them after a restart. */
	    {.name = "web",
	     .type = "TC",
	     .loglevel = "OFF",
	     .source_file = "web.json",
	     .file_place = "before:x"},
	    {.name = "t:veth1",
	     .type = "TC",
	     .loglevel = "OFF",
	     .ifname = "veth1",
	     .source_file = "t.json",
	     .template_name = "t",
	     .file_place = "auto"},
	};
	struct state_monitor *l = NULL;
	size_t n = 0;

	assert_int_equal(state_save(dir, saved, ELEMENTSOF(saved)), 0);
	assert_int_equal(state_load(dir, &l, &n), 0);
	assert_int_equal(n, ELEMENTSOF(saved));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(l[i].name, saved[i].name);
		assert_string_equal(l[i].type, saved[i].type);
		assert_string_equal(l[i].loglevel, saved[i].loglevel);
		assert_true(streq_ptr(l[i].ifname, saved[i].ifname));
		assert_int_equal(l[i].clsact_created, saved[i].clsact_created);
		assert_true(streq_ptr(l[i].source_file, saved[i].source_file));
		assert_true(streq_ptr(l[i].template_name, saved[i].template_name));
		assert_true(streq_ptr(l[i].file_place, saved[i].file_place));
		if (saved[i].config)
			assert_true(json_equal(l[i].config, saved[i].config));
		else
			assert_null(l[i].config);
	}
	state_monitors_free(l, n);
	json_decref(config);
	remove_dir(dir);
}

/* A save leaves one file, readable by its owner only, and no temporary beside it; a second save
 * replaces the first. */
static void test_save_leaves_one_file(void **state)
{
	char *dir = make_dir();
	_cleanup_free_ char *path = strdup_printf("%s/" STATE_FILE, dir);
	struct state_monitor one = {.name = "one", .type = "TC", .loglevel = "OFF"};
	struct state_monitor *l = NULL;
	struct dirent *de;
	struct stat st;
	size_t n = 0, files = 0;
	DIR *d;

	assert_int_equal(state_save(dir, &one, 1), 0);
	assert_int_equal(state_save(dir, NULL, 0), 0);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
			assert_string_equal(de->d_name, STATE_FILE);
			files++;
		}
	closedir(d);
	assert_int_equal(files, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(state_load(dir, &l, &n), 0);
	assert_int_equal(n, 0);
	state_monitors_free(l, n);
	remove_dir(dir);
}

static void test_save_to_missing_dir_fails(void **state)
{
	struct state_monitor one = {.name = "one", .type = "TC", .loglevel = "OFF"};

	assert_int_equal(state_save("/nonexistent/dynmon-test", &one, 1), -ENOENT);
}

/* No file, a file that is not JSON or not a state file: no monitors, and no error. */
/* The name of the one file of `dir` starting with `prefix`, or NULL. */
static char *only_file_named(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *found = NULL;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			assert_null(found);
			found = strdup(de->d_name);
		}
	closedir(d);
	return found;
}

static const char *read_text(const char *dir, const char *name)
{
	static char buf[4096];
	_cleanup_free_ char *path = strdup_printf("%s/%s", dir, name);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	return buf;
}

/* A file that cannot be read is set aside under another name; it comes back as no monitors. */
static void test_unusable_files(void **state)
{
	static const char *const files[] = {
	    NULL,
	    "",
	    "{\"version\": 1, \"monitors\": [",
	    "[]",
	    "{\"version\": 2, \"monitors\": []}",
	    "{\"version\": 1}",
	    "{\"version\": 1, \"monitors\": {}}",
	    "{\"version\": 1, \"version\": 1, \"monitors\": []}",
	};

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		char *dir = make_dir();
		struct state_monitor *l = (void *)1;
		size_t n = 99;

		_cleanup_free_ char *path = strdup_printf("%s/" STATE_FILE, dir);
		_cleanup_free_ char *aside = NULL;

		if (files[i])
			write_file(dir, files[i]);
		assert_int_equal(state_load(dir, &l, &n), 0);
		if (n != 0)
			fail_msg("file %zu: %zu monitors", i, n);
		state_monitors_free(l, n);
		/* Set aside, never to be overwritten by the next save. */
		assert_int_equal(access(path, F_OK), -1);
		if (files[i]) {
			aside = only_file_named(dir, STATE_FILE ".broken-");
			if (!aside)
				fail_msg("file %zu: not set aside as " STATE_FILE ".broken-*", i);
			assert_string_equal(read_text(dir, aside), files[i]);
		}
		remove_dir(dir);
	}
}

/* Each broken entry is skipped; the good ones around it come back. */
static void test_broken_entries_are_skipped(void **state)
{
	static const struct {
		const char *entry;
		const char *why;
	} broken[] = {
	    {"{'type': 'TC', 'loglevel': 'OFF'}", "no name"},
	    {"{'name': 5, 'type': 'TC', 'loglevel': 'OFF'}", "a name that is not a string"},
	    {"{'name': 'x', 'loglevel': 'OFF'}", "no type"},
	    {"{'name': 'x', 'type': 'TC'}", "no log level"},
	    {"{'name': 'x', 'type': 'TC', 'loglevel': 3}", "a log level that is not a string"},
	    {"{'name': 'x', 'type': 'TC', 'loglevel': 'OFF', 'dataplane-config': 'code'}",
	     "a configuration that is not an object"},
	    {"{'name': 'x', 'type': 'TC', 'loglevel': 'OFF', 'interface': 7}",
	     "an interface that is not a string"},
	    {"{'name': 'x', 'type': 'TC', 'loglevel': 'OFF', 'clsact-created': 'yes'}",
	     "clsact-created that is not a boolean"},
	    {"{'name': 'good1', 'type': 'TC', 'loglevel': 'OFF'}", "a name seen before"},
	    {"'mon'", "not an object"},
	    {"null", "null"},
	};

	for (size_t i = 0; i < ELEMENTSOF(broken); i++) {
		_cleanup_free_ char *doc = strdup_printf(
		    "{'version': 1, 'monitors': [{'name': 'good1', 'type': 'TC', 'loglevel': "
		    "'OFF'}, %s, {'name': 'good2', 'type': 'XDP_SKB', 'loglevel': 'INFO', "
		    "'interface': 'eth9', 'dataplane-config': null}]}",
		    broken[i].entry);
		_cleanup_free_ char *names = loaded_names(doc);

		if (!streq(names, "good1 good2"))
			fail_msg("an entry with %s: got \"%s\"", broken[i].why, names);
	}
}

/* Optional fields may be absent or null; an empty interface is no interface. */
static void test_optional_fields(void **state)
{
	_cleanup_free_ char *doc = dq("{'version': 1, 'monitors': [{'name': 'm', 'type': 'TC', "
				      "'loglevel': 'OFF', 'interface': '', 'unknown': 1}]}");
	json_t *root = json_loads(doc, 0, NULL);
	struct state_monitor *l = NULL;
	size_t n = 0;

	assert_int_equal(state_from_json(root, &l, &n), 0);
	assert_int_equal(n, 1);
	assert_null(l[0].ifname);
	assert_null(l[0].config);
	assert_false(l[0].clsact_created);
	assert_null(l[0].source_file); /* saved before monitors.d: the API's */
	state_monitors_free(l, n);
	json_decref(root);
}

static void test_default_dir(void **state)
{
	static const struct {
		const char *env;
		const char *dir;
	} cases[] = {
	    {NULL, "/var/lib/dynmon"},
	    {"", "/var/lib/dynmon"},
	    {"/var/lib/dynmon-x", "/var/lib/dynmon-x"},
	    {"/first:/second", "/first"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *dir = NULL;

		if (cases[i].env)
			setenv("STATE_DIRECTORY", cases[i].env, 1);
		else
			unsetenv("STATE_DIRECTORY");
		dir = state_default_dir();
		assert_string_equal(dir, cases[i].dir);
	}
	unsetenv("STATE_DIRECTORY");
}

static void test_dir_prepare(void **state)
{
	char *dir = make_dir();
	_cleanup_free_ char *sub = strdup_printf("%s/state", dir);
	_cleanup_free_ char *deep = strdup_printf("%s/a/b", dir);
	_cleanup_free_ char *file = strdup_printf("%s/" STATE_FILE, dir);

	assert_int_equal(state_dir_prepare(sub), 0);
	assert_int_equal(state_dir_prepare(sub), 0); /* it exists: fine */
	assert_int_equal(state_dir_prepare(deep), -ENOENT);
	write_file(dir, "{}");
	assert_int_equal(state_dir_prepare(file), -ENOTDIR);
	/* What a save interrupted by kill -9 left goes at start; the state file stays. */
	{
		_cleanup_free_ char *tmp = strdup_printf("%s/." STATE_FILE ".Ab12Cd", sub);
		_cleanup_fclose_ FILE *f = fopen(tmp, "we");
		_cleanup_free_ char *kept = NULL;

		assert_non_null(f);
		write_file(sub, "{}");
		assert_int_equal(state_dir_prepare(sub), 0);
		assert_int_equal(access(tmp, F_OK), -1);
		kept = only_file_named(sub, STATE_FILE);
		assert_non_null(kept);
		remove_dir(strdup(sub));
	}
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_save_leaves_one_file),
	    cmocka_unit_test(test_save_to_missing_dir_fails),
	    cmocka_unit_test(test_unusable_files),
	    cmocka_unit_test(test_broken_entries_are_skipped),
	    cmocka_unit_test(test_optional_fields),
	    cmocka_unit_test(test_default_dir),
	    cmocka_unit_test(test_dir_prepare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
