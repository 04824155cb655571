/* SPDX-License-Identifier: Apache-2.0 */
/* The Polycube/BCC dialect: detection, and a purely syntactic translation into the libbpf
 * dialect compiled against bpf/include/polycube.h. Line numbers of the user's code are kept,
 * so that the compiler's diagnostics point at the user's own lines. No kernel here. */
#pragma once

#include <stdbool.h>

#include "config.h"
#include "errors.h"

enum dm_dialect {
	DM_DIALECT_LIBBPF,
	DM_DIALECT_POLYCUBE,
};

/* The hook a translated program is built for: it decides CTXTYPE, the SEC() and what RX_OK
 * and RX_DROP become (tc: TC_ACT_UNSPEC, i.e. go on to the next filter, and TC_ACT_SHOT;
 * xdp: XDP_PASS and XDP_DROP). */
enum dm_hook {
	DM_HOOK_TC,
	DM_HOOK_XDP,
};

struct dm_translation {
	char *code;	    /* libbpf-dialect C, ready for dm_compile() */
	char **shared_maps; /* NULL-terminated: maps declared _SHARED/_PUBLIC/_PINNED or extern,
			       which are one map across the monitor's paths */
	char **extern_maps; /* NULL-terminated, among shared_maps: the maps this path declares
			       "extern", which the other path must define (the extern
			       declaration has no kind of its own: reuse the other path's map) */
};

/* Polycube code is recognised by handle_rx(), BPF_TABLE/BPF_ARRAY/... macros or map method
 * calls; anything else is the libbpf dialect. */
enum dm_dialect dm_dialect_detect(const char *code);

/* Translates Polycube code for one path. -EBADMSG with a message naming the user's line for
 * constructs it cannot translate (e.g. an unknown BPF_TABLE kind). */
int dm_dialect_translate(const char *code, enum dm_path path, enum dm_hook hook,
			 struct dm_translation *ret, dm_error *error);

void dm_translation_done(struct dm_translation *t);

/* The code clang compiles for one path: Polycube code translated into `t`, with PCN_LOG_LEVEL
 * defined first (before the translation's own prelude, whose "#line 1" keeps the user's line
 * numbers); libbpf code as it is (`t` stays empty). */
int dm_dialect_prepare(const char *code, enum dm_path path, enum dm_hook hook, int log_level,
		       struct dm_translation *t, char **ret, dm_error *error);
