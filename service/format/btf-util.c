/* SPDX-License-Identifier: Apache-2.0 */
/* BTF helpers shared by the walkers: see btf-util.h. */
#include <errno.h>

#include <linux/btf.h>

#include "btf-util.h"
#include "util.h"

int dm_btf_resolve(const struct btf *btf, uint32_t id, bool *ret_be)
{
	bool be = false;

	for (unsigned i = 0; i < DM_BTF_MAX_DEPTH; i++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name;

		if (!t)
			return -EINVAL;
		if (!btf_is_typedef(t) && !btf_is_mod(t)) {
			*ret_be = be;
			return (int)id;
		}
		name = btf__name_by_offset(btf, t->name_off);
		if (btf_is_typedef(t) && name &&
		    (streq(name, "__be16") || streq(name, "__be32") || streq(name, "__be64")))
			be = true;
		id = t->type;
	}
	return -EINVAL;
}

bool dm_btf_is_char(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t;
	bool be;
	int r;

	r = dm_btf_resolve(btf, id, &be);
	if (r < 0)
		return false;
	t = btf__type_by_id(btf, r);
	return btf_is_int(t) && t->size == 1 &&
	       ((btf_int_encoding(t) & BTF_INT_CHAR) ||
		streq(strempty(btf__name_by_offset(btf, t->name_off)), "char"));
}

bool dm_btf_is_composite(const struct btf *btf, uint32_t id)
{
	bool be;
	int r;

	r = dm_btf_resolve(btf, id, &be);
	return r >= 0 && btf_is_composite(btf__type_by_id(btf, r));
}

/* Compares the low `bits` only, so that signed, unsigned and bitfield enums all match. */
const char *dm_btf_enum_value_name(const struct btf *btf, const struct btf_type *t, uint64_t v,
				   uint32_t bits)
{
	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		uint32_t name_off;
		uint64_t ev;

		if (btf_is_enum64(t)) {
			name_off = btf_enum64(t)[i].name_off;
			ev = btf_enum64_value(&btf_enum64(t)[i]);
		} else {
			name_off = btf_enum(t)[i].name_off;
			ev = (uint64_t)(int64_t)btf_enum(t)[i].val;
		}
		if (((ev ^ v) & dm_btf_mask_bits(bits)) == 0)
			return btf__name_by_offset(btf, name_off);
	}
	return NULL;
}

/* __type(value, T) is a member "value" of type T * in the map's definition. That is how this
 * object's code sees the map: the map's own BTF ids may be those of another object (a map kept
 * across a rebuild or a restart was created by an older build of the code, whose type ids can
 * differ), and libbpf creates queue and stack maps without any (the kernel refuses them). */
uint32_t dm_btf_map_member_type(const struct btf *btf, const char *map_name, const char *member)
{
	const struct btf_var_secinfo *vsi;
	const struct btf_type *sec;
	int id;

	id = btf__find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC);
	if (id < 0)
		return 0;
	sec = btf__type_by_id(btf, id);
	vsi = btf_var_secinfos(sec);

	for (int i = 0; i < btf_vlen(sec); i++) {
		const struct btf_type *var = btf__type_by_id(btf, vsi[i].type);
		const struct btf_type *def;
		const struct btf_member *m;

		if (!var || !streq(btf__name_by_offset(btf, var->name_off), map_name))
			continue;
		def = btf__type_by_id(btf, btf__resolve_type(btf, var->type));
		if (!def || !btf_is_struct(def))
			return 0;
		m = btf_members(def);
		for (int j = 0; j < btf_vlen(def); j++, m++) {
			const struct btf_type *ptr = btf__type_by_id(btf, m->type);

			if (streq(btf__name_by_offset(btf, m->name_off), member) && ptr &&
			    btf_is_ptr(ptr))
				return ptr->type;
		}
		return 0;
	}
	return 0;
}
