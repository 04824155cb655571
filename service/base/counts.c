/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "counts.h"

/* The index of key in t, or t->len; with the lock held. */
static size_t find(const struct dm_counts *t, const void *key)
{
	size_t i = 0;

	while (i < t->len && t->v[i].key != key)
		i++;
	return i;
}

void dm_counts_set(struct dm_counts *t, const void *key, size_t n)
{
	struct dm_count *v;
	size_t i;

	pthread_mutex_lock(&t->lock);
	i = find(t, key);
	if (i < t->len) {
		t->v[i].n = n;
	} else {
		v = reallocarray(t->v, t->len + 1, sizeof(*v));
		if (v) {
			t->v = v;
			t->v[t->len++] = (struct dm_count){key, n};
		}
	}
	pthread_mutex_unlock(&t->lock);
}

bool dm_counts_get(struct dm_counts *t, const void *key, size_t *ret)
{
	bool found;
	size_t i;

	pthread_mutex_lock(&t->lock);
	i = find(t, key);
	found = i < t->len;
	if (found)
		*ret = t->v[i].n;
	pthread_mutex_unlock(&t->lock);
	return found;
}

void dm_counts_forget(struct dm_counts *t, const void *key)
{
	size_t i;

	pthread_mutex_lock(&t->lock);
	i = find(t, key);
	if (i < t->len)
		t->v[i] = t->v[--t->len];
	if (t->len == 0) {
		free(t->v);
		t->v = NULL;
	}
	pthread_mutex_unlock(&t->lock);
}
