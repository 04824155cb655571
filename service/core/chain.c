/* SPDX-License-Identifier: Apache-2.0 */
#include "chain.h"

static const char *const where_names[_CHAIN_WHERE_MAX] = {
    [CHAIN_AUTO] = "auto",     [CHAIN_FIRST] = "first", [CHAIN_LAST] = "last",
    [CHAIN_BEFORE] = "before", [CHAIN_AFTER] = "after",
};

const char *chain_where_to_string(enum chain_where w)
{
	return w < _CHAIN_WHERE_MAX ? where_names[w] : NULL;
}

int chain_position_parse(const char *position, const char *before, const char *after,
			 struct chain_position *ret, dm_error *error)
{
	if (position && (before || after))
		return dm_error_set(error, -EINVAL, "position and %s cannot be used together.",
				    before ? "before" : "after");
	if (before && after)
		return dm_error_set(error, -EINVAL, "after and before cannot be used together.");
	if (before || after) {
		if (isempty(before ?: after))
			return dm_error_set(error, -EINVAL, "%s names no monitor.",
					    before ? "before" : "after");
		*ret =
		    (struct chain_position){before ? CHAIN_BEFORE : CHAIN_AFTER, before ?: after};
		return 0;
	}
	for (int w = CHAIN_AUTO; w <= CHAIN_LAST; w++)
		if (!position || streq(position, where_names[w])) {
			*ret = (struct chain_position){position ? w : CHAIN_AUTO, NULL};
			return 0;
		}
	return dm_error_set(error, -EINVAL, "Unknown position \"%s\" (known: auto, first, last).",
			    position);
}

/* The first free rank walking from `from` towards `to` (exclusive bounds lo/hi). */
static int walk(int64_t from, uint32_t lo, uint32_t hi, int step, chain_rank_free_fn is_free,
		void *userdata, uint32_t *ret)
{
	for (int64_t r = from; r > lo && r < hi; r += step) {
		int k = is_free ? is_free((uint32_t)r, userdata) : 1;

		if (k < 0)
			return k;
		if (k > 0) {
			*ret = (uint32_t)r;
			return 0;
		}
	}
	return -ENOSPC;
}

/* The free rank nearest `start` in (lo, hi): first walking `dir`, then the other way. */
static int around(uint32_t start, uint32_t lo, uint32_t hi, int dir, chain_rank_free_fn is_free,
		  void *userdata, uint32_t *ret)
{
	int r = walk(start, lo, hi, dir, is_free, userdata, ret);

	return r == -ENOSPC ? walk((int64_t)start - dir, lo, hi, -dir, is_free, userdata, ret) : r;
}

int chain_pick_rank(const uint32_t *ranks, size_t n, enum chain_where where, size_t other,
		    chain_rank_free_fn is_free, void *userdata, uint32_t *ret)
{
	uint32_t lo = CHAIN_RANK_MIN - 1, hi = CHAIN_RANK_MAX + 1;
	size_t at;

	if (n == 0)
		return around(CHAIN_RANK_START, lo, hi, 1, is_free, userdata, ret);
	if (where == CHAIN_FIRST)
		return around(ranks[0] > lo + CHAIN_RANK_STEP ? ranks[0] - CHAIN_RANK_STEP : lo + 1,
			      lo, ranks[0], -1, is_free, userdata, ret);
	/* Polycube's auto knows no order between two monitors (polycubed refuses it): dynmon
	 * puts the newcomer last, in the order the attaches come. */
	if (where == CHAIN_LAST || where == CHAIN_AUTO)
		return around(ranks[n - 1] + CHAIN_RANK_STEP < hi ? ranks[n - 1] + CHAIN_RANK_STEP
								  : hi - 1,
			      ranks[n - 1], hi, 1, is_free, userdata, ret);
	at = where == CHAIN_BEFORE ? other : other + 1; /* the index the newcomer takes */
	if (at > 0)
		lo = ranks[at - 1];
	if (at < n)
		hi = ranks[at];
	return around(lo + (hi - lo) / 2, lo, hi, 1, is_free, userdata, ret);
}
