/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a dataplane's metrics: every metric's map read (or, for swap-on-read, taken from a
 * swap that already happened), shaped as upstream's JSON or as OpenMetrics families. */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "dataplane.h"
#include "openmetrics.h"

/* {"ingress-metrics": [...], "egress-metrics": [...]}; `dp` NULL gives empty lists. A dataplane
 * with swap-on-read needs `sr`, the result of its dm_dataplane_swap_read(); the snapshots used
 * are taken out of it. */
int dm_readout_json(const struct dm_dataplane *dp, struct dm_swap_read *sr, json_t **ret,
		    dm_error *error);

/* The OpenMetrics families of the exported metrics, samples labelled with `extra` too; no
 * "# EOF". */
int dm_readout_openmetrics(const struct dm_dataplane *dp, struct dm_swap_read *sr, FILE *f,
			   const struct om_label *extra, size_t n_extra, dm_error *error);
