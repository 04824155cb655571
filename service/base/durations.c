/* SPDX-License-Identifier: Apache-2.0 */
#include "durations.h"

#include <string.h>
#include <time.h>

const double dm_duration_bounds[DM_DURATION_N_BOUNDS] = DM_DURATION_BOUNDS;

uint64_t dm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void dm_durations_observe(struct dm_durations *d, uint64_t start_ns, bool failed)
{
	uint64_t ns;
	size_t i = 0;

	if (!d)
		return;
	ns = dm_now_ns() - start_ns;
	while (i < DM_DURATION_N_BOUNDS && (double)ns / 1e9 > dm_duration_bounds[i])
		i++;
	__atomic_fetch_add(&d->buckets[i], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&d->sum_ns, ns, __ATOMIC_RELAXED);
	if (failed)
		__atomic_fetch_add(&d->failures, 1, __ATOMIC_RELAXED);
}

void dm_durations_copy(const struct dm_durations *d, struct dm_durations *ret)
{
	for (size_t i = 0; i <= DM_DURATION_N_BOUNDS; i++)
		ret->buckets[i] = __atomic_load_n(&d->buckets[i], __ATOMIC_RELAXED);
	ret->sum_ns = __atomic_load_n(&d->sum_ns, __ATOMIC_RELAXED);
	ret->failures = __atomic_load_n(&d->failures, __ATOMIC_RELAXED);
}
