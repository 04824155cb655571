/* SPDX-License-Identifier: Apache-2.0 */
/* A map snapshot as the "value" of a metric in upstream's JSON shape, streamed through jsonw:
 * the text json_dumps(JSON_COMPACT) makes of the tests' dm_snapshot_to_json() tree
 * (tests/oracle/), without building the tree, and with u64 above INT64_MAX exact. The shape:
 * - array / percpu_array: a list with one element per index;
 * - hash, lru_hash (and their per-CPU kinds): a list of {"key": K, "value": V};
 * - queue / stack: a list of values in pop order;
 * - per-CPU maps: each value is itself a list with one element per possible CPU.
 * Keys and values are decoded through BTF (btf-jsonw.h); without BTF, as lists of bytes. */
#pragma once

#include "jsonw.h"
#include "snapshot.h"

/* Writes the snapshot as one JSON value (the separator before it included). -EOPNOTSUPP for a
 * map type metrics do not show (dm_map_type_is_supported()), -EINVAL for a key or value type that
 * cannot be decoded, -ENOMEM; what was written is then of no use. Errors of the writer itself
 * (memory, the FILE) are the writer's: jsonw_flush() says them. `network_order`: the metric's
 * "network-byte-order" option (btf-jsonw.h). */
int dm_snapshot_write_json(struct jsonw *w, const struct dm_map_snapshot *s, bool network_order);

/* The entries alone, as elements of the list the caller has begun (jsonw_begin_array()):
 * one call per chunk of a map read a chunk at a time. */
int dm_snapshot_write_json_entries(struct jsonw *w, const struct dm_map_snapshot *s,
				   bool network_order);
