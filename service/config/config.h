/* SPDX-License-Identifier: Apache-2.0 */
/* The dataplane configuration: what an operator injects. Parsing and strict validation of
 * Polycube's two formats (v1.0: one ingress program; v1.1: ingress-path and egress-path), and
 * the normalized JSON form (always v1.1) that dynmon reports back. No kernel, no bus here. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"

enum dm_path {
	DM_PATH_INGRESS,
	DM_PATH_EGRESS,
	_DM_PATH_MAX,
};

enum dm_metric_type {
	DM_METRIC_COUNTER,
	DM_METRIC_GAUGE,
	DM_METRIC_HISTOGRAM,
	DM_METRIC_SUMMARY,
	DM_METRIC_UNTYPED,
	_DM_METRIC_TYPE_MAX,
};

struct dm_label {
	char *name;
	char *value;
};

/* How a key field (or an array's index) is spelled as a label value (labels.h). */
enum dm_decoder {
	DM_DECODER_AUTO, /* chosen from the field's BTF type and name */
	DM_DECODER_NUMBER,
	DM_DECODER_NETWORK_ORDER,
	DM_DECODER_HEX,
	DM_DECODER_IPV4,
	DM_DECODER_IPV6,
	DM_DECODER_PORT,
	DM_DECODER_MAC,
	DM_DECODER_IP_PROTOCOL,
	DM_DECODER_IFNAME,
	DM_DECODER_ENUM,
	DM_DECODER_MAP,
	DM_DECODER_STRING,
	_DM_DECODER_MAX,
};

/* One entry of a "map" decoder: the integer `value` is shown as `name`. */
struct dm_value_name {
	uint64_t value; /* negative numbers as their two's complement */
	char *name;
};

/* "key-labels": [{"field": "saddr", "label": "source", "decoder": "ipv4"}, ...] */
struct dm_key_label {
	char *field; /* dotted path into the key struct; NULL: the whole key, or an array's index */
	char *label; /* NULL: the field's name, "key" for a whole key, "index" for an index */
	enum dm_decoder decoder;
	struct dm_value_name *map;
	size_t n_map;
};

enum dm_per_cpu {
	DM_PER_CPU_SUM,	  /* one sample per entry, the CPUs' values added up */
	DM_PER_CPU_LABEL, /* one sample per entry and CPU, labelled cpu="N" */
	_DM_PER_CPU_MAX,
};

enum dm_histogram_layout {
	DM_HISTOGRAM_LOG2,     /* bucket i: floor(log2(v)) + offset == i */
	DM_HISTOGRAM_LINEAR,   /* bucket i: (v - start) / width == i */
	DM_HISTOGRAM_EXPLICIT, /* bucket i: v <= bounds[i], and not in an earlier bucket */
	_DM_HISTOGRAM_LAYOUT_MAX,
};

/* "histogram": {...}, required for type histogram. Either every map entry is one bucket (an
 * array indexed by bucket, a hash keyed by bucket, or keyed by a struct with `bucket_field`),
 * or, with `buckets_field`, every entry is a whole histogram held in an array of its value. */
struct dm_histogram_config {
	enum dm_histogram_layout layout;
	uint32_t n_buckets; /* 0: as many as the array (or buckets_field) has */
	uint32_t offset;    /* log2 */
	int64_t start;	    /* linear */
	int64_t width;	    /* linear, > 0 */
	double *bounds;	    /* explicit: upper bounds of buckets 0 .. n_bounds - 1, ascending */
	size_t n_bounds;
	char *bucket_field;  /* key field holding the bucket index */
	char *buckets_field; /* value field: the array of bucket counters */
	char *count_field;   /* value field: a bucket's count, when every entry is a bucket */
	char *sum_field;     /* value field: the sum of the observations, NULL: none */
};

struct dm_quantile {
	double quantile;
	char *field;
};

/* "summary": {...}, optional for type summary: a struct value with a count, a sum and, where
 * the map has them, quantiles. */
struct dm_summary_config {
	char *count_field;    /* NULL: "count" */
	char *sum_field;      /* NULL: "sum" */
	bool quantiles_given; /* false: fields named p50, p99, p999 ... are the quantiles */
	struct dm_quantile *quantiles;
	size_t n_quantiles;
};

struct dm_metric_config {
	char *name;	/* JSON metric name, and the OpenMetrics name when exported */
	char *map_name; /* the eBPF map whose content is the metric's value */
	bool empty_on_read;
	bool swap_on_read;
	/* dynmon's "network-byte-order": JSON shows __be16/__be32/__be64 integers in network byte
	 * order (a port 80 is 80); by default as the host reads them, as upstream's JSON does. */
	bool network_byte_order;

	/* "open-metrics-metadata" present: the metric is exported in OpenMetrics. */
	bool open_metrics;
	char *help;
	enum dm_metric_type type;
	struct dm_label *labels;
	size_t n_labels;

	/* What dynmon adds to open-metrics-metadata; all optional (docs/OPENMETRICS.md). */
	char *unit;
	struct dm_key_label *key_labels;
	size_t n_key_labels;
	char **value_fields; /* dotted paths into a struct value; n_value_fields 0: all */
	size_t n_value_fields;
	bool per_cpu_given;
	enum dm_per_cpu per_cpu;
	struct dm_histogram_config *histogram; /* set for type histogram */
	struct dm_summary_config *summary;     /* set when given */
	/* The series budget (docs/OPENMETRICS.md): at most max_series entries exported, the rest
	 * folded into one __overflow__ sample per family; 0 is no limit. Unless given,
	 * DM_DEFAULT_MAX_SERIES. top_k (0: none) keeps the heaviest entries by top_k_by (a value
	 * field; NULL: the first family's). */
	bool max_series_given;
	uint32_t max_series;
	uint32_t top_k;
	char *top_k_by;
};

/* The series budget of a metric that sets none. */
#define DM_DEFAULT_MAX_SERIES 10000

struct dm_path_config {
	bool present; /* false for an absent or empty ({}) path */
	char *name;
	char *code;
	struct dm_object *object; /* "object": precompiled by dynmonctl compile; NULL: none */
	struct dm_metric_config *metrics;
	size_t n_metrics;
};

struct dm_config {
	struct dm_path_config paths[_DM_PATH_MAX];
};

/* Parses and validates a configuration document of either format. On failure returns -EBADMSG
 * (-ENOMEM) and sets a message that names the offending place, e.g.
 * "ingress-path.metric-configs[1].open-metrics-metadata.type: unknown metric type \"countr\"
 * (expected counter, gauge, histogram, summary or untyped)". Unknown fields are errors. */
int dm_config_parse(const char *text, struct dm_config **ret, dm_error *error);
int dm_config_from_json(json_t *root, struct dm_config **ret, dm_error *error);

/* The normalized v1.1 document: {"ingress-path": {...}, "egress-path": {...}}; an absent
 * path is {}. dm_config_parse(dump(to_json(c))) gives back an equal configuration. */
json_t *dm_config_to_json(const struct dm_config *c);
/* A path's normalized "metric-configs" array (what an object's signature covers). */
json_t *dm_path_metrics_to_json(const struct dm_path_config *p);

void dm_config_free(struct dm_config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_config *, dm_config_free);

/* The names of each enum, indexed by it and NULL-terminated, so that a table also serves as the
 * list of alternatives a message names. dm_path_members: the v1.1 members holding the paths. */
extern const char *const dm_path_members[_DM_PATH_MAX];
/* "le", "quantile", "monitor": label names OpenMetrics and dynmon set, never an operator. */
extern const char *const dm_reserved_label_names[];
extern const char *const dm_metric_type_names[_DM_METRIC_TYPE_MAX + 1];
extern const char *const dm_decoder_names[_DM_DECODER_MAX + 1];
extern const char *const dm_per_cpu_names[_DM_PER_CPU_MAX + 1];
extern const char *const dm_histogram_layout_names[_DM_HISTOGRAM_LAYOUT_MAX + 1];

const char *dm_path_to_string(enum dm_path p);		     /* "ingress", "egress" */
int dm_path_from_string(const char *s);			     /* -EINVAL when unknown */
const char *dm_metric_type_to_string(enum dm_metric_type t); /* "counter", ... */
int dm_metric_type_from_string(const char *s);		     /* -EINVAL when unknown */

const char *dm_decoder_to_string(enum dm_decoder d); /* "ipv4", ...; "auto" */
int dm_decoder_from_string(const char *s);	     /* -EINVAL when unknown */
const char *dm_histogram_layout_to_string(enum dm_histogram_layout l);
const char *dm_per_cpu_to_string(enum dm_per_cpu p); /* "sum", "label" */

/* Valid OpenMetrics metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*. */
bool dm_metric_name_is_valid(const char *s);
bool dm_label_name_is_valid(const char *s);
/* A C identifier: map names, struct members. */
bool dm_c_name_is_valid(const char *s);
