// SPDX-License-Identifier: GPL-2.0
/*
 * Sealed files (key_persistence = tpm): the format without a TPM (every flipped byte,
 * every truncation, a wrong key: refused, nothing decrypted), then sealing with software
 * TPMs (tests/unit/swtpm.h): a second TPM
 * cannot unseal, a PCR extended after sealing refuses, a flipped byte refuses.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sealed.h"
#include "secmem.h"
#include "tpm.h"
#include "swtpm.h"

static const char plain[] = "skp-keks 1\nkms kek-1 000102030405060708090a0b0c0d0e0f\n";

static void make(unsigned char **out, size_t *len, unsigned char *key)
{
	unsigned char blob[40];
	struct skp_err err = {0};

	for (int i = 0; i < SKP_SEALED_KEY_LEN; i++)
		key[i] = (unsigned char)(i * 7 + 1);
	memset(blob, 0xb1, sizeof(blob));
	if (skp_sealed_encode(key, 1u << 7, blob, sizeof(blob), plain, sizeof(plain) - 1, out, len, &err))
		abort();
}

TEST(roundtrip_and_no_plaintext)
{
	unsigned char key[32], *f = NULL, out[sizeof(plain)];
	struct skp_sealed s;
	struct skp_err err = {0};
	size_t len = 0;

	make(&f, &len, key);
	ASSERT_EQ(NULL, memmem(f, len, "kek-1", 5));
	ASSERT_EQ(0, skp_sealed_parse(f, len, &s, &err));
	ASSERT_EQ(1u << 7, s.pcr_mask);
	ASSERT_EQ(40, s.blob_len);
	ASSERT_EQ(sizeof(plain) - 1, s.ct_len);
	ASSERT_EQ(0, skp_sealed_decrypt(key, &s, out, &err));
	ASSERT_EQ(0, memcmp(out, plain, sizeof(plain) - 1));
	free(f);
}

/* Any byte changed: the header is the GCM's additional data, the rest its input or tag. */
TEST(every_flipped_byte_refused)
{
	unsigned char key[32], *f = NULL, out[sizeof(plain)];
	struct skp_sealed s;
	struct skp_err err = {0};
	size_t len = 0;

	make(&f, &len, key);
	for (size_t i = 0; i < len; i++) {
		f[i] ^= 0x01;
		memset(out, 0x5a, sizeof(out));
		if (skp_sealed_parse(f, len, &s, &err) == 0) {
			ASSERT_EQ(-EBADMSG, skp_sealed_decrypt(key, &s, out, &err)) TH_LOG("byte %zu", i);
			/* No partial load: what was decrypted is wiped. */
			for (size_t j = 0; j < s.ct_len; j++)
				ASSERT_EQ(0, out[j]);
		}
		f[i] ^= 0x01;
	}
	free(f);
}

TEST(every_truncation_refused)
{
	unsigned char key[32], *f = NULL;
	struct skp_sealed s;
	struct skp_err err = {0};
	size_t len = 0;

	make(&f, &len, key);
	for (size_t n = 0; n < len; n++) {
		ASSERT_EQ(-EBADMSG, skp_sealed_parse(f, n, &s, &err)) TH_LOG("length %zu", n);
	}
	free(f);
}

TEST(wrong_key_refused)
{
	unsigned char key[32], *f = NULL, out[sizeof(plain)];
	struct skp_sealed s;
	struct skp_err err = {0};
	size_t len = 0;

	make(&f, &len, key);
	key[31] ^= 0x80;
	ASSERT_EQ(0, skp_sealed_parse(f, len, &s, &err));
	ASSERT_EQ(-EBADMSG, skp_sealed_decrypt(key, &s, out, &err));
	ASSERT_NE(NULL, strstr(err.msg, "does not authenticate"));
	free(f);
}

TEST(pcr_lists)
{
	uint32_t m = 0;
	char s[80];

	ASSERT_EQ(0, skp_tpm_parse_pcrs("7", &m));
	ASSERT_EQ(1u << 7, m);
	ASSERT_EQ(0, skp_tpm_parse_pcrs("0, 2,7", &m));
	ASSERT_EQ(0x85u, m);
	skp_tpm_format_pcrs(m, s, sizeof(s));
	ASSERT_STREQ("0,2,7", s);
	ASSERT_EQ(0, skp_tpm_parse_pcrs("none", &m));
	ASSERT_EQ(0u, m);
	ASSERT_EQ(-EINVAL, skp_tpm_parse_pcrs("24", &m));
	ASSERT_EQ(-EINVAL, skp_tpm_parse_pcrs("7,x", &m));
	ASSERT_EQ(-EINVAL, skp_tpm_parse_pcrs("-1", &m));
}

FIXTURE(tpm) {
	struct swtpm a, b;
	struct skp_tpm *t;
};

FIXTURE_SETUP(tpm)
{
	ASSERT_EQ(0, swtpm_start(&self->a));
	ASSERT_EQ(0, swtpm_start(&self->b));
	ASSERT_EQ(0, swtpm_open(&self->a, &self->t));
}

FIXTURE_TEARDOWN(tpm)
{
	skp_tpm_close(self->t);
	swtpm_stop(&self->a);
	swtpm_stop(&self->b);
}

static void seal(struct __test_metadata *_metadata, struct skp_tpm *t, uint32_t pcrs,
		 unsigned char **f, size_t *len)
{
	struct skp_err err = {0};

	ASSERT_EQ(0, skp_sealed_seal(t, pcrs, plain, sizeof(plain) - 1, f, len, &err)) TH_LOG("%s", err.msg);
}

TEST_F(tpm, seal_unseal_same_tpm_only)
{
	struct skp_tpm *other = NULL;
	struct skp_err err = {0};
	unsigned char *f = NULL;
	char *p = NULL;
	size_t len = 0, pl = 0;

	seal(_metadata, self->t, 0, &f, &len);
	ASSERT_EQ(NULL, memmem(f, len, "000102030405", 12));
	ASSERT_EQ(0, skp_sealed_open(self->t, f, len, &p, &pl, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(sizeof(plain) - 1, pl);
	ASSERT_STREQ(plain, p);
	skp_secmem_free(p, pl + 1);
	p = NULL;

	/* The file copied to another host: its TPM cannot load the sealed key. */
	ASSERT_EQ(0, swtpm_open(&self->b, &other));
	ASSERT_EQ(-EKEYREJECTED, skp_sealed_open(other, f, len, &p, &pl, &err));
	ASSERT_NE(NULL, strstr(err.msg, "not made by this TPM")) TH_LOG("%s", err.msg);
	ASSERT_EQ(NULL, p);
	skp_tpm_close(other);

	/* A flipped byte in the sealed object or the data: refused, nothing returned. */
	f[20] ^= 1;
	ASSERT_GT(0, skp_sealed_open(self->t, f, len, &p, &pl, &err));
	f[20] ^= 1;
	f[len - 20] ^= 1;
	ASSERT_EQ(-EBADMSG, skp_sealed_open(self->t, f, len, &p, &pl, &err));
	ASSERT_EQ(NULL, p);
	free(f);
}

TEST_F(tpm, pcr_extended_after_sealing_refused)
{
	struct skp_err err = {0};
	unsigned char *f = NULL;
	char *p = NULL, cmd[256];
	size_t len = 0, pl = 0;

	seal(_metadata, self->t, 1u << 16 | 1u << 7, &f, &len);
	ASSERT_EQ(0, skp_sealed_open(self->t, f, len, &p, &pl, &err)) TH_LOG("%s", err.msg);
	skp_secmem_free(p, pl + 1);
	p = NULL;
	/* The header's PCR list cannot be narrowed: the object wants its whole policy. */
	f[11] = 0;
	ASSERT_GT(0, skp_sealed_open(self->t, f, len, &p, &pl, &err));
	f[11] = 0x80;

	skp_tpm_close(self->t);
	self->t = NULL;
	snprintf(cmd, sizeof(cmd), "tpm2_pcrextend -T '%s' 16:sha256=%064d >/dev/null", self->a.tcti, 0);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, swtpm_open(&self->a, &self->t));
	ASSERT_EQ(-EACCES, skp_sealed_open(self->t, f, len, &p, &pl, &err));
	ASSERT_NE(NULL, strstr(err.msg, "PCR(s) 7,16 changed since sealing")) TH_LOG("%s", err.msg);
	ASSERT_EQ(NULL, p);
	free(f);
}

TEST_HARNESS_MAIN
