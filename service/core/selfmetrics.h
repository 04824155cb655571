/* SPDX-License-Identifier: Apache-2.0 */
/* dynmon's own metrics: how its programs run, how full its maps are, how its reads, injects,
 * compiles and grace periods went. The counters live where things happen (struct
 * manager_stats, struct monitor_stats, the grace period's and the compiler's durations);
 * this gathers them, with what the kernel says of the programs and maps, into OpenMetrics
 * families named dynmon_*, for /metrics and the manager's SelfMetrics property.
 * docs/OPENMETRICS.md lists them. */
#pragma once

#include <stdint.h>
#include <stdio.h>

struct manager;
struct monitor;

/* Counts one read of a monitor's metrics (any door, any format) that took `ns` and ended with
 * `r`. */
void monitor_stats_read(struct monitor *m, uint64_t ns, int r);

struct om_families;

/* The families, into `fs`: what /metrics adds after the monitors' families. */
int selfmetrics_render(struct manager *m, struct om_families *fs);

/* The whole document, "# EOF" included. */
int selfmetrics_document(struct manager *m, char **ret);

/* Turns the kernel's run-time statistics of BPF programs on for as long as dynmond runs
 * (BPF_ENABLE_STATS: off again when its fd closes): the programs' run count and run time
 * are counted only then, at a cost per packet (two clock reads). */
int selfmetrics_enable_bpf_stats(struct manager *m);
