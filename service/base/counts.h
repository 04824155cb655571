/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* A count remembered per object (keyed by its address) between reads, for dynmon's own metrics:
 * how many entries a map held, how many series a budget folded. Safe across threads (the event
 * loop and the swap worker both read). Small: a linear search over a few hundred keys. */
struct dm_counts {
	pthread_mutex_t lock;
	struct dm_count {
		const void *key;
		size_t n;
	} * v;
	size_t len;
};

#define DM_COUNTS_INIT                                                                             \
	{                                                                                          \
		.lock = PTHREAD_MUTEX_INITIALIZER                                                  \
	}

/* Sets key's count (a key is added; out of memory, it is left uncounted). */
void dm_counts_set(struct dm_counts *t, const void *key, size_t n);
/* key's count into *ret; false when key has none. */
bool dm_counts_get(struct dm_counts *t, const void *key, size_t *ret);
/* Forgets key (when the object goes away); the table's memory goes with its last key. */
void dm_counts_forget(struct dm_counts *t, const void *key);
