/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor objects: one per monitor, served from one fallback vtable. */
#include <systemd/sd-bus.h>

#include "bus-manager.h"
#include "bus-util.h"
#include "log.h"
#include "manager.h"
#include "pcnlog.h"
#include "readout.h"

int bus_monitor_path(const char *name, char **ret)
{
	return sd_bus_path_encode(DYNMON_MONITOR_PREFIX, name, ret);
}

static int monitor_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
			       void **found, sd_bus_error *error)
{
	_cleanup_free_ char *name = NULL;
	struct monitor *mon;
	int r;

	r = sd_bus_path_decode(path, DYNMON_MONITOR_PREFIX, &name);
	if (r <= 0)
		return r;
	mon = manager_find_monitor(userdata, name);
	if (!mon)
		return 0;
	*found = mon;
	return 1;
}

static int monitor_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes,
				   sd_bus_error *error)
{
	struct manager *m = userdata;
	char **l = calloc(m->n_monitors + 1, sizeof(char *));
	int r;

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_monitors; i++) {
		r = bus_monitor_path(m->monitors[i]->name, &l[i]);
		if (r < 0) {
			for (size_t j = 0; j < i; j++)
				free(l[j]);
			free(l);
			return r;
		}
	}
	*nodes = l;
	return 0;
}

/* The properties that each change touches, in the order they are sent. */
static const struct {
	unsigned change;
	const char *property;
} changed_properties[] = {
    {MONITOR_CHANGED_CONFIG, "Config"},
    {MONITOR_CHANGED_LOG_LEVEL, "LogLevel"},
    {MONITOR_CHANGED_INTERFACE, "Interface"},
    {MONITOR_CHANGED_STATE, "State"},
};

void bus_monitor_emit_changed(sd_bus *bus, struct monitor *mon, unsigned changes)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = bus_monitor_path(mon->name, &path);
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(changed_properties); i++)
		if (changes & changed_properties[i].change)
			r = sd_bus_emit_properties_changed(bus, path, DYNMON_MONITOR_INTERFACE,
							   changed_properties[i].property, NULL);
	if (r < 0)
		log_debug_errno(r, "Failed to emit PropertiesChanged for %s, ignoring: %m",
				mon->name);
}

void bus_monitor_emit_added(sd_bus *bus, struct monitor *mon)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = bus_monitor_path(mon->name, &path);
	if (r >= 0)
		r = sd_bus_emit_object_added(bus, path);
	if (r < 0)
		log_debug_errno(r, "Failed to emit InterfacesAdded for %s, ignoring: %m",
				mon->name);
}

void bus_monitor_emit_removed(sd_bus *bus, struct monitor *mon)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = bus_monitor_path(mon->name, &path);
	if (r >= 0)
		r = sd_bus_emit_object_removed(bus, path);
	if (r < 0)
		log_debug_errno(r, "Failed to emit InterfacesRemoved for %s, ignoring: %m",
				mon->name);
}

/* Runs a logic call's result out as a reply or a named error. */
static int reply(sd_bus_message *msg, int r, dm_error *e, sd_bus_error *error)
{
	if (r < 0)
		return bus_set_error(error, r, e);
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_inject(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct monitor *mon = userdata;
	dm_error e = DM_ERROR_NULL;
	const char *config;
	int r;

	r = sd_bus_message_read(msg, "s", &config);
	if (r < 0)
		return r;
	r = bus_check_privileged(msg, "inject code", error);
	if (r < 0)
		return r;
	r = monitor_inject(mon, config, &e);
	return reply(msg, r, &e, error);
}

static int method_attach(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct monitor *mon = userdata;
	dm_error e = DM_ERROR_NULL;
	const char *ifname;
	int r;

	r = sd_bus_message_read(msg, "s", &ifname);
	if (r < 0)
		return r;
	r = bus_check_privileged(msg, "attach monitors", error);
	if (r < 0)
		return r;
	r = monitor_attach(mon, ifname, &e);
	return reply(msg, r, &e, error);
}

static int method_detach(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct monitor *mon = userdata;
	dm_error e = DM_ERROR_NULL;
	int r;

	r = bus_check_privileged(msg, "detach monitors", error);
	if (r < 0)
		return r;
	r = monitor_detach(mon, &e);
	return reply(msg, r, &e, error);
}

static int property_get_name(sd_bus *bus, const char *path, const char *interface,
			     const char *property, sd_bus_message *reply, void *userdata,
			     sd_bus_error *error)
{
	struct monitor *mon = userdata;

	return sd_bus_message_append(reply, "s", mon->name);
}

static int property_get_interface(sd_bus *bus, const char *path, const char *interface,
				  const char *property, sd_bus_message *reply, void *userdata,
				  sd_bus_error *error)
{
	struct monitor *mon = userdata;

	return sd_bus_message_append(reply, "s", strempty(mon->ifname));
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface,
			      const char *property, sd_bus_message *reply, void *userdata,
			      sd_bus_error *error)
{
	struct monitor *mon = userdata;

	return sd_bus_message_append(reply, "s", monitor_state_to_string(monitor_get_state(mon)));
}

static int property_get_mode(sd_bus *bus, const char *path, const char *interface,
			     const char *property, sd_bus_message *reply, void *userdata,
			     sd_bus_error *error)
{
	struct monitor *mon = userdata;

	return sd_bus_message_append(reply, "s", dm_mode_to_string(mon->mode));
}

static int property_get_log_level(sd_bus *bus, const char *path, const char *interface,
				  const char *property, sd_bus_message *reply, void *userdata,
				  sd_bus_error *error)
{
	struct monitor *mon = userdata;

	return sd_bus_message_append(reply, "s", pcnlog_level_to_string(mon->log_level));
}

static int property_set_log_level(sd_bus *bus, const char *path, const char *interface,
				  const char *property, sd_bus_message *value, void *userdata,
				  sd_bus_error *error)
{
	struct monitor *mon = userdata;
	dm_error e = DM_ERROR_NULL;
	const char *s;
	int level, r;

	r = bus_check_privileged(sd_bus_get_current_message(bus), "change the log level", error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(value, "s", &s);
	if (r < 0)
		return r;
	level = pcnlog_level_from_string(s);
	if (level < 0)
		return sd_bus_error_setf(
		    error, DM_ERROR_PREFIX "InvalidArgument",
		    "Unknown log level \"%s\" (known: OFF, CRITICAL, ERR, WARN, "
		    "INFO, DEBUG, TRACE).",
		    s);
	r = monitor_set_log_level(mon, level, &e);
	if (r < 0)
		return bus_set_error(error, r, &e);
	return 0;
}

static int append_json(sd_bus_message *reply, json_t *j)
{
	_cleanup_free_ char *s = NULL;

	if (!j)
		return -ENOMEM;
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return -ENOMEM;
	return sd_bus_message_append(reply, "s", s);
}

static int property_get_config(sd_bus *bus, const char *path, const char *interface,
			       const char *property, sd_bus_message *reply, void *userdata,
			       sd_bus_error *error)
{
	return append_json(reply, monitor_config_json(userdata));
}

/* The Metrics document as the property's string: streamed into it, the one copy of the maps
 * a read makes. From the monitor (`mon`), or from the swap just done (`dp`, `sr`). */
static int metrics_text(struct monitor *mon, const struct dm_dataplane *dp, struct dm_swap_read *sr,
			char **ret, dm_error *e)
{
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	int r;

	r = jsonw_new(NULL, &w);
	if (r < 0)
		return r;
	if (mon)
		r = monitor_write_metrics_json(mon, NULL, w, e);
	else
		r = dm_readout_write_json(dp, sr, NULL, w, e);
	if (r < 0)
		return r;
	return jsonw_take_string(w, ret, NULL);
}

static int property_get_metrics(sd_bus *bus, const char *path, const char *interface,
				const char *property, sd_bus_message *reply, void *userdata,
				sd_bus_error *error)
{
	dm_error e = DM_ERROR_NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	r = metrics_text(userdata, NULL, NULL, &text, &e);
	if (r < 0)
		return bus_set_error(error, r, &e);
	return sd_bus_message_append(reply, "s", text);
}

static int property_get_openmetrics(sd_bus *bus, const char *path, const char *interface,
				    const char *property, sd_bus_message *reply, void *userdata,
				    sd_bus_error *error)
{
	dm_error e = DM_ERROR_NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	r = monitor_openmetrics(userdata, &text, &e);
	if (r < 0)
		return bus_set_error(error, r, &e);
	return sd_bus_message_append(reply, "s", text);
}

/* Swap-on-read waits a grace period for the kernel. A property getter must answer at once, so
 * for monitors that swap, a filter takes Properties.Get of Metrics and OpenMetrics first and
 * answers when the worker is done: the event loop serves other callers meanwhile. */
struct pending_get {
	sd_bus_message *call;
	bool openmetrics;
};

static int reply_read(sd_bus_message *call, bool openmetrics, const struct dm_dataplane *dp,
		      struct dm_swap_read *sr)
{
	dm_error e = DM_ERROR_NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	if (openmetrics)
		r = openmetrics_document(dp, sr, &text, &e);
	else
		r = metrics_text(NULL, dp, sr, &text, &e);
	if (r < 0) {
		_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

		bus_set_error(&error, r, &e);
		return sd_bus_reply_method_error(call, &error);
	}
	return sd_bus_reply_method_return(call, "v", "s", text);
}

static void on_swap_read(struct dm_dataplane *dp, struct dm_swap_read *sr, int r, void *userdata)
{
	struct pending_get *pg = userdata;

	if (r < 0)
		r = sd_bus_reply_method_errorf(pg->call, DM_ERROR_PREFIX "Failed",
					       "Swap-on-read failed: %s", strerror(-r));
	else
		r = reply_read(pg->call, pg->openmetrics, dp, sr);
	if (r < 0)
		log_debug_errno(r, "Failed to answer a metrics read, ignoring: %m");
	sd_bus_message_unref(pg->call);
	free(pg);
}

static int filter_swap_reads(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct monitor *mon = NULL;
	struct pending_get *pg;
	const char *interface, *property;
	int r;

	if (!sd_bus_message_is_method_call(msg, "org.freedesktop.DBus.Properties", "Get") ||
	    monitor_object_find(NULL, sd_bus_message_get_path(msg), NULL, userdata, (void **)&mon,
				NULL) <= 0 ||
	    !monitor_reads_with_swap(mon))
		return 0;
	r = sd_bus_message_read(msg, "ss", &interface, &property);
	(void)sd_bus_message_rewind(msg, true);
	if (r < 0 || !streq(interface, DYNMON_MONITOR_INTERFACE) ||
	    (!streq(property, "Metrics") && !streq(property, "OpenMetrics")))
		return 0;

	pg = calloc(1, sizeof(*pg));
	if (!pg)
		return -ENOMEM;
	pg->call = sd_bus_message_ref(msg);
	pg->openmetrics = streq(property, "OpenMetrics");
	r = monitor_read_async(mon, pg->openmetrics, on_swap_read, pg);
	if (r < 0) {
		sd_bus_message_unref(pg->call);
		free(pg);
		return 0; /* the getter answers, blocking */
	}
	return 1;
}

static const sd_bus_vtable monitor_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Interface", "s", property_get_interface, 0,
		    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Mode", "s", property_get_mode, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Config", "s", property_get_config, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_WRITABLE_PROPERTY("LogLevel", "s", property_get_log_level, property_set_log_level, 0,
			     SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("Metrics", "s", property_get_metrics, 0, 0),
    SD_BUS_PROPERTY("OpenMetrics", "s", property_get_openmetrics, 0, 0),
    SD_BUS_METHOD_WITH_NAMES("Inject", "s", SD_BUS_PARAM(config), "", , method_inject,
			     SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Attach", "s", SD_BUS_PARAM(interface), "", , method_attach,
			     SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Detach", "", "", method_detach, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

int bus_monitor_register(sd_bus *bus, struct manager *m)
{
	int r;

	r = sd_bus_add_fallback_vtable(bus, NULL, DYNMON_MONITOR_PREFIX, DYNMON_MONITOR_INTERFACE,
				       monitor_vtable, monitor_object_find, m);
	if (r < 0)
		return log_error_errno(r, "Failed to publish the monitor objects: %m");
	r = sd_bus_add_node_enumerator(bus, NULL, DYNMON_MONITOR_PREFIX, monitor_node_enumerator,
				       m);
	if (r < 0)
		return log_error_errno(r, "Failed to add the monitor enumerator: %m");
	r = sd_bus_add_filter(bus, NULL, filter_swap_reads, m);
	if (r < 0)
		return log_error_errno(r, "Failed to add the swap-on-read filter: %m");
	return 0;
}
