// SPDX-License-Identifier: GPL-2.0
/*
 * The health worker (daemon/skpd/health.c): probes and remediation asked on a thread of
 * its own, answers applied by the main thread; over the fakes (tests/unit/fakes).  The
 * worker is replaced on every reload, and one told to stop frees itself: replacing it
 * many times in a row must neither crash nor lose the answers of the current one.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "env.h"
#include "fake-dm.h"
#include "fake-kms.h"
#include "health.h"
#include "ops.h"
#include "provider.h"
#include "sbuf.h"
#include "skpd.h"

FIXTURE(hl) {
	struct env e;
	struct skp_err err;
};

FIXTURE_SETUP(hl)
{
	static const char *const provs[] = {"kmsA"};

	ASSERT_EQ(0, env_init(&self->e, provs, 1, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, health_start(self->e.d, &self->err)) TH_LOG("%s", self->err.msg);
}

FIXTURE_TEARDOWN(hl)
{
	if (self->e.d)
		health_stop(self->e.d, 0);
	env_cleanup(&self->e);
}

/* Waits for the worker's answers (5 s at most) and applies them, as main.c's loop does. */
static int answer(struct skpd *d)
{
	struct pollfd p = {.fd = health_fd(d), .events = POLLIN};
	int r = poll(&p, 1, 5000);

	if (r == 1)
		health_collect(d);
	return r;
}

TEST_F(hl, probe_sets_nodes_and_alarm)
{
	struct skpd *d = self->e.d;
	unsigned long checks = fake_kms("kmsA")->n_check;

	health_request_probe(d);
	ASSERT_EQ(1, answer(d));
	ASSERT_EQ(checks + 1, fake_kms("kmsA")->n_check);
	ASSERT_EQ(1, skp_provider_node(d->provs[0].p, 0)->healthy);
	ASSERT_EQ(0, d->provs[0].alarm);

	fake_kms("kmsA")->down = 1;
	health_request_probe(d);
	ASSERT_EQ(1, answer(d));
	ASSERT_EQ(1, d->provs[0].alarm);
	ASSERT_NE(NULL, strstr(d->provs[0].alarm_msg, "no reachable KMS node")) TH_LOG("%s", d->provs[0].alarm_msg);
	/* skpd's own provider object learns it: operations try healthy nodes first. */
	ASSERT_EQ(0, skp_provider_node(d->provs[0].p, 0)->healthy);
	ASSERT_NE(NULL, strstr(skp_provider_node(d->provs[0].p, 0)->last_error, "fake KMS down"));

	fake_kms("kmsA")->down = 0;
	health_request_probe(d);
	ASSERT_EQ(1, answer(d));
	ASSERT_EQ(0, d->provs[0].alarm);
	ASSERT_EQ(1, skp_provider_node(d->provs[0].p, 0)->healthy);
}

TEST_F(hl, remediation_reports_a_retired_kek)
{
	struct skpd *d = self->e.d;
	struct sbuf out = {0};
	struct fake_kms_key *k;
	struct device *v;
	char dev[PATH_MAX + 32];

	ASSERT_EQ(0, env_dev(&self->e, "r", 1, dev, sizeof(dev)));
	ASSERT_EQ(0, env_format(&self->e, dev, NULL, 0, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, op_open(d, dev, "r", 0, 0, &out, &self->err)) TH_LOG("%s", self->err.msg);
	sb_free(&out);
	v = dev_find(d, "r");
	ASSERT_NE(NULL, v);
	k = fake_kms_key(fake_kms("kmsA"), v->kek_uid);
	ASSERT_NE(NULL, k);

	k->state = 4;	/* Compromised */
	health_request_remediation(d);
	ASSERT_EQ(1, answer(d));
	ASSERT_NE(NULL, strstr(v->problem, "Compromised")) TH_LOG("problem: '%s'", v->problem);

	k->state = 2;
	health_request_remediation(d);
	ASSERT_EQ(1, answer(d));
	ASSERT_STREQ("", v->problem);

	/* An answer about a device closed meanwhile is dropped, not applied to another. */
	k->state = 4;
	health_request_remediation(d);
	ASSERT_EQ(0, op_close(d, "r", &out, &self->err)) TH_LOG("%s", self->err.msg);
	sb_free(&out);
	ASSERT_EQ(1, answer(d));
	ASSERT_EQ(NULL, dev_find(d, "r"));
}

/* A reload starts a new worker and lets the old one go: hundreds in a row, some told to
 * stop in the middle of a probe.  The current worker's answers still arrive. */
TEST_F(hl, worker_replaced_many_times)
{
	struct skpd *d = self->e.d;

	for (int i = 0; i < 300; i++) {
		ASSERT_EQ(0, health_start(d, &self->err)) TH_LOG("%s", self->err.msg);
		health_request_probe(d);
	}
	fake_kms("kmsA")->down = 1;
	health_request_probe(d);
	for (int i = 0; i < 10 && !d->provs[0].alarm; i++)
		ASSERT_EQ(1, answer(d));
	ASSERT_EQ(1, d->provs[0].alarm);
	fake_kms("kmsA")->down = 0;
}

/* skpd's exit waits for the worker (so exit() does not tear OpenSSL down under a probe):
 * an idle worker ends at once, one mid-probe as soon as its exchange does. */
TEST_F(hl, stop_waits_for_the_worker)
{
	struct skpd *d = self->e.d;

	ASSERT_EQ(0, health_stop(d, 2000));
	ASSERT_EQ(-1, health_fd(d));
	for (int i = 0; i < 50; i++) {
		ASSERT_EQ(0, health_start(d, &self->err)) TH_LOG("%s", self->err.msg);
		health_request_probe(d);
		ASSERT_EQ(0, health_stop(d, 2000)) TH_LOG("stop %d", i);
	}
	ASSERT_EQ(0, health_start(d, &self->err)) TH_LOG("%s", self->err.msg);
}

TEST_HARNESS_MAIN
