/* SPDX-License-Identifier: Apache-2.0 */
/* dynmonctl watch's table: a row per value of a metric, wherever it sits in the JSON (array
 * index, hash key, struct field), and its rate per second against the previous read — for
 * running totals, for metrics whose reads return deltas (empty-on-read, swap-on-read), none
 * for gauges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "watch-table.h"

static json_t *load(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);

	if (!j)
		fail_msg("bad test JSON: %s: %s", err.text, text);
	return j;
}

/* {"ingress-metrics": [{"name": NAME, "value": VALUE}]} */
static json_t *one_metric(const char *name, const char *value)
{
	_cleanup_free_ char *text = NULL;

	assert_true(asprintf(&text, "{\"ingress-metrics\": [{\"name\": \"%s\", \"value\": %s}]}",
			     name, value) > 0);
	return load(text);
}

/* The table's rows, one per line: "PATH METRIC ELEMENT VALUE RATE". */
static char *rows_text(const struct watch_table *t)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	assert_non_null(f);
	for (size_t i = 0; i < t->n; i++) {
		const struct watch_row *r = &t->rows[i];

		fprintf(f, "%s %s %s ", r->path, r->metric, r->element);
		if (r->numeric)
			fprintf(f, "%.0Lf", r->value);
		else
			fprintf(f, "%s", r->text);
		if (r->has_rate)
			fprintf(f, " %.1f\n", r->rate);
		else
			fprintf(f, " -\n");
	}
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_rows(void **state)
{
	static const struct {
		const char *value;
		const char *rows;
	} cases[] = {
	    {"[7]", "ingress m [0] 7 -\n"},
	    {"[1, 2]", "ingress m [0] 1 -\ningress m [1] 2 -\n"},
	    {"42", "ingress m - 42 -\n"},
	    /* Hash entries in key order, whatever the kernel's order. */
	    {"[{\"key\": 17, \"value\": 5}, {\"key\": 1, \"value\": 2}, {\"key\": 6, \"value\": "
	     "3}]",
	     "ingress m [1] 2 -\ningress m [6] 3 -\ningress m [17] 5 -\n"},
	    {"[{\"key\": 6, \"value\": {\"packets\": 3, \"bytes\": 180}}]",
	     "ingress m [6].packets 3 -\ningress m [6].bytes 180 -\n"},
	    {"[{\"key\": {\"a\": 1, \"b\": \"x\"}, \"value\": 9}]",
	     "ingress m [{\"a\":1,\"b\":\"x\"}] 9 -\n"},
	    /* Per CPU, nested arrays; strings and other values that are no numbers. */
	    {"[[1, 2]]", "ingress m [0][0] 1 -\ningress m [0][1] 2 -\n"},
	    {"[{\"name\": \"eth0\", \"up\": true}]",
	     "ingress m [0].name \"eth0\" -\ningress m [0].up true -\n"},
	    /* u64 above what jansson's integers hold come as reals. */
	    {"[18446744073709551615.0]", "ingress m [0] 18446744073709551616 -\n"},
	    {"[]", ""},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_auto_t *metrics = one_metric("m", cases[i].value);
		json_auto_t *config = json_object();
		_cleanup_(watch_table_done) struct watch_table t = {};
		_cleanup_free_ char *got = NULL;

		assert_int_equal(
		    watch_table_build(metrics, config, METRICS_BOTH, NULL, NULL, 0, &t), 0);
		got = rows_text(&t);
		if (!streq(got, cases[i].rows))
			fail_msg("%s:\n%s\nexpected:\n%s", cases[i].value, got, cases[i].rows);
	}
}

/* The configuration of one ingress metric "m". */
static json_t *config_of(const char *metric_config)
{
	_cleanup_free_ char *text = NULL;

	assert_true(asprintf(&text,
			     "{\"ingress-path\": {\"metric-configs\": [{\"name\": \"m\"%s%s}]}}",
			     *metric_config ? ", " : "", metric_config) > 0);
	return load(text);
}

#define COUNTER "\"open-metrics-metadata\": {\"type\": \"counter\"}"
#define GAUGE "\"open-metrics-metadata\": {\"type\": \"gauge\"}"
#define EMPTIED "\"extraction-options\": {\"empty-on-read\": true}"
#define SWAPPED "\"extraction-options\": {\"swap-on-read\": true}"

static void test_rates(void **state)
{
	static const struct {
		const char *what;
		const char *config;
		const char *first, *second; /* two reads, half a second apart */
		const char *rows;	    /* after the second */
	} cases[] = {
	    {"a running total: its change per second", COUNTER, "[100]", "[150]",
	     "ingress m [0] 150 100.0\n"},
	    {"not typed: a running total too", "", "[100]", "[101]", "ingress m [0] 101 2.0\n"},
	    {"a total that went down started again from zero: all of it is new", COUNTER, "[100]",
	     "[30]", "ingress m [0] 30 60.0\n"},
	    {"a new hash entry: all of it came since the last read", COUNTER,
	     "[{\"key\": 1, \"value\": 4}]",
	     "[{\"key\": 1, \"value\": 4}, {\"key\": 2, \"value\": 10}]",
	     "ingress m [1] 4 0.0\ningress m [2] 10 20.0\n"},
	    {"a gauge: no rate", GAUGE, "[5]", "[9]", "ingress m [0] 9 -\n"},
	    {"no number: no rate", COUNTER, "[\"a\"]", "[\"b\"]", "ingress m [0] \"b\" -\n"},
	    {"empty-on-read: each read is a delta, the value their sum", EMPTIED, "[10]", "[5]",
	     "ingress m [0] 15 10.0\n"},
	    {"swap-on-read alike", SWAPPED "," COUNTER, "[3]", "[0]", "ingress m [0] 3 0.0\n"},
	    {"an emptied hash entry stays, at rate 0, after this read's entries", EMPTIED,
	     "[{\"key\": 7, \"value\": 4}, {\"key\": 9, \"value\": 1}]",
	     "[{\"key\": 9, \"value\": 2}, {\"key\": 8, \"value\": 1}]",
	     "ingress m [8] 1 2.0\ningress m [9] 3 4.0\ningress m [7] 4 0.0\n"},
	    {"... also when the read has no entry at all", EMPTIED, "[{\"key\": 7, \"value\": 4}]",
	     "[]", "ingress m [7] 4 0.0\n"},
	    {"... and one that is no number stays as it was, without a rate", EMPTIED,
	     "[{\"key\": 7, \"value\": \"up\"}]", "[]", "ingress m [7] \"up\" -\n"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_auto_t *config = config_of(cases[i].config);
		json_auto_t *first = one_metric("m", cases[i].first);
		json_auto_t *second = one_metric("m", cases[i].second);
		_cleanup_(watch_table_done) struct watch_table t1 = {}, t2 = {};
		_cleanup_free_ char *got = NULL;

		assert_int_equal(watch_table_build(first, config, METRICS_BOTH, NULL, NULL, 0, &t1),
				 0);
		for (size_t j = 0; j < t1.n; j++)
			if (t1.rows[j].has_rate)
				fail_msg("%s: a rate at the first read", cases[i].what);
		assert_int_equal(
		    watch_table_build(second, config, METRICS_BOTH, NULL, &t1, 0.5, &t2), 0);
		got = rows_text(&t2);
		if (!streq(got, cases[i].rows))
			fail_msg("%s:\n%s\nexpected:\n%s", cases[i].what, got, cases[i].rows);
	}
}

/* Three reads of an empty-on-read metric: the sum carries on across reads that lacked it. */
static void test_delta_sums(void **state)
{
	static const char *const reads[] = {"[{\"key\": 1, \"value\": 2}]", "[]",
					    "[{\"key\": 1, \"value\": 5}]"};
	json_auto_t *config = config_of(EMPTIED);
	struct watch_table prev = {};
	_cleanup_free_ char *got = NULL;

	for (size_t i = 0; i < ELEMENTSOF(reads); i++) {
		json_auto_t *metrics = one_metric("m", reads[i]);
		struct watch_table t = {};

		assert_int_equal(watch_table_build(metrics, config, METRICS_BOTH, NULL,
						   i ? &prev : NULL, 1.0, &t),
				 0);
		watch_table_done(&prev);
		prev = t;
	}
	got = rows_text(&prev);
	assert_string_equal(got, "ingress m [1] 7 5.0\n");
	watch_table_done(&prev);
}

/* The paths and the metric chosen; errors as metrics_find()'s. */
static void test_selection(void **state)
{
	json_auto_t *metrics = load("{\"ingress-metrics\": [{\"name\": \"a\", \"value\": [1]}],"
				    " \"egress-metrics\": [{\"name\": \"a\", \"value\": [2]},"
				    "                      {\"name\": \"b\", \"value\": [3]}]}");
	json_auto_t *config = json_object();
	struct watch_table t = {};
	_cleanup_free_ char *egress = NULL, *b = NULL;

	assert_int_equal(watch_table_build(metrics, config, METRICS_EGRESS, NULL, NULL, 0, &t), 0);
	egress = rows_text(&t);
	assert_string_equal(egress, "egress a [0] 2 -\negress b [0] 3 -\n");
	watch_table_done(&t);
	assert_int_equal(watch_table_build(metrics, config, METRICS_BOTH, "b", NULL, 0, &t), 0);
	b = rows_text(&t);
	assert_string_equal(b, "egress b [0] 3 -\n");
	watch_table_done(&t);
	assert_int_equal(watch_table_build(metrics, config, METRICS_BOTH, "a", NULL, 0, &t),
			 -ENOTUNIQ);
	assert_int_equal(watch_table_build(metrics, config, METRICS_INGRESS, "b", NULL, 0, &t),
			 -ENOENT);
	assert_int_equal(t.n, 0);
}

static void test_print(void **state)
{
	json_auto_t *config = config_of(COUNTER);
	json_auto_t *first = one_metric("m", "[1, 2, 300]");
	json_auto_t *second = one_metric("m", "[11, 2, 1300]");
	_cleanup_(watch_table_done) struct watch_table t1 = {}, t2 = {};
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	assert_int_equal(watch_table_build(first, config, METRICS_BOTH, NULL, NULL, 0, &t1), 0);
	assert_int_equal(watch_table_build(second, config, METRICS_BOTH, NULL, &t1, 2.0, &t2), 0);
	f = open_memstream(&buf, &size);
	assert_non_null(f);
	assert_int_equal(watch_table_print(&t2, 0, f), 0);
	assert_int_equal(watch_table_print(&t2, 1, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "PATH     METRIC  ELEMENT  VALUE  RATE/s\n"
				 "ingress  m       [0]         11     5.0\n"
				 "ingress  m       [1]          2     0.0\n"
				 "ingress  m       [2]       1300   500.0\n"
				 "PATH     METRIC  ELEMENT  VALUE  RATE/s\n"
				 "ingress  m       [0]         11     5.0\n"
				 "... 2 more rows\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows),       cmocka_unit_test(test_rates),
	    cmocka_unit_test(test_delta_sums), cmocka_unit_test(test_selection),
	    cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
