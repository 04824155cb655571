/* SPDX-License-Identifier: Apache-2.0 */
/* A snapshot's entries as JSON text: the key and value types compiled once into renderers
 * (btf-jsonw.c), then run over the snapshot's buffers entry after entry. */
#include <errno.h>

#include "btf-jsonw.h"
#include "snapshot-json.h"

/* Through BTF when the snapshot has it for this type, else as raw bytes (btf_jsonw_new_raw()). */
static int renderer_new(const struct dm_map_snapshot *s, uint32_t type_id, uint32_t size,
			bool network_order, struct btf_jsonw **ret)
{
	if (s->btf && type_id)
		return btf_jsonw_new(s->btf, type_id, network_order, ret);
	return btf_jsonw_new_raw(size, ret);
}

/* Per-CPU maps: a list with one value per possible CPU. */
static void write_value(struct jsonw *w, const struct dm_map_snapshot *s, size_t i,
			const struct btf_jsonw *value)
{
	if (!dm_map_type_is_percpu(s->type)) {
		btf_jsonw_write(value, w, dm_map_snapshot_value(s, i, 0));
		return;
	}
	jsonw_putc(w, '[');
	for (uint32_t cpu = 0; cpu < s->n_cpus; cpu++) {
		if (cpu > 0)
			jsonw_putc(w, ',');
		btf_jsonw_write(value, w, dm_map_snapshot_value(s, i, cpu));
	}
	jsonw_putc(w, ']');
}

int dm_snapshot_write_json_entries(struct jsonw *w, const struct dm_map_snapshot *s,
				   bool network_order)
{
	_cleanup_(btf_jsonw_freep) struct btf_jsonw *key = NULL, *value = NULL;
	bool hash = dm_map_type_is_hash(s->type);
	int r;

	if (!dm_map_type_is_supported(s->type))
		return -EOPNOTSUPP;
	/* As the tree: types are judged on the first entry, so an empty map shows as []. */
	if (s->n_entries == 0)
		return 0;
	r = hash ? renderer_new(s, s->key_type_id, s->key_size, network_order, &key) : 0;
	if (r >= 0)
		r = renderer_new(s, s->value_type_id, s->value_size, network_order, &value);
	if (r < 0)
		return r;

	for (size_t i = 0; i < s->n_entries; i++) {
		jsonw_value(w);
		if (hash) {
			jsonw_put(w, "{\"key\":", 7);
			btf_jsonw_write(key, w, dm_map_snapshot_key(s, i));
			jsonw_put(w, ",\"value\":", 9);
		}
		write_value(w, s, i, value);
		if (hash)
			jsonw_putc(w, '}');
	}
	return 0;
}

int dm_snapshot_write_json(struct jsonw *w, const struct dm_map_snapshot *s, bool network_order)
{
	int r;

	if (!dm_map_type_is_supported(s->type))
		return -EOPNOTSUPP;
	jsonw_begin_array(w);
	r = dm_snapshot_write_json_entries(w, s, network_order);
	jsonw_end_array(w);
	return r;
}
