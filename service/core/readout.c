/* SPDX-License-Identifier: Apache-2.0 */
#include <time.h>

#include "maps.h"
#include "metrics.h"
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

/* One metric as its map is read: its entries written chunk after chunk, or only read. */
struct metric_writer {
	struct jsonw *w; /* NULL: not shown */
	int error;	 /* of writing, as opposed to reading */
	bool network_order;
};

static int write_chunk(const struct dm_map_snapshot *chunk, void *userdata)
{
	struct metric_writer *mw = userdata;

	if (mw->w)
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

enum show { SHOW_NONE, SHOW_METRIC, SHOW_VALUE };

/* {"name": ..., "value": [...], "timestamp": ...}, as dm_metric_json() has it. */
static int write_metric(const struct dm_dataplane *dp, struct dm_swap_read *sr, enum dm_path p,
			size_t i, int64_t ts, enum show show, struct jsonw *w, dm_error *error)
{
	struct metric_writer mw = {
	    .w = show == SHOW_NONE ? NULL : w,
	    .network_order = dp->config->paths[p].metrics[i].network_byte_order,
	};
	int r;

	if (show == SHOW_METRIC) {
		jsonw_begin_object(w);
		jsonw_name(w, "name");
		jsonw_string(w, dp->config->paths[p].metrics[i].name);
		jsonw_name(w, "value");
	}
	if (show != SHOW_NONE)
		jsonw_begin_array(w);
	r = read_metric_chunks(dp, sr, p, i, &mw, error);
	if (r < 0)
		return r;
	if (show != SHOW_NONE)
		jsonw_end_array(w);
	if (show == SHOW_METRIC) {
		jsonw_name(w, "timestamp");
		jsonw_i64(w, ts);
		jsonw_end_object(w);
	}
	return 0;
}

/* What of metric `name` of list `list` is shown; `*found` once a metric was. */
static enum show show_of(const struct dm_readout_part *part, const char *list, const char *name,
			 bool *found)
{
	if (!part)
		return SHOW_METRIC;
	if (!streq(part->list, list))
		return SHOW_NONE;
	if (!part->metric)
		return SHOW_METRIC;
	/* Of two metrics of one name, the first, as the tree's lookup finds it. */
	if (*found || !streq(part->metric, name))
		return SHOW_NONE;
	*found = true;
	return part->value_only ? SHOW_VALUE : SHOW_METRIC;
}

static int write_path(const struct dm_dataplane *dp, struct dm_swap_read *sr, enum dm_path p,
		      const struct dm_readout_part *part, const char *list, struct jsonw *w,
		      bool *found, dm_error *error)
{
	const struct dm_path_config *pc;
	bool whole_list = !part || (streq(part->list, list) && !part->metric);
	int64_t ts;
	int r;

	if (whole_list)
		jsonw_begin_array(w);
	if (dp && dp->paths[p].obj) {
		pc = &dp->config->paths[p];
		ts = now_ms();
		for (size_t i = 0; i < pc->n_metrics; i++) {
			r = write_metric(dp, sr, p, i, ts,
					 show_of(part, list, pc->metrics[i].name, found), w, error);
			if (r < 0)
				return r;
		}
	}
	if (whole_list) {
		jsonw_end_array(w);
		*found = true;
	}
	return 0;
}

int dm_readout_write_json(const struct dm_dataplane *dp, struct dm_swap_read *sr,
			  const struct dm_readout_part *part, struct jsonw *w, dm_error *error)
{
	bool found = false;

	if (!part)
		jsonw_begin_object(w);
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		_cleanup_free_ char *list = strdup_printf("%s-metrics", dm_path_to_string(p));
		int r;

		if (!list)
			return -ENOMEM;
		if (!part)
			jsonw_name(w, list);
		r = write_path(dp, sr, p, part, list, w, &found, error);
		if (r < 0)
			return r;
	}
	if (!part)
		jsonw_end_object(w);
	return found ? 1 : 0;
}

struct openmetrics_source {
	const struct dm_dataplane *dp;
	struct dm_swap_read *sr;
};

static int openmetrics_snapshot(enum dm_path p, size_t i, struct dm_map_snapshot **ret,
				dm_error *error, void *userdata)
{
	struct openmetrics_source *src = userdata;

	*ret = NULL;
	if (!src->dp->paths[p].obj)
		return 0;
	return read_metric(src->dp, src->sr, p, i, ret, error);
}

int dm_readout_openmetrics(const struct dm_dataplane *dp, struct dm_swap_read *sr, FILE *f,
			   const struct om_label *extra, size_t n_extra, dm_error *error)
{
	struct openmetrics_source src = {dp, sr};

	if (!dp)
		return 0;
	/* Every map is read before any is written: a family both paths export is one. */
	return dm_config_write_openmetrics(f, dp->config, openmetrics_snapshot, &src, extra,
					   n_extra, error);
}
