/* SPDX-License-Identifier: Apache-2.0 */
/* How one metric's map becomes OpenMetrics families: a plan made once from the map's BTF types
 * and the metric's configuration (which key fields are labels and how they read, which value
 * fields are samples, where buckets, counts, sums and quantiles lie), then applied to any
 * number of snapshots of that map. Making the plan is also how an injection learns, before
 * anything runs, that a metric cannot be exported as configured. docs/OPENMETRICS.md tells the
 * operator's side of it. */
#pragma once

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>

#include "config.h"
#include "errors.h"
#include "snapshot.h"
#include "openmetrics.h"

/* What a plan is made from: the map's kind and the types of its keys and values. */
struct dm_export_types {
	enum bpf_map_type map_type;
	const struct btf *btf; /* NULL: no BTF; keys and values of 1, 2, 4 or 8 bytes are numbers */
	uint32_t key_type_id;  /* 0: no key (queue, stack) or no BTF */
	uint32_t value_type_id;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries; /* 0: not known */
};

static inline struct dm_export_types dm_export_types_of(const struct dm_map_snapshot *s)
{
	/* An array's entries are all there is; a hash's, what was there. */
	return (struct dm_export_types){s->type,
					s->btf,
					s->key_type_id,
					s->value_type_id,
					s->key_size,
					s->value_size,
					dm_map_type_is_hash(s->type) ? 0 : s->n_entries};
}

struct dm_export;

/* The plan for metric `m` (which must have open_metrics set) on a map of types `t`. Anything
 * that cannot be exported is -EBADMSG with a message naming the metric and the reason (a key
 * field that does not exist, a decoder that does not fit its field, a summary without a
 * count, ...); a map type that has no OpenMetrics shape is -EOPNOTSUPP. */
int dm_export_new(const struct dm_export_types *t, const struct dm_metric_config *m,
		  struct dm_export **ret, dm_error *error);
void dm_export_free(struct dm_export *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_export *, dm_export_free);

/* The families the plan writes, in order, and their type. */
size_t dm_export_n_families(const struct dm_export *x);
const char *dm_export_family(const struct dm_export *x, size_t i);
enum dm_metric_type dm_export_type(const struct dm_export *x);

/* Whether the plan's samples have a label `name` of their own (configured, from the key, an
 * index or a CPU): the caller's extra labels must not. */
bool dm_export_has_label(const struct dm_export *x, const char *name);

/* Writes the families of snapshot `s` (of a map of the plan's types): "# TYPE", "# HELP" and
 * "# UNIT" once each, then their samples, labelled with `extra` after their own labels (and
 * before "le" and "quantile"). No "# EOF". -EINVAL for a snapshot that does not fit the plan,
 * or extra labels clashing with the plan's; -errno of the stream. */
int dm_export_write(const struct dm_export *x, const struct dm_map_snapshot *s,
		    const struct om_label *extra, size_t n_extra, FILE *f, dm_error *error);

/* Entries of metric `m` that its last rendering folded into __overflow__ samples (the series
 * budget; dynmon's own metrics publish it): false before any rendering. dm_export_forget() when
 * the configuration goes. Thread-safe. */
bool dm_export_folded(const struct dm_metric_config *m, size_t *ret);
void dm_export_forget(const struct dm_metric_config *m);

/* The same into the families `fs` gathers, the samples written straight into their family's
 * text: several metrics (or monitors) rendered into one `fs` make each family once. -EBADMSG
 * when `fs` has a family of the plan's with another type. */
int dm_export_render(const struct dm_export *x, const struct dm_map_snapshot *s,
		     const struct om_label *extra, size_t n_extra, struct om_families *fs,
		     dm_error *error);

/* Whether the plan renders a map a chunk at a time (dm_map_read_chunks()) as it would the
 * whole map: every sample comes of one entry. Not so for a histogram whose buckets are the
 * entries of a hash. */
bool dm_export_streams(const struct dm_export *x);
