/* SPDX-License-Identifier: Apache-2.0 */
/* An OpenMetrics 1.0 text writer: families, samples, escaping, "# EOF". It knows nothing of
 * maps or BPF: callers hand it names, labels and numbers. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "btf-number.h"
#include "config.h"

#define OPENMETRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

struct om_label {
	const char *name;
	const char *value;
};

/* The family name of a configured metric: a counter named "packets_total" is the family
 * "packets" (its samples are packets_total); other names are kept as they are. Returns a newly
 * allocated string, NULL on allocation failure. */
char *om_family_name(const char *metric_name, enum dm_metric_type type);

/* Writes "# TYPE", then "# HELP" (when help is non-NULL and non-empty, escaped) and "# UNIT"
 * (when unit is non-NULL) for family `family`. Returns 0 or -errno from the stream. */
int om_write_family(FILE *f, const char *family, enum dm_metric_type type, const char *help,
		    const char *unit);

/* Writes one sample line: family + suffix (e.g. "_total", "_bucket", "" ), the labels
 * {name="escaped value",...} (omitted when there are none), a space and the value: integers
 * without a decimal point, u64 in full, floats with full precision ("NaN", "+Inf", "-Inf"). */
int om_write_sample(FILE *f, const char *family, const char *suffix, const struct om_label *labels,
		    size_t n_labels, const struct dm_number *value);

/* Writes "# EOF\n". */
int om_write_eof(FILE *f);

/* Escapes for a label value or help text: backslash, double quote and newline. */
int om_write_escaped(FILE *f, const char *s);

/* The same into memory: the `n` bytes at `s` escaped at `dst` (room for 2 * n), returning the
 * end of what was written. */
char *om_escape(char *dst, const char *s, size_t n);

/* Long enough for any number om_format_number() or om_format_canonical() writes, NUL included. */
#define OM_NUMBER_MAX 32

/* A sample value as om_write_sample() writes it; returns its length. */
size_t om_format_number(const struct dm_number *n, char buf[static OM_NUMBER_MAX]);

/* A number in the canonical form OpenMetrics wants for "le" and "quantile" label values: as
 * Go's strconv.FormatFloat(v, 'g', -1, 64) spells it, with ".0" after an integer: "0.0",
 * "0.5", "1.0", "100000.0", "1e+06", "1.048575e+06", "+Inf". Returns its length. */
size_t om_format_canonical(double v, char buf[static OM_NUMBER_MAX]);

/* Text kept in memory, a block at a time: a family's samples, a document. Blocks never move,
 * so that growing copies nothing, a text moves into another without a copy, and a text made
 * into one string (om_text_take_string()) frees each block once copied: the memory of a text
 * is the text, give or take a block. */
struct om_text_block;
struct om_text {
	struct om_text_block *first, *last;
	size_t len;
	size_t head; /* bytes of `first` om_text_read() took already */
};

void om_text_done(struct om_text *t);
int om_text_append(struct om_text *t, const char *s, size_t n);
/* Moves the blocks of `from` to the end of `to`; `from` is empty after. */
void om_text_move(struct om_text *to, struct om_text *from);
/* The text as one NUL-terminated string (its length in *ret_len, may be NULL); `t` is empty
 * after, also on failure. */
int om_text_take_string(struct om_text *t, char **ret, size_t *ret_len);
int om_text_write(const struct om_text *t, FILE *f);
/* Takes up to `max` bytes from the front of `t` into `buf`, freeing each block once read: a
 * text sent a piece at a time holds only what is not sent yet. Returns the bytes taken (0 at
 * the end). Once read from, a text is only read from or freed. */
size_t om_text_read(struct om_text *t, char *buf, size_t max);

/* Sample lines built in place, a buffer at a time: what rendering a million samples wants
 * instead of a dozen stdio calls each. Into a FILE, with one fwrite() per buffer (anything
 * else written to the stream, om_write_family(), must come after om_buffer_flush()); or into
 * an om_text, in its blocks directly. */
struct om_buffer {
	FILE *f;
	struct om_text *text;
	char *buf;
	size_t size, used;
	size_t max_line;
	int error; /* the first write error, as -errno */
};

/* `max_line`: the longest line the caller will build. */
int om_buffer_init(struct om_buffer *b, FILE *f, size_t max_line);
/* Into `t`, after what it holds. One buffer at a time writes into a text. */
int om_buffer_init_text(struct om_buffer *b, struct om_text *t, size_t max_line);
/* Room for `n` (at most max_line) bytes at the end of the buffer, flushing it first when
 * needed; NULL (and b->error -E2BIG) for more. After a write error the text goes nowhere, and
 * om_buffer_flush() says so. */
char *om_buffer_reserve(struct om_buffer *b, size_t n);
/* What was written since the last reserve ends at `end`. */
static inline void om_buffer_commit(struct om_buffer *b, char *end)
{
	b->used = end - b->buf;
}
int om_buffer_flush(struct om_buffer *b);
/* Flushes (a text gets what was written) and lets go. */
void om_buffer_done(struct om_buffer *b);

/* Families gathered from several metrics or monitors, so that a family several of them
 * export is written once, as OpenMetrics wants (no family twice, no interleaving): its
 * descriptor as the first to bring it gave it, then the samples of all, in the order they
 * came. Samples are rendered straight into their family's text: nothing is parsed. */
struct om_families;

int om_families_new(struct om_families **ret);
void om_families_free(struct om_families *fs);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct om_families *, om_families_free);

/* The text where the samples of family `name` go, the family added (with this type, help and
 * unit, copied) if it is new: 1 and *ret. 0 and *ret NULL when the family was gathered already
 * with another type: its samples cannot go with those. */
int om_families_get(struct om_families *fs, const char *name, enum dm_metric_type type,
		    const char *help, const char *unit, struct om_text **ret);

/* Moves the families of `from` into `fs`, samples after those gathered; `from` is left
 * empty. Families of a type that clashes are left out, counted in *ret_dropped (may be
 * NULL). */
int om_families_merge(struct om_families *fs, struct om_families *from, size_t *ret_dropped);

/* How the document is written: OpenMetrics 1.0, or the Prometheus text format 0.0.4 (as
 * om_to_prometheus_text() makes of the OpenMetrics text). */
enum om_flavor {
	OM_FLAVOR_OPENMETRICS,
	OM_FLAVOR_PROMETHEUS,
};

/* Every family, in the order they were first seen, and then "# EOF" with `eof` (OpenMetrics
 * only), into `out`, the samples moved there: `fs` has no samples left. */
int om_families_take(struct om_families *fs, enum om_flavor flavor, bool eof, struct om_text *out);
/* The same into a FILE, `fs` unchanged. */
int om_families_write(const struct om_families *fs, FILE *f);

/* The Prometheus text format 0.0.4 of an OpenMetrics text, for scrapers that ask for it. A
 * counter's family takes its samples' name ("# TYPE x counter" becomes "# TYPE x_total counter",
 * its "# HELP" alike), "unknown" becomes "untyped", "# UNIT" and "# EOF" go, and help texts
 * lose the \" escape that format does not know. -EOPNOTSUPP for types it has nothing like
 * (info, stateset, gaugehistogram), -EINVAL for a comment that is no descriptor. */
int om_to_prometheus_text(const char *openmetrics, char **ret);
