/* SPDX-License-Identifier: Apache-2.0 */
/* XDP on one interface: dynmon's ingress program in generic (skb) or driver mode. */
#pragma once

#include <stdbool.h>

/* Puts `prog_fd` on the interface. With `old_prog_fd` >= 0, replaces exactly that program
 * atomically; otherwise fails with -EBUSY when another XDP program is there. */
int xdp_prog_attach(int ifindex, int prog_fd, int old_prog_fd, bool driver_mode);

/* Removes `prog_fd` from the interface, and only it; 0 when it was not there. */
int xdp_prog_detach(int ifindex, int prog_fd, bool driver_mode);

/* Puts `prog_fd` on the interface in place of `old_prog_fd` (a program a previous dynmond left
 * there), atomically and only if that program is still the one there; attaches when there is
 * none. -EBUSY when another program is there. */
int xdp_prog_adopt(int ifindex, int prog_fd, int old_prog_fd, bool driver_mode);
