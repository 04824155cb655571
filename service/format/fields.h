/* SPDX-License-Identifier: Apache-2.0 */
/* Where the fields of a map's key or value lie, found once through BTF, and reading them fast.
 * A tree decoder (the tests' oracle) walks BTF for every value; exporting a million entries to
 * OpenMetrics wants the walk done once per metric (export-plan.c), then only loads at known
 * offsets. */
#pragma once

#include <bpf/btf.h>
#include <stdbool.h>
#include <stdint.h>

#include "btf-number.h"
#include "btf-util.h"

enum dm_field_kind {
	DM_FIELD_INT, /* integers and bools of up to 64 bits, bitfields included */
	DM_FIELD_ENUM,
	DM_FIELD_FLOAT,
	DM_FIELD_PTR,
	DM_FIELD_ARRAY,
	DM_FIELD_STRUCT,
	DM_FIELD_UNION,
	DM_FIELD_OTHER, /* 128-bit integers, long double: no number holds them */
};

struct dm_field {
	const struct btf *btf;
	uint32_t type_id;     /* as declared, typedefs and all */
	uint32_t resolved_id; /* past typedefs and modifiers */
	enum dm_field_kind kind;
	uint32_t bit_offset; /* from the start of the key or value */
	uint32_t bits;	     /* the width: a bitfield's, else 8 * size */
	uint32_t size;	     /* bytes of the resolved type */
	bool is_signed;	     /* INT, ENUM */
	bool is_bool;	     /* INT */
	bool be;	     /* declared through __be16/__be32/__be64: network byte order */
	/* ARRAY: */
	uint32_t n_elems;
	uint32_t elem_size;
	bool byte_elems; /* elements are 1-byte integers (char, __u8, __s8) */
	bool char_elems; /* ... of type "char": text */
};

/* The whole of a key or value of type `type_id`. -EINVAL for a bad id or a type without a
 * layout (void, func, fwd). */
int dm_field_of_type(const struct btf *btf, uint32_t type_id, struct dm_field *ret);

/* The member at `path` ("saddr", "hdr.saddr") of a struct or union, members of anonymous
 * structs and unions found as if they were the parent's own. -ENOENT when there is none,
 * -ENOTDIR when a part of the path is no struct or union. */
int dm_field_member(const struct dm_field *parent, const char *path, struct dm_field *ret);

/* Element `i` of an array. */
int dm_field_element(const struct dm_field *array, uint32_t i, struct dm_field *ret);

/* Calls `visit` for each named member of struct or union `parent` in order, members of
 * anonymous ones included as above. Stops at the first negative return and returns it. */
typedef int (*dm_field_visit_t)(const struct dm_field *f, const char *name, void *userdata);
int dm_field_foreach_member(const struct dm_field *parent, dm_field_visit_t visit, void *userdata);

/* The name of the resolved type ("in6_addr", "unsigned int"), "" for anonymous ones. */
const char *dm_field_type_name(const struct dm_field *f);

static inline bool dm_field_is_number(const struct dm_field *f)
{
	return f->kind == DM_FIELD_INT || f->kind == DM_FIELD_ENUM || f->kind == DM_FIELD_FLOAT ||
	       f->kind == DM_FIELD_PTR;
}

/* Whether the field starts on a byte and spans whole bytes: what decoders reading bytes
 * (addresses, text) need. */
static inline bool dm_field_is_bytes(const struct dm_field *f)
{
	return f->bit_offset % 8 == 0 && f->bits == 8 * f->size;
}

static inline const uint8_t *dm_field_bytes(const struct dm_field *f, const void *base)
{
	return (const uint8_t *)base + f->bit_offset / 8;
}

/* The raw bits of an INT, ENUM or PTR field of the key or value at `base`, in host order
 * (a __be field's bytes swapped), not sign-extended. */
uint64_t dm_field_bits(const struct dm_field *f, const void *base);

/* The field as a number (INT, ENUM, FLOAT, PTR): signed ones sign-extended, bools 0 or 1. */
void dm_field_number(const struct dm_field *f, const void *base, struct dm_number *ret);
