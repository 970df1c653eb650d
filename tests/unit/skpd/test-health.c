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

/*
 * Remediation over many devices on two providers: one batched request per provider, a
 * KEK shared by copies asked once, and the same findings per device as one Get
 * Attributes each gave: a retired KEK, a KEK the KMS refuses (that device alone), a
 * provider down (its devices alone).
 */
#define REM_A	12		/* devices on kmsA, the last a copy of the first */
#define REM_B	4

FIXTURE(rem) {
	struct env e;
	struct skp_err err;
	char names[REM_A + REM_B][16];
	char uid[REM_A + REM_B][SKP_KEK_UID_MAX];
};

FIXTURE_SETUP(rem)
{
	static const char *const provs[] = {"kmsA", "kmsB"};
	char dev[REM_A + REM_B][PATH_MAX + 32];
	struct skpd *d;
	struct sbuf out = {0};

	ASSERT_EQ(0, env_init(&self->e, provs, 2, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);
	d = self->e.d;
	for (int i = 0; i < REM_A + REM_B; i++) {
		snprintf(self->names[i], sizeof(self->names[i]), "%c%d", i < REM_A ? 'a' : 'b', i);
		ASSERT_EQ(0, env_dev(&self->e, self->names[i], 1, dev[i], sizeof(dev[i])));
		if (i == REM_A - 1) {	/* a copy of a0: same header, same KEK */
			unsigned char *area = malloc(SKP_HDR_AREA_SIZE);

			ASSERT_TRUE(area != NULL);
			ASSERT_EQ(0, env_read(dev[0], 0, area, SKP_HDR_AREA_SIZE));
			ASSERT_EQ(0, env_write(dev[i], 0, area, SKP_HDR_AREA_SIZE));
			free(area);
		} else {
			ASSERT_EQ(0, env_format(&self->e, dev[i], i < REM_A ? "kmsA" : "kmsB", 0, &self->err))
				TH_LOG("%s", self->err.msg);
		}
		ASSERT_EQ(0, op_open(d, dev[i], self->names[i], 0, 0, &out, &self->err)) TH_LOG("%s", self->err.msg);
		sb_free(&out);
		snprintf(self->uid[i], sizeof(self->uid[i]), "%s", dev_find(d, self->names[i])->kek_uid);
	}
	ASSERT_STREQ(self->uid[0], self->uid[REM_A - 1]);
	ASSERT_EQ(0, health_start(d, &self->err)) TH_LOG("%s", self->err.msg);
	fake_kms("kmsA")->n_attrs = fake_kms("kmsA")->n_attrs_items = 0;
	fake_kms("kmsB")->n_attrs = fake_kms("kmsB")->n_attrs_items = 0;
}

FIXTURE_TEARDOWN(rem)
{
	if (self->e.d)
		health_stop(self->e.d, 0);
	env_cleanup(&self->e);
}

static const char *problem(struct skpd *d, const char *name)
{
	struct device *v = dev_find(d, name);

	return v ? v->problem : "(no such device)";
}

TEST_F(rem, one_batch_per_provider)
{
	struct skpd *d = self->e.d;

	health_request_remediation(d);
	ASSERT_EQ(1, answer(d));
	for (int i = 0; i < REM_A + REM_B; i++) {
		ASSERT_STREQ("", problem(d, self->names[i])) TH_LOG("%s", self->names[i]);
	}
	/* One request each, every distinct KEK once (a0's copy shares its KEK). */
	ASSERT_EQ(1, fake_kms("kmsA")->n_attrs);
	ASSERT_EQ(REM_A - 1, fake_kms("kmsA")->n_attrs_items);
	ASSERT_EQ(1, fake_kms("kmsB")->n_attrs);
	ASSERT_EQ(REM_B, fake_kms("kmsB")->n_attrs_items);
}

TEST_F(rem, findings_per_device)
{
	struct skpd *d = self->e.d;
	char want[400];

	fake_kms_key(fake_kms("kmsA"), self->uid[0])->state = 3;		/* a0 and its copy */
	fake_kms_key(fake_kms("kmsA"), self->uid[2])->refuse = -EACCES;	/* a2 alone */
	fake_kms("kmsB")->down = 1;						/* every b */
	health_request_remediation(d);
	ASSERT_EQ(1, answer(d));
	snprintf(want, sizeof(want), "KEK %s is Deactivated in the KMS, not Active", self->uid[0]);
	ASSERT_STREQ(want, problem(d, self->names[0]));
	ASSERT_STREQ(want, problem(d, self->names[REM_A - 1]));
	snprintf(want, sizeof(want), "KEK check failed: KMIP error: Permission Denied (fake KMS kmsA refuses key %s)",
		 self->uid[2]);
	ASSERT_STREQ(want, problem(d, self->names[2]));
	for (int i = 1; i < REM_A - 1; i++) {
		if (i != 2)
			ASSERT_STREQ("", problem(d, self->names[i])) TH_LOG("%s", self->names[i]);
	}
	for (int i = REM_A; i < REM_A + REM_B; i++) {
		ASSERT_STREQ("KEK check failed: provider kmsB: all 2 KMS node(s) failed: connect: Connection "
			     "refused (fake KMS down)", problem(d, self->names[i])) TH_LOG("%s", self->names[i]);
	}
	ASSERT_EQ(1, fake_kms("kmsA")->n_attrs);
	ASSERT_EQ(0, fake_kms("kmsB")->n_attrs);	/* refused while down: not counted */

	/* All well again: every finding clears in the next pass. */
	fake_kms_key(fake_kms("kmsA"), self->uid[0])->state = 2;
	fake_kms_key(fake_kms("kmsA"), self->uid[2])->refuse = 0;
	fake_kms("kmsB")->down = 0;
	health_request_remediation(d);
	ASSERT_EQ(1, answer(d));
	for (int i = 0; i < REM_A + REM_B; i++) {
		ASSERT_STREQ("", problem(d, self->names[i])) TH_LOG("%s", self->names[i]);
	}
	ASSERT_EQ(2, fake_kms("kmsA")->n_attrs);
	ASSERT_EQ(1, fake_kms("kmsB")->n_attrs);
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

/* The worker makes, uses and frees its own provider objects (a real one's OpenSSL state
 * per thread must go with its library context): replaced, stopped mid-probe or at exit. */
TEST_F(hl, providers_made_and_freed_by_the_worker)
{
	struct skpd *d = self->e.d;
	unsigned long before = fake_provider_foreign_frees();

	for (int i = 0; i < 20; i++) {
		ASSERT_EQ(0, health_start(d, &self->err)) TH_LOG("%s", self->err.msg);
		health_request_probe(d);
	}
	ASSERT_EQ(0, health_stop(d, 2000));
	ASSERT_EQ(before, fake_provider_foreign_frees());
}

/* A provider the worker cannot make: health_start says which, and the running worker
 * stays (a reload refused keeps the old one). */
TEST_F(hl, start_fails_when_a_provider_cannot_be_made)
{
	struct skpd *d = self->e.d;
	struct health *old = d->health;
	size_t n = d->cfg.providers[0].n_servers;

	d->cfg.providers[0].n_servers = 0;	/* the fake refuses it */
	ASSERT_EQ(-EINVAL, health_start(d, &self->err));
	d->cfg.providers[0].n_servers = n;
	ASSERT_NE(NULL, strstr(self->err.msg, "health checks: provider \"kmsA\"")) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(old, d->health);
	health_request_probe(d);
	ASSERT_EQ(1, answer(d));
}

TEST_HARNESS_MAIN
