/* SPDX-License-Identifier: Apache-2.0 */
/* The D-Bus door: connects, publishes the manager and monitor objects, takes the bus name, and
 * tells watchers of every change the core reports. */
#pragma once

#include <systemd/sd-bus.h>

#include "util.h"

struct bus_door;
struct manager;
struct monitor;

/* Opens the door on the system bus (DBUS_SYSTEM_BUS_ADDRESS honoured), on m's event loop. */
int bus_door_new(struct manager *m, struct bus_door **ret);
/* Flushes what is queued and closes. NULL allowed. */
void bus_door_free(struct bus_door *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct bus_door *, bus_door_free);

/* From bus-monitor.c. */
int bus_monitor_register(sd_bus *bus, struct manager *m);
int bus_monitor_path(const char *name, char **ret);
void bus_monitor_emit_added(sd_bus *bus, struct monitor *mon);
void bus_monitor_emit_removed(sd_bus *bus, struct monitor *mon);
void bus_monitor_emit_changed(sd_bus *bus, struct monitor *mon, unsigned changes);
