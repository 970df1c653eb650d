// SPDX-License-Identifier: GPL-2.0
/*
 * Deep-rekey records and crash recovery (daemon/lib/reencrypt.c) on a plain file
 * standing in for the device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "hex.h"
#include "io.h"
#include "reencrypt.h"

/* IEEE 1619-2007 XTS-AES test vector 10 (XTS-AES-256, data unit 512 bytes, unit 0xff),
 * as carried in Linux crypto/testmgr.h aes_xts_tv_template. */
static const char vec10_key[] = "27182818284590452353602874713526624977572470936999595749669676273141592653589793238462643383279502884197169399375105820974944592";
static const char vec10_ct[] =
	"1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
	"5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"
	"5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"
	"c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"
	"2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"
	"b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"
	"93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
	"583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"
	"84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"
	"505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"
	"9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"
	"a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"
	"6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"
	"645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
	"1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"
	"773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151";


TEST(xts_matches_ieee1619_vector10)
{
	struct skp_renc_geom g = { .sector_size = 512 };
	unsigned char key[64], pt[512], ct[512], out[512];
	struct skp_err err = { 0 };

	ASSERT_EQ(64, unhex(vec10_key, key));
	ASSERT_EQ(512, unhex(vec10_ct, ct));
	for (int i = 0; i < 512; i++)
		pt[i] = (unsigned char)i;
	ASSERT_EQ(0, skp_xts_sector(&g, key, 64, 1, 0xff, pt, out, &err));
	ASSERT_EQ(0, memcmp(out, ct, 512));
	ASSERT_EQ(0, skp_xts_sector(&g, key, 64, 0, 0xff, ct, out, &err));
	ASSERT_EQ(0, memcmp(out, pt, 512));
	/* iv_offset shifts the IV exactly as a different sector number would. */
	g.iv_offset = 0x7f;
	ASSERT_EQ(0, skp_xts_sector(&g, key, 64, 1, 0x80, pt, out, &err));
	ASSERT_EQ(0, memcmp(out, ct, 512));
	/* With 4096-byte sectors and iv_large_sectors, sector 8*0xff has IV 0xff. */
	g.iv_offset = 0;
	g.sector_size = 4096;
	g.iv_large_sectors = 1;
	{
		unsigned char big[4096], bigout[4096];

		for (int i = 0; i < 4096; i++)
			big[i] = (unsigned char)i;
		ASSERT_EQ(0, skp_xts_sector(&g, key, 64, 1, 8 * 0xff, big, bigout, &err));
		ASSERT_EQ(0, memcmp(bigout, ct, 512));	/* same first XTS block chain */
	}
}

#define DEV_SECTORS 4096u		/* 2 MiB of data */
#define RESIL_OFF 4096u
#define DATA_OFF (RESIL_OFF + 2 * SKP_RENC_SLOT_SIZE)

FIXTURE(dev) {
	char path[64];
	int fd;
	struct skp_renc_geom g;
	unsigned char uuid[16], old_dek[64], new_dek[64], key[32];
	unsigned char *plain, *buf;
	struct skp_renc_rec *rec, *got;
};

FIXTURE_VARIANT(dev) {
	uint32_t sector_size;
	int iv_large;
};
FIXTURE_VARIANT_ADD(dev, s512) { .sector_size = 512, .iv_large = 0 };
FIXTURE_VARIANT_ADD(dev, s4096_large) { .sector_size = 4096, .iv_large = 1 };

static void write_all(struct __test_metadata *_metadata, FIXTURE_DATA(dev) *self,
		      const unsigned char *dek)
{
	uint32_t ss = self->g.sector_size;
	unsigned char buf[4096];

	for (uint64_t s = 0; s < DEV_SECTORS; s += ss / 512) {
		ASSERT_EQ(0, skp_xts_sector(&self->g, dek, 64, 1, s, self->plain + s * 512, buf, NULL));
		ASSERT_EQ(0, skp_pwrite_full(self->fd, buf, ss, DATA_OFF + s * 512));
	}
}

/* Every sector below boundary decrypts under new_dek, the rest under old_dek. */
static int data_ok(FIXTURE_DATA(dev) *self, uint64_t boundary)
{
	uint32_t ss = self->g.sector_size;
	unsigned char buf[4096], out[4096];

	for (uint64_t s = 0; s < DEV_SECTORS; s += ss / 512) {
		if (skp_pread_full(self->fd, buf, ss, DATA_OFF + s * 512))
			return 0;
		if (skp_xts_sector(&self->g, s < boundary ? self->new_dek : self->old_dek, 64, 0,
				   s, buf, out, NULL))
			return 0;
		if (memcmp(out, self->plain + s * 512, ss))
			return 0;
	}
	return 1;
}

/* What the kernel's reencrypt message does to one crypto sector. */
static void kernel_rewrite(FIXTURE_DATA(dev) *self, uint64_t s)
{
	unsigned char buf[4096], out[4096];
	uint32_t ss = self->g.sector_size;

	skp_pread_full(self->fd, buf, ss, DATA_OFF + s * 512);
	skp_xts_sector(&self->g, self->old_dek, 64, 0, s, buf, out, NULL);
	skp_xts_sector(&self->g, self->new_dek, 64, 1, s, out, buf, NULL);
	skp_pwrite_full(self->fd, buf, ss, DATA_OFF + s * 512);
}

/* Writes a record with no hotzone: seq in slot seq % 2, as skpd's alternation does. */
static int put_rec(FIXTURE_DATA(dev) *self, uint64_t seq, uint64_t boundary)
{
	self->rec->seq = seq;
	self->rec->boundary = boundary;
	self->rec->hot_len = 0;
	return skp_renc_rec_write(self->fd, RESIL_OFF, self->rec, self->key, NULL);
}

FIXTURE_SETUP(dev)
{
	strcpy(self->path, "/tmp/skp-test-renc.XXXXXX");
	self->fd = mkstemp(self->path);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, ftruncate(self->fd, DATA_OFF + DEV_SECTORS * 512));
	self->g = (struct skp_renc_geom){ .data_offset = DATA_OFF, .length = DEV_SECTORS,
		.sector_size = variant->sector_size, .iv_large_sectors = variant->iv_large };
	for (int i = 0; i < 64; i++) {
		self->old_dek[i] = (unsigned char)(i * 7 + 1);
		self->new_dek[i] = (unsigned char)(i * 13 + 5);
	}
	memset(self->uuid, 0xab, 16);
	self->plain = malloc(DEV_SECTORS * 512);
	for (size_t i = 0; i < DEV_SECTORS * 512; i++)
		self->plain[i] = (unsigned char)(rand() >> 7);
	self->rec = calloc(1, sizeof(*self->rec));
	self->got = calloc(1, sizeof(*self->got));
	ASSERT_EQ(0, posix_memalign((void **)&self->buf, SKP_RENC_BUF_ALIGN, SKP_RENC_BUF_SIZE));
	ASSERT_EQ(0, skp_renc_key(self->old_dek, self->new_dek, 64, self->uuid, self->key, NULL));
	write_all(_metadata, self, self->old_dek);
	memcpy(self->rec->uuid, self->uuid, 16);
	self->rec->old_gen = 1;
	self->rec->new_gen = 2;
	self->rec->sector_size = variant->sector_size;
	self->rec->length = DEV_SECTORS;
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
	unlink(self->path);
	free(self->plain);
	free(self->rec);
	free(self->got);
	free(self->buf);
}

TEST_F(dev, no_record_is_enodata)
{
	struct skp_err err = { 0 };

	ASSERT_EQ(-ENODATA, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid,
					     self->key, self->got, &err));
}

TEST_F(dev, newest_record_wins_and_round_trips)
{
	struct skp_err err = { 0 };

	self->rec->seq = 1;
	self->rec->boundary = 0;
	self->rec->hot_len = 1024;
	ASSERT_EQ(0, skp_renc_sample_hotzone(self->fd, &self->g, self->rec, self->buf, &err));
	ASSERT_EQ(0, skp_renc_rec_write(self->fd, RESIL_OFF, self->rec, self->key, &err));
	self->rec->seq = 2;
	self->rec->boundary = 1024;
	self->rec->flags = SKP_RENC_PAUSED;
	self->rec->rate_mib = 50;
	ASSERT_EQ(0, skp_renc_sample_hotzone(self->fd, &self->g, self->rec, self->buf, &err));
	ASSERT_EQ(0, skp_renc_rec_write(self->fd, RESIL_OFF, self->rec, self->key, &err));
	ASSERT_EQ(0, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
				       self->got, &err));
	EXPECT_EQ(2, self->got->seq);
	EXPECT_EQ(1024, self->got->boundary);
	EXPECT_EQ(1024, self->got->hot_len);
	EXPECT_EQ(SKP_RENC_PAUSED, self->got->flags);
	EXPECT_EQ(50, self->got->rate_mib);
	EXPECT_EQ(0, memcmp(self->got->samples, self->rec->samples, 1024 * SKP_RENC_SAMPLE_LEN));
	/* A torn newer record: the older one is used. */
	ASSERT_EQ(0, skp_pwrite_full(self->fd, "XX", 2, RESIL_OFF + 0 * SKP_RENC_SLOT_SIZE + 100));
	ASSERT_EQ(0, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
				       self->got, &err));
	EXPECT_EQ(1, self->got->seq);
	EXPECT_EQ(0, self->got->boundary);
}

/* Any single altered byte of a record (fields or samples) makes it refused, not used. */
TEST_F(dev, forged_record_refused)
{
	struct skp_err err = { 0 };
	static const unsigned int offs[] = { 8, 12, 16, 24, 40, 48, 56, 60, 64, 72, 80, 88, 92, 96,
					     128, 200 };
	unsigned char b;

	/* Both slots hold a record (as during any rekey); the same byte flipped in both. */
	self->rec->boundary = 64;
	self->rec->hot_len = 64;
	ASSERT_EQ(0, skp_renc_sample_hotzone(self->fd, &self->g, self->rec, self->buf, &err));
	for (self->rec->seq = 2; self->rec->seq <= 3; self->rec->seq++)
		ASSERT_EQ(0, skp_renc_rec_write(self->fd, RESIL_OFF, self->rec, self->key, &err));
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		if (offs[i] >= 128 + self->rec->hot_len * SKP_RENC_SAMPLE_LEN)
			continue;
		for (int slot = 0; slot < 2; slot++) {
			uint64_t off = RESIL_OFF + slot * SKP_RENC_SLOT_SIZE + offs[i];

			ASSERT_EQ(0, skp_pread_full(self->fd, &b, 1, off));
			b ^= 0x01;
			ASSERT_EQ(0, skp_pwrite_full(self->fd, &b, 1, off));
		}
		EXPECT_EQ(-EBADMSG, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid,
						      self->key, self->got, &err)) {
			TH_LOG("flip at record byte %u accepted", offs[i]);
		}
		for (int slot = 0; slot < 2; slot++) {
			uint64_t off = RESIL_OFF + slot * SKP_RENC_SLOT_SIZE + offs[i];

			ASSERT_EQ(0, skp_pread_full(self->fd, &b, 1, off));
			b ^= 0x01;
			ASSERT_EQ(0, skp_pwrite_full(self->fd, &b, 1, off));
		}
	}
	/* Intact again: accepted.  Under a key from other DEKs: refused. */
	ASSERT_EQ(0, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
				       self->got, &err));
	self->key[0] ^= 1;
	ASSERT_EQ(-EBADMSG, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid,
					      self->key, self->got, &err));
	self->key[0] ^= 1;
	/* Authentic but describing another device geometry: refused. */
	self->g.length = DEV_SECTORS * 2;
	ASSERT_EQ(-EBADMSG, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid,
					      self->key, self->got, &err));
	ASSERT_NE(NULL, strstr(err.msg, "length"));
}

/* A crash at every point of a hotzone's rewrite is repaired: the data stays intact. */
TEST_F(dev, recovery_after_partial_rewrite)
{
	uint32_t spb = variant->sector_size / 512;
	struct skp_err err = { 0 };
	uint64_t redone, hot = 1024, done;

	/* Rekey the first hotzone completely, then crash at each step of the second. */
	for (uint64_t s = 0; s < hot; s += spb)
		kernel_rewrite(self, s);
	ASSERT_TRUE(data_ok(self, hot));
	ASSERT_EQ(0, put_rec(self, 1, hot));
	self->rec->seq = 2;
	self->rec->boundary = hot;
	self->rec->hot_len = hot;
	ASSERT_EQ(0, skp_renc_sample_hotzone(self->fd, &self->g, self->rec, self->buf, &err));
	ASSERT_EQ(0, skp_renc_rec_write(self->fd, RESIL_OFF, self->rec, self->key, &err));
	/* Sectors rewritten in a scrambled order, as a disk may persist them. */
	done = 0;
	for (uint64_t k = 0; k < hot / spb; k += 3) {
		kernel_rewrite(self, hot + ((k * 37) % (hot / spb)) * spb);
		done += spb;
	}
	ASSERT_FALSE(data_ok(self, hot));
	ASSERT_FALSE(data_ok(self, 2 * hot));
	ASSERT_EQ(0, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
				       self->got, &err));
	ASSERT_EQ(0, skp_renc_recover(self->fd, &self->g, self->got, self->old_dek, self->new_dek,
				      64, &redone, NULL, &err));
	EXPECT_EQ(hot - done, redone);
	ASSERT_TRUE(data_ok(self, 2 * hot));
	/* Recovery again (a crash during recovery) changes nothing. */
	ASSERT_EQ(0, skp_renc_recover(self->fd, &self->g, self->got, self->old_dek, self->new_dek,
				      64, &redone, NULL, &err));
	EXPECT_EQ(0, redone);
	ASSERT_TRUE(data_ok(self, 2 * hot));
	ASSERT_EQ(0, skp_renc_rec_clear(self->fd, RESIL_OFF, &err));
	ASSERT_EQ(-ENODATA, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid,
					      self->key, self->got, &err));
}

/*
 * A crypto sector whose write the disk tore at a 512-byte boundary (some parts new, the
 * rest old) is repaired part by part; with 512-byte crypto sectors there is nothing to
 * tear, so the variant only checks that whole sectors stay whole.
 */
TEST_F(dev, recovery_of_torn_sectors)
{
	uint32_t ss = variant->sector_size, spb = ss / 512;
	unsigned char before[4096], after[4096];
	struct skp_err err = { 0 };
	uint64_t redone, torn, hot = 64, parts_old = 0, want_torn = 0;

	self->rec->seq = 1;
	self->rec->boundary = hot;
	self->rec->hot_len = hot;
	ASSERT_EQ(0, skp_renc_sample_hotzone(self->fd, &self->g, self->rec, self->buf, &err));
	ASSERT_EQ(0, skp_renc_rec_write(self->fd, RESIL_OFF, self->rec, self->key, &err));
	for (uint64_t s = 0; s < hot; s += spb) {
		uint64_t sector = hot + s, off = DATA_OFF + sector * 512;
		unsigned int keep_old = (unsigned int)((s / spb) * 0x5b) & ((1u << spb) - 1);

		/* The rewrite, then put back the parts the tear kept old. */
		ASSERT_EQ(0, skp_pread_full(self->fd, before, ss, off));
		kernel_rewrite(self, sector);
		ASSERT_EQ(0, skp_pread_full(self->fd, after, ss, off));
		for (uint32_t k = 0; k < spb; k++)
			if (keep_old & (1u << k))
				memcpy(after + k * 512, before + k * 512, 512);
		ASSERT_EQ(0, skp_pwrite_full(self->fd, after, ss, off));
		parts_old += (uint64_t)__builtin_popcount(keep_old);
		want_torn += keep_old && keep_old != (1u << spb) - 1;
	}
	if (spb > 1)
		ASSERT_GT(want_torn, 4);
	ASSERT_EQ(0, skp_renc_recover(self->fd, &self->g, self->rec, self->old_dek, self->new_dek,
				      64, &redone, &torn, &err));
	EXPECT_EQ(parts_old, redone);
	EXPECT_EQ(want_torn, torn);
	/* Below hot is still old; the hotzone is wholly new: check the hotzone alone. */
	for (uint64_t s = hot; s < 2 * hot; s += spb) {
		ASSERT_EQ(0, skp_pread_full(self->fd, before, ss, DATA_OFF + s * 512));
		ASSERT_EQ(0, skp_xts_sector(&self->g, self->new_dek, 64, 0, s, before, after, &err));
		ASSERT_EQ(0, memcmp(after, self->plain + s * 512, ss)) {
			TH_LOG("sector %llu wrong after recovery", (unsigned long long)s);
		}
	}
}

/*
 * During a rekey both slots always hold a record (skpd writes two before the header names
 * the rekey).  An erased slot is refused, not taken as "the other record is the newest":
 * that would move the boundary back and re-encrypt new data with the old key.
 */
TEST_F(dev, erased_record_refused)
{
	static const unsigned char zero[8];
	struct skp_err err = { 0 };

	ASSERT_EQ(0, put_rec(self, 1, 0));
	ASSERT_EQ(0, put_rec(self, 2, 1024));
	ASSERT_EQ(0, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
				       self->got, &err));
	EXPECT_EQ(2, self->got->seq);
	/* The newest slot's magic zeroed: refused, naming what was found. */
	ASSERT_EQ(0, skp_pwrite_full(self->fd, zero, 8, RESIL_OFF));
	EXPECT_EQ(-ESTALE, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
					     self->got, &err));
	EXPECT_NE(NULL, strstr(err.msg, "slot 0 is empty")) TH_LOG("%s", err.msg);
	/* The older one's instead: refused too. */
	ASSERT_EQ(0, put_rec(self, 2, 1024));
	ASSERT_EQ(0, skp_pwrite_full(self->fd, zero, 8, RESIL_OFF + SKP_RENC_SLOT_SIZE));
	EXPECT_EQ(-ESTALE, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
					     self->got, &err));
	/* Both: no record at all, which the caller must tell from "not started". */
	ASSERT_EQ(0, skp_pwrite_full(self->fd, zero, 8, RESIL_OFF));
	EXPECT_EQ(-ENODATA, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
					      self->got, &err));
}

/* An authentic older record put back into one slot, or a record copied to the other slot. */
TEST_F(dev, replayed_record_refused)
{
	unsigned char *old1 = malloc(4096), *cur = malloc(4096);
	struct skp_err err = { 0 };

	ASSERT_EQ(0, put_rec(self, 1, 0));
	ASSERT_EQ(0, skp_pread_full(self->fd, old1, 4096, RESIL_OFF + SKP_RENC_SLOT_SIZE));
	for (uint64_t s = 2; s <= 5; s++)
		ASSERT_EQ(0, put_rec(self, s, (s - 1) * 256));
	/* Slots: 4 (0) and 5 (1).  Record 1 back into slot 1: 4 and 1 are not consecutive. */
	ASSERT_EQ(0, skp_pread_full(self->fd, cur, 4096, RESIL_OFF + SKP_RENC_SLOT_SIZE));
	ASSERT_EQ(0, skp_pwrite_full(self->fd, old1, 4096, RESIL_OFF + SKP_RENC_SLOT_SIZE));
	EXPECT_EQ(-ESTALE, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
					     self->got, &err));
	EXPECT_NE(NULL, strstr(err.msg, "not consecutive")) TH_LOG("%s", err.msg);
	/* Record 5 in both slots: the copy in slot 0 is in the wrong slot. */
	ASSERT_EQ(0, skp_pwrite_full(self->fd, cur, 4096, RESIL_OFF));
	ASSERT_EQ(0, skp_pwrite_full(self->fd, cur, 4096, RESIL_OFF + SKP_RENC_SLOT_SIZE));
	EXPECT_EQ(-ESTALE, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
					     self->got, &err));
	EXPECT_NE(NULL, strstr(err.msg, "wrong slot")) TH_LOG("%s", err.msg);
	/* Put right: 4 and 5 again. */
	ASSERT_EQ(0, put_rec(self, 4, 768));
	ASSERT_EQ(0, skp_renc_rec_read(self->fd, RESIL_OFF, &self->g, self->uuid, self->key,
				       self->got, &err));
	EXPECT_EQ(5, self->got->seq);
	EXPECT_EQ(1024, self->got->boundary);
	free(old1);
	free(cur);
}

TEST_HARNESS_MAIN
