/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"
#include "object.h"
#include "objects.h"

struct cache_entry {
	char key[DM_SHA256_HEX_SIZE];
	void *elf;
	size_t size;
};

struct dm_objcache {
	char *dir;
	bool identified; /* compiler and headers asked for (they may have failed: NULL) */
	char *compiler;	 /* dm_compiler_file_id() */
	char *headers;
	struct cache_entry entries[DM_OBJCACHE_MAX]; /* a ring: `next` is the oldest when full */
	size_t next;
};

int dm_objcache_new(const char *dir, struct dm_objcache **ret)
{
	struct dm_objcache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (dir) {
		c->dir = strdup(dir);
		if (!c->dir || (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
			int r = c->dir ? -errno : -ENOMEM;
			dm_objcache_free(c);
			return r;
		}
	}
	*ret = c;
	return 0;
}

void dm_objcache_free(struct dm_objcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < DM_OBJCACHE_MAX; i++)
		free(c->entries[i].elf);
	free(c->dir);
	free(c->compiler);
	free(c->headers);
	free(c);
}

/* The key: SHA-256 of the compiler binary's identity, the headers' id, the flags and the code. */
static int cache_key(const struct dm_compiler *comp, const char *code, char key[DM_SHA256_HEX_SIZE])
{
	struct dm_objcache *c = comp->cache;
	_cleanup_free_ char *text = NULL;

	if (!c->identified) {
		c->identified = true;
		if (dm_compiler_file_id(comp, &c->compiler) < 0 ||
		    dm_compiler_headers_id(comp, &c->headers) < 0)
			log_notice("Cannot tell the compiler's version or headers: no compile "
				   "cache.");
	}
	if (!c->compiler || !c->headers)
		return -ENOENT;
	text = strdup_printf("%s%c%s%c%s%c%s", c->compiler, 0, c->headers, 0, DM_COMPILE_FLAGS, 0,
			     code);
	if (!text)
		return -ENOMEM;
	/* The NULs are part of the key; strdup_printf() counts them in. */
	dm_sha256_hex(text,
		      strlen(c->compiler) + strlen(c->headers) + strlen(DM_COMPILE_FLAGS) +
			  strlen(code) + 3,
		      key);
	return 0;
}

static struct cache_entry *memory_find(struct dm_objcache *c, const char *key)
{
	for (size_t i = 0; i < DM_OBJCACHE_MAX; i++)
		if (c->entries[i].elf && streq(c->entries[i].key, key))
			return &c->entries[i];
	return NULL;
}

static void memory_put(struct dm_objcache *c, const char *key, void *elf, size_t size)
{
	struct cache_entry *e = &c->entries[c->next];

	free(e->elf);
	memcpy(e->key, key, DM_SHA256_HEX_SIZE);
	e->elf = elf;
	e->size = size;
	c->next = (c->next + 1) % DM_OBJCACHE_MAX;
}

static void *memdup(const void *p, size_t size)
{
	void *q = malloc(size ?: 1);

	if (q)
		memcpy(q, p, size);
	return q;
}

static int disk_read(struct dm_objcache *c, const char *key, void **ret, size_t *ret_size)
{
	_cleanup_free_ char *file = strdup_printf("%s/%s.o", c->dir, key);
	_cleanup_close_ int fd = -1;
	_cleanup_free_ void *buf = NULL;
	struct stat st;

	if (!file)
		return -ENOMEM;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (off_t)DM_COMPILE_OUTPUT_MAX)
		return -ENOENT;
	buf = malloc(st.st_size ?: 1);
	if (!buf)
		return -ENOMEM;
	if (read(fd, buf, st.st_size) != st.st_size)
		return -EIO;
	/* The directory is the daemon's own (0700), trusted as its saved monitors are; with
	 * trusted keys the cache serves only --allow-source. */
	*ret_size = st.st_size;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* Keeps at most DM_OBJCACHE_MAX files: the least recently written go. */
static void disk_trim(struct dm_objcache *c)
{
	struct dirent **names = NULL;
	int n = scandir(c->dir, &names, NULL, NULL), objects = 0;

	for (int i = 0; i < n; i++)
		objects += strlen(names[i]->d_name) == DM_SHA256_HEX_SIZE + 1;
	while (objects > DM_OBJCACHE_MAX) {
		char oldest[PATH_MAX] = "";
		time_t when = 0;

		for (int i = 0; i < n; i++) {
			_cleanup_free_ char *f = strdup_printf("%s/%s", c->dir, names[i]->d_name);
			struct stat st;

			if (f && strlen(names[i]->d_name) == DM_SHA256_HEX_SIZE + 1 &&
			    stat(f, &st) == 0 && (!oldest[0] || st.st_mtime < when)) {
				snprintf(oldest, sizeof(oldest), "%s", f);
				when = st.st_mtime;
			}
		}
		if (!oldest[0] || unlink(oldest) < 0)
			break;
		objects--;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void disk_write(struct dm_objcache *c, const char *key, const void *elf, size_t size)
{
	_cleanup_free_ char *file = strdup_printf("%s/%s.o", c->dir, key),
			    *tmp = strdup_printf("%s/.%s.tmp", c->dir, key);
	_cleanup_close_ int fd = -1;

	if (!file || !tmp)
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, elf, size) != (ssize_t)size || fsync(fd) < 0 ||
	    rename(tmp, file) < 0) {
		log_warning_errno(errno, "Cannot cache the object in %s, ignoring: %m", c->dir);
		(void)unlink(tmp);
		return;
	}
	disk_trim(c);
}

void dm_objcache_put(const struct dm_compiler *comp, const char *code, const void *elf, size_t size)
{
	char key[DM_SHA256_HEX_SIZE];
	void *copy;

	if (!comp->cache || cache_key(comp, code, key) < 0 || memory_find(comp->cache, key))
		return;
	copy = memdup(elf, size);
	if (!copy)
		return;
	memory_put(comp->cache, key, copy, size);
	if (comp->cache->dir)
		disk_write(comp->cache, key, elf, size);
}

static int cache_get(const struct dm_compiler *comp, const char *code, void **ret, size_t *ret_size)
{
	struct dm_objcache *c = comp->cache;
	struct cache_entry *e;
	char key[DM_SHA256_HEX_SIZE];
	void *elf;
	size_t size;

	if (!c || cache_key(comp, code, key) < 0)
		return 0;
	e = memory_find(c, key);
	if (e) {
		*ret = memdup(e->elf, e->size);
		*ret_size = e->size;
		return *ret ? 1 : -ENOMEM;
	}
	if (!c->dir || disk_read(c, key, &elf, &size) < 0)
		return 0;
	memory_put(c, key, elf, size);
	*ret = memdup(elf, size);
	*ret_size = size;
	return *ret ? 1 : -ENOMEM;
}

int dm_object_resolve(const struct dm_compiler *c, enum dm_path p, const struct dm_path_config *pc,
		      const char *code, void **ret_elf, size_t *ret_size, dm_error *error)
{
	const struct dm_object *o = pc->object;
	int r;

	if (o) {
		r = dm_object_check(o, code, error);
		if (r >= 0 && c->trust)
			r = dm_trust_verify(c->trust, o, p, pc, error);
		if (r < 0)
			return r;
		*ret_elf = memdup(o->elf, o->size);
		*ret_size = o->size;
		return *ret_elf ? 1 : -ENOMEM;
	}
	if (c->trust && !c->allow_source)
		return dm_error_set(error, -ENOKEY,
				    "The %s path has source code only, and this daemon requires "
				    "objects signed by a key it trusts: compile and sign it with "
				    "dynmonctl compile --sign KEY (or start dynmond with "
				    "--allow-source).",
				    dm_path_to_string(p));
	return cache_get(c, code, ret_elf, ret_size);
}
