/* SPDX-License-Identifier: Apache-2.0 */
#include <time.h>

#include "maps.h"
#include "metrics.h"
#include "readout.h"

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

static int path_json(const struct dm_dataplane *dp, struct dm_swap_read *sr, enum dm_path p,
		     json_t *list, dm_error *error)
{
	const struct dm_path_config *pc = &dp->config->paths[p];
	int64_t ts = now_ms();

	for (size_t i = 0; i < pc->n_metrics; i++) {
		_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *snap = NULL;
		json_t *value = NULL;
		int r;

		r = read_metric(dp, sr, p, i, &snap, error);
		if (r < 0)
			return r;
		r = dm_snapshot_to_json(snap, &value);
		if (r < 0)
			return dm_error_set(error, r, "Cannot decode metric %s: %s",
					    pc->metrics[i].name, strerror(-r));
		if (json_array_append_new(list, dm_metric_json(pc->metrics[i].name, value, ts)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int dm_readout_json(const struct dm_dataplane *dp, struct dm_swap_read *sr, json_t **ret,
		    dm_error *error)
{
	json_auto_t *root = json_object();

	if (!root)
		return -ENOMEM;
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		_cleanup_free_ char *key = strdup_printf("%s-metrics", dm_path_to_string(p));
		json_t *list = json_array();
		int r;

		if (!key || !list || json_object_set_new(root, key, list) < 0)
			return -ENOMEM;
		if (!dp || !dp->paths[p].obj)
			continue;
		r = path_json(dp, sr, p, list, error);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(root);
	return 0;
}

int dm_readout_openmetrics(const struct dm_dataplane *dp, struct dm_swap_read *sr, FILE *f,
			   const struct om_label *extra, size_t n_extra, dm_error *error)
{
	for (int p = 0; dp && p < _DM_PATH_MAX; p++) {
		const struct dm_path_config *pc = &dp->config->paths[p];

		if (!dp->paths[p].obj)
			continue;
		for (size_t i = 0; i < pc->n_metrics; i++) {
			_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *snap = NULL;
			int r;

			if (!pc->metrics[i].open_metrics)
				continue;
			r = read_metric(dp, sr, p, i, &snap, error);
			if (r < 0)
				return r;
			r = dm_snapshot_write_openmetrics(f, snap, &pc->metrics[i], extra, n_extra);
			if (r < 0)
				return dm_error_set(error, r, "Cannot render metric %s: %s",
						    pc->metrics[i].name, strerror(-r));
		}
	}
	return 0;
}
