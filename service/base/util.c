/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>

#include "util.h"

char *strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

bool strv_contains(const char *const *l, const char *s)
{
	for (; l && *l; l++)
		if (streq(*l, s))
			return true;
	return false;
}

int strv_index(const char *const *l, const char *s)
{
	for (int i = 0; l[i]; i++)
		if (streq(l[i], s))
			return i;
	return -EINVAL;
}

char *strv_join(const char *const *l, const char *last)
{
	char *s = NULL;
	size_t size;
	FILE *f = open_memstream(&s, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; l[i]; i++)
		fprintf(f, "%s%s", i == 0 ? "" : l[i + 1] ? ", " : last, l[i]);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}
