/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a dataplane's metrics: every metric's map read (or, for swap-on-read, taken from a
 * swap that already happened), shaped as upstream's JSON or as OpenMetrics families. */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "dataplane.h"
#include "jsonw.h"
#include "openmetrics.h"

/* A part of the JSON document: one list ("ingress-metrics"), one metric of it
 * ({"name", "value", "timestamp"}), or that metric's value alone. */
struct dm_readout_part {
	const char *list;
	const char *metric; /* NULL: the whole list */
	bool value_only;
};

/* {"ingress-metrics": [...], "egress-metrics": [...]}, each metric {"name", "value", "timestamp"}
 * with dm_snapshot_to_json()'s value, streamed through `w`: the text json_dumps(JSON_COMPACT)
 * would make of that tree, except for u64 above INT64_MAX, written exactly. Only `part` of it
 * when not NULL. `dp` NULL gives empty lists. A dataplane with swap-on-read needs `sr`, the
 * result of its dm_dataplane_swap_read(); the snapshots used are taken out of it.
 * Every metric is read all the same, shown or not, since reading empties (empty-on-read,
 * swap-on-read). Hash maps are read a chunk at a time and written as they come: memory holds a
 * chunk besides the text, not a copy of the map.
 * Returns 1, or 0 when `part` names a list or metric that does not exist (nothing written). */
int dm_readout_write_json(const struct dm_dataplane *dp, struct dm_swap_read *sr,
			  const struct dm_readout_part *part, struct jsonw *w, dm_error *error);

/* The OpenMetrics families of the exported metrics, samples labelled with `extra` too; no
 * "# EOF". */
int dm_readout_openmetrics(const struct dm_dataplane *dp, struct dm_swap_read *sr, FILE *f,
			   const struct om_label *extra, size_t n_extra, dm_error *error);
