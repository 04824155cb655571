/* SPDX-License-Identifier: Apache-2.0 */
/* What an export plan holds (export.h): export-plan.c makes it from the map's BTF and the
 * metric's configuration, export-render.c applies it to snapshots. */
#pragma once

#include "export.h"
#include "fields.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* A label taken from each entry: a key field, the whole key, or the entry's index. */
struct key_label {
	char *name;
	char *prefix; /* name=" */
	size_t prefix_len;
	struct dm_field field;
	enum dm_decoder decoder;
	const struct dm_key_label *config; /* the map of DM_DECODER_MAP */
	size_t max_len;
};

struct value_family {
	char *name;
	struct dm_field value;
};

struct quantile {
	struct dm_field field;
	char label[OM_NUMBER_MAX]; /* the canonical number */
};

/* The "le" label of a bucket, as written: le="0.5". */
typedef char le_label[OM_NUMBER_MAX + sizeof("le=\"\"")];

/* What the entries are. */
enum shape {
	SHAPE_VALUES,	     /* counters, gauges, unknowns: one family per number of the value */
	SHAPE_BUCKETS,	     /* a histogram whose buckets are the entries */
	SHAPE_BUCKET_ARRAYS, /* histograms, each held by one entry's array of buckets */
	SHAPE_SUMMARIES,     /* summaries, one per entry */
};

/* How entries are told apart. */
enum element {
	ELEMENT_KEY,   /* by labels from the key */
	ELEMENT_INDEX, /* by their position: arrays, queues, stacks */
	ELEMENT_NONE,  /* not at all: they are the buckets of one histogram */
};

struct dm_export {
	const struct dm_metric_config *m;
	struct dm_export_types t;
	bool percpu;
	bool cpu_label;
	enum shape shape;
	enum element element;
	bool index_always; /* configured index label: written for a lone element too */
	char *fixed;	   /* the configured labels, as written: a="x",b="y" */
	size_t fixed_len;
	struct key_label *labels;
	size_t n_labels;
	size_t labels_max; /* the longest text of the entry's own labels */

	struct value_family *families; /* SHAPE_VALUES */
	size_t n_families;

	char *family;		      /* the one family of a histogram or summary */
	struct dm_field value;	      /* the whole value */
	struct dm_field key;	      /* the whole key */
	struct dm_field bucket;	      /* SHAPE_BUCKETS: the key field of a bucket (struct keys);
				       * SHAPE_BUCKET_ARRAYS: the array of buckets */
	struct dm_field first_bucket; /* SHAPE_BUCKET_ARRAYS: its element 0; the others alike */
	bool bucket_field;	      /* SHAPE_BUCKETS: `bucket` is a field of a struct key */
	struct dm_field count; /* SHAPE_BUCKETS: a bucket's count; SHAPE_SUMMARIES: the count */
	struct dm_field sum;
	bool has_sum;
	struct quantile *quantiles;
	size_t n_quantiles;

	/* The series budget (export-budget.c): at most `limit` entries (0: all), the rest folded
	 * into one __overflow__ sample per family; with top_k, the heaviest by `top_by`. */
	size_t limit;
	bool top_k;
	struct dm_field top_by;

	/* Histograms: the "le" labels of n_le buckets, written once here rather than on every
	 * rendering (formatting a bound canonically costs more than a sample line); a rendering
	 * whose number of buckets depends on the map's entries, and differs, writes its own. */
	le_label *le;
	uint32_t n_le;
};

/* The label value of the sample that folded entries add up to. */
#define DM_OVERFLOW_LABEL "__overflow__"

/* Which entries of `s` the budget folds: *ret_fold (NULL when none) has one byte per entry, 1
 * for folded; *ret_n_folded counts them. */
int dm_budget_select(const struct dm_export *x, const struct dm_map_snapshot *s, uint8_t **ret_fold,
		     size_t *ret_n_folded);
/* Remembers the folds of a rendering of metric `m` for dm_export_folded(). */
void dm_budget_note(const struct dm_metric_config *m, size_t n_folded);

/* The "le" labels of `n` buckets, the last one +Inf (the caller frees them). */
le_label *dm_export_le_labels(const struct dm_histogram_config *h, uint32_t n);
/* The number of buckets of a histogram, as a rendering of `n_entries` entries has them. */
uint32_t dm_export_n_buckets(const struct dm_export *x, size_t n_entries);
