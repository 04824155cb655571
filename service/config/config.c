/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing is strict on purpose: an operator who misspells a field must hear about it at
 * injection time, not find out later that a metric silently went missing. Every error names
 * the place in the document it is about. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>

#include "config.h"

static const char *const path_names[_DM_PATH_MAX] = {
    [DM_PATH_INGRESS] = "ingress",
    [DM_PATH_EGRESS] = "egress",
};

/* The v1.1 members holding the paths. */
static const char *const path_members[_DM_PATH_MAX] = {
    [DM_PATH_INGRESS] = "ingress-path",
    [DM_PATH_EGRESS] = "egress-path",
};

/* Indexed by type and NULL-terminated, so that it also serves as the list of alternatives. */
static const char *const metric_type_names[_DM_METRIC_TYPE_MAX + 1] = {
    [DM_METRIC_COUNTER] = "counter",	 [DM_METRIC_GAUGE] = "gauge",
    [DM_METRIC_HISTOGRAM] = "histogram", [DM_METRIC_SUMMARY] = "summary",
    [DM_METRIC_UNTYPED] = "untyped",
};

/* Label names that samples get from elsewhere: OpenMetrics puts "le" on histogram buckets and
 * "quantile" on summary quantiles, dynmon puts "monitor" on every sample it exports. */
static const char *const reserved_label_names[] = {"le", "quantile", "monitor", NULL};

/* The members each object may have: anything else is an error. */
static const char *const v10_members[] = {"name", "code", "metrics", NULL};
static const char *const v11_members[] = {"ingress-path", "egress-path", NULL};
static const char *const metric_members[] = {"name", "map-name", "extraction-options",
					     "open-metrics-metadata", NULL};
static const char *const extraction_members[] = {"empty-on-read", "swap-on-read",
						 "network-byte-order", NULL};
static const char *const metadata_members[] = {
    "help",	    "type",    "labels",    "unit",    "key-labels",
    "value-fields", "per-cpu", "histogram", "summary", NULL};
static const char *const label_members[] = {"name", "value", NULL};
static const char *const key_label_members[] = {"field", "label", "decoder", "map", NULL};
static const char *const histogram_members[] = {
    "layout",	    "buckets",	     "offset",	    "start",	 "width", "bounds",
    "bucket-field", "buckets-field", "count-field", "sum-field", NULL};
static const char *const summary_members[] = {"count-field", "sum-field", "quantiles", NULL};
static const char *const quantile_members[] = {"quantile", "field", NULL};

/* Indexed like their enums and NULL-terminated, as metric_type_names. */
static const char *const decoder_names[_DM_DECODER_MAX + 1] = {
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
static const char *const per_cpu_names[_DM_PER_CPU_MAX + 1] = {
    [DM_PER_CPU_SUM] = "sum",
    [DM_PER_CPU_LABEL] = "label",
};
static const char *const layout_names[_DM_HISTOGRAM_LAYOUT_MAX + 1] = {
    [DM_HISTOGRAM_LOG2] = "log2",
    [DM_HISTOGRAM_LINEAR] = "linear",
    [DM_HISTOGRAM_EXPLICIT] = "explicit",
};

/* Histograms wider than this are a configuration mistake, not a histogram. */
#define MAX_BUCKETS 4096

static bool strv_contains(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (streq(*l, s))
			return true;
	return false;
}

/* "a, b or c", for messages listing what would have been accepted. */
static char *strv_join_or(const char *const *l)
{
	char *s = NULL;
	size_t size;
	FILE *f = open_memstream(&s, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; l[i]; i++)
		fprintf(f, "%s%s", i == 0 ? "" : l[i + 1] ? ", " : " or ", l[i]);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* Where a value sits in the document, as a chain up to the root kept on the stack: a member
 * has a key, an array element an index. NULL is the root itself. Nothing is allocated for
 * places unless an error has to be spelled out. */
struct place {
	const struct place *parent;
	const char *key;
	size_t index;
};

#define MEMBER(p, k) (&(const struct place){.parent = (p), .key = (k)})
#define ELEMENT(p, i) (&(const struct place){.parent = (p), .index = (i)})

static bool plain_key(const char *key)
{
	if (!*key)
		return false;
	for (; *key; key++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
			    *key))
			return false;
	return true;
}

static void place_print(FILE *f, const struct place *p)
{
	if (!p)
		return;
	place_print(f, p->parent);
	if (p->key && plain_key(p->key))
		fprintf(f, "%s%s", p->parent ? "." : "", p->key);
	else if (p->key) /* quoted, so that the reader can tell where it begins and ends */
		fprintf(f, "%s\"%s\"", p->parent ? "." : "", p->key);
	else
		fprintf(f, "[%zu]", p->index);
}

static char *place_to_string(const struct place *p)
{
	char *s = NULL;
	size_t size;
	FILE *f = open_memstream(&s, &size);

	if (!f)
		return NULL;
	place_print(f, p);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static int oom(dm_error *e)
{
	return dm_error_set(e, -ENOMEM, "Out of memory");
}

/* Records "PLACE: MESSAGE" and returns -EBADMSG. */
static int bad(dm_error *e, const struct place *p, const char *fmt, ...) _printf_(3, 4);
static int bad(dm_error *e, const struct place *p, const char *fmt, ...)
{
	_cleanup_free_ char *what = NULL, *where = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (r < 0)
		return oom(e);
	if (!p)
		return dm_error_set(e, -EBADMSG, "%s", what);
	where = place_to_string(p);
	if (!where)
		return oom(e);
	return dm_error_set(e, -EBADMSG, "%s: %s", where, what);
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown JSON value";
}

enum kind {
	KIND_OBJECT,
	KIND_ARRAY,
	KIND_STRING,
	KIND_BOOLEAN,
	KIND_INTEGER,
	KIND_NUMBER,
};

static const char *const kind_names[] = {
    [KIND_OBJECT] = "an object",  [KIND_ARRAY] = "an array",	 [KIND_STRING] = "a string",
    [KIND_BOOLEAN] = "a boolean", [KIND_INTEGER] = "an integer", [KIND_NUMBER] = "a number",
};

static bool is_kind(const json_t *v, enum kind k)
{
	switch (k) {
	case KIND_OBJECT:
		return json_is_object(v);
	case KIND_ARRAY:
		return json_is_array(v);
	case KIND_STRING:
		return json_is_string(v);
	case KIND_BOOLEAN:
		return json_is_boolean(v);
	case KIND_INTEGER:
		return json_is_integer(v);
	case KIND_NUMBER:
		return json_is_number(v);
	}
	return false;
}

static int expect_kind(const json_t *v, const struct place *at, enum kind k, dm_error *e)
{
	if (!is_kind(v, k))
		return bad(e, at, "expected %s, got %s", kind_names[k], json_kind(v));
	/* jansson can hold strings with NULs (json_stringn()); C strings cannot. */
	if (k == KIND_STRING && strlen(json_string_value(v)) != json_string_length(v))
		return bad(e, at, "contains a NUL character");
	return 0;
}

static int check_members(json_t *o, const struct place *at, const char *const *known, dm_error *e)
{
	const char *key;
	json_t *v;

	json_object_foreach (o, key, v) {
		if (!strv_contains(known, key)) {
			_cleanup_free_ char *expected = strv_join_or(known);

			if (!expected)
				return oom(e);
			return bad(e, MEMBER(at, key), "unknown field (expected %s)", expected);
		}
	}
	return 0;
}

/* Member `key` of `o`, which must be of kind `k`; *ret is NULL when it is absent and not
 * `required`. */
static int get_member(json_t *o, const struct place *at, const char *key, enum kind k,
		      bool required, json_t **ret, dm_error *e)
{
	json_t *v = json_object_get(o, key);
	int r;

	if (!v) {
		if (required)
			return bad(e, MEMBER(at, key), "required field missing (expected %s)",
				   kind_names[k]);
		*ret = NULL;
		return 0;
	}
	r = expect_kind(v, MEMBER(at, key), k, e);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

/* Like get_member() for a string; `def` when it is absent and not `required`. */
static int get_string(json_t *o, const struct place *at, const char *key, bool required,
		      const char *def, const char **ret, dm_error *e)
{
	json_t *v = NULL;
	int r;

	r = get_member(o, at, key, KIND_STRING, required, &v, e);
	if (r < 0)
		return r;
	*ret = v ? json_string_value(v) : def;
	return 0;
}

/* Like get_member() for a boolean; *ret is left alone when it is absent. */
static int get_bool(json_t *o, const struct place *at, const char *key, bool *ret, dm_error *e)
{
	json_t *v = NULL;
	int r;

	r = get_member(o, at, key, KIND_BOOLEAN, false, &v, e);
	if (r < 0)
		return r;
	if (v)
		*ret = json_is_true(v);
	return 0;
}

static int dup_string(const char *s, char **ret, dm_error *e)
{
	*ret = strdup(s);
	return *ret ? 0 : oom(e);
}

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
	return t >= 0 && t < _DM_METRIC_TYPE_MAX ? metric_type_names[t] : NULL;
}

int dm_metric_type_from_string(const char *s)
{
	for (int t = 0; s && t < _DM_METRIC_TYPE_MAX; t++)
		if (streq(metric_type_names[t], s))
			return t;
	return -EINVAL;
}

const char *dm_decoder_to_string(enum dm_decoder d)
{
	return d >= 0 && d < _DM_DECODER_MAX ? decoder_names[d] : NULL;
}

int dm_decoder_from_string(const char *s)
{
	for (int d = 0; s && d < _DM_DECODER_MAX; d++)
		if (streq(decoder_names[d], s))
			return d;
	return -EINVAL;
}

const char *dm_histogram_layout_to_string(enum dm_histogram_layout l)
{
	return l >= 0 && l < _DM_HISTOGRAM_LAYOUT_MAX ? layout_names[l] : NULL;
}

/* Index of `s` in a NULL-terminated table, -EINVAL when absent. */
static int strv_index(const char *const *l, const char *s)
{
	for (int i = 0; l[i]; i++)
		if (streq(l[i], s))
			return i;
	return -EINVAL;
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
	histogram_config_free(m->histogram);
	summary_config_free(m->summary);
}

static void path_config_clear(struct dm_path_config *p)
{
	free(p->name);
	free(p->code);
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

/* ---- parsing: each parse_*() fills a zeroed structure; dm_config_free() copes with a
 * half-filled one, so that on error the caller only has to drop the whole configuration. */

static int check_label_name(const char *name, const struct place *at, dm_error *e)
{
	if (!dm_label_name_is_valid(name))
		return bad(e, at, "invalid label name \"%s\" (must match [a-zA-Z_][a-zA-Z0-9_]*)",
			   name);
	if (strncmp(name, "__", 2) == 0)
		return bad(e, at, "label name \"%s\" is reserved (names starting with \"__\")",
			   name);
	if (strv_contains(reserved_label_names, name))
		return bad(e, at,
			   "label name \"%s\" is reserved (le, quantile and monitor are set "
			   "by OpenMetrics and dynmon)",
			   name);
	return 0;
}

static int parse_label(json_t *v, const struct place *at, struct dm_label *l, dm_error *e)
{
	const char *name, *value;
	int r;

	r = expect_kind(v, at, KIND_OBJECT, e);
	if (r >= 0)
		r = check_members(v, at, label_members, e);
	if (r >= 0)
		r = get_string(v, at, "name", true, NULL, &name, e);
	if (r >= 0)
		r = check_label_name(name, MEMBER(at, "name"), e);
	if (r >= 0)
		r = get_string(v, at, "value", true, NULL, &value, e);
	if (r >= 0)
		r = dup_string(name, &l->name, e);
	if (r >= 0)
		r = dup_string(value, &l->value, e);
	return r;
}

static int parse_labels(json_t *meta, const struct place *at, struct dm_metric_config *m,
			dm_error *e)
{
	const struct place *here = MEMBER(at, "labels");
	json_t *a = NULL, *v;
	size_t i;
	int r;

	r = get_member(meta, at, "labels", KIND_ARRAY, false, &a, e);
	if (r < 0 || !a || json_array_size(a) == 0)
		return r;
	m->labels = calloc(json_array_size(a), sizeof(*m->labels));
	if (!m->labels)
		return oom(e);
	m->n_labels = json_array_size(a);

	json_array_foreach (a, i, v) {
		const struct place *label = ELEMENT(here, i);

		r = parse_label(v, label, &m->labels[i], e);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (streq(m->labels[j].name, m->labels[i].name))
				return bad(e, MEMBER(label, "name"),
					   "duplicate label name \"%s\" (also labels[%zu])",
					   m->labels[i].name, j);
	}
	return 0;
}

/* ---- what dynmon adds to open-metrics-metadata (docs/OPENMETRICS.md) */

/* "saddr", "hdr.saddr": C identifiers joined by dots. */
static bool field_path_is_valid(const char *s)
{
	_cleanup_free_ char *copy = strdup(s);
	char *save = NULL;

	if (!copy || !*s || s[strlen(s) - 1] == '.')
		return false;
	for (char *c = strtok_r(copy, ".", &save); c; c = strtok_r(NULL, ".", &save))
		if (!identifier_is_valid(c, false))
			return false;
	return !strstr(s, "..") && *s != '.';
}

/* A string member naming a field, copied into *ret; *ret stays NULL when it is absent. */
static int get_field_path(json_t *o, const struct place *at, const char *key, char **ret,
			  dm_error *e)
{
	const char *path;
	int r;

	r = get_string(o, at, key, false, NULL, &path, e);
	if (r < 0 || !path)
		return r;
	if (!field_path_is_valid(path))
		return bad(e, MEMBER(at, key),
			   "invalid field \"%s\" (C member names, joined by \".\" for nested ones)",
			   path);
	return dup_string(path, ret, e);
}

/* A string member that must be one of `names` (a NULL-terminated table); *ret is left alone
 * when it is absent. */
static int get_enum(json_t *o, const struct place *at, const char *key, const char *const *names,
		    const char *what, int *ret, dm_error *e)
{
	_cleanup_free_ char *expected = NULL;
	const char *s;
	int r;

	r = get_string(o, at, key, false, NULL, &s, e);
	if (r < 0 || !s)
		return r;
	r = strv_index(names, s);
	if (r >= 0) {
		*ret = r;
		return 0;
	}
	expected = strv_join_or(names);
	if (!expected)
		return oom(e);
	return bad(e, MEMBER(at, key), "unknown %s \"%s\" (expected %s)", what, s, expected);
}

/* "0", "-3", "0x1f": the integer a map decoder's key names. */
static bool parse_map_key(const char *s, uint64_t *ret)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	if (*s == '-')
		*ret = (uint64_t)strtoll(s, &end, 0);
	else
		*ret = strtoull(s, &end, 0);
	return errno == 0 && *end == '\0';
}

static bool is_decimal(const char *s)
{
	s += *s == '-';
	return *s && strspn(s, "0123456789") == strlen(s);
}

static int parse_value_map(json_t *o, const struct place *at, struct dm_key_label *k, dm_error *e)
{
	const char *key;
	json_t *v;
	size_t i = 0;
	int r;

	if (json_object_size(o) == 0)
		return bad(e, at, "must not be empty");
	k->map = calloc(json_object_size(o), sizeof(*k->map));
	if (!k->map)
		return oom(e);
	json_object_foreach (o, key, v) {
		const struct place *here = MEMBER(at, key);
		const char *name;

		if (!parse_map_key(key, &k->map[i].value))
			return bad(e, here, "not an integer (decimal, or hexadecimal with 0x)");
		r = expect_kind(v, here, KIND_STRING, e);
		if (r < 0)
			return r;
		name = json_string_value(v);
		/* A name that reads as a number could be the label of another, unmapped value. */
		if (!*name || is_decimal(name))
			return bad(e, here, "\"%s\" is no name (must be non-empty, not a number)",
				   name);
		for (size_t j = 0; j < i; j++) {
			if (k->map[j].value == k->map[i].value)
				return bad(e, here, "the same value as another key");
			if (streq(k->map[j].name, name))
				return bad(e, here, "\"%s\" names another value already", name);
		}
		r = dup_string(name, &k->map[i].name, e);
		if (r < 0)
			return r;
		k->n_map = ++i;
	}
	return 0;
}

static int parse_key_label(json_t *v, const struct place *at, struct dm_key_label *k, dm_error *e)
{
	json_t *map = NULL;
	int decoder = DM_DECODER_AUTO;
	const char *label;
	int r;

	r = expect_kind(v, at, KIND_OBJECT, e);
	if (r >= 0)
		r = check_members(v, at, key_label_members, e);
	if (r >= 0)
		r = get_field_path(v, at, "field", &k->field, e);
	if (r >= 0)
		r = get_string(v, at, "label", false, NULL, &label, e);
	if (r >= 0 && label)
		r = check_label_name(label, MEMBER(at, "label"), e);
	if (r >= 0 && label)
		r = dup_string(label, &k->label, e);
	if (r >= 0)
		r = get_enum(v, at, "decoder", decoder_names, "decoder", &decoder, e);
	if (r >= 0 && decoder == DM_DECODER_AUTO && json_object_get(v, "decoder"))
		r = bad(e, MEMBER(at, "decoder"), "\"auto\" is what leaving the decoder out means");
	if (r >= 0)
		r = get_member(v, at, "map", KIND_OBJECT, false, &map, e);
	if (r < 0)
		return r;
	k->decoder = decoder;
	if (!map != (decoder != DM_DECODER_MAP))
		return bad(e, map ? MEMBER(at, "map") : MEMBER(at, "decoder"),
			   map ? "only the \"map\" decoder takes a map"
			       : "the \"map\" decoder needs a \"map\" of values to names");
	return map ? parse_value_map(map, MEMBER(at, "map"), k, e) : 0;
}

static int check_key_label_unique(const struct dm_metric_config *m, size_t i,
				  const struct place *at, dm_error *e)
{
	const struct dm_key_label *k = &m->key_labels[i];

	for (size_t j = 0; j < i; j++) {
		if (streq_ptr(m->key_labels[j].field, k->field))
			return bad(e, MEMBER(at, "field"),
				   "%s%s%s given twice (also key-labels[%zu])",
				   k->field ? "field \"" : "the whole key",
				   k->field ? k->field : "", k->field ? "\"" : "", j);
		if (k->label && streq_ptr(m->key_labels[j].label, k->label))
			return bad(e, MEMBER(at, "label"),
				   "duplicate label name \"%s\" (also key-labels[%zu])", k->label,
				   j);
	}
	for (size_t j = 0; k->label && j < m->n_labels; j++)
		if (streq(m->labels[j].name, k->label))
			return bad(e, MEMBER(at, "label"),
				   "label name \"%s\" is one of the metric's labels already",
				   k->label);
	return 0;
}

static int parse_key_labels(json_t *meta, const struct place *at, struct dm_metric_config *m,
			    dm_error *e)
{
	const struct place *here = MEMBER(at, "key-labels");
	json_t *a = NULL, *v;
	size_t i;
	int r;

	r = get_member(meta, at, "key-labels", KIND_ARRAY, false, &a, e);
	if (r < 0 || !a || json_array_size(a) == 0)
		return r;
	m->key_labels = calloc(json_array_size(a), sizeof(*m->key_labels));
	if (!m->key_labels)
		return oom(e);

	json_array_foreach (a, i, v) {
		m->n_key_labels = i + 1;
		r = parse_key_label(v, ELEMENT(here, i), &m->key_labels[i], e);
		if (r >= 0)
			r = check_key_label_unique(m, i, ELEMENT(here, i), e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_value_fields(json_t *meta, const struct place *at, struct dm_metric_config *m,
			      dm_error *e)
{
	const struct place *here = MEMBER(at, "value-fields");
	json_t *a = NULL, *v;
	size_t i;
	int r;

	r = get_member(meta, at, "value-fields", KIND_ARRAY, false, &a, e);
	if (r < 0 || !a)
		return r;
	if (m->type == DM_METRIC_HISTOGRAM || m->type == DM_METRIC_SUMMARY)
		return bad(e, here, "a %s takes its fields from \"%s\"",
			   dm_metric_type_to_string(m->type), dm_metric_type_to_string(m->type));
	if (json_array_size(a) == 0)
		return bad(e, here, "must not be empty (leave it out to export every field)");
	m->value_fields = calloc(json_array_size(a), sizeof(char *));
	if (!m->value_fields)
		return oom(e);

	json_array_foreach (a, i, v) {
		const struct place *field = ELEMENT(here, i);

		r = expect_kind(v, field, KIND_STRING, e);
		if (r < 0)
			return r;
		if (!field_path_is_valid(json_string_value(v)))
			return bad(e, field,
				   "invalid field \"%s\" (C member names, joined by \".\")",
				   json_string_value(v));
		for (size_t j = 0; j < i; j++)
			if (streq(m->value_fields[j], json_string_value(v)))
				return bad(e, field,
					   "field \"%s\" given twice (also value-fields[%zu])",
					   json_string_value(v), j);
		r = dup_string(json_string_value(v), &m->value_fields[i], e);
		if (r < 0)
			return r;
		m->n_value_fields = i + 1;
	}
	return 0;
}

/* An integer member within [min, max]; *ret is left alone when it is absent. */
static int get_integer(json_t *o, const struct place *at, const char *key, int64_t min, int64_t max,
		       int64_t *ret, dm_error *e)
{
	json_t *v = NULL;
	int r;

	r = get_member(o, at, key, KIND_INTEGER, false, &v, e);
	if (r < 0 || !v)
		return r;
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return bad(e, MEMBER(at, key),
			   "%" JSON_INTEGER_FORMAT " is out of range (%" PRId64 " to %" PRId64 ")",
			   json_integer_value(v), min, max);
	*ret = json_integer_value(v);
	return 0;
}

static int parse_bounds(json_t *a, const struct place *at, struct dm_histogram_config *h,
			dm_error *e)
{
	json_t *v;
	size_t i;
	int r;

	if (json_array_size(a) == 0 || json_array_size(a) >= MAX_BUCKETS)
		return bad(e, at, "must hold 1 to %d bounds", MAX_BUCKETS - 1);
	h->bounds = calloc(json_array_size(a), sizeof(double));
	if (!h->bounds)
		return oom(e);
	json_array_foreach (a, i, v) {
		r = expect_kind(v, ELEMENT(at, i), KIND_NUMBER, e);
		if (r < 0)
			return r;
		h->bounds[i] = json_number_value(v);
		if (i > 0 && h->bounds[i] <= h->bounds[i - 1])
			return bad(e, ELEMENT(at, i),
				   "bounds must be ascending, each above the last");
		h->n_bounds = i + 1;
	}
	return 0;
}

/* What each layout needs, and that it gets nothing the others need. */
static int check_layout_members(json_t *o, const struct place *at,
				const struct dm_histogram_config *h, dm_error *e)
{
	static const struct {
		const char *member;
		enum dm_histogram_layout layout;
		bool required;
	} rules[] = {
	    {"offset", DM_HISTOGRAM_LOG2, false},
	    {"start", DM_HISTOGRAM_LINEAR, false},
	    {"width", DM_HISTOGRAM_LINEAR, true},
	    {"bounds", DM_HISTOGRAM_EXPLICIT, true},
	};

	for (size_t i = 0; i < ELEMENTSOF(rules); i++) {
		bool present = json_object_get(o, rules[i].member);

		if (present && h->layout != rules[i].layout)
			return bad(e, MEMBER(at, rules[i].member), "only the %s layout takes it",
				   layout_names[rules[i].layout]);
		if (!present && rules[i].required && h->layout == rules[i].layout)
			return bad(e, MEMBER(at, rules[i].member),
				   "required field missing (the %s layout needs it)",
				   layout_names[h->layout]);
	}
	if (h->layout == DM_HISTOGRAM_EXPLICIT && json_object_get(o, "buckets"))
		return bad(e, MEMBER(at, "buckets"),
			   "the explicit layout has one bucket per bound, and one above them");
	return 0;
}

/* The lowest bucket bound, which decides whether the histogram may have a sum. */
static double lowest_bound(const struct dm_histogram_config *h)
{
	switch (h->layout) {
	case DM_HISTOGRAM_LINEAR:
		return (double)h->start + (double)h->width - 1;
	case DM_HISTOGRAM_EXPLICIT:
		return h->bounds[0];
	default:
		return 0;
	}
}

static int parse_histogram_fields(json_t *o, const struct place *at, struct dm_histogram_config *h,
				  dm_error *e)
{
	int r;

	r = get_field_path(o, at, "bucket-field", &h->bucket_field, e);
	if (r >= 0)
		r = get_field_path(o, at, "buckets-field", &h->buckets_field, e);
	if (r >= 0)
		r = get_field_path(o, at, "count-field", &h->count_field, e);
	if (r >= 0)
		r = get_field_path(o, at, "sum-field", &h->sum_field, e);
	if (r < 0)
		return r;
	if (h->buckets_field && h->bucket_field)
		return bad(e, MEMBER(at, "bucket-field"),
			   "either every entry is a bucket (bucket-field) or a whole histogram "
			   "(buckets-field), not both");
	if (h->buckets_field && h->count_field)
		return bad(e, MEMBER(at, "count-field"),
			   "with buckets-field the counts are the array's elements");
	/* OpenMetrics: "Negative threshold buckets MAY be used, but then the Histogram
	 * MetricPoint MUST NOT contain a sum value". */
	if (h->sum_field && lowest_bound(h) < 0)
		return bad(
		    e, MEMBER(at, "sum-field"),
		    "a histogram with negative bucket bounds cannot have a sum (OpenMetrics)");
	return 0;
}

static int parse_histogram(json_t *o, const struct place *at, struct dm_metric_config *m,
			   dm_error *e)
{
	struct dm_histogram_config *h;
	json_t *bounds = NULL;
	int64_t n = 0, offset = 0, start = 0, width = 1;
	int layout = -1, r;

	h = m->histogram = calloc(1, sizeof(*h));
	if (!h)
		return oom(e);
	r = check_members(o, at, histogram_members, e);
	if (r >= 0 && !json_object_get(o, "layout"))
		r = bad(e, MEMBER(at, "layout"),
			"required field missing (log2, linear or explicit)");
	if (r >= 0)
		r = get_enum(o, at, "layout", layout_names, "layout", &layout, e);
	if (r < 0)
		return r;
	h->layout = layout;
	r = check_layout_members(o, at, h, e);
	if (r >= 0)
		r = get_integer(o, at, "buckets", 1, MAX_BUCKETS, &n, e);
	if (r >= 0)
		r = get_integer(o, at, "offset", 0, 1, &offset, e);
	if (r >= 0)
		r = get_integer(o, at, "start", INT32_MIN, INT32_MAX, &start, e);
	if (r >= 0)
		r = get_integer(o, at, "width", 1, INT32_MAX, &width, e);
	if (r >= 0)
		r = get_member(o, at, "bounds", KIND_ARRAY, false, &bounds, e);
	if (r >= 0 && bounds)
		r = parse_bounds(bounds, MEMBER(at, "bounds"), h, e);
	if (r < 0)
		return r;
	/* Past 2^64 no 64-bit observation lands. */
	if (h->layout == DM_HISTOGRAM_LOG2 && n > 65 + offset)
		return bad(e, MEMBER(at, "buckets"),
			   "a log2 histogram of 64-bit values has at most %d buckets",
			   (int)(65 + offset));
	h->n_buckets = n;
	h->offset = offset;
	h->start = start;
	h->width = width;
	return parse_histogram_fields(o, at, h, e);
}

static int parse_quantile(json_t *v, const struct place *at, struct dm_summary_config *s, size_t i,
			  dm_error *e)
{
	struct dm_quantile *q = &s->quantiles[i];
	json_t *quantile = NULL;
	int r;

	r = expect_kind(v, at, KIND_OBJECT, e);
	if (r >= 0)
		r = check_members(v, at, quantile_members, e);
	if (r >= 0)
		r = get_member(v, at, "quantile", KIND_NUMBER, true, &quantile, e);
	if (r >= 0 && !json_object_get(v, "field"))
		r = bad(e, MEMBER(at, "field"), "required field missing (expected a string)");
	if (r >= 0)
		r = get_field_path(v, at, "field", &q->field, e);
	if (r < 0)
		return r;
	q->quantile = json_number_value(quantile);
	if (!(q->quantile >= 0 && q->quantile <= 1))
		return bad(e, MEMBER(at, "quantile"), "must be between 0 and 1");
	for (size_t j = 0; j < i; j++)
		if (s->quantiles[j].quantile == q->quantile ||
		    streq(s->quantiles[j].field, q->field))
			return bad(e, at, "the same quantile or field as quantiles[%zu]", j);
	return 0;
}

static int parse_summary(json_t *o, const struct place *at, struct dm_metric_config *m, dm_error *e)
{
	const struct place *here = MEMBER(at, "quantiles");
	struct dm_summary_config *s;
	json_t *a = NULL, *v;
	size_t i;
	int r;

	s = m->summary = calloc(1, sizeof(*s));
	if (!s)
		return oom(e);
	r = check_members(o, at, summary_members, e);
	if (r >= 0)
		r = get_field_path(o, at, "count-field", &s->count_field, e);
	if (r >= 0)
		r = get_field_path(o, at, "sum-field", &s->sum_field, e);
	if (r >= 0)
		r = get_member(o, at, "quantiles", KIND_ARRAY, false, &a, e);
	if (r < 0 || !a)
		return r;
	s->quantiles_given = true;
	s->quantiles = calloc(json_array_size(a) ?: 1, sizeof(*s->quantiles));
	if (!s->quantiles)
		return oom(e);
	json_array_foreach (a, i, v) {
		s->n_quantiles = i + 1;
		r = parse_quantile(v, ELEMENT(here, i), s, i, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Members that belong to one metric type only. */
static int parse_type_members(json_t *meta, const struct place *at, struct dm_metric_config *m,
			      dm_error *e)
{
	json_t *h = NULL, *s = NULL;
	int r;

	r = get_member(meta, at, "histogram", KIND_OBJECT, false, &h, e);
	if (r >= 0)
		r = get_member(meta, at, "summary", KIND_OBJECT, false, &s, e);
	if (r < 0)
		return r;
	if (h && m->type != DM_METRIC_HISTOGRAM)
		return bad(e, MEMBER(at, "histogram"), "only a metric of type histogram takes it");
	if (s && m->type != DM_METRIC_SUMMARY)
		return bad(e, MEMBER(at, "summary"), "only a metric of type summary takes it");
	if (!h && m->type == DM_METRIC_HISTOGRAM)
		return bad(e, MEMBER(at, "histogram"),
			   "required field missing: a histogram needs its buckets described, e.g. "
			   "{\"layout\": \"log2\"}");
	if (h)
		return parse_histogram(h, MEMBER(at, "histogram"), m, e);
	return s ? parse_summary(s, MEMBER(at, "summary"), m, e) : 0;
}

/* "# UNIT": OpenMetrics wants it to be the last part of the family's name; which families a
 * metric has depends on its value's type, so that is checked when the code is compiled. */
static int parse_unit(json_t *meta, const struct place *at, struct dm_metric_config *m, dm_error *e)
{
	const char *unit;
	int r;

	r = get_string(meta, at, "unit", false, NULL, &unit, e);
	if (r < 0 || !unit)
		return r;
	if (!*unit || strspn(unit, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_") != strlen(unit))
		return bad(e, MEMBER(at, "unit"), "invalid unit \"%s\" (must match [a-zA-Z0-9_]+)",
			   unit);
	return dup_string(unit, &m->unit, e);
}

static int parse_extensions(json_t *meta, const struct place *at, struct dm_metric_config *m,
			    dm_error *e)
{
	int per_cpu = -1, r;

	r = parse_unit(meta, at, m, e);
	if (r >= 0)
		r = parse_key_labels(meta, at, m, e);
	if (r >= 0)
		r = parse_value_fields(meta, at, m, e);
	if (r >= 0)
		r = get_enum(meta, at, "per-cpu", per_cpu_names, "per-cpu mode", &per_cpu, e);
	if (r < 0)
		return r;
	if (per_cpu >= 0) {
		m->per_cpu_given = true;
		m->per_cpu = per_cpu;
	}
	return parse_type_members(meta, at, m, e);
}

static int parse_metadata(json_t *meta, const struct place *at, struct dm_metric_config *m,
			  dm_error *e)
{
	const char *help, *type;
	int r;

	r = check_members(meta, at, metadata_members, e);
	if (r >= 0)
		r = get_string(meta, at, "help", false, "", &help, e);
	if (r >= 0)
		r = get_string(meta, at, "type", true, NULL, &type, e);
	if (r < 0)
		return r;

	r = dm_metric_type_from_string(type);
	if (r < 0) {
		_cleanup_free_ char *expected = strv_join_or(metric_type_names);

		if (!expected)
			return oom(e);
		return bad(e, MEMBER(at, "type"), "unknown metric type \"%s\" (expected %s)", type,
			   expected);
	}
	m->type = r;
	m->open_metrics = true;

	r = dup_string(help, &m->help, e);
	if (r >= 0)
		r = parse_labels(meta, at, m, e);
	if (r >= 0)
		r = parse_extensions(meta, at, m, e);
	return r;
}

static int parse_extraction_options(json_t *o, const struct place *at, struct dm_metric_config *m,
				    dm_error *e)
{
	int r;

	r = check_members(o, at, extraction_members, e);
	if (r >= 0)
		r = get_bool(o, at, "empty-on-read", &m->empty_on_read, e);
	if (r >= 0)
		r = get_bool(o, at, "swap-on-read", &m->swap_on_read, e);
	if (r >= 0)
		r = get_bool(o, at, "network-byte-order", &m->network_byte_order, e);
	return r;
}

static int parse_metric_names(json_t *v, const struct place *at, struct dm_metric_config *m,
			      dm_error *e)
{
	const char *name, *map_name;
	int r;

	r = get_string(v, at, "name", true, NULL, &name, e);
	if (r < 0)
		return r;
	if (!dm_metric_name_is_valid(name))
		return bad(e, MEMBER(at, "name"),
			   "invalid metric name \"%s\" (must match [a-zA-Z_:][a-zA-Z0-9_:]*)",
			   name);

	r = get_string(v, at, "map-name", true, NULL, &map_name, e);
	if (r < 0)
		return r;
	if (!identifier_is_valid(map_name, false))
		return bad(e, MEMBER(at, "map-name"),
			   "invalid map name \"%s\" (not a C identifier)", map_name);

	r = dup_string(name, &m->name, e);
	if (r >= 0)
		r = dup_string(map_name, &m->map_name, e);
	return r;
}

static int parse_metric(json_t *v, const struct place *at, struct dm_metric_config *m, dm_error *e)
{
	json_t *options = NULL, *meta = NULL;
	int r;

	m->type = DM_METRIC_UNTYPED; /* only meaningful when exported, but never left at random */

	r = expect_kind(v, at, KIND_OBJECT, e);
	if (r >= 0)
		r = check_members(v, at, metric_members, e);
	if (r >= 0)
		r = parse_metric_names(v, at, m, e);
	if (r >= 0)
		r = get_member(v, at, "extraction-options", KIND_OBJECT, false, &options, e);
	if (r >= 0 && options)
		r = parse_extraction_options(options, MEMBER(at, "extraction-options"), m, e);
	if (r >= 0)
		r = get_member(v, at, "open-metrics-metadata", KIND_OBJECT, false, &meta, e);
	if (r >= 0 && meta)
		r = parse_metadata(meta, MEMBER(at, "open-metrics-metadata"), m, e);
	return r;
}

/* Whether two exported metrics would be one OpenMetrics family: "packets" and "packets_total"
 * counters are both the family "packets". */
static bool same_family(const struct dm_metric_config *a, const struct dm_metric_config *b)
{
	size_t na = strlen(a->name), nb = strlen(b->name), k = strlen("_total");

	if (!a->open_metrics || !b->open_metrics)
		return false;
	if (a->type == DM_METRIC_COUNTER && na > k && streq(a->name + na - k, "_total"))
		na -= k;
	if (b->type == DM_METRIC_COUNTER && nb > k && streq(b->name + nb - k, "_total"))
		nb -= k;
	return na == nb && strncmp(a->name, b->name, na) == 0;
}

static int parse_metrics(json_t *o, const struct place *at, const char *key,
			 struct dm_path_config *p, dm_error *e)
{
	const struct place *here = MEMBER(at, key);
	json_t *a = NULL, *v;
	size_t i;
	int r;

	r = get_member(o, at, key, KIND_ARRAY, false, &a, e);
	if (r < 0 || !a || json_array_size(a) == 0)
		return r;
	p->metrics = calloc(json_array_size(a), sizeof(*p->metrics));
	if (!p->metrics)
		return oom(e);
	p->n_metrics = json_array_size(a);

	json_array_foreach (a, i, v) {
		const struct place *metric = ELEMENT(here, i);

		r = parse_metric(v, metric, &p->metrics[i], e);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++) {
			if (streq(p->metrics[j].name, p->metrics[i].name))
				return bad(e, MEMBER(metric, "name"),
					   "duplicate metric name \"%s\" (also %s[%zu])",
					   p->metrics[i].name, key, j);
			if (same_family(&p->metrics[j], &p->metrics[i]))
				return bad(e, MEMBER(metric, "name"),
					   "\"%s\" is the OpenMetrics family of %s[%zu] too (a "
					   "counter's samples are named FAMILY_total)",
					   p->metrics[i].name, key, j);
		}
	}
	return 0;
}

/* A path object, or in v1.0 the whole document: the two differ only in what the list of
 * metrics is called. */
static int parse_path(json_t *o, const struct place *at, const char *metrics_member,
		      struct dm_path_config *p, dm_error *e)
{
	const char *const members[] = {"name", "code", metrics_member, NULL};
	const char *name, *code;
	int r;

	if (json_object_size(o) == 0)
		return 0; /* {}: no program on this path */

	r = check_members(o, at, members, e);
	if (r >= 0)
		r = get_string(o, at, "name", false, "", &name, e);
	if (r >= 0)
		r = get_string(o, at, "code", true, NULL, &code, e);
	if (r < 0)
		return r;
	if (!*code)
		return bad(e, MEMBER(at, "code"), "must not be empty");

	r = dup_string(name, &p->name, e);
	if (r >= 0)
		r = dup_string(code, &p->code, e);
	if (r >= 0)
		r = parse_metrics(o, at, metrics_member, p, e);
	if (r >= 0)
		p->present = true;
	return r;
}

/* Both paths may export one family (their samples are then told apart by a path label), but
 * not as two types: a family has one. */
static int check_families_across_paths(const struct dm_config *c, dm_error *e)
{
	const struct dm_path_config *in = &c->paths[DM_PATH_INGRESS],
				    *out = &c->paths[DM_PATH_EGRESS];

	for (size_t i = 0; i < in->n_metrics; i++)
		for (size_t j = 0; j < out->n_metrics; j++)
			if (same_family(&in->metrics[i], &out->metrics[j]) &&
			    in->metrics[i].type != out->metrics[j].type)
				return bad(
				    e,
				    MEMBER(ELEMENT(MEMBER(MEMBER(NULL, "egress-path"),
							  "metric-configs"),
						   j),
					   "open-metrics-metadata"),
				    "\"%s\" is a %s, and the same family is a %s on the ingress "
				    "path (ingress-path.metric-configs[%zu])",
				    out->metrics[j].name,
				    dm_metric_type_to_string(out->metrics[j].type),
				    dm_metric_type_to_string(in->metrics[i].type), i);
	return 0;
}

static int parse_v11(json_t *root, struct dm_config *c, dm_error *e)
{
	int r;

	r = check_members(root, NULL, v11_members, e);
	if (r < 0)
		return r;
	for (int i = 0; i < _DM_PATH_MAX; i++) {
		json_t *v = NULL;

		r = get_member(root, NULL, path_members[i], KIND_OBJECT, false, &v, e);
		if (r >= 0 && v)
			r = parse_path(v, MEMBER(NULL, path_members[i]), "metric-configs",
				       &c->paths[i], e);
		if (r < 0)
			return r;
	}
	return check_families_across_paths(c, e);
}

static const char *first_member_of(json_t *o, const char *const *keys)
{
	for (; *keys; keys++)
		if (json_object_get(o, *keys))
			return *keys;
	return NULL;
}

int dm_config_from_json(json_t *root, struct dm_config **ret, dm_error *error)
{
	_cleanup_(dm_config_freep) struct dm_config *c = NULL;
	const char *v10, *v11;
	int r;

	if (!json_is_object(root))
		return dm_error_set(error, -EBADMSG,
				    "the configuration must be a JSON object, got %s",
				    root ? json_kind(root) : "nothing");

	/* The formats are told apart by their members; {} is a v1.1 document without paths. */
	v10 = first_member_of(root, v10_members);
	v11 = first_member_of(root, v11_members);
	if (v10 && v11)
		return bad(error, MEMBER(NULL, v10),
			   "v1.0 field mixed with v1.1 field \"%s\" (use either name, code and "
			   "metrics, or ingress-path and egress-path)",
			   v11);

	c = calloc(1, sizeof(*c));
	if (!c)
		return oom(error);
	if (v10)
		r = parse_path(root, NULL, "metrics", &c->paths[DM_PATH_INGRESS], error);
	else
		r = parse_v11(root, c, error);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(c);
	return 0;
}

int dm_config_parse(const char *text, struct dm_config **ret, dm_error *error)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	json_error_t je;

	if (!text)
		return dm_error_set(error, -EBADMSG, "no configuration given");
	/* Duplicate members would otherwise be resolved silently, the last one winning. */
	root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return dm_error_set(error, -EBADMSG, "invalid JSON at line %d, column %d: %s",
				    je.line, je.column, je.text);
	return dm_config_from_json(root, ret, error);
}

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
	    set_optional(o, "per-cpu", m->per_cpu_given, json_string(per_cpu_names[m->per_cpu])) <
		0 ||
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

static json_t *path_to_json(const struct dm_path_config *p)
{
	_cleanup_(json_decrefp) json_t *o = json_object(), *metrics = json_array();

	if (!o || !metrics)
		return NULL;
	if (!p->present)
		return TAKE_PTR(o);
	for (size_t i = 0; i < p->n_metrics; i++)
		if (json_array_append_new(metrics, metric_to_json(&p->metrics[i])) < 0)
			return NULL;
	if (json_object_set_new(o, "name", json_string(strempty(p->name))) < 0 ||
	    json_object_set_new(o, "code", json_string(p->code)) < 0 ||
	    json_object_set_new(o, "metric-configs", TAKE_PTR(metrics)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

json_t *dm_config_to_json(const struct dm_config *c)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	for (int i = 0; o && i < _DM_PATH_MAX; i++)
		if (json_object_set_new(o, path_members[i], path_to_json(&c->paths[i])) < 0)
			return NULL;
	return TAKE_PTR(o);
}
