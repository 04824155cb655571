/* SPDX-License-Identifier: Apache-2.0 */
/* dynmonctl's side of the bus: reaching a monitor by its name, and saying why a call failed with
 * the exit status the failure maps to. */
#include <stdarg.h>

#include "ctl-bus.h"
#include "errors.h"
#include "exit-status.h"
#include "util.h"

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
_printf_(3, 4) int log_bus_error(const sd_bus_error *error, int r, const char *fmt, ...)
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

/* Resolves a monitor's name through the manager, so that a missing one is NoSuchMonitor with the
 * daemon's message rather than an unknown object. */
int monitor_path(sd_bus *bus, const char *name, sd_bus_error *error, char **ret)
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
int monitor_call(sd_bus *bus, const char *name, const char *method, uint64_t usec,
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

int monitor_property(sd_bus *bus, const char *path, const char *property, sd_bus_error *error,
		     char **ret)
{
	return sd_bus_get_property_string(bus, BUS_NAME, path, MONITOR_IFACE, property, error, ret);
}
