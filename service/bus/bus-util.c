/* SPDX-License-Identifier: Apache-2.0 */
#include <linux/capability.h>
#include <systemd/sd-event.h>

#include "bus-util.h"
#include "log.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorization's flag: polkit may ask the user (through an agent) before answering. */
#define POLKIT_ALLOW_USER_INTERACTION 1u
/* How long polkit may take: a person typing a password takes longer than sd-bus's 25 s default. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (5ULL * 60 * 1000 * 1000)

int bus_set_error(sd_bus_error *ret_error, int r, dm_error *e)
{
	const struct dm_error_entry *entry = dm_error_lookup(r);
	_cleanup_free_ char *name = strdup_printf(DM_ERROR_PREFIX "%s", entry->name);
	int q;

	if (!name)
		q = -ENOMEM;
	else if (e && e->message)
		q = sd_bus_error_set(ret_error, name, e->message);
	else
		q = sd_bus_error_setf(ret_error, name, "%s", strerror(r < 0 ? -r : r));
	if (e)
		dm_error_done(e);
	return q;
}

void bus_reply_deferred(sd_bus_message *call, int r, dm_error *e,
			int (*ok)(sd_bus_message *call, const void *arg), const void *arg)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = call;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

	if (!m) {
		if (e)
			dm_error_done(e);
		return;
	}
	if (r < 0) {
		bus_set_error(&error, r, e);
		r = sd_bus_reply_method_error(m, &error);
	} else {
		r = ok ? ok(m, arg) : sd_bus_reply_method_return(m, NULL);
	}
	if (r < 0)
		log_debug_errno(r, "Failed to answer %s after compiling, ignoring: %m",
				sd_bus_message_get_member(m) ?: "a call");
}

/* One question to polkit about one request. It lives from the request's first dispatch until
 * the handler, dispatched again with polkit's answer, takes that answer (or until nobody did). */
struct polkit_query {
	sd_bus_message *request;
	char *action;
	sd_bus_slot *slot;	 /* the pending CheckAuthorization; NULL once answered */
	sd_event_source *expire; /* frees an answer no handler came back for */
	bool authorized, challenge;
	char *failure; /* why polkit gave no answer (its D-Bus error), or NULL */
	struct polkit_query *next;
};

/* The daemon has one bus connection, hence one list of questions in flight. */
static struct polkit_query *queries;

static void polkit_query_free(struct polkit_query *q)
{
	for (struct polkit_query **p = &queries; *p; p = &(*p)->next)
		if (*p == q) {
			*p = q->next;
			break;
		}
	sd_bus_slot_unref(q->slot);
	sd_event_source_disable_unref(q->expire);
	sd_bus_message_unref(q->request);
	free(q->action);
	free(q->failure);
	free(q);
}

void bus_polkit_flush(void)
{
	while (queries)
		polkit_query_free(queries);
}

static struct polkit_query *polkit_query_find(sd_bus_message *m, const char *action)
{
	for (struct polkit_query *q = queries; q; q = q->next)
		if (q->request == m && streq(q->action, action))
			return q;
	return NULL;
}

static int polkit_expire(sd_event_source *s, void *userdata)
{
	polkit_query_free(userdata);
	return 0;
}

/* polkit answered (or the bus said it is not there): keep the answer, dispatch the request
 * again; its handler finds the answer in polkit_query_find(). */
static int polkit_answered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct polkit_query *q = userdata;
	sd_bus *bus = sd_bus_message_get_bus(q->request);
	int r;

	q->slot = sd_bus_slot_unref(q->slot);
	if (sd_bus_message_is_method_error(reply, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(reply);

		q->failure = strdup(e->name);
		log_debug("polkit gave no answer for %s: %s: %s", q->action, e->name,
			  e->message ? e->message : "-");
	} else {
		int authorized = 0, challenge = 0;

		r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
		if (r >= 0)
			r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
		if (r < 0)
			q->failure = strdup("an answer of the wrong type");
		q->authorized = r >= 0 && authorized;
		q->challenge = r >= 0 && challenge;
	}
	r = sd_bus_message_rewind(q->request, true);
	if (r >= 0)
		r = sd_bus_enqueue_for_read(bus, q->request);
	if (r >= 0)
		r = sd_event_add_defer(sd_bus_get_event(bus), &q->expire, polkit_expire, q);
	if (r >= 0)
		r = sd_event_source_set_priority(q->expire, SD_EVENT_PRIORITY_IDLE);
	if (r < 0) {
		log_warning_errno(r, "Failed to resume a request after polkit's answer: %m");
		(void)sd_bus_reply_method_errno(q->request, r, NULL);
		polkit_query_free(q);
	}
	return 0;
}

/* Asks polkit about the request's sender by its unique bus name ("system-bus-name"): polkit then
 * takes the uid from the bus, as we would, never from /proc. */
static int polkit_ask(sd_bus_message *m, const char *action)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	sd_bus *bus = sd_bus_message_get_bus(m);
	bool interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0;
	struct polkit_query *q;
	int r;

	r = sd_bus_message_new_method_call(bus, &call, POLKIT_NAME, POLKIT_PATH, POLKIT_INTERFACE,
					   "CheckAuthorization");
	if (r < 0)
		return r;
	r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s",
				  sd_bus_message_get_sender(m), action, 0,
				  interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, "");
	if (r < 0)
		return r;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->request = sd_bus_message_ref(m);
	q->action = strdup(action);
	q->next = queries;
	queries = q;
	if (!q->action) {
		polkit_query_free(q);
		return -ENOMEM;
	}
	r = sd_bus_call_async(bus, &q->slot, call, polkit_answered, q,
			      interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
	if (r < 0)
		polkit_query_free(q);
	return r;
}

static int refuse(sd_bus_error *ret_error, const char *what, const char *action, const char *why)
{
	return sd_bus_error_setf(ret_error, DM_ERROR_PREFIX "PermissionDenied",
				 "Only root (or a caller whose CAP_NET_ADMIN or CAP_BPF the bus "
				 "vouches for) may %s. polkit (%s): %s.",
				 what, action, why);
}

/* Decides on what the bus vouches for only. Credentials read from /proc (sd-bus's "augmented"
 * ones) are racy: a caller can send, then exec a setuid or file-capability binary before the
 * daemon looks. sd_bus_query_sender_privilege() honours capabilities only when the bus itself
 * reports them, and otherwise the uid the bus recorded at connection time: on dbus-daemon, that
 * means root. Everyone else is polkit's to decide, asked about the sender's unique name. */
int bus_verify_polkit_async(sd_bus_message *m, const char *action, const char *what,
			    sd_bus_error *ret_error)
{
	struct polkit_query *q;
	int r;

	if (sd_bus_query_sender_privilege(m, CAP_NET_ADMIN) > 0 ||
	    sd_bus_query_sender_privilege(m, CAP_BPF) > 0)
		return 1;

	q = polkit_query_find(m, action);
	if (q && q->slot)
		return 0; /* still asking (cannot happen: the request waits for the answer) */
	if (q) {
		_cleanup_free_ char *failure = TAKE_PTR(q->failure);
		bool authorized = q->authorized, challenge = q->challenge;

		polkit_query_free(q);
		if (authorized)
			return 1;
		if (failure)
			return refuse(ret_error, what, action, failure);
		if (challenge && !sd_bus_message_get_allow_interactive_authorization(m))
			return sd_bus_error_setf(ret_error,
						 SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
						 "polkit (%s) would ask for authentication to %s: "
						 "allow interactive authorization.",
						 action, what);
		return refuse(ret_error, what, action,
			      challenge ? "authentication did not succeed" : "not authorized");
	}

	r = polkit_ask(m, action);
	if (r < 0) {
		log_warning_errno(r, "Failed to ask polkit about %s: %m", action);
		return refuse(ret_error, what, action, "could not be asked");
	}
	return 0;
}
