/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>

#include "errors.h"
#include "exit-status.h"
#include "util.h"

static const struct {
	const char *name;
	int status;
} error_status_table[] = {
    {DM_ERROR_PREFIX "InvalidArgument", EXIT_REJECTED},
    {DM_ERROR_PREFIX "InvalidConfig", EXIT_REJECTED},
    {DM_ERROR_PREFIX "ConfigTooLarge", EXIT_REJECTED},
    {DM_ERROR_PREFIX "CompileFailed", EXIT_REJECTED},
    {DM_ERROR_PREFIX "VerifierRejected", EXIT_REJECTED},
    {DM_ERROR_PREFIX "IncludeRefused", EXIT_REJECTED},
    {DM_ERROR_PREFIX "MapTooLarge", EXIT_REJECTED},
    {DM_ERROR_PREFIX "PinRefused", EXIT_REJECTED},
    {DM_ERROR_PREFIX "ObjectMismatch", EXIT_REJECTED},
    {DM_ERROR_PREFIX "ObjectUnsigned", EXIT_REJECTED},
    {DM_ERROR_PREFIX "SignatureRejected", EXIT_REJECTED},
    {DM_ERROR_PREFIX "NoSuchMonitor", EXIT_NOT_FOUND},
    {DM_ERROR_PREFIX "NoSuchInterface", EXIT_NOT_FOUND},
    /* The monitor went away between GetMonitor and the call on its object. */
    {"org.freedesktop.DBus.Error.UnknownObject", EXIT_NOT_FOUND},
    {DM_ERROR_PREFIX "PermissionDenied", EXIT_DENIED},
    {"org.freedesktop.DBus.Error.AccessDenied", EXIT_DENIED},
    /* polkit would ask for a password, and the caller did not allow it to. */
    {"org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", EXIT_DENIED},
    {"org.freedesktop.DBus.Error.ServiceUnknown", EXIT_UNREACHABLE},
    {"org.freedesktop.DBus.Error.NameHasNoOwner", EXIT_UNREACHABLE},
    {"org.freedesktop.DBus.Error.NoServer", EXIT_UNREACHABLE},
    {"org.freedesktop.DBus.Error.Disconnected", EXIT_UNREACHABLE},
    {DM_ERROR_PREFIX "MonitorExists", EXIT_CONFLICT},
    {DM_ERROR_PREFIX "NotAttached", EXIT_CONFLICT},
    {DM_ERROR_PREFIX "Busy", EXIT_CONFLICT},
    {DM_ERROR_PREFIX "DeclaredInFile", EXIT_CONFLICT},
};

int exit_status_for_error(const char *name, int fallback)
{
	for (size_t i = 0; name && i < ELEMENTSOF(error_status_table); i++)
		if (streq(name, error_status_table[i].name))
			return error_status_table[i].status;
	return fallback;
}

int log_usage_error_of(const char *program, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", program);
	return EXIT_USAGE;
}
