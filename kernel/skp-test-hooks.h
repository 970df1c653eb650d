/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-skp test hooks: fault injection for the VM tests, compiled only into a test build
 * (make kernel-test: SKP_TEST_HOOKS=y).  A production build has the inline no-ops below
 * and no module parameter.
 */
#ifndef DM_SKP_TEST_HOOKS_H
#define DM_SKP_TEST_HOOKS_H

#include <linux/types.h>

#ifdef SKP_TEST_HOOKS
bool skp_test_fail_nowait(void);
#else
/* Should this GFP_NOWAIT bounce page allocation fail? */
static inline bool skp_test_fail_nowait(void)
{
	return false;
}
#endif

#endif /* DM_SKP_TEST_HOOKS_H */
