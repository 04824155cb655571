/* SPDX-License-Identifier: Apache-2.0 */
/* A map's content as OpenMetrics, as an operator configures it: labels from key fields decoded
 * for people, a family per number of a struct value, per-CPU values added up or labelled,
 * histograms and summaries. Each case is a metric's configuration (JSON, ' for "), a snapshot
 * filled through the types of tests/bpf/om-types.bpf.c, and the exact text; every text then
 * goes through the strict OpenMetrics parser and promtool. What cannot be exported is refused
 * when the plan is made, with a message naming the place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <bpf/libbpf.h>

#define OM_TYPES_HOST
#include "../bpf/om-types.bpf.c"

#include "config.h"
#include "export.h"
#include "fields.h"
#include "histogram.h"
#include "export-metrics.h"
#include "om-check.h"

static struct bpf_object *obj;
static const struct btf *btf;

/* ---- snapshots of the maps of om-types.bpf.c */

static bool is_percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* `n` zeroed entries of map `name` (on `n_cpus` CPUs), typed as the program declares it. */
static struct dm_map_snapshot *snap(const char *name, size_t n, uint32_t n_cpus)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	struct dm_map_snapshot *s = calloc(1, sizeof(*s));

	assert_non_null(map);
	assert_non_null(s);
	s->type = bpf_map__type(map);
	s->btf = btf;
	s->key_type_id = dm_btf_map_member_type(btf, name, "key");
	s->value_type_id = dm_btf_map_member_type(btf, name, "value");
	assert_true(s->value_type_id > 0);
	s->key_size = bpf_map__key_size(map);
	s->value_size = bpf_map__value_size(map);
	s->n_cpus = n_cpus;
	s->value_stride = is_percpu(s->type) ? (s->value_size + 7) / 8 * 8 : s->value_size;
	s->n_entries = n;
	s->keys = s->key_size ? calloc(n ?: 1, s->key_size) : NULL;
	s->values = calloc((n ?: 1) * n_cpus, s->value_stride);
	assert_non_null(s->values);
	for (size_t i = 0;
	     (s->type == BPF_MAP_TYPE_ARRAY || s->type == BPF_MAP_TYPE_PERCPU_ARRAY) && i < n; i++)
		memcpy((void *)dm_map_snapshot_key(s, i), &(uint32_t){i}, 4);
	return s;
}

#define KEY(s, i, type) ((type *)dm_map_snapshot_key((s), (i)))
#define VALUE(s, i, cpu, type) ((type *)dm_map_snapshot_value((s), (i), (cpu)))

static __be32 ip4(const char *text)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, text, &a), 1);
	return a.s_addr;
}

static void ip6(const char *text, void *ret)
{
	assert_int_equal(inet_pton(AF_INET6, text, ret), 1);
}

static struct dm_map_snapshot *two_flows(void)
{
	struct dm_map_snapshot *s = snap("flows4", 2, 1);

	*KEY(s, 0, struct flow4_key) = (struct flow4_key){
	    ip4("192.0.2.1"), ip4("198.51.100.7"), htons(40000), htons(443), 6, 4, 0};
	*VALUE(s, 0, 0, struct flow_stats) = (struct flow_stats){10, 1500};
	*KEY(s, 1, struct flow4_key) = (struct flow4_key){
	    ip4("10.0.0.1"), ip4("10.0.0.2"), htons(53), htons(5353), 17, 0, 100};
	*VALUE(s, 1, 0, struct flow_stats) = (struct flow_stats){1, 64};
	return s;
}

/* Three flows whose packets and bytes rank them differently. */
static struct dm_map_snapshot *three_flows(void)
{
	struct dm_map_snapshot *s = two_flows();
	struct dm_map_snapshot *t = snap("flows4", 3, 1);

	memcpy(t->keys, s->keys, 2 * s->key_size);
	*VALUE(t, 0, 0, struct flow_stats) = (struct flow_stats){10, 100};
	*VALUE(t, 1, 0, struct flow_stats) = (struct flow_stats){1, 1500};
	*KEY(t, 2, struct flow4_key) =
	    (struct flow4_key){ip4("10.0.0.3"), ip4("10.0.0.4"), htons(123), htons(123), 17, 0, 7};
	*VALUE(t, 2, 0, struct flow_stats) = (struct flow_stats){5, 50};
	dm_map_snapshot_free(s);
	return t;
}

static struct dm_map_snapshot *l2_frames(void)
{
	struct dm_map_snapshot *s = snap("l2", 1, 1);

	*KEY(s, 0, struct l2_key) =
	    (struct l2_key){{0x02, 0, 0, 0, 0, 0x01}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1};
	*VALUE(s, 0, 0, __u64) = 5;
	return s;
}

static struct dm_map_snapshot *v6_conn(void)
{
	struct dm_map_snapshot *s = snap("flows6", 1, 1);
	struct v6_key *k = KEY(s, 0, struct v6_key);

	ip6("2001:db8::1", &k->src);
	ip6("fe80::1", k->dst_addr);
	k->state = CONN_ESTABLISHED;
	strcpy(k->comm, "curl");
	*VALUE(s, 0, 0, struct conn_stats) =
	    (struct conn_stats){3, {60, 1500}, {1, 0}, 0.25, -2, "tag"};
	return s;
}

static struct dm_map_snapshot *nested_percpu(void)
{
	struct dm_map_snapshot *s = snap("nested", 1, 2);
	struct nested_key *k = KEY(s, 0, struct nested_key);

	k->src.addr = ip4("192.0.2.9");
	k->src.port = htons(8080);
	k->src.zone = 3;
	k->ifindex = 1;
	k->prio = 5;
	k->mark = 0x1234;
	*VALUE(s, 0, 0, struct flow_stats) = (struct flow_stats){1, 100};
	*VALUE(s, 0, 1, struct flow_stats) = (struct flow_stats){2, 200};
	return s;
}

static struct dm_map_snapshot *talkers(void)
{
	struct dm_map_snapshot *s = snap("talkers", 2, 1);

	*KEY(s, 0, __be32) = ip4("192.0.2.2");
	*VALUE(s, 0, 0, __u64) = 6;
	*KEY(s, 1, __be32) = ip4("192.0.2.3");
	*VALUE(s, 1, 0, __u64) = 5;
	return s;
}

static struct dm_map_snapshot *by_state(void)
{
	struct dm_map_snapshot *s = snap("by_state", 2, 1);

	*KEY(s, 0, enum conn_state) = CONN_NEW;
	*VALUE(s, 0, 0, __u64) = 4;
	*KEY(s, 1, enum conn_state) = 5;
	*VALUE(s, 1, 0, __u64) = 1;
	return s;
}

static struct dm_map_snapshot *by_comm(void)
{
	struct dm_map_snapshot *s = snap("by_comm", 2, 1);

	strcpy(KEY(s, 0, char), "nginx");
	*VALUE(s, 0, 0, __u64) = 7;
	strcpy(KEY(s, 1, char), "we\"ird\\");
	*VALUE(s, 1, 0, __u64) = 1;
	return s;
}

/* Counters by IP protocol, in an array indexed by the protocol number. */
static struct dm_map_snapshot *per_protocol(void)
{
	struct dm_map_snapshot *s = snap("log2_hist", 7, 1);

	*VALUE(s, 1, 0, __u64) = 3;
	*VALUE(s, 6, 0, __u64) = 7;
	return s;
}

static struct dm_map_snapshot *array_buckets(size_t n, const __u64 *counts)
{
	struct dm_map_snapshot *s = snap("log2_hist", n, 1);

	for (size_t i = 0; i < n; i++)
		*VALUE(s, i, 0, __u64) = counts[i];
	return s;
}

static struct dm_map_snapshot *six_buckets(void)
{
	return array_buckets(6, (const __u64[]){1, 0, 2, 3, 0, 1});
}

static struct dm_map_snapshot *packet_sizes(void)
{
	return array_buckets(7, (const __u64[]){2, 3, 3, 4, 5, 6, 7});
}

static struct dm_map_snapshot *slot_buckets(void)
{
	static const struct {
		struct slot_key key;
		struct bucket_stats value;
	} entries[] = {
	    {{999999, 3}, {1, 9}}, {{1, 0}, {2, 1}}, {{999999, 0}, {1, 1}}, {{1, 2}, {3, 15}}};
	struct dm_map_snapshot *s = snap("slot_hist", ELEMENTSOF(entries), 1);

	for (size_t i = 0; i < ELEMENTSOF(entries); i++) {
		*KEY(s, i, struct slot_key) = entries[i].key;
		*VALUE(s, i, 0, struct bucket_stats) = entries[i].value;
	}
	return s;
}

static struct dm_map_snapshot *hash_buckets(void)
{
	struct dm_map_snapshot *s = snap("size_hist", 3, 1);

	*KEY(s, 0, __u32) = 1;
	*VALUE(s, 0, 0, __u64) = 4;
	*KEY(s, 1, __u32) = 0;
	*VALUE(s, 1, 0, __u64) = 2;
	*KEY(s, 2, __u32) = 7;
	*VALUE(s, 2, 0, __u64) = 1;
	return s;
}

static struct dm_map_snapshot *no_buckets(void)
{
	return snap("size_hist", 0, 1);
}

static struct dm_map_snapshot *latencies(void)
{
	struct dm_map_snapshot *s = snap("latency", 1, 1);

	*KEY(s, 0, __u32) = 3;
	*VALUE(s, 0, 0, struct latency_hist) = (struct latency_hist){{0, 1, 2, 0, 1, 0, 0, 1}, 300};
	return s;
}

static struct dm_map_snapshot *rtts(void)
{
	struct dm_map_snapshot *s = snap("rtt", 1, 2);

	*VALUE(s, 0, 0, struct rtt_summary) = (struct rtt_summary){4, 100, 20, 40, 41, 50};
	*VALUE(s, 0, 1, struct rtt_summary) = (struct rtt_summary){1, 7, 7, 7, 7, 7};
	return s;
}

static struct dm_map_snapshot *events(void)
{
	struct dm_map_snapshot *s = snap("events", 2, 1);

	*VALUE(s, 0, 0, struct flow_stats) = (struct flow_stats){1, 60};
	*VALUE(s, 1, 0, struct flow_stats) = (struct flow_stats){2, 1000};
	return s;
}

/* ---- metric configurations, as an operator writes them */

/* Test documents write ' for ", so that they read as JSON rather than as C escapes. */
static char *dq(const char *s)
{
	char *t = strdup(s);

	assert_non_null(t);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

/* A v1.0 document with the metric `metric` (a JSON object). */
static struct dm_config *config_of(const char *metric)
{
	_cleanup_free_ char *doc = strdup_printf("{'code': 'c', 'metrics': [%s]}", metric);
	_cleanup_free_ char *text = dq(doc);
	struct dm_config *c = NULL;
	dm_error e = DM_ERROR_NULL;

	if (dm_config_parse(text, &c, &e) < 0)
		fail_msg("%s: %s", text, e.message);
	return c;
}

/* Renders with the plan's own messages: what a failure says matters as much as the text. */
static int render(const struct dm_map_snapshot *s, const struct dm_metric_config *m,
		  const struct om_label *extra, size_t n_extra, char **ret, dm_error *e)
{
	_cleanup_(dm_export_freep) struct dm_export *x = NULL;
	struct dm_export_types t = dm_export_types_of(s);
	size_t size = 0;
	FILE *f = open_memstream(ret, &size);
	int r;

	assert_non_null(f);
	r = dm_export_new(&t, m, &x, e);
	if (r >= 0)
		r = dm_export_write(x, s, extra, n_extra, f, e);
	assert_int_equal(fclose(f), 0);
	return r;
}

static const struct om_label monitor[] = {{"monitor", "m"}};

struct render_case {
	const char *name;
	struct dm_map_snapshot *(*build)(void);
	const char *metric;
	bool monitor; /* with monitor="m" */
	const char *expected;
};

#define FLOW1                                                                                      \
	"saddr=\"192.0.2.1\",daddr=\"198.51.100.7\",sport=\"40000\",dport=\"443\",proto=\"tcp\""
#define FLOW2 "saddr=\"10.0.0.1\",daddr=\"10.0.0.2\",sport=\"53\",dport=\"5353\",proto=\"udp\""

#define FLOW3 "saddr=\"10.0.0.3\",daddr=\"10.0.0.4\",sport=\"123\",dport=\"123\",proto=\"udp\""
#define OVERFLOW                                                                                   \
	"saddr=\"__overflow__\",daddr=\"__overflow__\",sport=\"__overflow__\",dport=\"__overflow_" \
	"_"                                                                                        \
	"\",proto=\"__overflow__\""
#define FLOWS_VALUE(budget)                                                                        \
	"{'name': 'flow', 'map-name': 'flows4', 'open-metrics-metadata': {'type': 'gauge',"        \
	" 'help': 'F.', 'value-fields': ['packets', 'bytes'], 'key-labels': [{'field': "           \
	"'tcp_state', 'label': 'st'}, {'field': 'vlan', 'label': 'v'}], " budget "}}"

#define FLOWS_ONE(field, budget)                                                                   \
	"{'name': 'flow', 'map-name': 'flows4', 'open-metrics-metadata': {'type': 'gauge',"        \
	" 'help': 'F.', 'value-fields': ['" field "'], 'key-labels': [{'field': "                  \
	"'tcp_state', 'label': 'st'}, {'field': 'vlan', 'label': 'v'}], " budget "}}"

static const struct render_case render_cases[] = {
    {"top-k: the heaviest by the first family, the rest in one __overflow__ per family",
     three_flows, FLOWS_VALUE("'top-k': 2"), true,
     "# TYPE flow_packets gauge\n# HELP flow_packets F.\n"
     "flow_packets{" FLOW1 ",st=\"4\",v=\"0\",monitor=\"m\"} 10\n"
     "flow_packets{" FLOW3 ",st=\"0\",v=\"7\",monitor=\"m\"} 5\n"
     "flow_packets{" OVERFLOW ",st=\"__overflow__\",v=\"__overflow__\",monitor=\"m\"} 1\n"
     "# TYPE flow_bytes gauge\n# HELP flow_bytes F.\n"
     "flow_bytes{" FLOW1 ",st=\"4\",v=\"0\",monitor=\"m\"} 100\n"
     "flow_bytes{" FLOW3 ",st=\"0\",v=\"7\",monitor=\"m\"} 50\n"
     "flow_bytes{" OVERFLOW ",st=\"__overflow__\",v=\"__overflow__\",monitor=\"m\"} 1500\n"},
    {"top-k-by: the heaviest by the field named", three_flows,
     FLOWS_VALUE("'top-k': 1, 'top-k-by': 'bytes'"), false,
     "# TYPE flow_packets gauge\n# HELP flow_packets F.\n"
     "flow_packets{" FLOW2 ",st=\"0\",v=\"100\"} 1\n"
     "flow_packets{" OVERFLOW ",st=\"__overflow__\",v=\"__overflow__\"} 15\n"
     "# TYPE flow_bytes gauge\n# HELP flow_bytes F.\n"
     "flow_bytes{" FLOW2 ",st=\"0\",v=\"100\"} 1500\n"
     "flow_bytes{" OVERFLOW ",st=\"__overflow__\",v=\"__overflow__\"} 150\n"},
    {"max-series: the first entries in the map's order", three_flows,
     FLOWS_ONE("bytes", "'max-series': 1"), false,
     "# TYPE flow_bytes gauge\n# HELP flow_bytes F.\n"
     "flow_bytes{" FLOW1 ",st=\"4\",v=\"0\"} 100\n"
     "flow_bytes{" OVERFLOW ",st=\"__overflow__\",v=\"__overflow__\"} 1550\n"},
    {"max-series 0: no limit; a budget not reached folds nothing", three_flows,
     FLOWS_ONE("packets", "'max-series': 0"), false,
     "# TYPE flow_packets gauge\n# HELP flow_packets F.\n"
     "flow_packets{" FLOW1 ",st=\"4\",v=\"0\"} 10\n"
     "flow_packets{" FLOW2 ",st=\"0\",v=\"100\"} 1\n"
     "flow_packets{" FLOW3 ",st=\"0\",v=\"7\"} 5\n"},
    {"struct key and value: decoded labels, a family per field", two_flows,
     "{'name': 'flow_total', 'map-name': 'flows4', 'open-metrics-metadata': {'type': 'counter',"
     " 'help': 'Flows.', 'key-labels': [{'field': 'tcp_state', 'decoder': 'map',"
     " 'map': {'1': 'syn-sent', '4': 'established'}}]}}",
     false,
     "# TYPE flow_packets counter\n"
     "# HELP flow_packets Flows.\n"
     "flow_packets_total{" FLOW1 ",tcp_state=\"established\",vlan=\"0\"} 10\n"
     "flow_packets_total{" FLOW2 ",tcp_state=\"0\",vlan=\"100\"} 1\n"
     "# TYPE flow_bytes counter\n"
     "# HELP flow_bytes Flows.\n"
     "flow_bytes_total{" FLOW1 ",tcp_state=\"established\",vlan=\"0\"} 1500\n"
     "flow_bytes_total{" FLOW2 ",tcp_state=\"0\",vlan=\"100\"} 64\n"},
    {"value-fields, renamed labels, a unit, configured and extra labels", two_flows,
     "{'name': 'flow', 'map-name': 'flows4', 'open-metrics-metadata': {'type': 'gauge',"
     " 'help': 'Bytes per flow.', 'unit': 'bytes', 'value-fields': ['bytes'],"
     " 'labels': [{'name': 'zone', 'value': 'dmz'}],"
     " 'key-labels': [{'field': 'saddr', 'label': 'source'}, {'field': 'daddr', 'label':"
     " 'destination'}, {'field': 'vlan', 'decoder': 'hex'}, {'field': 'proto', 'decoder':"
     " 'number'}]}}",
     true,
     "# TYPE flow_bytes gauge\n"
     "# HELP flow_bytes Bytes per flow.\n"
     "# UNIT flow_bytes bytes\n"
     "flow_bytes{zone=\"dmz\",source=\"192.0.2.1\",destination=\"198.51.100.7\",sport=\"40000\","
     "dport=\"443\",proto=\"6\",tcp_state=\"4\",vlan=\"0x0\",monitor=\"m\"} 1500\n"
     "flow_bytes{zone=\"dmz\",source=\"10.0.0.1\",destination=\"10.0.0.2\",sport=\"53\","
     "dport=\"5353\",proto=\"17\",tcp_state=\"0\",vlan=\"0x64\",monitor=\"m\"} 64\n"},
    {"MAC addresses and interface names", l2_frames,
     "{'name': 'frames', 'map-name': 'l2', 'open-metrics-metadata': {'type': 'gauge', 'help':"
     " 'Frames.'}}",
     false,
     "# TYPE frames gauge\n"
     "# HELP frames Frames.\n"
     "frames{src_mac=\"02:00:00:00:00:01\",dst_mac=\"ff:ff:ff:ff:ff:ff\",ifindex=\"lo\"} 5\n"},
    {"IPv6, enum names, text; nested, array and float values; text is no sample", v6_conn,
     "{'name': 'conn', 'map-name': 'flows6', 'open-metrics-metadata': {'type': 'gauge', 'help':"
     " 'Connections.'}}",
     false,
     "# TYPE conn_packets gauge\n# HELP conn_packets Connections.\n"
     "conn_packets{src=\"2001:db8::1\",dst_addr=\"fe80::1\",state=\"CONN_ESTABLISHED\","
     "comm=\"curl\"} 3\n"
     "# TYPE conn_len_min gauge\n# HELP conn_len_min Connections.\n"
     "conn_len_min{src=\"2001:db8::1\",dst_addr=\"fe80::1\",state=\"CONN_ESTABLISHED\","
     "comm=\"curl\"} 60\n"
     "# TYPE conn_len_max gauge\n# HELP conn_len_max Connections.\n"
     "conn_len_max{src=\"2001:db8::1\",dst_addr=\"fe80::1\",state=\"CONN_ESTABLISHED\","
     "comm=\"curl\"} 1500\n"
     "# TYPE conn_retries_0 gauge\n# HELP conn_retries_0 Connections.\n"
     "conn_retries_0{src=\"2001:db8::1\",dst_addr=\"fe80::1\",state=\"CONN_ESTABLISHED\","
     "comm=\"curl\"} 1\n"
     "# TYPE conn_retries_1 gauge\n# HELP conn_retries_1 Connections.\n"
     "conn_retries_1{src=\"2001:db8::1\",dst_addr=\"fe80::1\",state=\"CONN_ESTABLISHED\","
     "comm=\"curl\"} 0\n"
     "# TYPE conn_rtt_avg gauge\n# HELP conn_rtt_avg Connections.\n"
     "conn_rtt_avg{src=\"2001:db8::1\",dst_addr=\"fe80::1\",state=\"CONN_ESTABLISHED\","
     "comm=\"curl\"} 0.25\n"
     "# TYPE conn_credit gauge\n# HELP conn_credit Connections.\n"
     "conn_credit{src=\"2001:db8::1\",dst_addr=\"fe80::1\",state=\"CONN_ESTABLISHED\","
     "comm=\"curl\"} -2\n"},
    {"nested key, anonymous union, bitfields; per-CPU values added up", nested_percpu,
     "{'name': 'nest', 'map-name': 'nested', 'open-metrics-metadata': {'type': 'counter',"
     " 'help': 'N.', 'value-fields': ['packets']}}",
     false,
     "# TYPE nest_packets counter\n"
     "# HELP nest_packets N.\n"
     "nest_packets_total{src_addr=\"192.0.2.9\",src_port=\"8080\",src_zone=\"3\",ifindex=\"lo\","
     "prio=\"5\",mark=\"4660\"} 3\n"},
    {"per-CPU values labelled by CPU", nested_percpu,
     "{'name': 'nest', 'map-name': 'nested', 'open-metrics-metadata': {'type': 'counter',"
     " 'help': 'N.', 'value-fields': ['bytes'], 'per-cpu': 'label', 'key-labels':"
     " [{'field': 'src', 'decoder': 'hex', 'label': 'source'}, {'field': 'mark', 'decoder':"
     " 'hex'}]}}",
     true,
     "# TYPE nest_bytes counter\n"
     "# HELP nest_bytes N.\n"
     "nest_bytes_total{source=\"0xc00002091f900300\",ifindex=\"lo\",prio=\"5\",mark=\"0x1234\","
     "cpu=\"0\",monitor=\"m\"} 100\n"
     "nest_bytes_total{source=\"0xc00002091f900300\",ifindex=\"lo\",prio=\"5\",mark=\"0x1234\","
     "cpu=\"1\",monitor=\"m\"} 200\n"},
    {"a __be32 key is a number, unless decoded as IPv4", talkers,
     "{'name': 'talker_packets', 'map-name': 'talkers', 'open-metrics-metadata': {'type':"
     " 'counter', 'help': 'T.'}}",
     false,
     "# TYPE talker_packets counter\n"
     "# HELP talker_packets T.\n"
     "talker_packets_total{key=\"3221225986\"} 6\n"
     "talker_packets_total{key=\"3221225987\"} 5\n"},
    {"a scalar key decoded as IPv4 and named", talkers,
     "{'name': 'talker_packets', 'map-name': 'talkers', 'open-metrics-metadata': {'type':"
     " 'counter', 'help': 'T.', 'key-labels': [{'label': 'source', 'decoder': 'ipv4'}]}}",
     false,
     "# TYPE talker_packets counter\n"
     "# HELP talker_packets T.\n"
     "talker_packets_total{source=\"192.0.2.2\"} 6\n"
     "talker_packets_total{source=\"192.0.2.3\"} 5\n"},
    {"an enum key by name, the number when it has none", by_state,
     "{'name': 'conns', 'map-name': 'by_state', 'open-metrics-metadata': {'type': 'gauge',"
     " 'help': 'C.'}}",
     false, "# TYPE conns gauge\n# HELP conns C.\nconns{key=\"CONN_NEW\"} 4\nconns{key=\"5\"} 1\n"},
    {"a text key, escaped", by_comm,
     "{'name': 'runs', 'map-name': 'by_comm', 'open-metrics-metadata': {'type': 'counter',"
     " 'help': 'R.', 'key-labels': [{'label': 'comm'}]}}",
     false,
     "# TYPE runs counter\n# HELP runs R.\nruns_total{comm=\"nginx\"} 7\n"
     "runs_total{comm=\"we\\\"ird\\\\\"} 1\n"},
    {"an array indexed by IP protocol", per_protocol,
     "{'name': 'ip_packets', 'map-name': 'log2_hist', 'open-metrics-metadata': {'type':"
     " 'counter', 'help': 'P.', 'key-labels': [{'label': 'proto', 'decoder': 'ip-protocol'}]}}",
     false,
     "# TYPE ip_packets counter\n# HELP ip_packets P.\n"
     "ip_packets_total{proto=\"0\"} 0\nip_packets_total{proto=\"icmp\"} 3\n"
     "ip_packets_total{proto=\"igmp\"} 0\nip_packets_total{proto=\"3\"} 0\n"
     "ip_packets_total{proto=\"ipip\"} 0\nip_packets_total{proto=\"5\"} 0\n"
     "ip_packets_total{proto=\"tcp\"} 7\n"},
    {"a queue of structs, by index", events,
     "{'name': 'ev', 'map-name': 'events', 'open-metrics-metadata': {'type': 'gauge', 'help':"
     " 'E.'}}",
     false,
     "# TYPE ev_packets gauge\n# HELP ev_packets E.\nev_packets{index=\"0\"} 1\n"
     "ev_packets{index=\"1\"} 2\n"
     "# TYPE ev_bytes gauge\n# HELP ev_bytes E.\nev_bytes{index=\"0\"} 60\n"
     "ev_bytes{index=\"1\"} 1000\n"},

    /* histograms */
    {"histogram: log2 buckets in an array", six_buckets,
     "{'name': 'sizes', 'map-name': 'log2_hist', 'open-metrics-metadata': {'type': 'histogram',"
     " 'help': 'Sizes.', 'histogram': {'layout': 'log2'}}}",
     false,
     "# TYPE sizes histogram\n# HELP sizes Sizes.\n"
     "sizes_bucket{le=\"1.0\"} 1\nsizes_bucket{le=\"3.0\"} 1\nsizes_bucket{le=\"7.0\"} 3\n"
     "sizes_bucket{le=\"15.0\"} 6\nsizes_bucket{le=\"31.0\"} 6\n"
     "sizes_bucket{le=\"+Inf\"} 7\n"},
    {"histogram: BCC's bpf_log2l() slots, fewer buckets", six_buckets,
     "{'name': 'sizes', 'map-name': 'log2_hist', 'open-metrics-metadata': {'type': 'histogram',"
     " 'help': 'Sizes.', 'histogram': {'layout': 'log2', 'offset': 1, 'buckets': 4}}}",
     true,
     "# TYPE sizes histogram\n# HELP sizes Sizes.\n"
     "sizes_bucket{monitor=\"m\",le=\"0.0\"} 1\nsizes_bucket{monitor=\"m\",le=\"1.0\"} 1\n"
     "sizes_bucket{monitor=\"m\",le=\"3.0\"} 3\nsizes_bucket{monitor=\"m\",le=\"+Inf\"} 7\n"},
    {"histogram: linear buckets", six_buckets,
     "{'name': 'sizes', 'map-name': 'log2_hist', 'open-metrics-metadata': {'type': 'histogram',"
     " 'help': 'Sizes.', 'histogram': {'layout': 'linear', 'start': 0, 'width': 100,"
     " 'buckets': 4}}}",
     false,
     "# TYPE sizes histogram\n# HELP sizes Sizes.\n"
     "sizes_bucket{le=\"99.0\"} 1\nsizes_bucket{le=\"199.0\"} 1\nsizes_bucket{le=\"299.0\"} 3\n"
     "sizes_bucket{le=\"+Inf\"} 7\n"},
    {"histogram: explicit bounds (examples/packet_sizes.json)", packet_sizes,
     "{'name': 'frame_bytes', 'map-name': 'log2_hist', 'open-metrics-metadata': {'type':"
     " 'histogram', 'help': 'Frames by size.', 'unit': 'bytes', 'labels': [{'name': 'dir',"
     " 'value': 'in'}], 'histogram': {'layout': 'explicit', 'bounds': [63, 127, 255, 511,"
     " 1023, 1499]}}}",
     false,
     "# TYPE frame_bytes histogram\n# HELP frame_bytes Frames by size.\n"
     "# UNIT frame_bytes bytes\n"
     "frame_bytes_bucket{dir=\"in\",le=\"63.0\"} 2\nframe_bytes_bucket{dir=\"in\",le=\"127.0\"} 5\n"
     "frame_bytes_bucket{dir=\"in\",le=\"255.0\"} 8\n"
     "frame_bytes_bucket{dir=\"in\",le=\"511.0\"} 12\n"
     "frame_bytes_bucket{dir=\"in\",le=\"1023.0\"} 17\n"
     "frame_bytes_bucket{dir=\"in\",le=\"1499.0\"} 23\n"
     "frame_bytes_bucket{dir=\"in\",le=\"+Inf\"} 30\n"},
    {"histogram: a hash keyed by bucket, beyond the last into +Inf", hash_buckets,
     "{'name': 'h', 'map-name': 'size_hist', 'open-metrics-metadata': {'type': 'histogram',"
     " 'help': 'H.', 'histogram': {'layout': 'explicit', 'bounds': [10, 100.5]}}}",
     false,
     "# TYPE h histogram\n# HELP h H.\n"
     "h_bucket{le=\"10.0\"} 2\nh_bucket{le=\"100.5\"} 6\nh_bucket{le=\"+Inf\"} 7\n"},
    {"histogram: an empty hash is a histogram of zeros", no_buckets,
     "{'name': 'h', 'map-name': 'size_hist', 'open-metrics-metadata': {'type': 'histogram',"
     " 'help': 'H.', 'histogram': {'layout': 'log2', 'buckets': 3}}}",
     false,
     "# TYPE h histogram\n# HELP h H.\n"
     "h_bucket{le=\"1.0\"} 0\nh_bucket{le=\"3.0\"} 0\nh_bucket{le=\"+Inf\"} 0\n"},
    {"histogram: buckets per interface, with counts and sums per bucket", slot_buckets,
     "{'name': 'latency', 'map-name': 'slot_hist', 'open-metrics-metadata': {'type':"
     " 'histogram', 'help': 'Latency.', 'histogram': {'layout': 'log2', 'buckets': 4,"
     " 'bucket-field': 'slot', 'count-field': 'count', 'sum-field': 'sum'}}}",
     false,
     "# TYPE latency histogram\n# HELP latency Latency.\n"
     "latency_bucket{ifindex=\"lo\",le=\"1.0\"} 2\n"
     "latency_bucket{ifindex=\"lo\",le=\"3.0\"} 2\n"
     "latency_bucket{ifindex=\"lo\",le=\"7.0\"} 5\n"
     "latency_bucket{ifindex=\"lo\",le=\"+Inf\"} 5\n"
     "latency_count{ifindex=\"lo\"} 5\n"
     "latency_sum{ifindex=\"lo\"} 16\n"
     "latency_bucket{ifindex=\"999999\",le=\"1.0\"} 1\n"
     "latency_bucket{ifindex=\"999999\",le=\"3.0\"} 1\n"
     "latency_bucket{ifindex=\"999999\",le=\"7.0\"} 1\n"
     "latency_bucket{ifindex=\"999999\",le=\"+Inf\"} 2\n"
     "latency_count{ifindex=\"999999\"} 2\n"
     "latency_sum{ifindex=\"999999\"} 10\n"},
    {"histogram: an array of buckets and a sum in each entry", latencies,
     "{'name': 'latency_seconds', 'map-name': 'latency', 'open-metrics-metadata': {'type':"
     " 'histogram', 'help': 'L.', 'unit': 'seconds', 'key-labels': [{'label': 'queue'}],"
     " 'histogram': {'layout': 'log2', 'buckets': 5, 'buckets-field': 'slots', 'sum-field':"
     " 'sum'}}}",
     true,
     "# TYPE latency_seconds histogram\n# HELP latency_seconds L.\n"
     "# UNIT latency_seconds seconds\n"
     "latency_seconds_bucket{queue=\"3\",monitor=\"m\",le=\"1.0\"} 0\n"
     "latency_seconds_bucket{queue=\"3\",monitor=\"m\",le=\"3.0\"} 1\n"
     "latency_seconds_bucket{queue=\"3\",monitor=\"m\",le=\"7.0\"} 3\n"
     "latency_seconds_bucket{queue=\"3\",monitor=\"m\",le=\"15.0\"} 3\n"
     "latency_seconds_bucket{queue=\"3\",monitor=\"m\",le=\"+Inf\"} 5\n"
     "latency_seconds_count{queue=\"3\",monitor=\"m\"} 5\n"
     "latency_seconds_sum{queue=\"3\",monitor=\"m\"} 300\n"},

    /* summaries */
    {"summary: count, sum and quantiles by field name, per CPU", rtts,
     "{'name': 'rtt', 'map-name': 'rtt', 'open-metrics-metadata': {'type': 'summary', 'help':"
     " 'Round trips.', 'per-cpu': 'label'}}",
     false,
     "# TYPE rtt summary\n# HELP rtt Round trips.\n"
     "rtt{cpu=\"0\",quantile=\"0.5\"} 20\nrtt{cpu=\"0\",quantile=\"0.99\"} 40\n"
     "rtt{cpu=\"0\",quantile=\"0.999\"} 41\nrtt_count{cpu=\"0\"} 4\nrtt_sum{cpu=\"0\"} 100\n"
     "rtt{cpu=\"1\",quantile=\"0.5\"} 7\nrtt{cpu=\"1\",quantile=\"0.99\"} 7\n"
     "rtt{cpu=\"1\",quantile=\"0.999\"} 7\nrtt_count{cpu=\"1\"} 1\nrtt_sum{cpu=\"1\"} 7\n"},
    {"summary: configured fields, CPUs added up", rtts,
     "{'name': 'rtt', 'map-name': 'rtt', 'open-metrics-metadata': {'type': 'summary', 'help':"
     " 'Round trips.', 'summary': {'count-field': 'count', 'sum-field': 'sum', 'quantiles':"
     " []}}}",
     true,
     "# TYPE rtt summary\n# HELP rtt Round trips.\n"
     "rtt_count{monitor=\"m\"} 5\nrtt_sum{monitor=\"m\"} 107\n"},
    {"summary: a configured quantile, the maximum as quantile 1", rtts,
     "{'name': 'rtt', 'map-name': 'rtt', 'open-metrics-metadata': {'type': 'summary', 'help':"
     " 'Round trips.', 'per-cpu': 'label', 'summary': {'quantiles': [{'quantile': 1, 'field':"
     " 'max'}]}}}",
     false,
     "# TYPE rtt summary\n# HELP rtt Round trips.\n"
     "rtt{cpu=\"0\",quantile=\"1.0\"} 50\nrtt_count{cpu=\"0\"} 4\nrtt_sum{cpu=\"0\"} 100\n"
     "rtt{cpu=\"1\",quantile=\"1.0\"} 7\nrtt_count{cpu=\"1\"} 1\nrtt_sum{cpu=\"1\"} 7\n"},
};

/* The same text rendered as dynmond does: into families, a hash map one entry at a time (as
 * chunks of dm_map_read_chunks() come) when the plan streams, any other map whole (it comes
 * as one chunk). */
static char *render_streamed(const struct dm_map_snapshot *s, const struct dm_metric_config *m,
			     const struct om_label *extra, size_t n_extra)
{
	_cleanup_(dm_export_freep) struct dm_export *x = NULL;
	_cleanup_(om_families_freep) struct om_families *fs = NULL;
	struct dm_export_types t = dm_export_types_of(s);
	struct om_text text = {};
	dm_error e = DM_ERROR_NULL;
	char *ret = NULL;
	bool chunks;

	/* A hash map that can hold what it holds, as the kernel's maps say (dynmond's plans know
	 * max_entries): the series budget then cannot fold, and the map streams. */
	if (dm_map_type_is_hash(s->type))
		t.max_entries = s->n_entries;
	assert_int_equal(dm_export_new(&t, m, &x, &e), 0);
	assert_int_equal(om_families_new(&fs), 0);
	chunks = dm_map_type_is_hash(s->type) && dm_export_streams(x);
	for (size_t i = 0; i < (chunks ? s->n_entries : 1); i++) {
		struct dm_map_snapshot chunk = *s;

		if (chunks) {
			chunk.n_entries = 1;
			chunk.keys = (char *)s->keys + i * s->key_size;
			chunk.values = (char *)s->values + i * s->n_cpus * s->value_stride;
		}
		assert_int_equal(dm_export_render(x, &chunk, extra, n_extra, fs, &e), 0);
	}
	assert_int_equal(om_families_take(fs, OM_FLAVOR_OPENMETRICS, false, &text), 0);
	assert_int_equal(om_text_take_string(&text, &ret, NULL), 0);
	return ret;
}

static void test_render(void **state)
{
	const struct render_case *c = *state;
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = c->build();
	_cleanup_(dm_config_freep) struct dm_config *config = config_of(c->metric);
	_cleanup_free_ char *text = NULL, *document = NULL, *streamed = NULL;
	dm_error e = DM_ERROR_NULL;
	int r;

	r = render(s, &config->paths[0].metrics[0], c->monitor ? monitor : NULL, c->monitor, &text,
		   &e);
	if (r < 0)
		fail_msg("%s: %s", strerror(-r), strempty(e.message));
	if (!streq(text, c->expected))
		fail_msg("\n--- got\n%s--- expected\n%s", text, c->expected);
	streamed = render_streamed(s, &config->paths[0].metrics[0], c->monitor ? monitor : NULL,
				   c->monitor);
	if (!streq(streamed, text))
		fail_msg("streamed:\n--- got\n%s--- expected\n%s", streamed, text);
	document = strdup_printf("%s# EOF\n", text);
	om_check_document(document);
}

/* ---- the series budget at scale: totals stay exact */

/* `n` flows, flow i with i + 1 packets and 64 (i + 1) bytes, keys all different. */
static struct dm_map_snapshot *many_flows(size_t n)
{
	struct dm_map_snapshot *s = snap("flows4", n, 1);

	for (size_t i = 0; i < n; i++) {
		*KEY(s, i, struct flow4_key) =
		    (struct flow4_key){htonl(0x0a000000 | (uint32_t)(i >> 16)),
				       htonl(0xc0a80001),
				       htons(i & 0xffff),
				       htons(443),
				       6,
				       0,
				       0};
		*VALUE(s, i, 0, struct flow_stats) = (struct flow_stats){i + 1, 64 * (i + 1)};
	}
	return s;
}

struct family_sum {
	size_t samples, overflow;
	uint64_t sum, overflow_value, smallest_kept;
};

/* Adds up the samples of `sample` in `text`, the overflow apart. */
static struct family_sum sum_family(const char *text, const char *sample)
{
	struct family_sum f = {.smallest_kept = UINT64_MAX};
	size_t n = strlen(sample);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *end = strchr(p, '\n'), *value;
		uint64_t v;

		if (strncmp(p, sample, n) != 0 || p[n] != '{')
			continue;
		value = memrchr(p, ' ', end - p) + 1;
		v = strtoull(value, NULL, 10);
		f.samples++;
		f.sum += v;
		if (memmem(p, end - p, "__overflow__", 12)) {
			f.overflow++;
			f.overflow_value = v;
		} else if (v < f.smallest_kept) {
			f.smallest_kept = v;
		}
	}
	return f;
}

/* The case: a 1,000,000-entry flow map with top-k 100 is 100 flows and one overflow
 * per family, the totals those of the map, the kept ones the heaviest. */
static void test_budget_top_k_million(void **state)
{
	const size_t n = 1000000;
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = many_flows(n);
	_cleanup_(dm_config_freep) struct dm_config *config = config_of(
	    "{'name': 'flows_total', 'map-name': 'flows4', 'open-metrics-metadata': {'type': "
	    "'counter', 'help': 'F.', 'top-k': 100}}");
	const struct dm_metric_config *m = &config->paths[0].metrics[0];
	_cleanup_free_ char *text = NULL;
	struct family_sum packets, bytes;
	dm_error e = DM_ERROR_NULL;
	size_t folded = 0;

	assert_int_equal(render(s, m, monitor, 1, &text, &e), 0);
	packets = sum_family(text, "flows_packets_total");
	bytes = sum_family(text, "flows_bytes_total");
	assert_int_equal(packets.samples, 101);
	assert_int_equal(packets.overflow, 1);
	assert_int_equal(bytes.samples, 101);
	assert_int_equal(packets.sum, (uint64_t)n * (n + 1) / 2); /* the map's own sums */
	assert_int_equal(bytes.sum, 64 * ((uint64_t)n * (n + 1) / 2));
	assert_int_equal(packets.smallest_kept, n - 99); /* the 100 heaviest */
	assert_int_equal(packets.overflow_value, (uint64_t)(n - 100) * (n - 99) / 2);
	assert_true(dm_export_folded(m, &folded));
	assert_int_equal(folded, n - 100);
	dm_export_forget(m);
	(void)state;
}

/* With no budget set, the default caps a large map, and says how much it folded. */
static void test_budget_default(void **state)
{
	const size_t n = DM_DEFAULT_MAX_SERIES + 5;
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = many_flows(n);
	_cleanup_(dm_config_freep) struct dm_config *config = config_of(
	    "{'name': 'flows_total', 'map-name': 'flows4', 'open-metrics-metadata': {'type': "
	    "'counter', 'help': 'F.', 'value-fields': ['packets']}}");
	const struct dm_metric_config *m = &config->paths[0].metrics[0];
	_cleanup_free_ char *text = NULL;
	struct family_sum packets;
	dm_error e = DM_ERROR_NULL;
	size_t folded = 0;

	assert_int_equal(render(s, m, NULL, 0, &text, &e), 0);
	packets = sum_family(text, "flows_packets_total");
	assert_int_equal(packets.samples, DM_DEFAULT_MAX_SERIES + 1);
	assert_int_equal(packets.sum, (uint64_t)n * (n + 1) / 2);
	/* the first ones in the map's order are kept: the last five fold */
	assert_int_equal(packets.overflow_value, 5 * (uint64_t)n - 10);
	assert_true(dm_export_folded(m, &folded));
	assert_int_equal(folded, 5);
	dm_export_forget(m);
	(void)state;
}

/* Streaming a hash map a chunk at a time skips the series budget's choice of what to fold: it
 * streams only when the budget cannot fold anything. */
static void test_budget_streams(void **state)
{
	static const struct {
		const char *budget;
		uint32_t max_entries;
		bool streams;
	} cases[] = {
	    {"", 10000, true},			  /* the default budget holds the whole map */
	    {"", 10001, false},			  /* it may fold */
	    {"", 0, false},			  /* a capacity not known */
	    {", 'max-series': 0", 1000000, true}, /* no budget */
	    {", 'max-series': 5", 5, true},
	    {", 'max-series': 5", 6, false},
	    {", 'top-k': 100", 100, true},
	    {", 'top-k': 100", 1000000, false},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = many_flows(1);
		_cleanup_free_ char *metric = NULL;
		_cleanup_(dm_config_freep) struct dm_config *config = NULL;
		_cleanup_(dm_export_freep) struct dm_export *x = NULL;
		struct dm_export_types t = dm_export_types_of(s);
		dm_error e = DM_ERROR_NULL;

		assert_true(asprintf(&metric,
				     "{'name': 'flows_total', 'map-name': 'flows4', "
				     "'open-metrics-metadata': {'type': 'counter', 'help': 'F.', "
				     "'value-fields': ['packets']%s}}",
				     cases[i].budget) > 0);
		config = config_of(metric);
		t.max_entries = cases[i].max_entries;
		assert_int_equal(dm_export_new(&t, &config->paths[0].metrics[0], &x, &e), 0);
		if (dm_export_streams(x) != cases[i].streams)
			fail_msg("budget \"%s\", max_entries %u: streams %d", cases[i].budget,
				 cases[i].max_entries, !cases[i].streams);
	}
	(void)state;
}

/* ---- what cannot be exported, and what the operator is told */

struct refusal {
	const char *map;
	const char *metric; /* the open-metrics-metadata object */
	const char *message;
};

#define FLOWS4 "flows4"

static const struct refusal refusals[] = {
    {FLOWS4, "{'type': 'gauge', 'key-labels': [{'field': 'sadr'}]}",
     "Metric \"m\": the key has no field \"sadr\" (struct flow4_key: saddr, daddr, sport, "
     "dport, proto, tcp_state, vlan)"},
    {FLOWS4, "{'type': 'gauge', 'key-labels': [{'field': 'saddr.x'}]}",
     "the key has no field \"saddr.x\""},
    {FLOWS4, "{'type': 'gauge', 'key-labels': [{'field': 'proto', 'decoder': 'ipv4'}]}",
     "Metric \"m\": decoder ipv4 needs a 4-byte field, and key field \"proto\" is not one"},
    {FLOWS4, "{'type': 'gauge', 'key-labels': [{'field': 'saddr', 'decoder': 'enum'}]}",
     "decoder enum needs an enum, and key field \"saddr\" is not one"},
    {FLOWS4, "{'type': 'gauge', 'key-labels': [{'label': 'k'}]}",
     "key-labels[0] names no field, but the key is a struct"},
    {FLOWS4, "{'type': 'gauge', 'key-labels': [{'field': 'saddr', 'label': 'vlan'}]}",
     "two key fields make label \"vlan\": rename one in key-labels"},
    {FLOWS4, "{'type': 'gauge', 'labels': [{'name': 'proto', 'value': 'x'}]}",
     "label \"proto\" is configured and from the key too"},
    {FLOWS4, "{'type': 'gauge', 'value-fields': ['bites']}",
     "the value has no field \"bites\" (struct flow_stats: packets, bytes)"},
    {FLOWS4, "{'type': 'gauge', 'per-cpu': 'sum'}", "per-cpu: map flows4 is not a per-CPU map"},
    {FLOWS4, "{'type': 'gauge', 'top-k': 10, 'top-k-by': 'bites'}",
     "Metric \"m\": the value has no field \"bites\" (struct flow_stats: packets, bytes)"},
    {"log2_hist", "{'type': 'counter', 'top-k': 10}",
     "Metric \"m\": top-k ranks the entries of a hash map of counters or gauges"},
    {FLOWS4, "{'type': 'gauge', 'unit': 'seconds'}",
     "family \"m_packets\" does not end in \"_seconds\""},
    {FLOWS4, "{'type': 'summary'}", "the value has no field \"count\""},
    {"flows6", "{'type': 'gauge', 'value-fields': ['tag']}", "value field \"tag\" holds no number"},
    {"nested", "{'type': 'gauge', 'key-labels': [{'field': 'src', 'label': 's'}]}",
     "key field \"src\" is a struct or array: give it a decoder (hex)"},
    {"nested",
     "{'type': 'gauge', 'key-labels': [{'field': 'src', 'decoder': 'hex'},"
     " {'field': 'src.addr', 'decoder': 'ipv4'}]}",
     "key field \"src.addr\" lies in a field that is one label already"},
    {"l2", "{'type': 'gauge', 'value-fields': ['x']}",
     "value-fields: the value is a number, not a struct"},
    {"l2", "{'type': 'gauge', 'key-labels': [{'field': 'src_mac', 'decoder': 'port'}]}",
     "decoder port needs a 2-byte integer, and key field \"src_mac\" is not one"},
    {"talkers", "{'type': 'gauge', 'key-labels': [{'field': 'x'}]}",
     "key-labels[0] names field \"x\", but the key is no struct"},
    {"talkers", "{'type': 'gauge', 'key-labels': [{'decoder': 'mac'}]}",
     "decoder mac needs a 6-byte field, and the key is not one"},
    {"events", "{'type': 'gauge', 'key-labels': [{'label': 'i'}]}",
     "key-labels: a queue or stack has no key"},
    {"events", "{'type': 'histogram', 'histogram': {'layout': 'log2'}}",
     "the entries of a queue or stack are no buckets"},
    {"slot_hist", "{'type': 'histogram', 'histogram': {'layout': 'log2', 'buckets': 4}}",
     "the key is no bucket number: name the key field holding it (histogram.bucket-field)"},
    {"slot_hist",
     "{'type': 'histogram', 'histogram': {'layout': 'log2', 'buckets': 4,"
     " 'bucket-field': 'slot'}}",
     "the value is a struct: name the field holding a bucket's count (histogram.count-field)"},
    {"slot_hist",
     "{'type': 'histogram', 'histogram': {'layout': 'log2', 'buckets': 4,"
     " 'bucket-field': 'slott', 'count-field': 'count'}}",
     "the key has no field \"slott\" (struct slot_key: ifindex, slot)"},
    {"slot_hist",
     "{'type': 'histogram', 'key-labels': [{'field': 'slot'}], 'histogram':"
     " {'layout': 'log2', 'buckets': 4, 'bucket-field': 'slot', 'count-field':"
     " 'count'}}",
     "key field \"slot\" is the histogram's bucket, no label"},
    {"size_hist", "{'type': 'histogram', 'histogram': {'layout': 'log2'}}",
     "a hash of buckets needs their number (histogram.buckets)"},
    {"size_hist",
     "{'type': 'histogram', 'key-labels': [{'label': 'b'}], 'histogram':"
     " {'layout': 'log2', 'buckets': 3}}",
     "key-labels: the entries are the histogram's buckets, no labels"},
    {"size_hist",
     "{'type': 'histogram', 'histogram': {'layout': 'log2', 'buckets': 3,"
     " 'count-field': 'n'}}",
     "histogram.count-field: the value is a number, not a struct"},
    {"log2_hist", "{'type': 'histogram', 'histogram': {'layout': 'log2', 'bucket-field': 'b'}}",
     "histogram.bucket-field needs a hash with a struct key"},
    {"latency",
     "{'type': 'histogram', 'histogram': {'layout': 'log2', 'buckets-field':"
     " 'sum'}}",
     "value field \"sum\" is no array of integer bucket counts"},
    {"latency",
     "{'type': 'histogram', 'histogram': {'layout': 'log2', 'buckets-field':"
     " 'slots', 'sum-field': 'total'}}",
     "the value has no field \"total\" (struct latency_hist: slots, sum)"},
    {"rtt", "{'type': 'summary'}",
     "quantiles of different CPUs cannot be added up: set \"per-cpu\": \"label\""},
    {"rtt", "{'type': 'summary', 'summary': {'sum-field': 'p50x'}}",
     "the value has no field \"p50x\""},
    {"l2", "{'type': 'summary'}", "needs a struct value, and the value is none"},
};

/* A check as injection makes it, on the maps of the object as opened. */
static void test_refusal(void **state)
{
	const struct refusal *c = *state;
	_cleanup_free_ char *metric = strdup_printf(
	    "{'name': 'm', 'map-name': '%s', 'open-metrics-metadata': %s}", c->map, c->metric);
	_cleanup_(dm_config_freep) struct dm_config *config = config_of(metric);
	struct bpf_map *map = bpf_object__find_map_by_name(obj, c->map);
	dm_error e = DM_ERROR_NULL;
	int r;

	assert_non_null(map);
	r = dm_metric_check_map(map, btf, &config->paths[0].metrics[0], &e);
	if (r != -EBADMSG)
		fail_msg("%s: got %d (%s), wanted -EBADMSG", metric, r, strempty(e.message));
	if (!strstr(e.message, c->message))
		fail_msg("%s:\n got message   \"%s\"\n wanted a part \"%s\"", metric, e.message,
			 c->message);
	dm_error_done(&e);
}

/* What every render case configures passes the same check. */
static void test_render_cases_pass_the_check(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(render_cases); i++) {
		_cleanup_(dm_config_freep) struct dm_config *c = config_of(render_cases[i].metric);
		const struct dm_metric_config *m = &c->paths[0].metrics[0];
		dm_error e = DM_ERROR_NULL;

		if (dm_metric_check_map(bpf_object__find_map_by_name(obj, m->map_name), btf, m,
					&e) < 0)
			fail_msg("%s: %s", render_cases[i].name, e.message);
	}
}

static void test_check_exportable(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c =
	    config_of("{'name': 'm', 'map-name': 'M', 'open-metrics-metadata': {'type': 'gauge',"
		      " 'key-labels': [{'field': 'proto', 'decoder': 'mac'}]}}");
	const struct dm_metric_config *m = &c->paths[0].metrics[0];
	uint32_t key = btf__find_by_name(btf, "flow4_key");
	uint32_t value = btf__find_by_name(btf, "flow_stats");
	dm_error e = DM_ERROR_NULL;

	assert_int_equal(dm_metric_check_exportable(btf, key, value, BPF_MAP_TYPE_HASH, m, &e),
			 -EBADMSG);
	assert_non_null(strstr(e.message, "decoder mac needs a 6-byte field"));
	dm_error_done(&e);
	assert_int_equal(dm_metric_check_exportable(btf, key, value, BPF_MAP_TYPE_RINGBUF, m, &e),
			 -EOPNOTSUPP);
	assert_non_null(strstr(e.message, "a map of type ringbuf has no OpenMetrics shape"));
	dm_error_done(&e);
	/* Without BTF there is nothing to check: numbers go by their size. */
	assert_int_equal(dm_metric_check_exportable(NULL, 0, 0, BPF_MAP_TYPE_HASH, m, &e), 0);
	assert_null(e.message);
}

/* A snapshot that does not fit the plan, and extra labels that clash with the samples'. */
static void test_write_errors(void **state)
{
	_cleanup_(dm_config_freep) struct dm_config *c =
	    config_of("{'name': 'f', 'map-name': 'flows4', 'open-metrics-metadata': {'type':"
		      " 'gauge', 'labels': [{'name': 'zone', 'value': 'a'}]}}");
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *flows = two_flows(),
								*l2 = l2_frames();
	_cleanup_(dm_export_freep) struct dm_export *x = NULL;
	struct dm_export_types t = dm_export_types_of(flows);
	static const struct om_label clash[][1] = {{{"zone", "b"}}, {{"saddr", "b"}}};
	dm_error e = DM_ERROR_NULL;

	assert_int_equal(dm_export_new(&t, &c->paths[0].metrics[0], &x, &e), 0);
	assert_int_equal(dm_export_write(x, l2, NULL, 0, stdout, &e), -EINVAL);
	assert_non_null(strstr(e.message, "does not fit the plan"));
	dm_error_done(&e);
	for (size_t i = 0; i < ELEMENTSOF(clash); i++) {
		assert_int_equal(dm_export_write(x, flows, clash[i], 1, stdout, &e), -EINVAL);
		assert_non_null(strstr(e.message, "have a label"));
		dm_error_done(&e);
	}
	assert_true(dm_export_has_label(x, "vlan"));
	assert_false(dm_export_has_label(x, "cpu"));
}

/* ---- a dataplane's metrics together */

/* Paths and their metrics' snapshots, handed out by the source callback. */
struct source {
	struct dm_map_snapshot *(*build[_DM_PATH_MAX][4])(void);
	bool absent[_DM_PATH_MAX];
};

static int source(enum dm_path p, size_t i, struct dm_map_snapshot **ret, dm_error *error,
		  void *userdata)
{
	struct source *s = userdata;

	*ret = s->absent[p] ? NULL : s->build[p][i]();
	return 0;
}

static struct dm_map_snapshot *one_packet_count(void)
{
	struct dm_map_snapshot *s = snap("log2_hist", 1, 1);

	*VALUE(s, 0, 0, __u64) = 3;
	return s;
}

static struct dm_map_snapshot *another_packet_count(void)
{
	struct dm_map_snapshot *s = snap("log2_hist", 1, 1);

	*VALUE(s, 0, 0, __u64) = 4;
	return s;
}

#define ARRAY_METRIC(name, type, labels)                                                           \
	"{'name': '" name "', 'map-name': 'log2_hist', 'open-metrics-metadata': {'type': '" type   \
	"', 'help': 'H.', 'labels': [" labels "]}}"

struct dataplane_case {
	const char *name;
	const char *ingress, *egress; /* metric-configs */
	struct source source;
	const char *expected;
	const char *error;
};

static const struct dataplane_case dataplane_cases[] = {
    {"both paths export a family: one family, told apart by path",
     ARRAY_METRIC("packets_total", "counter", "") "," ARRAY_METRIC("drops", "gauge", ""),
     ARRAY_METRIC("packets", "counter", ""),
     {{{one_packet_count, one_packet_count}, {another_packet_count}}},
     "# TYPE packets counter\n# HELP packets H.\n"
     "packets_total{path=\"ingress\",monitor=\"m\"} 3\n"
     "packets_total{path=\"egress\",monitor=\"m\"} 4\n"
     "# TYPE drops gauge\n# HELP drops H.\ndrops{monitor=\"m\"} 3\n"},
    {"both paths export struct values: each family once, both paths in it",
     "{'name': 'flow', 'map-name': 'flows4', 'open-metrics-metadata': {'type': 'counter',"
     " 'help': 'F.', 'key-labels': [{'field': 'saddr', 'label': 'src', 'decoder': 'hex'}]}}",
     "{'name': 'flow_total', 'map-name': 'flows4', 'open-metrics-metadata': {'type': 'counter',"
     " 'help': 'Other help.', 'value-fields': ['bytes'], 'key-labels': [{'field': 'saddr',"
     " 'label': 'src', 'decoder': 'hex'}]}}",
     {{{two_flows}, {two_flows}}},
     "# TYPE flow_packets counter\n# HELP flow_packets F.\n"
     "flow_packets_total{src=\"0xc0000201\",daddr=\"198.51.100.7\",sport=\"40000\","
     "dport=\"443\",proto=\"tcp\",tcp_state=\"4\",vlan=\"0\",path=\"ingress\",monitor=\"m\"} 10\n"
     "flow_packets_total{src=\"0xa000001\",daddr=\"10.0.0.2\",sport=\"53\",dport=\"5353\","
     "proto=\"udp\",tcp_state=\"0\",vlan=\"100\",path=\"ingress\",monitor=\"m\"} 1\n"
     "# TYPE flow_bytes counter\n# HELP flow_bytes F.\n"
     "flow_bytes_total{src=\"0xc0000201\",daddr=\"198.51.100.7\",sport=\"40000\","
     "dport=\"443\",proto=\"tcp\",tcp_state=\"4\",vlan=\"0\",path=\"ingress\",monitor=\"m\"} "
     "1500\n"
     "flow_bytes_total{src=\"0xa000001\",daddr=\"10.0.0.2\",sport=\"53\",dport=\"5353\","
     "proto=\"udp\",tcp_state=\"0\",vlan=\"100\",path=\"ingress\",monitor=\"m\"} 64\n"
     "flow_bytes_total{src=\"0xc0000201\",daddr=\"198.51.100.7\",sport=\"40000\","
     "dport=\"443\",proto=\"tcp\",tcp_state=\"4\",vlan=\"0\",path=\"egress\",monitor=\"m\"} "
     "1500\n"
     "flow_bytes_total{src=\"0xa000001\",daddr=\"10.0.0.2\",sport=\"53\",dport=\"5353\","
     "proto=\"udp\",tcp_state=\"0\",vlan=\"100\",path=\"egress\",monitor=\"m\"} 64\n"},
    {"both paths export a family with their own labels: no path label",
     ARRAY_METRIC("packets_total", "counter", "{'name': 'dir', 'value': 'in'}"),
     ARRAY_METRIC("packets_total", "counter", "{'name': 'dir', 'value': 'out'}"),
     {{{one_packet_count}, {another_packet_count}}},
     "# TYPE packets counter\n# HELP packets H.\n"
     "packets_total{dir=\"in\",monitor=\"m\"} 3\npackets_total{dir=\"out\",monitor=\"m\"} 4\n"},
    {"families of their own: as each metric writes them",
     ARRAY_METRIC("in_packets", "counter", ""),
     ARRAY_METRIC("out_packets", "counter", ""),
     {{{one_packet_count}, {another_packet_count}}},
     "# TYPE in_packets counter\n# HELP in_packets H.\nin_packets_total{monitor=\"m\"} 3\n"
     "# TYPE out_packets counter\n# HELP out_packets H.\nout_packets_total{monitor=\"m\"} 4\n"},
    {"a path without its program is left out",
     ARRAY_METRIC("packets", "counter", ""),
     ARRAY_METRIC("packets", "counter", ""),
     {{{one_packet_count}, {another_packet_count}}, {false, true}},
     "# TYPE packets counter\n# HELP packets H.\npackets_total{monitor=\"m\"} 3\n"},
    /* A family of two types by name alone is refused when parsed (test-config); through a
     * struct's field, when read. */
    {"one family of two types is refused",
     "{'name': 'flow', 'map-name': 'flows4', 'open-metrics-metadata': {'type': 'gauge'}}",
     ARRAY_METRIC("flow_bytes", "counter", ""),
     {{{two_flows}, {another_packet_count}}},
     NULL,
     "Metrics \"flow\" (ingress) and \"flow_bytes\" (egress) both export family flow_bytes, as "
     "a gauge and as a counter."},
    {"one path making a family twice is refused",
     "{'name': 'flow', 'map-name': 'flows4', 'open-metrics-metadata': {'type': 'gauge'}},"
     " {'name': 'flow_bytes', 'map-name': 'log2_hist', 'open-metrics-metadata': {'type':"
     " 'gauge'}}",
     "",
     {{{two_flows, one_packet_count}}},
     NULL,
     "Metrics \"flow\" and \"flow_bytes\" of the ingress path both export family flow_bytes "
     "with the same labels: rename one."},
    {"a metric that cannot be exported says so",
     "{'name': 'flow', 'map-name': 'flows4', 'open-metrics-metadata': {'type': 'gauge',"
     " 'key-labels': [{'field': 'nope'}]}}",
     "",
     {{{two_flows}}},
     NULL,
     "Metric \"flow\": the key has no field \"nope\""},
};

static void test_dataplane(void **state)
{
	const struct dataplane_case *c = *state;
	_cleanup_free_ char *doc = strdup_printf(
	    "{'ingress-path': {'code': 'c', 'metric-configs': [%s]}, 'egress-path': {%s%s%s}}",
	    c->ingress, *c->egress ? "'code': 'c', 'metric-configs': [" : "", c->egress,
	    *c->egress ? "]" : "");
	_cleanup_free_ char *text = dq(doc), *out = NULL, *document = NULL;
	_cleanup_(dm_config_freep) struct dm_config *config = NULL;
	struct source src = c->source;
	dm_error e = DM_ERROR_NULL;
	size_t size = 0;
	FILE *f;
	int r;

	if (dm_config_parse(text, &config, &e) < 0)
		fail_msg("%s: %s", text, e.message);
	f = open_memstream(&out, &size);
	assert_non_null(f);
	r = dm_config_write_openmetrics(f, config, source, &src, monitor, 1, &e);
	assert_int_equal(fclose(f), 0);
	if (c->error) {
		if (r != -EBADMSG || !e.message || !strstr(e.message, c->error))
			fail_msg("got %d (%s), wanted -EBADMSG (%s)", r, strempty(e.message),
				 c->error);
		dm_error_done(&e);
		return;
	}
	if (r < 0)
		fail_msg("%s: %s", strerror(-r), strempty(e.message));
	if (!streq(out, c->expected))
		fail_msg("\n--- got\n%s--- expected\n%s", out, c->expected);
	document = strdup_printf("%s# EOF\n", out);
	om_check_document(document);
}

/* ---- pieces */

static void test_histogram_bounds(void **state)
{
	static const double bounds[] = {0.5, 10, 1e6};
	static const struct {
		struct dm_histogram_config h;
		uint32_t available, n;
		double expected[6];
	} cases[] = {
	    {{.layout = DM_HISTOGRAM_LOG2}, 6, 6, {1, 3, 7, 15, 31}},
	    {{.layout = DM_HISTOGRAM_LOG2, .offset = 1}, 4, 4, {0, 1, 3}},
	    {{.layout = DM_HISTOGRAM_LOG2, .n_buckets = 3}, 64, 3, {1, 3}},
	    {{.layout = DM_HISTOGRAM_LOG2}, 100, 65, {1, 3, 7}},
	    {{.layout = DM_HISTOGRAM_LINEAR, .start = 10, .width = 5}, 4, 4, {14, 19, 24}},
	    {{.layout = DM_HISTOGRAM_LINEAR, .start = -10, .width = 10}, 3, 3, {-1, 9}},
	    {{.layout = DM_HISTOGRAM_EXPLICIT, .bounds = (double *)bounds, .n_bounds = 3},
	     2,
	     4,
	     {0.5, 10, 1e6}},
	    {{.layout = DM_HISTOGRAM_LOG2}, 0, 0, {}},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint32_t n = dm_histogram_n_buckets(&cases[i].h, cases[i].available);
		double got[80] = {};

		assert_int_equal(n, cases[i].n);
		dm_histogram_bounds(&cases[i].h, n, got);
		for (uint32_t b = 0; b + 1 < n && b < 5; b++)
			if (got[b] != cases[i].expected[b] && cases[i].expected[b] != 0)
				fail_msg("case %zu bucket %u: %g, expected %g", i, b, got[b],
					 cases[i].expected[b]);
	}
	/* The last finite log2 bound: 2^64 - 1, as close as a double gets. */
	double got[65];
	dm_histogram_bounds(&(struct dm_histogram_config){.layout = DM_HISTOGRAM_LOG2}, 65, got);
	assert_true(got[63] == 18446744073709551615.0);
}

/* The fields of a key as BTF places them, bitfields and anonymous members included. */
static void test_fields(void **state)
{
	struct dm_field key, f;
	struct nested_key k = {.src = {.port = htons(8080)}, .prio = 9, .mark = 0xfffffff};
	struct dm_number n;

	assert_int_equal(dm_field_of_type(btf, btf__find_by_name(btf, "nested_key"), &key), 0);
	assert_int_equal(key.kind, DM_FIELD_STRUCT);
	assert_int_equal(key.size, sizeof(struct nested_key));
	assert_int_equal(dm_field_member(&key, "src.port", &f), 0);
	assert_true(f.be);
	assert_int_equal(f.bit_offset, 8 * offsetof(struct nested_key, src.port));
	assert_int_equal(dm_field_bits(&f, &k), 8080);
	assert_int_equal(dm_field_member(&key, "ifindex", &f), 0); /* in an anonymous union */
	assert_int_equal(dm_field_member(&key, "mark", &f), 0);
	assert_int_equal(f.bits, 28);
	dm_field_number(&f, &k, &n);
	assert_int_equal(n.u, 0xfffffff);
	assert_int_equal(dm_field_member(&key, "prio", &f), 0);
	assert_int_equal(dm_field_bits(&f, &k), 9);
	assert_int_equal(dm_field_member(&key, "src.nope", &f), -ENOENT);
	assert_int_equal(dm_field_member(&key, "prio.x", &f), -ENOTDIR);
	assert_string_equal(dm_field_type_name(&key), "nested_key");
}

/* ---- */

static int group_setup(void **state)
{
	obj = bpf_object__open_file(OM_TYPES_OBJ, NULL);
	if (!obj)
		return -1;
	btf = bpf_object__btf(obj);
	return btf ? 0 : -1;
}

static int group_teardown(void **state)
{
	bpf_object__close(obj);
	return 0;
}

#define ADD_ROWS(tests, n, table, func, name_of)                                                   \
	for (size_t _i = 0; _i < ELEMENTSOF(table); _i++)                                          \
		(tests)[(n)++] = (struct CMUnitTest)                                               \
		{                                                                                  \
			name_of(&(table)[_i]), func, NULL, NULL, (void *)&(table)[_i]              \
		}

static const char *render_name(const struct render_case *c)
{
	return c->name;
}

static const char *refusal_name(const struct refusal *c)
{
	return c->message;
}

static const char *dataplane_name(const struct dataplane_case *c)
{
	return c->name;
}

int main(void)
{
	struct CMUnitTest tests[ELEMENTSOF(render_cases) + ELEMENTSOF(refusals) +
				ELEMENTSOF(dataplane_cases) + 10];
	size_t n = 0;

	ADD_ROWS(tests, n, render_cases, test_render, render_name);
	ADD_ROWS(tests, n, refusals, test_refusal, refusal_name);
	ADD_ROWS(tests, n, dataplane_cases, test_dataplane, dataplane_name);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_render_cases_pass_the_check);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_check_exportable);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_write_errors);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_histogram_bounds);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_fields);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_budget_top_k_million);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_budget_default);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_budget_streams);
	return _cmocka_run_group_tests("export", tests, n, group_setup, group_teardown);
}
