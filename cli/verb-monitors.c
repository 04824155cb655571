/* SPDX-License-Identifier: Apache-2.0 */
/* The verbs that manage monitors: list, add, del (delete, rm), show. */
#include <jansson.h>
#include <systemd/sd-bus.h>

#include "ctl-bus.h"
#include "ctl-io.h"
#include "dynmonctl.h"
#include "errors.h"
#include "exit-status.h"
#include "util.h"

/* What list and show print of a monitor. Only the cheap properties: never Metrics. */
struct monitor_info {
	char *name;
	char *path;
	char *interface; /* "" when detached */
	char *state;	 /* "detached", "attached", "waiting" (for the interface to come back) */
	char *mode;
	char *source;	/* "file" (monitors.d) or "runtime" (the API) */
	char *template; /* "" unless an instance of a file's template */
	char *config;	/* show only */
};

static void monitor_info_done(struct monitor_info *m)
{
	free(m->name);
	free(m->path);
	free(m->interface);
	free(m->state);
	free(m->mode);
	free(m->source);
	free(m->template);
	free(m->config);
	*m = (struct monitor_info){};
}

static int monitor_info_get(sd_bus *bus, struct monitor_info *m, sd_bus_error *error)
{
	int r;

	r = monitor_property(bus, m->path, "Interface", error, &m->interface);
	if (r < 0)
		return r;
	r = monitor_property(bus, m->path, "State", error, &m->state);
	if (r < 0)
		return r;
	r = monitor_property(bus, m->path, "Mode", error, &m->mode);
	if (r < 0)
		return r;
	/* A dynmond from before monitors.d has neither: its monitors are all the API's. */
	if (monitor_property(bus, m->path, "Source", NULL, &m->source) < 0)
		m->source = strdup("runtime");
	if (monitor_property(bus, m->path, "Template", NULL, &m->template) < 0)
		m->template = strdup("");
	return m->source && m->template ? 0 : -ENOMEM;
}

/* "runtime", "file", or "file:TEMPLATE" for a template's instance. */
static char *monitor_info_source(const struct monitor_info *m)
{
	char *s = NULL;

	if (isempty(m->template))
		return strdup(m->source);
	return asprintf(&s, "%s:%s", m->source, m->template) < 0 ? NULL : s;
}

static json_t *monitor_info_to_json(const struct monitor_info *m, bool with_config)
{
	json_t *j = json_pack("{s:s, s:o, s:s, s:s}", "name", m->name, "interface",
			      isempty(m->interface) ? json_null() : json_string(m->interface),
			      "mode", m->mode, "path", m->path);

	if (j)
		json_object_set_new(j, "state", json_string(m->state));
	if (j)
		json_object_set_new(j, "source", json_string(m->source));
	if (j && !isempty(m->template))
		json_object_set_new(j, "template", json_string(m->template));
	if (j && with_config)
		json_object_set_new(j, "config", json_from_daemon(m->config));
	return j;
}

static void print_list_json(const struct monitor_info *monitors, size_t n)
{
	_cleanup_(json_decrefp) json_t *array = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(array, monitor_info_to_json(&monitors[i], false));
	print_json(array, true);
}

static void print_list_table(const struct monitor_info *monitors, size_t n)
{
	int wname = strlen("NAME"), wiface = strlen("INTERFACE"), wstate = strlen("detached");

	for (size_t i = 0; i < n; i++) {
		if ((int)strlen(monitors[i].name) > wname)
			wname = strlen(monitors[i].name);
		if ((int)strlen(monitors[i].interface) > wiface)
			wiface = strlen(monitors[i].interface);
		if ((int)strlen(monitors[i].state) > wstate)
			wstate = strlen(monitors[i].state);
	}
	if (!arg_quiet)
		printf("%-*s  %-*s  %-*s  %-7s  %s\n", wname, "NAME", wiface, "INTERFACE", wstate,
		       "STATE", "MODE", "SOURCE");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *source = monitor_info_source(&monitors[i]);

		printf("%-*s  %-*s  %-*s  %-7s  %s\n", wname, monitors[i].name, wiface,
		       isempty(monitors[i].interface) ? "-" : monitors[i].interface, wstate,
		       monitors[i].state, monitors[i].mode, source ?: "-");
	}
}

struct monitor_list {
	struct monitor_info *items;
	size_t n;
};

static void monitor_list_done(struct monitor_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		monitor_info_done(&l->items[i]);
	free(l->items);
}

/* Appends the monitor `name` at `path` with its interface and mode. One deleted since it was
 * listed is left out. */
static int monitor_list_add(sd_bus *bus, struct monitor_list *l, const char *name, const char *path,
			    sd_bus_error *error)
{
	struct monitor_info m = {.name = strdup(name), .path = strdup(path)};
	struct monitor_info *items;
	int r;

	r = m.name && m.path ? monitor_info_get(bus, &m, error) : -ENOMEM;
	if (r < 0) {
		monitor_info_done(&m);
		if (!sd_bus_error_has_names(error, SD_BUS_ERROR_UNKNOWN_OBJECT,
					    DM_ERROR_PREFIX "NoSuchMonitor"))
			return r;
		sd_bus_error_free(error);
		return 0;
	}
	items = reallocarray(l->items, l->n + 1, sizeof(*items));
	if (!items) {
		monitor_info_done(&m);
		return -ENOMEM;
	}
	l->items = items;
	l->items[l->n++] = m;
	return 0;
}

static int monitor_list_get(sd_bus *bus, struct monitor_list *l, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *name, *path;
	int r;

	r = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "ListMonitors", error,
			       &reply, NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "(so)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(so)", &name, &path)) > 0)
		r = monitor_list_add(bus, l, name, path, error);
	return r;
}

int do_list(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(monitor_list_done) struct monitor_list l = {};
	int r;

	r = monitor_list_get(bus, &l, &error);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to list monitors");
	if (arg_json)
		print_list_json(l.items, l.n);
	else
		print_list_table(l.items, l.n);
	return EXIT_OK;
}

/* CreateMonitor's options: only those given, so that the daemon's defaults apply to the others. */
static int append_create_options(sd_bus_message *m, const char *config)
{
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0 && arg_type)
		r = sd_bus_message_append(m, "{sv}", "type", "s", arg_type);
	if (r >= 0 && config)
		r = sd_bus_message_append(m, "{sv}", "config", "s", config);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static int create_monitor(sd_bus *bus, const char *name, const char *config, sd_bus_error *error,
			  sd_bus_message **reply)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, MANAGER_PATH, MANAGER_IFACE,
					   "CreateMonitor");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", name);
	if (r >= 0)
		r = append_create_options(m, config);
	if (r < 0)
		return r;
	return sd_bus_call(bus, m, SLOW_CALL_USEC, error, reply);
}

int do_add(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_free_ char *config = NULL;
	const char *path;
	int r;

	if (arg_config) {
		r = read_input_or_log(arg_config, &config);
		if (r != EXIT_OK)
			return r;
	}
	r = create_monitor(bus, args[1], config, &error, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to create monitor %s", args[1]);
	/* The new object's path, for busctl and scripts. */
	if (!arg_quiet)
		puts(path);
	return EXIT_OK;
}

int do_del(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "DeleteMonitor", &error,
			       NULL, "s", args[1]);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to delete monitor %s", args[1]);
	return EXIT_OK;
}

static int show_get(sd_bus *bus, const char *name, struct monitor_info *m, sd_bus_error *error)
{
	int r;

	r = monitor_path(bus, name, error, &m->path);
	if (r >= 0)
		r = monitor_property(bus, m->path, "Name", error, &m->name);
	if (r >= 0)
		r = monitor_info_get(bus, m, error);
	if (r >= 0)
		r = monitor_property(bus, m->path, "Config", error, &m->config);
	return r;
}

static void print_show_text(const struct monitor_info *m)
{
	printf("Name:      %s\n", m->name);
	printf("Interface: %s\n", isempty(m->interface) ? "-" : m->interface);
	printf("State:     %s\n", m->state);
	printf("Mode:      %s\n", m->mode);
	printf("Source:    %s\n", m->source);
	if (!isempty(m->template))
		printf("Template:  %s\n", m->template);
	printf("Path:      %s\n", m->path);
	if (isempty(m->config)) {
		printf("Config:    -\n");
		return;
	}
	printf("Config:\n");
	print_daemon_json(m->config, false);
}

int do_show(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(monitor_info_done) struct monitor_info m = {};
	int r;

	r = show_get(bus, args[1], &m, &error);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read monitor %s", args[1]);
	if (arg_json) {
		_cleanup_(json_decrefp) json_t *j = monitor_info_to_json(&m, true);

		print_json(j, true);
	} else
		print_show_text(&m);
	return EXIT_OK;
}
