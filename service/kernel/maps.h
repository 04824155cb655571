/* SPDX-License-Identifier: Apache-2.0 */
/* Reading eBPF maps: one snapshot of all entries, with batch operations where the kernel has
 * them (a mappable array through its mapping, mapped.h), optionally emptying the map as it is
 * read (empty-on-read). The kernel side only: turning a snapshot into JSON or OpenMetrics is
 * format/'s job (snapshot-json.c, export-metrics.c). */
#pragma once

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdint.h>

#include "snapshot.h"
#include "util.h"

/* Reads every entry of `map` (of a loaded object). With `empty`, entries are removed as they
 * are read (array maps: zeroed; queue and stack maps are drained by any read, and refilled in
 * their order without `empty`). `btf` is the object's (bpf_object__btf(), may be NULL): libbpf
 * 1.1 has no way from a map back to its object. Returns -errno; -EOPNOTSUPP for a map type it
 * cannot read. */
int dm_map_snapshot_read(const struct bpf_map *map, const struct btf *btf, bool empty,
			 struct dm_map_snapshot **ret);

/* The same on a bare map fd (its geometry from the kernel's map info), e.g. for a map that no
 * bpf_object owns. The snapshot carries no BTF: btf is NULL, the type ids 0. */
int dm_map_snapshot_read_fd(int fd, bool empty, struct dm_map_snapshot **ret);

/* Reads like dm_map_snapshot_read(), handing the entries over as they come: `fn` gets each chunk
 * as a snapshot (with the map's BTF) that is valid during the call only, and may stop the read
 * by returning -errno, which is then returned. Memory holds one chunk (a batch, 4096 entries)
 * instead of the map. Hash maps read by batches come in chunks; every other map, and a hash
 * map on a kernel without batch operations, comes as one chunk. A map read with `empty` loses
 * what was read before an error. */
typedef int (*dm_map_chunk_fn)(const struct dm_map_snapshot *chunk, void *userdata);
int dm_map_read_chunks(const struct bpf_map *map, const struct btf *btf, bool empty,
		       dm_map_chunk_fn fn, void *userdata);

/* How many entries the last read of `map` found (every map but arrays, which are always full):
 * false when it was never read. dm_map_forget() when the map goes. */
bool dm_map_last_entries(const struct bpf_map *map, size_t *ret);
void dm_map_forget(const struct bpf_map *map);

/* For tests only: read element by element, as on kernels without batch operations (and no array
 * through its mapping, mapped.h). */
extern bool dm_maps_no_batch;
