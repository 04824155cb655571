/* SPDX-License-Identifier: Apache-2.0 */
/* Interfaces that come and go: the kernel's link notifications (RTNLGRP_LINK on a NETLINK_ROUTE
 * socket of libnl), read on the daemon's event loop, in the daemon's network namespace. */
#pragma once

#include <linux/netlink.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

struct link_event {
	int ifindex;
	const char *ifname; /* NULL when the message carries none */
	bool present;	    /* RTM_NEWLINK: it exists (appeared, or changed); RTM_DELLINK: gone */
};

/* Called for each notification; with `ev` NULL when notifications were lost (the socket's
 * buffer overflowed): the callee then looks at every interface it cares about again. */
typedef void (*link_event_fn)(const struct link_event *ev, void *userdata);

struct link_watch;

int link_watch_new(sd_event *event, link_event_fn fn, void *userdata, struct link_watch **ret);
void link_watch_free(struct link_watch *w);

/* What a RTM_NEWLINK or RTM_DELLINK message says; -EINVAL for any other or a malformed one.
 * `ev->ifname` points into the message. */
int link_event_parse(const struct nlmsghdr *nlh, struct link_event *ev);
