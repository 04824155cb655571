/* SPDX-License-Identifier: Apache-2.0 */
/* What swap-on-read needs besides the dataplane: a way to wait for an RCU grace period (after
 * it, no program still runs on a map it was using), and a worker thread to wait in, so that the
 * daemon's event loop keeps serving other callers meanwhile. */
#pragma once

#include <systemd/sd-event.h>

/* Waiting for a grace period: an update of an ARRAY_OF_MAPS element from user space returns
 * only after one (the kernel's synchronize_rcu()). DESIGN-NOTES: ~7 ms median, p99 20-30 ms
 * under load. */
struct dm_grace;

int dm_grace_new(struct dm_grace **ret);
int dm_grace_wait(struct dm_grace *g); /* blocking; thread-safe */
void dm_grace_free(struct dm_grace *g);
/* How long the waits took (dynmon's own metrics). */
struct dm_durations;
const struct dm_durations *dm_grace_durations(const struct dm_grace *g);

/* One thread that runs jobs in order; each job's `done` then runs on the event loop. */
struct dm_worker;

typedef int (*dm_work_fn)(void *userdata);		/* on the worker thread */
typedef void (*dm_done_fn)(void *userdata, int result); /* on the event loop */

int dm_worker_new(sd_event *event, struct dm_worker **ret);
int dm_worker_submit(struct dm_worker *w, dm_work_fn work, dm_done_fn done, void *userdata);
/* Finishes the queued jobs (their `done` runs here), then stops the thread. NULL allowed. */
void dm_worker_free(struct dm_worker *w);
