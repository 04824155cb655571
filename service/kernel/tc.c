/* SPDX-License-Identifier: Apache-2.0 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_sched.h>
#include <netlink/route/classifier.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "log.h"
#include "tc.h"

#ifndef TC_H_CLSACT
#define TC_H_CLSACT TC_H_INGRESS
#endif
#ifndef TC_H_MIN_INGRESS
#define TC_H_MIN_INGRESS 0xFFF2U
#define TC_H_MIN_EGRESS 0xFFF3U
#endif

DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_qdisc *, rtnl_qdisc_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free);

/* libnl-route 3.7 has no clsact module, but passes the kind through to the kernel. */
static int clsact_new(int ifindex, struct rtnl_qdisc **ret)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	if (!q)
		return -ENOMEM;
	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_CLSACT);
	rtnl_tc_set_handle(TC_CAST(q), TC_H_MAKE(TC_H_CLSACT, 0));
	if (rtnl_tc_set_kind(TC_CAST(q), "clsact") < 0) {
		rtnl_qdisc_put(q);
		return -EINVAL;
	}
	*ret = q;
	return 0;
}

static int nl_to_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

int tc_clsact_ensure(struct nl_sock *sk, int ifindex, bool *ret_created)
{
	_cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q = NULL;
	int r;

	r = clsact_new(ifindex, &q);
	if (r < 0)
		return r;
	r = rtnl_qdisc_add(sk, q, NLM_F_CREATE | NLM_F_EXCL);
	if (r == -NLE_EXIST) {
		*ret_created = false;
		return 0;
	}
	if (r < 0)
		return log_debug_errno(nl_to_errno(r), "Cannot add clsact to ifindex %d: %s",
				       ifindex, nl_geterror(r));
	*ret_created = true;
	return 0;
}

static int count_filters(struct nl_sock *sk, int ifindex, uint32_t parent)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	int r;

	r = rtnl_cls_alloc_cache(sk, ifindex, parent, &cache);
	if (r < 0)
		return nl_to_errno(r);
	return nl_cache_nitems(cache);
}

int tc_clsact_remove_if_unused(struct nl_sock *sk, int ifindex)
{
	_cleanup_(rtnl_qdisc_putp) struct rtnl_qdisc *q = NULL;
	int in, out, r;

	in = count_filters(sk, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
	out = count_filters(sk, ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));
	if (in < 0 || out < 0)
		return in < 0 ? in : out;
	if (in > 0 || out > 0) {
		log_debug("clsact on ifindex %d still has %d filter(s), keeping it", ifindex,
			  in + out);
		return 0;
	}
	r = clsact_new(ifindex, &q);
	if (r < 0)
		return r;
	r = rtnl_qdisc_delete(sk, q);
	if (r < 0 && r != -NLE_OBJ_NOTFOUND)
		return nl_to_errno(r);
	return 0;
}

static void hook_init(struct bpf_tc_hook *hook, int ifindex, enum dm_path path)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = ifindex;
	hook->attach_point = path == DM_PATH_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

int tc_priority_in_use(struct nl_sock *sk, int ifindex, enum dm_path path, uint32_t priority)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	uint32_t parent =
	    TC_H_MAKE(TC_H_CLSACT, path == DM_PATH_INGRESS ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
	int r;

	r = rtnl_cls_alloc_cache(sk, ifindex, parent, &cache);
	if (r < 0)
		return nl_to_errno(r);
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o))
		if (rtnl_cls_get_prio((struct rtnl_cls *)o) == priority)
			return 1;
	return 0;
}

uint32_t tc_prog_id(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (prog_fd < 0 || bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return 0;
	return info.id;
}

uint32_t tc_slot_prog_id(int ifindex, enum dm_path path, const struct tc_slot *slot)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = slot->handle, .priority = slot->priority);

	hook_init(&hook, ifindex, path);
	if (bpf_tc_query(&hook, &opts) < 0)
		return 0;
	return opts.prog_id;
}

/* A filter of ours: at `slot`, running the program `prog_id` that we put there. */
static bool slot_is_ours(int ifindex, enum dm_path path, const struct tc_slot *slot,
			 uint32_t prog_id)
{
	return slot->handle != 0 && prog_id != 0 && tc_slot_prog_id(ifindex, path, slot) == prog_id;
}

/* Puts the filter at the first free place from dynmon's own (priority 1, handle 0xd7) on:
 * another owner's filter is never replaced (no BPF_TC_F_REPLACE), only stepped around. */
static int attach_free_slot(int ifindex, enum dm_path path, int prog_fd, struct tc_slot *ret)
{
	struct bpf_tc_hook hook;
	int r = -EEXIST;
	/* A priority asked for (the monitor's place in a chain) is kept: only handles step. */
	uint32_t first = ret->priority ?: DM_TC_PRIORITY, n = ret->priority ? 1 : TC_SLOTS_TRIED;

	hook_init(&hook, ifindex, path);
	for (uint32_t prio = first; prio < first + n; prio++)
		for (uint32_t handle = DM_TC_HANDLE; handle < DM_TC_HANDLE + TC_SLOTS_TRIED;
		     handle++) {
			LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio,
				    .prog_fd = prog_fd);

			r = bpf_tc_attach(&hook, &opts);
			if (r == 0) {
				*ret = (struct tc_slot){.handle = handle, .priority = prio};
				return 0;
			}
			if (r == -EINVAL)
				break; /* another kind of filter has this priority */
			if (r != -EEXIST)
				return r;
		}
	return r == -EINVAL ? -EEXIST : r;
}

int tc_filter_attach(int ifindex, enum dm_path path, int prog_fd, int old_prog_fd,
		     struct tc_slot *slot)
{
	return tc_filter_adopt(ifindex, path, prog_fd, tc_prog_id(old_prog_fd), slot);
}

int tc_filter_adopt(int ifindex, enum dm_path path, int prog_fd, uint32_t old_prog_id,
		    struct tc_slot *slot)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = slot->handle, .priority = slot->priority,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);

	/* Ours in place: replaced in one step, no packet passes unprobed. */
	if (slot_is_ours(ifindex, path, slot, old_prog_id)) {
		hook_init(&hook, ifindex, path);
		return bpf_tc_attach(&hook, &opts);
	}
	return attach_free_slot(ifindex, path, prog_fd, slot);
}

int tc_filter_detach(int ifindex, enum dm_path path, uint32_t prog_id, struct tc_slot *slot)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = slot->handle, .priority = slot->priority);
	int r;

	if (!slot_is_ours(ifindex, path, slot, prog_id)) {
		if (slot->handle != 0)
			log_notice("The tc filter %x:%x on ifindex %d is no longer dynmon's, "
				   "leaving it.",
				   slot->priority, slot->handle, ifindex);
		*slot = (struct tc_slot){};
		return 0;
	}
	hook_init(&hook, ifindex, path);
	r = bpf_tc_detach(&hook, &opts);
	if (r == 0 || r == -ENOENT)
		*slot = (struct tc_slot){};
	return r == -ENOENT ? 0 : r;
}
