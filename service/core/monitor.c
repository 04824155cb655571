/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <net/if.h>

#include "log.h"
#include "manager.h"
#include "readout.h"
#include "swap.h"
#include "monitor.h"
#include "pool.h"
#include "selfmetrics.h"
#include "pcnlog.h"
#include "pin.h"
#include "state.h"
#include "tc.h"
#include "xdp.h"

#define MONITOR_NAME_MAX 64

static void monitor_build_free(struct monitor_build *mb);
static void monitor_unhook(struct monitor *m);

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

int dm_mode_parse(const char *s, dm_error *e)
{
	int mode = dm_mode_from_string(s);

	if (mode < 0)
		return dm_error_set(e, -EINVAL,
				    "Unknown type \"%s\" (known: TC, XDP_SKB, XDP_DRV).", s);
	return mode;
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

int monitor_new(struct manager *manager, const char *name, enum dm_mode mode, struct monitor **ret,
		dm_error *error)
{
	struct monitor *m;

	if (!monitor_name_is_valid(name))
		return dm_error_set(error, -EINVAL,
				    "Invalid monitor name \"%s\": use 1 to %d letters, digits, "
				    "'_', '-', '.' or ':', starting with a letter or digit.",
				    name, MONITOR_NAME_MAX);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->manager = manager;
	m->mode = mode;
	m->name = strdup(name);
	if (!m->name ||
	    (manager->pin_dir && pin_monitor_dir(manager->pin_dir, name, &m->pin_dir) < 0)) {
		free(m->name);
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
	monitor_build_free(m->build);
	pcnlog_reader_free(m->log_reader);
	dm_dataplane_unref(m->dataplane);
	free(m->pin_dir);
	free(m->ifname);
	free(m->name);
	free(m->source_file);
	free(m->template_name);
	free(m->file_place);
	free(m);
}

int monitor_check_changeable(const struct monitor *m, dm_error *error)
{
	if (!m->source_file || m->manager->applying_files)
		return 0;
	return dm_error_set(error, -EUCLEAN,
			    "Monitor %s is declared in %s: change or remove the file, then reload.",
			    m->name, m->source_file);
}

const char *monitor_source(const struct monitor *m)
{
	return m->source_file ? "file" : "runtime";
}

static bool path_on_xdp(const struct monitor *m, enum dm_path p)
{
	return p == DM_PATH_INGRESS && m->mode != DM_MODE_TC;
}

static uint32_t tc_priority(const struct monitor *m, enum dm_path p)
{
	return chain_tc_priority(m->rank, p == DM_PATH_EGRESS);
}

/* Puts `fd` on the path's hook, replacing our `old_fd` (-1: none) atomically. */
static int hook_set(struct monitor *m, enum dm_path p, int fd, int old_fd)
{
	if (path_on_xdp(m, p))
		return xdp_prog_attach(m->ifindex, fd, old_fd, m->mode == DM_MODE_XDP_DRV);
	/* A new filter goes at the priority of the monitor's place in the chain. */
	if (m->tc[p].handle == 0)
		m->tc[p].priority = tc_priority(m, p);
	return tc_filter_attach(m->ifindex, p, fd, old_fd, &m->tc[p]);
}

static int hook_clear(struct monitor *m, enum dm_path p, int fd)
{
	if (path_on_xdp(m, p))
		return xdp_prog_detach(m->ifindex, fd, m->mode == DM_MODE_XDP_DRV);
	return tc_filter_detach(m->ifindex, p, tc_prog_id(fd), &m->tc[p]);
}

static int hook_error(struct monitor *m, enum dm_path p, int r, dm_error *error)
{
	if (path_on_xdp(m, p) && r == -EOPNOTSUPP)
		return dm_error_set(error, r,
				    "Interface %s cannot run XDP in %s mode; use XDP_SKB or TC.",
				    m->ifname, dm_mode_to_string(m->mode));
	if (path_on_xdp(m, p) && (r == -EBUSY || r == -EEXIST))
		return dm_error_set(error, -EBUSY, "Interface %s runs another XDP program already.",
				    m->ifname);
	if (r == -EBUSY)
		return dm_error_set(
		    error, r,
		    "Another owner's tc filter sits at priority %u of %s's %s hook; "
		    "dynmon leaves it alone.",
		    tc_priority(m, p), m->ifname, dm_path_to_string(p));
	return dm_error_set(error, r, "Cannot attach the %s program to %s: %s",
			    dm_path_to_string(p), m->ifname, strerror(-r));
}

/* Points the hooks at the dataplane's programs, replacing those of `previous` (what is on the
 * hooks now). On failure puts back what it had changed already. */
static int hooks_apply(struct monitor *m, const struct dm_dataplane *dp,
		       const struct dm_dataplane *previous, dm_error *error)
{
	int r;

	for (int p = 0; p < _DM_PATH_MAX; p++) {
		int fd = dm_dataplane_prog_fd(dp, p);
		int old = m->hooked[p] ? dm_dataplane_prog_fd(previous, p) : -1;

		if (fd < 0)
			continue;
		r = hook_set(m, p, fd, old);
		if (r < 0) {
			for (int q = 0; q < p; q++) {
				int new_q = dm_dataplane_prog_fd(dp, q);
				int old_q = m->hooked[q] ? dm_dataplane_prog_fd(previous, q) : -1;

				if (new_q >= 0 && old_q >= 0)
					(void)hook_set(m, q, old_q, new_q);
				else if (new_q >= 0)
					(void)hook_clear(m, q, new_q);
			}
			return hook_error(m, p, r, error);
		}
	}
	/* Only now remove the programs of paths the new dataplane does not have. */
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		bool want = dm_dataplane_prog_fd(dp, p) >= 0;

		if (m->hooked[p] && !want) {
			r = hook_clear(m, p, dm_dataplane_prog_fd(previous, p));
			if (r < 0)
				log_warning_errno(
				    r, "Failed to remove the %s program of %s, ignoring: %m",
				    dm_path_to_string(p), m->name);
		}
		m->hooked[p] = want;
	}
	return 0;
}

/* Pins the dataplane's maps so that they outlive this daemon. Without them a restart loses the
 * counters (and a swap-on-read pivot stops counting while no daemon runs): worth a warning, not
 * the failure of what was asked. */
static void monitor_pin(struct monitor *m)
{
	int r;

	if (!m->pin_dir)
		return;
	r = pin_dataplane(m->pin_dir, m->dataplane);
	if (r < 0)
		log_warning_errno(r,
				  "Failed to pin the maps of monitor %s in %s, ignoring (a restart "
				  "will lose its counters): %m",
				  m->name, m->pin_dir);
}

/* Swaps in `dp` (taken), built at `log_level`, for the current dataplane: the hooks change
 * atomically, the old dataplane and its log reader go only after. */
static int monitor_swap_in(struct monitor *m, struct dm_dataplane *dp_in, int log_level,
			   dm_error *error)
{
	_cleanup_(dm_dataplane_unrefp) struct dm_dataplane *dp = dp_in;
	struct pcnlog_reader *reader = NULL;
	int r, log_fd;

	log_fd = dm_dataplane_log_fd(dp);
	if (log_fd >= 0) {
		r = pcnlog_reader_new(m->manager->event, log_fd, m->name, &reader);
		if (r < 0)
			return dm_error_set(error, r, "Cannot read the dataplane's log: %s",
					    strerror(-r));
	}
	if (m->ifindex > 0) {
		r = hooks_apply(m, dp, m->dataplane, error);
		if (r < 0) {
			pcnlog_reader_free(reader);
			return r;
		}
	}
	pcnlog_reader_free(m->log_reader);
	m->log_reader = reader;
	dm_dataplane_unref(m->dataplane);
	m->dataplane = TAKE_PTR(dp);
	m->log_level = log_level;
	return 0;
}

/* Builds a dataplane from `config` (taken) at `log_level` and swaps it in, blocking: for the
 * start only. Keeps the maps pinned for the monitor. */
static int monitor_load_now(struct monitor *m, struct dm_config *config, int log_level,
			    dm_error *error)
{
	struct dm_dataplane *dp = NULL;
	int r;

	r = dm_dataplane_load(&m->manager->compiler, m->name,
			      m->mode == DM_MODE_TC ? DM_HOOK_TC : DM_HOOK_XDP, log_level, config,
			      NULL, m->pin_dir, &dp, error);
	if (r < 0)
		return r;
	return monitor_swap_in(m, dp, log_level, error);
}

/* A dataplane being built for the monitor, off the event loop: one at a time. */
struct monitor_build {
	struct monitor *monitor;
	struct dm_dataplane_build *build;
	uint64_t start; /* dm_now_ns() */
	bool inject;	/* monitor_inject()'s, counted in the injects' statistics */
	int log_level;
	monitor_done_fn done;
	void *userdata;
};

static void monitor_build_free(struct monitor_build *mb)
{
	if (!mb)
		return;
	dm_dataplane_build_free(mb->build);
	free(mb);
}

/* Takes the monitor back to `old` (NULL: no dataplane) after a change that could not be saved. */
static void monitor_swap_back(struct monitor *m, struct dm_dataplane *old, int old_level)
{
	dm_error e = DM_ERROR_NULL;
	int r;

	if (old) {
		r = monitor_swap_in(m, dm_dataplane_ref(old), old_level, &e);
		if (r < 0)
			log_error_errno(r, "Monitor %s: cannot put its previous dataplane back: %s",
					m->name, e.message ?: strerror(-r));
		dm_error_done(&e);
		return;
	}
	for (int p = 0; p < _DM_PATH_MAX; p++)
		if (m->hooked[p]) {
			(void)hook_clear(m, p, dm_dataplane_prog_fd(m->dataplane, p));
			m->hooked[p] = false;
		}
	pcnlog_reader_free(m->log_reader);
	m->log_reader = NULL;
	dm_dataplane_unref(m->dataplane);
	m->dataplane = NULL;
	m->log_level = old_level;
}

static void on_built(int r, struct dm_dataplane *dp, dm_error *error, void *userdata)
{
	struct monitor_build *mb = userdata;
	struct monitor *m = mb->monitor;
	bool rebuild = m->dataplane && m->log_level != mb->log_level;
	_cleanup_(dm_dataplane_unrefp) struct dm_dataplane *old =
	    m->dataplane ? dm_dataplane_ref(m->dataplane) : NULL;
	int old_level = m->log_level;

	m->build = NULL;
	if (r >= 0)
		r = monitor_swap_in(m, dp, mb->log_level, error);
	if (r >= 0) {
		r = manager_monitor_commit(
		    m->manager, m, rebuild ? MONITOR_CHANGED_LOG_LEVEL : MONITOR_CHANGED_CONFIG,
		    error);
		if (r < 0)
			monitor_swap_back(m, old, old_level);
	}
	if (r >= 0) {
		if (rebuild)
			log_info("Monitor %s: log level %s.", m->name,
				 pcnlog_level_to_string(mb->log_level));
		else
			log_info("Monitor %s: dataplane injected.", m->name);
		monitor_pin(m);
	}
	if (mb->inject)
		dm_durations_observe(&m->manager->stats.injects, mb->start, r < 0);
	mb->done(m, r, error, mb->userdata);
	monitor_build_free(mb);
}

/* Starts building `config` (taken) at `log_level`, keeping the maps of the running dataplane
 * when `keep_maps`. */
static int monitor_build_start(struct monitor *m, struct dm_config *config, int log_level,
			       bool keep_maps, monitor_done_fn done, void *userdata,
			       dm_error *error)
{
	struct monitor_build *mb;
	int r;

	if (m->build) {
		dm_config_free(config);
		return monitor_busy(m, error);
	}
	mb = calloc(1, sizeof(*mb));
	if (!mb) {
		dm_config_free(config);
		return -ENOMEM;
	}
	*mb = (struct monitor_build){.monitor = m,
				     .start = dm_now_ns(),
				     .log_level = log_level,
				     .done = done,
				     .userdata = userdata};
	r = dm_dataplane_build_start(&m->manager->compiler, m->manager->event, m->name,
				     m->mode == DM_MODE_TC ? DM_HOOK_TC : DM_HOOK_XDP, log_level,
				     config, keep_maps ? m->dataplane : NULL, NULL, on_built, mb,
				     &mb->build, error);
	if (r < 0) {
		free(mb);
		return r;
	}
	m->build = mb;
	return 0;
}

int monitor_busy(const struct monitor *m, dm_error *error)
{
	return dm_error_set(error, -EBUSY,
			    "Monitor %s is busy: a dataplane is being compiled for it; try again "
			    "when that is done.",
			    m->name);
}

void monitor_cancel_build(struct monitor *m, int r, const char *why)
{
	struct monitor_build *mb = m->build;
	dm_error e = DM_ERROR_NULL;

	if (!mb)
		return;
	m->build = NULL;
	dm_dataplane_build_free(TAKE_PTR(mb->build));
	dm_error_set(&e, r, "Monitor %s: %s", m->name, why);
	if (mb->inject)
		dm_durations_observe(&m->manager->stats.injects, mb->start, true);
	mb->done(m, r, &e, mb->userdata);
	dm_error_done(&e);
	monitor_build_free(mb);
}

int monitor_inject(struct monitor *m, const char *config_text, monitor_done_fn done, void *userdata,
		   dm_error *error)
{
	uint64_t start = dm_now_ns();
	struct dm_config *config = NULL;
	int r;

	r = monitor_check_changeable(m, error);
	if (r < 0)
		return r;
	if (m->build)
		return monitor_busy(m, error);
	r = dm_config_parse(config_text, &config, error);
	if (r >= 0)
		r = monitor_build_start(m, config, m->log_level, false, done, userdata, error);
	if (r < 0)
		dm_durations_observe(&m->manager->stats.injects, start, true);
	else if (m->build)
		m->build->inject = true;
	return r;
}

int monitor_set_log_level(struct monitor *m, int level, monitor_done_fn done, void *userdata,
			  dm_error *error)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct dm_config *copy = NULL;
	int r;

	r = monitor_check_changeable(m, error);
	if (r < 0)
		return r;
	if (m->build)
		return monitor_busy(m, error);
	if (!m->dataplane || level == m->log_level) {
		int old_level = m->log_level;

		if (level == old_level)
			return 1;
		m->log_level = level;
		r = manager_monitor_commit(m->manager, m, MONITOR_CHANGED_LOG_LEVEL, error);
		if (r < 0) {
			m->log_level = old_level;
			return r;
		}
		return 1;
	}
	/* The running configuration, rebuilt with the new level; its maps and counters stay. */
	j = dm_config_to_json(m->dataplane->config);
	if (!j)
		return -ENOMEM;
	r = dm_config_from_json(j, &copy, error);
	if (r < 0)
		return r;
	return monitor_build_start(m, copy, level, true, done, userdata, error);
}

/* Adds clsact to `ifindex` if needed and puts the dataplane's programs on the hooks; on failure
 * takes away what it added and leaves the monitor unattached (ifname untouched). */
static int hook_up(struct monitor *m, int ifindex, dm_error *error)
{
	int r;

	r = tc_clsact_ensure(m->manager->nl, ifindex, &m->clsact_created);
	if (r < 0)
		return dm_error_set(error, r, "Cannot add a clsact qdisc to %s: %s", m->ifname,
				    strerror(-r));
	m->ifindex = ifindex;
	r = hooks_apply(m, m->dataplane, NULL, error);
	if (r < 0) {
		if (m->clsact_created)
			(void)tc_clsact_remove_if_unused(m->manager->nl, ifindex);
		m->ifindex = 0;
		m->clsact_created = false;
	}
	return r;
}

/* The other monitors of the interface called `ifname` (attached, or waiting for it), by rank:
 * its chain. */
static int chain_of(struct monitor *m, const char *ifname, struct monitor ***ret, size_t *ret_n)
{
	struct manager *mgr = m->manager;
	struct monitor **l;
	size_t n = 0;

	l = calloc(mgr->n_monitors + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < mgr->n_monitors; i++) {
		struct monitor *o = mgr->monitors[i];

		if (o == m || !o->ifname || !streq(o->ifname, ifname))
			continue;
		/* By rank: insertion, a chain is a handful of monitors. */
		size_t at = n;
		while (at > 0 && l[at - 1]->rank > o->rank)
			at--;
		memmove(l + at + 1, l + at, (n - at) * sizeof(*l));
		l[at] = o;
		n++;
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

/* Monitors share an interface on the same hooks: the same mode. And until libxdp's
 * dispatcher chains XDP programs, one XDP monitor per interface. */
static int chain_check_mode(const struct monitor *m, struct monitor *const *l, size_t n,
			    const char *ifname, dm_error *error)
{
	if (n == 0)
		return 0;
	if (l[0]->mode != m->mode)
		return dm_error_set(
		    error, -EBUSY,
		    "Interface %s carries %s monitors (%s); a %s monitor cannot join "
		    "them.",
		    ifname, dm_mode_to_string(l[0]->mode), l[0]->name, dm_mode_to_string(m->mode));
	if (m->mode != DM_MODE_TC)
		return dm_error_set(error, -EBUSY,
				    "Interface %s is already probed by monitor %s: one XDP monitor "
				    "per interface (several go on tc).",
				    ifname, l[0]->name);
	return 0;
}

struct rank_probe {
	struct manager *manager;
	int ifindex;
};

/* A rank is free when no filter of another owner sits at its priorities. */
static int rank_is_free(uint32_t rank, void *userdata)
{
	struct rank_probe *pr = userdata;

	if (pr->ifindex <= 0)
		return 1;
	for (int p = 0; p < _DM_PATH_MAX; p++)
		if (tc_priority_in_use(pr->manager->nl, pr->ifindex, p,
				       chain_tc_priority(rank, p == DM_PATH_EGRESS)) > 0)
			return 0;
	return 1;
}

/* The rank `pos` gives among the chain of `ifname`. */
static int chain_place(struct monitor *m, const char *ifname, int ifindex,
		       const struct chain_position *pos, uint32_t *ret, dm_error *error)
{
	_cleanup_free_ struct monitor **l = NULL;
	_cleanup_free_ uint32_t *ranks = NULL;
	struct rank_probe probe = {m->manager, ifindex};
	size_t n, other = 0;
	int r;

	r = chain_of(m, ifname, &l, &n);
	if (r < 0)
		return r;
	r = chain_check_mode(m, l, n, ifname, error);
	if (r < 0)
		return r;
	ranks = calloc(n + 1, sizeof(*ranks));
	if (!ranks)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ranks[i] = l[i]->rank;
	if (pos->where == CHAIN_BEFORE || pos->where == CHAIN_AFTER) {
		while (other < n && !streq(l[other]->name, pos->other))
			other++;
		if (other == n && !manager_find_monitor(m->manager, pos->other))
			return dm_error_set(error, -ENOENT, "No monitor named \"%s\".", pos->other);
		if (other == n)
			return dm_error_set(error, -ENOTCONN, "Monitor %s is not on %s.",
					    pos->other, ifname);
	}
	r = chain_pick_rank(ranks, n, pos->where, other, rank_is_free, &probe, ret);
	/* Busy, not ENOSPC: that names StateNotSaved (507), which no full chain is. */
	if (r == -ENOSPC)
		return dm_error_set(error, -EBUSY,
				    "No room on %s %s%s%s: detach and attach the monitors again to "
				    "spread them out.",
				    ifname, chain_where_to_string(pos->where),
				    pos->other ? " " : "", strempty(pos->other));
	return r;
}

int monitor_attach(struct monitor *m, const char *ifname, const struct chain_position *pos,
		   dm_error *error)
{
	uint32_t rank;
	int ifindex, r;

	r = monitor_check_changeable(m, error);
	if (r < 0)
		return r;
	if (m->ifindex > 0)
		return dm_error_set(error, -EBUSY,
				    "Monitor %s is already attached to %s; detach it first.",
				    m->name, m->ifname);
	ifindex = if_nametoindex(ifname);
	if (ifindex == 0)
		return dm_error_set(error, -ENODEV, "No network interface named \"%s\".", ifname);
	r = chain_place(m, ifname, ifindex, pos ?: &CHAIN_POSITION_AUTO, &rank, error);
	if (r < 0)
		return r;
	r = free_and_strdup(&m->ifname, ifname);
	if (r < 0)
		return r;
	m->rank = rank;

	r = hook_up(m, ifindex, error);
	if (r < 0) {
		/* Not attached: nothing of the attempt stays visible (nor what it was waiting for).
		 */
		free(m->ifname);
		m->ifname = NULL;
		m->rank = 0;
		return r;
	}
	r = manager_monitor_commit(m->manager, m, MONITOR_CHANGED_INTERFACE | MONITOR_CHANGED_STATE,
				   error);
	if (r < 0) {
		monitor_unhook(m);
		return r;
	}
	log_info("Monitor %s: attached to %s (rank %u).", m->name, ifname, rank);
	return 0;
}

/* Saves the monitor as detached before it is: a detach that cannot be saved is not made. */
static int save_detached(struct monitor *m, dm_error *error)
{
	char *ifname = m->ifname;
	int r;

	m->ifname = NULL;
	r = manager_save_or_fail(m->manager, NULL, error);
	m->ifname = ifname;
	return r;
}

/* The clsact qdisc dynmon added goes with the last monitor of the interface: one that leaves
 * before hands it to another still there. */
static bool clsact_hand_over(struct monitor *m)
{
	_cleanup_free_ struct monitor **l = NULL;
	size_t n;

	if (chain_of(m, m->ifname, &l, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (l[i]->ifindex == m->ifindex) {
			l[i]->clsact_created = true;
			return true;
		}
	return false;
}

int monitor_detach(struct monitor *m, dm_error *error)
{
	int r;

	r = monitor_check_changeable(m, error);
	if (r < 0)
		return r;
	if (m->ifname) {
		r = save_detached(m, error);
		if (r < 0)
			return r;
	}
	if (m->ifindex <= 0 && m->ifname) {
		log_info("Monitor %s: no longer waiting for %s.", m->name, m->ifname);
		free(m->ifname);
		m->ifname = NULL;
		m->rank = 0;
		manager_monitor_changed(m->manager, m,
					MONITOR_CHANGED_INTERFACE | MONITOR_CHANGED_STATE);
		return 0;
	}
	if (m->ifindex <= 0)
		return dm_error_set(error, -ENOTCONN, "Monitor %s is not attached.", m->name);
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		if (!m->hooked[p])
			continue;
		r = hook_clear(m, p, dm_dataplane_prog_fd(m->dataplane, p));
		if (r < 0)
			return dm_error_set(error, r, "Cannot remove the %s program from %s: %s",
					    dm_path_to_string(p), m->ifname, strerror(-r));
		m->hooked[p] = false;
	}
	if (m->clsact_created && !clsact_hand_over(m)) {
		r = tc_clsact_remove_if_unused(m->manager->nl, m->ifindex);
		if (r < 0)
			log_warning_errno(
			    r, "Failed to remove the clsact qdisc of %s, ignoring: %m", m->ifname);
	}
	log_info("Monitor %s: detached from %s.", m->name, m->ifname);
	m->ifindex = 0;
	m->clsact_created = false;
	free(m->ifname);
	m->ifname = NULL;
	m->rank = 0;
	manager_monitor_changed(m->manager, m, MONITOR_CHANGED_INTERFACE | MONITOR_CHANGED_STATE);
	return 0;
}

static const char *const state_names[_MONITOR_STATE_MAX] = {
    [MONITOR_DETACHED] = "detached",
    [MONITOR_ATTACHED] = "attached",
    [MONITOR_WAITING] = "waiting",
};

const char *monitor_state_to_string(enum monitor_state s)
{
	return s < _MONITOR_STATE_MAX ? state_names[s] : NULL;
}

enum monitor_state monitor_get_state(const struct monitor *m)
{
	if (m->ifindex > 0)
		return MONITOR_ATTACHED;
	return m->ifname ? MONITOR_WAITING : MONITOR_DETACHED;
}

void monitor_link_gone(struct monitor *m)
{
	/* The kernel took our filters, the clsact qdisc and the XDP program with the device. */
	m->ifindex = 0;
	m->clsact_created = false;
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		m->hooked[p] = false;
		m->tc[p] = (struct tc_slot){};
	}
	log_notice("Monitor %s: interface %s disappeared; waiting for it to come back.", m->name,
		   m->ifname);
	manager_monitor_changed(m->manager, m, MONITOR_CHANGED_STATE);
}

int monitor_link_appeared(struct monitor *m, int ifindex, dm_error *error)
{
	int r;

	/* Its rank kept its place in the chain: the others come back around it. */
	r = hook_up(m, ifindex, error);
	if (r < 0)
		return r;
	log_notice("Monitor %s: interface %s is back; attached again.", m->name, m->ifname);
	manager_monitor_changed(m->manager, m, MONITOR_CHANGED_STATE);
	return 0;
}

int monitor_link_renamed(struct monitor *m, const char *ifname)
{
	int r;

	log_notice("Monitor %s: interface %s is now called %s.", m->name, m->ifname, ifname);
	r = free_and_strdup(&m->ifname, ifname);
	if (r < 0)
		return r;
	manager_monitor_changed(m->manager, m, MONITOR_CHANGED_INTERFACE);
	return 0;
}

int monitor_to_state(const struct monitor *m, struct state_monitor *ret)
{
	struct state_monitor s = {
	    .name = strdup(m->name),
	    .type = strdup(dm_mode_to_string(m->mode)),
	    .loglevel = strdup(pcnlog_level_to_string(m->log_level) ?: "OFF"),
	    .config = m->dataplane ? monitor_config_json(m) : NULL,
	    .ifname = m->ifname ? strdup(m->ifname) : NULL,
	    .clsact_created = m->clsact_created,
	    .rank = m->rank,
	    .source_file = m->source_file ? strdup(m->source_file) : NULL,
	    .template_name = m->template_name ? strdup(m->template_name) : NULL,
	    .file_place = m->file_place ? strdup(m->file_place) : NULL,
	};

	for (int p = 0; p < _DM_PATH_MAX; p++)
		if (m->hooked[p] && !path_on_xdp(m, p)) {
			s.tc[p] = m->tc[p];
			s.tc_prog_id[p] = tc_prog_id(dm_dataplane_prog_fd(m->dataplane, p));
		}
	if (!s.name || !s.type || !s.loglevel || (m->dataplane && !s.config) ||
	    (m->ifname && !s.ifname) || (m->source_file && !s.source_file) ||
	    (m->template_name && !s.template_name) || (m->file_place && !s.file_place)) {
		state_monitor_done(&s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

/* The program the last dynmond put on the path's tc hook. A state file from before dynmon
 * recorded it names none: then the filter at dynmon's fixed place is taken for its own. */
static uint32_t saved_prog_id(int ifindex, enum dm_path p, const struct state_monitor *s)
{
	if (s->tc_legacy)
		return tc_slot_prog_id(ifindex, p, &s->tc[p]);
	return s->tc_prog_id[p];
}

/* At start: the new programs go where the last dynmond left its own, replacing them in one
 * step, so that no packet passes uncounted: on tc our filter (same handle and priority) is
 * replaced in place; on XDP the program pinned for the hook, and only it. */
static int hooks_adopt(struct monitor *m, int ifindex, const struct state_monitor *s,
		       dm_error *error)
{
	_cleanup_close_ int old_xdp = -1;
	bool created;
	int r;

	r = tc_clsact_ensure(m->manager->nl, ifindex, &created);
	if (r < 0)
		return dm_error_set(error, r, "Cannot add a clsact qdisc to %s: %s", m->ifname,
				    strerror(-r));
	m->ifindex = ifindex;
	m->clsact_created = created || s->clsact_created;
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		int fd = dm_dataplane_prog_fd(m->dataplane, p);

		if (fd < 0 && !path_on_xdp(m, p)) {
			/* One left by an older dataplane. */
			struct tc_slot old = s->tc[p];

			(void)tc_filter_detach(ifindex, p, saved_prog_id(ifindex, p, s), &old);
		}
		if (fd < 0)
			continue;
		if (path_on_xdp(m, p) && m->pin_dir)
			old_xdp = pin_open_xdp_prog(m->pin_dir);
		if (path_on_xdp(m, p))
			r = xdp_prog_adopt(ifindex, fd, old_xdp, m->mode == DM_MODE_XDP_DRV);
		else {
			m->tc[p] = s->tc[p];
			if (m->tc[p].handle == 0)
				m->tc[p].priority = tc_priority(m, p);
			r = tc_filter_adopt(ifindex, p, fd, saved_prog_id(ifindex, p, s),
					    &m->tc[p]);
		}
		if (r < 0)
			return hook_error(m, p, r, error);
		m->hooked[p] = true;
	}
	return 0;
}

/* Takes back what a failed hooks_adopt() or an attach that could not be saved did; the monitor
 * stays, detached. */
static void monitor_unhook(struct monitor *m)
{
	for (int p = 0; p < _DM_PATH_MAX; p++)
		if (m->hooked[p])
			(void)hook_clear(m, p, dm_dataplane_prog_fd(m->dataplane, p));
	if (m->clsact_created && m->ifindex > 0)
		(void)tc_clsact_remove_if_unused(m->manager->nl, m->ifindex);
	for (int p = 0; p < _DM_PATH_MAX; p++)
		m->hooked[p] = false;
	m->ifindex = 0;
	m->clsact_created = false;
	free(m->ifname);
	m->ifname = NULL;
	m->rank = 0;
}

/* A saved monitor takes its saved place in the chain of its interface; one saved before
 * chains existed takes the last. */
static int chain_rejoin(struct monitor *m, const struct state_monitor *s, int ifindex,
			dm_error *error)
{
	_cleanup_free_ struct monitor **l = NULL;
	size_t n;
	int r;

	if (s->rank == 0)
		return chain_place(m, s->ifname, ifindex, &CHAIN_POSITION_AUTO, &m->rank, error);
	r = chain_of(m, s->ifname, &l, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (l[i]->rank == s->rank)
			return dm_error_set(error, -EBUSY, "Monitor %s holds its place on %s.",
					    l[i]->name, s->ifname);
	r = chain_check_mode(m, l, n, s->ifname, error);
	if (r >= 0)
		m->rank = s->rank;
	return r;
}

static void monitor_reattach_saved(struct monitor *m, const struct state_monitor *s)
{
	dm_error e = DM_ERROR_NULL;
	int ifindex, r;

	if (free_and_strdup(&m->ifname, s->ifname) < 0) {
		log_oom();
		return;
	}
	ifindex = if_nametoindex(s->ifname);
	r = chain_rejoin(m, s, ifindex, &e);
	if (r >= 0 && ifindex == 0) {
		log_notice("Monitor %s: interface %s is not there; waiting for it.", m->name,
			   s->ifname);
		return;
	}
	if (r >= 0)
		r = hooks_adopt(m, ifindex, s, &e);
	if (r < 0) {
		log_error_errno(r, "Monitor %s: cannot attach to %s again, leaving it detached: %s",
				m->name, s->ifname, e.message ?: strerror(-r));
		dm_error_done(&e);
		monitor_unhook(m);
		return;
	}
	log_info("Monitor %s: attached to %s again.", m->name, s->ifname);
}

int monitor_restore(struct monitor *m, const struct state_monitor *s, dm_error *error)
{
	struct dm_config *config = NULL;
	int r;

	if (s->config) {
		r = dm_config_from_json(s->config, &config, error);
		if (r < 0)
			return r;
		r = monitor_load_now(m, config, m->log_level, error);
		if (r < 0)
			return r;
	}
	if (s->ifname)
		monitor_reattach_saved(m, s);
	/* The pins of the programs just replaced go now: first let the packets that may still run
	 * them finish (a pivot whose PROG_ARRAY lost its last pin would pass them uncounted). */
	if (m->ifindex > 0 && dm_dataplane_has_swap(m->dataplane))
		(void)dm_grace_wait(m->manager->grace);
	monitor_pin(m);
	return 0;
}

void monitor_unpin(struct monitor *m)
{
	int r;

	if (!m->pin_dir)
		return;
	r = pin_dataplane(m->pin_dir, NULL);
	if (r < 0)
		log_warning_errno(r, "Failed to remove the pinned maps of monitor %s, ignoring: %m",
				  m->name);
}

json_t *monitor_config_json(const struct monitor *m)
{
	static const struct dm_config empty;

	return dm_config_to_json(m->dataplane ? m->dataplane->config : &empty);
}

/* ---- Reading ------------------------------------------------------------------------------ */

/* A read under way: what it asked, copied (the caller's may be gone when the worker is done),
 * and the dataplane it reads. */
struct read_job {
	struct manager *manager;
	/* For the monitor's read statistics: when the read began (dm_now_ns(); a swap's wait
	 * included), and how long it took. */
	uint64_t start, ns;
	struct dm_dataplane *dp; /* a reference; NULL before any injection */
	struct dm_grace *grace;
	char *monitor; /* for messages */
	char *metric;
	struct om_label *extra;
	struct monitor_read_what what; /* pointing at the copies above */
	struct dm_swap_read *sr;
	monitor_read_done_fn done;
	void *userdata;
	/* What the read gave (read_job_render()), for `done`. */
	int r;
	char *text;
	dm_error error;
};

static void read_job_free(struct read_job *j)
{
	for (size_t i = 0; j->extra && i < j->what.n_extra; i++) {
		free((char *)j->extra[i].name);
		free((char *)j->extra[i].value);
	}
	free(j->extra);
	free(j->metric);
	free(j->monitor);
	free(j->text);
	dm_error_done(&j->error);
	dm_swap_read_free(j->sr);
	dm_dataplane_unref(j->dp);
	free(j);
}

/* The caller's extra labels, and for a template's instance (files.h) the interface it runs on:
 * its samples are told apart from its siblings' whatever door reads them. */
static int read_job_copy_extra(struct read_job *j, const struct monitor *m,
			       const struct monitor_read_what *what)
{
	bool iface =
	    m->template_name && m->ifname &&
	    (what->format == MONITOR_READ_OPENMETRICS || what->format == MONITOR_READ_FAMILIES);
	size_t n = what->n_extra + iface;

	j->what.n_extra = 0;
	if (n == 0)
		return 0;
	j->extra = calloc(n, sizeof(*j->extra));
	if (!j->extra)
		return -ENOMEM;
	j->what.n_extra = n;
	for (size_t i = 0; i < n; i++) {
		bool own = i == what->n_extra;

		j->extra[i].name = strdup(own ? "interface" : what->extra[i].name);
		j->extra[i].value = strdup(own ? m->ifname : what->extra[i].value);
		if (!j->extra[i].name || !j->extra[i].value)
			return -ENOMEM;
	}
	return 0;
}

static int read_job_new(struct monitor *m, const struct monitor_read_what *what,
			monitor_read_done_fn done, void *userdata, struct read_job **ret)
{
	struct read_job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	*j = (struct read_job){
	    .manager = m->manager,
	    .start = dm_now_ns(),
	    .dp = m->dataplane ? dm_dataplane_ref(m->dataplane) : NULL,
	    .grace = m->manager->grace,
	    .monitor = strdup(m->name),
	    .metric = what->sel.metric ? strdup(what->sel.metric) : NULL,
	    .what = *what,
	    .done = done,
	    .userdata = userdata,
	    .error = DM_ERROR_NULL,
	};
	if (!j->monitor || (what->sel.metric && !j->metric) ||
	    read_job_copy_extra(j, m, what) < 0) {
		read_job_free(j);
		return -ENOMEM;
	}
	j->what.sel.metric = j->metric;
	j->what.extra = j->extra;
	/* OpenMetrics shows the exported metrics only: it reads no other. */
	if (what->format == MONITOR_READ_OPENMETRICS || what->format == MONITOR_READ_FAMILIES)
		j->what.sel.exported_only = true;
	*ret = j;
	return 0;
}

static int render_json(struct read_job *j, char **ret, dm_error *error)
{
	static const enum dm_readout_shape shapes[] = {
	    [MONITOR_READ_JSON] = DM_READOUT_DOCUMENT,
	    [MONITOR_READ_JSON_LIST] = DM_READOUT_LIST,
	    [MONITOR_READ_JSON_METRIC] = DM_READOUT_METRIC,
	    [MONITOR_READ_JSON_VALUE] = DM_READOUT_VALUE,
	};
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	int r, k;

	r = jsonw_new(NULL, &w);
	if (r < 0)
		return r;
	r = dm_readout_write_json(j->dp, j->sr, &j->what.sel, shapes[j->what.format], w, error);
	if (r <= 0)
		return r;
	k = jsonw_take_string(w, ret, NULL);
	return k < 0 ? k : r;
}

/* The document into one string, or the families into the caller's: no copy of the text
 * but the one string, and none of the maps (hash maps are rendered a chunk at a time). */
static int render_openmetrics(struct read_job *j, char **ret, dm_error *error)
{
	_cleanup_(om_families_freep) struct om_families *fs = NULL;
	struct om_text text = {};
	int r = 0;

	if (j->what.format == MONITOR_READ_FAMILIES) {
		r = dm_readout_openmetrics(j->dp, j->sr, &j->what.sel, j->what.families,
					   j->what.extra, j->what.n_extra, error);
		return r < 0 ? r : 1;
	}
	r = om_families_new(&fs);
	if (r >= 0)
		r = dm_readout_openmetrics(j->dp, j->sr, &j->what.sel, fs, j->what.extra,
					   j->what.n_extra, error);
	if (r >= 0)
		r = om_families_take(fs, OM_FLAVOR_OPENMETRICS, true, &text);
	if (r >= 0)
		r = om_text_take_string(&text, ret, NULL);
	om_text_done(&text);
	return r < 0 ? r : 1;
}

/* Reads (what the swap left, or the maps now) and shapes it into the job, calling nothing back:
 * safe on any thread, beside the reads of other monitors (monitor_read_many()). */
static void read_job_render(struct read_job *j)
{
	if (j->r < 0)
		dm_error_set(&j->error, j->r, "Swap-on-read of monitor %s failed: %s", j->monitor,
			     strerror(-j->r));
	else if (j->what.format >= MONITOR_READ_OPENMETRICS)
		j->r = render_openmetrics(j, &j->text, &j->error);
	else
		j->r = render_json(j, &j->text, &j->error);
	j->ns = dm_now_ns() - j->start;
}

/* Counts the read, hands what it gave to `done`, and frees the job; on the event loop. */
static void read_job_deliver(struct read_job *j)
{
	struct monitor *mon = manager_find_monitor(j->manager, j->monitor); /* gone: not counted */

	if (mon)
		monitor_stats_read(mon, j->ns, j->r);
	j->done(j->r, TAKE_PTR(j->text), &j->error, j->userdata);
	read_job_free(j);
}

static void read_job_finish(void *userdata, int r)
{
	struct read_job *j = userdata;

	j->r = r;
	read_job_render(j);
	read_job_deliver(j);
}

static int read_job_swap(void *userdata)
{
	struct read_job *j = userdata;

	return dm_dataplane_swap_read(j->dp, j->grace, &j->what.sel, &j->sr);
}

uint64_t monitor_read_size(const struct monitor *m, const struct monitor_read_what *what)
{
	return dm_dataplane_read_size(m->dataplane, &what->sel);
}

bool monitor_read_has_effects(const struct monitor *m, const struct monitor_read_what *what)
{
	const struct dm_config *c = m->dataplane ? m->dataplane->config : NULL;
	struct dm_read_sel sel = what->sel;

	if (what->format == MONITOR_READ_OPENMETRICS || what->format == MONITOR_READ_FAMILIES)
		sel.exported_only = true; /* as read_job_new() reads them */
	for (int p = 0; c && p < _DM_PATH_MAX; p++)
		for (size_t i = 0; i < c->paths[p].n_metrics; i++) {
			const struct dm_metric_config *mc = &c->paths[p].metrics[i];

			if ((mc->empty_on_read || mc->swap_on_read) &&
			    dm_read_sel_takes(&sel, c, p, i))
				return true;
		}
	return false;
}

/* Starts a read: 0 and the job in *ret when it is read now; 1 when the worker swaps first and
 * finishes it later; < 0 when it cannot start. */
static int read_job_start(struct monitor *m, const struct monitor_read_what *what,
			  monitor_read_done_fn done, void *userdata, struct read_job **ret)
{
	struct read_job *j;
	int r;

	if (what->format < 0 || what->format >= _MONITOR_READ_FORMAT_MAX)
		return -EINVAL;
	r = read_job_new(m, what, done, userdata, &j);
	if (r < 0)
		return r;
	if (!dm_dataplane_swaps_for(j->dp, &j->what.sel)) {
		*ret = j;
		return 0;
	}
	r = dm_worker_submit(m->manager->worker, read_job_swap, read_job_finish, j);
	if (r < 0) {
		read_job_free(j);
		return r;
	}
	return 1;
}

int monitor_read(struct monitor *m, const struct monitor_read_what *what, monitor_read_done_fn done,
		 void *userdata)
{
	struct read_job *j;
	int r;

	r = read_job_start(m, what, done, userdata, &j);
	if (r == 0)
		read_job_finish(j, 0);
	return r < 0 ? r : 0;
}

/* A read of many begins when a thread takes it, not when the batch was made. */
static void render_one(size_t i, void *userdata)
{
	struct read_job **jobs = userdata;

	jobs[i]->start = dm_now_ns();
	read_job_render(jobs[i]);
}

void monitor_read_many(struct manager *m, struct monitor_read_req *reqs, size_t n,
		       monitor_read_done_fn done)
{
	_cleanup_free_ struct read_job **now = calloc(n ?: 1, sizeof(*now));
	size_t n_now = 0;

	for (size_t i = 0; i < n; i++) {
		struct read_job *j;
		int r = read_job_start(reqs[i].monitor, &reqs[i].what, done, reqs[i].userdata, &j);

		reqs[i].r = r < 0 ? r : 0;
		if (r != 0) /* failed, or in the worker */
			continue;
		if (now)
			now[n_now++] = j;
		else /* no room to gather them: one after the other */
			read_job_finish(j, 0);
	}
	dm_pool_run(m->pool, n_now, render_one, now);
	for (size_t k = 0; k < n_now; k++)
		read_job_deliver(now[k]);
}
