/* SPDX-License-Identifier: Apache-2.0 */
/* The verbs that read a monitor's metrics: metrics, open-metrics (what upstream's extractor
 * offered: one path, one metric, a file) and watch (the metrics live, with rates). */
#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>

#include <jansson.h>
#include <systemd/sd-bus.h>

#include "ctl-bus.h"
#include "ctl-io.h"
#include "dynmonctl.h"
#include "errors.h"
#include "exit-status.h"
#include "metrics-select.h"
#include "om-select.h"
#include "util.h"
#include "watch-table.h"

/* What the command line names of a monitor's metrics (the path --ingress/--egress chooses, or
 * both; `metric`, or all) in `format` ("json", "openmetrics"), and only that read: a read of
 * one metric never empties another (empty-on-read, swap-on-read). */
static int read_metrics(sd_bus *bus, const char *path, const char *metric, const char *format,
			sd_bus_error *error, char **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *text;
	int r;

	r = sd_bus_call_method(bus, BUS_NAME, path, MONITOR_IFACE, "ReadMetrics", error, &reply,
			       "sss", strempty(metrics_direction_path(arg_direction)),
			       strempty(metric), format);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "s", &text);
	if (r < 0)
		return r;
	*ret = strdup(text);
	return *ret ? 0 : -ENOMEM;
}

/* Prints what metrics and open-metrics read, or saves it with --output. */
static int emit(const char *text)
{
	int r;

	if (!arg_output || streq(arg_output, "-")) {
		fputs(text, stdout);
		return EXIT_OK;
	}
	r = write_file(arg_output, text);
	if (r < 0) {
		fprintf(stderr, "dynmonctl: Failed to write %s: %s\n", arg_output, strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* " on its ingress path", or "" without --ingress/--egress. */
static const char *path_phrase(void)
{
	switch (arg_direction) {
	case METRICS_INGRESS:
		return " on its ingress path";
	case METRICS_EGRESS:
		return " on its egress path";
	default:
		return "";
	}
}

/* The message and exit status of a failed metrics_select_json(), om_select() or
 * watch_table_build(). */
static int log_select_error(int r, const char *monitor, const char *metric)
{
	switch (r) {
	case -ENOENT:
		fprintf(stderr, "dynmonctl: Monitor %s has no metric \"%s\"%s.\n", monitor, metric,
			path_phrase());
		return EXIT_NOT_FOUND;
	case -ENOTUNIQ:
		fprintf(stderr,
			"dynmonctl: Monitor %s has a metric \"%s\" on both paths; choose one with "
			"--ingress or --egress.\n",
			monitor, metric);
		return EXIT_USAGE;
	case -ENODATA:
		fprintf(stderr,
			"dynmonctl: Metric \"%s\" of monitor %s has no open-metrics-metadata: it "
			"is not exported in OpenMetrics.\n",
			metric, monitor);
		return EXIT_NOT_FOUND;
	case -EBADMSG:
		fprintf(stderr,
			"dynmonctl: The metrics of monitor %s are not what dynmond sends.\n",
			monitor);
		return EXIT_FAIL;
	default:
		fprintf(stderr, "dynmonctl: Failed to read the metrics of monitor %s: %s\n",
			monitor, strerror(-r));
		return EXIT_FAIL;
	}
}

static bool selecting(const char *metric)
{
	return metric || arg_direction != METRICS_BOTH;
}

/* The part of the Metrics JSON the command line asks for, as text to print. */
static int metrics_text(const char *text, const char *monitor, const char *metric, char **ret)
{
	_cleanup_(json_decrefp) json_t *all = NULL, *part = NULL;
	_cleanup_free_ char *dump = NULL;
	int r;

	r = parse_daemon_json(text, &all);
	if (r < 0 && !selecting(metric)) /* print it as it came */
		return asprintf(ret, "%s\n", text) < 0 ? log_select_error(-ENOMEM, monitor, metric)
						       : EXIT_OK;
	if (r >= 0)
		r = metrics_select_json(all, arg_direction, metric, &part);
	if (r < 0)
		return log_select_error(r, monitor, metric);
	dump = json_dumps(part, JSON_ENCODE_ANY | (arg_json ? JSON_COMPACT : JSON_INDENT(2)));
	if (!dump || asprintf(ret, "%s\n", dump) < 0)
		return log_select_error(-ENOMEM, monitor, metric);
	return EXIT_OK;
}

int do_metrics(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *path = NULL, *text = NULL, *out = NULL;
	int r;

	r = monitor_path(bus, args[1], &error, &path);
	if (r >= 0)
		r = read_metrics(bus, path, args[2], "json", &error, &text);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read the metrics of monitor %s",
				     args[1]);
	r = metrics_text(text, args[1], args[2], &out);
	return r == EXIT_OK ? emit(out) : r;
}

/* The families of the OpenMetrics text the command line asks for; the Config property says
 * which metric is on which path. */
static int openmetrics_text(sd_bus *bus, const char *path, const char *text, const char *monitor,
			    const char *metric, char **ret)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(json_decrefp) json_t *config = NULL;
	_cleanup_free_ char *config_text = NULL;
	int r;

	r = monitor_property(bus, path, "Config", &error, &config_text);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read the configuration of monitor %s",
				     monitor);
	r = parse_daemon_json(config_text, &config);
	if (r >= 0)
		r = om_select(text, config, arg_direction, metric, ret);
	return r < 0 ? log_select_error(r, monitor, metric) : EXIT_OK;
}

int do_open_metrics(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *path = NULL, *text = NULL, *out = NULL;
	int r;

	r = monitor_path(bus, args[1], &error, &path);
	if (r >= 0)
		r = read_metrics(bus, path, args[2], "openmetrics", &error, &text);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read the metrics of monitor %s",
				     args[1]);
	if (!selecting(args[2]))
		return emit(text);
	r = openmetrics_text(bus, path, text, args[1], args[2], &out);
	return r == EXIT_OK ? emit(out) : r;
}

/* ---- watch: the metrics live, with rates --------------------------------------------------- */

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One read: the configuration (which says how each metric reads), then the metrics, made into
 * the table, with rates against `prev` when there is one. Sets *ret_time to when the metrics
 * came. */
static int watch_read(sd_bus *bus, const char *path, const char *monitor, const char *metric,
		      const struct watch_table *prev, double prev_time, struct watch_table *ret,
		      double *ret_time)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(json_decrefp) json_t *config = NULL, *metrics = NULL;
	_cleanup_free_ char *config_text = NULL, *text = NULL;
	int r;

	r = monitor_property(bus, path, "Config", &error, &config_text);
	if (r >= 0)
		r = read_metrics(bus, path, metric, "json", &error, &text);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read the metrics of monitor %s",
				     monitor);
	*ret_time = monotonic_seconds();
	r = parse_daemon_json(config_text, &config);
	if (r >= 0)
		r = parse_daemon_json(text, &metrics);
	if (r >= 0)
		r = watch_table_build(metrics, config, arg_direction, metric, prev,
				      *ret_time - prev_time, ret);
	return r < 0 ? log_select_error(r, monitor, metric) : EXIT_OK;
}

/* How many rows fit on the terminal under the two header lines and a "... more" line; 0 when
 * the output is no terminal (all of them). */
static size_t terminal_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row <= 3)
		return 0;
	return ws.ws_row - 3;
}

/* On a terminal the table is redrawn in place, as watch(1) and top(1) do; otherwise each
 * refresh follows the last, after a blank line, for logs and tests. */
static void watch_show(const char *monitor, unsigned refresh, const struct watch_table *t, bool tty)
{
	char clock[16];
	time_t now = time(NULL);

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
	if (tty)
		fputs("\033[H\033[2J", stdout);
	else if (refresh > 1)
		fputc('\n', stdout);
	printf("%s: every %gs, refresh %u, %s\n", monitor, arg_interval, refresh, clock);
	watch_table_print(t, tty ? terminal_rows() : 0, stdout);
	fflush(stdout);
}

/* Sleeps until `until` (monotonic seconds). Returns true when SIGINT or SIGTERM came (they are
 * blocked, so they wait for this, even while a read was under way). */
static bool watch_sleep(const sigset_t *signals, double until)
{
	for (;;) {
		double left = until - monotonic_seconds();
		struct timespec ts;

		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (sigtimedwait(signals, NULL, &ts) >= 0)
			return true;
		if (errno != EINTR)
			return false; /* EAGAIN: the time is up */
	}
}

int do_watch(sd_bus *bus, char **args)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(watch_table_done) struct watch_table prev = {};
	_cleanup_free_ char *path = NULL;
	bool tty = isatty(STDOUT_FILENO);
	double start, prev_time = 0;
	sigset_t signals;
	int r;

	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	r = monitor_path(bus, args[1], &error, &path);
	if (r < 0)
		return log_bus_error(&error, r, "Failed to read monitor %s", args[1]);
	start = monotonic_seconds();
	for (unsigned refresh = 1;; refresh++) {
		struct watch_table t = {};
		double read_time = 0;

		r = watch_read(bus, path, args[1], args[2], refresh > 1 ? &prev : NULL, prev_time,
			       &t, &read_time);
		if (r != EXIT_OK)
			return r;
		watch_show(args[1], refresh, &t, tty);
		watch_table_done(&prev);
		prev = t;
		prev_time = read_time;
		if ((arg_count && refresh >= arg_count) ||
		    watch_sleep(&signals, start + refresh * arg_interval))
			return EXIT_OK;
	}
}
