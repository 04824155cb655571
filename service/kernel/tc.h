/* SPDX-License-Identifier: Apache-2.0 */
/* tc on one interface: the clsact qdisc (through libnl-route) and dynmon's BPF filter on its
 * ingress and egress hooks (through libbpf). */
#pragma once

#include <netlink/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* Where dynmon's filter goes when no place is asked for: first in line (priority 1), with a
 * handle of its own. Monitors ask for their chain's priority (core/chain.h). */
#define DM_TC_PRIORITY 1
#define DM_TC_HANDLE 0xd7

/* Adds a clsact qdisc to `ifindex` unless one exists; *ret_created tells which. */
int tc_clsact_ensure(struct nl_sock *sk, int ifindex, bool *ret_created);

/* Removes the clsact qdisc when no filter remains on either hook; 0 also when it stays. */
int tc_clsact_remove_if_unused(struct nl_sock *sk, int ifindex);

/* Where a filter of dynmon's sits on a hook; handle 0: none. */
struct tc_slot {
	uint32_t handle;
	uint32_t priority;
};

/* How many priorities, and handles per priority, dynmon tries for a free place. */
#define TC_SLOTS_TRIED 16

/* 1 when some filter (anyone's) sits at `priority` on the path's hook, else 0. */
int tc_priority_in_use(struct nl_sock *sk, int ifindex, enum dm_path path, uint32_t priority);

/* The id of a program (0 when `prog_fd` is -1 or unknown): what says a filter is ours. */
uint32_t tc_prog_id(int prog_fd);
/* The id of the program of the filter at `slot`; 0 when there is none (or not a BPF one). */
uint32_t tc_slot_prog_id(int ifindex, enum dm_path path, const struct tc_slot *slot);

/* Puts `prog_fd` on the path's hook. When our filter is at `slot` running `old_prog_fd` it is
 * replaced there atomically: no packet passes unprobed in between. Otherwise (none, or the
 * filter there is no longer ours) the program goes to the first free place at `slot`'s
 * priority when it names one (the monitor's place in its chain: only the handle steps from 0xd7
 * on), else from priority 1 on; `slot` says where. A filter dynmon did not put is never
 * replaced. */
int tc_filter_attach(int ifindex, enum dm_path path, int prog_fd, int old_prog_fd,
		     struct tc_slot *slot);
/* The same with the old program known by its id (a restarted daemon's, from the state). */
int tc_filter_adopt(int ifindex, enum dm_path path, int prog_fd, uint32_t old_prog_id,
		    struct tc_slot *slot);

/* Removes our filter at `slot`, if it still runs `prog_id`: a filter someone else put there
 * since stays. 0 also when it was not there; `slot` is cleared. */
int tc_filter_detach(int ifindex, enum dm_path path, uint32_t prog_id, struct tc_slot *slot);
