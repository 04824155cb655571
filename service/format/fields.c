/* SPDX-License-Identifier: Apache-2.0 */
/* Field layouts from BTF, and loads at those layouts. Bytes come from batch buffers without
 * alignment: every load goes through memcpy. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <linux/btf.h>

#include "fields.h"
#include "util.h"

static void describe_int(const struct btf *btf, const struct btf_type *t, struct dm_field *f)
{
	uint8_t enc = btf_int_encoding(t);

	f->kind = btf_int_bits(t) > 64 ? DM_FIELD_OTHER : DM_FIELD_INT;
	f->is_signed = enc & BTF_INT_SIGNED;
	f->is_bool = enc & BTF_INT_BOOL;
	/* Ints of the older encoding carry their own offset and width. */
	f->bit_offset += btf_int_offset(t);
	if (f->bits == 8 * f->size)
		f->bits = btf_int_bits(t);
}

static void describe_array(const struct btf *btf, const struct btf_type *t, struct dm_field *f)
{
	const struct btf_array *a = btf_array(t);
	const struct btf_type *elem;
	bool be;
	int id = dm_btf_resolve(btf, a->type, &be);

	f->kind = DM_FIELD_ARRAY;
	f->n_elems = a->nelems;
	f->elem_size = f->n_elems ? f->size / f->n_elems : 0;
	if (id < 0)
		return;
	elem = btf__type_by_id(btf, id);
	f->byte_elems = btf_is_int(elem) && elem->size == 1;
	f->char_elems = dm_btf_is_char(btf, a->type);
}

/* Fills in what `type_id` says about a field whose btf, bit_offset and (bitfield) bits are
 * set; bits 0 means the whole type. */
static int describe(const struct btf *btf, uint32_t type_id, struct dm_field *f)
{
	const struct btf_type *t;
	int64_t size;
	int id;

	id = dm_btf_resolve(btf, type_id, &f->be);
	if (id < 0)
		return id;
	t = btf__type_by_id(btf, id);
	size = btf__resolve_size(btf, id);
	if (size < 0)
		return -EINVAL;
	f->btf = btf;
	f->type_id = type_id;
	f->resolved_id = id;
	f->size = size;
	if (f->bits == 0)
		f->bits = 8 * f->size;

	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		describe_int(btf, t, f);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		f->kind = DM_FIELD_ENUM;
		f->is_signed = btf_kflag(t);
		break;
	case BTF_KIND_FLOAT:
		f->kind = size == 4 || size == 8 ? DM_FIELD_FLOAT : DM_FIELD_OTHER;
		break;
	case BTF_KIND_PTR:
		f->kind = DM_FIELD_PTR;
		break;
	case BTF_KIND_ARRAY:
		describe_array(btf, t, f);
		break;
	case BTF_KIND_STRUCT:
		f->kind = DM_FIELD_STRUCT;
		break;
	case BTF_KIND_UNION:
		f->kind = DM_FIELD_UNION;
		break;
	default:
		return -EINVAL;
	}
	/* Only integers and enums come as bitfields or off byte boundaries. */
	if ((f->bit_offset % 8 || f->bits != 8 * f->size) && f->kind != DM_FIELD_INT &&
	    f->kind != DM_FIELD_ENUM)
		return -EINVAL;
	if ((f->kind == DM_FIELD_INT || f->kind == DM_FIELD_ENUM || f->kind == DM_FIELD_PTR) &&
	    (f->bits == 0 || f->bits > 64))
		return -EINVAL;
	return 0;
}

int dm_field_of_type(const struct btf *btf, uint32_t type_id, struct dm_field *ret)
{
	struct dm_field f = {};
	int r;

	if (!btf)
		return -EINVAL;
	r = describe(btf, type_id, &f);
	if (r < 0)
		return r;
	*ret = f;
	return 0;
}

static int member_field(const struct dm_field *parent, const struct btf_type *t, uint16_t i,
			struct dm_field *ret)
{
	struct dm_field f = {
	    .bit_offset = parent->bit_offset + btf_member_bit_offset(t, i),
	    .bits = btf_member_bitfield_size(t, i),
	};
	int r;

	r = describe(parent->btf, btf_members(t)[i].type, &f);
	if (r < 0)
		return r;
	*ret = f;
	return 0;
}

static bool is_anonymous_composite(const struct dm_field *f, const char *name)
{
	return (!name || !*name) && (f->kind == DM_FIELD_STRUCT || f->kind == DM_FIELD_UNION);
}

static int foreach_member(const struct dm_field *parent, dm_field_visit_t visit, void *userdata,
			  unsigned depth)
{
	const struct btf_type *t = btf__type_by_id(parent->btf, parent->resolved_id);

	if (parent->kind != DM_FIELD_STRUCT && parent->kind != DM_FIELD_UNION)
		return -ENOTDIR;
	if (depth >= DM_BTF_MAX_DEPTH)
		return -EINVAL;
	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		const char *name = btf__name_by_offset(parent->btf, btf_members(t)[i].name_off);
		struct dm_field f;
		int r;

		r = member_field(parent, t, i, &f);
		if (r < 0)
			return r;
		if (is_anonymous_composite(&f, name))
			r = foreach_member(&f, visit, userdata, depth + 1);
		else if (name && *name) /* unnamed bitfields are padding */
			r = visit(&f, name, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}

int dm_field_foreach_member(const struct dm_field *parent, dm_field_visit_t visit, void *userdata)
{
	return foreach_member(parent, visit, userdata, 0);
}

struct find {
	const char *name;
	size_t len;
	struct dm_field found;
	bool done;
};

static int find_visit(const struct dm_field *f, const char *name, void *userdata)
{
	struct find *x = userdata;

	if (x->done || strlen(name) != x->len || strncmp(name, x->name, x->len) != 0)
		return 0;
	x->found = *f;
	x->done = true;
	return 0;
}

int dm_field_member(const struct dm_field *parent, const char *path, struct dm_field *ret)
{
	struct dm_field here = *parent;

	for (const char *p = path;;) {
		struct find x = {.name = p, .len = strcspn(p, ".")};
		int r;

		r = dm_field_foreach_member(&here, find_visit, &x);
		if (r < 0)
			return r;
		if (!x.done)
			return -ENOENT;
		here = x.found;
		p += x.len;
		if (!*p)
			break;
		p++;
	}
	*ret = here;
	return 0;
}

int dm_field_element(const struct dm_field *array, uint32_t i, struct dm_field *ret)
{
	const struct btf_type *t = btf__type_by_id(array->btf, array->resolved_id);
	struct dm_field f = {.bit_offset = array->bit_offset + 8 * i * array->elem_size};
	int r;

	if (!array->btf || array->kind != DM_FIELD_ARRAY || i >= array->n_elems)
		return -EINVAL;
	r = describe(array->btf, btf_array(t)->type, &f);
	if (r < 0)
		return r;
	*ret = f;
	return 0;
}

const char *dm_field_type_name(const struct dm_field *f)
{
	const struct btf_type *t = btf__type_by_id(f->btf, f->resolved_id);

	return t ? strempty(btf__name_by_offset(f->btf, t->name_off)) : "";
}

uint64_t dm_field_bits(const struct dm_field *f, const void *base)
{
	const uint8_t *p = dm_field_bytes(f, base);
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	if (!dm_field_is_bytes(f))
		return dm_btf_read_bits(base, f->bit_offset, f->bits);
	switch (f->size) {
	case 1:
		return *p;
	case 2:
		memcpy(&u16, p, 2);
		return f->be ? be16toh(u16) : u16;
	case 4:
		memcpy(&u32, p, 4);
		return f->be ? be32toh(u32) : u32;
	default:
		memcpy(&u64, p, 8);
		return f->be ? be64toh(u64) : u64;
	}
}

void dm_field_number(const struct dm_field *f, const void *base, struct dm_number *ret)
{
	uint64_t v;
	float x;

	if (f->kind == DM_FIELD_FLOAT) {
		ret->kind = DM_NUMBER_F64;
		if (f->size == sizeof(float)) {
			memcpy(&x, dm_field_bytes(f, base), sizeof(x));
			ret->f = x;
		} else
			memcpy(&ret->f, dm_field_bytes(f, base), sizeof(double));
		return;
	}
	v = dm_field_bits(f, base);
	if (f->is_bool) {
		*ret = (struct dm_number){.kind = DM_NUMBER_U64, .u = v != 0};
	} else if (f->is_signed) {
		*ret =
		    (struct dm_number){.kind = DM_NUMBER_I64, .i = dm_btf_sign_extend(v, f->bits)};
	} else
		*ret = (struct dm_number){.kind = DM_NUMBER_U64, .u = v};
}
