/* SPDX-License-Identifier: Apache-2.0 */
/* The monitor objects: one per monitor, served from one fallback vtable. */
#include <systemd/sd-bus.h>

#include "bus-manager.h"
#include "bus-util.h"
#include "log.h"
#include "manager.h"
#include "pcnlog.h"

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

/* InterfacesAdded (added) or InterfacesRemoved of a monitor's object. */
static void emit_object(sd_bus *bus, struct monitor *mon, bool added)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = bus_monitor_path(mon->name, &path);
	if (r >= 0)
		r = added ? sd_bus_emit_object_added(bus, path)
			  : sd_bus_emit_object_removed(bus, path);
	if (r < 0)
		log_debug_errno(r, "Failed to emit Interfaces%s for %s, ignoring: %m",
				added ? "Added" : "Removed", mon->name);
}

void bus_monitor_emit_added(sd_bus *bus, struct monitor *mon)
{
	emit_object(bus, mon, true);
}

void bus_monitor_emit_removed(sd_bus *bus, struct monitor *mon)
{
	emit_object(bus, mon, false);
}

/* Runs a logic call's result out as a reply or a named error. */
static int reply(sd_bus_message *msg, int r, dm_error *e, sd_bus_error *error)
{
	if (r < 0)
		return bus_set_error(error, r, e);
	return sd_bus_reply_method_return(msg, NULL);
}

/* The answer to a call that waited for a compilation; drops the call's reference. */
static void on_compiled_reply(struct monitor *mon, int r, dm_error *e, void *userdata)
{
	bus_reply_deferred(userdata, r, e, NULL, NULL);
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
	r = bus_verify_polkit_async(msg, DYNMON_ACTION_INJECT, "inject code", error);
	if (r < 0)
		return r;
	if (r == 0)
		return 1; /* polkit asked: dispatched again with its answer */
	/* Answered when the compilation ends; the loop serves everyone else meanwhile. */
	r = monitor_inject(mon, config, on_compiled_reply, sd_bus_message_ref(msg), &e);
	if (r < 0) {
		sd_bus_message_unref(msg);
		return bus_set_error(error, r, &e);
	}
	return 1;
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
	r = bus_verify_polkit_async(msg, DYNMON_ACTION_MANAGE, "attach monitors", error);
	if (r < 0)
		return r;
	if (r == 0)
		return 1; /* polkit asked: dispatched again with its answer */
	r = monitor_attach(mon, ifname, NULL, &e);
	return reply(msg, r, &e, error);
}

/* a{sv}: "position" (auto, first, last), "before" or "after" (a monitor's name), each a string;
 * polycubed's rules combine them. Unknown keys are refused: a typo must not pass for auto. */
static int read_attach_options(sd_bus_message *msg, char **strs, dm_error *e)
{
	static const char *const keys[] = {"position", "before", "after"};
	const char *key, *value;
	int r;

	r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		size_t k = 0;

		r = sd_bus_message_read(msg, "s", &key);
		while (r >= 0 && k < ELEMENTSOF(keys) && !streq(keys[k], key))
			k++;
		if (r >= 0 && k == ELEMENTSOF(keys))
			return dm_error_set(e, -EINVAL,
					    "Unknown attach option \"%s\" (known: position, "
					    "before, after).",
					    key);
		if (r >= 0 && sd_bus_message_read(msg, "v", "s", &value) < 0)
			return dm_error_set(e, -EINVAL, "Attach option \"%s\" is not a string.",
					    key);
		if (r >= 0)
			strs[k] = (char *)value;
		if (r >= 0)
			r = sd_bus_message_exit_container(msg);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(msg);
	return r;
}

static int method_attach_with_options(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct monitor *mon = userdata;
	dm_error e = DM_ERROR_NULL;
	char *opts[3] = {};
	struct chain_position pos;
	const char *ifname;
	int r;

	r = sd_bus_message_read(msg, "s", &ifname);
	if (r < 0)
		return r;
	r = bus_verify_polkit_async(msg, DYNMON_ACTION_MANAGE, "attach monitors", error);
	if (r < 0)
		return r;
	if (r == 0)
		return 1; /* polkit asked: dispatched again with its answer */
	r = read_attach_options(msg, opts, &e);
	if (r >= 0)
		r = chain_position_parse(opts[0], opts[1], opts[2], &pos, &e);
	if (r >= 0)
		r = monitor_attach(mon, ifname, &pos, &e);
	return reply(msg, r, &e, error);
}

static int method_detach(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct monitor *mon = userdata;
	dm_error e = DM_ERROR_NULL;
	int r;

	r = bus_verify_polkit_async(msg, DYNMON_ACTION_MANAGE, "detach monitors", error);
	if (r < 0)
		return r;
	if (r == 0)
		return 1; /* polkit asked: dispatched again with its answer */
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

static int property_get_source(sd_bus *bus, const char *path, const char *interface,
			       const char *property, sd_bus_message *reply, void *userdata,
			       sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", monitor_source(userdata));
}

static int property_get_template(sd_bus *bus, const char *path, const char *interface,
				 const char *property, sd_bus_message *reply, void *userdata,
				 sd_bus_error *error)
{
	struct monitor *mon = userdata;

	return sd_bus_message_append(reply, "s", mon->template_name ?: "");
}

static int property_get_log_level(sd_bus *bus, const char *path, const char *interface,
				  const char *property, sd_bus_message *reply, void *userdata,
				  sd_bus_error *error)
{
	struct monitor *mon = userdata;

	return sd_bus_message_append(reply, "s", pcnlog_level_to_string(mon->log_level));
}

/* The LogLevel write filter_log_level_writes() let through, for the setter it reaches next. */
static const sd_bus_message *log_level_write_granted;

static int property_set_log_level(sd_bus *bus, const char *path, const char *interface,
				  const char *property, sd_bus_message *value, void *userdata,
				  sd_bus_error *error)
{
	struct monitor *mon = userdata;
	dm_error e = DM_ERROR_NULL;
	const char *s;
	int level, r;

	if (sd_bus_get_current_message(bus) != log_level_write_granted)
		return sd_bus_error_set(error, DM_ERROR_PREFIX "PermissionDenied",
					"A LogLevel write that no privilege check let through.");
	log_level_write_granted = NULL;
	r = sd_bus_message_read(value, "s", &s);
	if (r < 0)
		return r;
	level = pcnlog_level_parse(s, &e);
	if (level < 0)
		return bus_set_error(error, level, &e);
	/* Only reached without a rebuild (filter_set_log_level takes those): done at once. */
	r = monitor_set_log_level(mon, level, on_compiled_reply, NULL, &e);
	if (r < 0)
		return bus_set_error(error, r, &e);
	return 0;
}

/* Properties.Set of LogLevel that rebuilds the dataplane is answered when the compilation ends,
 * which a property setter cannot do: filter_log_level_writes() hands it here once the caller is
 * let through. Anything this does not take (no rebuild, a bad value) goes on to the setter. */
static int take_log_level_rebuild(sd_bus_message *msg, void *userdata)
{
	_cleanup_(sd_bus_error_free) sd_bus_error denied = SD_BUS_ERROR_NULL;
	struct monitor *mon = NULL;
	const char *interface, *property, *value;
	dm_error e = DM_ERROR_NULL;
	int level, r;

	if (!sd_bus_message_is_method_call(msg, "org.freedesktop.DBus.Properties", "Set") ||
	    monitor_object_find(NULL, sd_bus_message_get_path(msg), NULL, userdata, (void **)&mon,
				NULL) <= 0 ||
	    !mon->dataplane)
		return 0;
	r = sd_bus_message_read(msg, "ssv", &interface, &property, "s", &value);
	(void)sd_bus_message_rewind(msg, true);
	if (r < 0 || !streq(interface, DYNMON_MONITOR_INTERFACE) || !streq(property, "LogLevel"))
		return 0;
	level = pcnlog_level_from_string(value);
	if (level < 0 || level == mon->log_level)
		return 0;
	log_level_write_granted = NULL;
	r = monitor_set_log_level(mon, level, on_compiled_reply, sd_bus_message_ref(msg), &e);
	if (r != 0) {
		sd_bus_message_unref(msg);
		if (r < 0) {
			bus_set_error(&denied, r, &e);
			(void)sd_bus_reply_method_error(msg, &denied);
		}
	}
	return 1;
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

/* ---- Reading ------------------------------------------------------------------------------ */

/* A read answers when monitor_read() is done (later, with swap-on-read): the call waits,
 * the event loop serves other callers meanwhile. */
struct pending_read {
	sd_bus_message *call;
	bool variant; /* a Properties.Get: the answer is a variant */
};

static void on_read(int r, char *text, dm_error *e, void *userdata)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *t = text;
	struct pending_read *pr = userdata;

	if (r < 0) {
		bus_set_error(&error, r, e);
		r = sd_bus_reply_method_error(pr->call, &error);
	} else if (pr->variant) {
		r = sd_bus_reply_method_return(pr->call, "v", "s", t);
	} else {
		r = sd_bus_reply_method_return(pr->call, "s", t);
	}
	if (r < 0)
		log_debug_errno(r, "Failed to answer a metrics read, ignoring: %m");
	sd_bus_message_unref(pr->call);
	free(pr);
}

/* Starts the read of `what`, answering `call` when done. */
static int start_read(sd_bus_message *call, bool variant, struct monitor *mon,
		      const struct monitor_read_what *what)
{
	struct pending_read *pr = calloc(1, sizeof(*pr));
	int r;

	if (!pr)
		return -ENOMEM;
	*pr = (struct pending_read){sd_bus_message_ref(call), variant};
	r = monitor_read(mon, what, on_read, pr);
	if (r < 0) {
		sd_bus_message_unref(pr->call);
		free(pr);
	}
	return r;
}

/* ReadMetrics(path, metric, format): path "ingress", "egress" or "" (both), metric "" (all)
 * or a name, format "json" or "openmetrics". Only the maps of the metrics named are read. */
static int method_read_metrics(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct monitor_read_what what = {.sel.path = -1};
	const char *path, *metric, *format;
	int r;

	r = sd_bus_message_read(msg, "sss", &path, &metric, &format);
	if (r < 0)
		return r;
	if (!isempty(path) && (what.sel.path = dm_path_from_string(path)) < 0)
		return sd_bus_error_setf(error, DM_ERROR_PREFIX "InvalidArgument",
					 "Unknown path \"%s\" (known: ingress, egress, or \"\" "
					 "for both).",
					 path);
	if (streq(format, "json"))
		what.format = MONITOR_READ_JSON;
	else if (streq(format, "openmetrics"))
		what.format = MONITOR_READ_OPENMETRICS;
	else
		return sd_bus_error_setf(error, DM_ERROR_PREFIX "InvalidArgument",
					 "Unknown format \"%s\" (known: json, openmetrics).",
					 format);
	what.sel.metric = isempty(metric) ? NULL : metric;
	r = start_read(msg, false, userdata, &what);
	return r < 0 ? r : 1;
}

/* Metrics and OpenMetrics, the whole documents, are properties as upstream's users know them;
 * but a read empties (empty-on-read) and swaps (swap-on-read), so they are explicit (in no
 * GetAll, no GetManagedObjects: a generic read never takes counts) and their Get is taken here,
 * before sd-bus's getter, to go through monitor_read() and answer when it is done. */
static int monitor_get_read(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct monitor_read_what what = {.sel.path = -1};
	struct monitor *mon = NULL;
	const char *interface, *property;
	int r;

	if (!sd_bus_message_is_method_call(msg, "org.freedesktop.DBus.Properties", "Get") ||
	    monitor_object_find(NULL, sd_bus_message_get_path(msg), NULL, userdata, (void **)&mon,
				NULL) <= 0)
		return 0;
	r = sd_bus_message_read(msg, "ss", &interface, &property);
	(void)sd_bus_message_rewind(msg, true);
	if (r < 0 || !streq(interface, DYNMON_MONITOR_INTERFACE))
		return 0;
	if (streq(property, "Metrics"))
		what.format = MONITOR_READ_JSON;
	else if (streq(property, "OpenMetrics"))
		what.format = MONITOR_READ_OPENMETRICS;
	else
		return 0;
	r = start_read(msg, true, mon, &what);
	return r < 0 ? r : 1;
}

/* Never called: monitor_get_read() answers every Get of them, and explicit properties are in
 * no GetAll. There for introspection and busctl get-property. */
static int property_get_read(sd_bus *bus, const char *path, const char *interface,
			     const char *property, sd_bus_message *reply, void *userdata,
			     sd_bus_error *error)
{
	return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s is read with Properties.Get.",
				 property);
}

/* A property write cannot wait for polkit: sd-bus answers as soon as the setter returns. So a
 * LogLevel write is checked here, before sd-bus dispatches it, as a method checks itself: when
 * polkit is asked, the write is dispatched again with the answer. */
static int filter_log_level_writes(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	const char *path = sd_bus_message_get_path(msg), *interface, *property;
	int r;

	if (!sd_bus_message_is_method_call(msg, "org.freedesktop.DBus.Properties", "Set") ||
	    !path ||
	    strncmp(path, DYNMON_MONITOR_PREFIX "/", strlen(DYNMON_MONITOR_PREFIX "/")) != 0)
		return 0;
	r = sd_bus_message_read(msg, "ss", &interface, &property);
	(void)sd_bus_message_rewind(msg, true);
	if (r < 0 || !streq(interface, DYNMON_MONITOR_INTERFACE) || !streq(property, "LogLevel"))
		return 0;
	r = bus_verify_polkit_async(msg, DYNMON_ACTION_MANAGE, "change the log level", error);
	if (r < 0)
		return r;
	if (r == 0)
		return 1; /* polkit asked: dispatched again with its answer */
	log_level_write_granted = msg;
	return take_log_level_rebuild(msg, userdata);
}

static const sd_bus_vtable monitor_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Name", "s", property_get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Interface", "s", property_get_interface, 0,
		    SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Mode", "s", property_get_mode, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Source", "s", property_get_source, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Template", "s", property_get_template, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Config", "s", property_get_config, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_WRITABLE_PROPERTY("LogLevel", "s", property_get_log_level, property_set_log_level, 0,
			     SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("Metrics", "s", property_get_read, 0, SD_BUS_VTABLE_PROPERTY_EXPLICIT),
    SD_BUS_PROPERTY("OpenMetrics", "s", property_get_read, 0, SD_BUS_VTABLE_PROPERTY_EXPLICIT),
    SD_BUS_METHOD_WITH_NAMES("Inject", "s", SD_BUS_PARAM(config), "", , method_inject,
			     SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Attach", "s", SD_BUS_PARAM(interface), "", , method_attach,
			     SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("AttachWithOptions", "sa{sv}",
			     SD_BUS_PARAM(interface) SD_BUS_PARAM(options), "", ,
			     method_attach_with_options, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Detach", "", "", method_detach, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES(
	"ReadMetrics", "sss", SD_BUS_PARAM(path) SD_BUS_PARAM(metric) SD_BUS_PARAM(format), "s",
	SD_BUS_PARAM(metrics), method_read_metrics, SD_BUS_VTABLE_UNPRIVILEGED),
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
	r = sd_bus_add_fallback(bus, NULL, DYNMON_MONITOR_PREFIX, monitor_get_read, m);
	if (r < 0)
		return log_error_errno(r, "Failed to add the metrics reader: %m");
	r = sd_bus_add_filter(bus, NULL, filter_log_level_writes, m);
	if (r < 0)
		return log_error_errno(r, "Failed to add the LogLevel write filter: %m");
	return 0;
}
