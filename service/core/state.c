/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "chain.h"
#include "state.h"

#define STATE_VERSION 1

void state_monitor_done(struct state_monitor *s)
{
	free(s->name);
	free(s->type);
	free(s->loglevel);
	json_decref(s->config);
	free(s->ifname);
	free(s->source_file);
	free(s->template_name);
	free(s->file_place);
}

void state_monitors_free(struct state_monitor *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		state_monitor_done(&l[i]);
	free(l);
}

char *state_default_dir(void)
{
	const char *e = getenv("STATE_DIRECTORY");

	if (!e || !*e)
		return strdup(STATE_DEFAULT_DIR);
	return strndup(e, strcspn(e, ":"));
}

/* Temporary files of a save that a crash (kill -9) interrupted: at start no save runs. */
static void remove_stale_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "." STATE_FILE ".", strlen("." STATE_FILE ".")) == 0 &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_notice("Removed %s/%s, the remains of an interrupted save.", dir,
				   de->d_name);
	closedir(d);
}

int state_dir_prepare(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	remove_stale_temporaries(dir);
	return 0;
}

/* Where the monitor's tc filters are and the programs they run: so that a restarted daemon
 * replaces its own, and nobody else's. */
static json_t *tc_to_json(const struct state_monitor *s)
{
	json_t *tc = json_object();

	for (int p = 0; tc && p < _DM_PATH_MAX; p++) {
		if (s->tc[p].handle == 0)
			continue;
		if (json_object_set_new(tc, dm_path_to_string(p),
					json_pack("{s:I, s:I, s:I}", "handle",
						  (json_int_t)s->tc[p].handle, "priority",
						  (json_int_t)s->tc[p].priority, "prog-id",
						  (json_int_t)s->tc_prog_id[p])) < 0) {
			json_decref(tc);
			return NULL;
		}
	}
	return tc;
}

/* A file from before the "tc" field: dynmon's filter was at its fixed place. */
static void tc_from_json(json_t *tc, struct state_monitor *s)
{
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		json_int_t handle = 0, prio = 0, id = 0;

		if (!tc) {
			s->tc_legacy = true;
			s->tc[p] =
			    (struct tc_slot){.handle = DM_TC_HANDLE, .priority = DM_TC_PRIORITY};
			continue;
		}
		if (json_unpack(json_object_get(tc, dm_path_to_string(p)), "{s:I, s:I, s:I}",
				"handle", &handle, "priority", &prio, "prog-id", &id) < 0 ||
		    handle <= 0 || handle > UINT32_MAX || prio <= 0 || prio > 0xffff || id < 0 ||
		    id > UINT32_MAX)
			continue;
		s->tc[p] = (struct tc_slot){.handle = handle, .priority = prio};
		s->tc_prog_id[p] = id;
	}
}

/* "declared": {"file", "template", "place"} for a monitor of monitors.d; absent otherwise. */
static json_t *declared_to_json(const struct state_monitor *s)
{
	return json_pack("{s:s, s:s*, s:s*}", "file", s->source_file, "template", s->template_name,
			 "place", s->file_place);
}

static int declared_from_json(json_t *j, struct state_monitor *s)
{
	const char *file = NULL, *tpl = NULL, *place = NULL;

	if (!json_is_object(j) ||
	    json_unpack(j, "{s:s, s?s, s?s}", "file", &file, "template", &tpl, "place", &place) < 0)
		return 0; /* not declared: a monitor of the API */
	s->source_file = strdup(file);
	s->template_name = tpl ? strdup(tpl) : NULL;
	s->file_place = place ? strdup(place) : NULL;
	return !s->source_file || (tpl && !s->template_name) || (place && !s->file_place) ? -ENOMEM
											  : 0;
}

static json_t *monitor_to_json(const struct state_monitor *s)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:b}", "name", s->name, "type", s->type, "loglevel",
			      s->loglevel, "clsact-created", s->clsact_created);

	if (j && s->config && json_object_set(j, "dataplane-config", s->config) < 0)
		goto fail;
	if (j && s->ifname && json_object_set_new(j, "interface", json_string(s->ifname)) < 0)
		goto fail;
	if (j && json_object_set_new(j, "tc", tc_to_json(s)) < 0)
		goto fail;
	/* Its place among the monitors of its interface (chain.h). */
	if (j && s->rank && json_object_set_new(j, "chain-rank", json_integer(s->rank)) < 0)
		goto fail;
	if (j && s->source_file && json_object_set_new(j, "declared", declared_to_json(s)) < 0)
		goto fail;
	return j;
fail:
	json_decref(j);
	return NULL;
}

json_t *state_to_json(const struct state_monitor *monitors, size_t n)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < n; i++) {
		if (json_array_append_new(list, monitor_to_json(&monitors[i])) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	if (!list)
		return NULL;
	return json_pack("{s:i, s:o}", "version", STATE_VERSION, "monitors", list);
}

/* One entry; -EBADMSG with the reason in `why` when it is broken. */
static int monitor_from_json(json_t *j, struct state_monitor *s, json_error_t *why)
{
	const char *name = NULL, *type = NULL, *loglevel = NULL, *ifname = NULL;
	json_t *config = NULL, *tc = NULL;
	json_int_t rank = 0;
	int clsact = 0;

	*s = (struct state_monitor){};
	if (json_unpack_ex(j, why, 0, "{s:s, s:s, s:s, s?o, s?s, s?b, s?o, s?I}", "name", &name,
			   "type", &type, "loglevel", &loglevel, "dataplane-config", &config,
			   "interface", &ifname, "clsact-created", &clsact, "tc", &tc, "chain-rank",
			   &rank) < 0)
		return -EBADMSG;
	if (rank < 0 || rank > CHAIN_RANK_MAX) {
		snprintf(why->text, sizeof(why->text), "chain-rank is out of range");
		return -EBADMSG;
	}
	tc_from_json(json_is_object(tc) ? tc : NULL, s);
	if (config && !json_is_object(config) && !json_is_null(config)) {
		snprintf(why->text, sizeof(why->text), "dataplane-config is not an object");
		return -EBADMSG;
	}
	s->name = strdup(name);
	s->type = strdup(type);
	s->loglevel = strdup(loglevel);
	s->ifname = ifname && *ifname ? strdup(ifname) : NULL;
	s->config = json_is_object(config) ? json_incref(config) : NULL;
	s->clsact_created = clsact;
	s->rank = (uint32_t)rank;
	if (!s->name || !s->type || !s->loglevel || (ifname && *ifname && !s->ifname) ||
	    declared_from_json(json_object_get(j, "declared"), s) < 0) {
		state_monitor_done(s);
		return -ENOMEM;
	}
	return 0;
}

static bool name_taken(const struct state_monitor *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(l[i].name, name))
			return true;
	return false;
}

int state_from_json(json_t *root, struct state_monitor **ret, size_t *ret_n)
{
	json_t *list = json_object_get(root, "monitors"), *entry;
	json_t *version = json_object_get(root, "version");
	struct state_monitor *l = NULL;
	size_t i, n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!json_is_integer(version) || json_integer_value(version) != STATE_VERSION ||
	    !json_is_array(list)) {
		log_error("The state file is not a version %d state file.", STATE_VERSION);
		return -EBADMSG;
	}
	l = calloc(json_array_size(list) + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	json_array_foreach (list, i, entry) {
		json_error_t why = {};
		int r = monitor_from_json(entry, &l[n], &why);

		if (r == -ENOMEM) {
			state_monitors_free(l, n);
			return r;
		}
		if (r >= 0 && name_taken(l, n, l[n].name)) {
			snprintf(why.text, sizeof(why.text), "monitor %s came earlier in the file",
				 l[n].name);
			state_monitor_done(&l[n]);
			r = -EEXIST;
		}
		if (r < 0) {
			log_error("Entry %zu of the state file is broken (%s), ignoring it.", i,
				  why.text);
			continue;
		}
		n++;
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

/* A state file that cannot be read is kept for a person to look at, under another name: the
 * next save must not overwrite the only record of the monitors (and of their kernel objects). */
static int set_aside(const char *path, const json_error_t *e)
{
	_cleanup_free_ char *aside = strdup_printf("%s.broken-%lld", path, (long long)time(NULL));

	if (!aside)
		return -ENOMEM;
	if (rename(path, aside) < 0) {
		int r = -errno;

		log_error_errno(r,
				"Cannot read the state file %s (line %d: %s), nor set it aside as "
				"%s: %m",
				path, e->line, e->text, aside);
		return r;
	}
	log_error("Cannot read the state file %s (line %d: %s): set aside as %s; starting without "
		  "the monitors it held (their programs and pins stay in the kernel).",
		  path, e->line, e->text, aside);
	return 0;
}

int state_load(const char *dir, struct state_monitor **ret, size_t *ret_n)
{
	_cleanup_free_ char *path = strdup_printf("%s/" STATE_FILE, dir);
	_cleanup_(json_decrefp) json_t *root = NULL;
	json_error_t e;
	int r;

	*ret = NULL;
	*ret_n = 0;
	if (!path)
		return -ENOMEM;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!root)
		return set_aside(path, &e);
	r = state_from_json(root, ret, ret_n);
	if (r == -EBADMSG) {
		e = (json_error_t){.line = 1};
		snprintf(e.text, sizeof(e.text), "not a version %d state file", STATE_VERSION);
		return set_aside(path, &e);
	}
	return r;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		s += k;
		n -= k;
	}
	return 0;
}

/* The new file, complete and on disk, under a temporary name in `dir`. */
static int write_temporary(const char *dir, const char *text, char **ret_tmp)
{
	_cleanup_free_ char *tmp = strdup_printf("%s/." STATE_FILE ".XXXXXX", dir);
	_cleanup_close_ int fd = -1;
	int r;

	if (!tmp)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text, strlen(text));
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(tmp);
		return r;
	}
	*ret_tmp = TAKE_PTR(tmp);
	return 0;
}

int state_save(const char *dir, const struct state_monitor *monitors, size_t n)
{
	_cleanup_(json_decrefp) json_t *root = state_to_json(monitors, n);
	_cleanup_free_ char *text = NULL, *tmp = NULL, *path = NULL;
	_cleanup_close_ int dfd = -1;
	int r;

	if (!root)
		return -ENOMEM;
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	path = strdup_printf("%s/" STATE_FILE, dir);
	if (!text || !path)
		return -ENOMEM;
	r = write_temporary(dir, text, &tmp);
	if (r < 0)
		return r;
	if (rename(tmp, path) < 0) {
		r = -errno;
		(void)unlink(tmp);
		return r;
	}
	/* The rename itself is on disk only when the directory is. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return -errno;
	return 0;
}
