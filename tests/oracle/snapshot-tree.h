/* SPDX-License-Identifier: Apache-2.0 */
/* The test oracle of the Metrics JSON (see snapshot-tree.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "snapshot.h"

/* The "value" of a metric in the upstream JSON shape, as the tree of the text dynmond streams
 * (format/snapshot-json.h says the shape). Keys and values are decoded through BTF
 * (btf_json_decode(), as `network_order` says: the metric's "network-byte-order" option);
 * without BTF, as lists of bytes. */
int dm_snapshot_to_json(const struct dm_map_snapshot *s, bool network_order, json_t **ret);

/* {"name": ..., "value": ..., "timestamp": ms since the epoch} */
json_t *dm_metric_json(const char *name, json_t *value, int64_t timestamp_ms);
