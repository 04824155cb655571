/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding raw map keys and values through BTF into plain numbers for OpenMetrics. Pure
 * functions over (btf, type id, bytes): no kernel. */
#pragma once

#include <bpf/btf.h>
#include <stdbool.h>
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

/* Reads a scalar (integer, bool, enum, float, pointer; through typedefs and modifiers, __be*
 * typedefs always in network byte order: labels are for people) for OpenMetrics.
 * -EMEDIUMTYPE when the type is not a scalar (struct, union, array) or is a 128-bit integer;
 * -EINVAL for a type that cannot be decoded or a bad id. */
int btf_number_decode(const struct btf *btf, uint32_t type_id, const void *data,
		      struct dm_number *ret);

/* Where a value lies. A struct member may start at any bit and, as a bitfield, have any width;
 * a __be16/__be32/__be64 typedef on the way says the bytes are in network order. */
struct dm_btf_place {
	const uint8_t *data;
	uint32_t bit_off;
	uint32_t bits; /* 0: the whole type */
	bool be;
};

/* The scalar (int, enum, float, pointer) at `p`; `id`/`t` are already resolved past typedefs
 * and modifiers. `btf` and `id` are read for pointers only. -EINVAL for any other kind. */
int dm_btf_scalar_number(const struct btf *btf, uint32_t id, const struct btf_type *t,
			 const struct dm_btf_place *p, struct dm_number *ret);
