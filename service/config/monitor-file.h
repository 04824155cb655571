/* SPDX-License-Identifier: Apache-2.0 */
/* A monitor declared in a file of monitors.d (docs/MONITORS-D.md): one JSON object per file,
 * parsed as strictly as a dataplane configuration (an unknown member is an error naming it).
 * Pure: the core resolves what this leaves as text (type, log level, position, the
 * dataplane file) and reads the files. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "errors.h"

struct dm_monitor_file {
	char *name;	      /* the "name" member, else the file's name without ".json" */
	char *type;	      /* NULL: TC */
	char **interfaces;    /* NULL-terminated; one name, or patterns */
	bool is_template;     /* a list or a glob: one instance per matching interface */
	char *position;	      /* auto, first, last; NULL: auto */
	char *before, *after; /* the monitor named, as AttachWithOptions' options */
	char *loglevel;	      /* NULL: OFF */
	json_t *config;	      /* "dataplane-config", or NULL */
	char *config_file;    /* "dataplane-file", or NULL: exactly one of the two is set */
};

void dm_monitor_file_done(struct dm_monitor_file *f);

/* Parses the text of `filename` (its base name, ending in ".json"). On error nothing is left
 * to free and the message names the member at fault. */
int dm_monitor_file_parse(const char *text, const char *filename, struct dm_monitor_file *ret,
			  dm_error *error);

/* Whether an interface name holds glob characters (fnmatch(3)'s *, ? and [). */
bool dm_interface_is_pattern(const char *s);
