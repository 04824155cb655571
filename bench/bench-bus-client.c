/* SPDX-License-Identifier: Apache-2.0 */
/* A D-Bus client of dynmond that calls one thing in a tight loop and times every call: what a
 * scraper reading a monitor's metrics sees, and what any other caller sees meanwhile.
 *
 *   bench-bus-client [OPTIONS] metrics MONITOR METRIC
 *   bench-bus-client [OPTIONS] list
 *
 * OPTIONS: --ready FILE, --max-seconds S, --samples FILE (every call's time, one a line).
 *
 * `metrics` calls org.freedesktop.DBus.Properties.Get(Monitor, "Metrics") on the monitor's
 * object and adds up the values of METRIC (an array's elements, a hash's entry values) across
 * the reads. With swap-on-read or empty-on-read, each read returns what was counted since the
 * previous one, so the sum of all reads is the total. `list` calls the Manager's ListMonitors.
 * Both loop until SIGTERM or SIGINT (or S seconds); `metrics` then reads once more, after the
 * loop (the final read is neither timed nor in the sum). FILE is created once the first call
 * has answered. Prints one line, milliseconds per call:
 *   metrics: READS MEDIAN P99 MAX SUM FINAL
 *   list:    CALLS MEDIAN P99 MAX
 * The bus is the system bus: DBUS_SYSTEM_BUS_ADDRESS chooses a private one. */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-bus.h>

#include "bus-util.h" /* the daemon's names, its constants only */
#include "stats.h"
#include "util.h"

struct loop {
	sd_bus *bus;
	const char *path, *metric; /* metrics only */
	const char *ready, *samples;
	double max_seconds;
	struct samples ms;
	long long sum;
};

/* The sum of the numbers in a metric's value, as tests/e2e/swap_reader.py adds them. */
static long long value_sum(json_t *v)
{
	long long s = 0;
	size_t i;
	json_t *e;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_object(v))
		return value_sum(json_object_get(v, "value"));
	json_array_foreach (v, i, e)
		s += value_sum(e);
	return s;
}

/* METRIC's sum in a Metrics document; -EBADMSG when the document does not hold it. */
static int metric_sum(const char *text, const char *metric, long long *ret)
{
	json_t *doc = json_loads(text, 0, NULL), *m;
	const char *dir;
	size_t i;
	int r = -EBADMSG;

	json_object_foreach (doc, dir, m) {
		json_t *e;

		json_array_foreach (m, i, e)
			if (streq(json_string_value(json_object_get(e, "name")) ?: "", metric)) {
				*ret = value_sum(json_object_get(e, "value"));
				r = 0;
			}
	}
	json_decref(doc);
	return r;
}

static int read_metrics(struct loop *l, long long *ret)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *text = NULL;
	int r;

	r = sd_bus_get_property_string(l->bus, DYNMON_BUS_NAME, l->path, DYNMON_MONITOR_INTERFACE,
				       "Metrics", &error, &text);
	if (r < 0) {
		fprintf(stderr, "Metrics: %s\n", error.message ?: strerror(-r));
		return r;
	}
	r = metric_sum(text, l->metric, ret);
	if (r < 0)
		fprintf(stderr, "No metric %s in %s\n", l->metric, text);
	return r;
}

static int list_monitors(struct loop *l)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_call_method(l->bus, DYNMON_BUS_NAME, DYNMON_MANAGER_PATH,
			       DYNMON_MANAGER_INTERFACE, "ListMonitors", &error, &reply, "");
	if (r < 0)
		fprintf(stderr, "ListMonitors: %s\n", error.message ?: strerror(-r));
	return r;
}

/* One timed call; the value read is added to the sum. */
static int call_once(struct loop *l)
{
	uint64_t t0 = bench_now_ns(), t1;
	long long v = 0;
	int r;

	r = l->metric ? read_metrics(l, &v) : list_monitors(l);
	t1 = bench_now_ns();
	if (r < 0)
		return r;
	l->sum += v;
	return samples_add(&l->ms, (double)(t1 - t0) / 1e6);
}

/* SIGTERM and SIGINT stay blocked and are polled between calls: no call is ever interrupted. */
static bool stop_requested(const sigset_t *stop)
{
	static const struct timespec now = {};

	return sigtimedwait(stop, NULL, &now) > 0;
}

static int run(struct loop *l, const sigset_t *stop)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)(l->max_seconds * 1e9);
	int r;

	r = call_once(l);
	if (r < 0)
		return r;
	if (l->ready) {
		_cleanup_fclose_ FILE *f = fopen(l->ready, "we");

		if (!f)
			return -errno;
	}
	while (!stop_requested(stop) && bench_now_ns() < deadline) {
		r = call_once(l);
		if (r < 0)
			return r;
	}
	return 0;
}

static void print_result(struct loop *l)
{
	long long final = 0;

	if (l->samples) {
		_cleanup_fclose_ FILE *f = fopen(l->samples, "we");

		for (size_t i = 0; f && i < l->ms.n; i++)
			fprintf(f, "%.3f\n", l->ms.v[i]);
	}
	printf("%zu %.3f %.3f %.3f", l->ms.n, samples_quantile(&l->ms, 0.5),
	       samples_quantile(&l->ms, 0.99), samples_quantile(&l->ms, 1));
	if (l->metric && read_metrics(l, &final) >= 0)
		printf(" %lld %lld", l->sum, final);
	printf("\n");
}

static int parse_args(int argc, char **argv, struct loop *l, char **ret_path)
{
	static const struct option options[] = {
	    {"ready", required_argument, NULL, 'r'},
	    {"max-seconds", required_argument, NULL, 't'},
	    {"samples", required_argument, NULL, 's'},
	    {},
	};
	int c;

	while ((c = getopt_long(argc, argv, "r:t:s:", options, NULL)) >= 0) {
		if (c == 'r')
			l->ready = optarg;
		else if (c == 's')
			l->samples = optarg;
		else if (c == 't')
			l->max_seconds = strtod(optarg, NULL);
		else
			return -EINVAL;
	}
	if (optind + 1 == argc && streq(argv[optind], "list"))
		return 0;
	if (optind + 3 != argc || !streq(argv[optind], "metrics"))
		return -EINVAL;
	l->metric = argv[optind + 2];
	return sd_bus_path_encode(DYNMON_MONITOR_PREFIX, argv[optind + 1], ret_path);
}

int main(int argc, char **argv)
{
	struct loop l = {.max_seconds = 120};
	_cleanup_free_ char *path = NULL;
	sigset_t stop;
	int r;

	if (parse_args(argc, argv, &l, &path) < 0) {
		fprintf(stderr,
			"Usage: %s [--ready FILE] [--max-seconds S] [--samples FILE] "
			"metrics MONITOR METRIC | list\n",
			argv[0]);
		return 2;
	}
	l.path = path;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	r = sd_bus_open_system(&l.bus);
	if (r < 0)
		fprintf(stderr, "Cannot connect to the system bus: %s\n", strerror(-r));
	else
		r = run(&l, &stop);
	if (r >= 0)
		print_result(&l);
	samples_done(&l.ms);
	sd_bus_flush_close_unref(l.bus);
	return r < 0 ? 1 : 0;
}
