/* SPDX-License-Identifier: Apache-2.0 */
/* Exporting a large hash map: a flow table (export-map.h: 5-tuple key, packets and bytes) of
 * --entries elements (1,000,000), filled from user space, then read and exported in one run,
 * the variants interleaved round after round:
 *
 *   read            dm_map_snapshot_read(): the raw batch read, into one snapshot
 *   json            what dynmond does for Metrics now: read a chunk at a time, each streamed
 *                   into one string (dm_map_read_chunks + dm_snapshot_write_json_entries)
 *   json-null       the same into /dev/null through a FILE
 *   json-snapshot   a whole snapshot first, then streamed into /dev/null
 *   json-tree       the jansson path it replaced: snapshot, dm_snapshot_to_json (now the tests'
 *                   oracle, tests/oracle/snapshot-tree.c), json_dumps
 *   openmetrics-stream  what dynmond does for a monitor's OpenMetrics now: the plan made
 *                   once, the map read a chunk at a time, each chunk rendered into its
 *                   families' texts (dm_export_render), the document made one string
 *   openmetrics     snapshot, then dm_snapshot_write_openmetrics into a memstream, as dynmond
 *                   rendered a monitor's document before (the text the stream must equal)
 *   openmetrics-null  the same into /dev/null
 *   bpftool         `bpftool map dump -j id N > /dev/null`, wall time from fork to exit
 *
 * Then each variant once more in a child process of its own (this program run again with
 * --child), for its peak memory: the growth of VmHWM over VmRSS (reset through
 * /proc/self/clear_refs), against the size of a snapshot. bpftool's is its whole peak RSS
 * (ru_maxrss), next to that of `bpftool version`.
 *
 *   bench-export [--entries N] [--rounds R] [--bpftool PATH] [--object PATH]
 *
 * Prints Markdown tables. Needs root (BPF). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <endian.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "config.h"
#include "export-map.h"
#include "jsonw.h"
#include "maps.h"
#include "export-metrics.h"
#include "snapshot-json.h"
#include "snapshot-tree.h"
#include "stats.h"
#include "util.h"

struct bench {
	struct bpf_object *obj;
	struct bpf_map *map;
	const struct btf *btf;
	struct dm_config *config; /* the metric's OpenMetrics metadata */
	uint32_t map_id;
	size_t entries;
	const char *bpftool;
};

/* Runs one export; the bytes it wrote in *ret_bytes. */
typedef int (*export_fn)(struct bench *b, size_t *ret_bytes);

static int snapshot(struct bench *b, struct dm_map_snapshot **ret)
{
	return dm_map_snapshot_read(b->map, b->btf, false, ret);
}

static int export_read(struct bench *b, size_t *ret_bytes)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = NULL;

	*ret_bytes = 0;
	return snapshot(b, &s);
}

static int write_chunk(const struct dm_map_snapshot *chunk, void *userdata)
{
	return dm_snapshot_write_json_entries(userdata, chunk, false);
}

/* Into `w`, a chunk at a time: as dm_readout_write_json() writes a hash map's value. */
static int chunked(struct bench *b, struct jsonw *w)
{
	int r;

	jsonw_begin_array(w);
	r = dm_map_read_chunks(b->map, b->btf, false, write_chunk, w);
	jsonw_end_array(w);
	return r < 0 ? r : jsonw_flush(w);
}

static int export_json(struct bench *b, size_t *ret_bytes)
{
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	r = jsonw_new(NULL, &w);
	if (r >= 0)
		r = chunked(b, w);
	if (r >= 0)
		r = jsonw_take_string(w, &text, ret_bytes);
	return r;
}

static int export_json_null(struct bench *b, size_t *ret_bytes)
{
	_cleanup_fclose_ FILE *f = fopen("/dev/null", "we");
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	int r;

	if (!f)
		return -errno;
	r = jsonw_new(f, &w);
	if (r >= 0)
		r = chunked(b, w);
	*ret_bytes = w ? jsonw_size(w) : 0;
	return r;
}

static int export_json_snapshot(struct bench *b, size_t *ret_bytes)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = NULL;
	_cleanup_fclose_ FILE *f = fopen("/dev/null", "we");
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	int r;

	if (!f)
		return -errno;
	r = snapshot(b, &s);
	if (r >= 0)
		r = jsonw_new(f, &w);
	if (r >= 0)
		r = dm_snapshot_write_json(w, s, false);
	if (r >= 0)
		r = jsonw_flush(w);
	*ret_bytes = w ? jsonw_size(w) : 0;
	return r;
}

static int export_json_tree(struct bench *b, size_t *ret_bytes)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = NULL;
	_cleanup_free_ char *text = NULL;
	json_auto_t *tree = NULL;
	int r;

	r = snapshot(b, &s);
	if (r >= 0)
		r = dm_snapshot_to_json(s, false, &tree);
	if (r < 0)
		return r;
	text = json_dumps(tree, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	*ret_bytes = strlen(text);
	return 0;
}

/* A snapshot, then its OpenMetrics families into `f`. */
static int openmetrics(struct bench *b, FILE *f)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = NULL;
	const struct dm_metric_config *m = &b->config->paths[DM_PATH_INGRESS].metrics[0];
	int r;

	r = snapshot(b, &s);
	if (r >= 0)
		r = dm_snapshot_write_openmetrics(f, s, m, NULL, 0);
	if (fflush(f) != 0 && r >= 0)
		r = -errno;
	return r;
}

static int export_openmetrics(struct bench *b, size_t *ret_bytes)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	int r;

	if (!f)
		return -ENOMEM;
	r = openmetrics(b, f);
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	*ret_bytes = size;
	return r;
}

struct om_stream {
	const struct dm_export *plan;
	struct om_families *fs;
};

static int render_chunk(const struct dm_map_snapshot *chunk, void *userdata)
{
	struct om_stream *st = userdata;
	dm_error e = DM_ERROR_NULL;
	int r = dm_export_render(st->plan, chunk, NULL, 0, st->fs, &e);

	dm_error_done(&e);
	return r;
}

/* As core/readout.c renders a metric and core/monitor.c makes the document (without "# EOF",
 * as dm_snapshot_write_openmetrics() writes none). */
static int openmetrics_stream(struct bench *b, char **ret, size_t *ret_bytes)
{
	const struct dm_metric_config *m = &b->config->paths[DM_PATH_INGRESS].metrics[0];
	struct dm_export_types t = dm_export_types_of_map(b->map, b->btf);
	_cleanup_(dm_export_freep) struct dm_export *plan = NULL;
	struct om_stream st = {};
	struct om_text text = {};
	dm_error e = DM_ERROR_NULL;
	int r;

	r = dm_export_new(&t, m, &plan, &e);
	dm_error_done(&e);
	if (r >= 0)
		r = om_families_new(&st.fs);
	st.plan = plan;
	if (r >= 0)
		r = dm_map_read_chunks(b->map, NULL, false, render_chunk, &st);
	if (r >= 0)
		r = om_families_take(st.fs, OM_FLAVOR_OPENMETRICS, false, &text);
	if (r >= 0)
		r = om_text_take_string(&text, ret, ret_bytes);
	om_text_done(&text);
	om_families_free(st.fs);
	return r;
}

static int export_openmetrics_stream(struct bench *b, size_t *ret_bytes)
{
	_cleanup_free_ char *text = NULL;

	return openmetrics_stream(b, &text, ret_bytes);
}

/* /dev/null that counts what it is given. */
static ssize_t count_write(void *cookie, const char *buf, size_t size)
{
	*(size_t *)cookie += size;
	return size;
}

static int export_openmetrics_null(struct bench *b, size_t *ret_bytes)
{
	_cleanup_fclose_ FILE *f = NULL;

	*ret_bytes = 0;
	f = fopencookie(ret_bytes, "w", (cookie_io_functions_t){.write = count_write});
	return f ? openmetrics(b, f) : -errno;
}

/* ---- bpftool -------------------------------------------------------------------------------- */

/* `bpftool map dump -j id N` with its output into `out_fd`; its rusage in *ret_usage. */
static int run_bpftool(struct bench *b, const char *verb, int out_fd, struct rusage *ret_usage)
{
	char id[16];
	int status;
	pid_t pid;

	snprintf(id, sizeof(id), "%" PRIu32, b->map_id);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(out_fd, STDOUT_FILENO);
		if (streq(verb, "version"))
			execlp(b->bpftool, b->bpftool, "version", (char *)NULL);
		else
			execlp(b->bpftool, b->bpftool, "map", "dump", "-j", "id", id, (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &status, 0, ret_usage) < 0)
		return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPROTO;
}

static int export_bpftool(struct bench *b, size_t *ret_bytes)
{
	_cleanup_close_ int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct rusage usage;

	*ret_bytes = 0;
	return null < 0 ? -errno : run_bpftool(b, "dump", null, &usage);
}

static const struct variant {
	const char *name;
	const char *what;
	export_fn run;
	bool holds_text; /* the output ends in memory, not in /dev/null */
} variants[] = {
    {"read", "raw batch read (`dm_map_snapshot_read`)", export_read, false},
    {"json", "**JSON, streamed, chunked read → one string** (dynmond now)", export_json, true},
    {"json-null", "JSON, streamed, chunked read → /dev/null", export_json_null, false},
    {"json-snapshot", "JSON, streamed from a whole snapshot → /dev/null", export_json_snapshot,
     false},
    {"json-tree", "JSON, jansson tree + `json_dumps` (dynmond before)", export_json_tree, true},
    {"openmetrics-stream",
     "**OpenMetrics, streamed, chunked read → families → one string** (dynmond now)",
     export_openmetrics_stream, true},
    {"openmetrics", "OpenMetrics, `dm_snapshot_write_openmetrics` → memstream (dynmond before)",
     export_openmetrics, true},
    {"openmetrics-null", "OpenMetrics, `dm_snapshot_write_openmetrics` → /dev/null",
     export_openmetrics_null, false},
    {"bpftool", "`bpftool map dump -j id N > /dev/null`", export_bpftool, false},
};

static const struct variant *variant_find(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(variants); i++)
		if (streq(variants[i].name, name))
			return &variants[i];
	return NULL;
}

/* ---- The map -------------------------------------------------------------------------------- */

/* Flow `k`: addresses that make every key unique, a spread of ports and counts. Only the
 * fields are set: the padding after `proto` stays as calloc left it, zero, as the kernel
 * compares whole keys. */
static void flow(size_t k, struct flow_key *key, struct flow_stats *value)
{
	key->saddr = htobe32(0x0a000000 | (uint32_t)(k >> 8));
	key->daddr = htobe32(0xc0a80000 | (uint32_t)(k & 0xff));
	key->sport = htobe16(1024 + k % 60000);
	key->dport = htobe16(k % 2 ? 443 : 80);
	key->proto = k % 3 ? 6 : 17;
	value->packets = 1 + (k * 2654435761u) % 100000;
	value->bytes = value->packets * (64 + k % 1400);
}

static int fill_map(struct bench *b)
{
	enum { BATCH = 65536 };
	_cleanup_free_ struct flow_key *keys = calloc(BATCH, sizeof(*keys));
	_cleanup_free_ struct flow_stats *values = calloc(BATCH, sizeof(*values));
	int r;

	if (!keys || !values)
		return -ENOMEM;
	for (size_t at = 0; at < b->entries; at += BATCH) {
		uint32_t n = b->entries - at < BATCH ? b->entries - at : BATCH;

		for (uint32_t i = 0; i < n; i++)
			flow(at + i, &keys[i], &values[i]);
		r = bpf_map_update_batch(bpf_map__fd(b->map), keys, values, &n, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The OpenMetrics metadata of a "flows" metric, as a user would configure it, with no series
 * budget (every entry a series: what is timed), and the same with "top-k": 100 (checked). */
static const char config_text[] =
    "{\"ingress-path\": {\"name\": \"bench\", \"code\": \"unused\", \"metric-configs\": [{"
    "\"name\": \"flows\", \"map-name\": \"flows\", \"open-metrics-metadata\": {"
    "\"help\": \"Packets and bytes per flow.\", \"type\": \"counter\", \"labels\": [],"
    " \"max-series\": 0}}, {"
    "\"name\": \"top\", \"map-name\": \"flows\", \"open-metrics-metadata\": {"
    "\"help\": \"The heaviest flows.\", \"type\": \"counter\", \"labels\": [],"
    " \"top-k\": 100}}]}, \"egress-path\": {}}";

/* Loads the object: its map new and sized, or (`map_id` set) the existing one reused. */
static int bench_open(struct bench *b, const char *object, uint32_t map_id)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	dm_error e = DM_ERROR_NULL;
	_cleanup_close_ int fd = -1;
	int r;

	b->obj = bpf_object__open_file(object, NULL);
	if (!b->obj)
		return -errno;
	b->map = bpf_object__find_map_by_name(b->obj, "flows");
	if (!b->map)
		return -ENOENT;
	r = map_id ? (fd = bpf_map_get_fd_by_id(map_id)) : 0;
	if (r >= 0)
		r = map_id ? bpf_map__reuse_fd(b->map, fd)
			   : bpf_map__set_max_entries(b->map, b->entries);
	if (r >= 0)
		r = bpf_object__load(b->obj);
	if (r >= 0)
		r = bpf_obj_get_info_by_fd(bpf_map__fd(b->map), &info, &len);
	if (r < 0)
		return r;
	b->map_id = info.id;
	b->btf = bpf_object__btf(b->obj);
	r = dm_config_parse(config_text, &b->config, &e);
	if (r < 0)
		fprintf(stderr, "bench-export: the metric's configuration: %s\n", e.message);
	dm_error_done(&e);
	return r;
}

static void bench_done(struct bench *b)
{
	dm_config_free(b->config);
	bpf_object__close(b->obj);
}

/* ---- Memory, in a process of its own -------------------------------------------------------- */

struct memory {
	long growth_kb; /* bpftool: its whole peak RSS */
	size_t bytes;
};

/* A "Vm...:  N kB" line of /proc/self/status. */
static long status_kb(const char *field)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':')
			kb = strtol(line + strlen(field) + 1, NULL, 10);
	return kb;
}

/* bpftool's peak RSS and its output's size (into a memfd, not a pipe nobody reads). */
static int measure_bpftool(struct bench *b, const char *verb, struct memory *ret)
{
	_cleanup_close_ int fd = memfd_create("bpftool-out", MFD_CLOEXEC);
	struct rusage usage;
	struct stat st;
	int r;

	if (fd < 0)
		return -errno;
	r = run_bpftool(b, verb, fd, &usage);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;
	*ret = (struct memory){usage.ru_maxrss, st.st_size};
	return 0;
}

/* --child: one export, then "GROWTH_KB BYTES": the peak resident memory it added. bpftool's is
 * its own peak, measured from here: a process forked from the big one that times would have
 * that one's peak in its ru_maxrss, which exec keeps. */
static int child(struct bench *b, const char *name)
{
	const struct variant *v = variant_find(name);
	_cleanup_fclose_ FILE *clear = fopen("/proc/self/clear_refs", "we");
	size_t bytes = 0;
	long rss;
	int r;

	struct memory m = {};

	if (streq(name, "bpftool-version") || (v && v->run == export_bpftool)) {
		r = measure_bpftool(b, v ? "dump" : "version", &m);
		if (r >= 0)
			printf("%ld %zu\n", m.growth_kb, m.bytes);
		return r;
	}
	if (!v || !clear)
		return v ? -errno : -EINVAL;
	/* "5" resets VmHWM to the current VmRSS (Linux 4.0). */
	if (fputs("5", clear) < 0 || fflush(clear) != 0)
		return -errno;
	rss = status_kb("VmRSS");
	r = v->run(b, &bytes);
	if (r < 0)
		return r;
	printf("%ld %zu\n", status_kb("VmHWM") - rss, bytes);
	return 0;
}

static int measure_child(struct bench *b, const char *object, const char *name, struct memory *ret)
{
	char id[16], entries[32], out[128] = "";
	_cleanup_fclose_ FILE *f = NULL;
	int fds[2], status;
	pid_t pid;

	snprintf(id, sizeof(id), "%" PRIu32, b->map_id);
	snprintf(entries, sizeof(entries), "%zu", b->entries);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execl("/proc/self/exe", "bench-export", "--child", name, "--map-id", id,
		      "--entries", entries, "--object", object, (char *)NULL);
		_exit(127);
	}
	if (pid < 0) {
		int r = -errno;

		close(fds[0]);
		close(fds[1]);
		return r;
	}
	close(fds[1]);
	f = fdopen(fds[0], "re");
	if (!f)
		return -errno;
	if (!fgets(out, sizeof(out), f)) /* the child's stdout stays open until it ends */
		out[0] = '\0';
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EPROTO;
	return sscanf(out, "%ld %zu", &ret->growth_kb, &ret->bytes) == 2 ? 0 : -EPROTO;
}

/* ---- Timing --------------------------------------------------------------------------------- */

struct result {
	struct samples ms;
	size_t bytes;
	struct memory memory;
};

/* Rounds of every variant, in an order turned by one each round: slow drift of a shared machine
 * falls on all of them alike. */
static int time_rounds(struct bench *b, unsigned rounds, struct result *res)
{
	const size_t n = ELEMENTSOF(variants);
	int r;

	for (unsigned round = 0; round < rounds; round++)
		for (size_t k = 0; k < n; k++) {
			const struct variant *v = &variants[(k + round) % n];
			struct result *x = &res[v - variants];
			uint64_t t0 = bench_now_ns();

			r = v->run(b, &x->bytes);
			if (r < 0) {
				fprintf(stderr, "bench-export: %s: %s\n", v->name, strerror(-r));
				return r;
			}
			r = samples_add(&x->ms, (double)(bench_now_ns() - t0) / 1e6);
			if (r < 0)
				return r;
		}
	return 0;
}

/* The start of the OpenMetrics text: its first two entries. */
static int print_openmetrics_sample(struct bench *b, const struct dm_map_snapshot *s)
{
	struct dm_map_snapshot two = *s;
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	int r;

	if (!f)
		return -ENOMEM;
	two.n_entries = 2;
	r = dm_snapshot_write_openmetrics(f, &two, &b->config->paths[DM_PATH_INGRESS].metrics[0],
					  NULL, 0);
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	printf("\nThe OpenMetrics text of its first two entries:\n\n");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		printf("    %s\n", line);
	return 0;
}

/* The streamed text is the tree's, byte for byte (no u64 here is above INT64_MAX). */
static int check_same_text(struct bench *b)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = NULL;
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	_cleanup_free_ char *streamed = NULL, *dumped = NULL;
	json_auto_t *tree = NULL;
	int r;

	r = jsonw_new(NULL, &w);
	if (r >= 0)
		r = chunked(b, w);
	if (r >= 0)
		r = jsonw_take_string(w, &streamed, NULL);
	if (r >= 0)
		r = snapshot(b, &s);
	if (r >= 0)
		r = dm_snapshot_to_json(s, false, &tree);
	if (r < 0)
		return r;
	dumped = json_dumps(tree, JSON_COMPACT);
	if (!dumped)
		return -ENOMEM;
	printf("The streamed JSON (chunked read) and json_dumps() of the jansson tree are %s "
	       "(%zu and %zu bytes). It begins:\n\n    %.*s...\n",
	       streq(streamed, dumped) ? "identical, byte for byte" : "**DIFFERENT**",
	       strlen(streamed), strlen(dumped), (int)(strstr(streamed, "}},") + 3 - streamed),
	       streamed);
	if (!streq(streamed, dumped))
		return -EBADMSG;
	return print_openmetrics_sample(b, s);
}

/* Adds up the samples of `sample` in `text`: how many, their sum, how many are __overflow__. */
static void sum_samples(const char *text, const char *sample, size_t *n, uint64_t *sum,
			size_t *overflow)
{
	size_t len = strlen(sample);

	*n = *overflow = 0;
	*sum = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *end = strchrnul(p, '\n');

		if (strncmp(p, sample, len) != 0 || p[len] != '{')
			continue;
		(*n)++;
		*sum += strtoull(memrchr(p, ' ', end - p) + 1, NULL, 10);
		*overflow += memmem(p, end - p, "__overflow__", 12) != NULL;
	}
}

/* The series budget on the real map: "top-k": 100 gives 100 flows and one __overflow__ per
 * family, whose totals are the map's. */
static int check_top_k(struct bench *b)
{
	_cleanup_(dm_map_snapshot_freep) struct dm_map_snapshot *s = NULL;
	_cleanup_free_ char *text = NULL;
	uint64_t packets = 0, bytes = 0, got_packets, got_bytes, t0;
	size_t size = 0, n_packets, n_bytes, over_packets, over_bytes;
	FILE *f;
	int r;

	r = snapshot(b, &s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < s->n_entries; i++) {
		const struct flow_stats *v = dm_map_snapshot_value(s, i, 0);

		packets += v->packets;
		bytes += v->bytes;
	}
	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	t0 = bench_now_ns();
	r = dm_snapshot_write_openmetrics(f, s, &b->config->paths[DM_PATH_INGRESS].metrics[1], NULL,
					  0);
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	t0 = bench_now_ns() - t0;
	sum_samples(text, "top_packets_total", &n_packets, &got_packets, &over_packets);
	sum_samples(text, "top_bytes_total", &n_bytes, &got_bytes, &over_bytes);
	printf("\nThe series budget on this map, \"top-k\": 100: %zu + %zu samples (%zu of them "
	       "__overflow__), %zu bytes of text, rendered in %.0f ms from the snapshot; totals "
	       "%" PRIu64 " packets and %" PRIu64 " bytes, the map's %s (%" PRIu64 " and %" PRIu64
	       ").\n",
	       n_packets, n_bytes, over_packets + over_bytes, size, (double)t0 / 1e6, got_packets,
	       got_bytes, got_packets == packets && got_bytes == bytes ? "exactly" : "**NOT**",
	       packets, bytes);
	if (n_packets != 101 || n_bytes != 101 || over_packets != 1 || over_bytes != 1 ||
	    got_packets != packets || got_bytes != bytes)
		return -EBADMSG;
	return 0;
}

/* The same for OpenMetrics: the streamed text is the whole snapshot's. */
static int check_same_openmetrics(struct bench *b)
{
	_cleanup_free_ char *streamed = NULL, *whole = NULL;
	size_t size = 0;
	FILE *f;
	int r;

	r = openmetrics_stream(b, &streamed, NULL);
	if (r < 0)
		return r;
	f = open_memstream(&whole, &size);
	if (!f)
		return -ENOMEM;
	r = openmetrics(b, f);
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	printf("\nThe streamed OpenMetrics (chunked read, rendered into the families) and "
	       "dm_snapshot_write_openmetrics() of a whole snapshot are %s (%zu and %zu bytes).\n",
	       streq(streamed, whole) ? "identical, byte for byte" : "**DIFFERENT**",
	       strlen(streamed), strlen(whole));
	return streq(streamed, whole) ? 0 : -EBADMSG;
}

static double mib(double bytes)
{
	return bytes / (1024.0 * 1024.0);
}

static void print_times(const struct bench *b, const struct result *res, unsigned rounds)
{
	double read = samples_quantile(&res[0].ms, 0.5);
	double bpftool = samples_quantile(&res[ELEMENTSOF(variants) - 1].ms, 0.5);

	printf("\n| export (%zu entries, %u rounds) | median ms | min – max ms | M entries/s "
	       "| ÷ raw read | bpftool ÷ it | output MiB |\n",
	       b->entries, rounds);
	printf("|---|---:|---:|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < ELEMENTSOF(variants); i++) {
		double m = samples_quantile(&res[i].ms, 0.5);

		printf("| %s | %.0f | %.0f – %.0f | %.2f | %.2f | %.1f | %.1f |\n",
		       variants[i].what, m, samples_quantile(&res[i].ms, 0),
		       samples_quantile(&res[i].ms, 1), b->entries / m / 1e3, m / read, bpftool / m,
		       mib(res[i].memory.bytes));
	}
}

static void print_memory(const struct bench *b, const struct result *res,
			 const struct memory *bpftool_base)
{
	double snap =
	    (double)b->entries * (bpf_map__key_size(b->map) + bpf_map__value_size(b->map));

	printf("\nPeak memory, each in a process of its own; a snapshot of the map is %.1f MiB "
	       "(%zu × %u bytes).\n",
	       mib(snap), b->entries, bpf_map__key_size(b->map) + bpf_map__value_size(b->map));
	printf("\n| export | peak RSS growth MiB | the text it keeps MiB | the rest MiB "
	       "| the rest ÷ snapshot |\n");
	printf("|---|---:|---:|---:|---:|\n");
	for (size_t i = 0; i < ELEMENTSOF(variants); i++) {
		const struct memory *m = &res[i].memory;
		bool whole = i == ELEMENTSOF(variants) - 1; /* bpftool: its whole process */
		double growth = m->growth_kb * 1024.0;
		double text = variants[i].holds_text ? (double)m->bytes : 0;

		printf("| %s%s | %.1f | %.1f | %.1f | %.2f |\n", variants[i].what,
		       whole ? " (whole process, ru_maxrss)" : "", mib(growth), mib(text),
		       mib(growth - text), (growth - text) / snap);
	}
	printf("\n`bpftool version` alone peaks at %.1f MiB.\n",
	       mib(bpftool_base->growth_kb * 1024.0));
}

static int measure_all(struct bench *b, const char *object, struct result *res,
		       struct memory *bpftool_base)
{
	int r;

	for (size_t i = 0; i < ELEMENTSOF(variants); i++) {
		r = measure_child(b, object, variants[i].name, &res[i].memory);
		if (r < 0) {
			fprintf(stderr, "bench-export: memory of %s: %s\n", variants[i].name,
				strerror(-r));
			return r;
		}
	}
	return measure_child(b, object, "bpftool-version", bpftool_base);
}

static int run(struct bench *b, const char *object, unsigned rounds)
{
	struct result res[ELEMENTSOF(variants)] = {};
	struct memory bpftool_base;
	uint64_t t0 = bench_now_ns();
	int r;

	r = fill_map(b);
	if (r < 0)
		return r;
	printf("Filled %zu entries with bpf_map_update_batch in %.0f ms.\n", b->entries,
	       (double)(bench_now_ns() - t0) / 1e6);
	r = check_same_text(b);
	if (r >= 0 && b->entries > 100)
		r = check_top_k(b);
	if (r >= 0)
		r = check_same_openmetrics(b);
	if (r >= 0)
		r = time_rounds(b, rounds, res);
	if (r >= 0)
		r = measure_all(b, object, res, &bpftool_base);
	if (r >= 0) {
		print_times(b, res, rounds);
		print_memory(b, res, &bpftool_base);
	}
	for (size_t i = 0; i < ELEMENTSOF(variants); i++)
		samples_done(&res[i].ms);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"entries", required_argument, NULL, 'n'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"bpftool", required_argument, NULL, 'b'},
	    {"object", required_argument, NULL, 'o'},
	    {"child", required_argument, NULL, 'c'},
	    {"map-id", required_argument, NULL, 'm'},
	    {},
	};
	struct bench b = {.entries = 1000000, .bpftool = "bpftool"};
	const char *object = EXPORT_MAP_OBJ, *child_variant = NULL;
	unsigned rounds = 5;
	uint32_t map_id = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
		switch (c) {
		case 'n':
			b.entries = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			b.bpftool = optarg;
			break;
		case 'o':
			object = optarg;
			break;
		case 'c':
			child_variant = optarg;
			break;
		case 'm':
			map_id = strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	if (b.entries == 0 || rounds == 0 || (child_variant && !map_id)) {
		fprintf(stderr, "bench-export: bad arguments\n");
		return 2;
	}

	r = bench_open(&b, object, child_variant ? map_id : 0);
	if (r < 0)
		fprintf(stderr, "bench-export: cannot load %s: %s\n", object, strerror(-r));
	else if (child_variant)
		r = child(&b, child_variant);
	else
		r = run(&b, object, rounds);
	if (r < 0 && child_variant)
		fprintf(stderr, "bench-export --child %s: %s\n", child_variant, strerror(-r));
	bench_done(&b);
	return r < 0 ? 1 : 0;
}
