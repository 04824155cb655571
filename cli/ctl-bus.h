/* SPDX-License-Identifier: Apache-2.0 */
/* dynmonctl's side of the bus: reaching a monitor by its name, and saying why a call failed. */
#pragma once

#include <stdint.h>

#include <systemd/sd-bus.h>

#include "util.h"

#define BUS_NAME "org.polycube.Dynmon"
#define MANAGER_PATH "/org/polycube/Dynmon"
#define MANAGER_IFACE "org.polycube.Dynmon.Manager"
#define MONITOR_IFACE "org.polycube.Dynmon.Monitor"

/* Compiling and verifying injected code can take seconds; sd-bus's default timeout is 25 s. */
#define SLOW_CALL_USEC (120ULL * 1000000ULL)

/* Prints "dynmonctl: <what failed>: <why>" and returns the exit status for the failure. `r` is
 * its negative errno, which tells why when `error` is not set. */
_printf_(3, 4) int log_bus_error(const sd_bus_error *error, int r, const char *fmt, ...);

/* The object path of the monitor named `name`; a missing one is NoSuchMonitor. */
int monitor_path(sd_bus *bus, const char *name, sd_bus_error *error, char **ret);

/* Calls `method` of the monitor named `name` with the arguments `types` describes. */
int monitor_call(sd_bus *bus, const char *name, const char *method, uint64_t usec,
		 sd_bus_error *error, const char *types, ...);

/* A string property of the monitor at `path`. */
int monitor_property(sd_bus *bus, const char *path, const char *property, sd_bus_error *error,
		     char **ret);
