/* SPDX-License-Identifier: Apache-2.0 */
/* Histogram buckets: which values a map's bucket i counts, as the "le" bound OpenMetrics wants.
 * The layouts describe what the dataplane computes for an integer observation v:
 *   log2      i = floor(log2(v)) + offset (v = 0 in the first bucket; offset 1 for BCC's
 *             bpf_log2l()): bucket i holds [2^(i-offset), 2^(i-offset+1)), le 2^(i-offset+1) - 1;
 *   linear    i = (v - start) / width: bucket i holds [start + i*width, start + (i+1)*width),
 *             le start + (i+1)*width - 1;
 *   explicit  bucket i holds what is above bounds[i-1] and at most bounds[i], le bounds[i].
 * The last bucket is always open-ended (le="+Inf"): dataplanes clamp their index to it, and
 * indices beyond it count there too. */
#pragma once

#include <stdint.h>

#include "config.h"

/* log2 bounds run out with 64-bit values: 2^64 - 1 is the last finite one. */
#define DM_HISTOGRAM_LOG2_MAX_BUCKETS 65

/* How many buckets a histogram has (the +Inf one included): the bounds and one above them for
 * explicit, else as configured or, when not, `available` (the array's size). 0 when there is
 * no telling (a hash without "buckets"). */
uint32_t dm_histogram_n_buckets(const struct dm_histogram_config *h, uint32_t available);

/* The finite upper bounds of buckets 0 .. n - 2 into ret[0 .. n - 2]. */
void dm_histogram_bounds(const struct dm_histogram_config *h, uint32_t n, double *ret);
