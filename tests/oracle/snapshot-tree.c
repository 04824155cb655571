/* SPDX-License-Identifier: Apache-2.0 */
/* The test oracle of the Metrics JSON: a map snapshot as a jansson tree in upstream's shape.
 * dynmond streams the same text (format/snapshot-json.c) without the tree; the unit tests and
 * the benchmarks compare the two. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "btf-json.h"
#include "snapshot-tree.h"
#include "util.h"

/* Without BTF, bytes of an integer's size are most likely an integer, in the host's byte
 * order since the dataplane wrote it on this host; anything else stays a list of bytes. */
static bool raw_is_integer(uint32_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static uint64_t raw_unsigned(const void *data, uint32_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1:
		memcpy(&u8, data, 1);
		return u8;
	case 2:
		memcpy(&u16, data, 2);
		return u16;
	case 4:
		memcpy(&u32, data, 4);
		return u32;
	default:
		memcpy(&u64, data, 8);
		return u64;
	}
}

static json_t *raw_json(const void *data, uint32_t size)
{
	const uint8_t *bytes = data;
	json_t *list;

	if (raw_is_integer(size)) {
		uint64_t u = raw_unsigned(data, size);

		/* jansson integers are signed: beyond INT64_MAX only a real keeps the magnitude. */
		return u > INT64_MAX ? json_real((double)u) : json_integer((json_int_t)u);
	}

	list = json_array();
	for (uint32_t i = 0; list && i < size; i++)
		if (json_array_append_new(list, json_integer(bytes[i])) < 0) {
			json_decref(list);
			return NULL;
		}
	return list;
}

static int decode_json(const struct btf *btf, uint32_t type_id, const void *data, uint32_t size,
		       bool network_order, json_t **ret)
{
	if (btf && type_id)
		return btf_json_decode(btf, type_id, data, network_order, ret);
	*ret = raw_json(data, size);
	return *ret ? 0 : -ENOMEM;
}

static int value_json(const struct dm_map_snapshot *s, size_t i, bool network_order, json_t **ret)
{
	json_auto_t *list = NULL;
	int r;

	if (!dm_map_type_is_percpu(s->type))
		return decode_json(s->btf, s->value_type_id, dm_map_snapshot_value(s, i, 0),
				   s->value_size, network_order, ret);

	list = json_array();
	if (!list)
		return -ENOMEM;
	for (uint32_t cpu = 0; cpu < s->n_cpus; cpu++) {
		json_t *v;

		r = decode_json(s->btf, s->value_type_id, dm_map_snapshot_value(s, i, cpu),
				s->value_size, network_order, &v);
		if (r < 0)
			return r;
		if (json_array_append_new(list, v) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(list);
	return 0;
}

static int entry_json(const struct dm_map_snapshot *s, size_t i, bool network_order, json_t **ret)
{
	json_auto_t *key = NULL, *value = NULL;
	json_t *entry;
	int r;

	if (!dm_map_type_is_hash(s->type))
		return value_json(s, i, network_order, ret);

	r = decode_json(s->btf, s->key_type_id, dm_map_snapshot_key(s, i), s->key_size,
			network_order, &key);
	if (r < 0)
		return r;
	r = value_json(s, i, network_order, &value);
	if (r < 0)
		return r;

	entry = json_pack("{s:O,s:O}", "key", key, "value", value);
	if (!entry)
		return -ENOMEM;
	*ret = entry;
	return 0;
}

int dm_snapshot_to_json(const struct dm_map_snapshot *s, bool network_order, json_t **ret)
{
	json_auto_t *list = NULL;
	int r;

	if (!dm_map_type_is_supported(s->type))
		return -EOPNOTSUPP;

	list = json_array();
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_entries; i++) {
		json_t *entry;

		r = entry_json(s, i, network_order, &entry);
		if (r < 0)
			return r;
		if (json_array_append_new(list, entry) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(list);
	return 0;
}

json_t *dm_metric_json(const char *name, json_t *value, int64_t timestamp_ms)
{
	/* "o" hands `value` over, also when packing fails. */
	return json_pack("{s:s,s:o,s:I}", "name", name, "value", value, "timestamp",
			 (json_int_t)timestamp_ms);
}
