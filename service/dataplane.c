/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>

#include "dataplane.h"
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

/* The one tc program of a path's object. */
static int find_program(struct bpf_object *obj, const char *path, struct bpf_program **ret,
			dm_error *error)
{
	struct bpf_program *prog, *found = NULL;

	bpf_object__for_each_program(prog, obj)
	{
		if (found)
			return dm_error_set(error, -EBADMSG,
					    "The %s code has several programs (%s, %s); write one "
					    "SEC(\"tc\") function per path.",
					    path, bpf_program__name(found), bpf_program__name(prog));
		found = prog;
	}
	if (!found)
		return dm_error_set(error, -EBADMSG,
				    "The %s code has no program; write a SEC(\"tc\") function.", path);
	if (bpf_program__type(found) != BPF_PROG_TYPE_SCHED_CLS)
		return dm_error_set(error, -EBADMSG,
				    "The %s program %s is not a tc program; put it in SEC(\"tc\").",
				    path, bpf_program__name(found));
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

static int load_path(const struct dm_compiler *compiler, const char *monitor_name,
		     enum dm_path path, const struct dm_path_config *pc, struct dm_path_program *ret,
		     dm_error *error)
{
	const char *pname = dm_path_to_string(path);
	_cleanup_free_ char *unit = strdup_printf("%s.bpf.c", pname);
	_cleanup_free_ char *objname = strdup_printf("%s_%s", monitor_name, pname);
	_cleanup_free_ char *log = malloc(VERIFIER_LOG_SIZE);
	_cleanup_free_ void *elf = NULL;
	struct bpf_program *prog = NULL;
	struct bpf_object *obj;
	size_t size;
	int r;

	if (!unit || !objname || !log)
		return -ENOMEM;
	r = dm_compile(compiler, pc->code, unit, &elf, &size, error);
	if (r < 0)
		return r;

	log[0] = '\0';
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = objname, .kernel_log_buf = log,
		    .kernel_log_size = VERIFIER_LOG_SIZE);
	libbpf_capture_len = 0;
	libbpf_capture[0] = '\0';
	obj = bpf_object__open_mem(elf, size, &opts);
	if (!obj)
		return dm_error_set(error, -EBADMSG, "The compiled %s object cannot be opened: %s",
				    pname, libbpf_capture[0] ? libbpf_capture : strerror(errno));
	r = find_program(obj, pname, &prog, error);
	if (r >= 0)
		r = check_metrics(obj, pc, pname, error);
	if (r < 0)
		goto fail;

	r = bpf_object__load(obj);
	if (r < 0) {
		if (log[0])
			r = dm_error_set(error, -EKEYREJECTED,
					 "The kernel's verifier refused the %s program:\n%s", pname,
					 log_tail(log));
		else
			r = dm_error_set(error, r, "The %s object cannot be loaded: %s", pname,
					 libbpf_capture[0] ? libbpf_capture : strerror(-r));
		goto fail;
	}
	ret->obj = obj;
	ret->prog = prog;
	return 0;
fail:
	bpf_object__close(obj);
	return r;
}

int dm_dataplane_load(const struct dm_compiler *compiler, const char *monitor_name,
		      struct dm_config *config, struct dm_dataplane **ret, dm_error *error)
{
	_cleanup_(dm_dataplane_freep) struct dm_dataplane *dp = NULL;
	int r;

	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		dm_config_free(config);
		return -ENOMEM;
	}
	dp->config = config;

	for (int p = 0; p < _DM_PATH_MAX; p++) {
		if (!config->paths[p].present)
			continue;
		r = load_path(compiler, monitor_name, p, &config->paths[p], &dp->paths[p], error);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(dp);
	return 0;
}
