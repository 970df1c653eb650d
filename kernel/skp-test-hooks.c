// SPDX-License-Identifier: GPL-2.0
/*
 * dm-skp test hooks (see skp-test-hooks.h): only in a test build.  Debian's kernel has no
 * fault injection, so the faults the VM tests need are made here.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/atomic.h>

#include "skp.h"
#include "skp-test-hooks.h"

static unsigned int test_fail_nowait;
module_param(test_fail_nowait, uint, 0644);
MODULE_PARM_DESC(test_fail_nowait, "test: fail every Nth GFP_NOWAIT bounce page (0: never)");

static atomic_t nowait_calls = ATOMIC_INIT(0);

bool skp_test_fail_nowait(void)
{
	unsigned int n = READ_ONCE(test_fail_nowait);

	return n && !(atomic_inc_return(&nowait_calls) % n);
}
