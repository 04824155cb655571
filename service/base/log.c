/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdlib.h>

#include "log.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

int log_internal(int level, int error, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	error = error < 0 ? -error : error;
	if (level > max_level)
		return -error;

	/* %m in fmt expands to strerror(errno): make it the caller's error. */
	errno = error;
	flockfile(stderr); /* one line at a time, whichever thread logs (base/pool.h) */
	fprintf(stderr, "<%d>", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	errno = saved;
	return -error;
}
