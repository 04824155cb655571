/* SPDX-License-Identifier: Apache-2.0 */
/* A streaming JSON writer: a buffer that either grows (a string in memory) or is flushed into a
 * FILE when full, and the separator state of the containers open. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

/* A FILE writer's buffer; a memory writer starts with this much and doubles. */
#define BUFFER_SIZE (64u * 1024)
/* Nesting of the structured calls; raw values nest as deep as they like. */
#define MAX_DEPTH 64

struct jsonw {
	FILE *f; /* NULL: into memory */
	char *buf;
	size_t len, size;
	size_t flushed; /* bytes already handed to `f` */
	int error;	/* the first one, sticky */
	unsigned depth;
	bool after_name;	       /* a name was written: its value needs no comma */
	bool has_value[MAX_DEPTH + 1]; /* the container at each depth holds a value already */
};

int jsonw_new(FILE *f, struct jsonw **ret)
{
	struct jsonw *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->buf = malloc(BUFFER_SIZE);
	if (!w->buf) {
		free(w);
		return -ENOMEM;
	}
	w->f = f;
	w->size = BUFFER_SIZE;
	*ret = w;
	return 0;
}

void jsonw_free(struct jsonw *w)
{
	if (!w)
		return;
	free(w->buf);
	free(w);
}

static void set_error(struct jsonw *w, int r)
{
	if (!w->error)
		w->error = r;
}

static void flush_file(struct jsonw *w)
{
	if (w->len > 0 && !w->error && fwrite(w->buf, 1, w->len, w->f) != w->len)
		set_error(w, errno > 0 ? -errno : -EIO);
	w->flushed += w->len;
	w->len = 0;
}

/* Room for `n` more bytes, or false (the error noted). */
static bool reserve(struct jsonw *w, size_t n)
{
	size_t size;
	char *buf;

	if (w->error)
		return false;
	if (w->size - w->len >= n)
		return true;
	if (w->f) {
		flush_file(w);
		if (w->size >= n)
			return !w->error;
	}
	for (size = w->size; size - w->len < n; size *= 2)
		if (size > SIZE_MAX / 2) {
			set_error(w, -ENOMEM);
			return false;
		}
	buf = realloc(w->buf, size);
	if (!buf) {
		set_error(w, -ENOMEM);
		return false;
	}
	w->buf = buf;
	w->size = size;
	return true;
}

int jsonw_flush(struct jsonw *w)
{
	if (w->f)
		flush_file(w);
	return w->error;
}

int jsonw_take_string(struct jsonw *w, char **ret, size_t *ret_len)
{
	size_t len = w->len;
	char *text;

	if (w->f)
		return -EINVAL;
	if (!reserve(w, 1))
		return w->error;
	w->buf[len] = '\0';
	/* The buffer itself, trimmed: no copy of the text. */
	text = realloc(w->buf, len + 1) ?: w->buf;
	w->buf = malloc(BUFFER_SIZE);
	w->size = w->buf ? BUFFER_SIZE : 0;
	w->len = 0;
	w->depth = 0;
	w->after_name = w->has_value[0] = false;
	if (!w->buf)
		set_error(w, -ENOMEM);
	*ret = text;
	if (ret_len)
		*ret_len = len;
	return 0;
}

size_t jsonw_size(const struct jsonw *w)
{
	return w->flushed + w->len;
}

void jsonw_put(struct jsonw *w, const char *s, size_t len)
{
	if (!reserve(w, len))
		return;
	memcpy(w->buf + w->len, s, len);
	w->len += len;
}

void jsonw_putc(struct jsonw *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
}

static const char digit_pairs[] = "00010203040506070809"
				  "10111213141516171819"
				  "20212223242526272829"
				  "30313233343536373839"
				  "40414243444546474849"
				  "50515253545556575859"
				  "60616263646566676869"
				  "70717273747576777879"
				  "80818283848586878889"
				  "90919293949596979899";

static unsigned n_digits(uint64_t v)
{
	unsigned n = 1;

	for (; v >= 10000; v /= 10000)
		n += 4;
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Two digits at a time from the end: counters are most of what maps hold, and printf's
 * generality costs more than the rest of an entry (or of an OpenMetrics label value). */
char *jsonw_format_u64(char *dst, uint64_t v)
{
	char *end = dst + n_digits(v), *p = end;

	while (v >= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return end;
}

void jsonw_put_u64(struct jsonw *w, uint64_t v)
{
	char tmp[JSONW_U64_MAX];

	jsonw_put(w, tmp, jsonw_format_u64(tmp, v) - tmp);
}

void jsonw_put_i64(struct jsonw *w, int64_t v)
{
	if (v < 0) {
		jsonw_putc(w, '-');
		/* INT64_MIN has no positive int64_t: negate as unsigned. */
		jsonw_put_u64(w, -(uint64_t)v);
	} else {
		jsonw_put_u64(w, (uint64_t)v);
	}
}

size_t jsonw_format_double(double v, char *buf)
{
	int n = snprintf(buf, JSONW_DOUBLE_MAX, "%.17g", v);
	size_t len = n > 0 ? (size_t)n : 0;
	char *e, *digits;

	/* A locale's decimal comma: JSON has a point. */
	for (char *c = buf; *c; c++)
		if (*c == ',')
			*c = '.';
	/* Otherwise a reader would take it back as an integer. */
	if (!strchr(buf, '.') && !strchr(buf, 'e')) {
		memcpy(buf + len, ".0", 3);
		len += 2;
	}
	/* "1e+20" is "1e20", "1e-05" is "1e-5". */
	e = strchr(buf, 'e');
	if (e) {
		char *from;

		digits = e + 1;
		from = digits + 1;
		if (*digits == '-')
			digits++;
		while (*from == '0')
			from++;
		if (from != digits) {
			memmove(digits, from, strlen(from) + 1);
			len = strlen(buf);
		}
	}
	return len;
}

void jsonw_put_double(struct jsonw *w, double v)
{
	char buf[JSONW_DOUBLE_MAX];

	jsonw_put(w, buf, jsonw_format_double(v, buf));
}

/* What jansson writes for a character that must be escaped. */
static void put_escape(struct jsonw *w, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char seq[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};

	switch (c) {
	case '\\':
	case '"':
		jsonw_putc(w, '\\');
		jsonw_putc(w, (char)c);
		return;
	case '\b':
		jsonw_put(w, "\\b", 2);
		return;
	case '\f':
		jsonw_put(w, "\\f", 2);
		return;
	case '\n':
		jsonw_put(w, "\\n", 2);
		return;
	case '\r':
		jsonw_put(w, "\\r", 2);
		return;
	case '\t':
		jsonw_put(w, "\\t", 2);
		return;
	}
	jsonw_put(w, seq, sizeof(seq));
}

static bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

void jsonw_put_string(struct jsonw *w, const char *s, size_t len)
{
	size_t start = 0;

	jsonw_putc(w, '"');
	/* Runs of plain bytes in one copy. */
	for (size_t i = 0; i < len; i++) {
		if (!needs_escape((unsigned char)s[i]))
			continue;
		jsonw_put(w, s + start, i - start);
		put_escape(w, (unsigned char)s[i]);
		start = i + 1;
	}
	jsonw_put(w, s + start, len - start);
	jsonw_putc(w, '"');
}

void jsonw_put_string_ascii(struct jsonw *w, const char *s, size_t len)
{
	jsonw_putc(w, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80)
			jsonw_putc(w, '?');
		else if (needs_escape(c))
			put_escape(w, c);
		else
			jsonw_putc(w, (char)c);
	}
	jsonw_putc(w, '"');
}

/* The length of the UTF-8 sequence that `c` starts, 0 when it starts none. */
static size_t utf8_first(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xc2) /* a continuation byte, or the start of an overlong 2-byte form */
		return 0;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	if (c < 0xf5)
		return 4;
	return 0;
}

bool jsonw_utf8_valid(const char *s, size_t len)
{
	static const uint32_t min_of[] = {0, 0, 0x80, 0x800, 0x10000};
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_first(p[i]);
		uint32_t cp;

		if (n == 0 || n > len - i)
			return false;
		if (n == 1) {
			i++;
			continue;
		}
		cp = p[i] & (0x7f >> n);
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min_of[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

void jsonw_value(struct jsonw *w)
{
	if (w->after_name)
		w->after_name = false;
	else if (w->has_value[w->depth])
		jsonw_putc(w, ',');
	w->has_value[w->depth] = true;
}

static void begin(struct jsonw *w, char c)
{
	jsonw_value(w);
	jsonw_putc(w, c);
	if (w->depth >= MAX_DEPTH) {
		set_error(w, -E2BIG);
		return;
	}
	w->has_value[++w->depth] = false;
}

static void end(struct jsonw *w, char c)
{
	jsonw_putc(w, c);
	if (w->depth > 0)
		w->depth--;
}

void jsonw_begin_object(struct jsonw *w)
{
	begin(w, '{');
}

void jsonw_end_object(struct jsonw *w)
{
	end(w, '}');
}

void jsonw_begin_array(struct jsonw *w)
{
	begin(w, '[');
}

void jsonw_end_array(struct jsonw *w)
{
	end(w, ']');
}

void jsonw_name(struct jsonw *w, const char *name)
{
	jsonw_value(w);
	jsonw_put_string(w, name, strlen(name));
	jsonw_putc(w, ':');
	w->after_name = true;
}

void jsonw_string(struct jsonw *w, const char *s)
{
	jsonw_stringn(w, s, strlen(s));
}

void jsonw_stringn(struct jsonw *w, const char *s, size_t len)
{
	jsonw_value(w);
	jsonw_put_string(w, s, len);
}

void jsonw_u64(struct jsonw *w, uint64_t v)
{
	jsonw_value(w);
	jsonw_put_u64(w, v);
}

void jsonw_i64(struct jsonw *w, int64_t v)
{
	jsonw_value(w);
	jsonw_put_i64(w, v);
}

void jsonw_double(struct jsonw *w, double v)
{
	jsonw_value(w);
	jsonw_put_double(w, v);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	jsonw_value(w);
	if (v)
		jsonw_put(w, "true", 4);
	else
		jsonw_put(w, "false", 5);
}

void jsonw_null(struct jsonw *w)
{
	jsonw_value(w);
	jsonw_put(w, "null", 4);
}
