/* SPDX-License-Identifier: Apache-2.0 */
/* Dataplane configuration parsing, either format, with its round trip: what parses gives a
 * normalized document that parses again into the same configuration (config.h's promise). */
#include <jansson.h>

#include "config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_string(data, size), *dump = NULL;
	_cleanup_(dm_config_freep) struct dm_config *c = NULL, *again = NULL;
	json_t *j = NULL, *j2 = NULL;
	dm_error e = DM_ERROR_NULL;
	int r;

	fuzz_quiet();
	r = dm_config_parse(text, &c, &e);
	dm_error_done(&e);
	if (r < 0)
		return 0;
	j = dm_config_to_json(c);
	fuzz_assert(j, "no JSON for a parsed configuration");
	dump = json_dumps(j, JSON_COMPACT);
	fuzz_assert(dump, "cannot dump the normalized configuration");
	r = dm_config_parse(dump, &again, &e);
	fuzz_assert(r >= 0, "the normalized document does not parse: %s\n%s",
		    e.message ?: strerror(-r), dump);
	j2 = dm_config_to_json(again);
	fuzz_assert(j2 && json_equal(j, j2), "the round trip changed the configuration:\n%s", dump);
	json_decref(j);
	json_decref(j2);
	return 0;
}
