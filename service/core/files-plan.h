/* SPDX-License-Identifier: Apache-2.0 */
/* What a reload of monitors.d does to one monitor: the difference between what its file wants
 * and what runs, as a set of actions (files.h carries them out). Pure: no kernel here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What a file wants of one monitor (a template: of one instance). */
struct files_want {
	int mode;	    /* enum dm_mode */
	int log_level;	    /* enum dynmon_log_level */
	const char *config; /* the normalized configuration, compact JSON with sorted keys */
	const char *ifname;
	bool if_exists;	   /* the interface is there now */
	const char *place; /* "auto", "first", "last", "before:X", "after:X" */
};

/* What runs under that name. */
struct files_have {
	bool exists;
	bool from_file; /* declared in a file (not made through the API) */
	bool creating;	/* being created: its first dataplane is compiling */
	bool busy;	/* a dataplane is being compiled for it */
	int mode;
	int log_level;
	const char *config;
	const char *ifname; /* attached to or waiting for; NULL: detached */
	const char *place;
};

enum files_action {
	FILES_CREATE = 1u << 0,	  /* then attach */
	FILES_RECREATE = 1u << 1, /* delete and create: the type changed */
	FILES_INJECT = 1u << 2,	  /* the configuration (and perhaps the level) changed */
	FILES_LOG_LEVEL = 1u << 3,
	FILES_REATTACH = 1u << 4, /* detach, then attach where wanted if the interface is there */
	FILES_CONFLICT = 1u << 5, /* the name is a monitor of the API's: the file is refused */
	FILES_BUSY = 1u << 6,	  /* a compilation is under way: try at the next reload */
};

/* The actions turning `have` into `want`; 0: nothing to do. */
unsigned files_plan(const struct files_want *want, const struct files_have *have);

/* "NAME:IFNAME", an instance of template NAME (':' is in no interface name). */
char *files_instance_name(const char *template_name, const char *ifname);

/* Whether `ifname` matches one of the patterns (fnmatch(3) globs; a plain name matches only
 * itself). */
bool files_patterns_match(char *const *patterns, const char *ifname);
