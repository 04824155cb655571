/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <strings.h>

#include "route.h"

#define BASE "/polycube/v1"
#define MONITOR BASE "/dynmon/{name}"

/* The paths the data model does not have: polycubed's own endpoints, Prometheus' /metrics, and
 * the seed's name for the dataplane configuration. Everything else under /polycube/v1/dynmon
 * is served from the model (route_model()). */
const struct route route_table[] = {
    {ROUTE_GET, BASE, ROUTE_ROOT},
    {ROUTE_OPTIONS, BASE, ROUTE_ROOT_HELP},
    {ROUTE_GET, MONITOR "/dataplane", ROUTE_CONFIG_GET},
    {ROUTE_PUT, MONITOR "/dataplane", ROUTE_CONFIG_PUT},
    {ROUTE_POST, BASE "/attach", ROUTE_ATTACH},
    {ROUTE_POST, BASE "/detach", ROUTE_DETACH},
    {ROUTE_GET, BASE "/cubes", ROUTE_CUBES},
    {ROUTE_OPTIONS, BASE "/cubes", ROUTE_ENDPOINT_HELP},
    {ROUTE_GET, BASE "/cubes/{name}", ROUTE_CUBE},
    {ROUTE_OPTIONS, BASE "/cubes/{name}", ROUTE_ENDPOINT_HELP},
    {ROUTE_GET, BASE "/services", ROUTE_SERVICES},
    {ROUTE_GET, BASE "/services/{name}", ROUTE_SERVICE},
    {ROUTE_GET, BASE "/version", ROUTE_VERSION},
    {ROUTE_GET, BASE "/netdevs", ROUTE_NETDEVS},
    {ROUTE_OPTIONS, BASE "/netdevs", ROUTE_ENDPOINT_HELP},
    {ROUTE_GET, BASE "/netdevs/{name}", ROUTE_NETDEV},
    {ROUTE_OPTIONS, BASE "/netdevs/{name}", ROUTE_ENDPOINT_HELP},
    {ROUTE_GET, BASE "/topology", ROUTE_TOPOLOGY},
    {ROUTE_OPTIONS, BASE "/topology", ROUTE_ENDPOINT_HELP},
    {ROUTE_GET, "/metrics", ROUTE_SCRAPE},
};
const size_t route_table_size = ELEMENTSOF(route_table);

/* Names under /polycube/v1 that are polycubed's endpoints, never cubes. */
static const char *const reserved[] = {
    "dynmon", "cubes",	"services", "version",	  "netdevs", "topology",
    "attach", "detach", "connect",  "disconnect", "metrics",
};

static const char *const method_names[_ROUTE_METHOD_MAX] = {
    [ROUTE_GET] = "GET",       [ROUTE_POST] = "POST",	[ROUTE_PUT] = "PUT",
    [ROUTE_DELETE] = "DELETE", [ROUTE_PATCH] = "PATCH", [ROUTE_OPTIONS] = "OPTIONS",
};

const char *route_method_to_string(enum route_method m)
{
	return m < _ROUTE_METHOD_MAX ? method_names[m] : NULL;
}

/* HTTP methods are case-sensitive (RFC 9110 9.1). */
int route_method_from_string(const char *s)
{
	for (int i = 0; i < _ROUTE_METHOD_MAX; i++)
		if (streq(s, method_names[i]))
			return i;
	return -EINVAL;
}

bool route_method_writes(enum route_method m)
{
	return m != ROUTE_GET && m != ROUTE_OPTIONS;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int route_decode(const char *s, size_t n, char **ret)
{
	_cleanup_free_ char *out = malloc(n + 1);
	char *p = out;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			*p++ = s[i];
			continue;
		}
		if (i + 2 >= n)
			return -EINVAL;
		hi = hex_digit(s[i + 1]);
		lo = hex_digit(s[i + 2]);
		/* A NUL inside a name would cut it short wherever it goes next. */
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -EINVAL;
		*p++ = (char)(hi << 4 | lo);
		i += 2;
	}
	*p = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

static void segments_done(struct route_match *m)
{
	for (size_t i = 0; i < m->n_segments; i++)
		free(m->segments[i]);
	m->n_segments = 0;
}

/* Splits an absolute path into decoded segments, dropping empty ones as polycubed does. Too
 * many: -ENOENT, since no route has such a path. */
static int segments_split(const char *path, struct route_match *ret)
{
	int r;

	if (path[0] != '/')
		return -ENOENT;
	for (const char *p = path; *p;) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (ret->n_segments == ROUTE_MAX_SEGMENTS)
			return -ENOENT;
		r = route_decode(p, n, &ret->segments[ret->n_segments]);
		if (r < 0)
			return r;
		ret->n_segments++;
		p += n;
	}
	return 0;
}

/* Whether the decoded segments fit the pattern; the captures point into `segs`. */
static bool pattern_matches(const char *pattern, const struct route_match *segs, const char **name,
			    const char **metric)
{
	const char *p = pattern + 1;
	size_t i = 0;

	*name = *metric = NULL;
	for (; *p && i < segs->n_segments; i++) {
		size_t n = strcspn(p, "/");

		if (n == strlen("{name}") && strncmp(p, "{name}", n) == 0)
			*name = segs->segments[i];
		else if (n == strlen("{metric}") && strncmp(p, "{metric}", n) == 0)
			*metric = segs->segments[i];
		else if (strlen(segs->segments[i]) != n || strncmp(p, segs->segments[i], n) != 0)
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return *p == '\0' && i == segs->n_segments;
}

static bool in_base(const struct route_match *m, size_t min)
{
	return m->n_segments >= min && streq(m->segments[0], "polycube") &&
	       streq(m->segments[1], "v1");
}

static bool is_reserved(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
		if (streq(name, reserved[i]))
			return true;
	return false;
}

static const struct {
	enum model_method model;
	enum route_method route;
} methods[] = {
    {MODEL_GET, ROUTE_GET},	  {MODEL_POST, ROUTE_POST},   {MODEL_PUT, ROUTE_PUT},
    {MODEL_DELETE, ROUTE_DELETE}, {MODEL_PATCH, ROUTE_PATCH}, {MODEL_OPTIONS, ROUTE_OPTIONS},
};

/* Which handler serves `m` at the model's path: the monitor's own ones for the cube and the
 * metrics (they read through the core's read path), the model's generic ones elsewhere. */
static enum route_id model_route_id(const struct model_path *p, enum route_method m,
				    const char **ret_list, const char **ret_metric)
{
	const struct model_node *n = model_path_node(p);
	bool metrics = p->n >= 2 && streq(p->nodes[1]->name, "metrics");

	*ret_list = *ret_metric = NULL;
	if (m == ROUTE_OPTIONS)
		return ROUTE_MODEL_HELP;
	if (p->n == 1) {
		if (model_path_is_collection(p))
			return m == ROUTE_GET ? ROUTE_MONITOR_LIST : ROUTE_SERVICE_CREATE;
		switch (m) {
		case ROUTE_GET:
			return ROUTE_MONITOR_GET;
		case ROUTE_POST:
			return ROUTE_MONITOR_CREATE;
		case ROUTE_PUT:
			return ROUTE_MONITOR_PUT;
		case ROUTE_DELETE:
			return ROUTE_MONITOR_DELETE;
		default:
			return ROUTE_MODEL_WRITE;
		}
	}
	if (m != ROUTE_GET)
		return m == ROUTE_PUT && p->n == 2 && streq(n->name, "dataplane-config")
			   ? ROUTE_CONFIG_PUT
			   : ROUTE_MODEL_WRITE;
	if (p->n == 2 && streq(n->name, "open-metrics"))
		return ROUTE_OPEN_METRICS;
	if (!metrics)
		return ROUTE_MODEL_READ;
	if (p->n == 2)
		return ROUTE_METRICS;
	*ret_list = p->nodes[2]->name;
	*ret_metric = p->keys[2];
	if (p->n == 3)
		return p->keys[2] ? ROUTE_METRIC : ROUTE_METRIC_LIST;
	return streq(n->name, "value") ? ROUTE_METRIC_VALUE : ROUTE_MODEL_READ;
}

static int match_model(struct route_match *ret, int m)
{
	const char *list, *metric;
	bool found = false;
	unsigned allowed;
	int r;

	r = model_resolve(ret->segments + 3, ret->n_segments - 3, &ret->path);
	if (r < 0)
		return r;
	allowed = model_path_methods(&ret->path);
	for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
		if (!(allowed & methods[i].model))
			continue;
		if ((int)methods[i].route == m)
			found = true;
		ret->allowed |= 1u << methods[i].route;
	}
	if (!found)
		return -EOPNOTSUPP;
	ret->allowed = 0;
	ret->in_model = true;
	ret->model_route = (struct route){
	    .method = m,
	    .id = model_route_id(&ret->path, m, &list, &metric),
	    .list = list,
	};
	ret->route = &ret->model_route;
	ret->name = ret->path.keys[0] ? strdup(ret->path.keys[0]) : NULL;
	ret->metric = metric ? strdup(metric) : NULL;
	if ((ret->path.keys[0] && !ret->name) || (metric && !ret->metric))
		return -ENOMEM;
	return 0;
}

static int match_table(struct route_match *ret, int m)
{
	unsigned allowed = 0;

	for (size_t i = 0; i < route_table_size; i++) {
		const struct route *route = &route_table[i];
		const char *name, *metric;

		if (!pattern_matches(route->pattern, ret, &name, &metric))
			continue;
		if ((int)route->method != m) {
			allowed |= 1u << route->method;
			continue;
		}
		ret->route = route;
		ret->name = name ? strdup(name) : NULL;
		ret->metric = metric ? strdup(metric) : NULL;
		if ((name && !ret->name) || (metric && !ret->metric))
			return -ENOMEM;
		return 0;
	}
	ret->allowed = allowed;
	return allowed ? -EOPNOTSUPP : -ENOENT;
}

void route_allow_header(unsigned allowed, char buf[static ROUTE_ALLOW_MAX])
{
	buf[0] = '\0';
	for (int m = 0; m < _ROUTE_METHOD_MAX; m++) {
		if (!(allowed & (1u << m)))
			continue;
		if (buf[0])
			strcat(buf, ", ");
		strcat(buf, route_method_to_string(m));
		if (m == ROUTE_GET)
			strcat(buf, ", HEAD");
	}
}

int route_match(const char *method, const char *path, struct route_match *ret)
{
	/* HEAD is GET without the content (RFC 9110 9.3.2): every GET route takes it, and the HTTP
	 * side leaves the body out. */
	int m = streq(method, "HEAD") ? ROUTE_GET : route_method_from_string(method);
	int r;

	*ret = (struct route_match){};
	r = segments_split(path, ret);
	if (r >= 0)
		r = match_table(ret, m);
	if (r == -ENOENT && in_base(ret, 3) && streq(ret->segments[2], "dynmon"))
		r = match_model(ret, m);
	else if (r == -ENOENT && in_base(ret, 3) && !is_reserved(ret->segments[2]) && m >= 0) {
		ret->model_route = (struct route){.method = m, .id = ROUTE_CUBE_PATH};
		ret->route = &ret->model_route;
		ret->name = strdup(ret->segments[2]);
		r = ret->name ? 0 : -ENOMEM;
	}
	if (r < 0) {
		unsigned allowed = ret->allowed;

		route_match_done(ret);
		ret->allowed = allowed;
	}
	return r;
}

void route_match_done(struct route_match *m)
{
	free(m->name);
	free(m->metric);
	segments_done(m);
	*m = (struct route_match){};
}

/* The q-value of one media range of an Accept header ("type/sub; a=b; q=0.5"); 1 without one,
 * 0 when it is not a number in [0, 1]. */
static double media_range_q(const char *params, size_t n)
{
	for (const char *p = params, *end = params + n; p < end;) {
		const char *semi = memchr(p, ';', end - p);
		const char *next = semi ? semi + 1 : end;

		p += strspn(p, " \t");
		if ((p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			char *stop;
			double q = strtod(p + 2, &stop);

			return stop > p + 2 && q >= 0 && q <= 1 ? q : 0;
		}
		p = next;
	}
	return 1;
}

static bool media_type_is(const char *s, size_t n, const char *type)
{
	return n == strlen(type) && strncasecmp(s, type, n) == 0;
}

bool route_accepts_openmetrics(const char *accept)
{
	double om = 0, text = 0;

	for (const char *p = accept; p && *p;) {
		size_t n, type_len;
		double q;

		p += strspn(p, " \t");
		n = strcspn(p, ",");
		type_len = strcspn(p, ";,");
		while (type_len > 0 && strchr(" \t", p[type_len - 1]))
			type_len--;
		q = media_range_q(p + type_len, n - type_len);
		if (media_type_is(p, type_len, "application/openmetrics-text"))
			om = q > om ? q : om;
		else if (media_type_is(p, type_len, "text/plain"))
			text = q > text ? q : text;
		p += n;
		if (*p == ',')
			p++;
	}
	return om > 0 && om >= text;
}
