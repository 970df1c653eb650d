// SPDX-License-Identifier: GPL-2.0
/* RFC 5649 key wrap: the RFC's known answers (192-bit KEK) and 256-bit answers
 * computed independently with Python's cryptography (aes_key_wrap_with_padding). */
#include <string.h>

#include "kselftest_harness.h"
#include "hex.h"
#include "wrap.h"


static void check_vector(struct __test_metadata *_metadata, const char *kek_hex,
			 const char *key_hex, const char *wrapped_hex)
{
	unsigned char kek[32], key[64], want[80], out[80], back[80];
	size_t kl = unhex(kek_hex, kek), dl = unhex(key_hex, key), wl = unhex(wrapped_hex, want);
	size_t ol = 0, bl = 0;
	struct skp_err err = {0};

	ASSERT_EQ(0, skp_wrap(kek, kl, key, dl, out, sizeof(out), &ol, &err));
	ASSERT_EQ(wl, ol);
	ASSERT_EQ(0, memcmp(want, out, wl));
	ASSERT_EQ(0, skp_unwrap(kek, kl, want, wl, back, sizeof(back), &bl, &err));
	ASSERT_EQ(dl, bl);
	ASSERT_EQ(0, memcmp(key, back, dl));
}

TEST(rfc5649_20_bytes)
{
	check_vector(_metadata, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
		     "c37b7e6492584340bed12207808941155068f738",
		     "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a");
}

TEST(rfc5649_7_bytes)
{
	check_vector(_metadata, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8",
		     "466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f");
}

TEST(aes256_dek_python_cryptography)
{
	check_vector(_metadata,
		     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		     "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
		     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f",
		     "f2f0588f42f55c0ac7082198ccf18cce5e84ba5b1fb8dc35227e2c29eb13c80c"
		     "48cb7a9411ea5b2b0aafd5c62234b762907ab62e0d76433491cbdd73cbf4f9be"
		     "577406e7d8c4c235");
}

TEST(aes256_padded_python_cryptography)
{
	check_vector(_metadata,
		     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		     "808182838485868788898a8b8c8d8e8f90919293",
		     "20966d139876afd74f1ddc9d3bda9a62fbea1781d7555f278c3342198d658f8d");
}

TEST(wrong_kek_and_tamper_refused)
{
	unsigned char kek[32], kek2[32], dek[SKP_DEK_LEN], w[SKP_WRAPPED_MAX], back[SKP_WRAPPED_MAX];
	size_t wl = 0, bl = 0;
	struct skp_err err = {0};

	ASSERT_EQ(0, skp_dek_generate(kek, sizeof(kek), &err));
	memcpy(kek2, kek, sizeof(kek));
	kek2[31] ^= 1;
	ASSERT_EQ(0, skp_dek_generate(dek, sizeof(dek), &err));
	ASSERT_EQ(0, skp_wrap(kek, 32, dek, sizeof(dek), w, sizeof(w), &wl, &err));
	ASSERT_EQ(SKP_WRAPPED_MAX, wl);
	ASSERT_EQ(-EBADMSG, skp_unwrap(kek2, 32, w, wl, back, sizeof(back), &bl, &err));
	ASSERT_NE(NULL, strstr(err.msg, "integrity"));
	w[5] ^= 0x80;
	ASSERT_EQ(-EBADMSG, skp_unwrap(kek, 32, w, wl, back, sizeof(back), &bl, &err));
	w[5] ^= 0x80;
	ASSERT_EQ(-EBADMSG, skp_unwrap(kek, 32, w, wl - 8, back, sizeof(back), &bl, &err));
	ASSERT_EQ(-EBADMSG, skp_unwrap(kek, 32, w, 13, back, sizeof(back), &bl, &err));
	ASSERT_EQ(-EINVAL, skp_unwrap(kek, 31, w, wl, back, sizeof(back), &bl, &err));
	ASSERT_EQ(-ENOBUFS, skp_unwrap(kek, 32, w, wl, back, 10, &bl, &err));
	ASSERT_EQ(0, skp_unwrap(kek, 32, w, wl, back, sizeof(back), &bl, &err));
	ASSERT_EQ(sizeof(dek), bl);
	ASSERT_EQ(0, memcmp(dek, back, bl));
}

TEST(dek_generation_differs)
{
	unsigned char a[SKP_DEK_LEN], b[SKP_DEK_LEN], z[SKP_DEK_LEN] = {0};
	struct skp_err err = {0};

	ASSERT_EQ(0, skp_dek_generate(a, sizeof(a), &err));
	ASSERT_EQ(0, skp_dek_generate(b, sizeof(b), &err));
	ASSERT_NE(0, memcmp(a, b, sizeof(a)));
	ASSERT_NE(0, memcmp(a, z, sizeof(a)));
}

TEST_HARNESS_MAIN
