/* SPDX-License-Identifier: Apache-2.0 */
/* What dynmonctl picks from a monitor's JSON metrics: one path's list, one metric's value; and
 * how each metric reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "metrics-select.h"
#include "util.h"

static json_t *load(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);

	if (!j)
		fail_msg("bad test JSON: %s: %s", err.text, text);
	return j;
}

/* "a" only on ingress, "both" on both paths, "b" only on egress. */
static const char *const METRICS =
    "{\"ingress-metrics\": [{\"name\": \"a\", \"value\": [1], \"timestamp\": 5},"
    "                       {\"name\": \"both\", \"value\": [2], \"timestamp\": 5}],"
    " \"egress-metrics\": [{\"name\": \"both\", \"value\": [3], \"timestamp\": 5},"
    "                      {\"name\": \"b\", \"value\": {\"x\": 4}, \"timestamp\": 5}]}";

static void test_select_json(void **state)
{
	static const struct {
		enum metrics_direction dir;
		const char *name;
		int r;
		const char *want; /* compact JSON */
	} cases[] = {
	    {METRICS_BOTH, NULL, 0, NULL /* the document itself */},
	    {METRICS_INGRESS, NULL, 0,
	     "[{\"name\":\"a\",\"value\":[1],\"timestamp\":5},"
	     "{\"name\":\"both\",\"value\":[2],\"timestamp\":5}]"},
	    {METRICS_EGRESS, NULL, 0,
	     "[{\"name\":\"both\",\"value\":[3],\"timestamp\":5},"
	     "{\"name\":\"b\",\"value\":{\"x\":4},\"timestamp\":5}]"},
	    {METRICS_BOTH, "a", 0, "[1]"},
	    {METRICS_BOTH, "b", 0, "{\"x\":4}"},
	    {METRICS_INGRESS, "both", 0, "[2]"},
	    {METRICS_EGRESS, "both", 0, "[3]"},
	    {METRICS_BOTH, "both", -ENOTUNIQ, NULL},
	    {METRICS_EGRESS, "a", -ENOENT, NULL},
	    {METRICS_INGRESS, "b", -ENOENT, NULL},
	    {METRICS_BOTH, "zz", -ENOENT, NULL},
	    {METRICS_BOTH, "", -ENOENT, NULL},
	};
	json_auto_t *metrics = load(METRICS);

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_auto_t *got = NULL;
		_cleanup_free_ char *text = NULL;
		int r = metrics_select_json(metrics, cases[i].dir, cases[i].name, &got);

		if (r != cases[i].r)
			fail_msg("case %zu (%s): %d, expected %d", i, strempty(cases[i].name), r,
				 cases[i].r);
		if (r < 0)
			continue;
		if (!cases[i].want) {
			assert_ptr_equal(got, metrics);
			continue;
		}
		text = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!streq(text, cases[i].want))
			fail_msg("case %zu: %s, expected %s", i, text, cases[i].want);
	}
}

static void test_select_json_shapes(void **state)
{
	static const struct {
		const char *doc;
		enum metrics_direction dir;
		const char *name;
		int r;
		const char *want;
	} cases[] = {
	    /* A path without metrics may be left out: its list is empty. */
	    {"{\"ingress-metrics\": []}", METRICS_EGRESS, NULL, 0, "[]"},
	    {"{\"ingress-metrics\": [{\"name\": \"n\"}]}", METRICS_BOTH, "n", 0, "null"},
	    {"[]", METRICS_BOTH, NULL, -EBADMSG, NULL},
	    {"{\"ingress-metrics\": {}}", METRICS_BOTH, "n", -EBADMSG, NULL},
	    {"{\"ingress-metrics\": [{\"value\": 1}]}", METRICS_INGRESS, NULL, -EBADMSG, NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_auto_t *doc = load(cases[i].doc);
		json_auto_t *got = NULL;
		_cleanup_free_ char *text = NULL;
		int r = metrics_select_json(doc, cases[i].dir, cases[i].name, &got);

		if (r != cases[i].r)
			fail_msg("case %zu: %d, expected %d", i, r, cases[i].r);
		if (r < 0)
			continue;
		text = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!streq(text, cases[i].want))
			fail_msg("case %zu: %s, expected %s", i, text, cases[i].want);
	}
}

static void test_reading(void **state)
{
	static const struct {
		const char *path, *name;
		enum metric_reading want;
	} cases[] = {
	    {"ingress", "counted", METRIC_READING_TOTAL},
	    {"ingress", "level", METRIC_READING_GAUGE},
	    {"ingress", "emptied", METRIC_READING_DELTA},
	    {"ingress", "swapped_gauge", METRIC_READING_DELTA},
	    {"ingress", "json_only", METRIC_READING_TOTAL},
	    {"ingress", "off", METRIC_READING_TOTAL},
	    {"egress", "level", METRIC_READING_TOTAL}, /* the egress one: a counter */
	    {"egress", "unknown", METRIC_READING_TOTAL},
	};
	json_auto_t *config =
	    load("{\"ingress-path\": {\"metric-configs\": ["
		 " {\"name\": \"counted\", \"open-metrics-metadata\": {\"type\": \"counter\"}},"
		 " {\"name\": \"level\", \"open-metrics-metadata\": {\"type\": \"gauge\"}},"
		 " {\"name\": \"emptied\", \"extraction-options\": {\"empty-on-read\": true}},"
		 " {\"name\": \"swapped_gauge\", \"extraction-options\": {\"swap-on-read\": true},"
		 "  \"open-metrics-metadata\": {\"type\": \"gauge\"}},"
		 " {\"name\": \"json_only\"},"
		 " {\"name\": \"off\", \"extraction-options\": {\"empty-on-read\": false,"
		 "  \"swap-on-read\": false}}]},"
		 " \"egress-path\": {\"metric-configs\": ["
		 " {\"name\": \"level\", \"open-metrics-metadata\": {\"type\": \"counter\"}}]}}");

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		enum metric_reading got = metrics_reading(config, cases[i].path, cases[i].name);

		if (got != cases[i].want)
			fail_msg("%s %s: %d, expected %d", cases[i].path, cases[i].name, got,
				 cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_select_json),
	    cmocka_unit_test(test_select_json_shapes),
	    cmocka_unit_test(test_reading),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
