/* SPDX-License-Identifier: Apache-2.0 */
/* Picking the families and samples of one path or one metric out of a monitor's OpenMetrics
 * text (om-select.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "om-select.h"
#include "util.h"

enum { INGRESS, EGRESS, N_PATHS };
static const char *const path_names[N_PATHS] = {"ingress", "egress"};

/* An exported metric of the configuration. */
struct exported {
	size_t path;
	const char *name;
	json_t *labels; /* its configured labels: [{"name", "value"}, ...] */
	bool selected;	/* asked for */
};

struct selection {
	struct exported *metrics;
	size_t n;
};

/* The family being copied, and the metric of each path that makes it (NULL: none). */
struct family {
	char name[256];
	const struct exported *maker[N_PATHS];
	bool any_selected, all_selected;
};

static bool direction_has_path(enum metrics_direction dir, size_t path)
{
	return dir == METRICS_BOTH || (dir == METRICS_INGRESS) == (path == INGRESS);
}

static int selection_add(struct selection *s, struct exported e)
{
	struct exported *m = reallocarray(s->metrics, s->n + 1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	s->metrics = m;
	s->metrics[s->n++] = e;
	return 0;
}

/* Every exported metric of `config`, those on the chosen paths named `name` (any when NULL)
 * marked as asked for. */
static int selection_make(json_t *config, enum metrics_direction dir, const char *name,
			  struct selection *s)
{
	bool found = false, exported = false;
	int r;

	for (size_t p = 0; p < N_PATHS; p++) {
		char key[32];
		json_t *m, *meta;
		size_t i;

		snprintf(key, sizeof(key), "%s-path", path_names[p]);
		json_array_foreach (json_object_get(json_object_get(config, key), "metric-configs"),
				    i, m) {
			const char *mname = json_string_value(json_object_get(m, "name"));
			bool wanted =
			    direction_has_path(dir, p) && (!name || streq_ptr(mname, name));

			if (!mname)
				return -EBADMSG;
			found |= wanted;
			meta = json_object_get(m, "open-metrics-metadata");
			if (!json_is_object(meta))
				continue;
			exported |= wanted;
			r = selection_add(
			    s,
			    (struct exported){p, mname, json_object_get(meta, "labels"), wanted});
			if (r < 0)
				return r;
		}
	}
	if (name && !found)
		return -ENOENT;
	if (name && !exported)
		return -ENODATA;
	return 0;
}

/* How strongly `metric` claims to make `family`: 0 not at all; CLAIM_EXACT when the family is
 * its own; the length of its name (without "_total") when that is the family's prefix before a
 * "_", as a struct value's families are. */
#define CLAIM_EXACT SIZE_MAX
static size_t family_claim(const char *metric, const char *family)
{
	size_t len = strlen(metric);

	if (streq(family, metric))
		return CLAIM_EXACT;
	if (len > strlen("_total") && streq(metric + len - strlen("_total"), "_total"))
		len -= strlen("_total");
	if (strncmp(family, metric, len) != 0)
		return 0;
	if (family[len] == '\0')
		return CLAIM_EXACT;
	return family[len] == '_' ? len : 0;
}

/* Starts the family `name`: on each path, the metric with the strongest claim makes it. */
static void family_start(struct family *f, const struct selection *s, const char *name, size_t len)
{
	size_t best = 0;

	*f = (struct family){};
	snprintf(f->name, sizeof(f->name), "%.*s", (int)len, name);
	for (size_t i = 0; i < s->n; i++) {
		size_t c = family_claim(s->metrics[i].name, f->name);

		if (c > best)
			best = c;
	}
	f->all_selected = true;
	for (size_t i = 0; best > 0 && i < s->n; i++) {
		const struct exported *e = &s->metrics[i];

		if (family_claim(e->name, f->name) != best || f->maker[e->path])
			continue;
		f->maker[e->path] = e;
		f->any_selected |= e->selected;
		f->all_selected &= e->selected;
	}
	f->all_selected &= f->any_selected;
}

/* The value of the label `label` of a sample line, unescaped into `buf`; false without one. */
static bool sample_label(const char *line, size_t len, const char *label, char *buf, size_t size)
{
	const char *p = line + strcspn(line, "{ \n"), *end = line + len;

	if (p >= end || *p++ != '{')
		return false;
	while (p < end && *p != '}') {
		const char *n = p;
		size_t o = 0;
		bool match;

		p += strcspn(p, "=\n");
		match = (size_t)(p - n) == strlen(label) && strncmp(n, label, p - n) == 0;
		if (p + 1 >= end || p[1] != '"')
			return false;
		for (p += 2; p < end && *p != '"'; p++) {
			char c = *p;

			if (c == '\\' && p + 1 < end)
				c = *++p == 'n' ? '\n' : *p;
			if (match && o + 1 < size)
				buf[o++] = c;
		}
		if (p++ >= end)
			return false;
		if (match) {
			buf[o] = '\0';
			return true;
		}
		p += p < end && *p == ',';
	}
	return false;
}

/* Whether a sample line carries every one of the configured `labels` (a JSON list). */
static bool carries_labels(const char *line, size_t len, json_t *labels)
{
	char value[256];
	json_t *l;
	size_t i;

	json_array_foreach (labels, i, l) {
		const char *name = json_string_value(json_object_get(l, "name"));
		const char *want = json_string_value(json_object_get(l, "value"));

		if (!name || !want || !sample_label(line, len, name, value, sizeof(value)) ||
		    !streq(value, want))
			return false;
	}
	return true;
}

/* Which path a sample of a family both paths make is from: its `path` label says, or else its
 * configured labels (they tell the paths apart, or dynmon would have added `path`); -1 when
 * nothing says. */
static int sample_path(const struct family *f, const char *line, size_t len)
{
	char value[16];

	if (sample_label(line, len, "path", value, sizeof(value)))
		for (size_t p = 0; p < N_PATHS; p++)
			if (streq(value, path_names[p]))
				return (int)p;
	for (size_t p = 0; p < N_PATHS; p++)
		if (f->maker[p] && json_array_size(f->maker[p]->labels) > 0 &&
		    carries_labels(line, len, f->maker[p]->labels))
			return (int)p;
	return -1;
}

static bool keep_line(const struct family *f, const char *line, size_t len)
{
	int p;

	if (f->all_selected || !f->any_selected || line[0] == '#')
		return f->any_selected;
	p = sample_path(f, line, len);
	return p < 0 || (f->maker[p] && f->maker[p]->selected);
}

/* The family a descriptor line ("# TYPE name ...") names: its start and length; a sample
 * line's is the sample's own name, for text that has samples before any descriptor. */
static bool line_family(const char *line, const char **ret, size_t *ret_len)
{
	static const char *const descriptors[] = {"# TYPE ", "# HELP ", "# UNIT "};

	for (size_t i = 0; i < ELEMENTSOF(descriptors); i++)
		if (strncmp(line, descriptors[i], strlen(descriptors[i])) == 0) {
			*ret = line + strlen(descriptors[i]);
			*ret_len = strcspn(*ret, " \n");
			return true;
		}
	*ret = line;
	*ret_len = strcspn(line, "{ \n");
	return false;
}

/* Copies the lines of `text` that the selection keeps, then "# EOF". */
static int om_filter(const char *text, const struct selection *s, FILE *out)
{
	struct family f = {};
	bool started = false;

	for (const char *line = text; *line;) {
		size_t len = strcspn(line, "\n"), flen;
		const char *fname;

		if (len == strlen("# EOF") && strncmp(line, "# EOF", len) == 0)
			break;
		if ((line_family(line, &fname, &flen) || !started) &&
		    (flen != strlen(f.name) || strncmp(fname, f.name, flen) != 0)) {
			family_start(&f, s, fname, flen);
			started = true;
		}
		if (keep_line(&f, line, len))
			fprintf(out, "%.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
	fputs("# EOF\n", out);
	return ferror(out) ? -EIO : 0;
}

int om_select(const char *text, json_t *config, enum metrics_direction dir, const char *name,
	      char **ret)
{
	_cleanup_free_ struct exported *metrics = NULL;
	struct selection s = {};
	char *buf = NULL;
	size_t size = 0;
	FILE *out;
	int r;

	r = selection_make(config, dir, name, &s);
	metrics = s.metrics;
	if (r < 0)
		return r;
	out = open_memstream(&buf, &size);
	if (!out)
		return -ENOMEM;
	r = om_filter(text, &s, out);
	if (fclose(out) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}
