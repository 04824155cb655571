/* SPDX-License-Identifier: Apache-2.0 */
/* Key fields as label values a person reads: addresses, ports, MAC addresses, protocol and
 * interface names, enum names, names from a configured map. Every decoder writes into the
 * caller's buffer, already escaped for OpenMetrics, and allocates nothing: a million samples
 * are a million calls. */
#pragma once

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "fields.h"

/* Names of interfaces by index, looked up once per rendering (names change, so never for
 * longer): if_indextoname() is a system call. */
#define DM_IFNAME_CACHE_SIZE 64

struct dm_ifname_cache {
	struct {
		int ifindex; /* 0: free */
		char name[IF_NAMESIZE];
		bool exists;
	} slots[DM_IFNAME_CACHE_SIZE];
};

/* The decoder a field gets when the configuration names none, from its type and its name:
 * enums by name, char arrays as text, struct in6_addr an IPv6 address, a __be32 or 4-byte
 * array named *addr* an IPv4 address (16 bytes: IPv6, 6 bytes: MAC), a __be16 named *port* a
 * port, a 1-byte integer named *proto* an IP protocol, an integer named *ifindex* an
 * interface, other byte arrays and unions hex, other numbers numbers. DM_DECODER_AUTO for
 * structs and arrays of wider elements: their members or elements are labels of their own.
 * `name` is the field's own name ("" for a whole key). */
enum dm_decoder dm_decoder_default(const struct dm_field *f, const char *name);

/* Why decoder `d` cannot decode field `f` ("needs a 4-byte field"), NULL when it can. */
const char *dm_decoder_unfit(enum dm_decoder d, const struct dm_field *f);

/* The most bytes dm_label_format() writes for `f` with `d` (no NUL). */
size_t dm_label_max_len(enum dm_decoder d, const struct dm_field *f, const struct dm_key_label *k);

/* Writes the label value of field `f` of the key at `base` to `dst`, escaped, and returns the
 * end of what it wrote. `k` holds the map of DM_DECODER_MAP; `ifnames` serves IFNAME. */
char *dm_label_format(char *dst, enum dm_decoder d, const struct dm_field *f, const void *base,
		      const struct dm_key_label *k, struct dm_ifname_cache *ifnames);

/* The keyword of IP protocol `proto` ("tcp", "udp", "ipv6-icmp"), NULL for the ones the
 * built-in table does not know. Not getprotobynumber(): /etc/protocols may be out of a
 * sandboxed daemon's reach, and NSS has no place in a loop over a million entries. */
const char *dm_ip_protocol_name(uint64_t proto);

/* Decimal digits of `v` at `dst`; returns the end. */
char *dm_format_u64(char *dst, uint64_t v);
char *dm_format_i64(char *dst, int64_t v);
