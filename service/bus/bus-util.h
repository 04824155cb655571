/* SPDX-License-Identifier: Apache-2.0 */
/* The edge between logic and bus: named errors out of -errno, and the privilege check. */
#pragma once

#include <systemd/sd-bus.h>

#include "errors.h"

#define DYNMON_BUS_NAME "org.polycube.Dynmon"
#define DYNMON_MANAGER_PATH "/org/polycube/Dynmon"
#define DYNMON_MONITOR_PREFIX "/org/polycube/Dynmon/monitor"
#define DYNMON_MANAGER_INTERFACE "org.polycube.Dynmon.Manager"
#define DYNMON_MONITOR_INTERFACE "org.polycube.Dynmon.Monitor"

/* Turns a logic function's -errno and message into org.polycube.Dynmon.Error.*; returns r.
 * Consumes the message (dm_error_done). */
int bus_set_error(sd_bus_error *ret_error, int r, dm_error *e);

/* 0 when the sender may change things (root, CAP_NET_ADMIN or CAP_BPF), else a
 * PermissionDenied error naming `action`. */
int bus_check_privileged(sd_bus_message *m, const char *action, sd_bus_error *ret_error);
