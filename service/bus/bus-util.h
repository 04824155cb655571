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

/* The polkit actions (data/org.polycube.dynmon.policy). */
#define DYNMON_ACTION_MANAGE "org.polycube.dynmon.manage"
#define DYNMON_ACTION_INJECT "org.polycube.dynmon.inject"

/* Turns a logic function's -errno and message into org.polycube.Dynmon.Error.*; returns r.
 * Consumes the message (dm_error_done). */
int bus_set_error(sd_bus_error *ret_error, int r, dm_error *e);

/* Answers `call` once the work it waited for (a compilation) has ended: with r's named error, or
 * else with ok(call, arg) (an empty return when ok is NULL). Takes over the reference to call (a
 * NULL call, when nobody waits for an answer, is fine); a failure to answer is only logged. */
void bus_reply_deferred(sd_bus_message *call, int r, dm_error *e,
			int (*ok)(sd_bus_message *call, const void *arg), const void *arg);

/* May the sender of method call m do `action` (`what`, in words, for the error)?
 *   1   yes: root, a capability the bus vouches for, or polkit said yes to this very call;
 *   0   polkit was asked; m will be dispatched again with the answer, so the handler returns 1
 *       and replies nothing now (it runs again from the top, and this call then decides);
 *   <0  no, ret_error set (PermissionDenied, or InteractiveAuthorizationRequired when polkit
 *       would ask for a password and the caller did not allow interaction).
 * Asynchronous like systemd's bus_verify_polkit_async(): the event loop never waits for polkit.
 * With no polkit on the bus, only root passes. A handler asks about one action per call. */
int bus_verify_polkit_async(sd_bus_message *m, const char *action, const char *what,
			    sd_bus_error *ret_error);

/* Forgets the questions in flight (the bus is closing). */
void bus_polkit_flush(void);
