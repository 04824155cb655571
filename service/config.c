/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing is strict on purpose: an operator who misspells a field must hear about it at
 * injection time, not find out later that a metric silently went missing. Every error names
 * the place in the document it is about. */
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
static const char *const extraction_members[] = {"empty-on-read", "swap-on-read", NULL};
static const char *const metadata_members[] = {"help", "type", "labels", NULL};
static const char *const label_members[] = {"name", "value", NULL};

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
};

static const char *const kind_names[] = {
    [KIND_OBJECT] = "an object",
    [KIND_ARRAY] = "an array",
    [KIND_STRING] = "a string",
    [KIND_BOOLEAN] = "a boolean",
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
	if (r < 0)
		return r;
	return parse_labels(meta, at, m, e);
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
		for (size_t j = 0; j < i; j++)
			if (streq(p->metrics[j].name, p->metrics[i].name))
				return bad(e, MEMBER(metric, "name"),
					   "duplicate metric name \"%s\" (also %s[%zu])",
					   p->metrics[i].name, key, j);
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
	return 0;
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

static json_t *metadata_to_json(const struct dm_metric_config *m)
{
	_cleanup_(json_decrefp) json_t *o = json_object();

	if (!o || json_object_set_new(o, "help", json_string(strempty(m->help))) < 0 ||
	    json_object_set_new(o, "type", json_string(dm_metric_type_to_string(m->type))) < 0 ||
	    json_object_set_new(o, "labels", labels_to_json(m)) < 0)
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
