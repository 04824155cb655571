/* SPDX-License-Identifier: Apache-2.0 */
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

int tc_filter_attach(int ifindex, enum dm_path path, int prog_fd)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DM_TC_HANDLE, .priority = DM_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);

	hook_init(&hook, ifindex, path);
	return bpf_tc_attach(&hook, &opts);
}

int tc_filter_detach(int ifindex, enum dm_path path)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = DM_TC_HANDLE, .priority = DM_TC_PRIORITY);
	int r;

	hook_init(&hook, ifindex, path);
	r = bpf_tc_detach(&hook, &opts);
	return r == -ENOENT ? 0 : r;
}
