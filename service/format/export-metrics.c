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

int dm_metric_check_map(const struct bpf_map *map, const struct btf *btf,
			const struct dm_metric_config *m, dm_error *error)
{
	_cleanup_(dm_export_freep) struct dm_export *x = NULL;
	struct dm_export_types t = {
	    .map_type = bpf_map__type(map),
	    .btf = btf,
	    .key_size = bpf_map__key_size(map),
	    .value_size = bpf_map__value_size(map),
	};

	if (!m->open_metrics)
		return 0;
	if (btf) {
		/* As dm_map_snapshot_read() finds them. */
		t.key_type_id = dm_btf_map_member_type(btf, bpf_map__name(map), "key")
				    ?: bpf_map__btf_key_type_id(map);
		t.value_type_id = dm_btf_map_member_type(btf, bpf_map__name(map), "value")
				      ?: bpf_map__btf_value_type_id(map);
	}
	return dm_export_new(&t, m, &x, error);
}

/* ---- a dataplane's metrics as one set of families */

struct exported {
	enum dm_path path;
	const struct dm_metric_config *m;
	struct dm_map_snapshot *snap;
	struct dm_export *plan;
	bool path_label;
	bool shape_only; /* not read: shapes the families it shares, is not written */
};

struct exports {
	struct exported *v;
	size_t n;
	bool merge; /* some family comes from two metrics */
};

static void exports_done(struct exports *xs)
{
	for (size_t i = 0; i < xs->n; i++) {
		dm_map_snapshot_free(xs->v[i].snap);
		dm_export_free(xs->v[i].plan);
	}
	free(xs->v);
}

static int exports_gather(struct exports *xs, const struct dm_config *c,
			  dm_snapshot_source_t source, void *userdata, dm_error *error)
{
	for (int p = 0; p < _DM_PATH_MAX; p++)
		for (size_t i = 0; i < c->paths[p].n_metrics; i++) {
			const struct dm_metric_config *m = &c->paths[p].metrics[i];
			struct dm_export_types t;
			struct exported *e;
			int r;

			if (!m->open_metrics)
				continue;
			e = reallocarray(xs->v, xs->n + 1, sizeof(*e));
			if (!e)
				return -ENOMEM;
			xs->v = e;
			e = &xs->v[xs->n];
			*e = (struct exported){.path = p, .m = m};
			r = source(p, i, &e->snap, error, userdata);
			if (r < 0)
				return r;
			e->shape_only = r > 0;
			if (!e->snap)
				continue; /* no program on this path */
			xs->n++;
			t = dm_export_types_of(e->snap);
			r = dm_export_new(&t, m, &e->plan, error);
			if (r < 0)
				return r;
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
static int exports_pair(struct exports *xs, struct exported *a, struct exported *b, dm_error *error)
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
	xs->merge = true;
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

static int exports_write(const struct exported *e, FILE *f, const struct om_label *extra,
			 size_t n_extra, dm_error *error)
{
	_cleanup_free_ struct om_label *labels = calloc(n_extra + 1, sizeof(*labels));
	size_t n = 0;
	int r;

	if (!labels)
		return -ENOMEM;
	if (e->shape_only)
		return 0;
	if (e->path_label)
		labels[n++] = (struct om_label){"path", dm_path_to_string(e->path)};
	memcpy(labels + n, extra, n_extra * sizeof(*extra));
	r = dm_export_write(e->plan, e->snap, labels, n + n_extra, f, error);
	if (r < 0)
		return dm_error_set(error, r, "Cannot render metric %s: %s", e->m->name,
				    strerror(-r));
	return 0;
}

/* Every family once: the texts of all metrics gathered, then written family by family. */
static int exports_write_merged(const struct exports *xs, FILE *f, const struct om_label *extra,
				size_t n_extra, dm_error *error)
{
	_cleanup_(om_families_freep) struct om_families *fs = NULL;
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	FILE *mem;
	int r;

	mem = open_memstream(&text, &size);
	if (!mem)
		return -ENOMEM;
	r = 0;
	for (size_t i = 0; r >= 0 && i < xs->n; i++)
		r = exports_write(&xs->v[i], mem, extra, n_extra, error);
	if (fclose(mem) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	r = om_families_new(&fs);
	if (r >= 0)
		r = om_families_add(fs, text, NULL);
	return r < 0 ? r : om_families_write(fs, f);
}

int dm_config_write_openmetrics(FILE *f, const struct dm_config *c, dm_snapshot_source_t source,
				void *userdata, const struct om_label *extra, size_t n_extra,
				dm_error *error)
{
	_cleanup_(exports_done) struct exports xs = {};
	int r;

	r = exports_gather(&xs, c, source, userdata, error);
	for (size_t i = 0; r >= 0 && i < xs.n; i++)
		for (size_t j = i + 1; r >= 0 && j < xs.n; j++)
			r = exports_pair(&xs, &xs.v[i], &xs.v[j], error);
	if (r < 0)
		return r;
	if (xs.merge)
		return exports_write_merged(&xs, f, extra, n_extra, error);
	for (size_t i = 0; i < xs.n; i++) {
		r = exports_write(&xs.v[i], f, extra, n_extra, error);
		if (r < 0)
			return r;
	}
	return 0;
}
