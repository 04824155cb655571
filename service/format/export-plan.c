/* SPDX-License-Identifier: Apache-2.0 */
/* The plan of a metric's map as OpenMetrics families (export-plan.h): every field resolved
 * through BTF once, every way the configuration does not fit the map found here, at injection,
 * so that a rendering (export-render.c) only loads numbers at known offsets. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "export-plan.h"
#include "histogram.h"
#include "labels.h"
#include "util.h"

#define PATH_MAX_LEN 256

/* ---- errors: "Metric "NAME": ..." */

static int fail(dm_error *e, const struct dm_metric_config *m, const char *fmt, ...) _printf_(3, 4);
static int fail(dm_error *e, const struct dm_metric_config *m, const char *fmt, ...)
{
	_cleanup_free_ char *metric = strdup_printf("Metric \"%s\"", m->name);
	va_list ap;
	int r;

	if (!metric)
		return dm_error_oom(e);
	va_start(ap, fmt);
	r = dm_error_setv_prefixed(e, -EBADMSG, metric, fmt, ap);
	va_end(ap);
	return r;
}

struct member_list {
	FILE *out;
	bool first;
};

static int list_member(const struct dm_field *f, const char *name, void *userdata)
{
	struct member_list *l = userdata;

	fprintf(l->out, "%s%s", l->first ? "" : ", ", name);
	l->first = false;
	return 0;
}

/* "struct flow_key: saddr, daddr, ...", for messages about fields that do not exist. */
static char *describe_members(const struct dm_field *f)
{
	char *s = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&s, &size);

	if (!out)
		return NULL;
	if (f->kind == DM_FIELD_STRUCT || f->kind == DM_FIELD_UNION) {
		struct member_list l = {out, true};

		fprintf(out, "%s %s: ", f->kind == DM_FIELD_STRUCT ? "struct" : "union",
			dm_field_type_name(f));
		dm_field_foreach_member(f, list_member, &l);
	} else
		fprintf(out, "no struct but %s",
			*dm_field_type_name(f) ? dm_field_type_name(f) : "an array");
	if (fclose(out) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The member at `path` of the key or value (`what`), or a message listing what there is. */
static int find_field(const struct dm_field *root, const char *path, const char *what,
		      const struct dm_metric_config *m, struct dm_field *ret, dm_error *e)
{
	_cleanup_free_ char *members = NULL;
	int r;

	r = dm_field_member(root, path, ret);
	if (r != -ENOENT && r != -ENOTDIR)
		return r < 0 ? fail(e, m, "cannot read the BTF of field \"%s\"", path) : 0;
	members = describe_members(root);
	return fail(e, m, "the %s has no field \"%s\" (%s)", what, path, strempty(members));
}

/* ---- the plan's raw material: the whole key and value */

/* Without BTF, bytes of an integer's size are most likely an integer, in the host's byte order
 * since the dataplane wrote it on this host; other sizes are bytes. */
static struct dm_field raw_field(uint32_t size)
{
	bool integer = size == 1 || size == 2 || size == 4 || size == 8;

	return (struct dm_field){
	    .kind = integer ? DM_FIELD_INT : DM_FIELD_ARRAY,
	    .bits = 8 * size,
	    .size = size,
	    .n_elems = integer ? 0 : size,
	    .elem_size = 1,
	    .byte_elems = !integer,
	};
}

static int whole(const struct dm_export_types *t, uint32_t type_id, uint32_t size, const char *what,
		 const struct dm_metric_config *m, struct dm_field *ret, dm_error *e)
{
	if (!t->btf || type_id == 0) {
		*ret = raw_field(size);
		return 0;
	}
	if (dm_field_of_type(t->btf, type_id, ret) < 0)
		return fail(e, m, "the BTF of the map's %s cannot be read", what);
	if (ret->size != size)
		return fail(e, m, "the map's %s has %u bytes, its BTF type %u", what, size,
			    ret->size);
	return 0;
}

/* ---- labels of the entries */

struct label_walk {
	struct dm_export *x;
	const struct dm_metric_config *m;
	bool *used; /* by key-labels entry */
	const char *skip;
	char dotted[PATH_MAX_LEN]; /* hdr.saddr: how the configuration names it */
	char flat[PATH_MAX_LEN];   /* hdr_saddr: the default label name */
	dm_error *error;
};

/* A field's default label name: OpenMetrics reserves names starting with "__". */
static const char *default_label_name(const char *flat)
{
	flat += strspn(flat, "_");
	return *flat ? flat : "field";
}

static int add_label(struct dm_export *x, const char *name, const struct dm_field *f,
		     enum dm_decoder d, const struct dm_key_label *config, dm_error *e)
{
	struct key_label *l;

	l = reallocarray(x->labels, x->n_labels + 1, sizeof(*l));
	if (!l)
		return dm_error_oom(e);
	x->labels = l;
	l = &x->labels[x->n_labels];
	*l = (struct key_label){.field = *f, .decoder = d, .config = config};
	l->name = strdup(name);
	l->prefix = strdup_printf("%s=\"", name);
	if (!l->name || !l->prefix)
		return dm_error_oom(e);
	l->prefix_len = strlen(l->prefix);
	x->n_labels++;
	l->max_len = dm_label_max_len(d, f, config);
	return 0;
}

static int configured_label(struct label_walk *w, const char *dotted,
			    const struct dm_key_label **ret)
{
	for (size_t i = 0; i < w->m->n_key_labels; i++)
		if (streq_ptr(w->m->key_labels[i].field, dotted)) {
			w->used[i] = true;
			*ret = &w->m->key_labels[i];
			return 0;
		}
	*ret = NULL;
	return 0;
}

static int walk_member(const struct dm_field *f, const char *name, void *userdata);

/* A field's label: the configured decoder or the default; structs and arrays without a
 * decoder of their own give one label per member or element. */
static int walk_field(struct label_walk *w, const struct dm_field *f, const char *name)
{
	const struct dm_key_label *k;
	enum dm_decoder d;
	const char *unfit;
	size_t dn = strlen(w->dotted), fn = strlen(w->flat);
	int r = 0;

	configured_label(w, w->dotted, &k);
	d = k && k->decoder != DM_DECODER_AUTO ? k->decoder : dm_decoder_default(f, name);
	if (d == DM_DECODER_AUTO && k && k->label)
		return fail(
		    w->error, w->m,
		    "key field \"%s\" is a struct or array: give it a decoder (hex) to make "
		    "it one label, or name its members",
		    w->dotted);
	if (d == DM_DECODER_AUTO && f->kind == DM_FIELD_ARRAY) {
		for (uint32_t i = 0; r >= 0 && i < f->n_elems; i++) {
			struct dm_field elem;

			snprintf(w->flat + fn, sizeof(w->flat) - fn, "_%u", i);
			snprintf(w->dotted + dn, sizeof(w->dotted) - dn, "[%u]", i);
			r = dm_field_element(f, i, &elem);
			r = r < 0 ? fail(w->error, w->m, "cannot read the BTF of key field \"%s\"",
					 w->dotted)
				  : walk_field(w, &elem, name);
		}
		w->flat[fn] = w->dotted[dn] = '\0';
		return r;
	}
	if (d == DM_DECODER_AUTO)
		return dm_field_foreach_member(f, walk_member, w);
	unfit = dm_decoder_unfit(d, f);
	if (unfit)
		return fail(w->error, w->m, "decoder %s %s, and key field \"%s\" is not one",
			    dm_decoder_to_string(d), unfit, w->dotted);
	return add_label(w->x, k && k->label ? k->label : default_label_name(w->flat), f, d, k,
			 w->error);
}

static int walk_member(const struct dm_field *f, const char *name, void *userdata)
{
	struct label_walk *w = userdata;
	size_t dn = strlen(w->dotted), fn = strlen(w->flat);
	int r;

	if (dn + strlen(name) + 2 > sizeof(w->dotted))
		return fail(w->error, w->m, "key fields nest too deep");
	snprintf(w->dotted + dn, sizeof(w->dotted) - dn, "%s%s", dn ? "." : "", name);
	snprintf(w->flat + fn, sizeof(w->flat) - fn, "%s%s", fn ? "_" : "", name);
	r = w->skip && streq(w->dotted, w->skip) ? 0 : walk_field(w, f, name);
	w->dotted[dn] = w->flat[fn] = '\0';
	return r;
}

/* A whole key that is no struct, or an entry's index: one label. */
static int single_label(struct label_walk *w, const struct dm_field *f, const char *def)
{
	const struct dm_key_label *k;
	enum dm_decoder d;
	const char *unfit;

	configured_label(w, NULL, &k);
	d = k && k->decoder != DM_DECODER_AUTO ? k->decoder : dm_decoder_default(f, "");
	if (d == DM_DECODER_AUTO) /* an array of wider elements: hex says it all */
		d = DM_DECODER_HEX;
	unfit = dm_decoder_unfit(d, f);
	if (unfit)
		return fail(w->error, w->m, "decoder %s %s, and the %s is not one",
			    dm_decoder_to_string(d), unfit, def);
	return add_label(w->x, k && k->label ? k->label : def, f, d, k, w->error);
}

/* Every key-labels entry must have found its field. */
static int check_labels_used(struct label_walk *w)
{
	const struct dm_export *x = w->x;

	for (size_t i = 0; i < w->m->n_key_labels; i++) {
		const struct dm_key_label *k = &w->m->key_labels[i];
		struct dm_field f;
		int r;

		if (w->used[i])
			continue;
		if (!k->field)
			return fail(w->error, w->m,
				    "key-labels[%zu] names no field, but the key is a struct", i);
		if (x->element != ELEMENT_KEY || x->key.kind != DM_FIELD_STRUCT)
			return fail(w->error, w->m,
				    "key-labels[%zu] names field \"%s\", but the %s", i, k->field,
				    x->element == ELEMENT_KEY ? "key is no struct"
							      : "entries are told apart by index");
		r = find_field(&x->key, k->field, "key", w->m, &f, w->error);
		if (r < 0)
			return r;
		if (x->bucket_field && streq(k->field, w->m->histogram->bucket_field))
			return fail(w->error, w->m,
				    "key field \"%s\" is the histogram's bucket, no label",
				    k->field);
		return fail(w->error, w->m,
			    "key field \"%s\" lies in a field that is one label already", k->field);
	}
	return 0;
}

static const struct dm_field index_field = {
    .kind = DM_FIELD_INT, .bits = 32, .size = 4}; /* a uint32_t */

static int plan_labels(struct dm_export *x, const struct dm_metric_config *m, dm_error *e)
{
	_cleanup_free_ bool *used = calloc(m->n_key_labels + 1, sizeof(bool));
	struct label_walk w = {.x = x, .m = m, .used = used, .error = e};
	int r = 0;

	if (!used)
		return dm_error_oom(e);
	if (m->n_key_labels > 0 && x->element == ELEMENT_NONE)
		return fail(e, m, "key-labels: the entries are the histogram's buckets, no labels");
	if (m->n_key_labels > 0 && !dm_map_type_is_hash(x->t.map_type) &&
	    !dm_map_type_is_array(x->t.map_type))
		return fail(e, m, "key-labels: a queue or stack has no key");
	if (x->element == ELEMENT_INDEX) {
		x->index_always = m->n_key_labels > 0;
		r = single_label(&w, &index_field, "index");
	} else if (x->element == ELEMENT_KEY && x->key.kind == DM_FIELD_STRUCT) {
		w.skip = x->bucket_field ? m->histogram->bucket_field : NULL;
		r = dm_field_foreach_member(&x->key, walk_member, &w);
	} else if (x->element == ELEMENT_KEY)
		r = single_label(&w, &x->key, "key");
	return r < 0 ? r : check_labels_used(&w);
}

/* Every label of a sample once: configured, from the key, "cpu", and none OpenMetrics or
 * dynmon set themselves. */
static int check_label_names(const struct dm_export *x, const struct dm_metric_config *m,
			     dm_error *e)
{
	for (size_t i = 0; i < x->n_labels; i++) {
		const char *name = x->labels[i].name;

		if (strv_contains(dm_reserved_label_names, name))
			return fail(e, m,
				    "the key's label \"%s\" is a name OpenMetrics or dynmon "
				    "set: rename it in key-labels",
				    name);
		if (x->cpu_label && streq(name, "cpu"))
			return fail(e, m, "label \"cpu\" comes from the key and from per-cpu");
		for (size_t j = 0; j < m->n_labels; j++)
			if (streq(name, m->labels[j].name))
				return fail(e, m, "label \"%s\" is configured and from the key too",
					    name);
		for (size_t j = 0; j < i; j++)
			if (streq(name, x->labels[j].name))
				return fail(e, m,
					    "two key fields make label \"%s\": rename one in "
					    "key-labels",
					    name);
	}
	for (size_t j = 0; x->cpu_label && j < m->n_labels; j++)
		if (streq(m->labels[j].name, "cpu"))
			return fail(e, m, "label \"cpu\" is configured and from per-cpu too");
	return 0;
}

static int plan_fixed_labels(struct dm_export *x, const struct dm_metric_config *m, dm_error *e)
{
	size_t size = 1;
	char *p;

	for (size_t i = 0; i < m->n_labels; i++)
		size += strlen(m->labels[i].name) + 2 * strlen(m->labels[i].value) + 4;
	p = x->fixed = malloc(size);
	if (!p)
		return dm_error_oom(e);
	for (size_t i = 0; i < m->n_labels; i++) {
		if (i > 0)
			*p++ = ',';
		p = stpcpy(p, m->labels[i].name);
		p = stpcpy(p, "=\"");
		p = om_escape(p, m->labels[i].value, strlen(m->labels[i].value));
		*p++ = '"';
	}
	*p = '\0';
	x->fixed_len = p - x->fixed;
	return 0;
}

/* ---- the numbers of the values */

struct family_walk {
	struct dm_export *x;
	const struct dm_metric_config *m;
	char flat[PATH_MAX_LEN];
	const char *base;
	bool named; /* a field the configuration named: it must be a number */
	dm_error *error;
};

static int add_family(struct family_walk *w, const struct dm_field *f)
{
	struct value_family *v;

	v = reallocarray(w->x->families, w->x->n_families + 1, sizeof(*v));
	if (!v)
		return dm_error_oom(w->error);
	w->x->families = v;
	v = &v[w->x->n_families];
	v->value = *f;
	v->name = *w->flat ? strdup_printf("%s_%s", w->base, w->flat) : strdup(w->base);
	if (!v->name)
		return dm_error_oom(w->error);
	w->x->n_families++;
	return 0;
}

static int family_member(const struct dm_field *f, const char *name, void *userdata);

/* Numbers are families; structs and arrays of numbers are flattened with "_"; text and what
 * no number holds are left to the JSON view, unless the configuration named them. */
static int family_field(struct family_walk *w, const struct dm_field *f)
{
	size_t n = strlen(w->flat);
	int r = 0;

	if (dm_field_is_number(f))
		return add_family(w, f);
	if (f->kind == DM_FIELD_STRUCT || f->kind == DM_FIELD_UNION)
		return dm_field_foreach_member(f, family_member, w);
	if (f->kind == DM_FIELD_ARRAY && f->btf && !f->char_elems && n + 12 < sizeof(w->flat)) {
		for (uint32_t i = 0; r >= 0 && i < f->n_elems; i++) {
			struct dm_field elem;

			snprintf(w->flat + n, sizeof(w->flat) - n, "%s%u", n ? "_" : "", i);
			r = dm_field_element(f, i, &elem);
			r = r < 0 ? fail(w->error, w->m, "cannot read the BTF of the value")
				  : family_field(w, &elem);
		}
		w->flat[n] = '\0';
		return r;
	}
	if (w->named)
		return fail(w->error, w->m, "value field \"%s\" holds no number", w->flat);
	return 0;
}

static int family_member(const struct dm_field *f, const char *name, void *userdata)
{
	struct family_walk *w = userdata;
	size_t n = strlen(w->flat);
	int r;

	if (n + strlen(name) + 2 > sizeof(w->flat))
		return fail(w->error, w->m, "value fields nest too deep");
	snprintf(w->flat + n, sizeof(w->flat) - n, "%s%s", n ? "_" : "", name);
	r = family_field(w, f);
	w->flat[n] = '\0';
	return r;
}

static int plan_values(struct dm_export *x, const struct dm_metric_config *m, const char *base,
		       dm_error *e)
{
	struct family_walk w = {.x = x, .m = m, .base = base, .error = e};
	int r = 0;

	if (dm_field_is_number(&x->value)) {
		if (m->n_value_fields > 0)
			return fail(e, m, "value-fields: the value is a number, not a struct");
		return add_family(&w, &x->value);
	}
	if (x->value.kind != DM_FIELD_STRUCT && x->value.kind != DM_FIELD_UNION &&
	    m->n_value_fields > 0)
		return fail(e, m, "value-fields: the value is no struct");
	if (m->n_value_fields == 0)
		r = family_field(&w, &x->value);
	for (size_t i = 0; i < m->n_value_fields; i++) {
		struct dm_field f;

		r = find_field(&x->value, m->value_fields[i], "value", m, &f, e);
		if (r < 0)
			return r;
		strncpy(w.flat, m->value_fields[i], sizeof(w.flat) - 1);
		for (char *c = w.flat; *c; c++)
			if (*c == '.')
				*c = '_';
		w.named = true;
		r = family_field(&w, &f);
		if (r < 0)
			return r;
	}
	if (r >= 0 && x->n_families == 0)
		return fail(e, m, "the value holds no number to export");
	return r;
}

/* A field of the value that must hold a number (`integer`: an integer). */
static int value_number_field(struct dm_export *x, const struct dm_metric_config *m,
			      const char *path, const char *what, bool integer,
			      struct dm_field *ret, dm_error *e)
{
	int r;

	if (x->value.kind != DM_FIELD_STRUCT && x->value.kind != DM_FIELD_UNION)
		return fail(e, m, "the %s (\"%s\") needs a struct value, and the value is none",
			    what, path);
	r = find_field(&x->value, path, "value", m, ret, e);
	if (r < 0)
		return r;
	if (integer ? ret->kind != DM_FIELD_INT : !dm_field_is_number(ret))
		return fail(e, m, "value field \"%s\" (the %s) holds no %s", path, what,
			    integer ? "integer" : "number");
	return 0;
}

/* ---- histograms */

static int plan_bucket_entries(struct dm_export *x, const struct dm_metric_config *m, dm_error *e)
{
	const struct dm_histogram_config *h = m->histogram;
	int r;

	if (x->bucket_field) {
		r = find_field(&x->key, h->bucket_field, "key", m, &x->bucket, e);
		if (r < 0)
			return r;
		if (x->bucket.kind != DM_FIELD_INT || !dm_field_is_bytes(&x->bucket))
			return fail(e, m,
				    "key field \"%s\" (the bucket) is no integer of whole bytes",
				    h->bucket_field);
	} else if (dm_map_type_is_hash(x->t.map_type) && x->key.kind != DM_FIELD_INT)
		return fail(e, m,
			    "the key is no bucket number: name the key field holding it "
			    "(histogram.bucket-field)");
	if (dm_map_type_is_hash(x->t.map_type) && !dm_histogram_n_buckets(h, 0))
		return fail(e, m, "a hash of buckets needs their number (histogram.buckets)");

	if (dm_field_is_number(&x->value)) {
		if (h->count_field || h->sum_field)
			return fail(e, m, "histogram.%s: the value is a number, not a struct",
				    h->count_field ? "count-field" : "sum-field");
		if (x->value.kind != DM_FIELD_INT)
			return fail(e, m, "bucket counts must be integers");
		x->count = x->value;
	} else {
		if (!h->count_field)
			return fail(
			    e, m,
			    "the value is a struct: name the field holding a bucket's count "
			    "(histogram.count-field)");
		r = value_number_field(x, m, h->count_field, "count-field", true, &x->count, e);
		if (r < 0)
			return r;
	}
	x->has_sum = h->sum_field;
	return h->sum_field ? value_number_field(x, m, h->sum_field, "sum-field", false, &x->sum, e)
			    : 0;
}

static int plan_bucket_arrays(struct dm_export *x, const struct dm_metric_config *m, dm_error *e)
{
	const struct dm_histogram_config *h = m->histogram;
	int r;

	if (x->value.kind != DM_FIELD_STRUCT)
		return fail(e, m, "histogram.buckets-field needs a struct value");
	r = find_field(&x->value, h->buckets_field, "value", m, &x->bucket, e);
	if (r < 0)
		return r;
	if (x->bucket.kind != DM_FIELD_ARRAY || x->bucket.n_elems == 0 ||
	    dm_field_element(&x->bucket, 0, &x->first_bucket) < 0 ||
	    x->first_bucket.kind != DM_FIELD_INT)
		return fail(e, m, "value field \"%s\" is no array of integer bucket counts",
			    h->buckets_field);
	x->has_sum = h->sum_field;
	return h->sum_field ? value_number_field(x, m, h->sum_field, "sum-field", false, &x->sum, e)
			    : 0;
}

/* ---- summaries */

/* p50 is quantile 0.5, p5 0.05, p999 0.999, p100 1: what such names mean. */
static bool quantile_of_name(const char *name, double *ret)
{
	const char *digits = name + 1;
	size_t n = strlen(digits);

	if (name[0] != 'p' || n == 0 || strspn(digits, "0123456789") != n)
		return false;
	if (streq(digits, "100"))
		*ret = 1;
	else if (n <= 2)
		*ret = atof(digits) / 100;
	else if (digits[0] == '9') {
		*ret = atof(digits);
		while (n--)
			*ret /= 10;
	} else
		return false;
	return true;
}

static int add_quantile(struct dm_export *x, double q, const struct dm_field *f, dm_error *e)
{
	struct quantile *v = reallocarray(x->quantiles, x->n_quantiles + 1, sizeof(*v));

	if (!v)
		return dm_error_oom(e);
	x->quantiles = v;
	v[x->n_quantiles].field = *f;
	om_format_canonical(q, v[x->n_quantiles].label);
	x->n_quantiles++;
	return 0;
}

struct quantile_walk {
	struct dm_export *x;
	dm_error *error;
};

static int quantile_member(const struct dm_field *f, const char *name, void *userdata)
{
	struct quantile_walk *w = userdata;
	double q;

	if (!dm_field_is_number(f) || !quantile_of_name(name, &q))
		return 0;
	return add_quantile(w->x, q, f, w->error);
}

static int plan_summaries(struct dm_export *x, const struct dm_metric_config *m, dm_error *e)
{
	const struct dm_summary_config *s = m->summary;
	struct quantile_walk w = {x, e};
	int r;

	r = value_number_field(x, m, s && s->count_field ? s->count_field : "count",
			       "summary's count-field", true, &x->count, e);
	if (r >= 0)
		r = value_number_field(x, m, s && s->sum_field ? s->sum_field : "sum",
				       "summary's sum-field", false, &x->sum, e);
	if (r < 0)
		return r;
	x->has_sum = true;
	if (!s || !s->quantiles_given)
		r = dm_field_foreach_member(&x->value, quantile_member, &w);
	for (size_t i = 0; r >= 0 && s && i < s->n_quantiles; i++) {
		struct dm_field f;

		r = value_number_field(x, m, s->quantiles[i].field, "quantile", false, &f, e);
		if (r >= 0)
			r = add_quantile(x, s->quantiles[i].quantile, &f, e);
	}
	if (r >= 0 && x->n_quantiles > 0 && x->percpu && !x->cpu_label)
		return fail(e, m,
			    "quantiles of different CPUs cannot be added up: set \"per-cpu\": "
			    "\"label\"");
	return r;
}

/* ---- the plan */

static int plan_shape(struct dm_export *x, const struct dm_metric_config *m, const char *base,
		      dm_error *e)
{
	bool hash = dm_map_type_is_hash(x->t.map_type), array = dm_map_type_is_array(x->t.map_type);

	x->element = hash ? ELEMENT_KEY : ELEMENT_INDEX;
	switch (x->shape) {
	case SHAPE_VALUES:
		return plan_values(x, m, base, e);
	case SHAPE_BUCKETS:
		x->bucket_field = m->histogram->bucket_field;
		if (!hash && !array)
			return fail(e, m, "the entries of a queue or stack are no buckets");
		if (x->bucket_field && (!hash || x->key.kind != DM_FIELD_STRUCT))
			return fail(e, m, "histogram.bucket-field needs a hash with a struct key");
		if (!x->bucket_field)
			x->element = ELEMENT_NONE;
		return plan_bucket_entries(x, m, e);
	case SHAPE_BUCKET_ARRAYS:
		return plan_bucket_arrays(x, m, e);
	case SHAPE_SUMMARIES:
		return plan_summaries(x, m, e);
	}
	return -EINVAL;
}

/* The series budget: top-k ranks the entries of a hash by one number of their value. */
static int plan_budget(struct dm_export *x, const struct dm_metric_config *m, dm_error *e)
{
	int r;

	x->limit = m->max_series_given ? m->max_series : DM_DEFAULT_MAX_SERIES;
	if (m->top_k == 0)
		return 0;
	if (x->shape != SHAPE_VALUES || x->element != ELEMENT_KEY)
		return fail(e, m, "top-k ranks the entries of a hash map of counters or gauges");
	x->top_k = true;
	x->limit = x->limit > 0 ? MIN(x->limit, (size_t)m->top_k) : m->top_k;
	if (!m->top_k_by) {
		x->top_by = x->families[0].value;
		return 0;
	}
	if (dm_field_is_number(&x->value))
		return fail(e, m, "top-k-by: the value is a number, not a struct");
	r = find_field(&x->value, m->top_k_by, "value", m, &x->top_by, e);
	if (r >= 0 && !dm_field_is_number(&x->top_by))
		return fail(e, m, "top-k-by: field \"%s\" is not a number", m->top_k_by);
	return r;
}

/* OpenMetrics: a unit "MUST be a suffix of the MetricFamily name separated by an underscore". */
static int check_unit(const struct dm_export *x, const struct dm_metric_config *m, dm_error *e)
{
	size_t n = m->unit ? strlen(m->unit) : 0;

	for (size_t i = 0; m->unit && i < dm_export_n_families(x); i++) {
		const char *family = dm_export_family(x, i);
		size_t k = strlen(family);

		if (k <= n + 1 || family[k - n - 1] != '_' || !streq(family + k - n, m->unit))
			return fail(
			    e, m,
			    "family \"%s\" does not end in \"_%s\": OpenMetrics wants the unit "
			    "at the end of the name",
			    family, m->unit);
	}
	return 0;
}

static size_t labels_max(const struct dm_export *x)
{
	size_t n = x->fixed_len + sizeof(",cpu=\"4294967295\"");

	for (size_t i = 0; i < x->n_labels; i++)
		n += strlen(x->labels[i].name) + sizeof(",=\"\"") +
		     MAX(x->labels[i].max_len, sizeof(DM_OVERFLOW_LABEL));
	return n + sizeof(DM_OVERFLOW_LABEL); /* cpu="__overflow__" */
}

static enum shape shape_of(const struct dm_metric_config *m)
{
	switch (m->type) {
	case DM_METRIC_HISTOGRAM:
		return m->histogram && m->histogram->buckets_field ? SHAPE_BUCKET_ARRAYS
								   : SHAPE_BUCKETS;
	case DM_METRIC_SUMMARY:
		return SHAPE_SUMMARIES;
	default:
		return SHAPE_VALUES;
	}
}

/* The "le" labels of `n` buckets, the last one +Inf. */
le_label *dm_export_le_labels(const struct dm_histogram_config *h, uint32_t n)
{
	_cleanup_free_ double *bounds = calloc(n, sizeof(*bounds));
	le_label *le = calloc(n, sizeof(*le));

	if (!bounds || !le) {
		free(le);
		return NULL;
	}
	dm_histogram_bounds(h, n, bounds);
	for (uint32_t b = 0; b < n; b++) {
		char *p = stpcpy(le[b], "le=\"");

		p +=
		    b + 1 < n ? om_format_canonical(bounds[b], p) : (size_t)(stpcpy(p, "+Inf") - p);
		strcpy(p, "\"");
	}
	return le;
}

/* The number of buckets, as a rendering of `n_entries` entries has them. */
uint32_t dm_export_n_buckets(const struct dm_export *x, size_t n_entries)
{
	uint32_t available =
	    x->shape == SHAPE_BUCKET_ARRAYS ? x->bucket.n_elems : (uint32_t)n_entries;

	return dm_histogram_n_buckets(x->m->histogram, available) ?: 1;
}

/* The plan's "le" labels: for the number of buckets an array map's entries make (and that
 * any map makes when the configuration fixes it). */
static int plan_le(struct dm_export *x, uint32_t max_entries)
{
	if (x->shape != SHAPE_BUCKETS && x->shape != SHAPE_BUCKET_ARRAYS)
		return 0;
	x->n_le = dm_export_n_buckets(x, max_entries);
	x->le = dm_export_le_labels(x->m->histogram, x->n_le);
	return x->le ? 0 : -ENOMEM;
}

static int plan_new(struct dm_export *x, const struct dm_export_types *t,
		    const struct dm_metric_config *m, dm_error *e)
{
	_cleanup_free_ char *base = om_family_name(m->name, m->type);
	int r;

	if (!base)
		return dm_error_oom(e);
	x->m = m;
	x->t = *t;
	x->percpu = dm_map_type_is_percpu(t->map_type);
	if (m->per_cpu_given && !x->percpu)
		return fail(e, m, "per-cpu: map %s is not a per-CPU map", m->map_name);
	x->cpu_label = m->per_cpu_given && m->per_cpu == DM_PER_CPU_LABEL;
	if (m->type == DM_METRIC_HISTOGRAM && !m->histogram)
		return fail(e, m, "a histogram needs its buckets described (\"histogram\")");
	x->shape = shape_of(m);

	r = t->key_size > 0 ? whole(t, t->key_type_id, t->key_size, "key", m, &x->key, e) : 0;
	if (r >= 0)
		r = whole(t, t->value_type_id, t->value_size, "value", m, &x->value, e);
	if (r >= 0)
		r = plan_shape(x, m, base, e);
	if (r >= 0 && x->shape != SHAPE_VALUES && !(x->family = strdup(base)))
		r = dm_error_oom(e);
	if (r >= 0)
		r = plan_labels(x, m, e);
	if (r >= 0)
		r = check_label_names(x, m, e);
	if (r >= 0)
		r = plan_fixed_labels(x, m, e);
	if (r >= 0)
		r = check_unit(x, m, e);
	if (r >= 0)
		r = plan_budget(x, m, e);
	if (r >= 0 && plan_le(x, t->max_entries) < 0)
		r = dm_error_oom(e);
	x->labels_max = labels_max(x);
	return r;
}

int dm_export_new(const struct dm_export_types *t, const struct dm_metric_config *m,
		  struct dm_export **ret, dm_error *error)
{
	_cleanup_(dm_export_freep) struct dm_export *x = NULL;
	int r;

	if (!m->open_metrics)
		return dm_error_set(error, -EINVAL, "Metric \"%s\" has no open-metrics-metadata.",
				    m->name);
	if (!dm_map_type_is_hash(t->map_type) && !dm_map_type_is_array(t->map_type) &&
	    t->map_type != BPF_MAP_TYPE_QUEUE && t->map_type != BPF_MAP_TYPE_STACK)
		return dm_error_set(error, -EOPNOTSUPP,
				    "Metric \"%s\": a map of type %s has no OpenMetrics shape.",
				    m->name, strempty(libbpf_bpf_map_type_str(t->map_type)));
	x = calloc(1, sizeof(*x));
	if (!x)
		return dm_error_oom(error);
	r = plan_new(x, t, m, error);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(x);
	return 0;
}

void dm_export_free(struct dm_export *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_labels; i++) {
		free(x->labels[i].name);
		free(x->labels[i].prefix);
	}
	free(x->labels);
	for (size_t i = 0; i < x->n_families; i++)
		free(x->families[i].name);
	free(x->families);
	free(x->quantiles);
	free(x->le);
	free(x->family);
	free(x->fixed);
	free(x);
}

size_t dm_export_n_families(const struct dm_export *x)
{
	return x->shape == SHAPE_VALUES ? x->n_families : 1;
}

const char *dm_export_family(const struct dm_export *x, size_t i)
{
	return x->shape == SHAPE_VALUES ? x->families[i].name : x->family;
}

enum dm_metric_type dm_export_type(const struct dm_export *x)
{
	return x->m->type;
}

bool dm_export_has_label(const struct dm_export *x, const char *name)
{
	for (size_t i = 0; i < x->n_labels; i++)
		if (streq(x->labels[i].name, name))
			return true;
	for (size_t i = 0; i < x->m->n_labels; i++)
		if (streq(x->m->labels[i].name, name))
			return true;
	return x->cpu_label && streq(name, "cpu");
}
