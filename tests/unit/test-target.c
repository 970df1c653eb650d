// SPDX-License-Identifier: GPL-2.0
/*
 * dm-skp's text grammar (daemon/lib/target.c): the table lines skpd loads, the table and
 * status lines the kernel reports, the messages.  The kernel splits lines on white space,
 * so nothing may smuggle a field in, and nothing malformed may be read as a number.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "target.h"

#define KEY ":64:logon:skp:u:0011"

/* ---- table lines skpd loads ---- */

TEST(params_single_key)
{
	struct skp_dm_table t = {
		.target = DM_SKP_TARGET_NAME, .dev = "8:16", .offset_sectors = 32768, .len_sectors = 1 << 20,
		.key_desc = "skp:u:0011", .sector_size = 512,
	};
	char buf[512];

	ASSERT_EQ(0, skp_target_params(&t, buf, sizeof(buf)));
	ASSERT_STREQ("aes-xts-plain64 " KEY " 0 8:16 32768", buf);
	/* read_only is the create ioctl's flag, not a field of the line */
	t.read_only = 1;
	ASSERT_EQ(0, skp_target_params(&t, buf, sizeof(buf)));
	ASSERT_STREQ("aes-xts-plain64 " KEY " 0 8:16 32768", buf);
}

TEST(params_options)
{
	struct skp_dm_table t = {
		.target = DM_SKP_TARGET_NAME, .dev = "8:16", .offset_sectors = 4096, .len_sectors = 1 << 20,
		.key_desc = "skp:u:0011", .sector_size = 4096, .allow_discards = 1,
	};
	char buf[512];

	ASSERT_EQ(0, skp_target_params(&t, buf, sizeof(buf)));
	ASSERT_STREQ("aes-xts-plain64 " KEY " 0 8:16 4096 2 sector_size:4096 allow_discards", buf);
	t.sector_size = 512;
	ASSERT_EQ(0, skp_target_params(&t, buf, sizeof(buf)));
	ASSERT_STREQ("aes-xts-plain64 " KEY " 0 8:16 4096 1 allow_discards", buf);
	/* the crypt fallback loads the very same line */
	t.target = SKP_TARGET_CRYPT;
	ASSERT_EQ(0, skp_target_params(&t, buf, sizeof(buf)));
	ASSERT_STREQ("aes-xts-plain64 " KEY " 0 8:16 4096 1 allow_discards", buf);
}

TEST(params_two_key)
{
	struct skp_dm_table t = {
		.target = DM_SKP_TARGET_NAME, .dev = "254:3", .offset_sectors = 32768, .len_sectors = 16384,
		.key_desc = "skp:old", .sector_size = 4096, .new_key_desc = "skp:new", .boundary = 8192,
	};
	char buf[512];

	ASSERT_EQ(0, skp_target_params(&t, buf, sizeof(buf)));
	ASSERT_STREQ("aes-xts-plain64 :64:logon:skp:old 0 254:3 32768 3 sector_size:4096 "
		     "new_key::64:logon:skp:new boundary:8192", buf);
	t.sector_size = 512;
	t.boundary = 0;
	ASSERT_EQ(0, skp_target_params(&t, buf, sizeof(buf)));
	ASSERT_STREQ("aes-xts-plain64 :64:logon:skp:old 0 254:3 32768 2 new_key::64:logon:skp:new boundary:0", buf);
}

/* What skpd writes, the kernel echoes and skpd reads back the same. */
TEST(params_round_trip)
{
	struct skp_dm_table t = {
		.target = DM_SKP_TARGET_NAME, .dev = "254:3", .offset_sectors = 32768, .len_sectors = 16384,
		.key_desc = "skp:old", .sector_size = 2048, .allow_discards = 1, .new_key_desc = "skp:new",
		.boundary = 4096,
	};
	struct skp_target_table p;
	char buf[512];

	ASSERT_EQ(0, skp_target_params(&t, buf, sizeof(buf)));
	ASSERT_EQ(0, skp_target_table_parse(buf, &p)) TH_LOG("%s", buf);
	ASSERT_EQ(254u, p.major);
	ASSERT_EQ(3u, p.minor);
	ASSERT_EQ(32768u, p.offset_sectors);
	ASSERT_EQ(2048u, p.sector_size);
	ASSERT_EQ(1, p.allow_discards);
	ASSERT_EQ(1, p.two_key);
	ASSERT_EQ(4096u, p.boundary);
}

/* Every byte of the line counts: exactly at the size fits, one byte less does not. */
TEST(params_too_long)
{
	struct skp_dm_table t = {
		.target = DM_SKP_TARGET_NAME, .dev = "8:16", .offset_sectors = 4096, .len_sectors = 1 << 20,
		.key_desc = "skp:u:0011", .sector_size = 4096, .allow_discards = 1, .new_key_desc = "skp:n:0011",
		.boundary = 8,
	};
	char buf[512];
	size_t n;

	ASSERT_EQ(0, skp_target_params(&t, buf, sizeof(buf)));
	n = strlen(buf);
	ASSERT_EQ(0, skp_target_params(&t, buf, n + 1));
	for (size_t size = 0; size <= n; size++) {
		ASSERT_EQ(-ENAMETOOLONG, skp_target_params(&t, buf, size)) TH_LOG("size %zu", size);
	}
	ASSERT_EQ(-ENAMETOOLONG, skp_target_params(&t, buf, 20));
}

/* A device path or key description with a space or a control character would add or
 * shift fields of the table line (a by-label path "x y", a newline): refused. */
TEST(params_unsafe_fields)
{
	static const char *const bad[] = { "/dev/disk/by-id/x y", "/dev/x\ny", "/dev/x\ty", "/dev/\x1b[2J", "",
					   "/dev/x\x7f", "/dev/\xc3\xa9" };
	struct skp_dm_table t = {
		.target = DM_SKP_TARGET_NAME, .offset_sectors = 4096, .len_sectors = 8, .key_desc = "skp:u:0011",
		.sector_size = 512,
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.dev = bad[i];
		ASSERT_EQ(-EINVAL, skp_target_params(&t, buf, sizeof(buf))) TH_LOG("dev '%s': %s", bad[i], buf);
	}
	t.dev = "/dev/vdb";
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.key_desc = bad[i];
		ASSERT_EQ(-EINVAL, skp_target_params(&t, buf, sizeof(buf))) TH_LOG("key '%s'", bad[i]);
	}
	t.key_desc = "skp:u 1:0011";
	ASSERT_EQ(-EINVAL, skp_target_params(&t, buf, sizeof(buf)));
	t.key_desc = "skp:u:0011";
	t.new_key_desc = "skp:n\n:0011";
	t.boundary = 8;
	ASSERT_EQ(-EINVAL, skp_target_params(&t, buf, sizeof(buf)));
	t.new_key_desc = "";
	ASSERT_EQ(-EINVAL, skp_target_params(&t, buf, sizeof(buf)));
	/* the field check comes first, even with no room at all */
	ASSERT_EQ(-EINVAL, skp_target_params(&t, buf, 0));
}

/* ---- table lines the kernel reports ---- */

TEST(table_skp)
{
	struct skp_target_table p;

	ASSERT_EQ(0, skp_target_table_parse("aes-xts-plain64 " KEY " 0 254:16 32768 1 allow_discards", &p));
	ASSERT_EQ(254u, p.major);
	ASSERT_EQ(16u, p.minor);
	ASSERT_EQ(0u, p.iv_offset);
	ASSERT_EQ(32768u, p.offset_sectors);
	ASSERT_EQ(512u, p.sector_size);
	ASSERT_EQ(1, p.allow_discards);
	ASSERT_EQ(0, p.iv_large_sectors);
	ASSERT_EQ(0, p.two_key);

	ASSERT_EQ(0, skp_target_table_parse("aes-xts-plain64 :64:logon:k 0 8:0 4096", &p));
	ASSERT_EQ(8u, p.major);
	ASSERT_EQ(0u, p.minor);
	ASSERT_EQ(4096u, p.offset_sectors);
	ASSERT_EQ(0, p.allow_discards);
	ASSERT_EQ(0, p.two_key);

	/* docs/table-syntax.md's example, every option, user keys, colons in a description */
	ASSERT_EQ(0, skp_target_table_parse("aes-xts-plain64 :64:logon:skp:old 0 1:0 0 2 new_key::64:logon:skp:new "
					    "boundary:8192", &p));
	ASSERT_EQ(1, p.two_key);
	ASSERT_EQ(8192u, p.boundary);
	ASSERT_EQ(0, skp_target_table_parse("aes-xts-plain64 :64:user:a:b:c 8 1:0 16 5 sector_size:4096 "
					    "iv_large_sectors allow_discards new_key::64:user:n boundary:0", &p));
	ASSERT_EQ(8u, p.iv_offset);
	ASSERT_EQ(16u, p.offset_sectors);
	ASSERT_EQ(4096u, p.sector_size);
	ASSERT_EQ(1, p.iv_large_sectors);
	ASSERT_EQ(1, p.allow_discards);
	ASSERT_EQ(1, p.two_key);
	ASSERT_EQ(0u, p.boundary);
}

/* dm-crypt echoes the fallback's line with its own option order (allow_discards first). */
TEST(table_crypt)
{
	struct skp_target_table p;

	ASSERT_EQ(0, skp_target_table_parse("aes-xts-plain64 " KEY " 0 8:32 32768 2 allow_discards sector_size:4096",
					    &p));
	ASSERT_EQ(8u, p.major);
	ASSERT_EQ(32u, p.minor);
	ASSERT_EQ(32768u, p.offset_sectors);
	ASSERT_EQ(4096u, p.sector_size);
	ASSERT_EQ(1, p.allow_discards);
	ASSERT_EQ(0, p.two_key);
	ASSERT_TRUE(skp_target_type_ok(SKP_TARGET_CRYPT));
	ASSERT_TRUE(skp_target_type_ok(DM_SKP_TARGET_NAME));
	ASSERT_FALSE(skp_target_type_ok("linear"));
	ASSERT_FALSE(skp_target_type_ok("skp "));
	ASSERT_FALSE(skp_target_type_ok(""));
	/* a dm-crypt flag skpd never sets: not a table skpd loaded */
	ASSERT_EQ(-EPROTO, skp_target_table_parse("aes-xts-plain64 " KEY " 0 8:32 32768 1 same_cpu_crypt", &p));
}

TEST(table_malformed)
{
	static const char *const bad[] = {
		"",
		"8:16 0",						/* linear */
		"aes-cbc-essiv:sha256 " KEY " 0 8:0 4096",		/* another cipher */
		"aes-xts-plain64 " KEY " 0 /dev/vdb 4096",		/* a path */
		"aes-xts-plain64 " KEY " 0 8:0 4096x",
		"aes-xts-plain64 " KEY " 0 8:0",			/* no offset */
		"aes-xts-plain64 " KEY " 0 8:0 4096 ",			/* trailing space */
		"aes-xts-plain64 " KEY " 0 8:0  4096",			/* doubled space */
		" aes-xts-plain64 " KEY " 0 8:0 4096",
		"aes-xts-plain64 " KEY " -1 8:0 4096",
		"aes-xts-plain64 " KEY " 0 8:0 18446744073709551616",	/* 2^64 */
		"aes-xts-plain64 " KEY " 0 8 4096",
		"aes-xts-plain64 " KEY " 0 8: 4096",
		"aes-xts-plain64 " KEY " 0 :0 4096",
		"aes-xts-plain64 " KEY " 0 4294967296:0 4096",		/* major above UINT_MAX */
		"aes-xts-plain64 0011223344 0 8:0 4096",		/* hex key */
		"aes-xts-plain64 :32:logon:k 0 8:0 4096",		/* key size */
		"aes-xts-plain64 :64:trusted:k 0 8:0 4096",		/* key type */
		"aes-xts-plain64 :64:logon: 0 8:0 4096",		/* empty description */
		"aes-xts-plain64 :64:logon 0 8:0 4096",
		"aes-xts-plain64 " KEY " 0 8:0 4096 0",			/* the kernel writes no 0 */
		"aes-xts-plain64 " KEY " 0 8:0 4096 2 allow_discards",	/* count too high */
		"aes-xts-plain64 " KEY " 0 8:0 4096 1 allow_discards iv_large_sectors",	/* too low */
		"aes-xts-plain64 " KEY " 0 8:0 4096 6 a b c d e f",	/* above DM_SKP_MAX_OPT_PARAMS */
		"aes-xts-plain64 " KEY " 0 8:0 4096 2 allow_discards allow_discards",
		"aes-xts-plain64 " KEY " 0 8:0 4096 1 allow_discards:1",
		"aes-xts-plain64 " KEY " 0 8:0 4096 1 sector_size",
		"aes-xts-plain64 " KEY " 0 8:0 4096 1 sector_size:",
		"aes-xts-plain64 " KEY " 0 8:0 4096 1 sector_size:1000",
		"aes-xts-plain64 " KEY " 0 8:0 4096 1 sector_size:256",
		"aes-xts-plain64 " KEY " 0 8:0 4096 1 sector_size:8192",
		"aes-xts-plain64 " KEY " 0 8:0 4096 1 new_key::64:logon:n",	/* no boundary */
		"aes-xts-plain64 " KEY " 0 8:0 4096 1 boundary:8",		/* no new_key */
		"aes-xts-plain64 " KEY " 0 8:0 4096 2 new_key::64:logon: boundary:8",
		"aes-xts-plain64 " KEY " 0 8:0 4096 2 new_key::64:logon:n boundary:-8",
		"aes-xts-plain64 " KEY " 0 8:0 4096 2 new_key::64:logon:n boundary:8x",
		"aes-xts-plain64 " KEY " 0 8:0 4096 3 new_key::64:logon:n boundary:8 boundary:8",
		"aes-xts-plain64 " KEY " 0 8:0 4096 1 allow_discards junk",	/* trailing field */
	};
	struct skp_target_table p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(-EPROTO, skp_target_table_parse(bad[i], &p)) TH_LOG("accepted \"%s\"", bad[i]);
	}
}

/* ---- status lines ---- */

TEST(status_valid)
{
	struct skp_target_status s;

	ASSERT_EQ(0, skp_target_status_parse("8192 16384 100 200 8192 3 1024", &s));
	ASSERT_EQ(8192u, s.boundary);
	ASSERT_EQ(16384u, s.length);
	ASSERT_EQ(100u, s.sectors_read);
	ASSERT_EQ(200u, s.sectors_written);
	ASSERT_EQ(8192u, s.sectors_reencrypted);
	ASSERT_EQ(3u, s.io_errors);
	ASSERT_EQ(1024u, s.fenced);
	ASSERT_EQ(0, skp_target_status_parse("0 0 0 0 0 0 0", &s));
	ASSERT_EQ(0u, s.fenced);
	ASSERT_EQ(0, skp_target_status_parse("18446744073709551615 1 2 3 4 5 6", &s));	/* 2^64 - 1 */
	ASSERT_EQ(UINT64_MAX, s.boundary);
	/* a field a later minor version appends is skipped, if it is a number */
	ASSERT_EQ(0, skp_target_status_parse("1 2 3 4 5 6 7 8", &s));
	ASSERT_EQ(7u, s.fenced);
	ASSERT_EQ(0, skp_target_status_parse("1 2 3 4 5 6 7 8 9", &s));
}

/* Each field missing in turn (the 1.1 target wrote six fields): refused. */
TEST(status_missing_fields)
{
	static const char full[] = "1 2 3 4 5 6 7";
	struct skp_target_status s;
	char line[sizeof(full)];

	for (size_t i = 0; i < DM_SKP_STATUS_INFO_FIELDS; i++) {
		/* drop field i: "1 3 4 ..." and so on */
		char *w = line;

		for (size_t j = 0; j < DM_SKP_STATUS_INFO_FIELDS; j++)
			if (j != i)
				w += sprintf(w, "%s%zu", w == line ? "" : " ", j + 1);
		ASSERT_EQ(-EPROTO, skp_target_status_parse(line, &s)) TH_LOG("accepted \"%s\"", line);
	}
	for (size_t n = 0; n < sizeof(full) - 1; n++) {
		/* every prefix: cut fields, and a cut after a separating space */
		memcpy(line, full, n);
		line[n] = '\0';
		ASSERT_EQ(-EPROTO, skp_target_status_parse(line, &s)) TH_LOG("accepted \"%s\"", line);
	}
}

TEST(status_malformed)
{
	static const char *const bad[] = {
		"",
		" ",
		"1 2 3 4 5 6 7 ",			/* trailing space */
		" 1 2 3 4 5 6 7",
		"1 2 3  4 5 6 7",
		"1\t2 3 4 5 6 7",
		"1 2 3 4 5 6 7\n",
		"1 2 3 4 5 6 7 junk",
		"1 2 3 4 5 6 7 8x",
		"1 2 3 4 5 6 7x",
		"0x10 2 3 4 5 6 7",
		"1 2 3 4 5 6 a",
		"1 2 3 4 5 6 -7",			/* negative */
		"-1 2 3 4 5 6 7",
		"+1 2 3 4 5 6 7",
		"1 2 3 4 5 6 18446744073709551616",	/* 2^64 */
		"99999999999999999999 2 3 4 5 6 7",
		"1 2 3 4 5 6 184467440737095516150",
		"1.5 2 3 4 5 6 7",
	};
	struct skp_target_status s = { .boundary = 42 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(-EPROTO, skp_target_status_parse(bad[i], &s)) TH_LOG("accepted \"%s\"", bad[i]);
	}
	/* a refused line leaves the result alone */
	ASSERT_EQ(42u, s.boundary);
}

/* ---- messages ---- */

TEST(messages)
{
	struct skp_err err = {0};
	char buf[SKP_TARGET_MSG_MAX];

	ASSERT_EQ(0, skp_target_msg_hold(buf, sizeof(buf), 8192, 1024, &err));
	ASSERT_STREQ("hold 8192 1024", buf);
	ASSERT_EQ(0, skp_target_msg_reencrypt(buf, sizeof(buf), 0, DM_SKP_MAX_REENCRYPT_SECTORS, &err));
	ASSERT_STREQ("reencrypt 0 8192", buf);
	/* the longest: both numbers at their widest still fit SKP_TARGET_MSG_MAX */
	ASSERT_EQ(0, skp_target_msg_reencrypt(buf, sizeof(buf), UINT64_MAX - 1, 1, &err));
	ASSERT_STREQ("reencrypt 18446744073709551614 1", buf);
}

TEST(message_bounds)
{
	struct skp_err err = {0};
	char buf[SKP_TARGET_MSG_MAX];

	ASSERT_EQ(-EINVAL, skp_target_msg_hold(buf, sizeof(buf), 0, 0, &err));
	ASSERT_EQ(-EINVAL, err.code);
	ASSERT_NE(NULL, strstr(err.msg, "1..8192"));
	ASSERT_EQ(-EINVAL, skp_target_msg_reencrypt(buf, sizeof(buf), 0, 0, &err));
	ASSERT_EQ(-EINVAL, skp_target_msg_hold(buf, sizeof(buf), 0, DM_SKP_MAX_REENCRYPT_SECTORS + 1, &err));
	ASSERT_EQ(-EINVAL, skp_target_msg_reencrypt(buf, sizeof(buf), 0, DM_SKP_MAX_REENCRYPT_SECTORS + 1, &err));
	ASSERT_EQ(-EINVAL, skp_target_msg_reencrypt(buf, sizeof(buf), UINT64_MAX, 1, &err));	/* wraps */
	ASSERT_EQ(-EINVAL, skp_target_msg_hold(buf, sizeof(buf), UINT64_MAX - 7, 8192, &err));
	ASSERT_EQ(-ENAMETOOLONG, skp_target_msg_hold(buf, strlen("hold 8 8"), 8, 8, &err));
	ASSERT_EQ(0, skp_target_msg_hold(buf, strlen("hold 8 8") + 1, 8, 8, &err));
	ASSERT_EQ(-ENAMETOOLONG, skp_target_msg_hold(buf, 0, 8, 8, NULL));	/* err is optional */
}

TEST_HARNESS_MAIN
