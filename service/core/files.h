/* SPDX-License-Identifier: Apache-2.0 */
/* Monitors declared in files: DIR/NAME.json (monitors.d, docs/MONITORS-D.md), applied at start
 * and at every reload. The files own the monitors they declare: a reload creates, re-injects
 * (atomically, as an inject does), re-attaches and deletes them to match; monitors made
 * through the API are left alone. A template (an interface list or glob) runs one instance,
 * "NAME:IFNAME", on each matching interface, made as interfaces appear and deleted as they
 * go. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "files-plan.h"

struct manager;
struct file_spec;

#define FILES_DEFAULT_DIR "/etc/dynmon/monitors.d"

/* What went wrong with one file: it changed nothing of its monitors. */
struct files_problem {
	char *file; /* its name in the directory */
	char *message;
};

/* The end of a reload, once every change it started is in (compilations included). */
typedef void (*files_reload_fn)(const struct files_problem *problems, size_t n, void *userdata);

/* Reads the directory again and applies it. A file that cannot be read or parsed, whose
 * monitor cannot be made or changed, is a problem, logged with its name: the monitors it
 * declared stay as they were (as its last good version declared them); the other files
 * apply. `done` (may be NULL) runs on the event loop or before this returns. */
int files_reload(struct manager *m, files_reload_fn done, void *userdata);

/* Link events: an interface appeared (instances of matching templates, monitors waiting for
 * it to be first attached), or is gone or renamed: its instances are deleted unless `ifname`
 * (NULL when gone) is still their interface's name (a renamed interface gets the instance of
 * its new name, if that matches). */
void files_link_appeared(struct manager *m, const char *ifname);
void files_link_gone(struct manager *m, int ifindex, const char *ifname);
/* Notifications were lost: the declarations are applied again against what exists. */
void files_recheck(struct manager *m);

void files_specs_free(struct file_spec *l, size_t n);
