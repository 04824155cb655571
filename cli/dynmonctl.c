/* SPDX-License-Identifier: Apache-2.0 */
/* dynmonctl: the command-line front end of dynmond. Every verb is a D-Bus call or two; the logic
 * lives in the daemon, so that dynmonctl, busctl and the REST API cannot disagree. */
#include <getopt.h>
#include <stdarg.h>

#include <jansson.h>
#include <systemd/sd-bus.h>

#include "build-config.h"
#include "errors.h"
#include "util.h"

#define BUS_NAME "org.polycube.Dynmon"
#define MANAGER_PATH "/org/polycube/Dynmon"
#define MANAGER_IFACE "org.polycube.Dynmon.Manager"
#define MONITOR_IFACE "org.polycube.Dynmon.Monitor"

/* Compiling and verifying injected code can take seconds; sd-bus's default timeout is 25 s. */
#define SLOW_CALL_USEC (120ULL * 1000000ULL)

/* The exit statuses, as --help documents them. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_REJECTED = 3,
	EXIT_NOT_FOUND = 4,
	EXIT_DENIED = 5,
	EXIT_UNREACHABLE = 6,
	EXIT_CONFLICT = 7,
};

/* Which error, from dynmond or from the bus, ends in which exit status. Unlisted: EXIT_FAIL. */
static const struct {
	const char *name;
	int status;
} error_status_table[] = {
    {DM_ERROR_PREFIX "InvalidArgument", EXIT_REJECTED},
    {DM_ERROR_PREFIX "InvalidConfig", EXIT_REJECTED},
    {DM_ERROR_PREFIX "CompileFailed", EXIT_REJECTED},
    {DM_ERROR_PREFIX "VerifierRejected", EXIT_REJECTED},
    {DM_ERROR_PREFIX "NoSuchMonitor", EXIT_NOT_FOUND},
    {DM_ERROR_PREFIX "NoSuchInterface", EXIT_NOT_FOUND},
    /* The monitor went away between GetMonitor and the call on its object. */
    {SD_BUS_ERROR_UNKNOWN_OBJECT, EXIT_NOT_FOUND},
    {DM_ERROR_PREFIX "PermissionDenied", EXIT_DENIED},
    {SD_BUS_ERROR_ACCESS_DENIED, EXIT_DENIED},
    {SD_BUS_ERROR_SERVICE_UNKNOWN, EXIT_UNREACHABLE},
    {SD_BUS_ERROR_NAME_HAS_NO_OWNER, EXIT_UNREACHABLE},
    {SD_BUS_ERROR_NO_SERVER, EXIT_UNREACHABLE},
    {SD_BUS_ERROR_DISCONNECTED, EXIT_UNREACHABLE},
    {DM_ERROR_PREFIX "MonitorExists", EXIT_CONFLICT},
    {DM_ERROR_PREFIX "NotAttached", EXIT_CONFLICT},
    {DM_ERROR_PREFIX "Busy", EXIT_CONFLICT},
};

static bool arg_json;
static bool arg_quiet;
static const char *arg_type;
static const char *arg_config;

static bool isempty(const char *s)
{
	return !s || !*s;
}

static bool startswith(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int bus_error_status(const sd_bus_error *error, int r)
{
	if (sd_bus_error_is_set(error)) {
		for (size_t i = 0; i < ELEMENTSOF(error_status_table); i++)
			if (sd_bus_error_has_name(error, error_status_table[i].name))
				return error_status_table[i].status;
		/* The bus tried to start dynmond and could not. */
		if (startswith(error->name, "org.freedesktop.DBus.Error.Spawn."))
			return EXIT_UNREACHABLE;
		r = -sd_bus_error_get_errno(error);
	}
	switch (-r) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ENOTCONN:
	case EPIPE:
	case ESHUTDOWN:
		return EXIT_UNREACHABLE;
	default:
		return EXIT_FAIL;
	}
}

/* dynmond's own errors and the ones sd-bus makes of an errno say what they are by their message;
 * a foreign name (AccessDenied from the bus policy, say) is worth showing. */
static bool bus_error_name_obvious(const sd_bus_error *error)
{
	return !isempty(error->message) && (startswith(error->name, DM_ERROR_PREFIX) ||
					    startswith(error->name, "System.Error."));
}

/* Prints "dynmonctl: <what failed>: <why>" and returns the exit status for the failure. `r` is
 * its negative errno, which tells why when `error` is not set. */
_printf_(3, 4) static int log_bus_error(const sd_bus_error *error, int r, const char *fmt, ...)
{
	va_list ap;

	fputs("dynmonctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (!sd_bus_error_is_set(error)) {
		fprintf(stderr, ": %s\n", strerror(-r));
		return bus_error_status(error, r);
	}
	if (!isempty(error->message)) {
		/* Compiler diagnostics and verifier logs end with a newline of their own. */
		int n = (int)strlen(error->message);

		while (n > 0 && error->message[n - 1] == '\n')
			n--;
		fprintf(stderr, ": %.*s", n, error->message);
	}
	if (!bus_error_name_obvious(error))
		fprintf(stderr, " (%s)", error->name);
	fputc('\n', stderr);
	return bus_error_status(error, r);
}

_printf_(1, 2) static int log_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("dynmonctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'dynmonctl --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* Resolves a monitor's name through the manager, so that a missing one is NoSuchMonitor with the
 * daemon's message rather than an unknown object. */
static int monitor_path(sd_bus *bus, const char *name, sd_bus_error *error, char **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *path;
	int r;

	r = sd_bus_call_method(bus, BUS_NAME, MANAGER_PATH, MANAGER_IFACE, "GetMonitor", error,
			       &reply, "s", name);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	*ret = strdup(path);
	return *ret ? 0 : -ENOMEM;
}

/* Calls `method` of the monitor named `name` with the arguments `types` describes. */
static int monitor_call(sd_bus *bus, const char *name, const char *method, uint64_t usec,
			sd_bus_error *error, const char *types, ...)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	_cleanup_free_ char *path = NULL;
	va_list ap;
	int r;

	r = monitor_path(bus, name, error, &path);
	if (r < 0)
		return r;
	r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, path, MONITOR_IFACE, method);
	if (r < 0)
		return r;
	va_start(ap, types);
	r = sd_bus_message_appendv(m, types, ap);
	va_end(ap);
	if (r < 0)
		return r;
	return sd_bus_call(bus, m, usec, error, NULL);
}

static int monitor_property(sd_bus *bus, const char *path, const char *property,
			    sd_bus_error *error, char **ret)
{
	return sd_bus_get_property_string(bus, BUS_NAME, path, MONITOR_IFACE, property, error, ret);
}

/* The property `property` of the monitor named `name`. */
static int monitor_property_by_name(sd_bus *bus, const char *name, const char *property,
				    sd_bus_error *error, char **ret)
{
	_cleanup_free_ char *path = NULL;
	int r;

	r = monitor_path(bus, name, error, &path);
	if (r < 0)
		return r;
	return monitor_property(bus, path, property, error, ret);
}

/* What list and show print of a monitor. Only the cheap properties: never Metrics. */
struct monitor_info {
	char *name;
	char *path;
	char *interface; /* "" when detached */
	char *state;     /* "detached", "attached", "waiting" (for the interface to come back) */
	char *mode;
	char *config; /* show only */
};

static void monitor_info_done(struct monitor_info *m)
{
	free(m->name);
	free(m->path);
	free(m->interface);
	free(m->state);
	free(m->mode);
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
	return monitor_property(bus, m->path, "Mode", error, &m->mode);
}

static bool utf8_valid(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		unsigned len, cp, i;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			len = 2, cp = *p & 0x1f;
		else if ((*p & 0xf0) == 0xe0)
			len = 3, cp = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			len = 4, cp = *p & 0x07;
		else
			return false;
		/* The terminating NUL fails this test, so a cut sequence is never read past. */
		for (i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += len;
	}
	return true;
}

/* Reads all of `path`, or of stdin for "-". -EBADMSG when it is not text a D-Bus string can carry
 * (a NUL byte, or not UTF-8). */
static int read_input(const char *path, char **ret)
{
	_cleanup_fclose_ FILE *owned = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, n = 0;
	FILE *f = stdin;

	if (!streq(path, "-")) {
		owned = fopen(path, "re");
		if (!owned)
			return -errno;
		f = owned;
	}
	for (;;) {
		if (size - n < 4096) {
			char *p = realloc(buf, size + 65536);

			if (!p)
				return -ENOMEM;
			buf = p;
			size += 65536;
		}
		size_t k = fread(buf + n, 1, size - n - 1, f);
		n += k;
		if (k == 0)
			break;
	}
	if (ferror(f))
		return errno > 0 ? -errno : -EIO;
	buf[n] = '\0';
	if (strlen(buf) != n || !utf8_valid(buf))
		return -EBADMSG;
	*ret = TAKE_PTR(buf);
	return 0;
}

static int read_input_or_log(const char *path, char **ret)
{
	const char *what = streq(path, "-") ? "standard input" : path;
	int r;

	r = read_input(path, ret);
	if (r == -EBADMSG) {
		fprintf(stderr, "dynmonctl: %s is not UTF-8 text\n", what);
		return EXIT_REJECTED;
	}
	if (r < 0) {
		fprintf(stderr, "dynmonctl: Failed to read %s: %s\n", what, strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static void print_json(json_t *j, bool compact)
{
	json_dumpf(j, stdout, JSON_ENCODE_ANY | (compact ? JSON_COMPACT : JSON_INDENT(2)));
	fputc('\n', stdout);
}

/* A JSON document the daemon sent, parsed; when it is not JSON, the text itself. */
static json_t *json_from_daemon(const char *text)
{
	json_t *j;

	if (isempty(text))
		return json_null();
	j = json_loads(text, JSON_DECODE_ANY, NULL);
	return j ?: json_string(text);
}

/* Prints a JSON document from the daemon indented or compact; as it is when it is not JSON. */
static void print_daemon_json(const char *text, bool compact)
{
	_cleanup_(json_decrefp) json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);

	if (j)
		print_json(j, compact);
	else
		printf("%s\n", text);
}

static json_t *monitor_info_to_json(const struct monitor_info *m, bool with_config)
{
	json_t *j = json_pack("{s:s, s:o, s:s, s:s}", "name", m->name, "interface",
			      isempty(m->interface) ? json_null() : json_string(m->interface),
			      "mode", m->mode, "path", m->path);

	if (j)
		json_object_set_new(j, "state", json_string(m->state));
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
		printf("%-*s  %-*s  %-*s  %s\n", wname, "NAME", wiface, "INTERFACE", wstate,
		       "STATE", "MODE");
	for (size_t i = 0; i < n; i++)
		printf("%-*s  %-*s  %-*s  %s\n", wname, monitors[i].name, wiface,
		       isempty(monitors[i].interface) ? "-" : monitors[i].interface, wstate,
		       monitors[i].state, monitors[i].mode);
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

static int do_list(sd_bus *bus, char **args)
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

static int do_add(sd_bus *bus, char **args)
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

static int do_del(sd_bus *bus, char **args)
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
	printf("Path:      %s\n", m->path);
	if (isempty(m->config)) {
		printf("Config:    -\n");
		return;
	}
	printf("Config:\n");
	print_daemon_json(m->config, false);
}

static int do_show(sd_bus *bus, char **args)
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

static int do_inject(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *config = NULL;
	int r;

	r = read_input_or_log(args[2], &config);
	if (r != EXIT_OK)
		return r;
	r = monitor_call(bus, args[1], "Inject", SLOW_CALL_USEC, &error, "s", config);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to inject %s into monitor %s",
				     streq(args[2], "-") ? "standard input" : args[2], args[1]);
	return EXIT_OK;
}

static int do_attach(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = monitor_call(bus, args[1], "Attach", 0, &error, "s", args[2]);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to attach monitor %s to %s", args[1],
				     args[2]);
	return EXIT_OK;
}

static int do_detach(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = monitor_call(bus, args[1], "Detach", 0, &error, "");
	if (r < 0)
		return log_bus_error(&error, r, "Failed to detach monitor %s", args[1]);
	return EXIT_OK;
}

static int do_metrics(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	r = monitor_property_by_name(bus, args[1], "Metrics", &error, &text);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read the metrics of monitor %s",
				     args[1]);
	print_daemon_json(text, arg_json);
	return EXIT_OK;
}

static int do_open_metrics(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	r = monitor_property_by_name(bus, args[1], "OpenMetrics", &error, &text);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read the metrics of monitor %s",
				     args[1]);
	fputs(text, stdout);
	return EXIT_OK;
}

static int do_help(sd_bus *bus, char **args)
{
	printf("Usage: dynmonctl [OPTIONS...] COMMAND [ARGS...]\n"
	       "\n"
	       "Inject eBPF monitors into network interfaces and read their metrics, through\n"
	       "dynmond (org.polycube.Dynmon on the system bus).\n"
	       "\n"
	       "Commands:\n"
	       "  list                     List monitors (the default command)\n"
	       "  add NAME                 Create a monitor (see --type, --config)\n"
	       "  del NAME                 Delete a monitor (also: delete, rm)\n"
	       "  show NAME                Show a monitor's interface, mode and configuration\n"
	       "  inject NAME FILE|-       Inject a dataplane configuration (- reads stdin)\n"
	       "  attach NAME IFACE        Attach a monitor to a network interface\n"
	       "  detach NAME              Detach a monitor from its interface\n"
	       "  metrics NAME             Show a monitor's metrics as JSON\n"
	       "  open-metrics NAME        Show a monitor's metrics in OpenMetrics text\n"
	       "  help                     Show this help\n"
	       "\n"
	       "Options:\n"
	       "  -h --help                Show this help\n"
	       "     --version             Show the version\n"
	       "     --json                Print list, show and metrics as compact JSON\n"
	       "  -q --quiet               Print no header (list) and no object path (add)\n"
	       "  -t --type=MODE           add: attach with TC, XDP_SKB or XDP_DRV\n"
	       "  -c --config=FILE|-       add: inject this dataplane configuration at once\n"
	       "\n"
	       "Exit status:\n"
	       "  0  success\n"
	       "  1  any other failure\n"
	       "  2  usage error\n"
	       "  3  input rejected (InvalidConfig, CompileFailed, VerifierRejected,\n"
	       "     InvalidArgument, or a file that is not UTF-8 text)\n"
	       "  4  no such monitor or interface (NoSuchMonitor, NoSuchInterface)\n"
	       "  5  permission denied (PermissionDenied, or the bus policy's AccessDenied)\n"
	       "  6  dynmond not reachable (no system bus, or org.polycube.Dynmon has no\n"
	       "     owner and cannot be activated)\n"
	       "  7  state conflict (MonitorExists, NotAttached, Busy)\n");
	return EXIT_OK;
}

enum {
	VERB_NO_BUS = 1 << 0,
	VERB_CREATE_OPTIONS = 1 << 1, /* takes --type and --config */
};

/* The commands: name, fewest and most arguments after the name, handler, flags. */
static const struct verb {
	const char *name;
	int min_args;
	int max_args;
	int (*run)(sd_bus *bus, char **args);
	unsigned flags;
} verbs[] = {
    {"list", 0, 0, do_list},
    {"add", 1, 1, do_add, VERB_CREATE_OPTIONS},
    {"del", 1, 1, do_del},
    {"delete", 1, 1, do_del},
    {"rm", 1, 1, do_del},
    {"show", 1, 1, do_show},
    {"inject", 2, 2, do_inject},
    {"attach", 2, 2, do_attach},
    {"detach", 1, 1, do_detach},
    {"metrics", 1, 1, do_metrics},
    {"open-metrics", 1, 1, do_open_metrics},
    {"help", 0, 0, do_help, VERB_NO_BUS},
};

/* Finds the verb args[0] names and checks what the command line gives it. */
static int verb_find(int nargs, char **args, const struct verb **ret)
{
	const struct verb *v = NULL;

	for (size_t i = 0; i < ELEMENTSOF(verbs) && !v; i++)
		if (streq(verbs[i].name, args[0]))
			v = &verbs[i];
	if (!v)
		return log_usage_error("Unknown command '%s'.", args[0]);
	if (nargs - 1 < v->min_args)
		return log_usage_error("Too few arguments for '%s'.", v->name);
	if (nargs - 1 > v->max_args)
		return log_usage_error("Too many arguments for '%s'.", v->name);
	if ((arg_type || arg_config) && !(v->flags & VERB_CREATE_OPTIONS))
		return log_usage_error("--type and --config go with 'add' only.");
	*ret = v;
	return EXIT_OK;
}

/* Options may come anywhere on the line (getopt permutes), as in "dynmonctl show m --json".
 * Returns 1 to go on, 0 when done (--help, --version), EXIT_USAGE's negation on a bad option. */
static int parse_argv(int argc, char *argv[])
{
	enum { ARG_VERSION = 0x100, ARG_JSON };
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, ARG_VERSION},
	    {"json", no_argument, NULL, ARG_JSON},
	    {"quiet", no_argument, NULL, 'q'},
	    {"type", required_argument, NULL, 't'},
	    {"config", required_argument, NULL, 'c'},
	    {},
	};
	int c;

	while ((c = getopt_long(argc, argv, ":hqt:c:", options, NULL)) >= 0)
		switch (c) {
		case 'h':
			do_help(NULL, NULL);
			return 0;
		case ARG_VERSION:
			puts("dynmonctl " DYNMON_VERSION);
			return 0;
		case ARG_JSON:
			arg_json = true;
			break;
		case 'q':
			arg_quiet = true;
			break;
		case 't':
			arg_type = optarg;
			break;
		case 'c':
			arg_config = optarg;
			break;
		case ':':
			return -log_usage_error("Option '%s' needs an argument.", argv[optind - 1]);
		default:
			if (optopt)
				return -log_usage_error("Unknown option '-%c'.", optopt);
			return -log_usage_error("Unknown option '%s'.", argv[optind - 1]);
		}
	return 1;
}

/* Runs the verb the command line names; returns the exit status. */
static int run(int argc, char *argv[])
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	static char *default_args[] = {"list", NULL};
	const struct verb *verb = NULL;
	int nargs = argc - optind;
	char **args = nargs > 0 ? argv + optind : default_args;
	int r;

	r = verb_find(nargs > 0 ? nargs : 1, args, &verb);
	if (r != EXIT_OK)
		return r;
	if (!(verb->flags & VERB_NO_BUS)) {
		r = sd_bus_open_system(&bus);
		if (r < 0) {
			fprintf(stderr, "dynmonctl: Failed to connect to the system bus: %s\n",
				strerror(-r));
			return EXIT_UNREACHABLE;
		}
	}
	return verb->run(bus, args);
}

int main(int argc, char *argv[])
{
	int r;

	r = parse_argv(argc, argv);
	r = r > 0 ? run(argc, argv) : -r;
	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "dynmonctl: Failed to write the output: %s\n", strerror(errno));
		return r ?: EXIT_FAIL;
	}
	return r;
}
