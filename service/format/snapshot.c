/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "snapshot.h"

void dm_map_snapshot_free(struct dm_map_snapshot *s)
{
	if (!s)
		return;
	free(s->keys);
	free(s->values);
	free(s);
}
