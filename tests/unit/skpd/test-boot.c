// SPDX-License-Identifier: GPL-2.0
/*
 * skptab at skpd's start (daemon/skpd/boot.c, docs/man/skptab.5): every header read first,
 * then one batched KEK request per provider (the KEKs' States in the same request), then
 * the opens, which talk to the kernel only.  Over the fakes: devices are files, mappings
 * and KMSes in memory (tests/unit/fakes), skpd.conf and skptab real files.
 *
 * Six devices over two providers; a1c and b1c are copies of a1 and b1 (same UUID, same
 * KEK), so each provider has two KEKs to deliver for three devices.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "boot.h"
#include "env.h"
#include "fake-dm.h"
#include "fake-keyring.h"
#include "fake-kms.h"
#include "skpd.h"

#define N_DEVS 6

static const char *const names[N_DEVS] = {"a1", "a1c", "a2", "b1", "b1c", "b2"};

FIXTURE(boot) {
	struct env e;
	char dev[N_DEVS][PATH_MAX + 32];
	struct skp_header h[N_DEVS];
	struct skp_err err;
};

FIXTURE_SETUP(boot)
{
	static const char *const provs[] = {"kmsA", "kmsB"};
	unsigned char dek[SKP_DEK_LEN];
	char tab[8 * PATH_MAX];
	size_t o = 0;

	ASSERT_EQ(0, env_init(&self->e, provs, 2, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);
	for (int i = 0; i < N_DEVS; i++) {
		ASSERT_EQ(0, env_dev(&self->e, names[i], 1, self->dev[i], sizeof(self->dev[i])));
		if (strchr(names[i], 'c'))
			continue;	/* a copy, made below */
		ASSERT_EQ(0, env_format(&self->e, self->dev[i], names[i][0] == 'a' ? "kmsA" : "kmsB", 0, &self->err))
			TH_LOG("%s", self->err.msg);
	}
	for (int i = 0; i < N_DEVS; i++) {
		if (strchr(names[i], 'c')) {
			unsigned char *area = malloc(SKP_HDR_AREA_SIZE);

			ASSERT_TRUE(area != NULL);
			ASSERT_EQ(0, env_read(self->dev[i - 1], 0, area, SKP_HDR_AREA_SIZE));
			ASSERT_EQ(0, env_write(self->dev[i], 0, area, SKP_HDR_AREA_SIZE));
			free(area);
		}
		ASSERT_EQ(0, env_dek(self->dev[i], 0, dek, &self->h[i]));
	}
	ASSERT_STREQ(self->h[0].slot[0].kek_uid, self->h[1].slot[0].kek_uid);
	ASSERT_STRNE(self->h[0].slot[0].kek_uid, self->h[2].slot[0].kek_uid);
	ASSERT_STREQ(self->h[3].slot[0].kek_uid, self->h[4].slot[0].kek_uid);
	ASSERT_STREQ("kmsB", self->h[5].slot[0].provider);

	for (int i = 0; i < N_DEVS; i++)
		o += (size_t)snprintf(tab + o, sizeof(tab) - o, "%s %s %s\n", names[i], self->dev[i],
				      i == 2 ? "discard" : i == 4 ? "nofail" : "-");
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
	/* A fresh skpd: empty KEK cache, counters from here. */
	env_stop(&self->e);
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, fake_dm_count());
	fake_kms("kmsA")->n_get = fake_kms("kmsA")->n_get_items = fake_kms("kmsA")->n_attrs = 0;
	fake_kms("kmsB")->n_get = fake_kms("kmsB")->n_get_items = fake_kms("kmsB")->n_attrs = 0;
}

FIXTURE_TEARDOWN(boot)
{
	env_cleanup(&self->e);
}

/* Which of the six are mapped, as "a1 a1c ..." */
static void mapped(char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < N_DEVS && o < size; i++)
		if (fake_dm_find(names[i]))
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? " " : "", names[i]);
}

TEST_F(boot, one_batch_per_provider)
{
	struct fake_kms *a = fake_kms("kmsA"), *b = fake_kms("kmsB");
	char m[128];

	ASSERT_EQ(0, skpd_boot_open(self->e.d));
	mapped(m, sizeof(m));
	ASSERT_STREQ("a1 a1c a2 b1 b1c b2", m);
	ASSERT_EQ(N_DEVS, self->e.d->n_devs);
	/* One request per provider, each KEK once (the copies share theirs). */
	ASSERT_EQ(1, a->n_get);
	ASSERT_EQ(2, a->n_get_items);
	ASSERT_EQ(1, b->n_get);
	ASSERT_EQ(2, b->n_get_items);
	/* The States came with the KEKs: op_open's rollback check asks nothing more. */
	ASSERT_EQ(0, a->n_attrs);
	ASSERT_EQ(0, b->n_attrs);
	ASSERT_EQ(0, fake_keyring_count());
	/* The skptab options reached the tables. */
	ASSERT_TRUE(fake_dm_find("a2")->t.allow_discards);
	ASSERT_FALSE(fake_dm_find("a1")->t.allow_discards);
	ASSERT_FALSE(fake_dm_find("a1")->t.read_only);
	for (int i = 0; i < N_DEVS; i++)
		ASSERT_EQ(0, memcmp(dev_find(self->e.d, names[i])->uuid, self->h[i].uuid, 16));
}

TEST_F(boot, refused_kek_fails_only_its_devices)
{
	struct fake_kms *a = fake_kms("kmsA"), *b = fake_kms("kmsB");
	char m[128];

	fake_kms_key(b, self->h[3].slot[0].kek_uid)->refuse = -EACCES;
	ASSERT_EQ(-1, skpd_boot_open(self->e.d));
	mapped(m, sizeof(m));
	ASSERT_STREQ("a1 a1c a2 b2", m);
	ASSERT_EQ(4, self->e.d->n_devs);
	/* The refusal came in the batch: no second request for its devices. */
	ASSERT_EQ(1, a->n_get);
	ASSERT_EQ(1, b->n_get);
	ASSERT_EQ(2, b->n_get_items);
	ASSERT_EQ(0, fake_keyring_count());
}

TEST_F(boot, provider_down_fails_only_its_devices)
{
	struct fake_kms *a = fake_kms("kmsA");
	char m[128];

	fake_kms("kmsB")->down = 1;
	ASSERT_EQ(-1, skpd_boot_open(self->e.d));
	mapped(m, sizeof(m));
	ASSERT_STREQ("a1 a1c a2", m);
	ASSERT_EQ(1, a->n_get);
	ASSERT_EQ(3, self->e.d->n_devs);
}

/* Mappings left by an earlier skpd are not touched (docs/man/skptab.5); a bad line is
 * skipped and the other lines still open. */
TEST_F(boot, existing_mappings_and_bad_lines)
{
	char tab[8 * PATH_MAX], m[128];
	struct fake_kms *a = fake_kms("kmsA"), *b = fake_kms("kmsB");
	unsigned long creates;

	ASSERT_EQ(0, skpd_boot_open(self->e.d));
	env_stop(&self->e);
	fake_dm_forget("a2");
	fake_dm_forget("b2");
	ASSERT_GT(sizeof(tab), (size_t)snprintf(tab, sizeof(tab), "%s %s -\nbad name %s -\n%s %s bogus-option\n%s %s -\n%s %s -\n", names[0],
		 self->dev[0], self->dev[1], names[1], self->dev[1], names[2], self->dev[2], names[5], self->dev[5]));
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);
	a->n_get = a->n_get_items = b->n_get = b->n_get_items = 0;
	creates = fake_dm_stats.create;

	ASSERT_EQ(-1, skpd_boot_open(self->e.d));	/* two bad lines */
	mapped(m, sizeof(m));
	ASSERT_STREQ("a1 a1c a2 b1 b1c b2", m);
	ASSERT_EQ(2, fake_dm_stats.create - creates);
	ASSERT_EQ(1, a->n_get);
	ASSERT_EQ(1, a->n_get_items);
	ASSERT_EQ(1, b->n_get);
	ASSERT_EQ(1, b->n_get_items);
}

TEST_HARNESS_MAIN
