/* SPDX-License-Identifier: Apache-2.0 */
/* The fork-join loop (base/pool.h): every index once per run, run after run, with and without
 * threads, on the threads as well as the caller's. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "pool.h"

#define N 1000

struct tally {
	atomic_int seen[N];
	pthread_t caller;
	atomic_int elsewhere; /* runs on a thread other than the caller's */
	int sleep_every;      /* > 0: usleep on these indexes, for the threads to catch up */
};

static void count(size_t i, void *userdata)
{
	struct tally *t = userdata;

	atomic_fetch_add(&t->seen[i], 1);
	if (!pthread_equal(pthread_self(), t->caller))
		atomic_fetch_add(&t->elsewhere, 1);
	if (t->sleep_every > 0 && i % t->sleep_every == 0)
		usleep(1000);
}

static void run_and_check(struct dm_pool *p, size_t n, int sleep_every, int *elsewhere)
{
	static struct tally t;

	for (size_t i = 0; i < N; i++)
		atomic_store(&t.seen[i], 0);
	t.caller = pthread_self();
	atomic_store(&t.elsewhere, 0);
	t.sleep_every = sleep_every;
	dm_pool_run(p, n, count, &t);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(atomic_load(&t.seen[i]), i < n ? 1 : 0);
	if (elsewhere)
		*elsewhere = atomic_load(&t.elsewhere);
}

static void test_pool_threads(void **state)
{
	struct dm_pool *p = NULL;
	int elsewhere = 0;

	assert_int_equal(dm_pool_new(3, &p), 0);
	run_and_check(p, 0, 0, NULL);
	run_and_check(p, 1, 0, NULL);
	for (int round = 0; round < 200; round++) /* runs back to back: no index lost or doubled */
		run_and_check(p, N - round, 0, NULL);
	/* Indexes that take time: the threads take some of them... */
	run_and_check(p, 64, 1, &elsewhere);
	assert_true(elsewhere > 0);
	/* ... but not of a few, which are not worth waking a thread for. */
	run_and_check(p, 4, 1, &elsewhere);
	assert_int_equal(elsewhere, 0);
	dm_pool_free(p);
}

static void test_pool_alone(void **state)
{
	struct dm_pool *p = NULL;
	int elsewhere = -1;

	assert_int_equal(dm_pool_new(0, &p), 0);
	run_and_check(p, N, 1 << 30, &elsewhere);
	assert_int_equal(elsewhere, 0); /* no thread: all on the caller's */
	dm_pool_free(p);
	run_and_check(NULL, N, 1 << 30, &elsewhere); /* no pool at all: the same */
	assert_int_equal(elsewhere, 0);
	dm_pool_free(NULL);
}

static void test_pool_default_threads(void **state)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	assert_true(dm_pool_default_threads(3) <= 3);
	assert_int_equal(dm_pool_default_threads(0), 0);
	assert_true((long)dm_pool_default_threads(1000) <= cpus - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pool_threads),
	    cmocka_unit_test(test_pool_alone),
	    cmocka_unit_test(test_pool_default_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
