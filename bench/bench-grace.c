/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel's part of a swap-on-read: the RCU grace period that dynmond waits for after
 * pointing the pivot at the standby copy, with the daemon's own dm_grace_wait()
 * (service/kernel/swap.c: an update of an ARRAY_OF_MAPS element, which returns after one). A swap
 * read cannot be faster than this; the rest of its time is the daemon's and the bus's.
 *
 *   bench-grace [--ready FILE] [--samples FILE] [--max-seconds S]
 *
 * Waits for grace periods back to back until SIGTERM or SIGINT (or S seconds) and prints
 * "WAITS MEDIAN P99 MAX" in milliseconds; FILE is created after the first wait, --samples
 * writes every wait's time, one a line. Needs root (BPF maps). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "stats.h"
#include "swap.h"
#include "util.h"

static bool stop_requested(const sigset_t *stop)
{
	static const struct timespec now = {};

	return sigtimedwait(stop, NULL, &now) > 0;
}

static int wait_once(struct dm_grace *g, struct samples *ms)
{
	uint64_t t0 = bench_now_ns();
	int r = dm_grace_wait(g);

	if (r < 0)
		return r;
	return samples_add(ms, (double)(bench_now_ns() - t0) / 1e6);
}

static int run(struct dm_grace *g, struct samples *ms, const char *ready, double max_seconds,
	       const sigset_t *stop)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)(max_seconds * 1e9);
	int r;

	r = wait_once(g, ms);
	if (r < 0)
		return r;
	if (ready) {
		_cleanup_fclose_ FILE *f = fopen(ready, "we");

		if (!f)
			return -errno;
	}
	while (!stop_requested(stop) && bench_now_ns() < deadline) {
		r = wait_once(g, ms);
		if (r < 0)
			return r;
	}
	return 0;
}

static void print_result(const struct samples *ms, const char *samples_file)
{
	if (samples_file) {
		_cleanup_fclose_ FILE *f = fopen(samples_file, "we");

		for (size_t i = 0; f && i < ms->n; i++)
			fprintf(f, "%.3f\n", ms->v[i]);
	}
	printf("%zu %.3f %.3f %.3f\n", ms->n, samples_quantile(ms, 0.5), samples_quantile(ms, 0.99),
	       samples_quantile(ms, 1));
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"ready", required_argument, NULL, 'r'},
	    {"samples", required_argument, NULL, 's'},
	    {"max-seconds", required_argument, NULL, 't'},
	    {},
	};
	const char *ready = NULL, *samples_file = NULL;
	double max_seconds = 120;
	struct dm_grace *g = NULL;
	struct samples ms = {};
	sigset_t stop;
	int c, r;

	while ((c = getopt_long(argc, argv, "r:s:t:", options, NULL)) >= 0) {
		if (c == 'r')
			ready = optarg;
		else if (c == 's')
			samples_file = optarg;
		else if (c == 't')
			max_seconds = strtod(optarg, NULL);
		else
			break;
	}
	if (c >= 0 || optind != argc) {
		fprintf(stderr, "Usage: %s [--ready FILE] [--samples FILE] [--max-seconds S]\n",
			argv[0]);
		return 2;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	r = dm_grace_new(&g);
	if (r >= 0)
		r = run(g, &ms, ready, max_seconds, &stop);
	if (r >= 0)
		print_result(&ms, samples_file);
	else
		fprintf(stderr, "bench-grace failed: %s\n", strerror(-r));
	dm_grace_free(g);
	samples_done(&ms);
	return r < 0 ? 1 : 0;
}
