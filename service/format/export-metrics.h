/* SPDX-License-Identifier: Apache-2.0 */
/* Where a map's content becomes OpenMetrics: a snapshot (maps.h) decoded through BTF into
 * OpenMetrics samples, a metric or a dataplane at a time. No kernel access here beyond what the
 * caller's snapshot holds, so it is unit-testable with snapshots built by hand. */
#pragma once

#include <bpf/libbpf.h>
#include <jansson.h>
#include <stdio.h>

#include "config.h"
#include "export.h"
#include "snapshot.h"
#include "openmetrics.h"

/* Writes the OpenMetrics families of metric `m` (which must have open_metrics set) from the
 * snapshot, as export.h shapes them: "# TYPE"/"# HELP"/"# UNIT" once per family, then the
 * samples, with the configured labels, the entry's own (from the key, or "index"), "cpu" when
 * asked for, then `extra` labels (e.g. monitor="mon0"). Does not write "# EOF". A metric that
 * cannot be exported as configured is an error (-EBADMSG, -EOPNOTSUPP), never left out;
 * dm_config_write_openmetrics() says why. */
int dm_snapshot_write_openmetrics(FILE *f, const struct dm_map_snapshot *s,
				  const struct dm_metric_config *m, const struct om_label *extra,
				  size_t n_extra);

/* Whether metric `m` can be exported from a map of these types, as injection checks before
 * anything runs: 0, or -EBADMSG with a message naming the metric and what does not fit (a
 * key field that does not exist, a decoder that does not fit its field, ...). Metrics without
 * open-metrics-metadata, and maps without BTF, pass. */
int dm_metric_check_exportable(const struct btf *btf, uint32_t key_type_id, uint32_t value_type_id,
			       enum bpf_map_type map_type, const struct dm_metric_config *m,
			       dm_error *error);

/* The same for a map of an opened object, its types found as dm_map_snapshot_read() finds
 * them (`btf`: the object's, may be NULL). */
int dm_metric_check_map(const struct bpf_map *map, const struct btf *btf,
			const struct dm_metric_config *m, dm_error *error);

/* The snapshot of metric `i` of path `p` for dm_config_write_openmetrics(): 0 and *ret NULL
 * when the path has no program. 1 for a snapshot that only gives the shape of a metric that
 * is not read (no entries): its families are not written, but those it shares with a metric
 * that is are labelled as in the whole document (path="..."). */
typedef int (*dm_snapshot_source_t)(enum dm_path p, size_t i, struct dm_map_snapshot **ret,
				    dm_error *error, void *userdata);

/* The OpenMetrics families of every exported metric of a dataplane, each family once: a family
 * that two metrics export (both paths exporting "packets_total", say) is written once with the
 * samples of both, those of the two paths told apart by a label path="ingress"/"egress" when
 * their configured labels do not already. Two metrics making one family of different types,
 * or of one path with the same labels, are -EBADMSG. No "# EOF". Every snapshot is taken
 * before any is rendered (their types make the plans): the daemon reads through dm_exports
 * (below) instead, whose plans it keeps and whose maps it reads a chunk at a time. */
int dm_config_write_openmetrics(FILE *f, const struct dm_config *c, dm_snapshot_source_t source,
				void *userdata, const struct om_label *extra, size_t n_extra,
				dm_error *error);

/* A dataplane's exported metrics, planned once (a dataplane keeps them: nothing of this is
 * rebuilt per read): the plan of each, and how the families they share are told apart (the
 * path label). `types` gives the types of metric `i` of path `p`'s map: 1, or 0 when the path
 * has no program. -EBADMSG when two metrics make one family of different types, or of one
 * path with the same labels. */
typedef int (*dm_export_types_fn)(enum dm_path p, size_t i, struct dm_export_types *ret,
				  dm_error *error, void *userdata);
struct dm_exports;
int dm_exports_new(const struct dm_config *c, dm_export_types_fn types, void *userdata,
		   struct dm_exports **ret, dm_error *error);
void dm_exports_free(struct dm_exports *xs);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_exports *, dm_exports_free);

/* The exported metrics, in the order of the configuration (ingress first): the k-th one's plan,
 * path and index among its path's metrics. */
size_t dm_exports_n(const struct dm_exports *xs);
const struct dm_export *dm_exports_get(const struct dm_exports *xs, size_t k,
				       enum dm_path *ret_path, size_t *ret_index);

/* Renders (a chunk of) the k-th metric's map into `fs`, labelled with `extra` too. */
int dm_exports_render(const struct dm_exports *xs, size_t k, const struct dm_map_snapshot *s,
		      const struct om_label *extra, size_t n_extra, struct om_families *fs,
		      dm_error *error);

/* The types of `map` of an opened object, as dm_map_snapshot_read() finds them. */
struct dm_export_types dm_export_types_of_map(const struct bpf_map *map, const struct btf *btf);
