/* SPDX-License-Identifier: Apache-2.0 */
/* The series budget: which entries of a map a metric exports one by one, and how many it folded
 * (docs/OPENMETRICS.md, "The series budget"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counts.h"
#include "export-plan.h"
#include "util.h"

/* ---- Which entries fold ------------------------------------------------------------------ */

struct ranked {
	double weight;
	size_t index;
};

/* Lighter first; of two alike, the later entry (so that the earlier is kept). */
static bool lighter(const struct ranked *a, const struct ranked *b)
{
	return a->weight < b->weight || (a->weight == b->weight && a->index > b->index);
}

static void sift_down(struct ranked *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct ranked t;

		if (l < n && lighter(&h[l], &h[m]))
			m = l;
		if (r < n && lighter(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* The by-field of entry i, added up over the CPUs, as a double: a ranking, never a value. */
static double weight(const struct dm_export *x, const struct dm_map_snapshot *s, size_t i)
{
	double w = 0;

	for (uint32_t c = 0; c < s->n_cpus; c++) {
		struct dm_number v;

		dm_field_number(&x->top_by, dm_map_snapshot_value(s, i, c), &v);
		w += v.kind == DM_NUMBER_U64   ? (double)v.u
		     : v.kind == DM_NUMBER_I64 ? (double)v.i
					       : v.f;
	}
	return w;
}

/* Keeps the `limit` heaviest: a heap of the lightest kept, O(n log limit). */
static int keep_heaviest(const struct dm_export *x, const struct dm_map_snapshot *s, uint8_t *fold)
{
	_cleanup_free_ struct ranked *heap = calloc(x->limit, sizeof(*heap));
	size_t n = 0;

	if (!heap)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_entries; i++) {
		struct ranked e = {weight(x, s, i), i};

		if (n < x->limit) {
			heap[n++] = e;
			if (n == x->limit)
				for (size_t k = n / 2; k-- > 0;)
					sift_down(heap, n, k);
		} else if (lighter(&heap[0], &e)) {
			heap[0] = e;
			sift_down(heap, n, 0);
		}
	}
	for (size_t k = 0; k < n; k++)
		fold[heap[k].index] = 0;
	return 0;
}

int dm_budget_select(const struct dm_export *x, const struct dm_map_snapshot *s, uint8_t **ret_fold,
		     size_t *ret_n_folded)
{
	_cleanup_free_ uint8_t *fold = NULL;
	int r;

	*ret_fold = NULL;
	*ret_n_folded = 0;
	if (x->limit == 0 || s->n_entries <= x->limit || x->shape == SHAPE_BUCKETS)
		return 0;
	fold = malloc(s->n_entries);
	if (!fold)
		return -ENOMEM;
	memset(fold, 1, s->n_entries);
	if (x->top_k) {
		r = keep_heaviest(x, s, fold);
		if (r < 0)
			return r;
	} else {
		memset(fold, 0, x->limit); /* the first ones, in the map's order */
	}
	*ret_n_folded = s->n_entries - x->limit;
	*ret_fold = TAKE_PTR(fold);
	return 0;
}

/* ---- How many folded, for dynmon's own metrics ------------------------------------------- */

/* Keyed by the metric's configuration, which lives as long as its dataplane. Renderings run on
 * the event loop and may run in a worker. */
static struct dm_counts folds = DM_COUNTS_INIT;

void dm_budget_note(const struct dm_metric_config *m, size_t n_folded)
{
	dm_counts_set(&folds, m, n_folded);
}

bool dm_export_folded(const struct dm_metric_config *m, size_t *ret)
{
	return dm_counts_get(&folds, m, ret);
}

void dm_export_forget(const struct dm_metric_config *m)
{
	dm_counts_forget(&folds, m);
}
