// SPDX-License-Identifier: GPL-2.0
/*
 * dm-skp online re-encryption: "reencrypt <sector> <count>" moves the boundary between
 * new_key (below) and <key> (above) by rewriting [sector, sector + count).
 *
 * Order: lock the range in the map path (bios touching it are deferred, bios crossing its
 * end are split), wait until every bio mapped before the lock has completed (two epochs
 * of in-flight counters), read the range, decrypt with <key>, encrypt with new_key, write
 * it with FUA, advance the boundary, unlock and map the deferred bios.  The boundary lives
 * in memory only: the caller records it and passes it back as boundary:<sector> on reload.
 * A crash during a chunk leaves it partly rewritten; the caller keeps what it needs to
 * redo the chunk (see docs/table-syntax.md), taking it under "hold" so that no user write
 * slips in between its record and the rewrite (docs/deep-rekey.md).
 */
#include <linux/dm-io.h>
#include <linux/ioprio.h>
#include <linux/completion.h>

#include "skp.h"
#include "skp-test-hooks.h"

/*
 * The rewrite of a chunk (decrypt with <key>, encrypt with new_key) is split in two
 * halves, the second one on system_unbound_wq, so that another CPU shares it (the crypto
 * dominates a chunk's time).  Not on sc->wq: that one is WQ_HIGHPRI for user I/O, and a
 * rekey runs in the background, at the priority of a normal task (the caller may run
 * at a lower one).  No allocation beyond skp_crypt_buf()'s request.
 */
struct skp_recrypt_part {
	struct work_struct work;
	struct completion done;
	struct skp_c *sc;
	void *buf;
	sector_t sector, count;
	int r;
};

static int skp_recrypt(struct skp_c *sc, void *buf, sector_t sector, sector_t count)
{
	int r = skp_crypt_buf(sc, SKP_KEY_OLD, false, buf, sector, count);

	if (!r)
		r = skp_crypt_buf(sc, SKP_KEY_NEW, true, buf, sector, count);
	return r;
}

static void skp_recrypt_work(struct work_struct *work)
{
	struct skp_recrypt_part *p = container_of(work, struct skp_recrypt_part, work);

	p->r = skp_recrypt(p->sc, p->buf, p->sector, p->count);
	complete(&p->done);
}

static int skp_recrypt_split(struct skp_c *sc, void *buf, sector_t sector, sector_t count)
{
	sector_t half = round_down(count / 2, sc->sector_size >> SECTOR_SHIFT);
	struct skp_recrypt_part p;
	int r;

	if (!half || num_online_cpus() < 2)
		return skp_recrypt(sc, buf, sector, count);
	p.sc = sc;
	p.buf = (u8 *)buf + ((size_t)half << SECTOR_SHIFT);
	p.sector = sector + half;
	p.count = count - half;
	init_completion(&p.done);
	INIT_WORK_ONSTACK(&p.work, skp_recrypt_work);
	queue_work(system_unbound_wq, &p.work);
	r = skp_recrypt(sc, buf, sector, half);
	wait_for_completion(&p.done);
	destroy_work_on_stack(&p.work);
	return r ? r : p.r;
}

static int skp_rw(struct skp_c *sc, blk_opf_t opf, void *buf, sector_t sector,
		  sector_t count)
{
	struct dm_io_region region = {
		.bdev = sc->dev->bdev,
		.sector = sc->start + sector,
		.count = count,
	};
	struct dm_io_request req = {
		.bi_opf = opf,
		.mem.type = DM_IO_VMA,
		.mem.ptr.vma = buf,
		.client = sc->io_client,
	};
	unsigned long error_bits = 0;

	return dm_io(&req, 1, &region, &error_bits, IOPRIO_DEFAULT);
}

/* Checks shared by hold and reencrypt; what names the message in errors. */
static int skp_check_range(struct dm_target *ti, const char *what, sector_t sector,
			   sector_t count)
{
	struct skp_c *sc = ti->private;
	sector_t mask = (sc->sector_size >> SECTOR_SHIFT) - 1;

	if (!sc->two_keys) {
		DMERR("%s: the table has no new_key", what);
		return -EINVAL;
	}
	if (!count) {
		DMERR("%s: count is zero", what);
		return -EINVAL;
	}
	if (count > DM_SKP_MAX_REENCRYPT_SECTORS) {
		DMERR("%s: count %llu exceeds %u sectors", what,
		      (unsigned long long)count, DM_SKP_MAX_REENCRYPT_SECTORS);
		return -EINVAL;
	}
	if ((sector | count) & mask) {
		DMERR("%s: sector or count not a multiple of sector_size", what);
		return -EINVAL;
	}
	if (sector > ti->len || count > ti->len - sector) {
		DMERR("%s: range past the end of the target", what);
		return -EINVAL;
	}
	return 0;
}

/* Under reencrypt_lock: a suspend begun after the checks above must be seen. */
static int skp_check_live(struct dm_target *ti, const char *what)
{
	struct skp_c *sc = ti->private;

	if (sc->suspending || dm_suspended(ti)) {
		DMERR("%s: the device is suspended", what);
		return -EINVAL;
	}
	return 0;
}

/*
 * Lock [sector, sector + count), which must start at the boundary, and wait until every
 * bio mapped before the lock has completed.  Caller holds reencrypt_lock.
 */
static int skp_lock_range(struct skp_c *sc, const char *what, sector_t sector, sector_t count)
{
	unsigned int old_epoch;

	spin_lock(&sc->lock);
	if (sc->fence_start != sc->fence_end) {
		spin_unlock(&sc->lock);
		DMERR("%s: %llu+%llu is fenced after a failed reencrypt; repair it and reload the table",
		      what, (unsigned long long)sc->fence_start,
		      (unsigned long long)(sc->fence_end - sc->fence_start));
		return -EIO;
	}
	if (sector != sc->boundary) {
		spin_unlock(&sc->lock);
		DMERR("%s: sector %llu is not the boundary %llu", what,
		      (unsigned long long)sector, (unsigned long long)sc->boundary);
		return -EINVAL;
	}
	sc->lock_start = sector;
	sc->lock_end = sector + count;
	old_epoch = sc->epoch;
	sc->epoch ^= 1;
	spin_unlock(&sc->lock);

	wait_event(sc->drain_wait, !atomic_read(&sc->inflight[old_epoch]));
	return 0;
}

/*
 * Unlock the range, moving the boundary to new_boundary, and map the deferred bios.
 * fence: the range stays closed to I/O (it failed half-way, see DM_SKP_STATUS_INFO_FIELDS).
 */
static void skp_unlock_range(struct skp_c *sc, sector_t new_boundary, bool fence)
{
	struct bio_list deferred = BIO_EMPTY_LIST;

	spin_lock(&sc->lock);
	if (fence) {
		sc->fence_start = sc->lock_start;
		sc->fence_end = sc->lock_end;
	}
	sc->boundary = new_boundary;
	sc->lock_start = sc->lock_end = 0;
	bio_list_merge(&deferred, &sc->deferred);
	bio_list_init(&sc->deferred);
	spin_unlock(&sc->lock);

	skp_map_deferred(sc, &deferred);
}

/*
 * "hold <sector> <count>": lock the range the next reencrypt will rewrite, so that
 * userspace can record the range's old ciphertext (its crash-recovery data) knowing no
 * user write can change it before the rewrite.  Bounded by DM_SKP_HOLD_TIMEOUT_SECS so
 * that a dead caller cannot block user I/O for ever.
 */
int skp_hold(struct dm_target *ti, sector_t sector, sector_t count)
{
	struct skp_c *sc = ti->private;
	int r;

	r = skp_check_range(ti, "hold", sector, count);
	if (r)
		return r;
	skp_test_message_gate();
	mutex_lock(&sc->reencrypt_lock);
	r = skp_check_live(ti, "hold");
	if (r)
		goto out;
	if (sc->held) {
		DMERR("hold: a range is already held");
		r = -EBUSY;
		goto out;
	}
	r = skp_lock_range(sc, "hold", sector, count);
	if (r)
		goto out;
	sc->held = true;
	sc->hold_lost = false;
	sc->hold_deadline = jiffies + DM_SKP_HOLD_TIMEOUT_SECS * HZ;
	mod_delayed_work(system_wq, &sc->hold_expiry, DM_SKP_HOLD_TIMEOUT_SECS * HZ);
out:
	mutex_unlock(&sc->reencrypt_lock);
	return r;
}

/*
 * Caller holds reencrypt_lock.  lost: the holder did not ask for it (a suspend), so the
 * range's recorded old ciphertext may go stale: the unheld reencrypt is refused.
 */
void skp_drop_hold(struct skp_c *sc, bool lost)
{
	if (!sc->held)
		return;
	sc->held = false;
	sc->hold_lost = lost;
	cancel_delayed_work(&sc->hold_expiry);
	skp_unlock_range(sc, sc->boundary, false);
}

void skp_release(struct skp_c *sc)
{
	mutex_lock(&sc->reencrypt_lock);
	skp_drop_hold(sc, false);
	mutex_unlock(&sc->reencrypt_lock);
}

void skp_hold_expired(struct work_struct *work)
{
	struct skp_c *sc = container_of(to_delayed_work(work), struct skp_c, hold_expiry);

	mutex_lock(&sc->reencrypt_lock);
	/* A stale run (the hold was consumed and a new one taken since) does nothing. */
	if (sc->held && time_after_eq(jiffies, sc->hold_deadline)) {
		DMWARN("hold of %llu+%llu expired after %u s",
		       (unsigned long long)sc->lock_start,
		       (unsigned long long)(sc->lock_end - sc->lock_start),
		       DM_SKP_HOLD_TIMEOUT_SECS);
		skp_drop_hold(sc, true);
	}
	mutex_unlock(&sc->reencrypt_lock);
}

int skp_reencrypt(struct dm_target *ti, sector_t sector, sector_t count)
{
	struct skp_c *sc = ti->private;
	void *buf = sc->renc_buf;	/* no allocation under the lock: reclaim may write here */
	int r;

	r = skp_check_range(ti, "reencrypt", sector, count);
	if (r)
		return r;

	skp_test_message_gate();
	mutex_lock(&sc->reencrypt_lock);
	r = skp_check_live(ti, "reencrypt");
	if (r)
		goto out;
	if (sc->key_wiped) {
		DMERR("reencrypt: keys were wiped");
		r = -EINVAL;
		goto out;
	}
	if (sc->held) {
		if (sector != sc->lock_start || sector + count != sc->lock_end) {
			DMERR("reencrypt: the held range is %llu+%llu",
			      (unsigned long long)sc->lock_start,
			      (unsigned long long)(sc->lock_end - sc->lock_start));
			r = -EINVAL;
			goto out;
		}
		sc->held = false;
		cancel_delayed_work(&sc->hold_expiry);
	} else if (sc->hold_lost) {
		DMERR("reencrypt: the hold on this range was lost (expiry or suspend); hold it again");
		r = -ETIMEDOUT;
		goto out;
	} else {
		r = skp_lock_range(sc, "reencrypt", sector, count);
		if (r)
			goto out;
	}

	r = skp_rw(sc, REQ_OP_READ, buf, sector, count);
	if (!r)
		r = skp_recrypt_split(sc, buf, sector, count);
	if (!r)
		r = skp_rw(sc, REQ_OP_WRITE | REQ_SYNC | REQ_FUA, buf, sector, count);

	/*
	 * A failure may leave the range part old, part new (the write failed half-way), and
	 * the range's user I/O would pick one key for all of it: fence it.  The caller's
	 * resilience data tells the two apart; a table reload lifts the fence.
	 */
	skp_unlock_range(sc, r ? sector : sector + count, r != 0);

	if (r) {
		atomic64_inc(&sc->io_errors);
		DMERR("reencrypt of %llu+%llu failed (%d): boundary stays at %llu, range fenced",
		      (unsigned long long)sector, (unsigned long long)count, r,
		      (unsigned long long)sector);
	} else {
		atomic64_add(count, &sc->sectors_reencrypted);
	}
	/* The buffer held plaintext; reencrypt_lock still guards it. */
	memzero_explicit(buf, count << SECTOR_SHIFT);
out:
	mutex_unlock(&sc->reencrypt_lock);
	return r;
}
