/* SPDX-License-Identifier: Apache-2.0 */
/* A path's precompiled BPF object: the "object" member of a path (docs/OBJECTS.md), which
 * `dynmonctl compile` writes and dynmond loads without running clang. Its checks (the hashes,
 * and the Ed25519 signature of a key the daemon trusts) and what exactly is signed. Pure: no
 * kernel here; hashing and signatures through OpenSSL's libcrypto. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "dialect.h"
#include "errors.h"

#define DM_SHA256_HEX_SIZE 65
#define DM_KEY_ID_SIZE 17 /* 16 hex digits and the NUL */

struct dm_object {
	void *elf; /* the ELF object clang made */
	size_t size;
	char sha256[DM_SHA256_HEX_SIZE];	/* of `elf`, as the document states it */
	char source_sha256[DM_SHA256_HEX_SIZE]; /* of the code clang compiled (after the rewrite) */
	enum dm_hook hook;			/* what the code was prepared for */
	int log_level;				/* PCN_LOG_LEVEL it was prepared with */
	char *compiler;				/* clang --version's first line */
	char *headers;				/* dm_compiler_headers_id() of the build host */
	char *key_id;				/* NULL: unsigned */
	void *signature;			/* Ed25519: 64 bytes */
	size_t signature_size;
};

/* Parses `o`, the value of the "object" member at `at` (strict: unknown members are errors).
 * Only the shape is checked here; whether the object fits its code is dm_object_check()'s. */
struct cfg_place;
int dm_object_parse(json_t *o, const struct cfg_place *at, struct dm_object **ret, dm_error *e);
json_t *dm_object_to_json(const struct dm_object *o);
void dm_object_free(struct dm_object *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_object *, dm_object_free);

/* A new unsigned object for `elf` compiled from `source`. */
int dm_object_new(const void *elf, size_t size, const char *source, enum dm_hook hook,
		  int log_level, const char *compiler, const char *headers, struct dm_object **ret);

/* Lower-case hex SHA-256 of `data`. */
void dm_sha256_hex(const void *data, size_t size, char out[DM_SHA256_HEX_SIZE]);

/* Whether `o` is what was compiled from `source` (the path's code as this daemon prepares it):
 * -EILSEQ, naming what differs, when its ELF is not the one its sha256 names, or when it was
 * compiled from other code, for another hook or at another log level. */
int dm_object_check(const struct dm_object *o, const char *source, dm_error *e);

/* The exact bytes a signature covers (docs/OBJECTS.md, "What is signed"): the path, the ELF's
 * and the compiled source's SHA-256, the hook, the log level and the SHA-256 of the path's
 * normalized metric-configs. */
int dm_object_signed_bytes(const struct dm_object *o, enum dm_path path,
			   const struct dm_path_config *pc, char **ret);

/* Signs `o` (the path `path` of a configuration) with the Ed25519 private key in the PEM file
 * `key_file`. */
int dm_object_sign(struct dm_object *o, enum dm_path path, const struct dm_path_config *pc,
		   const char *key_file, dm_error *e);

/* The Ed25519 public keys an operator trusts (--trusted-keys=DIR: every *.pem file). */
struct dm_trust;
int dm_trust_load(const char *dir, struct dm_trust **ret, dm_error *e);
void dm_trust_free(struct dm_trust *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dm_trust *, dm_trust_free);
size_t dm_trust_count(const struct dm_trust *t);

/* 0 when `o` is signed by a trusted key over dm_object_signed_bytes(); -ENOKEY when it is
 * unsigned, -EKEYREVOKED when the key is not trusted or the signature does not match. */
int dm_trust_verify(const struct dm_trust *t, const struct dm_object *o, enum dm_path path,
		    const struct dm_path_config *pc, dm_error *e);

/* The key id of a PEM public or private key file: the first 16 hex digits of the SHA-256 of
 * the raw 32-byte public key. */
int dm_key_id_of_file(const char *file, char ret[DM_KEY_ID_SIZE], dm_error *e);
