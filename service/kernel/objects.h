/* SPDX-License-Identifier: Apache-2.0 */
/* Where a path's BPF object comes from when clang need not run (docs/OBJECTS.md): the object
 * the configuration carries (checked, and with trusted keys, its signature verified), or the
 * compile cache, in memory and in the state directory. */
#pragma once

#include <stddef.h>

#include "compile.h"
#include "config.h"

/* At most this many objects are cached, in memory and on disk each (the oldest go first). */
#define DM_OBJCACHE_MAX 256

struct dm_objcache;

/* A cache kept in `dir` (made if missing; NULL: in memory only). The compiler's identity
 * (dm_compiler_file_id()) and the headers', part of every key, are taken once, at the first
 * use: a compiler or headers changed while the daemon runs are seen at its next start. */
int dm_objcache_new(const char *dir, struct dm_objcache **ret);
void dm_objcache_free(struct dm_objcache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_objcache *, dm_objcache_free);

/* Records an object clang made from `code` (the prepared code, dialect.h). Failures to write
 * the disk copy are logged and ignored: the cache is only ever a shortcut. */
void dm_objcache_put(const struct dm_compiler *c, const char *code, const void *elf, size_t size);

/* The object for `code` of path `p` of `pc` without running clang: 1 with the ELF in *ret_elf
 * (the caller frees it), 0 when clang has to compile it, or an error: -EILSEQ (the
 * configuration's object does not fit, dm_object_check()), -ENOKEY (keys are required and the
 * object is unsigned, or there is source code only and --allow-source was not given),
 * -EKEYREVOKED (a wrong signature or an untrusted key). */
int dm_object_resolve(const struct dm_compiler *c, enum dm_path p, const struct dm_path_config *pc,
		      const char *code, void **ret_elf, size_t *ret_size, dm_error *error);
