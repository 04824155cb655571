/* SPDX-License-Identifier: Apache-2.0 */
/* The dataplane configuration: what is accepted (Polycube's upstream examples unchanged, both
 * formats), what is rejected and with which message, and the normalized form dynmon reports. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bounds.h"
#include "config.h"
#include "object.h"

static char *read_data(const char *name)
{
	_cleanup_free_ char *path = strdup_printf("%s/%s", TEST_DATA_DIR, name);
	_cleanup_fclose_ FILE *f = NULL;
	char *text = NULL;
	size_t size = 0;

	assert_non_null(path);
	f = fopen(path, "re");
	if (!f)
		fail_msg("cannot open %s: %m", path);
	assert_true(getdelim(&text, &size, '\0', f) > 0);
	return text;
}

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

static struct dm_config *parse_ok(const char *text)
{
	struct dm_config *c = NULL;
	dm_error e = DM_ERROR_NULL;
	int r;

	r = dm_config_parse(text, &c, &e);
	if (r < 0)
		fail_msg("unexpected error %d: %s", r, strempty(e.message));
	assert_null(e.message);
	assert_non_null(c);
	return c;
}

static struct dm_config *parse_file(const char *name)
{
	_cleanup_free_ char *text = read_data(name);

	return parse_ok(text);
}

static struct dm_config *parse_dq(const char *doc)
{
	_cleanup_free_ char *text = dq(doc);

	return parse_ok(text);
}

static void assert_metric_equal(const struct dm_metric_config *a, const struct dm_metric_config *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->map_name, b->map_name);
	assert_int_equal(a->empty_on_read, b->empty_on_read);
	assert_int_equal(a->swap_on_read, b->swap_on_read);
	assert_int_equal(a->open_metrics, b->open_metrics);
	if (!a->open_metrics)
		return;
	assert_string_equal(a->help, b->help);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->n_labels, b->n_labels);
	for (size_t i = 0; i < a->n_labels; i++) {
		assert_string_equal(a->labels[i].name, b->labels[i].name);
		assert_string_equal(a->labels[i].value, b->labels[i].value);
	}
}

static void assert_config_equal(const struct dm_config *a, const struct dm_config *b)
{
	for (int i = 0; i < _DM_PATH_MAX; i++) {
		const struct dm_path_config *p = &a->paths[i], *q = &b->paths[i];

		assert_int_equal(p->present, q->present);
		if (!p->present)
			continue;
		assert_string_equal(p->name, q->name);
		assert_string_equal(p->code, q->code);
		assert_int_equal(p->n_metrics, q->n_metrics);
		for (size_t j = 0; j < p->n_metrics; j++)
			assert_metric_equal(&p->metrics[j], &q->metrics[j]);
	}
}

/* ---- Polycube's upstream examples, unchanged */

struct label_expectation {
	const char *name, *value;
};

struct metric_expectation {
	const char *name, *map_name, *help;
	const struct label_expectation *labels;
	size_t n_labels;
};

static const struct label_expectation ntp_labels[] = {{"IP_PROTO", "UDP"}, {"L4", "NTP"}};

static const struct upstream_example {
	const char *file; /* the same name under v1.0/ and v1.1/ */
	const char *probe;
	const char *code_excerpt;
	struct metric_expectation metrics[2];
	size_t n_metrics;
} upstream_examples[] = {
    {"packet_counter.json",
     "Packets counter probe",
     "BPF_ARRAY(PKT_COUNTER, uint64_t, 1);",
     {{"packets_total", "PKT_COUNTER",
       "This metric represents the number of packets that has traveled trough this probe."}},
     1},
    {"ntp_packets_counter.json",
     "NTP Amplification BUA probe",
     "#include <uapi/linux/udp.h>",
     {{"ntp_packets_total", "NTP_PACKETS_COUNTER",
       "This metric represents the number of NTP packets that has traveled through this probe.",
       ntp_labels, ELEMENTSOF(ntp_labels)}},
     1},
    {"ntp_packets_ntp_mode_private_counters.json",
     "NTP Amplification WARNING probe",
     "#include <uapi/linux/udp.h>",
     {{"ntp_packets_total", "NTP_PACKETS_COUNTER",
       "This metric represents the number of NTP packets that has traveled through this probe.",
       ntp_labels, ELEMENTSOF(ntp_labels)},
      {"ntp_mode_private_packets_total", "NTP_MODE_PRIVATE_PACKETS_COUNTER",
       "This metric represents the number of NTP packets with MODE = 7 (MODE_PRIVATE) that "
       "has traveled through this probe.",
       ntp_labels, ELEMENTSOF(ntp_labels)}},
     2},
};

static const char *const upstream_versions[] = {"v1.0", "v1.1"};

/* The code as the document holds it, read by jansson alone: dynmon must not alter it. */
static void assert_code_verbatim(const char *name, const char *version, const char *code)
{
	_cleanup_free_ char *text = read_data(name);
	_cleanup_(json_decrefp) json_t *root = json_loads(text, 0, NULL);
	json_t *doc;

	assert_non_null(root);
	doc = streq(version, "v1.0") ? root : json_object_get(root, "ingress-path");
	assert_string_equal(code, json_string_value(json_object_get(doc, "code")));
}

static void check_upstream_example(const struct upstream_example *x, const char *version)
{
	_cleanup_free_ char *name = strdup_printf("polycube/%s/%s", version, x->file);
	_cleanup_(dm_config_freep) struct dm_config *c = parse_file(name);
	const struct dm_path_config *in = &c->paths[DM_PATH_INGRESS];

	assert_true(in->present);
	assert_false(c->paths[DM_PATH_EGRESS].present);
	assert_string_equal(in->name, x->probe);
	assert_non_null(strstr(in->code, x->code_excerpt));
	assert_code_verbatim(name, version, in->code);

	assert_int_equal(in->n_metrics, x->n_metrics);
	for (size_t i = 0; i < x->n_metrics; i++) {
		const struct dm_metric_config *m = &in->metrics[i];
		const struct metric_expectation *want = &x->metrics[i];

		assert_string_equal(m->name, want->name);
		assert_string_equal(m->map_name, want->map_name);
		assert_false(m->empty_on_read);
		assert_false(m->swap_on_read);
		assert_true(m->open_metrics);
		assert_int_equal(m->type, DM_METRIC_COUNTER);
		assert_string_equal(m->help, want->help);
		assert_int_equal(m->n_labels, want->n_labels);
		for (size_t j = 0; j < want->n_labels; j++) {
			assert_string_equal(m->labels[j].name, want->labels[j].name);
			assert_string_equal(m->labels[j].value, want->labels[j].value);
		}
	}
}

static void test_upstream_examples_parse(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(upstream_examples); i++)
		for (size_t v = 0; v < ELEMENTSOF(upstream_versions); v++)
			check_upstream_example(&upstream_examples[i], upstream_versions[v]);
}

/* v1.0's single program is v1.1's ingress path: the two upstream versions of an example are
 * the same configuration. */
static void test_v10_is_the_ingress_path(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(upstream_examples); i++) {
		_cleanup_free_ char *old =
		    strdup_printf("polycube/v1.0/%s", upstream_examples[i].file);
		_cleanup_free_ char *new =
		    strdup_printf("polycube/v1.1/%s", upstream_examples[i].file);
		_cleanup_(dm_config_freep) struct dm_config *a = parse_file(old);
		_cleanup_(dm_config_freep) struct dm_config *b = parse_file(new);

		assert_config_equal(a, b);
	}
}

/* ---- what else is accepted */

static void test_both_paths(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c = parse_file("config/both-paths.json");
	const struct dm_path_config *in = &c->paths[DM_PATH_INGRESS];
	const struct dm_path_config *out = &c->paths[DM_PATH_EGRESS];

	assert_true(in->present);
	assert_string_equal(in->name, "ingress counters");
	assert_non_null(strstr(in->code, "\treturn RX_OK; /* \"quoted\" */\r\n"));
	assert_int_equal(in->n_metrics, 3);

	assert_string_equal(in->metrics[0].name, "packets");
	assert_string_equal(in->metrics[0].map_name, "PKTS");
	assert_true(in->metrics[0].empty_on_read);
	assert_false(in->metrics[0].swap_on_read);
	assert_true(in->metrics[0].open_metrics);
	assert_int_equal(in->metrics[0].type, DM_METRIC_GAUGE);
	assert_string_equal(in->metrics[0].help, "Packets seen on the way \"in\" \xe2\x9c\x93");
	assert_int_equal(in->metrics[0].n_labels, 2);
	assert_string_equal(in->metrics[0].labels[0].name, "direction");
	assert_string_equal(in->metrics[0].labels[0].value, "in");
	assert_string_equal(in->metrics[0].labels[1].name, "hook");
	assert_string_equal(in->metrics[0].labels[1].value, "");

	/* Both extraction options at once: the swapped-out side is emptied after it is read. */
	assert_true(in->metrics[1].empty_on_read);
	assert_true(in->metrics[1].swap_on_read);
	assert_int_equal(in->metrics[1].type, DM_METRIC_HISTOGRAM);
	assert_string_equal(in->metrics[1].help, "");
	assert_int_equal(in->metrics[1].n_labels, 0);

	/* No open-metrics-metadata: JSON metrics only. */
	assert_string_equal(in->metrics[2].map_name, "FLOWS");
	assert_false(in->metrics[2].open_metrics);

	assert_true(out->present);
	assert_string_equal(out->name, "");
	assert_string_equal(out->code, "BPF_ARRAY(DNS_Q, u64, 1);");
	assert_int_equal(out->n_metrics, 1);
	assert_string_equal(out->metrics[0].name, "dns:queries_total");
	assert_false(out->metrics[0].empty_on_read);
	assert_true(out->metrics[0].swap_on_read);
	assert_int_equal(out->metrics[0].type, DM_METRIC_COUNTER);
}

static void test_empty_documents_mean_no_probe(void **state)
{
	static const char *const docs[] = {
	    "{}",
	    "{'ingress-path': {}}",
	    "{'egress-path': {}}",
	    "{'ingress-path': {}, 'egress-path': {}}",
	};

	for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
		_cleanup_(dm_config_freep) struct dm_config *c = parse_dq(docs[i]);

		assert_false(c->paths[DM_PATH_INGRESS].present);
		assert_false(c->paths[DM_PATH_EGRESS].present);
	}
}

static void test_optional_fields(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c = parse_dq(
	    "{'egress-path': {'code': 'x', 'metric-configs': [{'name': 'a', 'map-name': 'A'},"
	    " {'name': 'b', 'map-name': 'B', 'extraction-options': {},"
	    "  'open-metrics-metadata': {'type': 'summary'}}]}}");
	const struct dm_path_config *out = &c->paths[DM_PATH_EGRESS];
	_cleanup_(dm_config_freep) struct dm_config *bare = parse_dq("{'code': 'x'}");

	assert_false(c->paths[DM_PATH_INGRESS].present);
	assert_true(out->present);
	assert_string_equal(out->name, "");
	assert_int_equal(out->n_metrics, 2);
	assert_false(out->metrics[0].open_metrics);
	assert_false(out->metrics[0].empty_on_read);
	assert_false(out->metrics[1].swap_on_read);
	assert_true(out->metrics[1].open_metrics);
	assert_int_equal(out->metrics[1].type, DM_METRIC_SUMMARY);
	assert_string_equal(out->metrics[1].help, "");
	assert_int_equal(out->metrics[1].n_labels, 0);

	/* v1.0 with nothing but code: an ingress program without metrics. */
	assert_true(bare->paths[DM_PATH_INGRESS].present);
	assert_string_equal(bare->paths[DM_PATH_INGRESS].name, "");
	assert_string_equal(bare->paths[DM_PATH_INGRESS].code, "x");
	assert_int_equal(bare->paths[DM_PATH_INGRESS].n_metrics, 0);
	assert_false(bare->paths[DM_PATH_EGRESS].present);
}

/* The same metric name may be used once per path. */
static void test_metric_names_are_per_path(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c = parse_dq(
	    "{'ingress-path': {'code': 'x', 'metric-configs': [{'name': 'n', 'map-name': 'A'}]},"
	    " 'egress-path': {'code': 'y', 'metric-configs': [{'name': 'n', 'map-name': 'B'}]}}");

	assert_string_equal(c->paths[DM_PATH_INGRESS].metrics[0].name, "n");
	assert_string_equal(c->paths[DM_PATH_EGRESS].metrics[0].name, "n");
}

/* ---- the normalized form */

static void check_round_trip(const struct dm_config *c)
{
	_cleanup_(json_decrefp) json_t *j1 = dm_config_to_json(c), *j2 = NULL;
	_cleanup_(dm_config_freep) struct dm_config *again = NULL;
	_cleanup_free_ char *text = NULL;

	assert_non_null(j1);
	text = json_dumps(j1, 0);
	assert_non_null(text);
	again = parse_ok(text);
	assert_config_equal(c, again);
	j2 = dm_config_to_json(again);
	assert_true(json_equal(j1, j2));
}

static void test_round_trip(void **state)
{
	static const char *const docs[] = {
	    "{}",
	    "{'code': 'x'}",
	    "{'egress-path': {'name': 'only egress', 'code': 'x'}}",
	};

	for (size_t i = 0; i < ELEMENTSOF(upstream_examples); i++)
		for (size_t v = 0; v < ELEMENTSOF(upstream_versions); v++) {
			_cleanup_free_ char *name = strdup_printf(
			    "polycube/%s/%s", upstream_versions[v], upstream_examples[i].file);
			_cleanup_(dm_config_freep) struct dm_config *c = parse_file(name);

			check_round_trip(c);
		}
	for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
		_cleanup_(dm_config_freep) struct dm_config *c = parse_dq(docs[i]);

		check_round_trip(c);
	}
	_cleanup_(dm_config_freep) struct dm_config *c = parse_file("config/both-paths.json");
	check_round_trip(c);
}

static void assert_json_equal_dq(json_t *got, const char *doc)
{
	_cleanup_free_ char *text = dq(doc), *dump = NULL;
	_cleanup_(json_decrefp) json_t *want = json_loads(text, 0, NULL);

	assert_non_null(got);
	assert_non_null(want);
	if (!json_equal(got, want)) {
		dump = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("got %s\nwanted %s", dump, text);
	}
}

static void test_normalized_form(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c = parse_dq(
	    "{'code': 'x', 'metrics': [{'name': 'a', 'map-name': 'A', 'extraction-options':"
	    " {'network-byte-order': true}},"
	    " {'name': 'b', 'map-name': 'B', 'extraction-options': {'swap-on-read': true},"
	    "  'open-metrics-metadata': {'type': 'gauge', 'labels': [{'name': 'l', "
	    "'value': 'v'}]}}]}");
	_cleanup_(json_decrefp) json_t *j = dm_config_to_json(c);

	assert_json_equal_dq(
	    j, "{'ingress-path': {'name': '', 'code': 'x', 'metric-configs': ["
	       "   {'name': 'a', 'map-name': 'A',"
	       "    'extraction-options': {'empty-on-read': false, 'swap-on-read': false,"
	       "                           'network-byte-order': true}},"
	       "   {'name': 'b', 'map-name': 'B',"
	       "    'extraction-options': {'empty-on-read': false, 'swap-on-read': true},"
	       "    'open-metrics-metadata': {'help': '', 'type': 'gauge',"
	       "                              'labels': [{'name': 'l', 'value': 'v'}]}}]},"
	       " 'egress-path': {}}");
}

static void test_normalized_empty(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c = parse_dq("{}");
	_cleanup_(json_decrefp) json_t *j = dm_config_to_json(c);

	assert_json_equal_dq(j, "{'ingress-path': {}, 'egress-path': {}}");
}

/* ---- what dynmon adds to open-metrics-metadata */

static const char extended_doc[] =
    "{'code': 'x', 'metrics': ["
    " {'name': 'flow', 'map-name': 'FLOWS', 'open-metrics-metadata': {'type': 'counter',"
    "  'unit': 'bytes', 'value-fields': ['bytes', 'hdr.len'], 'per-cpu': 'label',"
    "  'max-series': 50, 'top-k': 10, 'top-k-by': 'hdr.len',"
    "  'key-labels': [{'field': 'saddr', 'label': 'source', 'decoder': 'ipv4'},"
    "                 {'field': 'hdr.proto'},"
    "                 {'field': 'state', 'decoder': 'map', 'map': {'1': 'open', '-1': 'gone',"
    "                  '0x10': 'closed'}}]}},"
    " {'name': 'sizes', 'map-name': 'SIZES', 'open-metrics-metadata': {'type': 'histogram',"
    "  'histogram': {'layout': 'explicit', 'bounds': [63, 127.5], 'sum-field': 'sum',"
    "  'count-field': 'n', 'bucket-field': 'slot'}}},"
    " {'name': 'lat', 'map-name': 'LAT', 'open-metrics-metadata': {'type': 'histogram',"
    "  'histogram': {'layout': 'linear', 'start': -5, 'width': 10, 'buckets': 12,"
    "  'buckets-field': 'slots'}}},"
    " {'name': 'bcc', 'map-name': 'BCC', 'open-metrics-metadata': {'type': 'histogram',"
    "  'histogram': {'layout': 'log2', 'offset': 1}}},"
    " {'name': 'rtt', 'map-name': 'RTT', 'open-metrics-metadata': {'type': 'summary',"
    "  'summary': {'count-field': 'n', 'quantiles': [{'quantile': 0.5, 'field': 'median'},"
    "  {'quantile': 1, 'field': 'max'}]}}},"
    " {'name': 'rtt2', 'map-name': 'RTT', 'open-metrics-metadata': {'type': 'summary'}}]}";

static void test_extensions(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c = parse_dq(extended_doc);
	const struct dm_metric_config *m = c->paths[DM_PATH_INGRESS].metrics;
	const struct dm_histogram_config *h;

	assert_string_equal(m[0].unit, "bytes");
	assert_int_equal(m[0].n_value_fields, 2);
	assert_string_equal(m[0].value_fields[1], "hdr.len");
	assert_true(m[0].per_cpu_given);
	assert_int_equal(m[0].per_cpu, DM_PER_CPU_LABEL);
	assert_int_equal(m[0].n_key_labels, 3);
	assert_string_equal(m[0].key_labels[0].field, "saddr");
	assert_string_equal(m[0].key_labels[0].label, "source");
	assert_int_equal(m[0].key_labels[0].decoder, DM_DECODER_IPV4);
	assert_null(m[0].key_labels[1].label);
	assert_int_equal(m[0].key_labels[1].decoder, DM_DECODER_AUTO);
	assert_int_equal(m[0].key_labels[2].decoder, DM_DECODER_MAP);
	assert_int_equal(m[0].key_labels[2].n_map, 3);
	assert_int_equal(m[0].key_labels[2].map[1].value, (uint64_t)-1);
	assert_string_equal(m[0].key_labels[2].map[1].name, "gone");
	assert_int_equal(m[0].key_labels[2].map[2].value, 16);
	assert_null(m[0].histogram);
	assert_null(m[0].summary);

	h = m[1].histogram;
	assert_non_null(h);
	assert_int_equal(h->layout, DM_HISTOGRAM_EXPLICIT);
	assert_int_equal(h->n_bounds, 2);
	assert_true(h->bounds[1] == 127.5);
	assert_string_equal(h->sum_field, "sum");
	assert_string_equal(h->count_field, "n");
	assert_string_equal(h->bucket_field, "slot");
	assert_null(h->buckets_field);

	h = m[2].histogram;
	assert_int_equal(h->layout, DM_HISTOGRAM_LINEAR);
	assert_int_equal(h->start, -5);
	assert_int_equal(h->width, 10);
	assert_int_equal(h->n_buckets, 12);
	assert_string_equal(h->buckets_field, "slots");
	assert_int_equal(m[3].histogram->offset, 1);

	assert_non_null(m[4].summary);
	assert_string_equal(m[4].summary->count_field, "n");
	assert_null(m[4].summary->sum_field);
	assert_true(m[4].summary->quantiles_given);
	assert_int_equal(m[4].summary->n_quantiles, 2);
	assert_true(m[4].summary->quantiles[1].quantile == 1);
	assert_string_equal(m[4].summary->quantiles[1].field, "max");
	assert_null(m[5].summary); /* defaults: count, sum, pNN */
	assert_false(m[5].per_cpu_given);
	assert_true(m[0].max_series_given);
	assert_int_equal(m[0].max_series, 50);
	assert_int_equal(m[0].top_k, 10);
	assert_string_equal(m[0].top_k_by, "hdr.len");
	assert_false(m[1].max_series_given); /* the default budget applies */
	assert_int_equal(m[1].top_k, 0);
}

/* The normalized form has what was given, nothing more: a document without dynmon's members
 * reads as upstream's (test_normalized_form), one with them keeps them. */
static void test_extensions_normalized(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c = parse_dq(extended_doc);
	_cleanup_(json_decrefp) json_t *j = dm_config_to_json(c);
	json_t *metrics = json_object_get(json_object_get(j, "ingress-path"), "metric-configs");

	assert_json_equal_dq(
	    json_object_get(json_array_get(metrics, 0), "open-metrics-metadata"),
	    "{'help': '', 'type': 'counter', 'labels': [], 'unit': 'bytes',"
	    " 'key-labels': [{'field': 'saddr', 'label': 'source', 'decoder': 'ipv4'},"
	    "  {'field': 'hdr.proto'},"
	    "  {'field': 'state', 'decoder': 'map', 'map': {'1': 'open', '-1': 'gone', '16':"
	    "   'closed'}}],"
	    " 'value-fields': ['bytes', 'hdr.len'], 'per-cpu': 'label', 'max-series': 50,"
	    " 'top-k': 10, 'top-k-by': 'hdr.len'}");
	assert_json_equal_dq(
	    json_object_get(json_object_get(json_array_get(metrics, 1), "open-metrics-metadata"),
			    "histogram"),
	    "{'layout': 'explicit', 'bounds': [63.0, 127.5], 'bucket-field': 'slot',"
	    " 'count-field': 'n', 'sum-field': 'sum'}");
	assert_json_equal_dq(
	    json_object_get(json_object_get(json_array_get(metrics, 2), "open-metrics-metadata"),
			    "histogram"),
	    "{'layout': 'linear', 'buckets': 12, 'start': -5, 'width': 10, 'buckets-field':"
	    " 'slots'}");
	assert_json_equal_dq(
	    json_object_get(json_object_get(json_array_get(metrics, 3), "open-metrics-metadata"),
			    "histogram"),
	    "{'layout': 'log2', 'offset': 1}");
	assert_json_equal_dq(
	    json_object_get(json_object_get(json_array_get(metrics, 4), "open-metrics-metadata"),
			    "summary"),
	    "{'count-field': 'n', 'quantiles': [{'quantile': 0.5, 'field': 'median'},"
	    " {'quantile': 1.0, 'field': 'max'}]}");
	assert_null(json_object_get(
	    json_object_get(json_array_get(metrics, 5), "open-metrics-metadata"), "summary"));
	check_round_trip(c);
}

/* ---- what is rejected, and what the operator is told */

#define IN(metric) "{'ingress-path': {'code': 'c', 'metric-configs': [" metric "]}}"
#define METRIC(extra) IN("{'name': 'm', 'map-name': 'M'" extra "}")
#define META(meta) METRIC(", 'open-metrics-metadata': " meta)
#define LABELS(labels) META("{'type': 'counter', 'labels': [" labels "]}")
#define OPTIONS(options) METRIC(", 'extraction-options': " options)
#define KEYS(keys) META("{'type': 'gauge', 'key-labels': [" keys "]}")
#define HIST(h) META("{'type': 'histogram', 'histogram': " h "}")
#define SUMMARY(s) META("{'type': 'summary', 'summary': " s "}")

/* "\x7fELF" is the object, "int x;" its code. */
#define ELF_SHA "3bdbb4fe8397cd2b842430b39ccff01a8663c751945ef5e9a09e267fb8b1d359"
#define CODE_SHA "e13e332bd08e13cbe2aee094e130ed23878b3b554be5b9a665a83e63caa987ae"
#define GOOD_OBJECT                                                                                \
	"'elf-base64': 'f0VMRg==', 'sha256': '" ELF_SHA "', 'source-sha256': '" CODE_SHA "'"
#define OBJECT(members) "{'ingress-path': {'code': 'int x;', 'object': {" members "}}}"

static const struct bad_case {
	const char *doc;
	const char *message; /* a part of the error message */
} bad_cases[] = {
    /* not a JSON object */
    {"{'ingress-path': }", "invalid JSON at line 1, column 18: "},
    {"{'ingress-path': {}}\n{}", "invalid JSON at line 2"},
    {"", "invalid JSON at line 1"},
    {"'ingress-path'", "invalid JSON"},
    {"[{'code': 'x'}]", "the configuration must be a JSON object, got an array"},
    {"{'code': 'a', 'code': 'b'}", "duplicate object key"},
    {"{'code': '\\u0000'}", "invalid JSON"},

    /* telling the formats apart */
    {"{'code': 'x', 'ingress-path': {}}",
     "code: v1.0 field mixed with v1.1 field \"ingress-path\""},
    {"{'egress-path': {}, 'metrics': []}", "metrics: v1.0 field mixed with v1.1 field"},
    {"{'program': 'x'}", "program: unknown field (expected ingress-path or egress-path)"},

    /* unknown fields, wherever they are */
    {"{'ingress-path': {}, 'colour': 'red'}", "colour: unknown field"},
    {"{'ingress-path': {'code': 'c', 'the code': 'd'}}",
     "ingress-path.\"the code\": unknown field"},
    {"{'': 1}", "\"\": unknown field"},
    {"{'ingress-path': {'code': 'c', 'metrics': []}}",
     "ingress-path.metrics: unknown field (expected name, code, object or metric-configs)"},
    {"{'code': 'c', 'metric-configs': []}",
     "metric-configs: unknown field (expected name, code, object or metrics)"},

    /* a precompiled object (docs/OBJECTS.md): its shape; whether it fits is checked later */
    {OBJECT(GOOD_OBJECT ", 'elf': 'x'"),
     "ingress-path.object.elf: unknown field (expected elf-base64, sha256, source-sha256, hook, "
     "log-level, compiler, headers or signature)"},
    {OBJECT("'sha256': '" ELF_SHA "', 'source-sha256': '" CODE_SHA "'"),
     "ingress-path.object.elf-base64"},
    {OBJECT("'elf-base64': 'f0VMRg==', 'sha256': 'ABC', 'source-sha256': '" CODE_SHA "'"),
     "ingress-path.object.sha256: expected 64 lower-case hex digits"},
    {OBJECT("'elf-base64': 'f0VMRg=', 'sha256': '" ELF_SHA "', 'source-sha256': '" CODE_SHA "'"),
     "ingress-path.object.elf-base64: not valid base64"},
    {OBJECT(GOOD_OBJECT ", 'hook': 'xdp_drv'"), "ingress-path.object.hook"},
    {OBJECT(GOOD_OBJECT ", 'log-level': 9"), "ingress-path.object.log-level"},
    {OBJECT(GOOD_OBJECT ", 'signature': {'key-id': '0123456789abcdef', 'ed25519': 'AAAA'}"),
     "ingress-path.object.signature.ed25519: expected an Ed25519 signature (64 bytes) in base64"},
    {OBJECT(GOOD_OBJECT ", 'signature': {'key-id': 'k', 'ed25519': 'AAAA', 'by': 'me'}"),
     "ingress-path.object.signature.by: unknown field (expected key-id or ed25519)"},
    {"{'code': 'int x;', 'object': []}", "object: expected an object, got an array"},
    {METRIC(", 'map': 'X'"), "ingress-path.metric-configs[0].map: unknown field (expected name, "
			     "map-name, extraction-options or open-metrics-metadata)"},
    {OPTIONS("{'empty_on_read': true}"),
     "metric-configs[0].extraction-options.empty_on_read: unknown field (expected "
     "empty-on-read, swap-on-read or network-byte-order)"},
    {OPTIONS("{'network-byte-order': 1}"),
     "extraction-options.network-byte-order: expected a boolean, got an integer"},
    {META("{'type': 'gauge', 'units': 'bytes'}"),
     "open-metrics-metadata.units: unknown field (expected help, type, labels, unit, "
     "key-labels, value-fields, per-cpu, histogram, summary, max-series, top-k or top-k-by)"},
    {LABELS("{'name': 'a', 'value': 'b', 'help': 'c'}"),
     "open-metrics-metadata.labels[0].help: unknown field (expected name or value)"},

    /* wrong JSON types */
    {"{'ingress-path': []}", "ingress-path: expected an object, got an array"},
    {"{'egress-path': null}", "egress-path: expected an object, got null"},
    {"{'ingress-path': {'name': 3, 'code': 'c'}}",
     "ingress-path.name: expected a string, got an integer"},
    {"{'code': ['x']}", "code: expected a string, got an array"},
    {"{'ingress-path': {'code': 'c', 'metric-configs': {}}}",
     "ingress-path.metric-configs: expected an array, got an object"},
    {IN("'m'"), "ingress-path.metric-configs[0]: expected an object, got a string"},
    {"{'ingress-path': {'code': 'c', 'metric-configs': [{'name': 1.5, 'map-name': 'M'}]}}",
     "metric-configs[0].name: expected a string, got a number"},
    {OPTIONS("true"), "metric-configs[0].extraction-options: expected an object, got a boolean"},
    {OPTIONS("{'empty-on-read': 1}"),
     "extraction-options.empty-on-read: expected a boolean, got an integer"},
    {OPTIONS("{'swap-on-read': 'true'}"),
     "extraction-options.swap-on-read: expected a boolean, got a string"},
    {META("null"), "metric-configs[0].open-metrics-metadata: expected an object, got null"},
    {META("{'type': 'gauge', 'help': false}"),
     "open-metrics-metadata.help: expected a string, got a boolean"},
    {META("{'type': 1}"), "open-metrics-metadata.type: expected a string, got an integer"},
    {META("{'type': 'gauge', 'labels': {'a': 'b'}}"),
     "open-metrics-metadata.labels: expected an array, got an object"},
    {LABELS("['a', 'b']"), "labels[0]: expected an object, got an array"},
    {LABELS("{'name': 'a', 'value': 7}"), "labels[0].value: expected a string, got an integer"},

    /* required fields */
    {"{'ingress-path': {'name': 'x'}}", "ingress-path.code: required field missing"},
    {"{'ingress-path': {'code': ''}}", "ingress-path.code: must not be empty"},
    {"{'name': 'x', 'metrics': []}", "code: required field missing"},
    {"{'egress-path': {'metric-configs': []}}", "egress-path.code: required field missing"},
    {IN("{'map-name': 'M'}"), "ingress-path.metric-configs[0].name: required field missing"},
    {IN("{'name': 'm'}"), "ingress-path.metric-configs[0].map-name: required field missing"},
    {META("{'help': 'h'}"), "open-metrics-metadata.type: required field missing"},
    {LABELS("{'value': 'v'}"), "labels[0].name: required field missing"},
    {LABELS("{'name': 'a'}"), "labels[0].value: required field missing"},

    /* names */
    {IN("{'name': '1st', 'map-name': 'M'}"),
     "metric-configs[0].name: invalid metric name \"1st\" (must match "
     "[a-zA-Z_:][a-zA-Z0-9_:]*)"},
    {IN("{'name': 'packets-total', 'map-name': 'M'}"), "invalid metric name \"packets-total\""},
    {IN("{'name': '', 'map-name': 'M'}"), "invalid metric name \"\""},
    {IN("{'name': 'm', 'map-name': 'PKT-COUNTER'}"),
     "metric-configs[0].map-name: invalid map name \"PKT-COUNTER\" (not a C identifier)"},
    {IN("{'name': 'm', 'map-name': 'a:b'}"), "invalid map name \"a:b\""},
    {IN("{'name': 'm', 'map-name': '0x'}"), "invalid map name \"0x\""},
    {IN("{'name': 'm', 'map-name': 'A'}, {'name': 'n', 'map-name': 'B'},"
	" {'name': 'm', 'map-name': 'C'}"),
     "ingress-path.metric-configs[2].name: duplicate metric name \"m\" (also "
     "metric-configs[0])"},
    {"{'code': 'c', 'metrics': [{'name': 'm', 'map-name': 'A'}, {'name': 'm', 'map-name': 'A'}]}",
     "metrics[1].name: duplicate metric name \"m\" (also metrics[0])"},
    {LABELS("{'name': 'ip-proto', 'value': 'udp'}"),
     "labels[0].name: invalid label name \"ip-proto\" (must match [a-zA-Z_][a-zA-Z0-9_]*)"},
    {LABELS("{'name': 'a:b', 'value': 'udp'}"), "invalid label name \"a:b\""},
    {LABELS("{'name': '', 'value': 'udp'}"), "invalid label name \"\""},
    {LABELS("{'name': '__name__', 'value': 'x'}"),
     "labels[0].name: label name \"__name__\" is reserved"},
    {LABELS("{'name': 'le', 'value': '1'}"), "labels[0].name: label name \"le\" is reserved"},
    {LABELS("{'name': 'a', 'value': '1'}, {'name': 'quantile', 'value': '1'}"),
     "labels[1].name: label name \"quantile\" is reserved"},
    {LABELS("{'name': 'monitor', 'value': 'x'}"), "label name \"monitor\" is reserved"},
    {LABELS("{'name': 'L4', 'value': 'NTP'}, {'name': 'L4', 'value': 'UDP'}"),
     "open-metrics-metadata.labels[1].name: duplicate label name \"L4\" (also labels[0])"},

    /* metric types */
    {META("{'type': 'countr'}"),
     "ingress-path.metric-configs[0].open-metrics-metadata.type: unknown metric type "
     "\"countr\" (expected counter, gauge, histogram, summary or untyped)"},
    {META("{'type': 'Counter'}"), "unknown metric type \"Counter\""},
    {META("{'type': ''}"), "unknown metric type \"\""},

    /* what dynmon adds to open-metrics-metadata */
    {META("{'type': 'gauge', 'unit': 'kilo-bytes'}"),
     "open-metrics-metadata.unit: invalid unit \"kilo-bytes\" (must match [a-zA-Z0-9_]+)"},
    {META("{'type': 'gauge', 'unit': ''}"), "invalid unit \"\""},
    {META("{'type': 'gauge', 'unit': 1}"), "open-metrics-metadata.unit: expected a string"},
    {KEYS("{'field': 'saddr', 'decoder': 'ip4'}"),
     "open-metrics-metadata.key-labels[0].decoder: unknown decoder \"ip4\" (expected auto, "
     "number, network-order, hex, ipv4, ipv6, port, mac, ip-protocol, ifname, enum, map or "
     "string)"},
    {KEYS("{'field': 'saddr', 'decoder': 'auto'}"),
     "key-labels[0].decoder: \"auto\" is what leaving the decoder out means"},
    {KEYS("{'field': 'saddr', 'colour': 'red'}"),
     "key-labels[0].colour: unknown field (expected field, label, decoder or map)"},
    {KEYS("{'field': 'hdr..saddr'}"),
     "key-labels[0].field: invalid field \"hdr..saddr\" (C member names, joined by \".\" for "
     "nested ones)"},
    {KEYS("{'field': 'a-b'}"), "key-labels[0].field: invalid field \"a-b\""},
    {KEYS("{'field': '.a'}"), "invalid field \".a\""},
    {KEYS("{'field': 'a.'}"), "invalid field \"a.\""},
    {KEYS("{'field': 'a', 'label': 'quantile'}"),
     "key-labels[0].label: label name \"quantile\" is reserved"},
    {KEYS("{'field': 'a', 'label': 'x-y'}"), "key-labels[0].label: invalid label name"},
    {KEYS("{'field': 'a'}, {'field': 'a', 'decoder': 'hex'}"),
     "key-labels[1].field: field \"a\" given twice (also key-labels[0])"},
    {KEYS("{'label': 'k'}, {'decoder': 'hex'}"),
     "key-labels[1].field: the whole key given twice (also key-labels[0])"},
    {KEYS("{'field': 'a', 'label': 'l'}, {'field': 'b', 'label': 'l'}"),
     "key-labels[1].label: duplicate label name \"l\" (also key-labels[0])"},
    {META("{'type': 'gauge', 'labels': [{'name': 'l', 'value': 'v'}], 'key-labels': "
	  "[{'field': 'a', 'label': 'l'}]}"),
     "key-labels[0].label: label name \"l\" is one of the metric's labels already"},
    {KEYS("{'field': 'a', 'decoder': 'map'}"),
     "key-labels[0].decoder: the \"map\" decoder needs a \"map\" of values to names"},
    {KEYS("{'field': 'a', 'map': {'1': 'x'}}"),
     "key-labels[0].map: only the \"map\" decoder takes a map"},
    {KEYS("{'field': 'a', 'decoder': 'map', 'map': {}}"), "key-labels[0].map: must not be empty"},
    {KEYS("{'field': 'a', 'decoder': 'map', 'map': {'one': 'x'}}"),
     "key-labels[0].map.one: not an integer (decimal, or hexadecimal with 0x)"},
    {KEYS("{'field': 'a', 'decoder': 'map', 'map': {'1': 2}}"),
     "key-labels[0].map.1: expected a string, got an integer"},
    {KEYS("{'field': 'a', 'decoder': 'map', 'map': {'1': '7'}}"),
     "key-labels[0].map.1: \"7\" is no name (must be non-empty, not a number)"},
    {KEYS("{'field': 'a', 'decoder': 'map', 'map': {'1': ''}}"), "\"\" is no name"},
    {KEYS("{'field': 'a', 'decoder': 'map', 'map': {'1': 'x', '0x1': 'y'}}"),
     "key-labels[0].map.0x1: the same value as another key"},
    {KEYS("{'field': 'a', 'decoder': 'map', 'map': {'1': 'x', '2': 'x'}}"),
     "key-labels[0].map.2: \"x\" names another value already"},
    {META("{'type': 'gauge', 'key-labels': {}}"), "key-labels: expected an array, got an object"},
    {META("{'type': 'gauge', 'value-fields': []}"),
     "open-metrics-metadata.value-fields: must not be empty (leave it out to export every "
     "field)"},
    {META("{'type': 'gauge', 'value-fields': ['a', 'a']}"),
     "value-fields[1]: field \"a\" given twice (also value-fields[0])"},
    {META("{'type': 'gauge', 'value-fields': [3]}"),
     "value-fields[0]: expected a string, got an integer"},
    {META("{'type': 'gauge', 'value-fields': ['a b']}"), "value-fields[0]: invalid field"},
    {META("{'type': 'summary', 'value-fields': ['a']}"),
     "open-metrics-metadata.value-fields: a summary takes its fields from \"summary\""},
    {META("{'type': 'gauge', 'max-series': -1}"),
     "open-metrics-metadata.max-series: -1 is out of range (0 to 2147483647)"},
    {META("{'type': 'gauge', 'top-k': 0}"),
     "open-metrics-metadata.top-k: 0 is out of range (1 to 2147483647)"},
    {META("{'type': 'gauge', 'top-k-by': 'bytes'}"),
     "open-metrics-metadata.top-k-by: only with top-k"},
    {META("{'type': 'gauge', 'per-cpu': 'average'}"),
     "open-metrics-metadata.per-cpu: unknown per-cpu mode \"average\" (expected sum or label)"},
    {META("{'type': 'histogram'}"),
     "open-metrics-metadata.histogram: required field missing: a histogram needs its buckets "
     "described"},
    {META("{'type': 'gauge', 'histogram': {'layout': 'log2'}}"),
     "open-metrics-metadata.histogram: only a metric of type histogram takes it"},
    {META("{'type': 'counter', 'summary': {}}"),
     "open-metrics-metadata.summary: only a metric of type summary takes it"},
    {HIST("{}"), "histogram.layout: required field missing (log2, linear or explicit)"},
    {HIST("{'layout': 'exponential'}"),
     "histogram.layout: unknown layout \"exponential\" (expected log2, linear or explicit)"},
    {HIST("{'layout': 'log2', 'width': 2}"), "histogram.width: only the linear layout takes it"},
    {HIST("{'layout': 'linear'}"),
     "histogram.width: required field missing (the linear layout needs it)"},
    {HIST("{'layout': 'linear', 'width': 0}"), "histogram.width: 0 is out of range (1 to"},
    {HIST("{'layout': 'linear', 'width': 1.5}"),
     "histogram.width: expected an integer, got a number"},
    {HIST("{'layout': 'explicit'}"),
     "histogram.bounds: required field missing (the explicit layout needs it)"},
    {HIST("{'layout': 'explicit', 'bounds': []}"), "histogram.bounds: must hold 1 to 4095"},
    {HIST("{'layout': 'explicit', 'bounds': [1, 1]}"),
     "histogram.bounds[1]: bounds must be ascending, each above the last"},
    {HIST("{'layout': 'explicit', 'bounds': [1, '2']}"),
     "histogram.bounds[1]: expected a number, got a string"},
    {HIST("{'layout': 'explicit', 'bounds': [1], 'buckets': 3}"),
     "histogram.buckets: the explicit layout has one bucket per bound, and one above them"},
    {HIST("{'layout': 'log2', 'offset': 2}"), "histogram.offset: 2 is out of range (0 to 1)"},
    {HIST("{'layout': 'log2', 'buckets': 0}"), "histogram.buckets: 0 is out of range"},
    {HIST("{'layout': 'log2', 'buckets': 66}"),
     "histogram.buckets: a log2 histogram of 64-bit values has at most 65 buckets"},
    {HIST("{'layout': 'log2', 'bucket-field': 'a', 'buckets-field': 'b'}"),
     "histogram.bucket-field: either every entry is a bucket (bucket-field) or a whole "
     "histogram (buckets-field), not both"},
    {HIST("{'layout': 'log2', 'buckets-field': 'b', 'count-field': 'c'}"),
     "histogram.count-field: with buckets-field the counts are the array's elements"},
    {HIST("{'layout': 'linear', 'start': -10, 'width': 5, 'sum-field': 's'}"),
     "histogram.sum-field: a histogram with negative bucket bounds cannot have a sum "
     "(OpenMetrics)"},
    {HIST("{'layout': 'explicit', 'bounds': [-1, 1], 'sum-field': 's'}"),
     "cannot have a sum (OpenMetrics)"},
    {HIST("{'layout': 'log2', 'sum-field': 's..t'}"), "histogram.sum-field: invalid field"},
    {SUMMARY("{'count': 'n'}"),
     "summary.count: unknown field (expected count-field, sum-field or quantiles)"},
    {SUMMARY("{'quantiles': [{'quantile': 1.5, 'field': 'p'}]}"),
     "summary.quantiles[0].quantile: must be between 0 and 1"},
    {SUMMARY("{'quantiles': [{'quantile': '0.5', 'field': 'p'}]}"),
     "summary.quantiles[0].quantile: expected a number, got a string"},
    {SUMMARY("{'quantiles': [{'field': 'p'}]}"),
     "summary.quantiles[0].quantile: required field missing"},
    {SUMMARY("{'quantiles': [{'quantile': 0.5}]}"),
     "summary.quantiles[0].field: required field missing"},
    {SUMMARY("{'quantiles': [{'quantile': 0.5, 'field': 'a'}, {'quantile': 0.5, 'field': "
	     "'b'}]}"),
     "summary.quantiles[1]: the same quantile or field as quantiles[0]"},
    {IN("{'name': 'packets', 'map-name': 'A', 'open-metrics-metadata': {'type': 'counter'}},"
	"{'name': 'packets_total', 'map-name': 'B', 'open-metrics-metadata': {'type': "
	"'counter'}}"),
     "ingress-path.metric-configs[1].name: \"packets_total\" is the OpenMetrics family of "
     "metric-configs[0] too"},

    {"{'ingress-path': {'code': 'c', 'metric-configs': [{'name': 'p', 'map-name': 'A',"
     " 'open-metrics-metadata': {'type': 'counter'}}]}, 'egress-path': {'code': 'c',"
     " 'metric-configs': [{'name': 'q', 'map-name': 'A'}, {'name': 'p', 'map-name': 'C',"
     " 'open-metrics-metadata': {'type': 'gauge'}}]}}",
     "egress-path.metric-configs[1].open-metrics-metadata: \"p\" is a gauge, and the same "
     "family is a counter on the ingress path (ingress-path.metric-configs[0])"},

    /* the place names the right path */
    {"{'ingress-path': {}, 'egress-path': {'code': 'c', 'metric-configs': [{'name': 'm', "
     "'map-name': 'M', 'open-metrics-metadata': {'type': 'gauge', 'labels': [{'name': 'le', "
     "'value': '1'}]}}]}}",
     "egress-path.metric-configs[0].open-metrics-metadata.labels[0].name: label name"},
};

static void check_bad_case(const struct bad_case *t)
{
	static struct dm_config untouched;
	_cleanup_free_ char *text = dq(t->doc);
	struct dm_config *c = &untouched;
	dm_error e = DM_ERROR_NULL;
	int r;

	r = dm_config_parse(text, &c, &e);
	if (r != -EBADMSG)
		fail_msg("%s: got %d (%s), wanted -EBADMSG", text, r, strempty(e.message));
	assert_ptr_equal(c, &untouched);
	assert_non_null(e.message);
	if (!strstr(e.message, t->message))
		fail_msg("%s:\n got message   \"%s\"\n wanted a part \"%s\"", text, e.message,
			 t->message);
	dm_error_done(&e);
}

static void test_bad_configs(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++)
		check_bad_case(&bad_cases[i]);
}

/* The example the contract gives, word for word. */
static void test_error_message_in_full(void **state)
{
	_cleanup_free_ char *text = dq(IN("{'name': 'a', 'map-name': 'A'}, {'name': 'b', "
					  "'map-name': 'B', 'open-metrics-metadata': {'type': "
					  "'countr'}}"));
	struct dm_config *c = NULL;
	dm_error e = DM_ERROR_NULL;

	assert_int_equal(dm_config_parse(text, &c, &e), -EBADMSG);
	assert_string_equal(
	    e.message, "ingress-path.metric-configs[1].open-metrics-metadata.type: unknown metric "
		       "type \"countr\" (expected counter, gauge, histogram, summary or untyped)");
	assert_null(c);
	dm_error_done(&e);
}

static void test_from_json_rejects(void **state)
{
	_cleanup_(json_decrefp) json_t *number = json_integer(1), *nul = NULL;
	struct dm_config *c = NULL;
	dm_error e = DM_ERROR_NULL;

	assert_int_equal(dm_config_from_json(NULL, &c, &e), -EBADMSG);
	assert_string_equal(e.message, "the configuration must be a JSON object, got nothing");
	dm_error_done(&e);

	assert_int_equal(dm_config_from_json(number, &c, &e), -EBADMSG);
	assert_string_equal(e.message, "the configuration must be a JSON object, got an integer");
	dm_error_done(&e);

	/* jansson's text parser refuses NULs, but a tree built in C may hold them. */
	nul = json_pack("{s:{s:o}}", "ingress-path", "code", json_stringn("a\0b", 3));
	assert_non_null(nul);
	assert_int_equal(dm_config_from_json(nul, &c, &e), -EBADMSG);
	assert_string_equal(e.message, "ingress-path.code: contains a NUL character");
	dm_error_done(&e);
	assert_null(c);

	/* NULL errors are fine: only the return value tells then. */
	assert_int_equal(dm_config_parse("[]", &c, NULL), -EBADMSG);
	assert_null(c);
}

/* Every door's bound (D-Bus would carry 128 MiB): 1 MiB passes on to parsing, a byte more not. */
static void test_parse_size_bound(void **state)
{
	size_t n = DM_CONFIG_TEXT_MAX;
	_cleanup_free_ char *text = malloc(n + 2);
	struct dm_config *c = NULL;
	dm_error e = DM_ERROR_NULL;

	assert_non_null(text);
	memset(text, ' ', n + 1);
	memcpy(text + n - 2, "[]", 3); /* exactly n bytes: parsed, and refused as not an object */
	assert_int_equal(dm_config_parse(text, &c, &e), -EBADMSG);
	dm_error_done(&e);

	memcpy(text + n - 1, "[]", 3); /* n + 1 bytes */
	assert_int_equal(dm_config_parse(text, &c, &e), -EFBIG);
	assert_string_equal(e.message, "the configuration is larger than 1048576 bytes");
	dm_error_done(&e);
	assert_null(c);
}

/* ---- names and types */

static const struct name_case {
	const char *name;
	bool metric, label;
} name_cases[] = {
    {"packets_total", true, true}, {"IP_PROTO", true, true},
    {"_x9", true, true},	   {"a", true, true},
    {"ns:packets", true, false},   {":x", true, false},
    {"9lives", false, false},	   {"", false, false},
    {"a-b", false, false},	   {"a.b", false, false},
    {"a b", false, false},	   {"caf\xc3\xa9", false, false},
};

static void test_name_validity(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(name_cases); i++) {
		const struct name_case *t = &name_cases[i];

		if (dm_metric_name_is_valid(t->name) != t->metric)
			fail_msg("metric name \"%s\" should be %s", t->name,
				 t->metric ? "valid" : "invalid");
		if (dm_label_name_is_valid(t->name) != t->label)
			fail_msg("label name \"%s\" should be %s", t->name,
				 t->label ? "valid" : "invalid");
	}
	assert_false(dm_metric_name_is_valid(NULL));
	assert_false(dm_label_name_is_valid(NULL));
}

static void test_type_and_path_names(void **state)
{
	static const char *const types[] = {
	    [DM_METRIC_COUNTER] = "counter",	 [DM_METRIC_GAUGE] = "gauge",
	    [DM_METRIC_HISTOGRAM] = "histogram", [DM_METRIC_SUMMARY] = "summary",
	    [DM_METRIC_UNTYPED] = "untyped",
	};

	assert_int_equal(ELEMENTSOF(types), _DM_METRIC_TYPE_MAX);
	for (int t = 0; t < _DM_METRIC_TYPE_MAX; t++) {
		assert_string_equal(dm_metric_type_to_string(t), types[t]);
		assert_int_equal(dm_metric_type_from_string(types[t]), t);
	}
	assert_null(dm_metric_type_to_string(_DM_METRIC_TYPE_MAX));
	assert_int_equal(dm_metric_type_from_string("Counter"), -EINVAL);
	assert_int_equal(dm_metric_type_from_string("info"), -EINVAL);
	assert_int_equal(dm_metric_type_from_string(""), -EINVAL);
	assert_int_equal(dm_metric_type_from_string(NULL), -EINVAL);

	assert_string_equal(dm_path_to_string(DM_PATH_INGRESS), "ingress");
	assert_string_equal(dm_path_to_string(DM_PATH_EGRESS), "egress");
	assert_null(dm_path_to_string(_DM_PATH_MAX));
}

/* An object is parsed, kept through the normalized form, and checked against its code. */
static void test_object(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c = parse_dq(OBJECT(
	    GOOD_OBJECT ", 'hook': 'xdp', 'log-level': 3, 'compiler': 'clang 14', 'headers': 'h',"
			" 'signature': {'key-id': '0123456789abcdef', 'ed25519': "
			"'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			"AAAAAAAAAAAAAAAAAAAAAA=='}"));
	const struct dm_object *o = c->paths[DM_PATH_INGRESS].object;
	dm_error e = DM_ERROR_NULL;

	assert_non_null(o);
	assert_int_equal(o->size, 4);
	assert_memory_equal(o->elf,
			    "\x7f"
			    "ELF",
			    4);
	assert_int_equal(o->hook, DM_HOOK_XDP);
	assert_int_equal(o->log_level, 3);
	assert_string_equal(o->key_id, "0123456789abcdef");
	assert_int_equal(o->signature_size, 64);
	check_round_trip(c);

	assert_int_equal(dm_object_check(o, "int x;", &e), 0);
	assert_int_equal(dm_object_check(o, "int y;", &e), -EILSEQ);
	assert_non_null(strstr(e.message, "source-sha256 is " CODE_SHA));
	dm_error_done(&e);
	((char *)o->elf)[1] = 'e';
	assert_int_equal(dm_object_check(o, "int x;", &e), -EILSEQ);
	assert_non_null(strstr(e.message, "The object is damaged"));
	dm_error_done(&e);
}

static void test_free_null(void **state)
{
	dm_config_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_upstream_examples_parse),
	    cmocka_unit_test(test_v10_is_the_ingress_path),
	    cmocka_unit_test(test_both_paths),
	    cmocka_unit_test(test_empty_documents_mean_no_probe),
	    cmocka_unit_test(test_optional_fields),
	    cmocka_unit_test(test_metric_names_are_per_path),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_object),
	    cmocka_unit_test(test_normalized_form),
	    cmocka_unit_test(test_normalized_empty),
	    cmocka_unit_test(test_extensions),
	    cmocka_unit_test(test_extensions_normalized),
	    cmocka_unit_test(test_bad_configs),
	    cmocka_unit_test(test_error_message_in_full),
	    cmocka_unit_test(test_from_json_rejects),
	    cmocka_unit_test(test_parse_size_bound),
	    cmocka_unit_test(test_name_validity),
	    cmocka_unit_test(test_type_and_path_names),
	    cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
