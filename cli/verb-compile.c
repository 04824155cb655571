/* SPDX-License-Identifier: Apache-2.0 */
/* dynmonctl compile: a configuration turned, on a build host and without dynmond, into the same
 * configuration carrying each path's BPF object (docs/OBJECTS.md). The code is prepared and
 * compiled by the daemon's own code (config/dialect.c, kernel/compile.c), so that the object is
 * the one dynmond would have made. */
#include <jansson.h>
#include <strings.h>

#include "build-config.h"
#include "compile.h"
#include "config.h"
#include "ctl-io.h"
#include "dialect.h"
#include "dynmonctl.h"
#include "exit-status.h"
#include "object.h"
#include "pcnlog.h"
#include "util.h"

struct compile_ctx {
	struct dm_compiler compiler;
	char *version;
	char *headers;
	enum dm_hook hook;
	int log_level;
};

static void compile_ctx_done(struct compile_ctx *c)
{
	free(c->version);
	free(c->headers);
}

static int log_error_of(dm_error *e, int r, const char *what)
{
	fprintf(stderr, "dynmonctl: %s: %s\n", what, e->message ?: strerror(-r));
	dm_error_done(e);
	return r == -ENOEXEC || r == -EXDEV || r == -EBADMSG ? EXIT_REJECTED : EXIT_FAIL;
}

/* The object of path `p`, compiled, and signed with --sign. */
static int compile_path(struct compile_ctx *c, enum dm_path p, struct dm_path_config *pc,
			json_t **ret)
{
	_cleanup_(dm_translation_done) struct dm_translation t = {};
	_cleanup_(dm_object_freep) struct dm_object *o = NULL;
	_cleanup_free_ char *code = NULL, *unit = NULL;
	_cleanup_free_ void *elf = NULL;
	dm_error e = DM_ERROR_NULL;
	size_t size;
	enum dm_hook hook = p == DM_PATH_INGRESS ? c->hook : DM_HOOK_TC;
	int r;

	unit = strdup_printf("%s.bpf.c", dm_path_to_string(p));
	if (!unit)
		return log_error_of(&e, -ENOMEM, "compile");
	r = dm_dialect_prepare(pc->code, p, hook, c->log_level, &t, &code, &e);
	if (r >= 0)
		r = dm_compile(&c->compiler, code, unit, &elf, &size, &e);
	if (r < 0)
		return log_error_of(&e, r, dm_path_to_string(p));
	r = dm_object_new(elf, size, code, hook, c->log_level, c->version, c->headers, &o);
	if (r < 0)
		return log_error_of(&e, r, "compile");
	if (arg_sign_key) {
		r = dm_object_sign(o, p, pc, arg_sign_key, &e);
		if (r < 0)
			return log_error_of(&e, r, "--sign");
	}
	*ret = dm_object_to_json(o);
	return *ret ? EXIT_OK : log_error_of(&e, -ENOMEM, "compile");
}

static int compile_ctx_init(struct compile_ctx *c)
{
	c->compiler = (struct dm_compiler){
	    .clang = arg_clang ?: DYNMON_CLANG,
	    .include_dir = arg_include_dir ?: DYNMON_BPF_INCLUDE_DIR,
	    .multiarch_include = DYNMON_MULTIARCH_INCLUDE,
	    .timeout_sec = 60,
	};
	dm_compiler_set_user(&c->compiler);
	c->hook = arg_type && strcasecmp(arg_type, "TC") != 0 ? DM_HOOK_XDP : DM_HOOK_TC;
	c->log_level = 0;
	if (arg_log_level) {
		c->log_level = pcnlog_level_from_string(arg_log_level);
		if (c->log_level < 0)
			return log_usage_error_of("dynmonctl", "Unknown log level '%s'.",
						  arg_log_level);
	}
	if (dm_compiler_version(&c->compiler, &c->version) < 0) {
		fprintf(stderr, "dynmonctl: Cannot run the compiler %s\n", c->compiler.clang);
		return EXIT_FAIL;
	}
	if (dm_compiler_headers_id(&c->compiler, &c->headers) < 0) {
		fprintf(stderr, "dynmonctl: Cannot read the include directory %s: %m\n",
			c->compiler.include_dir);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* Where path `p`'s members sit in the document as written: v1.0 keeps them at the top. */
static json_t *path_member(json_t *doc, enum dm_path p)
{
	if (json_object_get(doc, "code"))
		return p == DM_PATH_INGRESS ? doc : NULL;
	return json_object_get(doc, dm_path_members[p]);
}

int do_compile(sd_bus *bus, char **args)
{
	_cleanup_(compile_ctx_done) struct compile_ctx c = {};
	_cleanup_(dm_config_freep) struct dm_config *config = NULL;
	_cleanup_(json_decrefp) json_t *doc = NULL;
	_cleanup_free_ char *text = NULL, *out = NULL;
	dm_error e = DM_ERROR_NULL;
	int r;

	r = read_input_or_log(args[1], &text);
	if (r != EXIT_OK)
		return r;
	r = dm_config_parse(text, &config, &e);
	if (r < 0)
		return log_error_of(&e, r, args[1]);
	doc = json_loads(text, 0, NULL);
	r = doc ? compile_ctx_init(&c) : EXIT_FAIL;
	for (int p = 0; r == EXIT_OK && p < _DM_PATH_MAX; p++) {
		json_t *object = NULL;

		if (!config->paths[p].present)
			continue;
		r = compile_path(&c, p, &config->paths[p], &object);
		if (r == EXIT_OK && json_object_set_new(path_member(doc, p), "object", object) < 0)
			r = EXIT_FAIL;
	}
	if (r != EXIT_OK)
		return r;
	out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!out)
		return EXIT_FAIL;
	if (arg_output && !streq(arg_output, "-")) {
		r = write_file(arg_output, out);
		if (r < 0)
			fprintf(stderr, "dynmonctl: Failed to write %s: %s\n", arg_output,
				strerror(-r));
		return r < 0 ? EXIT_FAIL : EXIT_OK;
	}
	puts(out);
	return EXIT_OK;
}
