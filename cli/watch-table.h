/* SPDX-License-Identifier: Apache-2.0 */
/* What `dynmonctl watch` shows: every number of a monitor's metrics on a row of its own, with
 * its change per second since the previous read. Pure: the caller reads the metrics and keeps
 * the time. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "metrics-select.h"

/* One value of one metric: "ingress packets_total [0]", "ingress flows [{...}].bytes". */
struct watch_row {
	char *path;    /* "ingress", "egress" */
	char *metric;  /* its name */
	char *element; /* where in the metric's value: "[0]", "[17].bytes"; "-" for the value itself
			*/
	enum metric_reading reading;
	bool numeric;
	long double value; /* numeric: the value shown (a delta metric's sum of reads) */
	char *text;	   /* not numeric: the value as JSON */
	bool has_rate;
	double rate; /* per second */
};

struct watch_table {
	struct watch_row *rows;
	size_t n;
};

void watch_table_done(struct watch_table *t);

/* The table of one read: the rows of the metrics on the paths `dir` chooses (only `name` if
 * not NULL; errors as metrics_find()), their readings from `config` (the Config property).
 * With `prev` (the previous read's table, `elapsed` seconds before) the rows get rates:
 *   - a running total: (value - previous) / elapsed; a value below the previous one is a
 *     counter that started again from zero (a new dataplane), whose delta is the value itself;
 *   - a delta metric (empty-on-read, swap-on-read: a read returns what came since the last
 *     one): value / elapsed, and the row shows the sum of every read so far. A row that a read
 *     no longer has (an emptied hash entry) stays, at rate 0;
 *   - gauges and values that are no numbers: none. */
int watch_table_build(json_t *metrics, json_t *config, enum metrics_direction dir, const char *name,
		      const struct watch_table *prev, double elapsed, struct watch_table *ret);

/* Prints the table: a header line, then one line per row, columns aligned; at most `max_rows`
 * rows (0: all), then a line saying how many were left out. */
int watch_table_print(const struct watch_table *t, size_t max_rows, FILE *f);
