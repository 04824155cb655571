/* SPDX-License-Identifier: Apache-2.0 */
/* The normalized form of a configuration, v1.1, that dynmon reports back. */
#include <inttypes.h>

#include "config.h"
#include "object.h"

/* ---- the normalized form. json_object_set_new() and json_array_append_new() take a NULL
 * value from a failed allocation and fail themselves, so errors just flow upwards. */

static json_t *labels_to_json(const struct dm_metric_config *m)
{
	_cleanup_(json_decrefp) json_t *a = json_array();

	for (size_t i = 0; a && i < m->n_labels; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:s}", "name", m->labels[i].name,
						       "value", m->labels[i].value)) < 0)
			return NULL;
	return TAKE_PTR(a);
}

/* Sets `key` to `v` when `present`; a failed allocation (v NULL) fails. */
static int set_optional(json_t *o, const char *key, bool present, json_t *v)
{
	if (!present) {
		json_decref(v);
		return 0;
	}
	return json_object_set_new(o, key, v);
}

static json_t *value_map_to_json(const struct dm_key_label *k)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	for (size_t i = 0; o && i < k->n_map; i++) {
		char key[24];

		/* Keys above INT64_MAX were given as negative numbers, most likely. */
		if (k->map[i].value > INT64_MAX)
			snprintf(key, sizeof(key), "%" PRId64, (int64_t)k->map[i].value);
		else
			snprintf(key, sizeof(key), "%" PRIu64, k->map[i].value);
		if (json_object_set_new(o, key, json_string(k->map[i].name)) < 0)
			return NULL;
	}
	return TAKE_PTR(o);
}

static json_t *key_labels_to_json(const struct dm_metric_config *m)
{
	_cleanup_(json_decrefp) json_t *a = json_array();

	for (size_t i = 0; a && i < m->n_key_labels; i++) {
		const struct dm_key_label *k = &m->key_labels[i];
		_cleanup_(json_decrefp) json_t *o = json_object();

		if (!o || set_optional(o, "field", k->field, json_string(strempty(k->field))) < 0 ||
		    set_optional(o, "label", k->label, json_string(strempty(k->label))) < 0 ||
		    set_optional(o, "decoder", k->decoder != DM_DECODER_AUTO,
				 json_string(dm_decoder_to_string(k->decoder))) < 0 ||
		    set_optional(o, "map", k->n_map > 0, value_map_to_json(k)) < 0 ||
		    json_array_append(a, o) < 0)
			return NULL;
	}
	return TAKE_PTR(a);
}

static json_t *strv_to_json(char *const *l, size_t n)
{
	_cleanup_(json_decrefp) json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(l[i])) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static json_t *bounds_to_json(const struct dm_histogram_config *h)
{
	_cleanup_(json_decrefp) json_t *a = json_array();

	for (size_t i = 0; a && i < h->n_bounds; i++)
		if (json_array_append_new(a, json_real(h->bounds[i])) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static json_t *histogram_to_json(const struct dm_histogram_config *h)
{
	_cleanup_(json_decrefp) json_t *o = json_object();
	bool log2 = h->layout == DM_HISTOGRAM_LOG2, linear = h->layout == DM_HISTOGRAM_LINEAR;

	if (!o ||
	    json_object_set_new(o, "layout",
				json_string(dm_histogram_layout_to_string(h->layout))) < 0 ||
	    set_optional(o, "buckets", h->n_buckets > 0, json_integer(h->n_buckets)) < 0 ||
	    set_optional(o, "offset", log2 && h->offset > 0, json_integer(h->offset)) < 0 ||
	    set_optional(o, "start", linear, json_integer(h->start)) < 0 ||
	    set_optional(o, "width", linear, json_integer(h->width)) < 0 ||
	    set_optional(o, "bounds", h->n_bounds > 0, bounds_to_json(h)) < 0 ||
	    set_optional(o, "bucket-field", h->bucket_field,
			 json_string(strempty(h->bucket_field))) < 0 ||
	    set_optional(o, "buckets-field", h->buckets_field,
			 json_string(strempty(h->buckets_field))) < 0 ||
	    set_optional(o, "count-field", h->count_field, json_string(strempty(h->count_field))) <
		0 ||
	    set_optional(o, "sum-field", h->sum_field, json_string(strempty(h->sum_field))) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_t *quantiles_to_json(const struct dm_summary_config *s)
{
	_cleanup_(json_decrefp) json_t *a = json_array();

	for (size_t i = 0; a && i < s->n_quantiles; i++)
		if (json_array_append_new(a, json_pack("{s:f, s:s}", "quantile",
						       s->quantiles[i].quantile, "field",
						       s->quantiles[i].field)) < 0)
			return NULL;
	return TAKE_PTR(a);
}

static json_t *summary_to_json(const struct dm_summary_config *s)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	if (!o ||
	    set_optional(o, "count-field", s->count_field, json_string(strempty(s->count_field))) <
		0 ||
	    set_optional(o, "sum-field", s->sum_field, json_string(strempty(s->sum_field))) < 0 ||
	    set_optional(o, "quantiles", s->quantiles_given, quantiles_to_json(s)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

/* Only the members that were given: a configuration without them reads as upstream's. */
static int extensions_to_json(const struct dm_metric_config *m, json_t *o)
{
	if (set_optional(o, "unit", m->unit, json_string(strempty(m->unit))) < 0 ||
	    set_optional(o, "key-labels", m->n_key_labels > 0, key_labels_to_json(m)) < 0 ||
	    set_optional(o, "value-fields", m->n_value_fields > 0,
			 strv_to_json(m->value_fields, m->n_value_fields)) < 0 ||
	    set_optional(o, "per-cpu", m->per_cpu_given,
			 json_string(dm_per_cpu_to_string(m->per_cpu))) < 0 ||
	    set_optional(o, "max-series", m->max_series_given, json_integer(m->max_series)) < 0 ||
	    set_optional(o, "top-k", m->top_k > 0, json_integer(m->top_k)) < 0 ||
	    set_optional(o, "top-k-by", m->top_k_by, json_string(strempty(m->top_k_by))) < 0 ||
	    set_optional(o, "histogram", m->histogram,
			 m->histogram ? histogram_to_json(m->histogram) : json_null()) < 0 ||
	    set_optional(o, "summary", m->summary,
			 m->summary ? summary_to_json(m->summary) : json_null()) < 0)
		return -ENOMEM;
	return 0;
}

static json_t *metadata_to_json(const struct dm_metric_config *m)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	if (!o || json_object_set_new(o, "help", json_string(strempty(m->help))) < 0 ||
	    json_object_set_new(o, "type", json_string(dm_metric_type_to_string(m->type))) < 0 ||
	    json_object_set_new(o, "labels", labels_to_json(m)) < 0 || extensions_to_json(m, o) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_t *metric_to_json(const struct dm_metric_config *m)
{
	_cleanup_(json_decrefp) json_t *o = NULL;

	o = json_pack("{s:s, s:s, s:{s:b, s:b}}", "name", m->name, "map-name", m->map_name,
		      "extraction-options", "empty-on-read", m->empty_on_read, "swap-on-read",
		      m->swap_on_read);
	if (!o)
		return NULL;
	/* dynmon's own option, shown only when set: the rest is upstream's shape. */
	if (m->network_byte_order && json_object_set_new(json_object_get(o, "extraction-options"),
							 "network-byte-order", json_true()) < 0)
		return NULL;
	if (m->open_metrics &&
	    json_object_set_new(o, "open-metrics-metadata", metadata_to_json(m)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

json_t *dm_path_metrics_to_json(const struct dm_path_config *p)
{
	_cleanup_(json_decrefp) json_t *metrics = json_array();

	for (size_t i = 0; metrics && i < p->n_metrics; i++)
		if (json_array_append_new(metrics, metric_to_json(&p->metrics[i])) < 0)
			return NULL;
	return TAKE_PTR(metrics);
}

static json_t *path_to_json(const struct dm_path_config *p)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	if (!o)
		return NULL;
	if (!p->present)
		return TAKE_PTR(o);
	if (json_object_set_new(o, "name", json_string(strempty(p->name))) < 0 ||
	    json_object_set_new(o, "code", json_string(p->code)) < 0 ||
	    (p->object && json_object_set_new(o, "object", dm_object_to_json(p->object)) < 0) ||
	    json_object_set_new(o, "metric-configs", dm_path_metrics_to_json(p)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

json_t *dm_config_to_json(const struct dm_config *c)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	for (int i = 0; o && i < _DM_PATH_MAX; i++)
		if (json_object_set_new(o, dm_path_members[i], path_to_json(&c->paths[i])) < 0)
			return NULL;
	return TAKE_PTR(o);
}
