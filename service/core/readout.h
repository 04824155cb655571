/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a dataplane's metrics: the maps of the metrics a read takes read (or, for swap-on-read,
 * taken from a swap that already happened), shaped as upstream's JSON or as OpenMetrics families.
 */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "dataplane.h"
#include "jsonw.h"
#include "openmetrics.h"

/* The shapes of the JSON a read gives. */
enum dm_readout_shape {
	DM_READOUT_DOCUMENT, /* {"ingress-metrics": [...], "egress-metrics": [...]} */
	DM_READOUT_LIST,     /* one path's list */
	DM_READOUT_METRIC,   /* one metric: {"name", "value", "timestamp"} */
	DM_READOUT_VALUE,    /* its "value" */
};

/* The metrics `sel` takes (dataplane.h), streamed through `w` in `shape`: each metric
 * {"name", "value", "timestamp"} with dm_snapshot_to_json()'s value, as the text
 * json_dumps(JSON_COMPACT) would make of that tree, except for u64 above INT64_MAX, written
 * exactly. The document has both lists, with the metrics taken only; a list is sel->path's;
 * a metric is the one sel->path and sel->metric name. `dp` NULL gives empty lists. Only the
 * metrics taken are read (and emptied, with empty-on-read); a dataplane with swap-on-read needs
 * `sr`, the result of its dm_dataplane_swap_read() for `sel`, whose snapshots are taken out.
 * Hash maps are read a chunk at a time and written as they come: memory holds a chunk besides
 * the text, not a copy of the map.
 * Returns 1, or 0 for a metric that does not exist (nothing written). */
int dm_readout_write_json(const struct dm_dataplane *dp, struct dm_swap_read *sr,
			  const struct dm_read_sel *sel, enum dm_readout_shape shape,
			  struct jsonw *w, dm_error *error);

/* The OpenMetrics families of the exported metrics `sel` takes, samples labelled with `extra`
 * too, rendered into `fs` (which may gather other dataplanes' families too). A family that a
 * metric not taken shares is labelled as in the whole document, with the samples of the
 * metrics taken only. The plans are made at the first read and kept with the dataplane; hash
 * maps are read a chunk at a time and each chunk rendered as it comes. */
int dm_readout_openmetrics(const struct dm_dataplane *dp, struct dm_swap_read *sr,
			   const struct dm_read_sel *sel, struct om_families *fs,
			   const struct om_label *extra, size_t n_extra, dm_error *error);
