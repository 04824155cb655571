/* SPDX-License-Identifier: Apache-2.0 */
/* What pcn_log() sends from a Polycube-dialect program to the daemon: one record per call in the
 * BPF ring buffer map "dynmon_log". Shared by the BPF side (polycube.h) and the daemon's reader,
 * so both agree on the layout. */
#pragma once

#include <linux/types.h>

/* The map pcn_log() writes to; it exists only in objects built with PCN_LOG_LEVEL > 0. */
#define DYNMON_LOG_MAP_NAME "dynmon_log"
#define DYNMON_LOG_RINGBUF_SIZE (256 * 1024)

#define DYNMON_LOG_MAX_ARGS 4
/* The format string travels in the record, cut to this size (NUL included). */
#define DYNMON_LOG_FMT_MAX 128

/* Polycube's levels, most severe first. A record is written when its level is at most
 * PCN_LOG_LEVEL, so PCN_LOG_LEVEL=DYNMON_LOG_INFO keeps critical to info, and 0 keeps none.
 * (Polycube numbered them the other way round; code names the levels, never the numbers.) */
enum dynmon_log_level {
	DYNMON_LOG_OFF = 0,
	DYNMON_LOG_CRITICAL = 1,
	DYNMON_LOG_ERR = 2,
	DYNMON_LOG_WARN = 3,
	DYNMON_LOG_INFO = 4,
	DYNMON_LOG_DEBUG = 5,
	DYNMON_LOG_TRACE = 6,
};

/* The format keeps Polycube's conversions: besides printf's, %I is an IPv4 address, %P a port
 * and %M a MAC address, each passed as a (network-order) integer argument. */
struct dynmon_log_record {
	__u32 level;   /* enum dynmon_log_level */
	__u32 ifindex; /* the interface the packet was seen on */
	__u32 n_args;  /* how many of args[] the call passed */
	__u32 _pad;
	__u64 args[DYNMON_LOG_MAX_ARGS];
	char fmt[DYNMON_LOG_FMT_MAX]; /* always NUL-terminated */
};

/* The same layout on both sides of the ring buffer, whatever the compiler's target. */
_Static_assert(__builtin_offsetof(struct dynmon_log_record, args) == 16, "log record layout");
_Static_assert(__builtin_offsetof(struct dynmon_log_record, fmt) == 16 + 8 * DYNMON_LOG_MAX_ARGS,
	       "log record layout");
_Static_assert(sizeof(struct dynmon_log_record) ==
		   16 + 8 * DYNMON_LOG_MAX_ARGS + DYNMON_LOG_FMT_MAX,
	       "log record layout");
