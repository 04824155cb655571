/* SPDX-License-Identifier: Apache-2.0 */
#include <time.h>

#include "maps.h"
#include "export-metrics.h"
#include "readout.h"
#include "snapshot-json.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The snapshot of metric `i` of path `p`: taken from the swap, or read now. */
static int read_metric(const struct dm_dataplane *dp, struct dm_swap_read *sr, enum dm_path p,
		       size_t i, struct dm_map_snapshot **ret, dm_error *error)
{
	const struct dm_metric_config *mc = &dp->config->paths[p].metrics[i];
	const struct btf *btf = NULL;
	struct bpf_map *map;
	int r;

	if (mc->swap_on_read) {
		if (!sr || i >= sr->n_snapshots[p] || !sr->snapshots[p][i])
			return dm_error_set(error, -EINVAL, "Metric %s: no swap-on-read snapshot.",
					    mc->name);
		*ret = TAKE_PTR(sr->snapshots[p][i]);
		return 0;
	}
	map = dm_dataplane_find_map(dp, p, mc->map_name, &btf);
	if (!map)
		return dm_error_set(error, -ENOENT, "Metric %s: map %s is gone.", mc->name,
				    mc->map_name);
	r = dm_map_snapshot_read(map, btf, mc->empty_on_read, ret);
	if (r < 0)
		return dm_error_set(error, r, "Cannot read map %s of metric %s: %s", mc->map_name,
				    mc->name, strerror(-r));
	return 0;
}

/* ---- The JSON document, streamed ---------------------------------------------------------- */

/* One metric as its map is read: its entries written chunk after chunk. */
struct metric_writer {
	struct jsonw *w;
	int error; /* of writing, as opposed to reading */
	bool network_order;
};

static int write_chunk(const struct dm_map_snapshot *chunk, void *userdata)
{
	struct metric_writer *mw = userdata;

	mw->error = dm_snapshot_write_json_entries(mw->w, chunk, mw->network_order);
	return mw->error;
}

static int read_metric_chunks(const struct dm_dataplane *dp, struct dm_swap_read *sr,
			      enum dm_path p, size_t i, struct metric_writer *mw, dm_error *error)
{
	const struct dm_metric_config *mc = &dp->config->paths[p].metrics[i];
	const struct btf *btf = NULL;
	struct bpf_map *map;
	int r;

	if (mc->swap_on_read) {
		_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *snap = NULL;

		r = read_metric(dp, sr, p, i, &snap, error);
		if (r < 0)
			return r;
		r = write_chunk(snap, mw);
	} else {
		map = dm_dataplane_find_map(dp, p, mc->map_name, &btf);
		if (!map)
			return dm_error_set(error, -ENOENT, "Metric %s: map %s is gone.", mc->name,
					    mc->map_name);
		r = dm_map_read_chunks(map, btf, mc->empty_on_read, write_chunk, mw);
	}
	if (mw->error < 0)
		return dm_error_set(error, r, "Cannot decode metric %s: %s", mc->name,
				    strerror(-r));
	if (r < 0)
		return dm_error_set(error, r, "Cannot read map %s of metric %s: %s", mc->map_name,
				    mc->name, strerror(-r));
	return 0;
}

/* {"name": ..., "value": [...], "timestamp": ...}, as dm_metric_json() has it; or the value. */
static int write_metric(const struct dm_dataplane *dp, struct dm_swap_read *sr, enum dm_path p,
			size_t i, int64_t ts, bool value_only, struct jsonw *w, dm_error *error)
{
	struct metric_writer mw = {
	    .w = w,
	    .network_order = dp->config->paths[p].metrics[i].network_byte_order,
	};
	int r;

	if (!value_only) {
		jsonw_begin_object(w);
		jsonw_name(w, "name");
		jsonw_string(w, dp->config->paths[p].metrics[i].name);
		jsonw_name(w, "value");
	}
	jsonw_begin_array(w);
	r = read_metric_chunks(dp, sr, p, i, &mw, error);
	if (r < 0)
		return r;
	jsonw_end_array(w);
	if (!value_only) {
		jsonw_name(w, "timestamp");
		jsonw_i64(w, ts);
		jsonw_end_object(w);
	}
	return 0;
}

static bool has_path(const struct dm_dataplane *dp, enum dm_path p)
{
	return dp && dp->paths[p].obj;
}

/* The list of path `p`: the metrics `sel` takes of it. */
static int write_list(const struct dm_dataplane *dp, struct dm_swap_read *sr, enum dm_path p,
		      const struct dm_read_sel *sel, struct jsonw *w, dm_error *error)
{
	int64_t ts = now_ms();
	int r;

	jsonw_begin_array(w);
	for (size_t i = 0; has_path(dp, p) && i < dp->config->paths[p].n_metrics; i++) {
		if (!dm_read_sel_takes(sel, dp->config, p, i))
			continue;
		r = write_metric(dp, sr, p, i, ts, false, w, error);
		if (r < 0)
			return r;
	}
	jsonw_end_array(w);
	return 0;
}

static int write_document(const struct dm_dataplane *dp, struct dm_swap_read *sr,
			  const struct dm_read_sel *sel, struct jsonw *w, dm_error *error)
{
	jsonw_begin_object(w);
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		_cleanup_free_ char *list = strdup_printf("%s-metrics", dm_path_to_string(p));
		int r;

		if (!list)
			return -ENOMEM;
		jsonw_name(w, list);
		r = write_list(dp, sr, p, sel, w, error);
		if (r < 0)
			return r;
	}
	jsonw_end_object(w);
	return 0;
}

/* The one metric `sel` names on its path; 0 when there is none. */
static int write_one(const struct dm_dataplane *dp, struct dm_swap_read *sr,
		     const struct dm_read_sel *sel, bool value_only, struct jsonw *w,
		     dm_error *error)
{
	enum dm_path p = sel->path;
	int r;

	for (size_t i = 0; has_path(dp, p) && i < dp->config->paths[p].n_metrics; i++)
		if (dm_read_sel_takes(sel, dp->config, p, i)) {
			r = write_metric(dp, sr, p, i, now_ms(), value_only, w, error);
			return r < 0 ? r : 1;
		}
	return 0;
}

int dm_readout_write_json(const struct dm_dataplane *dp, struct dm_swap_read *sr,
			  const struct dm_read_sel *sel, enum dm_readout_shape shape,
			  struct jsonw *w, dm_error *error)
{
	int r;

	if (shape != DM_READOUT_DOCUMENT && (!sel || sel->path < 0 || sel->path >= _DM_PATH_MAX))
		return dm_error_set(error, -EINVAL, "A list or a metric is read from one path.");
	if ((shape == DM_READOUT_METRIC || shape == DM_READOUT_VALUE) && !sel->metric)
		return dm_error_set(error, -EINVAL, "Which metric?");
	switch (shape) {
	case DM_READOUT_DOCUMENT:
		r = write_document(dp, sr, sel, w, error);
		break;
	case DM_READOUT_LIST:
		r = write_list(dp, sr, sel->path, sel, w, error);
		break;
	default:
		return write_one(dp, sr, sel, shape == DM_READOUT_VALUE, w, error);
	}
	return r < 0 ? r : 1;
}

/* ---- OpenMetrics, rendered straight into the families ---------------------------------- */

static int map_types(enum dm_path p, size_t i, struct dm_export_types *ret, dm_error *error,
		     void *userdata)
{
	const struct dm_dataplane *dp = userdata;
	const struct dm_metric_config *mc = &dp->config->paths[p].metrics[i];
	const struct btf *btf = NULL;
	struct bpf_map *map;

	if (!dp->paths[p].obj)
		return 0;
	map = dm_dataplane_find_map(dp, p, mc->map_name, &btf);
	if (!map)
		return dm_error_set(error, -ENOENT, "Metric %s: map %s is gone.", mc->name,
				    mc->map_name);
	*ret = dm_export_types_of_map(map, btf);
	return 1;
}

/* The dataplane's plans, made once: its maps' types never change. */
static int exports_of(const struct dm_dataplane *dp, const struct dm_exports **ret, dm_error *error)
{
	struct dm_exports *xs;
	int r;

	if (!dp->exports) {
		r = dm_exports_new(dp->config, map_types, (void *)dp, &xs, error);
		if (r < 0)
			return r;
		((struct dm_dataplane *)dp)->exports = xs; /* a cache: not what `const` guards */
	}
	*ret = dp->exports;
	return 0;
}

/* One metric's map, rendered a chunk at a time. */
struct metric_renderer {
	const struct dm_exports *xs;
	size_t k;
	const struct om_label *extra;
	size_t n_extra;
	struct om_families *fs;
	dm_error *error;
	int r; /* of rendering, as opposed to reading */
};

static int render_chunk(const struct dm_map_snapshot *chunk, void *userdata)
{
	struct metric_renderer *mr = userdata;

	mr->r = dm_exports_render(mr->xs, mr->k, chunk, mr->extra, mr->n_extra, mr->fs, mr->error);
	return mr->r;
}

/* Hash maps are read a chunk at a time and each chunk rendered as it comes, when the plan
 * allows (dm_export_streams()): memory holds a chunk besides the text. */
static int render_metric(const struct dm_dataplane *dp, struct dm_swap_read *sr,
			 struct metric_renderer *mr)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *snap = NULL;
	const struct dm_export *plan;
	const struct dm_metric_config *mc;
	const struct btf *btf = NULL;
	struct bpf_map *map;
	enum dm_path p;
	size_t i;
	int r;

	mr->r = 0;
	plan = dm_exports_get(mr->xs, mr->k, &p, &i);
	mc = &dp->config->paths[p].metrics[i];
	if (mc->swap_on_read) {
		r = read_metric(dp, sr, p, i, &snap, mr->error);
		return r < 0 ? r : render_chunk(snap, mr);
	}
	map = dm_dataplane_find_map(dp, p, mc->map_name, &btf);
	if (!map)
		return dm_error_set(mr->error, -ENOENT, "Metric %s: map %s is gone.", mc->name,
				    mc->map_name);
	/* No BTF: the plan knows the types, and finding the map's type ids again on every read
	 * is a tenth of a scrape. */
	if (dm_export_streams(plan))
		r = dm_map_read_chunks(map, NULL, mc->empty_on_read, render_chunk, mr);
	else if ((r = dm_map_snapshot_read(map, NULL, mc->empty_on_read, &snap)) >= 0)
		r = render_chunk(snap, mr);
	if (r < 0 && mr->r >= 0)
		return dm_error_set(mr->error, r, "Cannot read map %s of metric %s: %s",
				    mc->map_name, mc->name, strerror(-r));
	return r;
}

int dm_readout_openmetrics(const struct dm_dataplane *dp, struct dm_swap_read *sr,
			   const struct dm_read_sel *sel, struct om_families *fs,
			   const struct om_label *extra, size_t n_extra, dm_error *error)
{
	struct metric_renderer mr = {.extra = extra, .n_extra = n_extra, .fs = fs, .error = error};
	int r;

	if (!dp)
		return 0;
	/* The plans come first: a metric that cannot be rendered fails the read before any map
	 * is read (and emptied). */
	r = exports_of(dp, &mr.xs, error);
	for (mr.k = 0; r >= 0 && mr.k < dm_exports_n(mr.xs); mr.k++) {
		enum dm_path p;
		size_t i;

		dm_exports_get(mr.xs, mr.k, &p, &i);
		if (dm_read_sel_takes(sel, dp->config, p, i))
			r = render_metric(dp, sr, &mr);
	}
	return r;
}
