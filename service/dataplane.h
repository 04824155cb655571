/* SPDX-License-Identifier: Apache-2.0 */
/* A loaded dataplane: the configuration, and for each present path the BPF object compiled
 * from its code, loaded into the kernel (verified), ready to attach. Loading is all or nothing. */
#pragma once

#include <bpf/libbpf.h>

#include "compile.h"
#include "config.h"
#include "dialect.h"
#include "errors.h"

struct dm_path_program {
	struct bpf_object *obj; /* NULL for an absent path */
	struct bpf_program *prog;
};

struct dm_dataplane {
	struct dm_config *config;
	enum dm_hook ingress_hook; /* the egress path is always on tc */
	int log_level;             /* pcn_log: enum dynmon_log_level, 0 compiles it away */
	struct dm_path_program paths[_DM_PATH_MAX];
};

/* Compiles and loads every present path of `config` (Polycube code is translated first), and
 * checks that every metric names a map of its path. Maps the Polycube code declares shared are
 * one map across both paths. Takes ownership of `config` (also on failure). Errors: -ENOEXEC (compile),
 * -EKEYREJECTED (the verifier's log in the message), -EBADMSG (a metric names no map, no or
 * several programs), -EOPNOTSUPP (a feature dynmon does not have yet). */
int dm_dataplane_load(const struct dm_compiler *compiler, const char *monitor_name,
		      enum dm_hook ingress_hook, int log_level, struct dm_config *config,
		      struct dm_dataplane **ret, dm_error *error);

/* The map of `name` in the path's object, and the BTF that describes it; NULL when none. */
struct bpf_map *dm_dataplane_find_map(const struct dm_dataplane *dp, enum dm_path path,
				      const char *name, const struct btf **ret_btf);

/* The fd of the "dynmon_log" ring buffer pcn_log writes to; -1 when logging is off. */
int dm_dataplane_log_fd(const struct dm_dataplane *dp);

void dm_dataplane_free(struct dm_dataplane *dp);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_dataplane *, dm_dataplane_free);

/* The program fd of a path, -1 when the path is absent. */
int dm_dataplane_prog_fd(const struct dm_dataplane *dp, enum dm_path path);

/* Routes libbpf's output into the daemon's log (debug level); call once at start-up. */
void dm_libbpf_setup_logging(void);
