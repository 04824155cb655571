/* SPDX-License-Identifier: Apache-2.0 */
/* The dataplane configuration's types: the names of their enums, the names they must have,
 * and freeing them. Parsing is in config-parse.c, the JSON form in config-json.c. */
#include "config.h"
#include "object.h"

static const char *const path_names[_DM_PATH_MAX] = {
    [DM_PATH_INGRESS] = "ingress",
    [DM_PATH_EGRESS] = "egress",
};

/* The v1.1 members holding the paths. */
const char *const dm_path_members[_DM_PATH_MAX] = {
    [DM_PATH_INGRESS] = "ingress-path",
    [DM_PATH_EGRESS] = "egress-path",
};

/* Indexed by type and NULL-terminated, so that it also serves as the list of alternatives. */
/* Label names that samples get from elsewhere: OpenMetrics puts "le" on histogram buckets and
 * "quantile" on summary quantiles, dynmon puts "monitor" on every sample it exports. */
const char *const dm_reserved_label_names[] = {"le", "quantile", "monitor", NULL};

const char *const dm_metric_type_names[_DM_METRIC_TYPE_MAX + 1] = {
    [DM_METRIC_COUNTER] = "counter",	 [DM_METRIC_GAUGE] = "gauge",
    [DM_METRIC_HISTOGRAM] = "histogram", [DM_METRIC_SUMMARY] = "summary",
    [DM_METRIC_UNTYPED] = "untyped",
};

/* Indexed like their enums and NULL-terminated, as dm_metric_type_names. */
const char *const dm_decoder_names[_DM_DECODER_MAX + 1] = {
    [DM_DECODER_AUTO] = "auto",
    [DM_DECODER_NUMBER] = "number",
    [DM_DECODER_NETWORK_ORDER] = "network-order",
    [DM_DECODER_HEX] = "hex",
    [DM_DECODER_IPV4] = "ipv4",
    [DM_DECODER_IPV6] = "ipv6",
    [DM_DECODER_PORT] = "port",
    [DM_DECODER_MAC] = "mac",
    [DM_DECODER_IP_PROTOCOL] = "ip-protocol",
    [DM_DECODER_IFNAME] = "ifname",
    [DM_DECODER_ENUM] = "enum",
    [DM_DECODER_MAP] = "map",
    [DM_DECODER_STRING] = "string",
};
const char *const dm_per_cpu_names[_DM_PER_CPU_MAX + 1] = {
    [DM_PER_CPU_SUM] = "sum",
    [DM_PER_CPU_LABEL] = "label",
};
const char *const dm_histogram_layout_names[_DM_HISTOGRAM_LAYOUT_MAX + 1] = {
    [DM_HISTOGRAM_LOG2] = "log2",
    [DM_HISTOGRAM_LINEAR] = "linear",
    [DM_HISTOGRAM_EXPLICIT] = "explicit",
};

static bool identifier_is_valid(const char *s, bool allow_colon)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || *s == '_' || (allow_colon && *s == ':');
		if (!ok)
			return false;
	}
	return true;
}

bool dm_metric_name_is_valid(const char *s)
{
	return identifier_is_valid(s, true);
}

bool dm_label_name_is_valid(const char *s)
{
	return identifier_is_valid(s, false);
}

bool dm_c_name_is_valid(const char *s)
{
	return identifier_is_valid(s, false);
}

const char *dm_path_to_string(enum dm_path p)
{
	return p >= 0 && p < _DM_PATH_MAX ? path_names[p] : NULL;
}

int dm_path_from_string(const char *s)
{
	for (int p = 0; p < _DM_PATH_MAX; p++)
		if (streq(s, path_names[p]))
			return p;
	return -EINVAL;
}

const char *dm_metric_type_to_string(enum dm_metric_type t)
{
	return t >= 0 && t < _DM_METRIC_TYPE_MAX ? dm_metric_type_names[t] : NULL;
}

int dm_metric_type_from_string(const char *s)
{
	for (int t = 0; s && t < _DM_METRIC_TYPE_MAX; t++)
		if (streq(dm_metric_type_names[t], s))
			return t;
	return -EINVAL;
}

const char *dm_decoder_to_string(enum dm_decoder d)
{
	return d >= 0 && d < _DM_DECODER_MAX ? dm_decoder_names[d] : NULL;
}

int dm_decoder_from_string(const char *s)
{
	for (int d = 0; s && d < _DM_DECODER_MAX; d++)
		if (streq(dm_decoder_names[d], s))
			return d;
	return -EINVAL;
}

const char *dm_per_cpu_to_string(enum dm_per_cpu p)
{
	return p >= 0 && p < _DM_PER_CPU_MAX ? dm_per_cpu_names[p] : NULL;
}

const char *dm_histogram_layout_to_string(enum dm_histogram_layout l)
{
	return l >= 0 && l < _DM_HISTOGRAM_LAYOUT_MAX ? dm_histogram_layout_names[l] : NULL;
}

static void key_label_clear(struct dm_key_label *k)
{
	free(k->field);
	free(k->label);
	for (size_t i = 0; i < k->n_map; i++)
		free(k->map[i].name);
	free(k->map);
}

static void histogram_config_free(struct dm_histogram_config *h)
{
	if (!h)
		return;
	free(h->bounds);
	free(h->bucket_field);
	free(h->buckets_field);
	free(h->count_field);
	free(h->sum_field);
	free(h);
}

static void summary_config_free(struct dm_summary_config *s)
{
	if (!s)
		return;
	free(s->count_field);
	free(s->sum_field);
	for (size_t i = 0; i < s->n_quantiles; i++)
		free(s->quantiles[i].field);
	free(s->quantiles);
	free(s);
}

static void metric_config_clear(struct dm_metric_config *m)
{
	free(m->name);
	free(m->map_name);
	free(m->help);
	for (size_t i = 0; i < m->n_labels; i++) {
		free(m->labels[i].name);
		free(m->labels[i].value);
	}
	free(m->labels);
	free(m->unit);
	for (size_t i = 0; i < m->n_key_labels; i++)
		key_label_clear(&m->key_labels[i]);
	free(m->key_labels);
	for (size_t i = 0; i < m->n_value_fields; i++)
		free(m->value_fields[i]);
	free(m->value_fields);
	free(m->top_k_by);
	histogram_config_free(m->histogram);
	summary_config_free(m->summary);
}

static void path_config_clear(struct dm_path_config *p)
{
	free(p->name);
	free(p->code);
	dm_object_free(p->object);
	for (size_t i = 0; i < p->n_metrics; i++)
		metric_config_clear(&p->metrics[i]);
	free(p->metrics);
}

void dm_config_free(struct dm_config *c)
{
	if (!c)
		return;
	for (int i = 0; i < _DM_PATH_MAX; i++)
		path_config_clear(&c->paths[i]);
	free(c);
}
