// SPDX-License-Identifier: GPL-2.0
/*
 * skpd's deep rekey (daemon/skpd/rekey.c, docs/deep-rekey.md) as a state machine: skpd's
 * own code, the real header, wrap, record and recovery code, over fakes of the kernel
 * (tests/unit/fakes: dm-skp rewrites the device file for real) and of the KMS.  The
 * device is a file; every test checks the data by decrypting the file itself with the
 * DEK it unwraps from the header with the fake KMS's KEK.
 *
 * A "restart" here is what skpd's exit does (env_stop: rekey state and KEK cache wiped,
 * mappings left in the kernel), then a new start.  Unlike a real restart it keeps
 * rekey.c's in-memory record marks (static), which only a refusal of put-back records
 * reads: the tests that restart never put records back.  After a reopen or restart the
 * chunk size is skpd's default again (it is not recorded), so only the first run of a
 * rekey counts chunks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "env.h"
#include "fake-dm.h"
#include "fake-keyring.h"
#include "fake-kms.h"
#include "kmip.h"
#include "ops.h"
#include "proto.h"
#include "reencrypt.h"
#include "rekey.h"
#include "sbuf.h"
#include "skpd.h"

#define DATA_MIB	4
#define LEN		(DATA_MIB * 2048u)	/* mapping length, 512-byte sectors */
#define CHUNK_KIB	256
#define CHUNK		(CHUNK_KIB * 2u)	/* sectors: LEN / CHUNK = 16 chunks */
#define NAME		"vol"

FIXTURE(rk) {
	struct env e;
	char dev[PATH_MAX + 32];
	uint32_t ss;
	unsigned char *plain;		/* what the volume must hold, LEN * 512 bytes */
	unsigned char old_dek[SKP_DEK_LEN];
	struct skp_header h0;		/* before the rekey */
	struct skp_renc_rec *rec;
	struct sbuf out;
	struct skp_err err;
};

FIXTURE_VARIANT(rk) {
	uint32_t sector_size;
};
FIXTURE_VARIANT_ADD(rk, s4096) { .sector_size = 4096 };
FIXTURE_VARIANT_ADD(rk, s512) { .sector_size = 512 };

static const char *out_text(FIXTURE_DATA(rk) *self)
{
	return self->out.s ? self->out.s : "";
}

static struct device *vol(FIXTURE_DATA(rk) *self)
{
	return dev_find(self->e.d, NAME);
}

/* What skpctl would show: the state skpd reports. */
static const char *state(FIXTURE_DATA(rk) *self)
{
	struct device *v = vol(self);
	struct skp_rekey_progress p;

	if (!v)
		return "not open";
	rekey_progress(v, &p);
	return skp_rekey_state_name(p.state);
}

static struct fake_dm_map *map(void)
{
	static struct fake_dm_map none;
	struct fake_dm_map *m = fake_dm_find(NAME);

	return m ? m : &none;
}

/* Ticks while the rekey runs, at most max times; the number of ticks. */
static unsigned int run(FIXTURE_DATA(rk) *self, unsigned int max)
{
	unsigned int n = 0;

	while (n < max && !strcmp(state(self), "running")) {
		rekey_tick(self->e.d);
		n++;
	}
	return n;
}

/* 0 if every crypto sector of the device file decrypts to the plaintext under dek, else
 * 1 + the first sector that does not. */
static uint64_t disk_bad(FIXTURE_DATA(rk) *self, const unsigned char *dek)
{
	unsigned char *ct = malloc(LEN * 512ul), out[4096];
	uint64_t bad = 0;

	if (!ct || env_read(self->dev, self->h0.data_offset, ct, LEN * 512ul))
		bad = 1;
	for (uint64_t s = 0; !bad && s < LEN; s += self->ss / 512)
		if (fake_xts(dek, self->ss, s, 0, ct + s * 512, out) ||
		    memcmp(out, self->plain + s * 512, self->ss))
			bad = s + 1;
	free(ct);
	return bad;
}

/* The old ciphertext of 512-byte sector s: what the record's sample must hold. */
static void old_sample(FIXTURE_DATA(rk) *self, uint64_t s, unsigned char out[SKP_RENC_SAMPLE_LEN])
{
	uint64_t cs = s / (self->ss / 512) * (self->ss / 512);
	unsigned char ct[4096];

	fake_xts(self->old_dek, self->ss, cs, 1, self->plain + cs * 512, ct);
	memcpy(out, ct + (s - cs) * 512, SKP_RENC_SAMPLE_LEN);
}

/* The newest progress record on the device, read with the records' key of this rekey. */
static int read_rec(FIXTURE_DATA(rk) *self, const unsigned char *new_dek)
{
	struct skp_renc_geom g = {.data_offset = self->h0.data_offset, .length = LEN, .sector_size = self->ss};
	unsigned char key[SKP_RENC_KEY_LEN];
	int fd = open(self->dev, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = skp_renc_key(self->old_dek, new_dek, SKP_DEK_LEN, self->h0.uuid, key, NULL);
	if (r == 0)
		r = skp_renc_rec_read(fd, self->h0.resil_offset, &g, self->h0.uuid, key, self->rec, NULL);
	close(fd);
	return r;
}

/* The user writes through the mapping: the target encrypts with the key of each side. */
static int user_write(FIXTURE_DATA(rk) *self, uint64_t sector, unsigned char fill)
{
	memset(self->plain + sector * 512, fill, self->ss);
	return fake_dm_write(NAME, sector, self->plain + sector * 512, self->ss);
}

static int start(FIXTURE_DATA(rk) *self)
{
	sb_free(&self->out);
	return rekey_start(self->e.d, NAME, NULL, 0, CHUNK_KIB, &self->out, &self->err);
}

static int control(FIXTURE_DATA(rk) *self, unsigned int flags)
{
	sb_free(&self->out);
	skp_err_clear(&self->err);
	return rekey_control(self->e.d, NAME, flags, 0, &self->out, &self->err);
}

static int open_vol(FIXTURE_DATA(rk) *self, unsigned int flags)
{
	sb_free(&self->out);
	skp_err_clear(&self->err);
	return op_open(self->e.d, self->dev, NAME, 0, flags, &self->out, &self->err);
}

static int close_vol(FIXTURE_DATA(rk) *self)
{
	sb_free(&self->out);
	skp_err_clear(&self->err);
	return op_close(self->e.d, NAME, &self->out, &self->err);
}

/* skpd goes away without closing anything, and a new one starts. */
static int restart(FIXTURE_DATA(rk) *self)
{
	env_stop(&self->e);
	return env_start(&self->e, &self->err);
}

FIXTURE_SETUP(rk)
{
	static const char *const provs[] = {"kmsA", "kmsB"};

	self->ss = variant->sector_size;
	self->rec = malloc(sizeof(*self->rec));
	self->plain = malloc(LEN * 512ul);
	ASSERT_TRUE(self->rec && self->plain);
	ASSERT_EQ(0, env_init(&self->e, provs, 2, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_dev(&self->e, NAME, DATA_MIB, self->dev, sizeof(self->dev)));
	ASSERT_EQ(0, env_format(&self->e, self->dev, NULL, self->ss, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, open_vol(self, 0)) TH_LOG("%s", self->err.msg);
	for (size_t i = 0; i < LEN * 512ul; i++)
		self->plain[i] = (unsigned char)(i * 7 + i / 512);
	ASSERT_EQ(0, fake_dm_write(NAME, 0, self->plain, LEN * 512ul));
	ASSERT_EQ(0, env_dek(self->dev, 0, self->old_dek, &self->h0));
	ASSERT_EQ(0, disk_bad(self, self->old_dek));
	ASSERT_EQ(LEN, map()->t.len);
	ASSERT_EQ(0, fake_keyring_count());
}

FIXTURE_TEARDOWN(rk)
{
	env_cleanup(&self->e);
	sb_free(&self->out);
	free(self->plain);
	free(self->rec);
}

TEST_F(rk, completes_chunk_by_chunk)
{
	unsigned char new_dek[SKP_DEK_LEN], dek[SKP_DEK_LEN], sample[SKP_RENC_SAMPLE_LEN], buf[4096];
	struct fake_kms *kms = fake_kms("kmsA");
	struct fake_kms_key *oldk, *newk;
	struct skp_header h;
	unsigned int ticks = 0;

	ASSERT_EQ(0, start(self)) TH_LOG("%s", self->err.msg);
	ASSERT_STREQ("running", state(self));
	/* Two-key mode at boundary 0, the keys having passed through the keyring only. */
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, &h));
	ASSERT_EQ(SKP_SLOT_NEW, h.slot[1].state);
	ASSERT_EQ(2, h.slot[1].generation);
	ASSERT_STRNE(self->h0.slot[0].kek_uid, h.slot[1].kek_uid);
	ASSERT_TRUE(map()->t.two_keys);
	ASSERT_EQ(0, map()->t.boundary);
	ASSERT_EQ(0, memcmp(map()->t.key, self->old_dek, SKP_DEK_LEN));
	ASSERT_EQ(0, memcmp(map()->t.new_key, new_dek, SKP_DEK_LEN));
	ASSERT_EQ(0, fake_keyring_count());
	/* Both record slots were written before the header named the rekey. */
	ASSERT_EQ(0, read_rec(self, new_dek));
	ASSERT_EQ(2, self->rec->seq);
	ASSERT_EQ(0, self->rec->boundary);
	ASSERT_EQ(0, self->rec->hot_len);

	for (uint64_t b = 0; b < LEN; b += CHUNK) {
		ASSERT_STREQ("running", state(self)) TH_LOG("at %llu: %s", (unsigned long long)b, vol(self)->problem);
		rekey_tick(self->e.d);
		ticks++;
		if (b + CHUNK == LEN)
			break;
		ASSERT_EQ(b + CHUNK, map()->t.boundary);
		/* The chunk's record was durable before the rewrite: its hotzone is the chunk
		 * and its samples the chunk's old ciphertext. */
		ASSERT_EQ(0, read_rec(self, new_dek));
		ASSERT_EQ(b, self->rec->boundary);
		ASSERT_EQ(CHUNK, self->rec->hot_len);
		for (uint64_t s = 0; s < CHUNK; s += 37) {
			old_sample(self, b + s, sample);
			ASSERT_EQ(0, memcmp(sample, self->rec->samples[s], sizeof(sample))) TH_LOG("sector %llu",
												   (unsigned long long)(b + s));
		}
		/* User writes go on, each side under its key. */
		if (ticks == 5) {
			ASSERT_EQ(0, user_write(self, 0, 0xa5));
			ASSERT_EQ(0, user_write(self, LEN - self->ss / 512, 0x5a));
		}
	}
	ASSERT_EQ(LEN / CHUNK, ticks);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(-1, rekey_next_ms(self->e.d));
	ASSERT_EQ(LEN / CHUNK, fake_dm_stats.hold);
	ASSERT_EQ(LEN / CHUNK, fake_dm_stats.reencrypt);
	ASSERT_EQ(0, map()->held);

	/* One key, the new one, in the table and alone in the header; records gone. */
	ASSERT_FALSE(map()->t.two_keys);
	ASSERT_EQ(0, memcmp(map()->t.key, new_dek, SKP_DEK_LEN));
	ASSERT_EQ(0, env_dek(self->dev, 0, dek, &h));
	ASSERT_EQ(0, memcmp(dek, new_dek, SKP_DEK_LEN));
	ASSERT_EQ(SKP_SLOT_EMPTY, h.slot[1].state);
	ASSERT_EQ(2, h.slot[0].generation);
	ASSERT_EQ(2, vol(self)->generation);
	ASSERT_EQ(-ENODATA, read_rec(self, new_dek));
	ASSERT_EQ(0, fake_keyring_count());

	/* The data: all of it under the new DEK, none under the old. */
	ASSERT_EQ(0, disk_bad(self, new_dek));
	ASSERT_EQ(1, disk_bad(self, self->old_dek));
	ASSERT_EQ(0, fake_dm_read(NAME, 0, buf, self->ss));
	ASSERT_EQ(0, memcmp(buf, self->plain, self->ss));

	/* The old KEK retired at the KMS (Superseded: Deactivated), the new one in service. */
	oldk = fake_kms_key(kms, self->h0.slot[0].kek_uid);
	newk = fake_kms_key(kms, h.slot[0].kek_uid);
	ASSERT_TRUE(oldk && newk);
	ASSERT_EQ(3, oldk->state);
	ASSERT_EQ(KMIP_REVOKE_SUPERSEDED, oldk->revoke_reason);
	ASSERT_EQ(2, newk->state);
	ASSERT_EQ(0, newk->revoke_reason);
	ASSERT_EQ(0, vol(self)->problem[0]);
}

TEST_F(rk, pause_resume_across_close)
{
	unsigned char new_dek[SKP_DEK_LEN];
	unsigned long holds;
	uint64_t b;

	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	ASSERT_EQ(3, run(self, 3));
	b = map()->t.boundary;
	ASSERT_EQ(3 * CHUNK, b);
	ASSERT_EQ(-EBUSY, close_vol(self));	/* a running rekey must be paused first */
	ASSERT_EQ(-EALREADY, control(self, SKP_REQ_RESUME));

	ASSERT_EQ(0, control(self, SKP_REQ_PAUSE)) TH_LOG("%s", self->err.msg);
	ASSERT_STREQ("paused", state(self));
	ASSERT_EQ(-EALREADY, control(self, SKP_REQ_PAUSE));
	ASSERT_EQ(-1, rekey_next_ms(self->e.d));
	holds = fake_dm_stats.hold;
	for (int i = 0; i < 4; i++)
		rekey_tick(self->e.d);
	ASSERT_EQ(holds, fake_dm_stats.hold);
	ASSERT_EQ(b, map()->t.boundary);
	/* Durable: the newest record is flagged paused at the boundary. */
	ASSERT_EQ(0, read_rec(self, new_dek));
	ASSERT_EQ(b, self->rec->boundary);
	ASSERT_EQ(0, self->rec->hot_len);
	ASSERT_TRUE(self->rec->flags & SKP_RENC_PAUSED);

	/* Closed and opened again it stays paused, in two-key mode at the boundary. */
	ASSERT_EQ(0, close_vol(self)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(NULL, fake_dm_find(NAME));
	ASSERT_EQ(0, open_vol(self, 0)) TH_LOG("%s", self->err.msg);
	ASSERT_STREQ("paused", state(self));
	ASSERT_NE(NULL, strstr(out_text(self), "paused")) TH_LOG("%s", out_text(self));
	ASSERT_TRUE(map()->t.two_keys);
	ASSERT_EQ(b, map()->t.boundary);
	rekey_tick(self->e.d);
	ASSERT_EQ(b, map()->t.boundary);

	ASSERT_EQ(0, control(self, SKP_REQ_RESUME)) TH_LOG("%s", self->err.msg);
	ASSERT_STREQ("running", state(self));
	ASSERT_EQ(0, read_rec(self, new_dek));
	ASSERT_FALSE(self->rec->flags & SKP_RENC_PAUSED);
	run(self, 100);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(0, disk_bad(self, new_dek));
}

/* A reencrypt fails (how); the kernel fences the chunk; --resume repairs it and goes on. */
static void fenced_then_resume(struct __test_metadata *_metadata, FIXTURE_DATA(rk) *self, enum fake_dm_fail how)
{
	unsigned char new_dek[SKP_DEK_LEN], buf[4096];
	unsigned long n;
	uint64_t b;

	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	ASSERT_EQ(2, run(self, 2));
	b = map()->t.boundary;
	fake_dm_faults.reencrypt_n = 1;
	fake_dm_faults.reencrypt_how = how;
	rekey_tick(self->e.d);
	ASSERT_STREQ("failed", state(self));
	ASSERT_NE(NULL, strstr(vol(self)->problem, "fenced")) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(b, map()->t.boundary);
	ASSERT_EQ(CHUNK, map()->fence_end - map()->fence_start);
	/* The kernel fails I/O to the chunk rather than decrypt it with one key. */
	ASSERT_EQ(-EIO, fake_dm_read(NAME, b, buf, self->ss));
	/* Stopped: no tick touches it, pause is refused. */
	n = fake_dm_stats.message;
	rekey_tick(self->e.d);
	ASSERT_EQ(n, fake_dm_stats.message);
	ASSERT_EQ(-EINVAL, control(self, SKP_REQ_PAUSE));

	ASSERT_EQ(0, control(self, SKP_REQ_RESUME)) TH_LOG("%s", self->err.msg);
	ASSERT_STREQ("running", state(self));
	ASSERT_EQ(0, map()->fence_end - map()->fence_start);	/* the reload lifted it */
	ASSERT_EQ(b + CHUNK, map()->t.boundary);
	ASSERT_EQ(0, vol(self)->problem[0]);
	ASSERT_EQ(0, fake_dm_read(NAME, b, buf, self->ss));
	ASSERT_EQ(0, memcmp(buf, self->plain + b * 512, self->ss));
	run(self, 100);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(0, disk_bad(self, new_dek));
	ASSERT_EQ(0, fake_keyring_count());
}

TEST_F(rk, fenced_before_write_resume_repairs)
{
	fenced_then_resume(_metadata, self, FAKE_DM_FAIL_BEFORE_WRITE);
}

TEST_F(rk, fenced_half_written_resume_repairs)
{
	fenced_then_resume(_metadata, self, FAKE_DM_FAIL_HALF_WRITTEN);
}

TEST_F(rk, fenced_torn_sector_resume_repairs)
{
	fenced_then_resume(_metadata, self, FAKE_DM_FAIL_TORN);
}

/* skpd dies between a hold and its reencrypt; the new one adopts the live mapping. */
TEST_F(rk, restart_adopts_live_mapping)
{
	unsigned char new_dek[SKP_DEK_LEN];
	struct fake_dm_stats st;
	struct skp_header h;
	char msg[64];
	uint64_t b;

	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	ASSERT_EQ(3, run(self, 3));
	b = map()->t.boundary;
	snprintf(msg, sizeof(msg), "hold %llu %u", (unsigned long long)b, CHUNK);
	ASSERT_EQ(0, skp_dm_message(NAME, msg, NULL, 0, NULL));
	ASSERT_EQ(0, restart(self)) TH_LOG("%s", self->err.msg);
	ASSERT_TRUE(map()->held);

	st = fake_dm_stats;
	ASSERT_EQ(0, skp_header_read_dev(self->dev, O_RDONLY, NULL, &h, &self->err));
	ASSERT_EQ(0, rekey_open(self->e.d, self->dev, NAME, &h, 0, 1, &self->out, &self->err))
		TH_LOG("%s", self->err.msg);
	ASSERT_NE(NULL, strstr(out_text(self), "adopted")) TH_LOG("%s", out_text(self));
	ASSERT_STREQ("running", state(self));
	/* The table is the kernel's: not reloaded; the dead skpd's hold dropped. */
	ASSERT_EQ(st.create, fake_dm_stats.create);
	ASSERT_EQ(st.reload, fake_dm_stats.reload);
	ASSERT_FALSE(map()->held);
	/* The kernel's boundary is recorded, without a hotzone. */
	ASSERT_EQ(0, read_rec(self, new_dek));
	ASSERT_EQ(b, self->rec->boundary);
	ASSERT_EQ(0, self->rec->hot_len);
	run(self, 100);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(0, disk_bad(self, new_dek));
}

/* A chunk failed and skpd went away: the new one adopts the fence and repairs it on resume. */
TEST_F(rk, restart_adopts_fenced_mapping)
{
	unsigned char new_dek[SKP_DEK_LEN];
	struct skp_header h;
	uint64_t b;

	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	ASSERT_EQ(4, run(self, 4));
	b = map()->t.boundary;
	fake_dm_faults.reencrypt_n = 1;
	fake_dm_faults.reencrypt_how = FAKE_DM_FAIL_HALF_WRITTEN;
	rekey_tick(self->e.d);
	ASSERT_STREQ("failed", state(self));
	ASSERT_EQ(0, restart(self)) TH_LOG("%s", self->err.msg);

	ASSERT_EQ(0, skp_header_read_dev(self->dev, O_RDONLY, NULL, &h, &self->err));
	ASSERT_EQ(0, rekey_open(self->e.d, self->dev, NAME, &h, 0, 1, &self->out, &self->err))
		TH_LOG("%s", self->err.msg);
	ASSERT_NE(NULL, strstr(out_text(self), "fenced")) TH_LOG("%s", out_text(self));
	ASSERT_STREQ("failed", state(self));
	ASSERT_EQ(CHUNK, map()->fence_end - map()->fence_start);
	ASSERT_EQ(0, control(self, SKP_REQ_RESUME)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, map()->fence_end - map()->fence_start);
	ASSERT_EQ(b + CHUNK, map()->t.boundary);
	run(self, 100);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(0, disk_bad(self, new_dek));
}

/* Power cut in the middle of a chunk (how): the mapping is gone, the next open repairs
 * the hotzone from the record, then maps in two-key mode past it. */
static void power_cut_mid_chunk(struct __test_metadata *_metadata, FIXTURE_DATA(rk) *self, enum fake_dm_fail how)
{
	unsigned char new_dek[SKP_DEK_LEN];
	uint64_t b;

	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	ASSERT_EQ(5, run(self, 5));
	b = map()->t.boundary;
	if (how) {
		fake_dm_faults.reencrypt_n = 1;
		fake_dm_faults.reencrypt_how = how;
		rekey_tick(self->e.d);
	}
	env_stop(&self->e);
	fake_dm_forget(NAME);
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);

	ASSERT_EQ(0, open_vol(self, 0)) TH_LOG("%s", self->err.msg);
	ASSERT_STREQ("running", state(self));
	ASSERT_TRUE(map()->t.two_keys);
	/* The newest record's hotzone (the cut chunk, or the last one done) is new now. */
	ASSERT_EQ(b + (how ? CHUNK : 0), map()->t.boundary);
	if (how)
		ASSERT_NE(NULL, strstr(out_text(self), "hotzone repaired")) TH_LOG("%s", out_text(self));
	ASSERT_EQ(0, read_rec(self, new_dek));
	ASSERT_EQ(map()->t.boundary, self->rec->boundary);
	ASSERT_EQ(0, self->rec->hot_len);
	run(self, 100);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(0, disk_bad(self, new_dek));
}

TEST_F(rk, power_cut_between_chunks)
{
	power_cut_mid_chunk(_metadata, self, 0);
}

TEST_F(rk, power_cut_before_write_recovers)
{
	power_cut_mid_chunk(_metadata, self, FAKE_DM_FAIL_BEFORE_WRITE);
}

TEST_F(rk, power_cut_half_written_recovers)
{
	power_cut_mid_chunk(_metadata, self, FAKE_DM_FAIL_HALF_WRITTEN);
}

TEST_F(rk, power_cut_torn_sector_recovers)
{
	power_cut_mid_chunk(_metadata, self, FAKE_DM_FAIL_TORN);
}

/* Pauses mid-rekey and closes: the records then only change if someone changes them. */
static void pause_and_close(struct __test_metadata *_metadata, FIXTURE_DATA(rk) *self, unsigned int chunks)
{
	ASSERT_EQ(chunks, run(self, chunks));
	ASSERT_EQ(0, control(self, SKP_REQ_PAUSE)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, close_vol(self)) TH_LOG("%s", self->err.msg);
}

/* Open refused; the device file byte for byte as before; nothing mapped, no key left. */
static void open_refused(struct __test_metadata *_metadata, FIXTURE_DATA(rk) *self, int code, const char *why)
{
	unsigned char before[32], after[32];

	ASSERT_EQ(0, env_hash(self->dev, before));
	ASSERT_EQ(code, open_vol(self, 0)) TH_LOG("%s", self->err.msg);
	ASSERT_NE(NULL, strstr(self->err.msg, why)) TH_LOG("%s", self->err.msg);
	ASSERT_NE(NULL, strstr(self->err.msg, "nothing written")) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_hash(self->dev, after));
	ASSERT_EQ(0, memcmp(before, after, 32));
	ASSERT_EQ(NULL, fake_dm_find(NAME));
	ASSERT_EQ(NULL, vol(self));
	ASSERT_EQ(0, fake_keyring_count());
}

TEST_F(rk, refused_both_records_erased)
{
	unsigned char new_dek[SKP_DEK_LEN], *resil = malloc(2 * SKP_RENC_SLOT_SIZE), zero[8] = {0};
	uint64_t ro = self->h0.resil_offset;

	ASSERT_TRUE(resil != NULL);
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	pause_and_close(_metadata, self, 2);
	ASSERT_EQ(0, env_read(self->dev, ro, resil, 2 * SKP_RENC_SLOT_SIZE));
	/* The magic of both slots is enough to make them "missing". */
	ASSERT_EQ(0, env_write(self->dev, ro, zero, sizeof(zero)));
	ASSERT_EQ(0, env_write(self->dev, ro + SKP_RENC_SLOT_SIZE, zero, sizeof(zero)));
	open_refused(_metadata, self, -ENODATA, "both progress records are missing");

	/* Put back, it opens where it was, paused, and finishes. */
	ASSERT_EQ(0, env_write(self->dev, ro, resil, 2 * SKP_RENC_SLOT_SIZE));
	ASSERT_EQ(0, open_vol(self, 0)) TH_LOG("%s", self->err.msg);
	ASSERT_STREQ("paused", state(self));
	ASSERT_EQ(2 * CHUNK, map()->t.boundary);
	ASSERT_EQ(0, control(self, SKP_REQ_RESUME));
	run(self, 100);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(0, disk_bad(self, new_dek));
	free(resil);
}

TEST_F(rk, refused_older_records_put_back)
{
	unsigned char new_dek[SKP_DEK_LEN];
	unsigned char *old = malloc(2 * SKP_RENC_SLOT_SIZE), *cur = malloc(2 * SKP_RENC_SLOT_SIZE);
	uint64_t ro = self->h0.resil_offset;

	ASSERT_TRUE(old && cur);
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	ASSERT_EQ(2, run(self, 2));
	ASSERT_EQ(0, control(self, SKP_REQ_PAUSE));
	/* A consistent pair, older than what follows. */
	ASSERT_EQ(0, env_read(self->dev, ro, old, 2 * SKP_RENC_SLOT_SIZE));
	ASSERT_EQ(0, control(self, SKP_REQ_RESUME));
	pause_and_close(_metadata, self, 3);
	ASSERT_EQ(0, env_read(self->dev, ro, cur, 2 * SKP_RENC_SLOT_SIZE));

	/* Both slots put back: authentic and consecutive, but older than this skpd wrote. */
	ASSERT_EQ(0, env_write(self->dev, ro, old, 2 * SKP_RENC_SLOT_SIZE));
	open_refused(_metadata, self, -ESTALE, "put back");
	/* One slot put back: the pair is no longer consecutive. */
	ASSERT_EQ(0, env_write(self->dev, ro, cur, SKP_RENC_SLOT_SIZE));
	ASSERT_EQ(0, env_write(self->dev, ro + SKP_RENC_SLOT_SIZE, old + SKP_RENC_SLOT_SIZE, SKP_RENC_SLOT_SIZE));
	open_refused(_metadata, self, -ESTALE, "not consecutive");

	ASSERT_EQ(0, env_write(self->dev, ro, cur, 2 * SKP_RENC_SLOT_SIZE));
	ASSERT_EQ(0, open_vol(self, 0)) TH_LOG("%s", self->err.msg);
	ASSERT_STREQ("paused", state(self));
	ASSERT_EQ(5 * CHUNK, map()->t.boundary);
	ASSERT_EQ(0, control(self, SKP_REQ_RESUME));
	run(self, 100);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(0, disk_bad(self, new_dek));
	free(old);
	free(cur);
}

/* After the rekey the old KEK is retired: a header backup from before opens read-only. */
TEST_F(rk, restored_old_header_opens_read_only)
{
	unsigned char *area = malloc(SKP_HDR_AREA_SIZE), new_dek[SKP_DEK_LEN];

	ASSERT_TRUE(area != NULL);
	ASSERT_EQ(0, env_read(self->dev, 0, area, SKP_HDR_AREA_SIZE));
	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	run(self, 100);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(0, close_vol(self)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_write(self->dev, 0, area, SKP_HDR_AREA_SIZE));

	ASSERT_EQ(0, open_vol(self, 0)) TH_LOG("%s", self->err.msg);
	ASSERT_TRUE(map()->t.read_only);
	ASSERT_NE(NULL, strstr(out_text(self), "READ-ONLY")) TH_LOG("%s", out_text(self));
	ASSERT_EQ(-EROFS, fake_dm_write(NAME, 0, self->plain, self->ss));
	ASSERT_EQ(0, close_vol(self));
	/* On purpose (--allow-superseded) it opens read-write, with a warning. */
	ASSERT_EQ(0, open_vol(self, SKP_REQ_SUPERSEDED)) TH_LOG("%s", self->err.msg);
	ASSERT_FALSE(map()->t.read_only);
	ASSERT_NE(NULL, strstr(out_text(self), "warning")) TH_LOG("%s", out_text(self));
	free(area);
}

/* A dm-skp older than 1.3 serves single-key mappings but no deep rekey: refused, nothing done. */
TEST_F(rk, refused_old_target)
{
	unsigned char before[32], after[32];
	unsigned long creates = fake_kms("kmsA")->n_create;

	ASSERT_EQ(0, env_hash(self->dev, before));
	fake_dm_skp_version[1] = 2;
	ASSERT_EQ(-EPROTO, start(self)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_hash(self->dev, after));
	ASSERT_EQ(0, memcmp(before, after, 32));
	ASSERT_EQ(creates, fake_kms("kmsA")->n_create);
	ASSERT_FALSE(map()->t.two_keys);
	ASSERT_STREQ("none", state(self));
}

/* dm-crypt (target = crypt) has no two-key mode: refused before anything is written. */
TEST_F(rk, refused_crypt_target)
{
	unsigned char before[32], after[32];
	unsigned long creates = fake_kms("kmsA")->n_create;

	ASSERT_EQ(0, env_hash(self->dev, before));
	snprintf(self->e.d->cfg.target, sizeof(self->e.d->cfg.target), "crypt");
	ASSERT_EQ(-EOPNOTSUPP, start(self)) TH_LOG("%s", self->err.msg);
	ASSERT_NE(NULL, strstr(self->err.msg, "target = crypt"));
	ASSERT_EQ(0, env_hash(self->dev, after));
	ASSERT_EQ(0, memcmp(before, after, 32));
	ASSERT_EQ(creates, fake_kms("kmsA")->n_create);
	ASSERT_STREQ("none", state(self));
}

/* The final switch to the new key alone fails: resume finishes it. */
TEST_F(rk, final_reload_fails_then_resume)
{
	unsigned char new_dek[SKP_DEK_LEN];

	ASSERT_EQ(0, start(self));
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	fake_dm_faults.reload_n = 1;
	run(self, 100);
	ASSERT_STREQ("failed", state(self));
	ASSERT_TRUE(map()->t.two_keys);
	ASSERT_EQ(LEN, map()->t.boundary);
	ASSERT_EQ(0, control(self, SKP_REQ_RESUME)) TH_LOG("%s", self->err.msg);
	run(self, 1);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_FALSE(map()->t.two_keys);
	ASSERT_EQ(0, disk_bad(self, new_dek));
}

/* The switch to two-key mode fails after the header names the rekey: the mapping keeps
 * the old key alone, and close then open resumes from the records. */
TEST_F(rk, two_key_reload_fails_close_open_resumes)
{
	unsigned char new_dek[SKP_DEK_LEN], buf[4096];

	fake_dm_faults.reload_n = 1;
	ASSERT_GT(0, start(self));
	ASSERT_STREQ("failed", state(self));
	ASSERT_FALSE(map()->t.two_keys);
	ASSERT_EQ(0, fake_dm_read(NAME, 0, buf, self->ss));
	ASSERT_EQ(0, memcmp(buf, self->plain, self->ss));
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	ASSERT_EQ(0, close_vol(self)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, open_vol(self, 0)) TH_LOG("%s", self->err.msg);
	ASSERT_STREQ("running", state(self));
	ASSERT_TRUE(map()->t.two_keys);
	ASSERT_EQ(0, map()->t.boundary);
	run(self, 100);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(0, disk_bad(self, new_dek));
}

/* The same failure, then --resume as the error message says: it retries the switch. */
TEST_F(rk, two_key_reload_fails_then_resume)
{
	unsigned char new_dek[SKP_DEK_LEN];

	fake_dm_faults.reload_n = 1;
	ASSERT_GT(0, start(self));
	ASSERT_STREQ("failed", state(self));
	ASSERT_FALSE(map()->t.two_keys);
	ASSERT_EQ(0, env_dek(self->dev, 1, new_dek, NULL));
	ASSERT_EQ(0, control(self, SKP_REQ_RESUME)) TH_LOG("%s", self->err.msg);
	ASSERT_STREQ("running", state(self));
	ASSERT_TRUE(map()->t.two_keys);
	run(self, 100);
	ASSERT_STREQ("done", state(self)) TH_LOG("%s", vol(self)->problem);
	ASSERT_EQ(0, disk_bad(self, new_dek));
}

TEST_HARNESS_MAIN
