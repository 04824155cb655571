/* SPDX-License-Identifier: Apache-2.0 */
#include <linux/capability.h>

#include "bus-util.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

int bus_set_error(sd_bus_error *ret_error, int r, const dm_error *e)
{
	const struct dm_error_entry *entry = dm_error_lookup(r);
	_cleanup_free_ char *name = strdup_printf(DM_ERROR_PREFIX "%s", entry->name);

	if (!name)
		return -ENOMEM;
	if (e && e->message)
		return sd_bus_error_set(ret_error, name, e->message);
	return sd_bus_error_setf(ret_error, name, "%s", strerror(r < 0 ? -r : r));
}

int bus_check_privileged(sd_bus_message *m, const char *action, sd_bus_error *ret_error)
{
	sd_bus_creds *creds = NULL;
	uid_t uid = (uid_t)-1;
	int r;

	r = sd_bus_query_sender_creds(m,
				      SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID |
					      SD_BUS_CREDS_EFFECTIVE_CAPS | SD_BUS_CREDS_AUGMENT,
				      &creds);
	if (r >= 0) {
		if (sd_bus_creds_get_euid(creds, &uid) < 0)
			(void)sd_bus_creds_get_uid(creds, &uid);
		if (uid == 0 || sd_bus_creds_has_effective_cap(creds, CAP_NET_ADMIN) > 0 ||
		    sd_bus_creds_has_effective_cap(creds, CAP_BPF) > 0) {
			sd_bus_creds_unref(creds);
			return 0;
		}
		sd_bus_creds_unref(creds);
	}
	return sd_bus_error_setf(ret_error, DM_ERROR_PREFIX "PermissionDenied",
				 "Only root or a caller with CAP_NET_ADMIN or CAP_BPF may %s.",
				 action);
}
