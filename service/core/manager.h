/* SPDX-License-Identifier: Apache-2.0 */
/* The one owner: event loop, netlink socket, compiler settings and the monitors. It knows no
 * door: the bus and REST (opened by main.c) watch it through observers. */
#pragma once

#include <systemd/sd-event.h>

#include "compile.h"
#include "durations.h"
#include "monitor.h"

struct nl_sock;
struct dm_grace;
struct dm_pool;
struct dm_worker;
struct link_watch;
struct manager_observer;

struct manager_options {
	const char *bpf_include_dir;
	unsigned compile_timeout_sec;
	const char *state_dir; /* NULL: $STATE_DIRECTORY, else /var/lib/dynmon (state.h) */
	const char *pin_dir;   /* NULL: PIN_DEFAULT_DIR (pin.h); must be on a bpffs */
	bool bpf_stats;	       /* the kernel's BPF run-time statistics on (selfmetrics.h) */
	/* Precompiled objects (docs/OBJECTS.md). */
	const char *clang;	      /* NULL: the one found at build time */
	const struct dm_trust *trust; /* objects must be signed by one of these; NULL: no */
	bool allow_source;	      /* with `trust`, source code is compiled all the same */
	const char *config_dir;	      /* monitors.d (files.h); NULL: FILES_DEFAULT_DIR */
};

/* The daemon's counters for its own metrics (selfmetrics.h). */
struct manager_stats {
	struct dm_durations injects;  /* failures: injects that failed */
	struct dm_durations compiles; /* each path's clang run */
	int bpf_stats_fd;	      /* BPF_ENABLE_STATS while >= 0 */
};

struct manager {
	sd_event *event;
	struct nl_sock *nl;
	struct dm_compiler compiler;
	struct dm_grace *grace;	  /* swap-on-read's wait for a grace period */
	struct dm_worker *worker; /* where swap-on-read waits for it */
	struct dm_pool *pool;	  /* threads beside the loop's for reads of many monitors */

	struct monitor **monitors; /* sorted by name */
	size_t n_monitors;
	struct creation **creating; /* monitors whose first dataplane is being compiled */
	size_t n_creating;
	struct state_monitor *unrestored; /* saved, not brought back at start: kept saved */
	size_t n_unrestored;

	char *state_dir;	  /* where the monitors are saved (state.h) */
	char *pin_dir;		  /* where their maps are pinned (pin.h) */
	bool restored;		  /* the saved monitors are back: saving may begin */
	struct link_watch *links; /* interfaces that come and go (link.h) */

	struct manager_stats stats;

	/* Monitors declared in files (files.h): the declarations in force, the files broken at
	 * the last reload, and whether the files' own changes are being made (the doors may not
	 * change a file's monitor: monitor_check_changeable()). */
	char *config_dir;
	struct file_spec *file_specs;
	size_t n_file_specs;
	char **files_broken;
	bool applying_files;

	const struct manager_observer **observers; /* the doors watching (manager_add_observer) */
	size_t n_observers;
};

/* What changed in a monitor: the mask an observer's `changed` gets. */
enum monitor_change {
	MONITOR_CHANGED_CONFIG = 1u << 0, /* a dataplane was injected */
	MONITOR_CHANGED_LOG_LEVEL = 1u << 1,
	MONITOR_CHANGED_INTERFACE = 1u << 2, /* attached, detached or renamed */
	MONITOR_CHANGED_STATE = 1u << 3,     /* attached, detached or waiting */
};

/* A door's view of the monitors: told of every monitor added, removed (before it is freed) or
 * changed, whoever did it (a door, a link event). Callbacks may be NULL. */
struct manager_observer {
	void (*added)(struct monitor *mon, void *userdata);
	void (*removed)(struct monitor *mon, void *userdata);
	void (*changed)(struct monitor *mon, unsigned changes, void *userdata);
	void *userdata;
};

int manager_new(const struct manager_options *o, struct manager **ret);
void manager_free(struct manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct manager *, manager_free);

/* A monitor being created, until its first dataplane is in. */
struct creation {
	struct monitor *monitor;
	monitor_done_fn done;
	void *userdata;
};

/* Creates a monitor at pcn_log level `log_level`: without `config` now (returns 1, *ret set);
 * with, once it is injected (returns 0; `done` gets the monitor, or NULL and the error: nothing
 * is created if the injection fails). Meanwhile the name is taken. */
int manager_create_monitor(struct manager *m, const char *name, enum dm_mode mode, int log_level,
			   const char *config, monitor_done_fn done, void *userdata,
			   struct monitor **ret, dm_error *error);
int manager_delete_monitor(struct manager *m, const char *name, dm_error *error);

struct monitor *manager_find_monitor(struct manager *m, const char *name);
/* A monitor being created (manager_create_monitor() with a configuration), or NULL. */
struct monitor *manager_find_creating(struct manager *m, const char *name);
struct monitor *manager_find_monitor_by_ifindex(struct manager *m, int ifindex);
/* Like manager_find_monitor, with the NoSuchMonitor error. */
int manager_get_monitor(struct manager *m, const char *name, struct monitor **ret, dm_error *error);

/* `o` must stay valid until removed. */
int manager_add_observer(struct manager *m, const struct manager_observer *o);
void manager_remove_observer(struct manager *m, const struct manager_observer *o);

/* Runs the event loop until SIGTERM or SIGINT. */
int manager_run(struct manager *m);
/* Stops the compilations in progress (their callers get an error) and waits for the reads
 * still in the worker: their completions may answer through a door, so this comes before the
 * doors close. Idempotent. */
void manager_finish_reads(struct manager *m);

/* Saves every monitor in the state directory; called after every change. A failure is logged:
 * what was asked happened all the same. */
void manager_save_state(struct manager *m);

/* Saves every monitor but `exclude` (NULL: all); a failure is -ENOSPC (StateNotSaved) with
 * the cause in the message, for the caller to undo its change (or not to make it). */
int manager_save_or_fail(struct manager *m, const struct monitor *exclude, dm_error *error);
/* manager_monitor_changed() for a change a caller asked for: when the state cannot be saved,
 * fails (manager_save_or_fail()) without telling the observers; the caller undoes. */
int manager_monitor_commit(struct manager *m, struct monitor *mon, unsigned changes,
			   dm_error *error);

/* What every change to a monitor ends in, whoever made it (D-Bus, REST, a link event): the
 * state is saved and the observers are told what changed (enum monitor_change). */
void manager_monitor_changed(struct manager *m, struct monitor *mon, unsigned changes);
