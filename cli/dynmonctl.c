/* SPDX-License-Identifier: Apache-2.0 */
/* dynmonctl: the command-line front end of dynmond. Every verb is a D-Bus call or two; the logic
 * lives in the daemon, so that dynmonctl, busctl and the REST API cannot disagree.
 * `compile` alone runs here, without the daemon (on a build host), with the daemon's own code.
 * This file holds the command line: the options, the table of verbs, and running one. The verbs
 * live in verb-monitors.c, verb-dataplane.c, verb-metrics.c and verb-compile.c. */
#include <getopt.h>
#include <limits.h>
#include <math.h>

#include <systemd/sd-bus.h>
#include <unistd.h>

#include "build-config.h"
#include "dynmonctl.h"
#include "exit-status.h"
#include "util.h"

/* getopt's values of the options that have no short form. */
enum {
	ARG_VERSION = 0x100,
	ARG_JSON,
	ARG_INGRESS,
	ARG_EGRESS,
	ARG_COUNT,
	ARG_POSITION,
	ARG_BEFORE,
	ARG_AFTER,
	ARG_SIGN,
	ARG_CLANG,
	ARG_INCLUDE_DIR,
	ARG_LOG_LEVEL,
};

bool arg_json;
bool arg_quiet;
const char *arg_type;
const char *arg_config;
const char *arg_place_key; /* attach: "position", "before" or "after"; NULL: none given */
const char *arg_place;
enum metrics_direction arg_direction = METRICS_BOTH;
const char *arg_output;
double arg_interval = 1.0;
static bool arg_interval_given;
unsigned arg_count; /* 0: until a signal */
const char *arg_sign_key;
const char *arg_clang;
const char *arg_include_dir;
const char *arg_log_level;

#define log_usage_error(...) log_usage_error_of("dynmonctl", __VA_ARGS__)

int do_help(sd_bus *bus, char **args)
{
	printf("Usage: dynmonctl [OPTIONS...] COMMAND [ARGS...]\n"
	       "\n"
	       "Inject eBPF monitors into network interfaces and read their metrics, through\n"
	       "dynmond (org.polycube.Dynmon on the system bus).\n"
	       "\n"
	       "Commands:\n"
	       "  list                     List monitors (the default command)\n"
	       "  add NAME                 Create a monitor (see --type, --config)\n"
	       "  del NAME                 Delete a monitor (also: delete, rm)\n"
	       "  show NAME                Show a monitor's interface, mode and configuration\n"
	       "  inject NAME FILE|-       Inject a dataplane configuration (- reads stdin)\n"
	       "  attach NAME IFACE        Attach a monitor to a network interface, after the\n"
	       "                           monitors already there (see --position)\n"
	       "  detach NAME              Detach a monitor from its interface\n"
	       "  metrics NAME [METRIC]    Show a monitor's metrics as JSON; with METRIC, only\n"
	       "                           that metric's value\n"
	       "  open-metrics NAME [METRIC]\n"
	       "                           Show a monitor's metrics in OpenMetrics text; with\n"
	       "                           METRIC, only that metric's families\n"
	       "  watch NAME [METRIC]      Show a monitor's metrics live, with per-second rates\n"
	       "  compile CONFIG|-         Compile a configuration's code here, without dynmond:\n"
	       "                           the same configuration with each path's object\n"
	       "                           (see --sign, --type, --log-level, -o)\n"
	       "  help                     Show this help\n"
	       "\n"
	       "Options:\n"
	       "  -h --help                Show this help\n"
	       "     --version             Show the version\n"
	       "     --json                Print list, show and metrics as compact JSON\n"
	       "  -q --quiet               Print no header (list) and no object path (add)\n"
	       "  -t --type=MODE           add: attach with TC, XDP_SKB or XDP_DRV\n"
	       "  -c --config=FILE|-       add: inject this dataplane configuration at once\n"
	       "     --position=WHERE      attach: first (nearest the wire), last or auto (last)\n"
	       "     --before=MONITOR      attach: just before (nearer the wire than) MONITOR\n"
	       "     --after=MONITOR       attach: just after MONITOR\n"
	       "     --ingress             metrics, open-metrics, watch: ingress path only\n"
	       "     --egress              metrics, open-metrics, watch: egress path only\n"
	       "  -o --output=FILE         metrics, open-metrics, compile: write to FILE instead\n"
	       "     --sign=KEY            compile: sign the objects with this Ed25519 private\n"
	       "                           key (PEM)\n"
	       "     --log-level=LEVEL     compile: the monitor's pcn_log level (default OFF);\n"
	       "                           --type: its mode (default TC)\n"
	       "     --clang=PATH          compile: the compiler\n"
	       "     --bpf-include-dir=DIR compile: dynmon's headers\n"
	       "  -n --interval=SEC        watch: read every SEC seconds (default 1, >= 0.1)\n"
	       "     --count=N             watch: stop after N refreshes (default: at Ctrl-C)\n"
	       "\n"
	       "Exit status:\n"
	       "  0  success\n"
	       "  1  any other failure\n"
	       "  2  usage error\n"
	       "  3  input rejected (InvalidConfig, ConfigTooLarge, CompileFailed,\n"
	       "     VerifierRejected, IncludeRefused, MapTooLarge, PinRefused,\n"
	       "     ObjectMismatch, ObjectUnsigned, SignatureRejected, InvalidArgument,\n"
	       "     or a file that is not UTF-8 text)\n"
	       "  4  no such monitor, interface or metric (NoSuchMonitor,\n"
	       "     NoSuchInterface)\n"
	       "  5  permission denied (PermissionDenied, InteractiveAuthorizationRequired,\n"
	       "     or the bus policy's AccessDenied)\n"
	       "  6  dynmond not reachable (no system bus, or org.polycube.Dynmon has no\n"
	       "     owner and cannot be activated)\n"
	       "  7  state conflict (MonitorExists, NotAttached, Busy)\n");
	return EXIT_OK;
}

enum {
	VERB_NO_BUS = 1 << 0,
	VERB_CREATE_OPTIONS = 1 << 1,  /* takes --type and --config */
	VERB_PATH_OPTIONS = 1 << 2,    /* takes --ingress and --egress */
	VERB_OUTPUT_OPTION = 1 << 3,   /* takes --output */
	VERB_WATCH_OPTIONS = 1 << 4,   /* takes --interval and --count */
	VERB_ATTACH_OPTIONS = 1 << 5,  /* takes --position, --before and --after */
	VERB_COMPILE_OPTIONS = 1 << 6, /* takes --sign, --clang, --bpf-include-dir, --log-level */
};

/* The commands: name, fewest and most arguments after the name, handler, flags. */
static const struct verb {
	const char *name;
	int min_args;
	int max_args;
	int (*run)(sd_bus *bus, char **args);
	unsigned flags;
} verbs[] = {
    {"list", 0, 0, do_list},
    {"add", 1, 1, do_add, VERB_CREATE_OPTIONS},
    {"del", 1, 1, do_del},
    {"delete", 1, 1, do_del},
    {"rm", 1, 1, do_del},
    {"show", 1, 1, do_show},
    {"inject", 2, 2, do_inject},
    {"attach", 2, 2, do_attach, VERB_ATTACH_OPTIONS},
    {"detach", 1, 1, do_detach},
    {"metrics", 1, 2, do_metrics, VERB_PATH_OPTIONS | VERB_OUTPUT_OPTION},
    {"open-metrics", 1, 2, do_open_metrics, VERB_PATH_OPTIONS | VERB_OUTPUT_OPTION},
    {"watch", 1, 2, do_watch, VERB_PATH_OPTIONS | VERB_WATCH_OPTIONS},
    {"compile", 1, 1, do_compile, VERB_NO_BUS | VERB_OUTPUT_OPTION | VERB_COMPILE_OPTIONS},
    {"help", 0, 0, do_help, VERB_NO_BUS},
};

/* Finds the verb args[0] names and checks what the command line gives it. */
static int verb_find(int nargs, char **args, const struct verb **ret)
{
	const struct verb *v = NULL;

	for (size_t i = 0; i < ELEMENTSOF(verbs) && !v; i++)
		if (streq(verbs[i].name, args[0]))
			v = &verbs[i];
	if (!v)
		return log_usage_error("Unknown command '%s'.", args[0]);
	if (nargs - 1 < v->min_args)
		return log_usage_error("Too few arguments for '%s'.", v->name);
	if (nargs - 1 > v->max_args)
		return log_usage_error("Too many arguments for '%s'.", v->name);
	if (arg_config && !(v->flags & VERB_CREATE_OPTIONS))
		return log_usage_error("--config goes with 'add' only.");
	if (arg_type && !(v->flags & (VERB_CREATE_OPTIONS | VERB_COMPILE_OPTIONS)))
		return log_usage_error("--type goes with 'add' and 'compile' only.");
	if ((arg_sign_key || arg_clang || arg_include_dir || arg_log_level) &&
	    !(v->flags & VERB_COMPILE_OPTIONS))
		return log_usage_error(
		    "--sign, --clang, --bpf-include-dir and --log-level go with 'compile' only.");
	if (arg_direction != METRICS_BOTH && !(v->flags & VERB_PATH_OPTIONS))
		return log_usage_error(
		    "--ingress and --egress go with 'metrics', 'open-metrics' and 'watch' only.");
	if (arg_place_key && !(v->flags & VERB_ATTACH_OPTIONS))
		return log_usage_error("--position, --before and --after go with 'attach' only.");
	if (arg_output && !(v->flags & VERB_OUTPUT_OPTION))
		return log_usage_error(
		    "--output goes with 'metrics', 'open-metrics' and 'compile' only.");
	if ((arg_interval_given || arg_count) && !(v->flags & VERB_WATCH_OPTIONS))
		return log_usage_error("--interval and --count go with 'watch' only.");
	*ret = v;
	return EXIT_OK;
}

static int parse_direction(enum metrics_direction dir)
{
	if (arg_direction != METRICS_BOTH && arg_direction != dir)
		return log_usage_error("--ingress and --egress exclude each other.");
	arg_direction = dir;
	return EXIT_OK;
}

/* Seconds between watch's reads: fast enough for a demo, slow enough not to keep dynmond busy. */
static int parse_interval(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end || !isfinite(v) || v < 0.1 || v > 86400)
		return log_usage_error("--interval wants seconds from 0.1 to 86400, not '%s'.", s);
	arg_interval = v;
	arg_interval_given = true;
	return EXIT_OK;
}

static int parse_count(const char *s)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end || *s == '-' || v == 0 || v > UINT_MAX)
		return log_usage_error("--count wants a number of refreshes from 1, not '%s'.", s);
	arg_count = (unsigned)v;
	return EXIT_OK;
}

/* One option of getopt's; EXIT_OK to go on. */
static int parse_option(int c, const char *value)
{
	switch (c) {
	case 'q':
		arg_quiet = true;
		return EXIT_OK;
	case 't':
		arg_type = value;
		return EXIT_OK;
	case 'c':
		arg_config = value;
		return EXIT_OK;
	case 'o':
		arg_output = value;
		return EXIT_OK;
	case 'n':
		return parse_interval(value);
	case ARG_COUNT:
		return parse_count(value);
	case ARG_INGRESS:
		return parse_direction(METRICS_INGRESS);
	case ARG_EGRESS:
		return parse_direction(METRICS_EGRESS);
	case ARG_JSON:
		arg_json = true;
		return EXIT_OK;
	case ARG_SIGN:
		arg_sign_key = value;
		return EXIT_OK;
	case ARG_CLANG:
		arg_clang = value;
		return EXIT_OK;
	case ARG_INCLUDE_DIR:
		arg_include_dir = value;
		return EXIT_OK;
	case ARG_LOG_LEVEL:
		arg_log_level = value;
		return EXIT_OK;
	case ARG_POSITION:
	case ARG_BEFORE:
	case ARG_AFTER:
		/* As polycubectl's attach: one place, given one way. */
		if (arg_place_key)
			return log_usage_error(
			    "--position, --before and --after exclude each other.");
		arg_place_key = c == ARG_POSITION ? "position"
				: c == ARG_BEFORE ? "before"
						  : "after";
		arg_place = value;
		return EXIT_OK;
	default:
		return EXIT_USAGE;
	}
}

/* Options may come anywhere on the line (getopt permutes), as in "dynmonctl show m --json".
 * Returns 1 to go on, 0 when done (--help, --version), an exit status's negation on a bad
 * option. */
static int parse_argv(int argc, char *argv[])
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, ARG_VERSION},
	    {"json", no_argument, NULL, ARG_JSON},
	    {"quiet", no_argument, NULL, 'q'},
	    {"type", required_argument, NULL, 't'},
	    {"config", required_argument, NULL, 'c'},
	    {"ingress", no_argument, NULL, ARG_INGRESS},
	    {"egress", no_argument, NULL, ARG_EGRESS},
	    {"output", required_argument, NULL, 'o'},
	    {"interval", required_argument, NULL, 'n'},
	    {"count", required_argument, NULL, ARG_COUNT},
	    {"position", required_argument, NULL, ARG_POSITION},
	    {"before", required_argument, NULL, ARG_BEFORE},
	    {"after", required_argument, NULL, ARG_AFTER},
	    {"sign", required_argument, NULL, ARG_SIGN},
	    {"clang", required_argument, NULL, ARG_CLANG},
	    {"bpf-include-dir", required_argument, NULL, ARG_INCLUDE_DIR},
	    {"log-level", required_argument, NULL, ARG_LOG_LEVEL},
	    {},
	};
	int c, r;

	while ((c = getopt_long(argc, argv, ":hqt:c:o:n:", options, NULL)) >= 0)
		switch (c) {
		case 'h':
			do_help(NULL, NULL);
			return 0;
		case ARG_VERSION:
			puts("dynmonctl " DYNMON_VERSION);
			return 0;
		case ':':
			return -log_usage_error("Option '%s' needs an argument.", argv[optind - 1]);
		case '?':
			if (optopt)
				return -log_usage_error("Unknown option '-%c'.", optopt);
			return -log_usage_error("Unknown option '%s'.", argv[optind - 1]);
		default:
			r = parse_option(c, optarg);
			if (r != EXIT_OK)
				return -r;
		}
	return 1;
}

/* Runs the verb the command line names; returns the exit status. */
static int run(int argc, char *argv[])
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	static char *default_args[] = {"list", NULL};
	const struct verb *verb = NULL;
	int nargs = argc - optind;
	char **args = nargs > 0 ? argv + optind : default_args;
	int r;

	r = verb_find(nargs > 0 ? nargs : 1, args, &verb);
	if (r != EXIT_OK)
		return r;
	if (!(verb->flags & VERB_NO_BUS)) {
		r = sd_bus_open_system(&bus);
		if (r < 0) {
			fprintf(stderr, "dynmonctl: Failed to connect to the system bus: %s\n",
				strerror(-r));
			return EXIT_UNREACHABLE;
		}
		/* Someone at a terminal can answer polkit's question (through the session's
		 * authentication agent); a script cannot, and gets a refusal at once. */
		(void)sd_bus_set_allow_interactive_authorization(bus, isatty(STDIN_FILENO));
	}
	return verb->run(bus, args);
}

int main(int argc, char *argv[])
{
	int r;

	r = parse_argv(argc, argv);
	r = r > 0 ? run(argc, argv) : -r;
	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "dynmonctl: Failed to write the output: %s\n", strerror(errno));
		return r ?: EXIT_FAIL;
	}
	return r;
}
