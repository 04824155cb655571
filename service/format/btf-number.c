/* SPDX-License-Identifier: Apache-2.0 */
/* Map bytes to numbers through BTF, for OpenMetrics. Every read goes through memcpy, since the
 * bytes come from batch buffers with no alignment. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/btf.h>

#include "btf-number.h"
#include "btf-util.h"
#include "util.h"

/* Ints of the older encoding carry their own bit offset and width; with kflag the member does. */
static int int_to_number(const struct btf_type *t, const struct dm_btf_place *p,
			 struct dm_number *ret)
{
	uint32_t bit_off = p->bit_off + btf_int_offset(t);
	uint32_t bits = p->bits ?: btf_int_bits(t);
	uint64_t v;

	if (bits == 0 || bits > 64)
		return -EINVAL;

	v = dm_btf_read_bits(p->data, bit_off, bits);
	if (p->be && bits == t->size * 8)
		v = dm_btf_be_to_host(v, bits);

	if (btf_int_encoding(t) & BTF_INT_BOOL)
		*ret = (struct dm_number){.kind = DM_NUMBER_U64, .u = v != 0};
	else if (btf_int_encoding(t) & BTF_INT_SIGNED)
		*ret = (struct dm_number){.kind = DM_NUMBER_I64, .i = dm_btf_sign_extend(v, bits)};
	else
		*ret = (struct dm_number){.kind = DM_NUMBER_U64, .u = v};
	return 0;
}

/* An enum's kflag says its values are signed (BTF from before Linux 6.0 never sets it). */
static int enum_to_number(const struct btf_type *t, const struct dm_btf_place *p,
			  struct dm_number *ret)
{
	uint32_t bits = p->bits ?: t->size * 8;
	uint64_t v;

	if (bits == 0 || bits > 64)
		return -EINVAL;

	v = dm_btf_read_bits(p->data, p->bit_off, bits);
	if (btf_kflag(t))
		*ret = (struct dm_number){.kind = DM_NUMBER_I64, .i = dm_btf_sign_extend(v, bits)};
	else
		*ret = (struct dm_number){.kind = DM_NUMBER_U64, .u = v};
	return 0;
}

static int float_to_number(const struct btf_type *t, const struct dm_btf_place *p,
			   struct dm_number *ret)
{
	float f;
	double d;

	switch (t->size) {
	case sizeof(float):
		memcpy(&f, p->data, sizeof(f));
		d = f;
		break;
	case sizeof(double):
		memcpy(&d, p->data, sizeof(d));
		break;
	default:
		return -EINVAL; /* long double has no layout shared by BPF and the host */
	}
	*ret = (struct dm_number){.kind = DM_NUMBER_F64, .f = d};
	return 0;
}

int dm_btf_scalar_number(const struct btf *btf, uint32_t id, const struct btf_type *t,
			 const struct dm_btf_place *p, struct dm_number *ret)
{
	int64_t size;

	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return int_to_number(t, p, ret);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return enum_to_number(t, p, ret);
	case BTF_KIND_FLOAT:
		return float_to_number(t, p, ret);
	case BTF_KIND_PTR:
		size = btf__resolve_size(btf, id);
		if (size <= 0 || size > 8)
			return -EINVAL;
		*ret = (struct dm_number){.kind = DM_NUMBER_U64,
					  .u = dm_btf_read_bits(p->data, 0, size * 8)};
		return 0;
	default:
		return -EINVAL;
	}
}

int btf_number_decode(const struct btf *btf, uint32_t type_id, const void *data,
		      struct dm_number *ret)
{
	const struct btf_type *t;
	struct dm_btf_place p = {.data = data};
	struct dm_number n;
	int id, r;

	id = dm_btf_resolve(btf, type_id, &p.be);
	if (id < 0)
		return id;
	t = btf__type_by_id(btf, id);

	if (btf_is_composite(t) || btf_is_array(t))
		return -EMEDIUMTYPE;
	if (btf_is_int(t) && btf_int_bits(t) > 64)
		return -EMEDIUMTYPE; /* no OpenMetrics number holds a 128-bit integer */

	r = dm_btf_scalar_number(btf, id, t, &p, &n);
	if (r < 0)
		return r;
	*ret = n;
	return 0;
}
