/* SPDX-License-Identifier: Apache-2.0 */
/* A fork-join loop: fn(i) for every i < n, on the calling thread and on threads kept for it.
 * A scrape of many monitors is mostly system calls made one after another (a batch read per
 * map, a statistics query per program); the machine's other CPUs take a share of them. */
#pragma once

#include <stddef.h>

struct dm_pool;

typedef void (*dm_pool_fn)(size_t i, void *userdata);

/* A pool of `n_threads` threads beside the caller's; with 0, dm_pool_run() runs in the caller
 * alone. The threads block every signal (the event loop takes them). */
int dm_pool_new(unsigned n_threads, struct dm_pool **ret);
void dm_pool_free(struct dm_pool *p);

/* The threads worth having beside the caller's here: the CPUs it may run on less one, at most
 * `max`. */
unsigned dm_pool_default_threads(unsigned max);

/* Runs fn(i, userdata) once for each i < n, the caller and the pool's threads each taking the
 * next indexes as they become free (a few only: on the caller's thread); returns when every one
 * has run. fn must be safe to run for two
 * different i at once. One caller at a time (the event loop's thread). p NULL: the caller
 * alone. */
void dm_pool_run(struct dm_pool *p, size_t n, dm_pool_fn fn, void *userdata);
