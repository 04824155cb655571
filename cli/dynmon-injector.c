/* SPDX-License-Identifier: Apache-2.0 */
/* dynmon-injector: Polycube's injector tool, with its usage, for dynmond. Like the original it
 * talks REST: it creates the monitor with the dataplane and attaches it to the interface, or, when
 * the monitor exists, moves it to the interface if it is elsewhere and injects the dataplane. */
#include <getopt.h>
#include <stdarg.h>

#include <curl/curl.h>
#include <jansson.h>

#include "build-config.h"
#include "errors.h"
#include "exit-status.h"
#include "util.h"

#define API_PREFIX "/polycube/v1"
/* Compiling and verifying injected code can take seconds; dynmond's own limit is 60 s. */
#define REQUEST_TIMEOUT_SEC 120L
#define CONNECT_TIMEOUT_SEC 10L

static const char *arg_address = "localhost";
static unsigned long arg_port = 9000;
static const char *arg_name;
static const char *arg_interface;
static const char *arg_dataplane;

static const char *const header_lines[] = {"Accept: application/json",
					   "Content-Type: application/json", "Expect:"};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all)
DEFINE_TRIVIAL_CLEANUP_FUNC(char *, curl_free)

/* One connection to dynmond, kept open across the requests of a run. */
struct client {
	CURL *curl;
	char *base; /* "http://ADDRESS:PORT" */
	char curl_error[CURL_ERROR_SIZE];
};

/* What dynmond answered. */
struct reply {
	long status;
	char *body;
	json_t *json; /* the body, when it is JSON */
};

static void client_done(struct client *c)
{
	curl_easy_cleanup(c->curl);
	free(c->base);
}

static void reply_done(struct reply *r)
{
	free(r->body);
	json_decref(r->json);
	*r = (struct reply){};
}

static const char *reply_string(const struct reply *r, const char *key)
{
	return json_string_value(json_object_get(r->json, key));
}

static bool reply_is_error(const struct reply *r, const char *name)
{
	return streq_ptr(reply_string(r, "error"), name);
}

static int reply_exit_status(const struct reply *r)
{
	int status = exit_status_for_error(reply_string(r, "error"), -1);

	if (status >= 0)
		return status;
	/* An error without a name of dynmond's: by the HTTP status. */
	switch (r->status) {
	case 400:
	case 413:
	case 422:
		return EXIT_REJECTED;
	case 401:
	case 403:
		return EXIT_DENIED;
	case 404:
		return EXIT_NOT_FOUND;
	case 409:
		return EXIT_CONFLICT;
	default:
		return EXIT_FAIL;
	}
}

/* Prints "dynmon-injector: <what failed>: <dynmond's message>" and returns the exit status. A
 * reply that is not one of dynmond's errors (another server on the port?) is shown as it is. */
static int log_reply_errorv(const struct reply *r, const char *fmt, va_list ap)
{
	const char *message = reply_string(r, "message");
	int n;

	fputs("dynmon-injector: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (message) {
		/* Compiler diagnostics and verifier logs end with a newline of their own. */
		n = (int)strlen(message);
		while (n > 0 && message[n - 1] == '\n')
			n--;
		fprintf(stderr, ": %.*s\n", n, message);
	} else
		fprintf(stderr, ": HTTP status %ld%s%.200s\n", r->status,
			isempty(r->body) ? "" : ": ", strempty(r->body));
	return reply_exit_status(r);
}

_printf_(2, 3) static int log_reply_error(const struct reply *r, const char *fmt, ...)
{
	va_list ap;
	int status;

	va_start(ap, fmt);
	status = log_reply_errorv(r, fmt, ap);
	va_end(ap);
	return status;
}

static int log_oom(void)
{
	fputs("dynmon-injector: Out of memory\n", stderr);
	return EXIT_FAIL;
}

static int client_init(struct client *c)
{
	/* An IPv6 address goes in brackets in a URL. */
	bool bracket = strchr(arg_address, ':') && arg_address[0] != '[';

	c->curl = curl_easy_init();
	if (!c->curl) {
		fputs("dynmon-injector: Cannot initialize libcurl\n", stderr);
		return EXIT_FAIL;
	}
	if (asprintf(&c->base, "http://%s%s%s:%lu", bracket ? "[" : "", arg_address,
		     bracket ? "]" : "", arg_port) < 0) {
		c->base = NULL;
		return log_oom();
	}
	return EXIT_OK;
}

static int client_setup(struct client *c, const char *method, const char *url, const char *body,
			struct curl_slist *headers, FILE *out)
{
	CURL *h = c->curl;

	curl_easy_reset(h);
	c->curl_error[0] = '\0';
	/* No proxy (CURLOPT_PROXY ""): an http_proxy meant for the web must not carry dynmond's
	 * calls. No "Expect: 100-continue" wait before a large configuration (header_lines). */
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, out) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_error) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "dynmon-injector/" DYNMON_VERSION) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_SEC) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_SEC) != CURLE_OK)
		return -EINVAL;
	if (body && (curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
		     curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) != CURLE_OK))
		return -EINVAL;
	return 0;
}

static int log_transfer_error(const struct client *c, CURLcode code)
{
	const char *why = c->curl_error[0] ? c->curl_error : curl_easy_strerror(code);

	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		fprintf(stderr, "dynmon-injector: Cannot reach dynmond at %s: %s\n", c->base, why);
		return EXIT_UNREACHABLE;
	default:
		fprintf(stderr, "dynmon-injector: No answer from dynmond at %s: %s\n", c->base,
			why);
		return EXIT_FAIL;
	}
}

/* Sends `method` `path` with `body` (NULL: none) and reads the answer, whatever its status. Only
 * getting no answer is a failure here: printed, and its exit status returned. */
static int client_request(struct client *c, const char *method, const char *path, json_t *body,
			  struct reply *ret)
{
	_cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
	_cleanup_free_ char *url = NULL, *text = NULL, *out = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	size_t size = 0;
	CURLcode code;

	if (asprintf(&url, "%s%s", c->base, path) < 0) {
		url = NULL;
		return log_oom();
	}
	if (body && !(text = json_dumps(body, JSON_COMPACT)))
		return log_oom();
	f = open_memstream(&out, &size);
	if (!f)
		return log_oom();
	for (size_t i = 0; i < ELEMENTSOF(header_lines); i++) {
		struct curl_slist *l = curl_slist_append(headers, header_lines[i]);

		if (!l)
			return log_oom();
		headers = l;
	}
	if (client_setup(c, method, url, text, headers, f) < 0) {
		fputs("dynmon-injector: Cannot set up the HTTP request\n", stderr);
		return EXIT_FAIL;
	}
	code = curl_easy_perform(c->curl);
	if (fclose(TAKE_PTR(f)) != 0)
		return log_oom();
	if (code != CURLE_OK)
		return log_transfer_error(c, code);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &ret->status);
	ret->body = TAKE_PTR(out);
	ret->json = json_loads(ret->body, JSON_DECODE_ANY, NULL);
	return EXIT_OK;
}

/* A request that must succeed (2xx). On failure prints "<what>: <why>" (fmt...) and returns the
 * exit status. */
_printf_(5, 6) static int client_call(struct client *c, const char *method, const char *path,
				      json_t *body, const char *fmt, ...)
{
	_cleanup_(reply_done) struct reply r = {};
	va_list ap;
	int status;

	status = client_request(c, method, path, body, &r);
	if (status != EXIT_OK)
		return status;
	if (r.status >= 200 && r.status < 300)
		return EXIT_OK;
	va_start(ap, fmt);
	status = log_reply_errorv(&r, fmt, ap);
	va_end(ap);
	return status;
}

/* Does the monitor exist, and where is it attached ("" nowhere)? */
static int monitor_lookup(struct client *c, const char *path, bool *ret_exists, char **ret_parent)
{
	_cleanup_(reply_done) struct reply r = {};
	const char *parent;
	int status;

	status = client_request(c, "GET", path, NULL, &r);
	if (status != EXIT_OK)
		return status;
	/* Only dynmond's own "no such monitor": a 404 for the path itself is a wrong server. */
	if (r.status == 404 && reply_is_error(&r, DM_ERROR_PREFIX "NoSuchMonitor")) {
		*ret_exists = false;
		return EXIT_OK;
	}
	if (r.status != 200)
		return log_reply_error(&r, "Cannot look up monitor %s", arg_name);
	parent = reply_string(&r, "parent");
	if (!json_is_object(r.json) || (json_object_get(r.json, "parent") && !parent)) {
		fprintf(stderr, "dynmon-injector: Unexpected answer for monitor %s: %.200s\n",
			arg_name, r.body);
		return EXIT_FAIL;
	}
	*ret_parent = strdup(strempty(parent));
	if (!*ret_parent)
		return log_oom();
	*ret_exists = true;
	return EXIT_OK;
}

/* POST /polycube/v1/attach or /detach {"cube": NAME, "port": IFACE}. */
static int monitor_port(struct client *c, const char *verb, const char *interface)
{
	_cleanup_(json_decrefp) json_t *body = NULL;
	_cleanup_free_ char *path = NULL;

	body = json_pack("{s:s, s:s}", "cube", arg_name, "port", interface);
	if (!body || asprintf(&path, API_PREFIX "/%s", verb) < 0)
		return log_oom();
	return client_call(c, "POST", path, body, "Cannot %s monitor %s %s %s", verb, arg_name,
			   streq(verb, "attach") ? "to" : "from", interface);
}

/* A new monitor: created with the dataplane (a configuration that fails leaves nothing behind),
 * then attached; if the attach fails, the monitor goes again. */
static int monitor_new(struct client *c, const char *path, json_t *config)
{
	_cleanup_(json_decrefp) json_t *body = NULL;
	int status;

	body = json_pack("{s:O}", "dataplane-config", config);
	if (!body)
		return log_oom();
	status = client_call(c, "POST", path, body, "Cannot create monitor %s with %s", arg_name,
			     arg_dataplane);
	if (status != EXIT_OK)
		return status;
	status = monitor_port(c, "attach", arg_interface);
	if (status != EXIT_OK) {
		if (client_call(c, "DELETE", path, NULL, "Cannot delete monitor %s again",
				arg_name) == EXIT_OK)
			fprintf(stderr, "dynmon-injector: Monitor %s deleted again.\n", arg_name);
		return status;
	}
	printf("Created monitor %s with %s and attached it to %s.\n", arg_name, arg_dataplane,
	       arg_interface);
	return EXIT_OK;
}

/* An existing monitor: moved to the interface unless it is there already, then injected. */
static int monitor_update(struct client *c, const char *path, const char *parent, json_t *config)
{
	_cleanup_free_ char *config_path = NULL;
	int status;

	if (streq(parent, arg_interface))
		printf("Monitor %s is attached to %s already.\n", arg_name, arg_interface);
	else {
		if (!isempty(parent)) {
			status = monitor_port(c, "detach", parent);
			if (status != EXIT_OK)
				return status;
			printf("Detached monitor %s from %s.\n", arg_name, parent);
		}
		status = monitor_port(c, "attach", arg_interface);
		if (status != EXIT_OK)
			return status;
		printf("Attached monitor %s to %s.\n", arg_name, arg_interface);
	}
	if (asprintf(&config_path, "%s/dataplane-config", path) < 0)
		return log_oom();
	status = client_call(c, "PUT", config_path, config, "Cannot inject %s into monitor %s",
			     arg_dataplane, arg_name);
	if (status != EXIT_OK)
		return status;
	printf("Injected %s into monitor %s.\n", arg_dataplane, arg_name);
	return EXIT_OK;
}

static int inject(json_t *config)
{
	_cleanup_(client_done) struct client c = {};
	_cleanup_(curl_freep) char *escaped = NULL;
	_cleanup_free_ char *path = NULL, *parent = NULL;
	bool exists = false;
	int status;

	status = client_init(&c);
	if (status != EXIT_OK)
		return status;
	escaped = curl_easy_escape(c.curl, arg_name, 0);
	if (!escaped || asprintf(&path, API_PREFIX "/dynmon/%s", escaped) < 0)
		return log_oom();
	status = monitor_lookup(&c, path, &exists, &parent);
	if (status != EXIT_OK)
		return status;
	if (!exists)
		return monitor_new(&c, path, config);
	return monitor_update(&c, path, parent, config);
}

static int read_dataplane(json_t **ret)
{
	json_error_t error;

	*ret = json_load_file(arg_dataplane, JSON_REJECT_DUPLICATES, &error);
	if (*ret)
		return EXIT_OK;
	if (json_error_code(&error) == json_error_cannot_open_file) {
		fprintf(stderr, "dynmon-injector: %s\n", error.text);
		return EXIT_FAIL;
	}
	fprintf(stderr, "dynmon-injector: %s is not valid JSON (line %d, column %d): %s\n",
		arg_dataplane, error.line, error.column, error.text);
	return EXIT_REJECTED;
}

static void help(void)
{
	printf("Usage: dynmon-injector [-h] [-a ADDRESS] [-p PORT] [-v] cube_name peer_interface "
	       "path_to_dataplane\n"
	       "\n"
	       "Creates the dynmon monitor cube_name with the dataplane configuration in\n"
	       "path_to_dataplane and attaches it to peer_interface. If the monitor exists, it is\n"
	       "moved to peer_interface when it is attached elsewhere, then the dataplane is\n"
	       "injected into it. It talks to dynmond's REST API, which must accept writes\n"
	       "(dynmond --rest-allow-writes).\n"
	       "\n"
	       "positional arguments:\n"
	       "  cube_name             the name of the monitor\n"
	       "  peer_interface        the network interface to attach the monitor to\n"
	       "  path_to_dataplane     the JSON file of the dataplane configuration: the code\n"
	       "                        and the metadata of the metrics it exports\n"
	       "\n"
	       "optional arguments:\n"
	       "  -h, --help            show this help message and exit\n"
	       "  -a ADDRESS, --address ADDRESS\n"
	       "                        dynmond's REST address (default: localhost)\n"
	       "  -p PORT, --port PORT  dynmond's REST port (default: 9000)\n"
	       "  -v, --version         show the version number and exit\n"
	       "\n"
	       "Exit status:\n"
	       "  0  success\n"
	       "  1  any other failure (the file cannot be read, no answer in time...)\n"
	       "  2  usage error\n"
	       "  3  input rejected: the file is not JSON, or dynmond refused the configuration\n"
	       "     (InvalidConfig, CompileFailed, VerifierRejected, InvalidArgument)\n"
	       "  4  no such interface (NoSuchInterface) or monitor\n"
	       "  5  permission denied: dynmond refuses REST writes (no --rest-allow-writes)\n"
	       "  6  dynmond not reachable at ADDRESS:PORT\n"
	       "  7  state conflict (MonitorExists, NotAttached, Busy)\n");
}

#define log_usage_error(...) log_usage_error_of("dynmon-injector", __VA_ARGS__)

/* Returns -1 to go on, else the exit status. */
static int parse_argv(int argc, char *argv[])
{
	static const struct option options[] = {{"help", no_argument, NULL, 'h'},
						{"address", required_argument, NULL, 'a'},
						{"port", required_argument, NULL, 'p'},
						{"version", no_argument, NULL, 'v'},
						{}};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "ha:p:v", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return EXIT_OK;
		case 'a':
			arg_address = optarg;
			break;
		case 'p':
			errno = 0;
			arg_port = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || arg_port == 0 || arg_port > 65535)
				return log_usage_error("Invalid port: %s", optarg);
			break;
		case 'v':
			printf("dynmon-injector %s\n", DYNMON_VERSION);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 3)
		return log_usage_error("Expected 3 arguments (cube_name peer_interface "
				       "path_to_dataplane), got %d",
				       argc - optind);
	if (isempty(arg_address))
		return log_usage_error("Empty address");
	arg_name = argv[optind];
	arg_interface = argv[optind + 1];
	arg_dataplane = argv[optind + 2];
	return -1;
}

int main(int argc, char *argv[])
{
	_cleanup_(json_decrefp) json_t *config = NULL;
	int status;

	status = parse_argv(argc, argv);
	if (status >= 0)
		return status;
	status = read_dataplane(&config);
	if (status != EXIT_OK)
		return status;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("dynmon-injector: Cannot initialize libcurl\n", stderr);
		return EXIT_FAIL;
	}
	status = inject(config);
	curl_global_cleanup();
	return status;
}
