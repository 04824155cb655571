/* SPDX-License-Identifier: Apache-2.0 */
/* What injected code may include: headers found in the include directories, by a relative path
 * that stays inside them. Checked before clang runs, so that a file elsewhere is refused by name
 * and never opened. (Clang also runs as an unprivileged user: this check is the first wall, not
 * the only one.) Pure. */
#pragma once

#include "errors.h"

/* 0, or -EXDEV with the line and the directive in the message when an #include, #include_next,
 * #import or #embed (also with the %: digraph, comments and line splices in between), or a
 * __has_include(), names an absolute path or one with a ".." component, or names its file with
 * a macro; also when the code asks the assembler to .incbin a file. `unit_name` prefixes the
 * line numbers. */
int dm_includes_check(const char *code, const char *unit_name, dm_error *error);
