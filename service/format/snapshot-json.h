/* SPDX-License-Identifier: Apache-2.0 */
/* A map snapshot as the "value" of a metric in upstream's JSON shape, streamed through jsonw:
 * the text json_dumps(JSON_COMPACT) makes of dm_snapshot_to_json()'s tree (metrics.h says the
 * shape), without building the tree, and with u64 above INT64_MAX exact. */
#pragma once

#include "jsonw.h"
#include "snapshot.h"

/* Writes the snapshot as one JSON value (the separator before it included). -EOPNOTSUPP for a
 * map type metrics.c does not show, -EINVAL for a key or value type that cannot be decoded,
 * -ENOMEM; what was written is then of no use. Errors of the writer itself (memory, the FILE)
 * are the writer's: jsonw_flush() says them. */
int dm_snapshot_write_json(struct jsonw *w, const struct dm_map_snapshot *s, bool network_order);

/* The entries alone, as elements of the list the caller has begun (jsonw_begin_array()):
 * one call per chunk of a map read a chunk at a time. */
int dm_snapshot_write_json_entries(struct jsonw *w, const struct dm_map_snapshot *s,
				   bool network_order);
