/* SPDX-License-Identifier: Apache-2.0 */
/* Picking parts of a monitor's JSON metrics, as upstream's extractor tool offered: one path's,
 * one metric by name; and how each metric reads. It works on what dynmond hands out (the
 * Metrics and Config properties) and knows nothing of the bus. om-select.h does the same for
 * OpenMetrics. */
#pragma once

#include <jansson.h>
#include <stddef.h>

enum metrics_direction {
	METRICS_BOTH,
	METRICS_INGRESS,
	METRICS_EGRESS,
};

/* "ingress" or "egress", as the paths are named in the JSON. */
const char *metrics_direction_path(enum metrics_direction dir);

/* One metric of the JSON metrics: borrowed from the document it was found in. */
struct metric_ref {
	const char *path; /* "ingress" or "egress" */
	const char *name;
	json_t *value;
};

/* The metrics of `metrics` ({"ingress-metrics": [...], "egress-metrics": [...]}) on the paths
 * `dir` chooses, in the document's order, only those named `name` when it is not NULL. *ret is
 * an allocated array (NULL when *ret_n is 0). -ENOENT: `name` is on none of the paths;
 * -ENOTUNIQ: it is on both and `dir` did not choose; -EBADMSG: not that shape. */
int metrics_find(json_t *metrics, enum metrics_direction dir, const char *name,
		 struct metric_ref **ret, size_t *ret_n);

/* What `dynmonctl metrics` prints: the whole document; one path's list of metrics; or, with
 * `name`, that metric's value. *ret is a new reference. Errors as metrics_find(). */
int metrics_select_json(json_t *metrics, enum metrics_direction dir, const char *name,
			json_t **ret);

/* How a metric's values change from one read to the next, from its configuration. */
enum metric_reading {
	METRIC_READING_TOTAL, /* a running total: counters, and metrics not typed */
	METRIC_READING_GAUGE, /* a level: its change per second means nothing */
	METRIC_READING_DELTA, /* empty-on-read, swap-on-read: each read returns what came since */
};

/* The reading of the metric `name` on `path` in `config` (the Config property: the v1.1
 * document); METRIC_READING_TOTAL for a metric the configuration does not have. */
enum metric_reading metrics_reading(json_t *config, const char *path, const char *name);
