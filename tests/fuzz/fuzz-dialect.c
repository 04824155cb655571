/* SPDX-License-Identifier: Apache-2.0 */
/* The Polycube dialect rewrite: any code, for either path and hook, translates or is refused
 * with a message; a translation keeps the user's line numbers ahead of it. */
#include "dialect.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dm_translation t = {};
	_cleanup_free_ char *code = NULL, *out = NULL;
	dm_error e = DM_ERROR_NULL;
	enum dm_path path;
	enum dm_hook hook;
	int r;

	if (size < 1)
		return 0;
	/* The first byte chooses the path and the hook; the rest is the code. */
	path = data[0] & 1 ? DM_PATH_EGRESS : DM_PATH_INGRESS;
	hook = data[0] & 2 ? DM_HOOK_XDP : DM_HOOK_TC;
	code = fuzz_string(data + 1, size - 1);
	fuzz_quiet();
	r = dm_dialect_prepare(code, path, hook, data[0] >> 2 & 7, &t, &out, &e);
	fuzz_assert(r >= 0 || e.message || r == -ENOMEM, "refused (%d) without a message", r);
	fuzz_assert(r < 0 || out, "no code out of a success");
	dm_error_done(&e);
	dm_translation_done(&t);
	return 0;
}
