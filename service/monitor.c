/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <net/if.h>
#include <time.h>

#include "log.h"
#include "manager.h"
#include "maps.h"
#include "metrics.h"
#include "monitor.h"
#include "tc.h"

#define MONITOR_NAME_MAX 64

static const char *const mode_names[_DM_MODE_MAX] = {
	[DM_MODE_TC] = "TC",
	[DM_MODE_XDP_SKB] = "XDP_SKB",
	[DM_MODE_XDP_DRV] = "XDP_DRV",
};

const char *dm_mode_to_string(enum dm_mode m)
{
	return m < _DM_MODE_MAX ? mode_names[m] : NULL;
}

int dm_mode_from_string(const char *s)
{
	for (int i = 0; i < _DM_MODE_MAX; i++)
		if (strcasecmp(s, mode_names[i]) == 0)
			return i;
	return -EINVAL;
}

/* Names travel in REST paths, object paths and file names: keep them plain. */
bool monitor_name_is_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > MONITOR_NAME_MAX || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_-.:", name[i]))
			return false;
	return true;
}

int monitor_new(struct manager *manager, const char *name, enum dm_mode mode,
		struct monitor **ret, dm_error *error)
{
	struct monitor *m;

	if (!monitor_name_is_valid(name))
		return dm_error_set(error, -EINVAL,
				    "Invalid monitor name \"%s\": use 1 to %d letters, digits, "
				    "'_', '-', '.' or ':', starting with a letter or digit.",
				    name, MONITOR_NAME_MAX);
	if (mode != DM_MODE_TC)
		return dm_error_set(error, -EOPNOTSUPP,
				    "Mode %s is not supported by this version of dynmon; use TC.",
				    dm_mode_to_string(mode));
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->manager = manager;
	m->mode = mode;
	m->name = strdup(name);
	if (!m->name) {
		free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

void monitor_free(struct monitor *m)
{
	if (!m)
		return;
	if (m->ifindex > 0) {
		dm_error e = DM_ERROR_NULL;
		int r = monitor_detach(m, &e);
		if (r < 0)
			log_warning_errno(r, "Failed to detach monitor %s, ignoring: %s", m->name,
					  e.message ?: "%m");
		dm_error_done(&e);
	}
	dm_dataplane_free(m->dataplane);
	free(m->ifname);
	free(m->object_path);
	free(m->name);
	free(m);
}

/* Points the hooks at the dataplane's programs: replaces ours, adds missing ones. On failure
 * puts back what `previous` had on the hooks already changed. */
static int hooks_apply(struct monitor *m, const struct dm_dataplane *dp,
		       const struct dm_dataplane *previous, dm_error *error)
{
	int r;

	for (int p = 0; p < _DM_PATH_MAX; p++) {
		int fd = dm_dataplane_prog_fd(dp, p);

		if (fd < 0)
			continue;
		r = tc_filter_attach(m->ifindex, p, fd);
		if (r < 0) {
			for (int q = 0; q < p; q++) {
				int old = dm_dataplane_prog_fd(previous, q);
				if (old >= 0)
					(void)tc_filter_attach(m->ifindex, q, old);
				else if (dm_dataplane_prog_fd(dp, q) >= 0)
					(void)tc_filter_detach(m->ifindex, q);
			}
			return dm_error_set(error, r, "Cannot attach the %s program to %s: %s",
					    dm_path_to_string(p), m->ifname, strerror(-r));
		}
	}
	/* Only now remove the filters of paths the new dataplane does not have. */
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		bool want = dm_dataplane_prog_fd(dp, p) >= 0;

		if (m->hooked[p] && !want) {
			r = tc_filter_detach(m->ifindex, p);
			if (r < 0)
				log_warning_errno(r, "Failed to remove the %s filter of %s, ignoring: %m",
						  dm_path_to_string(p), m->name);
		}
		m->hooked[p] = want;
	}
	return 0;
}

int monitor_inject(struct monitor *m, const char *config_text, dm_error *error)
{
	_cleanup_(dm_dataplane_freep) struct dm_dataplane *dp = NULL;
	struct dm_config *config = NULL;
	int r;

	r = dm_config_parse(config_text, &config, error);
	if (r < 0)
		return r;
	r = dm_dataplane_load(&m->manager->compiler, m->name, config, &dp, error);
	if (r < 0)
		return r;
	if (m->ifindex > 0) {
		r = hooks_apply(m, dp, m->dataplane, error);
		if (r < 0)
			return r;
	}
	dm_dataplane_free(m->dataplane);
	m->dataplane = TAKE_PTR(dp);
	log_info("Monitor %s: dataplane injected.", m->name);
	return 0;
}

int monitor_attach(struct monitor *m, const char *ifname, dm_error *error)
{
	struct monitor *other;
	int ifindex, r;

	if (m->ifindex > 0)
		return dm_error_set(error, -EBUSY,
				    "Monitor %s is already attached to %s; detach it first.", m->name,
				    m->ifname);
	ifindex = if_nametoindex(ifname);
	if (ifindex == 0)
		return dm_error_set(error, -ENODEV, "No network interface named \"%s\".", ifname);
	other = manager_find_monitor_by_ifindex(m->manager, ifindex);
	if (other)
		return dm_error_set(error, -EBUSY, "Interface %s is already probed by monitor %s.",
				    ifname, other->name);
	r = free_and_strdup(&m->ifname, ifname);
	if (r < 0)
		return r;

	r = tc_clsact_ensure(m->manager->nl, ifindex, &m->clsact_created);
	if (r < 0)
		return dm_error_set(error, r, "Cannot add a clsact qdisc to %s: %s", ifname,
				    strerror(-r));
	m->ifindex = ifindex;
	r = hooks_apply(m, m->dataplane, NULL, error);
	if (r < 0) {
		if (m->clsact_created)
			(void)tc_clsact_remove_if_unused(m->manager->nl, ifindex);
		m->ifindex = 0;
		return r;
	}
	log_info("Monitor %s: attached to %s.", m->name, ifname);
	return 0;
}

int monitor_detach(struct monitor *m, dm_error *error)
{
	int r;

	if (m->ifindex <= 0)
		return dm_error_set(error, -ENOTCONN, "Monitor %s is not attached.", m->name);
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		if (!m->hooked[p])
			continue;
		r = tc_filter_detach(m->ifindex, p);
		if (r < 0)
			return dm_error_set(error, r, "Cannot remove the %s filter from %s: %s",
					    dm_path_to_string(p), m->ifname, strerror(-r));
		m->hooked[p] = false;
	}
	if (m->clsact_created) {
		r = tc_clsact_remove_if_unused(m->manager->nl, m->ifindex);
		if (r < 0)
			log_warning_errno(r, "Failed to remove the clsact qdisc of %s, ignoring: %m",
					  m->ifname);
	}
	log_info("Monitor %s: detached from %s.", m->name, m->ifname);
	m->ifindex = 0;
	m->clsact_created = false;
	free(m->ifname);
	m->ifname = NULL;
	return 0;
}

json_t *monitor_config_json(const struct monitor *m)
{
	static const struct dm_config empty;

	return dm_config_to_json(m->dataplane ? m->dataplane->config : &empty);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int read_metric(struct monitor *m, enum dm_path p, const struct dm_metric_config *mc,
		       struct dm_map_snapshot **ret, dm_error *error)
{
	struct bpf_object *obj = m->dataplane->paths[p].obj;
	struct bpf_map *map = bpf_object__find_map_by_name(obj, mc->map_name);
	int r;

	if (!map)
		return dm_error_set(error, -ENOENT, "Metric %s: map %s is gone.", mc->name,
				    mc->map_name);
	r = dm_map_snapshot_read(map, bpf_object__btf(obj), mc->empty_on_read, ret);
	if (r < 0)
		return dm_error_set(error, r, "Cannot read map %s of metric %s: %s", mc->map_name,
				    mc->name, strerror(-r));
	return 0;
}

static int path_metrics_json(struct monitor *m, enum dm_path p, json_t *list, dm_error *error)
{
	const struct dm_path_config *pc = &m->dataplane->config->paths[p];
	int64_t ts = now_ms();

	for (size_t i = 0; i < pc->n_metrics; i++) {
		struct dm_map_snapshot *snap = NULL;
		json_t *value = NULL;
		int r;

		r = read_metric(m, p, &pc->metrics[i], &snap, error);
		if (r < 0)
			return r;
		r = dm_snapshot_to_json(snap, &value);
		dm_map_snapshot_free(snap);
		if (r < 0)
			return dm_error_set(error, r, "Cannot decode metric %s: %s",
					    pc->metrics[i].name, strerror(-r));
		if (json_array_append_new(list, dm_metric_json(pc->metrics[i].name, value, ts)) < 0)
			return -ENOMEM;
	}
	return 0;
}

int monitor_metrics_json(struct monitor *m, json_t **ret, dm_error *error)
{
	json_t *lists[_DM_PATH_MAX];
	json_t *root;
	int r;

	root = json_object();
	if (!root)
		return -ENOMEM;
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		_cleanup_free_ char *key = strdup_printf("%s-metrics", dm_path_to_string(p));

		lists[p] = json_array();
		if (!key || !lists[p] || json_object_set_new(root, key, lists[p]) < 0) {
			json_decref(root);
			return -ENOMEM;
		}
		if (!m->dataplane || !m->dataplane->paths[p].obj)
			continue;
		r = path_metrics_json(m, p, lists[p], error);
		if (r < 0) {
			json_decref(root);
			return r;
		}
	}
	*ret = root;
	return 0;
}

int monitor_write_openmetrics(struct monitor *m, FILE *f, const struct om_label *extra,
			      size_t n_extra, dm_error *error)
{
	if (!m->dataplane)
		return 0;
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		const struct dm_path_config *pc = &m->dataplane->config->paths[p];

		if (!m->dataplane->paths[p].obj)
			continue;
		for (size_t i = 0; i < pc->n_metrics; i++) {
			struct dm_map_snapshot *snap = NULL;
			int r;

			if (!pc->metrics[i].open_metrics)
				continue;
			r = read_metric(m, p, &pc->metrics[i], &snap, error);
			if (r < 0)
				return r;
			r = dm_snapshot_write_openmetrics(f, snap, &pc->metrics[i], extra, n_extra);
			dm_map_snapshot_free(snap);
			if (r < 0)
				return dm_error_set(error, r, "Cannot render metric %s: %s",
						    pc->metrics[i].name, strerror(-r));
		}
	}
	return 0;
}

int monitor_openmetrics(struct monitor *m, char **ret, dm_error *error)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int r;

	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	r = monitor_write_openmetrics(m, f, NULL, 0, error);
	if (r >= 0)
		r = om_write_eof(f);
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(buf);
	return 0;
}
