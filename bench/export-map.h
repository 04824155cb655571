/* SPDX-License-Identifier: Apache-2.0 */
/* The flow table bench-export exports: keyed by the 5-tuple in network byte order, as a
 * packet parser stores it, counting packets and bytes. Shared by the BPF object that gives the
 * map its BTF (export-map.bpf.c) and the benchmark that fills it from user space. */
#pragma once

#include <linux/types.h>

struct flow_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
};
