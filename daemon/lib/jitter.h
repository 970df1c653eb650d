/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Jittered backoff.  When a whole fleet loses a KMS node at once (a power cut: every host
 * boots together), fixed delays make every host retry in the same instant, wave after
 * wave.  Each delay is instead drawn from the upper half of its step ("equal jitter":
 * never less than half, so retries still back off), from a generator of each thread,
 * seeded from getrandom(2) on first use, so two processes never share a schedule.
 * Not for secrets.
 */
#ifndef SKP_JITTER_H
#define SKP_JITTER_H

#include <stdint.h>

/* A number in [0, 1) from the calling thread's generator. */
double skp_rand_unit(void);
/* Tests: the calling thread's generator from a known seed (0: from getrandom again). */
void skp_rand_seed(uint64_t seed);
/* A delay for a backoff step of base (any unit): uniform in [base / 2, base]. */
double skp_jitter(double base);

#endif
