/* SPDX-License-Identifier: Apache-2.0 */
/* Every error a caller of dynmon can see: one negative errno inside, one name at the edge. */
#pragma once

#include <stdarg.h>

#include "util.h"

#define DM_ERROR_PREFIX "org.polycube.Dynmon.Error."

/* What a logic function tells beyond its -errno: a message a person can act on. */
typedef struct dm_error {
	char *message;
} dm_error;

#define DM_ERROR_NULL ((dm_error){NULL})

/* Records the message (the first one set wins: it is the closest to the cause) and returns
 * `r`, which must be a negative errno. `e` may be NULL. */
int dm_error_set(dm_error *e, int r, const char *fmt, ...) _printf_(3, 4);
void dm_error_done(dm_error *e);

/* Records "PREFIX: MESSAGE", or "MESSAGE" when `prefix` is NULL, and returns `r`; -ENOMEM
 * (with "Out of memory") when the message cannot be made. */
int dm_error_setv_prefixed(dm_error *e, int r, const char *prefix, const char *fmt, va_list ap)
    _printf_(4, 0);

/* dm_error_set(e, -ENOMEM, "Out of memory"): returns -ENOMEM. */
int dm_error_oom(dm_error *e);

struct dm_error_entry {
	int errnum;
	const char *name; /* without DM_ERROR_PREFIX */
	int http_status;
	const char *meaning;
};

/* The one table of named errors; docs and tests read it through dynmond --list-errors. */
extern const struct dm_error_entry dm_error_table[];
extern const size_t dm_error_table_size;

/* The entry for -errno `r` (or `r`), the catch-all "Failed" entry when it has none of its own. */
const struct dm_error_entry *dm_error_lookup(int r);
