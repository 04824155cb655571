/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "config-check.h"
#include "monitor-file.h"
#include "util.h"

static const char *const file_members[] = {
    "name",  "type",	 "interface",	     "position",       "before",
    "after", "loglevel", "dataplane-config", "dataplane-file", NULL};

void dm_monitor_file_done(struct dm_monitor_file *f)
{
	free(f->name);
	free(f->type);
	if (f->interfaces)
		for (char **i = f->interfaces; *i; i++)
			free(*i);
	free(f->interfaces);
	free(f->position);
	free(f->before);
	free(f->after);
	free(f->loglevel);
	json_decref(f->config);
	free(f->config_file);
	*f = (struct dm_monitor_file){};
}

bool dm_interface_is_pattern(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int add_interface(struct dm_monitor_file *f, size_t n, json_t *v, const struct cfg_place *at,
			 dm_error *e)
{
	int r = cfg_expect_kind(v, at, KIND_STRING, e);

	if (r < 0)
		return r;
	if (json_string_length(v) == 0)
		return cfg_bad(e, at, "an interface name or pattern cannot be empty");
	if (dm_interface_is_pattern(json_string_value(v)))
		f->is_template = true;
	return cfg_dup_string(json_string_value(v), &f->interfaces[n], e);
}

/* "interface": "eth0", "veth*" or a list of them (a list is a template even of one). */
static int parse_interfaces(json_t *o, struct dm_monitor_file *f, dm_error *e)
{
	json_t *v = json_object_get(o, "interface"), *el;
	size_t i;
	int r;

	if (!v)
		return cfg_bad(e, MEMBER(NULL, "interface"), "missing (an interface or a list)");
	if (!json_is_array(v) && !json_is_string(v))
		return cfg_bad(e, MEMBER(NULL, "interface"),
			       "must be a string or a list of strings, got %s", cfg_json_kind(v));
	if (json_is_array(v) && json_array_size(v) == 0)
		return cfg_bad(e, MEMBER(NULL, "interface"), "the list is empty");
	f->interfaces = calloc(json_is_array(v) ? json_array_size(v) + 1 : 2, sizeof(char *));
	if (!f->interfaces)
		return dm_error_oom(e);
	if (json_is_string(v))
		return add_interface(f, 0, v, MEMBER(NULL, "interface"), e);
	f->is_template = true;
	json_array_foreach (v, i, el) {
		r = add_interface(f, i, el, ELEMENT(MEMBER(NULL, "interface"), i), e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int get_string(json_t *o, const char *key, char **ret, dm_error *e)
{
	const char *s = NULL;
	int r = cfg_get_string(o, NULL, key, false, NULL, &s, e);

	if (r < 0 || !s)
		return r;
	if (!*s)
		return cfg_bad(e, MEMBER(NULL, key), "cannot be empty");
	return cfg_dup_string(s, ret, e);
}

static int parse_dataplane(json_t *o, struct dm_monitor_file *f, dm_error *e)
{
	json_t *v = NULL;
	int r;

	r = cfg_get_member(o, NULL, "dataplane-config", KIND_OBJECT, false, &v, e);
	if (r >= 0)
		r = get_string(o, "dataplane-file", &f->config_file, e);
	if (r < 0)
		return r;
	if (v && f->config_file)
		return cfg_bad(e, MEMBER(NULL, "dataplane-file"),
			       "give either dataplane-config or dataplane-file, not both");
	if (!v && !f->config_file)
		return dm_error_set(e, -EBADMSG, "missing dataplane-config or dataplane-file");
	f->config = json_incref(v);
	return 0;
}

static int parse_object(json_t *o, const char *filename, struct dm_monitor_file *f, dm_error *e)
{
	static const char *const strings[] = {"type", "position", "before", "after", "loglevel"};
	char **dest[] = {&f->type, &f->position, &f->before, &f->after, &f->loglevel};
	size_t len = strlen(filename);
	int r;

	r = cfg_check_members(o, NULL, file_members, e);
	if (r >= 0)
		r = get_string(o, "name", &f->name, e);
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(strings); i++)
		r = get_string(o, strings[i], dest[i], e);
	if (r >= 0)
		r = parse_interfaces(o, f, e);
	if (r >= 0)
		r = parse_dataplane(o, f, e);
	if (r < 0)
		return r;
	if (!f->name && len > 5 && streq(filename + len - 5, ".json"))
		f->name = strndup(filename, len - 5);
	if (!f->name)
		return dm_error_oom(e);
	return 0;
}

int dm_monitor_file_parse(const char *text, const char *filename, struct dm_monitor_file *ret,
			  dm_error *error)
{
	_cleanup_(json_decrefp) json_t *root = NULL;
	struct dm_monitor_file f = {};
	json_error_t je;
	int r;

	root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return dm_error_set(error, -EBADMSG, "invalid JSON at line %d, column %d: %s",
				    je.line, je.column, je.text);
	if (!json_is_object(root))
		return dm_error_set(error, -EBADMSG, "the file must hold a JSON object, got %s",
				    cfg_json_kind(root));
	r = parse_object(root, filename, &f, error);
	if (r < 0) {
		dm_monitor_file_done(&f);
		return r;
	}
	*ret = f;
	return 0;
}
