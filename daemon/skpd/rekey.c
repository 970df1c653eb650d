// SPDX-License-Identifier: GPL-2.0
/*
 * Deep rekey driver (docs/deep-rekey.md): a new DEK for a mapped device, the data
 * re-encrypted online by dm-skp's hold/reencrypt messages one chunk per main-loop
 * iteration (the control socket stays responsive), each chunk's old ciphertext hashed
 * into an authenticated progress record first, so a crash at any instant is repaired on
 * the next open.  Recovery at open and adoption of a live mapping are here too.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/dm-skp.h>

#include "dm.h"
#include "kmip.h"
#include "log.h"
#include "proto.h"
#include "provider.h"
#include "reencrypt.h"
#include "rekey.h"
#include "sbuf.h"
#include "secmem.h"
#include "skpd.h"
#include "testhooks.h"
#include "wrap.h"

#define DEFAULT_CHUNK	(1024u)			/* sectors: 512 KiB */

enum rk_state { RK_RUNNING, RK_PAUSED, RK_DONE, RK_FAILED };

struct rekey {
	enum rk_state state;
	int fd;				/* O_RDWR | O_DIRECT: records and hotzone samples */
	int hfd;			/* O_RDWR: header writes */
	unsigned char *old_dek, *new_dek;	/* secmem */
	unsigned char *rkey;		/* secmem: the records' HMAC key */
	struct skp_header h;		/* slot 0 old (ACTIVE), slot 1 new (NEW) */
	struct skp_renc_geom geom;
	struct skp_renc_rec *rec;	/* scratch for the next record */
	unsigned char *hotbuf;		/* a chunk's ciphertext while sampling it */
	uint64_t seq;			/* of the last record written */
	uint64_t boundary, length;	/* 512-byte sectors */
	uint32_t chunk;			/* sectors */
	uint32_t rate_mib;
	int discard;
	/* A reencrypt failed: the kernel fenced the chunk at the boundary, which may be part
	 * old, part new; rec still holds its samples.  Resume repairs it first. */
	int fenced;
	/* progress */
	struct timespec t0;		/* this run's start (after open, resume or adopt) */
	uint64_t b0;			/* boundary at t0 */
	double next_due;		/* throttle: monotonic seconds of the next chunk */
	double done_secs;
	char error[200];
};

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The newest record this skpd wrote or read for each rekey it has seen, so that records
 * rolled back while a device was closed (an older authentic pair put back in both slots,
 * which the disk alone cannot reveal) are refused at the next open.  Memory only: it does
 * not survive a restart (docs/threat-model.md).  A rekey is named by its device UUID and
 * its wrapped new DEK, which is random per rekey and public.
 */
struct hw_mark {
	unsigned char uuid[16];
	unsigned char wrapped[SKP_SLOT_WRAPPED_MAX];
	uint64_t seq, boundary;
	int used;
};
#define HW_MARKS 64
static struct hw_mark hw_marks[HW_MARKS];

static struct hw_mark *hw_find(const struct skp_header *h, int create)
{
	static unsigned int next;
	struct hw_mark *m;

	for (int i = 0; i < HW_MARKS; i++) {
		m = &hw_marks[i];
		if (m->used && !memcmp(m->uuid, h->uuid, 16) &&
		    !memcmp(m->wrapped, h->slot[1].wrapped, SKP_SLOT_WRAPPED_MAX))
			return m;
	}
	if (!create)
		return NULL;
	m = &hw_marks[next++ % HW_MARKS];	/* the oldest entry goes */
	memset(m, 0, sizeof(*m));
	memcpy(m->uuid, h->uuid, 16);
	memcpy(m->wrapped, h->slot[1].wrapped, SKP_SLOT_WRAPPED_MAX);
	m->used = 1;
	return m;
}

static void hw_note(const struct skp_header *h, uint64_t seq, uint64_t boundary)
{
	struct hw_mark *m = hw_find(h, 1);

	if (seq >= m->seq) {
		m->seq = seq;
		m->boundary = boundary;
	}
}

/* -ESTALE if r is older than the newest record this skpd wrote or read for the rekey. */
static int hw_check(const struct skp_header *h, const struct skp_renc_rec *r, struct skp_err *err)
{
	const struct hw_mark *m = hw_find(h, 0);

	if (!m || r->seq >= m->seq)
		return 0;
	return skp_err_set(err, -ESTALE, "records were put back: the newest is %" PRIu64 " (boundary %" PRIu64
			   "), this skpd wrote %" PRIu64 " (boundary %" PRIu64 "); do not restart skpd to get past this",
			   r->seq, r->boundary, m->seq, m->boundary);
}

static void rk_free_keys(struct rekey *rk)
{
	skp_secmem_free(rk->old_dek, SKP_DEK_LEN);
	skp_secmem_free(rk->new_dek, SKP_DEK_LEN);
	skp_secmem_free(rk->rkey, SKP_RENC_KEY_LEN);
	rk->old_dek = rk->new_dek = rk->rkey = NULL;
	if (rk->fd >= 0)
		close(rk->fd);
	if (rk->hfd >= 0)
		close(rk->hfd);
	rk->fd = rk->hfd = -1;
	free(rk->rec);
	rk->rec = NULL;
	free(rk->hotbuf);
	rk->hotbuf = NULL;
}

void rekey_free(struct device *v)
{
	if (!v->rk)
		return;
	rk_free_keys(v->rk);
	free(v->rk);
	v->rk = NULL;
}

/* Allocates the state, fds and keys (both DEKs handed over) for device path dev. */
static int rk_new(const char *dev, const struct skp_header *h, unsigned char *old_dek,
		  unsigned char *new_dek, int excl, struct rekey **ret, struct skp_err *err)
{
	struct rekey *rk = calloc(1, sizeof(*rk));
	int r;

	if (!rk) {
		skp_secmem_free(old_dek, SKP_DEK_LEN);
		skp_secmem_free(new_dek, SKP_DEK_LEN);
		return skp_err_set(err, -ENOMEM, "out of memory");
	}
	rk->old_dek = old_dek;
	rk->new_dek = new_dek;
	rk->fd = rk->hfd = -1;
	rk->h = *h;
	rk->geom.data_offset = h->data_offset;
	rk->geom.length = h->data_length / 512;
	rk->geom.sector_size = h->sector_size;
	rk->length = rk->geom.length;
	rk->chunk = DEFAULT_CHUNK;
	rk->rec = calloc(1, sizeof(*rk->rec));
	rk->rkey = skp_secmem_alloc(SKP_RENC_KEY_LEN);
	if (posix_memalign((void **)&rk->hotbuf, SKP_RENC_BUF_ALIGN, SKP_RENC_BUF_SIZE))
		rk->hotbuf = NULL;
	if (!rk->rec || !rk->rkey || !rk->hotbuf) {
		r = skp_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	r = skp_renc_key(old_dek, new_dek, SKP_DEK_LEN, h->uuid, rk->rkey, err);
	if (r < 0)
		goto fail;
	/* O_DIRECT: dm-skp writes the data below the page cache. */
	rk->fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC | (excl ? O_EXCL : 0));
	rk->hfd = rk->fd < 0 ? -1 : open(dev, O_RDWR | O_CLOEXEC);
	if (rk->fd < 0 || rk->hfd < 0) {
		r = skp_err_set(err, -errno, "%s: %s", dev, strerror(errno));
		goto fail;
	}
	*ret = rk;
	return 0;
fail:
	rk_free_keys(rk);
	free(rk);
	return r;
}

/* Writes the next record: boundary, hotzone (hot_len sectors, samples already in rec). */
static int rk_record(struct rekey *rk, uint64_t boundary, uint64_t hot_len, struct skp_err *err)
{
	struct skp_renc_rec *r = rk->rec;
	int ret;

	r->seq = rk->seq + 1;
	r->flags = rk->state == RK_PAUSED ? SKP_RENC_PAUSED : 0;
	memcpy(r->uuid, rk->h.uuid, 16);
	r->old_gen = rk->h.slot[0].generation;
	r->new_gen = rk->h.slot[1].generation;
	r->sector_size = rk->h.sector_size;
	r->length = rk->length;
	r->boundary = boundary;
	r->hot_len = hot_len;
	r->rate_mib = rk->rate_mib;
	ret = skp_renc_rec_write(rk->fd, rk->h.resil_offset, r, rk->rkey, err);
	if (ret == 0) {
		rk->seq = r->seq;
		hw_note(&rk->h, r->seq, boundary);
	}
	return ret;
}

/* Two keys split at boundary: old above, new below. */
static int rk_load_two(struct skpd *d, const char *name, const char *dev, const struct rekey *rk,
		       uint64_t boundary, int create, struct skp_err *err)
{
	struct dev_keys k = {.key = rk->old_dek, .new_key = rk->new_dek, .boundary = boundary};

	return dev_load_table(d, name, dev, &rk->h, &k, rk->discard, 0, create, err);
}

/* Kernel boundary of a live two-key mapping (status field 1) and the fenced length (7). */
static int kernel_boundary(const char *name, uint64_t *ret, uint64_t *fenced, struct skp_err *err)
{
	char type[32], params[256];
	struct skp_target_status st;
	int r = skp_dm_status(name, 0, type, sizeof(type), params, sizeof(params), err);

	if (r < 0)
		return r;
	if (strcmp(type, DM_SKP_TARGET_NAME) || skp_target_status_parse(params, &st) < 0)
		return skp_err_set(err, -EPROTO, "mapping %s: unexpected status \"%.60s %.60s\"", name, type, params);
	*ret = st.boundary;
	*fenced = st.fenced;
	return 0;
}

/* The table of a live mapping names two keys: the rekey is in the kernel too. */
static int kernel_two_key(const char *name)
{
	char type[32], params[512];
	struct skp_target_table t;

	if (skp_dm_status(name, 1, type, sizeof(type), params, sizeof(params), NULL) < 0 ||
	    skp_target_table_parse(params, &t) < 0)
		return -1;
	return t.two_key;
}

static void rk_start_clock(struct rekey *rk)
{
	clock_gettime(CLOCK_MONOTONIC, &rk->t0);
	rk->b0 = rk->boundary;
	rk->next_due = 0;
}

static void rk_fail(struct device *v, const char *msg)
{
	struct rekey *rk = v->rk;

	rk->state = RK_FAILED;
	snprintf(rk->error, sizeof(rk->error), "%s", msg);
	snprintf(v->problem, sizeof(v->problem), "deep rekey stopped: %.150s", msg);
	log_msg(LOG_E, "deep rekey of %s stopped at sector %" PRIu64 ": %s (resume with skpctl rekey %s --resume)",
		v->name, rk->boundary, msg, v->name);
}

/*
 * The old DEK may be known (that is why a deep rekey is run): revoke its KEK as Superseded,
 * so that a header backup of the old generation no longer opens read-write on any host of
 * this KMS (docs/threat-model.md).  The KMS keeps it (Get still works: a backup can be
 * restored on purpose); this host forgets it.  A failure leaves a problem on the device.
 */
static void rk_retire_old_kek(struct skpd *d, struct device *v, const struct skp_slot *old)
{
	struct prov *pv = skpd_prov(d, old->provider);
	struct skp_err e = {0};
	int r;

	kek_cache_drop(d, old->provider, old->kek_uid);
	if (!pv)
		r = skp_err_set(&e, -ENOENT, "provider \"%s\" is not configured", old->provider);
	else
		r = prov_retire(pv, old->kek_uid, "superseded by a deep rekey (skp)", &e);
	if (r < 0) {
		snprintf(v->problem, sizeof(v->problem), "old KEK %.60s not revoked: %.100s", old->kek_uid, e.msg);
		log_msg(LOG_W, "deep rekey of %s: the old KEK %s could not be revoked (%s): a header backup of DEK "
			"generation %" PRIu64 " still opens read-write; revoke it: skpctl kms revoke %s 5",
			v->name, old->kek_uid, e.msg, old->generation, old->kek_uid);
		return;
	}
	log_msg(LOG_I, "deep rekey of %s: old KEK %s revoked as Superseded (DEK generation %" PRIu64 " retired)",
		v->name, old->kek_uid, old->generation);
}

/* The final switch: record, single-key table, header with the new key only, records cleared. */
static int rk_finish(struct skpd *d, struct device *v, struct skp_err *err)
{
	struct rekey *rk = v->rk;
	struct skp_header h = rk->h;
	struct skp_slot old = rk->h.slot[0];
	const unsigned char *deks[SKP_SLOTS] = {rk->new_dek, NULL};
	int r;

	r = rk_record(rk, rk->length, 0, err);
	if (r < 0)
		return r;
	test_stop("final-record");
	r = dev_load_table(d, v->name, v->dev, &h, &(struct dev_keys){.key = rk->new_dek}, rk->discard, 0, 0, err);
	if (r < 0)
		return skp_err_wrap(err, "switching %s to the new key", v->name);
	test_stop("final-reload");
	h.slot[0] = h.slot[1];
	h.slot[0].state = SKP_SLOT_ACTIVE;
	memset(&h.slot[1], 0, sizeof(h.slot[1]));
	r = skp_header_write(rk->hfd, &h, deks, err);
	if (r < 0)
		return r;
	test_stop("final-header");
	memset(hw_find(&rk->h, 1), 0, sizeof(struct hw_mark));
	/* The header no longer names a rekey: the records are dead state; zero them. */
	r = skp_renc_rec_clear(rk->fd, h.resil_offset, err);
	if (r < 0)
		log_msg(LOG_W, "%s: %s (harmless: no rekey is recorded in the header)", v->name, err->msg);
	dev_set_slot(v, &h.slot[0]);
	v->problem[0] = '\0';
	rk->done_secs = now_mono() - ((double)rk->t0.tv_sec + (double)rk->t0.tv_nsec / 1e9);
	rk->state = RK_DONE;
	rk->boundary = rk->length;
	rk_free_keys(rk);
	log_msg(LOG_I, "deep rekey of %s done: DEK generation %" PRIu64 ", KEK %s on %s; old DEK wiped",
		v->name, v->generation, v->kek_uid, v->provider);
	if (strcmp(old.kek_uid, v->kek_uid) || strcmp(old.provider, v->provider))
		rk_retire_old_kek(d, v, &old);
	return 0;
}

/*
 * After a failed reencrypt the kernel fenced the chunk, which may be part old, part new
 * (a write that failed half-way): repair it from the record's samples, as after a crash,
 * then reload the table with the boundary past it, which lifts the fence.
 */
static int rk_repair_fence(struct skpd *d, struct device *v, struct skp_err *err)
{
	struct rekey *rk = v->rk;
	uint64_t redone = 0, torn = 0, b = rk->rec->boundary + rk->rec->hot_len;
	int r;

	if (!rk->rec->hot_len || rk->rec->boundary != rk->boundary)
		return skp_err_set(err, -EPROTO, "%s: no record of the fenced chunk at sector %" PRIu64 " to repair it from",
				   v->name, rk->boundary);
	r = skp_renc_recover(rk->fd, &rk->geom, rk->rec, rk->old_dek, rk->new_dek, SKP_DEK_LEN, &redone, &torn,
			     err);
	if (r == 0)
		r = rk_load_two(d, v->name, v->dev, rk, b, 0, err);
	if (r < 0)
		return skp_err_wrap(err, "%s: repairing the fenced chunk at sector %" PRIu64, v->name, rk->boundary);
	log_msg(LOG_I, "deep rekey of %s: fenced chunk at sector %" PRIu64 " repaired, %" PRIu64 " sector(s) rewritten, %" PRIu64
		" torn", v->name, rk->boundary, redone, torn);
	rk->boundary = b;
	rk->fenced = 0;
	return 0;
}

/* One chunk: hold, hash, record, reencrypt. */
static int rk_step(struct skpd *d, struct device *v, struct skp_err *err)
{
	struct rekey *rk = v->rk;
	uint64_t b = rk->boundary, n = rk->length - b;
	char msg[80];
	int r;

	if (n == 0)
		return rk_finish(d, v, err);
	if (n > rk->chunk)
		n = rk->chunk;
	r = skp_target_msg_hold(msg, sizeof(msg), b, n, err);
	if (r == 0)
		r = skp_dm_message(v->name, msg, NULL, 0, err);
	if (r < 0)
		return r;
	rk->rec->boundary = b;
	rk->rec->hot_len = n;
	r = skp_renc_sample_hotzone(rk->fd, &rk->geom, rk->rec, rk->hotbuf, err);
	if (r == 0)
		r = rk_record(rk, b, n, err);
	if (r < 0) {
		skp_dm_message(v->name, DM_SKP_MSG_RELEASE, NULL, 0, NULL);
		return r;
	}
	test_stop("record");
	r = skp_target_msg_reencrypt(msg, sizeof(msg), b, n, err);
	if (r == 0)
		r = skp_dm_message(v->name, msg, NULL, 0, err);
	if (r < 0) {
		uint64_t kb, fenced = 0;

		/*
		 * A failure after the kernel locked the chunk leaves it fenced (maybe half
		 * rewritten): rec keeps its samples for the repair.  One refused before (an
		 * expired hold) left it untouched but open to user writes: sample it again then.
		 * Unreadable status counts as not fenced: the kernel refuses to hold a fence.
		 */
		if (kernel_boundary(v->name, &kb, &fenced, NULL) == 0 && fenced) {
			rk->fenced = 1;
			return skp_err_wrap(err, "chunk at sector %" PRIu64 " fenced", b);
		}
		return r;
	}
	rk->boundary = b + n;
	test_stop("chunk");
	if (rk->rate_mib) {
		double t = now_mono(), dt = (double)n * 512 / ((double)rk->rate_mib * 1048576.0);

		rk->next_due = (rk->next_due > t - 1 ? rk->next_due : t) + dt;
	}
	if (rk->boundary == rk->length)
		return rk_finish(d, v, err);
	return 0;
}

int rekey_next_ms(struct skpd *d)
{
	double t = -1, n = now_mono();

	for (size_t i = 0; i < d->n_devs; i++) {
		struct rekey *rk = d->devs[i].rk;
		double w;

		if (!rk || rk->state != RK_RUNNING)
			continue;
		w = rk->next_due > n ? rk->next_due - n : 0;
		if (t < 0 || w < t)
			t = w;
	}
	return t < 0 ? -1 : (int)(t * 1000) + (t > 0);
}

/*
 * A chunk runs at nice REKEY_NICE: its CPU work, in skpd and in the kernel's reencrypt
 * called from this thread, yields to user I/O.  Back to the old nice needs CAP_SYS_NICE
 * (skpd.service grants it); without, skpd stays niced and says so once.
 */
#define REKEY_NICE 10

static void rk_nice(int nice)
{
	static int warned;

	if (setpriority(PRIO_PROCESS, 0, nice) && !warned) {
		warned = 1;
		log_msg(LOG_W, "deep rekey: setting nice %d failed: %s", nice,
			strerror(errno));
	}
}

void rekey_tick(struct skpd *d)
{
	double n = now_mono();
	int nice = 0, niced = 0;

	/* One chunk per device per iteration: requests are served between chunks. */
	for (size_t i = 0; i < d->n_devs; i++) {
		struct device *v = &d->devs[i];
		struct skp_err err = {0};

		if (!v->rk || v->rk->state != RK_RUNNING || v->rk->next_due > n)
			continue;
		if (!niced) {
			errno = 0;
			nice = getpriority(PRIO_PROCESS, 0);
			niced = !(nice == -1 && errno);
			if (niced && nice < REKEY_NICE)
				rk_nice(REKEY_NICE);
		}
		if (rk_step(d, v, &err) < 0)
			rk_fail(v, err.msg);
	}
	if (niced && nice < REKEY_NICE)
		rk_nice(nice);
}

/*
 * Two-key mode needs the target this skpd was built for: from 1.2 a failed chunk is fenced
 * (status field 7); an older one would let user I/O decrypt a half-rewritten chunk with
 * one key.  From 1.3 a hold a suspend dropped is lost (the chunk is sampled again) and no
 * chunk is written once a suspend began.  An older module still serves single-key mappings, so only a deep rekey is
 * refused.
 */
static int rk_target_ok(struct skp_err *err)
{
	uint32_t v[3];
	int r = skp_dm_target_version(DM_SKP_TARGET_NAME, v, err);

	if (r < 0)
		return skp_err_wrap(err, "deep rekey");
	if (v[0] != DM_SKP_VERSION_MAJOR || v[1] < DM_SKP_VERSION_MINOR)
		return skp_err_set(err, -EPROTO, "the loaded dm-skp target is %u.%u.%u; a deep rekey needs %u.%u or "
				   "later: close every skp device and reload the module (modprobe -r dm-skp)",
				   v[0], v[1], v[2], DM_SKP_VERSION_MAJOR, DM_SKP_VERSION_MINOR);
	return 0;
}

static int parse_gen_ok(const struct rekey *rk, const struct skp_renc_rec *r, struct skp_err *err)
{
	if (r->old_gen != rk->h.slot[0].generation || r->new_gen != rk->h.slot[1].generation)
		return skp_err_set(err, -EBADMSG, "re-encryption record is for DEK generations %" PRIu64
				   "->%" PRIu64 ", the header for %" PRIu64 "->%" PRIu64, r->old_gen, r->new_gen,
				   rk->h.slot[0].generation, rk->h.slot[1].generation);
	return 0;
}

int rekey_start(struct skpd *d, const char *name, const char *provider, uint32_t rate_mib,
		uint32_t chunk_kib, struct sbuf *out, struct skp_err *err)
{
	struct device *v = dev_find(d, name);
	struct skp_header h;
	struct rekey *rk = NULL;
	unsigned char *old_dek = NULL, *new_dek = NULL;
	const unsigned char *deks[SKP_SLOTS];
	struct prov *pv;
	uint32_t chunk = DEFAULT_CHUNK;
	int r;

	if (!v)
		return skp_err_setc(err, SKP_ERRC_NO_DEVICE, -ENOENT, "%s is not a device opened by this skpd", name);
	/* dm-crypt (target = crypt) has no two-key mode: its reload would fail after the header
	 * already names the rekey. */
	if (strcmp(d->cfg.target, DM_SKP_TARGET_NAME))
		return skp_err_set(err, -EOPNOTSUPP, "a deep rekey needs the %s target; skpd.conf sets target = %s",
				   DM_SKP_TARGET_NAME, d->cfg.target);
	if (v->read_only)
		return skp_err_set(err, -EROFS, "%s is open read-only: a deep rekey writes it", name);
	if (v->rk && (v->rk->state == RK_RUNNING || v->rk->state == RK_PAUSED || v->rk->state == RK_FAILED))
		return skp_err_setc(err, SKP_ERRC_BUSY, -EBUSY, "a deep rekey of %s is already in progress (%s); use --status, --pause or --resume",
				   name, v->rk->state == RK_RUNNING ? "running" : v->rk->state == RK_PAUSED ? "paused" : "stopped on an error");
	if (chunk_kib) {
		if (chunk_kib % 4 || chunk_kib > SKP_RENC_MAX_HOT / 2 || chunk_kib * 2 % (v->sector_size / 512))
			return skp_err_set(err, -EINVAL, "--chunk must be a multiple of 4 KiB and the sector size, at most %u KiB",
					   SKP_RENC_MAX_HOT / 2);
		chunk = chunk_kib * 2;
	}
	pv = skpd_prov(d, provider ? provider : v->provider);
	if (!pv || (!pv->p && !pv->nat))
		return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured", provider ? provider : v->provider);
	r = skp_header_read_dev(v->dev, O_RDONLY, NULL, &h, err);
	if (r < 0)
		return r;
	if (memcmp(h.uuid, v->uuid, 16))
		return skp_err_set(err, -ESTALE, "%s no longer holds the header of %s", v->dev, name);
	if (h.slot[1].state != SKP_SLOT_EMPTY)
		return skp_err_setc(err, SKP_ERRC_BUSY, -EBUSY, "%s: the header already records a deep rekey; close and open to resume it", name);
	if (kernel_two_key(name) != 0)
		return skp_err_setc(err, SKP_ERRC_BUSY, -EBUSY, "mapping %s is not in single-key mode", name);
	r = rk_target_ok(err);
	if (r < 0)
		return r;
	r = kek_unwrap_slot(d, v->dev, &h, 0, &old_dek, err);
	if (r < 0)
		return r;
	new_dek = skp_secmem_alloc(SKP_DEK_LEN);
	if (!new_dek) {
		skp_secmem_free(old_dek, SKP_DEK_LEN);
		return skp_err_set(err, -ENOMEM, "no locked memory for the DEK");
	}
	r = skp_dek_generate(new_dek, SKP_DEK_LEN, err);
	h.slot[1] = h.slot[0];
	h.slot[1].state = SKP_SLOT_NEW;
	h.slot[1].generation = h.slot[0].generation + 1;
	/*
	 * Always a new KEK: at the end the old one is retired at the KMS, which is what keeps a
	 * restored pre-rekey header (the old, maybe known, DEK) from opening read-write.
	 */
	if (r == 0)
		r = kek_wrap_new(d, pv, h.uuid, new_dek, &h.slot[1], err);
	if (r < 0) {
		skp_secmem_free(old_dek, SKP_DEK_LEN);
		skp_secmem_free(new_dek, SKP_DEK_LEN);
		return r;
	}
	r = rk_new(v->dev, &h, old_dek, new_dek, 0, &rk, err);
	if (r < 0)
		return r;
	rk->chunk = chunk;
	rk->discard = v->discard;	/* the reloads keep what open set */
	rk->rate_mib = rate_mib;
	/*
	 * Records first, in both slots, before the header names the rekey: from then on both
	 * slots always hold an authentic record, so an open that finds one missing knows it was
	 * erased (or the header is from another time) rather than "not started", and refuses.
	 * A crash before the header write leaves records nothing reads (the header names no
	 * rekey; their key needs the new DEK, which is then lost).
	 */
	r = rk_record(rk, 0, 0, err);
	if (r == 0)
		r = rk_record(rk, 0, 0, err);
	if (r < 0)
		goto fail;
	test_stop("first-records");
	deks[0] = rk->old_dek;
	deks[1] = rk->new_dek;
	r = skp_header_write(rk->hfd, &h, deks, err);
	if (r < 0)
		goto fail;
	rk->h = h;
	test_stop("newslot");
	r = rk_load_two(d, name, v->dev, rk, 0, 0, err);
	if (r < 0) {
		/* The header names the rekey now: the next open resumes it from its record. */
		rekey_free(v);
		v->rk = rk;
		rk_fail(v, err->msg);
		return r;
	}
	rekey_free(v);
	v->rk = rk;
	rk->state = RK_RUNNING;
	rk_start_clock(rk);
	sb_printf(out, "deep rekey of %s started: DEK generation %" PRIu64 " -> %" PRIu64 ", KEK %s on %s, chunk %u KiB%s\n",
		  name, h.slot[0].generation, h.slot[1].generation, h.slot[1].kek_uid, h.slot[1].provider,
		  chunk / 2, rate_mib ? ", throttled" : "");
	log_msg(LOG_I, "deep rekey of %s started: DEK generation %" PRIu64 " -> %" PRIu64 ", KEK %s (%s) on %s, chunk %u KiB, rate %u MiB/s",
		name, h.slot[0].generation, h.slot[1].generation, h.slot[1].kek_uid, h.slot[1].kek_name,
		h.slot[1].provider, chunk / 2, rate_mib);
	return 0;
fail:
	rk_free_keys(rk);
	free(rk);
	return r;
}

/*
 * Open (or adopt) a device whose header records a deep rekey.  live: the mapping exists
 * in the kernel (skpd restarted): its boundary is the truth.  Otherwise the record is:
 * the hotzone is repaired in userspace before the two-key table is created.
 */
int rekey_open(struct skpd *d, const char *dev, const char *name, const struct skp_header *h,
	       int discard, int live, struct sbuf *out, struct skp_err *err)
{
	unsigned char *old_dek = NULL, *new_dek = NULL;
	struct skp_renc_rec *r = NULL;
	struct rekey *rk;
	struct device *v;
	uint64_t redone = 0, torn = 0, fenced = 0;
	int ret, paused = 0;

	ret = kek_unwrap_slot(d, dev, h, 0, &old_dek, err);
	if (ret < 0)
		return skp_err_wrap(err, "opening %s", dev);
	ret = kek_unwrap_slot(d, dev, h, 1, &new_dek, err);
	if (ret < 0) {
		skp_secmem_free(old_dek, SKP_DEK_LEN);
		return skp_err_wrap(err, "opening %s (interrupted deep rekey)", dev);
	}
	/* Not mapped: exclusive, nobody else may write while the hotzone is repaired. */
	ret = rk_new(dev, h, old_dek, new_dek, !live, &rk, err);
	if (ret < 0)
		return skp_err_wrap(err, "opening %s", dev);
	r = calloc(1, sizeof(*r));
	if (!r) {
		ret = skp_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	ret = skp_renc_rec_read(rk->fd, h->resil_offset, &rk->geom, h->uuid, rk->rkey, r, err);
	if (ret == 0)
		ret = parse_gen_ok(rk, r, err);
	if (ret == 0)
		ret = hw_check(h, r, err);
	if (ret == -ENODATA) {
		/*
		 * Both records are written before the header names the rekey, so "none" is never
		 * "not started yet": the boundary is unknown, and a restart at 0 would re-encrypt
		 * new data with the old key.  Nothing is written.
		 */
		skp_err_set(err, -ENODATA, "%s: refusing to open, nothing written: the header names a deep rekey "
			    "(DEK generation %" PRIu64 " -> %" PRIu64 ") but both progress records are missing (erased, or "
			    "a header from mid-rekey restored); put back the records or the current header", dev,
			    h->slot[0].generation, h->slot[1].generation);
		goto fail;
	}
	if (ret == -ESTALE) {
		char why[sizeof(err->msg)];

		snprintf(why, sizeof(why), "%s", err->msg);
		skp_err_set(err, -ESTALE, "%s: refusing to open, nothing written: %s; put back the current records",
			    dev, why);
		goto fail;
	}
	if (ret < 0) {
		skp_err_wrap(err, "%s: refusing to open: the interrupted deep rekey's state is not authentic", dev);
		goto fail;
	}
	hw_note(h, r->seq, r->boundary);
	rk->seq = r->seq;
	rk->rate_mib = r->rate_mib;
	paused = !!(r->flags & SKP_RENC_PAUSED);
	if (live) {
		ret = rk_target_ok(err);
		if (ret < 0)
			goto fail;
		/* A hold left by a killed skpd is dropped; the kernel finished or never began the chunk. */
		skp_dm_message(name, DM_SKP_MSG_RELEASE, NULL, 0, NULL);
		ret = kernel_two_key(name) == 1 ? kernel_boundary(name, &rk->boundary, &fenced, err)
						: skp_err_set(err, -EPROTO, "mapping %s is not in two-key mode", name);
		if (ret < 0)
			goto fail;
		/* A chunk failed before skpd went away: its record is the one to repair it from. */
		if (fenced && (r->hot_len != fenced || r->boundary != rk->boundary)) {
			ret = skp_err_set(err, -EPROTO, "%s: the kernel fenced %" PRIu64 " sectors at %" PRIu64
					  " but the record's hotzone is %" PRIu64 "+%" PRIu64, name, fenced,
					  rk->boundary, r->boundary, r->hot_len);
			goto fail;
		}
		if (fenced) {
			memcpy(rk->rec, r, sizeof(*r));
			rk->fenced = 1;
		}
	} else {
		rk->boundary = r->boundary;
		if (r->hot_len) {
			ret = skp_renc_recover(rk->fd, &rk->geom, r, rk->old_dek, rk->new_dek, SKP_DEK_LEN, &redone,
					       &torn, err);
			if (ret < 0)
				goto fail;
			rk->boundary += r->hot_len;
		}
	}
	rk->state = paused ? RK_PAUSED : RK_RUNNING;
	/* A fresh record without a hotzone: what is below the boundary is new, durably. */
	ret = rk->fenced ? 0 : rk_record(rk, rk->boundary, 0, err);
	if (ret < 0)
		goto fail;
	if (rk->fenced) {
		rk->state = RK_FAILED;
		snprintf(rk->error, sizeof(rk->error), "the chunk at sector %" PRIu64 " failed and is fenced",
			 rk->boundary);
	}
	test_stop("recovered");
	if (!live) {
		/* The exclusive fd would make the table load fail (the target opens the device). */
		close(rk->fd);
		rk->fd = -1;
		rk->discard = discard;
		ret = rk_load_two(d, name, dev, rk, rk->boundary, 1, err);
		/* The table load made the kernel load the module: now its version is known. */
		if (ret == 0 && (ret = rk_target_ok(err)) < 0)
			skp_dm_remove(name, NULL);
		if (ret == 0) {
			rk->fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
			if (rk->fd < 0) {
				ret = skp_err_set(err, -errno, "%s: %s", dev, strerror(errno));
				skp_dm_remove(name, NULL);
			}
		}
		if (ret < 0)
			goto fail;
	}
	ret = dev_add(d, name, dev, h, discard, err);
	if (ret < 0)
		goto fail;
	v = dev_find(d, name);
	v->rk = rk;
	rk->discard = discard;
	rk_start_clock(rk);
	if (rk->fenced)
		snprintf(v->problem, sizeof(v->problem), "deep rekey stopped: %.150s", rk->error);
	sb_printf(out, "%s %s as /dev/mapper/%s: deep rekey at %.1f%%%s%s\n", live ? "adopted" : "opened", dev, name,
		  100.0 * (double)rk->boundary / (double)rk->length, redone ? ", hotzone repaired" : "",
		  rk->fenced ? ", stopped: a chunk failed and is fenced (skpctl rekey NAME --resume repairs it)"
		  : paused ? ", paused (skpctl rekey NAME --resume)" : ", resuming");
	log_msg(LOG_I, "%s %s as %s with an interrupted deep rekey: boundary %" PRIu64 "/%" PRIu64 " sectors, %" PRIu64
		" hotzone sector(s) rewritten (%" PRIu64 " crypto sector(s) torn), %s", live ? "adopted" : "opened",
		dev, name, rk->boundary, rk->length, redone, torn,
		rk->fenced ? "stopped: a chunk failed and is fenced" : paused ? "paused" : "resuming");
	free(r);
	return 0;
fail:
	free(r);
	rk_free_keys(rk);
	free(rk);
	return ret;
}

int rekey_control(struct skpd *d, const char *name, unsigned int flags, uint32_t rate_mib, struct sbuf *out,
		  struct skp_err *err)
{
	struct device *v = dev_find(d, name);
	struct rekey *rk = v ? v->rk : NULL;
	int r;

	if (!v)
		return skp_err_setc(err, SKP_ERRC_NO_DEVICE, -ENOENT, "%s is not a device opened by this skpd", name);
	if (!rk || rk->state == RK_DONE)
		return skp_err_set(err, -ENOENT, "no deep rekey of %s is in progress", name);
	if (flags & SKP_REQ_PAUSE) {
		if (rk->state == RK_PAUSED)
			return skp_err_set(err, -EALREADY, "the deep rekey of %s is already paused", name);
		if (rk->state == RK_FAILED)
			return skp_err_set(err, -EINVAL, "the deep rekey of %s stopped on an error: %s", name, rk->error);
		rk->state = RK_PAUSED;
		/* Durable: a restart or reboot keeps it paused. */
		r = rk_record(rk, rk->boundary, 0, err);
		if (r < 0) {
			rk->state = RK_RUNNING;
			return r;
		}
		sb_printf(out, "deep rekey of %s paused at %.1f%%\n", name, 100.0 * (double)rk->boundary / (double)rk->length);
		log_msg(LOG_I, "deep rekey of %s paused at sector %" PRIu64, name, rk->boundary);
		return 0;
	}
	if (rk->state == RK_RUNNING)
		return skp_err_set(err, -EALREADY, "the deep rekey of %s is running", name);
	if (rk->fenced) {
		r = rk_repair_fence(d, v, err);
		if (r < 0)
			return r;
	} else if (kernel_two_key(name) == 0) {
		/* The switch to two keys failed at the start: the header names the rekey, the
		 * mapping still has one key.  Nothing is rewritten yet, so retry the switch. */
		r = rk_load_two(d, name, v->dev, rk, rk->boundary, 0, err);
		if (r < 0)
			return skp_err_wrap(err, "switching %s to two keys", name);
	}
	rk->state = RK_RUNNING;
	if (rate_mib)
		rk->rate_mib = rate_mib;
	r = rk_record(rk, rk->boundary, 0, err);
	if (r < 0) {
		rk->state = RK_PAUSED;
		return r;
	}
	rk->error[0] = '\0';
	v->problem[0] = '\0';
	rk_start_clock(rk);
	sb_printf(out, "deep rekey of %s resumed at %.1f%%\n", name, 100.0 * (double)rk->boundary / (double)rk->length);
	log_msg(LOG_I, "deep rekey of %s resumed at sector %" PRIu64, name, rk->boundary);
	return 0;
}

int rekey_in_progress(const struct device *v)
{
	return v->rk && v->rk->state != RK_DONE;
}

/* Where v's deep rekey is, for status, list and rekey --status (skpctl prints it). */
void rekey_progress(const struct device *v, struct skp_rekey_progress *p)
{
	static const uint32_t st[] = {
		[RK_RUNNING] = SKP_REKEY_RUNNING, [RK_PAUSED] = SKP_REKEY_PAUSED,
		[RK_DONE] = SKP_REKEY_DONE, [RK_FAILED] = SKP_REKEY_FAILED,
	};
	const struct rekey *rk = v->rk;
	struct timespec ts;
	double el;

	memset(p, 0, sizeof(*p));
	p->state = SKP_REKEY_NONE;
	p->length = v->data_length / 512;
	p->generation = v->generation;
	p->eta_s = -1;
	if (!rk)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	p->state = st[rk->state];
	p->boundary = rk->boundary;
	p->length = rk->length;
	p->percent = 100.0 * (double)rk->boundary / (double)rk->length;
	el = (double)(ts.tv_sec - rk->t0.tv_sec) + (double)(ts.tv_nsec - rk->t0.tv_nsec) / 1e9;
	if (rk->state == RK_DONE)
		el = rk->done_secs;
	if (el > 0.05 && rk->boundary > rk->b0)
		p->mib_per_s = (double)(rk->boundary - rk->b0) * 512 / 1048576.0 / el;
	if (rk->state == RK_RUNNING && p->mib_per_s > 0)
		p->eta_s = (double)(rk->length - rk->boundary) * 512 / 1048576.0 / p->mib_per_s;
	if (rk->state == RK_DONE)
		p->eta_s = 0;
	skp_rec_str(p->error, sizeof(p->error), rk->error);
}

/* close: a running rekey must be paused first; a paused one is resumed by the next open. */
int rekey_on_close(struct device *v, struct skp_err *err)
{
	if (v->rk && v->rk->state == RK_RUNNING)
		return skp_err_setc(err, SKP_ERRC_BUSY, -EBUSY, "a deep rekey of %s is running: pause it first (skpctl rekey %s --pause)",
				   v->name, v->name);
	rekey_free(v);
	return 0;
}
