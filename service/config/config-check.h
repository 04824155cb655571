/* SPDX-License-Identifier: Apache-2.0 */
/* What a value of the configuration document must be, and where it sits when it is not. The
 * parser (config-parse.c) reads the document through these, so that every error names its
 * place the same way. Each returns 0, or -EBADMSG (-ENOMEM) with the message set. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

/* Where a value sits in the document, as a chain up to the root kept on the stack: a member
 * has a key, an array element an index. NULL is the root itself. Nothing is allocated for
 * places unless an error has to be spelled out. */
struct cfg_place {
	const struct cfg_place *parent;
	const char *key;
	size_t index;
};

#define MEMBER(p, k) (&(const struct cfg_place){.parent = (p), .key = (k)})
#define ELEMENT(p, i) (&(const struct cfg_place){.parent = (p), .index = (i)})

/* Records "PLACE: MESSAGE" and returns -EBADMSG. */
int cfg_bad(dm_error *e, const struct cfg_place *p, const char *fmt, ...) _printf_(3, 4);

enum cfg_kind {
	KIND_OBJECT,
	KIND_ARRAY,
	KIND_STRING,
	KIND_BOOLEAN,
	KIND_INTEGER,
	KIND_NUMBER,
};

/* "an object", "a string", ...: what a value is, for messages. */
const char *cfg_json_kind(const json_t *v);

int cfg_expect_kind(const json_t *v, const struct cfg_place *at, enum cfg_kind k, dm_error *e);

/* Every member of `o` is one of `known` (NULL-terminated). */
int cfg_check_members(json_t *o, const struct cfg_place *at, const char *const *known, dm_error *e);

/* Member `key` of `o`, which must be of kind `k`; *ret is NULL when it is absent and not
 * `required`. */
int cfg_get_member(json_t *o, const struct cfg_place *at, const char *key, enum cfg_kind k,
		   bool required, json_t **ret, dm_error *e);

/* Like cfg_get_member() for a string; `def` when it is absent and not `required`. */
int cfg_get_string(json_t *o, const struct cfg_place *at, const char *key, bool required,
		   const char *def, const char **ret, dm_error *e);

/* Like cfg_get_member() for a boolean; *ret is left alone when it is absent. */
int cfg_get_bool(json_t *o, const struct cfg_place *at, const char *key, bool *ret, dm_error *e);

/* An integer member within [min, max]; *ret is left alone when it is absent. */
int cfg_get_integer(json_t *o, const struct cfg_place *at, const char *key, int64_t min,
		    int64_t max, int64_t *ret, dm_error *e);

/* A string member that must be one of `names` (a NULL-terminated table); *ret is left alone
 * when it is absent. */
int cfg_get_enum(json_t *o, const struct cfg_place *at, const char *key, const char *const *names,
		 const char *what, int *ret, dm_error *e);

/* A string member naming a field, copied into *ret; *ret stays NULL when it is absent. */
int cfg_get_field_path(json_t *o, const struct cfg_place *at, const char *key, char **ret,
		       dm_error *e);

/* "saddr", "hdr.saddr": C identifiers joined by dots. */
bool cfg_field_path_is_valid(const char *s);

/* A label name an operator may give: valid, and not one OpenMetrics or dynmon sets. */
int cfg_check_label_name(const char *name, const struct cfg_place *at, dm_error *e);

/* strdup() with the error set. */
int cfg_dup_string(const char *s, char **ret, dm_error *e);
