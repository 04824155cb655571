/* SPDX-License-Identifier: Apache-2.0 */
/* A path's program built the way dynmond builds it (service/kernel/dataplane.c): the same code
 * preparation, the same compiler invocation (dm_compile), the same libbpf open options. One
 * step per function, so that the inject benchmark can time each one. */
#pragma once

#include <bpf/libbpf.h>

#include "compile.h"
#include "config.h"
#include "errors.h"

/* The compiler dynmond uses, with the compatibility headers in `include_dir`. */
struct dm_compiler bench_compiler(const char *include_dir);

/* The whole text of a file. */
int bench_read_file(const char *path, char **ret);

struct bench_object {
	struct bpf_object *obj;
	char *log; /* the verifier's, as big as the daemon's */
};

/* bpf_object__open_mem() with the daemon's options. */
int bench_object_open(const void *elf, size_t size, const char *name, struct bench_object *ret);

/* Loads the object (verifier, maps) and gives the fd of its one program. */
int bench_object_load(struct bench_object *o, int *ret_prog_fd, dm_error *error);

void bench_object_done(struct bench_object *o);

/* prepare, compile, open and load at once; the fd of the program in *ret_prog_fd. */
int bench_build(const struct dm_compiler *c, const char *code, const char *name,
		struct bench_object *ret, int *ret_prog_fd, dm_error *error);
