/* SPDX-License-Identifier: Apache-2.0 */
/* Where a map's content becomes a metric: a snapshot (maps.h) decoded through BTF into the
 * upstream JSON shape, or into OpenMetrics samples. No kernel access here beyond what the
 * caller's snapshot holds, so it is unit-testable with snapshots built by hand. */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "config.h"
#include "maps.h"
#include "openmetrics.h"

/* The "value" of a metric in the upstream JSON shape:
 * - array / percpu_array: a list with one element per index;
 * - hash, lru_hash (and their per-CPU kinds): a list of {"key": K, "value": V};
 * - queue / stack: a list of values in pop order;
 * - per-CPU maps: each value is itself a list with one element per possible CPU.
 * Keys and values are decoded through BTF (btf_json_decode); without BTF, as lists of bytes. */
int dm_snapshot_to_json(const struct dm_map_snapshot *s, json_t **ret);

/* Writes the OpenMetrics family of metric `m` (which must have open_metrics set) from the
 * snapshot: "# TYPE"/"# HELP" once, then one sample per element, carrying the configured
 * labels, then `extra` labels (e.g. monitor="mon0"). Scalar values only here: array maps with
 * more than one element get an "index" label, hash maps with a scalar key a "key" label;
 * per-CPU values are summed. A metric whose values are not scalars is skipped (returns 0,
 * writes nothing). Does not write "# EOF". */
int dm_snapshot_write_openmetrics(FILE *f, const struct dm_map_snapshot *s,
				  const struct dm_metric_config *m, const struct om_label *extra,
				  size_t n_extra);

/* {"name": ..., "value": ..., "timestamp": ms since the epoch} */
json_t *dm_metric_json(const char *name, json_t *value, int64_t timestamp_ms);
