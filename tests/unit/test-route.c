/* SPDX-License-Identifier: Apache-2.0 */
/* The REST routes: which method and path reach which route with which parameters, what is
 * not found, what exists with other methods only, percent-decoding, and the Accept header's
 * choice between OpenMetrics and the Prometheus text format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "route.h"

#define M "/polycube/v1/dynmon"

static void test_match(void **state)
{
	static const struct {
		const char *method, *path;
		enum route_id id;
		const char *name, *metric, *list;
	} cases[] = {
	    {"GET", M, ROUTE_MONITOR_LIST},
	    {"GET", M "/", ROUTE_MONITOR_LIST},
	    {"GET", M "/mon0", ROUTE_MONITOR_GET, "mon0"},
	    {"GET", M "/mon0/", ROUTE_MONITOR_GET, "mon0"}, /* polycubectl's trailing slash */
	    {"POST", M "/mon0", ROUTE_MONITOR_CREATE, "mon0"},
	    {"PUT", M "/mon0", ROUTE_MONITOR_PUT, "mon0"},
	    {"DELETE", M "/mon0", ROUTE_MONITOR_DELETE, "mon0"},
	    {"GET", M "/mon0/dataplane-config", ROUTE_MODEL_READ, "mon0"},
	    {"PUT", M "/mon0/dataplane-config", ROUTE_CONFIG_PUT, "mon0"},
	    {"GET", M "/mon0/dataplane", ROUTE_CONFIG_GET, "mon0"},
	    {"PUT", M "/mon0/dataplane", ROUTE_CONFIG_PUT, "mon0"},
	    {"GET", M "/mon0/metrics", ROUTE_METRICS, "mon0"},
	    {"GET", M "/mon0/metrics/ingress-metrics", ROUTE_METRIC_LIST, "mon0", NULL,
	     "ingress-metrics"},
	    {"GET", M "/mon0/metrics/egress-metrics/", ROUTE_METRIC_LIST, "mon0", NULL,
	     "egress-metrics"},
	    {"GET", M "/mon0/metrics/ingress-metrics/packets_total", ROUTE_METRIC, "mon0",
	     "packets_total", "ingress-metrics"},
	    {"GET", M "/mon0/metrics/egress-metrics/bytes", ROUTE_METRIC, "mon0", "bytes",
	     "egress-metrics"},
	    {"GET", M "/mon0/metrics/ingress-metrics/packets_total/value", ROUTE_METRIC_VALUE,
	     "mon0", "packets_total", "ingress-metrics"},
	    {"GET", M "/mon0/metrics/egress-metrics/x/value", ROUTE_METRIC_VALUE, "mon0", "x",
	     "egress-metrics"},
	    {"GET", M "/mon0/open-metrics", ROUTE_OPEN_METRICS, "mon0"},
	    {"POST", "/polycube/v1/attach", ROUTE_ATTACH},
	    {"POST", "/polycube/v1/detach", ROUTE_DETACH},
	    {"GET", "/metrics", ROUTE_SCRAPE},
	    /* Captures are decoded; the literal parts of a path too. */
	    {"GET", M "/a%2Fb", ROUTE_MONITOR_GET, "a/b"},
	    {"GET", M "/mon%200", ROUTE_MONITOR_GET, "mon 0"},
	    {"GET", M "/a+b", ROUTE_MONITOR_GET, "a+b"},
	    {"GET", M "/m/metrics/ingress-metrics/%70kts", ROUTE_METRIC, "m", "pkts",
	     "ingress-metrics"},
	    {"GET", "/polycube/v1/%64ynmon/m", ROUTE_MONITOR_GET, "m"},
	    /* Empty segments are dropped, as polycubed drops them. */
	    {"GET", M "/m/metrics//", ROUTE_METRICS, "m"}, /* dynmon_extractor.py's call */
	    {"GET", "/polycube//v1///dynmon/m//", ROUTE_MONITOR_GET, "m"},
	    {"GET", "//metrics", ROUTE_SCRAPE},
	    {"GET", M "//metrics", ROUTE_MONITOR_GET, "metrics"},
	    /* The rest of the data model. */
	    {"POST", M, ROUTE_SERVICE_CREATE},
	    {"PATCH", M "/m", ROUTE_MODEL_WRITE, "m"},
	    {"PATCH", M "/m/loglevel/", ROUTE_MODEL_WRITE, "m"}, /* polycubectl set loglevel=X */
	    {"GET", M "/m/loglevel", ROUTE_MODEL_READ, "m"},
	    {"GET", M "/m/uuid", ROUTE_MODEL_READ, "m"},
	    {"GET", M "/m/dataplane-config", ROUTE_MODEL_READ, "m"},
	    {"POST", M "/m/dataplane-config", ROUTE_MODEL_WRITE, "m"},
	    {"PATCH", M "/m/dataplane-config", ROUTE_MODEL_WRITE, "m"},
	    {"DELETE", M "/m/dataplane-config", ROUTE_MODEL_WRITE, "m"},
	    {"GET",
	     M "/m/dataplane-config/ingress-path/metric-configs/c/open-metrics-metadata/labels/"
	       "l/value",
	     ROUTE_MODEL_READ, "m"},
	    {"PATCH", M "/m/dataplane-config/egress-path/name", ROUTE_MODEL_WRITE, "m"},
	    {"GET", M "/m/metrics/ingress-metrics/x/timestamp", ROUTE_MODEL_READ, "m", "x",
	     "ingress-metrics"},
	    {"OPTIONS", M, ROUTE_MODEL_HELP},
	    {"OPTIONS", M "/m", ROUTE_MODEL_HELP, "m"},
	    {"OPTIONS", M "/m/metrics/egress-metrics", ROUTE_MODEL_HELP, "m"},
	    {"OPTIONS", M "/m/type", ROUTE_MODEL_HELP, "m"},
	    /* polycubed's own endpoints. */
	    {"GET", "/polycube/v1", ROUTE_ROOT},
	    {"GET", "/polycube/v1/", ROUTE_ROOT},
	    {"OPTIONS", "/polycube/v1/", ROUTE_ROOT_HELP},
	    {"GET", "/polycube/v1/cubes/", ROUTE_CUBES},
	    {"GET", "/polycube/v1/cubes/m", ROUTE_CUBE, "m"},
	    {"OPTIONS", "/polycube/v1/cubes", ROUTE_ENDPOINT_HELP},
	    {"GET", "/polycube/v1/services", ROUTE_SERVICES},
	    {"GET", "/polycube/v1/services/dynmon", ROUTE_SERVICE, "dynmon"},
	    {"GET", "/polycube/v1/version/", ROUTE_VERSION},
	    {"GET", "/polycube/v1/netdevs", ROUTE_NETDEVS},
	    {"GET", "/polycube/v1/netdevs/eth0", ROUTE_NETDEV, "eth0"},
	    {"OPTIONS", "/polycube/v1/netdevs/eth0", ROUTE_ENDPOINT_HELP, "eth0"},
	    {"GET", "/polycube/v1/topology", ROUTE_TOPOLOGY},
	    {"OPTIONS", "/polycube/v1/topology", ROUTE_ENDPOINT_HELP},
	    /* Any other first name is a cube's: polycubed redirects it to its service. */
	    {"GET", "/polycube/v1/m", ROUTE_CUBE_PATH, "m"},
	    {"OPTIONS", "/polycube/v1/m", ROUTE_CUBE_PATH, "m"},
	    {"PATCH", "/polycube/v1/m/loglevel/", ROUTE_CUBE_PATH, "m"},
	    {"GET", "/polycube/v1/m/metrics/anything", ROUTE_CUBE_PATH, "m"},
	    {"GET", "/polycube/v1/a%2Fb", ROUTE_CUBE_PATH, "a/b"},
	    /* A name that looks like a route's literal is still a name. */
	    {"GET", M "/metrics", ROUTE_MONITOR_GET, "metrics"},
	    {"GET", M "/metrics/metrics", ROUTE_METRICS, "metrics"},
	    {"GET", M "/value/metrics/ingress-metrics/value/value", ROUTE_METRIC_VALUE, "value",
	     "value", "ingress-metrics"},
	};

	bool seen[_ROUTE_ID_MAX] = {};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct route_match m;
		int r = route_match(cases[i].method, cases[i].path, &m);

		if (r < 0)
			fail_msg("%s %s: %s", cases[i].method, cases[i].path, strerror(-r));
		seen[m.route->id] = true;
		if (m.route->id != cases[i].id)
			fail_msg("%s %s: route %d, expected %d", cases[i].method, cases[i].path,
				 m.route->id, cases[i].id);
		if (!streq_ptr(m.name, cases[i].name) || !streq_ptr(m.metric, cases[i].metric) ||
		    !streq_ptr(m.route->list, cases[i].list))
			fail_msg("%s %s: name \"%s\" metric \"%s\" list \"%s\", expected \"%s\" "
				 "\"%s\" \"%s\"",
				 cases[i].method, cases[i].path, strempty(m.name),
				 strempty(m.metric), strempty(m.route->list),
				 strempty(cases[i].name), strempty(cases[i].metric),
				 strempty(cases[i].list));
		if (m.route->method != (enum route_method)route_method_from_string(cases[i].method))
			fail_msg("%s %s: matched a %s route", cases[i].method, cases[i].path,
				 route_method_to_string(m.route->method));
		route_match_done(&m);
	}
	for (int id = 0; id < _ROUTE_ID_MAX; id++)
		if (!seen[id])
			fail_msg("route %d is reached by no case", id);
}

#define BIT(m) (1u << (m))

static void test_no_match(void **state)
{
	static const struct {
		const char *method, *path;
		int error;
		unsigned allowed;
	} cases[] = {
	    {"GET", "/", -ENOENT},
	    {"GET", "", -ENOENT},
	    {"GET", "polycube/v1/dynmon", -ENOENT},
	    {"GET", "/polycube", -ENOENT},
	    {"GET", "/polycube/v2/dynmon/mon0", -ENOENT},
	    {"GET", M "/mon0/unknown", -ENOENT},
	    {"GET", M "/mon0/metrics/other-metrics", -ENOENT},
	    {"GET", M "/mon0/metrics/ingress-metrics/x/value/more", -ENOENT},
	    {"GET", "/polycube/v1/cubes/m/x", -ENOENT}, /* a name of polycubed's, not a cube */
	    {"GET", "/polycube/v1/metrics/x", -ENOENT},
	    {"GET", "/metrics/x", -ENOENT},
	    {"GET", "/METRICS", -ENOENT},
	    {"GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r", -ENOENT},
	    /* The path exists, the method does not: what it has instead. */
	    {"PUT", "/metrics", -EOPNOTSUPP, BIT(ROUTE_GET)},
	    {"DELETE", M, -EOPNOTSUPP, BIT(ROUTE_GET) | BIT(ROUTE_POST) | BIT(ROUTE_OPTIONS)},
	    {"GET", "/polycube/v1/attach", -EOPNOTSUPP, BIT(ROUTE_POST)},
	    {"POST", M "/m/metrics", -EOPNOTSUPP, BIT(ROUTE_GET) | BIT(ROUTE_OPTIONS)},
	    {"POST", M "/m/dataplane", -EOPNOTSUPP, BIT(ROUTE_GET) | BIT(ROUTE_PUT)},
	    /* Init-only (polycube-base:init-only-config) and state leaves: read only. */
	    {"PATCH", M "/m/type", -EOPNOTSUPP, BIT(ROUTE_GET) | BIT(ROUTE_OPTIONS)},
	    {"PATCH", M "/m/metrics/ingress-metrics/x/value", -EOPNOTSUPP,
	     BIT(ROUTE_GET) | BIT(ROUTE_OPTIONS)},
	    {"PUT", M "/m/loglevel", -EOPNOTSUPP,
	     BIT(ROUTE_GET) | BIT(ROUTE_PATCH) | BIT(ROUTE_OPTIONS)},
	    {"DELETE", M "/m/dataplane-config/ingress-path/metric-configs", -EOPNOTSUPP,
	     BIT(ROUTE_GET) | BIT(ROUTE_OPTIONS)},
	    {"get", "/metrics", -EOPNOTSUPP, BIT(ROUTE_GET)}, /* methods are case-sensitive */
	    {"HEAD", "/polycube/v1/attach", -EOPNOTSUPP, BIT(ROUTE_POST)}, /* HEAD is GET only */
	    {"head", "/metrics", -EOPNOTSUPP, BIT(ROUTE_GET)},
	    /* Malformed escapes, and a NUL. */
	    {"GET", M "/a%2", -EINVAL},
	    {"GET", M "/a%", -EINVAL},
	    {"GET", M "/a%zz", -EINVAL},
	    {"GET", M "/a%00b", -EINVAL},
	    {"GET", M "/%g0", -EINVAL},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct route_match m;
		int r = route_match(cases[i].method, cases[i].path, &m);

		if (r != cases[i].error)
			fail_msg("%s \"%s\": %d (%s), expected %d", cases[i].method, cases[i].path,
				 r, r < 0 ? strerror(-r) : "matched", cases[i].error);
		if (m.allowed != cases[i].allowed)
			fail_msg("%s %s: allowed 0x%x, expected 0x%x", cases[i].method,
				 cases[i].path, m.allowed, cases[i].allowed);
		assert_null(m.route);
		assert_null(m.name);
		assert_null(m.metric);
	}
}

static void test_decode(void **state)
{
	static const struct {
		const char *in;
		const char *out; /* NULL: -EINVAL */
	} cases[] = {
	    {"", ""},
	    {"plain", "plain"},
	    {"%41%62", "Ab"},
	    {"%2f%2F", "//"},
	    {"%e2%82%ac", "\xe2\x82\xac"},
	    {"100%25", "100%"},
	    {"a+b", "a+b"},
	    {"%", NULL},
	    {"%4", NULL},
	    {"%4g", NULL},
	    {"%G4", NULL},
	    {"%00", NULL},
	    {"ok%", NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *out = NULL;
		int r = route_decode(cases[i].in, strlen(cases[i].in), &out);

		if (!cases[i].out) {
			if (r != -EINVAL)
				fail_msg("\"%s\": %d \"%s\", expected -EINVAL", cases[i].in, r,
					 strempty(out));
			continue;
		}
		if (r < 0 || !streq(out, cases[i].out))
			fail_msg("\"%s\": %d \"%s\", expected \"%s\"", cases[i].in, r,
				 strempty(out), cases[i].out);
	}
	/* Only the given bytes count: the rest of the string is not read. */
	{
		_cleanup_free_ char *out = NULL;

		assert_int_equal(route_decode("ab%41cd", 5, &out), 0);
		assert_string_equal(out, "abA");
	}
}

static void test_method(void **state)
{
	static const struct {
		const char *name;
		int method;
		bool writes;
	} cases[] = {
	    {"GET", ROUTE_GET, false},
	    {"POST", ROUTE_POST, true},
	    {"PUT", ROUTE_PUT, true},
	    {"DELETE", ROUTE_DELETE, true},
	    {"PATCH", ROUTE_PATCH, true},
	    {"OPTIONS", ROUTE_OPTIONS, false},
	    {"HEAD", -EINVAL},
	    {"post", -EINVAL},
	    {"", -EINVAL},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int m = route_method_from_string(cases[i].name);

		if (m != cases[i].method)
			fail_msg("\"%s\": %d, expected %d", cases[i].name, m, cases[i].method);
		if (m < 0)
			continue;
		assert_string_equal(route_method_to_string(m), cases[i].name);
		if (route_method_writes(m) != cases[i].writes)
			fail_msg("%s: writes %d", cases[i].name, route_method_writes(m));
	}
	assert_null(route_method_to_string(_ROUTE_METHOD_MAX));
}

/* RFC 9110 9.3.2: every GET resource answers HEAD, as GET without the content; the HTTP side
 * leaves the body out, so HEAD reaches the very route GET does. */
static void test_head(void **state)
{
	/* Paths the data model decides, besides the table's. */
	static const char *const model_paths[] = {
	    M,
	    M "/mon0",
	    M "/mon0/dataplane-config",
	    M "/mon0/metrics",
	    M "/mon0/metrics/ingress-metrics/packets_total/value",
	    M "/mon0/open-metrics",
	};

	for (size_t i = 0; i < ELEMENTSOF(model_paths); i++) {
		struct route_match get, head;

		assert_int_equal(route_match("GET", model_paths[i], &get), 0);
		if (route_match("HEAD", model_paths[i], &head) < 0 ||
		    head.route->id != get.route->id)
			fail_msg("HEAD %s does not reach GET's route", model_paths[i]);
		route_match_done(&get);
		route_match_done(&head);
	}
	for (size_t i = 0; i < route_table_size; i++) {
		const struct route *r = &route_table[i];
		struct route_match get, head;
		_cleanup_free_ char *path = NULL;

		if (r->method != ROUTE_GET)
			continue;
		path = strdup(r->pattern);
		assert_non_null(path);
		for (char *q; (q = strchr(path, '{'));) {
			char *end = strchr(q, '}');
			memmove(q + 1, end + 1, strlen(end + 1) + 1);
			*q = 'x';
		}
		assert_int_equal(route_match("GET", path, &get), 0);
		if (route_match("HEAD", path, &head) < 0 || head.route != get.route)
			fail_msg("HEAD %s does not reach GET's route", path);
		assert_false(route_method_writes(head.route->method));
		route_match_done(&get);
		route_match_done(&head);
	}
}

static void test_allow_header(void **state)
{
	static const struct {
		unsigned allowed;
		const char *header;
	} cases[] = {
	    {0, ""},
	    {BIT(ROUTE_GET), "GET, HEAD"},
	    {BIT(ROUTE_POST), "POST"},
	    {BIT(ROUTE_GET) | BIT(ROUTE_PUT), "GET, HEAD, PUT"},
	    {BIT(ROUTE_GET) | BIT(ROUTE_POST) | BIT(ROUTE_PUT) | BIT(ROUTE_DELETE),
	     "GET, HEAD, POST, PUT, DELETE"},
	    {BIT(ROUTE_GET) | BIT(ROUTE_OPTIONS), "GET, HEAD, OPTIONS"},
	    {(1u << _ROUTE_METHOD_MAX) - 1, "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[ROUTE_ALLOW_MAX];

		route_allow_header(cases[i].allowed, buf);
		assert_string_equal(buf, cases[i].header);
	}
}

/* The table itself: every pattern absolute with only known captures, no (method, path) twice,
 * a list exactly on the routes that read one, and every route reachable by its own pattern. */
static void test_table(void **state)
{
	for (size_t i = 0; i < route_table_size; i++) {
		const struct route *r = &route_table[i];
		_cleanup_free_ char *path = NULL;
		struct route_match m;
		bool wants_list = r->id == ROUTE_METRIC_LIST || r->id == ROUTE_METRIC ||
				  r->id == ROUTE_METRIC_VALUE;
		const char *p;

		assert_true(r->pattern[0] == '/');
		for (p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{'))
			if (strncmp(p, "{name}", 6) != 0 && strncmp(p, "{metric}", 8) != 0)
				fail_msg("%s: unknown capture %s", r->pattern, p);
		if (wants_list != (r->list != NULL))
			fail_msg("%s: list \"%s\"", r->pattern, strempty(r->list));
		for (size_t j = 0; j < i; j++)
			if (route_table[j].method == r->method &&
			    streq(route_table[j].pattern, r->pattern))
				fail_msg("%s %s twice", route_method_to_string(r->method),
					 r->pattern);

		/* The pattern with its captures filled in leads back to this very entry. */
		path = strdup(r->pattern);
		assert_non_null(path);
		for (char *q; (q = strchr(path, '{'));) {
			char *end = strchr(q, '}');
			memmove(q + 1, end + 1, strlen(end + 1) + 1);
			*q = 'x';
		}
		assert_int_equal(route_match(route_method_to_string(r->method), path, &m), 0);
		if (m.route != r)
			fail_msg("%s: %s reaches %s", r->pattern, path, m.route->pattern);
		route_match_done(&m);
	}
}

static void test_accept(void **state)
{
	static const struct {
		const char *accept;
		bool openmetrics;
	} cases[] = {
	    {NULL, false},
	    {"", false},
	    {"*/*", false},
	    {"text/plain", false},
	    {"text/plain; version=0.0.4", false},
	    {"application/openmetrics-text", true},
	    {"application/openmetrics-text; version=1.0.0; charset=utf-8", true},
	    {"APPLICATION/OpenMetrics-Text", true},
	    {"application/json, application/openmetrics-text;version=1.0.0", true},
	    /* What Prometheus 2.x sends. */
	    {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version="
	     "0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	     true},
	    /* By q-value, OpenMetrics on a tie. */
	    {"text/plain;q=0.9, application/openmetrics-text;q=0.5", false},
	    {"text/plain;q=0.5, application/openmetrics-text;q=0.9", true},
	    {"text/plain, application/openmetrics-text", true},
	    {"application/openmetrics-text ; q=0.3 , text/plain ; q=0.2", true},
	    {"application/openmetrics-text;q=0", false},
	    {"application/openmetrics-text;Q=0", false},
	    {"application/openmetrics-text;q=bogus", false},
	    {"application/openmetrics-text;q=2", false},
	    {"application/openmetrics-textual", false},
	    {"application/openmetrics", false},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (route_accepts_openmetrics(cases[i].accept) != cases[i].openmetrics)
			fail_msg("Accept: %s: expected %s", strempty(cases[i].accept),
				 cases[i].openmetrics ? "OpenMetrics" : "Prometheus text");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),  cmocka_unit_test(test_no_match),
	    cmocka_unit_test(test_decode), cmocka_unit_test(test_method),
	    cmocka_unit_test(test_table),  cmocka_unit_test(test_accept),
	    cmocka_unit_test(test_head),   cmocka_unit_test(test_allow_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
