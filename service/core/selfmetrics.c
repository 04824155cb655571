/* SPDX-License-Identifier: Apache-2.0 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "build-config.h"
#include "durations.h"
#include "export.h"
#include "labels.h"
#include "log.h"
#include "manager.h"
#include "maps.h"
#include "monitor.h"
#include "openmetrics.h"
#include "pool.h"
#include "selfmetrics.h"
#include "swap.h"

void monitor_stats_read(struct monitor *m, uint64_t ns, int r)
{
	m->stats.reads++;
	m->stats.read_ns += ns;
	if (r < 0)
		m->stats.read_failures++;
}

int selfmetrics_enable_bpf_stats(struct manager *m)
{
	int fd;

	if (m->stats.bpf_stats_fd >= 0)
		return 0;
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		return -errno;
	m->stats.bpf_stats_fd = fd;
	return 0;
}

/* The sysctl: reads 1 only when set there, not while some process holds a BPF_ENABLE_STATS fd. */
/* The sysctl, read afresh on every call: its file stays open (one pread() a scrape instead of
 * four system calls to open, stat, read and close it). Event loop only. */
static bool bpf_stats_enabled(void)
{
	static int fd = -2;
	char c = 0;

	if (fd == -2)
		fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);
	return fd >= 0 && pread(fd, &c, 1, 0) == 1 && c == '1';
}

/* ---- Writing ----------------------------------------------------------------------------- */

/* Where the families go: written straight into their texts (no printf, nothing parsed again
 * for the Prometheus text format), the first error kept. */
struct out {
	struct om_families *fs;
	struct om_text *samples; /* the current family's */
	int r;
};

static enum dm_metric_type type_of(const char *type)
{
	return streq(type, "counter")	  ? DM_METRIC_COUNTER
	       : streq(type, "histogram") ? DM_METRIC_HISTOGRAM
	       : streq(type, "summary")	  ? DM_METRIC_SUMMARY
					  : DM_METRIC_GAUGE;
}

static void family(struct out *f, const char *name, const char *type, const char *unit,
		   const char *help)
{
	int r = om_families_get(f->fs, name, type_of(type), help, unit, &f->samples);

	if (r <= 0) {
		f->samples = NULL;
		if (f->r >= 0)
			f->r = r ?: -EBADMSG;
	}
}

/* name{l0="v0",...} value; labels NULL-terminated name/value pairs. */
static void sample(struct out *f, const char *name, const char *const *labels, const char *value)
{
	char small[512], *line = small, *p;
	size_t size = strlen(name) + strlen(value) + 8;

	for (size_t i = 0; labels && labels[i]; i += 2)
		size += strlen(labels[i]) + 2 * strlen(labels[i + 1]) + 4;
	if (size > sizeof(small) && !(line = malloc(size))) {
		f->r = -ENOMEM;
		return;
	}
	p = stpcpy(line, name);
	for (size_t i = 0; labels && labels[i]; i += 2) {
		*p++ = i == 0 ? '{' : ',';
		p = stpcpy(stpcpy(p, labels[i]), "=\"");
		p = om_escape(p, labels[i + 1], strlen(labels[i + 1]));
		*p++ = '"';
		if (!labels[i + 2])
			*p++ = '}';
	}
	*p++ = ' ';
	p = stpcpy(p, value);
	*p++ = '\n';
	if (f->samples && f->r >= 0)
		f->r = om_text_append(f->samples, line, p - line);
	if (line != small)
		free(line);
}

static void sample_u64(struct out *f, const char *name, const char *const *labels, uint64_t v)
{
	char value[24];

	*dm_format_u64(value, v) = '\0';
	sample(f, name, labels, value);
}

/* Nanoseconds as seconds, exactly (a decimal fraction of at most 9 digits), without printf:
 * hundreds of them a scrape. */
static void sample_seconds(struct out *f, const char *name, const char *const *labels, uint64_t ns)
{
	char value[32], *p = dm_format_u64(value, ns / 1000000000);
	uint64_t frac = ns % 1000000000;

	if (frac > 0) {
		*p++ = '.';
		for (uint64_t d = 100000000; frac > 0; d /= 10) {
			*p++ = (char)('0' + frac / d);
			frac %= d;
		}
	}
	*p = '\0';
	sample(f, name, labels, value);
}

static void histogram(struct out *f, const char *name, const char *help,
		      const struct dm_durations *live)
{
	/* The bounds are constants: their canonical form (costly: printf and strtod loops) is
	 * written once. Every caller runs on the event loop. */
	static char le[DM_DURATION_N_BOUNDS][OM_NUMBER_MAX];
	static bool le_ready;
	char sample[128];
	struct dm_durations d;
	uint64_t total = 0;

	for (size_t i = 0; !le_ready && i < DM_DURATION_N_BOUNDS; i++)
		om_format_canonical(dm_duration_bounds[i], le[i]);
	le_ready = true;
	dm_durations_copy(live, &d);
	family(f, name, "histogram", "seconds", help);
	snprintf(sample, sizeof(sample), "%s_bucket", name);
	for (size_t i = 0; i <= DM_DURATION_N_BOUNDS; i++) {
		total += d.buckets[i];
		sample_u64(
		    f, sample,
		    (const char *const[]){"le", i < DM_DURATION_N_BOUNDS ? le[i] : "+Inf", NULL},
		    total);
	}
	snprintf(sample, sizeof(sample), "%s_count", name);
	sample_u64(f, sample, NULL, total);
	snprintf(sample, sizeof(sample), "%s_sum", name);
	sample_seconds(f, sample, NULL, d.sum_ns);
}

static void failures(struct out *f, const char *name, const char *help,
		     const struct dm_durations *d)
{
	char sample[128];

	family(f, name, "counter", NULL, help);
	snprintf(sample, sizeof(sample), "%s_total", name);
	sample_u64(f, sample, NULL, __atomic_load_n(&d->failures, __ATOMIC_RELAXED));
}

static void daemon_families(struct manager *m, struct out *f)
{
	size_t by_state[_MONITOR_STATE_MAX] = {};

	family(f, "dynmon_build_info", "gauge", NULL, "dynmond's version; always 1.");
	sample_u64(f, "dynmon_build_info", (const char *const[]){"version", DYNMON_VERSION, NULL},
		   1);

	family(f, "dynmon_bpf_stats_enabled", "gauge", NULL,
	       "1 when the kernel counts BPF programs' runs and run time (dynmond --bpf-stats, or "
	       "the sysctl kernel.bpf_stats_enabled).");
	sample_u64(f, "dynmon_bpf_stats_enabled", NULL,
		   m->stats.bpf_stats_fd >= 0 || bpf_stats_enabled());

	for (size_t i = 0; i < m->n_monitors; i++)
		by_state[monitor_get_state(m->monitors[i])]++;
	family(f, "dynmon_monitors", "gauge", NULL, "Monitors by state.");
	for (int s = 0; s < _MONITOR_STATE_MAX; s++)
		sample_u64(f, "dynmon_monitors",
			   (const char *const[]){"state", monitor_state_to_string(s), NULL},
			   by_state[s]);

	family(f, "dynmon_monitor_state", "gauge", NULL,
	       "1 for the state the monitor is in (attached, waiting for its interface, "
	       "detached), 0 for the others.");
	for (size_t i = 0; i < m->n_monitors; i++)
		for (int s = 0; s < _MONITOR_STATE_MAX; s++)
			sample_u64(f, "dynmon_monitor_state",
				   (const char *const[]){"monitor", m->monitors[i]->name, "state",
							 monitor_state_to_string(s), NULL},
				   monitor_get_state(m->monitors[i]) == (enum monitor_state)s);

	histogram(f, "dynmon_inject_duration_seconds",
		  "Time to inject a dataplane (parse, compile, load, attach), failed ones too.",
		  &m->stats.injects);
	failures(f, "dynmon_inject_failures", "Injections that failed.", &m->stats.injects);
	histogram(f, "dynmon_compile_duration_seconds", "Time clang took to compile one path.",
		  &m->stats.compiles);
	failures(f, "dynmon_compile_failures", "Compilations that failed.", &m->stats.compiles);
	histogram(f, "dynmon_swap_grace_period_seconds",
		  "Time swap-on-read waited for an RCU grace period.",
		  dm_grace_durations(m->grace));
}

/* ---- Per monitor and path ---------------------------------------------------------------- */

static const char *const path_names[_DM_PATH_MAX] = {"ingress", "egress"};

/* What the kernel says of a path's program: copy B's runs count too (swap-on-read). */
struct prog_figures {
	bool present;
	uint64_t runs, run_ns, verified_insns;
};

static void prog_add(struct prog_figures *p, const struct bpf_program *prog, bool main)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);

	if (!prog || bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) < 0)
		return;
	p->present = true;
	p->runs += info.run_cnt;
	p->run_ns += info.run_time_ns;
	if (main)
		p->verified_insns = info.verified_insns;
}

static struct prog_figures prog_figures(const struct dm_path_program *pp)
{
	struct prog_figures p = {};

	prog_add(&p, pp->prog, true);
	prog_add(&p, pp->prog_b, false);
	return p;
}

/* The maps a dataplane's author declared: not libbpf's global data, nor pcn_log's ring. */
static bool map_is_users(const struct bpf_map *map)
{
	return !bpf_map__is_internal(map) && bpf_map__type(map) != BPF_MAP_TYPE_RINGBUF &&
	       bpf_map__type(map) != BPF_MAP_TYPE_PERF_EVENT_ARRAY;
}

/* With swap-on-read, a map's last read may have been of copy B's twin. */
static bool map_entries(const struct dm_path_program *pp, const struct bpf_map *map, size_t *ret)
{
	const struct bpf_map *twin;

	if (dm_map_last_entries(map, ret))
		return true;
	twin = pp->obj_b ? bpf_object__find_map_by_name(pp->obj_b, bpf_map__name(map)) : NULL;
	return twin && dm_map_last_entries(twin, ret);
}

enum prog_family { PROG_RUNS, PROG_RUN_TIME, PROG_INSNS, _PROG_FAMILY_MAX };

/* figures[2 * i + p]: monitor i's path p, asked of the kernel once per rendering (three
 * families each, and a system call is a large part of a scrape of many monitors). */
static void prog_family(struct manager *m, struct out *f, enum prog_family which,
			const struct prog_figures *figures)
{
	static const struct {
		const char *family, *sample, *type, *unit, *help;
	} fams[] = {
	    [PROG_RUNS] = {"dynmon_program_runs", "dynmon_program_runs_total", "counter", NULL,
			   "Runs of the path's program (kernel BPF statistics: counted only while "
			   "they are on)."},
	    [PROG_RUN_TIME] = {"dynmon_program_run_seconds", "dynmon_program_run_seconds_total",
			       "counter", "seconds",
			       "Time spent in the path's program (kernel BPF statistics: counted "
			       "only while they are on)."},
	    [PROG_INSNS] = {"dynmon_program_verified_instructions",
			    "dynmon_program_verified_instructions", "gauge", NULL,
			    "Instructions the verifier processed to load the path's program."},
	};

	family(f, fams[which].family, fams[which].type, fams[which].unit, fams[which].help);
	for (size_t i = 0; i < m->n_monitors; i++) {
		struct monitor *mon = m->monitors[i];

		for (int p = 0; mon->dataplane && p < _DM_PATH_MAX; p++) {
			struct prog_figures pf = figures[_DM_PATH_MAX * i + p];
			const char *const labels[] = {"monitor", mon->name, "path", path_names[p],
						      NULL};

			if (!pf.present)
				continue;
			if (which == PROG_RUN_TIME)
				sample_seconds(f, fams[which].sample, labels, pf.run_ns);
			else
				sample_u64(f, fams[which].sample, labels,
					   which == PROG_RUNS ? pf.runs : pf.verified_insns);
		}
	}
}

static void map_family(struct manager *m, struct out *f, bool max)
{
	if (max)
		family(f, "dynmon_map_max_entries", "gauge", NULL,
		       "The most entries the map can hold.");
	else
		family(f, "dynmon_map_entries", "gauge", NULL,
		       "Entries the map held when dynmon last read it (hash maps, LRU, queues, "
		       "stacks; not arrays, always full); no sample before the first read.");
	for (size_t i = 0; i < m->n_monitors; i++) {
		struct monitor *mon = m->monitors[i];

		for (int p = 0; mon->dataplane && p < _DM_PATH_MAX; p++) {
			const struct dm_path_program *pp = &mon->dataplane->paths[p];
			struct bpf_map *map;

			if (!pp->obj)
				continue;
			bpf_object__for_each_map (map, pp->obj) {
				const char *const labels[] = {
				    "monitor", mon->name,	   "path", path_names[p],
				    "map",     bpf_map__name(map), NULL};
				size_t n;

				if (!map_is_users(map))
					continue;
				if (max)
					sample_u64(f, "dynmon_map_max_entries", labels,
						   bpf_map__max_entries(map));
				else if (map_entries(pp, map, &n))
					sample_u64(f, "dynmon_map_entries", labels, n);
			}
		}
	}
}

static void read_families(struct manager *m, struct out *f)
{
	family(f, "dynmon_monitor_read_failures", "counter", NULL,
	       "Reads of the monitor's metrics that failed (any door, any format).");
	for (size_t i = 0; i < m->n_monitors; i++)
		sample_u64(f, "dynmon_monitor_read_failures_total",
			   (const char *const[]){"monitor", m->monitors[i]->name, NULL},
			   m->monitors[i]->stats.read_failures);
	family(f, "dynmon_monitor_read_duration_seconds", "summary", "seconds",
	       "Reads of the monitor's metrics and the time they took: the maps' reads, a swap's "
	       "grace period, the rendering.");
	for (size_t i = 0; i < m->n_monitors; i++) {
		const char *const labels[] = {"monitor", m->monitors[i]->name, NULL};

		sample_u64(f, "dynmon_monitor_read_duration_seconds_count", labels,
			   m->monitors[i]->stats.reads);
		sample_seconds(f, "dynmon_monitor_read_duration_seconds_sum", labels,
			       m->monitors[i]->stats.read_ns);
	}
}

/* What the series budget folded (docs/OPENMETRICS.md): per exported metric, once rendered. */
static void folded_family(struct manager *m, struct out *f)
{
	family(f, "dynmon_series_folded", "gauge", NULL,
	       "Entries of the metric that its last OpenMetrics rendering folded into __overflow__ "
	       "samples (the series budget: max-series, top-k).");
	for (size_t i = 0; i < m->n_monitors; i++) {
		const struct dm_dataplane *dp = m->monitors[i]->dataplane;

		for (int p = 0; dp && p < _DM_PATH_MAX; p++)
			for (size_t k = 0; k < dp->config->paths[p].n_metrics; k++) {
				const struct dm_metric_config *mc =
				    &dp->config->paths[p].metrics[k];
				size_t n;

				if (mc->open_metrics && dm_export_folded(mc, &n))
					sample_u64(f, "dynmon_series_folded",
						   (const char *const[]){
						       "monitor", m->monitors[i]->name, "path",
						       path_names[p], "metric", mc->name, NULL},
						   n);
			}
	}
}

/* figures[2 * i + p] of monitor i's path p: the kernel asked on the manager's threads. */
struct figures_query {
	struct manager *m;
	struct prog_figures *figures;
};

static void query_figures(size_t k, void *userdata)
{
	struct figures_query *q = userdata;
	const struct dm_dataplane *dp = q->m->monitors[k / _DM_PATH_MAX]->dataplane;

	if (dp)
		q->figures[k] = prog_figures(&dp->paths[k % _DM_PATH_MAX]);
}

int selfmetrics_render(struct manager *m, struct om_families *fs)
{
	_cleanup_free_ struct prog_figures *figures =
	    calloc(_DM_PATH_MAX * m->n_monitors + 1, sizeof(*figures));
	struct out f = {.fs = fs};

	if (!figures)
		return -ENOMEM;
	dm_pool_run(m->pool, _DM_PATH_MAX * m->n_monitors, query_figures,
		    &(struct figures_query){m, figures});
	daemon_families(m, &f);
	for (enum prog_family w = 0; w < _PROG_FAMILY_MAX; w++)
		prog_family(m, &f, w, figures);
	map_family(m, &f, false);
	map_family(m, &f, true);
	read_families(m, &f);
	folded_family(m, &f);
	return f.r;
}

int selfmetrics_document(struct manager *m, char **ret)
{
	_cleanup_(om_families_freep) struct om_families *fs = NULL;
	struct om_text text = {};
	int r;

	r = om_families_new(&fs);
	if (r >= 0)
		r = selfmetrics_render(m, fs);
	if (r >= 0)
		r = om_families_take(fs, OM_FLAVOR_OPENMETRICS, true, &text);
	if (r >= 0)
		r = om_text_take_string(&text, ret, NULL);
	om_text_done(&text);
	return r;
}
