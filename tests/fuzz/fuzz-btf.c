/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile BTF: whatever libbpf accepts as BTF (btf__new()), each of its types is compiled into a
 * renderer (btf-jsonw.c) or refused, and a renderer writes any value of the type's size as
 * valid JSON (u64 above INT64_MAX exact: read here as reals), reading only those bytes (ASan
 * watches the rest). The input's first bit chooses network byte order for integers. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "btf-jsonw.h"
#include "fuzz.h"

#define MAX_TYPES 256
#define MAX_VALUE (64 * 1024)

static void render(const struct btf *btf, uint32_t id, bool network_order, const uint8_t *data,
		   size_t size)
{
	_cleanup_(btf_jsonw_freep) struct btf_jsonw *r = NULL;
	_cleanup_(jsonw_freep) struct jsonw *w = NULL;
	_cleanup_free_ uint8_t *value = NULL;
	_cleanup_free_ char *text = NULL;
	long long value_size = btf__resolve_size(btf, id);
	size_t len;
	json_t *j;

	if (value_size < 0 || value_size > MAX_VALUE ||
	    btf_jsonw_new(btf, id, network_order, &r) < 0)
		return;
	/* Exactly the type's size, on the heap: a read past it is ASan's to see. */
	value = malloc(value_size ?: 1);
	fuzz_assert(value && jsonw_new(NULL, &w) == 0, "out of memory");
	for (long long i = 0; i < value_size; i++)
		value[i] = data[(id + i) % size];
	jsonw_value(w);
	btf_jsonw_write(r, w, value);
	fuzz_assert(jsonw_take_string(w, &text, &len) == 0, "the writer failed");
	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
	fuzz_assert(j, "type %u rendered as invalid JSON: %s", id, text);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct btf *btf;
	uint32_t n;

	fuzz_quiet();
	libbpf_set_print(NULL);
	btf = btf__new(data, size);
	if (!btf)
		return 0;
	n = btf__type_cnt(btf);
	for (uint32_t id = 1; id < n && id <= MAX_TYPES; id++)
		render(btf, id, data[0] & 1, data, size);
	btf__free(btf);
	return 0;
}
