#include <dynmon.h>

/* How many packets of each size pass the probe. The size is the whole frame as the probe sees
 * it (skb->len, Ethernet header included), counted in one of seven buckets:
 *
 *   index   0     1       2        3        4         5          6
 *   bytes   < 64  64-127  128-255  256-511  512-1023  1024-1499  >= 1500
 *
 * A full-size Ethernet frame (1514 bytes at MTU 1500) lands in bucket 6, and so do jumbo
 * frames and the super-packets that GRO/GSO glue together. */
#define N_BUCKETS 7

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, N_BUCKETS);
} PACKET_SIZES SEC(".maps");

static __always_inline __u32 size_bucket(__u32 len)
{
	if (len < 64)
		return 0;
	if (len < 128)
		return 1;
	if (len < 256)
		return 2;
	if (len < 512)
		return 3;
	if (len < 1024)
		return 4;
	if (len < 1500)
		return 5;
	return 6;
}

SEC("tc")
int count_packet_sizes(struct __sk_buff *skb)
{
	__u32 key = size_bucket(skb->len);
	__u64 *packets = bpf_map_lookup_elem(&PACKET_SIZES, &key);

	if (packets)
		__sync_fetch_and_add(packets, 1);
	return DYNMON_PASS;
}

char LICENSE[] SEC("license") = "GPL";
