// SPDX-License-Identifier: GPL-2.0
/* dm table lines: the kernel splits them on white space, so nothing may smuggle a field. */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "dm.h"

TEST(params)
{
	struct skp_dm_table t = {
		.target = "skp", .dev = "8:16", .offset_sectors = 4096, .len_sectors = 1 << 20,
		.key_desc = "skp:u:0011", .sector_size = 4096, .allow_discards = 1,
	};
	char buf[512];

	ASSERT_EQ(0, skp_dm_params(&t, buf, sizeof(buf)));
	ASSERT_STREQ("aes-xts-plain64 :64:logon:skp:u:0011 0 8:16 4096 2 sector_size:4096 allow_discards", buf);
	ASSERT_EQ(-ENAMETOOLONG, skp_dm_params(&t, buf, 20));
}

/* A device path or key description with a space or a control character would add or
 * shift fields of the table line (a by-label path "x y", a newline): refused. */
TEST(unsafe_fields)
{
	static const char *const bad[] = { "/dev/disk/by-id/x y", "/dev/x\ny", "/dev/x\ty", "/dev/\x1b[2J", "" };
	struct skp_dm_table t = {
		.target = "skp", .offset_sectors = 4096, .len_sectors = 8, .key_desc = "skp:u:0011",
		.sector_size = 512,
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.dev = bad[i];
		ASSERT_EQ(-EINVAL, skp_dm_params(&t, buf, sizeof(buf))) TH_LOG("dev '%s': %s", bad[i], buf);
	}
	t.dev = "/dev/vdb";
	t.key_desc = "skp:u 1:0011";
	ASSERT_EQ(-EINVAL, skp_dm_params(&t, buf, sizeof(buf)));
	t.key_desc = "skp:u:0011";
	t.new_key_desc = "skp:n\n:0011";
	t.boundary = 8;
	ASSERT_EQ(-EINVAL, skp_dm_params(&t, buf, sizeof(buf)));
}

/* The backing device of a live mapping, from the table line the kernel reports. */
TEST(params_dev)
{
	unsigned int ma = 0, mi = 0;
	uint64_t off = 0;

	ASSERT_EQ(0, skp_dm_params_dev("aes-xts-plain64 :64:logon:skp:u:0011 0 254:16 32768 1 allow_discards",
				       &ma, &mi, &off));
	ASSERT_EQ(254u, ma);
	ASSERT_EQ(16u, mi);
	ASSERT_EQ(32768u, off);
	ASSERT_EQ(0, skp_dm_params_dev("aes-xts-plain64 :64:logon:k 0 8:0 4096", &ma, &mi, &off));
	ASSERT_EQ(8u, ma);
	ASSERT_EQ(4096u, off);
	ASSERT_EQ(-EINVAL, skp_dm_params_dev("8:16 0", &ma, &mi, &off));	/* linear */
	ASSERT_EQ(-EINVAL, skp_dm_params_dev("aes-xts-plain64 :64:logon:k 0 /dev/vdb 4096", &ma, &mi, &off));
	ASSERT_EQ(-EINVAL, skp_dm_params_dev("aes-xts-plain64 :64:logon:k 0 8:0 4096x", &ma, &mi, &off));
}

TEST_HARNESS_MAIN
