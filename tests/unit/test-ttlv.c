// SPDX-License-Identifier: GPL-2.0
/* TTLV codec: round trips and the decoder's refusals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "hex.h"
#include "ttlv.h"


TEST(round_trip_all_types)
{
	struct skp_ttlv_enc e;
	struct skp_err err = { 0 };
	struct skp_ttlv root, t, in;
	struct skp_ttlv_iter it, it2;
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	int b;
	char txt[16];
	static const unsigned char bytes[3] = { 1, 2, 3 };

	skp_ttlv_enc_init(&e, 0);
	skp_ttlv_begin(&e, 0x420078);
	skp_ttlv_int(&e, 0x42006A, -5);
	skp_ttlv_enum(&e, 0x42005C, 0x1E);
	skp_ttlv_long(&e, 0x420001, -1234567890123LL);
	skp_ttlv_bool(&e, 0x420002, 1);
	skp_ttlv_text(&e, 0x420055, "Key1");
	skp_ttlv_bytes(&e, 0x420043, bytes, 3);
	skp_ttlv_datetime(&e, 0x420092, 0x4F9A54E5);
	skp_ttlv_interval(&e, 0x420003, 77);
	skp_ttlv_begin(&e, 0x420079);
	skp_ttlv_end(&e);
	skp_ttlv_end(&e);
	ASSERT_EQ(0, skp_ttlv_enc_result(&e, &err));
	ASSERT_EQ(0, e.len % 8);
	ASSERT_EQ(0, skp_ttlv_validate(e.buf, e.len, 0, &err));
	skp_ttlv_root(e.buf, &root);
	ASSERT_EQ(0x420078u, root.tag);
	ASSERT_EQ(e.len - 8, root.len);
	skp_ttlv_children(&root, &it);
	ASSERT_EQ(1, skp_ttlv_next(&it, &t));
	ASSERT_EQ(0, skp_ttlv_get_int(&t, &i32, &err));
	ASSERT_EQ(-5, i32);
	ASSERT_EQ(1, skp_ttlv_next(&it, &t));
	ASSERT_EQ(0, skp_ttlv_get_enum(&t, &u32, &err));
	ASSERT_EQ(0x1Eu, u32);
	ASSERT_EQ(1, skp_ttlv_next(&it, &t));
	ASSERT_EQ(0, skp_ttlv_get_long(&t, &i64, &err));
	ASSERT_EQ(-1234567890123LL, i64);
	ASSERT_EQ(1, skp_ttlv_next(&it, &t));
	ASSERT_EQ(0, skp_ttlv_get_bool(&t, &b, &err));
	ASSERT_EQ(1, b);
	ASSERT_EQ(1, skp_ttlv_next(&it, &t));
	ASSERT_EQ(0, skp_ttlv_get_text(&t, txt, sizeof(txt), &err));
	ASSERT_STREQ("Key1", txt);
	ASSERT_EQ(1, skp_ttlv_next(&it, &t));
	ASSERT_EQ(SKP_TTLV_BYTES, t.type);
	ASSERT_EQ(3u, t.len);
	ASSERT_EQ(0, memcmp(t.val, bytes, 3));
	ASSERT_EQ(1, skp_ttlv_next(&it, &t));
	ASSERT_EQ(0, skp_ttlv_get_datetime(&t, &i64, &err));
	ASSERT_EQ(0x4F9A54E5, i64);
	ASSERT_EQ(1, skp_ttlv_next(&it, &t));
	ASSERT_EQ(SKP_TTLV_INTERVAL, t.type);
	ASSERT_EQ(1, skp_ttlv_next(&it, &in));
	ASSERT_EQ(0x420079u, in.tag);
	skp_ttlv_children(&in, &it2);
	ASSERT_EQ(0, skp_ttlv_next(&it2, &t));
	ASSERT_EQ(0, skp_ttlv_next(&it, &t));
	/* Every proper prefix is refused (truncated input). */
	for (size_t n = 0; n < e.len; n++)
		ASSERT_NE(0, skp_ttlv_validate(e.buf, n, 0, &err));
	skp_ttlv_enc_free(&e);
}

TEST(encoder_limits)
{
	struct skp_ttlv_enc e;
	struct skp_err err = { 0 };
	int i;

	skp_ttlv_enc_init(&e, 64);
	skp_ttlv_begin(&e, 0x420078);
	for (i = 0; i < 8; i++)
		skp_ttlv_int(&e, 0x42000D, i);
	skp_ttlv_end(&e);
	ASSERT_EQ(-EMSGSIZE, skp_ttlv_enc_result(&e, &err));
	skp_ttlv_enc_free(&e);

	skp_ttlv_enc_init(&e, 0);
	for (i = 0; i < SKP_TTLV_MAX_DEPTH + 1; i++)
		skp_ttlv_begin(&e, 0x420078);
	ASSERT_EQ(-E2BIG, skp_ttlv_enc_result(&e, &err));
	skp_ttlv_enc_free(&e);

	skp_ttlv_enc_init(&e, 0);
	skp_ttlv_begin(&e, 0x420078);
	ASSERT_EQ(-EINVAL, skp_ttlv_enc_result(&e, &err));	/* left open */
	skp_ttlv_enc_free(&e);
}

static int check(const char *hex, struct skp_err *err)
{
	unsigned char buf[256];
	size_t n = unhex(hex, buf);

	return skp_ttlv_validate(buf, n, 0, err);
}

TEST(refusals)
{
	struct skp_err err = { 0 };

	/* valid baseline */
	ASSERT_EQ(0, check("42000D02 00000004 00000001 00000000", &err));
	/* bad padding */
	ASSERT_EQ(-EPROTO, check("42000D02 00000004 00000001 00000001", &err));
	ASSERT_NE(NULL, strstr(err.msg, "padding"));
	ASSERT_EQ(-EPROTO, check("42005507 00000004 4B657931 00FF0000", &err));
	/* length past the end */
	ASSERT_EQ(-EPROTO, check("42005507 00000010 4B657931 00000000", &err));
	ASSERT_NE(NULL, strstr(err.msg, "past the end"));
	ASSERT_EQ(-EPROTO, check("42007801 00000018 42000D02 00000004 00000001 00000000", &err));
	/* child runs past its structure although the buffer is long enough */
	ASSERT_EQ(-EPROTO, check("42007801 00000008 42000D02 00000004 00000001 00000000", &err));
	/* truncated header */
	ASSERT_EQ(-EPROTO, check("42000D02 000000", &err));
	ASSERT_EQ(-EPROTO, check("", &err));
	/* wrong fixed lengths */
	ASSERT_EQ(-EPROTO, check("42000D02 00000008 00000000 00000001", &err));
	ASSERT_EQ(-EPROTO, check("42000103 00000004 00000001 00000000", &err));
	ASSERT_EQ(-EPROTO, check("42007801 00000004 00000000 00000000", &err));
	/* Boolean other than 0/1, unknown type, non-KMIP tag, trailing bytes */
	ASSERT_EQ(-EPROTO, check("42000206 00000008 00000000 00000002", &err));
	ASSERT_EQ(-EPROTO, check("42000D0B 00000004 00000001 00000000", &err));
	ASSERT_EQ(-EPROTO, check("43000D02 00000004 00000001 00000000", &err));
	ASSERT_EQ(-EPROTO, check("42000D02 00000004 00000001 00000000 00000000 00000000", &err));
}

TEST(nesting_too_deep)
{
	unsigned char buf[8 * 20];
	struct skp_err err = { 0 };
	int d, depth;

	for (depth = 15; depth <= 18; depth++) {
		int want;

		for (d = 0; d < depth; d++) {
			uint32_t len = (uint32_t)(8 * (depth - d - 1));

			buf[8 * d + 0] = 0x42, buf[8 * d + 1] = 0x00, buf[8 * d + 2] = 0x78;
			buf[8 * d + 3] = 0x01;
			buf[8 * d + 4] = 0, buf[8 * d + 5] = 0;
			buf[8 * d + 6] = (unsigned char)(len >> 8), buf[8 * d + 7] = (unsigned char)len;
		}
		want = depth <= SKP_TTLV_MAX_DEPTH ? 0 : -EPROTO;

		ASSERT_EQ(want, skp_ttlv_validate(buf, 8 * depth, 0, &err));
	}
	ASSERT_NE(NULL, strstr(err.msg, "nesting"));
	ASSERT_EQ(-EPROTO, skp_ttlv_validate(buf, 8 * 4, 3, &err));
}

TEST(message_too_large)
{
	size_t n = SKP_TTLV_MAX_MSG + 8;
	unsigned char *buf = calloc(1, n);
	struct skp_err err = { 0 };

	ASSERT_NE(NULL, buf);
	buf[0] = 0x42, buf[2] = 0x7B, buf[3] = 0x01;
	buf[4] = (unsigned char)(SKP_TTLV_MAX_MSG >> 24);
	buf[5] = (unsigned char)(SKP_TTLV_MAX_MSG >> 16);
	ASSERT_EQ(-EMSGSIZE, skp_ttlv_validate(buf, n, 0, &err));
	free(buf);
}

TEST(wrong_type_for_tag)
{
	unsigned char buf[64];
	struct skp_err err = { 0 };
	struct skp_ttlv t;
	uint32_t e;
	char s[8];
	size_t n = unhex("42007F02 00000004 00000000 00000000", buf);

	ASSERT_EQ(0, skp_ttlv_validate(buf, n, 0, &err));
	skp_ttlv_root(buf, &t);
	ASSERT_EQ(-EPROTO, skp_ttlv_get_enum(&t, &e, &err));
	ASSERT_NE(NULL, strstr(err.msg, "42007F is a Integer, expected a Enumeration"));
	ASSERT_EQ(-EPROTO, skp_ttlv_get_text(&t, s, sizeof(s), &err));
	/* text too long for the caller's buffer, text holding NUL */
	n = unhex("42005507 00000008 4B6579314B657931", buf);
	ASSERT_EQ(0, skp_ttlv_validate(buf, n, 0, &err));
	skp_ttlv_root(buf, &t);
	ASSERT_EQ(-EPROTO, skp_ttlv_get_text(&t, s, sizeof(s), &err));
	n = unhex("42005507 00000004 4B000031 00000000", buf);
	skp_ttlv_root(buf, &t);
	ASSERT_EQ(-EPROTO, skp_ttlv_get_text(&t, s, sizeof(s), &err));
}

TEST_HARNESS_MAIN
