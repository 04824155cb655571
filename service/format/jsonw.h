/* SPDX-License-Identifier: Apache-2.0 */
/* A streaming JSON writer, in the manner of bpftool's json_writer: no tree, text written as it
 * comes, into a FILE or into a string in memory. The text is what jansson's
 * json_dumps(JSON_COMPACT) makes of the same values (escapes, reals at 17 digits), except that
 * unsigned 64-bit integers are always written exactly: jansson, whose integers are int64_t,
 * can only make a real of one above INT64_MAX.
 *
 * Two levels: structured calls (jsonw_begin_object(), jsonw_name(), jsonw_u64()...) put the
 * commas where they belong; jsonw_value() followed by jsonw_put*() calls writes one value as
 * raw text, for renderers that know their layout in advance (btf-jsonw.c). Errors (of memory,
 * of the FILE) are sticky: calls after one do nothing, and jsonw_flush() returns it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

struct jsonw;

/* A writer into `f` through a buffer of its own; `f` NULL: into memory, for
 * jsonw_take_string(). */
int jsonw_new(FILE *f, struct jsonw **ret);
/* Flushes what is buffered into the FILE (not the FILE itself); returns the first error of
 * the writer's life, -errno. */
int jsonw_flush(struct jsonw *w);
/* A writer into memory: its text, NUL-terminated, and its length; the writer is empty again.
 * Returns the first error instead, if there was one. */
int jsonw_take_string(struct jsonw *w, char **ret, size_t *ret_len);
/* The bytes written so far, buffered or not. */
size_t jsonw_size(const struct jsonw *w);
void jsonw_free(struct jsonw *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct jsonw *, jsonw_free);

/* Structured writing: the separators come by themselves. */
void jsonw_begin_object(struct jsonw *w);
void jsonw_end_object(struct jsonw *w);
void jsonw_begin_array(struct jsonw *w);
void jsonw_end_array(struct jsonw *w);
void jsonw_name(struct jsonw *w, const char *name);
void jsonw_string(struct jsonw *w, const char *s);
void jsonw_stringn(struct jsonw *w, const char *s, size_t len);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
void jsonw_double(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* Starts one value that the jsonw_put*() calls after it write in full, raw. */
void jsonw_value(struct jsonw *w);

/* Raw text, no separator. */
void jsonw_put(struct jsonw *w, const char *s, size_t len);
void jsonw_putc(struct jsonw *w, char c);
void jsonw_put_u64(struct jsonw *w, uint64_t v);
void jsonw_put_i64(struct jsonw *w, int64_t v);
/* As jansson writes a real: "%.17g", with ".0" when that looks like an integer, no '+' and
 * no leading zeros in the exponent. Not for NaN and infinities, which JSON lacks. */
void jsonw_put_double(struct jsonw *w, double v);
/* `len` bytes as a quoted JSON string, escaped as jansson escapes (", \, and control
 * characters; not '/', not what is beyond ASCII). The bytes must be UTF-8. */
void jsonw_put_string(struct jsonw *w, const char *s, size_t len);
/* The same with every byte beyond ASCII written as '?': for bytes that are not UTF-8. */
void jsonw_put_string_ascii(struct jsonw *w, const char *s, size_t len);

/* Whether `len` bytes are UTF-8 as jansson accepts it for a string: no overlong forms, no
 * surrogates, nothing above U+10FFFF. */
bool jsonw_utf8_valid(const char *s, size_t len);

/* The digits jsonw_put_u64() writes for `v`, at most JSONW_U64_MAX of them and no NUL, at
 * `dst`; returns their end. */
#define JSONW_U64_MAX 20
char *jsonw_format_u64(char *dst, uint64_t v);

/* The text jsonw_put_double() writes for `v`, NUL-terminated, into `buf` of at least
 * JSONW_DOUBLE_MAX bytes; returns its length. */
#define JSONW_DOUBLE_MAX 32
size_t jsonw_format_double(double v, char *buf);
