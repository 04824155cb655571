/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

int samples_add(struct samples *s, double x)
{
	if (s->n == s->allocated) {
		size_t m = s->allocated ? 2 * s->allocated : 32;
		double *v = realloc(s->v, m * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->allocated = m;
	}
	s->v[s->n++] = x;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double samples_quantile(const struct samples *s, double q)
{
	double *sorted, pos, r;
	size_t lo;

	if (s->n == 0)
		return NAN;
	/* A sorted copy: the samples keep their order, rounds stay paired. */
	sorted = malloc(s->n * sizeof(*sorted));
	if (!sorted)
		return NAN;
	memcpy(sorted, s->v, s->n * sizeof(*sorted));
	qsort(sorted, s->n, sizeof(*sorted), cmp_double);
	pos = q * (double)(s->n - 1);
	lo = (size_t)pos;
	r = lo + 1 < s->n ? sorted[lo] + (pos - (double)lo) * (sorted[lo + 1] - sorted[lo])
			  : sorted[lo];
	free(sorted);
	return r;
}

void samples_done(struct samples *s)
{
	free(s->v);
	*s = (struct samples){};
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
