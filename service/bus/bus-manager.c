/* SPDX-License-Identifier: Apache-2.0 */
#include <systemd/sd-bus.h>

#include "build-config.h"
#include "bus-manager.h"
#include "bus-util.h"
#include "files.h"
#include "log.h"
#include "manager.h"
#include "selfmetrics.h"
#include "pcnlog.h"

struct bus_door {
	struct manager *manager;
	sd_bus *bus;
	struct manager_observer observer;
};

struct create_options {
	const char *type;
	const char *config;
	const char *loglevel;
};

/* Reads the a{sv} of CreateMonitor: only known keys, each with its own type. */
static int read_create_options(sd_bus_message *msg, struct create_options *o, sd_bus_error *error)
{
	int r;

	r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		const char *key, **dest;

		r = sd_bus_message_read(msg, "s", &key);
		if (r < 0)
			return r;
		if (streq(key, "type"))
			dest = &o->type;
		else if (streq(key, "config"))
			dest = &o->config;
		else if (streq(key, "loglevel"))
			dest = &o->loglevel;
		else
			return sd_bus_error_setf(
			    error, DM_ERROR_PREFIX "InvalidArgument",
			    "Unknown option \"%s\" (known: type, config, loglevel).", key);
		r = sd_bus_message_read(msg, "v", "s", dest);
		if (r < 0)
			return sd_bus_error_setf(error, DM_ERROR_PREFIX "InvalidArgument",
						 "Option \"%s\" must be a string.", key);
		r = sd_bus_message_exit_container(msg);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

static int reply_monitor_path(sd_bus_message *msg, const void *arg)
{
	const struct monitor *mon = arg;
	_cleanup_free_ char *path = NULL;
	int r;

	r = bus_monitor_path(mon->name, &path);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "o", path);
}

static void on_created_reply(struct monitor *mon, int r, dm_error *e, void *userdata)
{
	bus_reply_deferred(userdata, r, e, reply_monitor_path, mon);
}

static int method_create_monitor(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	struct create_options o = {};
	dm_error e = DM_ERROR_NULL;
	struct monitor *mon;
	const char *name;
	int mode = DM_MODE_TC, level = DYNMON_LOG_OFF, r;

	r = sd_bus_message_read(msg, "s", &name);
	if (r < 0)
		return r;
	r = read_create_options(msg, &o, error);
	if (r < 0)
		return r;
	r = bus_verify_polkit_async(msg, o.config ? DYNMON_ACTION_INJECT : DYNMON_ACTION_MANAGE,
				    "create monitors", error);
	if (r < 0)
		return r;
	if (r == 0)
		return 1; /* polkit asked: dispatched again with its answer */
	if (o.type && (mode = dm_mode_parse(o.type, &e)) < 0)
		return bus_set_error(error, mode, &e);
	if (o.loglevel && (level = pcnlog_level_parse(o.loglevel, &e)) < 0)
		return bus_set_error(error, level, &e);
	/* With a configuration, answered when its compilation ends. */
	r = manager_create_monitor(m, name, mode, level, o.config, on_created_reply,
				   sd_bus_message_ref(msg), &mon, &e);
	if (r != 0)
		sd_bus_message_unref(msg);
	if (r < 0)
		return bus_set_error(error, r, &e);
	return r == 0 ? 1 : reply_monitor_path(msg, mon);
}

static int method_delete_monitor(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	dm_error e = DM_ERROR_NULL;
	const char *name;
	int r;

	r = sd_bus_message_read(msg, "s", &name);
	if (r < 0)
		return r;
	r = bus_verify_polkit_async(msg, DYNMON_ACTION_MANAGE, "delete monitors", error);
	if (r < 0)
		return r;
	if (r == 0)
		return 1; /* polkit asked: dispatched again with its answer */
	r = manager_delete_monitor(m, name, &e);
	if (r < 0)
		return bus_set_error(error, r, &e);
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_get_monitor(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	dm_error e = DM_ERROR_NULL;
	struct monitor *mon;
	const char *name;
	int r;

	r = sd_bus_message_read(msg, "s", &name);
	if (r < 0)
		return r;
	r = manager_get_monitor(m, name, &mon, &e);
	if (r < 0)
		return bus_set_error(error, r, &e);
	return reply_monitor_path(msg, mon);
}

static int method_list_monitors(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(msg, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(reply, 'a', "(so)");
	for (size_t i = 0; r >= 0 && i < m->n_monitors; i++) {
		_cleanup_free_ char *path = NULL;

		r = bus_monitor_path(m->monitors[i]->name, &path);
		if (r >= 0)
			r = sd_bus_message_append(reply, "(so)", m->monitors[i]->name, path);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

/* Reload's reply, once every change the files asked for is in: the problems, by file. */
static void on_reloaded(const struct files_problem *p, size_t n, void *userdata)
{
	sd_bus_message *msg = userdata, *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(msg, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(ss)");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = sd_bus_message_append(reply, "(ss)", p[i].file, p[i].message);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	if (r < 0)
		log_warning_errno(r, "Cannot answer Reload: %m");
	sd_bus_message_unref(reply);
	sd_bus_message_unref(msg);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	int r;

	r = bus_verify_polkit_async(msg, DYNMON_ACTION_MANAGE, "reload the monitors' files", error);
	if (r <= 0)
		return r < 0 ? r : 1;
	r = files_reload(userdata, on_reloaded, sd_bus_message_ref(msg));
	if (r < 0) {
		sd_bus_message_unref(msg);
		return r;
	}
	return 1;
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
				const char *property, sd_bus_message *reply, void *userdata,
				sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", DYNMON_VERSION);
}

/* dynmon's own metrics, gathered at every Get (selfmetrics.h). */
static int property_get_self_metrics(sd_bus *bus, const char *path, const char *interface,
				     const char *property, sd_bus_message *reply, void *userdata,
				     sd_bus_error *error)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = selfmetrics_document(userdata, &text);
	if (r < 0)
		return r;
	return sd_bus_message_append(reply, "s", text);
}

static const sd_bus_vtable manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("SelfMetrics", "s", property_get_self_metrics, 0, 0),
    SD_BUS_METHOD_WITH_NAMES("CreateMonitor", "sa{sv}", SD_BUS_PARAM(name) SD_BUS_PARAM(options),
			     "o", SD_BUS_PARAM(monitor), method_create_monitor,
			     SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("DeleteMonitor", "s", SD_BUS_PARAM(name), "", , method_delete_monitor,
			     SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("GetMonitor", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(monitor),
			     method_get_monitor, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("ListMonitors", "", , "a(so)", SD_BUS_PARAM(monitors),
			     method_list_monitors, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Reload", "", , "a(ss)", SD_BUS_PARAM(problems), method_reload,
			     SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

static void on_added(struct monitor *mon, void *userdata)
{
	struct bus_door *d = userdata;

	bus_monitor_emit_added(d->bus, mon);
}

static void on_removed(struct monitor *mon, void *userdata)
{
	struct bus_door *d = userdata;

	bus_monitor_emit_removed(d->bus, mon);
}

static void on_changed(struct monitor *mon, unsigned changes, void *userdata)
{
	struct bus_door *d = userdata;

	bus_monitor_emit_changed(d->bus, mon, changes);
}

static int bus_add_manager_object(struct bus_door *d)
{
	int r;

	r = sd_bus_add_object_vtable(d->bus, NULL, DYNMON_MANAGER_PATH, DYNMON_MANAGER_INTERFACE,
				     manager_vtable, d->manager);
	if (r < 0)
		return log_error_errno(r, "Failed to publish the manager object: %m");
	r = sd_bus_add_object_manager(d->bus, NULL, DYNMON_MANAGER_PATH);
	if (r < 0)
		return log_error_errno(r, "Failed to add the object manager: %m");
	return 0;
}

int bus_door_new(struct manager *m, struct bus_door **ret)
{
	_cleanup_(bus_door_freep) struct bus_door *d = NULL;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return log_oom();
	d->manager = m;
	d->observer = (struct manager_observer){
	    .added = on_added,
	    .removed = on_removed,
	    .changed = on_changed,
	    .userdata = d,
	};
	/* sd_bus_open_system() honours DBUS_SYSTEM_BUS_ADDRESS: tests point it at their own bus. */
	r = sd_bus_open_system(&d->bus);
	if (r < 0)
		return log_error_errno(r, "Failed to connect to the system bus: %m");
	r = bus_add_manager_object(d);
	if (r < 0)
		return r;
	r = bus_monitor_register(d->bus, m);
	if (r < 0)
		return r;
	r = sd_bus_request_name(d->bus, DYNMON_BUS_NAME, 0);
	if (r < 0)
		return log_error_errno(r, "Failed to acquire the bus name %s: %m", DYNMON_BUS_NAME);
	r = sd_bus_attach_event(d->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
	r = manager_add_observer(m, &d->observer);
	if (r < 0)
		return log_oom();
	*ret = TAKE_PTR(d);
	return 0;
}

void bus_door_free(struct bus_door *d)
{
	if (!d)
		return;
	manager_remove_observer(d->manager, &d->observer);
	bus_polkit_flush();
	sd_bus_flush_close_unref(d->bus);
	free(d);
}
