/* SPDX-License-Identifier: Apache-2.0 */
/* A monitor: a named probe with its dataplane and its attachment to an interface. These are
 * the logic functions that D-Bus, REST and the CLI all end in. */
#pragma once

#include <jansson.h>
#include <stdio.h>

#include "chain.h"
#include "dataplane.h"
#include "errors.h"
#include "openmetrics.h"
#include "readout.h"
#include "tc.h"

struct manager;
struct pcnlog_reader;
struct state_monitor;
struct monitor_build;

enum dm_mode {
	DM_MODE_TC,
	DM_MODE_XDP_SKB,
	DM_MODE_XDP_DRV,
	_DM_MODE_MAX,
};

/* The D-Bus State property. Waiting: the interface attached to disappeared; the monitor attaches
 * again by itself when one of that name appears. */
enum monitor_state {
	MONITOR_DETACHED,
	MONITOR_ATTACHED,
	MONITOR_WAITING,
	_MONITOR_STATE_MAX,
};

/* Reads of a monitor's metrics, for dynmon's own metrics (selfmetrics.h). */
struct monitor_stats {
	uint64_t reads, read_failures;
	uint64_t read_ns; /* all reads' time, the kernel's and the rendering's */
};

struct monitor {
	struct manager *manager;
	char *name;
	enum dm_mode mode;
	int log_level;			  /* pcn_log: enum dynmon_log_level, 0 (off) by default */
	struct dm_dataplane *dataplane;	  /* NULL until something is injected */
	struct pcnlog_reader *log_reader; /* reads the dataplane's pcn_log records, when on */
	char *pin_dir;			  /* where its maps are pinned (pin.h); NULL: nowhere */
	struct monitor_build *build;	  /* a dataplane being compiled for it; one at a time */

	/* The attachment: ifindex 0 when detached; with ifname set, waiting for it. */
	char *ifname;
	int ifindex;
	bool clsact_created;		 /* dynmon added the qdisc, so dynmon removes it */
	bool hooked[_DM_PATH_MAX];	 /* a filter of ours sits on the path's hook */
	struct tc_slot tc[_DM_PATH_MAX]; /* where, on tc */
	struct monitor_stats stats;
	/* Its place among the monitors of the interface (chain.h), kept while it waits for the
	 * interface; 0 when detached. */
	uint32_t rank;
	/* Declared in monitors.d (files.h): the file's name, the template it is an instance of
	 * (NULL: none) and the place it was asked for; source_file NULL: made through the API. */
	char *source_file;
	char *template_name;
	char *file_place;
};

const char *dm_mode_to_string(enum dm_mode m);
int dm_mode_from_string(const char *s); /* -EINVAL when unknown */
/* The mode named `s`, or -EINVAL with the message every door gives (D-Bus, REST). */
int dm_mode_parse(const char *s, dm_error *e);
bool monitor_name_is_valid(const char *name);

int monitor_new(struct manager *manager, const char *name, enum dm_mode mode, struct monitor **ret,
		dm_error *error);
/* Frees, leaving the programs on their hooks and the maps pinned: so they stay when dynmond
 * stops, and a restarted dynmond adopts them (monitor_restore). Deleting a monitor detaches
 * and unpins first. NULL allowed. */
void monitor_free(struct monitor *m);

/* The end of a change that compiles: `r` and `error` say how it went (`m` is NULL when a
 * monitor being created could not be). Runs on the event loop, never within the call that
 * started the change. */
typedef void (*monitor_done_fn)(struct monitor *m, int r, dm_error *error, void *userdata);

/* Parses, then compiles off the event loop (the daemon answers everyone meanwhile), loads and
 * swaps in a dataplane configuration; when attached, replaces the filters atomically. On any
 * failure the previous dataplane keeps running untouched. Returns 0 when started (`done` tells
 * the end), or a negative errno now; -EBUSY while another dataplane is being compiled for the
 * monitor: a second change is refused, not queued (the caller retries knowing the first one's
 * outcome). */
int monitor_inject(struct monitor *m, const char *config_text, monitor_done_fn done, void *userdata,
		   dm_error *error);
/* Sets the pcn_log level; with a dataplane in place, rebuilds its programs (pcn_log calls above
 * the level are compiled away) on the same maps, and swaps them in as monitor_inject() does
 * (returns 0, `done` tells the end); without, sets it now and returns 1. */
int monitor_set_log_level(struct monitor *m, int level, monitor_done_fn done, void *userdata,
			  dm_error *error);
/* A monitor declared in a file changes only through its file: -EUCLEAN (DeclaredInFile) for
 * a door's change, unless the files themselves are being applied (files.h). */
int monitor_check_changeable(const struct monitor *m, dm_error *error);
/* "file" or "runtime": where the monitor was declared. */
const char *monitor_source(const struct monitor *m);
/* -EBUSY, "Monitor X is busy...". */
int monitor_busy(const struct monitor *m, dm_error *error);
/* Stops a compilation in progress: its `done` gets `r` and `why` now (the monitor is deleted,
 * the daemon stops). */
void monitor_cancel_build(struct monitor *m, int r, const char *why);
/* Attaches to `ifname` at `pos` among the monitors already there (NULL: auto). */
int monitor_attach(struct monitor *m, const char *ifname, const struct chain_position *pos,
		   dm_error *error);
/* Detaches; a waiting monitor stops waiting. */
int monitor_detach(struct monitor *m, dm_error *error);

const char *monitor_state_to_string(enum monitor_state s); /* "detached", "attached", "waiting" */
enum monitor_state monitor_get_state(const struct monitor *m);

/* The monitor as the state file keeps it (state.h). */
int monitor_to_state(const struct monitor *m, struct state_monitor *ret);
/* At start, for a monitor made with the saved name, mode and log level: rebuilds the saved
 * dataplane on the pinned maps, and when the interface is there, puts the new programs on its
 * hooks in place of those the last dynmond left, atomically (else the monitor waits for it).
 * Fails only when the dataplane cannot be rebuilt. */
int monitor_restore(struct monitor *m, const struct state_monitor *s, dm_error *error);
/* Removes the monitor's pins: its maps go with its programs. */
void monitor_unpin(struct monitor *m);

/* Link notifications (link.h). The attached interface is gone: the kernel took the programs
 * with it; the monitor waits. */
void monitor_link_gone(struct monitor *m);
/* An interface of the awaited name appeared as `ifindex`: attaches to it. */
int monitor_link_appeared(struct monitor *m, int ifindex, dm_error *error);
/* The attached interface was renamed: the monitor follows it (its programs are on it). */
int monitor_link_renamed(struct monitor *m, const char *ifname);

/* The normalized configuration (v1.1 shape); both paths {} before any injection. */
json_t *monitor_config_json(const struct monitor *m);

/* What a read of a monitor gives. */
enum monitor_read_format {
	MONITOR_READ_JSON,	  /* {"ingress-metrics": [...], "egress-metrics": [...]} */
	MONITOR_READ_JSON_LIST,	  /* one path's list of metrics */
	MONITOR_READ_JSON_METRIC, /* one metric: {"name", "value", "timestamp"} */
	MONITOR_READ_JSON_VALUE,  /* its "value" */
	MONITOR_READ_OPENMETRICS, /* the OpenMetrics document, "# EOF" last */
	MONITOR_READ_FAMILIES,	  /* its families, samples also labelled with `extra`, rendered
				   * into `families`; no text */
	_MONITOR_READ_FORMAT_MAX,
};

/* A read names what it wants, and only the maps behind it are read, emptied (empty-on-read) or
 * swapped (swap-on-read): `sel` (dataplane.h) names a path (or both) and a metric (or all);
 * OpenMetrics takes the exported metrics only. The lists hold the metrics taken; a list and a
 * metric need a path. */
struct monitor_read_what {
	struct dm_read_sel sel;
	enum monitor_read_format format;
	const struct om_label *extra; /* MONITOR_READ_FAMILIES */
	size_t n_extra;
	/* MONITOR_READ_FAMILIES: the caller's, alive until `done` runs; many reads (of several
	 * monitors) may gather into one. */
	struct om_families *families;
};

/* Whether reading `what` changes the maps (empty-on-read, swap-on-read): a door that only needs
 * to know that the read would succeed (HTTP HEAD) then does not read. */
bool monitor_read_has_effects(const struct monitor *m, const struct monitor_read_what *what);

/* The end of a read, on the event loop: r > 0 and `text` (the callee's to free); r == 0 when the
 * metric named does not exist (JSON_METRIC, JSON_VALUE); r < 0 and `error` when it failed. */
typedef void (*monitor_read_done_fn)(int r, char *text, dm_error *error, void *userdata);

/* The one read of a monitor that every door calls. With swap-on-read, the swap and its grace
 * period happen in the manager's worker and `done` runs later, the dataplane read kept alive
 * meanwhile (even if the monitor is re-injected or deleted); without, `done` runs before this
 * returns. Returns < 0 (and `done` never runs) when the read cannot start. */
int monitor_read(struct monitor *m, const struct monitor_read_what *what, monitor_read_done_fn done,
		 void *userdata);

/* One read among many (monitor_read_many()): what monitor_read() takes, and whether it started. */
struct monitor_read_req {
	struct monitor *monitor;       /* each monitor once in a call */
	struct monitor_read_what what; /* with MONITOR_READ_FAMILIES, `families` of its own */
	void *userdata;
	int r; /* set: < 0 when this read could not start (its `done` never runs), else 0 */
};

/* monitor_read() of each: the reads that need no swap run side by side on the manager's
 * threads (manager.h `pool`; each monitor read and rendered by one thread), then their `done`
 * runs on the caller's thread, in order, before this returns; the others go to the worker as
 * monitor_read() sends them. */
void monitor_read_many(struct manager *m, struct monitor_read_req *reqs, size_t n,
		       monitor_read_done_fn done);

/* The most bytes the maps such a read takes can hold: its cost, known before reading. */
uint64_t monitor_read_size(const struct monitor *m, const struct monitor_read_what *what);
