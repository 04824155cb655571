/* SPDX-License-Identifier: Apache-2.0 */
#include <fnmatch.h>

#include "files-plan.h"
#include "util.h"

static bool reattach_needed(const struct files_want *w, const struct files_have *h)
{
	/* Detached because the interface was missing: attached once it is there. */
	if (!h->ifname)
		return w->if_exists;
	return !streq(h->ifname, w->ifname) || !streq_ptr(h->place, w->place);
}

unsigned files_plan(const struct files_want *w, const struct files_have *h)
{
	unsigned a = 0;

	if (!h->exists)
		return FILES_CREATE;
	if (!h->from_file)
		return FILES_CONFLICT;
	if (h->creating || h->busy)
		return FILES_BUSY;
	if (h->mode != w->mode)
		return FILES_RECREATE;
	if (!streq_ptr(h->config, w->config))
		a |= FILES_INJECT;
	else if (h->log_level != w->log_level)
		a |= FILES_LOG_LEVEL;
	if (reattach_needed(w, h))
		a |= FILES_REATTACH;
	return a;
}

char *files_instance_name(const char *template_name, const char *ifname)
{
	return strdup_printf("%s:%s", template_name, ifname);
}

bool files_patterns_match(char *const *patterns, const char *ifname)
{
	for (; patterns && *patterns; patterns++)
		if (fnmatch(*patterns, ifname, 0) == 0)
			return true;
	return false;
}
