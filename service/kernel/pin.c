/* SPDX-License-Identifier: Apache-2.0 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "dataplane.h"
#include "dynmon-log.h"
#include "log.h"
#include "pin.h"
#include "pivot.skel.h"

#define COPY_B_DIR "copy-b"
#define PIVOT_PIN "pivot-progs"
#define XDP_PROG_PIN "xdp-prog"
#define NEW_SUFFIX "-new" /* a pin being made; renamed over its target when done */

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/* The file system type of `path`, or of its deepest existing ancestor: what a directory made
 * there would be on. */
static int fs_type(const char *path, long *ret)
{
	_cleanup_free_ char *p = strdup(path);
	struct statfs st;

	if (!p)
		return -ENOMEM;
	for (;;) {
		char *slash;

		if (statfs(*p ? p : "/", &st) == 0) {
			*ret = st.f_type;
			return 0;
		}
		if (errno != ENOENT)
			return -errno;
		slash = strrchr(p, '/');
		if (slash) {
			*slash = '\0';
		} else if (!streq(p, ".")) {
			p[0] = '.'; /* a relative path: its first component is in "." */
			p[1] = '\0';
		} else {
			return -ENOENT;
		}
	}
}

static int mkdir_p(const char *path)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int pin_dir_prepare(const char *dir)
{
	long type = 0;
	int r;

	r = fs_type(dir, &type);
	if (r < 0)
		return r;
	if (type != BPF_FS_MAGIC)
		return -EMEDIUMTYPE;
	return mkdir_p(dir);
}

char *pin_escape_name(const char *name)
{
	size_t n = 0;
	char *s, *d;

	for (const char *c = name; *c; c++)
		n += *c == '.' ? 3 : 1;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	d = s;
	for (const char *c = name; *c; c++) {
		if (*c == '.') {
			memcpy(d, "%2e", 3);
			d += 3;
		} else {
			*d++ = *c;
		}
	}
	*d = '\0';
	return s;
}

int pin_monitor_dir(const char *pin_dir, const char *monitor, char **ret)
{
	_cleanup_free_ char *escaped = pin_escape_name(monitor);
	char *dir;

	if (!escaped)
		return -ENOMEM;
	dir = strdup_printf("%s/%s", pin_dir, escaped);
	if (!dir)
		return -ENOMEM;
	*ret = dir;
	return 0;
}

/* A pin's path relative to the monitor's directory. */
static char *pin_relative(enum dm_path path, bool copy_b, const char *name)
{
	return strdup_printf("%s%s/%s", dm_path_to_string(path), copy_b ? "/" COPY_B_DIR : "",
			     name);
}

int pin_open_map(const char *mon_dir, enum dm_path path, bool copy_b, const char *map_name)
{
	_cleanup_free_ char *rel = pin_relative(path, copy_b, map_name);
	_cleanup_free_ char *file = NULL;
	int fd;

	if (!rel)
		return -ENOMEM;
	file = strdup_printf("%s/%s", mon_dir, rel);
	if (!file)
		return -ENOMEM;
	fd = bpf_obj_get(file);
	return fd < 0 ? -errno : fd;
}

int pin_open_xdp_prog(const char *mon_dir)
{
	_cleanup_free_ char *file = strdup_printf("%s/ingress/" XDP_PROG_PIN, mon_dir);
	int fd;

	if (!file)
		return -ENOMEM;
	fd = bpf_obj_get(file);
	return fd < 0 ? -errno : fd;
}

/* The pins a dataplane leaves, relative to the monitor's directory: what pruning keeps. */
struct pin_list {
	char **rel;
	size_t n;
};

static void pin_list_done(struct pin_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->rel[i]);
	free(l->rel);
}

static bool pin_list_contains(const struct pin_list *l, const char *rel)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->rel[i], rel))
			return true;
	return false;
}

/* Pins `fd` at `rel`: made beside the target, then renamed over it, so that an existing pin is
 * replaced in one step. Records `rel` (taken) in `done`. */
static int pin_one(const char *mon_dir, char *rel, int fd, struct pin_list *done)
{
	_cleanup_free_ char *owned = rel, *file = NULL, *tmp = NULL;
	char **l, *slash;
	int r;

	if (!rel)
		return -ENOMEM;
	file = strdup_printf("%s/%s", mon_dir, rel);
	tmp = strdup_printf("%s/%s" NEW_SUFFIX, mon_dir, rel);
	if (!file || !tmp)
		return -ENOMEM;
	slash = strrchr(file, '/');
	*slash = '\0';
	r = mkdir_p(file);
	*slash = '/';
	if (r < 0)
		return r;
	(void)unlink(tmp); /* left by a daemon that died here */
	if (bpf_obj_pin(fd, tmp) < 0)
		return -errno;
	if (rename(tmp, file) < 0) {
		r = -errno;
		(void)unlink(tmp);
		return r;
	}
	l = realloc(done->rel, (done->n + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	done->rel = l;
	done->rel[done->n++] = TAKE_PTR(owned);
	return 0;
}

static bool is_user_map(const struct bpf_map *map)
{
	return bpf_map__fd(map) >= 0 && !bpf_map__is_internal(map) &&
	       !streq(bpf_map__name(map), DYNMON_LOG_MAP_NAME);
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) < 0 ? 0 : info.id;
}

/* Copy B's own maps: those it does not share with copy A. */
static bool map_of_copy_b(const struct bpf_map *map, struct bpf_object *obj_a)
{
	const struct bpf_map *a = bpf_object__find_map_by_name(obj_a, bpf_map__name(map));

	return !a || map_id(bpf_map__fd(a)) != map_id(bpf_map__fd(map));
}

static int pin_path_maps(const char *mon_dir, const struct dm_path_program *pp, enum dm_path path,
			 struct pin_list *done)
{
	struct bpf_map *map;
	int r;

	bpf_object__for_each_map (map, pp->obj) {
		if (!is_user_map(map))
			continue;
		r = pin_one(mon_dir, pin_relative(path, false, bpf_map__name(map)),
			    bpf_map__fd(map), done);
		if (r < 0)
			return log_debug_errno(r, "Cannot pin map %s: %m", bpf_map__name(map));
	}
	if (pp->obj_b) {
		bpf_object__for_each_map (map, pp->obj_b) {
			if (!is_user_map(map) || !map_of_copy_b(map, pp->obj))
				continue;
			r = pin_one(mon_dir, pin_relative(path, true, bpf_map__name(map)),
				    bpf_map__fd(map), done);
			if (r < 0)
				return log_debug_errno(r, "Cannot pin map %s of copy B: %m",
						       bpf_map__name(map));
		}
	}
	if (pp->pivot) {
		r = pin_one(mon_dir, strdup_printf("%s/" PIVOT_PIN, dm_path_to_string(path)),
			    bpf_map__fd(pp->pivot->maps.dm_progs), done);
		if (r < 0)
			return log_debug_errno(r, "Cannot pin the swap pivot's programs: %m");
	}
	return 0;
}

/* Removes what under `dir` (at `rel` in the monitor's directory) `keep` does not list, and the
 * directories that end up empty. */
static int prune(const char *dir, const char *rel, const struct pin_list *keep)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *child = NULL, *child_rel = NULL;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		child = strdup_printf("%s/%s", dir, de->d_name);
		child_rel = rel ? strdup_printf("%s/%s", rel, de->d_name) : strdup(de->d_name);
		if (!child || !child_rel)
			return -ENOMEM;
		if (de->d_type == DT_DIR) {
			r = prune(child, child_rel, keep);
			if (r >= 0 && rmdir(child) < 0 && errno != ENOTEMPTY)
				r = -errno;
		} else if (!pin_list_contains(keep, child_rel) && unlink(child) < 0) {
			r = -errno;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int pin_dataplane(const char *mon_dir, const struct dm_dataplane *dp)
{
	_cleanup_(pin_list_done) struct pin_list done = {};
	int r;

	for (int p = 0; dp && p < _DM_PATH_MAX; p++) {
		if (!dp->paths[p].obj)
			continue;
		r = pin_path_maps(mon_dir, &dp->paths[p], p, &done);
		if (r < 0)
			return r;
	}
	if (dp && dp->ingress_hook == DM_HOOK_XDP &&
	    dm_dataplane_prog_fd(dp, DM_PATH_INGRESS) >= 0) {
		r = pin_one(mon_dir, strdup("ingress/" XDP_PROG_PIN),
			    dm_dataplane_prog_fd(dp, DM_PATH_INGRESS), &done);
		if (r < 0)
			return log_debug_errno(r, "Cannot pin the XDP program: %m");
	}
	r = prune(mon_dir, NULL, &done);
	if (r < 0)
		return r;
	if (!dp && rmdir(mon_dir) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}
