/* SPDX-License-Identifier: Apache-2.0 */
/* dynmonctl: the command-line front end of dynmond. Every verb is a D-Bus call or two; the logic
 * lives in the daemon, so that dynmonctl, busctl and the REST API cannot disagree. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <systemd/sd-bus.h>

#include "build-config.h"
#include "errors.h"
#include "exit-status.h"
#include "metrics-select.h"
#include "om-select.h"
#include "util.h"
#include "watch-table.h"

#define BUS_NAME "org.polycube.Dynmon"
#define MANAGER_PATH "/org/polycube/Dynmon"
#define MANAGER_IFACE "org.polycube.Dynmon.Manager"
#define MONITOR_IFACE "org.polycube.Dynmon.Monitor"

/* Compiling and verifying injected code can take seconds; sd-bus's default timeout is 25 s. */
#define SLOW_CALL_USEC (120ULL * 1000000ULL)

/* getopt's values of the options that have no short form. */
enum {
	ARG_VERSION = 0x100,
	ARG_JSON,
	ARG_INGRESS,
	ARG_EGRESS,
	ARG_COUNT,
};

static bool arg_json;
static bool arg_quiet;
static const char *arg_type;
static const char *arg_config;
static enum metrics_direction arg_direction = METRICS_BOTH;
static const char *arg_output;
static double arg_interval = 1.0;
static bool arg_interval_given;
static unsigned arg_count; /* 0: until a signal */

static bool startswith(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int bus_error_status(const sd_bus_error *error, int r)
{
	if (sd_bus_error_is_set(error)) {
		int status = exit_status_for_error(error->name, -1);

		if (status >= 0)
			return status;
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
	char *state;	 /* "detached", "attached", "waiting" (for the interface to come back) */
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

/* ---- metrics, open-metrics: what upstream's extractor offered (one path, one metric, a file) */

static int write_all(int fd, const char *text, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, text, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		text += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Replaces the regular file `path` by `text` at once, through a new file renamed over it: a
 * reader (a script polling the file, say) never sees half of it. Anything else (a
 * FIFO, /dev/stdout) is written to as it is. */
static int write_file(const char *path, const char *text)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	mode_t mask;
	int r;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
		return fd < 0 ? -errno : write_all(fd, text, strlen(text));
	}
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	mask = umask(0);
	umask(mask);
	r = fchmod(fd, 0666 & ~mask) < 0 ? -errno : write_all(fd, text, strlen(text));
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* Prints what metrics and open-metrics read, or saves it with --output. */
static int emit(const char *text)
{
	int r;

	if (!arg_output || streq(arg_output, "-")) {
		fputs(text, stdout);
		return EXIT_OK;
	}
	r = write_file(arg_output, text);
	if (r < 0) {
		fprintf(stderr, "dynmonctl: Failed to write %s: %s\n", arg_output, strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* " on its ingress path", or "" without --ingress/--egress. */
static const char *path_phrase(void)
{
	switch (arg_direction) {
	case METRICS_INGRESS:
		return " on its ingress path";
	case METRICS_EGRESS:
		return " on its egress path";
	default:
		return "";
	}
}

/* The message and exit status of a failed metrics_select_json(), om_select() or
 * watch_table_build(). */
static int log_select_error(int r, const char *monitor, const char *metric)
{
	switch (r) {
	case -ENOENT:
		fprintf(stderr, "dynmonctl: Monitor %s has no metric \"%s\"%s.\n", monitor, metric,
			path_phrase());
		return EXIT_NOT_FOUND;
	case -ENOTUNIQ:
		fprintf(stderr,
			"dynmonctl: Monitor %s has a metric \"%s\" on both paths; choose one with "
			"--ingress or --egress.\n",
			monitor, metric);
		return EXIT_USAGE;
	case -ENODATA:
		fprintf(stderr,
			"dynmonctl: Metric \"%s\" of monitor %s has no open-metrics-metadata: it "
			"is not exported in OpenMetrics.\n",
			metric, monitor);
		return EXIT_NOT_FOUND;
	case -EBADMSG:
		fprintf(stderr,
			"dynmonctl: The metrics of monitor %s are not what dynmond sends.\n",
			monitor);
		return EXIT_FAIL;
	default:
		fprintf(stderr, "dynmonctl: Failed to read the metrics of monitor %s: %s\n",
			monitor, strerror(-r));
		return EXIT_FAIL;
	}
}

static bool selecting(const char *metric)
{
	return metric || arg_direction != METRICS_BOTH;
}

/* A JSON document of the daemon's, parsed: -EBADMSG when it is not JSON. */
static int parse_daemon_json(const char *text, json_t **ret)
{
	*ret = json_loads(text, JSON_DECODE_ANY, NULL);
	return *ret ? 0 : -EBADMSG;
}

/* The part of the Metrics JSON the command line asks for, as text to print. */
static int metrics_text(const char *text, const char *monitor, const char *metric, char **ret)
{
	_cleanup_(json_decrefp) json_t *all = NULL, *part = NULL;
	_cleanup_free_ char *dump = NULL;
	int r;

	r = parse_daemon_json(text, &all);
	if (r < 0 && !selecting(metric)) /* print it as it came */
		return asprintf(ret, "%s\n", text) < 0 ? log_select_error(-ENOMEM, monitor, metric)
						       : EXIT_OK;
	if (r >= 0)
		r = metrics_select_json(all, arg_direction, metric, &part);
	if (r < 0)
		return log_select_error(r, monitor, metric);
	dump = json_dumps(part, JSON_ENCODE_ANY | (arg_json ? JSON_COMPACT : JSON_INDENT(2)));
	if (!dump || asprintf(ret, "%s\n", dump) < 0)
		return log_select_error(-ENOMEM, monitor, metric);
	return EXIT_OK;
}

static int do_metrics(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *text = NULL, *out = NULL;
	int r;

	r = monitor_property_by_name(bus, args[1], "Metrics", &error, &text);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read the metrics of monitor %s",
				     args[1]);
	r = metrics_text(text, args[1], args[2], &out);
	return r == EXIT_OK ? emit(out) : r;
}

/* The families of the OpenMetrics text the command line asks for; the Config property says
 * which metric is on which path. */
static int openmetrics_text(sd_bus *bus, const char *path, const char *text, const char *monitor,
			    const char *metric, char **ret)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(json_decrefp) json_t *config = NULL;
	_cleanup_free_ char *config_text = NULL;
	int r;

	r = monitor_property(bus, path, "Config", &error, &config_text);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read the configuration of monitor %s",
				     monitor);
	r = parse_daemon_json(config_text, &config);
	if (r >= 0)
		r = om_select(text, config, arg_direction, metric, ret);
	return r < 0 ? log_select_error(r, monitor, metric) : EXIT_OK;
}

static int do_open_metrics(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *path = NULL, *text = NULL, *out = NULL;
	int r;

	r = monitor_path(bus, args[1], &error, &path);
	if (r >= 0)
		r = monitor_property(bus, path, "OpenMetrics", &error, &text);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read the metrics of monitor %s",
				     args[1]);
	if (!selecting(args[2]))
		return emit(text);
	r = openmetrics_text(bus, path, text, args[1], args[2], &out);
	return r == EXIT_OK ? emit(out) : r;
}

/* ---- watch: the metrics live, with rates --------------------------------------------------- */

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One read: the configuration (which says how each metric reads), then the metrics, made into
 * the table, with rates against `prev` when there is one. Sets *ret_time to when the metrics
 * came. */
static int watch_read(sd_bus *bus, const char *path, const char *monitor, const char *metric,
		      const struct watch_table *prev, double prev_time, struct watch_table *ret,
		      double *ret_time)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(json_decrefp) json_t *config = NULL, *metrics = NULL;
	_cleanup_free_ char *config_text = NULL, *text = NULL;
	int r;

	r = monitor_property(bus, path, "Config", &error, &config_text);
	if (r >= 0)
		r = monitor_property(bus, path, "Metrics", &error, &text);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read the metrics of monitor %s",
				     monitor);
	*ret_time = monotonic_seconds();
	r = parse_daemon_json(config_text, &config);
	if (r >= 0)
		r = parse_daemon_json(text, &metrics);
	if (r >= 0)
		r = watch_table_build(metrics, config, arg_direction, metric, prev,
				      *ret_time - prev_time, ret);
	return r < 0 ? log_select_error(r, monitor, metric) : EXIT_OK;
}

/* How many rows fit on the terminal under the two header lines and a "... more" line; 0 when
 * the output is no terminal (all of them). */
static size_t terminal_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row <= 3)
		return 0;
	return ws.ws_row - 3;
}

/* On a terminal the table is redrawn in place, as watch(1) and top(1) do; otherwise each
 * refresh follows the last, after a blank line, for logs and tests. */
static void watch_show(const char *monitor, unsigned refresh, const struct watch_table *t, bool tty)
{
	char clock[16];
	time_t now = time(NULL);

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
	if (tty)
		fputs("\033[H\033[2J", stdout);
	else if (refresh > 1)
		fputc('\n', stdout);
	printf("%s: every %gs, refresh %u, %s\n", monitor, arg_interval, refresh, clock);
	watch_table_print(t, tty ? terminal_rows() : 0, stdout);
	fflush(stdout);
}

/* Sleeps until `until` (monotonic seconds). Returns true when SIGINT or SIGTERM came (they are
 * blocked, so they wait for this, even while a read was under way). */
static bool watch_sleep(const sigset_t *signals, double until)
{
	for (;;) {
		double left = until - monotonic_seconds();
		struct timespec ts;

		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (sigtimedwait(signals, NULL, &ts) >= 0)
			return true;
		if (errno != EINTR)
			return false; /* EAGAIN: the time is up */
	}
}

static int do_watch(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(watch_table_done) struct watch_table prev = {};
	_cleanup_free_ char *path = NULL;
	bool tty = isatty(STDOUT_FILENO);
	double start, prev_time = 0;
	sigset_t signals;
	int r;

	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	r = monitor_path(bus, args[1], &error, &path);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read monitor %s", args[1]);
	start = monotonic_seconds();
	for (unsigned refresh = 1;; refresh++) {
		struct watch_table t = {};
		double read_time = 0;

		r = watch_read(bus, path, args[1], args[2], refresh > 1 ? &prev : NULL, prev_time,
			       &t, &read_time);
		if (r != EXIT_OK)
			return r;
		watch_show(args[1], refresh, &t, tty);
		watch_table_done(&prev);
		prev = t;
		prev_time = read_time;
		if ((arg_count && refresh >= arg_count) ||
		    watch_sleep(&signals, start + refresh * arg_interval))
			return EXIT_OK;
	}
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
	       "  metrics NAME [METRIC]    Show a monitor's metrics as JSON; with METRIC, only\n"
	       "                           that metric's value\n"
	       "  open-metrics NAME [METRIC]\n"
	       "                           Show a monitor's metrics in OpenMetrics text; with\n"
	       "                           METRIC, only that metric's families\n"
	       "  watch NAME [METRIC]      Show a monitor's metrics live, with per-second rates\n"
	       "  help                     Show this help\n"
	       "\n"
	       "Options:\n"
	       "  -h --help                Show this help\n"
	       "     --version             Show the version\n"
	       "     --json                Print list, show and metrics as compact JSON\n"
	       "  -q --quiet               Print no header (list) and no object path (add)\n"
	       "  -t --type=MODE           add: attach with TC, XDP_SKB or XDP_DRV\n"
	       "  -c --config=FILE|-       add: inject this dataplane configuration at once\n"
	       "     --ingress             metrics, open-metrics, watch: ingress path only\n"
	       "     --egress              metrics, open-metrics, watch: egress path only\n"
	       "  -o --output=FILE         metrics, open-metrics: write to FILE instead\n"
	       "  -n --interval=SEC        watch: read every SEC seconds (default 1, >= 0.1)\n"
	       "     --count=N             watch: stop after N refreshes (default: at Ctrl-C)\n"
	       "\n"
	       "Exit status:\n"
	       "  0  success\n"
	       "  1  any other failure\n"
	       "  2  usage error\n"
	       "  3  input rejected (InvalidConfig, CompileFailed, VerifierRejected,\n"
	       "     InvalidArgument, or a file that is not UTF-8 text)\n"
	       "  4  no such monitor, interface or metric (NoSuchMonitor,\n"
	       "     NoSuchInterface)\n"
	       "  5  permission denied (PermissionDenied, or the bus policy's AccessDenied)\n"
	       "  6  dynmond not reachable (no system bus, or org.polycube.Dynmon has no\n"
	       "     owner and cannot be activated)\n"
	       "  7  state conflict (MonitorExists, NotAttached, Busy)\n");
	return EXIT_OK;
}

enum {
	VERB_NO_BUS = 1 << 0,
	VERB_CREATE_OPTIONS = 1 << 1, /* takes --type and --config */
	VERB_PATH_OPTIONS = 1 << 2,   /* takes --ingress and --egress */
	VERB_OUTPUT_OPTION = 1 << 3,  /* takes --output */
	VERB_WATCH_OPTIONS = 1 << 4,  /* takes --interval and --count */
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
    {"metrics", 1, 2, do_metrics, VERB_PATH_OPTIONS | VERB_OUTPUT_OPTION},
    {"open-metrics", 1, 2, do_open_metrics, VERB_PATH_OPTIONS | VERB_OUTPUT_OPTION},
    {"watch", 1, 2, do_watch, VERB_PATH_OPTIONS | VERB_WATCH_OPTIONS},
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
	if (arg_direction != METRICS_BOTH && !(v->flags & VERB_PATH_OPTIONS))
		return log_usage_error(
		    "--ingress and --egress go with 'metrics', 'open-metrics' and 'watch' only.");
	if (arg_output && !(v->flags & VERB_OUTPUT_OPTION))
		return log_usage_error("--output goes with 'metrics' and 'open-metrics' only.");
	if ((arg_interval_given || arg_count) && !(v->flags & VERB_WATCH_OPTIONS))
		return log_usage_error("--interval and --count go with 'watch' only.");
	*ret = v;
	return EXIT_OK;
}

static int parse_direction(enum metrics_direction dir)
{
	if (arg_direction != METRICS_BOTH && arg_direction != dir)
		return log_usage_error("--ingress and --egress exclude each other.");
	arg_direction = dir;
	return EXIT_OK;
}

/* Seconds between watch's reads: fast enough for a demo, slow enough not to keep dynmond busy. */
static int parse_interval(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end || !isfinite(v) || v < 0.1 || v > 86400)
		return log_usage_error("--interval wants seconds from 0.1 to 86400, not '%s'.", s);
	arg_interval = v;
	arg_interval_given = true;
	return EXIT_OK;
}

static int parse_count(const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end || *s == '-' || v == 0 || v > UINT_MAX)
		return log_usage_error("--count wants a number of refreshes from 1, not '%s'.", s);
	arg_count = (unsigned)v;
	return EXIT_OK;
}

/* One option of getopt's; EXIT_OK to go on. */
static int parse_option(int c, const char *value)
{
	switch (c) {
	case 'q':
		arg_quiet = true;
		return EXIT_OK;
	case 't':
		arg_type = value;
		return EXIT_OK;
	case 'c':
		arg_config = value;
		return EXIT_OK;
	case 'o':
		arg_output = value;
		return EXIT_OK;
	case 'n':
		return parse_interval(value);
	case ARG_COUNT:
		return parse_count(value);
	case ARG_INGRESS:
		return parse_direction(METRICS_INGRESS);
	case ARG_EGRESS:
		return parse_direction(METRICS_EGRESS);
	case ARG_JSON:
		arg_json = true;
		return EXIT_OK;
	default:
		return EXIT_USAGE;
	}
}

/* Options may come anywhere on the line (getopt permutes), as in "dynmonctl show m --json".
 * Returns 1 to go on, 0 when done (--help, --version), an exit status's negation on a bad
 * option. */
static int parse_argv(int argc, char *argv[])
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, ARG_VERSION},
	    {"json", no_argument, NULL, ARG_JSON},
	    {"quiet", no_argument, NULL, 'q'},
	    {"type", required_argument, NULL, 't'},
	    {"config", required_argument, NULL, 'c'},
	    {"ingress", no_argument, NULL, ARG_INGRESS},
	    {"egress", no_argument, NULL, ARG_EGRESS},
	    {"output", required_argument, NULL, 'o'},
	    {"interval", required_argument, NULL, 'n'},
	    {"count", required_argument, NULL, ARG_COUNT},
	    {},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, ":hqt:c:o:n:", options, NULL)) >= 0)
		switch (c) {
		case 'h':
			do_help(NULL, NULL);
			return 0;
		case ARG_VERSION:
			puts("dynmonctl " DYNMON_VERSION);
			return 0;
		case ':':
			return -log_usage_error("Option '%s' needs an argument.", argv[optind - 1]);
		case '?':
			if (optopt)
				return -log_usage_error("Unknown option '-%c'.", optopt);
			return -log_usage_error("Unknown option '%s'.", argv[optind - 1]);
		default:
			r = parse_option(c, optarg);
			if (r != EXIT_OK)
				return -r;
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
