#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The fleet's flow monitor: an LRU hash of MAX entries keyed by the 5-tuple, packets and bytes
per flow, exported to OpenMetrics with decoded labels (and, with BUDGET, the series budget's
fields, e.g. '{"top-k": 100}').

  mkconfig.py MAX [BUDGET-JSON] > flows.json
"""
import json
import sys

CODE = """#include <dynmon.h>
#include <linux/if_ether.h>
#include <linux/ip.h>

struct flow_key {
	__be32 saddr, daddr;
	__be16 sport, dport;
	__u8 proto;
};
struct flow_value {
	__u64 packets, bytes;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
	__uint(max_entries, %d);
} FLOWS SEC(".maps");

SEC("tc")
int count_flows(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__be16 *ports = data + sizeof(*eth) + sizeof(*ip);
	struct flow_key k = {};
	struct flow_value one = {1, skb->len}, *v;

	if ((void *)(ports + 2) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5)
		return DYNMON_PASS;
	k.saddr = ip->saddr;
	k.daddr = ip->daddr;
	k.proto = ip->protocol;
	if (ip->protocol == 6 || ip->protocol == 17) {
		k.sport = ports[0];
		k.dport = ports[1];
	}
	v = bpf_map_lookup_elem(&FLOWS, &k);
	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, skb->len);
	} else {
		bpf_map_update_elem(&FLOWS, &k, &one, BPF_NOEXIST);
	}
	return DYNMON_PASS;
}
char LICENSE[] SEC("license") = "GPL";
"""


def main():
    meta = {"type": "counter", "help": "Packets and bytes per flow.", "labels": []}
    if len(sys.argv) > 2:
        meta.update(json.loads(sys.argv[2]))
    print(json.dumps({"ingress-path": {
        "name": "flows",
        "code": CODE % int(sys.argv[1]),
        "metric-configs": [{"name": "flows", "map-name": "FLOWS", "open-metrics-metadata": meta}],
    }}))


if __name__ == "__main__":
    main()
