/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deep rekey (online re-encryption) state and crash recovery, the userspace half of
 * dm-skp's two-key mode.  See docs/on-disk-format.md, "re-encryption records".
 *
 * Progress lives in two alternating records in the header's resilience area.  A record
 * says: [0, boundary) of the mapping is under the new DEK, [boundary, boundary+hot_len)
 * (the hotzone) may be partly rewritten, and the rest is under the old DEK.  It carries the
 * first 16 bytes of the old ciphertext of every 512-byte sector of the hotzone ("checksum"
 * resilience as LUKS2's, with a sample of the ciphertext for a hash): after a crash a sector
 * whose sample still matches is old, any other is new.  A rewrite under another key leaves
 * a 16-byte AES-XTS output unchanged with probability 2^-128, so the sample decides as
 * surely as a hash, costs no hashing, and, being per 512-byte sector, also repairs a crypto
 * sector (up to 4 KiB) whose write the disk tore: only 512-byte writes need to be atomic.
 * Each record is authenticated with HMAC-SHA256 under a key derived from both DEKs, so
 * forged progress (a moved boundary, altered samples) is refused (cf. CVE-2021-4122).
 */
#ifndef SKP_REENCRYPT_H
#define SKP_REENCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include <linux/dm-skp.h>

#include "err.h"

#define SKP_RENC_MAGIC		"SKP-RENC"
#define SKP_RENC_VERSION	2		/* 1 held SHA-256 hashes (refused) */
#define SKP_RENC_SLOT_SIZE	(512u << 10)	/* each of the two record slots */
#define SKP_RENC_HDR_SIZE	128u
/* The hotzone is one "reencrypt" chunk: bounded as the message's count, 512-byte sectors. */
#define SKP_RENC_MAX_HOT	DM_SKP_MAX_REENCRYPT_SECTORS
#define SKP_RENC_SAMPLE_LEN	16		/* old ciphertext kept per 512-byte sector */
#define SKP_RENC_KEY_LEN	32

enum skp_renc_flags {
	SKP_RENC_PAUSED = 1u << 0,	/* an administrator paused the rekey */
};

/* Where the data is and how it is encrypted: the dm-skp table's parameters. */
struct skp_renc_geom {
	uint64_t data_offset;		/* bytes from the device start to sector 0 of the mapping */
	uint64_t length;		/* mapping length, 512-byte sectors */
	uint32_t sector_size;		/* crypto sector, bytes */
	int iv_large_sectors;		/* IV counts crypto sectors, not 512-byte ones */
	uint64_t iv_offset;		/* added to the 512-byte sector number, as dm-crypt */
};

struct skp_renc_rec {
	uint64_t seq;
	uint32_t flags;
	unsigned char uuid[16];
	uint64_t old_gen, new_gen;	/* DEK generations: new_gen = old_gen + 1 */
	uint32_t sector_size;
	uint64_t length;		/* 512-byte sectors */
	uint64_t boundary;		/* 512-byte sectors already under the new DEK */
	uint64_t hot_len;		/* hotzone length, 512-byte sectors, 0 = none */
	uint32_t rate_mib;		/* throttle, MiB/s, 0 = unthrottled */
	unsigned char samples[SKP_RENC_MAX_HOT][SKP_RENC_SAMPLE_LEN];	/* hot_len of them */
};

/* HKDF-SHA256(old DEK || new DEK, salt = device UUID) -> the records' HMAC key. */
int skp_renc_key(const unsigned char *old_dek, const unsigned char *new_dek, size_t dek_len,
		 const unsigned char uuid[16], unsigned char key[SKP_RENC_KEY_LEN],
		 struct skp_err *err);

/* Writes r into slot (seq % 2) at resil_offset and makes it durable (fdatasync). */
int skp_renc_rec_write(int fd, uint64_t resil_offset, const struct skp_renc_rec *r,
		       const unsigned char key[SKP_RENC_KEY_LEN], struct skp_err *err);

/*
 * Reads both slots and returns the newest record that authenticates and fits geom.  During
 * a rekey both slots always hold a record, n and n - 1 (or n and a torn write of n + 1).
 * -ENODATA: no record at all (both slots lack the magic); -EBADMSG: records exist but none
 * authenticates or fits (forged or foreign state); -ESTALE: authentic records that do not
 * hold together (one slot erased, a record in the wrong slot, two records not consecutive:
 * erased or put back).  All three are refusals.
 */
int skp_renc_rec_read(int fd, uint64_t resil_offset, const struct skp_renc_geom *geom,
		      const unsigned char uuid[16], const unsigned char key[SKP_RENC_KEY_LEN],
		      struct skp_renc_rec *r, struct skp_err *err);

/* Zeroes both record slots (durably): the rekey is over. */
int skp_renc_rec_clear(int fd, uint64_t resil_offset, struct skp_err *err);

/*
 * Samples the current (old) ciphertext of [r->boundary, r->boundary + r->hot_len) into
 * r->samples, reading it into buf (SKP_RENC_BUF_SIZE bytes, SKP_RENC_BUF_ALIGN-aligned;
 * the caller keeps it across chunks, so its pages stay mapped).  fd must bypass the page
 * cache (O_DIRECT): dm-skp writes beneath it.  The caller keeps user writes out of the
 * range meanwhile ("hold").
 */
#define SKP_RENC_BUF_SIZE	((size_t)SKP_RENC_MAX_HOT * 512)
#define SKP_RENC_BUF_ALIGN	4096u
int skp_renc_sample_hotzone(int fd, const struct skp_renc_geom *geom, struct skp_renc_rec *r,
			    unsigned char *buf, struct skp_err *err);

/*
 * After a crash: rewrites every hotzone sector whose ciphertext is still old under the new
 * DEK (in userspace, as the kernel would have), so the whole hotzone is new; durable on
 * return.  A crypto sector found part old, part new (a torn write) is decrypted piecewise
 * with the key of each 512-byte part.  *ret_redone counts the 512-byte sectors rewritten
 * from old, *ret_torn the crypto sectors found torn (NULL: not wanted).  The caller then records boundary +=
 * hot_len.  Idempotent: running it twice (a crash during recovery) is safe.  fd as for
 * skp_renc_sample_hotzone (O_DIRECT); nothing else may write the hotzone meanwhile: the
 * device is not mapped, or its mapping fenced the hotzone (a failed reencrypt).
 */
int skp_renc_recover(int fd, const struct skp_renc_geom *geom, const struct skp_renc_rec *r,
		     const unsigned char *old_dek, const unsigned char *new_dek, size_t dek_len,
		     uint64_t *ret_redone, uint64_t *ret_torn, struct skp_err *err);

/*
 * AES-256-XTS of one crypto sector as dm-crypt aes-xts-plain64 computes it, sector being
 * the 512-byte sector number within the mapping.
 */
int skp_xts_sector(const struct skp_renc_geom *geom, const unsigned char *dek, size_t dek_len,
		   int encrypt, uint64_t sector, const unsigned char *in, unsigned char *out,
		   struct skp_err *err);

#endif
