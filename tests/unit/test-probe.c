// SPDX-License-Identifier: GPL-2.0
/*
 * Foreign signatures (lib/probe.c) on image files made here byte by byte: a LUKS2 device
 * with its secondary header, a labelled swap area, an skp header (not foreign).  The real
 * tools' output (mkfs.ext4, cryptsetup, sfdisk, mkswap) is checked in the VM:
 * tests/system/15-format-signatures.sh.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "header.h"
#include "probe.h"

#define DEV_SIZE (32ull << 20)

static int tmpdev(void)
{
	char path[] = "/tmp/skp-test-probe.XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	if (fd < 0 || ftruncate(fd, DEV_SIZE) < 0)
		return -1;
	return fd;
}

static void put(int fd, uint64_t off, const void *p, size_t n)
{
	if (pwrite(fd, p, n, (off_t)off) != (ssize_t)n)
		abort();
}

static void be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void be64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

#define LUKS_UUID "9b4c2a5e-3f1d-4c7a-8e2b-6d0f1a2b3c4d"

/* The binary part of a LUKS2 header copy (what libblkid reads): magic, version, label,
 * UUID and the copy's own offset. */
static void luks2_copy(int fd, uint64_t off, const char *magic)
{
	unsigned char h[512] = {0};

	memcpy(h, magic, 6);
	be16(h + 6, 2);
	be64(h + 8, 16384);
	memcpy(h + 24, "cryptlabel", 10);
	memcpy(h + 168, LUKS_UUID, strlen(LUKS_UUID));
	be64(h + 256, off);
	put(fd, off, h, sizeof(h));
}

static void luks2(int fd)
{
	luks2_copy(fd, 0, "LUKS\xba\xbe");
	luks2_copy(fd, 0x4000, "SKUL\xba\xbe");
}

/* A swap area of 4 KiB pages, labelled. */
static void swap(int fd, const char *label)
{
	unsigned char h[4096] = {0};
	uint32_t version = 1, last = (uint32_t)(DEV_SIZE / 4096 - 1);

	memcpy(h + 1024, &version, 4);
	memcpy(h + 1028, &last, 4);
	memset(h + 1036, 0x42, 16);			/* UUID */
	memcpy(h + 1052, label, strlen(label));		/* volume name, 16 bytes */
	memcpy(h + 4086, "SWAPSPACE2", 10);
	put(fd, 0, h, sizeof(h));
}

static int count_type(const struct skp_sigs *s, const char *type)
{
	int n = 0;

	for (unsigned int i = 0; i < s->n; i++)
		n += !strcmp(s->sig[i].type, type);
	return n;
}

TEST(empty_device)
{
	struct skp_sigs s;
	struct skp_err err = {0};
	int fd = tmpdev();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, skp_probe_sigs(fd, &s, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, s.n);
	ASSERT_EQ(0, skp_probe_wipe(fd, &s, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, s.n);
	close(fd);
}

/* Both copies are listed; the wipe takes the secondary one too, and only magic bytes. */
TEST(luks2_both_headers)
{
	struct skp_sigs s, w;
	struct skp_err err = {0};
	unsigned char before[0x4200], after[0x4200];
	char line[256];
	int fd = tmpdev();

	ASSERT_LE(0, fd);
	luks2(fd);
	ASSERT_EQ(0, skp_probe_sigs(fd, &s, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(2, s.n);
	ASSERT_STREQ("crypto_LUKS", s.sig[0].type);
	ASSERT_STREQ("crypto", s.sig[0].usage);
	ASSERT_EQ(0, s.sig[0].offset);
	ASSERT_EQ(6, s.sig[0].len);
	ASSERT_STREQ(LUKS_UUID, s.sig[0].uuid);
	ASSERT_STREQ("cryptlabel", s.sig[0].label);
	ASSERT_EQ(0x4000, s.sig[1].offset);
	/* Named once in a message, each copy with its offset in a log line. */
	ASSERT_STREQ("crypto_LUKS (label \"cryptlabel\", UUID " LUKS_UUID ")",
		     skp_sigs_describe(&s, 0, line, sizeof(line)));
	skp_sigs_describe(&s, SKP_SIGS_OFFSETS, line, sizeof(line));
	ASSERT_NE(NULL, strstr(line, "crypto_LUKS at 0x0 ("));
	ASSERT_NE(NULL, strstr(line, "crypto_LUKS at 0x4000 ("));

	ASSERT_EQ(sizeof(before), pread(fd, before, sizeof(before), 0));
	ASSERT_EQ(0, skp_probe_wipe(fd, &w, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(2, w.n);
	ASSERT_EQ(0, w.rrpart);
	ASSERT_EQ(0, skp_probe_sigs(fd, &s, &err));
	ASSERT_EQ(0, s.n);
	ASSERT_EQ(sizeof(after), pread(fd, after, sizeof(after), 0));
	memset(before, 0, 6);
	memset(before + 0x4000, 0, 6);
	ASSERT_EQ(0, memcmp(before, after, sizeof(after)));
	close(fd);
}

/* A label from the device is escaped before anyone prints it. */
TEST(swap_label_escaped)
{
	struct skp_sigs s;
	struct skp_err err = {0};
	char line[256];
	int fd = tmpdev();

	ASSERT_LE(0, fd);
	swap(fd, "sw\x1b[2Jap");
	ASSERT_EQ(0, skp_probe_sigs(fd, &s, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(1, count_type(&s, "swap"));
	ASSERT_STREQ("sw\\x1b[2Jap", s.sig[0].label);
	ASSERT_EQ(4086, s.sig[0].offset);
	skp_sigs_describe(&s, 0, line, sizeof(line));
	ASSERT_EQ(0, strncmp(line, "swap (label \"sw\\x1b[2Jap\", UUID 42424242-", 41)) TH_LOG("%s", line);
	ASSERT_EQ(0, skp_probe_wipe(fd, NULL, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, skp_probe_sigs(fd, &s, &err));
	ASSERT_EQ(0, s.n);
	close(fd);
}

/* An skp header is not a foreign signature (and nothing in it looks like one). */
TEST(skp_header_is_not_foreign)
{
	struct skp_header h;
	struct skp_sigs s;
	struct skp_err err = {0};
	unsigned char dek[SKP_DEK_LEN];
	const unsigned char *deks[2] = {dek, NULL};
	int fd = tmpdev();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, skp_header_init(&h, DEV_SIZE, 4096, "skp", &err));
	ASSERT_EQ(0, skp_dek_generate(dek, SKP_DEK_LEN, &err));
	h.slot[0].state = SKP_SLOT_ACTIVE;
	h.slot[0].dek_len = SKP_DEK_LEN;
	h.slot[0].generation = 1;
	strcpy(h.slot[0].provider, "corp-kms");
	strcpy(h.slot[0].kek_uid, "1");
	h.slot[0].wrapped_len = 72;
	memset(h.slot[0].wrapped, 0x33, 72);
	ASSERT_EQ(0, skp_header_write(fd, &h, deks, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, skp_probe_sigs(fd, &s, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, s.n);
	close(fd);
}

TEST(describe_cut_to_fit)
{
	struct skp_sigs s = {0};
	char line[48];

	for (int i = 0; i < 4; i++) {
		snprintf(s.sig[i].type, sizeof(s.sig[i].type), "type%d", i);
		snprintf(s.sig[i].uuid, sizeof(s.sig[i].uuid), "uuid-%d", i);
	}
	s.n = 4;
	skp_sigs_describe(&s, 0, line, sizeof(line));
	ASSERT_STREQ("type0 (UUID uuid-0), type1 (UUID uuid-1), ...", line);
	s.n = 1;
	s.more = 1;
	ASSERT_STREQ("type0 (UUID uuid-0), ...", skp_sigs_describe(&s, 0, line, sizeof(line)));
}

TEST(device_errors_name_the_path)
{
	struct skp_sigs s;
	struct skp_err err = {0};

	ASSERT_EQ(-ENOENT, skp_probe_sigs_dev("/nonexistent/skp-dev", &s, &err));
	ASSERT_NE(NULL, strstr(err.msg, "/nonexistent/skp-dev"));
}

TEST_HARNESS_MAIN
