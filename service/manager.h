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
struct link_watch;
struct rest_server;

struct manager_options {
	const char *bpf_include_dir;
	unsigned compile_timeout_sec;
	const char *state_dir; /* NULL: $STATE_DIRECTORY, else /var/lib/dynmon (state.h) */
	const char *pin_dir;   /* NULL: PIN_DEFAULT_DIR (pin.h); must be on a bpffs */
	const char *rest_address; /* NULL: REST_DEFAULT_ADDRESS (rest.h); "none": no REST */
	bool rest_allow_writes;   /* POST, PUT and DELETE over HTTP */
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

	char *state_dir;          /* where the monitors are saved (state.h) */
	char *pin_dir;            /* where their maps are pinned (pin.h) */
	bool restored;            /* the saved monitors are back: saving may begin */
	struct link_watch *links; /* interfaces that come and go (link.h) */
	struct rest_server *rest; /* the REST API (rest.h); NULL when off */
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

/* Saves every monitor in the state directory; called after every change. A failure is logged:
 * what was asked happened all the same. */
void manager_save_state(struct manager *m);

/* What every change to a monitor ends in, whoever made it (D-Bus, REST, a link event): the
 * state is saved and the bus tells watchers which properties changed (a NULL-terminated list). */
void manager_monitor_changed(struct manager *m, struct monitor *mon, ...) _sentinel_;
