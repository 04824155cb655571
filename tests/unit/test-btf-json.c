/* SPDX-License-Identifier: Apache-2.0 */
/* BTF decoding: bytes laid out by the host compiler from the declarations in
 * tests/bpf/btf-types.bpf.c, decoded through the BTF clang wrote for the same declarations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <math.h>

#include <bpf/btf.h>
#include <jansson.h>
#include <linux/btf.h>

#include "btf-json.h"
#include "util.h"

/* The very declarations the BPF object was built from, compiled for the host. */
#define BTF_TYPES_HOST
#include "../bpf/btf-types.bpf.c"

static struct btf *btf; /* of BTF_TYPES_OBJ */

static int setup(void **state)
{
	btf = btf__parse_elf(BTF_TYPES_OBJ, NULL);
	if (!btf)
		fail_msg("cannot read the BTF of %s: %m", BTF_TYPES_OBJ);
	return 0;
}

static int teardown(void **state)
{
	btf__free(btf);
	return 0;
}

/* A map's value type, as the daemon finds it: VAR -> struct -> member "value" -> ptr -> type. */
static uint32_t map_value_type(const struct btf *b, const char *map)
{
	int var = btf__find_by_name_kind(b, map, BTF_KIND_VAR);
	const struct btf_type *def, *ptr;

	if (var < 0)
		fail_msg("no map %s in the BTF", map);
	def = btf__type_by_id(b, btf__type_by_id(b, var)->type);
	for (uint16_t i = 0; i < btf_vlen(def); i++) {
		if (!streq(btf__name_by_offset(b, btf_members(def)[i].name_off), "value"))
			continue;
		ptr = btf__type_by_id(b, btf_members(def)[i].type);
		return ptr->type;
	}
	fail_msg("map %s has no value type", map);
	return 0;
}

/* "struct flow_key", "union word", "enum color", "typedef counter_t", "int name", or
 * "map NAME" for the value type of a map. */
static uint32_t find_type(const struct btf *b, const char *spec)
{
	static const struct {
		const char *prefix;
		uint32_t kind;
	} kinds[] = {
	    {"struct ", BTF_KIND_STRUCT},   {"union ", BTF_KIND_UNION}, {"enum ", BTF_KIND_ENUM},
	    {"typedef ", BTF_KIND_TYPEDEF}, {"int ", BTF_KIND_INT},
	};
	int id;

	if (strncmp(spec, "map ", 4) == 0)
		return map_value_type(b, spec + 4);
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (strncmp(spec, kinds[i].prefix, n) != 0)
			continue;
		id = btf__find_by_name_kind(b, spec + n, kinds[i].kind);
		if (id <= 0)
			fail_msg("no type %s in the BTF", spec);
		return id;
	}
	fail_msg("bad type spec %s", spec);
	return 0;
}

/* Expected JSON is written with ' for " to keep the tables readable. */
static json_t *expected_json(const char *text)
{
	_cleanup_free_ char *s = strdup(text);
	json_error_t error;
	json_t *j;

	assert_non_null(s);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	j = json_loads(s, JSON_DECODE_ANY, &error);
	if (!j)
		fail_msg("bad expected JSON %s: %s", s, error.text);
	return j;
}

/* Decodes from an odd address of a buffer of exactly `size` bytes: unaligned reads must work,
 * and valgrind sees any read past the end. */
static int decode_unaligned(const struct btf *b, uint32_t id, const void *data, size_t size,
			    bool network_order, json_t **ret)
{
	_cleanup_free_ uint8_t *buf = malloc(size + 1);

	assert_non_null(buf);
	memcpy(buf + 1, data, size);
	return btf_json_decode(b, id, buf + 1, network_order, ret);
}

struct json_case {
	const char *what;
	const char *type;
	const void *data;
	size_t size;
	const char *expected;
	bool network_order; /* the metric's "network-byte-order" */
};

/* The bytes of a value of type T, laid out by the host compiler. */
#define BYTES(T, ...) .data = &(T){__VA_ARGS__}, .size = sizeof(T)

static void check_json_cases(const struct btf *b, const struct json_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct json_case *c = &cases[i];
		uint32_t id = find_type(b, c->type);
		json_auto_t *want = expected_json(c->expected);
		json_auto_t *got = NULL;
		_cleanup_free_ char *got_text = NULL;
		int r;

		/* The host's layout is clang's, or the bytes below would mean nothing. */
		if (btf__resolve_size(b, id) != (int64_t)c->size)
			fail_msg("%s: BTF size %lld, host size %zu", c->what,
				 (long long)btf__resolve_size(b, id), c->size);

		r = decode_unaligned(b, id, c->data, c->size, c->network_order, &got);
		if (r < 0)
			fail_msg("%s: btf_json_decode: %s", c->what, strerror(-r));
		got_text =
		    json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
		if (!json_equal(got, want))
			fail_msg("%s:\n  got      %s\n  expected %s", c->what, got_text,
				 c->expected);
	}
}

static void test_scalars(void **state)
{
	const struct json_case cases[] = {
	    {"every width at its maximum", "struct scalars",
	     BYTES(struct scalars, .u8 = UINT8_MAX, .u16 = UINT16_MAX, .u32 = UINT32_MAX,
		   .u64 = INT64_MAX, .s8 = INT8_MAX, .s16 = INT16_MAX, .s32 = INT32_MAX,
		   .s64 = INT64_MAX, .flag = 1, .c = 'z', .sc = 127, .uc = 255),
	     "{'u8': 255, 'u16': 65535, 'u32': 4294967295, 'u64': 9223372036854775807,"
	     " 's8': 127, 's16': 32767, 's32': 2147483647, 's64': 9223372036854775807,"
	     " 'flag': true, 'c': 122, 'sc': 127, 'uc': 255}"},
	    {"signed minimums, false, NUL", "struct scalars",
	     BYTES(struct scalars, .s8 = INT8_MIN, .s16 = INT16_MIN, .s32 = INT32_MIN,
		   .s64 = INT64_MIN, .c = -1, .sc = -128),
	     "{'u8': 0, 'u16': 0, 'u32': 0, 'u64': 0, 's8': -128, 's16': -32768,"
	     " 's32': -2147483648, 's64': -9223372036854775808, 'flag': false, 'c': -1,"
	     " 'sc': -128, 'uc': 0}"},
	    /* jansson has no integer above INT64_MAX: such a u64 is a real. */
	    {"u64 above INT64_MAX", "struct scalars", BYTES(struct scalars, .u64 = UINT64_MAX),
	     "{'u8': 0, 'u16': 0, 'u32': 0, 'u64': 18446744073709551615.0, 's8': 0, 's16': 0,"
	     " 's32': 0, 's64': 0, 'flag': false, 'c': 0, 'sc': 0, 'uc': 0}"},
	    {"a scalar map value through a typedef chain", "map counter_map",
	     BYTES(pkt_counter_t, 42), "42"},
	    {"INT64_MAX + 1 through the typedef chain", "map counter_map",
	     BYTES(pkt_counter_t, (__u64)INT64_MAX + 1), "9223372036854775808.0"},
	    {"const volatile __s32", "map signed_map", BYTES(__s32, -42), "-42"},
	    {"double", "map double_map", BYTES(double, 1e300), "1e300"},
	    /* __be16 is read as the host reads it, as upstream's JSON shows it; in network order
	     * only when the metric asks. */
	    {"__be16 as the host reads it", "map port_map", BYTES(__be16, __builtin_bswap16(8080)),
	     "36895"},
	    {"__be16 in network order", "map port_map", BYTES(__be16, __builtin_bswap16(8080)),
	     "8080", true},
	    {"enum", "map color_map", BYTES(enum color, BLUE), "'BLUE'"},
	};

	check_json_cases(btf, cases, ELEMENTSOF(cases));
}

static void test_structs(void **state)
{
	const struct json_case cases[] = {
	    /* Upstream's map-extraction test: a key written as {1, 2, 11, 22} by the program reads
	     * {1, 2, 11, 22}, __be* fields or not. */
	    {"__be* fields as the host reads them (upstream's map extraction)", "struct flow_key",
	     BYTES(struct flow_key, .saddr = 1, .daddr = 2, .sport = 11, .dport = 22, .proto = 6),
	     "{'saddr': 1, 'daddr': 2, 'sport': 11, 'dport': 22, 'proto': 6}"},
	    {"packet-order fields as the host reads them", "struct flow_key",
	     BYTES(struct flow_key, .saddr = __builtin_bswap32(0x0a000001),
		   .daddr = __builtin_bswap32(0xc0a80101), .sport = __builtin_bswap16(80),
		   .dport = __builtin_bswap16(443), .proto = 6),
	     "{'saddr': 16777226, 'daddr': 16885952, 'sport': 20480, 'dport': 47873,"
	     " 'proto': 6}"},
	    {"network-order fields decoded when the metric asks", "struct flow_key",
	     BYTES(struct flow_key, .saddr = __builtin_bswap32(0x0a000001),
		   .daddr = __builtin_bswap32(0xc0a80101), .sport = __builtin_bswap16(80),
		   .dport = __builtin_bswap16(443), .proto = 6),
	     "{'saddr': 167772161, 'daddr': 3232235777, 'sport': 80, 'dport': 443,"
	     " 'proto': 6}",
	     true},
	    {"nested struct, typedef chain, const volatile", "struct flow_stats",
	     BYTES(struct flow_stats, .packets = 10, .bytes = 1500,
		   .seen = {.first_ns = 1, .last_ns = UINT64_MAX}),
	     "{'packets': 10, 'bytes': 1500,"
	     " 'seen': {'first_ns': 1, 'last_ns': 18446744073709551615.0}}"},
	    {"a union shows every member", "union word", BYTES(union word, .value = 0x04030201),
	     "{'value': 67305985, 'bytes': [1, 2, 3, 4]}"},
	    {"anonymous struct and union members merge into the parent", "struct tagged",
	     BYTES(struct tagged, .id = 7, .v4 = __builtin_bswap32(0x0a000001), .lo = 1, .hi = 2,
		   .w = {.value = 0xffffffff}),
	     "{'id': 7, 'v4': 16777226, 'v6': [10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],"
	     " 'lo': 1, 'hi': 2, 'w': {'value': 4294967295, 'bytes': [255, 255, 255, 255]}}"},
	    {"packed members at odd offsets", "struct packed",
	     BYTES(struct packed, .tag = 1, .word = 0xdeadbeef, .wide = 0x0102030405060708,
		   .half = 0xffff),
	     "{'tag': 1, 'word': 3735928559, 'wide': 72623859790382856, 'half': 65535}"},
	};

	check_json_cases(btf, cases, ELEMENTSOF(cases));
}

static void test_arrays(void **state)
{
	const struct json_case cases[] = {
	    {"lists, a char string, nested lists, an empty list", "struct arrays",
	     BYTES(struct arrays, .counts = {1, 2, 3, 4}, .mac = {0, 0x11, 0x22, 0x33, 0x44, 0x55},
		   .name = "eth0\0junk", .matrix = {{1, 2, 3}, {4, 5, 6}}, .names = {"lo", "veth0"},
		   .spans = {{1, 2}, {3, 4}}),
	     "{'counts': [1, 2, 3, 4], 'mac': [0, 17, 34, 51, 68, 85], 'name': 'eth0',"
	     " 'matrix': [[1, 2, 3], [4, 5, 6]], 'names': ['lo', 'veth0'],"
	     " 'spans': [{'first_ns': 1, 'last_ns': 2}, {'first_ns': 3, 'last_ns': 4}],"
	     " 'empty': []}"},
	    {"a char array without NUL stops at its end", "struct arrays",
	     BYTES(struct arrays,
		   .name = {'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n',
			    'o', 'p'},
		   .names = {{'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'}, ""}),
	     "{'counts': [0, 0, 0, 0], 'mac': [0, 0, 0, 0, 0, 0], 'name': 'abcdefghijklmnop',"
	     " 'matrix': [[0, 0, 0], [0, 0, 0]], 'names': ['xxxxxxxx', ''],"
	     " 'spans': [{'first_ns': 0, 'last_ns': 0}, {'first_ns': 0, 'last_ns': 0}],"
	     " 'empty': []}"},
	    {"bytes that are not UTF-8 become ?", "struct arrays",
	     BYTES(struct arrays, .name = "caf\xe9 \xc3\xa9"),
	     "{'counts': [0, 0, 0, 0], 'mac': [0, 0, 0, 0, 0, 0], 'name': 'caf? ?\?',"
	     " 'matrix': [[0, 0, 0], [0, 0, 0]], 'names': ['', ''],"
	     " 'spans': [{'first_ns': 0, 'last_ns': 0}, {'first_ns': 0, 'last_ns': 0}],"
	     " 'empty': []}"},
	    {"UTF-8 is kept", "struct arrays", BYTES(struct arrays, .name = "caf\xc3\xa9"),
	     "{'counts': [0, 0, 0, 0], 'mac': [0, 0, 0, 0, 0, 0], 'name': 'caf\xc3\xa9',"
	     " 'matrix': [[0, 0, 0], [0, 0, 0]], 'names': ['', ''],"
	     " 'spans': [{'first_ns': 0, 'last_ns': 0}, {'first_ns': 0, 'last_ns': 0}],"
	     " 'empty': []}"},
	};

	check_json_cases(btf, cases, ELEMENTSOF(cases));
}

static void test_bitfields(void **state)
{
	const struct json_case cases[] = {
	    {"bitfields: unsigned, across bytes, signed, 40 bits wide, bool, enum", "struct bits",
	     BYTES(struct bits, .a = 5, .b = 100, .c = -3, .d = 0xabcdef0123, .e = 1, .col = BLUE,
		   .f = 0xff, .g = -(1LL << 32)),
	     "{'a': 5, 'b': 100, 'c': -3, 'd': 737894400291, 'e': true, 'col': 'BLUE', 'f': 255,"
	     " 'g': -4294967296}"},
	    {"bitfields at their limits; an enum value without a name", "struct bits",
	     BYTES(struct bits, .a = 7, .b = 127, .c = 7, .d = (1ULL << 40) - 1, .col = 7,
		   .g = (1LL << 32) - 1),
	     "{'a': 7, 'b': 127, 'c': 7, 'd': 1099511627775, 'e': false, 'col': 7, 'f': 0,"
	     " 'g': 4294967295}"},
	    {"neighbours are not disturbed", "struct bits", BYTES(struct bits, .b = 1, .d = 1),
	     "{'a': 0, 'b': 1, 'c': 0, 'd': 1, 'e': false, 'col': 'RED', 'f': 0, 'g': 0}"},
	    {"a packed bitfield spanning nine bytes", "struct straddle",
	     BYTES(struct straddle, .lead = 31, .wide = (1ULL << 62) - 1, .tail = 1),
	     "{'lead': 31, 'wide': 4611686018427387903, 'tail': 1}"},
	    {"a packed bitfield spanning nine bytes, one bit set", "struct straddle",
	     BYTES(struct straddle, .wide = 1ULL << 61),
	     "{'lead': 0, 'wide': 2305843009213693952, 'tail': 0}"},
	};

	check_json_cases(btf, cases, ELEMENTSOF(cases));
}

static void test_enums_floats_pointers(void **state)
{
	const struct json_case cases[] = {
	    {"enums by name, float, double, pointer, 128-bit integer", "struct misc",
	     BYTES(struct misc, .color = GREEN, .dir = DIR_BACK, .ratio = 0.25, .weight = 1.5f,
		   .ptr = (void *)0x1234, .big = ((unsigned __int128)1 << 64) | 0xff),
	     "{'color': 'GREEN', 'dir': 'DIR_BACK', 'ratio': 0.25, 'weight': 1.5, 'ptr': 4660,"
	     " 'big': '0x100000000000000ff'}"},
	    {"unnamed enum value, NaN, -Inf, NULL, small 128-bit integer", "struct misc",
	     BYTES(struct misc, .color = 42, .dir = DIR_FWD, .ratio = NAN, .weight = -INFINITY,
		   .big = 42),
	     "{'color': 42, 'dir': 'DIR_FWD', 'ratio': 'NaN', 'weight': '-Inf', 'ptr': 0,"
	     " 'big': '0x2a'}"},
	    {"+Inf; a pointer above INT64_MAX", "struct misc",
	     BYTES(struct misc, .ratio = INFINITY, .ptr = (void *)UINT64_MAX),
	     "{'color': 'RED', 'dir': 'DIR_NONE', 'ratio': '+Inf', 'weight': 0.0,"
	     " 'ptr': 18446744073709551615.0, 'big': '0x0'}"},
	};

	check_json_cases(btf, cases, ELEMENTSOF(cases));
}

/* Kinds clang 14 does not emit (enum64, signed enums, type_tag, restrict), built with libbpf. */
struct built {
	struct btf *btf;
	int u64_enum, s64_enum, s32_enum, tagged, restricted, boolean, fwd, proto;
	int wide_chars; /* an array of 2-byte "char": not a string */
	int padded;	/* struct { int a; int (unnamed); } */
};

static void build_btf(struct built *b)
{
	struct btf *t = btf__new_empty();
	int i32;

	assert_non_null(t);
	i32 = btf__add_int(t, "int", 4, BTF_INT_SIGNED);
	b->boolean = btf__add_int(t, "_Bool", 1, BTF_INT_BOOL);

	b->u64_enum = btf__add_enum64(t, "wide", 8, false);
	assert_int_equal(btf__add_enum64_value(t, "ALL", UINT64_MAX), 0);
	assert_int_equal(btf__add_enum64_value(t, "BIG", 1ULL << 40), 0);

	b->s64_enum = btf__add_enum64(t, "swide", 8, true);
	assert_int_equal(btf__add_enum64_value(t, "MINUS_ONE", (uint64_t)-1LL), 0);
	assert_int_equal(btf__add_enum64_value(t, "ONE", 1), 0);

	b->s32_enum = btf__add_enum(t, "sign", 4);
	assert_int_equal(btf__add_enum_value(t, "NEG", -1), 0); /* sets kflag: signed */

	b->tagged = btf__add_type_tag(t, "user", i32);
	b->restricted = btf__add_restrict(t, b->tagged);
	b->fwd = btf__add_fwd(t, "opaque", BTF_FWD_STRUCT);
	b->proto = btf__add_func_proto(t, i32);
	b->wide_chars = btf__add_array(t, i32, btf__add_int(t, "char", 2, BTF_INT_CHAR), 2);
	b->padded = btf__add_struct(t, "padded", 8);
	assert_int_equal(btf__add_field(t, "a", i32, 0, 0), 0);
	assert_int_equal(btf__add_field(t, NULL, i32, 32, 0), 0);
	assert_true(i32 > 0 && b->boolean > 0 && b->u64_enum > 0 && b->s64_enum > 0 &&
		    b->s32_enum > 0 && b->tagged > 0 && b->restricted > 0 && b->fwd > 0 &&
		    b->proto > 0 && b->wide_chars > 0 && b->padded > 0);
	b->btf = t;
}

static void test_built_kinds(void **state)
{
	struct built b;

	build_btf(&b);
	const struct {
		const char *what;
		int id;
		int64_t value; /* its first `size` bytes, on a little-endian host */
		size_t size;
		const char *expected;
	} cases[] = {
	    {"enum64 by name", b.u64_enum, 1LL << 40, 8, "'BIG'"},
	    {"enum64 all ones", b.u64_enum, -1, 8, "'ALL'"},
	    {"enum64 unnamed value", b.u64_enum, 5, 8, "5"},
	    {"signed enum64 by name", b.s64_enum, -1, 8, "'MINUS_ONE'"},
	    {"signed enum64 unnamed negative value", b.s64_enum, -7, 8, "-7"},
	    {"signed enum unnamed negative value", b.s32_enum, -2, 4, "-2"},
	    {"signed enum by name", b.s32_enum, -1, 4, "'NEG'"},
	    {"type_tag resolved", b.tagged, -5, 4, "-5"},
	    {"restrict resolved", b.restricted, 77, 4, "77"},
	    {"bool", b.boolean, 1, 1, "true"},
	    {"only 1-byte chars make strings", b.wide_chars, 0x00430042, 4, "[66, 67]"},
	    {"unnamed members that are not structs are padding", b.padded, 1, 8, "{'a': 1}"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_auto_t *want = expected_json(cases[i].expected);
		json_auto_t *got = NULL;
		int r;

		r = decode_unaligned(b.btf, cases[i].id, &cases[i].value, cases[i].size, false,
				     &got);
		if (r < 0)
			fail_msg("%s: %s", cases[i].what, strerror(-r));
		if (!json_equal(got, want))
			fail_msg("%s: got %s", cases[i].what,
				 json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT));
	}
	btf__free(b.btf);
}

/* A struct of the BTF encoding before kflag (pahole's): bitfield members point to ints that
 * carry their width and an offset of their own. libbpf cannot build it: raw BTF bytes. */
#define INFO(kind, kflag, vlen) ((uint32_t)(kflag) << 31 | (kind) << 24 | (vlen))
#define INT_ENCODING(encoding, offset, bits) ((encoding) << 24 | (offset) << 16 | (bits))

static void test_old_bitfield_encoding(void **state)
{
	static const char strings[] = "\0int\0old\0a\0b\0c";
	enum { S_INT = 1, S_OLD = 5, S_A = 9, S_B = 11, S_C = 13 };
	const uint32_t types[] = {
	    /* [1] int, 32 bits, signed */
	    S_INT,
	    INFO(BTF_KIND_INT, 0, 0),
	    4,
	    INT_ENCODING(BTF_INT_SIGNED, 0, 32),
	    /* [2] unsigned, 3 bits */
	    0,
	    INFO(BTF_KIND_INT, 0, 0),
	    4,
	    INT_ENCODING(0, 0, 3),
	    /* [3] signed, 5 bits, at an int offset of 2 */
	    0,
	    INFO(BTF_KIND_INT, 0, 0),
	    4,
	    INT_ENCODING(BTF_INT_SIGNED, 2, 5),
	    /* [4] struct old { a: 3 bits at 0; b: 5 bits at 8 + 2; int c at 32 }, no kflag */
	    S_OLD,
	    INFO(BTF_KIND_STRUCT, 0, 3),
	    8,
	    S_A,
	    2,
	    0,
	    S_B,
	    3,
	    8,
	    S_C,
	    1,
	    32,
	};
	struct btf_header hdr = {
	    .magic = BTF_MAGIC,
	    .version = BTF_VERSION,
	    .hdr_len = sizeof(hdr),
	    .type_off = 0,
	    .type_len = sizeof(types),
	    .str_off = sizeof(types),
	    .str_len = sizeof(strings),
	};
	uint8_t raw[sizeof(hdr) + sizeof(types) + sizeof(strings)];
	uint32_t word = 6 | (((uint32_t)-9 & 0x1f) << 10);
	int32_t c = -1;
	uint8_t data[8];
	json_auto_t *want = expected_json("{'a': 6, 'b': -9, 'c': -1}");
	json_auto_t *got = NULL;
	struct btf *old;

	memcpy(raw, &hdr, sizeof(hdr));
	memcpy(raw + sizeof(hdr), types, sizeof(types));
	memcpy(raw + sizeof(hdr) + sizeof(types), strings, sizeof(strings));
	old = btf__new(raw, sizeof(raw));
	assert_non_null(old);

	memcpy(data, &word, 4);
	memcpy(data + 4, &c, 4);
	assert_int_equal(decode_unaligned(old, 4, data, sizeof(data), false, &got), 0);
	if (!json_equal(got, want))
		fail_msg("got %s", json_dumps(got, JSON_COMPACT));
	btf__free(old);
}

static void test_json_errors(void **state)
{
	const uint8_t zeros[64] = {};
	json_t *sentinel = json_null();
	struct built b;

	build_btf(&b);
	const struct {
		const char *what;
		const struct btf *btf;
		uint32_t id;
	} cases[] = {
	    {"void", btf, 0},
	    {"an id past the last type", btf, 1000000},
	    {"a variable", btf, btf__find_by_name_kind(btf, "flows", BTF_KIND_VAR)},
	    {"a section", btf, btf__find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC)},
	    {"a forward declaration", b.btf, b.fwd},
	    {"a function prototype", b.btf, b.proto},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_t *got = sentinel;
		int r;

		r = btf_json_decode(cases[i].btf, cases[i].id, zeros, false, &got);
		if (r != -EINVAL)
			fail_msg("%s: returned %d, expected -EINVAL", cases[i].what, r);
		if (got != sentinel)
			fail_msg("%s: the result was written on failure", cases[i].what);
	}
	btf__free(b.btf);
}

struct number_case {
	const char *what;
	const char *type;
	const void *data;
	size_t size;
	int error;
	struct dm_number expected;
};

#define U64(v)                                                                                     \
	{                                                                                          \
		.kind = DM_NUMBER_U64, .u = (v)                                                    \
	}
#define I64(v)                                                                                     \
	{                                                                                          \
		.kind = DM_NUMBER_I64, .i = (v)                                                    \
	}
#define F64(v)                                                                                     \
	{                                                                                          \
		.kind = DM_NUMBER_F64, .f = (v)                                                    \
	}

static void check_number(const char *what, const struct dm_number *got,
			 const struct dm_number *want)
{
	if (got->kind != want->kind)
		fail_msg("%s: kind %d, expected %d", what, got->kind, want->kind);
	switch (want->kind) {
	case DM_NUMBER_U64:
		if (got->u != want->u)
			fail_msg("%s: %" PRIu64 ", expected %" PRIu64, what, got->u, want->u);
		break;
	case DM_NUMBER_I64:
		if (got->i != want->i)
			fail_msg("%s: %" PRId64 ", expected %" PRId64, what, got->i, want->i);
		break;
	case DM_NUMBER_F64:
		if (memcmp(&got->f, &want->f, sizeof(double)) != 0)
			fail_msg("%s: %.17g, expected %.17g", what, got->f, want->f);
		break;
	}
}

static void test_numbers(void **state)
{
	const struct number_case cases[] = {
	    {"u64 through a typedef chain", "typedef pkt_counter_t", BYTES(__u64, 123), 0,
	     U64(123)},
	    {"u64 max in full", "map counter_map", BYTES(__u64, UINT64_MAX), 0, U64(UINT64_MAX)},
	    {"const volatile s32", "map signed_map", BYTES(__s32, -42), 0, I64(-42)},
	    {"s32 min", "map signed_map", BYTES(__s32, INT32_MIN), 0, I64(INT32_MIN)},
	    {"double", "map double_map", BYTES(double, 0.1), 0, F64(0.1)},
	    {"an enum as its value", "map color_map", BYTES(enum color, BLUE), 0, U64(6)},
	    {"__be16 in network order", "map port_map", BYTES(__be16, __builtin_bswap16(443)), 0,
	     U64(443)},
	    {"__be32 in network order", "typedef __be32",
	     BYTES(__be32, __builtin_bswap32(0x0a000001)), 0, U64(0x0a000001)},
	    {"u8", "typedef __u8", BYTES(__u8, 200), 0, U64(200)},
	    {"s8", "typedef __s8", BYTES(__s8, -100), 0, I64(-100)},
	    {"s64 min", "typedef __s64", BYTES(__s64, INT64_MIN), 0, I64(INT64_MIN)},
	    {"a struct is not a scalar", "struct flow_key", BYTES(struct flow_key, 0),
	     -EMEDIUMTYPE},
	    {"a union is not a scalar", "union word", BYTES(union word, 0), -EMEDIUMTYPE},
	    {"a 128-bit integer fits no OpenMetrics number", "int unsigned __int128",
	     BYTES(unsigned __int128, 1), -EMEDIUMTYPE},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct number_case *c = &cases[i];
		_cleanup_free_ uint8_t *buf = malloc(c->size + 1);
		struct dm_number got = {.kind = 99};
		int r;

		assert_non_null(buf);
		memcpy(buf + 1, c->data, c->size);
		r = btf_number_decode(btf, find_type(btf, c->type), buf + 1, &got);
		if (r != c->error)
			fail_msg("%s: returned %d, expected %d", c->what, r, c->error);
		if (c->error == 0)
			check_number(c->what, &got, &c->expected);
		else if (got.kind != 99)
			fail_msg("%s: the result was written on failure", c->what);
	}
}

static void test_number_errors(void **state)
{
	const uint8_t zeros[16] = {};
	struct dm_number n;
	struct built b;
	int array_id;

	/* An array: the type of struct arrays' first member. */
	array_id = btf_members(btf__type_by_id(btf, find_type(btf, "struct arrays")))[0].type;
	assert_int_equal(btf_number_decode(btf, array_id, zeros, &n), -EMEDIUMTYPE);
	assert_int_equal(btf_number_decode(btf, 0, zeros, &n), -EINVAL);
	assert_int_equal(btf_number_decode(btf, 1000000, zeros, &n), -EINVAL);

	build_btf(&b);
	assert_int_equal(btf_number_decode(b.btf, b.fwd, zeros, &n), -EINVAL);
	assert_int_equal(btf_number_decode(b.btf, b.boolean, (uint8_t[]){1}, &n), 0);
	check_number("bool", &n, &(struct dm_number)U64(1));
	assert_int_equal(btf_number_decode(b.btf, b.s64_enum, &(int64_t){-3}, &n), 0);
	check_number("signed enum64", &n, &(struct dm_number)I64(-3));
	btf__free(b.btf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars),
	    cmocka_unit_test(test_structs),
	    cmocka_unit_test(test_arrays),
	    cmocka_unit_test(test_bitfields),
	    cmocka_unit_test(test_enums_floats_pointers),
	    cmocka_unit_test(test_built_kinds),
	    cmocka_unit_test(test_old_bitfield_encoding),
	    cmocka_unit_test(test_json_errors),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_number_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
