// SPDX-License-Identifier: GPL-2.0
/*
 * format over what a device already holds (daemon/skpd/ops.c, lib/probe.c): a foreign
 * signature refuses it, named, nothing written and no KEK made; FORCE wipes every
 * signature (LUKS2's secondary header too) once the KEK exists, then writes the header;
 * an skp header still refuses it, FORCE or not.  Devices are files; the real tools are
 * used in the VM (tests/system/15-format-signatures.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"

#include "env.h"
#include "fake-kms.h"
#include "ops.h"
#include "probe.h"
#include "proto.h"
#include "sbuf.h"
#include "skpd.h"

FIXTURE(format) {
	struct env e;
	char dev[PATH_MAX + 32];
	char out[1024];
	struct skp_err err;
};

FIXTURE_SETUP(format)
{
	static const char *const provs[] = {"kms"};

	ASSERT_EQ(0, env_init(&self->e, provs, 1, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_dev(&self->e, "d", 1, self->dev, sizeof(self->dev)));
	fake_kms("kms")->n_create = 0;
	fake_kms("kms")->refuse_create = 0;
}

FIXTURE_TEARDOWN(format)
{
	env_cleanup(&self->e);
}

static int format(struct _test_data_format *self, unsigned int flags)
{
	struct skp_req q;
	struct sbuf out = {0};
	int r;

	skp_req_init(&q, SKP_CMD_FORMAT);
	skp_err_clear(&self->err);
	if (skp_req_set(q.dev, sizeof(q.dev), self->dev, &self->err) < 0)
		return -ENAMETOOLONG;
	q.flags = flags;
	r = op_format(self->e.d, &q, &out, &self->err);
	snprintf(self->out, sizeof(self->out), "%.*s", (int)out.len, out.s ? out.s : "");
	sb_free(&out);
	return r;
}

/* The binary part of both LUKS2 header copies, as libblkid reads them. */
static void luks2(const char *dev)
{
	unsigned char h[512];
	static const uint64_t offs[2] = {0, 0x4000};

	for (int i = 0; i < 2; i++) {
		memset(h, 0, sizeof(h));
		memcpy(h, i ? "SKUL\xba\xbe" : "LUKS\xba\xbe", 6);
		h[7] = 2;					/* version, big-endian */
		h[256 + 6] = (unsigned char)(offs[i] >> 8);	/* hdr_offset, big-endian */
		memcpy(h + 168, "5c1e0d2a-0000-4000-8000-00000000beef", 36);
		env_write(dev, offs[i], h, sizeof(h));
	}
}

TEST_F(format, refused_without_force_nothing_written)
{
	unsigned char before[32], after[32];

	luks2(self->dev);
	ASSERT_EQ(0, env_hash(self->dev, before));
	ASSERT_EQ(-EEXIST, format(self, 0));
	ASSERT_NE(NULL, strstr(self->err.msg, "holds crypto_LUKS (UUID 5c1e0d2a-0000-4000-8000-00000000beef)"))
		TH_LOG("%s", self->err.msg);
	ASSERT_NE(NULL, strstr(self->err.msg, "refusing to format; --force to overwrite it"));
	ASSERT_EQ(0, env_hash(self->dev, after));
	ASSERT_EQ(0, memcmp(before, after, sizeof(before)));
	ASSERT_EQ(0, fake_kms("kms")->n_create);
}

TEST_F(format, force_wipes_both_luks2_headers)
{
	struct skp_sigs s;
	unsigned char dek[SKP_DEK_LEN], data[4096], zero[4096] = {0};

	luks2(self->dev);
	memset(data, 0x5a, sizeof(data));
	ASSERT_EQ(0, env_write(self->dev, SKP_DATA_OFFSET, data, sizeof(data)));
	ASSERT_EQ(0, format(self, SKP_REQ_FORCE)) TH_LOG("%s", self->err.msg);
	ASSERT_NE(NULL, strstr(self->out, "wiped from ")) TH_LOG("%s", self->out);
	ASSERT_NE(NULL, strstr(self->out, "crypto_LUKS at 0x0 ("));
	ASSERT_NE(NULL, strstr(self->out, "crypto_LUKS at 0x4000 ("));
	ASSERT_NE(NULL, strstr(self->out, "formatted "));
	ASSERT_EQ(0, skp_probe_sigs_dev(self->dev, &s, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, s.n);
	ASSERT_EQ(0, env_dek(self->dev, 0, dek, NULL));
	/* Only magic strings and the header: the secondary copy's other bytes are still there. */
	ASSERT_EQ(0, env_read(self->dev, SKP_DATA_OFFSET, data, sizeof(data)));
	ASSERT_EQ(0x5a, data[0]);
	ASSERT_EQ(0, env_read(self->dev, 0x4000, data, 512));
	ASSERT_EQ(0, memcmp(data, zero, 6));
	ASSERT_EQ(2, data[7]);
}

/* The KEK comes before the wipe: a KMS that refuses leaves the device as it was. */
TEST_F(format, force_kms_failure_wipes_nothing)
{
	unsigned char before[32], after[32];

	luks2(self->dev);
	ASSERT_EQ(0, env_hash(self->dev, before));
	fake_kms("kms")->refuse_create = -EACCES;
	ASSERT_GT(0, format(self, SKP_REQ_FORCE));
	ASSERT_EQ(0, env_hash(self->dev, after));
	ASSERT_EQ(0, memcmp(before, after, sizeof(before)));
}

/* As before this change: an skp header refuses a format, whatever FORCE says. */
TEST_F(format, skp_header_still_refused)
{
	ASSERT_EQ(0, format(self, 0)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(NULL, strstr(self->out, "wiped"));
	ASSERT_EQ(1, fake_kms("kms")->n_create);
	ASSERT_EQ(-EEXIST, format(self, 0));
	ASSERT_NE(NULL, strstr(self->err.msg, "already holds an skp header"));
	ASSERT_EQ(-EEXIST, format(self, SKP_REQ_FORCE));
	ASSERT_NE(NULL, strstr(self->err.msg, "already holds an skp header"));
	ASSERT_EQ(1, fake_kms("kms")->n_create);
}

TEST_HARNESS_MAIN
