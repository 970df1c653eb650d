// SPDX-License-Identifier: GPL-2.0
/*
 * Jittered backoff (daemon/lib/jitter.c): every delay between half its step and the step,
 * and hosts (seeds, threads seeded from getrandom) that fail together wait differently.
 */
#include <pthread.h>
#include <stdint.h>

#include "kselftest_harness.h"
#include "jitter.h"

#define SEEDS 64

/* provider.c's steps (ms) and boot.c's (s). */
static const double steps[] = {100, 200, 400, 800, 1000, 1, 2, 4, 8, 16, 32, 60};

TEST(in_bounds_and_spread_across_seeds)
{
	double first[SEEDS], lo = 1000, hi = 0;
	int distinct = 0;

	for (uint64_t s = 0; s < SEEDS; s++) {
		skp_rand_seed(s + 1);
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			for (int k = 0; k < 100; k++) {
				double d = skp_jitter(steps[i]);

				ASSERT_TRUE(d >= steps[i] / 2 && d <= steps[i])
					TH_LOG("seed %llu step %f: %f", (unsigned long long)s + 1, steps[i], d);
			}
		}
		skp_rand_seed(s + 1);
		first[s] = skp_jitter(1000);
	}
	/* 64 hosts' first retries: not one wave, and over most of the window. */
	for (int i = 0; i < SEEDS; i++) {
		int seen = 0;

		for (int j = 0; j < i && !seen; j++)
			seen = first[j] == first[i];
		distinct += !seen;
	}
	ASSERT_GE(distinct, SEEDS - 2);
	for (int i = 0; i < SEEDS; i++) {
		lo = first[i] < lo ? first[i] : lo;
		hi = first[i] > hi ? first[i] : hi;
	}
	ASSERT_TRUE(hi - lo > 250) TH_LOG("spread %f .. %f", lo, hi);
}

TEST(same_seed_same_sequence)
{
	double a[8];

	skp_rand_seed(42);
	for (int i = 0; i < 8; i++)
		a[i] = skp_rand_unit();
	skp_rand_seed(42);
	for (int i = 0; i < 8; i++)
		ASSERT_TRUE(skp_rand_unit() == a[i]);
}

static void *draw(void *arg)
{
	*(double *)arg = skp_rand_unit();
	return NULL;
}

/* Without a seed, each thread (so each process) seeds itself from getrandom: two never
 * start alike (2^-53 chance). */
TEST(threads_seed_themselves)
{
	double v[2];
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, draw, &v[i]));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	ASSERT_TRUE(v[0] != v[1]);
	ASSERT_TRUE(v[0] >= 0 && v[0] < 1 && v[1] >= 0 && v[1] < 1);
}

TEST_HARNESS_MAIN
