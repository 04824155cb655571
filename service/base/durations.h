/* SPDX-License-Identifier: Apache-2.0 */
/* How long something took, counted into fixed buckets of seconds: what dynmon's own metrics
 * publish as a histogram (selfmetrics.h). Observed from any thread (the compile and the grace
 * period run in the worker), read from the event loop: every count is an atomic. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The upper bounds, in seconds, from a millisecond (a grace period) to ten seconds (clang on a
 * loaded machine); one more bucket, +Inf, holds the rest. */
#define DM_DURATION_BOUNDS                                                                         \
	{                                                                                          \
		0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10             \
	}
#define DM_DURATION_N_BOUNDS 13

struct dm_durations {
	uint64_t buckets[DM_DURATION_N_BOUNDS + 1]; /* not cumulative; the last one is +Inf */
	uint64_t sum_ns;
	uint64_t failures; /* of the observations, those that failed */
};

extern const double dm_duration_bounds[DM_DURATION_N_BOUNDS];

/* Now, on CLOCK_MONOTONIC, in nanoseconds. */
uint64_t dm_now_ns(void);

/* Counts one observation that began at `start_ns` (dm_now_ns()); `failed` counts it a failure
 * too. `d` may be NULL. */
void dm_durations_observe(struct dm_durations *d, uint64_t start_ns, bool failed);

/* A consistent enough copy to render: each field read atomically. */
void dm_durations_copy(const struct dm_durations *d, struct dm_durations *ret);
