// SPDX-License-Identifier: GPL-2.0
/*
 * The native provider (lib/native.c).  Backups without a TPM: a round trip, every
 * flipped byte and every truncation refused with nothing returned, a wrong passphrase
 * told apart, a header asking scrypt for too much refused at once.  Then the store on
 * software TPMs (tests/unit/swtpm.h): KEKs survive a new
 * store object (a restart), another TPM cannot read the store, a changed byte in it is
 * refused with the KEKs in memory kept, a backup restores on another TPM with the same
 * bytes, and a restore that conflicts or names another provider changes nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "native.h"
#include "secmem.h"
#include "tpm.h"
#include "wrap.h"
#include "swtpm.h"

static const char text[] =
	"skp-native 1 local\n"
	"kek 0b7c6a2e-1d4f-4c1a-9e55-0a1b2c3d4e5f 2 skp-kek-1 "
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
static const char pass[] = "correct horse battery";

static void make(struct __test_metadata *_metadata, unsigned char **f, size_t *len)
{
	struct skp_err err = {0};

	/* The smallest cost the format takes: the flip tests run scrypt once per byte. */
	ASSERT_EQ(0, skp_native_backup_encode(text, sizeof(text) - 1, pass, strlen(pass), 10, f, len, &err))
		TH_LOG("%s", err.msg);
}

TEST(backup_roundtrip_no_plaintext)
{
	struct skp_err err = {0};
	unsigned char *f = NULL;
	char *p = NULL;
	size_t len = 0, pl = 0;

	make(_metadata, &f, &len);
	ASSERT_EQ(0, memcmp(f, "SKPNATB\1", 8));
	ASSERT_EQ(NULL, memmem(f, len, "0001020304", 10));
	ASSERT_EQ(NULL, memmem(f, len, "skp-kek-1", 9));
	ASSERT_EQ(0, skp_native_backup_decode(f, len, pass, strlen(pass), &p, &pl, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(sizeof(text) - 1, pl);
	ASSERT_STREQ(text, p);
	skp_secmem_free(p, pl + 1);
	free(f);
}

TEST(backup_wrong_passphrase)
{
	struct skp_err err = {0};
	unsigned char *f = NULL;
	char *p = NULL;
	size_t len = 0, pl = 0;

	make(_metadata, &f, &len);
	ASSERT_EQ(-EKEYREJECTED, skp_native_backup_decode(f, len, "correct horse battery!", 22, &p, &pl, &err));
	ASSERT_NE(NULL, strstr(err.msg, "wrong passphrase")) TH_LOG("%s", err.msg);
	ASSERT_EQ(NULL, p);
	ASSERT_EQ(-EKEYREJECTED, skp_native_backup_decode(f, len, "", 0, &p, &pl, &err));
	ASSERT_EQ(NULL, p);
	free(f);
}

TEST(backup_short_passphrase_refused)
{
	struct skp_err err = {0};
	unsigned char *f = NULL;
	size_t len = 0;

	ASSERT_EQ(-EINVAL, skp_native_backup_encode(text, sizeof(text) - 1, "1234567", 7, 10, &f, &len, &err));
	ASSERT_EQ(NULL, f);
}

/* Any byte changed: refused (wrong passphrase for the KDF's inputs, else damaged), nothing returned. */
TEST(backup_every_flipped_byte_refused)
{
	struct skp_err err = {0};
	unsigned char *f = NULL;
	size_t len = 0;

	make(_metadata, &f, &len);
	for (size_t i = 0; i < len; i++) {
		char *p = NULL;
		size_t pl = 0;
		int r;

		f[i] ^= 0x01;
		r = skp_native_backup_decode(f, len, pass, strlen(pass), &p, &pl, &err);
		ASSERT_TRUE(r == -EBADMSG || r == -EKEYREJECTED) TH_LOG("byte %zu: %d %s", i, r, err.msg);
		ASSERT_EQ(NULL, p) TH_LOG("byte %zu", i);
		/* past the KDF's inputs and the check value: a damaged file, not a wrong passphrase */
		if (i >= 44)
			ASSERT_EQ(-EBADMSG, r) TH_LOG("byte %zu: %s", i, err.msg);
		f[i] ^= 0x01;
	}
	free(f);
}

TEST(backup_every_truncation_refused)
{
	struct skp_err err = {0};
	unsigned char *f = NULL;
	size_t len = 0;

	make(_metadata, &f, &len);
	for (size_t l = 0; l < len; l++) {
		char *p = NULL;
		size_t pl = 0;

		ASSERT_EQ(-EBADMSG, skp_native_backup_decode(f, l, pass, strlen(pass), &p, &pl, &err)) TH_LOG("%zu", l);
		ASSERT_EQ(NULL, p);
	}
	free(f);
}

/* A file that asks scrypt for 2^30 x 8 x 128 bytes is refused before any derivation. */
TEST(backup_kdf_bounds)
{
	struct skp_err err = {0};
	unsigned char *f = NULL;
	char *p = NULL;
	size_t len = 0, pl = 0;

	make(_metadata, &f, &len);
	f[9] = 30;
	ASSERT_EQ(-EBADMSG, skp_native_backup_decode(f, len, pass, strlen(pass), &p, &pl, &err));
	ASSERT_NE(NULL, strstr(err.msg, "key derivation")) TH_LOG("%s", err.msg);
	f[9] = 10;
	f[7] = 2;
	ASSERT_EQ(-EBADMSG, skp_native_backup_decode(f, len, pass, strlen(pass), &p, &pl, &err));
	ASSERT_NE(NULL, strstr(err.msg, "version 2")) TH_LOG("%s", err.msg);
	free(f);
}

FIXTURE(store) {
	struct swtpm a, b;
	char dir[64];
};

FIXTURE_SETUP(store)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/skp-native.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, swtpm_start(&self->a));
	ASSERT_EQ(0, swtpm_start(&self->b));
}

FIXTURE_TEARDOWN(store)
{
	char cmd[128];

	swtpm_stop(&self->a);
	swtpm_stop(&self->b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		return;
}

static struct skp_native *store(struct __test_metadata *_metadata, const char *base, const char *host,
				const char *name, const char *tcti)
{
	struct skp_err err = {0};
	char dir[128];
	struct skp_native *n;

	snprintf(dir, sizeof(dir), "%s/%s/%s", base, host, name);
	n = skp_native_new(dir, name, tcti, &err);
	if (!n)
		TH_LOG("%s", err.msg);
	return n;
}

static void get(struct __test_metadata *_metadata, struct skp_native *n, const char *uid, unsigned char *out,
		int *state)
{
	struct skp_err err = {0};
	unsigned char *k = NULL;

	ASSERT_EQ(0, skp_native_get(n, uid, &k, state, &err)) TH_LOG("%s", err.msg);
	memcpy(out, k, SKP_KEK_LEN);
	skp_secmem_free(k, SKP_KEK_LEN);
}

static int file_has(const char *path, const unsigned char *what, size_t len)
{
	FILE *f = fopen(path, "rb");
	static unsigned char buf[1 << 16];
	size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

	if (f)
		fclose(f);
	return memmem(buf, n, what, len) != NULL;
}

TEST_F(store, keks_survive_restart_and_stay_on_this_tpm)
{
	struct skp_native *n = store(_metadata, self->dir, "a", "local", self->a.tcti), *m, *x;
	unsigned char k1[SKP_KEK_LEN], k2[SKP_KEK_LEN], again[SKP_KEK_LEN], *key = NULL;
	char uid1[64], uid2[64], path[160], cmd[800];
	struct skp_err err = {0};
	struct stat st;
	int state = 0;

	ASSERT_NE(NULL, n);
	ASSERT_EQ(0, skp_native_load(n, &err)) TH_LOG("%s", err.msg);	/* no file: empty */
	ASSERT_EQ(0, skp_native_count(n));
	ASSERT_EQ(0, skp_native_create(n, "skp-dev-1", uid1, sizeof(uid1), &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, skp_native_create(n, "skp-dev-2", uid2, sizeof(uid2), &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(36, strlen(uid1));
	ASSERT_STRNE(uid1, uid2);
	get(_metadata, n, uid1, k1, &state);
	ASSERT_EQ(2, state);
	get(_metadata, n, uid2, k2, &state);
	ASSERT_NE(0, memcmp(k1, k2, SKP_KEK_LEN));
	snprintf(path, sizeof(path), "%s/a/local/keys.sealed", self->dir);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(0600, st.st_mode & 0777);
	/* Neither the key bytes nor their hex are in the file. */
	ASSERT_FALSE(file_has(path, k1, SKP_KEK_LEN));
	ASSERT_FALSE(file_has(path, (unsigned char *)uid1, strlen(uid1)));

	/* A restart: a new object reads the same KEKs. */
	m = store(_metadata, self->dir, "a", "local", self->a.tcti);
	ASSERT_EQ(0, skp_native_load(m, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(2, skp_native_count(m));
	get(_metadata, m, uid1, again, &state);
	ASSERT_EQ(0, memcmp(k1, again, SKP_KEK_LEN));
	/* Revoked by one, seen by the other after a re-read (a KEK it misses). */
	ASSERT_EQ(0, skp_native_revoke(m, uid2, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, skp_native_load(n, &err));
	get(_metadata, n, uid2, again, &state);
	ASSERT_EQ(3, state);
	ASSERT_EQ(-ENOENT, skp_native_get(n, "no-such-kek", &key, &state, &err));
	ASSERT_NE(NULL, strstr(err.msg, "holds no KEK no-such-kek")) TH_LOG("%s", err.msg);
	ASSERT_EQ(NULL, key);

	/* The store copied to another host: its TPM cannot read it, nothing loaded. */
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/b/local && cp %s %s/b/local/", self->dir, path, self->dir);
	ASSERT_EQ(0, system(cmd));
	x = store(_metadata, self->dir, "b", "local", self->b.tcti);
	ASSERT_EQ(-EKEYREJECTED, skp_native_load(x, &err));
	ASSERT_NE(NULL, strstr(err.msg, "not made by this TPM")) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, skp_native_count(x));
	ASSERT_GT(0, skp_native_create(x, "skp-dev-3", uid1, sizeof(uid1), &err));	/* nothing overwritten */
	skp_native_free(x);

	/* A changed byte: refused; the KEKs already in memory stay usable. */
	snprintf(cmd, sizeof(cmd), "printf '\\001' | dd of=%s bs=1 seek=$(( $(stat -c %%s %s) - 30 )) "
		 "conv=notrunc status=none", path, path);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(-EBADMSG, skp_native_load(m, &err));
	ASSERT_EQ(2, skp_native_count(m));
	get(_metadata, m, uid1, again, &state);
	skp_native_free(m);
	skp_native_free(n);
	/* No TPM at all: says a native provider needs one. */
	n = store(_metadata, self->dir, "c", "local", "swtpm:path=/nonexistent/sock");
	ASSERT_GT(0, skp_native_load(n, &err));		/* no store yet, but no TPM either */
	ASSERT_NE(NULL, strstr(err.msg, "native provider \"local\" needs a TPM")) TH_LOG("%s", err.msg);
	ASSERT_GT(0, skp_native_create(n, "skp-dev-4", uid1, sizeof(uid1), &err));
	ASSERT_NE(NULL, strstr(err.msg, "needs a TPM")) TH_LOG("%s", err.msg);
	skp_native_free(n);
}

TEST_F(store, backup_restores_on_another_tpm)
{
	struct skp_native *n = store(_metadata, self->dir, "a", "local", self->a.tcti), *m, *o;
	unsigned char k1[SKP_KEK_LEN], k2[SKP_KEK_LEN], *bk = NULL, *bk2 = NULL;
	char uid1[64], uid2[64], uid3[64];
	struct skp_err err = {0};
	size_t bl = 0, bl2 = 0, added = 9, present = 9;
	int state = 0;

	ASSERT_EQ(0, skp_native_create(n, "skp-dev-1", uid1, sizeof(uid1), &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, skp_native_create(n, "skp-dev-2", uid2, sizeof(uid2), &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, skp_native_backup(n, pass, strlen(pass), &bk, &bl, &err)) TH_LOG("%s", err.msg);
	get(_metadata, n, uid1, k1, &state);
	ASSERT_EQ(NULL, memmem(bk, bl, k1, SKP_KEK_LEN));

	/* Another host: a wrong passphrase and a flipped byte change nothing. */
	m = store(_metadata, self->dir, "b", "local", self->b.tcti);
	ASSERT_EQ(-EKEYREJECTED, skp_native_restore(m, bk, bl, "not the passphrase", 18, &added, &present, &err));
	bk[bl - 1] ^= 1;
	ASSERT_EQ(-EBADMSG, skp_native_restore(m, bk, bl, pass, strlen(pass), &added, &present, &err));
	bk[bl - 1] ^= 1;
	ASSERT_EQ(-EBADMSG, skp_native_restore(m, bk, bl - 1, pass, strlen(pass), &added, &present, &err));
	ASSERT_EQ(0, skp_native_load(m, &err));
	ASSERT_EQ(0, skp_native_count(m));

	ASSERT_EQ(0, skp_native_restore(m, bk, bl, pass, strlen(pass), &added, &present, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(2, added);
	ASSERT_EQ(0, present);
	get(_metadata, m, uid1, k2, &state);
	ASSERT_EQ(0, memcmp(k1, k2, SKP_KEK_LEN));
	/* Again: nothing new, nothing doubled. */
	ASSERT_EQ(0, skp_native_restore(m, bk, bl, pass, strlen(pass), &added, &present, &err));
	ASSERT_EQ(0, added);
	ASSERT_EQ(2, present);
	/* A KEK made there since stays; the store there is sealed by that TPM. */
	ASSERT_EQ(0, skp_native_create(m, "skp-dev-3", uid3, sizeof(uid3), &err)) TH_LOG("%s", err.msg);
	skp_native_free(m);
	m = store(_metadata, self->dir, "b", "local", self->b.tcti);
	ASSERT_EQ(0, skp_native_load(m, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(3, skp_native_count(m));

	/* Another provider's backup: refused, naming it. */
	o = store(_metadata, self->dir, "b", "other", self->b.tcti);
	ASSERT_EQ(-EINVAL, skp_native_restore(o, bk, bl, pass, strlen(pass), &added, &present, &err));
	ASSERT_NE(NULL, strstr(err.msg, "the backup is of provider \"local\"")) TH_LOG("%s", err.msg);
	skp_native_free(o);

	/* A backup whose KEK uid1 has other bytes: the whole restore refused. */
	{
		char t2[512], *u = NULL;
		size_t ul = 0;
		struct skp_native *z;

		ASSERT_EQ(0, skp_native_backup(m, pass, strlen(pass), &bk2, &bl2, &err));
		ASSERT_EQ(0, skp_native_backup_decode(bk2, bl2, pass, strlen(pass), &u, &ul, &err));
		free(bk2);
		bk2 = NULL;
		/* uid1's line with its key changed, plus a KEK the store lacks */
		snprintf(t2, sizeof(t2), "skp-native 1 local\nkek %s 2 skp-dev-1 %064d\n"
			 "kek 11111111-2222-4333-8444-555555555555 2 skp-new 1%063d\n", uid1, 0, 0);
		skp_secmem_free(u, ul + 1);
		ASSERT_EQ(0, skp_native_backup_encode(t2, strlen(t2), pass, strlen(pass), 10, &bk2, &bl2, &err));
		z = store(_metadata, self->dir, "b", "local", self->b.tcti);
		ASSERT_EQ(-EEXIST, skp_native_restore(z, bk2, bl2, pass, strlen(pass), &added, &present, &err));
		ASSERT_NE(NULL, strstr(err.msg, "other key bytes")) TH_LOG("%s", err.msg);
		ASSERT_EQ(0, skp_native_load(z, &err));
		ASSERT_EQ(3, skp_native_count(z));
		skp_native_free(z);
	}
	free(bk);
	free(bk2);
	skp_native_free(m);
	skp_native_free(n);
}

TEST_HARNESS_MAIN
