/* Packets and bytes per IPv4 source address, for the addresses seen most recently: the map is
 * an LRU hash, so when it is full the source not heard from for the longest time makes room
 * for a new one. Sort by bytes on the reading side to get the top talkers. */
#include <uapi/linux/if_ether.h>
#include <uapi/linux/ip.h>

struct talker_stats {
	u64 packets;
	u64 bytes;
};

/* The key stays in network order, as in the header. The metric's "network-byte-order" option
 * has dynmon decode the __be32 key into the address as one number (192.0.2.2 is 3221225986);
 * without it the JSON shows the key as the host reads it, as Polycube's did. */
BPF_TABLE("lru_hash", __be32, struct talker_stats, TALKERS, 1024);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct talker_stats zero = {};
	struct talker_stats *stats;
	__be32 saddr;

	if ((void *)(ip + 1) > data_end || eth->h_proto != htons(ETH_P_IP))
		return RX_OK;

	saddr = ip->saddr;
	stats = TALKERS.lookup_or_try_init(&saddr, &zero);
	if (stats) {
		__sync_fetch_and_add(&stats->packets, 1);
		__sync_fetch_and_add(&stats->bytes, md->packet_len);
	}
	return RX_OK;
}
