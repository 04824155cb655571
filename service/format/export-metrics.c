/* SPDX-License-Identifier: Apache-2.0 */
/* Where a map's content becomes OpenMetrics families (shaped by export-plan.c), a metric at a
 * time or a whole dataplane's at once; and the injection's check that a metric can be. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "fields.h"
#include "export-metrics.h"
#include "openmetrics.h"
#include "util.h"

int dm_snapshot_write_openmetrics(FILE *f, const struct dm_map_snapshot *s,
				  const struct dm_metric_config *m, const struct om_label *extra,
				  size_t n_extra)
{
	_cleanup_(dm_export_freep) struct dm_export *x = NULL;
	struct dm_export_types t = dm_export_types_of(s);
	dm_error e = DM_ERROR_NULL;
	int r;

	if (!m->open_metrics)
		return -EINVAL;
	r = dm_export_new(&t, m, &x, &e);
	if (r >= 0)
		r = dm_export_write(x, s, extra, n_extra, f, &e);
	dm_error_done(&e);
	return r;
}

int dm_metric_check_exportable(const struct btf *btf, uint32_t key_type_id, uint32_t value_type_id,
			       enum bpf_map_type map_type, const struct dm_metric_config *m,
			       dm_error *error)
{
	_cleanup_(dm_export_freep) struct dm_export *x = NULL;
	struct dm_export_types t = {map_type, btf, key_type_id, value_type_id};
	int64_t size;

	if (!m->open_metrics || !btf || value_type_id == 0)
		return 0; /* without types, exported as the numbers their sizes suggest */
	size = key_type_id ? btf__resolve_size(btf, key_type_id) : 0;
	t.key_size = size > 0 ? size : 0;
	size = btf__resolve_size(btf, value_type_id);
	t.value_size = size > 0 ? size : 0;
	return dm_export_new(&t, m, &x, error);
}

struct dm_export_types dm_export_types_of_map(const struct bpf_map *map, const struct btf *btf)
{
	struct dm_export_types t = {
	    .map_type = bpf_map__type(map),
	    .btf = btf,
	    .key_size = bpf_map__key_size(map),
	    .value_size = bpf_map__value_size(map),
	    .max_entries = bpf_map__max_entries(map),
	};

	if (btf) {
		/* As dm_map_snapshot_read() finds them. */
		t.key_type_id = dm_btf_map_member_type(btf, bpf_map__name(map), "key")
				    ?: bpf_map__btf_key_type_id(map);
		t.value_type_id = dm_btf_map_member_type(btf, bpf_map__name(map), "value")
				      ?: bpf_map__btf_value_type_id(map);
	}
	return t;
}

int dm_metric_check_map(const struct bpf_map *map, const struct btf *btf,
			const struct dm_metric_config *m, dm_error *error)
{
	_cleanup_(dm_export_freep) struct dm_export *x = NULL;
	struct dm_export_types t = dm_export_types_of_map(map, btf);

	if (!m->open_metrics)
		return 0;
	return dm_export_new(&t, m, &x, error);
}

/* ---- a dataplane's metrics as one set of families */

struct exported {
	enum dm_path path;
	size_t index; /* in its path's metrics */
	const struct dm_metric_config *m;
	struct dm_export *plan;
	bool path_label;
};

struct dm_exports {
	struct exported *v;
	size_t n;
};

void dm_exports_free(struct dm_exports *xs)
{
	if (!xs)
		return;
	for (size_t i = 0; i < xs->n; i++)
		dm_export_free(xs->v[i].plan);
	free(xs->v);
	free(xs);
}

static int exports_plan(struct dm_exports *xs, const struct dm_config *c, dm_export_types_fn types,
			void *userdata, dm_error *error)
{
	for (int p = 0; p < _DM_PATH_MAX; p++)
		for (size_t i = 0; i < c->paths[p].n_metrics; i++) {
			const struct dm_metric_config *m = &c->paths[p].metrics[i];
			struct dm_export_types t;
			struct exported *e;
			int r;

			if (!m->open_metrics)
				continue;
			r = types(p, i, &t, error, userdata);
			if (r < 0)
				return r;
			if (r == 0)
				continue; /* no program on this path */
			e = reallocarray(xs->v, xs->n + 1, sizeof(*e));
			if (!e)
				return -ENOMEM;
			xs->v = e;
			e = &xs->v[xs->n];
			*e = (struct exported){.path = p, .index = i, .m = m};
			r = dm_export_new(&t, m, &e->plan, error);
			if (r < 0)
				return r;
			xs->n++;
		}
	return 0;
}

static const char *shared_family(const struct exported *a, const struct exported *b)
{
	for (size_t i = 0; i < dm_export_n_families(a->plan); i++)
		for (size_t j = 0; j < dm_export_n_families(b->plan); j++)
			if (streq(dm_export_family(a->plan, i), dm_export_family(b->plan, j)))
				return dm_export_family(a->plan, i);
	return NULL;
}

static bool same_labels(const struct dm_metric_config *a, const struct dm_metric_config *b)
{
	if (a->n_labels != b->n_labels)
		return false;
	for (size_t i = 0; i < a->n_labels; i++) {
		size_t j = 0;

		while (j < b->n_labels && !streq(a->labels[i].name, b->labels[j].name))
			j++;
		if (j == b->n_labels || !streq(a->labels[i].value, b->labels[j].value))
			return false;
	}
	return true;
}

/* A family two metrics export is written once (OpenMetrics allows no family twice). Their
 * samples are told apart by their configured labels when those differ; when not, by a label
 * path="ingress" or "egress", when they come from both paths. */
static int exports_pair(struct exported *a, struct exported *b, dm_error *error)
{
	const char *family = shared_family(a, b);

	if (!family)
		return 0;
	if (dm_export_type(a->plan) != dm_export_type(b->plan))
		return dm_error_set(error, -EBADMSG,
				    "Metrics \"%s\" (%s) and \"%s\" (%s) both export family %s, as "
				    "a %s and as a %s.",
				    a->m->name, dm_path_to_string(a->path), b->m->name,
				    dm_path_to_string(b->path), family,
				    dm_metric_type_to_string(dm_export_type(a->plan)),
				    dm_metric_type_to_string(dm_export_type(b->plan)));
	if (!same_labels(a->m, b->m))
		return 0;
	if (a->path == b->path)
		return dm_error_set(
		    error, -EBADMSG,
		    "Metrics \"%s\" and \"%s\" of the %s path both export family %s "
		    "with the same labels: rename one.",
		    a->m->name, b->m->name, dm_path_to_string(a->path), family);
	a->path_label = b->path_label = true;
	return 0;
}

int dm_exports_new(const struct dm_config *c, dm_export_types_fn types, void *userdata,
		   struct dm_exports **ret, dm_error *error)
{
	_cleanup_(dm_exports_freep) struct dm_exports *xs = calloc(1, sizeof(*xs));
	int r;

	if (!xs)
		return -ENOMEM;
	r = exports_plan(xs, c, types, userdata, error);
	for (size_t i = 0; r >= 0 && i < xs->n; i++)
		for (size_t j = i + 1; r >= 0 && j < xs->n; j++)
			r = exports_pair(&xs->v[i], &xs->v[j], error);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(xs);
	return 0;
}

size_t dm_exports_n(const struct dm_exports *xs)
{
	return xs->n;
}

const struct dm_export *dm_exports_get(const struct dm_exports *xs, size_t k,
				       enum dm_path *ret_path, size_t *ret_index)
{
	*ret_path = xs->v[k].path;
	*ret_index = xs->v[k].index;
	return xs->v[k].plan;
}

int dm_exports_render(const struct dm_exports *xs, size_t k, const struct dm_map_snapshot *s,
		      const struct om_label *extra, size_t n_extra, struct om_families *fs,
		      dm_error *error)
{
	const struct exported *e = &xs->v[k];
	struct om_label labels[n_extra + 1];
	size_t n = 0;
	int r;

	if (e->path_label)
		labels[n++] = (struct om_label){"path", dm_path_to_string(e->path)};
	memcpy(labels + n, extra, n_extra * sizeof(*extra));
	r = dm_export_render(e->plan, s, labels, n + n_extra, fs, error);
	if (r < 0)
		return dm_error_set(error, r, "Cannot render metric %s: %s", e->m->name,
				    strerror(-r));
	return 0;
}

/* ---- the same from snapshots, into a FILE */

struct snapshot_source {
	const struct dm_config *c;
	dm_snapshot_source_t source;
	void *userdata;
	struct dm_map_snapshot **snaps[_DM_PATH_MAX];
	bool *written[_DM_PATH_MAX];
};

static void snapshot_source_done(struct snapshot_source *ss)
{
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		for (size_t i = 0; ss->snaps[p] && i < ss->c->paths[p].n_metrics; i++)
			dm_map_snapshot_free(ss->snaps[p][i]);
		free(ss->snaps[p]);
		free(ss->written[p]);
	}
}

/* Every map is read before any is written, as the types come from the snapshots. */
static int snapshot_types(enum dm_path p, size_t i, struct dm_export_types *ret, dm_error *error,
			  void *userdata)
{
	struct snapshot_source *ss = userdata;
	int r;

	r = ss->source(p, i, &ss->snaps[p][i], error, ss->userdata);
	if (r < 0)
		return r;
	ss->written[p][i] = r == 0;
	if (!ss->snaps[p][i])
		return 0;
	*ret = dm_export_types_of(ss->snaps[p][i]);
	return 1;
}

int dm_config_write_openmetrics(FILE *f, const struct dm_config *c, dm_snapshot_source_t source,
				void *userdata, const struct om_label *extra, size_t n_extra,
				dm_error *error)
{
	_cleanup_(snapshot_source_done) struct snapshot_source ss = {c, source, userdata};
	_cleanup_(dm_exports_freep) struct dm_exports *xs = NULL;
	_cleanup_(om_families_freep) struct om_families *fs = NULL;
	int r;

	for (int p = 0; p < _DM_PATH_MAX; p++) {
		ss.snaps[p] = calloc(c->paths[p].n_metrics + 1, sizeof(*ss.snaps[p]));
		ss.written[p] = calloc(c->paths[p].n_metrics + 1, sizeof(*ss.written[p]));
		if (!ss.snaps[p] || !ss.written[p])
			return -ENOMEM;
	}
	r = dm_exports_new(c, snapshot_types, &ss, &xs, error);
	if (r >= 0)
		r = om_families_new(&fs);
	for (size_t k = 0; r >= 0 && k < xs->n; k++) {
		const struct exported *e = &xs->v[k];

		if (ss.written[e->path][e->index])
			r = dm_exports_render(xs, k, ss.snaps[e->path][e->index], extra, n_extra,
					      fs, error);
	}
	return r < 0 ? r : om_families_write(fs, f);
}
