// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only switches (docs/deep-rekey.md, "Testing"), compiled into the test build of skpd
 * (build/test-bin/skpd, -DSKP_TEST_HOOKS) and nowhere else: the installed skpd has no
 * environment variable that changes what it does with keys.
 */
#ifdef SKP_TEST_HOOKS
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <keyutils.h>

#include "log.h"
#include "testhooks.h"

/* SKP_TEST_STOP_AT=<step>:<n>: SIGSTOP at the n-th passage of a step, so a crash test can
 * cut the disk exactly there ("exit": the end of skpd's exit path, for a memory scan). */
void test_stop(const char *step)
{
	static int counts[16];
	static const char *const steps[] = {"first-records", "newslot", "record", "chunk", "final-record",
					    "final-reload", "final-header", "recovered", "exit", NULL};
	const char *env = getenv("SKP_TEST_STOP_AT");
	size_t l;
	int i;

	if (!env)
		return;
	for (i = 0; steps[i] && strcmp(steps[i], step); i++)
		;
	if (!steps[i])
		return;
	counts[i]++;
	l = strlen(step);
	if (!strncmp(env, step, l) && env[l] == ':' && atoi(env + l + 1) == counts[i]) {
		log_msg(LOG_W, "test: SKP_TEST_STOP_AT=%s reached, stopping", env);
		raise(SIGSTOP);
	}
}

/* SKP_TEST_KEEP_KEYS=1: a table load's logon key is linked into root's user keyring instead
 * of being dropped, so a test can load dm-crypt with it and compare (logon keys cannot be
 * read back).  Returns 1 if kept. */
int test_keep_key(int32_t serial, const char *desc, const char *which)
{
	if (!getenv("SKP_TEST_KEEP_KEYS") || keyctl_link(serial, KEY_SPEC_USER_KEYRING) != 0)
		return 0;
	log_msg(LOG_W, "test: %s key kept as logon:%s", which, desc);
	return 1;
}
#endif
