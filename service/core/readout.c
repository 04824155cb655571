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

struct openmetrics_source {
	const struct dm_dataplane *dp;
	struct dm_swap_read *sr;
	const struct dm_read_sel *sel;
};

/* A metric not taken: the shape of its map, for the families it shares (metrics.h). */
static int metric_shape(const struct dm_dataplane *dp, enum dm_path p, size_t i,
			struct dm_map_snapshot **ret, dm_error *error)
{
	const struct dm_metric_config *mc = &dp->config->paths[p].metrics[i];
	const struct btf *btf = NULL;
	struct bpf_map *map;
	int r;

	map = dm_dataplane_find_map(dp, p, mc->map_name, &btf);
	if (!map)
		return dm_error_set(error, -ENOENT, "Metric %s: map %s is gone.", mc->name,
				    mc->map_name);
	r = dm_map_snapshot_shape(map, btf, ret);
	if (r < 0)
		return dm_error_set(error, r, "Cannot look at map %s of metric %s: %s",
				    mc->map_name, mc->name, strerror(-r));
	return 1;
}

static int openmetrics_snapshot(enum dm_path p, size_t i, struct dm_map_snapshot **ret,
				dm_error *error, void *userdata)
{
	struct openmetrics_source *src = userdata;

	*ret = NULL;
	if (!src->dp->paths[p].obj)
		return 0;
	if (!dm_read_sel_takes(src->sel, src->dp->config, p, i))
		return metric_shape(src->dp, p, i, ret, error);
	return read_metric(src->dp, src->sr, p, i, ret, error);
}

int dm_readout_openmetrics(const struct dm_dataplane *dp, struct dm_swap_read *sr,
			   const struct dm_read_sel *sel, FILE *f, const struct om_label *extra,
			   size_t n_extra, dm_error *error)
{
	struct openmetrics_source src = {dp, sr, sel};

	if (!dp)
		return 0;
	/* Every map is read before any is written: a family both paths export is one. */
	return dm_config_write_openmetrics(f, dp->config, openmetrics_snapshot, &src, extra,
					   n_extra, error);
}
