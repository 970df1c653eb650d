// SPDX-License-Identifier: GPL-2.0
/* On-disk header: round trip, two-copy crash behaviour, strict parsing, MAC. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kselftest_harness.h"
#include "header.h"

#define DEV_SIZE (64ull << 20)

static void make_header(struct skp_header *h, unsigned char *dek)
{
	struct skp_err err = {0};
	unsigned char kek[32];
	size_t wl = 0;

	memset(kek, 7, sizeof(kek));
	skp_header_init(h, DEV_SIZE, 4096, "test label", &err);
	skp_dek_generate(dek, SKP_DEK_LEN, &err);
	h->slot[0].state = SKP_SLOT_ACTIVE;
	h->slot[0].dek_len = SKP_DEK_LEN;
	h->slot[0].generation = 1;
	strcpy(h->slot[0].provider, "corp-kms");
	strcpy(h->slot[0].kek_uid, "1234");
	strcpy(h->slot[0].kek_name, "skp-kek-test");
	skp_wrap(kek, 32, dek, SKP_DEK_LEN, h->slot[0].wrapped, sizeof(h->slot[0].wrapped), &wl, &err);
	h->slot[0].wrapped_len = (uint32_t)wl;
}

static int tmpdev(void)
{
	char path[] = "/tmp/skp-test-hdr.XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	if (ftruncate(fd, DEV_SIZE) < 0)
		return -1;
	return fd;
}

static void fix_sum(unsigned char *copy)
{
	unsigned int n = 32;

	EVP_Digest(copy, 4064, copy + 4064, &n, EVP_sha256(), NULL);
}

TEST(init_validates)
{
	struct skp_header h;
	struct skp_err err = {0};

	ASSERT_EQ(-EINVAL, skp_header_init(&h, DEV_SIZE, 1000, NULL, &err));
	ASSERT_EQ(-ENOSPC, skp_header_init(&h, 16ull << 20, 512, NULL, &err));
	ASSERT_EQ(-EINVAL, skp_header_init(&h, DEV_SIZE, 512, "bad\nlabel", &err));
	ASSERT_EQ(0, skp_header_init(&h, DEV_SIZE + 1000, 4096, "ok", &err));
	ASSERT_EQ(SKP_DATA_OFFSET, h.data_offset);
	ASSERT_EQ(0, h.data_offset % (1u << 20));
	ASSERT_EQ(DEV_SIZE - SKP_DATA_OFFSET, h.data_length);
}

TEST(write_read_verify)
{
	struct skp_header h, r;
	struct skp_header_info info;
	struct skp_err err = {0};
	unsigned char dek[SKP_DEK_LEN], other[SKP_DEK_LEN];
	const unsigned char *deks[2] = {dek, NULL};
	int fd = tmpdev();

	make_header(&h, dek);
	ASSERT_EQ(0, skp_header_write(fd, &h, deks, &err));
	ASSERT_EQ(1, h.seq);
	ASSERT_EQ(0, skp_header_read(fd, DEV_SIZE, &r, &info, &err));
	ASSERT_EQ(1, info.copy_ok[0]);
	ASSERT_EQ(1, info.copy_ok[1]);
	ASSERT_EQ(0, memcmp(h.uuid, r.uuid, 16));
	ASSERT_STREQ("corp-kms", r.slot[0].provider);
	ASSERT_STREQ("test label", r.label);
	ASSERT_EQ(0, skp_header_verify(&r, 0, dek, SKP_DEK_LEN, &err));
	memcpy(other, dek, sizeof(other));
	other[0] ^= 1;
	ASSERT_EQ(-EBADMSG, skp_header_verify(&r, 0, other, SKP_DEK_LEN, &err));
	/* A device too small for the recorded data area is refused. */
	ASSERT_NE(0, skp_header_read(fd, DEV_SIZE - 4096, &r, NULL, &err));
	close(fd);
}

TEST(not_an_skp_device)
{
	struct skp_header r;
	struct skp_err err = {0};
	int fd = tmpdev();

	ASSERT_EQ(-ENODATA, skp_header_read(fd, DEV_SIZE, &r, NULL, &err));
	close(fd);
}

/* A crash while writing either copy leaves the other one usable. */
TEST(torn_copy_falls_back)
{
	struct skp_header h, r;
	struct skp_header_info info;
	struct skp_err err = {0};
	unsigned char dek[SKP_DEK_LEN], junk[512];
	const unsigned char *deks[2] = {dek, NULL};
	int fd = tmpdev();

	make_header(&h, dek);
	ASSERT_EQ(0, skp_header_write(fd, &h, deks, &err));
	strcpy(h.label, "second");
	ASSERT_EQ(0, skp_header_write(fd, &h, deks, &err));
	memset(junk, 0xa5, sizeof(junk));
	/* Torn write of copy B: A (seq 2) wins. */
	ASSERT_EQ(sizeof(junk), pwrite(fd, junk, sizeof(junk), SKP_HDR_COPY_B + 1024));
	ASSERT_EQ(0, skp_header_read(fd, DEV_SIZE, &r, &info, &err));
	ASSERT_EQ(0, info.used);
	ASSERT_EQ(0, info.copy_ok[1]);
	ASSERT_STREQ("second", r.label);
	/* Torn write of A during the next update: B still holds the previous state. */
	ASSERT_EQ(0, skp_header_write(fd, &h, deks, &err));
	ASSERT_EQ(sizeof(junk), pwrite(fd, junk, sizeof(junk), SKP_HDR_COPY_A + 100));
	ASSERT_EQ(0, skp_header_read(fd, DEV_SIZE, &r, &info, &err));
	ASSERT_EQ(1, info.used);
	ASSERT_EQ(3, r.seq);
	/* Both torn: refused with a reason per copy. */
	ASSERT_EQ(sizeof(junk), pwrite(fd, junk, sizeof(junk), SKP_HDR_COPY_B + 100));
	ASSERT_EQ(-EBADMSG, skp_header_read(fd, DEV_SIZE, &r, NULL, &err));
	ASSERT_NE(NULL, strstr(err.msg, "checksum"));
	close(fd);
}

/*
 * Every byte of a copy flipped (with the checksum recomputed, as an attacker could):
 * the copy is refused by the parser or fails the MAC.  Nothing passes.
 */
TEST(every_byte_flip_detected)
{
	struct skp_header h, r;
	struct skp_err err = {0};
	unsigned char dek[SKP_DEK_LEN], copy[SKP_HDR_COPY_SIZE], mod[SKP_HDR_COPY_SIZE];
	int parse_refused = 0, mac_refused = 0;

	make_header(&h, dek);
	h.seq = 5;
	ASSERT_EQ(0, skp_header_mac(&h, dek, SKP_DEK_LEN, h.slot[0].mac, &err));
	skp_header_encode(&h, 0, copy);
	ASSERT_EQ(0, skp_header_decode(copy, sizeof(copy), 0, &r, &err));
	ASSERT_EQ(0, skp_header_verify(&r, 0, dek, SKP_DEK_LEN, &err));
	for (int i = 0; i < 4064; i++) {
		memcpy(mod, copy, sizeof(mod));
		mod[i] ^= 0x01;
		fix_sum(mod);
		if (skp_header_decode(mod, sizeof(mod), 0, &r, &err) < 0) {
			parse_refused++;
			continue;
		}
		ASSERT_EQ(-EBADMSG, skp_header_verify(&r, 0, dek, SKP_DEK_LEN, &err)) {
			TH_LOG("flip at byte %d passed", i);
		}
		mac_refused++;
	}
	ASSERT_EQ(4064, parse_refused + mac_refused);
	ASSERT_GT(parse_refused, 3000);
	/* Checksum bytes themselves: the copy no longer verifies. */
	memcpy(mod, copy, sizeof(mod));
	mod[4090] ^= 0x40;
	ASSERT_EQ(-EBADMSG, skp_header_decode(mod, sizeof(mod), 0, &r, &err));
}

TEST(strict_fields)
{
	struct skp_header h, r;
	struct skp_err err = {0};
	unsigned char dek[SKP_DEK_LEN], copy[SKP_HDR_COPY_SIZE];

	make_header(&h, dek);
	h.seq = 1;
	skp_header_encode(&h, 0, copy);
	/* wrong copy offset */
	ASSERT_EQ(-EBADMSG, skp_header_decode(copy, sizeof(copy), SKP_HDR_COPY_B, &r, &err));
	ASSERT_NE(NULL, strstr(err.msg, "offset"));
	/* future major version */
	copy[8] = 2;
	fix_sum(copy);
	ASSERT_EQ(-EPROTONOSUPPORT, skp_header_decode(copy, sizeof(copy), 0, &r, &err));
	copy[8] = 1;
	/* sector size 1000 */
	copy[144] = 0xe8; copy[145] = 0x03; copy[146] = 0; copy[147] = 0;
	fix_sum(copy);
	ASSERT_EQ(-EBADMSG, skp_header_decode(copy, sizeof(copy), 0, &r, &err));
	ASSERT_NE(NULL, strstr(err.msg, "sector size"));
	/* truncated */
	ASSERT_EQ(-EBADMSG, skp_header_decode(copy, 100, 0, &r, &err));
}

/* 1.1: slot 1 holds the NEW key of a deep rekey; everything about it stays strict. */
TEST(new_slot_deep_rekey)
{
	struct skp_header h, r;
	struct skp_err err = {0};
	unsigned char dek[SKP_DEK_LEN], dek2[SKP_DEK_LEN], copy[SKP_HDR_COPY_SIZE];
	const unsigned char *deks[2] = {dek, dek2};
	int fd = tmpdev();

	make_header(&h, dek);
	skp_dek_generate(dek2, SKP_DEK_LEN, &err);
	h.slot[1] = h.slot[0];
	h.slot[1].state = SKP_SLOT_NEW;
	h.slot[1].generation = 2;
	ASSERT_EQ(0, skp_header_write(fd, &h, deks, &err));
	ASSERT_EQ(0, skp_header_read(fd, DEV_SIZE, &r, NULL, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(1, r.version_minor);
	ASSERT_EQ(SKP_SLOT_NEW, r.slot[1].state);
	ASSERT_EQ(0, skp_header_verify(&r, 0, dek, SKP_DEK_LEN, &err));
	ASSERT_EQ(0, skp_header_verify(&r, 1, dek2, SKP_DEK_LEN, &err));
	ASSERT_EQ(-EBADMSG, skp_header_verify(&r, 1, dek, SKP_DEK_LEN, &err));
	/* A 1.0 header cannot carry a new slot. */
	h.version_minor = 0;
	skp_header_encode(&h, 0, copy);
	ASSERT_EQ(-EBADMSG, skp_header_decode(copy, sizeof(copy), 0, &r, &err));
	h.version_minor = 1;
	/* The new generation must follow the active one. */
	h.slot[1].generation = 3;
	skp_header_encode(&h, 0, copy);
	ASSERT_EQ(-EBADMSG, skp_header_decode(copy, sizeof(copy), 0, &r, &err));
	ASSERT_NE(NULL, strstr(err.msg, "generation"));
	h.slot[1].generation = 2;
	/* Two active keys, or an unused state area that is not zero: refused. */
	h.slot[1].state = SKP_SLOT_ACTIVE;
	skp_header_encode(&h, 0, copy);
	ASSERT_EQ(-EBADMSG, skp_header_decode(copy, sizeof(copy), 0, &r, &err));
	h.slot[1].state = SKP_SLOT_NEW;
	h.reenc[7] = 1;
	skp_header_encode(&h, 0, copy);
	ASSERT_EQ(-EBADMSG, skp_header_decode(copy, sizeof(copy), 0, &r, &err));
	h.reenc[7] = 0;
	/* A higher minor than this build knows is refused. */
	h.version_minor = 2;
	skp_header_encode(&h, 0, copy);
	ASSERT_EQ(-EPROTONOSUPPORT, skp_header_decode(copy, sizeof(copy), 0, &r, &err));
	/* The rekey ends: slot 0 takes the new key, slot 1 empties, the format is 1.0 again. */
	h.slot[0] = h.slot[1];
	h.slot[0].state = SKP_SLOT_ACTIVE;
	memset(&h.slot[1], 0, sizeof(h.slot[1]));
	deks[0] = dek2;
	deks[1] = NULL;
	ASSERT_EQ(0, skp_header_write(fd, &h, deks, &err));
	ASSERT_EQ(0, skp_header_read(fd, DEV_SIZE, &r, NULL, &err));
	ASSERT_EQ(0, r.version_minor);
	ASSERT_EQ(2, r.slot[0].generation);
	ASSERT_EQ(0, skp_header_verify(&r, 0, dek2, SKP_DEK_LEN, &err));
	ASSERT_EQ(-EBADMSG, skp_header_verify(&r, 0, dek, SKP_DEK_LEN, &err));
	close(fd);
}

TEST(uuid_text)
{
	unsigned char u[16], v[16];
	char s[37];

	for (int i = 0; i < 16; i++)
		u[i] = (unsigned char)(i * 17);
	skp_uuid_format(u, s);
	ASSERT_EQ(0, skp_uuid_parse(s, v));
	ASSERT_EQ(0, memcmp(u, v, 16));
	ASSERT_EQ(-EINVAL, skp_uuid_parse("0011", v));
	s[8] = 'x';
	ASSERT_EQ(-EINVAL, skp_uuid_parse(s, v));
	ASSERT_EQ(1, skp_name_valid("corp-kms", 64));
	ASSERT_EQ(0, skp_name_valid("corp kms", 64));
	ASSERT_EQ(0, skp_name_valid("", 64));
	ASSERT_EQ(0, skp_name_valid("-x", 64));
}

/*
 * A header backup taken mid-rekey and put back after the rekey finished would name a rekey
 * whose records are gone: restore refuses any backup older than the device's header.
 */
TEST(restore_refuses_older_header)
{
	struct skp_header h, mid, done, other;
	unsigned char dek[SKP_DEK_LEN], dek2[SKP_DEK_LEN];
	const unsigned char *deks[SKP_SLOTS] = {dek, NULL};
	const unsigned char *deks2[SKP_SLOTS] = {dek, dek2};
	struct skp_err err = {0};
	int fd = tmpdev();

	ASSERT_GE(fd, 0);
	make_header(&h, dek);
	ASSERT_EQ(0, skp_header_write(fd, &h, deks, &err));
	/* A deep rekey starts (slot 1 NEW), then finishes (the new key in slot 0). */
	skp_dek_generate(dek2, SKP_DEK_LEN, &err);
	h.slot[1] = h.slot[0];
	h.slot[1].state = SKP_SLOT_NEW;
	h.slot[1].generation = 2;
	ASSERT_EQ(0, skp_header_write(fd, &h, deks2, &err));
	mid = h;
	h.slot[0] = h.slot[1];
	h.slot[0].state = SKP_SLOT_ACTIVE;
	memset(&h.slot[1], 0, sizeof(h.slot[1]));
	deks[0] = dek2;
	ASSERT_EQ(0, skp_header_write(fd, &h, deks, &err));
	ASSERT_EQ(0, skp_header_read(fd, DEV_SIZE, &done, NULL, &err));
	/* The mid-rekey backup onto the finished device: refused, saying why. */
	EXPECT_EQ(-ESTALE, skp_header_restore_check(&mid, &done, &err));
	EXPECT_NE(NULL, strstr(err.msg, "older")) TH_LOG("%s", err.msg);
	EXPECT_NE(NULL, strstr(err.msg, "mid-rekey")) TH_LOG("%s", err.msg);
	/* The same header, or a newer one: fine. */
	EXPECT_EQ(0, skp_header_restore_check(&done, &done, &err));
	EXPECT_EQ(0, skp_header_restore_check(&done, &mid, &err));
	/* Same sequence number, other contents: refused too. */
	other = done;
	strcpy(other.label, "other");
	EXPECT_EQ(-ESTALE, skp_header_restore_check(&other, &done, &err));
	/* Another device: refused whatever its age. */
	other = done;
	other.uuid[0] ^= 1;
	other.seq += 10;
	EXPECT_EQ(-EXDEV, skp_header_restore_check(&other, &done, &err));
	close(fd);
}

TEST_HARNESS_MAIN
