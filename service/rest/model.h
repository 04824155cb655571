/* SPDX-License-Identifier: Apache-2.0 */
/* dynmon's data model, Polycube's dynmon.yang written as C data: one node per container, list,
 * leaf and action, with what polycubed derives from the YANG (config or state, init-only, key,
 * type, enumeration values, default, description, CLI example). The REST door serves every path
 * from it the way polycubed serves a service: GET on every node, the writes a node allows,
 * OPTIONS ?help= and &completion for polycubectl, HATEOAS _links. Adding a leaf is one line in
 * model.c. Pure: no HTTP, no monitors; tests/e2e/yangcheck.py compares it with dynmon.yang. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum model_kind {
	MODEL_CONTAINER,
	MODEL_LIST,
	MODEL_LEAF,
	MODEL_ACTION,
};

enum model_flag {
	MODEL_CONFIG = 1u << 0,	   /* config true (YANG's default), else state: read-only */
	MODEL_INIT_ONLY = 1u << 1, /* polycube-base:init-only-config: set with its parent only */
	MODEL_MANDATORY = 1u << 2,
	MODEL_PRESENCE = 1u << 3, /* a presence container */
	MODEL_KEY = 1u << 4,	  /* the key leaf of its list */
	MODEL_DYNMON = 1u << 5,	  /* dynmon's own addition, not in dynmon.yang (docs/POLYCUBE.md) */
};

struct model_node {
	const char *name; /* NULL ends a list of children */
	enum model_kind kind;
	unsigned flags;
	const char *type;	   /* a leaf's YANG type: "string", "int64", "enumeration"... */
	const char *const *values; /* an enumeration's values, NULL-terminated */
	const char *def;	   /* a leaf's default */
	const char *example;	   /* polycube-base:cli-example */
	const char *description;
	const struct model_node *children; /* a container's, a list element's */
	const char *key;		   /* a list's key leaf */
};

/* The service: a list of cubes keyed by "name" (polycubed's /dynmon/{name}). */
extern const struct model_node model_service;

/* The service's description and version (polycube-base:service-description, -version). */
#define MODEL_SERVICE_NAME "dynmon"
#define MODEL_SERVICE_DESCRIPTION "Dynamic Traffic Monitor transparent service"
#define MODEL_SERVICE_VERSION "1.1"

#define MODEL_MAX_DEPTH 12

/* Where a path under /polycube/v1/dynmon leads. Segments alternate as polycubed's do: a
 * container's or element's child by name; after a list's name, the key of one element. */
struct model_path {
	/* nodes[0] is model_service; nodes[n - 1] the node reached. */
	const struct model_node *nodes[MODEL_MAX_DEPTH];
	/* keys[i]: for a list at nodes[i], the element's key; NULL for the whole list. Points into
	 * the segments given to model_resolve(). */
	const char *keys[MODEL_MAX_DEPTH];
	size_t n;
};

static inline const struct model_node *model_path_node(const struct model_path *p)
{
	return p->nodes[p->n - 1];
}

/* Whether the path names a whole list (no key after its name): the service with no cube, a
 * list of metrics. */
static inline bool model_path_is_collection(const struct model_path *p)
{
	return model_path_node(p)->kind == MODEL_LIST && !p->keys[p->n - 1];
}

const struct model_node *model_child(const struct model_node *parent, const char *name);

/* Walks the decoded segments after ".../dynmon": -ENOENT when one names nothing. */
int model_resolve(char *const *segments, size_t n, struct model_path *ret);

/* The HTTP methods the node at `p` takes, as polycubed registers them: bits (1 << enum
 * route_method) of GET, POST, PUT, PATCH, DELETE, OPTIONS. */
enum model_method {
	MODEL_GET = 1u << 0,
	MODEL_POST = 1u << 1,
	MODEL_PUT = 1u << 2,
	MODEL_DELETE = 1u << 3,
	MODEL_PATCH = 1u << 4,
	MODEL_OPTIONS = 1u << 5,
};
unsigned model_path_methods(const struct model_path *p);

/* Whether a node is a write's to set: config, and not init-only below the cube. */
bool model_node_writable(const struct model_node *n);

/* polycubectl's help types, as in ?help=NONE|SHOW|ADD|DEL|SET. */
enum model_help {
	MODEL_HELP_NONE,
	MODEL_HELP_SHOW,
	MODEL_HELP_ADD,
	MODEL_HELP_DEL,
	MODEL_HELP_SET,
	_MODEL_HELP_MAX,
};
int model_help_from_string(const char *s); /* -EINVAL when unknown */

/* What an element list's help shows: its elements' keys ([{"name": "m0"}, ...]). */
typedef json_t *(*model_elements_fn)(const struct model_path *p, void *userdata);

/* polycubed's answer to OPTIONS ?help=TYPE on `p` (its "commands", "params" with
 * name/type/simpletype/description/example, "optional-params", "elements", "actions"), or with
 * &completion its candidates (a JSON array). -EINVAL (400) for a type the node has no help of. */
int model_help(const struct model_path *p, enum model_help type, bool completion,
	       model_elements_fn elements, void *userdata, json_t **ret);

/* The node as polycubed's help shows it: {"name", "description", "example", "type"[,
 * "simpletype"]}. */
json_t *model_node_help_json(const struct model_node *n);

/* Picks the node at p->nodes[from..] out of `j`, the JSON of p->nodes[from - 1]: members by
 * name, list elements by key. Borrowed; NULL when absent. */
json_t *model_pick(const struct model_path *p, size_t from, json_t *j);

/* The JSON of p->nodes[from - 1] holding only `value` at p's node, for a write: {"a": {"b":
 * value}}. NULL when the path crosses a list (no list below a cube is writable). Takes
 * `value`. */
json_t *model_wrap(const struct model_path *p, size_t from, json_t *value);
