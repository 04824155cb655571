/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>

#include <bpf/bpf.h>

#include "dataplane.h"
#include "export.h"
#include "dynmon-log.h"
#include "log.h"
#include "maps.h"
#include "objects.h"
#include "export-metrics.h"
#include "mapped.h"
#include "pin.h"
#include "pivot.skel.h"
#include "swap.h"

#define VERIFIER_LOG_SIZE (4 * 1024 * 1024)
#define VERIFIER_LOG_TAIL (16 * 1024)
#define LIBBPF_CAPTURE_SIZE 4096

/* What libbpf said while the current object loaded: the cause of a failure that is not the
 * verifier's (a map that cannot be created, a missing section...). */
static char libbpf_capture[LIBBPF_CAPTURE_SIZE];
static size_t libbpf_capture_len;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* bpf_tc_hook_create on an existing clsact says this; it is expected. */
	if (strstr(line, "Exclusivity flag on"))
		return 0;
	if (level <= LIBBPF_WARN) {
		size_t n = strlen(line);
		if (libbpf_capture_len + n < sizeof(libbpf_capture)) {
			memcpy(libbpf_capture + libbpf_capture_len, line, n + 1);
			libbpf_capture_len += n;
		}
	}
	log_debug("libbpf: %s", strtok(line, "\n") ?: "");
	return 0;
}

void dm_libbpf_setup_logging(void)
{
	libbpf_set_print(libbpf_print);
}

struct path_build {
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_object *obj_b; /* swap-on-read's second copy */
	struct bpf_program *prog_b;
	struct dm_translation t;
	char *log; /* the verifier's */
};

static void path_build_done(struct path_build *b)
{
	bpf_object__close(b->obj);
	bpf_object__close(b->obj_b);
	dm_translation_done(&b->t);
	free(b->log);
}

struct dm_dataplane *dm_dataplane_ref(struct dm_dataplane *dp)
{
	dp->n_ref++;
	return dp;
}

static void object_close(struct bpf_object *obj)
{
	struct bpf_map *map;

	if (!obj)
		return;
	bpf_object__for_each_map (map, obj)
		dm_map_forget(map);
	bpf_object__close(obj);
}

void dm_dataplane_unref(struct dm_dataplane *dp)
{
	if (!dp || --dp->n_ref > 0)
		return;
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		pivot_bpf__destroy(dp->paths[p].pivot);
		object_close(dp->paths[p].obj_b);
		object_close(dp->paths[p].obj);
	}
	for (int p = 0; dp->config && p < _DM_PATH_MAX; p++)
		for (size_t i = 0; i < dp->config->paths[p].n_metrics; i++)
			dm_export_forget(&dp->config->paths[p].metrics[i]);
	dm_exports_free(dp->exports);
	dm_config_free(dp->config);
	pthread_mutex_destroy(&dp->swap_lock);
	free(dp);
}

int dm_dataplane_prog_fd(const struct dm_dataplane *dp, enum dm_path path)
{
	const struct dm_path_program *pp;

	if (!dp || !dp->paths[path].prog)
		return -1;
	pp = &dp->paths[path];
	if (pp->pivot)
		return bpf_program__fd(dp->ingress_hook == DM_HOOK_XDP && path == DM_PATH_INGRESS
					   ? pp->pivot->progs.dm_pivot_xdp
					   : pp->pivot->progs.dm_pivot_tc);
	return bpf_program__fd(pp->prog);
}

bool dm_dataplane_has_swap(const struct dm_dataplane *dp)
{
	for (int p = 0; dp && p < _DM_PATH_MAX; p++)
		if (dp->paths[p].pivot)
			return true;
	return false;
}

bool dm_read_sel_takes(const struct dm_read_sel *sel, const struct dm_config *c, enum dm_path p,
		       size_t i)
{
	const struct dm_path_config *pc = &c->paths[p];

	if (!sel)
		return true;
	if ((sel->path >= 0 && sel->path != (int)p) ||
	    (sel->exported_only && !pc->metrics[i].open_metrics))
		return false;
	if (!sel->metric)
		return true;
	if (!streq(pc->metrics[i].name, sel->metric))
		return false;
	/* Of two metrics of one name on a path, the first. */
	for (size_t j = 0; j < i; j++)
		if (streq(pc->metrics[j].name, sel->metric))
			return false;
	return true;
}

/* Whether `sel` takes a swap-on-read metric of path `p`: then the path swaps. */
static bool path_swaps_for(const struct dm_dataplane *dp, enum dm_path p,
			   const struct dm_read_sel *sel)
{
	const struct dm_path_config *pc = &dp->config->paths[p];

	if (!dp->paths[p].pivot)
		return false;
	for (size_t i = 0; i < pc->n_metrics; i++)
		if (pc->metrics[i].swap_on_read && dm_read_sel_takes(sel, dp->config, p, i))
			return true;
	return false;
}

bool dm_dataplane_swaps_for(const struct dm_dataplane *dp, const struct dm_read_sel *sel)
{
	for (int p = 0; dp && p < _DM_PATH_MAX; p++)
		if (path_swaps_for(dp, p, sel))
			return true;
	return false;
}

uint64_t dm_dataplane_read_size(const struct dm_dataplane *dp, const struct dm_read_sel *sel)
{
	uint64_t size = 0;

	for (int p = 0; dp && p < _DM_PATH_MAX; p++)
		for (size_t i = 0; i < dp->config->paths[p].n_metrics; i++) {
			const struct btf *btf;
			struct bpf_map *map;
			uint64_t value;
			int cpus = libbpf_num_possible_cpus();

			if (!dm_read_sel_takes(sel, dp->config, p, i))
				continue;
			map = dm_dataplane_find_map(dp, p, dp->config->paths[p].metrics[i].map_name,
						    &btf);
			if (!map)
				continue;
			value = bpf_map__value_size(map);
			if (dm_map_type_is_percpu(bpf_map__type(map)))
				value = ((value + 7) & ~7ull) * (uint64_t)(cpus > 0 ? cpus : 1);
			size +=
			    (uint64_t)bpf_map__max_entries(map) * (bpf_map__key_size(map) + value);
		}
	return size;
}

struct bpf_map *dm_dataplane_find_map(const struct dm_dataplane *dp, enum dm_path path,
				      const char *name, const struct btf **ret_btf)
{
	struct bpf_map *map = NULL;

	if (dp->paths[path].obj)
		map = bpf_object__find_map_by_name(dp->paths[path].obj, name);
	if (!map)
		return NULL;
	*ret_btf = bpf_object__btf(dp->paths[path].obj);
	/* A map that reused the other path's keeps no BTF ids: describe it by the definer's. */
	if (bpf_map__btf_value_type_id(map) == 0) {
		for (int p = 0; p < _DM_PATH_MAX; p++) {
			struct bpf_map *other;

			if (p == (int)path || !dp->paths[p].obj)
				continue;
			other = bpf_object__find_map_by_name(dp->paths[p].obj, name);
			if (other && bpf_map__fd(other) == bpf_map__fd(map) &&
			    bpf_map__btf_value_type_id(other) != 0) {
				*ret_btf = bpf_object__btf(dp->paths[p].obj);
				return other;
			}
		}
	}
	return map;
}

int dm_dataplane_log_fd(const struct dm_dataplane *dp)
{
	for (int p = 0; dp && p < _DM_PATH_MAX; p++) {
		struct bpf_map *map;

		if (!dp->paths[p].obj)
			continue;
		map = bpf_object__find_map_by_name(dp->paths[p].obj, DYNMON_LOG_MAP_NAME);
		if (map)
			return bpf_map__fd(map);
	}
	return -1;
}

static const char *hook_section(enum dm_hook hook)
{
	return hook == DM_HOOK_XDP ? "xdp" : "tc";
}

/* The one program of a path's object, of the type its hook runs. */
static int find_program(struct bpf_object *obj, const char *path, enum dm_hook hook,
			struct bpf_program **ret, dm_error *error)
{
	enum bpf_prog_type want = hook == DM_HOOK_XDP ? BPF_PROG_TYPE_XDP : BPF_PROG_TYPE_SCHED_CLS;
	struct bpf_program *prog, *found = NULL;

	bpf_object__for_each_program (prog, obj) {
		if (found)
			return dm_error_set(error, -EBADMSG,
					    "The %s code has several programs (%s, %s); write one "
					    "SEC(\"%s\") function per path.",
					    path, bpf_program__name(found), bpf_program__name(prog),
					    hook_section(hook));
		found = prog;
	}
	if (!found)
		return dm_error_set(error, -EBADMSG,
				    "The %s code has no program; write a SEC(\"%s\") function.",
				    path, hook_section(hook));
	if (bpf_program__type(found) != want)
		return dm_error_set(error, -EBADMSG,
				    "The %s program %s is not of the kind its hook runs; put it in "
				    "SEC(\"%s\").",
				    path, bpf_program__name(found), hook_section(hook));
	*ret = found;
	return 0;
}

static bool path_swaps_map(const struct dm_path_config *pc, const char *map_name)
{
	for (size_t i = 0; i < pc->n_metrics; i++)
		if (pc->metrics[i].swap_on_read && streq(pc->metrics[i].map_name, map_name))
			return true;
	return false;
}

static bool path_has_swap(const struct dm_path_config *pc)
{
	for (size_t i = 0; i < pc->n_metrics; i++)
		if (pc->metrics[i].swap_on_read)
			return true;
	return false;
}

static int check_metrics(struct bpf_object *obj, const struct dm_path_config *pc,
			 char **shared_maps, const char *path, dm_error *error)
{
	for (size_t i = 0; i < pc->n_metrics; i++) {
		const struct dm_metric_config *m = &pc->metrics[i];
		struct bpf_map *map = bpf_object__find_map_by_name(obj, m->map_name);
		int r;

		if (!map)
			return dm_error_set(
			    error, -EBADMSG,
			    "Metric \"%s\": the %s code declares no map named \"%s\".", m->name,
			    path, m->map_name);
		/* What open-metrics-metadata asks must fit the map's types, known only now. */
		r = dm_metric_check_map(map, bpf_object__btf(obj), m, error);
		if (r < 0)
			return r;
		if (!path_swaps_map(pc, m->map_name))
			continue;
		/* A swapped map exists twice; whatever else reads or shares it would see half. */
		if (!m->swap_on_read)
			return dm_error_set(
			    error, -EBADMSG,
			    "Metric \"%s\": map %s is read with swap-on-read by another "
			    "metric; give every metric of a map the same extraction.",
			    m->name, m->map_name);
		if (strv_contains((const char *const *)shared_maps, m->map_name))
			return dm_error_set(
			    error, -EBADMSG,
			    "Metric \"%s\": map %s is shared between paths and cannot "
			    "be read with swap-on-read; use empty-on-read.",
			    m->name, m->map_name);
	}
	return 0;
}

/* The tail of the verifier's log: its last lines say why it refused. */
static const char *log_tail(const char *log)
{
	size_t n = strlen(log);
	const char *p;

	if (n <= VERIFIER_LOG_TAIL)
		return log;
	p = strchr(log + n - VERIFIER_LOG_TAIL, '\n');
	return p ? p + 1 : log + n - VERIFIER_LOG_TAIL;
}

/* Phase one, before the compiler: the path's code, translated from the Polycube dialect. */
static int path_prepare(const struct dm_dataplane *dp, enum dm_path path, enum dm_hook hook,
			struct path_build *b, char **ret_code, dm_error *error)
{
	b->log = malloc(VERIFIER_LOG_SIZE);
	if (!b->log)
		return -ENOMEM;
	b->log[0] = '\0';
	return dm_dialect_prepare(dp->config->paths[path].code, path, hook, dp->log_level, &b->t,
				  ret_code, error);
}

/* BTF describes max_entries as the size of an array of ints: from 2^30 on, that size overflows
 * 32 bits, and the kernel refuses the object's BTF with a dump of it. Say so by name. */
static int check_map_sizes(struct bpf_object *obj, const char *pname, dm_error *error)
{
	struct bpf_map *map;

	bpf_object__for_each_map (map, obj)
		if (bpf_map__max_entries(map) >= (1u << 30))
			return dm_error_set(error, -E2BIG,
					    "Map %s of the %s code: max_entries %u is too large; "
					    "BTF cannot describe 2^30 (1073741824) entries or more "
					    "(the size of its max_entries array overflows).",
					    bpf_map__name(map), pname, bpf_map__max_entries(map));
	return 0;
}

/* A map pinned by the code's own request (LIBBPF_PIN_BY_NAME) would take over, expose or
 * outlive what dynmon owns: dynmon pins the monitor's maps itself, in its own directory. */
static int check_no_pinning(struct bpf_object *obj, const char *pname, dm_error *error)
{
	struct bpf_map *map;

	bpf_object__for_each_map (map, obj)
		if (bpf_map__pin_path(map))
			return dm_error_set(
			    error, -EROFS,
			    "Map %s of the %s code asks to be pinned; injected code "
			    "may not pin maps (dynmon pins every map of a monitor in "
			    "its own directory): remove its \"pinning\" attribute.",
			    bpf_map__name(map), pname);
	return 0;
}

/* Phase two, after the compiler: open a path's object and check it against its config. */
static int path_open(const char *monitor_name, const struct dm_dataplane *dp, enum dm_path path,
		     enum dm_hook hook, const void *elf, size_t size, struct path_build *b,
		     dm_error *error)
{
	const struct dm_path_config *pc = &dp->config->paths[path];
	const char *pname = dm_path_to_string(path);
	_cleanup_free_ char *objname = strdup_printf("%s_%s", monitor_name, pname);
	int r;

	if (!objname)
		return -ENOMEM;
	/* pin_root_path: were a pinning request to slip through, it would stay in no shared
	 * place; check_no_pinning() refuses it first. */
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = objname, .kernel_log_buf = b->log,
		    .kernel_log_size = VERIFIER_LOG_SIZE, .pin_root_path = "/nonexistent/dynmon");
	libbpf_capture_len = 0;
	libbpf_capture[0] = '\0';
	b->obj = bpf_object__open_mem(elf, size, &opts);
	if (!b->obj)
		return dm_error_set(error, -EBADMSG, "The compiled %s object cannot be opened: %s",
				    pname, libbpf_capture[0] ? libbpf_capture : strerror(errno));
	r = check_map_sizes(b->obj, pname, error);
	if (r >= 0)
		r = check_no_pinning(b->obj, pname, error);
	if (r >= 0)
		r = find_program(b->obj, pname, hook, &b->prog, error);
	if (r >= 0)
		r = check_metrics(b->obj, pc, b->t.shared_maps, pname, error);
	if (r < 0 || !path_has_swap(pc))
		return r;

	b->obj_b = bpf_object__open_mem(elf, size, &opts);
	if (!b->obj_b)
		return dm_error_set(error, -EBADMSG, "The compiled %s object cannot be opened: %s",
				    pname, libbpf_capture[0] ? libbpf_capture : strerror(errno));
	return find_program(b->obj_b, pname, hook, &b->prog_b, error);
}

/* Makes this path's shared maps (and the pcn_log ring buffer) the ones a path loaded before
 * created; a map declared extern must have been created so. */
static int reuse_shared_maps(struct path_build *b, const char *pname, const struct dm_dataplane *dp,
			     dm_error *error)
{
	struct bpf_map *mine;

	bpf_object__for_each_map (mine, b->obj) {
		const char *name = bpf_map__name(mine);
		struct bpf_map *theirs = NULL;
		int r;

		if (!strv_contains((const char *const *)b->t.shared_maps, name) &&
		    !streq(name, DYNMON_LOG_MAP_NAME))
			continue;
		for (int p = 0; !theirs && p < _DM_PATH_MAX; p++)
			if (dp->paths[p].obj)
				theirs = bpf_object__find_map_by_name(dp->paths[p].obj, name);
		if (!theirs) {
			if (strv_contains((const char *const *)b->t.extern_maps, name))
				return dm_error_set(
				    error, -EBADMSG,
				    "The %s code declares map %s extern, but no other "
				    "path defines it.",
				    pname, name);
			continue;
		}
		r = bpf_map__reuse_fd(mine, bpf_map__fd(theirs));
		if (r < 0)
			return dm_error_set(error, r, "Cannot share map %s between paths: %s", name,
					    strerror(-r));
	}
	return 0;
}

static int load_object(struct path_build *b, struct bpf_object *obj, const char *pname,
		       dm_error *error)
{
	int r;

	libbpf_capture_len = 0;
	libbpf_capture[0] = '\0';
	b->log[0] = '\0';
	r = bpf_object__load(obj);
	if (r >= 0)
		return 0;
	if (b->log[0])
		return dm_error_set(error, -EKEYREJECTED,
				    "The kernel's verifier refused the %s program:\n%s", pname,
				    log_tail(b->log));
	return dm_error_set(error, r, "The %s object cannot be loaded: %s", pname,
			    libbpf_capture[0] ? libbpf_capture : strerror(-r));
}

/* Copy B has its own swap maps and copy A's of everything else (global data included). */
static int load_copy_b(struct path_build *b, const struct dm_path_config *pc, const char *pname,
		       dm_error *error)
{
	struct bpf_map *map;
	int r;

	bpf_object__for_each_map (map, b->obj_b) {
		const char *name = bpf_map__name(map);

		if (path_swaps_map(pc, name))
			continue;
		r = bpf_map__reuse_fd(map, bpf_map__fd(bpf_object__find_map_by_name(b->obj, name)));
		if (r < 0)
			return dm_error_set(error, r, "Cannot share map %s between copies: %s",
					    name, strerror(-r));
	}
	dm_mapped_prepare(b->obj_b);
	return load_object(b, b->obj_b, pname, error);
}

/* The pivot on the hook: it runs the program in slot 0 of its PROG_ARRAY, copy A's first. */
static int load_pivot(struct path_build *b, enum dm_hook hook, struct pivot_bpf **ret,
		      dm_error *error)
{
	struct pivot_bpf *pivot = pivot_bpf__open();
	int fd, r;
	__u32 key = 0;

	if (!pivot)
		return -errno;
	bpf_program__set_autoload(
	    hook == DM_HOOK_XDP ? pivot->progs.dm_pivot_tc : pivot->progs.dm_pivot_xdp, false);
	r = pivot_bpf__load(pivot);
	if (r < 0) {
		pivot_bpf__destroy(pivot);
		return dm_error_set(error, r, "Cannot load the swap-on-read pivot: %s",
				    strerror(-r));
	}
	fd = bpf_program__fd(b->prog);
	if (bpf_map_update_elem(bpf_map__fd(pivot->maps.dm_progs), &key, &fd, BPF_ANY) < 0) {
		r = -errno;
		pivot_bpf__destroy(pivot);
		return dm_error_set(error, r, "Cannot arm the swap-on-read pivot: %s",
				    strerror(-r));
	}
	*ret = pivot;
	return 0;
}

static bool maps_compatible(const struct bpf_map *a, const struct bpf_map *b)
{
	return bpf_map__type(a) == bpf_map__type(b) &&
	       bpf_map__key_size(a) == bpf_map__key_size(b) &&
	       bpf_map__value_size(a) == bpf_map__value_size(b) &&
	       bpf_map__max_entries(a) == bpf_map__max_entries(b);
}

/* Makes the user maps of `obj` that no other rule set yet the ones of `from` (the dataplane
 * being replaced), so that counting goes on where it was. Internal maps (global data, whose
 * layout the rebuild may change) and the log ring buffer start anew. */
static int inherit_maps(struct bpf_object *obj, struct bpf_object *from, dm_error *error)
{
	struct bpf_map *map;

	bpf_object__for_each_map (map, obj) {
		const char *name = bpf_map__name(map);
		struct bpf_map *old;
		int r;

		if (!from || bpf_map__fd(map) >= 0 || bpf_map__is_internal(map) ||
		    streq(name, DYNMON_LOG_MAP_NAME))
			continue;
		old = bpf_object__find_map_by_name(from, name);
		if (!old || !maps_compatible(map, old))
			continue;
		r = bpf_map__reuse_fd(map, bpf_map__fd(old));
		if (r < 0)
			return dm_error_set(error, r, "Cannot keep map %s: %s", name, strerror(-r));
	}
	return 0;
}

/* A pinned map can stand in for `map` when it has the same type and sizes, as maps_compatible()
 * asks of an inherited one. (Its BTF ids are those of the build that created it; the readout
 * decodes with the types this object declares, see maps.c.) */
static bool pinned_map_fits(const struct bpf_map *map, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return false;
	return info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
	       info.value_size == bpf_map__value_size(map) &&
	       info.max_entries == bpf_map__max_entries(map);
}

/* Makes the user maps of `obj` that nothing set yet the ones pinned for them in `pin_dir` (copy
 * B's own with `copy_b`), as inherit_maps() does within one daemon: a restarted daemon counts
 * on where the last one stopped. A map whose pin does not fit starts anew. */
static int keep_pinned_maps(struct bpf_object *obj, const char *pin_dir, enum dm_path path,
			    bool copy_b, dm_error *error)
{
	struct bpf_map *map;

	bpf_object__for_each_map (map, obj) {
		const char *name = bpf_map__name(map);
		_cleanup_close_ int fd = -1;
		int r;

		if (!pin_dir || bpf_map__fd(map) >= 0 || bpf_map__is_internal(map) ||
		    streq(name, DYNMON_LOG_MAP_NAME))
			continue;
		fd = pin_open_map(pin_dir, path, copy_b, name);
		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			log_warning_errno(fd, "Cannot open the pinned map %s, starting anew: %m",
					  name);
			continue;
		}
		if (!pinned_map_fits(map, fd)) {
			log_notice(
			    "The pinned map %s is not the one the code declares, starting anew.",
			    name);
			continue;
		}
		log_debug("Map %s of the %s path%s counts on in its pinned map.", name,
			  dm_path_to_string(path), copy_b ? " (copy B)" : "");
		/* After this, `name` is gone: libbpf renames the map after the pinned one. */
		r = bpf_map__reuse_fd(map, fd);
		if (r < 0)
			return dm_error_set(error, r, "Cannot keep the pinned map %s: %s",
					    bpf_map__name(map), strerror(-r));
	}
	return 0;
}

/* Phase two: load a path's object(s) into the kernel, inheriting the maps of `inherit`'s
 * path when there is one, and the maps pinned in `pin_dir`. */
static int path_load(struct path_build *b, enum dm_path path, enum dm_hook hook,
		     struct dm_dataplane *dp, const struct dm_dataplane *inherit,
		     const char *pin_dir, dm_error *error)
{
	struct dm_path_program *pp = &dp->paths[path];
	const struct dm_path_program *old = inherit ? &inherit->paths[path] : NULL;
	const char *pname = dm_path_to_string(path);
	int r;

	r = reuse_shared_maps(b, pname, dp, error);
	if (r >= 0 && old)
		r = inherit_maps(b->obj, old->obj, error);
	if (r >= 0)
		r = keep_pinned_maps(b->obj, pin_dir, path, false, error);
	if (r >= 0) {
		dm_mapped_prepare(b->obj);
		r = load_object(b, b->obj, pname, error);
	}
	if (r >= 0 && b->obj_b && old)
		r = inherit_maps(b->obj_b, old->obj_b, error);
	if (r >= 0 && b->obj_b)
		r = keep_pinned_maps(b->obj_b, pin_dir, path, true, error);
	if (r >= 0 && b->obj_b)
		r = load_copy_b(b, &dp->config->paths[path], pname, error);
	if (r >= 0 && b->obj_b)
		r = load_pivot(b, hook, &pp->pivot, error);
	if (r < 0)
		return r;
	pp->obj = TAKE_PTR(b->obj);
	pp->prog = b->prog;
	pp->obj_b = TAKE_PTR(b->obj_b);
	pp->prog_b = b->prog_b;
	return 0;
}

static int swap_read_locked(struct dm_dataplane *dp, struct dm_grace *grace,
			    const struct dm_read_sel *sel, struct dm_swap_read **ret)
{
	_cleanup_(dm_swap_read_freep) struct dm_swap_read *sr = calloc(1, sizeof(*sr));
	bool swapped[_DM_PATH_MAX] = {};
	int r;

	if (!sr)
		return -ENOMEM;
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		struct dm_path_program *pp = &dp->paths[p];
		int fd = bpf_program__fd(pp->b_live ? pp->prog : pp->prog_b);
		__u32 key = 0;

		if (!path_swaps_for(dp, p, sel))
			continue;
		swapped[p] = true;
		if (bpf_map_update_elem(bpf_map__fd(pp->pivot->maps.dm_progs), &key, &fd, BPF_ANY) <
		    0)
			return -errno;
		pp->b_live = !pp->b_live;
	}
	/* After this, no program runs on the copies just swapped out. */
	r = dm_grace_wait(grace);
	if (r < 0)
		return r;

	for (int p = 0; p < _DM_PATH_MAX; p++) {
		const struct dm_path_program *pp = &dp->paths[p];
		const struct dm_path_config *pc = &dp->config->paths[p];
		struct bpf_object *old = pp->b_live ? pp->obj : pp->obj_b;

		if (!swapped[p])
			continue;
		sr->snapshots[p] = calloc(pc->n_metrics, sizeof(struct dm_map_snapshot *));
		if (!sr->snapshots[p])
			return -ENOMEM;
		sr->n_snapshots[p] = pc->n_metrics;
		for (size_t i = 0; i < pc->n_metrics; i++) {
			if (!pc->metrics[i].swap_on_read ||
			    !dm_read_sel_takes(sel, dp->config, p, i))
				continue;
			r = dm_map_snapshot_read(
			    bpf_object__find_map_by_name(old, pc->metrics[i].map_name),
			    bpf_object__btf(old), true, &sr->snapshots[p][i]);
			if (r < 0)
				return r;
		}
	}
	*ret = TAKE_PTR(sr);
	return 0;
}

int dm_dataplane_swap_read(struct dm_dataplane *dp, struct dm_grace *grace,
			   const struct dm_read_sel *sel, struct dm_swap_read **ret)
{
	int r;

	pthread_mutex_lock(&dp->swap_lock);
	r = swap_read_locked(dp, grace, sel, ret);
	pthread_mutex_unlock(&dp->swap_lock);
	return r;
}

void dm_swap_read_free(struct dm_swap_read *sr)
{
	if (!sr)
		return;
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		for (size_t i = 0; i < sr->n_snapshots[p]; i++)
			dm_map_snapshot_free(sr->snapshots[p][i]);
		free(sr->snapshots[p]);
	}
	free(sr);
}

static enum dm_hook path_hook(enum dm_path p, enum dm_hook ingress_hook)
{
	return p == DM_PATH_INGRESS ? ingress_hook : DM_HOOK_TC;
}

static int dataplane_new(enum dm_hook ingress_hook, int log_level, struct dm_config *config,
			 struct dm_dataplane **ret)
{
	struct dm_dataplane *dp = calloc(1, sizeof(*dp));

	if (!dp) {
		dm_config_free(config);
		return -ENOMEM;
	}
	dp->n_ref = 1;
	pthread_mutex_init(&dp->swap_lock, NULL);
	dp->config = config;
	dp->ingress_hook = ingress_hook;
	dp->log_level = log_level;
	*ret = dp;
	return 0;
}

/* Phase three: the opened objects into the kernel, the path that defines the shared maps
 * first: the other one reuses them. */
static int dataplane_load_paths(struct dm_dataplane *dp, struct path_build *builds,
				const struct dm_dataplane *inherit, const char *pin_dir,
				dm_error *error)
{
	enum dm_path order[_DM_PATH_MAX] = {DM_PATH_INGRESS, DM_PATH_EGRESS};
	int r = 0;

	if (builds[DM_PATH_INGRESS].t.extern_maps && builds[DM_PATH_INGRESS].t.extern_maps[0]) {
		order[0] = DM_PATH_EGRESS;
		order[1] = DM_PATH_INGRESS;
	}
	for (int i = 0; r >= 0 && i < _DM_PATH_MAX; i++)
		if (builds[order[i]].obj)
			r = path_load(&builds[order[i]], order[i],
				      path_hook(order[i], dp->ingress_hook), dp, inherit, pin_dir,
				      error);
	return r;
}

int dm_dataplane_load(const struct dm_compiler *compiler, const char *monitor_name,
		      enum dm_hook ingress_hook, int log_level, struct dm_config *config,
		      const struct dm_dataplane *inherit, const char *pin_dir,
		      struct dm_dataplane **ret, dm_error *error)
{
	_cleanup_(dm_dataplane_unrefp) struct dm_dataplane *dp = NULL;
	struct path_build builds[_DM_PATH_MAX] = {};
	int r;

	r = dataplane_new(ingress_hook, log_level, config, &dp);
	if (r < 0)
		return r;
	for (int p = 0; r >= 0 && p < _DM_PATH_MAX; p++) {
		_cleanup_free_ char *code = NULL, *unit = NULL;
		_cleanup_free_ void *elf = NULL;
		size_t size;

		if (!config->paths[p].present)
			continue;
		unit = strdup_printf("%s.bpf.c", dm_path_to_string(p));
		r = unit ? path_prepare(dp, p, path_hook(p, ingress_hook), &builds[p], &code, error)
			 : -ENOMEM;
		if (r >= 0)
			r = dm_object_resolve(compiler, p, &config->paths[p], code, &elf, &size,
					      error);
		if (r == 0) {
			r = dm_compile(compiler, code, unit, &elf, &size, error);
			if (r >= 0)
				dm_objcache_put(compiler, code, elf, size);
		}
		if (r >= 0)
			r = path_open(monitor_name, dp, p, path_hook(p, ingress_hook), elf, size,
				      &builds[p], error);
	}
	if (r >= 0)
		r = dataplane_load_paths(dp, builds, inherit, pin_dir, error);
	for (int p = 0; p < _DM_PATH_MAX; p++)
		path_build_done(&builds[p]);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(dp);
	return 0;
}

/* The same, with the compilers running off the event loop (both paths at once). */
struct build_slot {
	struct dm_dataplane_build *build;
	enum dm_path path;
	struct dm_compile_job *job;
	char *code; /* what clang compiles: the cache's key when it is done */
};

struct dm_dataplane_build {
	const struct dm_compiler *compiler;
	struct dm_dataplane *dp;
	struct path_build builds[_DM_PATH_MAX];
	struct build_slot slots[_DM_PATH_MAX];
	sd_event_source *defer; /* completes a build with nothing to compile */
	void *elf[_DM_PATH_MAX];
	size_t elf_size[_DM_PATH_MAX];
	unsigned n_compiling;
	char *monitor_name;
	struct dm_dataplane *inherit;
	char *pin_dir;
	int r;
	dm_error error;
	dm_dataplane_done_fn done;
	void *userdata;
};

void dm_dataplane_build_free(struct dm_dataplane_build *b)
{
	if (!b)
		return;
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		dm_compile_job_free(b->slots[p].job);
		free(b->slots[p].code);
		path_build_done(&b->builds[p]);
		free(b->elf[p]);
	}
	sd_event_source_disable_unref(b->defer);
	dm_dataplane_unref(b->dp);
	dm_dataplane_unref(b->inherit);
	free(b->monitor_name);
	free(b->pin_dir);
	dm_error_done(&b->error);
	free(b);
}

static void build_complete(struct dm_dataplane_build *b)
{
	struct dm_dataplane *dp = NULL;
	int r = b->r;

	for (int p = 0; r >= 0 && p < _DM_PATH_MAX; p++)
		if (b->elf[p])
			r = path_open(b->monitor_name, b->dp, p, path_hook(p, b->dp->ingress_hook),
				      b->elf[p], b->elf_size[p], &b->builds[p], &b->error);
	if (r >= 0)
		r = dataplane_load_paths(b->dp, b->builds, b->inherit, b->pin_dir, &b->error);
	if (r >= 0)
		dp = TAKE_PTR(b->dp);
	/* `done` takes `dp` and may free the build. */
	b->done(r, dp, &b->error, b->userdata);
}

static void on_compiled(int r, void *elf, size_t size, dm_error *error, void *userdata)
{
	struct build_slot *slot = userdata;
	struct dm_dataplane_build *b = slot->build;
	enum dm_path p = slot->path;

	dm_compile_job_free(slot->job);
	slot->job = NULL;
	b->n_compiling--;
	if (r < 0 && b->r >= 0) {
		b->r = r;
		dm_error_set(&b->error, r, "%s", error->message ?: strerror(-r));
		/* No use waiting for the other path: its clang goes now. */
		for (int q = 0; q < _DM_PATH_MAX; q++)
			if (b->slots[q].job) {
				dm_compile_job_free(b->slots[q].job);
				b->slots[q].job = NULL;
				b->n_compiling--;
			}
	}
	if (r >= 0) {
		dm_objcache_put(b->compiler, slot->code, elf, size);
		b->elf[p] = elf;
		b->elf_size[p] = size;
	}
	if (b->n_compiling == 0)
		build_complete(b);
}

static int on_nothing_to_compile(sd_event_source *s, void *userdata)
{
	struct dm_dataplane_build *b = userdata;

	b->defer = sd_event_source_disable_unref(b->defer);
	build_complete(b);
	return 0;
}

int dm_dataplane_build_start(const struct dm_compiler *compiler, sd_event *event,
			     const char *monitor_name, enum dm_hook ingress_hook, int log_level,
			     struct dm_config *config, struct dm_dataplane *inherit,
			     const char *pin_dir, dm_dataplane_done_fn done, void *userdata,
			     struct dm_dataplane_build **ret, dm_error *error)
{
	_cleanup_(dm_dataplane_build_freep) struct dm_dataplane_build *b = calloc(1, sizeof(*b));
	int r;

	if (!b) {
		dm_config_free(config);
		return -ENOMEM;
	}
	r = dataplane_new(ingress_hook, log_level, config, &b->dp);
	if (r < 0)
		return r;
	b->monitor_name = strdup(monitor_name);
	b->pin_dir = pin_dir ? strdup(pin_dir) : NULL;
	if (!b->monitor_name || (pin_dir && !b->pin_dir))
		return -ENOMEM;
	b->inherit = inherit ? dm_dataplane_ref(inherit) : NULL;
	b->compiler = compiler;
	b->done = done;
	b->userdata = userdata;
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		_cleanup_free_ char *code = NULL, *unit = NULL;

		if (!config->paths[p].present)
			continue;
		b->slots[p] = (struct build_slot){.build = b, .path = p};
		unit = strdup_printf("%s.bpf.c", dm_path_to_string(p));
		r = unit ? path_prepare(b->dp, p, path_hook(p, ingress_hook), &b->builds[p], &code,
					error)
			 : -ENOMEM;
		if (r >= 0)
			r = dm_object_resolve(compiler, p, &config->paths[p], code, &b->elf[p],
					      &b->elf_size[p], error);
		if (r != 0) {
			if (r < 0)
				return r;
			continue; /* no clang needed */
		}
		r = dm_compile_start(compiler, event, code, unit, on_compiled, &b->slots[p],
				     &b->slots[p].job, error);
		if (r < 0)
			return r;
		b->slots[p].code = TAKE_PTR(code);
		b->n_compiling++;
	}
	if (b->n_compiling == 0) {
		r = sd_event_add_defer(event, &b->defer, on_nothing_to_compile, b);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(b);
	return 0;
}
