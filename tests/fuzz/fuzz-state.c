/* SPDX-License-Identifier: Apache-2.0 */
/* Loading the saved state (STATE_DIR/monitors.json) from whatever the file holds, as
 * state_load() reads it (JSON without duplicate keys, then state_from_json()), and the round
 * trip of what it keeps: saving those monitors and loading them again gives the same. */
#include <jansson.h>

#include "fuzz.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_monitor *l = NULL, *again = NULL;
	size_t n = 0, n_again = 0;
	json_t *root, *j, *j2;
	int r;

	fuzz_quiet();
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!root)
		return 0;
	r = state_from_json(root, &l, &n);
	json_decref(root);
	if (r < 0)
		return 0;
	j = state_to_json(l, n);
	fuzz_assert(j, "no JSON for what was loaded");
	r = state_from_json(j, &again, &n_again);
	fuzz_assert(r == 0 && n_again == n, "the saved document loads %zu of %zu monitors (%d)",
		    n_again, n, r);
	j2 = state_to_json(again, n_again);
	fuzz_assert(j2 && json_equal(j, j2), "the round trip changed the monitors");
	json_decref(j);
	json_decref(j2);
	state_monitors_free(l, n);
	state_monitors_free(again, n_again);
	return 0;
}
