/* SPDX-License-Identifier: Apache-2.0 */
/* The REST API over HTTP: libmicrohttpd driven by the manager's event loop (its epoll fd is an
 * IO source there, its timeout a timer), so that every request runs on the loop's thread, as
 * D-Bus calls do, and ends in the same logic functions. rest.c is the HTTP side (sockets,
 * requests, bodies, replies); rest-api.c the routes' handlers, handed to it as `dispatch`. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bounds.h"
#include "errors.h"
#include "route.h"

struct manager;
struct rest_server;
struct rest_request;

#define REST_DEFAULT_ADDRESS "127.0.0.1:9000"
/* Larger request bodies get 413: the largest is a dataplane configuration. */
#define REST_BODY_MAX DM_CONFIG_TEXT_MAX
#define REST_JSON "application/json"
#define REST_PROMETHEUS_TEXT "text/plain; version=0.0.4; charset=utf-8"

/* Runs the handler of a request's route: every request ends in one. */
typedef void (*rest_dispatch_fn)(struct rest_request *req);

/* Serves on the first stream socket systemd passed (sd_listen_fds()), else listens on `address`
 * ("ADDR:PORT", "[ADDR6]:PORT"; NULL for the default). "none" turns REST off: *ret is NULL.
 * Unless `allow_writes`, POST, PUT and DELETE are refused with 403. */
/* Answers what still waits with 503, then closes every connection. NULL allowed. */
void rest_server_free(struct rest_server *s);
int rest_server_new(struct manager *m, const char *address, bool allow_writes,
		    rest_dispatch_fn dispatch, struct rest_server **ret);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rest_server *, rest_server_free);

/* What a handler knows of its request. */
struct manager *rest_request_manager(const struct rest_request *req);
const struct route_match *rest_request_match(const struct rest_request *req);
/* The body, NUL-terminated ("" when there is none). */
const char *rest_request_body(const struct rest_request *req, size_t *ret_size);
const char *rest_request_header(const struct rest_request *req, const char *name);
/* A query argument as it came (not decoded): NULL when absent; *ret_present also says whether
 * a bare "?completion" was there. */
const char *rest_request_query(const struct rest_request *req, const char *key, bool *ret_present);
/* The query as it came, "?a=b&c", or "" without one. */
char *rest_request_query_string(const struct rest_request *req);
/* The path as it came, without the query. */
const char *rest_request_url(const struct rest_request *req);

/* Answers; each request gets exactly one. They take `body` / `j`, which may be NULL (an empty
 * body; for JSON, a failed allocation: 500). */
void rest_reply(struct rest_request *req, unsigned status, const char *content_type, char *body);
struct om_text;
/* The same with a text's blocks (taken; `text` is empty after), sent a piece at a time as the
 * client reads, each block freed once sent. */
void rest_reply_text(struct rest_request *req, unsigned status, const char *content_type,
		     struct om_text *text);
void rest_reply_json(struct rest_request *req, unsigned status, json_t *j);
/* The answer of a HEAD whose GET would change what it reads: the headers, without the content's
 * length, which only reading would tell (RFC 9110 8.6, 9.3.2). */
void rest_reply_unsized(struct rest_request *req, unsigned status, const char *content_type);
bool rest_request_is_head(const struct rest_request *req);
/* A redirect (308 keeps the method and the body) to `location`. */
void rest_reply_redirect(struct rest_request *req, unsigned status, const char *location);
/* A logic call's failure: the status of its named error, {"error", "message"} with the message
 * D-Bus would give. Releases `e`. */
void rest_reply_error(struct rest_request *req, int r, dm_error *e);
/* A failure HTTP names itself (404 no such path, 413 too large...), with the name of `r`. */
void rest_reply_errorf(struct rest_request *req, unsigned status, int r, const char *fmt, ...)
    _printf_(4, 5);

/* Answers later: the connection waits without blocking the loop until a rest_reply*(), which
 * may come from any callback on the loop. Only from a handler, once its answer is on the way. */
void rest_request_suspend(struct rest_request *req);
/* Before a read whose maps can hold `size` bytes (dm_dataplane_read_size()): true when it may
 * go on (a large one is counted until the request ends); false when too many large reads are
 * under way, the request then answered 503 TooManyReads with Retry-After. */
bool rest_request_admit_read(struct rest_request *req, uint64_t size);
