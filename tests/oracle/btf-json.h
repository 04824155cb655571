/* SPDX-License-Identifier: Apache-2.0 */
/* The test oracle of the daemon's JSON: raw map keys and values decoded through BTF into a
 * jansson tree. dynmond streams the same text (format/btf-jsonw.c) without the tree; the unit
 * tests and the benchmarks compare the two. */
#pragma once

#include <jansson.h>

#include "btf-number.h"

/* Decodes the bytes at `data` (btf__resolve_size(btf, type_id) of them) into the JSON tree of
 * the text dynmond streams (btf-jsonw.h says how each kind is shown; here a u64 above
 * INT64_MAX is a JSON real, the one place jansson's integers cannot follow). `network_order` as
 * there: __be* integers in network byte order, else as the host reads them.
 * Returns -EINVAL for a type that cannot be decoded (void, func, fwd) or a bad id, -ENOMEM. */
int btf_json_decode(const struct btf *btf, uint32_t type_id, const void *data, bool network_order,
		    json_t **ret);
