/* SPDX-License-Identifier: Apache-2.0 */
/* Map bytes to JSON text through BTF, streamed (jsonw.h): the text json_dumps(JSON_COMPACT)
 * makes of the tests' btf_json_decode() tree (tests/oracle/), without the tree, and with u64
 * above INT64_MAX written exactly instead of as a real. Each kind is shown thus:
 * - integers as JSON integers (bool as true/false), char/signed char/unsigned char as integers;
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
 *
 * A type is compiled once into a renderer: the text between its values precomputed (braces,
 * keys, commas), its scalars as a flat list of reads. Rendering a value then walks no BTF,
 * which is what makes a million-entry map cheap to show. */
#pragma once

#include <bpf/btf.h>
#include <stdint.h>

#include "jsonw.h"
#include "util.h"

struct btf_jsonw;

/* The renderer of type `type_id` of `btf` (which must outlive it); `network_order` says how
 * __be* integers read (above). Fails where the oracle's btf_json_decode() would: -EINVAL for a
 * type that cannot be decoded, -ENOMEM. */
int btf_jsonw_new(const struct btf *btf, uint32_t type_id, bool network_order,
		  struct btf_jsonw **ret);

/* The renderer of `size` bytes without BTF, as metrics show them: an integer in host byte
 * order when `size` is 1, 2, 4 or 8, else a list of bytes. */
int btf_jsonw_new_raw(uint32_t size, struct btf_jsonw **ret);

/* Writes the value at `data` as one raw JSON value (after jsonw_value()). */
void btf_jsonw_write(const struct btf_jsonw *r, struct jsonw *w, const void *data);

void btf_jsonw_free(struct btf_jsonw *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct btf_jsonw *, btf_jsonw_free);

/* Compiles, writes one value (with its separator) and frees: for a single value. */
int btf_jsonw_decode(const struct btf *btf, uint32_t type_id, const void *data, bool network_order,
		     struct jsonw *w);
