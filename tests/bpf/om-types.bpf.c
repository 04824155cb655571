/* SPDX-License-Identifier: Apache-2.0 */
/* Keys and values for the OpenMetrics export tests (test-export): what dataplanes count by, as
 * clang describes them in BTF. Never loaded; test-export opens it for its BTF and its maps'
 * definitions, and includes this same file (with OM_TYPES_HOST defined) to fill entries
 * through the very declarations clang described. */
#include <linux/types.h>

#ifndef OM_TYPES_HOST
#include <linux/bpf.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#else
#include <netinet/in.h>
#endif

enum conn_state {
	CONN_NEW = 1,
	CONN_ESTABLISHED = 2,
	CONN_CLOSED = 7,
};

/* An IPv4 flow as a parser stores it: addresses and ports in network order. */
struct flow4_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 tcp_state; /* a number, named by a configured map */
	__u16 vlan;
};

struct l2_key {
	__u8 src_mac[6];
	__u8 dst_mac[6];
	__u32 ifindex;
};

struct v6_key {
	struct in6_addr src;
	__u8 dst_addr[16];
	enum conn_state state;
	char comm[8];
};

/* Nested and anonymous structs, and a bitfield. */
struct nested_key {
	struct {
		__be32 addr;
		__be16 port;
		__u16 zone;
	} src;
	union {
		__u32 ifindex;
	};
	__u32 prio : 4;
	__u32 mark : 28;
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
};

/* Numbers nested, in an array, as floats, and a text field that is no sample. */
struct conn_stats {
	__u64 packets;
	struct {
		__u32 min;
		__u32 max;
	} len;
	__u16 retries[2];
	double rtt_avg;
	__s32 credit;
	char tag[4];
};

/* A histogram per entry: log2 slots, and the sum of what was counted. */
struct latency_hist {
	__u64 slots[8];
	__u64 sum;
};

/* One bucket per entry, each with the sum of what it counted. */
struct bucket_stats {
	__u64 count;
	__u64 sum;
};

/* Histogram buckets per interface: a hash keyed by (ifindex, slot). */
struct slot_key {
	__u32 ifindex;
	__u32 slot;
};

struct rtt_summary {
	__u64 count;
	__u64 sum;
	__u64 p50;
	__u64 p99;
	__u64 p999;
	__u64 max;
};

struct size_summary {
	__u32 n;
	double total;
	double median;
};

#ifndef OM_TYPES_HOST
#define MAP(_type, _name, _key, _value)                                                            \
	struct {                                                                                   \
		__uint(type, _type);                                                               \
		__uint(max_entries, 16);                                                           \
		__type(key, _key);                                                                 \
		__type(value, _value);                                                             \
	} _name SEC(".maps")

MAP(BPF_MAP_TYPE_HASH, flows4, struct flow4_key, struct flow_stats);
MAP(BPF_MAP_TYPE_LRU_HASH, l2, struct l2_key, __u64);
MAP(BPF_MAP_TYPE_HASH, flows6, struct v6_key, struct conn_stats);
MAP(BPF_MAP_TYPE_PERCPU_HASH, nested, struct nested_key, struct flow_stats);
MAP(BPF_MAP_TYPE_ARRAY, log2_hist, __u32, __u64);
MAP(BPF_MAP_TYPE_HASH, slot_hist, struct slot_key, struct bucket_stats);
MAP(BPF_MAP_TYPE_HASH, size_hist, __u32, __u64);
MAP(BPF_MAP_TYPE_HASH, latency, __u32, struct latency_hist);
MAP(BPF_MAP_TYPE_PERCPU_ARRAY, rtt, __u32, struct rtt_summary);
MAP(BPF_MAP_TYPE_HASH, talkers, __be32, __u64);
MAP(BPF_MAP_TYPE_HASH, by_state, enum conn_state, __u64);
MAP(BPF_MAP_TYPE_HASH, by_comm, char[16], __u64);

/* A queue: libbpf keeps no BTF ids for it, the definition has the value's type. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, struct flow_stats);
} events SEC(".maps");

/* Types no map uses, so that clang keeps them. */
struct size_summary size_summary_type SEC(".data.types");
double double_type SEC(".data.types");
__s64 s64_type SEC(".data.types");

char LICENSE[] SEC("license") = "GPL";
#endif
