/* SPDX-License-Identifier: Apache-2.0 */
/* An OpenMetrics 1.0 text writer: families, samples, escaping, "# EOF". It knows nothing of
 * maps or BPF: callers hand it names, labels and numbers. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "btf-json.h"
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
