/* SPDX-License-Identifier: Apache-2.0 */
/* polycubed's ways, over dynmon's monitors: each handler reads or changes monitors through the
 * logic functions D-Bus calls (manager.h, monitor.h) and shapes the answer as polycubed's. */
#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <microhttpd.h>
#include <net/if.h>
#include <stdlib.h>

#include "build-config.h"
#include "dynmon-yang.h"
#include "manager.h"
#include "pcnlog.h"
#include "polycube.h"

#define BASE "/polycube/v1"

/* ---- Cubes --------------------------------------------------------------------------------- */

/* A UUID stable for a name (polycubed makes a random one per cube; dynmon keeps no other
 * identity across restarts): two FNV-1a hashes of the name, shaped as a version-4 UUID. */
static void name_uuid(const char *name, char ret[37])
{
	uint64_t h[2] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
	uint8_t b[16];

	for (int k = 0; k < 2; k++)
		for (const char *c = name; *c; c++)
			h[k] = (h[k] ^ (uint8_t)*c) * 0x100000001b3ULL;
	memcpy(b, h, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* What polycubed's /cubes and /topology show of a transparent cube. */
static json_t *cube_basic_json(const struct monitor *mon)
{
	char uuid[37];

	name_uuid(mon->name, uuid);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", mon->name, "uuid", uuid,
			 "service-name", MODEL_SERVICE_NAME, "type", dm_mode_to_string(mon->mode),
			 "loglevel", strempty(pcnlog_level_to_string(mon->log_level)), "parent",
			 strempty(mon->ifname));
}

json_t *polycube_cube_json(const struct monitor *mon)
{
	json_t *j = cube_basic_json(mon);

	if (j &&
	    (json_object_set_new(
		 j, "state", json_string(monitor_state_to_string(monitor_get_state(mon)))) < 0 ||
	     json_object_set_new(j, "dataplane-config", monitor_config_json(mon)) < 0)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Every cube, as `shape` makes it: /cubes' value, /topology. */
static json_t *cubes_array(struct manager *m, json_t *(*shape)(const struct monitor *))
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < m->n_monitors; i++)
		if (json_array_append_new(a, shape(m->monitors[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static struct monitor *request_monitor(struct rest_request *req)
{
	dm_error e = DM_ERROR_NULL;
	struct monitor *mon;
	int r;

	r = manager_get_monitor(rest_request_manager(req), rest_request_match(req)->name, &mon, &e);
	if (r < 0) {
		rest_reply_error(req, r, &e);
		return NULL;
	}
	return mon;
}

/* ---- Paths and _links ---------------------------------------------------------------------- */

/* A segment as a URL carries it: RFC 3986's unreserved characters as they are. */
static int path_append(FILE *f, const char *segment)
{
	for (const char *c = segment; *c; c++) {
		if (isalnum((unsigned char)*c) || strchr("-_.~", *c))
			fputc(*c, f);
		else
			fprintf(f, "%%%02X", (unsigned char)*c);
	}
	return 0;
}

/* "/" + the segments from `from` on, encoded, each followed by "/". */
static char *segments_path(const struct route_match *m, size_t from, const char *prefix)
{
	char *s = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&s, &size);

	if (!f)
		return NULL;
	fputs(prefix, f);
	for (size_t i = from; i < m->n_segments; i++) {
		fputc('/', f);
		path_append(f, m->segments[i]);
	}
	fputc('/', f);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* polycubed's links are "//HOST:PORT/path/": the host the client asked. */
static const char *request_host(struct rest_request *req)
{
	return rest_request_header(req, MHD_HTTP_HEADER_HOST) ?: "localhost";
}

static int link_add(json_t *links, const char *rel, const char *host, const char *self,
		    const char *child)
{
	_cleanup_free_ char *child_enc = NULL;
	_cleanup_free_ char *href = NULL;
	size_t size = 0;
	FILE *f;

	if (child) {
		f = open_memstream(&child_enc, &size);
		if (!f)
			return -ENOMEM;
		path_append(f, child);
		if (fclose(f) != 0)
			return -ENOMEM;
	}
	href = strdup_printf("//%s%s%s%s", host, self, strempty(child_enc), child ? "/" : "");
	if (!href ||
	    json_array_append_new(links, json_pack("{s:s,s:s}", "rel", rel, "href", href)) < 0)
		return -ENOMEM;
	return 0;
}

/* [{"rel": "self", "href": ...}, one per child of the node] as polycubed's Hateoas adds them
 * to a container's GET. */
static json_t *node_links(struct rest_request *req, const struct model_node *node)
{
	const struct route_match *m = rest_request_match(req);
	_cleanup_free_ char *self = segments_path(m, 0, "");
	const char *host = request_host(req);
	json_t *links = json_array();

	if (!self || !links || link_add(links, "self", host, self, NULL) < 0)
		goto fail;
	for (const struct model_node *c = node->children; c && c->name; c++)
		if (link_add(links, c->name, host, self, c->name) < 0)
			goto fail;
	return links;
fail:
	json_decref(links);
	return NULL;
}

/* Whether a GET of the path answers an object that gets _links: a cube, a container, a list
 * element. (polycubed also appends ["_links", [...]] to a list's array, which breaks every
 * client that walks the list: dynmon leaves lists as they are.) */
static bool path_has_links(const struct model_path *p)
{
	const struct model_node *n = model_path_node(p);

	return n->kind == MODEL_CONTAINER ||
	       (n->kind == MODEL_LIST && !model_path_is_collection(p));
}

/* Adds _links to a JSON object's text, before its closing brace. Takes `text`. */
static char *text_add_links(struct rest_request *req, char *text)
{
	const struct route_match *m = rest_request_match(req);
	_cleanup_free_ char *links = NULL;
	json_t *l = node_links(req, model_path_node(&m->path));
	size_t n = strlen(text);
	char *out;

	links = l ? json_dumps(l, JSON_COMPACT) : NULL;
	json_decref(l);
	if (!links || n < 2 || text[n - 1] != '}')
		return text;
	text[n - 1] = '\0';
	out = strdup_printf("%s%s\"_links\":%s}", text, n == 2 ? "" : ",", links);
	free(text);
	return out;
}

bool polycube_wants_text(struct rest_request *req)
{
	const char *accept = rest_request_header(req, MHD_HTTP_HEADER_ACCEPT);

	return accept && (strcasestr(accept, "application/openmetrics-text") ||
			  strcasestr(accept, "text/plain"));
}

char *polycube_shape_reply(struct rest_request *req, char *text)
{
	const struct route_match *m = rest_request_match(req);
	json_auto_t *j = NULL;
	json_t *leaf;

	if (!m->in_model || !text)
		return text;
	if (m->route->id == ROUTE_MODEL_READ) {
		/* A metric's name or timestamp: the metric was read, the leaf is picked. */
		j = json_loads(text, 0, NULL);
		free(text);
		leaf = j ? json_object_get(j, model_path_node(&m->path)->name) : NULL;
		return leaf ? json_dumps(leaf, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("null");
	}
	return path_has_links(&m->path) ? text_add_links(req, text) : text;
}

/* ---- The data model's reads and writes ----------------------------------------------------- */

void polycube_model_read(struct rest_request *req)
{
	const struct route_match *m = rest_request_match(req);
	struct monitor *mon = request_monitor(req);
	json_auto_t *cube = NULL;
	json_t *v;

	if (!mon)
		return;
	cube = polycube_cube_json(mon);
	if (!cube) {
		rest_reply_error(req, -ENOMEM, NULL);
		return;
	}
	v = model_pick(&m->path, 1, cube);
	if (!v) {
		rest_reply_errorf(req, MHD_HTTP_NOT_FOUND, -ENOENT, "Monitor %s has no %s here: %s",
				  mon->name, model_path_node(&m->path)->name,
				  rest_request_url(req));
		return;
	}
	v = json_deep_copy(v);
	if (v && json_is_object(v) && path_has_links(&m->path) &&
	    json_object_set_new(v, "_links", node_links(req, model_path_node(&m->path))) < 0) {
		json_decref(v);
		v = NULL;
	}
	rest_reply_json(req, MHD_HTTP_OK, v);
}

/* The object holding the node at p->nodes[n - 1] within `cube` (p->nodes[1..] below it),
 * objects created on the way when `create`. */
static json_t *parent_object(const struct model_path *p, json_t *cube, bool create)
{
	json_t *j = cube;

	for (size_t i = 1; j && i + 1 < p->n; i++) {
		json_t *next = json_object_get(j, p->nodes[i]->name);

		if (!next && create) {
			next = json_object();
			if (json_object_set_new(j, p->nodes[i]->name, next) < 0)
				return NULL;
		}
		j = json_is_object(next) ? next : NULL;
	}
	return j;
}

/* Applies the write to `next`, a copy of the cube's JSON: PATCH merges, POST and PUT replace,
 * DELETE removes. Takes `body`. */
static int write_apply(const struct model_path *p, enum route_method method, json_t *body,
		       json_t *next, dm_error *e)
{
	const struct model_node *n = model_path_node(p);
	json_auto_t *patch = NULL;
	json_t *parent;

	if (n->kind != MODEL_LEAF && method != ROUTE_DELETE && !json_is_object(body)) {
		json_decref(body);
		return dm_error_set(e, -EINVAL, "The body of %s on %s must be a JSON object.",
				    route_method_to_string(method), n->name);
	}
	if (method == ROUTE_PATCH) {
		patch = p->n == 1 ? body : model_wrap(p, 1, body);
		if (!patch || json_object_update_recursive(next, patch) < 0)
			return -ENOMEM;
		return 0;
	}
	parent = parent_object(p, next, method != ROUTE_DELETE);
	if (method == ROUTE_DELETE) {
		json_decref(body);
		if (parent)
			(void)json_object_del(parent, n->name);
		return 0;
	}
	if (!parent || json_object_set_new(parent, n->name, body) < 0)
		return -ENOMEM;
	return 0;
}

/* What may differ between the cube before and after a write, and what changes it. */
static int cube_check(const struct monitor *mon, json_t *cur, json_t *next, dm_error *e)
{
	const char *key;
	json_t *v;
	int r;

	json_object_foreach (next, key, v) {
		const struct model_node *c = model_child(&model_service, key);

		if (!c)
			return dm_error_set(e, -EBADMSG, "Unknown field \"%s\" of a dynmon cube.",
					    key);
		if (json_equal(v, json_object_get(cur, key)))
			continue;
		if (streq(key, "type") &&
		    dm_mode_from_string(strempty(json_string_value(v))) != (int)mon->mode)
			return dm_error_set(e, -EBUSY,
					    "Monitor %s runs in %s mode; delete it to change its "
					    "type.",
					    mon->name, dm_mode_to_string(mon->mode));
		if (streq(key, "loglevel") &&
		    (r = pcnlog_level_parse(strempty(json_string_value(v)), e)) < 0)
			return r;
		if (!streq(key, "loglevel") && !streq(key, "dataplane-config"))
			return dm_error_set(e, -EINVAL, "Field \"%s\" of monitor %s cannot change.",
					    key, mon->name);
	}
	return 0;
}

/* The dataplane first, then the log level, as a PUT of the monitor applies them; each may
 * wait for a compilation, and the request is answered at the end. */
struct cube_write {
	struct rest_request *req;
	int level; /* -1: unchanged */
};

static void cube_write_end(struct cube_write *w, struct monitor *mon, int r, dm_error *e)
{
	if (r < 0)
		rest_reply_error(w->req, r, e);
	else
		rest_reply_json(w->req, MHD_HTTP_OK, polycube_cube_json(mon));
	free(w);
}

static void on_level_set(struct monitor *mon, int r, dm_error *e, void *userdata)
{
	cube_write_end(userdata, mon, r, e);
}

static void cube_set_level(struct monitor *mon, struct cube_write *w)
{
	dm_error e = DM_ERROR_NULL;
	int r = 1;

	if (w->level >= 0)
		r = monitor_set_log_level(mon, w->level, on_level_set, w, &e);
	if (r == 0)
		rest_request_suspend(w->req); /* answered when the compilation ends */
	else
		cube_write_end(w, mon, r, &e);
}

static void on_cube_injected(struct monitor *mon, int r, dm_error *e, void *userdata)
{
	if (r < 0)
		cube_write_end(userdata, mon, r, e);
	else
		cube_set_level(mon, userdata);
}

static void cube_apply(struct rest_request *req, struct monitor *mon, json_t *cur, json_t *next)
{
	json_t *config = json_object_get(next, "dataplane-config");
	json_t *level = json_object_get(next, "loglevel");
	_cleanup_free_ char *text = NULL;
	dm_error e = DM_ERROR_NULL;
	struct cube_write *w;
	int r;

	r = cube_check(mon, cur, next, &e);
	if (r < 0) {
		rest_reply_error(req, r, &e);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		rest_reply_error(req, -ENOMEM, NULL);
		return;
	}
	*w = (struct cube_write){.req = req, .level = -1};
	if (level && !json_equal(level, json_object_get(cur, "loglevel")))
		w->level = pcnlog_level_from_string(json_string_value(level));
	if (json_equal(config, json_object_get(cur, "dataplane-config"))) {
		cube_set_level(mon, w);
		return;
	}
	text = json_dumps(config ?: json_object(), JSON_COMPACT);
	r = text ? monitor_inject(mon, text, on_cube_injected, w, &e) : -ENOMEM;
	if (r < 0)
		cube_write_end(w, mon, r, &e);
	else
		rest_request_suspend(req); /* answered when the compilation ends */
}

/* The body: any JSON value (a leaf's is bare: "TRACE", 5, true); none is {}. */
static int body_value(struct rest_request *req, json_t **ret, dm_error *e)
{
	size_t size;
	const char *body = rest_request_body(req, &size);
	json_error_t err;

	if (body[strspn(body, " \t\r\n")] == '\0') {
		*ret = json_object();
		return *ret ? 0 : -ENOMEM;
	}
	*ret = json_loadb(body, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
	if (!*ret)
		return dm_error_set(e, -EBADMSG,
				    "The request body is not valid JSON: %s (line %d, column %d).",
				    err.text, err.line, err.column);
	return 0;
}

void polycube_model_write(struct rest_request *req)
{
	const struct route_match *m = rest_request_match(req);
	struct monitor *mon = request_monitor(req);
	json_auto_t *cur = NULL, *next = NULL;
	dm_error e = DM_ERROR_NULL;
	json_t *body = NULL;
	int r;

	if (!mon)
		return;
	cur = polycube_cube_json(mon);
	next = cur ? json_deep_copy(cur) : NULL;
	r = next ? body_value(req, &body, &e) : -ENOMEM;
	if (r >= 0)
		r = write_apply(&m->path, m->route->method, body, next, &e);
	if (r < 0)
		rest_reply_error(req, r, &e);
	else
		cube_apply(req, mon, cur, next);
}

/* ---- Help ---------------------------------------------------------------------------------- */

static json_t *key_objects(json_t *list, const char *key)
{
	json_t *out = json_array(), *e;
	size_t i;

	json_array_foreach (list, i, e) {
		json_t *k = json_object_get(e, key);

		if (json_is_string(k) &&
		    json_array_append_new(out, json_pack("{s:O}", key, k)) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* A list's elements for help and completion, by their keys. The metrics' names are the
 * configured ones: reading the metrics would empty those read with empty-on-read. */
static json_t *help_elements(const struct model_path *p, void *userdata)
{
	struct rest_request *req = userdata;
	struct manager *m = rest_request_manager(req);
	const struct model_node *n = model_path_node(p);
	json_auto_t *cube = NULL;
	struct monitor *mon;
	json_t *list;

	if (p->n == 1) {
		json_auto_t *all = cubes_array(m, cube_basic_json);

		return all ? key_objects(all, "name") : NULL;
	}
	mon = manager_find_monitor(m, p->keys[0]);
	cube = mon ? polycube_cube_json(mon) : NULL;
	if (!cube)
		return json_array();
	if (streq(p->nodes[1]->name, "metrics")) {
		const char *path =
		    streq(n->name, "ingress-metrics") ? "ingress-path" : "egress-path";

		list = json_object_get(
		    json_object_get(json_object_get(cube, "dataplane-config"), path),
		    "metric-configs");
	} else {
		list = model_pick(p, 1, cube);
	}
	return key_objects(list, n->key);
}

/* ?help=TYPE and ?completion as polycubed reads them; -EINVAL (400) when help is missing. */
static int help_query(struct rest_request *req, const char **ret_help, bool *ret_completion)
{
	*ret_help = rest_request_query(req, "help", NULL);
	(void)rest_request_query(req, "completion", ret_completion);
	if (!*ret_help) {
		rest_reply_errorf(req, MHD_HTTP_BAD_REQUEST, -EINVAL,
				  "OPTIONS asks for help: ?help=NONE, SHOW, ADD, DEL or SET "
				  "(&completion for the candidates).");
		return -EINVAL;
	}
	return 0;
}

static void reply_no_help(struct rest_request *req, const char *help)
{
	rest_reply_errorf(req, MHD_HTTP_BAD_REQUEST, -EINVAL, "There is no help %s for %s.", help,
			  rest_request_url(req));
}

void polycube_model_help(struct rest_request *req)
{
	const struct route_match *m = rest_request_match(req);
	const char *help;
	bool completion;
	json_t *j = NULL;
	int type, r;

	if (help_query(req, &help, &completion) < 0)
		return;
	type = model_help_from_string(help);
	r = type < 0 ? type : model_help(&m->path, type, completion, help_elements, req, &j);
	if (r == -EINVAL)
		reply_no_help(req, help);
	else if (r < 0)
		rest_reply_error(req, r, NULL);
	else
		rest_reply_json(req, MHD_HTTP_OK, j);
}

/* ---- polycubed's own endpoints ------------------------------------------------------------- */

/* GET /polycube/v1/: _links to every endpoint, the service and the cubes. */
void polycube_root(struct rest_request *req)
{
	static const char *const endpoints[] = {"services", "cubes",	       "netdevs",
						"version",  "attach",	       "detach",
						"topology", MODEL_SERVICE_NAME};
	struct manager *m = rest_request_manager(req);
	const char *host = request_host(req);
	json_t *links = json_array();
	int r = links ? link_add(links, "self", host, BASE "/", NULL) : -ENOMEM;

	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(endpoints); i++)
		r = link_add(links, endpoints[i], host, BASE "/", endpoints[i]);
	for (size_t i = 0; r >= 0 && i < m->n_monitors; i++)
		r = link_add(links, m->monitors[i]->name, host, BASE "/", m->monitors[i]->name);
	if (r < 0) {
		json_decref(links);
		links = NULL;
	}
	rest_reply_json(req, MHD_HTTP_OK, links);
}

/* OPTIONS /polycube/v1/?help=NONE: the services ("polycubectl ?"); with &completion, the first
 * words polycubectl knows (connect and disconnect left out: a monitor has no ports). */
void polycube_root_help(struct rest_request *req)
{
	struct manager *m = rest_request_manager(req);
	const char *help;
	bool completion;
	json_t *j;

	if (help_query(req, &help, &completion) < 0)
		return;
	if (!streq(help, "NONE")) {
		reply_no_help(req, help);
		return;
	}
	if (completion) {
		j = json_pack("[s,s,s,s,s,s,s]", "attach", "detach", "services", "cubes",
			      "topology", "netdevs", MODEL_SERVICE_NAME);
		for (size_t i = 0; j && i < m->n_monitors; i++)
			if (json_array_append_new(j, json_string(m->monitors[i]->name)) < 0) {
				json_decref(j);
				j = NULL;
			}
	} else {
		j = json_pack("{s:{s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s}}}", "params", MODEL_SERVICE_NAME,
			      "name", MODEL_SERVICE_NAME, "simpletype", "service", "type", "leaf",
			      "description", MODEL_SERVICE_DESCRIPTION, "version",
			      MODEL_SERVICE_VERSION, "pyang_repo_id", "", "swagger_codegen_repo_id",
			      "");
	}
	rest_reply_json(req, MHD_HTTP_OK, j);
}

/* {"dynmon": [cubes]}; {} without any, as polycubed leaves out a service with no cube. */
void polycube_cubes(struct rest_request *req)
{
	struct manager *m = rest_request_manager(req);
	json_t *j = json_object();
	json_t *a = cubes_array(m, cube_basic_json);

	if (!j || !a || (json_array_size(a) > 0 && json_object_set(j, MODEL_SERVICE_NAME, a) < 0)) {
		json_decref(j);
		j = NULL;
	}
	json_decref(a);
	rest_reply_json(req, MHD_HTTP_OK, j);
}

void polycube_cube(struct rest_request *req)
{
	struct monitor *mon = request_monitor(req);

	if (mon)
		rest_reply_json(req, MHD_HTTP_OK, cube_basic_json(mon));
}

static json_t *service_json(bool datamodel)
{
	if (datamodel)
		return json_pack("{s:s,s:s,s:s}", "name", MODEL_SERVICE_NAME, "servicecontroller",
				 "dynmond", "datamodel", dynmon_yang);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "name", MODEL_SERVICE_NAME,
			 "servicecontroller", "dynmond", "description", MODEL_SERVICE_DESCRIPTION,
			 "version", MODEL_SERVICE_VERSION, "pyang_repo_id", "",
			 "swagger_codegen_repo_id", "");
}

void polycube_services(struct rest_request *req)
{
	rest_reply_json(req, MHD_HTTP_OK, json_pack("[o]", service_json(false)));
}

void polycube_service(struct rest_request *req)
{
	const char *name = rest_request_match(req)->name;

	if (!streq(name, MODEL_SERVICE_NAME)) {
		rest_reply_errorf(req, MHD_HTTP_NOT_FOUND, -ENOENT,
				  "No service %s: dynmond serves only \"dynmon\".", name);
		return;
	}
	rest_reply_json(req, MHD_HTTP_OK, json_pack("[o]", service_json(true)));
}

void polycube_version(struct rest_request *req)
{
	rest_reply_json(req, MHD_HTTP_OK,
			json_pack("{s:{s:s}}", "polycubed", "version", DYNMON_VERSION));
}

/* "ADDR/PREFIX" of an interface address, as libnl writes it. */
static json_t *address_json(const struct ifaddrs *a)
{
	char text[INET6_ADDRSTRLEN];
	const void *addr, *mask;
	size_t len;
	int prefix = 0;

	if (a->ifa_addr->sa_family == AF_INET) {
		addr = &((const struct sockaddr_in *)a->ifa_addr)->sin_addr;
		mask =
		    a->ifa_netmask ? &((const struct sockaddr_in *)a->ifa_netmask)->sin_addr : NULL;
		len = 4;
	} else {
		addr = &((const struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
		mask = a->ifa_netmask ? &((const struct sockaddr_in6 *)a->ifa_netmask)->sin6_addr
				      : NULL;
		len = 16;
	}
	if (!inet_ntop(a->ifa_addr->sa_family, addr, text, sizeof(text)))
		return NULL;
	for (size_t i = 0; mask && i < len; i++)
		prefix += __builtin_popcount(((const uint8_t *)mask)[i]);
	return json_sprintf("%s/%d", text, prefix);
}

static int netdev_cmp(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* The interfaces that are up, loopback aside, by name: {"name"[, "addresses": [...]]}. */
static json_t *netdevs_json(void)
{
	struct ifaddrs *all;
	json_auto_t *by_name = json_object();
	json_t *out = json_array(), **sorted;
	const char *key;
	json_t *v;
	size_t n = 0;

	if (!by_name || !out || getifaddrs(&all) < 0) {
		json_decref(out);
		return NULL;
	}
	for (struct ifaddrs *a = all; a; a = a->ifa_next) {
		json_t *dev = json_object_get(by_name, a->ifa_name);

		if (!(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK))
			continue;
		if (!dev) {
			dev = json_pack("{s:s}", "name", a->ifa_name);
			if (json_object_set_new(by_name, a->ifa_name, dev) < 0)
				continue;
		}
		if (a->ifa_addr &&
		    (a->ifa_addr->sa_family == AF_INET || a->ifa_addr->sa_family == AF_INET6)) {
			json_t *list = json_object_get(dev, "addresses");

			if (!list && json_object_set_new(dev, "addresses", list = json_array()) < 0)
				continue;
			(void)json_array_append_new(list, address_json(a));
		}
	}
	freeifaddrs(all);
	sorted = calloc(json_object_size(by_name) ?: 1, sizeof(*sorted));
	if (!sorted) {
		json_decref(out);
		return NULL;
	}
	json_object_foreach (by_name, key, v)
		sorted[n++] = v;
	qsort(sorted, n, sizeof(*sorted), netdev_cmp);
	for (size_t i = 0; i < n; i++)
		(void)json_array_append(out, sorted[i]);
	free(sorted);
	return out;
}

void polycube_netdevs(struct rest_request *req)
{
	rest_reply_json(req, MHD_HTTP_OK, netdevs_json());
}

/* [{"name", "addresses"}] of one interface, as polycubed answers it. */
void polycube_netdev(struct rest_request *req)
{
	const char *name = rest_request_match(req)->name;
	json_auto_t *all = netdevs_json();
	json_t *e;
	size_t i;

	json_array_foreach (all, i, e)
		if (streq(json_string_value(json_object_get(e, "name")), name)) {
			rest_reply_json(req, MHD_HTTP_OK, json_pack("[O]", e));
			return;
		}
	rest_reply_errorf(req, MHD_HTTP_NOT_FOUND, -ENODEV, "netdev %s does not exist.", name);
}

void polycube_topology(struct rest_request *req)
{
	rest_reply_json(req, MHD_HTTP_OK, cubes_array(rest_request_manager(req), cube_basic_json));
}

/* [{"cube": NAME}] or [{"netdev": NAME}]: what a help of /cubes or /netdevs lists. */
static json_t *endpoint_elements(struct rest_request *req, bool netdevs, const char *key)
{
	json_auto_t *all =
	    netdevs ? netdevs_json() : cubes_array(rest_request_manager(req), cube_basic_json);
	json_t *elements = json_array(), *e;
	size_t i;

	json_array_foreach (all, i, e)
		(void)json_array_append_new(elements,
					    json_pack("{s:O}", key, json_object_get(e, "name")));
	return elements;
}

/* OPTIONS of /cubes, /netdevs (their names, for "show"), and of one of them or /topology
 * ("show" only). polycubed answers these with help even to &completion; dynmond answers the
 * candidates, so that tab completion works there too. */
void polycube_endpoint_help(struct rest_request *req)
{
	const struct route_match *m = rest_request_match(req);
	bool netdevs = strstr(m->route->pattern, "/netdevs");
	bool list = !strstr(m->route->pattern, "{name}") && !strstr(m->route->pattern, "topology");
	const char *key = netdevs ? "netdev" : "cube";
	json_auto_t *elements = NULL;
	const char *help;
	bool completion;
	json_t *j, *e;
	size_t i;

	if (help_query(req, &help, &completion) < 0)
		return;
	if (!streq(help, "NONE") && !(list && streq(help, "SHOW"))) {
		reply_no_help(req, help);
		return;
	}
	if (!list) {
		rest_reply_json(req, MHD_HTTP_OK,
				completion ? json_pack("[s]", "show")
					   : json_pack("{s:[s]}", "commands", "show"));
		return;
	}
	elements = endpoint_elements(req, netdevs, key);
	if (completion) {
		j = json_array();
		json_array_foreach (elements, i, e)
			(void)json_array_append(j, json_object_get(e, key));
		if (streq(help, "NONE"))
			(void)json_array_append_new(j, json_string("show"));
	} else {
		j = json_pack("{s:{s:{s:s,s:s,s:s,s:s,s:s}},s:O}", "params", "name", "name", "name",
			      "type", "key", "simpletype", "string", "description",
			      netdevs ? "Netdev name" : "Cube Name", "example",
			      netdevs ? "eth0" : "cube0", "elements", elements);
		if (j && streq(help, "NONE"))
			(void)json_object_set_new(j, "commands", json_pack("[s]", "show"));
	}
	rest_reply_json(req, MHD_HTTP_OK, j);
}

/* /polycube/v1/{cube}/...: polycubed redirects to the cube's service path, query kept. */
void polycube_cube_path(struct rest_request *req)
{
	const struct route_match *m = rest_request_match(req);
	const char *url = rest_request_url(req);
	_cleanup_free_ char *path = NULL, *query = NULL, *location = NULL;
	size_t n;

	if (!request_monitor(req))
		return;
	path = segments_path(m, 2, BASE "/" MODEL_SERVICE_NAME);
	query = rest_request_query_string(req);
	if (!path || !query) {
		rest_reply_error(req, -ENOMEM, NULL);
		return;
	}
	/* segments_path() ends in "/": keep it only if the request had one. */
	n = strlen(path);
	if (url[strlen(url) - 1] != '/')
		path[n - 1] = '\0';
	location = strdup_printf("%s%s", path, query);
	if (!location)
		rest_reply_error(req, -ENOMEM, NULL);
	else
		rest_reply_redirect(req, MHD_HTTP_PERMANENT_REDIRECT, location);
}
