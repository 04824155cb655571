/* SPDX-License-Identifier: Apache-2.0 */
/* Where the time of an inject goes, phase by phase, on the daemon's own code paths: parse
 * (dm_config_parse), translate (dialect detection and, for Polycube code, dm_dialect_translate),
 * compile (dm_compile: clang in a child process), open (bpf_object__open_mem), load (verifier
 * and maps), attach (tc.c: bpf_tc_attach, replacing the previous round's filter atomically, as
 * a re-inject on an attached monitor does), release (closing the previous round's objects).
 * The first round is the cold one (bench/bench-inject.sh drops the page cache before it); the
 * next ones are warm. Run as root inside a network namespace that holds --ifname. */
#include <getopt.h>
#include <net/if.h>
#include <netlink/netlink.h>

#include "dialect.h"
#include "dynmon-log.h"
#include "program.h"
#include "stats.h"
#include "tc.h"

#define ROUNDS_DEFAULT 20

enum phase {
	PHASE_PARSE,
	PHASE_TRANSLATE,
	PHASE_COMPILE,
	PHASE_OPEN,
	PHASE_LOAD,
	PHASE_ATTACH,
	PHASE_RELEASE,
	PHASE_TOTAL,
	_PHASE_MAX,
};

static const char *const phase_names[_PHASE_MAX] = {
    "parse", "translate", "compile", "open", "load", "attach", "release", "total",
};

/* What one round built: the objects on the hooks until the next round replaces them. */
struct dataplane {
	struct bench_object paths[_DM_PATH_MAX];
};

static void dataplane_done(struct dataplane *d)
{
	for (int p = 0; p < _DM_PATH_MAX; p++)
		bench_object_done(&d->paths[p]);
}

struct run {
	const struct dm_compiler *compiler;
	const char *text; /* the configuration, as the bus hands it over */
	int ifindex;
	struct tc_slot slots[_DM_PATH_MAX]; /* where our filters are, running these: */
	uint32_t prog_ids[_DM_PATH_MAX];
	double ms[_PHASE_MAX]; /* this round's */
};

static double ms_since(uint64_t *t)
{
	uint64_t now = bench_now_ns();
	double ms = (double)(now - *t) / 1e6;

	*t = now;
	return ms;
}

/* translate, compile, open, load and attach one path, adding each phase's time. */
static int path_build(struct run *run, const struct dm_path_config *pc, enum dm_path path,
		      struct bench_object *ret, dm_error *e)
{
	_cleanup_free_ char *unit = strdup_printf("%s.bpf.c", dm_path_to_string(path));
	_cleanup_(dm_translation_done) struct dm_translation tr = {};
	_cleanup_free_ char *code = NULL;
	_cleanup_free_ void *elf = NULL;
	uint64_t t = bench_now_ns();
	size_t size;
	int r, fd;

	if (!unit)
		return -ENOMEM;
	r = dm_dialect_prepare(pc->code, path, DM_HOOK_TC, DYNMON_LOG_OFF, &tr, &code, e);
	run->ms[PHASE_TRANSLATE] += ms_since(&t);
	if (r >= 0)
		r = dm_compile(run->compiler, code, unit, &elf, &size, e);
	run->ms[PHASE_COMPILE] += ms_since(&t);
	if (r >= 0)
		r = bench_object_open(elf, size, "bench_inject", ret);
	run->ms[PHASE_OPEN] += ms_since(&t);
	if (r >= 0)
		r = bench_object_load(ret, &fd, e);
	run->ms[PHASE_LOAD] += ms_since(&t);
	if (r >= 0)
		r = tc_filter_adopt(run->ifindex, path, fd, run->prog_ids[path], &run->slots[path]);
	if (r >= 0)
		run->prog_ids[path] = tc_prog_id(fd);
	run->ms[PHASE_ATTACH] += ms_since(&t);
	if (r < 0)
		return dm_error_set(e, r, "the %s path failed: %s", dm_path_to_string(path),
				    strerror(-r));
	return 0;
}

/* One inject: every phase, then the previous dataplane goes (it is off the hooks now). */
static int inject_once(struct run *run, struct dataplane *current, dm_error *e)
{
	_cleanup_(dm_config_freep) struct dm_config *config = NULL;
	struct dataplane next = {};
	uint64_t start = bench_now_ns(), t = start;
	int r;

	memset(run->ms, 0, sizeof(run->ms));
	r = dm_config_parse(run->text, &config, e);
	run->ms[PHASE_PARSE] = ms_since(&t);
	for (int p = 0; r >= 0 && p < _DM_PATH_MAX; p++)
		if (config->paths[p].present)
			r = path_build(run, &config->paths[p], p, &next.paths[p], e);
	if (r < 0) {
		dataplane_done(&next);
		return r;
	}
	t = bench_now_ns();
	dataplane_done(current);
	*current = next;
	run->ms[PHASE_RELEASE] = ms_since(&t);
	run->ms[PHASE_TOTAL] = (double)(t - start) / 1e6;
	return 0;
}

static void print_table(const char *config_file, const double *cold, struct samples *warm,
			double clsact_ms)
{
	printf("%s: cold = the first inject of a fresh process, warm = %zu later ones\n\n",
	       config_file, warm[0].n);
	printf("| phase | cold, ms | warm median, ms | warm min - max, ms |\n");
	printf("|---|---:|---:|---:|\n");
	for (int i = 0; i < _PHASE_MAX; i++)
		printf("| %s | %.2f | %.2f | %.2f - %.2f |\n", phase_names[i], cold[i],
		       samples_quantile(&warm[i], 0.5), samples_quantile(&warm[i], 0),
		       samples_quantile(&warm[i], 1));
	printf("\nclsact qdisc creation (once per interface, at attach time, not in an inject): "
	       "%.2f ms\n",
	       clsact_ms);
}

static int run_rounds(struct run *run, unsigned rounds, double *cold, struct samples *warm)
{
	struct dataplane current = {};
	dm_error e = DM_ERROR_NULL;
	int r = 0;

	for (unsigned i = 0; r >= 0 && i <= rounds; i++) {
		r = inject_once(run, &current, &e);
		for (int p = 0; r >= 0 && p < _PHASE_MAX; p++) {
			if (i == 0)
				cold[p] = run->ms[p];
			else
				r = samples_add(&warm[p], run->ms[p]);
		}
	}
	if (r < 0)
		fprintf(stderr, "inject failed: %s\n", e.message ?: strerror(-r));
	dm_error_done(&e);
	for (int p = 0; p < _DM_PATH_MAX; p++)
		if (current.paths[p].obj)
			(void)tc_filter_detach(run->ifindex, p, run->prog_ids[p], &run->slots[p]);
	dataplane_done(&current);
	return r;
}

static int parse_args(int argc, char **argv, const char **ifname, unsigned *rounds,
		      const char **source_dir)
{
	static const struct option options[] = {
	    {"ifname", required_argument, NULL, 'i'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"source-dir", required_argument, NULL, 's'},
	    {},
	};
	int c;

	while ((c = getopt_long(argc, argv, "i:r:s:", options, NULL)) >= 0) {
		if (c == 'i')
			*ifname = optarg;
		else if (c == 'r')
			*rounds = strtoul(optarg, NULL, 10);
		else if (c == 's')
			*source_dir = optarg;
		else
			return -EINVAL;
	}
	if (!*ifname || *rounds == 0 || optind != argc - 1) {
		fprintf(stderr,
			"Usage: %s --ifname IF [--rounds N] [--source-dir DIR] CONFIG.json\n",
			argv[0]);
		return -EINVAL;
	}
	return 0;
}

/* The interface gets its clsact qdisc as `dynmonctl attach` gives it, before any inject. */
static int clsact_setup(int ifindex, struct nl_sock **ret_sk, double *ret_ms)
{
	struct nl_sock *sk = nl_socket_alloc();
	uint64_t t;
	bool created;
	int r;

	if (!sk)
		return -ENOMEM;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return -EIO;
	}
	t = bench_now_ns();
	r = tc_clsact_ensure(sk, ifindex, &created);
	*ret_ms = ms_since(&t);
	if (r < 0) {
		nl_socket_free(sk);
		return r;
	}
	*ret_sk = sk;
	return 0;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *source_dir = BENCH_SOURCE_DIR;
	unsigned rounds = ROUNDS_DEFAULT;
	_cleanup_free_ char *include_dir = NULL, *text = NULL;
	struct samples warm[_PHASE_MAX] = {};
	double cold[_PHASE_MAX] = {}, clsact_ms = 0;
	struct nl_sock *sk = NULL;
	struct dm_compiler compiler;
	struct run run = {};
	int r;

	if (parse_args(argc, argv, &ifname, &rounds, &source_dir) < 0)
		return 2;
	include_dir = strdup_printf("%s/bpf/include", source_dir);
	compiler = bench_compiler(include_dir);
	run = (struct run){.compiler = &compiler, .ifindex = (int)if_nametoindex(ifname)};
	if (run.ifindex == 0) {
		fprintf(stderr, "No interface %s here.\n", ifname);
		return 1;
	}
	/* Read before timing: dynmonctl reads the file, the daemon gets the text. */
	r = bench_read_file(argv[optind], &text);
	if (r < 0) {
		fprintf(stderr, "Cannot read %s: %s\n", argv[optind], strerror(-r));
		return 1;
	}
	run.text = text;
	r = clsact_setup(run.ifindex, &sk, &clsact_ms);
	if (r >= 0)
		r = run_rounds(&run, rounds, cold, warm);
	if (r >= 0)
		print_table(argv[optind], cold, warm, clsact_ms);
	if (sk) {
		(void)tc_clsact_remove_if_unused(sk, run.ifindex);
		nl_socket_free(sk);
	}
	for (int p = 0; p < _PHASE_MAX; p++)
		samples_done(&warm[p]);
	return r < 0 ? 1 : 0;
}
