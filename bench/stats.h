/* SPDX-License-Identifier: Apache-2.0 */
/* Samples of one measured quantity, and the order statistics the benchmarks report: medians
 * and spreads, never means (a shared VM has long, rare stalls that a mean would absorb). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct samples {
	double *v;
	size_t n, allocated;
};

/* -ENOMEM when it cannot grow. */
int samples_add(struct samples *s, double x);

/* The q-quantile (0 <= q <= 1) by linear interpolation between the closest ranks; NaN when
 * there is no sample. The median is samples_quantile(s, 0.5). */
double samples_quantile(const struct samples *s, double q);

void samples_done(struct samples *s);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);
