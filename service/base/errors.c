/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>

#include "errors.h"

const struct dm_error_entry dm_error_table[] = {
    {EINVAL, "InvalidArgument", 400, "an argument is malformed (name, interface, mode, option)"},
    {EBADMSG, "InvalidConfig", 400,
     "the dataplane configuration is not valid JSON or not valid dynmon configuration"},
    {EFBIG, "ConfigTooLarge", 413,
     "the dataplane configuration is larger than 1 MiB (1,048,576 bytes)"},
    {ENOEXEC, "CompileFailed", 422,
     "the injected code did not compile; the message holds the compiler's diagnostics"},
    {EXDEV, "IncludeRefused", 422,
     "the injected code includes a file outside the include directories (an absolute path, "
     "\"..\" or a macro), or asks the assembler to read a file"},
    {E2BIG, "MapTooLarge", 422,
     "a map of the injected code has 2^30 entries or more, which BTF cannot describe"},
    {EROFS, "PinRefused", 422,
     "the injected code asks to pin a map; dynmon pins a monitor's maps itself"},
    {EKEYREJECTED, "VerifierRejected", 422,
     "the kernel refused to load the program; the message holds the verifier's log"},
    {EILSEQ, "ObjectMismatch", 422,
     "a precompiled object is damaged (its ELF is not the one its sha256 names) or was not "
     "compiled from the path's code for this monitor's hook and log level"},
    {ENOKEY, "ObjectUnsigned", 403,
     "trusted keys are configured and the object is unsigned, or the path carries source "
     "code only (--allow-source not given)"},
    {EKEYREVOKED, "SignatureRejected", 403,
     "the object's signature is by a key the daemon does not trust, or does not match the "
     "object and its metrics"},
    {ENOENT, "NoSuchMonitor", 404, "no monitor of that name exists"},
    {EEXIST, "MonitorExists", 409, "a monitor of that name exists already"},
    {ENODEV, "NoSuchInterface", 404, "no network interface of that name exists"},
    {ENOTCONN, "NotAttached", 409, "the monitor is not attached to an interface"},
    {EUCLEAN, "DeclaredInFile", 409,
     "the monitor is declared in a file of monitors.d: change the file and reload"},
    {EBUSY, "Busy", 409,
     "the monitor or the interface is in use (already attached, a change under way, no room "
     "left in the interface's chain)"},
    {EPERM, "PermissionDenied", 403, "the caller is not root and polkit did not authorize it"},
    {EOPNOTSUPP, "NotSupported", 501, "the kernel, the driver or dynmon cannot do what was asked"},
    {ENOSPC, "StateNotSaved", 507,
     "the change could not be saved in the state directory (full, read-only), so it was not "
     "made"},
    {EUSERS, "TooManyReads", 503,
     "too many large reads are being answered (REST): retry after the Retry-After seconds"},
    {ETIMEDOUT, "Timeout", 504, "an operation took longer than its limit"},
    {ENOMEM, "NoMemory", 500, "out of memory"},
    {0, "Failed", 500, "any other failure; the message says what failed"},
};
const size_t dm_error_table_size = ELEMENTSOF(dm_error_table);

const struct dm_error_entry *dm_error_lookup(int r)
{
	if (r < 0)
		r = -r;
	if (r == EACCES)
		r = EPERM;
	for (size_t i = 0; i < dm_error_table_size - 1; i++)
		if (dm_error_table[i].errnum == r)
			return &dm_error_table[i];
	return &dm_error_table[dm_error_table_size - 1];
}

int dm_error_set(dm_error *e, int r, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->message)
		return r;
	va_start(ap, fmt);
	if (vasprintf(&e->message, fmt, ap) < 0)
		e->message = NULL;
	va_end(ap);
	return r;
}

int dm_error_setv_prefixed(dm_error *e, int r, const char *prefix, const char *fmt, va_list ap)
{
	_cleanup_free_ char *what = NULL;

	if (vasprintf(&what, fmt, ap) < 0)
		return dm_error_oom(e);
	if (!prefix)
		return dm_error_set(e, r, "%s", what);
	return dm_error_set(e, r, "%s: %s", prefix, what);
}

int dm_error_oom(dm_error *e)
{
	return dm_error_set(e, -ENOMEM, "Out of memory");
}

void dm_error_done(dm_error *e)
{
	free(e->message);
	e->message = NULL;
}
