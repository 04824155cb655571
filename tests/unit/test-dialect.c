/* SPDX-License-Identifier: Apache-2.0 */
/* The Polycube/BCC dialect: which code is recognised as Polycube's, what the rewrite makes of
 * it, and that the result compiles (with the user's own line numbers in diagnostics), has the
 * maps the code declares, typed through BTF, and is accepted by the kernel's verifier. Loading
 * needs root and a kernel with BPF: without them the tests fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/pkt_cls.h>

#include "../../bpf/include/dynmon-log.h"
#include "build-config.h"
#include "compile.h"
#include "config.h"
#include "dialect.h"

static const struct dm_compiler compiler = {
    .clang = DYNMON_CLANG,
    .include_dir = BPF_INCLUDE_DIR,
    .multiarch_include = DYNMON_MULTIARCH_INCLUDE,
    .timeout_sec = 120,
};

static const char *hook_name(enum dm_hook h)
{
	return h == DM_HOOK_XDP ? "xdp" : "tc";
}

static size_t count_char(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* ---------------------------------------------------------------------------------------- */
/* Detection                                                                                */

static const struct {
	const char *code;
	enum dm_dialect expected;
} detect_cases[] = {
    {"BPF_ARRAY(PKT_COUNTER, uint64_t, 1);", DM_DIALECT_POLYCUBE},
    {"BPF_HASH(h);", DM_DIALECT_POLYCUBE},
    {"BPF_TABLE(\"lru_hash\", u32, u64, t, 8);", DM_DIALECT_POLYCUBE},
    {"BPF_TABLE_SHARED(\"hash\", u32, u64, t, 8);", DM_DIALECT_POLYCUBE},
    {"BPF_QUEUE(q, u32, 8);", DM_DIALECT_POLYCUBE},
    {"static int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) { return 0; }",
     DM_DIALECT_POLYCUBE},
    {"int f(void) { u32 k = 0; return *counters.lookup(&k); }", DM_DIALECT_POLYCUBE},
    {"void f(void) { m\n\t. increment (k); }", DM_DIALECT_POLYCUBE},
    {"void f(void) { events.perf_submit(ctx, &e, sizeof(e)); }", DM_DIALECT_POLYCUBE},
    {"void f(void *ctx) { pcn_log(ctx, LOG_INFO, \"x\"); }", DM_DIALECT_POLYCUBE},
    {"BPF_PERF_OUTPUT(events);", DM_DIALECT_POLYCUBE},

    {"", DM_DIALECT_LIBBPF},
    {"#include <dynmon.h>\n"
     "struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64);\n"
     "\t__uint(max_entries, 1); } counter SEC(\".maps\");\n"
     "SEC(\"tc\") int probe(struct __sk_buff *skb) {\n"
     "\t__u32 k = 0; __u64 *v = bpf_map_lookup_elem(&counter, &k);\n"
     "\tif (v) __sync_fetch_and_add(v, 1);\n\treturn DYNMON_PASS; }\n",
     DM_DIALECT_LIBBPF},
    /* The keywords in comments and literals do not count. */
    {"// handle_rx() and BPF_ARRAY(x) are Polycube's\nSEC(\"tc\") int p(void *c) { return 0; }",
     DM_DIALECT_LIBBPF},
    {"/* BPF_TABLE(\"hash\", u32, u64, t, 8);\n   m.lookup(&k) */ int x;", DM_DIALECT_LIBBPF},
    {"const char s[] = \"m.lookup(&k); handle_rx\"; char c = '.';", DM_DIALECT_LIBBPF},
    /* Members are not maps, nor are unknown methods. */
    {"void f(void) { s.m.lookup(&k); p->m.update(&k, &v); }", DM_DIALECT_LIBBPF},
    {"void f(void) { s.frobnicate(1); }", DM_DIALECT_LIBBPF},
    /* Identifiers that merely contain the words. */
    {"int my_handle_rx; int BPF_ARRAY_SIZE; int lookup(int x);", DM_DIALECT_LIBBPF},
};

static void test_detect(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(detect_cases); i++) {
		enum dm_dialect d = dm_dialect_detect(detect_cases[i].code);
		if (d != detect_cases[i].expected)
			fail_msg("case %zu: %s detected as %s", i, detect_cases[i].code,
				 d == DM_DIALECT_POLYCUBE ? "Polycube" : "libbpf");
	}
	assert_int_equal(dm_dialect_detect(NULL), DM_DIALECT_LIBBPF);
}

/* ---------------------------------------------------------------------------------------- */
/* The rewrite                                                                              */

#define MAX_EXPECT 4

static const struct {
	const char *code;
	const char *expected[MAX_EXPECT]; /* substrings of the translation */
	const char *absent[MAX_EXPECT];	  /* and what it must not hold */
	const char *shared[MAX_EXPECT];	  /* the shared maps, in order */
	const char *externs[MAX_EXPECT];  /* and those of them declared extern */
} rewrite_cases[] = {
    /* Method calls. */
    {"u64 *v = PKT.lookup(&key);", {"u64 *v = dm_lookup(PKT, &key);"}, {".lookup"}},
    {"A.update(&k, B.lookup(&(k2[f(1, 2)])));",
     {"dm_update(A, &k, dm_lookup(B, &(k2[f(1, 2)])));"}},
    {"m.lookup_or_init(&k, &zero); m.lookup_or_try_init(&k, &zero);",
     {"dm_lookup_or_init(m, &k, &zero);", "dm_lookup_or_try_init(m, &k, &zero);"}},
    {"m.insert(&k, &v); m.delete(&k); m.increment(k); m.atomic_increment(k, 2);",
     {"dm_insert(m, &k, &v);", "dm_delete(m, &k);", "dm_increment(m, k);",
      "dm_atomic_increment(m, k, 2);"}},
    {"q.push(&v, BPF_EXIST); q.pop(&v); q.peek(&v);",
     {"dm_push(q, &v, BPF_EXIST);", "dm_pop(q, &v);", "dm_peek(q, &v);"}},
    {"m\n\t.lookup(\n\t\t&k);", {"dm_lookup(m, \n\n\t\t&k);"}},
    {"x = m . lookup ( ) ;", {"x = dm_lookup(m ) ;"}},
    {"#define GET(map, k) map.lookup(k)", {"#define GET(map, k) dm_lookup(map, k)"}},
    /* ... but not in comments, literals or members. */
    {"/* m.lookup(&k) */ // m.delete(&k)\nconst char *s = \"m.update(&k, &v)\"; char c = '(';",
     {"/* m.lookup(&k) */ // m.delete(&k)\n", "\"m.update(&k, &v)\"", "'('"},
     {"dm_"}},
    {"s.m.lookup(&k); p->m.update(&k, &v); s.frob(1); 1.5e+3;",
     {"s.m.lookup(&k); p->m.update(&k, &v); s.frob(1); 1.5e+3;"},
     {"dm_"}},

    /* Map declarations: every kind, each form. */
    {"BPF_TABLE(\"hash\", struct key, u64, h, 10);",
     {"DM_TABLE(BPF_MAP_TYPE_HASH, 0, struct key, u64, h, 10);"},
     {"BPF_TABLE"}},
    {"BPF_TABLE(\"array\", int, u64, a, 1);", {"DM_TABLE(BPF_MAP_TYPE_ARRAY, 0, int,"}},
    {"BPF_TABLE(\"histogram\", int, u64, a, 64);", {"DM_TABLE(BPF_MAP_TYPE_ARRAY, 0, int,"}},
    {"BPF_TABLE(\"percpu_hash\", u32, u64, a, 8);", {"DM_TABLE(BPF_MAP_TYPE_PERCPU_HASH, 0,"}},
    {"BPF_TABLE(\"percpu_array\", u32, u64, a, 8);", {"DM_TABLE(BPF_MAP_TYPE_PERCPU_ARRAY, 0,"}},
    {"BPF_TABLE(\"lru_hash\", u32, u64, a, 8);", {"DM_TABLE(BPF_MAP_TYPE_LRU_HASH, 0,"}},
    {"BPF_TABLE(\"lru_percpu_hash\", u32, u64, a, 8);",
     {"DM_TABLE(BPF_MAP_TYPE_LRU_PERCPU_HASH, 0,"}},
    {"BPF_TABLE(\"lpm_trie\", struct k, u64, a, 8);",
     {"DM_TABLE(BPF_MAP_TYPE_LPM_TRIE, BPF_F_NO_PREALLOC,"}},
    {"BPF_TABLE(\"queue\", u32, u64, q, 8);", {"DM_TABLE_NOKEY(BPF_MAP_TYPE_QUEUE, 0, u32,"}},
    {"BPF_TABLE(\"stack\", u32, u64, q, 8);", {"DM_TABLE_NOKEY(BPF_MAP_TYPE_STACK, 0, u32,"}},
    {"BPF_F_TABLE(\"hash\", u32, u64, f, 8, BPF_F_NO_COMMON_LRU);",
     {"DM_F_TABLE(BPF_MAP_TYPE_HASH, 0, u32, u64, f, 8, BPF_F_NO_COMMON_LRU);"}},
    {"BPF_TABLE(\n\t\"hash\" ,\n\tu32, u64, h, 10);", {"DM_TABLE(BPF_MAP_TYPE_HASH, 0,\n\n\tu32,"}},
    {"BPF_TABLE_SHARED(\"array\", int, u32, fwd, 8);\nBPF_TABLE_PUBLIC(\"hash\", int, u32, pub, "
     "8);",
     {"DM_TABLE(BPF_MAP_TYPE_ARRAY, 0, int, u32, fwd, 8);",
      "DM_TABLE(BPF_MAP_TYPE_HASH, 0, int, u32, pub, 8);"},
     {},
     {"fwd", "pub"}},
    {"BPF_TABLE_PINNED(\"hash\", u32, u64, pinned, 8, \"/sys/fs/bpf/p\");",
     {"DM_TABLE_PINNED(BPF_MAP_TYPE_HASH, 0, u32, u64, pinned, 8, \"/sys/fs/bpf/p\");"},
     {},
     {"pinned"}},
    {"BPF_TABLE(\"extern\", int, u32, forward_chain_, 8);\nBPF_TABLE(\"hash\", u32, u32, own, 8);",
     {"DM_TABLE_EXTERN( int, u32, forward_chain_, 8);"},
     {},
     {"forward_chain_"},
     {"forward_chain_"}},
    {"BPF_QUEUESTACK(\"queue\", q, u32, 8, 0);\nBPF_QUEUESTACK_SHARED(\"stack\", s, u32, 8, 0);",
     {"DM_QUEUESTACK(BPF_MAP_TYPE_QUEUE, q, u32, 8, 0);",
      "DM_QUEUESTACK(BPF_MAP_TYPE_STACK, s, u32, 8, 0);"},
     {},
     {"s"}},
    /* BCC's macros with optional arguments are polycube.h's business: left alone. */
    {"BPF_ARRAY(a); BPF_HASH(h, u32); BPF_QUEUE(q, u32, 8);",
     {"BPF_ARRAY(a); BPF_HASH(h, u32); BPF_QUEUE(q, u32, 8);"}},
    {"#ifdef BPF_TABLE\n#endif", {"#ifdef BPF_TABLE\n#endif"}},

    /* Includes. */
    {"#include <uapi/linux/ip.h>\n#  include \"uapi/linux/udp.h\"\n#include <linux/tcp.h>",
     {"#include <linux/ip.h>\n#  include \"linux/udp.h\"\n#include <linux/tcp.h>"},
     {"uapi"}},
    {"#include <bcc/helpers.h>\n#include <bcc/proto.h>",
     {"#include <polycube.h>\n#include <polycube.h>"}},
};

/* The user's part of a translation: between the prelude's #line and the entry's. */
static void user_part(const char *code, const char *unit, const char **ret, size_t *ret_len)
{
	_cleanup_free_ char *mark = strdup_printf("#line 1 \"%s\"\n", unit);
	const char *start = strstr(code, mark), *end;

	assert_non_null(start);
	start += strlen(mark);
	end = strstr(start, "\n#line 1 \"<dynmon: Polycube entry>\"\n");
	assert_non_null(end);
	*ret = start;
	*ret_len = end - start;
}

static void test_rewrite(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(rewrite_cases); i++) {
		/* Every case gets a handle_rx, which a translation requires. */
		_cleanup_free_ char *code =
		    strdup_printf("%s\nint handle_rx;\n", rewrite_cases[i].code);
		struct dm_translation t = {};
		dm_error e = DM_ERROR_NULL;
		const char *user;
		size_t len, n = 0;

		if (dm_dialect_translate(code, DM_PATH_INGRESS, DM_HOOK_TC, &t, &e) < 0)
			fail_msg("case %zu: %s", i, e.message);
		assert_null(e.message);
		for (size_t k = 0; k < MAX_EXPECT && rewrite_cases[i].expected[k]; k++)
			if (!strstr(t.code, rewrite_cases[i].expected[k]))
				fail_msg("case %zu: no \"%s\" in:\n%s", i,
					 rewrite_cases[i].expected[k], t.code);
		user_part(t.code, "ingress.bpf.c", &user, &len);
		for (size_t k = 0; k < MAX_EXPECT && rewrite_cases[i].absent[k]; k++) {
			_cleanup_free_ char *u = strndup(user, len);
			if (strstr(u, rewrite_cases[i].absent[k]))
				fail_msg("case %zu: \"%s\" left in:\n%s", i,
					 rewrite_cases[i].absent[k], u);
		}
		/* Not one line added or lost. */
		assert_int_equal(count_char(user, len, '\n'), count_char(code, strlen(code), '\n'));

		for (; n < MAX_EXPECT && rewrite_cases[i].shared[n]; n++) {
			assert_non_null(t.shared_maps[n]);
			assert_string_equal(t.shared_maps[n], rewrite_cases[i].shared[n]);
		}
		assert_null(t.shared_maps[n]);
		for (n = 0; n < MAX_EXPECT && rewrite_cases[i].externs[n]; n++) {
			assert_non_null(t.extern_maps[n]);
			assert_string_equal(t.extern_maps[n], rewrite_cases[i].externs[n]);
		}
		assert_null(t.extern_maps[n]);
		dm_translation_done(&t);
	}
}

static void test_prelude_and_entry(void **state)
{
	static const struct {
		enum dm_path path;
		enum dm_hook hook;
		const char *expected[MAX_EXPECT];
	} cases[] = {
	    {DM_PATH_INGRESS,
	     DM_HOOK_TC,
	     {"#define CTXTYPE __sk_buff\n#include <polycube.h>\n#line 1 \"ingress.bpf.c\"\n",
	      "DM_POLYCUBE_ENTRY(dynmon_ingress)\n"}},
	    {DM_PATH_EGRESS,
	     DM_HOOK_TC,
	     {"#define CTXTYPE __sk_buff\n#include <polycube.h>\n#line 1 \"egress.bpf.c\"\n",
	      "DM_POLYCUBE_ENTRY(dynmon_egress)\n"}},
	    {DM_PATH_INGRESS,
	     DM_HOOK_XDP,
	     {"#define POLYCUBE_XDP 1\n#define CTXTYPE xdp_md\n#include <polycube.h>\n"
	      "#line 1 \"ingress.bpf.c\"\n",
	      "DM_POLYCUBE_ENTRY(dynmon_ingress)\n"}},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct dm_translation t = {};

		assert_int_equal(
		    dm_dialect_translate("int handle_rx;", cases[i].path, cases[i].hook, &t, NULL),
		    0);
		for (size_t k = 0; k < MAX_EXPECT && cases[i].expected[k]; k++)
			if (!strstr(t.code, cases[i].expected[k]))
				fail_msg("case %zu: no \"%s\" in:\n%s", i, cases[i].expected[k],
					 t.code);
		if (cases[i].hook == DM_HOOK_TC)
			assert_null(strstr(t.code, "POLYCUBE_XDP"));
		assert_null(t.shared_maps[0]);
		assert_null(t.extern_maps[0]);
		dm_translation_done(&t);
	}
}

static const struct {
	const char *code;
	const char *message[MAX_EXPECT]; /* substrings of the error message */
} error_cases[] = {
    {"int handle_rx;\n\nBPF_TABLE(\"hashh\", u32, u64, m, 10);",
     {"ingress.bpf.c:3:", "unknown map kind \"hashh\""}},
    {"int handle_rx;\nBPF_QUEUESTACK(\"hash\", q, u32, 8, 0);",
     {"ingress.bpf.c:2:", "unknown map kind \"hash\"", "\"queue\" and \"stack\""}},
    {"int handle_rx;\nBPF_TABLE(hash, u32, u64, m, 10);",
     {"ingress.bpf.c:2:", "must be a map kind in quotes"}},
    {"int handle_rx;\nBPF_TABLE(\"ha\" \"sh\", u32, u64, m, 10);",
     {"ingress.bpf.c:2:", "must be a map kind in quotes"}},
    {"int handle_rx;\nBPF_TABLE(\"hash\", u32, u64, m);",
     {"ingress.bpf.c:2:", "BPF_TABLE takes 5 arguments, not 4"}},
    {"int handle_rx;\nBPF_TABLE_PINNED(\"hash\", u32, u64, m, 1, \"/p\", 0, 0);",
     {"ingress.bpf.c:2:", "BPF_TABLE_PINNED takes 6 or 7 arguments, not 8"}},
    {"int handle_rx;\n\n\n\nBPF_TABLE(\"hash\", u32, u64, m, f(10);",
     {"ingress.bpf.c:5:", "BPF_TABLE( is never closed"}},
    {"int handle_rx;\nBPF_TABLE_SHARED(\"hash\", u32, u64, m[1], 10);",
     {"ingress.bpf.c:2:", "must be an identifier"}},
    {"int handle_rx;\nvoid f(void) {\n\tevents.perf_submit(ctx, &e, sizeof(e));\n}",
     {"ingress.bpf.c:3:", "events.perf_submit() is not supported"}},
    {"int handle_rx;\n\nBPF_PERF_OUTPUT (events);",
     {"ingress.bpf.c:3:", "BPF_PERF_OUTPUT is not supported"}},
    {"BPF_ARRAY(a, u64, 1);\n/* handle_rx */", {"no handle_rx() function"}},
};

static void test_rewrite_errors(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
		struct dm_translation t = {};
		dm_error e = DM_ERROR_NULL;

		assert_int_equal(
		    dm_dialect_translate(error_cases[i].code, DM_PATH_INGRESS, DM_HOOK_TC, &t, &e),
		    -EBADMSG);
		assert_non_null(e.message);
		for (size_t k = 0; k < MAX_EXPECT && error_cases[i].message[k]; k++)
			if (!strstr(e.message, error_cases[i].message[k]))
				fail_msg("case %zu: no \"%s\" in the message \"%s\"", i,
					 error_cases[i].message[k], e.message);
		/* Nothing returned on failure. */
		assert_null(t.code);
		assert_null(t.shared_maps);
		assert_null(t.extern_maps);
		dm_error_done(&e);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Compiling and loading                                                                    */

struct built {
	void *elf; /* libbpf reads the object from it until it is loaded */
	size_t size;
	struct bpf_object *obj;
	char *log;
	struct dm_translation t;
};

static void built_free(struct built *b)
{
	bpf_object__close(b->obj);
	free(b->elf);
	free(b->log);
	dm_translation_done(&b->t);
	*b = (struct built){};
}

/* Translates and compiles `code`, with `log_level` as PCN_LOG_LEVEL when it is not 0. Returns
 * the compiler's error (and its message) or opens the object. */
static int build(const char *code, enum dm_path path, enum dm_hook hook, int log_level,
		 struct built *b, dm_error *e)
{
	_cleanup_free_ char *unit = strdup_printf("%s.bpf.c", dm_path_to_string(path));
	_cleanup_free_ char *src = NULL;
	int r;

	r = dm_dialect_translate(code, path, hook, &b->t, e);
	if (r < 0)
		return r;
	src = log_level ? strdup_printf("#define PCN_LOG_LEVEL %d\n%s", log_level, b->t.code)
			: strdup(b->t.code);
	assert_non_null(src);
	r = dm_compile(&compiler, src, unit, &b->elf, &b->size, e);
	if (r < 0)
		return r;
	b->log = calloc(1, 1 << 20);
	assert_non_null(b->log);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_buf = b->log,
		    .kernel_log_size = 1 << 20);
	b->obj = bpf_object__open_mem(b->elf, b->size, &opts);
	if (!b->obj)
		fail_msg("the object compiled from the %s code cannot be opened: %s", unit,
			 strerror(errno));
	return 0;
}

static void build_ok(const char *code, enum dm_path path, enum dm_hook hook, int log_level,
		     struct built *b)
{
	dm_error e = DM_ERROR_NULL;

	if (build(code, path, hook, log_level, b, &e) < 0)
		fail_msg("%s/%s, log level %d: %s\n--- translation:\n%s", dm_path_to_string(path),
			 hook_name(hook), log_level, e.message, strempty(b->t.code));
}

static void load_ok(struct built *b)
{
	int r = bpf_object__load(b->obj);

	if (r < 0)
		fail_msg("the kernel refused the object (%s):\n%s", strerror(-r), b->log);
}

static void check_one_program(struct bpf_object *obj, enum dm_path path, enum dm_hook hook)
{
	_cleanup_free_ char *name = strdup_printf("dynmon_%s", dm_path_to_string(path));
	struct bpf_program *p, *found = NULL;
	size_t n = 0;

	bpf_object__for_each_program (p, obj) {
		found = p;
		n++;
	}
	assert_int_equal(n, 1);
	assert_string_equal(bpf_program__name(found), name);
	assert_int_equal(bpf_program__type(found),
			 hook == DM_HOOK_XDP ? BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SCHED_CLS);
}

/* The value type of a map as its BTF definition in .maps says: the target of its "value"
 * member. libbpf gives none for queues and stacks, which have no key. */
static uint32_t btf_value_type_of(struct bpf_object *obj, const char *map)
{
	const struct btf *btf = bpf_object__btf(obj);
	int sec = btf__find_by_name_kind(btf, ".maps", BTF_KIND_DATASEC);
	const struct btf_type *ds;

	assert_true(sec > 0);
	ds = btf__type_by_id(btf, sec);
	for (unsigned i = 0; i < btf_vlen(ds); i++) {
		const struct btf_type *var = btf__type_by_id(btf, btf_var_secinfos(ds)[i].type);
		const struct btf_type *def;

		if (!streq(btf__name_by_offset(btf, var->name_off), map))
			continue;
		def = btf__type_by_id(btf, btf__resolve_type(btf, var->type));
		for (unsigned m = 0; m < btf_vlen(def); m++) {
			const struct btf_member *mem = &btf_members(def)[m];
			if (streq(btf__name_by_offset(btf, mem->name_off), "value"))
				return btf__type_by_id(btf, mem->type)->type;
		}
	}
	return 0;
}

struct expected_map {
	const char *name;
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries;
};

static void check_map(struct bpf_object *obj, const struct expected_map *x)
{
	const struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *m = bpf_object__find_map_by_name(obj, x->name);
	bool keyless = x->type == BPF_MAP_TYPE_QUEUE || x->type == BPF_MAP_TYPE_STACK;
	uint32_t value_id;

	if (!m)
		fail_msg("no map %s", x->name);
	if (bpf_map__type(m) != x->type || bpf_map__key_size(m) != x->key_size ||
	    bpf_map__value_size(m) != x->value_size || bpf_map__max_entries(m) != x->max_entries)
		fail_msg("map %s: type %d key %u value %u entries %u, expected %d %u %u %u",
			 x->name, bpf_map__type(m), bpf_map__key_size(m), bpf_map__value_size(m),
			 bpf_map__max_entries(m), x->type, x->key_size, x->value_size,
			 x->max_entries);
	/* Metrics are decoded through BTF: the value type must be there, of the right size. */
	value_id = keyless ? btf_value_type_of(obj, x->name) : bpf_map__btf_value_type_id(m);
	if (value_id == 0)
		fail_msg("map %s has no BTF value type", x->name);
	assert_int_equal(btf__resolve_size(btf, value_id), x->value_size);
	if (!keyless) {
		assert_int_not_equal(bpf_map__btf_key_type_id(m), 0);
		assert_int_equal(btf__resolve_size(btf, bpf_map__btf_key_type_id(m)), x->key_size);
	}
}

/* What the maps look like after loading: the kernel's view. */
static void check_loaded_map(struct bpf_object *obj, const struct expected_map *x)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, x->name);
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);

	assert_non_null(m);
	assert_int_equal(bpf_obj_get_info_by_fd(bpf_map__fd(m), &info, &len), 0);
	assert_int_equal(info.type, x->type);
	assert_int_equal(info.key_size, x->key_size);
	assert_int_equal(info.value_size, x->value_size);
	assert_int_equal(info.max_entries, x->max_entries);
}

/* The maps of an object: exactly the expected ones (plus dynmon_log when logging). */
static void check_maps(struct bpf_object *obj, const struct expected_map *xs, size_t n,
		       bool logging)
{
	struct bpf_map *m;
	size_t count = 0;

	for (size_t i = 0; i < n && xs[i].name; i++) {
		check_map(obj, &xs[i]);
		count++;
	}
	if (logging) {
		m = bpf_object__find_map_by_name(obj, "dynmon_log");
		assert_non_null(m);
		assert_int_equal(bpf_map__type(m), BPF_MAP_TYPE_RINGBUF);
		count++;
	} else
		assert_null(bpf_object__find_map_by_name(obj, "dynmon_log"));
	bpf_object__for_each_map (m, obj) {
		/* Format strings of pcn_log() may land in .rodata: not a user's map. */
		if (!bpf_map__is_internal(m))
			count--;
	}
	assert_int_equal(count, 0);
}

static void test_line_numbers(void **state)
{
	/* The error is on line 7 of what the user wrote, after rewrites on lines 1, 2-3 and
	 * 5-6 and a comment hiding a call. */
	static const char code[] = "#include <uapi/linux/ip.h>\n"
				   "BPF_TABLE(\"hash\",\n"
				   "          u32, u64, counters, 16);\n"
				   "static __always_inline int handle_rx(struct CTXTYPE *ctx, "
				   "struct pkt_metadata *md) {\n"
				   "\tu32 k = 0; /* counters.lookup(&k) */ u64 *v = counters\n"
				   "\t\t.lookup(&k);\n"
				   "\treturn undeclared_thing;\n"
				   "}\n";
	static const struct {
		enum dm_path path;
		enum dm_hook hook;
		const char *where;
	} cases[] = {
	    {DM_PATH_INGRESS, DM_HOOK_TC, "ingress.bpf.c:7:"},
	    {DM_PATH_EGRESS, DM_HOOK_TC, "egress.bpf.c:7:"},
	    {DM_PATH_INGRESS, DM_HOOK_XDP, "ingress.bpf.c:7:"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct built b = {};
		dm_error e = DM_ERROR_NULL;

		assert_int_equal(build(code, cases[i].path, cases[i].hook, 0, &b, &e), -ENOEXEC);
		if (!strstr(e.message, cases[i].where) || !strstr(e.message, "undeclared_thing"))
			fail_msg("case %zu: expected %s in:\n%s", i, cases[i].where, e.message);
		/* The only error is the user's. */
		assert_int_equal(count_char(e.message, strlen(e.message), '^'), 1);
		dm_error_done(&e);
		built_free(&b);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Polycube's upstream examples                                                             */

#define MAX_MAPS 4

static const struct {
	const char *file; /* under tests/data/polycube/ */
	struct expected_map maps[MAX_MAPS];
} examples[] = {
    {"v1.0/packet_counter.json", {{"PKT_COUNTER", BPF_MAP_TYPE_ARRAY, 4, 8, 1}}},
    {"v1.1/packet_counter.json", {{"PKT_COUNTER", BPF_MAP_TYPE_ARRAY, 4, 8, 1}}},
    {"v1.0/ntp_packets_counter.json", {{"NTP_PACKETS_COUNTER", BPF_MAP_TYPE_ARRAY, 4, 8, 1}}},
    {"v1.1/ntp_packets_counter.json", {{"NTP_PACKETS_COUNTER", BPF_MAP_TYPE_ARRAY, 4, 8, 1}}},
    {"v1.0/ntp_packets_ntp_mode_private_counters.json",
     {{"NTP_PACKETS_COUNTER", BPF_MAP_TYPE_ARRAY, 4, 8, 1},
      {"NTP_MODE_PRIVATE_PACKETS_COUNTER", BPF_MAP_TYPE_ARRAY, 4, 8, 1}}},
    {"v1.1/ntp_packets_ntp_mode_private_counters.json",
     {{"NTP_PACKETS_COUNTER", BPF_MAP_TYPE_ARRAY, 4, 8, 1},
      {"NTP_MODE_PRIVATE_PACKETS_COUNTER", BPF_MAP_TYPE_ARRAY, 4, 8, 1}}},
};

static struct dm_config *read_example(const char *file)
{
	_cleanup_free_ char *path = strdup_printf("%s/polycube/%s", TEST_DATA_DIR, file);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *text = NULL;
	struct dm_config *c = NULL;
	dm_error e = DM_ERROR_NULL;
	size_t size = 0;

	if (!f)
		fail_msg("cannot open %s: %m", path);
	assert_true(getdelim(&text, &size, '\0', f) > 0);
	if (dm_config_parse(text, &c, &e) < 0)
		fail_msg("%s: %s", file, e.message);
	return c;
}

/* Every example in the data directory is in the table above: none escapes the test. */
static void test_examples_are_all_listed(void **state)
{
	for (size_t v = 0; v < 2; v++) {
		_cleanup_free_ char *dir =
		    strdup_printf("%s/polycube/%s", TEST_DATA_DIR, v ? "v1.1" : "v1.0");
		DIR *d = opendir(dir);
		struct dirent *de;

		assert_non_null(d);
		while ((de = readdir(d))) {
			_cleanup_free_ char *file = NULL;
			bool listed = false;

			if (!strstr(de->d_name, ".json"))
				continue;
			file = strdup_printf("%s/%s", v ? "v1.1" : "v1.0", de->d_name);
			for (size_t i = 0; i < ELEMENTSOF(examples); i++)
				listed |= streq(examples[i].file, file);
			if (!listed)
				fail_msg("%s is not in the examples table", file);
		}
		closedir(d);
	}
}

static void check_example_path(const char *file, const struct dm_path_config *pc, enum dm_path path,
			       enum dm_hook hook, int log_level, const struct expected_map *maps)
{
	struct built b = {};

	assert_int_equal(dm_dialect_detect(pc->code), DM_DIALECT_POLYCUBE);
	build_ok(pc->code, path, hook, log_level, &b);
	assert_null(b.t.shared_maps[0]);
	check_one_program(b.obj, path, hook);
	check_maps(b.obj, maps, MAX_MAPS, log_level > 0);
	for (size_t m = 0; m < pc->n_metrics; m++)
		if (!bpf_object__find_map_by_name(b.obj, pc->metrics[m].map_name))
			fail_msg("%s: no map for metric %s", file, pc->metrics[m].name);
	load_ok(&b);
	for (size_t m = 0; m < MAX_MAPS && maps[m].name; m++)
		check_loaded_map(b.obj, &maps[m]);
	built_free(&b);
}

static void test_examples(void **state)
{
	static const int log_levels[] = {0, 6};

	for (size_t i = 0; i < ELEMENTSOF(examples); i++) {
		_cleanup_(dm_config_freep) struct dm_config *c = read_example(examples[i].file);
		size_t n_paths = 0;

		for (int p = 0; p < _DM_PATH_MAX; p++) {
			if (!c->paths[p].present)
				continue;
			n_paths++;
			for (int h = DM_HOOK_TC; h <= DM_HOOK_XDP; h++)
				for (size_t l = 0; l < ELEMENTSOF(log_levels); l++)
					check_example_path(examples[i].file, &c->paths[p], p, h,
							   log_levels[l], examples[i].maps);
		}
		assert_int_equal(n_paths, 1);
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Every map kind and every method                                                          */

/* Longer than a log record holds: pcn_log() cuts it. */
#define LONG_FMT                                                                                   \
	"a format longer than a log record keeps, which pcn_log() must cut to fit the record, "    \
	"and which must still be terminated in the record that the daemon reads: %d"

static const char synthetic[] =
    "#include <uapi/linux/ip.h>\n"
    "#include <uapi/linux/udp.h>\n"
    "struct key { u32 addr; u16 port; u16 pad; };\n"
    "struct val { u64 packets; u64 bytes; };\n"
    "struct lpm_key { u32 prefixlen; u32 addr; };\n"
    "BPF_TABLE(\"hash\", struct key, struct val, t_hash, 64);\n"
    "BPF_TABLE(\"array\", u32, u64, t_array, 4);\n"
    "BPF_TABLE(\"histogram\", int, u64, t_histogram, 16);\n"
    "BPF_TABLE(\"percpu_hash\", u32, u64, t_percpu_hash, 64);\n"
    "BPF_TABLE(\"percpu_array\", u32, struct val, t_percpu_array, 4);\n"
    "BPF_TABLE(\"lru_hash\", u32, u64, t_lru_hash, 64);\n"
    "BPF_TABLE(\"lru_percpu_hash\", u32, u64, t_lru_percpu_hash, 64);\n"
    "BPF_TABLE(\"lpm_trie\", struct lpm_key, u32, t_lpm, 16);\n"
    "BPF_TABLE(\"queue\", u32, u64, t_queue, 8);\n"
    "BPF_TABLE(\"stack\", u32, struct val, t_stack, 8);\n"
    "BPF_F_TABLE(\"hash\", u32, u32, t_f_hash, 8, BPF_F_NO_PREALLOC);\n"
    "BPF_TABLE_SHARED(\"hash\", u32, u64, t_shared, 8);\n"
    "BPF_TABLE_PUBLIC(\"array\", u32, u64, t_public, 8);\n"
    "BPF_TABLE_PINNED(\"hash\", u32, u64, t_pinned, 8, \"/sys/fs/bpf/dynmon-test\");\n"
    "BPF_TABLE(\"extern\", u32, u64, t_extern, 8);\n"
    "BPF_QUEUESTACK(\"queue\", qs_queue, u32, 8, 0);\n"
    "BPF_QUEUESTACK_SHARED(\"stack\", qs_stack, u16, 4, 0);\n"
    "BPF_ARRAY(a1);\n"
    "BPF_ARRAY(a2, u32);\n"
    "BPF_ARRAY(a3, struct val, 2);\n"
    "BPF_HASH(h1);\n"
    "BPF_HASH(h2, u32);\n"
    "BPF_HASH(h3, u32, struct val);\n"
    "BPF_HASH(h4, struct key, u32, 4);\n"
    "BPF_PERCPU_ARRAY(pa1);\n"
    "BPF_PERCPU_ARRAY(pa3, u32, 4);\n"
    "BPF_PERCPU_HASH(ph1);\n"
    "BPF_PERCPU_HASH(ph4, u32, u32, 4);\n"
    "BPF_HISTOGRAM(hist);\n"
    "BPF_LPM_TRIE(lpm, struct lpm_key, u64, 32);\n"
    "BPF_QUEUE(q1, u32, 8);\n"
    "BPF_STACK(s1, u64, 8, 0);\n"
    "\n"
    "static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md) {\n"
    "\tstruct key k = {.addr = 1, .port = bpf_htons(53)};\n"
    "\tstruct val zero = {}, *v;\n"
    "\tu32 i = 0; u64 one = 1, *c;\n"
    "\tstruct lpm_key lk = {32, bpf_htonl(0x0a000001)};\n"
    "\tv = t_hash.lookup_or_try_init(&k, &zero);\n"
    "\tif (v) { v->packets++; v->bytes += md->packet_len; }\n"
    "\tv = t_hash.lookup_or_init(&k, &zero);\n"
    "\tif (v) __sync_fetch_and_add(&v->packets, 1);\n"
    "\tc = t_array.lookup(&i);\n"
    "\tif (c) *c += 1;\n"
    "\tt_histogram.increment(3);\n"
    "\tt_percpu_hash.increment(md->in_port, md->packet_len);\n"
    "\tv = t_percpu_array.lookup(&i);\n"
    "\tif (v) v->bytes += md->packet_len;\n"
    "\tt_lru_hash.atomic_increment(i);\n"
    "\tt_lru_percpu_hash.update(&i, &one);\n"
    "\tt_lpm.insert(&lk, &i);\n"
    "\tif (t_lpm.lookup(&lk)) t_lpm.delete(&lk);\n"
    "\tt_queue.push(&one, BPF_EXIST);\n"
    "\tt_queue.pop(&one);\n"
    "\tt_stack.push(&zero, 0);\n"
    "\tt_stack.peek(&zero);\n"
    "\tt_f_hash.insert(&i, &i);\n"
    "\tt_shared.atomic_increment(i, 2);\n"
    "\tt_public.increment(i);\n"
    "\tt_pinned.update(&i, &one);\n"
    "\tt_extern.increment(i);\n"
    "\tqs_queue.push(&i, 0);\n"
    "\tu16 small = 7; qs_stack.push(&small, 0); qs_stack.pop(&small);\n"
    "\ta1.increment(0); a2.increment(1); h1.increment(i); h2.increment(i);\n"
    "\tv = a3.lookup(&i); if (v) v->packets++;\n"
    "\th3.update(&i, &zero); h3.delete(&i);\n"
    "\th4.insert(&k, &i);\n"
    "\tpa1.increment(0); pa3.atomic_increment(0, 5); ph1.increment(5); ph4.increment(i);\n"
    "\thist.increment(bpf_log2l(md->packet_len));\n"
    "\tlpm.update(&lk, &one);\n"
    "\tq1.push(&i, 0); s1.push(&one, 0); s1.pop(&one);\n"
    "\tpcn_log(ctx, LOG_INFO, \"%I:%P\", k.addr, k.port);\n"
    "\tpcn_log(ctx, LOG_TRACE, \"four %d %d %d %p\", i, one, small, v);\n"
    "\tpcn_log(ctx, LOG_ERR, \"none\");\n"
    "\tpcn_log(ctx, LOG_WARN, \"" LONG_FMT "\", 1);\n"
    "\tpcn_pkt_log(ctx, LOG_DEBUG);\n"
    "\treturn md->packet_len > 9000 ? RX_DROP : pcn_pkt_drop(ctx, md) == RX_DROP ? RX_OK : "
    "RX_ERROR;\n"
    "}\n";

static const struct expected_map synthetic_maps[] = {
    {"t_hash", BPF_MAP_TYPE_HASH, 8, 16, 64},
    {"t_array", BPF_MAP_TYPE_ARRAY, 4, 8, 4},
    {"t_histogram", BPF_MAP_TYPE_ARRAY, 4, 8, 16},
    {"t_percpu_hash", BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 64},
    {"t_percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 16, 4},
    {"t_lru_hash", BPF_MAP_TYPE_LRU_HASH, 4, 8, 64},
    {"t_lru_percpu_hash", BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 64},
    {"t_lpm", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 16},
    {"t_queue", BPF_MAP_TYPE_QUEUE, 0, 8, 8},
    {"t_stack", BPF_MAP_TYPE_STACK, 0, 16, 8},
    {"t_f_hash", BPF_MAP_TYPE_HASH, 4, 4, 8},
    {"t_shared", BPF_MAP_TYPE_HASH, 4, 8, 8},
    {"t_public", BPF_MAP_TYPE_ARRAY, 4, 8, 8},
    {"t_pinned", BPF_MAP_TYPE_HASH, 4, 8, 8},
    {"qs_queue", BPF_MAP_TYPE_QUEUE, 0, 4, 8},
    {"qs_stack", BPF_MAP_TYPE_STACK, 0, 2, 4},
    {"a1", BPF_MAP_TYPE_ARRAY, 4, 8, 10240},
    {"a2", BPF_MAP_TYPE_ARRAY, 4, 4, 10240},
    {"a3", BPF_MAP_TYPE_ARRAY, 4, 16, 2},
    {"h1", BPF_MAP_TYPE_HASH, 8, 8, 10240},
    {"h2", BPF_MAP_TYPE_HASH, 4, 8, 10240},
    {"h3", BPF_MAP_TYPE_HASH, 4, 16, 10240},
    {"h4", BPF_MAP_TYPE_HASH, 8, 4, 4},
    {"pa1", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 10240},
    {"pa3", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 4},
    {"ph1", BPF_MAP_TYPE_PERCPU_HASH, 8, 8, 10240},
    {"ph4", BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 4},
    {"hist", BPF_MAP_TYPE_ARRAY, 4, 8, 64},
    {"lpm", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 32},
    {"q1", BPF_MAP_TYPE_QUEUE, 0, 4, 8},
    {"s1", BPF_MAP_TYPE_STACK, 0, 8, 8},
    /* As declared: a hash until the other path's map replaces it (see below). */
    {"t_extern", BPF_MAP_TYPE_HASH, 4, 8, 8},
};

static const char *const synthetic_shared[] = {
    "t_shared", "t_public", "t_pinned", "t_extern", "qs_stack", NULL,
};

/* The extern map takes its kind from the map the other path defines (an array here), which
 * the daemon hands it before loading, as this does. */
static void give_extern_map(struct built *b)
{
	struct bpf_map *ext = bpf_object__find_map_by_name(b->obj, "t_extern");
	int fd;

	assert_non_null(ext);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "t_extern", 4, 8, 8, NULL);
	if (fd < 0)
		fail_msg("cannot create a map (root and BPF needed): %m");
	assert_int_equal(bpf_map__reuse_fd(ext, fd), 0);
	close(fd);
}

static void test_every_map_and_method(void **state)
{
	static const int log_levels[] = {0, 1, 6};

	for (int h = DM_HOOK_TC; h <= DM_HOOK_XDP; h++) {
		for (size_t l = 0; l < ELEMENTSOF(log_levels); l++) {
			struct built b = {};
			struct bpf_map_info info = {};
			uint32_t len = sizeof(info);

			build_ok(synthetic, DM_PATH_INGRESS, h, log_levels[l], &b);
			for (size_t i = 0; i < ELEMENTSOF(synthetic_shared); i++)
				assert_string_equal(strempty(b.t.shared_maps[i]),
						    strempty(synthetic_shared[i]));
			assert_string_equal(b.t.extern_maps[0], "t_extern");
			assert_null(b.t.extern_maps[1]);
			check_one_program(b.obj, DM_PATH_INGRESS, h);
			check_maps(b.obj, synthetic_maps, ELEMENTSOF(synthetic_maps),
				   log_levels[l] > 0);

			give_extern_map(&b);
			load_ok(&b);
			for (size_t i = 0; i < ELEMENTSOF(synthetic_maps); i++)
				if (!streq(synthetic_maps[i].name, "t_extern"))
					check_loaded_map(b.obj, &synthetic_maps[i]);
			assert_int_equal(
			    bpf_obj_get_info_by_fd(
				bpf_map__fd(bpf_object__find_map_by_name(b.obj, "t_extern")), &info,
				&len),
			    0);
			assert_int_equal(info.type, BPF_MAP_TYPE_ARRAY);
			built_free(&b);
		}
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Running the programs                                                                     */

/* Runs the loaded program `repeat` times on a 64-byte Ethernet frame; returns its verdict. */
static uint32_t run(struct built *b, int repeat)
{
	struct bpf_program *p = bpf_object__next_program(b->obj, NULL);
	uint8_t frame[64] = {[12] = 0x08, [13] = 0x00}, out[sizeof(frame)];
	int r;

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);
	r = bpf_prog_test_run_opts(bpf_program__fd(p), &opts);
	if (r < 0)
		fail_msg("cannot run the program: %s", strerror(-r));
	return opts.retval;
}

static void test_verdicts(void **state)
{
	static const struct {
		const char *body; /* of handle_rx() */
		bool drop;
	} cases[] = {
	    {"return RX_OK;", false},
	    {"return RX_DROP;", true},
	    {"return pcn_pkt_drop(ctx, md);", true},
	    /* Polycube's other verdicts mean nothing to a transparent probe. */
	    {"return RX_REDIRECT;", false},
	    {"return RX_ERROR;", false},
	    /* The metadata: the frame is 64 bytes long. */
	    {"return md->packet_len == 64 ? RX_DROP : RX_OK;", true},
	    {"return md->packet_len != 64 ? RX_DROP : RX_OK;", false},
	    {"return md->cube_id == CUBE_ID && md->reason == 0 ? RX_DROP : RX_OK;", true},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		for (int h = DM_HOOK_TC; h <= DM_HOOK_XDP; h++) {
			_cleanup_free_ char *code = strdup_printf(
			    "static __always_inline int handle_rx(struct CTXTYPE *ctx, "
			    "struct pkt_metadata *md) { %s }",
			    cases[i].body);
			struct built b = {};
			uint32_t expected =
			    h == DM_HOOK_XDP
				? (cases[i].drop ? XDP_DROP : XDP_PASS)
				: (uint32_t)(cases[i].drop ? TC_ACT_SHOT : TC_ACT_UNSPEC);
			uint32_t got;

			build_ok(code, DM_PATH_INGRESS, h, 0, &b);
			load_ok(&b);
			got = run(&b, 1);
			if (got != expected)
				fail_msg("case %zu (%s), %s: verdict %d, expected %d", i,
					 cases[i].body, hook_name(h), (int)got, (int)expected);
			built_free(&b);
		}
}

/* Polycube's packet counter counts. */
static void test_packet_counter_counts(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c = read_example("v1.1/packet_counter.json");

	for (int h = DM_HOOK_TC; h <= DM_HOOK_XDP; h++) {
		struct built b = {};
		uint32_t key = 0;
		uint64_t value = 0;

		build_ok(c->paths[DM_PATH_INGRESS].code, DM_PATH_INGRESS, h, 0, &b);
		load_ok(&b);
		assert_int_equal(run(&b, 5), h == DM_HOOK_XDP ? XDP_PASS : (uint32_t)TC_ACT_UNSPEC);
		assert_int_equal(
		    bpf_map__lookup_elem(bpf_object__find_map_by_name(b.obj, "PKT_COUNTER"), &key,
					 sizeof(key), &value, sizeof(value), 0),
		    0);
		assert_int_equal(value, 5);
		built_free(&b);
	}
}

struct records {
	struct dynmon_log_record r[8];
	size_t n;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct records *rs = ctx;

	assert_int_equal(size, sizeof(struct dynmon_log_record));
	assert_true(rs->n < ELEMENTSOF(rs->r));
	memcpy(&rs->r[rs->n++], data, size);
	return 0;
}

/* pcn_log() writes what the daemon needs to format the message: the level, the format (cut
 * to fit, always terminated) and the arguments; levels above PCN_LOG_LEVEL write nothing. */
static void test_log_records(void **state)
{
	static const char long_fmt[] = LONG_FMT;

	_Static_assert(sizeof(long_fmt) > DYNMON_LOG_FMT_MAX, "the format must be cut");
	static const struct {
		int level;
		enum dynmon_log_level expected[4];
	} cases[] = {
	    {6, {DYNMON_LOG_INFO, DYNMON_LOG_TRACE, DYNMON_LOG_ERR, DYNMON_LOG_WARN}},
	    {3, {DYNMON_LOG_ERR, DYNMON_LOG_WARN}},
	    {1, {}},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		for (int h = DM_HOOK_TC; h <= DM_HOOK_XDP; h++) {
			struct records rs = {};
			struct built b = {};
			struct ring_buffer *rb;
			size_t n = 0;

			build_ok(synthetic, DM_PATH_INGRESS, h, cases[i].level, &b);
			give_extern_map(&b);
			load_ok(&b);
			run(&b, 1);
			rb = ring_buffer__new(
			    bpf_map__fd(bpf_object__find_map_by_name(b.obj, "dynmon_log")),
			    on_record, &rs, NULL);
			assert_non_null(rb);
			assert_true(ring_buffer__consume(rb) >= 0);
			ring_buffer__free(rb);

			while (n < 4 && cases[i].expected[n])
				n++;
			assert_int_equal(rs.n, n);
			for (size_t k = 0; k < rs.n; k++) {
				const struct dynmon_log_record *r = &rs.r[k];

				assert_int_equal(r->level, cases[i].expected[k]);
				assert_int_equal(strnlen(r->fmt, sizeof(r->fmt)) < sizeof(r->fmt),
						 1);
				switch (r->level) {
				case DYNMON_LOG_INFO:
					assert_string_equal(r->fmt, "%I:%P");
					assert_int_equal(r->n_args, 2);
					assert_int_equal(r->args[0], 1);
					assert_int_equal(r->args[1], htons(53));
					break;
				case DYNMON_LOG_TRACE:
					assert_string_equal(r->fmt, "four %d %d %d %p");
					assert_int_equal(r->n_args, 4);
					assert_int_equal(r->args[0], 0);
					assert_int_equal(r->args[1], 1);
					assert_int_equal(r->args[2], 7);
					break;
				case DYNMON_LOG_ERR:
					assert_string_equal(r->fmt, "none");
					assert_int_equal(r->n_args, 0);
					break;
				case DYNMON_LOG_WARN:
					assert_int_equal(strlen(r->fmt), DYNMON_LOG_FMT_MAX - 1);
					assert_memory_equal(r->fmt, long_fmt,
							    DYNMON_LOG_FMT_MAX - 1);
					assert_int_equal(r->n_args, 1);
					assert_int_equal(r->args[0], 1);
					break;
				}
			}
			built_free(&b);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_detect),
	    cmocka_unit_test(test_rewrite),
	    cmocka_unit_test(test_prelude_and_entry),
	    cmocka_unit_test(test_rewrite_errors),
	    cmocka_unit_test(test_line_numbers),
	    cmocka_unit_test(test_examples_are_all_listed),
	    cmocka_unit_test(test_examples),
	    cmocka_unit_test(test_every_map_and_method),
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_packet_counter_counts),
	    cmocka_unit_test(test_log_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
