/* SPDX-License-Identifier: Apache-2.0 */
/* The exit statuses of dynmonctl and dynmon-injector, as their --help documents them, and the
 * one table that says which error ends in which. */
#pragma once

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_REJECTED = 3,
	EXIT_NOT_FOUND = 4,
	EXIT_DENIED = 5,
	EXIT_UNREACHABLE = 6,
	EXIT_CONFLICT = 7,
};

/* The exit status of an error named `name` (dynmond's or the bus's), `fallback` when the table
 * has none for it (or `name` is NULL). */
int exit_status_for_error(const char *name, int fallback);

/* Prints "PROGRAM: MESSAGE" and where to find help on stderr; returns EXIT_USAGE. */
int log_usage_error_of(const char *program, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
