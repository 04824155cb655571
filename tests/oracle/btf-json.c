/* SPDX-License-Identifier: Apache-2.0 */
/* Map bytes to a jansson tree through BTF: one recursive walk with a switch over BTF kinds. The
 * daemon streams the same text (format/btf-jsonw.c); the tests compare it with this tree. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <linux/btf.h>

#include "btf-json.h"
#include "btf-util.h"
#include "util.h"

struct walk {
	const struct btf *btf;
	bool network_order;
	unsigned depth;
};

/* jansson integers are int64_t: a u64 above INT64_MAX can only be a real. Non-finite floats,
 * which JSON cannot hold, become the strings OpenMetrics uses for them. */
static json_t *number_to_json(const struct dm_number *n)
{
	switch (n->kind) {
	case DM_NUMBER_U64:
		return n->u <= INT64_MAX ? json_integer((json_int_t)n->u) : json_real((double)n->u);
	case DM_NUMBER_I64:
		return json_integer(n->i);
	case DM_NUMBER_F64:
		if (isnan(n->f))
			return json_string("NaN");
		if (isinf(n->f))
			return json_string(n->f > 0 ? "+Inf" : "-Inf");
		return json_real(n->f);
	}
	return NULL;
}

/* 128-bit integers fit no JSON number: a hex string of their bits, as bpftool prints them. */
static json_t *int128_to_json(const uint8_t *data)
{
	unsigned __int128 v;
	uint64_t hi, lo;
	char buf[sizeof("0x") + 32];

	memcpy(&v, data, sizeof(v));
	hi = (uint64_t)(v >> 64);
	lo = (uint64_t)v;
	if (hi)
		snprintf(buf, sizeof(buf), "0x%" PRIx64 "%016" PRIx64, hi, lo);
	else
		snprintf(buf, sizeof(buf), "0x%" PRIx64, lo);
	return json_string(buf);
}

static int int_to_json(const struct btf_type *t, const struct dm_btf_place *p, json_t **ret)
{
	struct dm_number n;
	int r;

	if (!p->bits && !p->bit_off && btf_int_bits(t) == 128 && btf_int_offset(t) == 0)
		*ret = int128_to_json(p->data);
	else {
		r = dm_btf_scalar_number(NULL, 0, t, p, &n);
		if (r < 0)
			return r;
		*ret = btf_int_encoding(t) & BTF_INT_BOOL ? json_boolean(n.u) : number_to_json(&n);
	}
	return *ret ? 0 : -ENOMEM;
}

static int enum_to_json(const struct btf *btf, const struct btf_type *t,
			const struct dm_btf_place *p, json_t **ret)
{
	struct dm_number n;
	const char *name;
	int r;

	r = dm_btf_scalar_number(NULL, 0, t, p, &n);
	if (r < 0)
		return r;

	name = dm_btf_enum_value_name(btf, t, n.u, p->bits ?: t->size * 8);
	*ret = isempty(name) ? number_to_json(&n) : json_string(name);
	return *ret ? 0 : -ENOMEM;
}

/* Up to the first NUL. Bytes that are not UTF-8, which jansson refuses, become '?'. */
static int string_to_json(const uint8_t *data, size_t max, json_t **ret)
{
	_cleanup_free_ char *copy = NULL;
	size_t len = strnlen((const char *)data, max);

	*ret = json_stringn((const char *)data, len);
	if (*ret)
		return 0;

	copy = strndup((const char *)data, len);
	if (!copy)
		return -ENOMEM;
	for (char *c = copy; *c; c++)
		if ((unsigned char)*c >= 0x80)
			*c = '?';
	*ret = json_stringn(copy, len);
	return *ret ? 0 : -ENOMEM;
}

static int value_to_json(struct walk *w, uint32_t type_id, const struct dm_btf_place *p,
			 json_t **ret);

/* Multi-dimensional arrays are arrays of arrays in BTF, hence nested lists. */
static int array_to_json(struct walk *w, const struct btf_type *t, const uint8_t *data,
			 json_t **ret)
{
	const struct btf_array *a = btf_array(t);
	json_auto_t *list = NULL;
	int64_t size;
	int r;

	if (dm_btf_is_char(w->btf, a->type))
		return string_to_json(data, a->nelems, ret);

	size = btf__resolve_size(w->btf, a->type);
	if (size < 0)
		return -EINVAL;

	list = json_array();
	if (!list)
		return -ENOMEM;
	for (uint32_t i = 0; i < a->nelems; i++) {
		struct dm_btf_place elem = {.data = data + i * size};
		json_t *v;

		r = value_to_json(w, a->type, &elem, &v);
		if (r < 0)
			return r;
		if (json_array_append_new(list, v) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(list);
	return 0;
}

/* Unions show every member: which one is meant is known to the program alone. */
static int composite_to_json(struct walk *w, const struct btf_type *t, const uint8_t *data,
			     json_t **ret)
{
	json_auto_t *obj = json_object();
	const struct btf_member *m = btf_members(t);

	if (!obj)
		return -ENOMEM;

	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		const char *name = btf__name_by_offset(w->btf, m[i].name_off);
		struct dm_btf_place member = {
		    .data = data,
		    .bit_off = btf_member_bit_offset(t, i),
		    .bits = btf_member_bitfield_size(t, i),
		};
		json_auto_t *v = NULL;
		int r;

		/* Unnamed members: anonymous structs/unions merge into us; padding is dropped. */
		if (isempty(name) && !dm_btf_is_composite(w->btf, m[i].type))
			continue;

		r = value_to_json(w, m[i].type, &member, &v);
		if (r < 0)
			return r;

		r = isempty(name) ? json_object_update(obj, v) : json_object_set(obj, name, v);
		if (r < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(obj);
	return 0;
}

static int kind_to_json(struct walk *w, uint32_t id, const struct btf_type *t,
			const struct dm_btf_place *p, json_t **ret)
{
	struct dm_number n;
	int r;

	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return int_to_json(t, p, ret);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return enum_to_json(w->btf, t, p, ret);
	case BTF_KIND_FLOAT:
	case BTF_KIND_PTR:
		r = dm_btf_scalar_number(w->btf, id, t, p, &n);
		if (r < 0)
			return r;
		*ret = number_to_json(&n);
		return *ret ? 0 : -ENOMEM;
	case BTF_KIND_ARRAY:
		return array_to_json(w, t, p->data, ret);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return composite_to_json(w, t, p->data, ret);
	default:
		return -EINVAL; /* void, func, func_proto, fwd, var, datasec, decl_tag */
	}
}

static int value_to_json(struct walk *w, uint32_t type_id, const struct dm_btf_place *p,
			 json_t **ret)
{
	const struct btf_type *t;
	struct dm_btf_place here = {
	    .data = p->data + p->bit_off / 8,
	    .bit_off = p->bit_off % 8,
	    .bits = p->bits,
	};
	int id, r;

	id = dm_btf_resolve(w->btf, type_id, &here.be);
	if (id < 0)
		return id;
	here.be = here.be && w->network_order;
	t = btf__type_by_id(w->btf, id);

	/* Only integers and enums come as bitfields or off byte boundaries. */
	if ((here.bits || here.bit_off) && !btf_is_int(t) && !btf_is_any_enum(t))
		return -EINVAL;

	if (w->depth >= DM_BTF_MAX_DEPTH)
		return -EINVAL;
	w->depth++;
	r = kind_to_json(w, id, t, &here, ret);
	w->depth--;
	return r;
}

int btf_json_decode(const struct btf *btf, uint32_t type_id, const void *data, bool network_order,
		    json_t **ret)
{
	struct walk w = {.btf = btf, .network_order = network_order};
	struct dm_btf_place p = {.data = data};
	json_t *v;
	int r;

	r = value_to_json(&w, type_id, &p, &v);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}
