/* SPDX-License-Identifier: Apache-2.0 */
/* A map's content as read at one moment: what the kernel side (kernel/maps.h) fills and every
 * format (JSON, OpenMetrics) reads. Pure data: no kernel access. */
#pragma once

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct dm_map_snapshot {
	enum bpf_map_type type;
	const struct btf *btf; /* borrowed from the map's object; may be NULL (no BTF) */
	uint32_t key_type_id;  /* 0 when the map has no key (queue, stack) or no BTF */
	uint32_t value_type_id;
	uint32_t key_size;
	uint32_t value_size; /* of one value, as declared */
	/* Values per entry: libbpf_num_possible_cpus() for per-CPU maps, else 1; the bytes between
	 * two CPUs' values: round_up(value_size, 8) for per-CPU maps, else value_size. */
	uint32_t n_cpus;
	uint32_t value_stride;
	size_t n_entries;
	void *keys;   /* n_entries * key_size bytes (NULL for key-less maps) */
	void *values; /* n_entries * n_cpus * value_stride bytes */
};

void dm_map_snapshot_free(struct dm_map_snapshot *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_map_snapshot *, dm_map_snapshot_free);

static inline bool dm_map_type_is_hash(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static inline bool dm_map_type_is_array(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static inline bool dm_map_type_is_percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* The map types metrics show (snapshot-json.c, export-plan.c). */
static inline bool dm_map_type_is_supported(enum bpf_map_type t)
{
	return dm_map_type_is_hash(t) || t == BPF_MAP_TYPE_ARRAY ||
	       t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_QUEUE || t == BPF_MAP_TYPE_STACK;
}

static inline const void *dm_map_snapshot_key(const struct dm_map_snapshot *s, size_t i)
{
	return (const char *)s->keys + i * s->key_size;
}

static inline const void *dm_map_snapshot_value(const struct dm_map_snapshot *s, size_t i,
						uint32_t cpu)
{
	return (const char *)s->values + (i * s->n_cpus + cpu) * s->value_stride;
}
