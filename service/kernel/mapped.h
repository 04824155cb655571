/* SPDX-License-Identifier: Apache-2.0 */
/* Array maps read through memory: the user's plain arrays are created mappable
 * (BPF_F_MMAPABLE), and a read that empties nothing copies their values from a read-only
 * mapping instead of asking the kernel (a system call per map and read, most of a scrape of
 * many small maps). The programs see the same maps. */
#pragma once

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Before `obj` loads: its user maps of type BPF_MAP_TYPE_ARRAY that no fd stands for yet
 * (shared, inherited, pinned maps keep theirs) and whose values are plain data (numbers, in
 * structs, unions and arrays: no lock, timer or kernel pointer, which the kernel never maps)
 * are created mappable. */
void dm_mapped_prepare(struct bpf_object *obj);

/* The values of array `map` as the kernel lays them out (`*stride` bytes apart, the value
 * size rounded up to 8), mapped read-only at the first call and kept; NULL when the map is not
 * mappable, or its mapping failed (read it with bpf(2) then). Any thread. */
const void *dm_mapped_values(const struct bpf_map *map, size_t *stride);

/* Unmaps what dm_mapped_values() mapped, before the map goes. */
void dm_mapped_forget(const struct bpf_map *map);
