/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <net/if.h>
#include <stdio.h>

#include "files.h"
#include "log.h"
#include "manager.h"
#include "monitor-file.h"
#include "pcnlog.h"

/* Larger is not a monitor declaration. */
#define FILES_MAX_SIZE (4u << 20)

/* One file, resolved: what it declares, ready to compare with what runs. */
struct file_spec {
	char *file; /* its name in the directory */
	char *name;
	enum dm_mode mode;
	int log_level;
	char **patterns; /* NULL-terminated */
	bool is_template;
	char *place;  /* "auto", "first", "last", "before:X", "after:X" */
	char *config; /* normalized: compact JSON, sorted keys */
};

/* A reload under way: its problems, and the changes still compiling. */
struct files_reload {
	struct manager *m;
	unsigned pending;
	struct files_problem *problems;
	size_t n_problems;
	files_reload_fn done;
	void *userdata;
};

/* One change that compiles (a creation, an inject, a log level), and what follows it. */
struct files_op {
	struct files_reload *rl; /* NULL: from a link event */
	char *file;
	char *ifname; /* attach there once compiled (a creation); NULL: nothing follows */
	char *place;
	int old_level;
};

static void strv_free(char **l)
{
	for (char **i = l; i && *i; i++)
		free(*i);
	free(l);
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* Appends a copy of `s` to the NULL-terminated list *l (NULL: empty). */
static int strv_add(char ***l, const char *s)
{
	size_t n = 0;
	char **nl;

	while (*l && (*l)[n])
		n++;
	nl = realloc(*l, (n + 2) * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	*l = nl;
	nl[n] = strdup(s);
	nl[n + 1] = NULL;
	return nl[n] ? 0 : -ENOMEM;
}

static void spec_done(struct file_spec *s)
{
	free(s->file);
	free(s->name);
	strv_free(s->patterns);
	free(s->place);
	free(s->config);
}

void files_specs_free(struct file_spec *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		spec_done(&l[i]);
	free(l);
}

static int read_text(const char *path, char **ret, dm_error *e)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t n;

	if (!f)
		return dm_error_set(e, -errno, "cannot open %s: %s", path, strerror(errno));
	buf = malloc(FILES_MAX_SIZE + 1);
	if (!buf)
		return dm_error_oom(e);
	n = fread(buf, 1, FILES_MAX_SIZE + 1, f);
	if (ferror(f))
		return dm_error_set(e, -EIO, "cannot read %s", path);
	if (n > FILES_MAX_SIZE)
		return dm_error_set(e, -EFBIG, "%s is larger than %u bytes", path, FILES_MAX_SIZE);
	buf[n] = 0;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* The dataplane configuration, inline or from its file, parsed and normalized. */
static int resolve_config(const char *dir, const struct dm_monitor_file *f, char **ret, dm_error *e)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct dm_config *c = NULL;
	dm_error sub = DM_ERROR_NULL;
	int r;

	if (f->config_file) {
		path = f->config_file[0] == '/' ? strdup(f->config_file)
						: strdup_printf("%s/%s", dir, f->config_file);
		if (!path)
			return dm_error_oom(e);
		r = read_text(path, &text, e);
		if (r >= 0)
			r = dm_config_parse(text, &c, &sub);
	} else {
		r = dm_config_from_json(f->config, &c, &sub);
	}
	if (r < 0 && sub.message)
		r = dm_error_set(e, r, "%s: %s", f->config_file ?: "dataplane-config", sub.message);
	dm_error_done(&sub);
	if (r < 0)
		return r;
	j = dm_config_to_json(c);
	dm_config_free(c);
	*ret = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	return *ret ? 0 : dm_error_oom(e);
}

static int resolve_place(const struct dm_monitor_file *f, char **ret, dm_error *e)
{
	struct chain_position pos;
	int r;

	r = chain_position_parse(f->position, f->before, f->after, &pos, e);
	if (r < 0)
		return r;
	if (pos.other)
		*ret = strdup_printf("%s:%s", chain_where_to_string(pos.where), pos.other);
	else
		*ret = strdup(chain_where_to_string(pos.where));
	return *ret ? 0 : dm_error_oom(e);
}

static int resolve(const char *dir, struct dm_monitor_file *f, struct file_spec *s, dm_error *e)
{
	int r;

	if (!monitor_name_is_valid(f->name))
		return dm_error_set(e, -EINVAL,
				    "invalid name \"%s\": letters, digits, '_', '-', '.' (name the "
				    "file so, or give \"name\")",
				    f->name);
	s->mode = f->type ? dm_mode_parse(f->type, e) : DM_MODE_TC;
	if (s->mode < 0)
		return s->mode;
	s->log_level = f->loglevel ? pcnlog_level_parse(f->loglevel, e) : 0;
	if (s->log_level < 0)
		return s->log_level;
	for (char **i = f->interfaces; !f->is_template && *i; i++)
		if (strlen(*i) >= IF_NAMESIZE)
			return dm_error_set(e, -EINVAL, "interface name \"%s\" is too long", *i);
	r = resolve_place(f, &s->place, e);
	if (r >= 0)
		r = resolve_config(dir, f, &s->config, e);
	if (r < 0)
		return r;
	s->name = TAKE_PTR(f->name);
	s->patterns = TAKE_PTR(f->interfaces);
	s->is_template = f->is_template;
	return 0;
}

static int load_file(const char *dir, const char *file, struct file_spec *s, dm_error *e)
{
	_cleanup_free_ char *path = strdup_printf("%s/%s", dir, file), *text = NULL;
	struct dm_monitor_file f = {};
	int r;

	*s = (struct file_spec){};
	if (!path)
		return dm_error_oom(e);
	r = read_text(path, &text, e);
	if (r >= 0)
		r = dm_monitor_file_parse(text, file, &f, e);
	if (r >= 0)
		r = resolve(dir, &f, s, e);
	dm_monitor_file_done(&f);
	if (r >= 0)
		s->file = strdup(file);
	if (r >= 0 && !s->file)
		r = dm_error_oom(e);
	if (r < 0)
		spec_done(s);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json files of the directory, in name order; a missing directory has none. */
static int list_files(const char *dir, char ***ret)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	char **l = NULL;
	size_t n = 0;
	struct dirent *de;

	if (!d && errno == ENOENT) {
		*ret = calloc(1, sizeof(char *));
		return *ret ? 0 : -ENOMEM;
	}
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char **nl;

		if (len <= 5 || de->d_name[0] == '.' || !streq(de->d_name + len - 5, ".json"))
			continue;
		nl = realloc(l, (n + 2) * sizeof(*l));
		if (!nl || !(nl[n] = strdup(de->d_name))) {
			strv_free(nl ?: l);
			return -ENOMEM;
		}
		l = nl;
		l[++n] = NULL;
	}
	if (l)
		qsort(l, n, sizeof(*l), cmp_names);
	*ret = l ?: calloc(1, sizeof(char *));
	return *ret ? 0 : -ENOMEM;
}

/* ---- A reload's bookkeeping ----------------------------------------------------------------- */

static void problem(struct files_reload *rl, const char *file, int r, const char *message)
{
	struct files_problem *l;

	log_error("monitors.d/%s: %s", file, message ?: strerror(-r));
	if (!rl)
		return;
	l = realloc(rl->problems, (rl->n_problems + 1) * sizeof(*l));
	if (!l)
		return (void)log_oom();
	rl->problems = l;
	l[rl->n_problems].file = strdup(file);
	l[rl->n_problems].message = strdup(message ?: strerror(-r));
	rl->n_problems++;
}

static void reload_unref(struct files_reload *rl)
{
	if (!rl || --rl->pending > 0)
		return;
	if (rl->done)
		rl->done(rl->problems, rl->n_problems, rl->userdata);
	for (size_t i = 0; i < rl->n_problems; i++) {
		free(rl->problems[i].file);
		free(rl->problems[i].message);
	}
	free(rl->problems);
	free(rl);
}

static struct files_op *op_new(struct files_reload *rl, const char *file, const char *ifname,
			       const char *place)
{
	struct files_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->rl = rl;
	op->file = strdup(file);
	op->ifname = ifname ? strdup(ifname) : NULL;
	op->place = place ? strdup(place) : NULL;
	if (!op->file || (ifname && !op->ifname) || (place && !op->place)) {
		free(op->file);
		free(op->ifname);
		free(op->place);
		free(op);
		return NULL;
	}
	if (rl)
		rl->pending++;
	return op;
}

static void op_free(struct files_op *op)
{
	reload_unref(op->rl);
	free(op->file);
	free(op->ifname);
	free(op->place);
	free(op);
}

/* ---- Applying ---------------------------------------------------------------------------- */

/* Attaches `mon` where its file wants it: detached first if it is elsewhere; left detached
 * while the interface is missing (it attaches when the interface appears). */
static void attach_where(struct monitor *mon, const char *file, const char *ifname,
			 const char *place, struct files_reload *rl)
{
	struct manager *m = mon->manager;
	_cleanup_free_ char *where = strdup(place);
	char *other = where ? strchr(where, ':') : NULL;
	struct chain_position pos = CHAIN_POSITION_AUTO;
	dm_error e = DM_ERROR_NULL;
	int r = 0;

	if (!where || free_and_strdup(&mon->file_place, place) < 0)
		return (void)log_oom();
	if (other)
		*other++ = 0;
	m->applying_files = true;
	if (mon->ifname)
		r = monitor_detach(mon, &e);
	if (r >= 0 && if_nametoindex(ifname) > 0) {
		r = chain_position_parse(other ? NULL : where,
					 other && streq(where, "before") ? other : NULL,
					 other && streq(where, "after") ? other : NULL, &pos, &e);
		if (r >= 0)
			r = monitor_attach(mon, ifname, &pos, &e);
	}
	m->applying_files = false;
	if (r < 0)
		problem(rl, file, r, e.message);
	dm_error_done(&e);
}

static void on_op_done(struct monitor *mon, int r, dm_error *error, void *userdata)
{
	struct files_op *op = userdata;

	if (r < 0) {
		problem(op->rl, op->file, r, error ? error->message : NULL);
		if (mon && op->old_level >= 0)
			mon->log_level = op->old_level;
	} else if (op->ifname) {
		attach_where(mon, op->file, op->ifname, op->place, op->rl);
	}
	op_free(op);
}

static void set_origin(struct monitor *mon, const struct file_spec *s, bool instance)
{
	if (free_and_strdup(&mon->source_file, s->file) < 0 ||
	    (instance && free_and_strdup(&mon->template_name, s->name) < 0))
		log_oom();
}

static void create(struct manager *m, struct files_reload *rl, const struct file_spec *s,
		   const char *name, const char *ifname)
{
	struct files_op *op = op_new(rl, s->file, ifname, s->place);
	struct monitor *mon = NULL;
	dm_error e = DM_ERROR_NULL;
	int r;

	if (!op)
		return (void)log_oom();
	op->old_level = -1;
	r = manager_create_monitor(m, name, s->mode, s->log_level, s->config, on_op_done, op, &mon,
				   &e);
	if (r < 0) {
		problem(rl, s->file, r, e.message);
		op_free(op);
	} else {
		/* Before it is added (and saved): it is the file's from the start. */
		set_origin(manager_find_creating(m, name), s, s->is_template);
	}
	dm_error_done(&e);
}

/* A change that compiles: the configuration, or the log level alone; then the attachment. */
static void rebuild(struct monitor *mon, struct files_reload *rl, const struct file_spec *s,
		    unsigned a, const char *ifname)
{
	struct manager *m = mon->manager;
	struct files_op *op = op_new(rl, s->file, a & FILES_REATTACH ? ifname : NULL, s->place);
	dm_error e = DM_ERROR_NULL;
	int r;

	if (!op)
		return (void)log_oom();
	op->old_level = -1;
	m->applying_files = true;
	if (a & FILES_INJECT) {
		op->old_level = mon->log_level;
		mon->log_level = s->log_level; /* built in at that level */
		r = monitor_inject(mon, s->config, on_op_done, op, &e);
	} else {
		r = monitor_set_log_level(mon, s->log_level, on_op_done, op, &e);
	}
	m->applying_files = false;
	if (r < 0) {
		if (op->old_level >= 0)
			mon->log_level = op->old_level;
		problem(rl, s->file, r, e.message);
		op_free(op);
	} else if (r > 0) {
		on_op_done(mon, 0, NULL, op); /* set now: no dataplane to rebuild */
	}
	dm_error_done(&e);
}

static void have_of(struct manager *m, const char *name, struct files_have *h, char **config)
{
	struct monitor *mon = manager_find_monitor(m, name), *c = manager_find_creating(m, name);

	*h = (struct files_have){.exists = mon || c};
	if (c) {
		h->from_file = c->source_file;
		h->creating = true;
	}
	if (!mon)
		return;
	if (mon->dataplane) {
		json_t *j = monitor_config_json(mon);

		*config = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(j);
	}
	h->from_file = mon->source_file;
	h->busy = mon->build;
	h->mode = mon->mode;
	h->log_level = mon->log_level;
	h->config = *config;
	h->ifname = mon->ifname;
	h->place = mon->file_place;
}

/* One monitor (or instance) of a file: made to match. With `missing_only` (a link event),
 * only what is missing is done: creations, and first attachments. */
static void apply_one(struct manager *m, struct files_reload *rl, const struct file_spec *s,
		      const char *name, const char *ifname, bool missing_only)
{
	_cleanup_free_ char *config = NULL;
	struct files_want w = {s->mode, s->log_level, s->config, ifname, if_nametoindex(ifname) > 0,
			       s->place};
	struct files_have h;
	dm_error e = DM_ERROR_NULL;
	struct monitor *mon;
	unsigned a;

	have_of(m, name, &h, &config);
	a = files_plan(&w, &h);
	mon = manager_find_monitor(m, name);
	if (missing_only && !(a & FILES_CREATE) && !(mon && !mon->ifname && (a & FILES_REATTACH)))
		return;
	if (a & FILES_CONFLICT)
		return problem(rl, s->file, -EEXIST,
			       "a monitor of this name was made through the API: it is left alone "
			       "and the file is not applied");
	if (a & FILES_BUSY) {
		if (!h.creating)
			problem(rl, s->file, -EBUSY,
				"the monitor is being compiled; reload again once it is done");
		return;
	}
	if (a & FILES_RECREATE) {
		m->applying_files = true;
		(void)manager_delete_monitor(m, name, &e);
		m->applying_files = false;
		dm_error_done(&e);
		a = FILES_CREATE;
	}
	if (a & FILES_CREATE)
		return create(m, rl, s, name, ifname);
	set_origin(mon, s, s->is_template);
	if (a & (FILES_INJECT | FILES_LOG_LEVEL))
		rebuild(mon, rl, s, a, ifname);
	else if (a & FILES_REATTACH)
		attach_where(mon, s->file, ifname, s->place, rl);
}

/* Every monitor the files want; its names are added to `wanted`. */
static void apply_spec(struct manager *m, struct files_reload *rl, const struct file_spec *s,
		       const char *only_ifname, char ***wanted)
{
	struct if_nameindex *ifs;

	if (!s->is_template) {
		if (!only_ifname || streq(only_ifname, s->patterns[0]))
			apply_one(m, rl, s, s->name, s->patterns[0], only_ifname);
		if (wanted && strv_add(wanted, s->name) < 0)
			log_oom();
		return;
	}
	ifs = if_nameindex();
	if (!ifs)
		return (void)log_warning_errno(errno, "Cannot list the interfaces: %m");
	for (struct if_nameindex *i = ifs; i->if_index; i++) {
		_cleanup_free_ char *name = NULL;

		if (!files_patterns_match(s->patterns, i->if_name) ||
		    (only_ifname && !streq(only_ifname, i->if_name)))
			continue;
		name = files_instance_name(s->name, i->if_name);
		if (!name || (wanted && strv_add(wanted, name) < 0)) {
			log_oom();
			continue;
		}
		apply_one(m, rl, s, name, i->if_name, only_ifname);
	}
	if_freenameindex(ifs);
}

/* Deletes the file monitors no file wants, but those of broken files. */
static void delete_unwanted(struct manager *m, char **wanted)
{
	char **doomed = NULL;

	for (size_t i = 0; i < m->n_monitors; i++) {
		struct monitor *mon = m->monitors[i];

		if (mon->source_file && !strv_contains((const char *const *)wanted, mon->name) &&
		    !strv_contains((const char *const *)m->files_broken, mon->source_file) &&
		    strv_add(&doomed, mon->name) < 0)
			log_oom();
	}
	for (char **i = doomed; i && *i; i++) {
		dm_error e = DM_ERROR_NULL;
		int r;

		m->applying_files = true;
		r = manager_delete_monitor(m, *i, &e);
		m->applying_files = false;
		if (r < 0)
			log_error_errno(r, "Cannot delete monitor %s, no longer declared: %s", *i,
					e.message ?: strerror(-r));
		dm_error_done(&e);
	}
	strv_free(doomed);
}

static void apply(struct manager *m, struct files_reload *rl)
{
	char **wanted = NULL;

	for (size_t i = 0; i < m->n_file_specs; i++)
		apply_spec(m, rl, &m->file_specs[i], NULL, &wanted);
	delete_unwanted(m, wanted);
	strv_free(wanted);
	manager_save_state(m);
}

static struct file_spec *find_spec(struct file_spec *l, size_t n, const char *field, bool by_name)
{
	for (size_t i = 0; i < n; i++)
		if (streq_ptr(by_name ? l[i].name : l[i].file, field))
			return &l[i];
	return NULL;
}

/* Reads every file: a good one gives its new declaration, a broken one keeps its last good
 * one (if any) and is named in *broken. */
static int load_all(struct manager *m, struct files_reload *rl, struct file_spec **ret,
		    size_t *ret_n, char ***broken)
{
	char **names = NULL;
	struct file_spec *l;
	size_t n = 0;
	int r;

	r = list_files(m->config_dir, &names);
	if (r < 0)
		return r;
	for (n = 0; names[n]; n++)
		;
	l = calloc(n + 1, sizeof(*l));
	if (!l) {
		strv_free(names);
		return -ENOMEM;
	}
	n = 0;
	for (char **f = names; *f; f++) {
		dm_error e = DM_ERROR_NULL;
		struct file_spec *old;

		r = load_file(m->config_dir, *f, &l[n], &e);
		if (r >= 0 && find_spec(l, n, l[n].name, true)) {
			r = dm_error_set(&e, -EEXIST, "monitor %s is declared by %s already",
					 l[n].name, find_spec(l, n, l[n].name, true)->file);
			spec_done(&l[n]);
		}
		if (r >= 0) {
			n++;
		} else {
			problem(rl, *f, r, e.message);
			if (strv_add(broken, *f) < 0)
				log_oom();
			old = find_spec(m->file_specs, m->n_file_specs, *f, false);
			if (old && !find_spec(l, n, old->name, true)) {
				l[n++] = *old; /* taken: the old list's entry is emptied */
				*old = (struct file_spec){};
			}
		}
		dm_error_done(&e);
	}
	strv_free(names);
	*ret = l;
	*ret_n = n;
	return 0;
}

int files_reload(struct manager *m, files_reload_fn done, void *userdata)
{
	struct files_reload *rl = calloc(1, sizeof(*rl));
	struct file_spec *l = NULL;
	char **broken = NULL;
	size_t n = 0;
	int r;

	if (!rl)
		return -ENOMEM;
	*rl = (struct files_reload){.m = m, .pending = 1, .done = done, .userdata = userdata};
	log_info("Applying the monitors declared in %s.", m->config_dir);
	r = load_all(m, rl, &l, &n, &broken);
	if (r < 0) {
		/* Nothing is known of the files: everything stays. */
		char *msg = strdup_printf("cannot read the directory: %s", strerror(-r));

		problem(rl, m->config_dir, r, msg);
		free(msg);
	} else {
		files_specs_free(m->file_specs, m->n_file_specs);
		strv_free(m->files_broken);
		m->file_specs = l;
		m->n_file_specs = n;
		m->files_broken = broken;
		apply(m, rl);
	}
	reload_unref(rl);
	return 0;
}

void files_link_appeared(struct manager *m, const char *ifname)
{
	for (size_t i = 0; i < m->n_file_specs; i++)
		if (files_patterns_match(m->file_specs[i].patterns, ifname))
			apply_spec(m, NULL, &m->file_specs[i], ifname, NULL);
}

void files_link_gone(struct manager *m, int ifindex, const char *ifname)
{
	char **doomed = NULL;

	for (size_t i = 0; i < m->n_monitors; i++) {
		struct monitor *mon = m->monitors[i];

		if (mon->template_name && mon->ifindex == ifindex &&
		    !streq_ptr(mon->ifname, ifname) && strv_add(&doomed, mon->name) < 0)
			log_oom();
	}
	for (char **i = doomed; i && *i; i++) {
		dm_error e = DM_ERROR_NULL;

		log_info("Monitor %s: its interface is gone or renamed, and the instance with it.",
			 *i);
		m->applying_files = true;
		(void)manager_delete_monitor(m, *i, &e);
		m->applying_files = false;
		dm_error_done(&e);
	}
	strv_free(doomed);
}

void files_recheck(struct manager *m)
{
	apply(m, NULL);
}
