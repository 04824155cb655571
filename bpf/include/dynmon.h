/* SPDX-License-Identifier: Apache-2.0 */
/* What injected code in the libbpf dialect includes: the kernel's BPF definitions, libbpf's
 * helpers, and dynmon's verdicts. A program is one SEC("tc") function per path; every map it
 * declares with BTF (SEC(".maps")) can be named in the path's metric-configs. */
#pragma once

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* A probe is transparent: DYNMON_PASS lets the packet go on to the next tc filter (as if the
 * probe were not there); DYNMON_DROP drops it. */
#define DYNMON_PASS TC_ACT_UNSPEC
#define DYNMON_DROP TC_ACT_SHOT
