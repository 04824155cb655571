/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>

#include "histogram.h"

uint32_t dm_histogram_n_buckets(const struct dm_histogram_config *h, uint32_t available)
{
	uint32_t n;

	if (h->layout == DM_HISTOGRAM_EXPLICIT)
		return h->n_bounds + 1;
	n = h->n_buckets ?: available;
	if (h->layout == DM_HISTOGRAM_LOG2 && n > DM_HISTOGRAM_LOG2_MAX_BUCKETS + h->offset)
		n = DM_HISTOGRAM_LOG2_MAX_BUCKETS + h->offset;
	return n;
}

/* Observations are integers: a bucket that ends before x ends at x - 1, and "le" is inclusive. */
static double bound(const struct dm_histogram_config *h, uint32_t i)
{
	switch (h->layout) {
	case DM_HISTOGRAM_LOG2:
		return ldexp(1, (int)i + 1 - (int)h->offset) - 1;
	case DM_HISTOGRAM_LINEAR:
		return (double)h->start + ((double)i + 1) * (double)h->width - 1;
	default:
		return h->bounds[i];
	}
}

void dm_histogram_bounds(const struct dm_histogram_config *h, uint32_t n, double *ret)
{
	for (uint32_t i = 0; i + 1 < n; i++)
		ret[i] = bound(h, i);
}
