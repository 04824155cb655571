/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's side of pcn_log(): a Polycube-dialect program built with PCN_LOG_LEVEL > 0 writes
 * one struct dynmon_log_record per call into its "dynmon_log" ring buffer (bpf/include/polycube.h);
 * here the records are formatted the way Polycube formatted them and logged, tagged with the
 * monitor's name. The formatter is pure; the reader runs on the daemon's sd-event loop. */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

#include "dynmon-log.h"
#include "errors.h"
#include "util.h"

/* Formats one record as Polycube's pcn_log would: printf's integer conversions (%d %i %u %x %X
 * %o %c %%, with flags "-+ #0", width, precision, '*' for either, and length modifiers hh h l ll
 * z j t), plus:
 *   %I  an IPv4 address from a network-order u32 argument, e.g. ip->saddr;
 *   %P  a port from a network-order u16 argument, e.g. udp->source -> "123";
 *   %M  a MAC address from the first 6 bytes in memory of the u64 argument: what a Polycube
 *       program passes, a `__be64 src:48` bitfield of its struct eth_hdr (on the little-endian
 *       hosts BPF runs on, the bitfield's value holds the bytes in wire order from the lowest
 *       one up), or *(u64 *)eth->h_source, read straight from the packet; a MAC assembled
 *       most significant byte first (mac[0] << 40 | ...) prints reversed, as in Polycube.
 * %I %P %M take a width and the '-' flag ("%-15I"). An argument is each conversion's, in order,
 * as printf would take it from the u64 the BPF side widened it to: %d prints it as an int, %hhu
 * as an unsigned char, %lu as 64 bits. A missing argument prints as "?"; %s, %p, %n and the
 * floating-point conversions print "(unsupported)" (the record carries integers only) and use
 * up their argument; anything else after '%' is printed as written. Widths and precisions above
 * PCNLOG_MAX_WIDTH make the conversion print as written.
 * Always NUL-terminates; returns the length written (truncated to size-1), or -EINVAL for a NULL
 * record, a NULL buf or a size of 0. */
int pcnlog_format(const struct dynmon_log_record *r, char *buf, size_t size);

#define PCNLOG_MAX_WIDTH 1024

/* "OFF" "CRITICAL" "ERR" "WARN" "INFO" "DEBUG" "TRACE" for enum dynmon_log_level; NULL for
 * anything else. */
const char *pcnlog_level_to_string(int level);

/* Polycube's names, case-insensitive (also "ERROR" and "WARNING"); -EINVAL otherwise. */
int pcnlog_level_from_string(const char *s);
/* The level named `s`, or -EINVAL with the message every door gives (D-Bus, REST). */
int pcnlog_level_parse(const char *s, dm_error *e);

/* The syslog priority a record of `level` is logged at: CRITICAL LOG_CRIT, ERR LOG_ERR, WARN
 * LOG_WARNING, everything else (INFO, DEBUG, TRACE, unknown) LOG_INFO: the monitor's level
 * already filtered it. */
int pcnlog_level_to_priority(int level);

/* Reads a dataplane's "dynmon_log" ring buffer from the daemon's event loop: the ring buffer's
 * epoll fd is an IO source of `event`, and every record is logged at its level's priority, as
 * "<monitor>: <formatted message>" (newlines and other control characters but tabs become
 * spaces, so that one record stays one log line). At most PCNLOG_READER_BATCH records are read
 * per event-loop iteration, so that a chatty dataplane cannot starve the bus; the rest wait for
 * the next iteration. The caller keeps `ringbuf_map_fd` open for the reader's lifetime. */
struct pcnlog_reader;

#define PCNLOG_READER_BATCH 256

int pcnlog_reader_new(sd_event *event, int ringbuf_map_fd, const char *monitor_name,
		      struct pcnlog_reader **ret);

/* Frees the reader, NULL allowed; logs what is left in the ring buffer first (at most one ring
 * buffer's worth, so a program still running cannot keep it busy). */
void pcnlog_reader_free(struct pcnlog_reader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pcnlog_reader *, pcnlog_reader_free);

/* Where the lines go instead of the daemon's log (log.h), e.g. for a test; a NULL sink restores
 * the log. `line` is "<monitor>: <message>", valid during the call only. */
typedef void (*pcnlog_sink_t)(void *userdata, int priority, const char *line);
void pcnlog_reader_set_sink(struct pcnlog_reader *r, pcnlog_sink_t sink, void *userdata);
