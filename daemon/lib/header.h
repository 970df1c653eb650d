/* SPDX-License-Identifier: GPL-2.0 */
/*
 * On-disk header of an skp device (docs/on-disk-format.md).  Two 4 KiB copies,
 * each with a sequence number and a SHA-256 checksum; a write updates copy A then
 * copy B, each made durable before the next, so a crash leaves one valid copy.
 * Each DEK slot carries an HMAC-SHA256 over the header, keyed by HKDF from its DEK:
 * only a holder of the DEK can produce a header that opens.
 */
#ifndef SKP_HEADER_H
#define SKP_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wrap.h"

#define SKP_HDR_MAGIC		"SKP-HDR"	/* 8 bytes with its NUL */
#define SKP_HDR_VERSION_MAJOR	1
#define SKP_HDR_VERSION_MINOR	1	/* 1.1: slot 1 may hold the NEW key of a deep rekey */
#define SKP_HDR_COPY_SIZE	4096u
#define SKP_HDR_COPY_A		0u
#define SKP_HDR_COPY_B		65536u
#define SKP_HDR_AREA_SIZE	131072u		/* both copies: what `header backup` saves */
#define SKP_RESIL_OFFSET	(1u << 20)	/* deep-rekey resilience area (issue 6) */
#define SKP_RESIL_SIZE		(15u << 20)
#define SKP_DATA_ALIGN		(1u << 20)
#define SKP_DATA_OFFSET		(SKP_RESIL_OFFSET + SKP_RESIL_SIZE)
#define SKP_CIPHER		"aes-xts-plain64"

#define SKP_LABEL_MAX		64	/* field sizes, NUL included */
#define SKP_CIPHER_MAX		32
#define SKP_PROVIDER_MAX	64
#define SKP_KEK_UID_MAX		128
#define SKP_KEK_NAME_MAX	128
#define SKP_SLOT_WRAPPED_MAX	96
#define SKP_MAC_LEN		32
#define SKP_REENC_STATE_SIZE	512
#define SKP_SLOTS		2

enum skp_slot_state {
	SKP_SLOT_EMPTY = 0,
	SKP_SLOT_ACTIVE = 1,	/* the key the data is under */
	SKP_SLOT_NEW = 2,	/* the next key during a deep rekey (issue 6) */
};

struct skp_slot {
	uint32_t state;
	uint32_t dek_len;
	uint64_t generation;		/* DEK generation: 1 at format, +1 per deep rekey */
	char provider[SKP_PROVIDER_MAX];
	char kek_uid[SKP_KEK_UID_MAX];
	char kek_name[SKP_KEK_NAME_MAX];
	uint32_t wrapped_len;
	unsigned char wrapped[SKP_SLOT_WRAPPED_MAX];
	unsigned char mac[SKP_MAC_LEN];
};

struct skp_header {
	uint16_t version_major, version_minor;
	uint64_t seq;
	unsigned char uuid[16];
	char label[SKP_LABEL_MAX];
	char cipher[SKP_CIPHER_MAX];
	uint32_t sector_size;
	uint64_t data_offset, data_length;	/* bytes */
	uint64_t resil_offset, resil_size;	/* bytes */
	struct skp_slot slot[SKP_SLOTS];
	/* Deep-rekey state (issue 6); all zero means no rekey in progress. */
	unsigned char reenc[SKP_REENC_STATE_SIZE];
};

/* What skp_header_read found, for dump and status. */
struct skp_header_info {
	int copy_ok[2];			/* copy A, copy B parsed and checksummed */
	uint64_t copy_seq[2];
	char copy_err[2][128];		/* why a copy was rejected */
	int used;			/* 0 = A, 1 = B */
};

/* A fresh header for a device of dev_size bytes: random UUID, slot 0 empty. */
int skp_header_init(struct skp_header *h, uint64_t dev_size, uint32_t sector_size,
		    const char *label, struct skp_err *err);

/* Encodes one copy (checksum computed, MACs taken from h). */
void skp_header_encode(const struct skp_header *h, uint64_t copy_offset,
		       unsigned char out[SKP_HDR_COPY_SIZE]);
/* Strict decode of one copy: checksum, magic, version, every field. */
int skp_header_decode(const unsigned char *buf, size_t len, uint64_t copy_offset,
		      struct skp_header *h, struct skp_err *err);

/* MAC of slot i's view of the header, keyed from dek. */
int skp_header_mac(const struct skp_header *h, const unsigned char *dek, size_t dek_len,
		   unsigned char mac[SKP_MAC_LEN], struct skp_err *err);
/* -EBADMSG (tampered header or wrong key) unless slot i's MAC matches dek. */
int skp_header_verify(const struct skp_header *h, int slot, const unsigned char *dek,
		      size_t dek_len, struct skp_err *err);

/*
 * Reads both copies from fd (device of dev_size bytes) and returns the valid copy
 * with the highest sequence number; -ENODATA when neither copy is an skp header.
 */
int skp_header_read(int fd, uint64_t dev_size, struct skp_header *h,
		    struct skp_header_info *info, struct skp_err *err);
/* skp_header_read of the device at path, opened with flags (O_EXCL: refused while mounted
 * or mapped): *ret_fd keeps the descriptor if ret_fd is not NULL.  Errors name the path. */
int skp_header_read_dev(const char *path, int flags, int *ret_fd, struct skp_header *h,
			struct skp_err *err);
/*
 * Writes h with the next sequence number: MACs recomputed with deks[i] for each
 * non-empty slot i, copy A written and flushed, then copy B.
 */
int skp_header_write(int fd, struct skp_header *h, const unsigned char *const deks[SKP_SLOTS],
		     struct skp_err *err);

/* Checks a raw header area (a backup) holds at least one valid copy; returns it in h. */
int skp_header_check_area(const unsigned char *area, size_t len, uint64_t dev_size,
			  struct skp_header *h, struct skp_err *err);

/*
 * May backup (a header read from a backup) replace cur (the device's current header)?
 * 0: yes (the same header, or a newer one).  -EXDEV: another device.  -ESTALE: the backup
 * is older than the device's header (a lower sequence number, or the same one with other
 * contents): restoring it would roll back a rekey (a finished deep rekey's records are
 * gone, its data under the newer DEK); only an explicit override may do that.
 */
int skp_header_restore_check(const struct skp_header *backup, const struct skp_header *cur,
			     struct skp_err *err);

void skp_uuid_format(const unsigned char uuid[16], char out[37]);
int skp_uuid_parse(const char *s, unsigned char uuid[16]);

/* Names are what providers and mappings may be called: [A-Za-z0-9._-], 1..max-1. */
int skp_name_valid(const char *s, size_t max);

#endif
