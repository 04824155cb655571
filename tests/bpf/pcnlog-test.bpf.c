/* SPDX-License-Identifier: Apache-2.0 */
/* A Polycube-dialect program as dynmond's translation leaves it (CTXTYPE defined, polycube.h
 * included, the entry appended), with pcn_log() compiled in up to DEBUG. test-pcnlog runs it
 * with BPF_PROG_TEST_RUN on a UDP packet it builds, and checks what the daemon's reader logs. */
#define CTXTYPE __sk_buff
/* A number, not DYNMON_LOG_DEBUG: polycube.h tests it with #if, which cannot see an enum. */
#define PCN_LOG_LEVEL 5
#include "polycube.h"

_Static_assert(PCN_LOG_LEVEL == DYNMON_LOG_DEBUG, "the test expects logging up to DEBUG");

/* As the upstream examples declare it: the MACs are 48-bit bitfields. */
struct eth_hdr {
	__be64 dst : 48;
	__be64 src : 48;
	__be16 proto;
} __attribute__((packed));

static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct eth_hdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);
	__u8 *ntp = (void *)(udp + 1);

	if ((void *)(ntp + 1) > data_end)
		return RX_OK;
	pcn_log(ctx, LOG_DEBUG, "%I:%P\t-> %I:%P", ip->saddr, udp->source, ip->daddr, udp->dest);
	pcn_log(ctx, LOG_WARN, "%M -> %M", eth->src, eth->dst);
	pcn_log(ctx, LOG_INFO, "NTP mode: %hhu", (uint8_t)(*ntp & 0x07));
	pcn_log(ctx, LOG_ERR, "one record,\r\none line\n");
	pcn_log(ctx, LOG_TRACE, "above PCN_LOG_LEVEL: compiled away");
	return RX_OK;
}

DM_POLYCUBE_ENTRY(pcnlog_test)
