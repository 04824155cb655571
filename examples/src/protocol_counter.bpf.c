/* Packets and bytes per IP protocol (1 ICMP, 6 TCP, 17 UDP, ...), IPv4 only: other packets
 * are not counted. Bytes are what the probe sees: the whole frame, Ethernet header included. */
#include <uapi/linux/if_ether.h>
#include <uapi/linux/ip.h>

struct proto_stats {
	u64 packets;
	u64 bytes;
};

/* Keyed by the protocol number of the IPv4 header: 256 keys at most. */
BPF_TABLE("hash", u8, struct proto_stats, PROTOCOLS, 256);

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct proto_stats zero = {};
	struct proto_stats *stats;
	u8 proto;

	if ((void *)(ip + 1) > data_end || eth->h_proto != htons(ETH_P_IP))
		return RX_OK;

	proto = ip->protocol;
	stats = PROTOCOLS.lookup_or_try_init(&proto, &zero);
	if (stats) {
		/* Atomic: the same entry is updated from every CPU. */
		__sync_fetch_and_add(&stats->packets, 1);
		__sync_fetch_and_add(&stats->bytes, md->packet_len);
	}
	return RX_OK;
}
