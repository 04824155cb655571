/* SPDX-License-Identifier: Apache-2.0 */
/* What a value of the configuration document must be, and where it sits when it is not: every
 * message names its place, e.g. "ingress-path.metric-configs[1].open-metrics-metadata.type". */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "config-check.h"

static bool plain_key(const char *key)
{
	if (!*key)
		return false;
	for (; *key; key++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
			    *key))
			return false;
	return true;
}

static void place_print(FILE *f, const struct cfg_place *p)
{
	if (!p)
		return;
	place_print(f, p->parent);
	if (p->key && plain_key(p->key))
		fprintf(f, "%s%s", p->parent ? "." : "", p->key);
	else if (p->key) /* quoted, so that the reader can tell where it begins and ends */
		fprintf(f, "%s\"%s\"", p->parent ? "." : "", p->key);
	else
		fprintf(f, "[%zu]", p->index);
}

static char *place_to_string(const struct cfg_place *p)
{
	char *s = NULL;
	size_t size;
	FILE *f = open_memstream(&s, &size);

	if (!f)
		return NULL;
	place_print(f, p);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* Records "PLACE: MESSAGE" and returns -EBADMSG. */
int cfg_bad(dm_error *e, const struct cfg_place *p, const char *fmt, ...)
{
	_cleanup_free_ char *where = NULL;
	va_list ap;
	int r;

	if (p && !(where = place_to_string(p)))
		return dm_error_oom(e);
	va_start(ap, fmt);
	r = dm_error_setv_prefixed(e, -EBADMSG, where, fmt, ap);
	va_end(ap);
	return r;
}

const char *cfg_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown JSON value";
}

static const char *const kind_names[] = {
    [KIND_OBJECT] = "an object",  [KIND_ARRAY] = "an array",	 [KIND_STRING] = "a string",
    [KIND_BOOLEAN] = "a boolean", [KIND_INTEGER] = "an integer", [KIND_NUMBER] = "a number",
};

static bool is_kind(const json_t *v, enum cfg_kind k)
{
	switch (k) {
	case KIND_OBJECT:
		return json_is_object(v);
	case KIND_ARRAY:
		return json_is_array(v);
	case KIND_STRING:
		return json_is_string(v);
	case KIND_BOOLEAN:
		return json_is_boolean(v);
	case KIND_INTEGER:
		return json_is_integer(v);
	case KIND_NUMBER:
		return json_is_number(v);
	}
	return false;
}

int cfg_expect_kind(const json_t *v, const struct cfg_place *at, enum cfg_kind k, dm_error *e)
{
	if (!is_kind(v, k))
		return cfg_bad(e, at, "expected %s, got %s", kind_names[k], cfg_json_kind(v));
	/* jansson can hold strings with NULs (json_stringn()); C strings cannot. */
	if (k == KIND_STRING && strlen(json_string_value(v)) != json_string_length(v))
		return cfg_bad(e, at, "contains a NUL character");
	return 0;
}

int cfg_check_members(json_t *o, const struct cfg_place *at, const char *const *known, dm_error *e)
{
	const char *key;
	json_t *v;

	json_object_foreach (o, key, v) {
		if (!strv_contains(known, key)) {
			_cleanup_free_ char *expected = strv_join(known, " or ");

			if (!expected)
				return dm_error_oom(e);
			return cfg_bad(e, MEMBER(at, key), "unknown field (expected %s)", expected);
		}
	}
	return 0;
}

/* Member `key` of `o`, which must be of kind `k`; *ret is NULL when it is absent and not
 * `required`. */
int cfg_get_member(json_t *o, const struct cfg_place *at, const char *key, enum cfg_kind k,
		   bool required, json_t **ret, dm_error *e)
{
	json_t *v = json_object_get(o, key);
	int r;

	if (!v) {
		if (required)
			return cfg_bad(e, MEMBER(at, key), "required field missing (expected %s)",
				       kind_names[k]);
		*ret = NULL;
		return 0;
	}
	r = cfg_expect_kind(v, MEMBER(at, key), k, e);
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

/* Like cfg_get_member() for a string; `def` when it is absent and not `required`. */
int cfg_get_string(json_t *o, const struct cfg_place *at, const char *key, bool required,
		   const char *def, const char **ret, dm_error *e)
{
	json_t *v = NULL;
	int r;

	r = cfg_get_member(o, at, key, KIND_STRING, required, &v, e);
	if (r < 0)
		return r;
	*ret = v ? json_string_value(v) : def;
	return 0;
}

/* Like cfg_get_member() for a boolean; *ret is left alone when it is absent. */
int cfg_get_bool(json_t *o, const struct cfg_place *at, const char *key, bool *ret, dm_error *e)
{
	json_t *v = NULL;
	int r;

	r = cfg_get_member(o, at, key, KIND_BOOLEAN, false, &v, e);
	if (r < 0)
		return r;
	if (v)
		*ret = json_is_true(v);
	return 0;
}

int cfg_dup_string(const char *s, char **ret, dm_error *e)
{
	*ret = strdup(s);
	return *ret ? 0 : dm_error_oom(e);
}

int cfg_check_label_name(const char *name, const struct cfg_place *at, dm_error *e)
{
	if (!dm_label_name_is_valid(name))
		return cfg_bad(
		    e, at, "invalid label name \"%s\" (must match [a-zA-Z_][a-zA-Z0-9_]*)", name);
	if (strncmp(name, "__", 2) == 0)
		return cfg_bad(e, at, "label name \"%s\" is reserved (names starting with \"__\")",
			       name);
	if (strv_contains(dm_reserved_label_names, name))
		return cfg_bad(e, at,
			       "label name \"%s\" is reserved (le, quantile and monitor are set "
			       "by OpenMetrics and dynmon)",
			       name);
	return 0;
}

/* "saddr", "hdr.saddr": C identifiers joined by dots. */
bool cfg_field_path_is_valid(const char *s)
{
	_cleanup_free_ char *copy = strdup(s);
	char *save = NULL;

	if (!copy || !*s || s[strlen(s) - 1] == '.')
		return false;
	for (char *c = strtok_r(copy, ".", &save); c; c = strtok_r(NULL, ".", &save))
		if (!dm_c_name_is_valid(c))
			return false;
	return !strstr(s, "..") && *s != '.';
}

/* A string member naming a field, copied into *ret; *ret stays NULL when it is absent. */
int cfg_get_field_path(json_t *o, const struct cfg_place *at, const char *key, char **ret,
		       dm_error *e)
{
	const char *path;
	int r;

	r = cfg_get_string(o, at, key, false, NULL, &path, e);
	if (r < 0 || !path)
		return r;
	if (!cfg_field_path_is_valid(path))
		return cfg_bad(
		    e, MEMBER(at, key),
		    "invalid field \"%s\" (C member names, joined by \".\" for nested ones)", path);
	return cfg_dup_string(path, ret, e);
}

/* A string member that must be one of `names` (a NULL-terminated table); *ret is left alone
 * when it is absent. */
int cfg_get_enum(json_t *o, const struct cfg_place *at, const char *key, const char *const *names,
		 const char *what, int *ret, dm_error *e)
{
	_cleanup_free_ char *expected = NULL;
	const char *s;
	int r;

	r = cfg_get_string(o, at, key, false, NULL, &s, e);
	if (r < 0 || !s)
		return r;
	r = strv_index(names, s);
	if (r >= 0) {
		*ret = r;
		return 0;
	}
	expected = strv_join(names, " or ");
	if (!expected)
		return dm_error_oom(e);
	return cfg_bad(e, MEMBER(at, key), "unknown %s \"%s\" (expected %s)", what, s, expected);
}

/* "0", "-3", "0x1f": the integer a map decoder's key names. */
/* An integer member within [min, max]; *ret is left alone when it is absent. */
int cfg_get_integer(json_t *o, const struct cfg_place *at, const char *key, int64_t min,
		    int64_t max, int64_t *ret, dm_error *e)
{
	json_t *v = NULL;
	int r;

	r = cfg_get_member(o, at, key, KIND_INTEGER, false, &v, e);
	if (r < 0 || !v)
		return r;
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return cfg_bad(e, MEMBER(at, key),
			       "%" JSON_INTEGER_FORMAT " is out of range (%" PRId64 " to %" PRId64
			       ")",
			       json_integer_value(v), min, max);
	*ret = json_integer_value(v);
	return 0;
}
