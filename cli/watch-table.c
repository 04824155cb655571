/* SPDX-License-Identifier: Apache-2.0 */
/* The rows and rates of `dynmonctl watch` (watch-table.h). */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "util.h"
#include "watch-table.h"

static void watch_row_done(struct watch_row *row)
{
	free(row->path);
	free(row->metric);
	free(row->element);
	free(row->text);
}

void watch_table_done(struct watch_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		watch_row_done(&t->rows[i]);
	free(t->rows);
	*t = (struct watch_table){};
}

/* Inserts `row` at `at`, taking its strings (freed on failure). */
static int table_insert(struct watch_table *t, size_t at, struct watch_row *row)
{
	struct watch_row *rows = reallocarray(t->rows, t->n + 1, sizeof(*rows));

	if (!rows) {
		watch_row_done(row);
		return -ENOMEM;
	}
	memmove(rows + at + 1, rows + at, (t->n - at) * sizeof(*rows));
	rows[at] = *row;
	t->rows = rows;
	t->n++;
	return 0;
}

/* One value of a metric, where flattening its JSON reached a leaf. */
static int add_leaf(struct watch_table *t, const struct metric_ref *m, enum metric_reading reading,
		    const char *element, json_t *v)
{
	struct watch_row row = {
	    .path = strdup(m->path),
	    .metric = strdup(m->name),
	    .element = strdup(*element ? element : "-"),
	    .reading = reading,
	    .numeric = json_is_number(v),
	    .value = json_is_integer(v) ? (long double)json_integer_value(v) : json_real_value(v),
	};

	if (!row.numeric)
		row.text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!row.path || !row.metric || !row.element || (!row.numeric && !row.text)) {
		watch_row_done(&row);
		return -ENOMEM;
	}
	return table_insert(t, t->n, &row);
}

static int flatten(struct watch_table *t, const struct metric_ref *m, enum metric_reading reading,
		   const char *element, json_t *v);

/* A hash map's value: a list of {"key", "value"}. */
static bool is_hash_entries(json_t *v)
{
	json_t *e;
	size_t i;

	if (json_array_size(v) == 0)
		return false;
	json_array_foreach (v, i, e)
		if (json_object_size(e) != 2 || !json_object_get(e, "key") ||
		    !json_object_get(e, "value"))
			return false;
	return true;
}

struct entry {
	json_t *key, *value;
	char *key_text;
};

/* Integer keys in numeric order, others by their JSON text: a display that does not jump
 * around as the kernel's hash order does. */
static int entry_compare(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (json_is_integer(x->key) && json_is_integer(y->key))
		return (json_integer_value(x->key) > json_integer_value(y->key)) -
		       (json_integer_value(x->key) < json_integer_value(y->key));
	return strcmp(x->key_text, y->key_text);
}

static int flatten_hash(struct watch_table *t, const struct metric_ref *m,
			enum metric_reading reading, const char *element, json_t *v)
{
	size_t n = json_array_size(v), i;
	struct entry *entries = calloc(n, sizeof(*entries));
	json_t *e;
	int r = entries ? 0 : -ENOMEM;

	json_array_foreach (v, i, e) {
		if (r < 0)
			break;
		entries[i] = (struct entry){json_object_get(e, "key"), json_object_get(e, "value")};
		entries[i].key_text = json_dumps(entries[i].key, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!entries[i].key_text)
			r = -ENOMEM;
	}
	if (r >= 0)
		qsort(entries, n, sizeof(*entries), entry_compare);
	for (i = 0; r >= 0 && i < n; i++) {
		_cleanup_free_ char *sub = NULL;

		r = asprintf(&sub, "%s[%s]", element, entries[i].key_text) < 0 ? -ENOMEM : 0;
		if (r >= 0)
			r = flatten(t, m, reading, sub, entries[i].value);
	}
	for (i = 0; entries && i < n; i++)
		free(entries[i].key_text);
	free(entries);
	return r;
}

static int flatten(struct watch_table *t, const struct metric_ref *m, enum metric_reading reading,
		   const char *element, json_t *v)
{
	const char *field;
	json_t *e;
	size_t i;
	int r = 0;

	if (is_hash_entries(v))
		return flatten_hash(t, m, reading, element, v);
	if (json_is_array(v)) {
		json_array_foreach (v, i, e) {
			_cleanup_free_ char *sub = NULL;

			if (asprintf(&sub, "%s[%zu]", element, i) < 0)
				return -ENOMEM;
			r = flatten(t, m, reading, sub, e);
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (json_is_object(v)) {
		json_object_foreach (v, field, e) {
			_cleanup_free_ char *sub = NULL;

			if (asprintf(&sub, "%s.%s", element, field) < 0)
				return -ENOMEM;
			r = flatten(t, m, reading, sub, e);
			if (r < 0)
				return r;
		}
		return 0;
	}
	return add_leaf(t, m, reading, element, v ?: json_null());
}

/* ---- rates ------------------------------------------------------------------------------- */

static int row_compare(const struct watch_row *a, const struct watch_row *b)
{
	int c = strcmp(a->path, b->path);

	if (c == 0)
		c = strcmp(a->metric, b->metric);
	return c ?: strcmp(a->element, b->element);
}

static int row_ptr_compare(const void *a, const void *b)
{
	return row_compare(*(const struct watch_row *const *)a,
			   *(const struct watch_row *const *)b);
}

/* Rows `from` .. t->n - 1 of `t`, sorted for row_find(). */
static const struct watch_row **rows_index(const struct watch_table *t, size_t from)
{
	const struct watch_row **index = calloc(t->n - from + 1, sizeof(*index));

	if (!index)
		return NULL;
	for (size_t i = from; i < t->n; i++)
		index[i - from] = &t->rows[i];
	qsort(index, t->n - from, sizeof(*index), row_ptr_compare);
	return index;
}

static const struct watch_row *row_find(const struct watch_row **index, size_t n,
					const struct watch_row *row)
{
	const struct watch_row **found = bsearch(&row, index, n, sizeof(*index), row_ptr_compare);

	return found ? *found : NULL;
}

/* The rate of `row` against its previous read `old` (NULL: none, a new row). */
static void row_rate(struct watch_row *row, const struct watch_row *old, double elapsed)
{
	long double delta;

	if (!row->numeric || row->reading == METRIC_READING_GAUGE || elapsed <= 0)
		return;
	if (row->reading == METRIC_READING_DELTA) {
		delta = row->value;
		if (old && old->numeric)
			row->value += old->value;
	} else {
		delta = old && old->numeric ? row->value - old->value : row->value;
		if (delta < 0) /* started again from zero */
			delta = row->value;
	}
	row->has_rate = true;
	row->rate = (double)(delta / elapsed);
}

/* A delta metric's row that this read did not have (an emptied hash entry): its sum stays, at
 * rate 0. */
static int carry_over(struct watch_table *t, const struct watch_row *old)
{
	struct watch_row row = *old;

	row.path = strdup(old->path);
	row.metric = strdup(old->metric);
	row.element = strdup(old->element);
	row.text = old->text ? strdup(old->text) : NULL;
	row.has_rate = row.numeric;
	row.rate = 0;
	if (!row.path || !row.metric || !row.element || (old->text && !row.text)) {
		watch_row_done(&row);
		return -ENOMEM;
	}
	return table_insert(t, t->n, &row);
}

/* The rows of `prev` of the delta metric `m` that rows `from` .. t->n - 1 of `t` lack. */
static int missing_rows(const struct watch_table *t, size_t from, const struct metric_ref *m,
			const struct watch_table *prev, const struct watch_row ***ret,
			size_t *ret_n)
{
	_cleanup_free_ const struct watch_row **now = rows_index(t, from);
	const struct watch_row **missing = calloc(prev->n + 1, sizeof(*missing));
	size_t n = 0;

	if (!now || !missing) {
		free(missing);
		return -ENOMEM;
	}
	for (size_t i = 0; i < prev->n; i++) {
		const struct watch_row *o = &prev->rows[i];

		if (o->reading == METRIC_READING_DELTA && streq(o->path, m->path) &&
		    streq(o->metric, m->name) && !row_find(now, t->n - from, o))
			missing[n++] = o;
	}
	*ret = missing;
	*ret_n = n;
	return 0;
}

/* Rates for the rows `from` .. t->n - 1 of `t`, those of the metric `m`, against `prev`
 * (`old`: its rows_index()). */
static int metric_rates(struct watch_table *t, size_t from, const struct metric_ref *m,
			enum metric_reading reading, const struct watch_table *prev,
			const struct watch_row **old, double elapsed)
{
	_cleanup_free_ const struct watch_row **missing = NULL;
	size_t n_missing = 0;
	int r;

	for (size_t i = from; i < t->n; i++)
		row_rate(&t->rows[i], row_find(old, prev->n, &t->rows[i]), elapsed);
	if (reading != METRIC_READING_DELTA)
		return 0;
	r = missing_rows(t, from, m, prev, &missing, &n_missing);
	for (size_t i = 0; r >= 0 && i < n_missing; i++)
		r = carry_over(t, missing[i]);
	return r;
}

static int build_rows(struct watch_table *t, const struct metric_ref *refs, size_t n,
		      json_t *config, const struct watch_table *prev, double elapsed)
{
	_cleanup_free_ const struct watch_row **old = prev ? rows_index(prev, 0) : NULL;
	int r;

	if (prev && !old)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		enum metric_reading reading = metrics_reading(config, refs[i].path, refs[i].name);
		size_t from = t->n;

		r = flatten(t, &refs[i], reading, "", refs[i].value);
		if (r >= 0 && prev)
			r = metric_rates(t, from, &refs[i], reading, prev, old, elapsed);
		if (r < 0)
			return r;
	}
	return 0;
}

int watch_table_build(json_t *metrics, json_t *config, enum metrics_direction dir, const char *name,
		      const struct watch_table *prev, double elapsed, struct watch_table *ret)
{
	_cleanup_free_ struct metric_ref *refs = NULL;
	struct watch_table t = {};
	size_t n;
	int r;

	r = metrics_find(metrics, dir, name, &refs, &n);
	if (r >= 0)
		r = build_rows(&t, refs, n, config, prev, elapsed);
	if (r < 0) {
		watch_table_done(&t);
		return r;
	}
	*ret = t;
	return 0;
}

/* ---- printing ---------------------------------------------------------------------------- */

static void format_value(const struct watch_row *row, char *buf, size_t size)
{
	if (!row->numeric)
		snprintf(buf, size, "%s", row->text);
	else if (row->value == floorl(row->value) && fabsl(row->value) < 1e20L)
		snprintf(buf, size, "%.0Lf", row->value);
	else
		snprintf(buf, size, "%.6Lg", row->value);
}

static void format_rate(const struct watch_row *row, char *buf, size_t size)
{
	if (row->has_rate)
		snprintf(buf, size, "%.1f", row->rate);
	else
		snprintf(buf, size, "-");
}

#define MAX(a, b) ((a) > (b) ? (a) : (b))

int watch_table_print(const struct watch_table *t, size_t max_rows, FILE *f)
{
	int w_path = strlen("PATH"), w_metric = strlen("METRIC"), w_element = strlen("ELEMENT");
	int w_value = strlen("VALUE"), w_rate = strlen("RATE/s");
	size_t shown = max_rows && max_rows < t->n ? max_rows : t->n;
	char value[64], rate[64];

	for (size_t i = 0; i < shown; i++) {
		const struct watch_row *row = &t->rows[i];

		format_value(row, value, sizeof(value));
		format_rate(row, rate, sizeof(rate));
		w_path = MAX(w_path, (int)strlen(row->path));
		w_metric = MAX(w_metric, (int)strlen(row->metric));
		w_element = MAX(w_element, (int)strlen(row->element));
		w_value = MAX(w_value, (int)strlen(value));
		w_rate = MAX(w_rate, (int)strlen(rate));
	}
	fprintf(f, "%-*s  %-*s  %-*s  %*s  %*s\n", w_path, "PATH", w_metric, "METRIC", w_element,
		"ELEMENT", w_value, "VALUE", w_rate, "RATE/s");
	for (size_t i = 0; i < shown; i++) {
		const struct watch_row *row = &t->rows[i];

		format_value(row, value, sizeof(value));
		format_rate(row, rate, sizeof(rate));
		fprintf(f, "%-*s  %-*s  %-*s  %*s  %*s\n", w_path, row->path, w_metric, row->metric,
			w_element, row->element, w_value, value, w_rate, rate);
	}
	if (shown < t->n)
		fprintf(f, "... %zu more rows\n", t->n - shown);
	return ferror(f) ? -EIO : 0;
}
