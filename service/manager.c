/* SPDX-License-Identifier: Apache-2.0 */
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "build-config.h"
#include "bus-manager.h"
#include "dataplane.h"
#include "log.h"
#include "manager.h"
#include "swap.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct monitor *, monitor_free);

int manager_new(const struct manager_options *o, struct manager **ret)
{
	_cleanup_(manager_freep) struct manager *m = NULL;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return log_oom();
	m->compiler = (struct dm_compiler){
		.clang = DYNMON_CLANG,
		.include_dir = o->bpf_include_dir,
		.multiarch_include = DYNMON_MULTIARCH_INCLUDE,
		.timeout_sec = o->compile_timeout_sec,
	};

	r = sd_event_default(&m->event);
	if (r < 0)
		return log_error_errno(r, "Failed to allocate the event loop: %m");
	(void)sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
	(void)sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);

	m->nl = nl_socket_alloc();
	if (!m->nl)
		return log_oom();
	r = nl_connect(m->nl, NETLINK_ROUTE);
	if (r < 0)
		return log_error_errno(EIO, "Failed to open a netlink socket: %s", nl_geterror(r));

	dm_libbpf_setup_logging();

	r = dm_grace_new(&m->grace);
	if (r < 0)
		return log_error_errno(r, "Failed to create the grace-period map (is BPF available?): %m");
	r = dm_worker_new(m->event, &m->worker);
	if (r < 0)
		return log_error_errno(r, "Failed to start the swap-on-read worker: %m");

	r = bus_manager_setup(m);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}

void manager_free(struct manager *m)
{
	if (!m)
		return;
	/* Reads still in the worker finish first: their callbacks may answer on the bus. */
	dm_worker_free(m->worker);
	for (size_t i = 0; i < m->n_monitors; i++)
		monitor_free(m->monitors[i]);
	free(m->monitors);
	dm_grace_free(m->grace);
	bus_manager_done(m);
	if (m->nl)
		nl_socket_free(m->nl);
	sd_event_unref(m->event);
	free(m);
}

static size_t monitor_position(struct manager *m, const char *name, bool *found)
{
	size_t lo = 0, hi = m->n_monitors;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(m->monitors[mid]->name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

struct monitor *manager_find_monitor(struct manager *m, const char *name)
{
	bool found;
	size_t i = monitor_position(m, name, &found);

	return found ? m->monitors[i] : NULL;
}

int manager_get_monitor(struct manager *m, const char *name, struct monitor **ret,
			dm_error *error)
{
	struct monitor *mon = manager_find_monitor(m, name);

	if (!mon)
		return dm_error_set(error, -ENOENT, "No monitor named \"%s\".", name);
	*ret = mon;
	return 0;
}

struct monitor *manager_find_monitor_by_ifindex(struct manager *m, int ifindex)
{
	for (size_t i = 0; i < m->n_monitors; i++)
		if (m->monitors[i]->ifindex == ifindex)
			return m->monitors[i];
	return NULL;
}

int manager_create_monitor(struct manager *m, const char *name, enum dm_mode mode, int log_level,
			   const char *config, struct monitor **ret, dm_error *error)
{
	_cleanup_(monitor_freep) struct monitor *mon = NULL;
	struct monitor **list;
	bool found;
	size_t pos;
	int r;

	pos = monitor_position(m, name, &found);
	if (found)
		return dm_error_set(error, -EEXIST, "A monitor named \"%s\" exists already.", name);
	r = monitor_new(m, name, mode, &mon, error);
	if (r < 0)
		return r;
	mon->log_level = log_level;
	if (config) {
		r = monitor_inject(mon, config, error);
		if (r < 0)
			return r;
	}
	r = bus_monitor_path(name, &mon->object_path);
	if (r < 0)
		return r;

	list = realloc(m->monitors, (m->n_monitors + 1) * sizeof(*list));
	if (!list)
		return -ENOMEM;
	m->monitors = list;
	memmove(list + pos + 1, list + pos, (m->n_monitors - pos) * sizeof(*list));
	list[pos] = mon;
	m->n_monitors++;
	log_info("Monitor %s created.", name);
	bus_monitor_emit_added(m, mon);
	*ret = TAKE_PTR(mon);
	return 0;
}

int manager_delete_monitor(struct manager *m, const char *name, dm_error *error)
{
	struct monitor *mon;
	bool found;
	size_t pos;
	int r;

	pos = monitor_position(m, name, &found);
	if (!found)
		return dm_error_set(error, -ENOENT, "No monitor named \"%s\".", name);
	mon = m->monitors[pos];
	if (mon->ifindex > 0) {
		r = monitor_detach(mon, error);
		if (r < 0)
			return r;
	}
	bus_monitor_emit_removed(m, mon);
	memmove(m->monitors + pos, m->monitors + pos + 1,
		(m->n_monitors - pos - 1) * sizeof(*m->monitors));
	m->n_monitors--;
	monitor_free(mon);
	log_info("Monitor %s deleted.", name);
	return 0;
}

int manager_run(struct manager *m)
{
	int r;

	(void)sd_notify(false, "READY=1\nSTATUS=Processing requests...");
	r = sd_event_loop(m->event);
	(void)sd_notify(false, "STOPPING=1");
	return r;
}
