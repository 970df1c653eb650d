/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-skp test hooks: fault injection for the VM tests, compiled only into a test build
 * (make kernel-test: SKP_TEST_HOOKS=y).  A production build has the inline no-ops below
 * and no module parameter.
 */
#ifndef DM_SKP_TEST_HOOKS_H
#define DM_SKP_TEST_HOOKS_H

#include <crypto/skcipher.h>

#ifdef SKP_TEST_HOOKS
bool skp_test_fail_nowait(void);
void skp_test_message_gate(void);
void skp_test_presuspend(void);
struct crypto_skcipher *skp_test_alloc_fast(void);
#else
/* Should this GFP_NOWAIT bounce page allocation fail? */
static inline bool skp_test_fail_nowait(void)
{
	return false;
}

/* Stop a message between its checks and its lock, for as long as the test wants. */
static inline void skp_test_message_gate(void)
{
}

/* A presuspend happened (a suspend waits for messages in flight: tests see it begin). */
static inline void skp_test_presuspend(void)
{
}

/* A fast tfm of the test's choosing (an asynchronous one); NULL: the usual. */
static inline struct crypto_skcipher *skp_test_alloc_fast(void)
{
	return NULL;
}
#endif

#endif /* DM_SKP_TEST_HOOKS_H */
