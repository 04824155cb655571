/* SPDX-License-Identifier: Apache-2.0 */
/* Only a map, with BTF for its key and value: bench-export sets its size, loads the object and
 * fills the map from user space. No program. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "export-map.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1000000);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
