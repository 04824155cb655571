/* SPDX-License-Identifier: Apache-2.0 */
/* Where a map's content becomes a metric: the upstream JSON shape, and OpenMetrics samples
 * (one per element, per-CPU values summed, indices and scalar keys as labels). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "btf-json.h"
#include "metrics.h"
#include "openmetrics.h"
#include "util.h"

static bool map_type_is_hash(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool map_type_is_percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static bool map_type_is_supported(enum bpf_map_type t)
{
	return map_type_is_hash(t) || t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       t == BPF_MAP_TYPE_QUEUE || t == BPF_MAP_TYPE_STACK;
}

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
		       json_t **ret)
{
	if (btf && type_id)
		return btf_json_decode(btf, type_id, data, ret);
	*ret = raw_json(data, size);
	return *ret ? 0 : -ENOMEM;
}

static int value_json(const struct dm_map_snapshot *s, size_t i, json_t **ret)
{
	json_auto_t *list = NULL;
	int r;

	if (!map_type_is_percpu(s->type))
		return decode_json(s->btf, s->value_type_id, dm_map_snapshot_value(s, i, 0),
				   s->value_size, ret);

	list = json_array();
	if (!list)
		return -ENOMEM;
	for (uint32_t cpu = 0; cpu < s->n_cpus; cpu++) {
		json_t *v;

		r = decode_json(s->btf, s->value_type_id, dm_map_snapshot_value(s, i, cpu),
				s->value_size, &v);
		if (r < 0)
			return r;
		if (json_array_append_new(list, v) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(list);
	return 0;
}

static int entry_json(const struct dm_map_snapshot *s, size_t i, json_t **ret)
{
	json_auto_t *key = NULL, *value = NULL;
	json_t *entry;
	int r;

	if (!map_type_is_hash(s->type))
		return value_json(s, i, ret);

	r = decode_json(s->btf, s->key_type_id, dm_map_snapshot_key(s, i), s->key_size, &key);
	if (r < 0)
		return r;
	r = value_json(s, i, &value);
	if (r < 0)
		return r;

	entry = json_pack("{s:O,s:O}", "key", key, "value", value);
	if (!entry)
		return -ENOMEM;
	*ret = entry;
	return 0;
}

int dm_snapshot_to_json(const struct dm_map_snapshot *s, json_t **ret)
{
	json_auto_t *list = NULL;
	int r;

	if (!map_type_is_supported(s->type))
		return -EOPNOTSUPP;

	list = json_array();
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_entries; i++) {
		json_t *entry;

		r = entry_json(s, i, &entry);
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

static int decode_number(const struct btf *btf, uint32_t type_id, const void *data, uint32_t size,
			 struct dm_number *ret)
{
	if (btf && type_id)
		return btf_number_decode(btf, type_id, data, ret);
	if (!raw_is_integer(size))
		return -EMEDIUMTYPE;
	*ret = (struct dm_number){.kind = DM_NUMBER_U64, .u = raw_unsigned(data, size)};
	return 0;
}

/* Whether a type decodes to a number: asked of zeroed bytes, since it depends on the type
 * alone, so that an empty map is judged like a full one. */
static int type_is_scalar(const struct btf *btf, uint32_t type_id, uint32_t size)
{
	_cleanup_free_ void *zeros = calloc(1, size ?: 1);
	struct dm_number n;
	int r;

	if (!zeros)
		return -ENOMEM;
	r = decode_number(btf, type_id, zeros, size, &n);
	if (r == -EMEDIUMTYPE)
		return 0;
	return r < 0 ? r : 1;
}

static void number_add(struct dm_number *sum, const struct dm_number *x)
{
	switch (sum->kind) {
	case DM_NUMBER_U64:
		sum->u += x->u;
		break;
	case DM_NUMBER_I64:
		/* Wraps as unsigned sums do: signed overflow would be undefined. */
		sum->i = (int64_t)((uint64_t)sum->i + (uint64_t)x->i);
		break;
	case DM_NUMBER_F64:
		sum->f += x->f;
		break;
	}
}

/* An entry's value, summed over the CPUs of a per-CPU map. */
static int value_number(const struct dm_map_snapshot *s, size_t i, struct dm_number *ret)
{
	struct dm_number sum, x;
	int r;

	r = decode_number(s->btf, s->value_type_id, dm_map_snapshot_value(s, i, 0), s->value_size,
			  &sum);
	if (r < 0)
		return r;
	for (uint32_t cpu = 1; cpu < s->n_cpus; cpu++) {
		r = decode_number(s->btf, s->value_type_id, dm_map_snapshot_value(s, i, cpu),
				  s->value_size, &x);
		if (r < 0)
			return r;
		number_add(&sum, &x);
	}
	*ret = sum;
	return 0;
}

static int key_label_value(const struct dm_map_snapshot *s, size_t i, char *buf, size_t size)
{
	struct dm_number key;
	int r;

	r = decode_number(s->btf, s->key_type_id, dm_map_snapshot_key(s, i), s->key_size, &key);
	if (r < 0)
		return r;
	switch (key.kind) {
	case DM_NUMBER_U64:
		snprintf(buf, size, "%" PRIu64, key.u);
		break;
	case DM_NUMBER_I64:
		snprintf(buf, size, "%" PRId64, key.i);
		break;
	case DM_NUMBER_F64:
		snprintf(buf, size, "%.17g", key.f);
		break;
	}
	return 0;
}

/* One sample: `labels` holds the configured labels (n_fixed of them) and room for the element's
 * own label and the extra ones after them. */
static int write_sample(FILE *f, const struct dm_map_snapshot *s, size_t i, const char *family,
			const char *suffix, struct om_label *labels, size_t n_fixed,
			const struct om_label *extra, size_t n_extra)
{
	struct dm_number value;
	size_t n = n_fixed;
	char element[64];
	int r;

	r = value_number(s, i, &value);
	if (r < 0)
		return r;

	if (map_type_is_hash(s->type)) {
		r = key_label_value(s, i, element, sizeof(element));
		if (r < 0)
			return r;
		labels[n++] = (struct om_label){"key", element};
	} else if (s->n_entries > 1) {
		snprintf(element, sizeof(element), "%zu", i);
		labels[n++] = (struct om_label){"index", element};
	}
	if (n_extra > 0)
		memcpy(labels + n, extra, n_extra * sizeof(*extra));
	n += n_extra;

	return om_write_sample(f, family, suffix, labels, n, &value);
}

/* Whether every sample of the snapshot is a number with scalar labels; histograms and
 * summaries are not shaped here (yet). */
static int snapshot_is_exportable(const struct dm_map_snapshot *s, enum dm_metric_type type)
{
	int r;

	if (type == DM_METRIC_HISTOGRAM || type == DM_METRIC_SUMMARY)
		return 0;
	r = type_is_scalar(s->btf, s->value_type_id, s->value_size);
	if (r <= 0 || !map_type_is_hash(s->type))
		return r;
	return type_is_scalar(s->btf, s->key_type_id, s->key_size);
}

int dm_snapshot_write_openmetrics(FILE *f, const struct dm_map_snapshot *s,
				  const struct dm_metric_config *m, const struct om_label *extra,
				  size_t n_extra)
{
	_cleanup_free_ struct om_label *labels = NULL;
	_cleanup_free_ char *family = NULL;
	const char *suffix = m->type == DM_METRIC_COUNTER ? "_total" : "";
	int r;

	if (!m->open_metrics)
		return -EINVAL;
	if (!map_type_is_supported(s->type))
		return -EOPNOTSUPP;
	r = snapshot_is_exportable(s, m->type);
	if (r <= 0)
		return r;

	family = om_family_name(m->name, m->type);
	/* Configured labels, the element's label, extra labels. */
	labels = calloc(m->n_labels + 1 + n_extra, sizeof(*labels));
	if (!family || !labels)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_labels; i++)
		labels[i] = (struct om_label){m->labels[i].name, m->labels[i].value};

	r = om_write_family(f, family, m->type, m->help, NULL);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_entries; i++) {
		r = write_sample(f, s, i, family, suffix, labels, m->n_labels, extra, n_extra);
		if (r < 0)
			return r;
	}
	return 0;
}
