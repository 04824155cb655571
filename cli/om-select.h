/* SPDX-License-Identifier: Apache-2.0 */
/* Picking the part of a monitor's OpenMetrics text (its OpenMetrics property) that belongs to
 * one path, or to one metric, by the monitor's configuration (its Config property). */
#pragma once

#include <jansson.h>

#include "metrics-select.h"

/* The families of `text` that the metrics asked for make, "# EOF" last: those of the exported
 * metrics (with open-metrics-metadata in `config`) on the paths `dir` chooses, only `name` if
 * not NULL.
 *
 * A family is made by the metric whose name, without a "_total" suffix, is the family's name
 * ("packets_total" makes "packets"), or else by the one whose name is the family's longest
 * prefix before a "_" (a struct value: "flows" makes "flows_bytes" and "flows_packets"). When
 * both paths make a family, it is written once with the samples of both (docs/OPENMETRICS.md):
 * a sample is the path's its `path` label names, or whose configured labels it carries.
 *
 * -ENOENT: no metric `name` on the paths chosen; -ENODATA: it is there but not exported. */
int om_select(const char *text, json_t *config, enum metrics_direction dir, const char *name,
	      char **ret);
