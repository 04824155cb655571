/* SPDX-License-Identifier: Apache-2.0 */
/* Reading eBPF maps into snapshots: batch operations where the kernel has them, element by
 * element where it does not, and the emptying that empty-on-read asks for. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "btf-util.h"
#include "counts.h"
#include "log.h"
#include "mapped.h"
#include "maps.h"
#include "util.h"

/* The kernel's own "not supported", which leaks out of bpf(2) for batch operations. */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

/* Entries asked for per batch call: bounds the time one call holds the map. */
#define BATCH_CHUNK 4096u

bool dm_maps_no_batch = false;

/* One read in progress: the snapshot being filled and the room its buffers have. */
struct reader {
	int fd;
	bool empty;
	struct dm_map_snapshot *s;
	size_t capacity;   /* entries the buffers hold */
	size_t entry_size; /* bytes of one entry's values: n_cpus * value_stride */
	uint32_t max_entries;
	/* A read in chunks: each batch goes to chunk_fn, and the buffers are reused. */
	dm_map_chunk_fn chunk_fn;
	void *userdata;
	/* A mappable array read without emptying: its values in memory (mapped.h). */
	const void *mapped;
	size_t stride;
};

static bool errno_is_unsupported(int r)
{
	return r == -EINVAL || r == -ENOTSUPP || r == -EOPNOTSUPP;
}

static void *key_at(struct reader *r, size_t i)
{
	return (char *)r->s->keys + i * r->s->key_size;
}

static void *value_at(struct reader *r, size_t i)
{
	return (char *)r->s->values + i * r->entry_size;
}

/* Grows a buffer of `old` to `new` elements, zeroed: the kernel fills them behind the back of
 * tools like valgrind, which know no batch operation, and leaves per-CPU padding alone. calloc
 * (the first time) does not touch pages that the kernel will not write. */
static int grow(void **p, size_t old, size_t new, size_t size)
{
	void *q;

	if (!*p) {
		q = calloc(new, size);
	} else {
		q = reallocarray(*p, new, size);
		if (q)
			memset((char *)q + old * size, 0, (new - old) * size);
	}
	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

/* Makes room for `n` more entries; the buffers start at max_entries + 1 and grow only when
 * updates racing with the read push a hash map past that. */
static int reserve(struct reader *r, size_t n)
{
	struct dm_map_snapshot *s = r->s;
	size_t want = s->n_entries + n;
	int k;

	if (want <= r->capacity)
		return 0;
	want = want > 2 * r->capacity ? want : 2 * r->capacity;

	if (s->key_size > 0) {
		k = grow(&s->keys, r->capacity, want, s->key_size);
		if (k < 0)
			return k;
	}
	k = grow(&s->values, r->capacity, want, r->entry_size);
	if (k < 0)
		return k;
	r->capacity = want;
	return 0;
}

/* Batch reads through the whole map. The kernel ends with ENOENT *and* the count of the last,
 * partial chunk. Returns -EOPNOTSUPP when the kernel has no batch operation for this map. */
static int read_batch(struct reader *r, bool delete)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	/* The batch cursor: a bucket index (hash) or the key (array), 4 bytes for both. */
	uint64_t in = 0, out = 0;
	uint32_t chunk = BATCH_CHUNK;
	bool first = true;
	int k;

	for (;;) {
		size_t n = r->s->n_entries;
		uint32_t count;

		k = reserve(r, 1);
		if (k < 0)
			return k;
		count = r->capacity - n < chunk ? r->capacity - n : chunk;
		if (delete)
			k = bpf_map_lookup_and_delete_batch(r->fd, first ? NULL : &in, &out,
							    key_at(r, n), value_at(r, n), &count,
							    &opts);
		else
			k = bpf_map_lookup_batch(r->fd, first ? NULL : &in, &out, key_at(r, n),
						 value_at(r, n), &count, &opts);
		if (k == -ENOSPC && count == 0) {
			/* The next hash bucket holds more than was asked for: ask for more. */
			chunk *= 2;
			k = reserve(r, chunk);
			if (k < 0)
				return k;
			continue;
		}
		if (k < 0 && k != -ENOENT)
			return first && errno_is_unsupported(k) ? -EOPNOTSUPP : k;

		r->s->n_entries += count;
		if (r->chunk_fn && r->s->n_entries > 0) {
			int q = r->chunk_fn(r->s, r->userdata);

			if (q < 0)
				return q;
			r->s->n_entries = 0;
		}
		if (k == -ENOENT)
			return 0;
		in = out;
		first = false;
	}
}

/* Kernels before 5.14 cannot look up and delete a hash element in one call. */
static int lookup_and_delete(int fd, const void *key, void *value)
{
	int k;

	k = bpf_map_lookup_and_delete_elem(fd, key, value);
	if (!errno_is_unsupported(k))
		return k;
	k = bpf_map_lookup_elem(fd, key, value);
	if (k < 0)
		return k;
	return bpf_map_delete_elem(fd, key);
}

/* Element by element, for kernels without batch operations. Emptying restarts from the first
 * key each time, since the previous key is gone. A key deleted by the dataplane between two
 * calls makes the kernel start over too: a plain read may then see entries twice. */
static int read_hash_by_key(struct reader *r)
{
	_cleanup_free_ void *prev = malloc(r->s->key_size);
	bool have_prev = false;
	int k;

	if (!prev)
		return -ENOMEM;

	for (;;) {
		size_t n = r->s->n_entries;

		k = reserve(r, 1);
		if (k < 0)
			return k;
		k = bpf_map_get_next_key(r->fd, have_prev && !r->empty ? prev : NULL, key_at(r, n));
		if (k == -ENOENT)
			return 0;
		if (k < 0)
			return k;
		memcpy(prev, key_at(r, n), r->s->key_size);
		have_prev = true;

		if (r->empty)
			k = lookup_and_delete(r->fd, key_at(r, n), value_at(r, n));
		else
			k = bpf_map_lookup_elem(r->fd, key_at(r, n), value_at(r, n));
		if (k == -ENOENT) /* deleted by the dataplane meanwhile */
			continue;
		if (k < 0)
			return k;
		r->s->n_entries++;
	}
}

static int read_hash(struct reader *r)
{
	int k;

	if (!dm_maps_no_batch) {
		k = read_batch(r, r->empty);
		if (k != -EOPNOTSUPP)
			return k;
	}
	return read_hash_by_key(r);
}

static int read_array_by_index(struct reader *r)
{
	int k;

	for (uint32_t i = 0; i < r->max_entries; i++) {
		memcpy(key_at(r, i), &i, sizeof(i));
		k = bpf_map_lookup_elem(r->fd, &i, value_at(r, i));
		if (k < 0)
			return k;
		r->s->n_entries++;
	}
	return 0;
}

/* Array elements cannot be deleted: emptying writes zeros over what was read, a chunk at a
 * time, reusing the snapshot's keys (which are the indices). Updates between the read and the
 * zeroing are lost; swap-on-read is what avoids that. */
static int zero_array(struct reader *r)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	_cleanup_free_ void *zeros = calloc(BATCH_CHUNK, r->entry_size);
	size_t n = r->s->n_entries;
	int k;

	if (!zeros)
		return -ENOMEM;

	for (size_t i = 0; i < n; i += BATCH_CHUNK) {
		uint32_t chunk = n - i < BATCH_CHUNK ? n - i : BATCH_CHUNK;
		uint32_t count = chunk;

		k = dm_maps_no_batch
			? -EOPNOTSUPP
			: bpf_map_update_batch(r->fd, key_at(r, i), zeros, &count, &opts);
		if (k >= 0)
			continue;
		if (!errno_is_unsupported(k))
			return k;
		for (size_t j = i; j < i + chunk; j++) {
			k = bpf_map_update_elem(r->fd, key_at(r, j), zeros, BPF_ANY);
			if (k < 0)
				return k;
		}
	}
	return 0;
}

/* A mappable array: its values copied from the mapping, without a system call. */
static int read_array_mapped(struct reader *r)
{
	for (uint32_t i = 0; i < r->max_entries; i++) {
		memcpy(key_at(r, i), &i, sizeof(i));
		memcpy(value_at(r, i), (const char *)r->mapped + i * r->stride, r->s->value_size);
	}
	r->s->n_entries = r->max_entries;
	return 0;
}

static int read_array(struct reader *r)
{
	int k = -EOPNOTSUPP;

	if (r->mapped)
		return read_array_mapped(r);
	if (!dm_maps_no_batch)
		k = read_batch(r, false);
	if (k == -EOPNOTSUPP) {
		r->s->n_entries = 0;
		k = read_array_by_index(r);
	}
	if (k < 0)
		return k;
	return r->empty ? zero_array(r) : 0;
}

/* Pushing the popped values back restores the map: in pop order for a queue (first in, first
 * out again), in reverse for a stack (the last popped was the bottom). */
static int refill_queue(struct reader *r)
{
	size_t n = r->s->n_entries;
	int k;

	for (size_t j = 0; j < n; j++) {
		size_t i = r->s->type == BPF_MAP_TYPE_QUEUE ? j : n - 1 - j;

		k = bpf_map_update_elem(r->fd, NULL, value_at(r, i), BPF_ANY);
		if (k < 0)
			return log_warning_errno(k, "Failed to push back a value read: %m");
	}
	return 0;
}

/* Queues and stacks can only be read by popping. Values the dataplane pushes while a
 * non-emptying read refills the map end up before the refilled ones. */
static int read_queue(struct reader *r)
{
	int k, q;

	for (;;) {
		k = reserve(r, 1);
		if (k < 0)
			break;
		k = bpf_map_lookup_and_delete_elem(r->fd, NULL, value_at(r, r->s->n_entries));
		if (k < 0)
			break;
		r->s->n_entries++;
	}
	if (k == -ENOENT)
		k = 0;

	if (!r->empty) {
		q = refill_queue(r);
		if (k == 0)
			k = q;
	}
	return k;
}

/* The first room a whole read makes: an array's entries all come (one more: the call that
 * finds the end of a full map needs room too); a hash's room grows with what is live, which
 * may be far below max_entries. */
static size_t first_capacity(const struct bpf_map_info *info)
{
	size_t all = (size_t)info->max_entries + 1;

	return dm_map_type_is_hash(info->type) && all > BATCH_CHUNK ? BATCH_CHUNK : all;
}

static int snapshot_new(const struct bpf_map_info *info, struct reader *r, size_t room)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = NULL;
	int n_cpus = 1;

	if (dm_map_type_is_percpu(info->type)) {
		n_cpus = libbpf_num_possible_cpus();
		if (n_cpus < 0)
			return n_cpus;
	}

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->type = info->type;
	s->key_size = info->key_size;
	s->value_size = info->value_size;
	s->n_cpus = n_cpus;
	/* The kernel lays per-CPU values out 8-byte aligned, whatever their size. */
	s->value_stride =
	    dm_map_type_is_percpu(info->type) ? (info->value_size + 7) & ~7u : info->value_size;

	r->s = s;
	r->entry_size = (size_t)s->n_cpus * s->value_stride;
	r->capacity = 0;
	if (room > 0 && reserve(r, room) < 0)
		return -ENOMEM;
	r->s = TAKE_PTR(s);
	return 0;
}

typedef int (*read_func)(struct reader *r);

static read_func read_func_for(enum bpf_map_type t)
{
	switch (t) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return read_hash;
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return read_array;
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
		return read_queue;
	default:
		return NULL;
	}
}

/* What a read needs to know of a map: from libbpf, which knows its maps, rather than from
 * the kernel, which costs a system call per read (as much as reading a small map). */
static struct bpf_map_info info_of(const struct bpf_map *map)
{
	return (struct bpf_map_info){
	    .type = bpf_map__type(map),
	    .key_size = bpf_map__key_size(map),
	    .value_size = bpf_map__value_size(map),
	    .max_entries = bpf_map__max_entries(map),
	};
}

/* `map` NULL: a bare fd, read with bpf(2). */
static int read_whole(int fd, const struct bpf_map *map, const struct bpf_map_info *info,
		      bool empty, struct dm_map_snapshot **ret)
{
	struct reader r = {.fd = fd, .empty = empty};
	read_func read;
	int k;

	if (map && !empty && !dm_maps_no_batch)
		r.mapped = dm_mapped_values(map, &r.stride);

	read = read_func_for(info->type);
	if (!read)
		return -EOPNOTSUPP;
	r.max_entries = info->max_entries;

	k = snapshot_new(info, &r, first_capacity(info));
	if (k < 0)
		return k;
	k = read(&r);
	if (k < 0) {
		dm_map_snapshot_free(r.s);
		return k;
	}
	*ret = r.s;
	return 0;
}

int dm_map_snapshot_read_fd(int fd, bool empty, struct dm_map_snapshot **ret)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	int k;

	k = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (k < 0)
		return k;
	return read_whole(fd, NULL, &info, empty, ret);
}

static void snapshot_set_btf(struct dm_map_snapshot *s, const struct bpf_map *map,
			     const struct btf *btf)
{
	if (!btf)
		return;
	s->btf = btf;
	/* The ids of the map's definition, before the map's own: btf-util.c says why. */
	s->key_type_id = dm_btf_map_member_type(btf, bpf_map__name(map), "key");
	s->value_type_id = dm_btf_map_member_type(btf, bpf_map__name(map), "value");
	if (s->key_type_id == 0)
		s->key_type_id = bpf_map__btf_key_type_id(map);
	if (s->value_type_id == 0)
		s->value_type_id = bpf_map__btf_value_type_id(map);
}

/* ---- How full the maps were when last read -------------------------------------------------- */

/* The kernel tells no map's number of entries but by reading it: what the last read counted is
 * kept here for dynmon's own metrics. Reads run on the event loop and in the worker. */
static struct dm_counts counts = DM_COUNTS_INIT;

static void note_entries(const struct bpf_map *map, size_t entries)
{
	if (bpf_map__type(map) == BPF_MAP_TYPE_ARRAY ||
	    bpf_map__type(map) == BPF_MAP_TYPE_PERCPU_ARRAY)
		return; /* always full */
	dm_counts_set(&counts, map, entries);
}

bool dm_map_last_entries(const struct bpf_map *map, size_t *ret)
{
	return dm_counts_get(&counts, map, ret);
}

void dm_map_forget(const struct bpf_map *map)
{
	dm_counts_forget(&counts, map);
	dm_mapped_forget(map);
}

/* ---- Reads -------------------------------------------------------------------------------- */

int dm_map_snapshot_read(const struct bpf_map *map, const struct btf *btf, bool empty,
			 struct dm_map_snapshot **ret)
{
	struct bpf_map_info info = info_of(map);
	struct dm_map_snapshot *s;
	int fd, k;

	fd = bpf_map__fd(map);
	if (fd < 0)
		return fd;

	k = read_whole(fd, map, &info, empty, &s);
	if (k < 0)
		return k;

	snapshot_set_btf(s, map, btf);
	note_entries(map, s->n_entries);
	*ret = s;
	return 0;
}

/* A chunked read's callback, counting the entries on the way. */
struct chunk_counter {
	dm_map_chunk_fn fn;
	void *userdata;
	size_t entries;
};

static int count_chunk(const struct dm_map_snapshot *chunk, void *userdata)
{
	struct chunk_counter *c = userdata;

	c->entries += chunk->n_entries;
	return c->fn(chunk, c->userdata);
}

/* Only hash maps go a chunk at a time: emptying an array reuses the keys it read, and a queue
 * is refilled from what was popped. A hash map without batch operations comes whole too, from
 * the element-by-element read. */
int dm_map_read_chunks(const struct bpf_map *map, const struct btf *btf, bool empty,
		       dm_map_chunk_fn fn, void *userdata)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *whole = NULL;
	struct bpf_map_info info = info_of(map);
	struct chunk_counter counter = {fn, userdata, 0};
	struct reader r = {.empty = empty, .chunk_fn = count_chunk, .userdata = &counter};
	int k;

	r.fd = bpf_map__fd(map);
	if (r.fd < 0)
		return r.fd;
	if (read_func_for(info.type) != read_hash) {
		k = dm_map_snapshot_read(map, btf, empty, &whole);
		return k < 0 ? k : fn(whole, userdata);
	}

	r.max_entries = info.max_entries;
	k = snapshot_new(&info, &r, BATCH_CHUNK); /* a read in chunks needs one batch */
	if (k < 0)
		return k;
	whole = r.s;
	snapshot_set_btf(whole, map, btf);
	k = read_hash(&r);
	if (k >= 0 && whole->n_entries > 0)
		k = count_chunk(whole, &counter);
	if (k >= 0)
		note_entries(map, counter.entries);
	return k;
}
