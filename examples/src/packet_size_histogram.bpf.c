#include <dynmon.h>

/* The sizes of the frames that pass the probe, as a histogram: how many frames fell in each
 * size range, and how many bytes they had in all. The size is the whole frame as the probe
 * sees it (skb->len, Ethernet header included):
 *
 *   bucket  0     1       2        3        4         5          6
 *   bytes   < 64  64-127  128-255  256-511  512-1023  1024-1499  >= 1500
 *
 * The configuration gives dynmon the same bounds (63, 127, 255, 511, 1023, 1499: "le", the
 * largest size a bucket holds); the last bucket is everything above them (le="+Inf"). */
#define N_BUCKETS 7

struct size_histogram {
	__u64 buckets[N_BUCKETS];
	__u64 sum; /* bytes of every frame counted: the histogram's _sum */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct size_histogram);
	__uint(max_entries, 1);
} FRAME_SIZES SEC(".maps");

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
int count_frame_sizes(struct __sk_buff *skb)
{
	__u32 zero = 0, bucket = size_bucket(skb->len);
	struct size_histogram *h = bpf_map_lookup_elem(&FRAME_SIZES, &zero);

	if (h) {
		__sync_fetch_and_add(&h->buckets[bucket], 1);
		__sync_fetch_and_add(&h->sum, skb->len);
	}
	return DYNMON_PASS;
}

char LICENSE[] SEC("license") = "GPL";
