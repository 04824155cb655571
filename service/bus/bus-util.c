/* SPDX-License-Identifier: Apache-2.0 */
#include <linux/capability.h>

#include "bus-util.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

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

/* Decides on what the bus vouches for only. Credentials read from /proc (sd-bus's "augmented"
 * ones) are racy: a caller can send, then exec a setuid or file-capability binary before the
 * daemon looks. sd_bus_query_sender_privilege() honours capabilities only when the bus itself
 * reports them, and otherwise the uid the bus recorded at connection time: on dbus-daemon, that
 * means root. */
int bus_check_privileged(sd_bus_message *m, const char *action, sd_bus_error *ret_error)
{
	if (sd_bus_query_sender_privilege(m, CAP_NET_ADMIN) > 0 ||
	    sd_bus_query_sender_privilege(m, CAP_BPF) > 0)
		return 0;
	return sd_bus_error_setf(
	    ret_error, DM_ERROR_PREFIX "PermissionDenied",
	    "Only root (or a caller whose CAP_NET_ADMIN or CAP_BPF the bus vouches "
	    "for) may %s.",
	    action);
}
