/* SPDX-License-Identifier: Apache-2.0 */
/* BTF compiled into a JSON renderer. The compiler walks a type as the tests' tree decoder does
 * (tests/oracle/btf-json.c), but instead of values it emits a plan: each scalar becomes an op
 * (where to read it, how wide, how to show it) carrying the literal text that precedes it
 * ("{\"saddr\":", ",", "]}" ...). An array is one op whose body, the element's ops, runs once per
 * element. Rendering runs the plan over the bytes. Every read goes through memcpy: batch buffers
 * are not aligned. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <linux/btf.h>

#include "btf-jsonw.h"
#include "btf-util.h"
#include "util.h"

enum op_kind {
	OP_UINT,
	OP_SINT,
	OP_BOOL,
	OP_ENUM,
	OP_INT128,
	OP_FLOAT,
	OP_DOUBLE,
	OP_STRING,
	OP_ARRAY,
};

struct op {
	uint8_t kind;
	uint8_t bit_off;	 /* within the byte at `off`: bitfields */
	uint8_t bits;		 /* of an integer or enum, 1..64 */
	bool swap;		 /* network byte order: __be16/__be32/__be64 */
	bool is_signed;		 /* OP_ENUM */
	uint32_t off;		 /* the first byte, from the start of the value or array element */
	uint32_t text, text_len; /* the literal before the value, in the renderer's text */
	union {
		const struct btf_type *enum_type; /* OP_ENUM: for the names */
		uint32_t max;			  /* OP_STRING: its bytes */
		struct {
			uint32_t count, stride;
			uint32_t body_len;	 /* the ops after this one that make an element */
			uint32_t tail, tail_len; /* the literal after each element's last op */
		} array;
	};
};

struct btf_jsonw {
	const struct btf *btf;
	struct op *ops;
	size_t n_ops;
	char *text;
	uint32_t tail, tail_len; /* after the last op */
};

struct compiler {
	const struct btf *btf;
	bool network_order; /* __be* integers swapped to host order (btf-jsonw.h) */
	struct jsonw *text;
	size_t pending; /* where the literal not yet given to an op starts */
	struct op *ops;
	size_t n_ops, allocated;
	unsigned depth;
	/* The bytes there are from the current base: the value's size, an array element's
	 * stride. BTF that is not ours (or is hostile) may place a member past its struct's end or
	 * give an integer more bits than bytes: such a type is refused, never read past its size.
	 */
	uint64_t limit;
};

/* ---- Reading the bytes (as the oracle reads them) ------------------------------------------ */

static uint64_t read_int(const struct op *op, const uint8_t *base)
{
	const uint8_t *p = base + op->off;
	uint64_t v = 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Whole bytes, the common case: no shifting. */
	if (op->bit_off == 0 && op->bits % 8 == 0) {
		memcpy(&v, p, op->bits / 8);
	} else
#endif
		v = dm_btf_read_bits(p, op->bit_off, op->bits);

	return op->swap ? dm_btf_be_to_host(v, op->bits) : v;
}

/* ---- Rendering ----------------------------------------------------------------------------- */

static void write_enum(const struct btf_jsonw *r, const struct op *op, uint64_t v, struct jsonw *w)
{
	const char *name = dm_btf_enum_value_name(r->btf, op->enum_type, v, op->bits);

	if (!isempty(name))
		jsonw_put_string(w, name, strlen(name));
	else if (op->is_signed)
		jsonw_put_i64(w, dm_btf_sign_extend(v, op->bits));
	else
		jsonw_put_u64(w, v);
}

/* JSON has no NaN or infinities: the strings OpenMetrics uses for them. */
static void write_double(double d, struct jsonw *w)
{
	if (isnan(d))
		jsonw_put(w, "\"NaN\"", 5);
	else if (isinf(d))
		jsonw_put(w, d > 0 ? "\"+Inf\"" : "\"-Inf\"", 6);
	else
		jsonw_put_double(w, d);
}

/* 128-bit integers fit no JSON number: a hex string of their bits, as bpftool prints them. */
static void write_int128(const uint8_t *data, struct jsonw *w)
{
	unsigned __int128 v;
	uint64_t hi, lo;
	char buf[sizeof("\"0x\"") + 32];
	int n;

	memcpy(&v, data, sizeof(v));
	hi = (uint64_t)(v >> 64);
	lo = (uint64_t)v;
	if (hi)
		n = snprintf(buf, sizeof(buf), "\"0x%" PRIx64 "%016" PRIx64 "\"", hi, lo);
	else
		n = snprintf(buf, sizeof(buf), "\"0x%" PRIx64 "\"", lo);
	jsonw_put(w, buf, n);
}

/* Up to the first NUL; bytes that are not UTF-8 become '?' as the oracle makes them. */
static void write_string(const uint8_t *data, uint32_t max, struct jsonw *w)
{
	size_t len = strnlen((const char *)data, max);

	if (jsonw_utf8_valid((const char *)data, len))
		jsonw_put_string(w, (const char *)data, len);
	else
		jsonw_put_string_ascii(w, (const char *)data, len);
}

static void run(const struct btf_jsonw *r, size_t from, size_t n, const uint8_t *base,
		struct jsonw *w);

static void write_array(const struct btf_jsonw *r, size_t i, const uint8_t *base, struct jsonw *w)
{
	const struct op *op = &r->ops[i];

	for (uint32_t k = 0; k < op->array.count; k++) {
		if (k > 0)
			jsonw_putc(w, ',');
		run(r, i + 1, op->array.body_len, base + op->off + (size_t)k * op->array.stride, w);
		jsonw_put(w, r->text + op->array.tail, op->array.tail_len);
	}
}

static void write_op(const struct btf_jsonw *r, const struct op *op, const uint8_t *base,
		     struct jsonw *w)
{
	float f;
	double d;

	switch (op->kind) {
	case OP_UINT:
		jsonw_put_u64(w, read_int(op, base));
		break;
	case OP_SINT:
		jsonw_put_i64(w, dm_btf_sign_extend(read_int(op, base), op->bits));
		break;
	case OP_BOOL:
		if (read_int(op, base))
			jsonw_put(w, "true", 4);
		else
			jsonw_put(w, "false", 5);
		break;
	case OP_ENUM:
		write_enum(r, op, read_int(op, base), w);
		break;
	case OP_INT128:
		write_int128(base + op->off, w);
		break;
	case OP_FLOAT:
		memcpy(&f, base + op->off, sizeof(f));
		write_double(f, w);
		break;
	case OP_DOUBLE:
		memcpy(&d, base + op->off, sizeof(d));
		write_double(d, w);
		break;
	case OP_STRING:
		write_string(base + op->off, op->max, w);
		break;
	}
}

static void run(const struct btf_jsonw *r, size_t from, size_t n, const uint8_t *base,
		struct jsonw *w)
{
	for (size_t i = from; i < from + n; i++) {
		const struct op *op = &r->ops[i];

		jsonw_put(w, r->text + op->text, op->text_len);
		if (op->kind == OP_ARRAY) {
			write_array(r, i, base, w);
			i += op->array.body_len;
		} else {
			write_op(r, op, base, w);
		}
	}
}

void btf_jsonw_write(const struct btf_jsonw *r, struct jsonw *w, const void *data)
{
	run(r, 0, r->n_ops, data, w);
	jsonw_put(w, r->text + r->tail, r->tail_len);
}

/* ---- Compiling ----------------------------------------------------------------------------- */

static void emit_text(struct compiler *c, const char *s)
{
	jsonw_put(c->text, s, strlen(s));
}

/* Ends the literal pending: it is what `*ret_off`, `*ret_len` name now. */
static int take_text(struct compiler *c, uint32_t *ret_off, uint32_t *ret_len)
{
	size_t end = jsonw_size(c->text);

	if (end > UINT32_MAX)
		return -E2BIG;
	*ret_off = (uint32_t)c->pending;
	*ret_len = (uint32_t)(end - c->pending);
	c->pending = end;
	return 0;
}

/* A new op reading `width` bytes at byte `off`, carrying the literal pending; its index, or
 * -errno (-EINVAL when those bytes are not all within the limit). */
static int add_op(struct compiler *c, enum op_kind kind, uint64_t off, uint64_t width)
{
	struct op *op;
	int r;

	if (off > c->limit || width > c->limit - off)
		return -EINVAL;
	if (off > UINT32_MAX || c->n_ops >= INT32_MAX)
		return -E2BIG;
	if (c->n_ops == c->allocated) {
		size_t n = c->allocated ? 2 * c->allocated : 16;

		op = reallocarray(c->ops, n, sizeof(*op));
		if (!op)
			return -ENOMEM;
		c->ops = op;
		c->allocated = n;
	}
	op = &c->ops[c->n_ops];
	*op = (struct op){.kind = kind, .off = (uint32_t)off};
	r = take_text(c, &op->text, &op->text_len);
	if (r < 0)
		return r;
	return (int)c->n_ops++;
}

static int compile_int(struct compiler *c, const struct btf_type *t, uint64_t bit_pos,
		       uint32_t bits, bool be)
{
	uint32_t enc = btf_int_encoding(t);
	struct op *op;
	int i;

	if (!bits && bit_pos % 8 == 0 && btf_int_bits(t) == 128 && btf_int_offset(t) == 0)
		return add_op(c, OP_INT128, bit_pos / 8, 16);

	bit_pos += btf_int_offset(t);
	bits = bits ?: btf_int_bits(t);
	if (bits == 0 || bits > 64)
		return -EINVAL;

	i = add_op(c,
		   enc & BTF_INT_BOOL	  ? OP_BOOL
		   : enc & BTF_INT_SIGNED ? OP_SINT
					  : OP_UINT,
		   bit_pos / 8, (bit_pos % 8 + bits + 7) / 8);
	if (i < 0)
		return i;
	op = &c->ops[i];
	op->bit_off = bit_pos % 8;
	op->bits = bits;
	op->swap = be && bits == t->size * 8 && (bits == 16 || bits == 32 || bits == 64);
	return 0;
}

/* Enum names are checked here, once: a name jansson could not hold fails the type. */
static int compile_enum(struct compiler *c, const struct btf_type *t, uint64_t bit_pos,
			uint32_t bits)
{
	struct op *op;
	int i;

	bits = bits ?: t->size * 8;
	if (bits == 0 || bits > 64)
		return -EINVAL;
	for (uint16_t k = 0; k < btf_vlen(t); k++) {
		const char *name = btf__name_by_offset(
		    c->btf, btf_is_enum64(t) ? btf_enum64(t)[k].name_off : btf_enum(t)[k].name_off);

		if (name && !jsonw_utf8_valid(name, strlen(name)))
			return -EINVAL;
	}

	i = add_op(c, OP_ENUM, bit_pos / 8, (bit_pos % 8 + bits + 7) / 8);
	if (i < 0)
		return i;
	op = &c->ops[i];
	op->bit_off = bit_pos % 8;
	op->bits = bits;
	op->is_signed = btf_kflag(t);
	op->enum_type = t;
	return 0;
}

static int compile_scalar(struct compiler *c, uint32_t id, const struct btf_type *t, uint64_t off)
{
	int64_t size;
	int i;

	switch (btf_kind(t)) {
	case BTF_KIND_FLOAT:
		/* long double has no layout shared by BPF and the host */
		if (t->size != sizeof(float) && t->size != sizeof(double))
			return -EINVAL;
		i = add_op(c, t->size == sizeof(float) ? OP_FLOAT : OP_DOUBLE, off, t->size);
		return i < 0 ? i : 0;
	case BTF_KIND_PTR:
		size = btf__resolve_size(c->btf, id);
		if (size <= 0 || size > 8)
			return -EINVAL;
		i = add_op(c, OP_UINT, off, size);
		if (i < 0)
			return i;
		c->ops[i].bits = size * 8;
		return 0;
	default:
		return -EINVAL;
	}
}

static int compile_value(struct compiler *c, uint32_t type_id, uint64_t bit_pos, uint32_t bits);

/* Multi-dimensional arrays are arrays of arrays in BTF, hence nested lists. */
static int compile_array(struct compiler *c, const struct btf_type *t, uint64_t off)
{
	const struct btf_array *a = btf_array(t);
	uint64_t limit = c->limit, all;
	int64_t size;
	int i, r;

	if (dm_btf_is_char(c->btf, a->type)) {
		i = add_op(c, OP_STRING, off, a->nelems);
		if (i < 0)
			return i;
		c->ops[i].max = a->nelems;
		return 0;
	}
	size = btf__resolve_size(c->btf, a->type);
	if (size < 0)
		return -EINVAL;
	emit_text(c, "[");
	/* Nothing to show of the element: its type is never looked at, as in the oracle. */
	if (a->nelems > 0) {
		if (size > UINT32_MAX)
			return -E2BIG;
		/* Elements of no size would be shown nelems times (up to 2^32) from no bytes. */
		if (size == 0 || __builtin_mul_overflow((uint64_t)a->nelems, (uint64_t)size, &all))
			return -EINVAL;
		i = add_op(c, OP_ARRAY, off, all);
		if (i < 0)
			return i;
		c->limit = size;
		r = compile_value(c, a->type, 0, 0);
		c->limit = limit;
		if (r < 0)
			return r;
		c->ops[i].array.count = a->nelems;
		c->ops[i].array.stride = (uint32_t)size;
		c->ops[i].array.body_len = c->n_ops - i - 1;
		r = take_text(c, &c->ops[i].array.tail, &c->ops[i].array.tail_len);
		if (r < 0)
			return r;
	}
	emit_text(c, "]");
	return 0;
}

static int compile_members(struct compiler *c, const struct btf_type *t, uint64_t bit_pos,
			   bool *first);

/* An unnamed struct or union member: its members are the parent's. */
static int compile_anonymous(struct compiler *c, uint32_t type_id, uint64_t bit_pos, uint32_t bits,
			     bool *first)
{
	bool be;
	int id, r;

	id = dm_btf_resolve(c->btf, type_id, &be);
	if (id < 0)
		return id;
	if (bits || bit_pos % 8)
		return -EINVAL;
	if (c->depth >= DM_BTF_MAX_DEPTH)
		return -EINVAL;
	c->depth++;
	r = compile_members(c, btf__type_by_id(c->btf, id), bit_pos, first);
	c->depth--;
	return r;
}

/* Padding (unnamed members that are not structs or unions) is dropped. */
static int compile_members(struct compiler *c, const struct btf_type *t, uint64_t bit_pos,
			   bool *first)
{
	const struct btf_member *m = btf_members(t);
	int r;

	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		const char *name = btf__name_by_offset(c->btf, m[i].name_off);
		uint64_t pos = bit_pos + btf_member_bit_offset(t, i);
		uint32_t bits = btf_member_bitfield_size(t, i);

		if (isempty(name)) {
			if (!dm_btf_is_composite(c->btf, m[i].type))
				continue;
			r = compile_anonymous(c, m[i].type, pos, bits, first);
		} else {
			if (!jsonw_utf8_valid(name, strlen(name)))
				return -EINVAL;
			if (!*first)
				emit_text(c, ",");
			jsonw_put_string(c->text, name, strlen(name));
			emit_text(c, ":");
			*first = false;
			r = compile_value(c, m[i].type, pos, bits);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Its members are read within its own size. */
static int compile_composite(struct compiler *c, const struct btf_type *t, uint64_t bit_pos)
{
	uint64_t limit = c->limit, off = bit_pos / 8;
	bool first = true;
	int r;

	if (off > limit || t->size > limit - off)
		return -EINVAL;
	c->limit = off + t->size;
	emit_text(c, "{");
	r = compile_members(c, t, bit_pos, &first);
	emit_text(c, "}");
	c->limit = limit;
	return r;
}

static int compile_kind(struct compiler *c, uint32_t id, const struct btf_type *t, uint64_t bit_pos,
			uint32_t bits, bool be)
{
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return compile_int(c, t, bit_pos, bits, be);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return compile_enum(c, t, bit_pos, bits);
	case BTF_KIND_FLOAT:
	case BTF_KIND_PTR:
		return compile_scalar(c, id, t, bit_pos / 8);
	case BTF_KIND_ARRAY:
		return compile_array(c, t, bit_pos / 8);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return compile_composite(c, t, bit_pos);
	default:
		return -EINVAL; /* void, func, func_proto, fwd, var, datasec, decl_tag */
	}
}

/* The value of type `type_id` at bit `bit_pos` from the current base, `bits` wide when it is
 * a bitfield (else 0). */
static int compile_value(struct compiler *c, uint32_t type_id, uint64_t bit_pos, uint32_t bits)
{
	const struct btf_type *t;
	bool be;
	int id, r;

	id = dm_btf_resolve(c->btf, type_id, &be);
	if (id < 0)
		return id;
	be = be && c->network_order;
	t = btf__type_by_id(c->btf, id);

	/* Only integers and enums come as bitfields or off byte boundaries. */
	if ((bits || bit_pos % 8) && !btf_is_int(t) && !btf_is_any_enum(t))
		return -EINVAL;
	if (c->depth >= DM_BTF_MAX_DEPTH)
		return -EINVAL;
	c->depth++;
	r = compile_kind(c, id, t, bit_pos, bits, be);
	c->depth--;
	return r;
}

void btf_jsonw_free(struct btf_jsonw *r)
{
	if (!r)
		return;
	free(r->ops);
	free(r->text);
	free(r);
}

static int compiler_init(struct compiler *c, const struct btf *btf)
{
	*c = (struct compiler){.btf = btf};
	return jsonw_new(NULL, &c->text);
}

/* The plan compiled so far, with what is pending as its tail. */
static int compiler_finish(struct compiler *c, struct btf_jsonw **ret)
{
	_cleanup_(btf_jsonw_freep) struct btf_jsonw *r = calloc(1, sizeof(*r));
	int k;

	if (!r)
		return -ENOMEM;
	k = take_text(c, &r->tail, &r->tail_len);
	if (k < 0)
		return k;
	k = jsonw_take_string(c->text, &r->text, NULL);
	if (k < 0)
		return k;
	r->btf = c->btf;
	r->ops = TAKE_PTR(c->ops);
	r->n_ops = c->n_ops;
	*ret = TAKE_PTR(r);
	return 0;
}

static void compiler_done(struct compiler *c)
{
	free(c->ops);
	jsonw_free(c->text);
}

int btf_jsonw_new(const struct btf *btf, uint32_t type_id, bool network_order,
		  struct btf_jsonw **ret)
{
	_cleanup_(compiler_done) struct compiler c;
	int64_t size;
	int r;

	r = compiler_init(&c, btf);
	if (r < 0)
		return r;
	c.network_order = network_order;
	size = btf__resolve_size(btf, type_id);
	if (size < 0)
		return -EINVAL;
	c.limit = size;
	r = compile_value(&c, type_id, 0, 0);
	if (r < 0)
		return r;
	return compiler_finish(&c, ret);
}

int btf_jsonw_new_raw(uint32_t size, struct btf_jsonw **ret)
{
	_cleanup_(compiler_done) struct compiler c;
	int array, byte, r;

	r = compiler_init(&c, NULL);
	if (r < 0)
		return r;
	c.limit = size;
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		r = add_op(&c, OP_UINT, 0, size);
		if (r < 0)
			return r;
		c.ops[r].bits = size * 8;
		return compiler_finish(&c, ret);
	}

	/* A list of bytes: an array op whose body is one byte. */
	emit_text(&c, "[");
	if (size > 0) {
		array = add_op(&c, OP_ARRAY, 0, size);
		c.limit = 1;
		byte = array < 0 ? array : add_op(&c, OP_UINT, 0, 1);
		if (byte < 0)
			return byte;
		c.ops[byte].bits = 8;
		c.ops[array].array.count = size;
		c.ops[array].array.stride = 1;
		c.ops[array].array.body_len = 1;
		r = take_text(&c, &c.ops[array].array.tail, &c.ops[array].array.tail_len);
		if (r < 0)
			return r;
	}
	emit_text(&c, "]");
	return compiler_finish(&c, ret);
}

int btf_jsonw_decode(const struct btf *btf, uint32_t type_id, const void *data, bool network_order,
		     struct jsonw *w)
{
	_cleanup_(btf_jsonw_freep) struct btf_jsonw *r = NULL;
	int k;

	k = btf_jsonw_new(btf, type_id, network_order, &r);
	if (k < 0)
		return k;
	jsonw_value(w);
	btf_jsonw_write(r, w, data);
	return 0;
}
