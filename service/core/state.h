/* SPDX-License-Identifier: Apache-2.0 */
/* The monitors as saved in the state directory, so that a restarted dynmond brings them back:
 * one JSON file, STATE_DIR/monitors.json, replaced atomically at every change. No kernel here:
 * the manager turns monitors into these records and back. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc.h"
#include "util.h"

#define STATE_FILE "monitors.json"
#define STATE_DEFAULT_DIR "/var/lib/dynmon"

struct state_monitor {
	char *name;
	char *type;	/* "TC", "XDP_SKB", "XDP_DRV" */
	char *loglevel; /* "OFF", ..., "TRACE" */
	json_t *config; /* the normalized dataplane configuration; NULL when nothing is injected */
	char *ifname;	/* the interface attached to, or awaited; NULL when detached */
	bool clsact_created; /* dynmon added the interface's clsact qdisc */
	/* Per path: where our tc filter is, and the id of the program it runs (0 unknown). */
	struct tc_slot tc[_DM_PATH_MAX];
	uint32_t tc_prog_id[_DM_PATH_MAX];
	bool tc_legacy; /* saved before dynmon recorded them: at its fixed place, ours */
	uint32_t rank;	/* its place among the interface's monitors (chain.h); 0: none */
	/* Declared in monitors.d (files.h): the file, the template, the place asked for. Kept so
	 * that a restarted dynmond adopts it (counts and all) and its file still owns it. */
	char *source_file, *template_name, *file_place;
};

void state_monitor_done(struct state_monitor *s);
void state_monitors_free(struct state_monitor *l, size_t n);

/* $STATE_DIRECTORY's first entry (systemd's StateDirectory=), else STATE_DEFAULT_DIR. */
char *state_default_dir(void);

/* Creates the directory if it is missing (not its parents), and removes the temporary files
 * of a save a crash interrupted. */
int state_dir_prepare(const char *dir);

/* Writes DIR/monitors.json: a temporary file in DIR, synced, renamed over the old one, so that
 * a crash at any moment leaves the old file or the new one, whole. */
int state_save(const char *dir, const struct state_monitor *monitors, size_t n);

/* Reads DIR/monitors.json; no file is no monitors. A file that cannot be read or parsed is set
 * aside as monitors.json.broken-<unix time> (never overwritten: the next save starts anew) and
 * said so in the log; each entry that is broken is logged and skipped: the other entries come
 * back all the same. Fails when the unreadable file cannot be set aside (then nothing may be
 * saved over it), or for lack of memory. */
int state_load(const char *dir, struct state_monitor **ret, size_t *ret_n);

/* The JSON document of the file, and back (the same rules as state_load; -EBADMSG for a
 * document that is not a version 1 state file). */
json_t *state_to_json(const struct state_monitor *monitors, size_t n);
int state_from_json(json_t *root, struct state_monitor **ret, size_t *ret_n);
