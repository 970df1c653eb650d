// SPDX-License-Identifier: GPL-2.0
/*
 * dm-skp data path.  Writes are encrypted in the submitter's context into bounce pages
 * from a mempool; reads are decrypted in their completion context, or on a workqueue when
 * that context is a hard interrupt.  One skcipher request per crypto sector, reused from
 * the per-bio data (or on the stack), no allocation per sector.  The crypto of a large
 * bio (read or write) alone is split in two halves, the second one on an unbound
 * workqueue, so that another CPU shares the work of one bio (queue depth 1); at a deeper
 * queue large bios go whole to the workqueue (skp_queue_large()).  Small bios cannot be
 * split; when one submitter keeps several of them in flight on a device that completes
 * them synchronously (brd, NVMe polling), some go whole to the workqueue instead
 * (skp_offload()).
 */
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/vmalloc.h>
#include <linux/preempt.h>
#include <asm/simd.h>

#include "skp.h"
#include "skp-test-hooks.h"

#define SKP_MAX_SEGS (DM_SKP_SECTOR_SIZE_MAX / SECTOR_SIZE)
/* Bios at least this large have their crypto split over two CPUs. */
#define SKP_SPLIT_MIN (128U << 10)
/* How long one sign of a deep queue keeps small bios going to the workqueue. */
#define SKP_PARALLEL_HOLD (HZ / 10)
/* In single-bio mode, one small bio in this many probes for a deep queue. */
#define SKP_PROBE_EVERY 1024
/* In a deep queue, small bios kept on the workqueue per other CPU. */
#define SKP_OFFLOAD_PER_CPU 4

/* IV of the crypto sector holding target sector @sector, as dm-crypt's plain64. */
static inline u64 skp_iv_sector(struct skp_c *sc, sector_t sector)
{
	u64 s = sector + sc->iv_offset;

	return sc->iv_large_sectors ? s >> sc->sector_shift : s;
}

/* Map the next @len bytes of @bio at @iter into @sg (at most SKP_MAX_SEGS entries). */
static int skp_gather(struct bio *bio, struct bvec_iter *iter, unsigned int len,
		      struct scatterlist *sg)
{
	struct bio_vec bv = bio_iter_iovec(bio, *iter);
	unsigned int n = 0, l;

	/* Usual case: the crypto sector lies in one segment. */
	if (likely(bv.bv_len >= len)) {
		sg_init_table(sg, 1);
		sg_set_page(sg, bv.bv_page, len, bv.bv_offset);
		bio_advance_iter_single(bio, iter, len);
		return 0;
	}
	sg_init_table(sg, SKP_MAX_SEGS);
	while (len) {
		bv = bio_iter_iovec(bio, *iter);
		l = min(len, bv.bv_len);

		if (n == SKP_MAX_SEGS || (l & (SECTOR_SIZE - 1)))
			return -EIO;
		sg_set_page(&sg[n++], bv.bv_page, l, bv.bv_offset);
		bio_advance_iter_single(bio, iter, l);
		len -= l;
	}
	sg_mark_end(&sg[n - 1]);
	return 0;
}

static unsigned int skp_reqsize(struct skp_c *sc)
{
	unsigned int reqsize = crypto_skcipher_reqsize(sc->key[SKP_KEY_OLD].fast);

	if (sc->key[SKP_KEY_NEW].fast)
		reqsize = max(reqsize, crypto_skcipher_reqsize(sc->key[SKP_KEY_NEW].fast));
	return reqsize;
}

unsigned int skp_io_data_size(struct skp_c *sc)
{
	return skp_io_size(skp_reqsize(sc));
}

/*
 * Run one request.  The fast tfm is used only where SIMD is usable: the SIMD wrapper then
 * calls the AES-NI code directly and completes synchronously (it goes through cryptd
 * only when SIMD is unusable, or in atomic context once cryptd already holds requests of
 * this tfm, which never happens here).  Should it still go asynchronous, wait for it.
 */
static int skp_run(struct skcipher_request *req, bool encrypt, struct crypto_wait *wait)
{
	int r = encrypt ? crypto_skcipher_encrypt(req) : crypto_skcipher_decrypt(req);

	if (unlikely(r == -EINPROGRESS || r == -EBUSY))
		r = crypto_wait_req(r, wait);
	return r;
}

/*
 * Encrypt or decrypt the crypto sectors from @src (at @si) into @dst (at @di); @dst may be
 * @src with the same iterator for in-place work.  @sector is target-relative; @part picks
 * the request in @io (each concurrently running part has its own).
 */
static int skp_crypt_bio(struct skp_c *sc, struct skp_io *io, unsigned int part, bool encrypt,
			 struct bio *src, struct bvec_iter si,
			 struct bio *dst, struct bvec_iter di, sector_t sector)
{
	SYNC_SKCIPHER_REQUEST_ON_STACK(sreq, sc->key[io->key].tfm);
	struct scatterlist sg_in[SKP_MAX_SEGS], sg_out[SKP_MAX_SEGS];
	unsigned int step = sc->sector_size >> SECTOR_SHIFT;
	bool in_place = src == dst;
	u64 iv_sector = skp_iv_sector(sc, sector);
	struct skcipher_request *req;
	DECLARE_CRYPTO_WAIT(wait);
	__le64 iv[2];
	int r = 0;

	if (may_use_simd()) {
		req = skp_io_req(io, part, skp_req_stride(skp_reqsize(sc)));
		skcipher_request_set_tfm(req, sc->key[io->key].fast);
		skcipher_request_set_callback(req, 0, crypto_req_done, &wait);
	} else {
		req = sreq;
		skcipher_request_set_sync_tfm(req, sc->key[io->key].tfm);
		skcipher_request_set_callback(req, 0, NULL, NULL);
	}
	while (si.bi_size) {
		r = skp_gather(src, &si, sc->sector_size, sg_in);
		if (!r && !in_place)
			r = skp_gather(dst, &di, sc->sector_size, sg_out);
		if (r)
			break;
		iv[0] = cpu_to_le64(iv_sector);
		iv[1] = 0;
		skcipher_request_set_crypt(req, sg_in, in_place ? sg_in : sg_out,
					   sc->sector_size, (u8 *)iv);
		r = skp_run(req, encrypt, &wait);
		if (r)
			break;
		iv_sector += sc->iv_large_sectors ? 1 : step;
	}
	skcipher_request_zero(req);
	return r;
}

/* Linear (vmalloc or kmalloc) buffer version, for re-encryption. */
int skp_crypt_buf(struct skp_c *sc, unsigned int key, bool encrypt, void *buf,
		  sector_t sector, unsigned int nr_sectors)
{
	unsigned int step = sc->sector_size >> SECTOR_SHIFT;
	u64 iv_sector = skp_iv_sector(sc, sector);
	struct skcipher_request *req;
	DECLARE_CRYPTO_WAIT(wait);
	struct scatterlist sg;
	unsigned int done;
	__le64 iv[2];
	int r = 0;

	req = skcipher_request_alloc(sc->key[key].fast, GFP_NOIO);
	if (!req)
		return -ENOMEM;
	skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_SLEEP | CRYPTO_TFM_REQ_MAY_BACKLOG,
				      crypto_req_done, &wait);
	for (done = 0; done < nr_sectors; done += step) {
		u8 *p = (u8 *)buf + ((size_t)done << SECTOR_SHIFT);
		struct page *page = is_vmalloc_addr(p) ? vmalloc_to_page(p) : virt_to_page(p);

		/* Crypto sectors never cross a page: buffers are page aligned. */
		sg_init_table(&sg, 1);
		sg_set_page(&sg, page, sc->sector_size, offset_in_page(p));
		iv[0] = cpu_to_le64(iv_sector);
		iv[1] = 0;
		skcipher_request_set_crypt(req, &sg, &sg, sc->sector_size, (u8 *)iv);
		r = skp_run(req, encrypt, &wait);
		if (r)
			break;
		iv_sector += sc->iv_large_sectors ? 1 : step;
		cond_resched();
	}
	skcipher_request_free(req);	/* wipes the request */
	return r;
}

static void skp_free_bounce(struct skp_c *sc, struct bio *clone)
{
	struct bio_vec *bv;
	struct bvec_iter_all iter_all;

	bio_for_each_segment_all(bv, clone, iter_all)
		mempool_free(bv->bv_page, &sc->page_pool);
}

/*
 * Bounce pages for a write of @size bytes.  Several pages per bio from one mempool could
 * deadlock if every writer holds part of the pool; as dm-crypt, try without waiting first,
 * then allocate under a mutex so that one writer at a time may wait.  The retry starts
 * over with the whole size: the bio must cover every byte of the write.
 */
static struct bio *skp_alloc_bounce(struct skp_c *sc, struct bio *base, unsigned int size)
{
	unsigned int nr = DIV_ROUND_UP(size, PAGE_SIZE), i, len, remaining;
	gfp_t gfp = GFP_NOWAIT | __GFP_NOWARN;
	bool locked = false;
	struct bio *clone;
	struct page *page;

	clone = bio_alloc_bioset(sc->dev->bdev, nr, base->bi_opf, GFP_NOIO, &sc->bs);
retry:
	remaining = size;
	for (i = 0; i < nr; i++) {
		page = NULL;
		if (locked || !skp_test_fail_nowait())
			page = mempool_alloc(&sc->page_pool, gfp);
		if (!page) {
			skp_free_bounce(sc, clone);
			bio_reset(clone, sc->dev->bdev, base->bi_opf);
			gfp = GFP_NOIO;
			mutex_lock(&sc->page_alloc_lock);
			locked = true;
			goto retry;
		}
		len = min_t(unsigned int, remaining, PAGE_SIZE);
		__bio_add_page(clone, page, len, 0);
		remaining -= len;
	}
	if (locked)
		mutex_unlock(&sc->page_alloc_lock);
	return clone;
}

/* Drop a bio's count in its epoch (the re-encryption drain waits for it). */
static void skp_uncount(struct skp_c *sc, struct skp_io *io)
{
	if (io->epoch >= 0 && atomic_dec_and_test(&sc->inflight[io->epoch]))
		wake_up(&sc->drain_wait);
	io->epoch = -1;
}

static void skp_io_done(struct skp_io *io, blk_status_t status)
{
	struct bio *base = io->base;

	if (status)
		base->bi_status = status;
	bio_endio(base);
}

static void skp_write_endio(struct bio *clone)
{
	struct skp_io *io = clone->bi_private;
	blk_status_t status = clone->bi_status;

	skp_free_bounce(io->sc, clone);
	bio_put(clone);
	skp_io_done(io, status);
}

/* Every part of @io's crypto is done: complete a read, submit a write. */
static void skp_crypt_io_done(struct skp_io *io)
{
	struct skp_c *sc = io->sc;
	struct bio *clone = io->dst;
	bool failed = READ_ONCE(io->crypt_failed);

	if (io->large)
		atomic_dec(&sc->large_busy);
	if (bio_data_dir(io->base) == READ) {
		if (unlikely(failed))
			DMERR_LIMIT("decryption failed at sector %llu",
				    (unsigned long long)io->sector);
		skp_io_done(io, failed ? BLK_STS_IOERR : BLK_STS_OK);
		return;
	}
	if (unlikely(failed)) {
		/* skp_end_io() counts the error and drops the epoch count */
		skp_free_bounce(sc, clone);
		bio_put(clone);
		DMERR_LIMIT("encryption failed at sector %llu", (unsigned long long)io->sector);
		skp_io_done(io, BLK_STS_IOERR);
		return;
	}
	atomic64_add(bio_sectors(io->base), &sc->sectors_written);
	dm_submit_bio_remap(io->base, clone);
}

static void skp_crypt_part_done(struct skp_io *io, int r)
{
	if (unlikely(r))
		WRITE_ONCE(io->crypt_failed, true);
	if (atomic_dec_and_test(&io->parts_pending))
		skp_crypt_io_done(io);
}

static void skp_split_work(struct work_struct *work)
{
	struct skp_io *io = container_of(work, struct skp_io, split_work);
	bool encrypt = bio_data_dir(io->base) == WRITE;

	skp_crypt_part_done(io, skp_crypt_bio(io->sc, io, 1, encrypt, io->base, io->split_si,
					      io->dst, io->split_di, io->split_sector));
}

/*
 * Encrypt (write) or decrypt (read) @io's data from io->base into io->dst at @di, then
 * complete or submit it.  A large bio's second half goes to the unbound workqueue first,
 * so that another CPU works on it while this one does the first half; whichever finishes
 * last completes the bio.
 */
static void skp_crypt_io(struct skp_c *sc, struct skp_io *io, struct bvec_iter di)
{
	bool encrypt = bio_data_dir(io->base) == WRITE;
	struct bvec_iter si = io->iter;
	unsigned int half;

	io->crypt_failed = false;
	if (!io->whole && si.bi_size >= SKP_SPLIT_MIN && num_online_cpus() > 1) {
		half = round_down(si.bi_size / 2, sc->sector_size);
		io->split_si = si;
		bio_advance_iter(io->base, &io->split_si, half);
		io->split_di = di;
		bio_advance_iter(io->dst, &io->split_di, half);
		io->split_sector = io->sector + (half >> SECTOR_SHIFT);
		si.bi_size = half;
		atomic_set(&io->parts_pending, 2);
		INIT_WORK(&io->split_work, skp_split_work);
		queue_work(sc->wq, &io->split_work);
	} else {
		atomic_set(&io->parts_pending, 1);
	}
	skp_crypt_part_done(io, skp_crypt_bio(sc, io, 0, encrypt, io->base, si,
					      io->dst, di, io->sector));
}

/*
 * Should this small bio's crypto go to the workqueue rather than run in the submitter?
 * Inline is fastest while the submitter waits for each bio (queue depth 1): a hop to
 * another CPU only adds latency, which is what dm-crypt's workqueues cost it.  But a
 * submitter that completes bios synchronously (brd, polling) and keeps many in flight
 * leaves the other CPUs idle.  So: inline, except for a rare probe; a bio mapped by the
 * probing task while its probe is still queued shows a deep queue, and for the next
 * SKP_PARALLEL_HOLD the task keeps up to SKP_OFFLOAD_PER_CPU bios per other CPU on the
 * workqueue and does the rest itself: with one, a worker idled from the end of its bio
 * until the submitter queued the next; with no bound, the submitter's CPU idled (both
 * measured slower, docs/table-syntax.md).  Called in task context.
 */
static bool skp_offload(struct skp_c *sc)
{
	unsigned int cpus = num_online_cpus();

	if (cpus < 2)
		return false;
	if (time_before(jiffies, READ_ONCE(sc->parallel_until)))
		return atomic_read(&sc->offloaded) < SKP_OFFLOAD_PER_CPU * (cpus - 1);
	return !(atomic_inc_return(&sc->probe) % SKP_PROBE_EVERY);
}

/* A small bio is mapped: does its task still have one on the workqueue? */
static void skp_note_depth(struct skp_c *sc)
{
	if (atomic_read(&sc->offloaded) && READ_ONCE(sc->offload_task) == current)
		WRITE_ONCE(sc->parallel_until, jiffies + SKP_PARALLEL_HOLD);
}

static void skp_queue_offload(struct skp_c *sc, struct skp_io *io)
{
	io->offloaded = true;
	atomic_inc(&sc->offloaded);
	WRITE_ONCE(sc->offload_task, current);
	queue_work(sc->wq, &io->work);
}

static void skp_read_work(struct work_struct *work)
{
	struct skp_io *io = container_of(work, struct skp_io, work);
	struct skp_c *sc = io->sc;
	bool offloaded = io->offloaded;

	skp_crypt_io(sc, io, io->iter);		/* may complete and free io */
	if (offloaded)
		atomic_dec(&sc->offloaded);
}

static void skp_write_work(struct work_struct *work)
{
	struct skp_io *io = container_of(work, struct skp_io, work);
	struct skp_c *sc = io->sc;
	bool offloaded = io->offloaded;

	skp_crypt_io(sc, io, io->dst->bi_iter);	/* submits the clone; io may be gone */
	if (offloaded)
		atomic_dec(&sc->offloaded);
}

/*
 * A large bio alone (queue depth 1) is split over two CPUs by skp_crypt_io().  When another
 * one is still in its crypto the queue is deep: this one goes whole to the workqueue, whose
 * workers (one per CPU) take whole bios as CPUs free up.  No CPU then waits on a fixed half
 * of a bio, and the submitter's CPU is left to submit and copy; at queue depth 32 this
 * measured faster than halves (docs/table-syntax.md).  Returns true when queued.
 */
static bool skp_queue_large(struct skp_c *sc, struct skp_io *io, work_func_t fn)
{
	io->large = true;
	if (atomic_inc_return(&sc->large_busy) > 1) {
		io->whole = true;
		INIT_WORK(&io->work, fn);
		queue_work(sc->wq, &io->work);
		return true;
	}
	return false;
}

static void skp_read_endio(struct bio *clone)
{
	struct skp_io *io = clone->bi_private;
	blk_status_t status = clone->bi_status;

	bio_put(clone);
	if (status) {
		skp_io_done(io, status);
		return;
	}
	/* Softirq and task context decrypt inline; a hard interrupt is no place for AES. */
	if (in_hardirq() || irqs_disabled()) {
		INIT_WORK(&io->work, skp_read_work);
		queue_work(io->sc->wq, &io->work);
		return;
	}
	if (in_task() && io->iter.bi_size < SKP_SPLIT_MIN && skp_offload(io->sc)) {
		INIT_WORK(&io->work, skp_read_work);
		skp_queue_offload(io->sc, io);
		return;
	}
	if (io->iter.bi_size >= SKP_SPLIT_MIN && skp_queue_large(io->sc, io, skp_read_work))
		return;
	skp_crypt_io(io->sc, io, io->iter);
}

/* Encrypt or submit a bio that holds data and does not cross the boundary. */
static int skp_map_data(struct skp_c *sc, struct skp_io *io, struct bio *bio)
{
	struct bio *clone;

	io->sc = sc;
	io->base = bio;
	io->iter = bio->bi_iter;
	io->offloaded = false;
	io->large = false;
	io->whole = false;
	if (bio->bi_iter.bi_size < SKP_SPLIT_MIN)
		skp_note_depth(sc);

	if (bio_data_dir(bio) == READ) {
		io->dst = bio;
		clone = bio_alloc_clone(sc->dev->bdev, bio, GFP_NOIO, &sc->bs);
		clone->bi_iter.bi_sector = sc->start + io->sector;
		clone->bi_private = io;
		clone->bi_end_io = skp_read_endio;
		atomic64_add(bio_sectors(bio), &sc->sectors_read);
		dm_submit_bio_remap(bio, clone);
		return DM_MAPIO_SUBMITTED;
	}

	clone = skp_alloc_bounce(sc, bio, bio->bi_iter.bi_size);
	clone->bi_iter.bi_sector = sc->start + io->sector;
	clone->bi_private = io;
	clone->bi_end_io = skp_write_endio;
	io->dst = clone;
	if (bio->bi_iter.bi_size < SKP_SPLIT_MIN && skp_offload(sc)) {
		INIT_WORK(&io->work, skp_write_work);
		skp_queue_offload(sc, io);
		return DM_MAPIO_SUBMITTED;
	}
	if (bio->bi_iter.bi_size >= SKP_SPLIT_MIN && skp_queue_large(sc, io, skp_write_work))
		return DM_MAPIO_SUBMITTED;
	skp_crypt_io(sc, io, clone->bi_iter);
	return DM_MAPIO_SUBMITTED;
}

static int skp_remap(struct skp_c *sc, struct bio *bio, sector_t sector)
{
	bio_set_dev(bio, sc->dev->bdev);
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector = sc->start + sector;
	return DM_MAPIO_REMAPPED;
}

/*
 * Two-key mode: split the bio at the boundary and at the end of the range being
 * re-encrypted, defer it if it touches that range, pick its key and count it in the
 * current epoch.  Returns 1 when admitted, 0 when deferred, -EIO when it touches the
 * range a failed reencrypt fenced (its sectors may be under either key).
 */
static int skp_two_key_admit(struct skp_c *sc, struct skp_io *io, struct bio *bio,
			     bool may_split)
{
	sector_t sector = io->sector, end = sector + bio_sectors(bio);

	spin_lock(&sc->lock);
	if (unlikely(sc->fence_start != sc->fence_end) && sector < sc->fence_end &&
	    end > sc->fence_start) {
		spin_unlock(&sc->lock);
		DMERR_LIMIT("I/O to sector %llu refused: a failed reencrypt fenced %llu+%llu",
			    (unsigned long long)sector, (unsigned long long)sc->fence_start,
			    (unsigned long long)(sc->fence_end - sc->fence_start));
		return -EIO;
	}
	if (may_split && sector < sc->boundary && end > sc->boundary) {
		dm_accept_partial_bio(bio, sc->boundary - sector);
		end = sc->boundary;
	}
	if (sc->lock_start != sc->lock_end && sector < sc->lock_end && end > sc->lock_start) {
		if (may_split && sector >= sc->lock_start && end > sc->lock_end)
			dm_accept_partial_bio(bio, sc->lock_end - sector);
		bio_list_add(&sc->deferred, bio);
		spin_unlock(&sc->lock);
		return 0;
	}
	io->key = sector < sc->boundary ? SKP_KEY_NEW : SKP_KEY_OLD;
	io->epoch = sc->epoch;
	atomic_inc(&sc->inflight[io->epoch]);
	spin_unlock(&sc->lock);
	return 1;
}

static int skp_map_bio(struct skp_c *sc, struct bio *bio, bool may_split)
{
	struct skp_io *io = dm_per_bio_data(bio, sc->per_bio_data_size);
	bool discard = bio_op(bio) == REQ_OP_DISCARD;

	io->epoch = -1;
	io->key = SKP_KEY_OLD;
	if (sc->two_keys) {
		int r = skp_two_key_admit(sc, io, bio, may_split && !discard);

		if (r <= 0)
			return r ? DM_MAPIO_KILL : DM_MAPIO_SUBMITTED;
	}
	if (discard)
		return skp_remap(sc, bio, io->sector);
	return skp_map_data(sc, io, bio);
}

int skp_map(struct dm_target *ti, struct bio *bio)
{
	struct skp_c *sc = ti->private;
	struct skp_io *io = dm_per_bio_data(bio, sc->per_bio_data_size);
	unsigned int mask = sc->sector_size - 1;
	int r;

	io->epoch = -1;
	/* Empty flushes: dm core sends the data of a flush as a separate bio. */
	if (unlikely((bio->bi_opf & REQ_PREFLUSH) || !bio_sectors(bio)))
		return skp_remap(sc, bio, 0);

	io->sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	if (unlikely(((io->sector << SECTOR_SHIFT) & mask) || (bio->bi_iter.bi_size & mask))) {
		atomic64_inc(&sc->io_errors);
		DMERR_LIMIT("misaligned I/O at sector %llu, %u bytes",
			    (unsigned long long)io->sector, bio->bi_iter.bi_size);
		return DM_MAPIO_KILL;
	}
	if (bio_op(bio) == REQ_OP_DISCARD) {
		if (unlikely(!sc->allow_discards))
			return DM_MAPIO_KILL;
	} else if (unlikely(bio_op(bio) != REQ_OP_READ && bio_op(bio) != REQ_OP_WRITE)) {
		return DM_MAPIO_KILL;
	} else if (bio_data_dir(bio) == WRITE &&
		   unlikely(bio->bi_iter.bi_size > (BIO_MAX_VECS << PAGE_SHIFT))) {
		dm_accept_partial_bio(bio, (BIO_MAX_VECS << PAGE_SHIFT) >> SECTOR_SHIFT);
	}
	r = skp_map_bio(sc, bio, true);
	/* A killed bio never reaches skp_end_io(), which counts the others. */
	if (unlikely(r == DM_MAPIO_KILL))
		atomic64_inc(&sc->io_errors);
	return r;
}

/* Bios held back while their range was re-encrypted; called from message context. */
void skp_map_deferred(struct skp_c *sc, struct bio_list *bios)
{
	struct bio *bio;
	int r;

	while ((bio = bio_list_pop(bios))) {
		r = skp_map_bio(sc, bio, false);
		if (r == DM_MAPIO_REMAPPED) {
			dm_submit_bio_remap(bio, NULL);
		} else if (r == DM_MAPIO_KILL) {
			bio->bi_status = BLK_STS_IOERR;
			bio_endio(bio);
		}
	}
}

int skp_end_io(struct dm_target *ti, struct bio *bio, blk_status_t *error)
{
	struct skp_c *sc = ti->private;
	struct skp_io *io = dm_per_bio_data(bio, sc->per_bio_data_size);

	if (unlikely(*error))
		atomic64_inc(&sc->io_errors);
	skp_uncount(sc, io);
	return DM_ENDIO_DONE;
}
