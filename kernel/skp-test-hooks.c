// SPDX-License-Identifier: GPL-2.0
/*
 * dm-skp test hooks (see skp-test-hooks.h): only in a test build.  Debian's kernel has no
 * fault injection, so the faults the VM tests need are made here.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/sysfs.h>

#include "skp.h"
#include "skp-test-hooks.h"

static unsigned int test_fail_nowait;
module_param(test_fail_nowait, uint, 0644);
MODULE_PARM_DESC(test_fail_nowait, "test: fail every Nth GFP_NOWAIT bounce page (0: never)");

static bool test_message_gate;
module_param(test_message_gate, bool, 0644);
MODULE_PARM_DESC(test_message_gate, "test: the next hold/reencrypt/key wipe waits before its lock while set");

static atomic_t gated = ATOMIC_INIT(0);

static int gated_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&gated));
}

static const struct kernel_param_ops gated_ops = { .get = gated_get };
module_param_cb(test_messages_gated, &gated_ops, NULL, 0444);
MODULE_PARM_DESC(test_messages_gated, "test: 1 while a message waits at the gate");

static char *test_fast_driver;
module_param(test_fast_driver, charp, 0444);
MODULE_PARM_DESC(test_fast_driver, "test: internal xts(aes) driver for the fast tfm, e.g. cryptd(__xts-aes-aesni)");

static unsigned int test_presuspends;
module_param(test_presuspends, uint, 0444);
MODULE_PARM_DESC(test_presuspends, "test: presuspends so far");

static atomic_t nowait_calls = ATOMIC_INIT(0);

bool skp_test_fail_nowait(void)
{
	unsigned int n = READ_ONCE(test_fail_nowait);

	return n && !(atomic_inc_return(&nowait_calls) % n);
}

/*
 * One message at a time stops at the gate: the test sees it there, makes its race happen
 * (with other messages, which pass), then opens the gate.
 */
void skp_test_message_gate(void)
{
	if (!READ_ONCE(test_message_gate) || atomic_cmpxchg(&gated, 0, 1))
		return;
	while (READ_ONCE(test_message_gate))
		msleep(20);
	atomic_set(&gated, 0);
}

void skp_test_presuspend(void)
{
	WRITE_ONCE(test_presuspends, READ_ONCE(test_presuspends) + 1);
}

struct crypto_skcipher *skp_test_alloc_fast(void)
{
	struct crypto_skcipher *tfm;

	if (!test_fast_driver || !*test_fast_driver)
		return NULL;
	tfm = crypto_alloc_skcipher(test_fast_driver, CRYPTO_ALG_INTERNAL, CRYPTO_ALG_INTERNAL);
	if (IS_ERR(tfm)) {
		DMERR("test: cannot allocate %s (%ld)", test_fast_driver, PTR_ERR(tfm));
		return NULL;
	}
	return tfm;
}
