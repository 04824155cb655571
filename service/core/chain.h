/* SPDX-License-Identifier: Apache-2.0 */
/* The order of the monitors on one interface, as Polycube's attach gives it: a position
 * (auto, first, last) or a place before/after another monitor. Each monitor of an interface
 * holds a rank; a lower rank is nearer the wire (polycubed's cubes[0]). The hooks run the
 * ranks in order on ingress and in reverse on egress, as polycubed chains transparent cubes.
 * Pure: no kernel here. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

enum chain_where {
	CHAIN_AUTO,
	CHAIN_FIRST,
	CHAIN_LAST,
	CHAIN_BEFORE,
	CHAIN_AFTER,
	_CHAIN_WHERE_MAX,
};

struct chain_position {
	enum chain_where where;
	const char *other; /* the monitor named by before/after; NULL otherwise */
};

#define CHAIN_POSITION_AUTO ((struct chain_position){CHAIN_AUTO, NULL})

/* Ranks 2..98 are tc priorities: dynmon's monitors see a packet before the filters of others
 * at priority 100 and above (the usual places, and tc's automatic 49152), and leave priority 1
 * (the most common explicit place) alone. The first monitor of an interface takes the middle,
 * first/last step CHAIN_RANK_STEP away from the ends, before/after take the middle of the gap:
 * a handful of monitors per interface in any order, dozens at most. */
#define CHAIN_RANK_MIN 2U
#define CHAIN_RANK_MAX 98U
#define CHAIN_RANK_START 50U
#define CHAIN_RANK_STEP 8U

/* polycubed's combination rules: `position` (auto, first, last; NULL is auto) excludes
 * `before` and `after`, which exclude each other. The strings are borrowed. */
int chain_position_parse(const char *position, const char *before, const char *after,
			 struct chain_position *ret, dm_error *error);
const char *chain_where_to_string(enum chain_where w);

/* Is `rank` free of filters that are not the chain's? */
typedef int (*chain_rank_free_fn)(uint32_t rank, void *userdata);

/* The rank for a monitor placed at `where` among the interface's `ranks` (ascending, n of
 * them); for before/after `other` is the index of that monitor in `ranks`. Skips ranks that
 * `is_free` (NULL: all are) says are taken. -ENOSPC when no free rank is left in the gap. */
int chain_pick_rank(const uint32_t *ranks, size_t n, enum chain_where where, size_t other,
		    chain_rank_free_fn is_free, void *userdata, uint32_t *ret);

/* tc priority of a rank on a path: ingress in rank order, egress in reverse (the same span). */
static inline uint32_t chain_tc_priority(uint32_t rank, int egress)
{
	return egress ? CHAIN_RANK_MIN + CHAIN_RANK_MAX - rank : rank;
}
