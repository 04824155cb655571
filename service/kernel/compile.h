/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling injected C into a BPF object: clang in a child process, with a time limit, its
 * diagnostics returned to the caller. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

struct dm_compiler {
	const char *clang;	       /* the compiler binary */
	const char *include_dir;       /* dynmon's compatibility headers (bpf/include) */
	const char *multiarch_include; /* /usr/include/<triplet> for <asm/types.h>, may be "" */
	unsigned timeout_sec;
};

/* Compiles `code` (the file is called `unit_name`, e.g. "ingress.bpf.c", so that diagnostics
 * point at it) into an ELF object held in memory. On failure: -ENOEXEC with clang's
 * diagnostics, -ETIMEDOUT when clang ran out of time, other -errno when it could not run. */
int dm_compile(const struct dm_compiler *c, const char *code, const char *unit_name,
	       void **ret_object, size_t *ret_size, dm_error *error);
