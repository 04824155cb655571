/* SPDX-License-Identifier: Apache-2.0 */
/* What the BTF walkers (btf-number.c, btf-jsonw.c, fields.c, and the tests'
 * tests/oracle/btf-json.c) share: following typedefs to a layout, telling char from other bytes,
 * and reading integers and bitfields out of unaligned bytes. The readers are inline: renderers call
 * them once per value of a million entries. */
#pragma once

#include <bpf/btf.h>
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* clang's BTF nests a handful of levels; anything deeper is a cycle in malformed BTF. */
#define DM_BTF_MAX_DEPTH 64

/* Follows typedefs and modifiers (const, volatile, restrict, type_tag) to the type that has a
 * layout, noting on the way whether a __be16/__be32/__be64 typedef was crossed. Returns the
 * type's id, or -EINVAL. */
int dm_btf_resolve(const struct btf *btf, uint32_t id, bool *ret_be);

/* "char" (clang never sets BTF_INT_CHAR, but others may); not signed/unsigned char, so that a
 * __u8 mac[6] stays a list of numbers. */
bool dm_btf_is_char(const struct btf *btf, uint32_t id);

/* A struct or union, past typedefs and modifiers. */
bool dm_btf_is_composite(const struct btf *btf, uint32_t id);

/* The name of the value `v` of enum `t`, NULL when it has none. */
const char *dm_btf_enum_value_name(const struct btf *btf, const struct btf_type *t, uint64_t v,
				   uint32_t bits);

/* The type a BTF-defined map declares for its "key" or "value" (`member`) in the object's
 * ".maps" section; 0 when there is none (libbpf drops the ids of queue and stack maps). */
uint32_t dm_btf_map_member_type(const struct btf *btf, const char *map_name, const char *member);

static inline uint64_t dm_btf_mask_bits(uint32_t bits)
{
	return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static inline int64_t dm_btf_sign_extend(uint64_t v, uint32_t bits)
{
	if (bits < 64 && (v >> (bits - 1)) & 1)
		v |= ~dm_btf_mask_bits(bits);
	return (int64_t)v;
}

/* The `bits`-wide integer (1..64) at bit `bit_off` of `data`, in the layout the compiler gives
 * bitfields; a plain integer is the case bit_off 0, bits 8 * size. A field may straddle nine
 * bytes, hence the 128-bit accumulator. */
static inline uint64_t dm_btf_read_bits(const uint8_t *data, uint32_t bit_off, uint32_t bits)
{
	unsigned __int128 v = 0;

	data += bit_off / 8;
	bit_off %= 8;
	memcpy(&v, data, (bit_off + bits + 7) / 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint64_t)(v >> bit_off) & dm_btf_mask_bits(bits);
#else
	/* The bytes landed at the top; big-endian bit numbering starts at the most significant. */
	return (uint64_t)((v << bit_off) >> (128 - bits));
#endif
}

/* A value read in network order, in host order; widths other than 16, 32, 64 stay as they are. */
static inline uint64_t dm_btf_be_to_host(uint64_t v, uint32_t bits)
{
	switch (bits) {
	case 16:
		return be16toh((uint16_t)v);
	case 32:
		return be32toh((uint32_t)v);
	case 64:
		return be64toh(v);
	}
	return v;
}
