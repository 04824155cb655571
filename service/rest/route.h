/* SPDX-License-Identifier: Apache-2.0 */
/* The REST API's routes, as data, and a pure matcher: a method and a path in, the route and its
 * percent-decoded parameters out. It knows no HTTP library, so that it is unit-tested. */
#pragma once

#include <stdbool.h>

#include "model.h"
#include "util.h"

enum route_method {
	ROUTE_GET,
	ROUTE_POST,
	ROUTE_PUT,
	ROUTE_DELETE,
	ROUTE_PATCH,
	ROUTE_OPTIONS,
	_ROUTE_METHOD_MAX,
};

enum route_id {
	ROUTE_MONITOR_LIST,   /* every monitor, without metrics */
	ROUTE_MONITOR_GET,    /* one monitor, with its metrics */
	ROUTE_MONITOR_CREATE, /* POST: 409 if it exists */
	ROUTE_MONITOR_PUT,    /* PUT: creates, or applies the body to the existing monitor */
	ROUTE_MONITOR_DELETE,
	ROUTE_CONFIG_GET,   /* the dataplane configuration */
	ROUTE_CONFIG_PUT,   /* injects one */
	ROUTE_METRICS,	    /* {"ingress-metrics": [...], "egress-metrics": [...]} */
	ROUTE_METRIC_LIST,  /* one of the two lists (route->list) */
	ROUTE_METRIC,	    /* one {"name", "value", "timestamp"} of a list */
	ROUTE_METRIC_VALUE, /* its "value" */
	ROUTE_OPEN_METRICS, /* one monitor's OpenMetrics document */
	ROUTE_ATTACH,
	ROUTE_DETACH,
	ROUTE_SCRAPE, /* /metrics: every monitor, for Prometheus */
	/* The rest of the data model (model.h): route_match->path says where. */
	ROUTE_SERVICE_CREATE, /* POST .../dynmon {"name": ...} */
	ROUTE_MODEL_READ,     /* GET of a node, picked out of its cube (or metric) */
	ROUTE_MODEL_WRITE,    /* POST/PUT/PATCH/DELETE of a node, applied to its cube */
	ROUTE_MODEL_HELP,     /* OPTIONS ?help=...[&completion] */
	/* polycubed's own endpoints, that polycubectl uses. */
	ROUTE_ROOT,
	ROUTE_ROOT_HELP,
	ROUTE_CUBES,
	ROUTE_CUBE,
	ROUTE_SERVICES,
	ROUTE_SERVICE,
	ROUTE_VERSION,
	ROUTE_NETDEVS,
	ROUTE_NETDEV,
	ROUTE_TOPOLOGY,
	ROUTE_ENDPOINT_HELP, /* OPTIONS of /cubes, /netdevs, /topology */
	ROUTE_CUBE_PATH,     /* /polycube/v1/{cube}/...: redirected to .../dynmon/{cube}/... */
	_ROUTE_ID_MAX,
};

struct route {
	enum route_method method;
	/* Literal segments and the captures {name} (a monitor) and {metric}. */
	const char *pattern;
	enum route_id id;
	const char *list; /* the metrics list the route reads ("ingress-metrics"), or NULL */
};

extern const struct route route_table[];
extern const size_t route_table_size;

#define ROUTE_MAX_SEGMENTS 16

struct route_match {
	const struct route *route;
	char *name;   /* {name}, decoded; NULL when the route has none */
	char *metric; /* {metric}, decoded */
	/* When the path exists but not with this method: bit (1 << method) for each it has. */
	unsigned allowed;
	/* The path's decoded segments, empty ones dropped. */
	char *segments[ROUTE_MAX_SEGMENTS];
	size_t n_segments;
	/* Routes into the data model: where (its keys point into `segments`), and the route
	 * `route` points to. */
	struct model_path path;
	bool in_model;
	struct route model_route;
};

const char *route_method_to_string(enum route_method m);
int route_method_from_string(const char *s); /* -EINVAL when unknown */
/* POST, PUT, PATCH and DELETE change things: refused unless writes are enabled. */
bool route_method_writes(enum route_method m);

/* Matches a request's method and path (without its query); HEAD matches as GET. Empty segments are
 * dropped, as polycubed drops them ("//", polycubectl's trailing slash). Segments are
 * percent-decoded before they are compared or captured. Under /polycube/v1/dynmon the data model
 * (model.h) decides; /polycube/v1/{x}/... where x is no endpoint of polycubed's own is
 * ROUTE_CUBE_PATH. Returns 0 and fills *ret; -ENOENT when no route has the path; -EOPNOTSUPP when
 * some route has the path but not the method (ret->allowed says which methods it has); -EINVAL when
 * the path holds a malformed escape or one that decodes to a NUL byte. */
int route_match(const char *method, const char *path, struct route_match *ret);
void route_match_done(struct route_match *m);

/* The Allow header of a 405 for route_match.allowed: "GET, HEAD, PUT" (HEAD with each GET). */
#define ROUTE_ALLOW_MAX 64
void route_allow_header(unsigned allowed, char buf[static ROUTE_ALLOW_MAX]);

/* Percent-decodes `n` bytes of `s` ("%2F" is "/", "+" stays "+"): -EINVAL on a malformed escape
 * or a NUL. */
int route_decode(const char *s, size_t n, char **ret);

/* Whether an Accept header prefers OpenMetrics (application/openmetrics-text) to the
 * Prometheus text format (text/plain): by the q-values of the two, OpenMetrics on a tie; NULL
 * or neither named means Prometheus text. */
bool route_accepts_openmetrics(const char *accept);
