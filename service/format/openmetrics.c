/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenMetrics 1.0 text format, as its specification's ABNF writes it: metric descriptors
 * ("# TYPE", "# HELP", "# UNIT"), sample lines and "# EOF". */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "openmetrics.h"
#include "util.h"

#define COUNTER_SUFFIX "_total"

/* Long enough for "-9223372036854775808" and "-1.2345678901234567e-308". */
#define NUMBER_MAX OM_NUMBER_MAX

/* OpenMetrics spells the Prometheus text format's "untyped" as "unknown". */
static const char *const type_names[_DM_METRIC_TYPE_MAX] = {
    [DM_METRIC_COUNTER] = "counter",	 [DM_METRIC_GAUGE] = "gauge",
    [DM_METRIC_HISTOGRAM] = "histogram", [DM_METRIC_SUMMARY] = "summary",
    [DM_METRIC_UNTYPED] = "unknown",
};

/* stdio keeps a failed write in the stream's error flag, the cause in errno. Checking once at
 * the end keeps the writers readable: a stream that failed stays failed. */
static int stream_status(FILE *f)
{
	if (!ferror(f))
		return 0;
	return errno > 0 ? -errno : -EIO;
}

char *om_family_name(const char *metric_name, enum dm_metric_type type)
{
	size_t n = strlen(metric_name), k = strlen(COUNTER_SUFFIX);

	/* A counter's samples are <family>_total. A bare "_total" would leave no name: kept. */
	if (type == DM_METRIC_COUNTER && n > k && streq(metric_name + n - k, COUNTER_SUFFIX))
		return strndup(metric_name, n - k);
	return strdup(metric_name);
}

int om_write_escaped(FILE *f, const char *s)
{
	for (;;) {
		size_t n = strcspn(s, "\\\"\n");

		fwrite(s, 1, n, f);
		s += n;
		if (!*s)
			break;
		fputc('\\', f);
		fputc(*s == '\n' ? 'n' : *s, f);
		s++;
	}
	return stream_status(f);
}

char *om_escape(char *dst, const char *s, size_t n)
{
	for (const char *end = s + n; s < end; s++) {
		switch (*s) {
		case '\\':
		case '"':
			*dst++ = '\\';
			*dst++ = *s;
			break;
		case '\n':
			*dst++ = '\\';
			*dst++ = 'n';
			break;
		default:
			*dst++ = *s;
		}
	}
	return dst;
}

int om_write_family(FILE *f, const char *family, enum dm_metric_type type, const char *help,
		    const char *unit)
{
	if ((unsigned)type >= _DM_METRIC_TYPE_MAX)
		return -EINVAL;

	fprintf(f, "# TYPE %s %s\n", family, type_names[type]);
	if (help && *help) {
		fprintf(f, "# HELP %s ", family);
		om_write_escaped(f, help);
		fputc('\n', f);
	}
	if (unit)
		fprintf(f, "# UNIT %s %s\n", family, unit);
	return stream_status(f);
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double: 0.1 stays "0.1"
 * where %.17g alone would write 0.10000000000000001. */
static void format_double(double d, char buf[static NUMBER_MAX])
{
	if (isnan(d)) {
		strcpy(buf, "NaN");
		return;
	}
	if (isinf(d)) {
		strcpy(buf, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int precision = 15; precision <= 17; precision++) {
		snprintf(buf, NUMBER_MAX, "%.*g", precision, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

static int format_number(const struct dm_number *n, char buf[static NUMBER_MAX])
{
	switch (n->kind) {
	case DM_NUMBER_U64:
		snprintf(buf, NUMBER_MAX, "%" PRIu64, n->u);
		return 0;
	case DM_NUMBER_I64:
		snprintf(buf, NUMBER_MAX, "%" PRId64, n->i);
		return 0;
	case DM_NUMBER_F64:
		format_double(n->f, buf);
		return 0;
	}
	return -EINVAL;
}

size_t om_format_number(const struct dm_number *n, char buf[static OM_NUMBER_MAX])
{
	if (format_number(n, buf) < 0)
		buf[0] = '\0';
	return strlen(buf);
}

/* Go's shortest 'g' format writes an exponent below 1e-04 and from 1e+06 up, with at least two
 * digits as C's %e does; otherwise it writes the digits plainly. */
size_t om_format_canonical(double v, char buf[static OM_NUMBER_MAX])
{
	int precision, exponent;

	if (!isfinite(v) || v == 0) {
		if (v == 0)
			strcpy(buf, signbit(v) ? "-0.0" : "0.0");
		else
			format_double(v, buf);
		return strlen(buf);
	}
	/* The fewest digits that read back as v: 1 + precision of them, in d.ddde±XX. */
	for (precision = 0; precision < 17; precision++) {
		snprintf(buf, NUMBER_MAX, "%.*e", precision, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	exponent = atoi(strchr(buf, 'e') + 1);
	if (exponent < -4 || exponent >= 6)
		return strlen(buf);
	snprintf(buf, NUMBER_MAX, "%.*f", precision > exponent ? precision - exponent : 0, v);
	if (!strchr(buf, '.'))
		strcat(buf, ".0");
	return strlen(buf);
}

int om_write_sample(FILE *f, const char *family, const char *suffix, const struct om_label *labels,
		    size_t n_labels, const struct dm_number *value)
{
	char number[NUMBER_MAX];
	int r;

	r = format_number(value, number);
	if (r < 0)
		return r;

	fprintf(f, "%s%s", family, strempty(suffix));
	for (size_t i = 0; i < n_labels; i++) {
		fprintf(f, "%c%s=\"", i == 0 ? '{' : ',', labels[i].name);
		om_write_escaped(f, labels[i].value);
		fputc('"', f);
	}
	if (n_labels > 0)
		fputc('}', f);
	fprintf(f, " %s\n", number);
	return stream_status(f);
}

int om_write_eof(FILE *f)
{
	fputs("# EOF\n", f);
	return stream_status(f);
}

#define OM_BUFFER_SIZE (64 * 1024)
/* A text's blocks start small (a family of a few samples is common) and grow to this. */
#define TEXT_BLOCK_MIN (4 * 1024)
#define TEXT_BLOCK_MAX (1024 * 1024)

struct om_text_block {
	struct om_text_block *next;
	size_t used, size;
	char data[];
};

void om_text_done(struct om_text *t)
{
	for (struct om_text_block *b = t->first, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	*t = (struct om_text){};
}

/* A new last block with room for `n` bytes at least. */
static struct om_text_block *text_grow(struct om_text *t, size_t n)
{
	size_t size = t->last ? 2 * t->last->size : TEXT_BLOCK_MIN;
	struct om_text_block *b;

	if (size > TEXT_BLOCK_MAX)
		size = TEXT_BLOCK_MAX;
	if (size < n)
		size = n;
	b = malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	*b = (struct om_text_block){.size = size};
	if (t->last)
		t->last->next = b;
	else
		t->first = b;
	t->last = b;
	return b;
}

int om_text_append(struct om_text *t, const char *s, size_t n)
{
	struct om_text_block *b = t->last;

	if (!b || b->size - b->used < n) {
		b = text_grow(t, n);
		if (!b)
			return -ENOMEM;
	}
	memcpy(b->data + b->used, s, n);
	b->used += n;
	t->len += n;
	return 0;
}

void om_text_move(struct om_text *to, struct om_text *from)
{
	if (!from->first)
		return;
	if (to->last)
		to->last->next = from->first;
	else
		to->first = from->first;
	to->last = from->last;
	to->len += from->len;
	*from = (struct om_text){};
}

/* Each block freed once copied: the string's pages that are not written yet are not there
 * either, so that the two together stay near the size of the text. */
int om_text_take_string(struct om_text *t, char **ret, size_t *ret_len)
{
	char *s = malloc(t->len + 1), *p = s;
	size_t len = t->len;

	if (!s) {
		om_text_done(t);
		return -ENOMEM;
	}
	for (struct om_text_block *b = t->first, *next; b; b = next) {
		next = b->next;
		p = mempcpy(p, b->data, b->used);
		free(b);
	}
	*p = '\0';
	*t = (struct om_text){};
	*ret = s;
	if (ret_len)
		*ret_len = len;
	return 0;
}

size_t om_text_read(struct om_text *t, char *buf, size_t max)
{
	size_t n = 0;

	while (t->first && n < max) {
		struct om_text_block *b = t->first;
		size_t k = b->used - t->head < max - n ? b->used - t->head : max - n;

		memcpy(buf + n, b->data + t->head, k);
		n += k;
		t->head += k;
		if (t->head == b->used) {
			t->first = b->next;
			t->head = 0;
			free(b);
		}
	}
	if (!t->first)
		t->last = NULL;
	t->len -= n;
	return n;
}

int om_text_write(const struct om_text *t, FILE *f)
{
	for (const struct om_text_block *b = t->first; b; b = b->next)
		fwrite(b->data, 1, b->used, f);
	return stream_status(f);
}

int om_buffer_init(struct om_buffer *b, FILE *f, size_t max_line)
{
	*b = (struct om_buffer){.f = f, .size = OM_BUFFER_SIZE, .max_line = max_line};
	if (max_line > b->size / 4)
		b->size = 4 * max_line;
	b->buf = malloc(b->size);
	return b->buf ? 0 : -ENOMEM;
}

/* A text's last block is the buffer: a line goes where it stays. */
static void buffer_attach(struct om_buffer *b)
{
	struct om_text_block *last = b->text->last;

	b->buf = last ? last->data + last->used : NULL;
	b->size = last ? last->size - last->used : 0;
	b->used = 0;
}

int om_buffer_init_text(struct om_buffer *b, struct om_text *t, size_t max_line)
{
	*b = (struct om_buffer){.text = t, .max_line = max_line};
	buffer_attach(b);
	return 0;
}

static void buffer_to_text(struct om_buffer *b)
{
	if (b->used == 0)
		return;
	b->text->last->used += b->used;
	b->text->len += b->used;
	b->buf += b->used;
	b->size -= b->used;
	b->used = 0;
}

int om_buffer_flush(struct om_buffer *b)
{
	if (b->text) {
		buffer_to_text(b);
		return b->error;
	}
	if (b->used > 0 && b->error == 0 && fwrite(b->buf, 1, b->used, b->f) != b->used)
		b->error = stream_status(b->f) ?: -EIO;
	b->used = 0;
	return b->error;
}

/* A text's next block: at least a few lines, so that blocks do not come a line at a time. */
static char *text_reserve(struct om_buffer *b)
{
	buffer_to_text(b);
	if (b->error || !text_grow(b->text, 16 * b->max_line)) {
		b->error = b->error ?: -ENOMEM;
		return NULL;
	}
	buffer_attach(b);
	return b->buf;
}

char *om_buffer_reserve(struct om_buffer *b, size_t n)
{
	if (b->used + n <= b->size)
		return b->buf + b->used;
	if (b->text && n <= b->max_line)
		return text_reserve(b);
	if (b->text) {
		b->error = b->error ?: -E2BIG;
		return NULL;
	}
	om_buffer_flush(b);
	if (n <= b->size)
		return b->buf;
	b->error = b->error ?: -E2BIG;
	return NULL;
}

void om_buffer_done(struct om_buffer *b)
{
	if (b->text) {
		buffer_to_text(b);
		*b = (struct om_buffer){};
		return;
	}
	free(b->buf);
	b->buf = NULL;
}

/* A descriptor line, "# KEYWORD NAME REST" ("# EOF" has neither name nor rest). */
struct om_descriptor {
	const char *keyword, *name, *rest;
	size_t keyword_len, name_len, rest_len;
};

static bool descriptor_is(const struct om_descriptor *d, const char *keyword)
{
	return d->keyword_len == strlen(keyword) &&
	       strncmp(d->keyword, keyword, d->keyword_len) == 0;
}

static int descriptor_parse(const char *line, size_t n, struct om_descriptor *ret)
{
	const char *end = line + n, *p;

	if (n < 2 || line[0] != '#' || line[1] != ' ')
		return -EINVAL;
	ret->keyword = line + 2;
	ret->keyword_len = strcspn(ret->keyword, " \n");
	p = ret->keyword + ret->keyword_len;
	if (descriptor_is(ret, "EOF"))
		return p == end ? 0 : -EINVAL;
	if (!descriptor_is(ret, "TYPE") && !descriptor_is(ret, "HELP") &&
	    !descriptor_is(ret, "UNIT"))
		return -EINVAL;
	if (p >= end || *p != ' ')
		return -EINVAL;
	ret->name = p + 1;
	ret->name_len = strcspn(ret->name, " \n");
	if (ret->name_len == 0 || ret->name + ret->name_len > end)
		return -EINVAL;
	p = ret->name + ret->name_len;
	ret->rest = p < end ? p + 1 : end;
	ret->rest_len = end - ret->rest;
	return 0;
}

struct om_family {
	char *name;
	enum dm_metric_type type;
	char *help, *unit;
	struct om_text samples;
};

struct om_families {
	struct om_family *v;
	size_t n, allocated;
};

int om_families_new(struct om_families **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

static void family_done(struct om_family *f)
{
	free(f->name);
	free(f->help);
	free(f->unit);
	om_text_done(&f->samples);
}

void om_families_free(struct om_families *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->n; i++)
		family_done(&fs->v[i]);
	free(fs->v);
	free(fs);
}

static struct om_family *families_find(const struct om_families *fs, const char *name)
{
	/* From the last: a family is mostly looked up right after it was added. */
	for (size_t i = fs->n; i > 0; i--)
		if (streq(fs->v[i - 1].name, name))
			return &fs->v[i - 1];
	return NULL;
}

static int families_append(struct om_families *fs, const char *name, enum dm_metric_type type,
			   const char *help, const char *unit, struct om_family **ret)
{
	struct om_family *f;

	if (fs->n == fs->allocated) {
		size_t n = fs->allocated ? 2 * fs->allocated : 8;

		f = reallocarray(fs->v, n, sizeof(*f));
		if (!f)
			return -ENOMEM;
		fs->v = f;
		fs->allocated = n;
	}
	f = &fs->v[fs->n];
	*f = (struct om_family){.type = type};
	f->name = strdup(name);
	f->help = help && *help ? strdup(help) : NULL;
	f->unit = unit ? strdup(unit) : NULL;
	if (!f->name || (help && *help && !f->help) || (unit && !f->unit)) {
		family_done(f);
		return -ENOMEM;
	}
	fs->n++;
	*ret = f;
	return 0;
}

int om_families_get(struct om_families *fs, const char *name, enum dm_metric_type type,
		    const char *help, const char *unit, struct om_text **ret)
{
	struct om_family *f = families_find(fs, name);
	int r;

	if ((unsigned)type >= _DM_METRIC_TYPE_MAX)
		return -EINVAL;
	if (f && f->type != type) {
		*ret = NULL;
		return 0;
	}
	if (!f) {
		r = families_append(fs, name, type, help, unit, &f);
		if (r < 0)
			return r;
	}
	*ret = &f->samples;
	return 1;
}

int om_families_merge(struct om_families *fs, struct om_families *from, size_t *ret_dropped)
{
	size_t dropped = 0;

	for (size_t i = 0; i < from->n; i++) {
		const struct om_family *f = &from->v[i];
		struct om_text *samples;
		int r;

		r = om_families_get(fs, f->name, f->type, f->help, f->unit, &samples);
		if (r < 0)
			return r;
		if (r == 0)
			dropped++;
		else
			om_text_move(samples, &from->v[i].samples);
	}
	for (size_t i = 0; i < from->n; i++)
		family_done(&from->v[i]);
	from->n = 0;
	if (ret_dropped)
		*ret_dropped = dropped;
	return 0;
}

/* The escapes of a help text: OpenMetrics escapes backslash, double quote and newline; the
 * Prometheus text format knows no \" and keeps the quote as it is. */
static char *escape_help(char *dst, const char *s, enum om_flavor flavor)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '\n' || (*s == '"' && flavor == OM_FLAVOR_OPENMETRICS))
			*dst++ = '\\';
		*dst++ = *s == '\n' ? 'n' : *s;
	}
	return dst;
}

/* "# TYPE", "# HELP", "# UNIT" of a family. The Prometheus text format names a counter's
 * family as its samples (x_total), says "untyped" for "unknown" and has no "# UNIT". */
static int family_descriptor(const struct om_family *f, enum om_flavor flavor, struct om_text *out)
{
	bool prometheus = flavor == OM_FLAVOR_PROMETHEUS;
	const char *suffix = prometheus && f->type == DM_METRIC_COUNTER ? COUNTER_SUFFIX : "";
	const char *type =
	    prometheus && f->type == DM_METRIC_UNTYPED ? "untyped" : type_names[f->type];
	size_t name_len = strlen(f->name), help_len = f->help ? strlen(f->help) : 0;
	_cleanup_free_ char *buf = malloc(3 * name_len + 2 * help_len + 64 + strlen(type) +
					  (f->unit ? strlen(f->unit) : 0));
	char *p = buf;

	if (!buf)
		return -ENOMEM;
	p = stpcpy(stpcpy(stpcpy(stpcpy(stpcpy(p, "# TYPE "), f->name), suffix), " "), type);
	*p++ = '\n';
	if (f->help) {
		p = stpcpy(stpcpy(stpcpy(stpcpy(p, "# HELP "), f->name), suffix), " ");
		p = escape_help(p, f->help, flavor);
		*p++ = '\n';
	}
	if (f->unit && !prometheus) {
		p = stpcpy(stpcpy(stpcpy(stpcpy(p, "# UNIT "), f->name), " "), f->unit);
		*p++ = '\n';
	}
	return om_text_append(out, buf, p - buf);
}

int om_families_take(struct om_families *fs, enum om_flavor flavor, bool eof, struct om_text *out)
{
	for (size_t i = 0; i < fs->n; i++) {
		int r = family_descriptor(&fs->v[i], flavor, out);

		if (r < 0)
			return r;
		om_text_move(out, &fs->v[i].samples);
	}
	return eof && flavor == OM_FLAVOR_OPENMETRICS ? om_text_append(out, "# EOF\n", 6) : 0;
}

int om_families_write(const struct om_families *fs, FILE *f)
{
	for (size_t i = 0; i < fs->n; i++) {
		struct om_text descriptor = {};
		int r;

		r = family_descriptor(&fs->v[i], OM_FLAVOR_OPENMETRICS, &descriptor);
		if (r >= 0)
			r = om_text_write(&descriptor, f);
		om_text_done(&descriptor);
		if (r >= 0)
			r = om_text_write(&fs->v[i].samples, f);
		if (r < 0)
			return r;
	}
	return stream_status(f);
}

/* The families whose type is counter, found before any is rewritten: in OpenMetrics a family's
 * "# HELP" may come before its "# TYPE". */
struct counter_names {
	struct om_descriptor *v;
	size_t n;
};

static int counter_names_collect(const char *text, struct counter_names *ret)
{
	for (const char *line = text; *line;) {
		size_t n = strcspn(line, "\n");
		struct om_descriptor d;

		if (descriptor_parse(line, n, &d) >= 0 && descriptor_is(&d, "TYPE") &&
		    d.rest_len == strlen("counter") &&
		    strncmp(d.rest, "counter", d.rest_len) == 0) {
			struct om_descriptor *v = realloc(ret->v, (ret->n + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			ret->v = v;
			ret->v[ret->n++] = d;
		}
		line += n + (line[n] == '\n');
	}
	return 0;
}

static bool is_counter(const struct counter_names *c, const struct om_descriptor *d)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].name_len == d->name_len &&
		    strncmp(c->v[i].name, d->name, d->name_len) == 0)
			return true;
	return false;
}

static int prometheus_type(FILE *f, const struct om_descriptor *d)
{
	static const struct {
		const char *om, *prometheus, *suffix;
	} types[] = {
	    {"counter", "counter", COUNTER_SUFFIX},
	    {"gauge", "gauge", ""},
	    {"histogram", "histogram", ""},
	    {"summary", "summary", ""},
	    {"unknown", "untyped", ""},
	};

	for (size_t i = 0; i < ELEMENTSOF(types); i++)
		if (d->rest_len == strlen(types[i].om) &&
		    strncmp(d->rest, types[i].om, d->rest_len) == 0) {
			fprintf(f, "# TYPE %.*s%s %s\n", (int)d->name_len, d->name, types[i].suffix,
				types[i].prometheus);
			return 0;
		}
	return -EOPNOTSUPP;
}

/* The Prometheus text format escapes only backslash and newline in help texts. */
static void prometheus_help(FILE *f, const struct om_descriptor *d, bool counter)
{
	fprintf(f, "# HELP %.*s%s ", (int)d->name_len, d->name, counter ? COUNTER_SUFFIX : "");
	for (size_t i = 0; i < d->rest_len; i++) {
		if (d->rest[i] == '\\' && i + 1 < d->rest_len && d->rest[i + 1] == '"')
			continue;
		fputc(d->rest[i], f);
		if (d->rest[i] == '\\' && i + 1 < d->rest_len)
			fputc(d->rest[++i], f);
	}
	fputc('\n', f);
}

static int prometheus_line(FILE *f, const char *line, size_t n, const struct counter_names *c)
{
	struct om_descriptor d;
	int r;

	if (line[0] != '#') {
		fwrite(line, 1, n, f);
		fputc('\n', f);
		return 0;
	}
	r = descriptor_parse(line, n, &d);
	if (r < 0)
		return r;
	if (descriptor_is(&d, "TYPE"))
		return prometheus_type(f, &d);
	if (descriptor_is(&d, "HELP"))
		prometheus_help(f, &d, is_counter(c, &d));
	return 0; /* "# UNIT" has no place there */
}

static void counter_names_done(struct counter_names *c)
{
	free(c->v);
}

int om_to_prometheus_text(const char *openmetrics, char **ret)
{
	_cleanup_(counter_names_done) struct counter_names counters = {};
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int r;

	r = counter_names_collect(openmetrics, &counters);
	if (r < 0)
		return r;
	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	for (const char *line = openmetrics; *line && r >= 0;) {
		size_t n = strcspn(line, "\n");

		if (n == strlen("# EOF") && strncmp(line, "# EOF", n) == 0)
			break;
		r = prometheus_line(f, line, n, &counters);
		line += n + (line[n] == '\n');
	}
	if (r >= 0)
		r = stream_status(f);
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(buf);
	return 0;
}
