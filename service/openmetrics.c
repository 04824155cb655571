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
#define NUMBER_MAX 32

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
