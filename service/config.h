/* SPDX-License-Identifier: Apache-2.0 */
/* The dataplane configuration: what an operator injects. Parsing and strict validation of
 * Polycube's two formats (v1.0: one ingress program; v1.1: ingress-path and egress-path), and
 * the normalized JSON form (always v1.1) that dynmon reports back. No kernel, no bus here. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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

struct dm_metric_config {
	char *name;     /* JSON metric name, and the OpenMetrics name when exported */
	char *map_name; /* the eBPF map whose content is the metric's value */
	bool empty_on_read;
	bool swap_on_read;

	/* "open-metrics-metadata" present: the metric is exported in OpenMetrics. */
	bool open_metrics;
	char *help;
	enum dm_metric_type type;
	struct dm_label *labels;
	size_t n_labels;
};

struct dm_path_config {
	bool present; /* false for an absent or empty ({}) path */
	char *name;
	char *code;
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

void dm_config_free(struct dm_config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_config *, dm_config_free);

const char *dm_path_to_string(enum dm_path p);               /* "ingress", "egress" */
const char *dm_metric_type_to_string(enum dm_metric_type t); /* "counter", ... */
int dm_metric_type_from_string(const char *s);               /* -EINVAL when unknown */

/* Valid OpenMetrics metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*. */
bool dm_metric_name_is_valid(const char *s);
bool dm_label_name_is_valid(const char *s);
