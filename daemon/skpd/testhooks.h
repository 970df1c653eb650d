/* SPDX-License-Identifier: GPL-2.0 */
/* Test switches, in the test build only (-DSKP_TEST_HOOKS, build/test-bin/skpd). */
#ifndef SKPD_TESTHOOKS_H
#define SKPD_TESTHOOKS_H

#include <stdint.h>

#ifdef SKP_TEST_HOOKS
void test_stop(const char *step);
int test_keep_key(int32_t serial, const char *desc, const char *which);
#else
static inline void test_stop(const char *step) { (void)step; }
static inline int test_keep_key(int32_t serial, const char *desc, const char *which)
{
	(void)serial; (void)desc; (void)which;
	return 0;
}
#endif

#endif
