// SPDX-License-Identifier: GPL-2.0
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "jitter.h"

/* Per thread: skpd's health worker backs off too, and needs no lock for it. */
static __thread uint64_t rng_state;
static __thread int rng_seeded;

static void seed_from_kernel(void)
{
	uint64_t s = 0;
	struct timespec ts;

	/* getrandom cannot block after early boot; should it fail, time and ids still
	 * differ between the processes of one host. */
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 40) ^
		    (uint64_t)pthread_self();
	}
	rng_state = s;
	rng_seeded = 1;
}

void skp_rand_seed(uint64_t seed)
{
	if (!seed) {
		seed_from_kernel();
		return;
	}
	rng_state = seed;
	rng_seeded = 1;
}

/* splitmix64: every seed, 0 included, gives a full-period sequence. */
static uint64_t next64(void)
{
	uint64_t z;

	if (!rng_seeded)
		seed_from_kernel();
	z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double skp_rand_unit(void)
{
	return (double)(next64() >> 11) * 0x1.0p-53;
}

double skp_jitter(double base)
{
	return base / 2 + skp_rand_unit() * (base / 2);
}
