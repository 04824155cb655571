/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding raw map keys and values through BTF: into JSON for the Metrics view, and into
 * plain numbers for OpenMetrics. Pure functions over (btf, type id, bytes): no kernel. */
#pragma once

#include <bpf/btf.h>
#include <jansson.h>
#include <stdint.h>

/* A scalar as OpenMetrics needs it, at full precision. */
struct dm_number {
	enum { DM_NUMBER_U64, DM_NUMBER_I64, DM_NUMBER_F64 } kind;
	union {
		uint64_t u;
		int64_t i;
		double f;
	};
};

/* Decodes the bytes at `data` (btf__resolve_size(btf, type_id) of them) into JSON:
 * - integers as JSON integers (bool as true/false; u64 above INT64_MAX as a JSON real, the
 *   one place JSON integers of jansson cannot follow), char/signed char/unsigned char as integers;
 *   128-bit integers as hex strings ("0x1f"); all of them as the host reads them, as Polycube's
 *   JSON shows them, integers declared through a __be16/__be32/__be64 typedef included (a
 *   __be16 port 80 reads 20480 on a little-endian host) unless `network_order`, which reads
 *   those in network byte order (80: the metric's "network-byte-order" option);
 * - char arrays as strings (up to the first NUL; non-ASCII bytes become '?' in one that is not
 *   UTF-8), other arrays (signed/unsigned char ones too: __u8 mac[6]) as lists;
 * - structs and unions as objects keyed by field name, bitfields included, members of
 *   anonymous structs/unions merged into the parent;
 * - enums by the name of their value (the integer when no name matches);
 * - float/double as reals (NaN and infinities, which JSON lacks, as "NaN", "+Inf", "-Inf");
 *   pointers as integers;
 * - typedef, const, volatile, restrict, type_tag resolved.
 * Returns -EINVAL for a type that cannot be decoded (void, func, fwd) or a bad id, -ENOMEM. */
int btf_json_decode(const struct btf *btf, uint32_t type_id, const void *data, bool network_order,
		    json_t **ret);

/* Reads a scalar (integer, bool, enum, float, pointer; through typedefs and modifiers, __be*
 * typedefs always in network byte order: labels are for people) for OpenMetrics.
 * -EMEDIUMTYPE when the type is not a scalar (struct, union, array) or is a 128-bit integer;
 * -EINVAL for a type that cannot be decoded or a bad id. */
int btf_number_decode(const struct btf *btf, uint32_t type_id, const void *data,
		      struct dm_number *ret);
