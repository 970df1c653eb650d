/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-skp: shared definitions of the target (skp-target.c), its data path (skp-io.c)
 * and online re-encryption (skp-reencrypt.c).
 */
#ifndef DM_SKP_INTERNAL_H
#define DM_SKP_INTERNAL_H

#include <linux/device-mapper.h>
#include <linux/bio.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <crypto/skcipher.h>
#include <linux/dm-skp.h>

#define DM_MSG_PREFIX DM_SKP_TARGET_NAME

/* Index into skp_c.key: <key> protects [boundary, len), new_key [0, boundary). */
enum { SKP_KEY_OLD = 0, SKP_KEY_NEW = 1, SKP_NR_KEYS = 2 };

struct skp_key {
	struct crypto_sync_skcipher *tfm;	/* any context */
	struct crypto_skcipher *fast;		/* only where SIMD is usable, see skp-io.c */
	char *spec;			/* ":64:logon:<desc>" as given, never the key */
};

struct skp_c {
	struct dm_dev *dev;
	sector_t start;			/* offset of the data on dev */
	u64 iv_offset;
	unsigned int sector_size;	/* crypto sector, bytes */
	unsigned int sector_shift;	/* log2(sector_size / 512) */
	bool iv_large_sectors;
	bool allow_discards;
	bool two_keys;
	bool key_wiped;
	struct skp_key key[SKP_NR_KEYS];

	/* Two-key state; lock protects boundary, the locked range, epoch and deferred. */
	spinlock_t lock;
	sector_t boundary;
	sector_t lock_start, lock_end;	/* equal when no range is locked */
	sector_t fence_start, fence_end; /* a failed reencrypt's range: I/O fails (uapi) */
	unsigned int epoch;
	atomic_t inflight[2];		/* mapped bios per epoch, see skp-reencrypt.c */
	wait_queue_head_t drain_wait;
	struct bio_list deferred;
	struct mutex reencrypt_lock;	/* one reencrypt/hold/release at a time */
	/* A "hold": the locked range stays locked between messages (reencrypt_lock). */
	bool held;
	bool hold_lost;			/* a hold expired or a suspend dropped it */
	bool suspending;		/* presuspend to preresume (reencrypt_lock) */
	unsigned long hold_deadline;	/* jiffies */
	struct delayed_work hold_expiry;
	struct dm_io_client *io_client;
	void *renc_buf;			/* two-key tables: one chunk, wiped after each use */

	struct bio_set bs;
	mempool_t page_pool;
	struct mutex page_alloc_lock;
	struct workqueue_struct *wq;
	unsigned int per_bio_data_size;
	/* Offload of small bios' crypto to wq when one submitter keeps several in flight. */
	atomic_t offloaded;		/* small bios queued on wq, not done */
	atomic_t probe;
	unsigned long parallel_until;	/* jiffies */
	const void *offload_task;	/* compared only, never dereferenced */
	atomic_t large_busy;		/* large bios in their crypto */

	atomic64_t sectors_read;
	atomic64_t sectors_written;
	atomic64_t sectors_reencrypted;
	atomic64_t io_errors;
};

/* Per-bio data (ti->per_io_data_size). */
struct skp_io {
	struct skp_c *sc;
	struct bio *base;
	struct bvec_iter iter;		/* base's data, saved before the clone consumes it */
	sector_t sector;		/* target-relative */
	unsigned int key;
	int epoch;			/* -1: not counted in inflight */
	struct work_struct work;
	bool offloaded;			/* counted in sc->offloaded */
	bool large;			/* counted in sc->large_busy */
	bool whole;			/* on sc->wq whole, not split */
	/* Decryption of a large read is split in two parts, the second on sc->wq. */
	struct bio *dst;		/* base (reads, in place) or the bounce clone */
	struct work_struct split_work;
	struct bvec_iter split_si, split_di;
	sector_t split_sector;
	atomic_t parts_pending;
	bool crypt_failed;
	/* followed by SKP_IO_PARTS requests for key[].fast, at skp_io_req() */
};

#define SKP_IO_PARTS 2

/* Distance between the requests that follow struct skp_io. */
static inline unsigned int skp_req_stride(unsigned int reqsize)
{
	return ALIGN(sizeof(struct skcipher_request) + reqsize, CRYPTO_MINALIGN);
}

static inline struct skcipher_request *skp_io_req(struct skp_io *io, unsigned int part,
						  unsigned int stride)
{
	return (void *)((char *)io + ALIGN(sizeof(*io), CRYPTO_MINALIGN) + part * stride);
}

static inline unsigned int skp_io_size(unsigned int reqsize)
{
	return ALIGN(sizeof(struct skp_io), CRYPTO_MINALIGN) +
	       SKP_IO_PARTS * skp_req_stride(reqsize);
}

/* skp-io.c */
int skp_map(struct dm_target *ti, struct bio *bio);
unsigned int skp_io_data_size(struct skp_c *sc);
int skp_end_io(struct dm_target *ti, struct bio *bio, blk_status_t *error);
void skp_map_deferred(struct skp_c *sc, struct bio_list *bios);
int skp_crypt_buf(struct skp_c *sc, unsigned int key, bool encrypt, void *buf,
		  sector_t sector, unsigned int nr_sectors);

/* skp-reencrypt.c */
int skp_reencrypt(struct dm_target *ti, sector_t sector, sector_t count);
int skp_hold(struct dm_target *ti, sector_t sector, sector_t count);
void skp_release(struct skp_c *sc);
void skp_drop_hold(struct skp_c *sc, bool lost);
void skp_hold_expired(struct work_struct *work);

#endif /* DM_SKP_INTERNAL_H */
