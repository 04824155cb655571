/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <sys/stat.h>

#include "build-config.h"
#include "dialect.h"
#include "dynmon-log.h"
#include "program.h"

/* As service/kernel/dataplane.c: the log buffer is part of what an inject allocates. */
#define VERIFIER_LOG_SIZE (4 * 1024 * 1024)

struct dm_compiler bench_compiler(const char *include_dir)
{
	return (struct dm_compiler){
	    .clang = DYNMON_CLANG,
	    .include_dir = include_dir,
	    .multiarch_include = DYNMON_MULTIARCH_INCLUDE,
	    .timeout_sec = 60,
	};
}

int bench_read_file(const char *path, char **ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t done = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	buf = malloc(st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += n;
	}
	buf[done] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

int bench_object_open(const void *elf, size_t size, const char *name, struct bench_object *ret)
{
	struct bench_object o = {.log = malloc(VERIFIER_LOG_SIZE)};

	if (!o.log)
		return -ENOMEM;
	o.log[0] = '\0';
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name, .kernel_log_buf = o.log,
		    .kernel_log_size = VERIFIER_LOG_SIZE);
	o.obj = bpf_object__open_mem(elf, size, &opts);
	if (!o.obj) {
		int r = -errno;

		free(o.log);
		return r;
	}
	*ret = o;
	return 0;
}

int bench_object_load(struct bench_object *o, int *ret_prog_fd, dm_error *error)
{
	struct bpf_program *prog = bpf_object__next_program(o->obj, NULL);
	int r;

	if (!prog || bpf_object__next_program(o->obj, prog))
		return dm_error_set(error, -EBADMSG, "the object must hold exactly one program");
	r = bpf_object__load(o->obj);
	if (r < 0)
		return dm_error_set(error, r, "cannot load %s: %s\n%s", bpf_object__name(o->obj),
				    strerror(-r), o->log);
	*ret_prog_fd = bpf_program__fd(prog);
	return 0;
}

void bench_object_done(struct bench_object *o)
{
	bpf_object__close(o->obj);
	free(o->log);
	*o = (struct bench_object){};
}

int bench_build(const struct dm_compiler *c, const char *code, const char *name,
		struct bench_object *ret, int *ret_prog_fd, dm_error *error)
{
	_cleanup_(dm_translation_done) struct dm_translation t = {};
	_cleanup_free_ char *prepared = NULL;
	_cleanup_free_ void *elf = NULL;
	struct bench_object o;
	size_t size;
	int r;

	r = dm_dialect_prepare(code, DM_PATH_INGRESS, DM_HOOK_TC, DYNMON_LOG_OFF, &t, &prepared,
			       error);
	if (r < 0)
		return r;
	r = dm_compile(c, prepared, "ingress.bpf.c", &elf, &size, error);
	if (r < 0)
		return r;
	r = bench_object_open(elf, size, name, &o);
	if (r < 0)
		return dm_error_set(error, r, "cannot open the object of %s: %s", name,
				    strerror(-r));
	r = bench_object_load(&o, ret_prog_fd, error);
	if (r < 0) {
		bench_object_done(&o);
		return r;
	}
	*ret = o;
	return 0;
}
