/* SPDX-License-Identifier: Apache-2.0 */
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "link.h"
#include "log.h"

/* Large enough that a burst of interfaces coming and going does not overflow it; if it does,
 * the callee is told to look again (see link_event_fn). */
#define LINK_RCVBUF (1024 * 1024)

struct link_watch {
	struct nl_sock *sk;
	sd_event_source *source;
	link_event_fn fn;
	void *userdata;
};

int link_event_parse(const struct nlmsghdr *nlh, struct link_event *ev)
{
	static struct nla_policy policy[IFLA_MAX + 1] = {
	    [IFLA_IFNAME] = {.type = NLA_STRING, .maxlen = IFNAMSIZ},
	};
	struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return -EINVAL;
	if (!nlmsg_valid_hdr(nlh, sizeof(*ifi)))
		return -EINVAL;
	ifi = nlmsg_data(nlh);
	if (ifi->ifi_index <= 0)
		return -EINVAL;
	/* libnl's parser does not write to the message; its prototype is just not const. */
	if (nlmsg_parse((struct nlmsghdr *)nlh, sizeof(*ifi), tb, IFLA_MAX, policy) < 0)
		return -EINVAL;
	*ev = (struct link_event){
	    .ifindex = ifi->ifi_index,
	    .ifname = tb[IFLA_IFNAME] ? nla_get_string(tb[IFLA_IFNAME]) : NULL,
	    .present = nlh->nlmsg_type == RTM_NEWLINK,
	};
	return 0;
}

static int on_message(struct nl_msg *msg, void *userdata)
{
	struct link_watch *w = userdata;
	struct link_event ev;

	if (link_event_parse(nlmsg_hdr(msg), &ev) >= 0)
		w->fn(&ev, w->userdata);
	return NL_OK;
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct link_watch *w = userdata;
	int r;

	r = nl_recvmsgs_default(w->sk);
	/* ENOBUFS (libnl says NLE_NOMEM): the kernel dropped notifications. */
	if (r == -NLE_NOMEM) {
		log_warning("Link notifications were lost; looking at every interface again.");
		w->fn(NULL, w->userdata);
	} else if (r < 0 && r != -NLE_AGAIN) {
		log_debug("Failed to read link notifications, ignoring: %s", nl_geterror(r));
	}
	return 0;
}

static int link_watch_connect(struct link_watch *w)
{
	int r;

	w->sk = nl_socket_alloc();
	if (!w->sk)
		return -ENOMEM;
	/* Notifications carry no sequence number of ours. */
	nl_socket_disable_seq_check(w->sk);
	r = nl_socket_modify_cb(w->sk, NL_CB_VALID, NL_CB_CUSTOM, on_message, w);
	if (r >= 0)
		r = nl_connect(w->sk, NETLINK_ROUTE);
	if (r >= 0)
		r = nl_socket_add_membership(w->sk, RTNLGRP_LINK);
	if (r >= 0)
		r = nl_socket_set_nonblocking(w->sk);
	if (r >= 0)
		r = nl_socket_set_buffer_size(w->sk, LINK_RCVBUF, 0);
	if (r < 0)
		return log_error_errno(EIO, "Failed to subscribe to link notifications: %s",
				       nl_geterror(r));
	return 0;
}

int link_watch_new(sd_event *event, link_event_fn fn, void *userdata, struct link_watch **ret)
{
	struct link_watch *w;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->userdata = userdata;
	r = link_watch_connect(w);
	if (r >= 0)
		r = sd_event_add_io(event, &w->source, nl_socket_get_fd(w->sk), EPOLLIN,
				    on_readable, w);
	if (r < 0) {
		link_watch_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

void link_watch_free(struct link_watch *w)
{
	if (!w)
		return;
	sd_event_source_disable_unref(w->source);
	if (w->sk)
		nl_socket_free(w->sk);
	free(w);
}
