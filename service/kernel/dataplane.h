/* SPDX-License-Identifier: Apache-2.0 */
/* A loaded dataplane: the configuration, and for each present path the BPF object compiled
 * from its code, loaded into the kernel (verified), ready to attach. Loading is all or nothing. */
#pragma once

#include <bpf/libbpf.h>
#include <pthread.h>
#include <systemd/sd-event.h>

#include "compile.h"
#include "config.h"
#include "dialect.h"
#include "errors.h"

struct pivot_bpf;
struct dm_grace;
struct dm_map_snapshot;
struct dm_exports;

struct dm_path_program {
	struct bpf_object *obj; /* NULL for an absent path */
	struct bpf_program *prog;

	/* Swap-on-read: a second copy of the object with swap maps of its own (every other map
	 * is copy A's), and the pivot on the hook, which jumps to the live copy. */
	struct bpf_object *obj_b;
	struct bpf_program *prog_b;
	struct pivot_bpf *pivot;
	bool b_live; /* touched by the swap worker only */
};

/* Refcounted: a swap read in the worker keeps its dataplane alive while a re-inject or a
 * delete replaces it. Only the event loop takes and drops references. */
struct dm_dataplane {
	unsigned n_ref;
	pthread_mutex_t swap_lock; /* one swap at a time, from the worker or the event loop */
	struct dm_config *config;
	enum dm_hook ingress_hook; /* the egress path is always on tc */
	int log_level;		   /* pcn_log: enum dynmon_log_level, 0 compiles it away */
	struct dm_path_program paths[_DM_PATH_MAX];
	/* The exported metrics' plans, made at the first OpenMetrics read and kept: a cache of
	 * the event loop's (core/readout.c), freed with the dataplane. */
	struct dm_exports *exports;
};

/* Compiles and loads every present path of `config` (Polycube code is translated first), and
 * checks that every metric names a map of its path. Maps the Polycube code declares shared are
 * one map across both paths. With `inherit` (the dataplane this one replaces, built from the
 * same configuration), its user maps are kept: the counters go on. With `pin_dir` (the
 * monitor's directory of pinned maps, see pin.h), the user maps pinned there that have the
 * declared type, sizes and BTF types are kept likewise: a restarted daemon counts on.
 * Takes ownership of `config` (also on failure). Errors: -ENOEXEC (compile),
 * -EKEYREJECTED (the verifier's log in the message), -EBADMSG (a metric names no map, no or
 * several programs, swap-on-read on a map it cannot apply to). */
int dm_dataplane_load(const struct dm_compiler *compiler, const char *monitor_name,
		      enum dm_hook ingress_hook, int log_level, struct dm_config *config,
		      const struct dm_dataplane *inherit, const char *pin_dir,
		      struct dm_dataplane **ret, dm_error *error);

/* dm_dataplane_load() with the compilers off the event loop: `done` runs once on the loop
 * with the dataplane (taken by it) or the error; never from within this call. `inherit` is
 * kept alive until then. */
typedef void (*dm_dataplane_done_fn)(int r, struct dm_dataplane *dp, dm_error *error,
				     void *userdata);
struct dm_dataplane_build;
int dm_dataplane_build_start(const struct dm_compiler *compiler, sd_event *event,
			     const char *monitor_name, enum dm_hook ingress_hook, int log_level,
			     struct dm_config *config, struct dm_dataplane *inherit,
			     const char *pin_dir, dm_dataplane_done_fn done, void *userdata,
			     struct dm_dataplane_build **ret, dm_error *error);
/* Stops a build (its compilers killed) without calling `done`. NULL allowed. */
void dm_dataplane_build_free(struct dm_dataplane_build *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_dataplane_build *, dm_dataplane_build_free);

/* The map of `name` in the path's object, and the BTF that describes it; NULL when none. */
struct bpf_map *dm_dataplane_find_map(const struct dm_dataplane *dp, enum dm_path path,
				      const char *name, const struct btf **ret_btf);

/* True when some metric of the dataplane reads with swap-on-read. */
bool dm_dataplane_has_swap(const struct dm_dataplane *dp);

/* The metrics a read takes, and so reads, empties (empty-on-read) or swaps (swap-on-read):
 * only those, so that a reader of one metric never takes what another's reader waits for. */
struct dm_read_sel {
	int path;	    /* enum dm_path, or -1: both */
	const char *metric; /* NULL: every metric of the path(s); else the first of that name */
	bool exported_only; /* only the metrics exported to OpenMetrics */
};

/* Whether `sel` (NULL: everything) takes metric `i` of path `p` of `c`. */
bool dm_read_sel_takes(const struct dm_read_sel *sel, const struct dm_config *c, enum dm_path p,
		       size_t i);
/* The most bytes the maps behind `sel` can hold (keys and values, every CPU's): what reading
 * them may cost in memory, known before reading. */
uint64_t dm_dataplane_read_size(const struct dm_dataplane *dp, const struct dm_read_sel *sel);
/* Whether reading `sel` from `dp` swaps: some metric it takes reads with swap-on-read. */
bool dm_dataplane_swaps_for(const struct dm_dataplane *dp, const struct dm_read_sel *sel);

/* One swap: the old copies' swap maps, read and emptied; per path, indexed like its metrics
 * (NULL for metrics without swap-on-read). */
struct dm_swap_read {
	struct dm_map_snapshot **snapshots[_DM_PATH_MAX];
	size_t n_snapshots[_DM_PATH_MAX];
};

/* Makes the standby copy live on every path where `sel` takes a swap-on-read metric, waits for
 * a grace period (then no program runs on the old copy any more), and reads and empties the
 * old copy's maps of the swap-on-read metrics `sel` takes: what is not read stays in its copy,
 * which goes on counting when it is live again, so nothing is lost and nothing counted twice.
 * Blocking for milliseconds (run it in the worker); serialized per dataplane. */
int dm_dataplane_swap_read(struct dm_dataplane *dp, struct dm_grace *grace,
			   const struct dm_read_sel *sel, struct dm_swap_read **ret);
void dm_swap_read_free(struct dm_swap_read *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_swap_read *, dm_swap_read_free);

/* The fd of the "dynmon_log" ring buffer pcn_log writes to; -1 when logging is off. */
int dm_dataplane_log_fd(const struct dm_dataplane *dp);

struct dm_dataplane *dm_dataplane_ref(struct dm_dataplane *dp);
void dm_dataplane_unref(struct dm_dataplane *dp);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_dataplane *, dm_dataplane_unref);

/* The program fd to put on a path's hook (the pivot's, with swap-on-read); -1 when absent. */
int dm_dataplane_prog_fd(const struct dm_dataplane *dp, enum dm_path path);

/* Routes libbpf's output into the daemon's log (debug level); call once at start-up. */
void dm_libbpf_setup_logging(void);
