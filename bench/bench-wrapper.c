/* SPDX-License-Identifier: Apache-2.0 */
/* What dynmon's Polycube wrapper and swap-on-read's pivot cost per packet. The translation of
 * Polycube code appends an entry program (DM_POLYCUBE_ENTRY in bpf/include/polycube.h) that
 * builds struct pkt_metadata, calls the user's handle_rx() and maps its verdict. Each pair below
 * is one piece of counting logic written twice: bare, as a SEC("tc") program in the libbpf
 * dialect, and wrapped, as a Polycube handle_rx(). Both are built as dynmond builds them
 * (bench/program.c). Swap-on-read puts the pivot of bpf/pivot.bpf.c on the hook, which
 * tail-calls the wrapped program through a PROG_ARRAY with a constant index: the "swapped"
 * variant is that pivot, loaded from dynmond's own skeleton, with a copy of the wrapped program
 * in its slot 0. The "variable" variant is the same pivot reading the index from a map, the
 * design swap-on-read avoids. The kernel runs every variant on the same packet with
 * BPF_PROG_TEST_RUN, in interleaved rounds; the difference of each round's pair is the cost of
 * the wrapper (wrapped - bare) or of the pivot (swapped - wrapped). Needs root. See
 * docs/PERFORMANCE.md. */
#include <bpf/bpf.h>
#include <getopt.h>
#include <linux/pkt_cls.h>
#include <sys/utsname.h>

#include "build-config.h"
#include "pivot.skel.h"
#include "program.h"
#include "stats.h"

#define ROUNDS_DEFAULT 31
#define REPEAT_DEFAULT 1000000

/* ---- The programs ---- */

static const char bare_pass[] = "#include <dynmon.h>\n"
				"SEC(\"tc\") int pass(struct __sk_buff *skb)\n"
				"{\n"
				"	return DYNMON_PASS;\n"
				"}\n"
				"char LICENSE[] SEC(\"license\") = \"GPL\";\n";

static const char wrapped_pass[] =
    "static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md)\n"
    "{\n"
    "	return RX_OK;\n"
    "}\n";

/* examples/packet_counter.json's logic, in the Polycube dialect. */
static const char wrapped_atomic[] =
    "BPF_ARRAY(PKT_COUNTER, u64, 1);\n"
    "static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md)\n"
    "{\n"
    "	u32 key = 0;\n"
    "	u64 *counter = PKT_COUNTER.lookup(&key);\n"
    "	if (counter)\n"
    "		__sync_fetch_and_add(counter, 1);\n"
    "	return RX_OK;\n"
    "}\n";

/* The upstream v1.1 packet counter's logic (a plain +=), in the libbpf dialect. */
static const char bare_plain[] = "#include <dynmon.h>\n"
				 "struct {\n"
				 "	__uint(type, BPF_MAP_TYPE_ARRAY);\n"
				 "	__type(key, __u32);\n"
				 "	__type(value, __u64);\n"
				 "	__uint(max_entries, 1);\n"
				 "} PKT_COUNTER SEC(\".maps\");\n"
				 "SEC(\"tc\") int count_packets(struct __sk_buff *skb)\n"
				 "{\n"
				 "	__u32 key = 0;\n"
				 "	__u64 *counter = bpf_map_lookup_elem(&PKT_COUNTER, &key);\n"
				 "	if (!counter)\n"
				 "		return DYNMON_PASS;\n"
				 "	*counter += 1;\n"
				 "	return DYNMON_PASS;\n"
				 "}\n"
				 "char LICENSE[] SEC(\"license\") = \"GPL\";\n";

/* A handle_rx() that reads pkt_metadata and can drop: the wrapper's metadata and verdict
 * mapping are not constant here. */
static const char wrapped_bytes[] =
    "BPF_ARRAY(BYTES, u64, 1);\n"
    "static __always_inline int handle_rx(struct CTXTYPE *ctx, struct pkt_metadata *md)\n"
    "{\n"
    "	u32 key = 0;\n"
    "	u64 *bytes = BYTES.lookup(&key);\n"
    "	if (bytes)\n"
    "		__sync_fetch_and_add(bytes, md->packet_len);\n"
    "	return md->packet_len > 1514 ? RX_DROP : RX_OK;\n"
    "}\n";

static const char bare_bytes[] = "#include <dynmon.h>\n"
				 "struct {\n"
				 "	__uint(type, BPF_MAP_TYPE_ARRAY);\n"
				 "	__type(key, __u32);\n"
				 "	__type(value, __u64);\n"
				 "	__uint(max_entries, 1);\n"
				 "} BYTES SEC(\".maps\");\n"
				 "SEC(\"tc\") int count_bytes(struct __sk_buff *skb)\n"
				 "{\n"
				 "	__u32 key = 0;\n"
				 "	__u64 *bytes = bpf_map_lookup_elem(&BYTES, &key);\n"
				 "	if (bytes)\n"
				 "		__sync_fetch_and_add(bytes, skb->len);\n"
				 "	return skb->len > 1514 ? DYNMON_DROP : DYNMON_PASS;\n"
				 "}\n"
				 "char LICENSE[] SEC(\"license\") = \"GPL\";\n";

/* Ethernet, IPv4, UDP: 64 bytes, what a counter sees most on a busy link. */
/* clang-format off */
static const uint8_t packet[64] = {
	0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x00,		/* Ethernet */
	0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,	/* IPv4 */
	0x13, 0x88, 0x13, 0x89, 0, 30, 0, 0,					/* UDP */
};
/* clang-format on */

/* bpf/pivot.bpf.c's tc program with the index read from a map instead of a constant: the
 * verifier cannot see the slot, so the JIT emits the generic tail call (bounds check, load of
 * the program pointer, indirect jump) instead of a patched direct jump. */
static const char pivot_variable[] =
    "#include <dynmon.h>\n"
    "struct {\n"
    "	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);\n"
    "	__uint(max_entries, 1);\n"
    "	__type(key, __u32);\n"
    "	__type(value, __u32);\n"
    "} dm_progs SEC(\".maps\");\n"
    "struct {\n"
    "	__uint(type, BPF_MAP_TYPE_ARRAY);\n"
    "	__uint(max_entries, 1);\n"
    "	__type(key, __u32);\n"
    "	__type(value, __u32);\n"
    "} dm_slot SEC(\".maps\");\n"
    "SEC(\"tc\") int dm_pivot_var(struct __sk_buff *skb)\n"
    "{\n"
    "	__u32 key = 0, *slot = bpf_map_lookup_elem(&dm_slot, &key);\n"
    "	if (slot)\n"
    "		bpf_tail_call(skb, &dm_progs, *slot);\n"
    "	return DYNMON_PASS;\n"
    "}\n"
    "char LICENSE[] SEC(\"license\") = \"GPL\";\n";

/* Code given here, or the ingress code of a configuration file under the source tree. */
struct source {
	const char *code;
	const char *file;
};

enum variant {
	BARE,
	WRAPPED,
	SWAPPED,  /* bpf/pivot.bpf.c, a copy of WRAPPED in its slot 0 */
	VARIABLE, /* pivot_variable above, a copy of WRAPPED in its slot 0 */
	_VARIANT_MAX,
};

static const char *const variant_names[_VARIANT_MAX] = {
    "bare", "wrapped", "swapped (pivot, constant index)", "pivot, variable index"};

struct pair {
	const char *logic;
	struct source bare, wrapped;
	const char *counter; /* the map that must count every run; NULL: none */
	unsigned per_run;    /* what it adds per run */
};

static const struct pair pairs[] = {
    {"pass (wrapper alone)", {.code = bare_pass}, {.code = wrapped_pass}, NULL},
    {"atomic counter (examples/packet_counter.json)",
     {.file = "examples/packet_counter.json"},
     {.code = wrapped_atomic},
     "PKT_COUNTER",
     1},
    {"plain counter (upstream v1.1 packet_counter)",
     {.code = bare_plain},
     {.file = "tests/data/polycube/v1.1/packet_counter.json"},
     "PKT_COUNTER",
     1},
    {"byte counter on md->packet_len, with a verdict",
     {.code = bare_bytes},
     {.code = wrapped_bytes},
     "BYTES",
     sizeof(packet)},
};

/* The differences reported, each one per round. */
struct diff {
	const char *name;
	enum variant minuend, subtrahend;
};

static const struct diff diffs_reported[] = {
    {"wrapped - bare", WRAPPED, BARE},
    {"swapped - wrapped (the pivot)", SWAPPED, WRAPPED},
    {"variable - wrapped (a variable-index pivot)", VARIABLE, WRAPPED},
};
#define N_DIFFS ELEMENTSOF(diffs_reported)

/* ---- Building and describing a program ---- */

struct program {
	struct bench_object o;	 /* the user's program; its maps are the ones checked */
	int fd;			 /* what runs: the user's program, or the pivot in front of it */
	struct pivot_bpf *pivot; /* SWAPPED */
	struct bench_object pivot_var; /* VARIABLE */
	unsigned insns, jited_bytes;   /* of what runs */
	/* The kernel's hash of the instructions, map references zeroed: equal tags mean the
	 * same code. */
	char tag[2 * BPF_TAG_SIZE + 1];
	uint64_t runs;
	struct samples wall_ns, kernel_ns; /* per packet, one sample per round */
};

static int source_code(const struct source *s, const char *source_dir, char **ret)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_(dm_config_freep) struct dm_config *config = NULL;
	dm_error e = DM_ERROR_NULL;
	int r;

	if (s->code) {
		*ret = strdup(s->code);
		return *ret ? 0 : -ENOMEM;
	}
	path = strdup_printf("%s/%s", source_dir, s->file);
	if (!path)
		return -ENOMEM;
	r = bench_read_file(path, &text);
	if (r < 0) {
		fprintf(stderr, "Cannot read %s: %s\n", path, strerror(-r));
		return r;
	}
	r = dm_config_parse(text, &config, &e);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, e.message ?: strerror(-r));
		dm_error_done(&e);
		return r;
	}
	*ret = strdup(config->paths[DM_PATH_INGRESS].code);
	return *ret ? 0 : -ENOMEM;
}

/* Size and tag of what runs, as the kernel reports them. */
static int program_describe(struct program *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(p->fd, &info, &len) < 0)
		return -errno;
	p->insns = info.xlated_prog_len / sizeof(struct bpf_insn);
	p->jited_bytes = info.jited_prog_len;
	for (int i = 0; i < BPF_TAG_SIZE; i++)
		sprintf(p->tag + 2 * i, "%02x", info.tag[i]);
	return 0;
}

static int program_build(struct program *p, const struct dm_compiler *c, const char *code)
{
	dm_error e = DM_ERROR_NULL;
	int r;

	r = bench_build(c, code, "bench", &p->o, &p->fd, &e);
	if (r < 0) {
		fprintf(stderr, "%s\n", e.message ?: strerror(-r));
		dm_error_done(&e);
	}
	return r;
}

/* Slot 0 of a pivot's PROG_ARRAY: the user's program, as the daemon arms its pivot. */
static int pivot_arm(int prog_array_fd, int target_fd)
{
	__u32 key = 0;

	return bpf_map_update_elem(prog_array_fd, &key, &target_fd, BPF_ANY) < 0 ? -errno : 0;
}

/* dynmond's pivot, from the same skeleton, its tc program only (as kernel/dataplane.c loads it). */
static int pivot_load_constant(struct program *p)
{
	int r;

	p->pivot = pivot_bpf__open();
	if (!p->pivot)
		return -errno;
	bpf_program__set_autoload(p->pivot->progs.dm_pivot_xdp, false);
	r = pivot_bpf__load(p->pivot);
	if (r >= 0)
		r = pivot_arm(bpf_map__fd(p->pivot->maps.dm_progs), p->fd);
	if (r < 0) {
		fprintf(stderr, "Cannot load and arm the pivot: %s\n", strerror(-r));
		return r;
	}
	p->fd = bpf_program__fd(p->pivot->progs.dm_pivot_tc);
	return 0;
}

static int pivot_load_variable(struct program *p, const struct dm_compiler *c)
{
	dm_error e = DM_ERROR_NULL;
	struct bpf_map *progs;
	int r, fd;

	r = bench_build(c, pivot_variable, "pivot_var", &p->pivot_var, &fd, &e);
	if (r < 0) {
		fprintf(stderr, "%s\n", e.message ?: strerror(-r));
		dm_error_done(&e);
		return r;
	}
	progs = bpf_object__find_map_by_name(p->pivot_var.obj, "dm_progs");
	r = progs ? pivot_arm(bpf_map__fd(progs), p->fd) : -ENOENT;
	if (r < 0) {
		fprintf(stderr, "Cannot arm the variable-index pivot: %s\n", strerror(-r));
		return r;
	}
	p->fd = fd; /* dm_slot holds 0, as created */
	return 0;
}

static void program_done(struct program *p)
{
	pivot_bpf__destroy(p->pivot);
	bench_object_done(&p->pivot_var);
	bench_object_done(&p->o);
	samples_done(&p->wall_ns);
	samples_done(&p->kernel_ns);
}

/* ---- Running ---- */

/* One BPF_PROG_TEST_RUN of `repeat` runs. The kernel reports its own time per run in whole
 * nanoseconds; the wall time around the call gives a finer one (the syscall's fixed cost,
 * ~1 µs, is a thousandth of a nanosecond per run at 10^6 runs). */
static int program_run(struct program *p, unsigned repeat, bool record)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet),
		    .repeat = repeat);
	uint64_t t0 = bench_now_ns(), t1;
	int r;

	r = bpf_prog_test_run_opts(p->fd, &opts);
	t1 = bench_now_ns();
	if (r < 0)
		return -errno;
	if ((int)opts.retval != TC_ACT_UNSPEC) {
		fprintf(stderr, "A program returned %d, not TC_ACT_UNSPEC.\n", (int)opts.retval);
		return -EBADMSG;
	}
	p->runs += repeat;
	if (!record)
		return 0;
	r = samples_add(&p->wall_ns, (double)(t1 - t0) / repeat);
	return r < 0 ? r : samples_add(&p->kernel_ns, opts.duration);
}

/* Each round runs every pair's variants back to back, in alternating order, so that drift
 * (frequency, a neighbour's load) touches both sides of a difference alike. */
static int run_rounds(struct program (*progs)[_VARIANT_MAX], unsigned rounds, unsigned repeat,
		      struct samples (*diffs)[N_DIFFS])
{
	for (unsigned round = 0; round <= rounds; round++) {
		bool record = round > 0; /* round 0 warms caches and branch predictors */

		for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
			for (int k = 0; k < _VARIANT_MAX; k++) {
				int v = round % 2 ? _VARIANT_MAX - 1 - k : k;
				int r = program_run(&progs[i][v], repeat, record);

				if (r < 0)
					return r;
			}
			for (size_t d = 0; record && d < N_DIFFS; d++) {
				const struct samples *a =
				    &progs[i][diffs_reported[d].minuend].wall_ns;
				const struct samples *b =
				    &progs[i][diffs_reported[d].subtrahend].wall_ns;
				int r = samples_add(&diffs[i][d], a->v[a->n - 1] - b->v[b->n - 1]);

				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

/* The counter must hold exactly the number of runs: the logic ran on every one of them. Behind
 * a pivot, this is also what shows that every tail call reached the user's program (an empty
 * slot returns the same verdict). */
static int check_counter(const struct program *p, const struct pair *pair)
{
	const char *map_name = pair->counter;
	struct bpf_map *map = bpf_object__find_map_by_name(p->o.obj, map_name);
	__u32 key = 0;
	__u64 value = 0;

	if (!map || bpf_map_lookup_elem(bpf_map__fd(map), &key, &value) < 0) {
		fprintf(stderr, "%s: cannot read map %s\n", pair->logic, map_name);
		return -ENOENT;
	}
	if (value != p->runs * pair->per_run) {
		fprintf(stderr, "%s: %s holds %llu after %llu runs\n", pair->logic, map_name,
			(unsigned long long)value, (unsigned long long)p->runs);
		return -EBADMSG;
	}
	return 0;
}

/* ---- Reporting ---- */

static void pclosep(FILE **f)
{
	if (*f)
		pclose(*f);
}

static void first_line_of(const char *file, const char *prefix, char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	char line[256];

	snprintf(buf, size, "?");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			char *v = strchr(line, ':');
			snprintf(buf, size, "%s", v ? v + 2 : line);
			buf[strcspn(buf, "\n")] = '\0';
			return;
		}
}

static void print_environment(unsigned rounds, unsigned repeat)
{
	struct utsname u;
	char cpu[256], jit[256];

	_cleanup_(pclosep) FILE *clang = popen(DYNMON_CLANG " --version", "re");
	char clang_version[128] = "?";

	if (clang && fgets(clang_version, sizeof(clang_version), clang))
		clang_version[strcspn(clang_version, "\n")] = '\0';
	uname(&u);
	first_line_of("/proc/cpuinfo", "model name", cpu, sizeof(cpu));
	first_line_of("/proc/sys/net/core/bpf_jit_enable", "", jit, sizeof(jit));
	printf("kernel %s, CPU %s (%ld online), libbpf %u.%u, %s\n", u.release, cpu,
	       sysconf(_SC_NPROCESSORS_ONLN), libbpf_major_version(), libbpf_minor_version(),
	       clang_version);
	printf("bpf_jit_enable = %s; %u rounds of %u runs per program, 64-byte UDP packet\n\n", jit,
	       rounds, repeat);
}

static void print_programs(struct program (*progs)[_VARIANT_MAX])
{
	printf("| logic | variant | insns | JIT bytes | tag | ns/packet, median | min - max | "
	       "kernel-reported, median |\n");
	printf("|---|---|---:|---:|---|---:|---:|---:|\n");
	for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
		for (int v = 0; v < _VARIANT_MAX; v++) {
			const struct program *p = &progs[i][v];

			printf("| %s | %s | %u | %u | %s | %.2f | %.2f - %.2f | %.0f |\n",
			       pairs[i].logic, variant_names[v], p->insns, p->jited_bytes, p->tag,
			       samples_quantile(&p->wall_ns, 0.5), samples_quantile(&p->wall_ns, 0),
			       samples_quantile(&p->wall_ns, 1),
			       samples_quantile(&p->kernel_ns, 0.5));
		}
	printf("\nThe pivot rows' insns, JIT bytes and tag are the pivot's own; the program in its "
	       "slot is a copy of the wrapped one.\n");
}

static void print_diffs(const struct samples (*diffs)[N_DIFFS])
{
	for (size_t d = 0; d < N_DIFFS; d++) {
		printf("\n| logic | %s, ns/packet, median of rounds | p25 - p75 | min - max |\n",
		       diffs_reported[d].name);
		printf("|---|---:|---:|---:|\n");
		for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
			const struct samples *s = &diffs[i][d];

			printf("| %s | %+.2f | %+.2f - %+.2f | %+.2f - %+.2f |\n", pairs[i].logic,
			       samples_quantile(s, 0.5), samples_quantile(s, 0.25),
			       samples_quantile(s, 0.75), samples_quantile(s, 0),
			       samples_quantile(s, 1));
		}
	}
}

/* ---- main ---- */

static int parse_args(int argc, char **argv, unsigned *rounds, unsigned *repeat,
		      const char **source_dir)
{
	static const struct option options[] = {
	    {"rounds", required_argument, NULL, 'r'},
	    {"repeat", required_argument, NULL, 'n'},
	    {"source-dir", required_argument, NULL, 's'},
	    {},
	};
	int c;

	while ((c = getopt_long(argc, argv, "r:n:s:", options, NULL)) >= 0) {
		if (c == 'r')
			*rounds = strtoul(optarg, NULL, 10);
		else if (c == 'n')
			*repeat = strtoul(optarg, NULL, 10);
		else if (c == 's')
			*source_dir = optarg;
		else
			return -EINVAL;
	}
	if (*rounds == 0 || *repeat == 0 || optind != argc) {
		fprintf(stderr, "Usage: %s [--rounds N] [--repeat N] [--source-dir DIR]\n",
			argv[0]);
		return -EINVAL;
	}
	return 0;
}

static int build_one(struct program *p, const struct pair *pair, enum variant v,
		     const struct dm_compiler *c, const char *source_dir)
{
	_cleanup_free_ char *code = NULL;
	int r;

	r = source_code(v == BARE ? &pair->bare : &pair->wrapped, source_dir, &code);
	if (r >= 0)
		r = program_build(p, c, code);
	if (r >= 0 && v == SWAPPED)
		r = pivot_load_constant(p);
	if (r >= 0 && v == VARIABLE)
		r = pivot_load_variable(p, c);
	return r < 0 ? r : program_describe(p);
}

static int build_all(struct program (*progs)[_VARIANT_MAX], const char *source_dir)
{
	_cleanup_free_ char *include_dir = strdup_printf("%s/bpf/include", source_dir);
	struct dm_compiler c = bench_compiler(include_dir);

	for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
		for (int v = 0; v < _VARIANT_MAX; v++) {
			int r = build_one(&progs[i][v], &pairs[i], v, &c, source_dir);

			if (r < 0)
				return r;
		}
	return 0;
}

static int check_all(struct program (*progs)[_VARIANT_MAX])
{
	for (size_t i = 0; i < ELEMENTSOF(pairs); i++)
		for (int v = 0; pairs[i].counter && v < _VARIANT_MAX; v++) {
			int r = check_counter(&progs[i][v], &pairs[i]);

			if (r < 0)
				return r;
		}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned rounds = ROUNDS_DEFAULT, repeat = REPEAT_DEFAULT;
	const char *source_dir = BENCH_SOURCE_DIR;
	struct program progs[ELEMENTSOF(pairs)][_VARIANT_MAX] = {};
	struct samples diffs[ELEMENTSOF(pairs)][N_DIFFS] = {};
	int r;

	if (parse_args(argc, argv, &rounds, &repeat, &source_dir) < 0)
		return 2;
	print_environment(rounds, repeat);
	r = build_all(progs, source_dir);
	if (r >= 0)
		r = run_rounds(progs, rounds, repeat, diffs);
	if (r >= 0)
		r = check_all(progs);
	if (r >= 0) {
		print_programs(progs);
		print_diffs(diffs);
	} else
		fprintf(stderr, "bench-wrapper failed: %s\n", strerror(-r));
	for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
		for (size_t d = 0; d < N_DIFFS; d++)
			samples_done(&diffs[i][d]);
		for (int v = 0; v < _VARIANT_MAX; v++)
			program_done(&progs[i][v]);
	}
	return r < 0 ? 1 : 0;
}
