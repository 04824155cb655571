/* SPDX-License-Identifier: Apache-2.0 */
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <signal.h>

#include "build-config.h"
#include "dataplane.h"
#include "files.h"
#include "link.h"
#include "log.h"
#include "manager.h"
#include "selfmetrics.h"
#include "pcnlog.h"
#include "pin.h"
#include "pool.h"
#include "objects.h"
#include "state.h"
#include "swap.h"

/* The most threads that reads of many monitors (a scrape) take beside the event loop's: the
 * machine's CPUs less one, at most this many. */
#define MANAGER_POOL_MAX 3

DEFINE_TRIVIAL_CLEANUP_FUNC(struct monitor *, monitor_free);

static void manager_restore(struct manager *m);

/* SIGHUP (systemctl reload): monitors.d again; what went wrong is in the log. */
static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	log_info("SIGHUP: reloading the monitors declared in files.");
	(void)files_reload(userdata, NULL, NULL);
	return 0;
}

static void on_link(const struct link_event *ev, void *userdata);

/* The state and pin directories: made if missing; the pins must be on a bpffs. */
static int manager_setup_dirs(struct manager *m, const struct manager_options *o)
{
	_cleanup_free_ char *objects = NULL;
	int r;

	m->state_dir = o->state_dir ? strdup(o->state_dir) : state_default_dir();
	m->pin_dir = strdup(o->pin_dir ?: PIN_DEFAULT_DIR);
	m->config_dir = strdup(o->config_dir ?: FILES_DEFAULT_DIR);
	if (!m->state_dir || !m->pin_dir || !m->config_dir)
		return log_oom();
	r = state_dir_prepare(m->state_dir);
	if (r < 0)
		return log_error_errno(r, "Cannot use %s as the state directory: %m", m->state_dir);
	r = pin_dir_prepare(m->pin_dir);
	if (r == -EMEDIUMTYPE)
		return log_error_errno(
		    r,
		    "The pin directory %s is not on a BPF file system: mount one "
		    "(mount -t bpf bpf DIR) or name another with --pin-dir.",
		    m->pin_dir);
	if (r < 0)
		return log_error_errno(r, "Cannot use %s as the pin directory: %m", m->pin_dir);
	/* The compile cache's objects beside the saved monitors (docs/OBJECTS.md). */
	objects = strdup_printf("%s/objects", m->state_dir);
	r = objects ? dm_objcache_new(objects, &m->compiler.cache) : -ENOMEM;
	if (r < 0)
		log_warning_errno(r, "Cannot keep compiled objects in %s, caching in memory: %m",
				  strempty(objects));
	if (r < 0 && dm_objcache_new(NULL, &m->compiler.cache) < 0)
		return log_oom();
	return 0;
}

int manager_new(const struct manager_options *o, struct manager **ret)
{
	_cleanup_(manager_freep) struct manager *m = NULL;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return log_oom();
	m->compiler = (struct dm_compiler){
	    .clang = o->clang ?: DYNMON_CLANG,
	    .trust = o->trust,
	    .allow_source = o->allow_source,
	    .include_dir = o->bpf_include_dir,
	    .multiarch_include = DYNMON_MULTIARCH_INCLUDE,
	    .timeout_sec = o->compile_timeout_sec,
	    .durations = &m->stats.compiles,
	};
	m->stats.bpf_stats_fd = -1;
	dm_compiler_set_user(&m->compiler);

	r = sd_event_default(&m->event);
	if (r < 0)
		return log_error_errno(r, "Failed to allocate the event loop: %m");
	(void)sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
	(void)sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
	(void)sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m);

	m->nl = nl_socket_alloc();
	if (!m->nl)
		return log_oom();
	r = nl_connect(m->nl, NETLINK_ROUTE);
	if (r < 0)
		return log_error_errno(EIO, "Failed to open a netlink socket: %s", nl_geterror(r));

	dm_libbpf_setup_logging();

	r = dm_grace_new(&m->grace);
	if (r < 0)
		return log_error_errno(
		    r, "Failed to create the grace-period map (is BPF available?): %m");
	r = dm_worker_new(m->event, &m->worker);
	if (r < 0)
		return log_error_errno(r, "Failed to start the swap-on-read worker: %m");
	r = dm_pool_new(dm_pool_default_threads(MANAGER_POOL_MAX), &m->pool);
	if (r < 0)
		return log_error_errno(r, "Failed to start the reading threads: %m");

	r = manager_setup_dirs(m, o);
	if (r < 0)
		return r;
	if (o->bpf_stats) {
		r = selfmetrics_enable_bpf_stats(m);
		if (r < 0)
			return log_error_errno(r, "Cannot turn the kernel's BPF statistics on: %m");
	}
	/* Subscribed before the monitors come back: no interface change in between is missed. */
	r = link_watch_new(m->event, on_link, m, &m->links);
	if (r < 0)
		return log_error_errno(r, "Failed to watch the network interfaces: %m");
	/* Before any door opens: callers see every saved monitor from the start. */
	manager_restore(m);
	/* Then the files: what they declare and the state brought back is left as it runs. */
	(void)files_reload(m, NULL, NULL);

	*ret = TAKE_PTR(m);
	return 0;
}

void manager_free(struct manager *m)
{
	if (!m)
		return;
	manager_finish_reads(m);
	link_watch_free(m->links);
	/* The programs stay on their hooks: a restarted dynmond adopts them. */
	for (size_t i = 0; i < m->n_monitors; i++)
		monitor_free(m->monitors[i]);
	free(m->monitors);
	free(m->creating);
	state_monitors_free(m->unrestored, m->n_unrestored);
	free(m->state_dir);
	free(m->pin_dir);
	free(m->config_dir);
	files_specs_free(m->file_specs, m->n_file_specs);
	for (char **i = m->files_broken; i && *i; i++)
		free(*i);
	free(m->files_broken);
	dm_grace_free(m->grace);
	dm_pool_free(m->pool);
	dm_objcache_free(m->compiler.cache);
	if (m->stats.bpf_stats_fd >= 0)
		close(m->stats.bpf_stats_fd);
	free(m->observers);
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

int manager_get_monitor(struct manager *m, const char *name, struct monitor **ret, dm_error *error)
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

static int monitor_insert(struct manager *m, size_t pos, struct monitor *mon)
{
	struct monitor **list;

	list = realloc(m->monitors, (m->n_monitors + 1) * sizeof(*list));
	if (!list)
		return -ENOMEM;
	m->monitors = list;
	memmove(list + pos + 1, list + pos, (m->n_monitors - pos) * sizeof(*list));
	list[pos] = mon;
	m->n_monitors++;
	return 0;
}

/* The monitor joins the list and the doors see it. */
static int monitor_add(struct manager *m, struct monitor *mon, dm_error *error)
{
	bool found;
	size_t pos = monitor_position(m, mon->name, &found);
	int r;

	r = monitor_insert(m, pos, mon);
	if (r < 0)
		return r;
	r = manager_save_or_fail(m, NULL, error);
	if (r < 0) {
		memmove(m->monitors + pos, m->monitors + pos + 1,
			(m->n_monitors - pos - 1) * sizeof(*m->monitors));
		m->n_monitors--;
		return r;
	}
	log_info("Monitor %s created.", mon->name);
	for (size_t i = 0; i < m->n_observers; i++)
		if (m->observers[i]->added)
			m->observers[i]->added(mon, m->observers[i]->userdata);
	return 0;
}

static ssize_t find_unrestored(struct manager *m, const char *name)
{
	for (size_t i = 0; i < m->n_unrestored; i++)
		if (streq_ptr(m->unrestored[i].name, name))
			return i;
	return -1;
}

static bool name_being_created(struct manager *m, const char *name)
{
	for (size_t i = 0; i < m->n_creating; i++)
		if (streq(m->creating[i]->monitor->name, name))
			return true;
	return false;
}

struct monitor *manager_find_creating(struct manager *m, const char *name)
{
	for (size_t i = 0; i < m->n_creating; i++)
		if (streq(m->creating[i]->monitor->name, name))
			return m->creating[i]->monitor;
	return NULL;
}

static void creation_free(struct manager *m, struct creation *c)
{
	for (size_t i = 0; i < m->n_creating; i++)
		if (m->creating[i] == c) {
			memmove(m->creating + i, m->creating + i + 1,
				(m->n_creating - i - 1) * sizeof(*m->creating));
			m->n_creating--;
			break;
		}
	monitor_free(c->monitor);
	free(c);
}

static void on_created(struct monitor *mon, int r, dm_error *error, void *userdata)
{
	struct creation *c = userdata;
	struct manager *m = mon->manager;
	monitor_done_fn done = c->done;
	void *done_userdata = c->userdata;

	if (r >= 0) {
		r = monitor_add(m, mon, error);
		if (r < 0)
			monitor_unpin(mon); /* its maps, pinned as it was injected */
	}
	if (r >= 0)
		c->monitor = NULL; /* the manager's now */
	creation_free(m, c);
	done(r >= 0 ? mon : NULL, r, error, done_userdata);
}

int manager_create_monitor(struct manager *m, const char *name, enum dm_mode mode, int log_level,
			   const char *config, monitor_done_fn done, void *userdata,
			   struct monitor **ret, dm_error *error)
{
	_cleanup_(monitor_freep) struct monitor *mon = NULL;
	struct creation **l, *c;
	bool found;
	int r;

	(void)monitor_position(m, name, &found);
	if (found || name_being_created(m, name))
		return dm_error_set(error, -EEXIST, "A monitor named \"%s\" exists already.", name);
	if (find_unrestored(m, name) >= 0)
		return dm_error_set(error, -EEXIST,
				    "A monitor named \"%s\" is saved but could not be brought back "
				    "at start; delete it first.",
				    name);
	r = monitor_new(m, name, mode, &mon, error);
	if (r < 0)
		return r;
	mon->log_level = log_level;
	if (!config) {
		r = monitor_add(m, mon, error);
		if (r < 0)
			return r;
		*ret = TAKE_PTR(mon);
		return 1;
	}
	/* Created once its dataplane is in; meanwhile the name is taken. */
	l = realloc(m->creating, (m->n_creating + 1) * sizeof(*l));
	c = calloc(1, sizeof(*c));
	if (l)
		m->creating = l;
	if (!l || !c) {
		free(c);
		return -ENOMEM;
	}
	*c = (struct creation){.monitor = mon, .done = done, .userdata = userdata};
	r = monitor_inject(mon, config, on_created, c, error);
	if (r < 0) {
		free(c);
		return r;
	}
	m->creating[m->n_creating++] = c;
	TAKE_PTR(mon);
	return 0;
}

static void delete_unrestored(struct manager *m, size_t i)
{
	log_info("Monitor %s (saved, not brought back) deleted.", m->unrestored[i].name);
	state_monitor_done(&m->unrestored[i]);
	memmove(m->unrestored + i, m->unrestored + i + 1,
		(m->n_unrestored - i - 1) * sizeof(*m->unrestored));
	m->n_unrestored--;
	manager_save_state(m);
}

int manager_delete_monitor(struct manager *m, const char *name, dm_error *error)
{
	struct monitor *mon;
	bool found;
	size_t pos;
	int r;

	pos = monitor_position(m, name, &found);
	if (!found && find_unrestored(m, name) >= 0) {
		delete_unrestored(m, find_unrestored(m, name));
		return 0;
	}
	if (!found)
		return dm_error_set(error, -ENOENT, "No monitor named \"%s\".", name);
	mon = m->monitors[pos];
	r = monitor_check_changeable(mon, error);
	if (r < 0)
		return r;
	/* Saved without it first: if that fails, nothing happens. */
	r = manager_save_or_fail(m, mon, error);
	if (r < 0)
		return r;
	monitor_cancel_build(mon, -ECANCELED, "deleted while its dataplane was being compiled.");
	if (mon->ifindex > 0) {
		r = monitor_detach(mon, error);
		if (r < 0)
			return r;
	}
	monitor_unpin(mon);
	for (size_t i = 0; i < m->n_observers; i++)
		if (m->observers[i]->removed)
			m->observers[i]->removed(mon, m->observers[i]->userdata);
	memmove(m->monitors + pos, m->monitors + pos + 1,
		(m->n_monitors - pos - 1) * sizeof(*m->monitors));
	m->n_monitors--;
	monitor_free(mon);
	log_info("Monitor %s deleted.", name);
	manager_save_state(m);
	return 0;
}

int manager_run(struct manager *m)
{
	int r;

	r = sd_event_loop(m->event);
	/* Saved at every change already; once more for good measure. Nothing is detached. */
	manager_save_state(m);
	return r;
}

void manager_finish_reads(struct manager *m)
{
	/* Compilations first: their callers get an answer while the doors are open. */
	while (m->n_creating > 0)
		monitor_cancel_build(m->creating[0]->monitor, -ESHUTDOWN, "dynmond is stopping.");
	for (size_t i = 0; i < m->n_monitors; i++)
		monitor_cancel_build(m->monitors[i], -ESHUTDOWN, "dynmond is stopping.");
	dm_worker_free(m->worker);
	m->worker = NULL;
}

int manager_add_observer(struct manager *m, const struct manager_observer *o)
{
	const struct manager_observer **l;

	l = realloc(m->observers, (m->n_observers + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	l[m->n_observers++] = o;
	m->observers = l;
	return 0;
}

void manager_remove_observer(struct manager *m, const struct manager_observer *o)
{
	for (size_t i = 0; i < m->n_observers; i++)
		if (m->observers[i] == o) {
			memmove(m->observers + i, m->observers + i + 1,
				(m->n_observers - i - 1) * sizeof(*m->observers));
			m->n_observers--;
			return;
		}
}

void manager_monitor_changed(struct manager *m, struct monitor *mon, unsigned changes)
{
	manager_save_state(m);
	for (size_t i = 0; i < m->n_observers; i++)
		if (m->observers[i]->changed)
			m->observers[i]->changed(mon, changes, m->observers[i]->userdata);
}

/* Saves every monitor but `exclude` (NULL: all). */
static int save_state(struct manager *m, const struct monitor *exclude)
{
	struct state_monitor *l;
	size_t n = 0;
	int r = 0;

	/* Until the saved monitors are back, saving would drop them. */
	if (!m->restored)
		return 0;
	l = calloc(m->n_monitors + m->n_unrestored + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; r >= 0 && i < m->n_monitors; i++)
		if (m->monitors[i] != exclude)
			r = monitor_to_state(m->monitors[i], &l[n++]);
	/* Borrowed, not freed below. */
	memcpy(l + n, m->unrestored, m->n_unrestored * sizeof(*l));
	if (r >= 0)
		r = state_save(m->state_dir, l, n + m->n_unrestored);
	state_monitors_free(l, n);
	return r;
}

void manager_save_state(struct manager *m)
{
	int r = save_state(m, NULL);

	if (r < 0)
		log_warning_errno(r,
				  "Failed to save the monitors in %s/" STATE_FILE ", ignoring: %m",
				  m->state_dir);
}

int manager_save_or_fail(struct manager *m, const struct monitor *exclude, dm_error *error)
{
	int r = save_state(m, exclude);

	if (r >= 0)
		return 0;
	log_error_errno(r, "Failed to save the monitors in %s/" STATE_FILE ": %m", m->state_dir);
	return dm_error_set(error, -ENOSPC,
			    "The change cannot be saved in %s/" STATE_FILE " (%s), so it is not "
			    "made: a restart would undo it.",
			    m->state_dir, strerror(-r));
}

int manager_monitor_commit(struct manager *m, struct monitor *mon, unsigned changes,
			   dm_error *error)
{
	int r = manager_save_or_fail(m, NULL, error);

	if (r < 0)
		return r;
	for (size_t i = 0; i < m->n_observers; i++)
		if (m->observers[i]->changed)
			m->observers[i]->changed(mon, changes, m->observers[i]->userdata);
	return 0;
}

/* One saved monitor back, with its dataplane, maps and attachment. */
static int restore_monitor(struct manager *m, const struct state_monitor *s, dm_error *error)
{
	_cleanup_(monitor_freep) struct monitor *mon = NULL;
	int mode, level, r;
	bool found;
	size_t pos;

	mode = dm_mode_from_string(s->type);
	if (mode < 0)
		return dm_error_set(error, -EINVAL, "unknown type \"%s\"", s->type);
	level = pcnlog_level_from_string(s->loglevel);
	if (level < 0)
		return dm_error_set(error, -EINVAL, "unknown log level \"%s\"", s->loglevel);
	pos = monitor_position(m, s->name, &found);
	if (found)
		return dm_error_set(error, -EEXIST, "a monitor of this name is back already");
	r = monitor_new(m, s->name, mode, &mon, error);
	if (r < 0)
		return r;
	mon->log_level = level;
	if ((s->source_file && !(mon->source_file = strdup(s->source_file))) ||
	    (s->template_name && !(mon->template_name = strdup(s->template_name))) ||
	    (s->file_place && !(mon->file_place = strdup(s->file_place))))
		return -ENOMEM;
	r = monitor_restore(mon, s, error);
	if (r < 0)
		return r;
	r = monitor_insert(m, pos, mon);
	if (r < 0)
		return r;
	log_info("Monitor %s is back (%s).", s->name,
		 monitor_state_to_string(monitor_get_state(mon)));
	TAKE_PTR(mon);
	return 0;
}

/* A saved monitor that did not come back stays saved (taken from `s`): a change to another
 * must not erase the record of it and of what it left in the kernel. */
static void keep_unrestored(struct manager *m, struct state_monitor *s)
{
	struct state_monitor *l;

	if (!s->name || find_unrestored(m, s->name) >= 0)
		return;
	l = realloc(m->unrestored, (m->n_unrestored + 1) * sizeof(*l));
	if (!l) {
		log_oom();
		return;
	}
	m->unrestored = l;
	l[m->n_unrestored++] = *s;
	*s = (struct state_monitor){};
}

/* Brings back the saved monitors; one that cannot come back is logged and skipped, its
 * programs and pins left as they are. */
static void manager_restore(struct manager *m)
{
	struct state_monitor *l = NULL;
	size_t n = 0;
	int r;

	r = state_load(m->state_dir, &l, &n);
	if (r < 0) {
		/* m->restored stays false: nothing is saved over what could not be read. */
		log_error_errno(r, "Failed to read the saved monitors; changes will not be saved "
				   "until the state file is repaired or removed: %m");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		dm_error e = DM_ERROR_NULL;

		r = restore_monitor(m, &l[i], &e);
		if (r < 0) {
			log_error_errno(r,
					"Cannot bring back monitor %s; it stays in the state file "
					"until deleted: %s",
					l[i].name, e.message ?: "%m");
			keep_unrestored(m, &l[i]);
		}
		dm_error_done(&e);
	}
	state_monitors_free(l, n);
	m->restored = true;
	/* The filters now run this daemon's programs: the state must name them, or a daemon
	 * started after a crash of this one would not know its filters for its own. */
	manager_save_state(m);
}

static void link_gone(struct monitor *mon)
{
	monitor_link_gone(mon);
}

static void link_appeared(struct monitor *mon, int ifindex)
{
	dm_error e = DM_ERROR_NULL;
	int r;

	r = monitor_link_appeared(mon, ifindex, &e);
	if (r < 0)
		log_warning_errno(r, "Monitor %s: cannot attach to %s again, still waiting: %s",
				  mon->name, mon->ifname, e.message ?: strerror(-r));
	dm_error_done(&e);
}

static void link_renamed(struct monitor *mon, const char *ifname)
{
	if (monitor_link_renamed(mon, ifname) < 0)
		log_oom();
}

/* Notifications were lost: every monitor looks at its interface again. */
static void recheck_links(struct manager *m)
{
	for (size_t i = 0; i < m->n_monitors; i++) {
		struct monitor *mon = m->monitors[i];
		char name[IF_NAMESIZE];
		int ifindex;

		if (mon->ifindex > 0) {
			if (!if_indextoname(mon->ifindex, name)) {
				if (errno == ENXIO || errno == ENODEV)
					link_gone(mon);
			} else if (!streq(name, mon->ifname)) {
				link_renamed(mon, name);
			}
		} else if (mon->ifname) {
			ifindex = if_nametoindex(mon->ifname);
			if (ifindex > 0)
				link_appeared(mon, ifindex);
		}
	}
}

static void on_link(const struct link_event *ev, void *userdata)
{
	struct manager *m = userdata;

	if (!ev) {
		recheck_links(m);
		files_recheck(m);
		return;
	}
	/* A template's instance goes with its interface, or its interface's name (files.h). */
	if (!ev->present || ev->ifname)
		files_link_gone(m, ev->ifindex, ev->present ? ev->ifname : NULL);
	for (size_t i = 0; i < m->n_monitors; i++) {
		struct monitor *mon = m->monitors[i];

		if (!ev->present && mon->ifindex == ev->ifindex)
			link_gone(mon);
		else if (ev->present && ev->ifname && mon->ifindex == ev->ifindex &&
			 !streq(mon->ifname, ev->ifname))
			link_renamed(mon, ev->ifname);
		else if (ev->present && ev->ifname && monitor_get_state(mon) == MONITOR_WAITING &&
			 streq(mon->ifname, ev->ifname))
			link_appeared(mon, ev->ifindex);
	}
	if (ev->present && ev->ifname)
		files_link_appeared(m, ev->ifname);
}
