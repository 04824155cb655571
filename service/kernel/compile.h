/* SPDX-License-Identifier: Apache-2.0 */
/* Compiling injected C into a BPF object: clang in a child process that runs off the event
 * loop, under limits (memory, CPU, output size, a time limit), as an unprivileged user, and
 * dies with the daemon. The code goes in and the object comes out through memory files: no
 * file of the compilation is ever left on disk. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "errors.h"

/* The child's limits: clang on dataplane code needs far less; an include or macro bomb hits
 * them instead of the machine. */
#define DM_COMPILE_MEMORY_MAX (1024ULL * 1024 * 1024) /* address space */
#define DM_COMPILE_OUTPUT_MAX (64ULL * 1024 * 1024)   /* any file it writes: the object */

struct dm_durations;
struct dm_objcache;
struct dm_trust;

/* What the compiler is given besides the code (build_argv() in compile.c): part of a compile
 * cache key (objects.h). */
#define DM_COMPILE_FLAGS "-O2 -g -target bpf -D__TARGET_ARCH_x86 -x c"

struct dm_compiler {
	const char *clang;	       /* the compiler binary */
	const char *include_dir;       /* dynmon's compatibility headers (bpf/include) */
	const char *multiarch_include; /* /usr/include/<triplet> for <asm/types.h>, may be "" */
	unsigned timeout_sec;
	/* Who clang runs as when the daemon is root (README, "Compiling injected code"): it
	 * reads only what that user may read, so no diagnostic shows a file the caller could not
	 * read. */
	uid_t uid;
	gid_t gid;
	struct dm_durations
	    *durations; /* each compile counted there (selfmetrics.h); may be NULL */
	/* Precompiled objects (docs/OBJECTS.md): the compile cache (NULL: none), the keys an
	 * object must be signed by (NULL: none required), and whether source code is still
	 * compiled when keys are required. */
	struct dm_objcache *cache;
	const struct dm_trust *trust;
	bool allow_source;
};

/* The compiler's version: the first line of `clang --version` (blocking, a few ms). */
int dm_compiler_version(const struct dm_compiler *c, char **ret);

/* What identifies the compiler's binary without running it: its real path, size, inode and
 * modification time (a package upgrade changes them). For the compile cache's key: a restart
 * with saved monitors need not start clang once. */
int dm_compiler_file_id(const struct dm_compiler *c, char **ret);

/* What identifies the headers the code is compiled against: "sha256:" and the SHA-256 of the
 * names and contents of dynmon's include directory's files and of <linux/version.h> (the
 * kernel headers' release). */
int dm_compiler_headers_id(const struct dm_compiler *c, char **ret);

/* Fills in the unprivileged user (the uid and gid of "nobody", 65534 when there is none). */
void dm_compiler_set_user(struct dm_compiler *c);

/* `elf` (taken by the callee) on success; `error` says why on failure. */
typedef void (*dm_compile_done_fn)(int r, void *elf, size_t size, dm_error *error, void *userdata);

struct dm_compile_job;

/* Starts compiling `code` (the file is called `unit_name`, e.g. "ingress.bpf.c", so that
 * diagnostics point at it); `done` runs once on the event loop when clang is finished or was
 * killed at the time limit. Errors in `done`: -EXDEV when an #include names a file outside the
 * include directories, -ENOEXEC with clang's diagnostics, -ETIMEDOUT when clang ran out of
 * time, other -errno when it could not run. */
int dm_compile_start(const struct dm_compiler *c, sd_event *event, const char *code,
		     const char *unit_name, dm_compile_done_fn done, void *userdata,
		     struct dm_compile_job **ret, dm_error *error);
/* Kills clang if it still runs, without calling `done`. NULL allowed. */
void dm_compile_job_free(struct dm_compile_job *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_compile_job *, dm_compile_job_free);

/* The same, blocking the caller: for the start, before anyone waits on the loop. */
int dm_compile(const struct dm_compiler *c, const char *code, const char *unit_name,
	       void **ret_object, size_t *ret_size, dm_error *error);
