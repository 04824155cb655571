/* SPDX-License-Identifier: Apache-2.0 */
/* The REST API's handlers, Polycube's resources: each parses its request, calls the logic
 * functions D-Bus calls (manager.h, monitor.h) and shapes the answer. One handler per route, in
 * a table at the end. */
#include <microhttpd.h>

#include "log.h"
#include "manager.h"
#include "pcnlog.h"
#include "polycube.h"
#include "rest-api.h"
#include "selfmetrics.h"

/* ---- Request bodies ------------------------------------------------------------------------ */

/* The body as a JSON object holding `known` fields only; an empty body is {}. Its errors are
 * -bad: EBADMSG (InvalidConfig) for a monitor's settings, EINVAL for attach and detach. */
static int body_object(struct rest_request *req, const char *const *known, int bad, json_t **ret,
		       dm_error *e)
{
	size_t size;
	const char *body = rest_request_body(req, &size);
	json_auto_t *j = NULL;
	json_error_t err;
	const char *key;
	json_t *value;

	if (body[strspn(body, " \t\r\n")] == '\0') {
		*ret = json_object();
		return *ret ? 0 : -ENOMEM;
	}
	j = json_loadb(body, size, JSON_REJECT_DUPLICATES, &err);
	if (!j)
		return dm_error_set(e, -bad,
				    "The request body is not valid JSON: %s (line %d, column %d).",
				    err.text, err.line, err.column);
	if (!json_is_object(j))
		return dm_error_set(e, -bad, "The request body must be a JSON object.");
	json_object_foreach (j, key, value)
		if (!strv_contains(known, key)) {
			_cleanup_free_ char *list = strv_join(known, ", ");

			return dm_error_set(e, -bad,
					    "Unknown field \"%s\" in the request body (known: %s).",
					    key, strempty(list));
		}
	*ret = TAKE_PTR(j);
	return 0;
}

/* A string field: NULL when absent and optional. */
static int body_string(json_t *j, const char *key, bool required, const char **ret, int bad,
		       dm_error *e)
{
	json_t *v = json_object_get(j, key);

	*ret = NULL;
	if (!v)
		return required ? dm_error_set(e, -bad, "Field \"%s\" is missing.", key) : 0;
	if (!json_is_string(v))
		return dm_error_set(e, -bad, "Field \"%s\" must be a string.", key);
	*ret = json_string_value(v);
	return 0;
}

/* ---- Monitors ------------------------------------------------------------------------------ */

/* Polycube's shape of a monitor, without its metrics (reading them has effects: empty-on-read,
 * swap-on-read); GET of one monitor adds them. */
static json_t *monitor_object(const struct monitor *mon)
{
	json_t *j = polycube_cube_json(mon);

	/* dynmon's additions (docs/MONITORS-D.md): where the monitor was declared. */
	if (j && (json_object_set_new(j, "source", json_string(monitor_source(mon))) < 0 ||
		  (mon->template_name &&
		   json_object_set_new(j, "template", json_string(mon->template_name)) < 0))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static struct monitor *find_monitor(struct rest_request *req, const char *name)
{
	dm_error e = DM_ERROR_NULL;
	struct monitor *mon;
	int r;

	r = manager_get_monitor(rest_request_manager(req), name, &mon, &e);
	if (r < 0) {
		rest_reply_error(req, r, &e);
		return NULL;
	}
	return mon;
}

/* What POST and PUT may set; -1 / NULL for what the body leaves out. */
struct monitor_settings {
	int mode;
	int level;
	char *config; /* the "dataplane-config" object, as text */
};

static void monitor_settings_done(struct monitor_settings *s)
{
	free(s->config);
}

static int monitor_settings_parse(struct rest_request *req, const char *name,
				  struct monitor_settings *ret, dm_error *e)
{
	static const char *const fields[] = {"name",	     "type", "loglevel", "dataplane-config",
					     "service-name", NULL};
	json_auto_t *j = NULL;
	const char *body_name, *type, *level, *service;
	json_t *config;
	int r;

	*ret = (struct monitor_settings){.mode = -1, .level = -1};
	r = body_object(req, fields, EBADMSG, &j, e);
	if (r >= 0)
		r = body_string(j, "name", false, &body_name, EBADMSG, e);
	if (r >= 0)
		r = body_string(j, "type", false, &type, EBADMSG, e);
	if (r >= 0)
		r = body_string(j, "loglevel", false, &level, EBADMSG, e);
	if (r >= 0)
		r = body_string(j, "service-name", false, &service, EBADMSG, e);
	if (r < 0)
		return r;
	if (service && !streq(service, "dynmon"))
		return dm_error_set(e, -EINVAL, "This is the dynmon service, not \"%s\".", service);
	if (body_name && !streq(body_name, name))
		return dm_error_set(e, -EINVAL, "The body names monitor \"%s\", the path \"%s\".",
				    body_name, name);
	if (type && (ret->mode = dm_mode_parse(type, e)) < 0)
		return ret->mode;
	if (level && (ret->level = pcnlog_level_parse(level, e)) < 0)
		return ret->level;
	config = json_object_get(j, "dataplane-config");
	if (config && !json_is_object(config))
		return dm_error_set(e, -EBADMSG,
				    "Field \"dataplane-config\" must be a JSON object.");
	if (config && !(ret->config = json_dumps(config, JSON_COMPACT)))
		return -ENOMEM;
	return 0;
}

/* The answer of a request that waited for a compilation: the monitor's object. */
static void on_compiled_reply(struct monitor *mon, int r, dm_error *e, void *userdata)
{
	struct rest_request *req = userdata;

	if (r < 0)
		rest_reply_error(req, r, e);
	else
		rest_reply_json(req, MHD_HTTP_OK, monitor_object(mon));
}

static void create_monitor(struct rest_request *req, const char *name,
			   const struct monitor_settings *s)
{
	dm_error e = DM_ERROR_NULL;
	struct monitor *mon;
	int r;

	r = manager_create_monitor(
	    rest_request_manager(req), name, s->mode >= 0 ? s->mode : DM_MODE_TC,
	    s->level >= 0 ? s->level : DYNMON_LOG_OFF, s->config, on_compiled_reply, req, &mon, &e);
	if (r < 0)
		rest_reply_error(req, r, &e);
	else if (r == 0)
		rest_request_suspend(req); /* answered when the compilation ends */
	else
		rest_reply_json(req, MHD_HTTP_OK, monitor_object(mon));
}

static void handle_monitor_create(struct rest_request *req)
{
	_cleanup_(monitor_settings_done) struct monitor_settings s = {};
	const char *name = rest_request_match(req)->name;
	dm_error e = DM_ERROR_NULL;
	int r;

	r = monitor_settings_parse(req, name, &s, &e);
	if (r < 0)
		rest_reply_error(req, r, &e);
	else
		create_monitor(req, name, &s);
}

/* POST .../dynmon with the name in the body, as polycubed takes it too. */
static void handle_service_create(struct rest_request *req)
{
	_cleanup_(monitor_settings_done) struct monitor_settings s = {};
	json_auto_t *j = NULL;
	dm_error e = DM_ERROR_NULL;
	const char *name = NULL;
	int r;

	j = json_loads(rest_request_body(req, NULL), 0, NULL);
	name = json_string_value(json_object_get(j, "name"));
	if (!name) {
		rest_reply_errorf(req, MHD_HTTP_BAD_REQUEST, -EINVAL,
				  "POST of the service needs the cube's \"name\" in the body.");
		return;
	}
	r = monitor_settings_parse(req, name, &s, &e);
	if (r < 0)
		rest_reply_error(req, r, &e);
	else
		create_monitor(req, name, &s);
}

/* A PUT on an existing monitor: its dataplane, then its log level, each of which may wait for
 * a compilation. */
struct monitor_put {
	struct rest_request *req;
	int level; /* -1: unchanged */
};

static void put_set_level(struct monitor *mon, struct monitor_put *put)
{
	dm_error e = DM_ERROR_NULL;
	int r = 1;

	if (put->level >= 0 && put->level != mon->log_level)
		r = monitor_set_log_level(mon, put->level, on_compiled_reply, put->req, &e);
	if (r < 0)
		rest_reply_error(put->req, r, &e);
	else if (r > 0)
		rest_reply_json(put->req, MHD_HTTP_OK, monitor_object(mon));
	else
		rest_request_suspend(put->req); /* answered when the compilation ends */
	free(put);
}

static void on_put_injected(struct monitor *mon, int r, dm_error *e, void *userdata)
{
	struct monitor_put *put = userdata;

	if (r < 0) {
		rest_reply_error(put->req, r, e);
		free(put);
		return;
	}
	put_set_level(mon, put);
}

static void monitor_apply(struct rest_request *req, struct monitor *mon,
			  const struct monitor_settings *s)
{
	struct monitor_put *put;
	dm_error e = DM_ERROR_NULL;
	int r;

	if (s->mode >= 0 && s->mode != (int)mon->mode) {
		r = dm_error_set(&e, -EBUSY,
				 "Monitor %s runs in %s mode; delete it to change its type.",
				 mon->name, dm_mode_to_string(mon->mode));
		rest_reply_error(req, r, &e);
		return;
	}
	put = calloc(1, sizeof(*put));
	if (!put) {
		rest_reply_error(req, -ENOMEM, NULL);
		return;
	}
	*put = (struct monitor_put){.req = req, .level = s->level};
	if (!s->config) {
		put_set_level(mon, put);
		return;
	}
	r = monitor_inject(mon, s->config, on_put_injected, put, &e);
	if (r < 0) {
		rest_reply_error(req, r, &e);
		free(put);
	} else {
		rest_request_suspend(req); /* answered when the compilation ends */
	}
}

/* PUT: creates the monitor, or applies the body to the one there. */
static void handle_monitor_put(struct rest_request *req)
{
	_cleanup_(monitor_settings_done) struct monitor_settings s = {};
	const char *name = rest_request_match(req)->name;
	dm_error e = DM_ERROR_NULL;
	struct monitor *mon;
	int r;

	r = monitor_settings_parse(req, name, &s, &e);
	if (r < 0) {
		rest_reply_error(req, r, &e);
		return;
	}
	mon = manager_find_monitor(rest_request_manager(req), name);
	if (!mon)
		create_monitor(req, name, &s);
	else
		monitor_apply(req, mon, &s);
}

static void handle_monitor_delete(struct rest_request *req)
{
	dm_error e = DM_ERROR_NULL;
	int r;

	r = manager_delete_monitor(rest_request_manager(req), rest_request_match(req)->name, &e);
	if (r < 0)
		rest_reply_error(req, r, &e);
	else
		rest_reply(req, MHD_HTTP_OK, NULL, NULL);
}

static void handle_monitor_list(struct rest_request *req)
{
	struct manager *m = rest_request_manager(req);
	json_t *list = json_array();

	for (size_t i = 0; list && i < m->n_monitors; i++)
		if (json_array_append_new(list, monitor_object(m->monitors[i])) < 0) {
			json_decref(list);
			list = NULL;
		}
	rest_reply_json(req, MHD_HTTP_OK, list);
}

static void handle_config_get(struct rest_request *req)
{
	struct monitor *mon = find_monitor(req, rest_request_match(req)->name);

	if (mon)
		rest_reply_json(req, MHD_HTTP_OK, monitor_config_json(mon));
}

static void on_config_injected(struct monitor *mon, int r, dm_error *e, void *userdata)
{
	struct rest_request *req = userdata;

	if (r < 0)
		rest_reply_error(req, r, e);
	else
		rest_reply_json(req, MHD_HTTP_OK, monitor_config_json(mon));
}

/* The body is the configuration, as upstream's `curl --upload-file config.json` sends it. */
static void handle_config_put(struct rest_request *req)
{
	struct monitor *mon = find_monitor(req, rest_request_match(req)->name);
	dm_error e = DM_ERROR_NULL;
	int r;

	if (!mon)
		return;
	r = monitor_inject(mon, rest_request_body(req, NULL), on_config_injected, req, &e);
	if (r < 0)
		rest_reply_error(req, r, &e);
	else
		rest_request_suspend(req); /* answered when the compilation ends */
}

/* ---- Attachments --------------------------------------------------------------------------- */

/* Polycube's place on the port: "position" (auto, first, last), or "before"/"after" a cube;
 * polycubed's rules combine them (chain.h). */
static int attach_position(json_t *j, struct chain_position *ret, dm_error *e)
{
	const char *position = NULL, *before = NULL, *after = NULL;
	int r;

	r = body_string(j, "position", false, &position, EINVAL, e);
	if (r >= 0)
		r = body_string(j, "before", false, &before, EINVAL, e);
	if (r >= 0)
		r = body_string(j, "after", false, &after, EINVAL, e);
	if (r >= 0)
		r = chain_position_parse(position, before, after, ret, e);
	return r;
}

/* {"cube": NAME, "port": IFACE}: the monitor and the interface. */
static int attachment_parse(struct rest_request *req, const char *const *fields, json_t **ret_j,
			    struct monitor **ret_mon, const char **ret_port, dm_error *e)
{
	json_auto_t *j = NULL;
	const char *cube;
	int r;

	r = body_object(req, fields, EINVAL, &j, e);
	if (r >= 0)
		r = body_string(j, "cube", true, &cube, EINVAL, e);
	if (r >= 0)
		r = body_string(j, "port", true, ret_port, EINVAL, e);
	if (r >= 0)
		r = manager_get_monitor(rest_request_manager(req), cube, ret_mon, e);
	if (r < 0)
		return r;
	*ret_j = TAKE_PTR(j);
	return 0;
}

static void handle_attach(struct rest_request *req)
{
	static const char *const fields[] = {"cube", "port", "position", "before", "after", NULL};
	json_auto_t *j = NULL;
	dm_error e = DM_ERROR_NULL;
	struct chain_position pos;
	struct monitor *mon;
	const char *port;
	int r;

	r = attachment_parse(req, fields, &j, &mon, &port, &e);
	if (r >= 0)
		r = attach_position(j, &pos, &e);
	if (r >= 0)
		r = monitor_attach(mon, port, &pos, &e);
	if (r < 0) {
		rest_reply_error(req, r, &e);
		return;
	}
	rest_reply_json(req, MHD_HTTP_OK, monitor_object(mon));
}

static void handle_detach(struct rest_request *req)
{
	static const char *const fields[] = {"cube", "port", NULL};
	json_auto_t *j = NULL;
	dm_error e = DM_ERROR_NULL;
	struct monitor *mon;
	const char *port;
	int r;

	r = attachment_parse(req, fields, &j, &mon, &port, &e);
	if (r >= 0 && mon->ifname && !streq(mon->ifname, port))
		r = dm_error_set(&e, -ENOTCONN, "Monitor %s is attached to %s, not to %s.",
				 mon->name, mon->ifname, port);
	if (r >= 0)
		r = monitor_detach(mon, &e);
	if (r < 0) {
		rest_reply_error(req, r, &e);
		return;
	}
	rest_reply_json(req, MHD_HTTP_OK, monitor_object(mon));
}

/* ---- Reading metrics ----------------------------------------------------------------------- */

/* A read of one monitor, answered when monitor_read() is done: at once, or with swap-on-read
 * when the worker has swapped, the request waiting meanwhile. */
struct metrics_read {
	struct rest_request *req;
	char *monitor;	/* for messages: the monitor may be gone when the read is done */
	json_t *object; /* ROUTE_MONITOR_GET: the monitor, its metrics to come */
};

static void metrics_read_free(struct metrics_read *rd)
{
	free(rd->monitor);
	json_decref(rd->object);
	free(rd);
}

/* The path of a route's list ("ingress-metrics": ingress). */
static int list_path(const char *list)
{
	for (int p = 0; p < _DM_PATH_MAX; p++) {
		const char *name = dm_path_to_string(p);

		if (strncmp(list, name, strlen(name)) == 0 &&
		    streq(list + strlen(name), "-metrics"))
			return p;
	}
	return -EINVAL;
}

/* What the route reads: only the maps behind it. */
static struct monitor_read_what route_what(const struct route_match *m)
{
	struct monitor_read_what what = {.sel.path = -1};

	switch (m->route->id) {
	case ROUTE_OPEN_METRICS:
		what.format = MONITOR_READ_OPENMETRICS;
		break;
	case ROUTE_METRIC_LIST:
		what.format = MONITOR_READ_JSON_LIST;
		break;
	case ROUTE_METRIC:
	case ROUTE_MODEL_READ: /* a leaf of a metric (its name, its timestamp): the metric */
		what.format = MONITOR_READ_JSON_METRIC;
		break;
	case ROUTE_METRIC_VALUE:
		what.format = MONITOR_READ_JSON_VALUE;
		break;
	default: /* the monitor, or its metrics: the whole document */
		what.format = MONITOR_READ_JSON;
		break;
	}
	if (m->route->list)
		what.sel.path = list_path(m->route->list);
	if (m->route->list && m->route->id != ROUTE_METRIC_LIST)
		what.sel.metric = m->metric;
	return what;
}

/* The monitor's object, "metrics" last with the text read (JSON) as its value: what
 * json_dumps(JSON_COMPACT) makes of the object with the metrics set in it, but for u64 above
 * INT64_MAX, written exactly. */
static int object_with_metrics(json_t *object, const char *metrics, char **ret)
{
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	const char *key;
	json_t *value;
	int r;

	r = jsonw_new(NULL, &w);
	if (r < 0)
		return r;
	jsonw_begin_object(w);
	json_object_foreach (object, key, value) {
		_cleanup_free_ char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);

		if (!text)
			return -ENOMEM;
		jsonw_name(w, key);
		jsonw_value(w);
		jsonw_put(w, text, strlen(text));
	}
	jsonw_name(w, "metrics");
	jsonw_value(w);
	jsonw_put(w, metrics, strlen(metrics));
	jsonw_end_object(w);
	return jsonw_take_string(w, ret, NULL);
}

static void on_metrics_read(int r, char *text, dm_error *e, void *userdata)
{
	struct metrics_read *rd = userdata;
	const struct route_match *m = rest_request_match(rd->req);
	_cleanup_free_ char *t = text;
	char *body = NULL;

	if (r < 0)
		rest_reply_error(rd->req, r, e);
	else if (r == 0)
		rest_reply_errorf(rd->req, MHD_HTTP_NOT_FOUND, -EINVAL,
				  "Monitor %s has no metric \"%s\" in its %s.", rd->monitor,
				  strempty(m->metric), m->route->list);
	else if (m->route->id == ROUTE_OPEN_METRICS && polycube_wants_text(rd->req))
		rest_reply(rd->req, MHD_HTTP_OK, OPENMETRICS_CONTENT_TYPE, TAKE_PTR(t));
	else if (m->route->id == ROUTE_OPEN_METRICS)
		/* A string leaf of the model, as polycubed answers it (polycubectl parses JSON). */
		rest_reply_json(rd->req, MHD_HTTP_OK, json_string(t));
	else if (!rd->object)
		rest_reply(rd->req, MHD_HTTP_OK, REST_JSON,
			   polycube_shape_reply(rd->req, TAKE_PTR(t)));
	else if ((r = object_with_metrics(rd->object, t, &body)) < 0)
		rest_reply_error(rd->req, r, NULL);
	else
		rest_reply(rd->req, MHD_HTTP_OK, REST_JSON, polycube_shape_reply(rd->req, body));
	metrics_read_free(rd);
}

static void handle_read(struct rest_request *req)
{
	const struct route_match *m = rest_request_match(req);
	struct monitor *mon = find_monitor(req, m->name);
	struct monitor_read_what what = route_what(m);
	struct metrics_read *rd;
	int r;

	if (!mon || !rest_request_admit_read(req, monitor_read_size(mon, &what)))
		return;
	/* HEAD answers as GET would without emptying or swapping what GET reads. */
	if (rest_request_is_head(req) && monitor_read_has_effects(mon, &what)) {
		rest_reply_unsized(req, MHD_HTTP_OK,
				   m->route->id == ROUTE_OPEN_METRICS && polycube_wants_text(req)
				       ? OPENMETRICS_CONTENT_TYPE
				       : REST_JSON);
		return;
	}
	rd = calloc(1, sizeof(*rd));
	if (rd) {
		*rd = (struct metrics_read){req, strdup(mon->name), NULL};
		if (m->route->id == ROUTE_MONITOR_GET)
			rd->object = monitor_object(mon);
	}
	if (!rd || !rd->monitor || (m->route->id == ROUTE_MONITOR_GET && !rd->object)) {
		if (rd)
			metrics_read_free(rd);
		rest_reply_error(req, -ENOMEM, NULL);
		return;
	}
	r = monitor_read(mon, &what, on_metrics_read, rd);
	if (r < 0) {
		metrics_read_free(rd);
		rest_reply_error(req, r, NULL);
		return;
	}
	rest_request_suspend(req); /* unless answered already */
}

/* ---- /metrics: every monitor, for Prometheus ----------------------------------------------- */

struct scrape_part {
	struct scrape *scrape;
	char *monitor;
	/* Its families, samples labelled monitor="NAME", rendered there by the read; NULL when
	 * the read failed (what it rendered, if anything, goes with it). */
	struct om_families *families;
};

struct scrape {
	struct rest_request *req;
	bool openmetrics;
	size_t n_parts;
	size_t pending; /* reads under way, and one more while they are started */
	struct scrape_part *parts;
};

static void scrape_free(struct scrape *sc)
{
	for (size_t i = 0; i < sc->n_parts; i++) {
		free(sc->parts[i].monitor);
		om_families_free(sc->parts[i].families);
	}
	free(sc->parts);
	free(sc);
}

static void part_failed(struct scrape_part *p, int r, dm_error *e)
{
	log_warning_errno(r, "Monitor %s left out of /metrics: %s", p->monitor,
			  e && e->message ? e->message : strerror(-r));
	om_families_free(p->families);
	p->families = NULL;
}

/* dynmon's own families, after the monitors': rendered by selfmetrics.c into families of their
 * own, merged after the monitors' (a monitor's family of the same name and another type wins). */
static int scrape_add_self(struct scrape *sc, struct om_families *fs)
{
	_cleanup_(om_families_freep) struct om_families *self = NULL;
	size_t dropped = 0;
	int r;

	r = om_families_new(&self);
	if (r >= 0)
		r = selfmetrics_render(rest_request_manager(sc->req), self);
	if (r >= 0)
		r = om_families_merge(fs, self, &dropped);
	if (r >= 0 && dropped > 0)
		log_notice("%zu of dynmon's own families left out of /metrics: a monitor exports "
			   "families of the same names and other types.",
			   dropped);
	return r;
}

/* One document, each family once though several monitors export it, in the order of the
 * monitors: the parts' samples move into it, and it is written in the format asked for. */
static int scrape_document(struct scrape *sc, struct om_text *text)
{
	_cleanup_(om_families_freep) struct om_families *fs = NULL;
	size_t dropped;
	int r;

	r = om_families_new(&fs);
	for (size_t i = 0; r >= 0 && i < sc->n_parts; i++) {
		if (!sc->parts[i].families)
			continue;
		r = om_families_merge(fs, sc->parts[i].families, &dropped);
		if (r >= 0 && dropped > 0)
			log_notice(
			    "Monitor %s: %zu families of a type another monitor's family of the "
			    "same name does not have, left out of /metrics.",
			    sc->parts[i].monitor, dropped);
	}
	if (r >= 0)
		r = scrape_add_self(sc, fs);
	if (r >= 0)
		r = om_families_take(
		    fs, sc->openmetrics ? OM_FLAVOR_OPENMETRICS : OM_FLAVOR_PROMETHEUS, true, text);
	return r;
}

/* The document goes out a piece at a time as the client reads it (rest_reply_text()). */
static void scrape_finish(struct scrape *sc)
{
	struct om_text text = {};
	int r;

	r = scrape_document(sc, &text);
	if (r < 0) {
		om_text_done(&text);
		rest_reply_errorf(sc->req, MHD_HTTP_INTERNAL_SERVER_ERROR, r,
				  "Cannot put the metrics together: %s", strerror(-r));
	} else {
		rest_reply_text(sc->req, MHD_HTTP_OK,
				sc->openmetrics ? OPENMETRICS_CONTENT_TYPE : REST_PROMETHEUS_TEXT,
				&text);
	}
	scrape_free(sc);
}

static void scrape_done_one(struct scrape *sc)
{
	if (--sc->pending == 0)
		scrape_finish(sc);
}

static void on_scrape_read(int r, char *text, dm_error *e, void *userdata)
{
	struct scrape_part *p = userdata;

	free(text); /* none: the families are in p->families */
	if (r < 0)
		part_failed(p, r, e);
	scrape_done_one(p->scrape);
}

/* A monitor whose read fails is left out (and logged): the others are still worth a scrape.
 * The monitors are read side by side (monitor_read_many()), each into families of its own. */
static void scrape_start(struct scrape *sc, struct manager *m)
{
	_cleanup_free_ struct monitor_read_req *reqs = calloc(m->n_monitors ?: 1, sizeof(*reqs));
	_cleanup_free_ struct om_label *labels = calloc(m->n_monitors ?: 1, sizeof(*labels));
	size_t n = 0;

	if (!reqs || !labels) {
		log_oom(); /* every monitor left out: no part has families */
		return;
	}
	for (size_t i = 0; i < m->n_monitors; i++) {
		struct scrape_part *p = &sc->parts[i];
		struct monitor *mon = m->monitors[i];

		p->scrape = sc;
		p->monitor = strdup(mon->name);
		if (!p->monitor || om_families_new(&p->families) < 0) {
			part_failed(p, -ENOMEM, NULL);
			continue;
		}
		labels[n] = (struct om_label){"monitor", mon->name};
		reqs[n] = (struct monitor_read_req){
		    .monitor = mon,
		    .what = {.sel.path = -1,
			     .format = MONITOR_READ_FAMILIES,
			     .extra = &labels[n],
			     .n_extra = 1,
			     .families = p->families},
		    .userdata = p,
		};
		n++;
	}
	sc->pending += n;
	monitor_read_many(m, reqs, n, on_scrape_read);
	for (size_t k = 0; k < n; k++)
		if (reqs[k].r < 0) {
			part_failed(reqs[k].userdata, reqs[k].r, NULL);
			sc->pending--;
		}
}

/* HEAD /metrics: whether a scrape would empty or swap a map. */
static bool scrape_has_effects(struct manager *m)
{
	const struct monitor_read_what what = {.sel.path = -1, .format = MONITOR_READ_FAMILIES};

	for (size_t i = 0; i < m->n_monitors; i++)
		if (monitor_read_has_effects(m->monitors[i], &what))
			return true;
	return false;
}

static void handle_scrape(struct rest_request *req)
{
	struct manager *m = rest_request_manager(req);
	const struct monitor_read_what all = {.sel.path = -1};
	struct scrape *sc;
	uint64_t size = 0;

	for (size_t i = 0; i < m->n_monitors; i++)
		size += monitor_read_size(m->monitors[i], &all);
	if (!rest_request_admit_read(req, size))
		return;
	sc = calloc(1, sizeof(*sc));
	if (sc)
		sc->parts = calloc(m->n_monitors ?: 1, sizeof(*sc->parts));
	if (!sc || !sc->parts) {
		free(sc);
		rest_reply_error(req, -ENOMEM, NULL);
		return;
	}
	sc->req = req;
	sc->n_parts = m->n_monitors;
	sc->openmetrics = route_accepts_openmetrics(rest_request_header(req, "Accept"));
	if (rest_request_is_head(req) && scrape_has_effects(m)) {
		rest_reply_unsized(req, MHD_HTTP_OK,
				   sc->openmetrics ? OPENMETRICS_CONTENT_TYPE
						   : REST_PROMETHEUS_TEXT);
		scrape_free(sc);
		return;
	}
	sc->pending = 1; /* the scrape does not end while its reads are started */
	scrape_start(sc, m);
	if (sc->pending > 1) /* some read waits for the worker */
		rest_request_suspend(req);
	scrape_done_one(sc);
}

/* A node of the data model: in the metrics, read through the read path; elsewhere, picked out
 * of the cube. */
static void handle_model_read(struct rest_request *req)
{
	if (rest_request_match(req)->route->list)
		handle_read(req);
	else
		polycube_model_read(req);
}

/* ---- The table ----------------------------------------------------------------------------- */

typedef void (*rest_handler)(struct rest_request *req);

static const rest_handler handlers[_ROUTE_ID_MAX] = {
    [ROUTE_MONITOR_LIST] = handle_monitor_list,
    [ROUTE_MONITOR_GET] = handle_read,
    [ROUTE_MONITOR_CREATE] = handle_monitor_create,
    [ROUTE_MONITOR_PUT] = handle_monitor_put,
    [ROUTE_MONITOR_DELETE] = handle_monitor_delete,
    [ROUTE_CONFIG_GET] = handle_config_get,
    [ROUTE_CONFIG_PUT] = handle_config_put,
    [ROUTE_METRICS] = handle_read,
    [ROUTE_METRIC_LIST] = handle_read,
    [ROUTE_METRIC] = handle_read,
    [ROUTE_METRIC_VALUE] = handle_read,
    [ROUTE_OPEN_METRICS] = handle_read,
    [ROUTE_ATTACH] = handle_attach,
    [ROUTE_DETACH] = handle_detach,
    [ROUTE_SCRAPE] = handle_scrape,
    [ROUTE_SERVICE_CREATE] = handle_service_create,
    [ROUTE_MODEL_READ] = handle_model_read,
    [ROUTE_MODEL_WRITE] = polycube_model_write,
    [ROUTE_MODEL_HELP] = polycube_model_help,
    [ROUTE_ROOT] = polycube_root,
    [ROUTE_ROOT_HELP] = polycube_root_help,
    [ROUTE_CUBES] = polycube_cubes,
    [ROUTE_CUBE] = polycube_cube,
    [ROUTE_SERVICES] = polycube_services,
    [ROUTE_SERVICE] = polycube_service,
    [ROUTE_VERSION] = polycube_version,
    [ROUTE_NETDEVS] = polycube_netdevs,
    [ROUTE_NETDEV] = polycube_netdev,
    [ROUTE_TOPOLOGY] = polycube_topology,
    [ROUTE_ENDPOINT_HELP] = polycube_endpoint_help,
    [ROUTE_CUBE_PATH] = polycube_cube_path,
};

void rest_api_dispatch(struct rest_request *req)
{
	handlers[rest_request_match(req)->route->id](req);
}
