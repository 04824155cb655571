/* SPDX-License-Identifier: Apache-2.0 */
/* D-Bus glue: connects, publishes the manager and monitor objects, takes the bus name. */
#pragma once

struct manager;
struct monitor;

int bus_manager_setup(struct manager *m);
void bus_manager_done(struct manager *m);

/* From bus-monitor.c. */
int bus_monitor_register(struct manager *m);
int bus_monitor_path(const char *name, char **ret);
void bus_monitor_emit_added(struct manager *m, struct monitor *mon);
void bus_monitor_emit_removed(struct manager *m, struct monitor *mon);
void bus_monitor_emit_changed(struct monitor *mon, const char *property);
