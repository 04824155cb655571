/* SPDX-License-Identifier: Apache-2.0 */
/* tc on one interface: the clsact qdisc (through libnl-route) and dynmon's BPF filter on its
 * ingress and egress hooks (through libbpf). */
#pragma once

#include <netlink/netlink.h>
#include <stdbool.h>

#include "config.h"

/* dynmon's filter: first in line (priority 1), with a handle of its own so that it replaces
 * only itself. */
#define DM_TC_PRIORITY 1
#define DM_TC_HANDLE 0xd7

/* Adds a clsact qdisc to `ifindex` unless one exists; *ret_created tells which. */
int tc_clsact_ensure(struct nl_sock *sk, int ifindex, bool *ret_created);

/* Removes the clsact qdisc when no filter remains on either hook; 0 also when it stays. */
int tc_clsact_remove_if_unused(struct nl_sock *sk, int ifindex);

/* Puts `prog_fd` on the path's hook, atomically replacing dynmon's filter if there is one:
 * no packet passes unprobed in between. */
int tc_filter_attach(int ifindex, enum dm_path path, int prog_fd);

/* Removes dynmon's filter from the path's hook; 0 when it was not there. */
int tc_filter_detach(int ifindex, enum dm_path path);
