/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "model.h"

/* ---- The tree: dynmon.yang, with polycube-base's base-yang-module -------------------------- */

#define CONFIG MODEL_CONFIG
#define INIT MODEL_INIT_ONLY
#define MAND MODEL_MANDATORY

#define LEAF(n, t, f, desc, ...)                                                                   \
	{                                                                                          \
		.name = (n), .kind = MODEL_LEAF, .type = (t), .flags = (f), .description = (desc), \
		__VA_ARGS__                                                                        \
	}
#define CONTAINER(n, f, kids, desc)                                                                \
	{                                                                                          \
		.name = (n), .kind = MODEL_CONTAINER, .flags = (f), .children = (kids),            \
		.description = (desc)                                                              \
	}
#define LIST(n, k, f, kids, desc)                                                                  \
	{                                                                                          \
		.name = (n), .kind = MODEL_LIST, .key = (k), .flags = (f), .children = (kids),     \
		.description = (desc)                                                              \
	}
#define END                                                                                        \
	{                                                                                          \
	}

static const char *const cube_types[] = {"TC", "XDP_SKB", "XDP_DRV", NULL};
static const char *const log_levels[] = {"TRACE", "DEBUG",    "INFO", "WARN",
					 "ERR",	  "CRITICAL", "OFF",  NULL};
static const char *const metric_types[] = {"Counter", "Gauge",	 "Histogram",
					   "Summary", "Untyped", NULL};

static const struct model_node labels[] = {
    LEAF("name", "string", CONFIG | INIT | MAND | MODEL_KEY, "Name of the label (e.g., 'method')"),
    LEAF("value", "string", CONFIG | INIT | MAND, "Label value (e.g., 'POST')"),
    END,
};

static const struct model_node open_metrics_metadata[] = {
    LEAF("help", "string", CONFIG | INIT | MAND, "Metric description"),
    LEAF("type", "enumeration", CONFIG | INIT | MAND, "Metric type", .values = metric_types),
    LIST("labels", "name", CONFIG | INIT, labels, "Label attached to the metric"),
    END,
};

static const struct model_node extraction_options[] = {
    LEAF("empty-on-read", "boolean", CONFIG | INIT,
	 "When true, map entries are deleted after being extracted", .def = "false"),
    LEAF("swap-on-read", "boolean", CONFIG | INIT,
	 "When true, the map is swapped with a new one before reading its content to provide "
	 "thread safety and atomicity on read/write operations",
	 .def = "false"),
    LEAF("network-byte-order", "boolean", CONFIG | INIT | MODEL_DYNMON,
	 "When true, integers declared __be16/__be32/__be64 are shown in network byte order (a "
	 "port is 80); by default the JSON shows them as the host reads them, as Polycube did",
	 .def = "false"),
    END,
};

static const struct model_node metric_config[] = {
    LEAF("name", "string", CONFIG | INIT | MAND | MODEL_KEY,
	 "Name of the metric (e.g., number of HTTP requests)"),
    LEAF("map-name", "string", CONFIG | INIT | MAND, "Corresponding eBPF map name"),
    CONTAINER("extraction-options", CONFIG | INIT, extraction_options, "Metric extraction options"),
    CONTAINER("open-metrics-metadata", CONFIG | INIT | MODEL_PRESENCE, open_metrics_metadata,
	      "Open-Metrics metadata"),
    END,
};

/* grouping path-config */
static const struct model_node path_config[] = {
    LEAF("name", "string", CONFIG, "Configuration name"),
    LEAF("code", "string", CONFIG | INIT | MAND, "Ingress eBPF source code"),
    LIST("metric-configs", "name", CONFIG | INIT, metric_config, "Exported Metric"),
    END,
};

static const struct model_node dataplane_config[] = {
    CONTAINER("ingress-path", CONFIG | MODEL_PRESENCE, path_config,
	      "Dataplane configuration for the INGRESS path"),
    CONTAINER("egress-path", CONFIG | MODEL_PRESENCE, path_config,
	      "Dataplane configuration for the EGRESS path"),
    END,
};

static const struct model_node metric[] = {
    LEAF("name", "string", MODEL_KEY, "Name of the metric (e.g, number of HTTP requests)"),
    LEAF("value", "string", 0, "Value of the metric"),
    LEAF("timestamp", "int64", 0, "Timestamp"),
    END,
};

static const struct model_node metrics[] = {
    LIST("ingress-metrics", "name", 0, metric, "Collected metrics from the ingress dataplane path"),
    LIST("egress-metrics", "name", 0, metric, "Collected metrics from the egress dataplane path"),
    END,
};

static const struct model_node cube[] = {
    /* The list key polycubed gives every cube. */
    LEAF("name", "string", MODEL_KEY | MODEL_DYNMON, "Name of the dynmon service",
	 .example = "dynmon1"),
    /* grouping polycube-base:base-yang-module */
    LEAF("uuid", "polycube-uuid", 0, "UUID of the Cube"),
    LEAF("type", "enumeration", CONFIG | INIT, "Type of the Cube (TC, XDP_SKB, XDP_DRV)",
	 .values = cube_types, .def = "TC", .example = "TC"),
    LEAF("service-name", "string", CONFIG | INIT, "", .example = "helloworld"),
    LEAF("loglevel", "enumeration", CONFIG,
	 "Logging level of a cube, from none (OFF) to the most verbose (TRACE)",
	 .values = log_levels, .def = "INFO", .example = "INFO"),
    /* dynmon.yang */
    CONTAINER("dataplane-config", CONFIG, dataplane_config, "Dataplane configuration"),
    CONTAINER("metrics", 0, metrics, "Collected metrics in JSON format"),
    LEAF("open-metrics", "string", 0,
	 "Collected metrics in OpenMetrics format of both ingress and egress paths"),
    /* What polycubed adds to a transparent cube, and what dynmon adds (docs/POLYCUBE.md). */
    LEAF("parent", "string", MODEL_DYNMON, "Interface the cube is attached to (\"\" when none)"),
    LEAF("state", "enumeration", MODEL_DYNMON,
	 "Attachment state: attached, detached, or waiting for the interface to appear",
	 .values = (const char *const[]){"detached", "attached", "waiting", NULL}),
    END,
};

const struct model_node model_service =
    LIST(MODEL_SERVICE_NAME, "name", CONFIG, cube, MODEL_SERVICE_DESCRIPTION);

/* ---- Paths --------------------------------------------------------------------------------- */

const struct model_node *model_child(const struct model_node *parent, const char *name)
{
	for (const struct model_node *c = parent->children; c && c->name; c++)
		if (streq(c->name, name))
			return c;
	return NULL;
}

int model_resolve(char *const *segments, size_t n, struct model_path *ret)
{
	*ret = (struct model_path){.nodes = {&model_service}, .n = 1};
	for (size_t i = 0; i < n; i++) {
		const struct model_node *cur = model_path_node(ret);
		const struct model_node *next;

		if (cur->kind == MODEL_LIST && !ret->keys[ret->n - 1]) {
			ret->keys[ret->n - 1] = segments[i];
			continue;
		}
		if (cur->kind == MODEL_LEAF || ret->n == MODEL_MAX_DEPTH)
			return -ENOENT;
		next = model_child(cur, segments[i]);
		if (!next)
			return -ENOENT;
		ret->nodes[ret->n++] = next;
	}
	return 0;
}

bool model_node_writable(const struct model_node *n)
{
	return (n->flags & MODEL_CONFIG) && !(n->flags & MODEL_INIT_ONLY);
}

unsigned model_path_methods(const struct model_path *p)
{
	const struct model_node *n = model_path_node(p);
	const unsigned writes = MODEL_POST | MODEL_PUT | MODEL_PATCH | MODEL_DELETE;
	unsigned m = MODEL_GET | MODEL_OPTIONS;

	if (p->n == 1)
		/* The service: its cubes, and a cube created with its name in the body. */
		return model_path_is_collection(p) ? m | MODEL_POST : m | writes;
	if (n->kind == MODEL_ACTION)
		return MODEL_POST | MODEL_OPTIONS;
	if (!model_node_writable(n))
		return m;
	return n->kind == MODEL_LEAF ? m | MODEL_PATCH : m | writes;
}

/* ---- Help ---------------------------------------------------------------------------------- */

static const char *const help_names[_MODEL_HELP_MAX] = {
    [MODEL_HELP_NONE] = "NONE", [MODEL_HELP_SHOW] = "SHOW", [MODEL_HELP_ADD] = "ADD",
    [MODEL_HELP_DEL] = "DEL",	[MODEL_HELP_SET] = "SET",
};

int model_help_from_string(const char *s)
{
	for (int i = 0; i < _MODEL_HELP_MAX; i++)
		if (streq_ptr(s, help_names[i]))
			return i;
	return -EINVAL;
}

/* polycubed's simple types (Types::Scalar). */
static const char *simpletype(const char *yang_type)
{
	if (streq(yang_type, "boolean"))
		return "boolean";
	if (streq(yang_type, "decimal64"))
		return "decimal";
	if (streq(yang_type, "empty"))
		return "empty";
	if (strncmp(yang_type, "int", 3) == 0)
		return "integer";
	if (strncmp(yang_type, "uint", 4) == 0)
		return "unsigned";
	return "string";
}

static const char *help_type(const struct model_node *n)
{
	if (n->flags & MODEL_KEY)
		return "key";
	switch (n->kind) {
	case MODEL_LEAF:
		return "leaf";
	case MODEL_LIST:
		return "list";
	case MODEL_ACTION:
		return "action";
	default:
		return "complex";
	}
}

json_t *model_node_help_json(const struct model_node *n)
{
	json_t *j =
	    json_pack("{s:s,s:s,s:s,s:s}", "name", n->name, "description", strempty(n->description),
		      "example", strempty(n->example), "type", help_type(n));

	if (j && n->kind == MODEL_LEAF &&
	    json_object_set_new(j, "simpletype", json_string(simpletype(n->type))) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Which children a help lists. */
enum pick {
	PICK_SHOWN,	   /* helpElements: all but keys and actions */
	PICK_COMPLEX,	   /* helpComplexElements: containers, lists, actions */
	PICK_WRITABLE,	   /* helpWritableLeafs(false): leaves a "set" may change */
	PICK_WRITABLE_ALL, /* helpWritableLeafs(true): config leaves, init-only too */
	PICK_KEYS,	   /* helpKeys */
	PICK_ACTIONS,
};

static bool picked(const struct model_node *c, enum pick what)
{
	bool key = c->flags & MODEL_KEY, leaf = c->kind == MODEL_LEAF;

	switch (what) {
	case PICK_SHOWN:
		return !key && c->kind != MODEL_ACTION;
	case PICK_COMPLEX:
		return !key && !leaf;
	case PICK_WRITABLE:
		return leaf && model_node_writable(c);
	case PICK_WRITABLE_ALL:
		return leaf && (c->flags & MODEL_CONFIG);
	case PICK_KEYS:
		return key;
	case PICK_ACTIONS:
		return c->kind == MODEL_ACTION;
	}
	return false;
}

/* {"child": its help json, ...}, or with `names` ["child", ...] ("child=" with `suffix`). */
static json_t *children_json(const struct model_node *n, enum pick what, bool names,
			     const char *suffix)
{
	json_t *j = names ? json_array() : json_object();

	for (const struct model_node *c = n->children; j && c->name; c++) {
		int r;

		if (!picked(c, what))
			continue;
		if (names) {
			_cleanup_free_ char *s = strdup_printf("%s%s", c->name, strempty(suffix));

			r = s ? json_array_append_new(j, json_string(s)) : -1;
		} else {
			r = json_object_set_new(j, c->name, model_node_help_json(c));
		}
		if (r < 0) {
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

/* The keys of a list as params: the service's cube name, a list's key leaf. */
static json_t *list_keys_json(const struct model_node *list)
{
	return children_json(list, PICK_KEYS, false, NULL);
}

static json_t *strings(const char *first, ...) _sentinel_;
static json_t *strings(const char *first, ...)
{
	json_t *j = json_array();
	va_list ap;

	va_start(ap, first);
	for (const char *s = first; j && s; s = va_arg(ap, const char *))
		if (json_array_append_new(j, json_string(s)) < 0) {
			json_decref(j);
			j = NULL;
		}
	va_end(ap);
	return j;
}

/* Sets `key` of `o` to `v` (taken); a NULL `v` fails. */
static int set(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -ENOMEM;
}

static int extend(json_t *a, json_t *more)
{
	int r = more ? json_array_extend(a, more) : -ENOMEM;

	json_decref(more);
	return r < 0 ? -ENOMEM : 0;
}

/* A whole list (ListResource::Help, Service::Help): its keys and elements. */
static int list_help(const struct model_path *p, enum model_help type, json_t *elements,
		     json_t *val)
{
	const struct model_node *n = model_path_node(p);
	int r;

	r = set(val, "params", list_keys_json(n));
	if (r >= 0 && type == MODEL_HELP_ADD)
		r = set(val, "optional-params", children_json(n, PICK_WRITABLE_ALL, false, NULL));
	if (r >= 0 && type != MODEL_HELP_ADD)
		r = set(val, "elements", json_incref(elements));
	if (r >= 0 && type == MODEL_HELP_NONE)
		r = set(val, "commands", strings("add", "del", "show", NULL));
	return r;
}

/* The candidates of a whole list: its elements' keys, then the commands. */
static int list_completion(const struct model_path *p, enum model_help type, json_t *elements,
			   json_t *val)
{
	const struct model_node *n = model_path_node(p);
	size_t i;
	json_t *e;

	if (type == MODEL_HELP_ADD) {
		_cleanup_free_ char *s = strdup_printf("<%s>", n->key);

		return s ? json_array_append_new(val, json_string(s)) : -ENOMEM;
	}
	json_array_foreach (elements, i, e) {
		json_t *k = json_object_get(e, n->key);

		if (k && json_array_append(val, k) < 0)
			return -ENOMEM;
	}
	if (type != MODEL_HELP_NONE)
		return 0;
	if (n->flags & MODEL_CONFIG)
		return extend(val, strings("add", "del", "show", NULL));
	return extend(val, strings("show", NULL));
}

/* A container, a cube or a list element (ParentResource::Help and ::Completion). */
static int parent_help(const struct model_path *p, enum model_help type, bool completion,
		       json_t *val)
{
	const struct model_node *n = model_path_node(p);
	bool element = n->kind == MODEL_LIST;
	json_t *actions;

	switch (type) {
	case MODEL_HELP_SHOW:
		return completion ? extend(val, children_json(n, PICK_SHOWN, true, NULL))
				  : set(val, "params", children_json(n, PICK_SHOWN, false, NULL));
	case MODEL_HELP_SET:
		return completion
			   ? extend(val, children_json(n, PICK_WRITABLE, true, "="))
			   : set(val, "params", children_json(n, PICK_WRITABLE, false, NULL));
	case MODEL_HELP_ADD:
		if (!element)
			return 0;
		if (completion)
			return extend(val, children_json(n, PICK_WRITABLE_ALL, true, "="));
		if (set(val, "params", json_object()) < 0)
			return -ENOMEM;
		return set(val, "optional-params",
			   children_json(n, PICK_WRITABLE_ALL, false, NULL));
	case MODEL_HELP_NONE:
		if (completion) {
			if (extend(val, children_json(n, PICK_COMPLEX, true, NULL)) < 0)
				return -ENOMEM;
			return extend(val, strings("set", "show", NULL));
		}
		if (set(val, "commands", strings("set", "show", NULL)) < 0 ||
		    set(val, "params", children_json(n, PICK_COMPLEX, false, NULL)) < 0)
			return -ENOMEM;
		actions = children_json(n, PICK_ACTIONS, true, NULL);
		if (actions && json_array_size(actions) == 0) {
			json_decref(actions);
			return 0;
		}
		return set(val, "actions", actions);
	default:
		return -EINVAL;
	}
}

int model_help(const struct model_path *p, enum model_help type, bool completion,
	       model_elements_fn elements, void *userdata, json_t **ret)
{
	const struct model_node *n = model_path_node(p);
	json_auto_t *val = completion ? json_array() : json_object();
	json_auto_t *list = NULL;
	int r;

	if (!val)
		return -ENOMEM;
	if (n->kind == MODEL_LEAF) {
		/* A leaf completes its enumeration's values, and has no help of its own. */
		if (!completion)
			return -EINVAL;
		for (const char *const *v = n->values; v && *v; v++)
			if (json_array_append_new(val, json_string(*v)) < 0)
				return -ENOMEM;
	} else if (model_path_is_collection(p)) {
		if (type == MODEL_HELP_SET)
			return -EINVAL;
		list = type == MODEL_HELP_ADD ? json_array() : elements(p, userdata);
		if (!list)
			return -ENOMEM;
		r = completion ? list_completion(p, type, list, val)
			       : list_help(p, type, list, val);
		if (r < 0)
			return r;
	} else {
		r = parent_help(p, type, completion, val);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(val);
	return 0;
}

/* ---- Values -------------------------------------------------------------------------------- */

json_t *model_pick(const struct model_path *p, size_t from, json_t *j)
{
	for (size_t i = from; j && i < p->n; i++) {
		const struct model_node *n = p->nodes[i];
		json_t *e = NULL;
		size_t k;

		j = json_object_get(j, n->name);
		if (n->kind != MODEL_LIST || !p->keys[i] || !j)
			continue;
		json_array_foreach (j, k, e)
			if (streq_ptr(json_string_value(json_object_get(e, n->key)), p->keys[i]))
				break;
		j = k < json_array_size(j) ? e : NULL;
	}
	return j;
}

json_t *model_wrap(const struct model_path *p, size_t from, json_t *value)
{
	for (size_t i = p->n; value && i > from; i--) {
		json_t *o;

		if (p->nodes[i - 1]->kind == MODEL_LIST) {
			json_decref(value);
			return NULL;
		}
		o = json_object();
		if (!o || json_object_set_new(o, p->nodes[i - 1]->name, value) < 0) {
			json_decref(o);
			return NULL;
		}
		value = o;
	}
	return value;
}
