/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <strings.h>

#include "route.h"

#define MONITOR "/polycube/v1/dynmon/{name}"
#define MAX_SEGMENTS 16

/* Polycube's paths, so that its scripts and tools work unchanged. */
const struct route route_table[] = {
    {ROUTE_GET, "/polycube/v1/dynmon", ROUTE_MONITOR_LIST},
    {ROUTE_GET, MONITOR, ROUTE_MONITOR_GET},
    {ROUTE_POST, MONITOR, ROUTE_MONITOR_CREATE},
    {ROUTE_PUT, MONITOR, ROUTE_MONITOR_PUT},
    {ROUTE_DELETE, MONITOR, ROUTE_MONITOR_DELETE},
    {ROUTE_GET, MONITOR "/dataplane-config", ROUTE_CONFIG_GET},
    {ROUTE_PUT, MONITOR "/dataplane-config", ROUTE_CONFIG_PUT},
    /* The seed's name for the same thing. */
    {ROUTE_GET, MONITOR "/dataplane", ROUTE_CONFIG_GET},
    {ROUTE_PUT, MONITOR "/dataplane", ROUTE_CONFIG_PUT},
    {ROUTE_GET, MONITOR "/metrics", ROUTE_METRICS},
    {ROUTE_GET, MONITOR "/metrics/ingress-metrics", ROUTE_METRIC_LIST, "ingress-metrics"},
    {ROUTE_GET, MONITOR "/metrics/egress-metrics", ROUTE_METRIC_LIST, "egress-metrics"},
    {ROUTE_GET, MONITOR "/metrics/ingress-metrics/{metric}", ROUTE_METRIC, "ingress-metrics"},
    {ROUTE_GET, MONITOR "/metrics/egress-metrics/{metric}", ROUTE_METRIC, "egress-metrics"},
    {ROUTE_GET, MONITOR "/metrics/ingress-metrics/{metric}/value", ROUTE_METRIC_VALUE,
     "ingress-metrics"},
    {ROUTE_GET, MONITOR "/metrics/egress-metrics/{metric}/value", ROUTE_METRIC_VALUE,
     "egress-metrics"},
    {ROUTE_GET, MONITOR "/open-metrics", ROUTE_OPEN_METRICS},
    {ROUTE_POST, "/polycube/v1/attach", ROUTE_ATTACH},
    {ROUTE_POST, "/polycube/v1/detach", ROUTE_DETACH},
    {ROUTE_GET, "/metrics", ROUTE_SCRAPE},
};
const size_t route_table_size = ELEMENTSOF(route_table);

static const char *const method_names[_ROUTE_METHOD_MAX] = {
    [ROUTE_GET] = "GET",
    [ROUTE_POST] = "POST",
    [ROUTE_PUT] = "PUT",
    [ROUTE_DELETE] = "DELETE",
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
	return m != ROUTE_GET;
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

struct segments {
	char *v[MAX_SEGMENTS];
	size_t n;
};

static void segments_done(struct segments *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}

/* Splits an absolute path into decoded segments; one trailing slash is dropped. An empty
 * segment ("//") or too many of them: -ENOENT, since no route has such a path. */
static int segments_split(const char *path, struct segments *ret)
{
	size_t len = strlen(path);
	int r;

	ret->n = 0;
	if (path[0] != '/')
		return -ENOENT;
	if (len > 1 && path[len - 1] == '/')
		len--;
	if (len == 1)
		return 0; /* "/" */
	for (const char *p = path + 1, *end = path + len; p <= end;) {
		const char *slash = memchr(p, '/', end - p);
		size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);

		if (n == 0 || ret->n == MAX_SEGMENTS) {
			segments_done(ret);
			return -ENOENT;
		}
		r = route_decode(p, n, &ret->v[ret->n]);
		if (r < 0) {
			segments_done(ret);
			return r;
		}
		ret->n++;
		p += n + 1;
	}
	return 0;
}

/* Whether the decoded segments fit the pattern; the captures point into `segs`. */
static bool pattern_matches(const char *pattern, const struct segments *segs, const char **name,
			    const char **metric)
{
	const char *p = pattern + 1;
	size_t i = 0;

	*name = *metric = NULL;
	for (; *p && i < segs->n; i++) {
		size_t n = strcspn(p, "/");

		if (n == strlen("{name}") && strncmp(p, "{name}", n) == 0)
			*name = segs->v[i];
		else if (n == strlen("{metric}") && strncmp(p, "{metric}", n) == 0)
			*metric = segs->v[i];
		else if (strlen(segs->v[i]) != n || strncmp(p, segs->v[i], n) != 0)
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return *p == '\0' && i == segs->n;
}

int route_match(const char *method, const char *path, struct route_match *ret)
{
	_cleanup_(segments_done) struct segments segs = {};
	int m = route_method_from_string(method);
	unsigned allowed = 0;
	int r;

	*ret = (struct route_match){};
	r = segments_split(path, &segs);
	if (r < 0)
		return r;
	for (size_t i = 0; i < route_table_size; i++) {
		const struct route *route = &route_table[i];
		const char *name, *metric;

		if (!pattern_matches(route->pattern, &segs, &name, &metric))
			continue;
		if ((int)route->method != m) {
			allowed |= 1u << route->method;
			continue;
		}
		ret->route = route;
		ret->name = name ? strdup(name) : NULL;
		ret->metric = metric ? strdup(metric) : NULL;
		if ((name && !ret->name) || (metric && !ret->metric)) {
			route_match_done(ret);
			return -ENOMEM;
		}
		return 0;
	}
	ret->allowed = allowed;
	return allowed ? -EOPNOTSUPP : -ENOENT;
}

void route_match_done(struct route_match *m)
{
	free(m->name);
	free(m->metric);
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
