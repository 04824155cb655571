/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>

#include "dataplane.h"
#include "dynmon-log.h"
#include "log.h"

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
	struct dm_translation t;
	char *log; /* the verifier's */
};

static void path_build_done(struct path_build *b)
{
	bpf_object__close(b->obj);
	dm_translation_done(&b->t);
	free(b->log);
}

void dm_dataplane_free(struct dm_dataplane *dp)
{
	if (!dp)
		return;
	for (int p = 0; p < _DM_PATH_MAX; p++)
		bpf_object__close(dp->paths[p].obj);
	dm_config_free(dp->config);
	free(dp);
}

int dm_dataplane_prog_fd(const struct dm_dataplane *dp, enum dm_path path)
{
	if (!dp || !dp->paths[path].prog)
		return -1;
	return bpf_program__fd(dp->paths[path].prog);
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

	bpf_object__for_each_program(prog, obj)
	{
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
				    "The %s code has no program; write a SEC(\"%s\") function.", path,
				    hook_section(hook));
	if (bpf_program__type(found) != want)
		return dm_error_set(error, -EBADMSG,
				    "The %s program %s is not of the kind its hook runs; put it in "
				    "SEC(\"%s\").",
				    path, bpf_program__name(found), hook_section(hook));
	*ret = found;
	return 0;
}

static int check_metrics(struct bpf_object *obj, const struct dm_path_config *pc,
			 const char *path, dm_error *error)
{
	for (size_t i = 0; i < pc->n_metrics; i++) {
		const struct dm_metric_config *m = &pc->metrics[i];

		if (!bpf_object__find_map_by_name(obj, m->map_name))
			return dm_error_set(error, -EBADMSG,
					    "Metric \"%s\": the %s code declares no map named \"%s\".",
					    m->name, path, m->map_name);
		if (m->swap_on_read)
			return dm_error_set(error, -EOPNOTSUPP,
					    "Metric \"%s\": swap-on-read is not supported by this "
					    "version of dynmon; use empty-on-read.",
					    m->name);
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

static bool strv_contains(char **l, const char *s)
{
	for (; l && *l; l++)
		if (streq(*l, s))
			return true;
	return false;
}

/* The code clang compiles: Polycube code translated (with its log level), libbpf code as is. */
static int prepare_code(const char *code, enum dm_path path, enum dm_hook hook, int log_level,
			struct dm_translation *t, char **ret, dm_error *error)
{
	int r;

	if (dm_dialect_detect(code) != DM_DIALECT_POLYCUBE) {
		*ret = strdup(code);
		return *ret ? 0 : -ENOMEM;
	}
	r = dm_dialect_translate(code, path, hook, t, error);
	if (r < 0)
		return r;
	/* Before the translation's own prelude: its "#line 1" keeps the user's line numbers. */
	*ret = strdup_printf("#define PCN_LOG_LEVEL %d\n%s", log_level, t->code);
	return *ret ? 0 : -ENOMEM;
}

/* Phase one: translate, compile and open a path's object, and check it against its config. */
static int path_open(const struct dm_compiler *compiler, const char *monitor_name,
		     const struct dm_dataplane *dp, enum dm_path path, enum dm_hook hook,
		     struct path_build *b, dm_error *error)
{
	const struct dm_path_config *pc = &dp->config->paths[path];
	const char *pname = dm_path_to_string(path);
	_cleanup_free_ char *unit = strdup_printf("%s.bpf.c", pname);
	_cleanup_free_ char *objname = strdup_printf("%s_%s", monitor_name, pname);
	_cleanup_free_ char *code = NULL;
	_cleanup_free_ void *elf = NULL;
	size_t size;
	int r;

	b->log = malloc(VERIFIER_LOG_SIZE);
	if (!unit || !objname || !b->log)
		return -ENOMEM;
	r = prepare_code(pc->code, path, hook, dp->log_level, &b->t, &code, error);
	if (r < 0)
		return r;
	r = dm_compile(compiler, code, unit, &elf, &size, error);
	if (r < 0)
		return r;

	b->log[0] = '\0';
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = objname, .kernel_log_buf = b->log,
		    .kernel_log_size = VERIFIER_LOG_SIZE);
	libbpf_capture_len = 0;
	libbpf_capture[0] = '\0';
	b->obj = bpf_object__open_mem(elf, size, &opts);
	if (!b->obj)
		return dm_error_set(error, -EBADMSG, "The compiled %s object cannot be opened: %s",
				    pname, libbpf_capture[0] ? libbpf_capture : strerror(errno));
	r = find_program(b->obj, pname, hook, &b->prog, error);
	if (r < 0)
		return r;
	return check_metrics(b->obj, pc, pname, error);
}

/* Makes this path's shared maps (and the pcn_log ring buffer) the ones a path loaded before
 * created; a map declared extern must have been created so. */
static int reuse_shared_maps(struct path_build *b, const char *pname, const struct dm_dataplane *dp,
			     dm_error *error)
{
	struct bpf_map *mine;

	bpf_object__for_each_map(mine, b->obj)
	{
		const char *name = bpf_map__name(mine);
		struct bpf_map *theirs = NULL;
		int r;

		if (!strv_contains(b->t.shared_maps, name) && !streq(name, DYNMON_LOG_MAP_NAME))
			continue;
		for (int p = 0; !theirs && p < _DM_PATH_MAX; p++)
			if (dp->paths[p].obj)
				theirs = bpf_object__find_map_by_name(dp->paths[p].obj, name);
		if (!theirs) {
			if (strv_contains(b->t.extern_maps, name))
				return dm_error_set(error, -EBADMSG,
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

/* Phase two: load a path's object into the kernel. */
static int path_load(struct path_build *b, enum dm_path path, struct dm_dataplane *dp,
		     dm_error *error)
{
	const char *pname = dm_path_to_string(path);
	int r;

	r = reuse_shared_maps(b, pname, dp, error);
	if (r < 0)
		return r;
	libbpf_capture_len = 0;
	libbpf_capture[0] = '\0';
	r = bpf_object__load(b->obj);
	if (r < 0) {
		if (b->log[0])
			return dm_error_set(error, -EKEYREJECTED,
					    "The kernel's verifier refused the %s program:\n%s", pname,
					    log_tail(b->log));
		return dm_error_set(error, r, "The %s object cannot be loaded: %s", pname,
				    libbpf_capture[0] ? libbpf_capture : strerror(-r));
	}
	dp->paths[path].obj = TAKE_PTR(b->obj);
	dp->paths[path].prog = b->prog;
	return 0;
}

int dm_dataplane_load(const struct dm_compiler *compiler, const char *monitor_name,
		      enum dm_hook ingress_hook, int log_level, struct dm_config *config,
		      struct dm_dataplane **ret, dm_error *error)
{
	_cleanup_(dm_dataplane_freep) struct dm_dataplane *dp = NULL;
	struct path_build builds[_DM_PATH_MAX] = {};
	enum dm_path order[_DM_PATH_MAX] = {DM_PATH_INGRESS, DM_PATH_EGRESS};
	int r = 0;

	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		dm_config_free(config);
		return -ENOMEM;
	}
	dp->config = config;
	dp->ingress_hook = ingress_hook;
	dp->log_level = log_level;

	for (int p = 0; r >= 0 && p < _DM_PATH_MAX; p++)
		if (config->paths[p].present)
			r = path_open(compiler, monitor_name, dp, p,
				      p == DM_PATH_INGRESS ? ingress_hook : DM_HOOK_TC, &builds[p],
				      error);
	/* The path that defines the shared maps loads first: the other one reuses them. */
	if (builds[DM_PATH_INGRESS].t.extern_maps && builds[DM_PATH_INGRESS].t.extern_maps[0]) {
		order[0] = DM_PATH_EGRESS;
		order[1] = DM_PATH_INGRESS;
	}
	for (int i = 0; r >= 0 && i < _DM_PATH_MAX; i++)
		if (builds[order[i]].obj)
			r = path_load(&builds[order[i]], order[i], dp, error);

	for (int p = 0; p < _DM_PATH_MAX; p++)
		path_build_done(&builds[p]);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(dp);
	return 0;
}
