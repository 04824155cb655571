/* SPDX-License-Identifier: Apache-2.0 */
/* The streaming JSON path against the tree it replaces: jsonw writes what json_dumps(JSON_COMPACT)
 * writes, btf-jsonw renders every type of the test objects' BTF as btf_json_decode() decodes
 * it, and dm_snapshot_write_json() writes every kind of snapshot as json_dumps() of
 * dm_snapshot_to_json() — byte for byte, over many random values. The one difference allowed
 * is the one meant: a u64 above INT64_MAX is an exact integer, where jansson has a real. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <endian.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include <linux/btf.h>

#include "btf-json.h"
#include "btf-jsonw.h"
#include "jsonw.h"
#include "maps.h"
#include "export-metrics.h"
#include "snapshot-json.h"
#include "snapshot-tree.h"
#include "util.h"

/* The declarations the BPF object was built from, for the host: bytes of known values. */
#define BTF_TYPES_HOST
#include "../bpf/btf-types.bpf.c"

static struct btf *btf; /* of BTF_TYPES_OBJ */

/* Random data that a failure can be reproduced from: a fixed seed, xorshift64*. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

/* The patterns bytes are filled with: the extremes, random, and random with the high bit of
 * each byte clear (no u64 beyond INT64_MAX, ASCII strings with control characters). */
enum fill { FILL_ZERO, FILL_ONES, FILL_RANDOM, FILL_RANDOM_LOW, _FILL_MAX };

static void fill(uint8_t *p, size_t n, enum fill how)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = (uint8_t)rnd();

		p[i] = how == FILL_ZERO		? 0
		       : how == FILL_ONES	? 0xff
		       : how == FILL_RANDOM_LOW ? b & 0x7f
						: b;
	}
}

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

/* What jansson writes for `j`. */
static char *dump(const json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	assert_non_null(text);
	return text;
}

/* The text of a memory writer, which must have had no error. */
static char *take(struct jsonw *w)
{
	char *text;

	assert_int_equal(jsonw_take_string(w, &text, NULL), 0);
	return text;
}

/* Whether the number token starting at `p` (a digit) is an integer above INT64_MAX. */
static bool big_integer(const char *p, const char **ret_end)
{
	const char *end = p;
	uint64_t u;

	while (isdigit((unsigned char)*end))
		end++;
	*ret_end = end;
	if (*end == '.' || *end == 'e' || *end == 'E')
		return false;
	errno = 0;
	u = strtoull(p, NULL, 10);
	return errno == 0 && u > INT64_MAX;
}

/* The stream's text as jansson would have it: every integer token above INT64_MAX (outside
 * strings) rewritten as the real jansson makes of it. Nothing else may differ. */
static char *as_jansson(const char *text)
{
	struct jsonw *w;
	bool in_string = false;
	char *out;

	assert_int_equal(jsonw_new(NULL, &w), 0);
	for (const char *p = text; *p;) {
		const char *end;

		if (in_string) {
			if (*p == '\\')
				jsonw_putc(w, *p++); /* the escaped character follows as it is */
			else if (*p == '"')
				in_string = false;
			jsonw_putc(w, *p++);
		} else if (*p == '"') {
			in_string = true;
			jsonw_putc(w, *p++);
		} else if (isdigit((unsigned char)*p) && (p == text || strchr("[{,:", p[-1]))) {
			if (big_integer(p, &end))
				jsonw_put_double(w, (double)strtoull(p, NULL, 10));
			else
				jsonw_put(w, p, end - p);
			p = end;
		} else {
			jsonw_putc(w, *p++);
		}
	}
	out = take(w);
	jsonw_free(w);
	return out;
}

/* ---- jsonw: the writer alone --------------------------------------------------------------- */

static void test_structured_like_jansson(void **state)
{
	json_auto_t *j = json_pack(
	    "{s:[{}, [], {s:[i,i]}, s, b, b, n], s:s#, s:I, s:I, s:f, s:{s:{s:[[]]}}}", "list", "a",
	    1, 2, "x\"y\\z/\x01\x1f\x7f\n\r\t\b\f", 1, 0, "bytes", "nul\0byte", (int)8, "min",
	    (json_int_t)INT64_MIN, "max", (json_int_t)INT64_MAX, "real", 0.1, "deep", "a", "b");
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	_cleanup_free_ char *want = NULL, *got = NULL;

	assert_non_null(j);
	assert_int_equal(jsonw_new(NULL, &w), 0);
	jsonw_begin_object(w);
	jsonw_name(w, "list");
	jsonw_begin_array(w);
	jsonw_begin_object(w);
	jsonw_end_object(w);
	jsonw_begin_array(w);
	jsonw_end_array(w);
	jsonw_begin_object(w);
	jsonw_name(w, "a");
	jsonw_begin_array(w);
	jsonw_u64(w, 1);
	jsonw_i64(w, 2);
	jsonw_end_array(w);
	jsonw_end_object(w);
	jsonw_string(w, "x\"y\\z/\x01\x1f\x7f\n\r\t\b\f");
	jsonw_bool(w, true);
	jsonw_bool(w, false);
	jsonw_null(w);
	jsonw_end_array(w);
	jsonw_name(w, "bytes");
	jsonw_stringn(w, "nul\0byte", 8);
	jsonw_name(w, "min");
	jsonw_i64(w, INT64_MIN);
	jsonw_name(w, "max");
	jsonw_i64(w, INT64_MAX);
	jsonw_name(w, "real");
	jsonw_double(w, 0.1);
	jsonw_name(w, "deep");
	jsonw_begin_object(w);
	jsonw_name(w, "a");
	jsonw_begin_object(w);
	jsonw_name(w, "b");
	jsonw_begin_array(w);
	jsonw_begin_array(w);
	jsonw_end_array(w);
	jsonw_end_array(w);
	jsonw_end_object(w);
	jsonw_end_object(w);
	jsonw_end_object(w);

	want = dump(j);
	got = take(w);
	assert_string_equal(got, want);
}

static void test_u64_exact(void **state)
{
	static const struct {
		uint64_t v;
		const char *text;
	} cases[] = {
	    {0, "0"},
	    {9, "9"},
	    {10, "10"},
	    {99, "99"},
	    {100, "100"},
	    {(uint64_t)INT64_MAX, "9223372036854775807"},
	    {(uint64_t)INT64_MAX + 1, "9223372036854775808"},
	    {UINT64_MAX - 1, "18446744073709551614"},
	    {UINT64_MAX, "18446744073709551615"},
	};
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;

	assert_int_equal(jsonw_new(NULL, &w), 0);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *got = NULL;

		jsonw_u64(w, cases[i].v);
		got = take(w);
		assert_string_equal(got, cases[i].text);
	}
	/* And every power of ten and its neighbours, against printf. */
	for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10)
		for (int d = -1; d <= 1; d++) {
			_cleanup_free_ char *got = NULL;
			char want[32];

			snprintf(want, sizeof(want), "%" PRIu64, p + d);
			jsonw_put_u64(w, p + d);
			got = take(w);
			assert_string_equal(got, want);
		}
}

/* Against jansson's own text for a real, for chosen and for random bit patterns. */
static void test_double_like_jansson(void **state)
{
	static const double chosen[] = {
	    0.0,
	    -0.0,
	    0.1,
	    1.5,
	    -2.5,
	    1e300,
	    1e-300,
	    1e20,
	    1e21,
	    1e16,
	    1e17,
	    1e-5,
	    1e-7,
	    5e-324,
	    DBL_MAX,
	    DBL_MIN,
	    123456789.0,
	    9007199254740993.0,
	    18446744073709551615.0,
	    -9223372036854775808.0,
	    0.3,
	};
	char buf[JSONW_DOUBLE_MAX];

	for (size_t i = 0; i < ELEMENTSOF(chosen) + 20000; i++) {
		double d;
		uint64_t bits = rnd();
		json_auto_t *j = NULL;
		_cleanup_free_ char *want = NULL;

		if (i < ELEMENTSOF(chosen))
			d = chosen[i];
		else
			memcpy(&d, &bits, sizeof(d));
		if (!isfinite(d))
			continue;
		j = json_real(d);
		want = dump(j);
		jsonw_format_double(d, buf);
		if (!streq(buf, want))
			fail_msg("%a: got %s, jansson %s", d, buf, want);
	}
}

/* Every string jansson accepts, jsonw finds UTF-8, and no other: all one- and two-byte strings,
 * every three-byte one starting E0..EF, and random four-byte ones. */
static void test_utf8_like_jansson(void **state)
{
	uint8_t s[4];

	for (size_t len = 1; len <= 4; len++) {
		size_t n = len <= 2 ? 1u << (8 * len) : len == 3 ? 1u << 20 : 400000;

		for (size_t i = 0; i < n; i++) {
			json_auto_t *j = NULL;

			if (len <= 2)
				memcpy(s, &i, len);
			else
				fill(s, len, FILL_RANDOM);
			if (len == 3) {
				s[0] = 0xe0 | (i >> 16);
				s[1] = (uint8_t)(i >> 8);
				s[2] = (uint8_t)i;
			}
			if (len == 4 && i % 2)
				s[0] = 0xf0 | (s[0] & 0x7); /* mostly valid starts */
			j = json_stringn((const char *)s, len);
			if (jsonw_utf8_valid((const char *)s, len) != (j != NULL))
				fail_msg("%02x %02x %02x %02x (%zu bytes): jansson %s", s[0], s[1],
					 s[2], s[3], len, j ? "accepts" : "refuses");
		}
	}
}

/* Through a FILE, in pieces larger than the buffer; and a FILE that cannot be written. */
static void test_file(void **state)
{
	_cleanup_(jsonw_freep) struct jsonw *w = NULL, *mem = NULL;
	_cleanup_free_ char *text = NULL, *want = NULL;
	_cleanup_fclose_ FILE *ro = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert_non_null(f);
	assert_int_equal(jsonw_new(f, &w), 0);
	assert_int_equal(jsonw_new(NULL, &mem), 0);
	jsonw_begin_array(w);
	jsonw_begin_array(mem);
	for (unsigned i = 0; i < 100000; i++) {
		jsonw_u64(w, (uint64_t)i * 1000003);
		jsonw_u64(mem, (uint64_t)i * 1000003);
	}
	jsonw_end_array(w);
	jsonw_end_array(mem);
	assert_int_equal(jsonw_size(w), jsonw_size(mem));
	assert_int_equal(jsonw_flush(w), 0);
	assert_int_equal(fclose(f), 0);
	want = take(mem);
	assert_string_equal(text, want);

	jsonw_free(TAKE_PTR(w));
	ro = fopen("/dev/null", "r");
	assert_non_null(ro);
	assert_int_equal(jsonw_new(ro, &w), 0);
	for (unsigned i = 0; i < 100000; i++)
		jsonw_u64(w, i);
	assert_true(jsonw_flush(w) < 0);
	/* The error stays. */
	assert_true(jsonw_flush(w) < 0);
}

/* ---- btf-jsonw: every type of the BTF, against btf_json_decode() --------------------------- */

/* One value of type `id` from the bytes at `data`, both ways; fails the test on a difference. */
static void compare_type_order(const struct btf *b, uint32_t id, const uint8_t *data,
			       const char *what, bool network_order)
{
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	_cleanup_free_ char *want = NULL, *got = NULL, *got_as_jansson = NULL;
	json_auto_t *tree = NULL;
	int r_tree, r_stream;

	assert_int_equal(jsonw_new(NULL, &w), 0);
	r_tree = btf_json_decode(b, id, data, network_order, &tree);
	r_stream = btf_jsonw_decode(b, id, data, network_order, w);
	if (r_tree != r_stream)
		fail_msg("type %u (%s): tree %d, stream %d", id, what, r_tree, r_stream);
	if (r_tree < 0)
		return;
	want = dump(tree);
	got = take(w);
	got_as_jansson = as_jansson(got);
	if (!streq(got_as_jansson, want))
		fail_msg("type %u (%s):\n  stream %s\n  tree   %s", id, what, got, want);
}

/* __be* integers as the host reads them, and in network order. */
static void compare_type(const struct btf *b, uint32_t id, const uint8_t *data, const char *what)
{
	compare_type_order(b, id, data, what, false);
	compare_type_order(b, id, data, what, true);
}

static size_t compare_all_types(const struct btf *b, unsigned rounds)
{
	size_t compared = 0;

	for (uint32_t id = 0; id < btf__type_cnt(b); id++) {
		int64_t size = btf__resolve_size(b, id);
		const char *name = btf__name_by_offset(b, btf__type_by_id(b, id)->name_off);
		_cleanup_free_ uint8_t *buf = NULL;

		/* Types without a size (void, functions...) must fail both ways, on any bytes. */
		size = size < 0 ? 16 : size;
		/* An odd address: nothing may assume alignment. */
		buf = malloc(size + 1);
		assert_non_null(buf);
		for (unsigned k = 0; k < rounds; k++) {
			fill(buf + 1, size, k % _FILL_MAX);
			compare_type(b, id, buf + 1, strempty(name));
			compared++;
		}
	}
	return compared;
}

static void test_every_btf_type(void **state)
{
	assert_true(compare_all_types(btf, 64) > 64 * 40);
}

/* Kinds clang 14 does not emit, built with libbpf: enum64 (with a value above INT64_MAX),
 * signed enums, type tags, restrict, a forward declaration, a function prototype, wide chars,
 * padding, 128-bit and bool bitfields. */
static void test_built_btf(void **state)
{
	struct btf *t = btf__new_empty();
	int i32, u64, u128, boolean, e64, s64, s32, st, deep;

	assert_non_null(t);
	i32 = btf__add_int(t, "int", 4, BTF_INT_SIGNED);
	u64 = btf__add_int(t, "unsigned long", 8, 0);
	u128 = btf__add_int(t, "unsigned __int128", 16, 0);
	boolean = btf__add_int(t, "_Bool", 1, BTF_INT_BOOL);
	e64 = btf__add_enum64(t, "wide", 8, false);
	assert_int_equal(btf__add_enum64_value(t, "ALL", UINT64_MAX), 0);
	assert_int_equal(btf__add_enum64_value(t, "BIG", 1ULL << 40), 0);
	s64 = btf__add_enum64(t, "swide", 8, true);
	assert_int_equal(btf__add_enum64_value(t, "MINUS_ONE", (uint64_t)-1LL), 0);
	s32 = btf__add_enum(t, "sign", 4);
	assert_int_equal(btf__add_enum_value(t, "NEG", -1), 0);
	btf__add_restrict(t, btf__add_type_tag(t, "user", i32));
	btf__add_fwd(t, "opaque", BTF_FWD_STRUCT);
	btf__add_func_proto(t, i32);
	btf__add_array(t, i32, btf__add_int(t, "char", 2, BTF_INT_CHAR), 2);
	st = btf__add_struct(t, "mixed", 48);
	assert_int_equal(btf__add_field(t, "a", i32, 0, 0), 0);
	assert_int_equal(btf__add_field(t, NULL, i32, 32, 0), 0);
	assert_int_equal(btf__add_field(t, "flag", boolean, 64, 1), 0);
	assert_int_equal(btf__add_field(t, "e", e64, 65, 7), 0);
	assert_int_equal(btf__add_field(t, "s", s64, 72, 0), 0);
	assert_int_equal(btf__add_field(t, "n", s32, 136, 0), 0);
	assert_int_equal(btf__add_field(t, "big", u128, 256, 0), 0);
	/* A 128-bit integer as a bitfield: neither a hex string nor a number. */
	assert_int_equal(btf__add_struct(t, "bad", 16) > 0, true);
	assert_int_equal(btf__add_field(t, "x", u128, 0, 100), 0);
	btf__add_array(t, u64, i32, 3);
	/* No element to show, but an element without a size: an error all the same. */
	btf__add_array(t, i32, 0, 0);
	/* Nesting beyond what BTF from a compiler has: 70 structs, each in the next. */
	deep = i32;
	for (int k = 0; k < 70; k++) {
		int outer = btf__add_struct(t, NULL, 4);

		assert_int_equal(btf__add_field(t, "in", deep, 0, 0), 0);
		deep = outer;
	}
	assert_true(i32 > 0 && u64 > 0 && st > 0 && deep > 0);

	assert_true(compare_all_types(t, 400) > 400 * 80);
	btf__free(t);
}

/* The exact integers, in full. */
static void test_exact_u64_values(void **state)
{
	const struct {
		const char *what, *type;
		const void *data;
		size_t size;
		const char *expected;
	} cases[] = {
	    {"u64 above INT64_MAX", "struct timestamps",
	     &(struct timestamps){.first_ns = UINT64_MAX, .last_ns = (__u64)INT64_MAX + 1},
	     sizeof(struct timestamps),
	     "{\"first_ns\":18446744073709551615,\"last_ns\":9223372036854775808}"},
	    {"a typedef chain down to u64", "typedef pkt_counter_t", &(__u64){UINT64_MAX - 1}, 8,
	     "18446744073709551614"},
	    {"a network-order u32 and u16", "struct flow_key",
	     &(struct flow_key){.saddr = __builtin_bswap32(0xffffffff),
				.sport = __builtin_bswap16(65535),
				.proto = 255},
	     sizeof(struct flow_key),
	     "{\"saddr\":4294967295,\"daddr\":0,\"sport\":65535,\"dport\":0,\"proto\":255}"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(jsonw_freep) struct jsonw *w = NULL;
		_cleanup_free_ char *got = NULL;
		const char *space = strchr(cases[i].type, ' ');
		int id = btf__find_by_name_kind(
		    btf, space + 1, cases[i].type[0] == 's' ? BTF_KIND_STRUCT : BTF_KIND_TYPEDEF);

		assert_true(id > 0);
		assert_int_equal(btf__resolve_size(btf, id), cases[i].size);
		assert_int_equal(jsonw_new(NULL, &w), 0);
		assert_int_equal(btf_jsonw_decode(btf, id, cases[i].data, false, w), 0);
		got = take(w);
		if (!streq(got, cases[i].expected))
			fail_msg("%s: got %s", cases[i].what, got);
	}
}

/* ---- dm_snapshot_write_json(): every map kind, against dm_snapshot_to_json() --------------- */

struct snapshot_case {
	const char *what;
	enum bpf_map_type type;
	const char *key_type, *value_type; /* "struct x", "typedef x"; NULL: no BTF */
	uint32_t key_size, value_size;	   /* with no BTF */
	uint32_t n_cpus;
	size_t n;
};

/* "struct x", "union x", "typedef x", "var x"; its size in *size. */
static uint32_t find_type(const char *spec, uint32_t *size)
{
	static const struct {
		const char *prefix;
		uint32_t kind;
	} kinds[] = {
	    {"struct ", BTF_KIND_STRUCT},
	    {"union ", BTF_KIND_UNION},
	    {"typedef ", BTF_KIND_TYPEDEF},
	    {"var ", BTF_KIND_VAR},
	};

	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		size_t n = strlen(kinds[i].prefix);
		int id;

		if (strncmp(spec, kinds[i].prefix, n) != 0)
			continue;
		id = btf__find_by_name_kind(btf, spec + n, kinds[i].kind);
		if (id <= 0)
			fail_msg("no type %s", spec);
		*size = btf__resolve_size(btf, id);
		return id;
	}
	fail_msg("bad type spec %s", spec);
	return 0;
}

static bool percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static struct dm_map_snapshot *snapshot_new(const struct snapshot_case *c, enum fill how)
{
	struct dm_map_snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	*s = (struct dm_map_snapshot){
	    .type = c->type,
	    .key_size = c->key_size,
	    .value_size = c->value_size,
	    .n_cpus = c->n_cpus,
	    .n_entries = c->n,
	};
	if (c->key_type || c->value_type)
		s->btf = btf;
	if (c->key_type)
		s->key_type_id = find_type(c->key_type, &s->key_size);
	if (c->value_type)
		s->value_type_id = find_type(c->value_type, &s->value_size);
	s->value_stride = percpu(c->type) ? (s->value_size + 7) / 8 * 8 : s->value_size;
	s->keys = calloc(c->n + 1, s->key_size + 1);
	s->values = calloc((c->n + 1) * c->n_cpus, s->value_stride + 1);
	assert_true(s->keys && s->values);
	fill(s->keys, c->n * s->key_size, how);
	fill(s->values, c->n * c->n_cpus * s->value_stride, how);
	return s;
}

static const struct snapshot_case snapshot_cases[] = {
    {"hash of flows", BPF_MAP_TYPE_HASH, "struct flow_key", "struct flow_stats", 0, 0, 1, 50},
    {"LRU hash, array values", BPF_MAP_TYPE_LRU_HASH, "typedef __u32", "struct arrays", 0, 0, 1,
     20},
    {"per-CPU hash of bitfields", BPF_MAP_TYPE_PERCPU_HASH, "struct packed", "struct bits", 0, 0, 4,
     20},
    {"LRU per-CPU hash, unions", BPF_MAP_TYPE_LRU_PERCPU_HASH, "union word", "struct tagged", 0, 0,
     3, 20},
    {"array of scalars", BPF_MAP_TYPE_ARRAY, "typedef __u32", "struct scalars", 0, 0, 1, 30},
    {"array of enums, floats, pointers", BPF_MAP_TYPE_ARRAY, "typedef __u32", "struct misc", 0, 0,
     1, 30},
    {"per-CPU array of u64", BPF_MAP_TYPE_PERCPU_ARRAY, "typedef __u32", "typedef counter_t", 0, 0,
     2, 30},
    {"per-CPU array, a 6-byte value without BTF (padded to 8)", BPF_MAP_TYPE_PERCPU_ARRAY, NULL,
     NULL, 4, 6, 3, 10},
    {"queue of structs", BPF_MAP_TYPE_QUEUE, NULL, "struct flow_stats", 0, 0, 1, 10},
    {"stack without BTF", BPF_MAP_TYPE_STACK, NULL, NULL, 0, 4, 1, 10},
    {"hash without BTF: 13-byte keys, u64 values", BPF_MAP_TYPE_HASH, NULL, NULL, 13, 8, 1, 30},
    {"hash without BTF: u8 keys, u16 values", BPF_MAP_TYPE_HASH, NULL, NULL, 1, 2, 1, 30},
    {"hash with BTF keys, raw 3-byte values", BPF_MAP_TYPE_HASH, "struct straddle", NULL, 0, 3, 1,
     30},
    {"array without BTF, 0-byte values", BPF_MAP_TYPE_ARRAY, NULL, NULL, 4, 0, 1, 3},
    {"an empty hash", BPF_MAP_TYPE_HASH, "struct flow_key", "struct flow_stats", 0, 0, 1, 0},
    {"an empty array of a type that cannot be decoded", BPF_MAP_TYPE_ARRAY, NULL, "var flows", 0, 0,
     1, 0},
};

static void compare_snapshot(const struct snapshot_case *c, enum fill how)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = snapshot_new(c, how);
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	_cleanup_free_ char *want = NULL, *got = NULL, *got_as_jansson = NULL;
	json_auto_t *tree = NULL;
	int r;

	assert_int_equal(dm_snapshot_to_json(s, false, &tree), 0);
	assert_int_equal(jsonw_new(NULL, &w), 0);
	r = dm_snapshot_write_json(w, s, false);
	if (r < 0)
		fail_msg("%s: %s", c->what, strerror(-r));
	want = dump(tree);
	got = take(w);
	got_as_jansson = as_jansson(got);
	if (!streq(got_as_jansson, want))
		fail_msg("%s (fill %d):\n  stream %s\n  tree   %s", c->what, how, got, want);
	/* Only the u64 beyond INT64_MAX differ, and only random bytes make them. */
	if (how == FILL_ZERO || how == FILL_RANDOM_LOW)
		assert_string_equal(got, want);
}

static void test_snapshots(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(snapshot_cases); i++)
		for (unsigned k = 0; k < 20; k++)
			compare_snapshot(&snapshot_cases[i], k % _FILL_MAX);
}

/* Failures as the tree fails: a map type it does not show, a type it cannot decode. */
static void test_snapshot_errors(void **state)
{
	static const struct snapshot_case cases[] = {
	    {"a ring buffer", BPF_MAP_TYPE_RINGBUF, NULL, NULL, 0, 8, 1, 1},
	    {"a value of a type that cannot be decoded", BPF_MAP_TYPE_ARRAY, NULL, "var flows", 4,
	     0, 1, 2},
	    {"a key of a type that cannot be decoded", BPF_MAP_TYPE_HASH, "var flows",
	     "struct flow_stats", 0, 0, 1, 2},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s =
		    snapshot_new(&cases[i], FILL_RANDOM);
		_cleanup_(jsonw_freep) struct jsonw *w = NULL;
		json_t *tree = NULL;
		int r_tree, r_stream;

		assert_int_equal(jsonw_new(NULL, &w), 0);
		r_tree = dm_snapshot_to_json(s, false, &tree);
		r_stream = dm_snapshot_write_json(w, s, false);
		assert_true(r_tree < 0);
		if (r_tree != r_stream)
			fail_msg("%s: tree %d, stream %d", cases[i].what, r_tree, r_stream);
	}
}

/* One list from several chunks is the list of the whole. */
static void test_chunks(void **state)
{
	const struct snapshot_case *c = &snapshot_cases[0];
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = snapshot_new(c, FILL_RANDOM);
	_cleanup_(jsonw_freep) struct jsonw *whole = NULL, *chunked = NULL;
	_cleanup_free_ char *want = NULL, *got = NULL;
	struct dm_map_snapshot chunk = *s;
	size_t sizes[] = {0, 1, 7, 0, 20, 22};

	assert_int_equal(jsonw_new(NULL, &whole), 0);
	assert_int_equal(jsonw_new(NULL, &chunked), 0);
	assert_int_equal(dm_snapshot_write_json(whole, s, false), 0);
	jsonw_begin_array(chunked);
	for (size_t i = 0, at = 0; i < ELEMENTSOF(sizes); at += sizes[i++]) {
		chunk.keys = (uint8_t *)s->keys + at * s->key_size;
		chunk.values = (uint8_t *)s->values + at * s->n_cpus * s->value_stride;
		chunk.n_entries = sizes[i];
		assert_int_equal(dm_snapshot_write_json_entries(chunked, &chunk, false), 0);
	}
	jsonw_end_array(chunked);
	want = take(whole);
	got = take(chunked);
	assert_string_equal(got, want);
}

/* ---- dm_map_read_chunks(): a real map, read in chunks ------------------------------------- */

struct collected {
	struct jsonw *w;
	size_t chunks, entries, largest;
};

static int collect(const struct dm_map_snapshot *chunk, void *userdata)
{
	struct collected *c = userdata;

	c->chunks++;
	c->entries += chunk->n_entries;
	if (chunk->n_entries > c->largest)
		c->largest = chunk->n_entries;
	return dm_snapshot_write_json_entries(c->w, chunk, false);
}

static int stop_at_second(const struct dm_map_snapshot *chunk, void *userdata)
{
	size_t *calls = userdata;

	return ++*calls == 2 ? -ECANCELED : 0;
}

/* The text of a whole read and of a read in chunks, and what the chunks were. */
static char *read_chunked(struct bpf_map *map, struct btf *b, bool empty, struct collected *c)
{
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;

	assert_int_equal(jsonw_new(NULL, &w), 0);
	*c = (struct collected){.w = w};
	jsonw_begin_array(w);
	assert_int_equal(dm_map_read_chunks(map, b, empty, collect, c), 0);
	jsonw_end_array(w);
	return take(w);
}

/* Needs root and a kernel with BPF, as test-metrics' reads of real maps do. */
static void test_read_chunks(void **state)
{
	enum { N = 10000 };
	_cleanup_free_ struct flow_key *keys = calloc(N, sizeof(*keys));
	_cleanup_free_ struct flow_stats *values = calloc(N, sizeof(*values));
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *whole = NULL;
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	_cleanup_free_ char *want = NULL, *got = NULL, *emptied = NULL, *after = NULL;
	struct bpf_object *obj = bpf_object__open_file(BTF_TYPES_OBJ, NULL);
	struct bpf_map *flows, *array;
	struct collected c;
	size_t calls = 0;
	uint32_t count = N;

	assert_non_null(obj);
	flows = bpf_object__find_map_by_name(obj, "flows");
	array = bpf_object__find_map_by_name(obj, "scalars_map");
	assert_true(flows && array);
	assert_int_equal(bpf_map__set_max_entries(flows, N), 0);
	if (bpf_object__load(obj) < 0)
		fail_msg("cannot load %s (root and BPF needed): %m", BTF_TYPES_OBJ);
	for (uint32_t i = 0; i < N; i++) {
		keys[i] = (struct flow_key){.saddr = htobe32(0x0a000000 + i), .proto = 17};
		fill((uint8_t *)&values[i], sizeof(values[i]), FILL_RANDOM);
	}
	assert_int_equal(bpf_map_update_batch(bpf_map__fd(flows), keys, values, &count, NULL), 0);

	/* Chunks of one batch at most, which together are the whole read, in its order. */
	assert_int_equal(dm_map_snapshot_read(flows, bpf_object__btf(obj), false, &whole), 0);
	assert_int_equal(whole->n_entries, N);
	assert_int_equal(jsonw_new(NULL, &w), 0);
	assert_int_equal(dm_snapshot_write_json(w, whole, false), 0);
	want = take(w);
	got = read_chunked(flows, bpf_object__btf(obj), false, &c);
	assert_string_equal(got, want);
	assert_int_equal(c.entries, N);
	assert_true(c.chunks >= 3 && c.largest <= 4096);

	/* A callback's error stops the read and is returned. */
	assert_int_equal(
	    dm_map_read_chunks(flows, bpf_object__btf(obj), false, stop_at_second, &calls),
	    -ECANCELED);
	assert_int_equal(calls, 2);

	/* Emptying: the same entries, then none. */
	emptied = read_chunked(flows, bpf_object__btf(obj), true, &c);
	assert_string_equal(emptied, want);
	after = read_chunked(flows, bpf_object__btf(obj), false, &c);
	assert_string_equal(after, "[]");
	assert_int_equal(c.chunks, 0);

	/* Other maps come whole, in one chunk. */
	free(after);
	after = read_chunked(array, bpf_object__btf(obj), false, &c);
	assert_int_equal(c.chunks, 1);
	assert_int_equal(c.entries, 1);
	assert_string_equal(after,
			    "[{\"u8\":0,\"u16\":0,\"u32\":0,\"u64\":0,\"s8\":0,\"s16\":0,"
			    "\"s32\":0,\"s64\":0,\"flag\":false,\"c\":0,\"sc\":0,\"uc\":0}]");

	/* Without batch operations, a hash map comes whole too. */
	count = N;
	assert_int_equal(bpf_map_update_batch(bpf_map__fd(flows), keys, values, &count, NULL), 0);
	dm_maps_no_batch = true;
	free(after);
	after = read_chunked(flows, bpf_object__btf(obj), false, &c);
	dm_maps_no_batch = false;
	assert_int_equal(c.chunks, 1);
	assert_int_equal(c.entries, N);
	bpf_object__close(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_structured_like_jansson),
	    cmocka_unit_test(test_u64_exact),
	    cmocka_unit_test(test_double_like_jansson),
	    cmocka_unit_test(test_utf8_like_jansson),
	    cmocka_unit_test(test_file),
	    cmocka_unit_test(test_every_btf_type),
	    cmocka_unit_test(test_built_btf),
	    cmocka_unit_test(test_exact_u64_values),
	    cmocka_unit_test(test_snapshots),
	    cmocka_unit_test(test_snapshot_errors),
	    cmocka_unit_test(test_chunks),
	    cmocka_unit_test(test_read_chunks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
