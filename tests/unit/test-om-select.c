/* SPDX-License-Identifier: Apache-2.0 */
/* What dynmonctl picks from a monitor's OpenMetrics text: the families one path's metrics make,
 * or one metric's — a struct value's several families, the longest name claiming a family, a
 * family both paths make split by its samples' `path` label or configured labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "om-select.h"
#include "util.h"

static json_t *load(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);

	if (!j)
		fail_msg("bad test JSON: %s: %s", err.text, text);
	return j;
}

#define EXPORTED(name, type)                                                                       \
	"{\"name\": \"" name "\", \"open-metrics-metadata\": {\"type\": \"" type "\"}}"
#define LABELLED(name, label, value)                                                               \
	"{\"name\": \"" name "\", \"open-metrics-metadata\": {\"type\": \"counter\", \"labels\": " \
	"[{\"name\": \"" label "\", \"value\": \"" value "\"}]}}"
#define CONFIG(ingress, egress)                                                                    \
	"{\"ingress-path\": {\"metric-configs\": [" ingress "]},"                                  \
	" \"egress-path\": {\"metric-configs\": [" egress "]}}"

/* ---- families of different metrics ------------------------------------------------------- */

static const char *const METRICS =
    CONFIG(EXPORTED("packets_total", "counter") "," EXPORTED(
	       "packets_dropped_total",
	       "counter") "," EXPORTED("flow",
				       "counter") "," EXPORTED("sizes",
							       "histogram") ", {\"name\": \"raw\"}",
	   EXPORTED("egress_bytes_total", "counter") ", {\"name\": \"packets_total\"}");

#define F_PACKETS "# TYPE packets counter\n# HELP packets Packets.\npackets_total 1\n"
#define F_DROPPED "# TYPE packets_dropped counter\npackets_dropped_total 2\n"
#define F_FLOW                                                                                     \
	"# TYPE flow_packets counter\nflow_packets_total{src=\"a\"} 3\n"                           \
	"# TYPE flow_bytes counter\n# UNIT flow_bytes bytes\nflow_bytes_total{src=\"a\"} 4\n"
#define F_SIZES                                                                                    \
	"# TYPE sizes histogram\nsizes_bucket{le=\"64.0\"} 1\nsizes_bucket{le=\"+Inf\"} 2\n"       \
	"sizes_count 2\nsizes_sum 100\n"
#define F_EGRESS "# TYPE egress_bytes counter\negress_bytes_total 5\n"

static void test_families(void **state)
{
	static const struct {
		enum metrics_direction dir;
		const char *name;
		int r;
		const char *want;
	} cases[] = {
	    {METRICS_BOTH, NULL, 0, F_PACKETS F_DROPPED F_FLOW F_SIZES F_EGRESS "# EOF\n"},
	    {METRICS_INGRESS, NULL, 0, F_PACKETS F_DROPPED F_FLOW F_SIZES "# EOF\n"},
	    {METRICS_EGRESS, NULL, 0, F_EGRESS "# EOF\n"},
	    /* "packets" begins "packets_dropped", whose own metric claims it. */
	    {METRICS_BOTH, "packets_total", 0, F_PACKETS "# EOF\n"},
	    {METRICS_BOTH, "packets_dropped_total", 0, F_DROPPED "# EOF\n"},
	    /* A struct value: one family per field. */
	    {METRICS_BOTH, "flow", 0, F_FLOW "# EOF\n"},
	    {METRICS_INGRESS, "sizes", 0, F_SIZES "# EOF\n"},
	    {METRICS_EGRESS, "egress_bytes_total", 0, F_EGRESS "# EOF\n"},
	    /* packets_total is on egress too, but JSON only there: the ingress one is meant. */
	    {METRICS_BOTH, "packets_total", 0, F_PACKETS "# EOF\n"},
	    {METRICS_EGRESS, "packets_total", -ENODATA, NULL},
	    {METRICS_BOTH, "raw", -ENODATA, NULL},
	    {METRICS_EGRESS, "sizes", -ENOENT, NULL},
	    {METRICS_BOTH, "nosuch", -ENOENT, NULL},
	};
	static const char *const text = F_PACKETS F_DROPPED F_FLOW F_SIZES F_EGRESS "# EOF\n";
	json_auto_t *config = load(METRICS);

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *got = NULL;
		int r = om_select(text, config, cases[i].dir, cases[i].name, &got);

		if (r != cases[i].r)
			fail_msg("case %zu (%s): %d, expected %d", i, strempty(cases[i].name), r,
				 cases[i].r);
		if (r >= 0 && !streq(got, cases[i].want))
			fail_msg("case %zu (%s):\n%s\nexpected:\n%s", i, strempty(cases[i].name),
				 got, cases[i].want);
	}
}

/* The longest claim wins, whatever the order of the configuration. */
static void test_longest_claim(void **state)
{
	json_auto_t *config = load(CONFIG(
	    EXPORTED("packets_dropped_total", "counter") "," EXPORTED("packets_total", "counter"),
	    ""));
	_cleanup_free_ char *packets = NULL, *dropped = NULL;

	assert_int_equal(om_select(F_DROPPED F_PACKETS "# EOF\n", config, METRICS_BOTH,
				   "packets_total", &packets),
			 0);
	assert_string_equal(packets, F_PACKETS "# EOF\n");
	assert_int_equal(om_select(F_PACKETS F_DROPPED "# EOF\n", config, METRICS_BOTH,
				   "packets_dropped_total", &dropped),
			 0);
	assert_string_equal(dropped, F_DROPPED "# EOF\n");
}

/* ---- a family both paths make ------------------------------------------------------------ */

#define H_DESC "# TYPE frame_size_bytes histogram\n# UNIT frame_size_bytes bytes\n"
#define H_IN                                                                                       \
	"frame_size_bytes_bucket{path=\"ingress\",le=\"63.0\"} 2\n"                                \
	"frame_size_bytes_bucket{path=\"ingress\",le=\"+Inf\"} 5\n"                                \
	"frame_size_bytes_count{path=\"ingress\"} 5\nframe_size_bytes_sum{path=\"ingress\"} "      \
	"4646\n"
#define H_OUT                                                                                      \
	"frame_size_bytes_bucket{path=\"egress\",le=\"63.0\"} 0\n"                                 \
	"frame_size_bytes_bucket{path=\"egress\",le=\"+Inf\"} 1\n"                                 \
	"frame_size_bytes_count{path=\"egress\"} 1\nframe_size_bytes_sum{path=\"egress\"} 642\n"

#define P_DESC "# TYPE packets counter\n# HELP packets Packets.\n"
#define P_IN "packets_total{path=\"ingress\"} 1\n"
#define P_OUT "packets_total{path=\"egress\"} 2\n"

#define L_DESC "# TYPE packets counter\n"
#define L_IN                                                                                       \
	"packets_total{dir=\"in\",proto=\"udp\"} 3\npackets_total{proto=\"tcp\",dir=\"in\"} 1\n"
#define L_OUT "packets_total{dir=\"out\\\"\",proto=\"udp\"} 4\n"

static void test_both_paths(void **state)
{
	static const struct {
		const char *config, *text;
		enum metrics_direction dir;
		const char *name;
		const char *want;
	} cases[] = {
	    /* dynmon labels the samples path="ingress", path="egress". */
	    {CONFIG(EXPORTED("frame_size_bytes", "histogram"),
		    EXPORTED("frame_size_bytes", "histogram")),
	     H_DESC H_IN H_OUT "# EOF\n", METRICS_BOTH, "frame_size_bytes",
	     H_DESC H_IN H_OUT "# EOF\n"},
	    {CONFIG(EXPORTED("frame_size_bytes", "histogram"),
		    EXPORTED("frame_size_bytes", "histogram")),
	     H_DESC H_IN H_OUT "# EOF\n", METRICS_INGRESS, NULL, H_DESC H_IN "# EOF\n"},
	    {CONFIG(EXPORTED("frame_size_bytes", "histogram"),
		    EXPORTED("frame_size_bytes", "histogram")),
	     H_DESC H_IN H_OUT "# EOF\n", METRICS_EGRESS, "frame_size_bytes",
	     H_DESC H_OUT "# EOF\n"},
	    /* Names that differ but make one family: packets and packets_total. */
	    {CONFIG(EXPORTED("packets", "counter"), EXPORTED("packets_total", "counter")),
	     P_DESC P_IN P_OUT "# EOF\n", METRICS_EGRESS, NULL, P_DESC P_OUT "# EOF\n"},
	    {CONFIG(EXPORTED("packets", "counter"), EXPORTED("packets_total", "counter")),
	     P_DESC P_IN P_OUT "# EOF\n", METRICS_BOTH, "packets", P_DESC P_IN "# EOF\n"},
	    /* The configured labels tell the paths apart (escaped values too): no path label. */
	    {CONFIG(LABELLED("packets_total", "dir", "in"), LABELLED("packets", "dir", "out\\\"")),
	     L_DESC L_IN L_OUT "# EOF\n", METRICS_INGRESS, NULL, L_DESC L_IN "# EOF\n"},
	    {CONFIG(LABELLED("packets_total", "dir", "in"), LABELLED("packets", "dir", "out\\\"")),
	     L_DESC L_IN L_OUT "# EOF\n", METRICS_EGRESS, "packets", L_DESC L_OUT "# EOF\n"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_auto_t *config = load(cases[i].config);
		_cleanup_free_ char *got = NULL;

		assert_int_equal(
		    om_select(cases[i].text, config, cases[i].dir, cases[i].name, &got), 0);
		if (!streq(got, cases[i].want))
			fail_msg("case %zu:\n%s\nexpected:\n%s", i, got, cases[i].want);
	}
}

/* Families no exported metric makes are left out when picking, and an empty pick is still a
 * whole document. */
static void test_unclaimed(void **state)
{
	json_auto_t *config = load(METRICS);
	_cleanup_free_ char *got = NULL;

	assert_int_equal(
	    om_select("# TYPE other gauge\nother 1\n# EOF\n", config, METRICS_INGRESS, NULL, &got),
	    0);
	assert_string_equal(got, "# EOF\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_families),
	    cmocka_unit_test(test_longest_claim),
	    cmocka_unit_test(test_both_paths),
	    cmocka_unit_test(test_unclaimed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
