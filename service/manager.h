/* SPDX-License-Identifier: Apache-2.0 */
/* The one owner: event loop, bus, netlink socket, compiler settings and the monitors. */
#pragma once

#include <systemd/sd-event.h>

#include "compile.h"
#include "monitor.h"

typedef struct sd_bus sd_bus;
struct nl_sock;
struct dm_grace;
struct dm_worker;

struct manager_options {
	const char *bpf_include_dir;
	unsigned compile_timeout_sec;
};

struct manager {
	sd_event *event;
	sd_bus *bus;
	struct nl_sock *nl;
	struct dm_compiler compiler;
	struct dm_grace *grace;   /* swap-on-read's wait for a grace period */
	struct dm_worker *worker; /* where swap-on-read waits for it */

	struct monitor **monitors; /* sorted by name */
	size_t n_monitors;
};

int manager_new(const struct manager_options *o, struct manager **ret);
void manager_free(struct manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct manager *, manager_free);

/* Creates a monitor at pcn_log level `log_level`; with `config`, injects it first (nothing is created if that fails). */
int manager_create_monitor(struct manager *m, const char *name, enum dm_mode mode, int log_level,
			   const char *config, struct monitor **ret, dm_error *error);
int manager_delete_monitor(struct manager *m, const char *name, dm_error *error);

struct monitor *manager_find_monitor(struct manager *m, const char *name);
struct monitor *manager_find_monitor_by_ifindex(struct manager *m, int ifindex);
/* Like manager_find_monitor, with the NoSuchMonitor error. */
int manager_get_monitor(struct manager *m, const char *name, struct monitor **ret,
			dm_error *error);

int manager_run(struct manager *m);
