/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP side of the REST API: where libmicrohttpd meets the event loop, and a request's life
 * from its headers to its one answer. What each route does is in rest-api.c. */
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "log.h"
#include "manager.h"
#include "openmetrics.h"
#include "rest.h"

/* Idle time after which MHD closes a connection; every byte restarts it. */
#define CONNECTION_TIMEOUT_SEC 30
/* A request's headers and body must be in within this time, from the accept (or from the end
 * of the connection's previous request), however slowly its bytes trickle in: slowloris clients
 * that send a header line every few seconds would otherwise hold their connections forever. */
#define REQUEST_DEADLINE_SEC 10
#define CONNECTION_LIMIT 256
/* One address cannot take all the connections: the others keep getting answers. */
#define CONNECTION_LIMIT_PER_ADDRESS 64
/* A read whose maps can hold more than this is a large one (its answer may take that much
 * memory, and the time to render it on the loop); at most LARGE_READS of them are answered at
 * once, from the read until the answer is sent or its connection goes: clients that ask for a
 * big map's metrics and never read the answer hold at most that much memory. The others get
 * 503 TooManyReads with Retry-After and nothing is read (nor emptied) for them. */
#define LARGE_READ_BYTES (4u << 20)
#define LARGE_READS 4
#define LARGE_READS_RETRY_AFTER "1"
/* The most a text answer hands MHD at a time (rest_reply_text()). */
#define TEXT_PIECE (64u << 10)

struct rest_server {
	struct manager *manager;
	rest_dispatch_fn dispatch;
	bool allow_writes;
	struct MHD_Daemon *daemon;
	sd_event_source *io;	 /* MHD's epoll fd */
	sd_event_source *timer;	 /* MHD's next timeout */
	sd_event_source *kick;	 /* runs MHD once a suspended request has its answer */
	sd_event_source *reaper; /* closes connections past their request deadline */
	/* Suspended requests: MHD must not stop while one waits. */
	struct rest_request *suspended;
	struct rest_conn *conns;
	unsigned large_reads; /* requests counted as large reads, until their end */
	/* MHD's own messages: errors while it starts, then only what peers cause (debug). */
	bool started;
};

/* One TCP connection, from its accept to its close (MHD's socket context). */
struct rest_conn {
	struct rest_server *server;
	struct MHD_Connection *conn;
	/* When the request being received must be complete (CLOCK_MONOTONIC, µs); 0 while a
	 * request is handled or answered: the idle timeout alone applies then. */
	uint64_t deadline;
	struct rest_conn *prev, *next;
};

struct rest_request {
	struct rest_server *server;
	struct MHD_Connection *conn;
	char *method, *url;
	struct route_match match;
	char *body;
	size_t body_size;
	bool too_large;
	bool no_memory;
	bool replied;
	bool failed; /* no answer could be queued: the connection closes */
	bool suspended;
	bool large;			  /* counted in server->large_reads */
	struct rest_request *prev, *next; /* in server->suspended */
};

/* ---- MHD on the event loop ----------------------------------------------------------------- */

/* MHD does what is ready, then says when it wants to run again at the latest. */
static void server_process(struct rest_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t now;

	if (MHD_run(s->daemon) != MHD_YES)
		log_debug("REST: MHD_run() failed, ignoring.");
	if (MHD_get_timeout(s->daemon, &ms) != MHD_YES ||
	    sd_event_now(sd_event_source_get_event(s->timer), CLOCK_MONOTONIC, &now) < 0) {
		(void)sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
		return;
	}
	if (ms > UINT64_MAX / 1000 - now / 1000)
		ms = UINT64_MAX / 1000 - now / 1000;
	(void)sd_event_source_set_time(s->timer, now + ms * 1000);
	(void)sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

static int on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	server_process(userdata);
	return 0;
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	server_process(userdata);
	return 0;
}

static int on_kick(sd_event_source *source, void *userdata)
{
	server_process(userdata);
	return 0;
}

/* ---- Connections and their request deadline ------------------------------------------------ */

static uint64_t now_usec(struct rest_server *s)
{
	uint64_t now = 0;

	(void)sd_event_now(sd_event_source_get_event(s->reaper), CLOCK_MONOTONIC, &now);
	return now;
}

static void reaper_arm(struct rest_server *s)
{
	int enabled = SD_EVENT_OFF;

	if (!s->reaper || !s->conns)
		return;
	(void)sd_event_source_get_enabled(s->reaper, &enabled);
	if (enabled != SD_EVENT_OFF)
		return;
	/* A round a second: a deadline is kept to within a second, and the loop sleeps when no
	 * connection is open. */
	(void)sd_event_source_set_time(s->reaper, now_usec(s) + 1000000);
	(void)sd_event_source_set_enabled(s->reaper, SD_EVENT_ONESHOT);
}

static struct rest_conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

/* The clock of the next request starts (at the accept, or once the previous one is answered). */
static void conn_expect_request(struct rest_conn *c)
{
	c->deadline = now_usec(c->server) + REQUEST_DEADLINE_SEC * 1000000ULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct rest_server *s = cls;
	struct rest_conn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return; /* untracked: the idle timeout still closes it */
		c->server = s;
		c->conn = conn;
		conn_expect_request(c);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		*socket_context = c;
		reaper_arm(s);
		return;
	}
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	*socket_context = NULL;
}

/* MHD cannot be told to drop a connection from outside its callbacks: shutting the socket down
 * makes it see the end of the stream at its next run, and close. */
static void conn_drop(struct rest_conn *c)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	log_debug("REST: closing a connection that sent no complete request within %d s.",
		  REQUEST_DEADLINE_SEC);
	c->deadline = 0;
	if (info)
		(void)shutdown(info->connect_fd, SHUT_RDWR);
}

static int on_reaper(sd_event_source *source, uint64_t usec, void *userdata)
{
	struct rest_server *s = userdata;
	uint64_t now = now_usec(s);
	bool dropped = false;

	for (struct rest_conn *c = s->conns; c; c = c->next)
		if (c->deadline != 0 && c->deadline <= now) {
			conn_drop(c);
			dropped = true;
		}
	if (dropped)
		server_process(s);
	reaper_arm(s);
	return 0;
}

static int server_attach_event(struct rest_server *s, sd_event *event)
{
	const union MHD_DaemonInfo *info;
	int r;

	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info)
		return -EIO;
	r = sd_event_add_io(event, &s->io, info->epoll_fd, EPOLLIN, on_io, s);
	if (r < 0)
		return r;
	/* Accuracy 1 µs: sd-event's default (250 ms) would delay MHD's "run again now". */
	r = sd_event_add_time(event, &s->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, s);
	if (r < 0)
		return r;
	r = sd_event_add_defer(event, &s->kick, on_kick, s);
	if (r < 0)
		return r;
	(void)sd_event_source_set_enabled(s->kick, SD_EVENT_OFF);
	r = sd_event_add_time(event, &s->reaper, CLOCK_MONOTONIC, UINT64_MAX, 0, on_reaper, s);
	if (r < 0)
		return r;
	(void)sd_event_source_set_enabled(s->reaper, SD_EVENT_OFF);
	reaper_arm(s);
	server_process(s);
	return 0;
}

/* ---- Requests ------------------------------------------------------------------------------ */

struct manager *rest_request_manager(const struct rest_request *req)
{
	return req->server->manager;
}

const struct route_match *rest_request_match(const struct rest_request *req)
{
	return &req->match;
}

const char *rest_request_body(const struct rest_request *req, size_t *ret_size)
{
	if (ret_size)
		*ret_size = req->body_size;
	return req->body ?: "";
}

const char *rest_request_header(const struct rest_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *rest_request_query(const struct rest_request *req, const char *key, bool *ret_present)
{
	const char *value = NULL;
	size_t len;
	bool present;

	present = MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key),
						&value, &len) == MHD_YES;
	if (ret_present)
		*ret_present = present;
	return value;
}

static enum MHD_Result query_append(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	FILE *f = cls;

	fprintf(f, "%c%s%s%s", ftell(f) == 0 ? '?' : '&', key, value ? "=" : "", strempty(value));
	return MHD_YES;
}

char *rest_request_query_string(const struct rest_request *req)
{
	char *s = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&s, &size);

	if (!f)
		return NULL;
	(void)MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_append, f);
	if (fclose(f) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

const char *rest_request_url(const struct rest_request *req)
{
	return req->url;
}

bool rest_request_is_head(const struct rest_request *req)
{
	return streq(req->method, MHD_HTTP_METHOD_HEAD);
}

static ssize_t no_content(void *cls, uint64_t pos, char *buf, size_t max)
{
	return MHD_CONTENT_READER_END_OF_STREAM;
}

static void suspended_unlink(struct rest_request *req)
{
	struct rest_server *s = req->server;

	if (req->prev)
		req->prev->next = req->next;
	else
		s->suspended = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
	req->suspended = false;
}

void rest_request_suspend(struct rest_request *req)
{
	struct rest_server *s = req->server;

	if (req->replied || req->suspended)
		return;
	MHD_suspend_connection(req->conn);
	req->suspended = true;
	req->next = s->suspended;
	if (s->suspended)
		s->suspended->prev = req;
	s->suspended = req;
}

/* Queues `resp` (NULL: none could be made) as the request's one answer. A suspended request is
 * resumed: MHD then sends what was queued, from the loop (never from inside MHD's own
 * callbacks). */
static void queue(struct rest_request *req, unsigned status, const char *content_type,
		  struct MHD_Response *resp, const char *header, const char *value)
{
	if (req->replied) {
		log_error("REST: %s %s answered twice, ignoring the second answer.", req->method,
			  req->url);
		if (resp)
			MHD_destroy_response(resp);
		return;
	}
	req->replied = true;
	if (!resp) {
		req->failed = true;
	} else {
		if (content_type)
			(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
						      content_type);
		if (header)
			(void)MHD_add_response_header(resp, header, value);
		if (MHD_queue_response(req->conn, status, resp) != MHD_YES)
			req->failed = true;
		MHD_destroy_response(resp);
	}
	log_debug("REST: %s %s: %u%s", req->method, req->url, status,
		  req->failed ? " (not sent)" : "");
	if (req->suspended) {
		suspended_unlink(req);
		MHD_resume_connection(req->conn);
		(void)sd_event_source_set_enabled(req->server->kick, SD_EVENT_ONESHOT);
	}
}

/* The one answer of a request, from a string; takes `body`. */
static void respond(struct rest_request *req, unsigned status, const char *content_type, char *body,
		    const char *header, const char *value)
{
	struct MHD_Response *resp;

	if (req->replied) {
		log_error("REST: %s %s answered twice, ignoring the second answer.", req->method,
			  req->url);
		free(body);
		return;
	}
	resp = body ? MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE)
		    : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		free(body);
	queue(req, status, content_type, resp, header, value);
}

/* A text answered a piece at a time: MHD asks for the next piece only when the socket took the
 * last one, and each block is freed once sent. */
static ssize_t text_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	size_t n = om_text_read(cls, buf, max);

	return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void text_free(void *cls)
{
	om_text_done(cls);
	free(cls);
}

void rest_reply_text(struct rest_request *req, unsigned status, const char *content_type,
		     struct om_text *text)
{
	struct om_text *t = NULL;
	struct MHD_Response *resp = NULL;
	char *body = NULL;

	/* A text of one piece goes as a string: MHD sends it with the headers in one call. */
	if (text->len <= TEXT_PIECE) {
		if (om_text_take_string(text, &body, NULL) < 0)
			rest_reply_errorf(req, MHD_HTTP_INTERNAL_SERVER_ERROR, -ENOMEM,
					  "Out of memory.");
		else
			rest_reply(req, status, content_type, body);
		return;
	}
	t = malloc(sizeof(*t));
	if (t) {
		*t = *text;
		*text = (struct om_text){};
		resp = MHD_create_response_from_callback(t->len, TEXT_PIECE, text_reader, t,
							 text_free);
		if (!resp)
			text_free(t);
	}
	om_text_done(text);
	if (!resp) {
		rest_reply_errorf(req, MHD_HTTP_INTERNAL_SERVER_ERROR, -ENOMEM, "Out of memory.");
		return;
	}
	queue(req, status, content_type, resp, NULL, NULL);
}

void rest_reply(struct rest_request *req, unsigned status, const char *content_type, char *body)
{
	respond(req, status, content_type, body, NULL, NULL);
}

void rest_reply_unsized(struct rest_request *req, unsigned status, const char *content_type)
{
	/* MHD sends no Content-Length for an unknown size, and no content to a HEAD. */
	queue(req, status, content_type,
	      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, no_content, NULL, NULL),
	      NULL, NULL);
}

void rest_reply_redirect(struct rest_request *req, unsigned status, const char *location)
{
	respond(req, status, NULL, NULL, MHD_HTTP_HEADER_LOCATION, location);
}

void rest_reply_json(struct rest_request *req, unsigned status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	json_decref(j);
	if (!text) {
		rest_reply_errorf(req, MHD_HTTP_INTERNAL_SERVER_ERROR, -ENOMEM, "Out of memory.");
		return;
	}
	respond(req, status, REST_JSON, text, NULL, NULL);
}

/* With one header (`header`: value), or none (NULL). */
static void reply_error_body(struct rest_request *req, unsigned status, int r, const char *message,
			     const char *header, const char *value)
{
	const struct dm_error_entry *entry = dm_error_lookup(r);
	_cleanup_free_ char *name = strdup_printf(DM_ERROR_PREFIX "%s", entry->name);
	json_t *j = name ? json_pack("{s:s,s:s}", "error", name, "message", message) : NULL;
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	/* Without memory for a body, the status alone still says what happened. */
	respond(req, status, text ? REST_JSON : NULL, text, header, value);
}

void rest_reply_error(struct rest_request *req, int r, dm_error *e)
{
	const struct dm_error_entry *entry = dm_error_lookup(r);

	/* The message D-Bus gives (bus_set_error()): the logic's own, else strerror. */
	reply_error_body(req, entry->http_status, r,
			 e && e->message ? e->message : strerror(r < 0 ? -r : r), NULL, NULL);
	if (e)
		dm_error_done(e);
}

void rest_reply_errorf(struct rest_request *req, unsigned status, int r, const char *fmt, ...)
{
	_cleanup_free_ char *message = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	reply_error_body(req, status, r, message ?: "Out of memory.", NULL, NULL);
}

static void reply_not_allowed(struct rest_request *req)
{
	char allow[ROUTE_ALLOW_MAX];

	route_allow_header(req->match.allowed, allow);
	_cleanup_free_ char *message = strdup_printf("%s %s is not possible; this path takes %s.",
						     req->method, req->url, allow);
	reply_error_body(req, MHD_HTTP_METHOD_NOT_ALLOWED, -EINVAL, message ?: "Out of memory.",
			 MHD_HTTP_HEADER_ALLOW, allow);
}

bool rest_request_admit_read(struct rest_request *req, uint64_t size)
{
	struct rest_server *s = req->server;

	if (size <= LARGE_READ_BYTES || req->large)
		return true;
	if (s->large_reads < LARGE_READS) {
		s->large_reads++;
		req->large = true;
		return true;
	}
	log_debug("REST: %s %s refused: %u large reads under way.", req->method, req->url,
		  s->large_reads);
	reply_error_body(req, MHD_HTTP_SERVICE_UNAVAILABLE, -EUSERS,
			 "Too many large reads under way: retry after " LARGE_READS_RETRY_AFTER
			 " s.",
			 MHD_HTTP_HEADER_RETRY_AFTER, LARGE_READS_RETRY_AFTER);
	return false;
}

static void reply_too_large(struct rest_request *req)
{
	rest_reply_errorf(req, MHD_HTTP_CONTENT_TOO_LARGE, -EINVAL,
			  "The request body is larger than %d bytes.", REST_BODY_MAX);
}

/* What the headers alone decide: the route, whether writes are on, the announced size. */
static void request_check(struct rest_request *req)
{
	const char *length;
	int r;

	r = route_match(req->method, req->url, &req->match);
	if (r == -ENOENT)
		rest_reply_errorf(req, MHD_HTTP_NOT_FOUND, -EINVAL, "No such path: %s", req->url);
	else if (r == -EOPNOTSUPP)
		reply_not_allowed(req);
	else if (r == -EINVAL)
		rest_reply_errorf(req, MHD_HTTP_BAD_REQUEST, -EINVAL,
				  "The path %s holds a malformed percent-escape.", req->url);
	else if (r < 0)
		rest_reply_errorf(req, MHD_HTTP_INTERNAL_SERVER_ERROR, r, "Cannot route %s: %s",
				  req->url, strerror(-r));
	if (r < 0)
		return;

	if (route_method_writes(req->match.route->method) && !req->server->allow_writes) {
		rest_reply_errorf(
		    req, MHD_HTTP_FORBIDDEN, -EPERM,
		    "REST writes are disabled: dynmond refuses %s over HTTP unless it "
		    "runs with --rest-allow-writes (anyone who can reach the port could "
		    "then load code into the kernel). Use dynmonctl or D-Bus instead.",
		    req->method);
		return;
	}
	length = rest_request_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (length && strtoull(length, NULL, 10) > REST_BODY_MAX)
		reply_too_large(req);
}

static enum MHD_Result request_begin(struct rest_server *s, struct MHD_Connection *conn,
				     const char *url, const char *method, void **con_cls)
{
	struct rest_request *req = calloc(1, sizeof(*req));

	if (!req)
		return MHD_NO;
	/* From here on, on_completed() frees it, whatever happens. */
	*con_cls = req;
	req->server = s;
	req->conn = conn;
	req->method = strdup(method);
	req->url = strdup(url);
	if (!req->method || !req->url)
		return MHD_NO;
	log_debug("REST: %s %s", method, url);
	request_check(req);
	return req->failed ? MHD_NO : MHD_YES;
}

/* Gathers the body; past the limit it is dropped and the answer is 413. */
static void request_take_body(struct rest_request *req, const char *data, size_t size)
{
	char *body;

	if (req->too_large || req->no_memory)
		return;
	if (req->body_size + size > REST_BODY_MAX) {
		req->too_large = true;
		free(req->body);
		req->body = NULL;
		req->body_size = 0;
		return;
	}
	body = realloc(req->body, req->body_size + size + 1);
	if (!body) {
		req->no_memory = true;
		return;
	}
	memcpy(body + req->body_size, data, size);
	req->body_size += size;
	body[req->body_size] = '\0';
	req->body = body;
}

static void request_run(struct rest_request *req)
{
	if (req->too_large)
		reply_too_large(req);
	else if (req->no_memory)
		rest_reply_errorf(req, MHD_HTTP_INTERNAL_SERVER_ERROR, -ENOMEM, "Out of memory.");
	else
		req->server->dispatch(req);
	if (!req->replied && !req->suspended)
		rest_reply_errorf(req, MHD_HTTP_INTERNAL_SERVER_ERROR, -EIO,
				  "The handler of %s %s gave no answer.", req->method, req->url);
}

/* MHD calls this with the headers first, then with each piece of the body, then with none
 * left; once more after a resume if no answer is queued (which cannot happen here). */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct rest_request *req = *con_cls;

	if (!req)
		return request_begin(cls, conn, url, method, con_cls);
	if (*upload_data_size > 0) {
		request_take_body(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!req->replied && !req->suspended) {
		struct rest_conn *c = conn_of(conn);

		/* The request is all in: the deadline has done its work. */
		if (c)
			c->deadline = 0;
		request_run(req);
	}
	return req->failed ? MHD_NO : MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct rest_request *req = *con_cls;
	struct rest_conn *c = conn_of(conn);

	/* A kept-alive connection's next request has the same time to come in. */
	if (c)
		conn_expect_request(c);
	if (!req)
		return;
	if (req->suspended)
		suspended_unlink(req);
	if (req->large)
		req->server->large_reads--;
	route_match_done(&req->match);
	free(req->method);
	free(req->url);
	free(req->body);
	free(req);
	*con_cls = NULL;
}

/* ---- Listening ----------------------------------------------------------------------------- */

/* Paths are decoded segment by segment by the router (route_match()): MHD must leave them as
 * they came, or "%2F" would become a separator. */
static size_t unescape_none(void *cls, struct MHD_Connection *conn, char *s)
{
	return strlen(s);
}

_printf_(2, 0) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	_cleanup_free_ char *message = NULL;
	size_t n;

	if (vasprintf(&message, fmt, ap) < 0)
		return;
	n = strlen(message);
	while (n > 0 && message[n - 1] == '\n')
		message[--n] = '\0';
	/* Once MHD runs, what it says is about some peer (a connection reset, a malformed request,
	 * the connection limit): anyone can cause as many as they like, so not above debug. */
	log_full_errno(((struct rest_server *)cls)->started ? LOG_DEBUG : LOG_ERR, 0,
		       "libmicrohttpd: %s", message);
}

/* The first listening stream socket systemd passed, or -1. */
static int systemd_listen_fd(void)
{
	int n = sd_listen_fds(true);

	if (n < 0) {
		log_warning_errno(n, "Failed to read the sockets passed by systemd, ignoring: %m");
		return -1;
	}
	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++)
		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0)
			return fd;
	if (n > 0)
		log_warning("systemd passed %d sockets, none a listening stream socket, ignoring.",
			    n);
	return -1;
}

/* "ADDR:PORT" or "[ADDR6]:PORT"; ADDR may be a name ("localhost"). */
static int address_resolve(const char *address, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	_cleanup_free_ char *host = NULL;
	const char *port;
	int r;

	if (address[0] == '[') {
		const char *end = strchr(address, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		host = strndup(address + 1, end - address - 1);
		port = end + 2;
	} else {
		const char *colon = strchr(address, ':');

		/* An IPv6 address needs its brackets: where would its port start? */
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
		host = strndup(address, colon - address);
		port = colon + 1;
	}
	if (!host)
		return -ENOMEM;
	if (!*host || !*port)
		return -EINVAL;
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0)
		return log_error_errno(EADDRNOTAVAIL, "Cannot resolve REST address %s: %s", address,
				       gai_strerror(r));
	memcpy(ret, ai->ai_addr, ai->ai_addrlen);
	*ret_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* The port is ours alone. SO_REUSEADDR lets a restarted daemon bind at once, past the TIME_WAIT
 * of its predecessor's connections; SO_REUSEPORT (which MHD's LISTENING_ADDRESS_REUSE also sets)
 * would let a second daemon bind the same port and take part of the requests. */
static int listen_socket(const char *address)
{
	struct sockaddr_storage sa = {};
	socklen_t len = 0;
	_cleanup_close_ int fd = -1;
	int one = 1, r;

	r = address_resolve(address, &sa, &len);
	if (r == -EINVAL)
		return log_error_errno(r,
				       "Invalid REST address \"%s\": expected ADDR:PORT, "
				       "[ADDR6]:PORT or none.",
				       address);
	if (r < 0)
		return r;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_error_errno(errno, "Cannot create the REST socket: %m");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (sa.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0))
		return log_error_errno(errno, "Cannot set up the REST socket: %m");
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		if (errno == EADDRINUSE)
			return log_error_errno(errno,
					       "Cannot serve REST on %s: the address is in use "
					       "(another dynmond?). Stop it, or choose another "
					       "--rest-address.",
					       address);
		return log_error_errno(errno, "Cannot serve REST on %s: %m", address);
	}
	if (listen(fd, SOMAXCONN) < 0)
		return log_error_errno(errno, "Cannot listen on %s: %m", address);
	return TAKE_FD(fd);
}

/* MHD in "external epoll" mode: no thread of its own; the loop runs it (server_process()). It
 * serves a socket we made or systemd passed; it closes it when it stops. */
static int server_start(struct rest_server *s, const char *address, int systemd_fd)
{
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const char *where = systemd_fd >= 0 ? "the socket passed by systemd" : address;
	struct sockaddr_storage sa = {};
	socklen_t len = sizeof(sa);
	_cleanup_close_ int owned = -1;
	int fd = systemd_fd;

	if (fd >= 0) {
		/* MHD accepts until EAGAIN: a blocking socket would stall the loop. */
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
			return log_error_errno(errno,
					       "Failed to set up the socket from systemd: %m");
	} else {
		fd = owned = listen_socket(address);
		if (fd < 0)
			return fd;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;

	/* The logger first: MHD prints what the options before it say to stderr, and says so. */
	s->daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_UNESCAPE_CALLBACK,
	    unescape_none, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_SEC,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT_PER_ADDRESS,
	    MHD_OPTION_END);
	if (!s->daemon)
		return log_error_errno(EADDRNOTAVAIL, "Failed to serve REST on %s.", where);
	/* MHD closes the socket when it stops. */
	owned = -1;
	s->started = true;
	log_info("REST API on %s%s.", where, s->allow_writes ? ", writes enabled" : ", read-only");
	return 0;
}

int rest_server_new(struct manager *m, const char *address, bool allow_writes,
		    rest_dispatch_fn dispatch, struct rest_server **ret)
{
	_cleanup_(rest_server_freep) struct rest_server *s = NULL;
	int fd, r;

	*ret = NULL;
	fd = systemd_listen_fd();
	if (streq_ptr(address, "none")) {
		if (fd >= 0)
			log_warning(
			    "REST is off (--rest-address=none): the socket passed by systemd "
			    "stays unused.");
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return log_oom();
	s->manager = m;
	s->dispatch = dispatch;
	s->allow_writes = allow_writes;
	r = server_start(s, address ?: REST_DEFAULT_ADDRESS, fd);
	if (r < 0)
		return r;
	r = server_attach_event(s, m->event);
	if (r < 0)
		return log_error_errno(r, "Failed to put the REST server on the event loop: %m");
	if (allow_writes)
		log_warning(
		    "REST writes are enabled: whoever can reach the port can inject code into "
		    "the kernel.");
	*ret = TAKE_PTR(s);
	return 0;
}

void rest_server_free(struct rest_server *s)
{
	if (!s)
		return;
	while (s->suspended)
		rest_reply_errorf(s->suspended, MHD_HTTP_SERVICE_UNAVAILABLE, -ECANCELED,
				  "dynmond is stopping.");
	if (s->daemon) {
		/* Resumed connections leave MHD's suspended list only when it runs. */
		(void)MHD_run(s->daemon);
		MHD_stop_daemon(s->daemon);
	}
	sd_event_source_disable_unref(s->io);
	sd_event_source_disable_unref(s->timer);
	sd_event_source_disable_unref(s->kick);
	sd_event_source_disable_unref(s->reaper);
	free(s);
}
