/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing is strict on purpose: an operator who misspells a field must hear about it at
 * injection time, not find out later that a metric silently went missing. Every error names
 * the place in the document it is about. */
#include <ctype.h>
#include <inttypes.h>

#include "bounds.h"
#include "config-check.h"
#include "object.h"
#include "config.h"

/* The members each object may have: anything else is an error. */
static const char *const v10_members[] = {"name", "code", "object", "metrics", NULL};
static const char *const v11_members[] = {"ingress-path", "egress-path", NULL};
static const char *const metric_members[] = {"name", "map-name", "extraction-options",
					     "open-metrics-metadata", NULL};
static const char *const extraction_members[] = {"empty-on-read", "swap-on-read",
						 "network-byte-order", NULL};
static const char *const metadata_members[] = {"help",	     "type",	     "labels",	"unit",
					       "key-labels", "value-fields", "per-cpu", "histogram",
					       "summary",    "max-series",   "top-k",	"top-k-by",
					       NULL};
static const char *const label_members[] = {"name", "value", NULL};
static const char *const key_label_members[] = {"field", "label", "decoder", "map", NULL};
static const char *const histogram_members[] = {
    "layout",	    "buckets",	     "offset",	    "start",	 "width", "bounds",
    "bucket-field", "buckets-field", "count-field", "sum-field", NULL};
static const char *const summary_members[] = {"count-field", "sum-field", "quantiles", NULL};
static const char *const quantile_members[] = {"quantile", "field", NULL};

/* Histograms wider than this are a configuration mistake, not a histogram. */
#define MAX_BUCKETS 4096

/* ---- parsing: each parse_*() fills a zeroed structure; dm_config_free() copes with a
 * half-filled one, so that on error the caller only has to drop the whole configuration. */

static int parse_label(json_t *v, const struct cfg_place *at, struct dm_label *l, dm_error *e)
{
	const char *name, *value;
	int r;

	r = cfg_expect_kind(v, at, KIND_OBJECT, e);
	if (r >= 0)
		r = cfg_check_members(v, at, label_members, e);
	if (r >= 0)
		r = cfg_get_string(v, at, "name", true, NULL, &name, e);
	if (r >= 0)
		r = cfg_check_label_name(name, MEMBER(at, "name"), e);
	if (r >= 0)
		r = cfg_get_string(v, at, "value", true, NULL, &value, e);
	if (r >= 0)
		r = cfg_dup_string(name, &l->name, e);
	if (r >= 0)
		r = cfg_dup_string(value, &l->value, e);
	return r;
}

static int parse_labels(json_t *meta, const struct cfg_place *at, struct dm_metric_config *m,
			dm_error *e)
{
	const struct cfg_place *here = MEMBER(at, "labels");
	json_t *a = NULL, *v;
	size_t i;
	int r;

	r = cfg_get_member(meta, at, "labels", KIND_ARRAY, false, &a, e);
	if (r < 0 || !a || json_array_size(a) == 0)
		return r;
	m->labels = calloc(json_array_size(a), sizeof(*m->labels));
	if (!m->labels)
		return dm_error_oom(e);
	m->n_labels = json_array_size(a);

	json_array_foreach (a, i, v) {
		const struct cfg_place *label = ELEMENT(here, i);

		r = parse_label(v, label, &m->labels[i], e);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (streq(m->labels[j].name, m->labels[i].name))
				return cfg_bad(e, MEMBER(label, "name"),
					       "duplicate label name \"%s\" (also labels[%zu])",
					       m->labels[i].name, j);
	}
	return 0;
}

/* ---- what dynmon adds to open-metrics-metadata (docs/OPENMETRICS.md) */

static bool parse_map_key(const char *s, uint64_t *ret)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	if (*s == '-')
		*ret = (uint64_t)strtoll(s, &end, 0);
	else
		*ret = strtoull(s, &end, 0);
	return errno == 0 && *end == '\0';
}

static bool is_decimal(const char *s)
{
	s += *s == '-';
	return *s && strspn(s, "0123456789") == strlen(s);
}

static int parse_value_map(json_t *o, const struct cfg_place *at, struct dm_key_label *k,
			   dm_error *e)
{
	const char *key;
	json_t *v;
	size_t i = 0;
	int r;

	if (json_object_size(o) == 0)
		return cfg_bad(e, at, "must not be empty");
	k->map = calloc(json_object_size(o), sizeof(*k->map));
	if (!k->map)
		return dm_error_oom(e);
	json_object_foreach (o, key, v) {
		const struct cfg_place *here = MEMBER(at, key);
		const char *name;

		if (!parse_map_key(key, &k->map[i].value))
			return cfg_bad(e, here, "not an integer (decimal, or hexadecimal with 0x)");
		r = cfg_expect_kind(v, here, KIND_STRING, e);
		if (r < 0)
			return r;
		name = json_string_value(v);
		/* A name that reads as a number could be the label of another, unmapped value. */
		if (!*name || is_decimal(name))
			return cfg_bad(e, here,
				       "\"%s\" is no name (must be non-empty, not a number)", name);
		for (size_t j = 0; j < i; j++) {
			if (k->map[j].value == k->map[i].value)
				return cfg_bad(e, here, "the same value as another key");
			if (streq(k->map[j].name, name))
				return cfg_bad(e, here, "\"%s\" names another value already", name);
		}
		r = cfg_dup_string(name, &k->map[i].name, e);
		if (r < 0)
			return r;
		k->n_map = ++i;
	}
	return 0;
}

static int parse_key_label(json_t *v, const struct cfg_place *at, struct dm_key_label *k,
			   dm_error *e)
{
	json_t *map = NULL;
	int decoder = DM_DECODER_AUTO;
	const char *label;
	int r;

	r = cfg_expect_kind(v, at, KIND_OBJECT, e);
	if (r >= 0)
		r = cfg_check_members(v, at, key_label_members, e);
	if (r >= 0)
		r = cfg_get_field_path(v, at, "field", &k->field, e);
	if (r >= 0)
		r = cfg_get_string(v, at, "label", false, NULL, &label, e);
	if (r >= 0 && label)
		r = cfg_check_label_name(label, MEMBER(at, "label"), e);
	if (r >= 0 && label)
		r = cfg_dup_string(label, &k->label, e);
	if (r >= 0)
		r = cfg_get_enum(v, at, "decoder", dm_decoder_names, "decoder", &decoder, e);
	if (r >= 0 && decoder == DM_DECODER_AUTO && json_object_get(v, "decoder"))
		r = cfg_bad(e, MEMBER(at, "decoder"),
			    "\"auto\" is what leaving the decoder out means");
	if (r >= 0)
		r = cfg_get_member(v, at, "map", KIND_OBJECT, false, &map, e);
	if (r < 0)
		return r;
	k->decoder = decoder;
	if (!map != (decoder != DM_DECODER_MAP))
		return cfg_bad(e, map ? MEMBER(at, "map") : MEMBER(at, "decoder"),
			       map ? "only the \"map\" decoder takes a map"
				   : "the \"map\" decoder needs a \"map\" of values to names");
	return map ? parse_value_map(map, MEMBER(at, "map"), k, e) : 0;
}

static int check_key_label_unique(const struct dm_metric_config *m, size_t i,
				  const struct cfg_place *at, dm_error *e)
{
	const struct dm_key_label *k = &m->key_labels[i];

	for (size_t j = 0; j < i; j++) {
		if (streq_ptr(m->key_labels[j].field, k->field))
			return cfg_bad(e, MEMBER(at, "field"),
				       "%s%s%s given twice (also key-labels[%zu])",
				       k->field ? "field \"" : "the whole key",
				       k->field ? k->field : "", k->field ? "\"" : "", j);
		if (k->label && streq_ptr(m->key_labels[j].label, k->label))
			return cfg_bad(e, MEMBER(at, "label"),
				       "duplicate label name \"%s\" (also key-labels[%zu])",
				       k->label, j);
	}
	for (size_t j = 0; k->label && j < m->n_labels; j++)
		if (streq(m->labels[j].name, k->label))
			return cfg_bad(e, MEMBER(at, "label"),
				       "label name \"%s\" is one of the metric's labels already",
				       k->label);
	return 0;
}

static int parse_key_labels(json_t *meta, const struct cfg_place *at, struct dm_metric_config *m,
			    dm_error *e)
{
	const struct cfg_place *here = MEMBER(at, "key-labels");
	json_t *a = NULL, *v;
	size_t i;
	int r;

	r = cfg_get_member(meta, at, "key-labels", KIND_ARRAY, false, &a, e);
	if (r < 0 || !a || json_array_size(a) == 0)
		return r;
	m->key_labels = calloc(json_array_size(a), sizeof(*m->key_labels));
	if (!m->key_labels)
		return dm_error_oom(e);

	json_array_foreach (a, i, v) {
		m->n_key_labels = i + 1;
		r = parse_key_label(v, ELEMENT(here, i), &m->key_labels[i], e);
		if (r >= 0)
			r = check_key_label_unique(m, i, ELEMENT(here, i), e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_value_fields(json_t *meta, const struct cfg_place *at, struct dm_metric_config *m,
			      dm_error *e)
{
	const struct cfg_place *here = MEMBER(at, "value-fields");
	json_t *a = NULL, *v;
	size_t i;
	int r;

	r = cfg_get_member(meta, at, "value-fields", KIND_ARRAY, false, &a, e);
	if (r < 0 || !a)
		return r;
	if (m->type == DM_METRIC_HISTOGRAM || m->type == DM_METRIC_SUMMARY)
		return cfg_bad(e, here, "a %s takes its fields from \"%s\"",
			       dm_metric_type_to_string(m->type),
			       dm_metric_type_to_string(m->type));
	if (json_array_size(a) == 0)
		return cfg_bad(e, here, "must not be empty (leave it out to export every field)");
	m->value_fields = calloc(json_array_size(a), sizeof(char *));
	if (!m->value_fields)
		return dm_error_oom(e);

	json_array_foreach (a, i, v) {
		const struct cfg_place *field = ELEMENT(here, i);

		r = cfg_expect_kind(v, field, KIND_STRING, e);
		if (r < 0)
			return r;
		if (!cfg_field_path_is_valid(json_string_value(v)))
			return cfg_bad(e, field,
				       "invalid field \"%s\" (C member names, joined by \".\")",
				       json_string_value(v));
		for (size_t j = 0; j < i; j++)
			if (streq(m->value_fields[j], json_string_value(v)))
				return cfg_bad(e, field,
					       "field \"%s\" given twice (also value-fields[%zu])",
					       json_string_value(v), j);
		r = cfg_dup_string(json_string_value(v), &m->value_fields[i], e);
		if (r < 0)
			return r;
		m->n_value_fields = i + 1;
	}
	return 0;
}

static int parse_bounds(json_t *a, const struct cfg_place *at, struct dm_histogram_config *h,
			dm_error *e)
{
	json_t *v;
	size_t i;
	int r;

	if (json_array_size(a) == 0 || json_array_size(a) >= MAX_BUCKETS)
		return cfg_bad(e, at, "must hold 1 to %d bounds", MAX_BUCKETS - 1);
	h->bounds = calloc(json_array_size(a), sizeof(double));
	if (!h->bounds)
		return dm_error_oom(e);
	json_array_foreach (a, i, v) {
		r = cfg_expect_kind(v, ELEMENT(at, i), KIND_NUMBER, e);
		if (r < 0)
			return r;
		h->bounds[i] = json_number_value(v);
		if (i > 0 && h->bounds[i] <= h->bounds[i - 1])
			return cfg_bad(e, ELEMENT(at, i),
				       "bounds must be ascending, each above the last");
		h->n_bounds = i + 1;
	}
	return 0;
}

/* What each layout needs, and that it gets nothing the others need. */
static int check_layout_members(json_t *o, const struct cfg_place *at,
				const struct dm_histogram_config *h, dm_error *e)
{
	static const struct {
		const char *member;
		enum dm_histogram_layout layout;
		bool required;
	} rules[] = {
	    {"offset", DM_HISTOGRAM_LOG2, false},
	    {"start", DM_HISTOGRAM_LINEAR, false},
	    {"width", DM_HISTOGRAM_LINEAR, true},
	    {"bounds", DM_HISTOGRAM_EXPLICIT, true},
	};

	for (size_t i = 0; i < ELEMENTSOF(rules); i++) {
		bool present = json_object_get(o, rules[i].member);

		if (present && h->layout != rules[i].layout)
			return cfg_bad(e, MEMBER(at, rules[i].member),
				       "only the %s layout takes it",
				       dm_histogram_layout_names[rules[i].layout]);
		if (!present && rules[i].required && h->layout == rules[i].layout)
			return cfg_bad(e, MEMBER(at, rules[i].member),
				       "required field missing (the %s layout needs it)",
				       dm_histogram_layout_names[h->layout]);
	}
	if (h->layout == DM_HISTOGRAM_EXPLICIT && json_object_get(o, "buckets"))
		return cfg_bad(e, MEMBER(at, "buckets"),
			       "the explicit layout has one bucket per bound, and one above them");
	return 0;
}

/* The lowest bucket bound, which decides whether the histogram may have a sum. */
static double lowest_bound(const struct dm_histogram_config *h)
{
	switch (h->layout) {
	case DM_HISTOGRAM_LINEAR:
		return (double)h->start + (double)h->width - 1;
	case DM_HISTOGRAM_EXPLICIT:
		return h->bounds[0];
	default:
		return 0;
	}
}

static int parse_histogram_fields(json_t *o, const struct cfg_place *at,
				  struct dm_histogram_config *h, dm_error *e)
{
	int r;

	r = cfg_get_field_path(o, at, "bucket-field", &h->bucket_field, e);
	if (r >= 0)
		r = cfg_get_field_path(o, at, "buckets-field", &h->buckets_field, e);
	if (r >= 0)
		r = cfg_get_field_path(o, at, "count-field", &h->count_field, e);
	if (r >= 0)
		r = cfg_get_field_path(o, at, "sum-field", &h->sum_field, e);
	if (r < 0)
		return r;
	if (h->buckets_field && h->bucket_field)
		return cfg_bad(e, MEMBER(at, "bucket-field"),
			       "either every entry is a bucket (bucket-field) or a whole histogram "
			       "(buckets-field), not both");
	if (h->buckets_field && h->count_field)
		return cfg_bad(e, MEMBER(at, "count-field"),
			       "with buckets-field the counts are the array's elements");
	/* OpenMetrics: "Negative threshold buckets MAY be used, but then the Histogram
	 * MetricPoint MUST NOT contain a sum value". */
	if (h->sum_field && lowest_bound(h) < 0)
		return cfg_bad(
		    e, MEMBER(at, "sum-field"),
		    "a histogram with negative bucket bounds cannot have a sum (OpenMetrics)");
	return 0;
}

static int parse_histogram(json_t *o, const struct cfg_place *at, struct dm_metric_config *m,
			   dm_error *e)
{
	struct dm_histogram_config *h;
	json_t *bounds = NULL;
	int64_t n = 0, offset = 0, start = 0, width = 1;
	int layout = -1, r;

	h = m->histogram = calloc(1, sizeof(*h));
	if (!h)
		return dm_error_oom(e);
	r = cfg_check_members(o, at, histogram_members, e);
	if (r >= 0 && !json_object_get(o, "layout"))
		r = cfg_bad(e, MEMBER(at, "layout"),
			    "required field missing (log2, linear or explicit)");
	if (r >= 0)
		r = cfg_get_enum(o, at, "layout", dm_histogram_layout_names, "layout", &layout, e);
	if (r < 0)
		return r;
	h->layout = layout;
	r = check_layout_members(o, at, h, e);
	if (r >= 0)
		r = cfg_get_integer(o, at, "buckets", 1, MAX_BUCKETS, &n, e);
	if (r >= 0)
		r = cfg_get_integer(o, at, "offset", 0, 1, &offset, e);
	if (r >= 0)
		r = cfg_get_integer(o, at, "start", INT32_MIN, INT32_MAX, &start, e);
	if (r >= 0)
		r = cfg_get_integer(o, at, "width", 1, INT32_MAX, &width, e);
	if (r >= 0)
		r = cfg_get_member(o, at, "bounds", KIND_ARRAY, false, &bounds, e);
	if (r >= 0 && bounds)
		r = parse_bounds(bounds, MEMBER(at, "bounds"), h, e);
	if (r < 0)
		return r;
	/* Past 2^64 no 64-bit observation lands. */
	if (h->layout == DM_HISTOGRAM_LOG2 && n > 65 + offset)
		return cfg_bad(e, MEMBER(at, "buckets"),
			       "a log2 histogram of 64-bit values has at most %d buckets",
			       (int)(65 + offset));
	h->n_buckets = n;
	h->offset = offset;
	h->start = start;
	h->width = width;
	return parse_histogram_fields(o, at, h, e);
}

static int parse_quantile(json_t *v, const struct cfg_place *at, struct dm_summary_config *s,
			  size_t i, dm_error *e)
{
	struct dm_quantile *q = &s->quantiles[i];
	json_t *quantile = NULL;
	int r;

	r = cfg_expect_kind(v, at, KIND_OBJECT, e);
	if (r >= 0)
		r = cfg_check_members(v, at, quantile_members, e);
	if (r >= 0)
		r = cfg_get_member(v, at, "quantile", KIND_NUMBER, true, &quantile, e);
	if (r >= 0 && !json_object_get(v, "field"))
		r = cfg_bad(e, MEMBER(at, "field"), "required field missing (expected a string)");
	if (r >= 0)
		r = cfg_get_field_path(v, at, "field", &q->field, e);
	if (r < 0)
		return r;
	q->quantile = json_number_value(quantile);
	if (!(q->quantile >= 0 && q->quantile <= 1))
		return cfg_bad(e, MEMBER(at, "quantile"), "must be between 0 and 1");
	for (size_t j = 0; j < i; j++)
		if (s->quantiles[j].quantile == q->quantile ||
		    streq(s->quantiles[j].field, q->field))
			return cfg_bad(e, at, "the same quantile or field as quantiles[%zu]", j);
	return 0;
}

static int parse_summary(json_t *o, const struct cfg_place *at, struct dm_metric_config *m,
			 dm_error *e)
{
	const struct cfg_place *here = MEMBER(at, "quantiles");
	struct dm_summary_config *s;
	json_t *a = NULL, *v;
	size_t i;
	int r;

	s = m->summary = calloc(1, sizeof(*s));
	if (!s)
		return dm_error_oom(e);
	r = cfg_check_members(o, at, summary_members, e);
	if (r >= 0)
		r = cfg_get_field_path(o, at, "count-field", &s->count_field, e);
	if (r >= 0)
		r = cfg_get_field_path(o, at, "sum-field", &s->sum_field, e);
	if (r >= 0)
		r = cfg_get_member(o, at, "quantiles", KIND_ARRAY, false, &a, e);
	if (r < 0 || !a)
		return r;
	s->quantiles_given = true;
	s->quantiles = calloc(json_array_size(a) ?: 1, sizeof(*s->quantiles));
	if (!s->quantiles)
		return dm_error_oom(e);
	json_array_foreach (a, i, v) {
		s->n_quantiles = i + 1;
		r = parse_quantile(v, ELEMENT(here, i), s, i, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Members that belong to one metric type only. */
static int parse_type_members(json_t *meta, const struct cfg_place *at, struct dm_metric_config *m,
			      dm_error *e)
{
	json_t *h = NULL, *s = NULL;
	int r;

	r = cfg_get_member(meta, at, "histogram", KIND_OBJECT, false, &h, e);
	if (r >= 0)
		r = cfg_get_member(meta, at, "summary", KIND_OBJECT, false, &s, e);
	if (r < 0)
		return r;
	if (h && m->type != DM_METRIC_HISTOGRAM)
		return cfg_bad(e, MEMBER(at, "histogram"),
			       "only a metric of type histogram takes it");
	if (s && m->type != DM_METRIC_SUMMARY)
		return cfg_bad(e, MEMBER(at, "summary"), "only a metric of type summary takes it");
	if (!h && m->type == DM_METRIC_HISTOGRAM)
		return cfg_bad(
		    e, MEMBER(at, "histogram"),
		    "required field missing: a histogram needs its buckets described, e.g. "
		    "{\"layout\": \"log2\"}");
	if (h)
		return parse_histogram(h, MEMBER(at, "histogram"), m, e);
	return s ? parse_summary(s, MEMBER(at, "summary"), m, e) : 0;
}

/* "# UNIT": OpenMetrics wants it to be the last part of the family's name; which families a
 * metric has depends on its value's type, so that is checked when the code is compiled. */
static int parse_unit(json_t *meta, const struct cfg_place *at, struct dm_metric_config *m,
		      dm_error *e)
{
	const char *unit;
	int r;

	r = cfg_get_string(meta, at, "unit", false, NULL, &unit, e);
	if (r < 0 || !unit)
		return r;
	if (!*unit || strspn(unit, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_") != strlen(unit))
		return cfg_bad(e, MEMBER(at, "unit"),
			       "invalid unit \"%s\" (must match [a-zA-Z0-9_]+)", unit);
	return cfg_dup_string(unit, &m->unit, e);
}

/* The series budget; that top-k-by names a number of the value is checked with the BTF. */
static int parse_budget(json_t *meta, const struct cfg_place *at, struct dm_metric_config *m,
			dm_error *e)
{
	int64_t max_series = -1, top_k = 0;
	int r;

	r = cfg_get_integer(meta, at, "max-series", 0, INT32_MAX, &max_series, e);
	if (r >= 0)
		r = cfg_get_integer(meta, at, "top-k", 1, INT32_MAX, &top_k, e);
	if (r >= 0)
		r = cfg_get_field_path(meta, at, "top-k-by", &m->top_k_by, e);
	if (r < 0)
		return r;
	if (m->top_k_by && top_k == 0)
		return cfg_bad(e, MEMBER(at, "top-k-by"), "only with top-k");
	m->max_series_given = max_series >= 0;
	m->max_series = max_series >= 0 ? max_series : 0;
	m->top_k = top_k;
	return 0;
}

static int parse_extensions(json_t *meta, const struct cfg_place *at, struct dm_metric_config *m,
			    dm_error *e)
{
	int per_cpu = -1, r;

	r = parse_unit(meta, at, m, e);
	if (r >= 0)
		r = parse_budget(meta, at, m, e);
	if (r >= 0)
		r = parse_key_labels(meta, at, m, e);
	if (r >= 0)
		r = parse_value_fields(meta, at, m, e);
	if (r >= 0)
		r = cfg_get_enum(meta, at, "per-cpu", dm_per_cpu_names, "per-cpu mode", &per_cpu,
				 e);
	if (r < 0)
		return r;
	if (per_cpu >= 0) {
		m->per_cpu_given = true;
		m->per_cpu = per_cpu;
	}
	return parse_type_members(meta, at, m, e);
}

static int parse_metadata(json_t *meta, const struct cfg_place *at, struct dm_metric_config *m,
			  dm_error *e)
{
	const char *help, *type;
	int r;

	r = cfg_check_members(meta, at, metadata_members, e);
	if (r >= 0)
		r = cfg_get_string(meta, at, "help", false, "", &help, e);
	if (r >= 0)
		r = cfg_get_string(meta, at, "type", true, NULL, &type, e);
	if (r < 0)
		return r;

	r = dm_metric_type_from_string(type);
	if (r < 0) {
		_cleanup_free_ char *expected = strv_join(dm_metric_type_names, " or ");

		if (!expected)
			return dm_error_oom(e);
		return cfg_bad(e, MEMBER(at, "type"), "unknown metric type \"%s\" (expected %s)",
			       type, expected);
	}
	m->type = r;
	m->open_metrics = true;

	r = cfg_dup_string(help, &m->help, e);
	if (r >= 0)
		r = parse_labels(meta, at, m, e);
	if (r >= 0)
		r = parse_extensions(meta, at, m, e);
	return r;
}

static int parse_extraction_options(json_t *o, const struct cfg_place *at,
				    struct dm_metric_config *m, dm_error *e)
{
	int r;

	r = cfg_check_members(o, at, extraction_members, e);
	if (r >= 0)
		r = cfg_get_bool(o, at, "empty-on-read", &m->empty_on_read, e);
	if (r >= 0)
		r = cfg_get_bool(o, at, "swap-on-read", &m->swap_on_read, e);
	if (r >= 0)
		r = cfg_get_bool(o, at, "network-byte-order", &m->network_byte_order, e);
	return r;
}

static int parse_metric_names(json_t *v, const struct cfg_place *at, struct dm_metric_config *m,
			      dm_error *e)
{
	const char *name, *map_name;
	int r;

	r = cfg_get_string(v, at, "name", true, NULL, &name, e);
	if (r < 0)
		return r;
	if (!dm_metric_name_is_valid(name))
		return cfg_bad(e, MEMBER(at, "name"),
			       "invalid metric name \"%s\" (must match [a-zA-Z_:][a-zA-Z0-9_:]*)",
			       name);

	r = cfg_get_string(v, at, "map-name", true, NULL, &map_name, e);
	if (r < 0)
		return r;
	if (!dm_c_name_is_valid(map_name))
		return cfg_bad(e, MEMBER(at, "map-name"),
			       "invalid map name \"%s\" (not a C identifier)", map_name);

	r = cfg_dup_string(name, &m->name, e);
	if (r >= 0)
		r = cfg_dup_string(map_name, &m->map_name, e);
	return r;
}

static int parse_metric(json_t *v, const struct cfg_place *at, struct dm_metric_config *m,
			dm_error *e)
{
	json_t *options = NULL, *meta = NULL;
	int r;

	m->type = DM_METRIC_UNTYPED; /* only meaningful when exported, but never left at random */

	r = cfg_expect_kind(v, at, KIND_OBJECT, e);
	if (r >= 0)
		r = cfg_check_members(v, at, metric_members, e);
	if (r >= 0)
		r = parse_metric_names(v, at, m, e);
	if (r >= 0)
		r = cfg_get_member(v, at, "extraction-options", KIND_OBJECT, false, &options, e);
	if (r >= 0 && options)
		r = parse_extraction_options(options, MEMBER(at, "extraction-options"), m, e);
	if (r >= 0)
		r = cfg_get_member(v, at, "open-metrics-metadata", KIND_OBJECT, false, &meta, e);
	if (r >= 0 && meta)
		r = parse_metadata(meta, MEMBER(at, "open-metrics-metadata"), m, e);
	return r;
}

/* Whether two exported metrics would be one OpenMetrics family: "packets" and "packets_total"
 * counters are both the family "packets". */
static bool same_family(const struct dm_metric_config *a, const struct dm_metric_config *b)
{
	size_t na = strlen(a->name), nb = strlen(b->name), k = strlen("_total");

	if (!a->open_metrics || !b->open_metrics)
		return false;
	if (a->type == DM_METRIC_COUNTER && na > k && streq(a->name + na - k, "_total"))
		na -= k;
	if (b->type == DM_METRIC_COUNTER && nb > k && streq(b->name + nb - k, "_total"))
		nb -= k;
	return na == nb && strncmp(a->name, b->name, na) == 0;
}

static int parse_metrics(json_t *o, const struct cfg_place *at, const char *key,
			 struct dm_path_config *p, dm_error *e)
{
	const struct cfg_place *here = MEMBER(at, key);
	json_t *a = NULL, *v;
	size_t i;
	int r;

	r = cfg_get_member(o, at, key, KIND_ARRAY, false, &a, e);
	if (r < 0 || !a || json_array_size(a) == 0)
		return r;
	p->metrics = calloc(json_array_size(a), sizeof(*p->metrics));
	if (!p->metrics)
		return dm_error_oom(e);
	p->n_metrics = json_array_size(a);

	json_array_foreach (a, i, v) {
		const struct cfg_place *metric = ELEMENT(here, i);

		r = parse_metric(v, metric, &p->metrics[i], e);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++) {
			if (streq(p->metrics[j].name, p->metrics[i].name))
				return cfg_bad(e, MEMBER(metric, "name"),
					       "duplicate metric name \"%s\" (also %s[%zu])",
					       p->metrics[i].name, key, j);
			if (same_family(&p->metrics[j], &p->metrics[i]))
				return cfg_bad(e, MEMBER(metric, "name"),
					       "\"%s\" is the OpenMetrics family of %s[%zu] too (a "
					       "counter's samples are named FAMILY_total)",
					       p->metrics[i].name, key, j);
		}
	}
	return 0;
}

/* A path object, or in v1.0 the whole document: the two differ only in what the list of
 * metrics is called. */
static int parse_path(json_t *o, const struct cfg_place *at, const char *metrics_member,
		      struct dm_path_config *p, dm_error *e)
{
	const char *const members[] = {"name", "code", "object", metrics_member, NULL};
	const char *name, *code;
	json_t *object;
	int r;

	if (json_object_size(o) == 0)
		return 0; /* {}: no program on this path */

	r = cfg_check_members(o, at, members, e);
	if (r >= 0)
		r = cfg_get_string(o, at, "name", false, "", &name, e);
	if (r >= 0)
		r = cfg_get_string(o, at, "code", true, NULL, &code, e);
	if (r < 0)
		return r;
	if (!*code)
		return cfg_bad(e, MEMBER(at, "code"), "must not be empty");

	r = cfg_dup_string(name, &p->name, e);
	if (r >= 0)
		r = cfg_dup_string(code, &p->code, e);
	object = json_object_get(o, "object");
	if (r >= 0 && object)
		r = dm_object_parse(object, MEMBER(at, "object"), &p->object, e);
	if (r >= 0)
		r = parse_metrics(o, at, metrics_member, p, e);
	if (r >= 0)
		p->present = true;
	return r;
}

/* Both paths may export one family (their samples are then told apart by a path label), but
 * not as two types: a family has one. */
static int check_families_across_paths(const struct dm_config *c, dm_error *e)
{
	const struct dm_path_config *in = &c->paths[DM_PATH_INGRESS],
				    *out = &c->paths[DM_PATH_EGRESS];

	for (size_t i = 0; i < in->n_metrics; i++)
		for (size_t j = 0; j < out->n_metrics; j++)
			if (same_family(&in->metrics[i], &out->metrics[j]) &&
			    in->metrics[i].type != out->metrics[j].type)
				return cfg_bad(
				    e,
				    MEMBER(ELEMENT(MEMBER(MEMBER(NULL, "egress-path"),
							  "metric-configs"),
						   j),
					   "open-metrics-metadata"),
				    "\"%s\" is a %s, and the same family is a %s on the ingress "
				    "path (ingress-path.metric-configs[%zu])",
				    out->metrics[j].name,
				    dm_metric_type_to_string(out->metrics[j].type),
				    dm_metric_type_to_string(in->metrics[i].type), i);
	return 0;
}

static int parse_v11(json_t *root, struct dm_config *c, dm_error *e)
{
	int r;

	r = cfg_check_members(root, NULL, v11_members, e);
	if (r < 0)
		return r;
	for (int i = 0; i < _DM_PATH_MAX; i++) {
		json_t *v = NULL;

		r = cfg_get_member(root, NULL, dm_path_members[i], KIND_OBJECT, false, &v, e);
		if (r >= 0 && v)
			r = parse_path(v, MEMBER(NULL, dm_path_members[i]), "metric-configs",
				       &c->paths[i], e);
		if (r < 0)
			return r;
	}
	return check_families_across_paths(c, e);
}

static const char *first_member_of(json_t *o, const char *const *keys)
{
	for (; *keys; keys++)
		if (json_object_get(o, *keys))
			return *keys;
	return NULL;
}

int dm_config_from_json(json_t *root, struct dm_config **ret, dm_error *error)
{
	_cleanup_(dm_config_freep) struct dm_config *c = NULL;
	const char *v10, *v11;
	int r;

	if (!json_is_object(root))
		return dm_error_set(error, -EBADMSG,
				    "the configuration must be a JSON object, got %s",
				    root ? cfg_json_kind(root) : "nothing");

	/* The formats are told apart by their members; {} is a v1.1 document without paths. */
	v10 = first_member_of(root, v10_members);
	v11 = first_member_of(root, v11_members);
	if (v10 && v11)
		return cfg_bad(error, MEMBER(NULL, v10),
			       "v1.0 field mixed with v1.1 field \"%s\" (use either name, code and "
			       "metrics, or ingress-path and egress-path)",
			       v11);

	c = calloc(1, sizeof(*c));
	if (!c)
		return dm_error_oom(error);
	if (v10)
		r = parse_path(root, NULL, "metrics", &c->paths[DM_PATH_INGRESS], error);
	else
		r = parse_v11(root, c, error);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(c);
	return 0;
}

int dm_config_parse(const char *text, struct dm_config **ret, dm_error *error)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	json_error_t je;

	if (!text)
		return dm_error_set(error, -EBADMSG, "no configuration given");
	/* The same bound at every door (REST's body, dynmonctl's input, D-Bus's string): a bus
	 * message may carry up to 128 MiB, which the parser and the compiler would then hold. */
	if (strnlen(text, DM_CONFIG_TEXT_MAX + 1) > DM_CONFIG_TEXT_MAX)
		return dm_error_set(error, -EFBIG, "the configuration is larger than %d bytes",
				    DM_CONFIG_TEXT_MAX);
	/* Duplicate members would otherwise be resolved silently, the last one winning. */
	root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return dm_error_set(error, -EBADMSG, "invalid JSON at line %d, column %d: %s",
				    je.line, je.column, je.text);
	return dm_config_from_json(root, ret, error);
}
