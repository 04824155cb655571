/* SPDX-License-Identifier: Apache-2.0 */
/* How map content becomes a metric. Shaping (export-metrics.c, and the oracle
 * tests/oracle/snapshot-tree.c) is checked on snapshots built by hand, typed by the BTF of
 * tests/bpf/metrics-maps.bpf.c. Reading (maps.c) is checked on real maps: it needs root and a
 * kernel with BPF, and fails without them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "mapped.h"
#include "maps.h"
#include "export-metrics.h"
#include "snapshot-tree.h"

/* Opened, never loaded: its BTF types the hand-built snapshots. */
static struct bpf_object *types_obj;
static const struct btf *types_btf;

static uint32_t type_id(const char *name)
{
	int id = btf__find_by_name(types_btf, name);

	if (id <= 0)
		fail_msg("no type \"%s\" in %s", name, METRICS_MAPS_OBJ);
	return id;
}

static bool map_type_is_percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* ---------------------------------------------------------------------------------------- */
/* Hand-built snapshots                                                                     */

/* A snapshot of `n` zeroed entries; a NULL type name means "no BTF" for the key or value. */
static struct dm_map_snapshot *snap(enum bpf_map_type type, const char *key_type, uint32_t key_size,
				    const char *value_type, uint32_t value_size, uint32_t n_cpus,
				    size_t n)
{
	struct dm_map_snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->type = type;
	s->btf = key_type || value_type ? types_btf : NULL;
	s->key_type_id = key_type ? type_id(key_type) : 0;
	s->value_type_id = value_type ? type_id(value_type) : 0;
	s->key_size = key_size;
	s->value_size = value_size;
	s->n_cpus = n_cpus;
	s->value_stride = map_type_is_percpu(type) ? (value_size + 7) / 8 * 8 : value_size;
	s->n_entries = n;
	s->keys = key_size ? calloc(n ?: 1, key_size) : NULL;
	s->values = calloc((n ?: 1) * n_cpus, s->value_stride);
	assert_non_null(s->values);
	return s;
}

static void put_key(struct dm_map_snapshot *s, size_t i, const void *key)
{
	memcpy((void *)dm_map_snapshot_key(s, i), key, s->key_size);
}

static void put_value(struct dm_map_snapshot *s, size_t i, uint32_t cpu, const void *value)
{
	memcpy((void *)dm_map_snapshot_value(s, i, cpu), value, s->value_size);
}

static struct dm_map_snapshot *array_u64(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_ARRAY, "__u32", 4, "__u64", 8, 1, 3);

	for (__u32 i = 0; i < 3; i++) {
		put_key(s, i, &i);
		put_value(s, i, 0, &(__u64){i == 1 ? 0 : i + 1});
	}
	return s;
}

static struct dm_map_snapshot *array_u64_raw(void)
{
	struct dm_map_snapshot *s = array_u64();

	s->btf = NULL;
	s->key_type_id = s->value_type_id = 0;
	return s;
}

static struct dm_map_snapshot *array_u64_max_raw(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_ARRAY, NULL, 4, NULL, 8, 1, 1);

	put_value(s, 0, 0, &(__u64){UINT64_MAX});
	return s;
}

static struct dm_map_snapshot *array_u16_raw(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_ARRAY, NULL, 4, NULL, 2, 1, 1);

	put_value(s, 0, 0, &(__u16){0x0102});
	return s;
}

static struct dm_map_snapshot *array_bytes_raw(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_ARRAY, NULL, 4, NULL, 3, 1, 2);

	put_value(s, 0, 0, (__u8[]){1, 2, 3});
	put_value(s, 1, 0, (__u8[]){4, 5, 255});
	return s;
}

static struct dm_map_snapshot *array_one_u64(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_ARRAY, "__u32", 4, "__u64", 8, 1, 1);

	put_value(s, 0, 0, &(__u64){42});
	return s;
}

static struct dm_map_snapshot *array_flow_stats(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_ARRAY, "__u32", 4, "flow_stats", 16, 1, 1);

	put_value(s, 0, 0, (__u64[]){3, 180});
	return s;
}

struct flow_key {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u32 proto;
};

static struct dm_map_snapshot *hash_flows(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_HASH, "flow_key", 16, "flow_stats", 16, 1, 2);

	put_key(s, 0, &(struct flow_key){0x0a000001, 0x0a000002, 1234, 80, 6});
	put_value(s, 0, 0, (__u64[]){10, 1500});
	put_key(s, 1, &(struct flow_key){0x0a000003, 0x0a000004, 53, 5353, 17});
	put_value(s, 1, 0, (__u64[]){1, 64});
	return s;
}

static struct dm_map_snapshot *hash_empty(void)
{
	return snap(BPF_MAP_TYPE_HASH, "flow_key", 16, "__u64", 8, 1, 0);
}

static struct dm_map_snapshot *hash_port_empty(void)
{
	return snap(BPF_MAP_TYPE_HASH, "__u16", 2, "__u64", 8, 1, 0);
}

static struct dm_map_snapshot *hash_port_bytes(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_LRU_HASH, "__u16", 2, "__u64", 8, 1, 2);

	put_key(s, 0, &(__u16){80});
	put_value(s, 0, 0, &(__u64){1000});
	put_key(s, 1, &(__u16){443});
	put_value(s, 1, 0, &(__u64){2000});
	return s;
}

static struct dm_map_snapshot *percpu_array_u64(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_PERCPU_ARRAY, "__u32", 4, "__u64", 8, 3, 2);

	for (__u32 cpu = 0; cpu < 3; cpu++) {
		put_value(s, 0, cpu, &(__u64){cpu + 1});
		put_value(s, 1, cpu, &(__u64){10 * (cpu + 1)});
	}
	return s;
}

static struct dm_map_snapshot *percpu_array_one_u64(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_PERCPU_ARRAY, "__u32", 4, "__u64", 8, 3, 1);

	for (__u32 cpu = 0; cpu < 3; cpu++)
		put_value(s, 0, cpu, &(__u64){cpu + 1});
	return s;
}

/* A 4-byte value in a per-CPU map: the kernel spaces CPUs 8 bytes apart. */
static struct dm_map_snapshot *percpu_array_u32_raw(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_PERCPU_ARRAY, NULL, 4, NULL, 4, 2, 1);

	put_value(s, 0, 0, &(__u32){7});
	put_value(s, 0, 1, &(__u32){8});
	return s;
}

static struct dm_map_snapshot *percpu_hash_balance(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_PERCPU_HASH, "__u16", 2, "__s64", 8, 2, 1);

	put_key(s, 0, &(__u16){80});
	put_value(s, 0, 0, &(__s64){-7});
	put_value(s, 0, 1, &(__s64){2});
	return s;
}

static struct dm_map_snapshot *queue_flow_stats(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_QUEUE, NULL, 0, "flow_stats", 16, 1, 2);

	put_value(s, 0, 0, (__u64[]){1, 2});
	put_value(s, 1, 0, (__u64[]){3, 4});
	return s;
}

static struct dm_map_snapshot *stack_u32_raw(void)
{
	struct dm_map_snapshot *s = snap(BPF_MAP_TYPE_STACK, NULL, 0, NULL, 4, 1, 3);

	for (__u32 i = 0; i < 3; i++)
		put_value(s, i, 0, &(__u32){3 - i});
	return s;
}

/* ---------------------------------------------------------------------------------------- */
/* JSON                                                                                     */

static void assert_json_equal(json_t *got, const char *expected_text)
{
	json_auto_t *expected = json_loads(expected_text, JSON_DECODE_ANY, NULL);

	assert_non_null(expected);
	if (!json_equal(got, expected)) {
		_cleanup_free_ char *text = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);

		fail_msg("got %s\nexpected %s", text, expected_text);
	}
}

struct json_case {
	const char *name;
	struct dm_map_snapshot *(*build)(void);
	const char *expected;
};

static const struct json_case json_cases[] = {
    {"json: array of __u64 is a list of values", array_u64, "[1, 0, 3]"},
    {"json: without BTF, 8 bytes are an integer", array_u64_raw, "[1, 0, 3]"},
    {"json: without BTF, u64 above INT64_MAX is a real", array_u64_max_raw,
     "[18446744073709551616.0]"},
    {"json: without BTF, 2 bytes are an integer", array_u16_raw, "[258]"},
    {"json: without BTF, 3 bytes are a list of bytes", array_bytes_raw, "[[1, 2, 3], [4, 5, 255]]"},
    {"json: hash of structs is a list of key/value objects", hash_flows,
     "[{\"key\": {\"saddr\": 167772161, \"daddr\": 167772162, \"sport\": 1234, \"dport\": 80,"
     "           \"proto\": 6},"
     "  \"value\": {\"packets\": 10, \"bytes\": 1500}},"
     " {\"key\": {\"saddr\": 167772163, \"daddr\": 167772164, \"sport\": 53, \"dport\": 5353,"
     "           \"proto\": 17},"
     "  \"value\": {\"packets\": 1, \"bytes\": 64}}]"},
    {"json: empty hash is an empty list", hash_empty, "[]"},
    {"json: lru hash with scalar key", hash_port_bytes,
     "[{\"key\": 80, \"value\": 1000}, {\"key\": 443, \"value\": 2000}]"},
    {"json: per-CPU array has a list per CPU", percpu_array_u64, "[[1, 2, 3], [10, 20, 30]]"},
    {"json: per-CPU values of 4 bytes are 8 bytes apart", percpu_array_u32_raw, "[[7, 8]]"},
    {"json: per-CPU hash has a list per CPU as value", percpu_hash_balance,
     "[{\"key\": 80, \"value\": [-7, 2]}]"},
    {"json: queue is a list of values in pop order", queue_flow_stats,
     "[{\"packets\": 1, \"bytes\": 2}, {\"packets\": 3, \"bytes\": 4}]"},
    {"json: stack is a list of values in pop order", stack_u32_raw, "[3, 2, 1]"},
};

static void test_json_case(void **state)
{
	const struct json_case *c = *state;
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = c->build();
	json_auto_t *j = NULL;

	assert_int_equal(dm_snapshot_to_json(s, false, &j), 0);
	assert_json_equal(j, c->expected);
}

static void test_json_unsupported_map_type(void **state)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = array_u64();
	json_t *j = NULL;

	s->type = BPF_MAP_TYPE_RINGBUF;
	assert_int_equal(dm_snapshot_to_json(s, false, &j), -EOPNOTSUPP);
	assert_null(j);
}

static void test_metric_json(void **state)
{
	json_auto_t *m = dm_metric_json("packets", json_pack("[i,i]", 1, 2), 1700000000123);

	assert_non_null(m);
	assert_json_equal(m, "{\"name\": \"packets\", \"value\": [1, 2],"
			     " \"timestamp\": 1700000000123}");
}

/* ---------------------------------------------------------------------------------------- */
/* OpenMetrics                                                                              */

static struct dm_label iface_label[] = {{"iface", "veth0"}};
static struct dm_label proto_label[] = {{"proto", "tcp"}};
static const struct om_label monitor_label[] = {{"monitor", "mon0"}};

struct om_case {
	const char *name;
	struct dm_map_snapshot *(*build)(void);
	struct dm_metric_config metric;
	const struct om_label *extra;
	size_t n_extra;
	const char *expected;
	int error; /* expected instead of text */
};

#define METRIC(...)                                                                                \
	{                                                                                          \
		.open_metrics = true, __VA_ARGS__                                                  \
	}

static const struct om_case om_cases[] = {
    {"om: single-element array counter, configured then extra labels", array_one_u64,
     METRIC(.name = "packets_total", .type = DM_METRIC_COUNTER, .help = "Packets seen",
	    .labels = iface_label, .n_labels = 1),
     monitor_label, 1,
     "# TYPE packets counter\n"
     "# HELP packets Packets seen\n"
     "packets_total{iface=\"veth0\",monitor=\"mon0\"} 42\n"},
    {"om: multi-element array has an index label", array_u64,
     METRIC(.name = "drops", .type = DM_METRIC_COUNTER), NULL, 0,
     "# TYPE drops counter\n"
     "drops_total{index=\"0\"} 1\n"
     "drops_total{index=\"1\"} 0\n"
     "drops_total{index=\"2\"} 3\n"},
    {"om: hash with scalar key has a key label between configured and extra", hash_port_bytes,
     METRIC(.name = "bytes_by_port_total", .type = DM_METRIC_COUNTER, .labels = proto_label,
	    .n_labels = 1),
     monitor_label, 1,
     "# TYPE bytes_by_port counter\n"
     "bytes_by_port_total{proto=\"tcp\",key=\"80\",monitor=\"mon0\"} 1000\n"
     "bytes_by_port_total{proto=\"tcp\",key=\"443\",monitor=\"mon0\"} 2000\n"},
    {"om: per-CPU values are summed", percpu_array_one_u64,
     METRIC(.name = "packets", .type = DM_METRIC_COUNTER), NULL, 0,
     "# TYPE packets counter\n"
     "packets_total 6\n"},
    {"om: per-CPU signed values are summed as signed", percpu_hash_balance,
     METRIC(.name = "balance", .type = DM_METRIC_GAUGE), NULL, 0,
     "# TYPE balance gauge\n"
     "balance{key=\"80\"} -5\n"},
    {"om: per-CPU multi-element array, summed per index", percpu_array_u64,
     METRIC(.name = "hits", .type = DM_METRIC_GAUGE), NULL, 0,
     "# TYPE hits gauge\n"
     "hits{index=\"0\"} 6\n"
     "hits{index=\"1\"} 60\n"},
    {"om: gauge has no suffix", array_one_u64,
     METRIC(.name = "queue_length", .type = DM_METRIC_GAUGE, .help = "Packets waiting"), NULL, 0,
     "# TYPE queue_length gauge\n"
     "# HELP queue_length Packets waiting\n"
     "queue_length 42\n"},
    {"om: untyped has no suffix", array_one_u64,
     METRIC(.name = "things", .type = DM_METRIC_UNTYPED), monitor_label, 1,
     "# TYPE things unknown\n"
     "things{monitor=\"mon0\"} 42\n"},
    {"om: without BTF, 8 bytes are an unsigned integer", array_u64_max_raw,
     METRIC(.name = "big_total", .type = DM_METRIC_COUNTER), NULL, 0,
     "# TYPE big counter\n"
     "big_total 18446744073709551615\n"},
    {"om: queue values have an index label", stack_u32_raw,
     METRIC(.name = "depth", .type = DM_METRIC_GAUGE), NULL, 0,
     "# TYPE depth gauge\n"
     "depth{index=\"0\"} 3\n"
     "depth{index=\"1\"} 2\n"
     "depth{index=\"2\"} 1\n"},
    {"om: empty hash writes the family alone", hash_port_empty,
     METRIC(.name = "flows", .type = DM_METRIC_GAUGE, .help = "Live flows"), NULL, 0,
     "# TYPE flows gauge\n"
     "# HELP flows Live flows\n"},
    {"om: struct value: a family per field", array_flow_stats,
     METRIC(.name = "stats", .type = DM_METRIC_COUNTER), monitor_label, 1,
     "# TYPE stats_packets counter\n"
     "stats_packets_total{monitor=\"mon0\"} 3\n"
     "# TYPE stats_bytes counter\n"
     "stats_bytes_total{monitor=\"mon0\"} 180\n"},
    {"om: struct key: a label per field (host-order numbers stay numbers)", hash_flows,
     METRIC(.name = "flows", .type = DM_METRIC_COUNTER), NULL, 0,
     "# TYPE flows_packets counter\n"
     "flows_packets_total{saddr=\"167772161\",daddr=\"167772162\",sport=\"1234\",dport=\"80\","
     "proto=\"6\"} 10\n"
     "flows_packets_total{saddr=\"167772163\",daddr=\"167772164\",sport=\"53\",dport=\"5353\","
     "proto=\"17\"} 1\n"
     "# TYPE flows_bytes counter\n"
     "flows_bytes_total{saddr=\"167772161\",daddr=\"167772162\",sport=\"1234\",dport=\"80\","
     "proto=\"6\"} 1500\n"
     "flows_bytes_total{saddr=\"167772163\",daddr=\"167772164\",sport=\"53\",dport=\"5353\","
     "proto=\"17\"} 64\n"},
    {"om: struct key, empty map: the family alone", hash_empty,
     METRIC(.name = "flows", .type = DM_METRIC_COUNTER), NULL, 0, "# TYPE flows counter\n"},
    {"om: without BTF, 3 bytes are no number: refused", array_bytes_raw,
     METRIC(.name = "bytes", .type = DM_METRIC_GAUGE), NULL, 0, "", -EBADMSG},
    {"om: histogram without its buckets described: refused", array_one_u64,
     METRIC(.name = "latency", .type = DM_METRIC_HISTOGRAM), NULL, 0, "", -EBADMSG},
    {"om: summary of a number: refused", array_one_u64,
     METRIC(.name = "latency", .type = DM_METRIC_SUMMARY), NULL, 0, "", -EBADMSG},
    {"om: histogram of an array of buckets", array_u64,
     METRIC(.name = "latency", .type = DM_METRIC_HISTOGRAM, .help = "h",
	    .histogram = &(struct dm_histogram_config){.layout = DM_HISTOGRAM_LOG2}),
     NULL, 0,
     "# TYPE latency histogram\n"
     "# HELP latency h\n"
     "latency_bucket{le=\"1.0\"} 1\n"
     "latency_bucket{le=\"3.0\"} 1\n"
     "latency_bucket{le=\"+Inf\"} 4\n"},
};

static int render_openmetrics(const struct dm_map_snapshot *s, const struct dm_metric_config *m,
			      const struct om_label *extra, size_t n_extra, char **ret)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	int r;

	assert_non_null(f);
	r = dm_snapshot_write_openmetrics(f, s, m, extra, n_extra);
	assert_int_equal(fclose(f), 0);
	*ret = text;
	return r;
}

static void test_om_case(void **state)
{
	const struct om_case *c = *state;
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = c->build();
	_cleanup_free_ char *text = NULL;

	assert_int_equal(render_openmetrics(s, &c->metric, c->extra, c->n_extra, &text), c->error);
	assert_string_equal(text, c->expected);
}

static void test_om_needs_open_metrics(void **state)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = array_one_u64();
	struct dm_metric_config m = {.name = "packets", .type = DM_METRIC_COUNTER};
	_cleanup_free_ char *text = NULL;

	assert_int_equal(render_openmetrics(s, &m, NULL, 0, &text), -EINVAL);
	assert_string_equal(text, "");
}

/* ---------------------------------------------------------------------------------------- */
/* Reading real maps                                                                        */

static int ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	assert_true(n > 0);
	return n;
}

static int map_create(enum bpf_map_type type, uint32_t key_size, uint32_t value_size,
		      uint32_t max_entries)
{
	int fd = bpf_map_create(type, NULL, key_size, value_size, max_entries, NULL);

	if (fd < 0)
		fail_msg("bpf_map_create(type %d): %s: these tests need root and BPF", type,
			 strerror(-fd));
	return fd;
}

/* What entry `k` holds on `cpu`: never 0, so that zeroing shows. */
static __u64 pattern(__u32 k, __u32 cpu)
{
	return (__u64)k * 1000 + cpu + 1;
}

/* A value buffer as bpf(2) wants it: one 8-byte slot per possible CPU for per-CPU maps. */
static void fill_value(__u64 *v, enum bpf_map_type type, __u32 k)
{
	int n = map_type_is_percpu(type) ? ncpus() : 1;

	for (int cpu = 0; cpu < n; cpu++)
		v[cpu] = pattern(k, cpu);
}

static size_t count_keys(int fd, uint32_t key_size)
{
	_cleanup_free_ void *key = malloc(key_size), *next = malloc(key_size);
	size_t n = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

/* Every entry of snapshot `s` is entry k < n with its pattern, each k exactly once. */
static void assert_snapshot_holds(const struct dm_map_snapshot *s, uint32_t n, bool zero)
{
	_cleanup_free_ bool *seen = calloc(n, sizeof(bool));
	uint32_t n_cpus = map_type_is_percpu(s->type) ? ncpus() : 1;

	assert_int_equal(s->n_entries, n);
	assert_int_equal(s->n_cpus, n_cpus);
	assert_int_equal(s->value_size, 8);
	assert_int_equal(s->value_stride, 8);
	assert_null(s->btf);
	for (size_t i = 0; i < s->n_entries; i++) {
		__u32 k;

		memcpy(&k, dm_map_snapshot_key(s, i), sizeof(k));
		assert_true(k < n);
		assert_false(seen[k]);
		seen[k] = true;
		for (uint32_t cpu = 0; cpu < n_cpus; cpu++) {
			__u64 v;

			memcpy(&v, dm_map_snapshot_value(s, i, cpu), sizeof(v));
			assert_int_equal(v, zero ? 0 : pattern(k, cpu));
		}
	}
}

/* The map holds entries 0..n-1 with their pattern (or zeros). */
static void assert_map_holds(int fd, enum bpf_map_type type, uint32_t n, bool zero)
{
	int n_cpus = map_type_is_percpu(type) ? ncpus() : 1;
	_cleanup_free_ __u64 *v = calloc(n_cpus, sizeof(__u64));

	for (__u32 k = 0; k < n; k++) {
		assert_int_equal(bpf_map_lookup_elem(fd, &k, v), 0);
		for (int cpu = 0; cpu < n_cpus; cpu++)
			assert_int_equal(v[cpu], zero ? 0 : pattern(k, cpu));
	}
}

struct map_case {
	const char *name;
	enum bpf_map_type type;
	uint32_t n;	      /* entries filled in */
	uint32_t max_entries; /* 0: n */
	bool no_batch;
};

static const struct map_case hash_cases[] = {
    {"read hash", BPF_MAP_TYPE_HASH, 10, 64},
    {"read hash of 10000 entries, in chunks", BPF_MAP_TYPE_HASH, 10000, 16384},
    {"read full hash", BPF_MAP_TYPE_HASH, 5000, 0},
    {"read empty hash", BPF_MAP_TYPE_HASH, 0, 16},
    {"read percpu_hash", BPF_MAP_TYPE_PERCPU_HASH, 300, 512},
    /* LRU maps hand out free nodes to each CPU in batches: room keeps them from evicting. */
    {"read lru_hash", BPF_MAP_TYPE_LRU_HASH, 100, 4096},
    {"read lru_percpu_hash", BPF_MAP_TYPE_LRU_PERCPU_HASH, 100, 4096},
    {"read hash without batch", BPF_MAP_TYPE_HASH, 10000, 16384, true},
    {"read percpu_hash without batch", BPF_MAP_TYPE_PERCPU_HASH, 300, 512, true},
};

static void test_read_hash(void **state)
{
	const struct map_case *c = *state;
	_cleanup_free_ __u64 *v = calloc(ncpus(), sizeof(__u64));
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *kept = NULL, *taken = NULL;
	_cleanup_close_ int fd = map_create(c->type, 4, 8, c->max_entries ?: c->n);

	for (__u32 k = 0; k < c->n; k++) {
		fill_value(v, c->type, k);
		assert_int_equal(bpf_map_update_elem(fd, &k, v, BPF_NOEXIST), 0);
	}
	assert_int_equal(count_keys(fd, 4), c->n);
	dm_maps_no_batch = c->no_batch;

	/* A plain read leaves the map as it was. */
	assert_int_equal(dm_map_snapshot_read_fd(fd, false, &kept), 0);
	assert_int_equal(kept->type, c->type);
	assert_int_equal(kept->key_size, 4);
	assert_snapshot_holds(kept, c->n, false);
	assert_int_equal(count_keys(fd, 4), c->n);
	assert_map_holds(fd, c->type, c->n, false);

	/* Empty-on-read takes every entry out. */
	assert_int_equal(dm_map_snapshot_read_fd(fd, true, &taken), 0);
	assert_snapshot_holds(taken, c->n, false);
	assert_int_equal(count_keys(fd, 4), 0);
	dm_maps_no_batch = false;
}

static const struct map_case array_cases[] = {
    {"read array", BPF_MAP_TYPE_ARRAY, 5},
    {"read array of 10000 entries, in chunks", BPF_MAP_TYPE_ARRAY, 10000},
    {"read percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY, 7},
    {"read percpu_array of 5000 entries", BPF_MAP_TYPE_PERCPU_ARRAY, 5000},
    {"read array without batch", BPF_MAP_TYPE_ARRAY, 5000, 0, true},
    {"read percpu_array without batch", BPF_MAP_TYPE_PERCPU_ARRAY, 7, 0, true},
};

static void test_read_array(void **state)
{
	const struct map_case *c = *state;
	_cleanup_free_ __u64 *v = calloc(ncpus(), sizeof(__u64));
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *kept = NULL, *taken = NULL,
								*after = NULL;
	_cleanup_close_ int fd = map_create(c->type, 4, 8, c->n);

	for (__u32 k = 0; k < c->n; k++) {
		fill_value(v, c->type, k);
		assert_int_equal(bpf_map_update_elem(fd, &k, v, BPF_ANY), 0);
	}
	dm_maps_no_batch = c->no_batch;

	assert_int_equal(dm_map_snapshot_read_fd(fd, false, &kept), 0);
	assert_snapshot_holds(kept, c->n, false);
	for (__u32 k = 0; k < c->n; k++) /* in index order */
		assert_memory_equal(dm_map_snapshot_key(kept, k), &k, sizeof(k));
	assert_map_holds(fd, c->type, c->n, false);

	/* Empty-on-read returns the values and leaves zeros behind. */
	assert_int_equal(dm_map_snapshot_read_fd(fd, true, &taken), 0);
	assert_snapshot_holds(taken, c->n, false);
	assert_map_holds(fd, c->type, c->n, true);
	assert_int_equal(dm_map_snapshot_read_fd(fd, false, &after), 0);
	assert_snapshot_holds(after, c->n, true);
	dm_maps_no_batch = false;
}

/* The kernel spaces per-CPU values 8 bytes apart, also smaller ones. */
static void test_read_percpu_small_values(void **state)
{
	static const enum bpf_map_type types[] = {BPF_MAP_TYPE_PERCPU_ARRAY,
						  BPF_MAP_TYPE_LRU_PERCPU_HASH};
	uint32_t n_cpus = ncpus();
	_cleanup_free_ __u32 *v = calloc(2 * n_cpus, sizeof(__u32));

	for (size_t t = 0; t < ELEMENTSOF(types); t++) {
		_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = NULL;
		_cleanup_close_ int fd = map_create(types[t], 4, 4, 3);

		for (__u32 k = 0; k < 3; k++) {
			for (uint32_t cpu = 0; cpu < n_cpus; cpu++)
				v[2 * cpu] = pattern(k, cpu);
			assert_int_equal(bpf_map_update_elem(fd, &k, v, BPF_ANY), 0);
		}

		assert_int_equal(dm_map_snapshot_read_fd(fd, false, &s), 0);
		assert_int_equal(s->value_size, 4);
		assert_int_equal(s->value_stride, 8);
		assert_int_equal(s->n_cpus, n_cpus);
		assert_int_equal(s->n_entries, 3);
		for (size_t i = 0; i < 3; i++) {
			__u32 k, x;

			memcpy(&k, dm_map_snapshot_key(s, i), 4);
			for (uint32_t cpu = 0; cpu < n_cpus; cpu++) {
				memcpy(&x, dm_map_snapshot_value(s, i, cpu), 4);
				assert_int_equal(x, pattern(k, cpu));
			}
		}
	}
}

struct queue_case {
	const char *name;
	enum bpf_map_type type;
	uint32_t n, max_entries;
};

static const struct queue_case queue_cases[] = {
    {"read queue", BPF_MAP_TYPE_QUEUE, 5, 8},	    {"read full queue", BPF_MAP_TYPE_QUEUE, 8, 8},
    {"read empty queue", BPF_MAP_TYPE_QUEUE, 0, 8}, {"read stack", BPF_MAP_TYPE_STACK, 5, 8},
    {"read full stack", BPF_MAP_TYPE_STACK, 8, 8},
};

/* Pushed 1..n: a queue pops them in that order, a stack in reverse. */
static __u32 popped(const struct queue_case *c, uint32_t i)
{
	return c->type == BPF_MAP_TYPE_QUEUE ? i + 1 : c->n - i;
}

static void assert_queue_snapshot(const struct queue_case *c, const struct dm_map_snapshot *s)
{
	assert_int_equal(s->n_entries, c->n);
	assert_int_equal(s->key_size, 0);
	assert_null(s->keys);
	for (uint32_t i = 0; i < c->n; i++) {
		__u32 v;

		memcpy(&v, dm_map_snapshot_value(s, i, 0), sizeof(v));
		assert_int_equal(v, popped(c, i));
	}
}

static void test_read_queue(void **state)
{
	const struct queue_case *c = *state;
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *kept = NULL, *again = NULL,
								*taken = NULL;
	_cleanup_close_ int fd = map_create(c->type, 0, 4, c->max_entries);
	__u32 v;

	for (__u32 i = 1; i <= c->n; i++)
		assert_int_equal(bpf_map_update_elem(fd, NULL, &i, BPF_ANY), 0);

	/* A plain read puts everything back in its order: reading again gives the same. */
	assert_int_equal(dm_map_snapshot_read_fd(fd, false, &kept), 0);
	assert_queue_snapshot(c, kept);
	assert_int_equal(dm_map_snapshot_read_fd(fd, false, &again), 0);
	assert_queue_snapshot(c, again);

	assert_int_equal(dm_map_snapshot_read_fd(fd, true, &taken), 0);
	assert_queue_snapshot(c, taken);
	assert_int_equal(bpf_map_lookup_elem(fd, NULL, &v), -ENOENT);
}

static void test_read_unsupported(void **state)
{
	struct dm_map_snapshot *s = NULL;
	_cleanup_close_ int fd = map_create(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);

	assert_int_equal(dm_map_snapshot_read_fd(fd, false, &s), -EOPNOTSUPP);
	assert_null(s);
	assert_true(dm_map_snapshot_read_fd(-1, false, &s) < 0);
	assert_null(s);
}

/* ---------------------------------------------------------------------------------------- */
/* Maps of a loaded object: types from its BTF                                              */

static void test_read_object_maps(void **state)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *flows = NULL, *events = NULL,
								*lifo = NULL, *bare = NULL;
	struct bpf_object *obj = bpf_object__open_file(METRICS_MAPS_OBJ, NULL);
	const struct btf *btf;
	json_auto_t *j = NULL;

	assert_non_null(obj);
	assert_int_equal(bpf_object__load(obj), 0);
	btf = bpf_object__btf(obj);
	assert_non_null(btf);
	struct bpf_map *flows_map = bpf_object__find_map_by_name(obj, "flows");
	struct bpf_map *events_map = bpf_object__find_map_by_name(obj, "events");
	struct bpf_map *lifo_map = bpf_object__find_map_by_name(obj, "lifo");

	assert_int_equal(bpf_map_update_elem(bpf_map__fd(flows_map),
					     &(struct flow_key){1, 2, 3, 4, 6}, (__u64[]){5, 300},
					     BPF_ANY),
			 0);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(events_map), NULL, (__u64[]){7, 8}, 0), 0);
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(lifo_map), NULL, &(__u32){9}, 0), 0);

	assert_int_equal(dm_map_snapshot_read(flows_map, btf, false, &flows), 0);
	assert_ptr_equal(flows->btf, btf);
	assert_int_equal(flows->key_type_id, btf__find_by_name(btf, "flow_key"));
	assert_int_equal(flows->value_type_id, btf__find_by_name(btf, "flow_stats"));
	assert_int_equal(dm_snapshot_to_json(flows, false, &j), 0);
	assert_json_equal(j, "[{\"key\": {\"saddr\": 1, \"daddr\": 2, \"sport\": 3, \"dport\": 4,"
			     "\"proto\": 6}, \"value\": {\"packets\": 5, \"bytes\": 300}}]");

	/* libbpf created these without BTF ids: the value type comes from the map definition. */
	assert_int_equal(bpf_map__btf_value_type_id(events_map), 0);
	assert_int_equal(dm_map_snapshot_read(events_map, btf, true, &events), 0);
	assert_int_equal(events->key_type_id, 0);
	assert_int_equal(events->value_type_id, btf__find_by_name(btf, "flow_stats"));
	assert_int_equal(dm_map_snapshot_read(lifo_map, btf, false, &lifo), 0);
	assert_int_equal(lifo->value_type_id, btf__find_by_name(btf, "__u32"));

	/* Without the object's BTF, the snapshot has no types. */
	assert_int_equal(dm_map_snapshot_read(flows_map, NULL, false, &bare), 0);
	assert_null(bare->btf);
	assert_int_equal(bare->key_type_id, 0);
	assert_int_equal(bare->value_type_id, 0);
	assert_int_equal(bare->n_entries, 1);

	bpf_object__close(obj);
}

/* Plain arrays are created mappable and read through memory (mapped.h): the same entries as
 * bpf(2) gives, live, 12-byte values spaced as the kernel spaces them; emptying still zeroes
 * through bpf(2); arrays of values with a lock, and hash maps, stay as they were. */
static void test_read_mapped_array(void **state)
{
	struct bpf_object *obj = bpf_object__open_file(METRICS_MAPS_OBJ, NULL);
	struct bpf_map *odd, *counters, *locked, *flows;
	size_t stride = 0;

	assert_non_null(obj);
	dm_mapped_prepare(obj);
	odd = bpf_object__find_map_by_name(obj, "odd_array");
	counters = bpf_object__find_map_by_name(obj, "counters");
	locked = bpf_object__find_map_by_name(obj, "locked_array");
	flows = bpf_object__find_map_by_name(obj, "flows");
	assert_true(bpf_map__map_flags(odd) & BPF_F_MMAPABLE);
	assert_true(bpf_map__map_flags(counters) & BPF_F_MMAPABLE);
	assert_false(bpf_map__map_flags(locked) & BPF_F_MMAPABLE);
	assert_false(bpf_map__map_flags(flows) & BPF_F_MMAPABLE);
	assert_int_equal(bpf_object__load(obj), 0);

	for (__u32 k = 0; k < 3; k++) {
		__u32 v[3] = {k, 10 * k + 1, 0xffffffff - k};

		assert_int_equal(bpf_map_update_elem(bpf_map__fd(odd), &k, v, BPF_ANY), 0);
	}
	assert_non_null(dm_mapped_values(odd, &stride));
	assert_int_equal(stride, 16);
	assert_null(dm_mapped_values(locked, &stride));
	assert_null(dm_mapped_values(flows, &stride));

	for (int round = 0; round < 2; round++) {
		_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *mapped = NULL,
									*read = NULL;

		assert_int_equal(dm_map_snapshot_read(odd, bpf_object__btf(obj), false, &mapped),
				 0);
		assert_int_equal(dm_map_snapshot_read_fd(bpf_map__fd(odd), false, &read), 0);
		assert_int_equal(mapped->n_entries, 3);
		assert_int_equal(read->n_entries, 3);
		for (size_t i = 0; i < 3; i++) {
			assert_memory_equal(dm_map_snapshot_key(mapped, i),
					    dm_map_snapshot_key(read, i), 4);
			assert_memory_equal(dm_map_snapshot_value(mapped, i, 0),
					    dm_map_snapshot_value(read, i, 0), 12);
		}
		/* The mapping is live: an update shows in the next read. */
		assert_int_equal(
		    bpf_map_update_elem(bpf_map__fd(odd), &(__u32){1}, (__u32[]){7, 8, 9}, BPF_ANY),
		    0);
	}

	{
		_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *taken = NULL,
									*after = NULL;
		__u32 v[3];

		assert_int_equal(dm_map_snapshot_read(odd, NULL, true, &taken), 0);
		assert_memory_equal(dm_map_snapshot_value(taken, 1, 0), ((__u32[]){7, 8, 9}), 12);
		assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(odd), &(__u32){1}, v), 0);
		assert_memory_equal(v, ((__u32[]){0, 0, 0}), 12);
		assert_int_equal(dm_map_snapshot_read(odd, NULL, false, &after), 0);
		assert_memory_equal(dm_map_snapshot_value(after, 1, 0), ((__u32[]){0, 0, 0}), 12);
	}

	dm_map_forget(odd);
	dm_map_forget(counters);
	bpf_object__close(obj);
}

static void test_read_map_not_loaded(void **state)
{
	struct bpf_map *map = bpf_object__find_map_by_name(types_obj, "flows");
	struct dm_map_snapshot *s = NULL;

	assert_non_null(map);
	assert_true(dm_map_snapshot_read(map, types_btf, false, &s) < 0);
	assert_null(s);
}

/* ---------------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	types_obj = bpf_object__open_file(METRICS_MAPS_OBJ, NULL);
	if (!types_obj)
		return -1;
	types_btf = bpf_object__btf(types_obj);
	return types_btf ? 0 : -1;
}

static int group_teardown(void **state)
{
	bpf_object__close(types_obj);
	return 0;
}

#define ADD_ROWS(tests, n, table, func)                                                            \
	for (size_t _i = 0; _i < ELEMENTSOF(table); _i++)                                          \
		(tests)[(n)++] = (struct CMUnitTest)                                               \
		{                                                                                  \
			(table)[_i].name, func, NULL, NULL, (void *)&(table)[_i]                   \
		}

int main(void)
{
	struct CMUnitTest tests[ELEMENTSOF(json_cases) + ELEMENTSOF(om_cases) +
				ELEMENTSOF(hash_cases) + ELEMENTSOF(array_cases) +
				ELEMENTSOF(queue_cases) + 16];
	size_t n = 0;

	ADD_ROWS(tests, n, json_cases, test_json_case);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_json_unsupported_map_type);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_metric_json);
	ADD_ROWS(tests, n, om_cases, test_om_case);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_om_needs_open_metrics);
	ADD_ROWS(tests, n, hash_cases, test_read_hash);
	ADD_ROWS(tests, n, array_cases, test_read_array);
	ADD_ROWS(tests, n, queue_cases, test_read_queue);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_read_percpu_small_values);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_read_unsupported);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_read_object_maps);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_read_mapped_array);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_read_map_not_loaded);

	return _cmocka_run_group_tests("metrics", tests, n, group_setup, group_teardown);
}
