/* SPDX-License-Identifier: Apache-2.0 */
/* Picking parts of a monitor's metrics: one path's, one metric by name (metrics-select.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "metrics-select.h"
#include "util.h"

static const char *const path_names[] = {"ingress", "egress"};

const char *metrics_direction_path(enum metrics_direction dir)
{
	return dir == METRICS_INGRESS ? "ingress" : dir == METRICS_EGRESS ? "egress" : NULL;
}

static bool direction_has_path(enum metrics_direction dir, size_t path)
{
	return dir == METRICS_BOTH || (size_t)dir == path + 1;
}

/* Appends one reference to *refs (of *n). */
static int refs_add(struct metric_ref **refs, size_t *n, struct metric_ref ref)
{
	struct metric_ref *p = reallocarray(*refs, *n + 1, sizeof(**refs));

	if (!p)
		return -ENOMEM;
	p[(*n)++] = ref;
	*refs = p;
	return 0;
}

/* The metrics of one path's list that `name` (NULL: any) names. */
static int find_in_list(json_t *list, const char *path, const char *name, struct metric_ref **refs,
			size_t *n)
{
	json_t *m;
	size_t i;
	int r;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return -EBADMSG;
	json_array_foreach (list, i, m) {
		const char *mname = json_string_value(json_object_get(m, "name"));

		if (!mname)
			return -EBADMSG;
		if (name && !streq(name, mname))
			continue;
		r = refs_add(refs, n,
			     (struct metric_ref){path, mname, json_object_get(m, "value")});
		if (r < 0)
			return r;
	}
	return 0;
}

int metrics_find(json_t *metrics, enum metrics_direction dir, const char *name,
		 struct metric_ref **ret, size_t *ret_n)
{
	_cleanup_free_ struct metric_ref *refs = NULL;
	size_t n = 0;
	int r;

	if (!json_is_object(metrics))
		return -EBADMSG;
	for (size_t p = 0; p < ELEMENTSOF(path_names); p++) {
		char key[32];

		if (!direction_has_path(dir, p))
			continue;
		snprintf(key, sizeof(key), "%s-metrics", path_names[p]);
		r = find_in_list(json_object_get(metrics, key), path_names[p], name, &refs, &n);
		if (r < 0)
			return r;
	}
	if (name && n == 0)
		return -ENOENT;
	if (name && n > 1)
		return -ENOTUNIQ;
	*ret = TAKE_PTR(refs);
	*ret_n = n;
	return 0;
}

int metrics_select_json(json_t *metrics, enum metrics_direction dir, const char *name, json_t **ret)
{
	_cleanup_free_ struct metric_ref *refs = NULL;
	json_t *list;
	size_t n;
	int r;

	r = metrics_find(metrics, dir, name, &refs, &n);
	if (r < 0)
		return r;
	if (name) {
		*ret = refs[0].value ? json_incref(refs[0].value) : json_null();
		return 0;
	}
	if (dir == METRICS_BOTH) {
		*ret = json_incref(metrics);
		return 0;
	}
	list =
	    json_object_get(metrics, dir == METRICS_INGRESS ? "ingress-metrics" : "egress-metrics");
	*ret = list ? json_incref(list) : json_array();
	return *ret ? 0 : -ENOMEM;
}

/* The configuration of the metric `name` on `path` ("ingress"), or NULL. */
static json_t *metric_config(json_t *config, const char *path, const char *name)
{
	char key[32];
	json_t *m;
	size_t i;

	snprintf(key, sizeof(key), "%s-path", path);
	json_array_foreach (json_object_get(json_object_get(config, key), "metric-configs"), i, m)
		if (streq_ptr(json_string_value(json_object_get(m, "name")), name))
			return m;
	return NULL;
}

enum metric_reading metrics_reading(json_t *config, const char *path, const char *name)
{
	json_t *m = metric_config(config, path, name);
	json_t *options = json_object_get(m, "extraction-options");
	json_t *meta = json_object_get(m, "open-metrics-metadata");

	if (json_is_true(json_object_get(options, "empty-on-read")) ||
	    json_is_true(json_object_get(options, "swap-on-read")))
		return METRIC_READING_DELTA;
	if (streq_ptr(json_string_value(json_object_get(meta, "type")), "gauge"))
		return METRIC_READING_GAUGE;
	return METRIC_READING_TOTAL;
}
