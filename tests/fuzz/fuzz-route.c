/* SPDX-License-Identifier: Apache-2.0 */
/* The REST router: any method and path (as they come off the wire, before any decoding), and
 * any Accept header. A match names a route of the table or of the data model whose method fits
 * (HEAD: GET's); a refusal is one of the documented errors. */
#include "fuzz.h"
#include "route.h"

static const char *const methods[] = {"GET",   "HEAD",	  "POST",  "PUT", "DELETE",
				      "PATCH", "OPTIONS", "TRACE", ""};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *path = NULL;
	struct route_match m;
	char allow[ROUTE_ALLOW_MAX];
	const char *method;
	int r;

	if (size < 1)
		return 0;
	method = methods[data[0] % ELEMENTSOF(methods)];
	path = fuzz_string(data + 1, size - 1);
	r = route_match(method, path, &m);
	fuzz_assert(r == 0 || r == -ENOENT || r == -EOPNOTSUPP || r == -EINVAL || r == -ENOMEM,
		    "route_match: %d", r);
	if (r == 0) {
		fuzz_assert((m.route >= route_table && m.route < route_table + route_table_size) ||
				m.route == &m.model_route,
			    "a route neither of the table nor of the data model");
		fuzz_assert(
		    streq(method, "HEAD") ? m.route->method == ROUTE_GET
					  : streq(route_method_to_string(m.route->method), method),
		    "%s matched a %s route", method, route_method_to_string(m.route->method));
	}
	if (r == -EOPNOTSUPP)
		fuzz_assert(m.allowed != 0, "-EOPNOTSUPP without another method");
	route_allow_header(m.allowed, allow);
	route_match_done(&m);
	/* The same bytes as an Accept header. */
	(void)route_accepts_openmetrics(path);
	return 0;
}
