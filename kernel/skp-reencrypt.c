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
 * redo the chunk (see docs/table-syntax.md).
 */
#include <linux/dm-io.h>
#include <linux/ioprio.h>
#include <linux/vmalloc.h>

#include "skp.h"

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

int skp_reencrypt(struct dm_target *ti, sector_t sector, sector_t count)
{
	struct skp_c *sc = ti->private;
	sector_t mask = (sc->sector_size >> SECTOR_SHIFT) - 1;
	struct bio_list deferred = BIO_EMPTY_LIST;
	unsigned int old_epoch;
	void *buf;
	int r;

	if (!sc->two_keys) {
		DMERR("reencrypt: the table has no new_key");
		return -EINVAL;
	}
	if (!count) {
		DMERR("reencrypt: count is zero");
		return -EINVAL;
	}
	if (count > DM_SKP_MAX_REENCRYPT_SECTORS) {
		DMERR("reencrypt: count %llu exceeds %u sectors",
		      (unsigned long long)count, DM_SKP_MAX_REENCRYPT_SECTORS);
		return -EINVAL;
	}
	if ((sector | count) & mask) {
		DMERR("reencrypt: sector or count not a multiple of sector_size");
		return -EINVAL;
	}
	if (sector > ti->len || count > ti->len - sector) {
		DMERR("reencrypt: range past the end of the target");
		return -EINVAL;
	}
	if (dm_suspended(ti)) {
		DMERR("reencrypt: the device is suspended");
		return -EINVAL;
	}

	/* Allocated before the range is locked: reclaim may write to this device. */
	buf = vmalloc(count << SECTOR_SHIFT);
	if (!buf)
		return -ENOMEM;

	mutex_lock(&sc->reencrypt_lock);
	if (sc->key_wiped) {
		DMERR("reencrypt: keys were wiped");
		r = -EINVAL;
		goto out;
	}
	spin_lock(&sc->lock);
	if (sector != sc->boundary) {
		spin_unlock(&sc->lock);
		DMERR("reencrypt: sector %llu is not the boundary %llu",
		      (unsigned long long)sector, (unsigned long long)sc->boundary);
		r = -EINVAL;
		goto out;
	}
	sc->lock_start = sector;
	sc->lock_end = sector + count;
	old_epoch = sc->epoch;
	sc->epoch ^= 1;
	spin_unlock(&sc->lock);

	wait_event(sc->drain_wait, !atomic_read(&sc->inflight[old_epoch]));

	r = skp_rw(sc, REQ_OP_READ, buf, sector, count);
	if (!r)
		r = skp_crypt_buf(sc, SKP_KEY_OLD, false, buf, sector, count);
	if (!r)
		r = skp_crypt_buf(sc, SKP_KEY_NEW, true, buf, sector, count);
	if (!r)
		r = skp_rw(sc, REQ_OP_WRITE | REQ_SYNC | REQ_FUA, buf, sector, count);

	spin_lock(&sc->lock);
	if (!r)
		sc->boundary = sector + count;
	sc->lock_start = sc->lock_end = 0;
	bio_list_merge(&deferred, &sc->deferred);
	bio_list_init(&sc->deferred);
	spin_unlock(&sc->lock);

	skp_map_deferred(sc, &deferred);

	if (r) {
		atomic64_inc(&sc->io_errors);
		DMERR("reencrypt of %llu+%llu failed (%d): boundary stays at %llu",
		      (unsigned long long)sector, (unsigned long long)count, r,
		      (unsigned long long)sector);
	} else {
		atomic64_add(count, &sc->sectors_reencrypted);
	}
out:
	mutex_unlock(&sc->reencrypt_lock);
	/* The buffer held plaintext. */
	memzero_explicit(buf, count << SECTOR_SHIFT);
	vfree(buf);
	return r;
}
