/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenMetrics writer: exact text for families, samples, escaping and numbers, and a whole
 * document read back by a strict parser (prometheus_client's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "om-check.h"
#include "openmetrics.h"
#include "util.h"

#define U64(v) (&(struct dm_number){.kind = DM_NUMBER_U64, .u = (v)})
#define I64(v) (&(struct dm_number){.kind = DM_NUMBER_I64, .i = (v)})
#define F64(v) (&(struct dm_number){.kind = DM_NUMBER_F64, .f = (v)})

/* A stream into memory; memstream_text() closes it and hands out what was written. */
struct memstream {
	FILE *f;
	char *buf;
	size_t size;
};

static void memstream_open(struct memstream *m)
{
	*m = (struct memstream){};
	m->f = open_memstream(&m->buf, &m->size);
	assert_non_null(m->f);
}

static char *memstream_text(struct memstream *m)
{
	assert_int_equal(fclose(m->f), 0);
	return m->buf;
}

static void test_family_name(void **state)
{
	static const struct {
		const char *name;
		enum dm_metric_type type;
		const char *family;
	} cases[] = {
	    {"packets_total", DM_METRIC_COUNTER, "packets"},
	    {"packets", DM_METRIC_COUNTER, "packets"},
	    {"bytes_total_total", DM_METRIC_COUNTER, "bytes_total"},
	    {"_total", DM_METRIC_COUNTER, "_total"}, /* stripping would leave no name */
	    {"total", DM_METRIC_COUNTER, "total"},
	    {"x_total", DM_METRIC_GAUGE, "x_total"},
	    {"x_total", DM_METRIC_HISTOGRAM, "x_total"},
	    {"x_total", DM_METRIC_SUMMARY, "x_total"},
	    {"x_total", DM_METRIC_UNTYPED, "x_total"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *family = om_family_name(cases[i].name, cases[i].type);

		assert_non_null(family);
		if (!streq(family, cases[i].family))
			fail_msg("%s (type %d): \"%s\", expected \"%s\"", cases[i].name,
				 cases[i].type, family, cases[i].family);
	}
}

static void test_escaping(void **state)
{
	static const struct {
		const char *raw;
		const char *escaped;
	} cases[] = {
	    {"", ""},
	    {"plain text", "plain text"},
	    {"\\", "\\\\"},
	    {"\"", "\\\""},
	    {"\n", "\\n"},
	    {"a\nb\\c\"d", "a\\nb\\\\c\\\"d"},
	    {"\\n", "\\\\n"}, /* a backslash then n: not a newline */
	    {"tab\tstays", "tab\tstays"},
	    {"caf\xc3\xa9", "caf\xc3\xa9"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct memstream m;
		_cleanup_free_ char *text = NULL;

		memstream_open(&m);
		assert_int_equal(om_write_escaped(m.f, cases[i].raw), 0);
		text = memstream_text(&m);
		if (!streq(text, cases[i].escaped))
			fail_msg("escaping \"%s\": got \"%s\", expected \"%s\"", cases[i].raw, text,
				 cases[i].escaped);
	}
}

static void test_family(void **state)
{
	static const struct {
		const char *family;
		enum dm_metric_type type;
		const char *help;
		const char *unit;
		const char *text;
	} cases[] = {
	    {"packets", DM_METRIC_COUNTER, "Packets seen.", NULL,
	     "# TYPE packets counter\n# HELP packets Packets seen.\n"},
	    {"temperature", DM_METRIC_GAUGE, NULL, NULL, "# TYPE temperature gauge\n"},
	    {"temperature", DM_METRIC_GAUGE, "", NULL, "# TYPE temperature gauge\n"},
	    {"latency", DM_METRIC_HISTOGRAM, "h", NULL,
	     "# TYPE latency histogram\n# HELP latency h\n"},
	    {"rtt", DM_METRIC_SUMMARY, "s", NULL, "# TYPE rtt summary\n# HELP rtt s\n"},
	    /* OpenMetrics has no "untyped": it is "unknown". */
	    {"misc", DM_METRIC_UNTYPED, "u", NULL, "# TYPE misc unknown\n# HELP misc u\n"},
	    {"help", DM_METRIC_GAUGE, "a \\ b \"c\"\nline two", NULL,
	     "# TYPE help gauge\n# HELP help a \\\\ b \\\"c\\\"\\nline two\n"},
	    {"latency_seconds", DM_METRIC_GAUGE, "Latency.", "seconds",
	     "# TYPE latency_seconds gauge\n# HELP latency_seconds Latency.\n"
	     "# UNIT latency_seconds seconds\n"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct memstream m;
		_cleanup_free_ char *text = NULL;

		memstream_open(&m);
		assert_int_equal(om_write_family(m.f, cases[i].family, cases[i].type, cases[i].help,
						 cases[i].unit),
				 0);
		text = memstream_text(&m);
		if (!streq(text, cases[i].text))
			fail_msg("family %s:\n--- got\n%s--- expected\n%s", cases[i].family, text,
				 cases[i].text);
	}
}

static void test_sample(void **state)
{
	static const struct om_label none[] = {};
	static const struct om_label ab[] = {{"a", "1"}, {"b", "2"}};
	static const struct om_label nasty[] = {{"path", "C:\\dir \"x\"\nnext"}, {"e", ""}};
	const struct {
		const char *suffix;
		const struct om_label *labels;
		size_t n_labels;
		const struct dm_number *value;
		const char *text;
	} cases[] = {
	    {"_total", none, 0, U64(0), "m_total 0\n"},
	    {"_total", none, 0, U64(UINT64_MAX), "m_total 18446744073709551615\n"},
	    {"", none, 0, I64(INT64_MIN), "m -9223372036854775808\n"},
	    {NULL, none, 0, I64(-1), "m -1\n"},
	    {"", ab, 2, U64(7), "m{a=\"1\",b=\"2\"} 7\n"},
	    {"_bucket", ab, 1, U64(3), "m_bucket{a=\"1\"} 3\n"},
	    {"", nasty, 2, U64(1), "m{path=\"C:\\\\dir \\\"x\\\"\\nnext\",e=\"\"} 1\n"},
	    /* Doubles: the shortest text that reads back as the same double. */
	    {"", none, 0, F64(0.1), "m 0.1\n"},
	    {"", none, 0, F64(1.5), "m 1.5\n"},
	    {"", none, 0, F64(100.0), "m 100\n"},
	    {"", none, 0, F64(-0.0), "m -0\n"},
	    {"", none, 0, F64(0.1 + 0.2), "m 0.30000000000000004\n"},
	    {"", none, 0, F64(1.0 / 3.0), "m 0.3333333333333333\n"},
	    {"", none, 0, F64(1e300), "m 1e+300\n"},
	    {"", none, 0, F64(-2.5e-10), "m -2.5e-10\n"},
	    {"", none, 0, F64(18446744073709551616.0), "m 1.8446744073709552e+19\n"},
	    {"", none, 0, F64(NAN), "m NaN\n"},
	    {"", none, 0, F64(INFINITY), "m +Inf\n"},
	    {"", none, 0, F64(-INFINITY), "m -Inf\n"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct memstream m;
		_cleanup_free_ char *text = NULL;

		memstream_open(&m);
		assert_int_equal(om_write_sample(m.f, "m", cases[i].suffix, cases[i].labels,
						 cases[i].n_labels, cases[i].value),
				 0);
		text = memstream_text(&m);
		if (!streq(text, cases[i].text))
			fail_msg("sample %zu: got \"%s\", expected \"%s\"", i, text, cases[i].text);
	}
}

/* Every double printed reads back as itself. */
static void test_doubles_round_trip(void **state)
{
	static const double values[] = {
	    0.1,
	    0.7,
	    1.0 / 3.0,
	    2.0 / 3.0,
	    1e-300,
	    4.9406564584124654e-324,
	    1.7976931348623157e308,
	    123456789012345678.0,
	    9007199254740993.0,
	    0.1 + 0.2,
	    -1.0 / 7.0,
	    3.14159265358979,
	};

	for (size_t i = 0; i < ELEMENTSOF(values); i++) {
		struct memstream m;
		_cleanup_free_ char *text = NULL;
		double back;

		memstream_open(&m);
		assert_int_equal(om_write_sample(m.f, "m", "", NULL, 0, F64(values[i])), 0);
		text = memstream_text(&m);
		assert_true(strncmp(text, "m ", 2) == 0);
		back = strtod(text + 2, NULL);
		if (memcmp(&back, &values[i], sizeof(double)) != 0 || strlen(text) > 2 + 24 + 1)
			fail_msg("%.17g printed as %s", values[i], text);
	}
}

/* "le" and "quantile" values as OpenMetrics' canonical numbers: what Go's FormatFloat(v, 'g',
 * -1, 64) writes, ".0" after integers (the specification's own examples). */
static void test_canonical_numbers(void **state)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
	    {0, "0.0"},
	    {1, "1.0"},
	    {0.5, "0.5"},
	    {0.99, "0.99"},
	    {0.999, "0.999"},
	    {0.1, "0.1"},
	    {10, "10.0"},
	    {63, "63.0"},
	    {1499, "1499.0"},
	    {100000, "100000.0"},
	    {1e6, "1e+06"},
	    {1048575, "1.048575e+06"},
	    {1e23, "1e+23"},
	    {1.1e23, "1.1e+23"},
	    {1e-5, "1e-05"},
	    {0.0001, "0.0001"},
	    {123.25, "123.25"},
	    {-1, "-1.0"},
	    {-0.5, "-0.5"},
	    {18446744073709551615.0, "1.8446744073709552e+19"},
	    {9223372036854775807.0, "9.223372036854776e+18"},
	    {1.0 / 3.0, "0.3333333333333333"},
	    {INFINITY, "+Inf"},
	    {-INFINITY, "-Inf"},
	    {NAN, "NaN"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[OM_NUMBER_MAX];
		size_t n = om_format_canonical(cases[i].v, buf);

		if (!streq(buf, cases[i].text) || n != strlen(buf))
			fail_msg("%.17g: \"%s\", expected \"%s\"", cases[i].v, buf, cases[i].text);
	}
}

static void test_escape_in_memory(void **state)
{
	static const char raw[] = "a\\b\"c\nd\te";
	char buf[2 * sizeof(raw)];

	*om_escape(buf, raw, strlen(raw)) = '\0';
	assert_string_equal(buf, "a\\\\b\\\"c\\nd\te");
	*om_escape(buf, "x\ny", 1) = '\0'; /* n bytes, not up to a NUL */
	assert_string_equal(buf, "x");
}

/* Lines built in place reach the stream in order, one buffer at a time, and a line longer
 * than promised is refused rather than written past the buffer. */
static void test_buffer(void **state)
{
	_cleanup_fclose_ FILE *full = fopen("/dev/full", "w");
	struct om_buffer b;
	struct memstream m;
	_cleanup_free_ char *text = NULL;
	size_t lines = 0;
	char *p;

	memstream_open(&m);
	assert_int_equal(om_buffer_init(&b, m.f, 100), 0);
	for (; lines < 10000; lines++) {
		p = om_buffer_reserve(&b, 100);
		assert_non_null(p);
		om_buffer_commit(&b, p + sprintf(p, "m{i=\"%zu\"} %zu\n", lines, lines));
	}
	assert_null(om_buffer_reserve(&b, 10 * 1024 * 1024));
	assert_int_equal(om_buffer_flush(&b), -E2BIG);
	om_buffer_done(&b);
	text = memstream_text(&m);
	assert_int_equal(strlen(text), 10 * 11 + 90 * 13 + 900 * 15 + 9000 * 17);
	assert_true(strncmp(text, "m{i=\"0\"} 0\nm{i=\"1\"} 1\n", 22) == 0);
	assert_non_null(strstr(text, "\nm{i=\"9999\"} 9999\n"));

	/* Write errors come back from flush. */
	assert_non_null(full);
	setvbuf(full, NULL, _IONBF, 0);
	assert_int_equal(om_buffer_init(&b, full, 10), 0);
	p = om_buffer_reserve(&b, 10);
	om_buffer_commit(&b, stpcpy(p, "m 1\n"));
	assert_int_equal(om_buffer_flush(&b), -ENOSPC);
	om_buffer_done(&b);
}

static void test_errors(void **state)
{
	struct dm_number bad = {.kind = 42};
	_cleanup_fclose_ FILE *full = fopen("/dev/full", "w");
	struct memstream m;
	_cleanup_free_ char *text = NULL;

	memstream_open(&m);
	assert_int_equal(om_write_family(m.f, "x", _DM_METRIC_TYPE_MAX, NULL, NULL), -EINVAL);
	assert_int_equal(om_write_family(m.f, "x", (enum dm_metric_type) - 1, NULL, NULL), -EINVAL);
	assert_int_equal(om_write_sample(m.f, "x", "", NULL, 0, &bad), -EINVAL);
	text = memstream_text(&m);
	assert_string_equal(text, ""); /* nothing half-written */

	/* Write errors come back as -errno: /dev/full fails every write with ENOSPC. */
	assert_non_null(full);
	setvbuf(full, NULL, _IONBF, 0);
	assert_int_equal(om_write_eof(full), -ENOSPC);
	assert_int_equal(om_write_sample(full, "x", "", NULL, 0, U64(1)), -ENOSPC);
	assert_int_equal(om_write_family(full, "x", DM_METRIC_GAUGE, "h", NULL), -ENOSPC);
	assert_int_equal(om_write_escaped(full, "h"), -ENOSPC);
}

/* A document with every family type, escaping and the number kinds. */
static void write_document(FILE *f)
{
	const struct om_label mon[] = {{"monitor", "mon0"}, {"path", "C:\\dir \"x\"\nnext"}};
	const struct om_label le_half[] = {{"le", "0.5"}}, le_inf[] = {{"le", "+Inf"}};
	const struct om_label q50[] = {{"quantile", "0.5"}};

	assert_int_equal(
	    om_write_family(f, "packets", DM_METRIC_COUNTER, "Packets \"seen\".\n\\", NULL), 0);
	assert_int_equal(om_write_sample(f, "packets", "_total", mon, 2, U64(UINT64_MAX)), 0);
	assert_int_equal(om_write_sample(f, "packets", "_total", mon, 1, U64(3)), 0);

	assert_int_equal(om_write_family(f, "temperature", DM_METRIC_GAUGE, NULL, NULL), 0);
	assert_int_equal(
	    om_write_sample(f, "temperature", "", (struct om_label[]){{"s", "a"}}, 1, F64(0.1)), 0);
	assert_int_equal(
	    om_write_sample(f, "temperature", "", (struct om_label[]){{"s", "b"}}, 1, F64(NAN)), 0);
	assert_int_equal(om_write_sample(f, "temperature", "", (struct om_label[]){{"s", "c"}}, 1,
					 F64(-INFINITY)),
			 0);
	assert_int_equal(om_write_sample(f, "temperature", "", (struct om_label[]){{"s", "d"}}, 1,
					 I64(INT64_MIN)),
			 0);

	assert_int_equal(
	    om_write_family(f, "latency_seconds", DM_METRIC_HISTOGRAM, "Latency.", "seconds"), 0);
	assert_int_equal(om_write_sample(f, "latency_seconds", "_bucket", le_half, 1, U64(2)), 0);
	assert_int_equal(om_write_sample(f, "latency_seconds", "_bucket", le_inf, 1, U64(5)), 0);
	assert_int_equal(om_write_sample(f, "latency_seconds", "_count", NULL, 0, U64(5)), 0);
	assert_int_equal(om_write_sample(f, "latency_seconds", "_sum", NULL, 0, F64(1.25)), 0);

	assert_int_equal(om_write_family(f, "rtt", DM_METRIC_SUMMARY, "RTT.", NULL), 0);
	assert_int_equal(om_write_sample(f, "rtt", "", q50, 1, F64(0.003)), 0);
	assert_int_equal(om_write_sample(f, "rtt", "_count", NULL, 0, U64(10)), 0);
	assert_int_equal(om_write_sample(f, "rtt", "_sum", NULL, 0, F64(0.04)), 0);

	assert_int_equal(om_write_family(f, "misc", DM_METRIC_UNTYPED, "", NULL), 0);
	assert_int_equal(om_write_sample(f, "misc", "", NULL, 0, I64(-7)), 0);

	assert_int_equal(om_write_eof(f), 0);
}

static const char document[] =
    "# TYPE packets counter\n"
    "# HELP packets Packets \\\"seen\\\".\\n\\\\\n"
    "packets_total{monitor=\"mon0\",path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 18446744073709551615\n"
    "packets_total{monitor=\"mon0\"} 3\n"
    "# TYPE temperature gauge\n"
    "temperature{s=\"a\"} 0.1\n"
    "temperature{s=\"b\"} NaN\n"
    "temperature{s=\"c\"} -Inf\n"
    "temperature{s=\"d\"} -9223372036854775808\n"
    "# TYPE latency_seconds histogram\n"
    "# HELP latency_seconds Latency.\n"
    "# UNIT latency_seconds seconds\n"
    "latency_seconds_bucket{le=\"0.5\"} 2\n"
    "latency_seconds_bucket{le=\"+Inf\"} 5\n"
    "latency_seconds_count 5\n"
    "latency_seconds_sum 1.25\n"
    "# TYPE rtt summary\n"
    "# HELP rtt RTT.\n"
    "rtt{quantile=\"0.5\"} 0.003\n"
    "rtt_count 10\n"
    "rtt_sum 0.04\n"
    "# TYPE misc unknown\n"
    "misc -7\n"
    "# EOF\n";

/* What the parser understood (OM_CHECK_PARSE_SCRIPT), to compare exactly. */
static const char parsed[] =
    "packets counter '' 'Packets \"seen\".\\n\\\\'\n"
    "  packets_total [('monitor', 'mon0'), ('path', 'C:\\\\dir \"x\"\\nnext')] "
    "18446744073709551615\n"
    "  packets_total [('monitor', 'mon0')] 3\n"
    "temperature gauge '' ''\n"
    "  temperature [('s', 'a')] 0.1\n"
    "  temperature [('s', 'b')] nan\n"
    "  temperature [('s', 'c')] -inf\n"
    "  temperature [('s', 'd')] -9223372036854775808\n"
    "latency_seconds histogram 'seconds' 'Latency.'\n"
    "  latency_seconds_bucket [('le', '0.5')] 2\n"
    "  latency_seconds_bucket [('le', '+Inf')] 5\n"
    "  latency_seconds_count [] 5\n"
    "  latency_seconds_sum [] 1.25\n"
    "rtt summary '' 'RTT.'\n"
    "  rtt [('quantile', '0.5')] 0.003\n"
    "  rtt_count [] 10\n"
    "  rtt_sum [] 0.04\n"
    "misc unknown '' ''\n"
    "  misc [] -7\n";

/* The whole document, exactly, and as the strict parser reads it. */
static void test_document_parses(void **state)
{
	_cleanup_free_ char *text = NULL, *output = NULL;
	struct memstream m;

	memstream_open(&m);
	write_document(m.f);
	text = memstream_text(&m);
	if (!streq(text, document))
		fail_msg("document:\n--- got\n%s--- expected\n%s", text, document);
	output = om_check_parse(text);
	if (!streq(output, parsed))
		fail_msg("the parser read:\n%s--- expected\n%s", output, parsed);
}

/* The check above must be able to fail: a document breaking the format is rejected. */
static void test_parser_rejects_bad_documents(void **state)
{
	static const char *const bad[] = {
	    "# TYPE x untyped\nx 1\n# EOF\n",		/* Prometheus' spelling */
	    "# TYPE x counter\nx_total 1\n",		/* no # EOF */
	    "# TYPE x gauge\nx{a=\"\n\"} 1\n# EOF\n",	/* raw newline in a label value */
	    "# TYPE x counter\nx_total 1.0.0\n# EOF\n", /* not a number */
	    "# TYPE x counter\n\nx_total 1\n# EOF\n",	/* a blank line */
	    "# HELP x a\n# HELP x b\nx 1\n# EOF\n",	/* HELP twice */
	    /* histograms: no +Inf, not cumulative, out of order, _count without _sum */
	    "# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\n# EOF\n",
	    "# TYPE h histogram\nh_bucket{le=\"1.0\"} 2\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
	    "# TYPE h histogram\nh_bucket{le=\"2.0\"} 1\nh_bucket{le=\"1.0\"} 1\n"
	    "h_bucket{le=\"+Inf\"} 1\n# EOF\n",
	    "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n# EOF\n",
	    "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 2\nh_sum 1\n# EOF\n",
	    "# TYPE h histogram\nh_bucket{le=\"-1.0\"} 0\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"
	    "h_sum 1\n# EOF\n",
	    "# TYPE h histogram\nh_bucket{le=\"+inf\"} 1\n# EOF\n", /* not canonical */
	    /* summaries: a quantile beyond 1, a negative one */
	    "# TYPE s summary\ns{quantile=\"1.5\"} 1\n# EOF\n",
	    "# TYPE s summary\ns{quantile=\"0.5\"} -1\n# EOF\n",
	    /* the unit is not the end of the name */
	    "# TYPE x_seconds gauge\n# UNIT x_seconds bytes\nx_seconds 1\n# EOF\n",
	    /* a series twice, apart */
	    "# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"2\"} 1\nx{a=\"1\"} 1\n# EOF\n",
	};

	assert_int_equal(setenv("DM_SCRIPT", OM_CHECK_PARSE_SCRIPT, 1), 0);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		_cleanup_free_ char *output = NULL;
		int status;

		output = om_check_run_on_text(OM_CHECK_PYTHON " -c \"$DM_SCRIPT\" \"$1\"", bad[i],
					      &status);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			fail_msg("the parser accepted bad document %zu:\n%s", i, bad[i]);
		if (!strstr(output, "ValueError"))
			fail_msg("bad document %zu failed for another reason:\n%s", i, output);
	}
}

static char *prometheus_text(const char *om)
{
	char *text = NULL;
	int r = om_to_prometheus_text(om, &text);

	if (r < 0)
		fail_msg("om_to_prometheus_text: %s\n%s", strerror(-r), om);
	return text;
}

static void test_prometheus_text(void **state)
{
	static const struct {
		const char *om, *prometheus;
	} cases[] = {
	    /* A counter's family takes its samples' name, in TYPE and HELP. */
	    {"# TYPE packets counter\n# HELP packets Packets.\npackets_total{monitor=\"m\"} 3\n"
	     "# EOF\n",
	     "# TYPE packets_total counter\n# HELP packets_total Packets.\n"
	     "packets_total{monitor=\"m\"} 3\n"},
	    /* HELP may come first in OpenMetrics. */
	    {"# HELP p h\n# TYPE p counter\np_total 1\n# EOF\n",
	     "# HELP p_total h\n# TYPE p_total counter\np_total 1\n"},
	    /* Help texts: \" is no escape there; \\ and \n are, and stay. */
	    {"# TYPE g gauge\n# HELP g a \\\"q\\\" \\\\ \\n.\ng 1\n",
	     "# TYPE g gauge\n# HELP g a \"q\" \\\\ \\n.\ng 1\n"},
	    {"# TYPE g gauge\n# HELP g \\\\\\\"\ng 1\n", "# TYPE g gauge\n# HELP g \\\\\"\ng 1\n"},
	    /* Label values escape the same way in both formats. */
	    {"# TYPE g gauge\ng{a=\"\\\"q\\\"\\\\\\n\"} 1\n",
	     "# TYPE g gauge\ng{a=\"\\\"q\\\"\\\\\\n\"} 1\n"},
	    {"# TYPE misc unknown\nmisc -7\n", "# TYPE misc untyped\nmisc -7\n"},
	    {"# TYPE t gauge\n# UNIT t seconds\n# HELP t h\nt 1\n",
	     "# TYPE t gauge\n# HELP t h\nt 1\n"},
	    {"# TYPE l histogram\n# HELP l h\nl_bucket{le=\"+Inf\"} 5\nl_count 5\nl_sum 1.5\n",
	     "# TYPE l histogram\n# HELP l h\nl_bucket{le=\"+Inf\"} 5\nl_count 5\nl_sum 1.5\n"},
	    {"# TYPE r summary\nr{quantile=\"0.5\"} 1\nr_count 2\nr_sum 3\n",
	     "# TYPE r summary\nr{quantile=\"0.5\"} 1\nr_count 2\nr_sum 3\n"},
	    /* A gauge named like a counter's samples is no counter. */
	    {"# TYPE c counter\nc_total 1\n# TYPE c_total gauge\n# HELP c_total h\nc_total 2\n",
	     "# TYPE c_total counter\nc_total 1\n# TYPE c_total gauge\n# HELP c_total h\n"
	     "c_total 2\n"},
	    /* Nothing after # EOF; the last line may lack its newline. */
	    {"# TYPE g gauge\ng 1\n# EOF\ng 2\n", "# TYPE g gauge\ng 1\n"},
	    {"# TYPE g gauge\ng 1", "# TYPE g gauge\ng 1\n"},
	    {"", ""},
	    {"# EOF\n", ""},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text = prometheus_text(cases[i].om);

		if (!streq(text, cases[i].prometheus))
			fail_msg("case %zu:\n--- got\n%s--- expected\n%s", i, text,
				 cases[i].prometheus);
	}
}

static void test_prometheus_text_errors(void **state)
{
	static const struct {
		const char *om;
		int error;
	} cases[] = {
	    {"# TYPE i info\ni_info 1\n", -EOPNOTSUPP},
	    {"# TYPE s stateset\ns{s=\"a\"} 1\n", -EOPNOTSUPP},
	    {"# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\n", -EOPNOTSUPP},
	    {"# TYPE x\nx 1\n", -EOPNOTSUPP}, /* no type at all */
	    {"# a comment\n", -EINVAL},
	    {"#TYPE x gauge\n", -EINVAL},
	    {"# TYPE\n", -EINVAL},
	    {"# HELP\n", -EINVAL},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *text = NULL;
		int r = om_to_prometheus_text(cases[i].om, &text);

		if (r != cases[i].error)
			fail_msg("\"%s\": %d, expected %d", cases[i].om, r, cases[i].error);
		assert_null(text);
	}
}

/* The whole document of test_document_parses, in the Prometheus text format. */
static void test_prometheus_document(void **state)
{
	static const char expected[] =
	    "# TYPE packets_total counter\n"
	    "# HELP packets_total Packets \"seen\".\\n\\\\\n"
	    "packets_total{monitor=\"mon0\",path=\"C:\\\\dir \\\"x\\\"\\nnext\"} "
	    "18446744073709551615\n"
	    "packets_total{monitor=\"mon0\"} 3\n"
	    "# TYPE temperature gauge\n"
	    "temperature{s=\"a\"} 0.1\n"
	    "temperature{s=\"b\"} NaN\n"
	    "temperature{s=\"c\"} -Inf\n"
	    "temperature{s=\"d\"} -9223372036854775808\n"
	    "# TYPE latency_seconds histogram\n"
	    "# HELP latency_seconds Latency.\n"
	    "latency_seconds_bucket{le=\"0.5\"} 2\n"
	    "latency_seconds_bucket{le=\"+Inf\"} 5\n"
	    "latency_seconds_count 5\n"
	    "latency_seconds_sum 1.25\n"
	    "# TYPE rtt summary\n"
	    "# HELP rtt RTT.\n"
	    "rtt{quantile=\"0.5\"} 0.003\n"
	    "rtt_count 10\n"
	    "rtt_sum 0.04\n"
	    "# TYPE misc untyped\n"
	    "misc -7\n";
	_cleanup_free_ char *text = prometheus_text(document);

	if (!streq(text, expected))
		fail_msg("--- got\n%s--- expected\n%s", text, expected);
}

/* The document of `fs`, in `flavor`, with "# EOF"; `fs` has no samples left after. */
static char *families_text(struct om_families *fs, enum om_flavor flavor)
{
	struct om_text text = {};
	char *s = NULL;

	assert_int_equal(om_families_take(fs, flavor, true, &text), 0);
	assert_int_equal(om_text_take_string(&text, &s, NULL), 0);
	return s;
}

/* A family of a part, as a renderer brings it: its descriptor, then sample lines. */
struct family_part {
	const char *name;
	enum dm_metric_type type;
	const char *help, *unit;
	const char *samples;
};

/* Parts (one per monitor, say) gathered family by family, then merged: written once per
 * family, in the order families were first seen, the descriptor of the first to bring it, the
 * samples of all. The same in the Prometheus text format is what om_to_prometheus_text()
 * makes of the OpenMetrics one. */
static void test_families_merge(void **state)
{
	static const struct {
		struct family_part parts[3][3];
		const char *merged;
		size_t dropped; /* by the last part */
	} cases[] = {
	    {{{{"p", DM_METRIC_COUNTER, "Packets.", NULL, "p_total{monitor=\"a\"} 1\n"}},
	      {{"p", DM_METRIC_COUNTER, "Other help.", NULL, "p_total{monitor=\"b\"} 2\n"}}},
	     "# TYPE p counter\n# HELP p Packets.\np_total{monitor=\"a\"} 1\n"
	     "p_total{monitor=\"b\"} 2\n# EOF\n"},
	    {{{{"f1", DM_METRIC_GAUGE, NULL, NULL, "f1 1\n"},
	       {"f2", DM_METRIC_GAUGE, NULL, NULL, "f2{m=\"a\"} 2\n"}},
	      {{"f2", DM_METRIC_GAUGE, NULL, NULL, "f2{m=\"b\"} 3\n"},
	       {"f3", DM_METRIC_GAUGE, NULL, NULL, "f3 4\n"}},
	      {{"f3", DM_METRIC_GAUGE, NULL, NULL, "f3{m=\"c\"} 5\n"},
	       {"f1", DM_METRIC_GAUGE, NULL, NULL, "f1{m=\"c\"} 6\n"}}},
	     "# TYPE f1 gauge\nf1 1\nf1{m=\"c\"} 6\n# TYPE f2 gauge\nf2{m=\"a\"} 2\n"
	     "f2{m=\"b\"} 3\n# TYPE f3 gauge\nf3 4\nf3{m=\"c\"} 5\n# EOF\n"},
	    /* One type per family: a clashing one is left out, the rest of its part kept. */
	    {{{{"x", DM_METRIC_COUNTER, NULL, NULL, "x_total 1\n"}},
	      {{"x", DM_METRIC_GAUGE, "h", NULL, "x 2\n"},
	       {"y", DM_METRIC_UNTYPED, "Quote \" and \\ and\nnewline.", NULL, "y 3\n"}}},
	     "# TYPE x counter\nx_total 1\n# TYPE y unknown\n"
	     "# HELP y Quote \\\" and \\\\ and\\nnewline.\ny 3\n# EOF\n",
	     1},
	    /* The same family twice in one part: once. */
	    {{{{"p", DM_METRIC_COUNTER, NULL, NULL, "p_total{path=\"ingress\"} 1\n"},
	       {"p", DM_METRIC_COUNTER, NULL, NULL, "p_total{path=\"egress\"} 2\n"}}},
	     "# TYPE p counter\np_total{path=\"ingress\"} 1\np_total{path=\"egress\"} 2\n# EOF\n"},
	    /* UNIT is part of the descriptor; a family without samples is still a family. */
	    {{{{"t_seconds", DM_METRIC_GAUGE, NULL, "seconds", ""}},
	      {{"t_seconds", DM_METRIC_GAUGE, NULL, "seconds", "t_seconds 1\n"}}},
	     "# TYPE t_seconds gauge\n# UNIT t_seconds seconds\nt_seconds 1\n# EOF\n"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text = NULL, *prom = NULL, *expected_prom = NULL;
		struct om_families *all[2] = {};
		size_t dropped = 42;

		for (int flavor = 0; flavor < 2; flavor++) {
			assert_int_equal(om_families_new(&all[flavor]), 0);
			for (size_t j = 0; j < 3 && cases[i].parts[j][0].name; j++) {
				_cleanup_(om_families_freep) struct om_families *fs = NULL;

				assert_int_equal(om_families_new(&fs), 0);
				for (size_t k = 0; k < 3 && cases[i].parts[j][k].name; k++) {
					const struct family_part *f = &cases[i].parts[j][k];
					struct om_text *samples;

					assert_int_equal(om_families_get(fs, f->name, f->type,
									 f->help, f->unit,
									 &samples),
							 1);
					assert_int_equal(
					    om_text_append(samples, f->samples, strlen(f->samples)),
					    0);
				}
				assert_int_equal(om_families_merge(all[flavor], fs, &dropped), 0);
			}
		}
		text = families_text(all[0], OM_FLAVOR_OPENMETRICS);
		if (!streq(text, cases[i].merged))
			fail_msg("case %zu:\n--- got\n%s--- expected\n%s", i, text,
				 cases[i].merged);
		assert_int_equal(dropped, cases[i].dropped);
		prom = families_text(all[1], OM_FLAVOR_PROMETHEUS);
		expected_prom = prometheus_text(text);
		if (!streq(prom, expected_prom))
			fail_msg("case %zu:\n--- got\n%s--- expected\n%s", i, prom, expected_prom);
		om_families_free(all[0]);
		om_families_free(all[1]);
	}
}

/* A family gathered already with another type takes no samples of this one. */
static void test_families_types(void **state)
{
	_cleanup_(om_families_freep) struct om_families *fs = NULL;
	struct om_text *a, *b;

	assert_int_equal(om_families_new(&fs), 0);
	assert_int_equal(om_families_get(fs, "x", DM_METRIC_GAUGE, NULL, NULL, &a), 1);
	assert_int_equal(om_families_get(fs, "x", DM_METRIC_GAUGE, "help", NULL, &b), 1);
	assert_ptr_equal(a, b);
	assert_int_equal(om_families_get(fs, "x", DM_METRIC_COUNTER, NULL, NULL, &b), 0);
	assert_null(b);
	assert_int_equal(om_families_get(fs, "y", _DM_METRIC_TYPE_MAX, NULL, NULL, &b), -EINVAL);
}

/* A text's blocks: lines written in place across many blocks come out as written, and a text
 * moved into another follows it. */
static void test_text_blocks(void **state)
{
	struct om_text t = {}, u = {};
	struct om_buffer b;
	_cleanup_free_ char *s = NULL;
	size_t len, expected = 0;
	char *p;

	assert_int_equal(om_text_append(&t, "head\n", 5), 0);
	assert_int_equal(om_buffer_init_text(&b, &u, 100), 0);
	for (size_t i = 0; i < 100000; i++) {
		p = om_buffer_reserve(&b, 100);
		assert_non_null(p);
		om_buffer_commit(&b, p + sprintf(p, "m{i=\"%zu\"} %zu\n", i, i));
	}
	assert_null(om_buffer_reserve(&b, 10 * 1024 * 1024));
	assert_int_equal(om_buffer_flush(&b), -E2BIG);
	om_buffer_done(&b);
	om_text_move(&t, &u);
	assert_int_equal(u.len, 0);
	assert_int_equal(om_text_take_string(&t, &s, &len), 0);
	assert_int_equal(len, strlen(s));
	assert_true(strncmp(s, "head\nm{i=\"0\"} 0\nm{i=\"1\"} 1\n", 27) == 0);
	for (size_t i = 0; i < 100000; i++)
		expected += snprintf(NULL, 0, "m{i=\"%zu\"} %zu\n", i, i);
	assert_int_equal(len, 5 + expected);
	assert_true(strstr(s, "m{i=\"99999\"} 99999\n") ==
		    s + len - strlen("m{i=\"99999\"} 99999\n"));
	assert_int_equal(t.len, 0);
	assert_null(t.first);
}

/* A text read a piece at a time (REST sends /metrics so): the pieces, of any size, put
 * together are the text, and every block is freed once read (ASan sees none leak). */
static void test_text_read(void **state)
{
	static const size_t pieces[] = {1, 7, 4096, 65536, 1 << 20};

	for (size_t k = 0; k < ELEMENTSOF(pieces); k++) {
		struct om_text t = {};
		_cleanup_free_ char *expected = NULL, *got = NULL;
		size_t len, n = 0, r;
		char line[64];

		for (size_t i = 0; i < 20000; i++) {
			int w = snprintf(line, sizeof(line), "m{i=\"%zu\"} %zu\n", i, i);

			assert_int_equal(om_text_append(&t, line, w), 0);
		}
		len = t.len;
		got = malloc(len + pieces[k]);
		assert_non_null(got);
		while ((r = om_text_read(&t, got + n, pieces[k])) > 0) {
			assert_true(r <= pieces[k]);
			n += r;
			assert_int_equal(t.len, len - n);
		}
		assert_int_equal(n, len);
		assert_null(t.first);
		for (size_t i = 0; i < 20000; i++) {
			int w = snprintf(line, sizeof(line), "m{i=\"%zu\"} %zu\n", i, i);

			assert_int_equal(om_text_append(&t, line, w), 0);
		}
		assert_int_equal(om_text_take_string(&t, &expected, NULL), 0);
		assert_memory_equal(got, expected, len);
	}
	(void)state;
}

/* Two monitors' texts as the daemon renders them, merged: the strict OpenMetrics parser and
 * promtool (on the Prometheus text) accept the result. Their mere concatenation, which repeats
 * the family, is refused by both: the check can fail. */
static void write_monitor(FILE *f, const char *monitor, uint64_t packets)
{
	const struct om_label l[] = {{"monitor", monitor}};

	assert_int_equal(om_write_family(f, "packets", DM_METRIC_COUNTER, "Packets seen.", NULL),
			 0);
	assert_int_equal(om_write_sample(f, "packets", "_total", l, 1, U64(packets)), 0);
	assert_int_equal(
	    om_write_family(f, "queue_len", DM_METRIC_GAUGE, "Queue \"length\".", NULL), 0);
	assert_int_equal(om_write_sample(f, "queue_len", "", l, 1, I64(-1)), 0);
}

/* A monitor's families, gathered as the daemon renders them. */
static struct om_families *monitor_families(const char *monitor, uint64_t packets)
{
	struct om_families *fs = NULL;
	struct memstream m;
	struct om_text *t;
	_cleanup_free_ char *text = NULL;
	char *queue;

	memstream_open(&m);
	write_monitor(m.f, monitor, packets);
	text = memstream_text(&m);
	queue = strstr(text, "# TYPE queue_len");
	assert_non_null(queue);
	assert_int_equal(om_families_new(&fs), 0);
	/* The sample lines of the text, after their family's descriptor. */
	assert_int_equal(
	    om_families_get(fs, "packets", DM_METRIC_COUNTER, "Packets seen.", NULL, &t), 1);
	assert_int_equal(
	    om_text_append(t, strstr(text, "packets_total"), queue - strstr(text, "packets_total")),
	    0);
	assert_int_equal(
	    om_families_get(fs, "queue_len", DM_METRIC_GAUGE, "Queue \"length\".", NULL, &t), 1);
	assert_int_equal(om_text_append(t, strstr(queue, "\nqueue_len") + 1,
					strlen(strstr(queue, "\nqueue_len") + 1)),
			 0);
	return fs;
}

static void test_families_parse(void **state)
{
	_cleanup_(om_families_freep) struct om_families *fs = NULL, *f0 = NULL, *f1 = NULL;
	_cleanup_free_ char *a = NULL, *b = NULL, *merged = NULL, *concatenated = NULL;
	_cleanup_free_ char *prom = NULL, *prom_concatenated = NULL, *out = NULL;
	struct memstream m;
	int status;

	memstream_open(&m);
	write_monitor(m.f, "mon0", 5);
	a = memstream_text(&m);
	memstream_open(&m);
	write_monitor(m.f, "mon1", 7);
	b = memstream_text(&m);

	assert_int_equal(om_families_new(&fs), 0);
	f0 = monitor_families("mon0", 5);
	f1 = monitor_families("mon1", 7);
	assert_int_equal(om_families_merge(fs, f0, NULL), 0);
	assert_int_equal(om_families_merge(fs, f1, NULL), 0);
	merged = families_text(fs, OM_FLAVOR_OPENMETRICS);
	concatenated = strdup_printf("%s%s# EOF\n", a, b);
	assert_non_null(concatenated);

	out = om_check_run_on_text(OM_CHECK_PYTHON
				   " -c \"import sys; from prometheus_client.openmetrics.parser "
				   "import text_string_to_metric_families as p; "
				   "print(len(list(p(open(sys.argv[1]).read()))))\" \"$1\"",
				   merged, &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !streq(out, "2\n"))
		fail_msg("the strict parser on the merged text (status %d): %s\n%s", status, out,
			 merged);
	free(out);
	out = om_check_run_on_text(OM_CHECK_PYTHON
				   " -c \"import sys; from prometheus_client.openmetrics.parser "
				   "import text_string_to_metric_families as p; "
				   "print(len(list(p(open(sys.argv[1]).read()))))\" \"$1\"",
				   concatenated, &status);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		fail_msg("the strict parser accepted a repeated family:\n%s", concatenated);

	prom = prometheus_text(merged);
	free(out);
	out = om_check_run_on_text("promtool check metrics < \"$1\"", prom, &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("promtool check metrics (status %d): %s\n%s", status, out, prom);
	prom_concatenated = prometheus_text(concatenated);
	free(out);
	out = om_check_run_on_text("promtool check metrics < \"$1\"", prom_concatenated, &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 0 || !strstr(out, "second TYPE line"))
		fail_msg("promtool accepted a repeated family (status %d): %s\n%s", status, out,
			 prom_concatenated);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_family_name),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_family),
	    cmocka_unit_test(test_sample),
	    cmocka_unit_test(test_doubles_round_trip),
	    cmocka_unit_test(test_canonical_numbers),
	    cmocka_unit_test(test_escape_in_memory),
	    cmocka_unit_test(test_buffer),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_document_parses),
	    cmocka_unit_test(test_parser_rejects_bad_documents),
	    cmocka_unit_test(test_prometheus_text),
	    cmocka_unit_test(test_prometheus_text_errors),
	    cmocka_unit_test(test_prometheus_document),
	    cmocka_unit_test(test_families_merge),
	    cmocka_unit_test(test_families_types),
	    cmocka_unit_test(test_text_blocks),
	    cmocka_unit_test(test_text_read),
	    cmocka_unit_test(test_families_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
