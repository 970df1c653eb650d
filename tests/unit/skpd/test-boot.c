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
#include "fstab.h"
#include "jitter.h"
#include "manager.h"
#include "skpd.h"
#include "uevent.h"

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

/* A mapping left by an earlier skpd is adopted through op_open (docs/man/skptab.5); the
 * fakes back mappings with files, which adoption refuses (it checks the backing block
 * device, fake-dm.h), so here it stays pending with its table untouched (adoption itself:
 * tests/system/73-boot-retry.sh).  A bad line is skipped and the other lines still open. */
TEST_F(boot, existing_mappings_and_bad_lines)
{
	char tab[8 * PATH_MAX], m[128];
	struct fake_kms *a = fake_kms("kmsA"), *b = fake_kms("kmsB");
	unsigned long creates, reloads;

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
	reloads = fake_dm_stats.reload;

	ASSERT_EQ(-1, skpd_boot_open(self->e.d));	/* two bad lines, a1 pending */
	mapped(m, sizeof(m));
	ASSERT_STREQ("a1 a1c a2 b1 b1c b2", m);
	ASSERT_EQ(2, fake_dm_stats.create - creates);
	ASSERT_EQ(reloads, fake_dm_stats.reload);
	ASSERT_EQ(2, self->e.d->boot_bad);
	ASSERT_EQ(3, self->e.d->n_boot);
	ASSERT_EQ(BOOT_WAIT_OTHER, self->e.d->boot[0].wait);
	ASSERT_NE(NULL, strstr(self->e.d->boot[0].reason, "refusing to adopt"));
	/* a1's KEK came in the same batch as a2's. */
	ASSERT_EQ(1, a->n_get);
	ASSERT_EQ(2, a->n_get_items);
	ASSERT_EQ(1, b->n_get);
	ASSERT_EQ(1, b->n_get_items);
}

static struct prov *prov_of(struct skpd *d, const char *name)
{
	for (size_t i = 0; i < d->n_provs; i++)
		if (!strcmp(d->provs[i].conf->name, name))
			return &d->provs[i];
	return NULL;
}

static struct boot_ent *ent(struct skpd *d, const char *name)
{
	for (size_t i = 0; i < d->n_boot; i++)
		if (!strcmp(d->boot[i].e.name, name))
			return &d->boot[i];
	return NULL;
}

/* KMS down: its entries stay pending and are tried again after steps of 1, 2, 4 ... 60 s,
 * each wait between half its step and the step (the clock is the test's); each retry is
 * one batch (the entries that failed together wait alike); up again, they open without a
 * request. */
TEST_F(boot, pending_retried_with_backoff)
{
	struct fake_kms *b = fake_kms("kmsB");
	struct skpd *d = self->e.d;
	double t = 1000, step[] = {1, 2, 4, 8, 16, 32, 60, 60, 60};
	char m[128];

	b->down = 1;
	ASSERT_EQ(0, boot_load(d, t));
	mapped(m, sizeof(m));
	ASSERT_STREQ("a1 a1c a2", m);
	ASSERT_EQ(BOOT_WAIT_PROVIDER, ent(d, "b1")->wait);
	ASSERT_STREQ("kmsB", ent(d, "b1")->provider);
	ASSERT_EQ(1, prov_of(d, "kmsB")->kms_down);
	ASSERT_EQ(0, prov_of(d, "kmsA")->kms_down);
	ASSERT_EQ(0, boot_retry(d, t + 0.49));	/* not due */
	ASSERT_EQ(1, ent(d, "b1")->attempts);
	/* what systemd hears before a retry: nothing when none is due; when the three are,
	 * each provider's longest fetch of three KEKs */
	ASSERT_EQ(0, boot_retry_max_s(d, t + 0.49));
	ASSERT_EQ((double)(skp_provider_fetch_max_ms(prov_of(d, "kmsA")->conf, 3) +
			   skp_provider_fetch_max_ms(prov_of(d, "kmsB")->conf, 3)) / 1000,
		  boot_retry_max_s(d, boot_next(d)));
	for (size_t i = 0; i < sizeof(step) / sizeof(step[0]); i++) {
		double next = boot_next(d);

		ASSERT_TRUE(next >= t + step[i] / 2 && next <= t + step[i])
			TH_LOG("next %f after %f, step %f", next, t, step[i]);
		ASSERT_TRUE(ent(d, "b1")->next_at == next && ent(d, "b1c")->next_at == next &&
			    ent(d, "b2")->next_at == next);
		t = next;
		ASSERT_EQ(0, boot_retry(d, t));
		ASSERT_EQ(i + 2, ent(d, "b2")->attempts);
	}
	ASSERT_EQ(0, b->n_get);			/* never reached it */
	b->down = 0;
	t = boot_next(d);
	ASSERT_EQ(3, boot_retry(d, t));
	mapped(m, sizeof(m));
	ASSERT_STREQ("a1 a1c a2 b1 b1c b2", m);
	ASSERT_EQ(1, b->n_get);
	ASSERT_EQ(2, b->n_get_items);
	ASSERT_TRUE(boot_next(d) < 0);
	ASSERT_EQ(BOOT_WAIT_NONE, ent(d, "b1c")->wait);
	ASSERT_EQ(0, fake_keyring_count());
}

/* A fleet that lost its KMS together (every host booted at once): each host (a seed of its
 * own) waits 0.5-1 s before its first retry, not all the same 1 s, so the retries of the
 * fleet do not arrive as one wave. */
TEST_F(boot, hosts_retry_apart)
{
	struct skpd *d = self->e.d;
	double first[16], t = 1000, lo = 2, hi = 0;

	fake_kms("kmsB")->down = 1;
	ASSERT_EQ(0, boot_load(d, t));
	for (int h = 0; h < 16; h++) {
		/* Each host's first attempt, from its first backoff step. */
		prov_of(d, "kmsB")->up_kick = 1;
		boot_kick_providers(d, t);
		skp_rand_seed((uint64_t)h + 1);
		ASSERT_EQ(0, boot_retry(d, t));
		first[h] = boot_next(d) - t;
		ASSERT_TRUE(first[h] >= 0.5 && first[h] <= 1) TH_LOG("host %d waits %f s", h, first[h]);
		lo = first[h] < lo ? first[h] : lo;
		hi = first[h] > hi ? first[h] : hi;
		t += 10;
	}
	ASSERT_TRUE(hi - lo > 0.2) TH_LOG("first retries within %f .. %f s", lo, hi);
	skp_rand_seed(0);
}

/* The health worker found the KMS answering again (health.c sets up_kick): its entries are
 * tried at once, not at the end of their backoff; others are not. */
TEST_F(boot, health_kick_retries_at_once)
{
	struct skpd *d = self->e.d;
	char m[128];

	double next;

	fake_kms("kmsB")->down = 1;
	ASSERT_EQ(0, boot_load(d, 1000));
	ASSERT_EQ(0, boot_retry(d, 1001));
	next = boot_next(d);
	ASSERT_TRUE(next >= 1002 && next <= 1003);
	fake_kms("kmsB")->down = 0;
	boot_kick_providers(d, 1001.5);		/* no kick yet */
	ASSERT_TRUE(boot_next(d) == next);
	prov_of(d, "kmsB")->up_kick = 1;
	boot_kick_providers(d, 1001.5);
	ASSERT_EQ(0, prov_of(d, "kmsB")->up_kick);
	ASSERT_TRUE(boot_next(d) == 1001.5);
	ASSERT_EQ(3, boot_retry(d, 1001.5));
	mapped(m, sizeof(m));
	ASSERT_STREQ("a1 a1c a2 b1 b1c b2", m);
	ASSERT_EQ(3, ent(d, "b1")->attempts);
}

/* A device that appears (a uevent) is tried at once, at most once a second. */
TEST_F(boot, device_kick_retries_at_once)
{
	struct skpd *d = self->e.d;
	char late[PATH_MAX + 32], tab[PATH_MAX + 64];

	snprintf(late, sizeof(late), "%s/late.img", self->e.dir);
	snprintf(tab, sizeof(tab), "late %s timeout=5\n", late);
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
	fake_kms("kmsB")->down = 1;
	ASSERT_EQ(0, boot_load(d, 1000));
	ASSERT_EQ(BOOT_WAIT_DEVICE, ent(d, "late")->wait);
	ASSERT_EQ(0, boot_retry(d, 1001));
	ASSERT_TRUE(boot_next(d) >= 1002 && boot_next(d) <= 1003);
	ASSERT_EQ(0, env_dev(&self->e, "late", 1, late, sizeof(late)));
	ASSERT_EQ(0, env_format(&self->e, late, "kmsA", 0, &self->err)) TH_LOG("%s", self->err.msg);
	boot_kick_devices(d, 1001.2);		/* tried at 1001: not before 1002 */
	ASSERT_TRUE(boot_next(d) == 1002);
	boot_kick_devices(d, 1002.5);
	ASSERT_TRUE(boot_next(d) == 1002);
	ASSERT_EQ(1, boot_retry(d, 1002.5));
	ASSERT_TRUE(fake_dm_find("late") != NULL);
	ASSERT_EQ(3, ent(d, "late")->attempts);
	ASSERT_TRUE(boot_next(d) < 0);
}

/* READY waits for entries without nofail, each up to its timeout; nofail never delays it. */
TEST_F(boot, ready_after_open_or_timeout)
{
	struct skpd *d = self->e.d;
	char tab[4 * PATH_MAX], st[1200];
	double left = 0;

	snprintf(tab, sizeof(tab), "a1 %s timeout=5\nb1 %s nofail\nb2 %s timeout=3\n", self->dev[0],
		 self->dev[3], self->dev[5]);
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
	fake_kms("kmsA")->down = fake_kms("kmsB")->down = 1;
	ASSERT_EQ(0, boot_load(d, 1000));
	ASSERT_EQ(0, boot_ready(d, 1000, st, sizeof(st), &left));
	ASSERT_NE(NULL, strstr(st, "waiting for 2 device(s): a1 (getting KEK")) TH_LOG("%s", st);
	ASSERT_NE(NULL, strstr(st, "b2 (")) TH_LOG("%s", st);
	ASSERT_EQ(NULL, strstr(st, "b1 ("));
	ASSERT_TRUE(left == 5);
	ASSERT_EQ(0, boot_ready(d, 1003, st, sizeof(st), &left));
	ASSERT_NE(NULL, strstr(st, "waiting for 1 device(s): a1")) TH_LOG("%s", st);
	ASSERT_EQ(1, boot_ready(d, 1005, st, sizeof(st), &left));
	ASSERT_STREQ("", st);
	/* Opened before its timeout: READY at once. */
	ASSERT_EQ(0, boot_ready(d, 1001, NULL, 0, NULL));
	fake_kms("kmsA")->down = 0;
	ASSERT_EQ(1, boot_retry(d, 1001));
	ASSERT_EQ(0, boot_ready(d, 1001, NULL, 0, NULL));	/* b2 still within its 3 s */
	ASSERT_EQ(1, boot_ready(d, 1003, NULL, 0, NULL));
	ASSERT_EQ(BOOT_WAIT_PROVIDER, ent(d, "b1")->wait);	/* nofail: still tried */
}

/* Reload: a new entry is pending and tried, a removed one is no longer tried and its
 * mapping stays; an unchanged one keeps its state. */
TEST_F(boot, reload_adds_and_drops_entries)
{
	struct skpd *d = self->e.d;
	char tab[4 * PATH_MAX];

	snprintf(tab, sizeof(tab), "a1 %s\nb1 %s\n", self->dev[0], self->dev[3]);
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
	fake_kms("kmsB")->down = 1;
	ASSERT_EQ(0, boot_load(d, 1000));
	ASSERT_TRUE(fake_dm_find("a1") != NULL);
	ASSERT_EQ(BOOT_WAIT_PROVIDER, ent(d, "b1")->wait);
	snprintf(tab, sizeof(tab), "a2 %s\nb1 %s\n", self->dev[2], self->dev[3]);
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
	ASSERT_EQ(0, boot_load(d, 1000.5));
	ASSERT_EQ(2, d->n_boot);
	ASSERT_EQ(NULL, ent(d, "a1"));
	ASSERT_TRUE(fake_dm_find("a1") != NULL);	/* never closed */
	ASSERT_TRUE(fake_dm_find("a2") != NULL);
	ASSERT_EQ(2, ent(d, "b1")->attempts);		/* kept, and tried again at the reload */
	ASSERT_TRUE(ent(d, "b1")->added == 1000);
	snprintf(tab, sizeof(tab), "a2 %s\n", self->dev[2]);
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
	ASSERT_EQ(0, boot_load(d, 1001));
	ASSERT_TRUE(boot_next(d) < 0);			/* b1 no longer tried */
}

/* fstab lines on skptab mappings need _netdev (skpd unlocks after the network), and
 * nofail when the entry has it; a warning per line that lacks them. */
TEST_F(boot, fstab_lines_need_netdev)
{
	char tab[4 * PATH_MAX], fstab[PATH_MAX + 16];

	snprintf(tab, sizeof(tab), "a1 %s\nb1 %s nofail\n", self->dev[0], self->dev[3]);
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
	fake_kms("kmsA")->down = fake_kms("kmsB")->down = 1;
	ASSERT_EQ(0, boot_load(self->e.d, 1000));
	snprintf(fstab, sizeof(fstab), "%s/fstab", self->e.dir);
	ASSERT_EQ(0, env_write_file(fstab, "# <file system> <mount point> <type> <options> <dump> <pass>\n"
				    "UUID=1234 / ext4 errors=remount-ro 0 1\n"
				    "/dev/mapper/a1 /srv/a ext4 defaults 0 2\n"
				    "/dev/mapper/a1 /srv/a2 ext4 _netdev 0 2\n"
				    "/dev/mapper/b1 /srv/b ext4 _netdev 0 2\n"
				    "/dev/mapper/b1 /srv/b2 ext4 _netdev,nofail 0 2\n"
				    "/dev/mapper/other /srv/o ext4 defaults 0 2\n"
				    "/dev/mapper/a10 /srv/o ext4 defaults 0 2\n"
				    "/dev/mapper/a1 /srv/manual ext4 noauto 0 0\n"));
	ASSERT_EQ(2, fstab_check(self->e.d, fstab));
	ASSERT_EQ(0, fstab_check(self->e.d, "/nonexistent/fstab"));
}

/* At system shutdown skpd closes its unused mappings, but an initramfs entry (root) is
 * still mounted: it is left to the kernel, and its fstab line needs no _netdev. */
TEST_F(boot, shutdown_leaves_initramfs_entries)
{
	char tab[4 * PATH_MAX], fstab[PATH_MAX + 16];

	snprintf(tab, sizeof(tab), "a1 %s initramfs\na2 %s\n", self->dev[0], self->dev[2]);
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
	ASSERT_EQ(0, boot_load(self->e.d, 1000));
	ASSERT_NE(NULL, fake_dm_find("a1"));
	ASSERT_NE(NULL, fake_dm_find("a2"));
	snprintf(fstab, sizeof(fstab), "%s/fstab", self->e.dir);
	ASSERT_EQ(0, env_write_file(fstab, "/dev/mapper/a1 / ext4 errors=remount-ro 0 1\n"
				    "/dev/mapper/a2 /srv ext4 defaults 0 2\n"));
	ASSERT_EQ(1, fstab_check(self->e.d, fstab));
	manager_close_unused(self->e.d);
	ASSERT_NE(NULL, fake_dm_find("a1"));
	ASSERT_EQ(NULL, fake_dm_find("a2"));
	ASSERT_EQ(1, self->e.d->n_devs);
	ASSERT_STREQ("a1", self->e.d->devs[0].name);
}

#define EV(s) s, sizeof(s) - 1

/* Which kernel uevents wake entries waiting for a device: a block device's add or change. */
TEST(uevent_block_add_or_change)
{
	ASSERT_EQ(1, uevent_is_block_add(EV("add@/devices/virtual/block/loop0\0ACTION=add\0DEVPATH=/devices/"
						"virtual/block/loop0\0SUBSYSTEM=block\0MAJOR=7\0MINOR=0\0DEVNAME=loop0\0")));
	ASSERT_EQ(1, uevent_is_block_add(EV("change@/devices/virtual/block/loop1\0ACTION=change\0SUBSYSTEM=block\0")));
	ASSERT_EQ(0, uevent_is_block_add(EV("remove@/devices/virtual/block/loop1\0ACTION=remove\0SUBSYSTEM=block\0")));
	ASSERT_EQ(0, uevent_is_block_add(EV("add@/devices/virtual/net/tap0\0ACTION=add\0SUBSYSTEM=net\0")));
	ASSERT_EQ(0, uevent_is_block_add(EV("add@/x\0ACTION=addx\0SUBSYSTEM=blocks\0")));
	/* cut short, no NUL at the end */
	ASSERT_EQ(1, uevent_is_block_add(EV("add@/x\0SUBSYSTEM=block\0ACTION=add")));
	ASSERT_EQ(0, uevent_is_block_add(EV("")));
}

TEST_HARNESS_MAIN
