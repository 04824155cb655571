/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by every part of dynmon: cleanup attributes and string helpers. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _sentinel_ __attribute__((sentinel))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hands a pointer over to a new owner: the cleanup attribute of the old one then frees NULL. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		typeof(p) _p = (p);                                                                \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Declares fooptr(foo **p) calling foo_free(*p) for use with _cleanup_(). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
	static inline void func##p(type *p)                                                        \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return streq(a, b);
}

static inline bool isempty(const char *s)
{
	return !s || !*s;
}

static inline const char *strempty(const char *s)
{
	return s ?: "";
}

/* Replaces *p by a copy of s (NULL allowed); -ENOMEM on failure, *p unchanged then. */
static inline int free_and_strdup(char **p, const char *s)
{
	char *t = NULL;

	if (s) {
		t = strdup(s);
		if (!t)
			return -ENOMEM;
	}
	free(*p);
	*p = t;
	return 0;
}

/* An allocated printf; NULL on failure. */
char *strdup_printf(const char *fmt, ...) _printf_(1, 2);

/* Whether the NULL-terminated list `l` (NULL: empty) holds `s`. A char ** list is passed as
 * (const char *const *)l: C does not convert it by itself. */
bool strv_contains(const char *const *l, const char *s);

/* The index of `s` in the NULL-terminated list `l`, -EINVAL when absent. */
int strv_index(const char *const *l, const char *s);

/* The list's strings joined with ", ", the last two with `last` (", " or " or "), for messages
 * listing what would have been accepted: "a, b or c". NULL on failure. */
char *strv_join(const char *const *l, const char *last);
