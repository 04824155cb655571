/* SPDX-License-Identifier: Apache-2.0 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "mapped.h"

/* Nested deeper than this, a value type is not looked into (and not mapped). */
#define PLAIN_DEPTH_MAX 32

/* Whether the kernel maps a value of type `id`: plain data only. The kernel's special fields
 * (bpf_spin_lock, bpf_timer, bpf_list_head, bpf_rb_root, bpf_refcount, bpf_wq...) are
 * structs named bpf_*; kernel pointers are pointers (with a type tag). */
static bool is_plain(const struct btf *btf, uint32_t id, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m;
	const char *name;

	if (!t || depth > PLAIN_DEPTH_MAX)
		return false;
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_FLOAT:
		return true;
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
		return is_plain(btf, t->type, depth + 1);
	case BTF_KIND_ARRAY:
		return is_plain(btf, btf_array(t)->type, depth + 1);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		name = btf__name_by_offset(btf, t->name_off);
		if (name && strncmp(name, "bpf_", 4) == 0)
			return false;
		m = btf_members(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++)
			if (!is_plain(btf, m[i].type, depth + 1))
				return false;
		return true;
	default:
		return false;
	}
}

void dm_mapped_prepare(struct bpf_object *obj)
{
	const struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;

	bpf_object__for_each_map (map, obj) {
		uint32_t value = bpf_map__btf_value_type_id(map);

		if (bpf_map__type(map) != BPF_MAP_TYPE_ARRAY || bpf_map__is_internal(map) ||
		    bpf_map__fd(map) >= 0 || !btf || value == 0 || !is_plain(btf, value, 0))
			continue;
		(void)bpf_map__set_map_flags(map, bpf_map__map_flags(map) | BPF_F_MMAPABLE);
	}
}

/* The mappings made, by map (a linear search: a few hundred maps at most). A map whose
 * mapping failed is kept with `addr` NULL, so as not to try again at every read. */
static struct {
	pthread_mutex_t lock;
	struct mapping {
		const struct bpf_map *map;
		int fd; /* the map's when mapped: another means another map at the same address */
		void *addr;
		size_t len;
	} * v;
	size_t len;
} mappings = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t find(const struct bpf_map *map)
{
	size_t i = 0;

	while (i < mappings.len && mappings.v[i].map != map)
		i++;
	return i;
}

static size_t stride_of(const struct bpf_map *map)
{
	return ((size_t)bpf_map__value_size(map) + 7) & ~(size_t)7;
}

/* The kernel's mapping of an array: its values from offset 0, the size rounded to pages. */
static void *map_values(const struct bpf_map *map, size_t *len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *addr;

	*len = (stride_of(map) * bpf_map__max_entries(map) + page - 1) / page * page;
	addr = mmap(NULL, *len, PROT_READ, MAP_SHARED, bpf_map__fd(map), 0);
	if (addr == MAP_FAILED) {
		log_debug_errno(errno, "Map %s cannot be mapped, read with bpf(2): %m",
				bpf_map__name(map));
		return NULL;
	}
	return addr;
}

const void *dm_mapped_values(const struct bpf_map *map, size_t *stride)
{
	struct mapping *v;
	void *addr = NULL;
	size_t i;

	if (bpf_map__type(map) != BPF_MAP_TYPE_ARRAY ||
	    !(bpf_map__map_flags(map) & BPF_F_MMAPABLE) || bpf_map__fd(map) < 0)
		return NULL;
	pthread_mutex_lock(&mappings.lock);
	i = find(map);
	if (i < mappings.len && mappings.v[i].fd != bpf_map__fd(map)) {
		/* A map freed without dm_mapped_forget(), and another at its address. */
		if (mappings.v[i].addr)
			munmap(mappings.v[i].addr, mappings.v[i].len);
		mappings.v[i].fd = bpf_map__fd(map);
		mappings.v[i].addr = map_values(map, &mappings.v[i].len);
	}
	if (i < mappings.len) {
		addr = mappings.v[i].addr;
	} else if ((v = reallocarray(mappings.v, mappings.len + 1, sizeof(*v)))) {
		mappings.v = v;
		v[i] = (struct mapping){.map = map, .fd = bpf_map__fd(map)};
		v[i].addr = addr = map_values(map, &v[i].len);
		mappings.len++;
	}
	pthread_mutex_unlock(&mappings.lock);
	*stride = stride_of(map);
	return addr;
}

void dm_mapped_forget(const struct bpf_map *map)
{
	size_t i;

	pthread_mutex_lock(&mappings.lock);
	i = find(map);
	if (i < mappings.len) {
		if (mappings.v[i].addr)
			munmap(mappings.v[i].addr, mappings.v[i].len);
		mappings.v[i] = mappings.v[--mappings.len];
		if (mappings.len == 0) {
			free(mappings.v);
			mappings.v = NULL;
		}
	}
	pthread_mutex_unlock(&mappings.lock);
}
