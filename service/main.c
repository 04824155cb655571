/* SPDX-License-Identifier: Apache-2.0 */
/* dynmond: parses its command line, builds the manager, opens its two doors (D-Bus, REST), runs
 * the loop, and closes the doors before the manager goes. */
#include <getopt.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "build-config.h"
#include "bus-manager.h"
#include "errors.h"
#include "files.h"
#include "log.h"
#include "manager.h"
#include "object.h"
#include "pin.h"
#include "rest-api.h"
#include "state.h"

struct options {
	struct manager_options manager;
	const char *trusted_keys; /* --trusted-keys=DIR */
	const char *rest_address; /* NULL: REST_DEFAULT_ADDRESS (rest.h); "none": no REST */
	bool rest_allow_writes;	  /* POST, PUT and DELETE over HTTP */
};

static void help(void)
{
	printf("Usage: dynmond [OPTIONS]\n\n"
	       "The dynmon daemon: injects eBPF monitors on network interfaces and exports their\n"
	       "maps as metrics over D-Bus (org.polycube.Dynmon on the system bus; set\n"
	       "DBUS_SYSTEM_BUS_ADDRESS to use another bus).\n\n"
	       "  --bpf-include-dir=DIR   compatibility headers for injected code\n"
	       "                          (default " DYNMON_BPF_INCLUDE_DIR ")\n"
	       "  --compile-timeout=SEC   limit for one compilation (default 60)\n"
	       "  --clang=PATH            the compiler (default " DYNMON_CLANG ")\n"
	       "  --trusted-keys=DIR      inject only objects signed by one of the Ed25519 keys\n"
	       "                          (*.pem) in DIR (dynmonctl compile --sign)\n"
	       "  --allow-source          with --trusted-keys, compile source code all the same\n"
	       "  --state-dir=DIR         where the monitors are saved (default $STATE_DIRECTORY,\n"
	       "                          else " STATE_DEFAULT_DIR ")\n"
	       "  --config-dir=DIR        monitors declared in DIR/*.json, applied at start\n"
	       "                          and on SIGHUP (default " FILES_DEFAULT_DIR ")\n"
	       "  --pin-dir=DIR           where their maps are pinned, on a BPF file system\n"
	       "                          (default " PIN_DEFAULT_DIR ")\n"
	       "  --rest-address=ADDR:PORT\n"
	       "                          where the REST API listens ([ADDR6]:PORT for IPv6;\n"
	       "                          none: no REST; default " REST_DEFAULT_ADDRESS "); a\n"
	       "                          socket passed by systemd is used instead\n"
	       "  --rest-allow-writes     let REST create, inject, attach, detach and delete:\n"
	       "                          whoever can reach the port can then load kernel code\n"
	       "  --bpf-stats             have the kernel count the programs' runs and run time\n"
	       "                          (dynmon_program_run* metrics; a few ns per packet)\n"
	       "  --log-level=LEVEL       err, warning, notice, info (default) or debug\n"
	       "  --list-errors           print the named errors and exit\n"
	       "  --version               print the version and exit\n"
	       "  -h, --help              print this help and exit\n");
}

static void list_errors(void)
{
	for (size_t i = 0; i < dm_error_table_size; i++)
		printf("%s%s\t%d\t%s\n", DM_ERROR_PREFIX, dm_error_table[i].name,
		       dm_error_table[i].http_status, dm_error_table[i].meaning);
}

static int parse_log_level(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {{"err", LOG_ERR},	      {"error", LOG_ERR}, {"warning", LOG_WARNING},
		      {"notice", LOG_NOTICE}, {"info", LOG_INFO}, {"debug", LOG_DEBUG}};

	for (size_t i = 0; i < ELEMENTSOF(levels); i++)
		if (streq(s, levels[i].name))
			return levels[i].level;
	return -EINVAL;
}

/* Returns 1 to run, 0 to exit successfully, <0 on bad usage. */
static int parse_argv(int argc, char *argv[], struct options *o)
{
	enum {
		ARG_INCLUDE = 0x100,
		ARG_TIMEOUT,
		ARG_LOG_LEVEL,
		ARG_LIST_ERRORS,
		ARG_VERSION,
		ARG_BPF_STATS,
		ARG_STATE_DIR,
		ARG_PIN_DIR,
		ARG_CONFIG_DIR,
		ARG_REST_ADDRESS,
		ARG_REST_ALLOW_WRITES,
		ARG_CLANG,
		ARG_TRUSTED_KEYS,
		ARG_ALLOW_SOURCE,
	};
	static const struct option options[] = {
	    {"bpf-include-dir", required_argument, NULL, ARG_INCLUDE},
	    {"compile-timeout", required_argument, NULL, ARG_TIMEOUT},
	    {"clang", required_argument, NULL, ARG_CLANG},
	    {"trusted-keys", required_argument, NULL, ARG_TRUSTED_KEYS},
	    {"allow-source", no_argument, NULL, ARG_ALLOW_SOURCE},
	    {"state-dir", required_argument, NULL, ARG_STATE_DIR},
	    {"pin-dir", required_argument, NULL, ARG_PIN_DIR},
	    {"config-dir", required_argument, NULL, ARG_CONFIG_DIR},
	    {"rest-address", required_argument, NULL, ARG_REST_ADDRESS},
	    {"rest-allow-writes", no_argument, NULL, ARG_REST_ALLOW_WRITES},
	    {"log-level", required_argument, NULL, ARG_LOG_LEVEL},
	    {"bpf-stats", no_argument, NULL, ARG_BPF_STATS},
	    {"list-errors", no_argument, NULL, ARG_LIST_ERRORS},
	    {"version", no_argument, NULL, ARG_VERSION},
	    {"help", no_argument, NULL, 'h'},
	    {}};
	int c, level;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case ARG_INCLUDE:
			o->manager.bpf_include_dir = optarg;
			break;
		case ARG_TIMEOUT:
			o->manager.compile_timeout_sec = strtoul(optarg, NULL, 10);
			if (o->manager.compile_timeout_sec == 0)
				return log_error_errno(EINVAL, "Invalid timeout: %s", optarg);
			break;
		case ARG_LOG_LEVEL:
			level = parse_log_level(optarg);
			if (level < 0)
				return log_error_errno(EINVAL, "Invalid log level: %s", optarg);
			log_set_max_level(level);
			break;
		case ARG_STATE_DIR:
			o->manager.state_dir = optarg;
			break;
		case ARG_CLANG:
			o->manager.clang = optarg;
			break;
		case ARG_TRUSTED_KEYS:
			o->trusted_keys = optarg;
			break;
		case ARG_ALLOW_SOURCE:
			o->manager.allow_source = true;
			break;
		case ARG_CONFIG_DIR:
			o->manager.config_dir = optarg;
			break;
		case ARG_PIN_DIR:
			o->manager.pin_dir = optarg;
			break;
		case ARG_REST_ADDRESS:
			o->rest_address = optarg;
			break;
		case ARG_BPF_STATS:
			o->manager.bpf_stats = true;
			break;
		case ARG_REST_ALLOW_WRITES:
			o->rest_allow_writes = true;
			break;
		case ARG_LIST_ERRORS:
			list_errors();
			return 0;
		case ARG_VERSION:
			printf("dynmond %s\n", DYNMON_VERSION);
			return 0;
		case 'h':
			help();
			return 0;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(EINVAL, "Unexpected argument: %s", argv[optind]);
	return 1;
}

/* The manager, then its doors: the bus name is taken once every saved monitor is back. */
static int run(const struct options *o)
{
	_cleanup_(dm_trust_freep) struct dm_trust *trust = NULL; /* outlives the manager */
	_cleanup_(manager_freep) struct manager *m = NULL;
	_cleanup_(bus_door_freep) struct bus_door *bus = NULL;
	_cleanup_(rest_server_freep) struct rest_server *rest = NULL;
	struct manager_options mo = o->manager;
	int r;

	if (o->trusted_keys) {
		dm_error e = DM_ERROR_NULL;

		r = dm_trust_load(o->trusted_keys, &trust, &e);
		if (r < 0) {
			log_error("%s", strempty(e.message));
			dm_error_done(&e);
			return r;
		}
		log_info("Injected objects must be signed by one of %zu trusted keys%s.",
			 dm_trust_count(trust), mo.allow_source ? " (source code allowed)" : "");
		mo.trust = trust;
	}
	r = manager_new(&mo, &m);
	if (r < 0)
		return r;
	r = bus_door_new(m, &bus);
	if (r < 0)
		return r;
	r = rest_server_new(m, o->rest_address, o->rest_allow_writes, rest_api_dispatch, &rest);
	if (r < 0)
		return r;

	log_info("dynmond %s running.", DYNMON_VERSION);
	(void)sd_notify(false, "READY=1\nSTATUS=Processing requests...");
	r = manager_run(m);
	(void)sd_notify(false, "STOPPING=1");
	/* Reads in the worker answer through the doors: they finish before the doors close,
	 * REST (which answers what still waits) before the bus, the manager last. */
	manager_finish_reads(m);
	if (r < 0)
		return log_error_errno(r, "Event loop failed: %m");
	log_info("dynmond stopping.");
	return 0;
}

int main(int argc, char *argv[])
{
	struct options o = {
	    .manager.bpf_include_dir = DYNMON_BPF_INCLUDE_DIR,
	    .manager.compile_timeout_sec = 60,
	};
	sigset_t mask;
	int r;

	r = parse_argv(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? 2 : 0;

	/* sd-event takes these as events; a blocked SIGPIPE keeps a closed client from killing us.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	return run(&o) < 0 ? 1 : 0;
}
