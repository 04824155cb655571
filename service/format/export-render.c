/* SPDX-License-Identifier: Apache-2.0 */
/* A metric's map rendered as OpenMetrics families by its plan (export-plan.c). The plan resolves
 * every field through BTF once; a rendering then only loads numbers at known offsets and formats
 * them into a line buffer: no allocation per sample, labels decoded in place, one pass over the
 * entries per family (and a sort only where OpenMetrics needs entries grouped: buckets spread over
 * a hash). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "export-plan.h"
#include "histogram.h"
#include "labels.h"
#include "util.h"

struct render {
	const struct dm_export *x;
	const struct dm_map_snapshot *s;
	FILE *f;		/* into a FILE, */
	struct om_families *fs; /* or into the families' texts */
	struct om_buffer out;
	bool own_labels; /* entries carry labels of their own */
	char *extra;	 /* the caller's labels, as written: a="x",b="y" */
	size_t extra_len;
	char *labels; /* scratch: an entry's labels */
	size_t line_max;
	struct dm_ifname_cache ifnames;
	/* the series budget: entries folded into one __overflow__ sample per family */
	uint8_t *fold; /* one byte per entry, 1 when folded; NULL when none is */
	size_t n_folded;
	/* histograms */
	uint32_t n_buckets;
	uint64_t *counts;
	const le_label *le; /* the plan's, or le_own */
	le_label *le_own;
	/* Room for the scratch buffers above when they are small, as they mostly are: a scrape
	 * renders hundreds of small maps, and allocating for each was a tenth of its time. */
	char small_extra[256];
	char small_labels[512];
	uint64_t small_counts[32];
};

/* `n` bytes: `small` when they fit in it, else from the heap (freed by scratch_free()). */
static void *scratch(void *small, size_t small_size, size_t n)
{
	return n <= small_size ? small : malloc(n);
}

static void scratch_free(void *p, const void *small)
{
	if (p != small)
		free(p);
}

static void render_done(struct render *rd)
{
	om_buffer_done(&rd->out);
	scratch_free(rd->extra, rd->small_extra);
	scratch_free(rd->labels, rd->small_labels);
	scratch_free(rd->counts, rd->small_counts);
	free(rd->le_own);
	free(rd->fold);
}

static bool folded(const struct render *rd, size_t i)
{
	return rd->fold && rd->fold[i];
}

static char *format_value(char *p, const struct dm_number *v)
{
	char buf[OM_NUMBER_MAX];
	size_t n;

	if (v->kind == DM_NUMBER_U64)
		return dm_format_u64(p, v->u);
	if (v->kind == DM_NUMBER_I64)
		return dm_format_i64(p, v->i);
	n = om_format_number(v, buf);
	return mempcpy(p, buf, n);
}

/* One line: FAMILY SUFFIX {LABELS,LAST} VALUE; `last` is "le" or "quantile", or NULL. */
static int write_line(struct render *rd, const char *family, const char *suffix, const char *labels,
		      size_t labels_len, const char *last, const struct dm_number *v)
{
	char *p = om_buffer_reserve(&rd->out, rd->line_max);

	if (!p)
		return rd->out.error;
	p = stpcpy(stpcpy(p, family), suffix);
	if (labels_len > 0 || last) {
		*p++ = '{';
		p = mempcpy(p, labels, labels_len);
		if (last) {
			if (labels_len > 0)
				*p++ = ',';
			p = stpcpy(p, last);
		}
		*p++ = '}';
	}
	*p++ = ' ';
	p = format_value(p, v);
	*p++ = '\n';
	om_buffer_commit(&rd->out, p);
	return 0;
}

static char *separate(char *p, const char *start)
{
	if (p != start)
		*p++ = ',';
	return p;
}

/* The labels of entry `i` (of `cpu`, when labelled by CPU) into rd->labels; returns their
 * length. */
static size_t entry_labels(struct render *rd, size_t i, int cpu)
{
	const struct dm_export *x = rd->x;
	char *start = rd->labels, *p = start;
	uint32_t index = i;
	const void *base =
	    x->element == ELEMENT_INDEX ? (const void *)&index : dm_map_snapshot_key(rd->s, i);

	p = mempcpy(p, x->fixed, x->fixed_len);
	for (size_t k = 0; rd->own_labels && k < x->n_labels; k++) {
		const struct key_label *l = &x->labels[k];

		p = mempcpy(separate(p, start), l->prefix, l->prefix_len);
		p = dm_label_format(p, l->decoder, &l->field, base, l->config, &rd->ifnames);
		*p++ = '"';
	}
	if (cpu >= 0) {
		p = stpcpy(separate(p, start), "cpu=\"");
		p = dm_format_u64(p, cpu);
		*p++ = '"';
	}
	if (rd->extra_len > 0)
		p = mempcpy(separate(p, start), rd->extra, rd->extra_len);
	return p - start;
}

/* The labels of the overflow sample into rd->labels: every label an entry has of its own (key,
 * index, cpu) reads __overflow__. Returns their length. */
static size_t overflow_labels(struct render *rd)
{
	const struct dm_export *x = rd->x;
	char *start = rd->labels, *p = start;

	p = mempcpy(p, x->fixed, x->fixed_len);
	for (size_t k = 0; rd->own_labels && k < x->n_labels; k++)
		p = stpcpy(
		    mempcpy(separate(p, start), x->labels[k].prefix, x->labels[k].prefix_len),
		    DM_OVERFLOW_LABEL "\"");
	if (x->cpu_label)
		p = stpcpy(separate(p, start), "cpu=\"" DM_OVERFLOW_LABEL "\"");
	if (rd->extra_len > 0)
		p = mempcpy(separate(p, start), rd->extra, rd->extra_len);
	return p - start;
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

/* Field `f` of entry `i`'s value on `cpu`, or added up over the CPUs when cpu < 0. */
static void entry_number(const struct render *rd, const struct dm_field *f, size_t i, int cpu,
			 struct dm_number *ret)
{
	struct dm_number v;

	dm_field_number(f, dm_map_snapshot_value(rd->s, i, cpu < 0 ? 0 : cpu), ret);
	for (uint32_t c = 1; cpu < 0 && c < rd->s->n_cpus; c++) {
		dm_field_number(f, dm_map_snapshot_value(rd->s, i, c), &v);
		number_add(ret, &v);
	}
}

/* A count: negative ones (from a signed field) count nothing rather than break the order of
 * cumulative buckets, which OpenMetrics parsers refuse. */
static uint64_t as_count(const struct dm_number *n)
{
	return n->kind == DM_NUMBER_I64 ? (n->i > 0 ? (uint64_t)n->i : 0) : n->u;
}

/* The CPUs to write separately: all, or -1 for "added up". */
static int first_cpu(const struct render *rd)
{
	return rd->x->cpu_label ? 0 : -1;
}

static int next_cpu(const struct render *rd, int cpu)
{
	return cpu >= 0 && (uint32_t)cpu + 1 < rd->s->n_cpus ? cpu + 1 : INT32_MIN;
}

/* A family begins: its descriptor into the FILE, or its samples into its text. */
static int write_descriptor(struct render *rd, const char *family)
{
	const struct dm_metric_config *m = rd->x->m;
	struct om_text *samples;
	int r;

	if (rd->f) {
		r = om_buffer_flush(&rd->out);
		return r < 0 ? r : om_write_family(rd->f, family, m->type, m->help, m->unit);
	}
	om_buffer_done(&rd->out);
	r = om_families_get(rd->fs, family, m->type, m->help, m->unit, &samples);
	if (r == 0)
		return -EBADMSG; /* gathered with another type: the caller checks types first */
	return r < 0 ? r : om_buffer_init_text(&rd->out, samples, rd->line_max);
}

static int write_values(struct render *rd)
{
	const struct dm_export *x = rd->x;
	const char *suffix = x->m->type == DM_METRIC_COUNTER ? "_total" : "";
	int r;

	for (size_t k = 0; k < x->n_families; k++) {
		const struct value_family *f = &x->families[k];

		struct dm_number over = {.kind = DM_NUMBER_U64};
		bool first = true;

		r = write_descriptor(rd, f->name);
		if (r < 0)
			return r;
		for (size_t i = 0; i < rd->s->n_entries; i++) {
			if (folded(rd, i)) {
				struct dm_number v;

				entry_number(rd, &f->value, i, -1, &v);
				if (first)
					over = v;
				else
					number_add(&over, &v);
				first = false;
				continue;
			}
			for (int cpu = first_cpu(rd); cpu != INT32_MIN; cpu = next_cpu(rd, cpu)) {
				struct dm_number v;
				size_t n = entry_labels(rd, i, cpu);

				entry_number(rd, &f->value, i, cpu, &v);
				r = write_line(rd, f->name, suffix, rd->labels, n, NULL, &v);
				if (r < 0)
					return r;
			}
		}
		if (rd->n_folded > 0) {
			r = write_line(rd, f->name, suffix, rd->labels, overflow_labels(rd), NULL,
				       &over);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* One histogram: cumulative buckets, the last one +Inf, then _count and _sum together (an
 * OpenMetrics histogram has both or neither). */
static int write_histogram(struct render *rd, size_t labels_len, const struct dm_number *sum)
{
	const char *family = rd->x->family;
	struct dm_number v = {.kind = DM_NUMBER_U64};
	int r = 0;

	for (uint32_t b = 0; r >= 0 && b < rd->n_buckets; b++) {
		v.u += rd->counts[b];
		r = write_line(rd, family, "_bucket", rd->labels, labels_len, rd->le[b], &v);
	}
	if (r >= 0 && rd->x->has_sum)
		r = write_line(rd, family, "_count", rd->labels, labels_len, NULL, &v);
	if (r >= 0 && rd->x->has_sum)
		r = write_line(rd, family, "_sum", rd->labels, labels_len, NULL, sum);
	return r;
}

static uint32_t bucket_of_entry(const struct render *rd, size_t i)
{
	const struct dm_export *x = rd->x;
	uint64_t b;

	if (dm_map_type_is_array(rd->s->type))
		b = i;
	else
		b = dm_field_bits(x->bucket_field ? &x->bucket : &x->key,
				  dm_map_snapshot_key(rd->s, i));
	return b < rd->n_buckets - 1 ? b : rd->n_buckets - 1;
}

/* Adds entry i's count (and sum) to its bucket. */
static void count_entry(struct render *rd, size_t i, int cpu, struct dm_number *sum, bool first)
{
	struct dm_number v;

	entry_number(rd, &rd->x->count, i, cpu, &v);
	rd->counts[bucket_of_entry(rd, i)] += as_count(&v);
	if (!rd->x->has_sum)
		return;
	entry_number(rd, &rd->x->sum, i, cpu, &v);
	if (first)
		*sum = v;
	else
		number_add(sum, &v);
}

/* The entries order[0 .. n-1] are the buckets of one histogram (per CPU when so labelled). */
static int write_bucket_group(struct render *rd, const size_t *order, size_t n)
{
	for (int cpu = first_cpu(rd); cpu != INT32_MIN; cpu = next_cpu(rd, cpu)) {
		struct dm_number sum = {.kind = DM_NUMBER_U64};
		size_t labels_len;
		int r;

		memset(rd->counts, 0, rd->n_buckets * sizeof(*rd->counts));
		for (size_t k = 0; k < n; k++)
			count_entry(rd, order ? order[k] : k, cpu, &sum, k == 0);
		labels_len = entry_labels(rd, n > 0 && order ? order[0] : 0, cpu);
		r = write_histogram(rd, labels_len, &sum);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Entries of a struct key sorted by the key without its bucket field, so that the buckets of
 * one histogram come together; qsort_r's context. */
static int compare_groups(const void *a, const void *b, void *userdata)
{
	const struct render *rd = userdata;
	const struct dm_field *bucket = &rd->x->bucket;
	const uint8_t *ka = dm_map_snapshot_key(rd->s, *(const size_t *)a);
	const uint8_t *kb = dm_map_snapshot_key(rd->s, *(const size_t *)b);
	size_t start = bucket->bit_offset / 8, end = start + bucket->size;
	int c = memcmp(ka, kb, start);

	return c ?: memcmp(ka + end, kb + end, rd->s->key_size - end);
}

static int write_bucket_entries(struct render *rd)
{
	_cleanup_free_ size_t *order = NULL;
	size_t n = rd->s->n_entries, first = 0;
	int r;

	if (!rd->x->bucket_field)
		return write_bucket_group(rd, NULL, n);
	order = malloc((n ?: 1) * sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), compare_groups, rd);
	for (size_t i = 1; i <= n; i++) {
		if (i < n && compare_groups(&order[first], &order[i], rd) == 0)
			continue;
		r = write_bucket_group(rd, order + first, i - first);
		if (r < 0)
			return r;
		first = i;
	}
	return 0;
}

/* Adds entry i's buckets (of `cpu`, or all CPUs) to rd->counts, its sum to *sum. */
static void count_bucket_array(struct render *rd, size_t i, int cpu, struct dm_number *sum,
			       bool first)
{
	const struct dm_export *x = rd->x;
	struct dm_number v;

	for (uint32_t b = 0; b < x->bucket.n_elems; b++) {
		struct dm_field elem = x->first_bucket;

		elem.bit_offset += 8 * b * x->bucket.elem_size;
		entry_number(rd, &elem, i, cpu, &v);
		rd->counts[b < rd->n_buckets ? b : rd->n_buckets - 1] += as_count(&v);
	}
	if (!x->has_sum)
		return;
	entry_number(rd, &x->sum, i, cpu, &v);
	if (first)
		*sum = v;
	else
		number_add(sum, &v);
}

/* Entries holding a whole histogram each: the array's elements are the buckets. Folded ones
 * add up to one overflow histogram, written last. */
static int write_bucket_arrays(struct render *rd)
{
	struct dm_number sum = {.kind = DM_NUMBER_U64};
	bool first = true;
	int r;

	for (size_t i = 0; i < rd->s->n_entries; i++)
		for (int cpu = first_cpu(rd); !folded(rd, i) && cpu != INT32_MIN;
		     cpu = next_cpu(rd, cpu)) {
			size_t labels_len = entry_labels(rd, i, cpu);

			memset(rd->counts, 0, rd->n_buckets * sizeof(*rd->counts));
			count_bucket_array(rd, i, cpu, &sum, true);
			r = write_histogram(rd, labels_len, &sum);
			if (r < 0)
				return r;
		}
	if (rd->n_folded == 0)
		return 0;
	memset(rd->counts, 0, rd->n_buckets * sizeof(*rd->counts));
	for (size_t i = 0; i < rd->s->n_entries; i++)
		if (folded(rd, i)) {
			count_bucket_array(rd, i, -1, &sum, first);
			first = false;
		}
	return write_histogram(rd, overflow_labels(rd), &sum);
}

static int prepare_buckets(struct render *rd)
{
	const struct dm_export *x = rd->x;

	rd->n_buckets = dm_export_n_buckets(x, rd->s->n_entries);
	rd->counts = scratch(rd->small_counts, sizeof(rd->small_counts),
			     rd->n_buckets * sizeof(*rd->counts));
	if (!rd->counts)
		return -ENOMEM;
	if (rd->n_buckets == x->n_le) {
		rd->le = x->le;
		return 0;
	}
	rd->le = rd->le_own = dm_export_le_labels(x->m->histogram, rd->n_buckets);
	return rd->le ? 0 : -ENOMEM;
}

/* Quantiles of several entries cannot be added up: the overflow summary has _count and _sum. */
static int write_summary_overflow(struct render *rd)
{
	const struct dm_export *x = rd->x;
	struct dm_number count = {.kind = DM_NUMBER_U64}, sum = count, v;
	bool first = true;
	size_t n;
	int r;

	for (size_t i = 0; i < rd->s->n_entries; i++) {
		if (!folded(rd, i))
			continue;
		entry_number(rd, &x->count, i, -1, &v);
		if (first)
			count = v;
		else
			number_add(&count, &v);
		entry_number(rd, &x->sum, i, -1, &v);
		if (first)
			sum = v;
		else
			number_add(&sum, &v);
		first = false;
	}
	n = overflow_labels(rd);
	r = write_line(rd, x->family, "_count", rd->labels, n, NULL, &count);
	return r < 0 ? r : write_line(rd, x->family, "_sum", rd->labels, n, NULL, &sum);
}

static int write_summaries(struct render *rd)
{
	const struct dm_export *x = rd->x;
	char last[OM_NUMBER_MAX + sizeof("quantile=\"\"")];

	for (size_t i = 0; i < rd->s->n_entries; i++)
		for (int cpu = first_cpu(rd); !folded(rd, i) && cpu != INT32_MIN;
		     cpu = next_cpu(rd, cpu)) {
			size_t n = entry_labels(rd, i, cpu);
			struct dm_number v;
			int r = 0;

			for (size_t q = 0; r >= 0 && q < x->n_quantiles; q++) {
				snprintf(last, sizeof(last), "quantile=\"%s\"",
					 x->quantiles[q].label);
				entry_number(rd, &x->quantiles[q].field, i, cpu, &v);
				r = write_line(rd, x->family, "", rd->labels, n, last, &v);
			}
			entry_number(rd, &x->count, i, cpu, &v);
			if (r >= 0)
				r = write_line(rd, x->family, "_count", rd->labels, n, NULL, &v);
			entry_number(rd, &x->sum, i, cpu, &v);
			if (r >= 0)
				r = write_line(rd, x->family, "_sum", rd->labels, n, NULL, &v);
			if (r < 0)
				return r;
		}
	return rd->n_folded > 0 ? write_summary_overflow(rd) : 0;
}

/* The caller's labels, written once: a="x",b="y". */
static int prepare_extra(struct render *rd, const struct om_label *extra, size_t n_extra,
			 dm_error *e)
{
	size_t size = 1;
	char *p;

	for (size_t i = 0; i < n_extra; i++) {
		if (dm_export_has_label(rd->x, extra[i].name))
			return dm_error_set(
			    e, -EINVAL, "Metric \"%s\": its samples have a label \"%s\" already.",
			    rd->x->m->name, extra[i].name);
		size += strlen(extra[i].name) + 2 * strlen(extra[i].value) + 4;
	}
	p = rd->extra = scratch(rd->small_extra, sizeof(rd->small_extra), size);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n_extra; i++) {
		p = stpcpy(separate(p, rd->extra), extra[i].name);
		p = stpcpy(p, "=\"");
		p = om_escape(p, extra[i].value, strlen(extra[i].value));
		*p++ = '"';
	}
	rd->extra_len = p - rd->extra;
	return 0;
}

static size_t longest_family(const struct dm_export *x)
{
	size_t n = 0;

	for (size_t i = 0; i < dm_export_n_families(x); i++)
		n = MAX(n, strlen(dm_export_family(x, i)));
	return n;
}

static int render_prepare(struct render *rd, const struct om_label *extra, size_t n_extra,
			  dm_error *e)
{
	const struct dm_export *x = rd->x;
	const struct dm_map_snapshot *s = rd->s;
	size_t labels_size;
	int r;

	if (s->type != x->t.map_type || s->key_size != x->t.key_size ||
	    s->value_size != x->t.value_size || (s->n_entries > 0 && s->n_cpus == 0))
		return dm_error_set(e, -EINVAL, "Metric \"%s\": the map does not fit the plan.",
				    x->m->name);
	rd->own_labels = x->element == ELEMENT_KEY ||
			 (x->element == ELEMENT_INDEX && (x->index_always || s->n_entries > 1));
	r = prepare_extra(rd, extra, n_extra, e);
	if (r < 0)
		return r;
	labels_size = x->labels_max + rd->extra_len + 1;
	rd->labels = scratch(rd->small_labels, sizeof(rd->small_labels), labels_size);
	if (!rd->labels)
		return -ENOMEM;
	/* family, suffix, {labels,quantile="..."} (or le), value */
	rd->line_max = longest_family(x) + sizeof("_bucket{,}  \n") + labels_size +
		       sizeof("quantile=\"\"") + 2 * OM_NUMBER_MAX;
	r = x->shape == SHAPE_BUCKETS || x->shape == SHAPE_BUCKET_ARRAYS ? prepare_buckets(rd) : 0;
	if (r >= 0 && rd->own_labels)
		r = dm_budget_select(x, s, &rd->fold, &rd->n_folded);
	return r < 0 || !rd->f ? r : om_buffer_init(&rd->out, rd->f, rd->line_max);
}

static int render(struct render *rd, const struct om_label *extra, size_t n_extra, dm_error *error)
{
	const struct dm_export *x = rd->x;
	int r;

	r = render_prepare(rd, extra, n_extra, error);
	if (r < 0)
		return r;
	switch (x->shape) {
	case SHAPE_VALUES:
		r = write_values(rd);
		break;
	case SHAPE_BUCKETS:
		r = write_descriptor(rd, x->family);
		if (r >= 0)
			r = write_bucket_entries(rd);
		break;
	case SHAPE_BUCKET_ARRAYS:
		r = write_descriptor(rd, x->family);
		if (r >= 0)
			r = write_bucket_arrays(rd);
		break;
	case SHAPE_SUMMARIES:
		r = write_descriptor(rd, x->family);
		if (r >= 0)
			r = write_summaries(rd);
		break;
	}
	if (r >= 0)
		r = om_buffer_flush(&rd->out);
	if (r >= 0)
		dm_budget_note(x->m, rd->n_folded);
	return r;
}

int dm_export_write(const struct dm_export *x, const struct dm_map_snapshot *s,
		    const struct om_label *extra, size_t n_extra, FILE *f, dm_error *error)
{
	_cleanup_(render_done) struct render rd = {.x = x, .s = s, .f = f};

	return render(&rd, extra, n_extra, error);
}

int dm_export_render(const struct dm_export *x, const struct dm_map_snapshot *s,
		     const struct om_label *extra, size_t n_extra, struct om_families *fs,
		     dm_error *error)
{
	_cleanup_(render_done) struct render rd = {.x = x, .s = s, .fs = fs};

	return render(&rd, extra, n_extra, error);
}

bool dm_export_streams(const struct dm_export *x)
{
	/* The buckets spread over a hash's entries need them all to be counted; the series budget
	 * needs them all to choose what it folds, unless the map cannot hold more than it keeps. */
	if (x->shape == SHAPE_BUCKETS)
		return false;
	return x->limit == 0 || (x->t.max_entries > 0 && x->t.max_entries <= x->limit);
}
