/* SPDX-License-Identifier: Apache-2.0 */
/* Pinned maps: a monitor's maps kept in the BPF file system, so that a restarted dynmond counts
 * on in the very maps its predecessor left, and the programs it left on the hooks keep running
 * while no daemon holds them. The layout under the pin directory, per monitor:
 *
 *   MONITOR/PATH/MAP           every user map of the path's object
 *   MONITOR/PATH/copy-b/MAP    swap-on-read: copy B's own swap maps
 *   MONITOR/PATH/pivot-progs   swap-on-read: the pivot's PROG_ARRAY, which the kernel would
 *                              empty when its last user-space reference goes
 *   MONITOR/ingress/xdp-prog   the program for the XDP hook: a restarted dynmond replaces it
 *                              there (XDP_FLAGS_REPLACE names the program it replaces by an fd,
 *                              and only CAP_SYS_ADMIN may open one by its id)
 *
 * A '-' never appears in a map name (a C identifier), so these names cannot collide; the bpffs
 * refuses '.' in names, so a monitor's '.' is written "%2e". */
#pragma once

#include <stdbool.h>

#include "config.h"

#define PIN_DEFAULT_DIR "/sys/fs/bpf/dynmon"

struct dm_dataplane;

/* Creates `dir` (and its parents) and checks that it is on a BPF file system: -ENOTTY when it
 * is not (the caller says how to mount one). */
int pin_dir_prepare(const char *dir);

/* The directory of a monitor's pins under `pin_dir`. */
int pin_monitor_dir(const char *pin_dir, const char *monitor, char **ret);

/* The monitor name as a bpffs file name: '.' becomes "%2e" (names never hold '%'). */
char *pin_escape_name(const char *name);

/* An fd of the map pinned for `map_name` of `path` (copy B's with `copy_b`); -ENOENT when none. */
int pin_open_map(const char *mon_dir, enum dm_path path, bool copy_b, const char *map_name);

/* An fd of the program pinned for the XDP hook; -ENOENT when none. */
int pin_open_xdp_prog(const char *mon_dir);

/* Makes the monitor's pins those of `dp`: each one replaced atomically (a rename over the old
 * pin, so that a map stays pinned throughout when it is the same), then the pins `dp` has no
 * more removed. With `dp` NULL, removes everything of the monitor. */
int pin_dataplane(const char *mon_dir, const struct dm_dataplane *dp);
