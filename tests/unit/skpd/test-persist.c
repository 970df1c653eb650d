// SPDX-License-Identifier: GPL-2.0
/*
 * key_persistence = tpm (daemon/skpd/persist.c) over the fakes, with software TPMs
 * (tests/unit/swtpm.h): a device formatted and opened through the KMS, its
 * KEK sealed; then skpd restarted with the KMS down opens it from the sealed set; with
 * another TPM, a flipped byte or a PCR extended after sealing nothing opens, nothing is
 * loaded and the file is kept aside.  The KEK bytes are in no file of the directory.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "boot.h"
#include "env.h"
#include "fake-dm.h"
#include "fake-kms.h"
#include "keks.h"
#include "persist.h"
#include "skpd.h"
#include "../swtpm.h"

FIXTURE(persist) {
	struct env e;
	struct swtpm a, b;
	char dev[PATH_MAX + 32], keks[PATH_MAX + 32], sealed[PATH_MAX + 48];
	unsigned char kek[SKP_KEK_LEN];
	char uid[SKP_KEK_UID_MAX];
	struct skp_err err;
};

/* skpd.conf with key_persistence = tpm on this TPM, these PCRs. */
static int conf(FIXTURE_DATA(persist) *self, const struct swtpm *w, const char *pcrs)
{
	char text[8192], *t;
	FILE *f = fopen(self->e.conf, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	t = strstr(text, "\n[provider");
	if (!t)
		return -1;
	f = fopen(self->e.conf, "w");
	if (!f)
		return -1;
	fprintf(f, "[skpd]\nskptab = %s\ntarget = skp\nkey_persistence = tpm\nkey_persistence_dir = %s\n"
		"tpm_tcti = %s\ntpm_pcrs = %s\n%s", self->e.skptab, self->keks, w->tcti, pcrs, t);
	return fclose(f);
}

/* skpd restarted as after a reboot: the mapping gone, persisted KEKs loaded, skptab opened. */
static int reboot(FIXTURE_DATA(persist) *self)
{
	skpd_persist_stop();
	env_stop(&self->e);
	fake_dm_forget("a1");
	if (env_start(&self->e, &self->err) < 0)
		return -1;
	skpd_persist_start(self->e.d);
	return skpd_boot_open(self->e.d);
}

FIXTURE_SETUP(persist)
{
	static const char *const provs[] = {"kmsA"};
	struct skp_header h;
	unsigned char dek[SKP_DEK_LEN];
	char tab[PATH_MAX + 64];

	if (geteuid())
		SKIP(return, "persisted files must be root's");
	ASSERT_EQ(0, swtpm_start(&self->a));
	ASSERT_EQ(0, swtpm_start(&self->b));
	ASSERT_EQ(0, env_init(&self->e, provs, 1, &self->err)) TH_LOG("%s", self->err.msg);
	snprintf(self->keks, sizeof(self->keks), "%s/keks", self->e.dir);
	snprintf(self->sealed, sizeof(self->sealed), "%s/keks.sealed", self->keks);
	ASSERT_EQ(0, conf(self, &self->a, "none"));
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_dev(&self->e, "a1", 1, self->dev, sizeof(self->dev)));
	ASSERT_EQ(0, env_format(&self->e, self->dev, NULL, 0, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_dek(self->dev, 0, dek, &h));
	snprintf(self->uid, sizeof(self->uid), "%s", h.slot[0].kek_uid);
	memcpy(self->kek, fake_kms_key(fake_kms("kmsA"), h.slot[0].kek_uid)->key, SKP_KEK_LEN);
	snprintf(tab, sizeof(tab), "a1 %s -\n", self->dev);
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
}

FIXTURE_TEARDOWN(persist)
{
	skpd_persist_stop();
	if (self->e.dir[0])
		env_cleanup(&self->e);
	fake_dm_forget("a1");
	fake_kms("kmsA")->down = 0;
	swtpm_stop(&self->a);
	swtpm_stop(&self->b);
}

/* Opened through the KMS, then its KEK sealed with the first TPM. */
static void seal_first(struct __test_metadata *_metadata, FIXTURE_DATA(persist) *self)
{
	struct stat st;

	ASSERT_EQ(0, reboot(self));
	ASSERT_TRUE(fake_dm_find("a1") != NULL);
	skpd_persist_sync(self->e.d);
	ASSERT_EQ(0, stat(self->sealed, &st));
	ASSERT_EQ(0600, st.st_mode & 0777);
	fake_kms("kmsA")->down = 1;
}

/* The KEK in no file of the persistence directory, neither in binary nor in hex. */
static int kek_on_disk(FIXTURE_DATA(persist) *self)
{
	char hex[2 * SKP_KEK_LEN + 1], path[PATH_MAX + 300], buf[65536];
	struct dirent *de;
	DIR *dir = opendir(self->keks);
	int found = 0;

	for (int i = 0; i < SKP_KEK_LEN; i++)
		sprintf(hex + 2 * i, "%02x", self->kek[i]);
	while (dir && (de = readdir(dir))) {
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "%s/%s", self->keks, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		if (memmem(buf, n, self->kek, SKP_KEK_LEN) || memmem(buf, n, hex, 2 * SKP_KEK_LEN))
			found = 1;
	}
	if (dir)
		closedir(dir);
	return found;
}

TEST_F(persist, kms_down_opens_from_sealed_set)
{
	seal_first(_metadata, self);
	ASSERT_EQ(0, kek_on_disk(self));
	ASSERT_EQ(0, reboot(self)) TH_LOG("the KMS is down: the KEK came from the sealed set");
	ASSERT_TRUE(fake_dm_find("a1") != NULL);
	ASSERT_EQ(0, kek_on_disk(self));
}

/* What skpd_persist_sync logs (stderr, as skpd's log), NUL-terminated in buf. */
static void sync_logged(FIXTURE_DATA(persist) *self, char *buf, size_t size)
{
	FILE *t = tmpfile();
	int saved = dup(2);
	size_t n = 0;

	fflush(stderr);
	if (t && saved >= 0 && dup2(fileno(t), 2) >= 0) {
		skpd_persist_sync(self->e.d);
		fflush(stderr);
		dup2(saved, 2);
		rewind(t);
		n = fread(buf, 1, size - 1, t);
	}
	buf[n] = '\0';
	if (saved >= 0)
		close(saved);
	if (t)
		fclose(t);
}

/*
 * Root (skptab option initramfs): the initramfs's copy of the sealed set is as old as its
 * last update-initramfs.  A KEK new to the file is new to that copy: skpd says to make it
 * again; a KEK the file held already is not worth a word.
 */
TEST_F(persist, initramfs_entry_new_kek_asks_for_update_initramfs)
{
	char tab[PATH_MAX + 64], log[4096];

	snprintf(tab, sizeof(tab), "a1 %s initramfs\n", self->dev);
	ASSERT_EQ(0, env_write_file(self->e.skptab, tab));
	ASSERT_EQ(0, reboot(self));
	sync_logged(self, log, sizeof(log));
	ASSERT_NE(NULL, strstr(log, "a1 is opened in early boot and its KEK")) TH_LOG("%s", log);
	ASSERT_NE(NULL, strstr(log, "run update-initramfs -u")) TH_LOG("%s", log);
	ASSERT_NE(NULL, strstr(log, self->uid)) TH_LOG("%s", log);

	/* the next start loads the file with that KEK in it: nothing to say */
	ASSERT_EQ(0, reboot(self));
	sync_logged(self, log, sizeof(log));
	ASSERT_NE(NULL, strstr(log, "written to")) TH_LOG("%s", log);
	ASSERT_EQ(NULL, strstr(log, "early boot")) TH_LOG("%s", log);
}

/* Any other device: the initramfs does not open it, no word of update-initramfs. */
TEST_F(persist, other_entry_no_initramfs_word)
{
	char log[4096];

	ASSERT_EQ(0, reboot(self));
	sync_logged(self, log, sizeof(log));
	ASSERT_NE(NULL, strstr(log, "written to")) TH_LOG("%s", log);
	ASSERT_EQ(NULL, strstr(log, "early boot")) TH_LOG("%s", log);
}

TEST_F(persist, other_tpm_opens_nothing)
{
	seal_first(_metadata, self);
	ASSERT_EQ(0, conf(self, &self->b, "none"));
	ASSERT_EQ(-1, reboot(self));
	ASSERT_EQ(NULL, fake_dm_find("a1"));
	ASSERT_EQ(NULL, kek_cache_get(self->e.d, "kmsA", self->uid));
	/* Kept aside, not overwritten by the next write. */
	strcat(self->sealed, ".rejected");
	ASSERT_EQ(0, access(self->sealed, F_OK));
}

TEST_F(persist, flipped_byte_opens_nothing)
{
	FILE *f;
	int c;

	seal_first(_metadata, self);
	f = fopen(self->sealed, "r+");
	ASSERT_TRUE(f != NULL);
	fseek(f, -30, SEEK_END);
	c = fgetc(f);
	fseek(f, -30, SEEK_END);
	fputc(c ^ 0x10, f);
	fclose(f);
	ASSERT_EQ(-1, reboot(self));
	ASSERT_EQ(NULL, fake_dm_find("a1"));
	ASSERT_EQ(NULL, kek_cache_get(self->e.d, "kmsA", self->uid));
}

TEST_F(persist, pcr_extended_after_sealing_opens_nothing)
{
	char cmd[256];

	ASSERT_EQ(0, conf(self, &self->a, "7,16"));
	seal_first(_metadata, self);
	ASSERT_EQ(0, reboot(self)) TH_LOG("PCRs unchanged: opens");
	skpd_persist_stop();
	snprintf(cmd, sizeof(cmd), "tpm2_pcrextend -T '%s' 16:sha256=%064d >/dev/null", self->a.tcti, 0);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(-1, reboot(self));
	ASSERT_EQ(NULL, fake_dm_find("a1"));
	ASSERT_EQ(NULL, kek_cache_get(self->e.d, "kmsA", self->uid));
}

TEST_HARNESS_MAIN
