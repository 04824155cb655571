/* SPDX-License-Identifier: Apache-2.0 */
/* The data model (rest/model.c): the table is well formed; paths resolve as polycubed's
 * routes do; each node takes the methods polycubed registers for it; help and completion have
 * polycubed's shapes for each kind of node; picking a node out of a cube and wrapping a write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "model.h"

/* Splits "a/b/c" into `segs` (pointing into `buf`). */
static size_t split(char *buf, char **segs)
{
	size_t n = 0;

	for (char *s = strtok(buf, "/"); s; s = strtok(NULL, "/"))
		segs[n++] = s;
	return n;
}

static void walk(const struct model_node *n, bool parent_config, bool parent_init)
{
	bool config = n->flags & MODEL_CONFIG, init = n->flags & MODEL_INIT_ONLY;

	/* YANG: below config false, config false; polycubed: below init-only, init-only. */
	if (config && !parent_config)
		fail_msg("%s: config below a state node", n->name);
	if (parent_init && !init && !(n->flags & MODEL_KEY && !config))
		fail_msg("%s: not init-only below an init-only node", n->name);
	switch (n->kind) {
	case MODEL_LEAF:
		assert_non_null(n->type);
		assert_null(n->children);
		if (streq(n->type, "enumeration") != (n->values != NULL))
			fail_msg("%s: enumeration values and type disagree", n->name);
		return;
	case MODEL_LIST: {
		const struct model_node *k = model_child(n, n->key);

		if (!k || k->kind != MODEL_LEAF || !(k->flags & MODEL_KEY))
			fail_msg("%s: no key leaf %s", n->name, strempty(n->key));
		break;
	}
	default:
		break;
	}
	assert_non_null(n->children);
	for (const struct model_node *c = n->children; c->name; c++) {
		if (c->flags & MODEL_KEY && (n->kind != MODEL_LIST || !streq(c->name, n->key)))
			fail_msg("%s/%s: a key leaf outside its list's key", n->name, c->name);
		for (const struct model_node *d = c + 1; d->name; d++)
			if (streq(c->name, d->name))
				fail_msg("%s: child %s twice", n->name, c->name);
		walk(c, config || n == &model_service, init);
	}
}

static void test_table(void **state)
{
	walk(&model_service, true, false);
}

static void test_resolve(void **state)
{
	static const struct {
		const char *path;
		const char *node; /* NULL: -ENOENT */
		bool collection;
		const char *keys; /* the keys along the path, "|"-joined */
		unsigned methods;
	} cases[] = {
#define R (MODEL_GET | MODEL_OPTIONS)
#define W (R | MODEL_POST | MODEL_PUT | MODEL_PATCH | MODEL_DELETE)
	    {"", "dynmon", true, "", R | MODEL_POST},
	    {"m", "dynmon", false, "m", W},
	    {"m/loglevel", "loglevel", false, "m", R | MODEL_PATCH},
	    {"m/type", "type", false, "m", R},	   /* init-only */
	    {"m/uuid", "uuid", false, "m", R},	   /* state */
	    {"m/name", "name", false, "m", R},	   /* the key */
	    {"m/parent", "parent", false, "m", R}, /* dynmon's */
	    {"m/dataplane-config", "dataplane-config", false, "m", W},
	    {"m/dataplane-config/ingress-path", "ingress-path", false, "m", W},
	    {"m/dataplane-config/egress-path/name", "name", false, "m", R | MODEL_PATCH},
	    {"m/dataplane-config/egress-path/code", "code", false, "m", R},
	    {"m/dataplane-config/ingress-path/metric-configs", "metric-configs", true, "m", R},
	    {"m/dataplane-config/ingress-path/metric-configs/c", "metric-configs", false, "m|c", R},
	    {"m/dataplane-config/ingress-path/metric-configs/c/open-metrics-metadata/labels/l/"
	     "value",
	     "value", false, "m|c|l", R},
	    {"m/metrics", "metrics", false, "m", R},
	    {"m/metrics/ingress-metrics", "ingress-metrics", true, "m", R},
	    {"m/metrics/egress-metrics/x", "egress-metrics", false, "m|x", R},
	    {"m/metrics/egress-metrics/x/timestamp", "timestamp", false, "m|x", R},
	    {"m/open-metrics", "open-metrics", false, "m", R},
	    {"m/nothing", NULL},
	    {"m/loglevel/more", NULL},
	    {"m/metrics/other-metrics", NULL},
	    {"m/metrics/ingress-metrics/x/value/more", NULL},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char buf[256], *segs[MODEL_MAX_DEPTH * 2], keys[128] = "";
		struct model_path p;
		size_t n;
		int r;

		snprintf(buf, sizeof(buf), "%s", cases[i].path);
		n = split(buf, segs);
		r = model_resolve(segs, n, &p);
		if (!cases[i].node) {
			if (r != -ENOENT)
				fail_msg("%s: %d, expected -ENOENT", cases[i].path, r);
			continue;
		}
		if (r < 0)
			fail_msg("%s: %s", cases[i].path, strerror(-r));
		for (size_t k = 0; k < p.n; k++)
			if (p.keys[k])
				snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s%s",
					 keys[0] ? "|" : "", p.keys[k]);
		if (!streq(model_path_node(&p)->name, cases[i].node) ||
		    model_path_is_collection(&p) != cases[i].collection ||
		    !streq(keys, cases[i].keys) || model_path_methods(&p) != cases[i].methods)
			fail_msg("%s: node %s collection %d keys %s methods 0x%x", cases[i].path,
				 model_path_node(&p)->name, model_path_is_collection(&p), keys,
				 model_path_methods(&p));
	}
}

static json_t *elements(const struct model_path *p, void *userdata)
{
	return json_pack("[{s:s},{s:s}]", model_path_node(p)->key, "a", model_path_node(p)->key,
			 "b");
}

/* The help of a path as compact JSON with sorted keys; "400" when there is none. */
static char *help(const char *path, enum model_help type, bool completion)
{
	char buf[256], *segs[MODEL_MAX_DEPTH * 2];
	struct model_path p;
	json_t *j;
	char *s;

	snprintf(buf, sizeof(buf), "%s", path);
	assert_int_equal(model_resolve(segs, split(buf, segs), &p), 0);
	if (model_help(&p, type, completion, elements, NULL, &j) == -EINVAL)
		return strdup("400");
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

static void test_help(void **state)
{
	static const struct {
		const char *path;
		enum model_help type;
		bool completion;
		const char *expected;
	} cases[] = {
	    /* The service (polycubed's Service::Help and CompletionService). */
	    {"", MODEL_HELP_NONE, true, "[\"a\",\"b\",\"add\",\"del\",\"show\"]"},
	    {"", MODEL_HELP_ADD, true, "[\"<name>\"]"},
	    {"", MODEL_HELP_DEL, true, "[\"a\",\"b\"]"},
	    {"", MODEL_HELP_SET, false, "400"},
	    /* A cube (ParentResource): containers for NONE, writable leaves for SET. */
	    {"m", MODEL_HELP_NONE, true, "[\"dataplane-config\",\"metrics\",\"set\",\"show\"]"},
	    {"m", MODEL_HELP_SET, true, "[\"loglevel=\"]"},
	    {"m", MODEL_HELP_ADD, true, "[\"type=\",\"service-name=\",\"loglevel=\"]"},
	    {"m", MODEL_HELP_DEL, false, "400"},
	    {"m", MODEL_HELP_SET, false,
	     "{\"params\":{\"loglevel\":{\"description\":\"Logging level of a cube, from none "
	     "(OFF) to the most verbose (TRACE)\",\"example\":\"INFO\",\"name\":\"loglevel\","
	     "\"simpletype\":\"string\",\"type\":\"leaf\"}}}"},
	    /* A container: no ADD of its own. */
	    {"m/metrics", MODEL_HELP_ADD, false, "{}"},
	    {"m/metrics", MODEL_HELP_SHOW, true, "[\"ingress-metrics\",\"egress-metrics\"]"},
	    /* A whole list (ListResource): its elements' keys; add and del only when config. */
	    {"m/metrics/ingress-metrics", MODEL_HELP_NONE, true, "[\"a\",\"b\",\"show\"]"},
	    {"m/metrics/ingress-metrics", MODEL_HELP_SHOW, false,
	     "{\"elements\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"params\":{\"name\":{"
	     "\"description\":\"Name of the metric (e.g, number of HTTP requests)\",\"example\":"
	     "\"\",\"name\":\"name\",\"simpletype\":\"string\",\"type\":\"key\"}}}"},
	    {"m/metrics/ingress-metrics", MODEL_HELP_SET, false, "400"},
	    /* A list element: its leaves for SHOW, the key left out. */
	    {"m/metrics/ingress-metrics/x", MODEL_HELP_SHOW, true, "[\"value\",\"timestamp\"]"},
	    /* A leaf: its enumeration's values to complete; no help. */
	    {"m/type", MODEL_HELP_SET, true, "[\"TC\",\"XDP_SKB\",\"XDP_DRV\"]"},
	    {"m/uuid", MODEL_HELP_NONE, true, "[]"},
	    {"m/type", MODEL_HELP_NONE, false, "400"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *got = help(cases[i].path, cases[i].type, cases[i].completion);

		if (!streq(got, cases[i].expected))
			fail_msg("\"%s\" help %d%s:\n  got      %s\n  expected %s", cases[i].path,
				 cases[i].type, cases[i].completion ? " completion" : "", got,
				 cases[i].expected);
	}
}

static void test_pick_wrap(void **state)
{
	char buf[] = "m/dataplane-config/ingress-path/metric-configs/c/map-name";
	char buf2[] = "m/dataplane-config/egress-path/name";
	char *segs[MODEL_MAX_DEPTH * 2];
	struct model_path p;
	json_auto_t *cube = json_pack("{s:s,s:{s:{s:[{s:s,s:s},{s:s,s:s}]}}}", "name", "m",
				      "dataplane-config", "ingress-path", "metric-configs", "name",
				      "b", "map-name", "B", "name", "c", "map-name", "C");
	json_auto_t *w = NULL;
	_cleanup_free_ char *s = NULL;

	assert_int_equal(model_resolve(segs, split(buf, segs), &p), 0);
	assert_string_equal(json_string_value(model_pick(&p, 1, cube)), "C");
	p.keys[3] = "nope";
	assert_null(model_pick(&p, 1, cube));
	/* A write below a list: none is writable. */
	assert_null(model_wrap(&p, 1, json_string("X")));

	assert_int_equal(model_resolve(segs, split(buf2, segs), &p), 0);
	w = model_wrap(&p, 1, json_string("renamed"));
	s = json_dumps(w, JSON_COMPACT);
	assert_string_equal(s, "{\"dataplane-config\":{\"egress-path\":{\"name\":\"renamed\"}}}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_pick_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
