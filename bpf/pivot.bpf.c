/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* The pivot of swap-on-read: sits on the hook and jumps to whichever copy of the user's program
 * is live. The index is a constant, so the JIT turns the tail call into a direct jump that the
 * kernel patches when the slot changes (DESIGN-NOTES: +0-2 ns a packet; a variable index costs
 * +12-16 ns). One object per path and hook; the daemon loads only the program its hook runs. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dm_progs SEC(".maps");

SEC("tc")
int dm_pivot_tc(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &dm_progs, 0);
	/* An empty slot: be transparent, as a probe is. */
	return TC_ACT_UNSPEC;
}

SEC("xdp")
int dm_pivot_xdp(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &dm_progs, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
